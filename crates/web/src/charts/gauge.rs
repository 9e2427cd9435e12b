//! A half-circle gauge with coloured zones (CSAT: bad < 3.0, warning
//! 3.0–3.9, good ≥ 4.0), a needle and the value and zone in words, so the
//! zone never rests on colour alone.

use super::palette;
use super::svg::{num, Chart, Svg};

const W: f64 = 160.0;
const H: f64 = 100.0;
const CX: f64 = 80.0;
const CY: f64 = 84.0;
const R: f64 = 64.0;

/// A coloured band of the scale.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Zone {
    pub from: f64,
    pub to: f64,
    /// "good", "warning" or "bad".
    pub tone: &'static str,
}

fn tone_colour(tone: &str) -> &'static str {
    match tone {
        "good" => palette::GOOD,
        "warning" => palette::WARN,
        _ => palette::BAD,
    }
}

/// The point on the arc for `v` in `min..=max` (min at the left).
fn at(v: f64, min: f64, max: f64, r: f64) -> (f64, f64) {
    let f = ((v - min) / (max - min).max(1e-9)).clamp(0.0, 1.0);
    let angle = std::f64::consts::PI * (1.0 - f);
    (CX + r * angle.cos(), CY - r * angle.sin())
}

/// `value` (None: no surveys yet) on `min..=max`; `value_text` is what the
/// centre reads, e.g. "4.2 / 5 · good".
pub(crate) fn gauge(
    label: &str,
    value: Option<f64>,
    min: f64,
    max: f64,
    zones: &[Zone],
    value_text: &str,
) -> Chart {
    let mut svg = Svg::new("chart--gauge", W, H, label);
    for z in zones {
        let (x1, y1) = at(z.from, min, max, R);
        let (x2, y2) = at(z.to, min, max, R);
        svg.shape(
            "path",
            &[
                (
                    "d",
                    format!(
                        "M{} {} A{R} {R} 0 0 1 {} {}",
                        num(x1),
                        num(y1),
                        num(x2),
                        num(y2)
                    ),
                ),
                ("fill", "none".into()),
                ("stroke", tone_colour(z.tone).into()),
                ("stroke-width", "14".into()),
            ],
            Some(&format!("{}: {} to {}", z.tone, num(z.from), num(z.to))),
        );
    }
    svg.text(CX - R, CY + 14.0, "chart__axis", "middle", &num(min));
    svg.text(CX + R, CY + 14.0, "chart__axis", "middle", &num(max));
    match value {
        Some(v) if v.is_finite() => {
            let (x, y) = at(v, min, max, R - 18.0);
            svg.shape(
                "line",
                &[
                    ("x1", num(CX)),
                    ("y1", num(CY)),
                    ("x2", num(x)),
                    ("y2", num(y)),
                    ("stroke", palette::INK.into()),
                    ("stroke-width", "3".into()),
                    ("stroke-linecap", "round".into()),
                ],
                Some(value_text),
            );
            svg.shape(
                "circle",
                &[
                    ("cx", num(CX)),
                    ("cy", num(CY)),
                    ("r", "4".into()),
                    ("fill", palette::INK.into()),
                ],
                None,
            );
            svg.text(CX, CY - 22.0, "chart__value", "middle", value_text);
        }
        _ => svg.text(CX, CY - 22.0, "chart__empty", "middle", "No data"),
    }
    svg.finish()
}

/// The CSAT scale: 1–5 with the zones of METRICS.md.
pub(crate) fn csat_zones() -> Vec<Zone> {
    vec![
        Zone {
            from: 1.0,
            to: 3.0,
            tone: "bad",
        },
        Zone {
            from: 3.0,
            to: 4.0,
            tone: "warning",
        },
        Zone {
            from: 4.0,
            to: 5.0,
            tone: "good",
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::svg::tests::assert_well_formed;

    #[test]
    fn zones_needle_and_words() {
        let c = gauge("CSAT", Some(4.2), 1.0, 5.0, &csat_zones(), "4.2 · good");
        let s = c.as_str();
        assert_well_formed(s);
        assert_eq!(s.matches("<path").count(), 3);
        assert!(s.contains(palette::GOOD) && s.contains(palette::BAD));
        assert!(s.contains(">4.2 · good</text>"));
        assert!(s.contains("<line"));
    }

    #[test]
    fn needle_positions_follow_the_scale() {
        let (x, y) = at(1.0, 1.0, 5.0, R);
        assert!((x - (CX - R)).abs() < 1e-9 && (y - CY).abs() < 1e-9);
        let (x, _) = at(3.0, 1.0, 5.0, R);
        assert!((x - CX).abs() < 1e-9);
        // Out of range is pinned, not drawn off the dial.
        assert_eq!(at(9.0, 1.0, 5.0, R), at(5.0, 1.0, 5.0, R));
    }

    #[test]
    fn no_value_says_no_data_and_escapes() {
        let c = gauge("<x>", None, 1.0, 5.0, &csat_zones(), "");
        assert_well_formed(c.as_str());
        assert!(c.as_str().contains("No data"));
        assert!(!c.as_str().contains("<line"));
        assert!(c.as_str().contains("&lt;x&gt;"));
    }
}
