//! A sparkline: the shape of a short series (7-day tickets, 30-day CSAT)
//! without axes, its last value marked.

use super::palette;
use super::svg::{num, Chart, Svg};
use super::{max_of, Datum};

const W: f64 = 120.0;
const H: f64 = 32.0;
const PAD: f64 = 3.0;

/// `points` in time order; each point's `text` is shown on hover.
pub(crate) fn sparkline(label: &str, points: &[Datum], colour: usize) -> Chart {
    let svg = Svg::new("chart--sparkline", W, H, label);
    if points.is_empty() {
        return svg.empty(W, H);
    }
    let mut svg = svg;
    let max = max_of(points.iter().map(|p| p.value), 0.0);
    let min = points
        .iter()
        .map(|p| p.value)
        .filter(|v| v.is_finite())
        .fold(max, f64::min)
        .min(0.0);
    let span = (max - min).max(1e-9);
    let step = if points.len() > 1 {
        (W - 2.0 * PAD) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy = |i: usize, v: f64| {
        let x = PAD + step * i as f64;
        let y = H - PAD - (v - min) / span * (H - 2.0 * PAD);
        (x, y)
    };
    let path: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let (x, y) = xy(i, p.value);
            format!("{},{}", num(x), num(y))
        })
        .collect();
    let colour = palette::series(colour);
    svg.shape(
        "polyline",
        &[
            ("points", path.join(" ")),
            ("fill", "none".into()),
            ("stroke", colour.into()),
            ("stroke-width", "2".into()),
        ],
        None,
    );
    for (i, p) in points.iter().enumerate() {
        let (x, y) = xy(i, p.value);
        let last = i + 1 == points.len();
        svg.shape(
            "circle",
            &[
                ("cx", num(x)),
                ("cy", num(y)),
                ("r", if last { "3" } else { "2" }.into()),
                ("fill", if last { colour } else { "transparent" }.into()),
            ],
            Some(&format!("{}: {}", p.label, p.text)),
        );
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::svg::tests::assert_well_formed;

    #[test]
    fn draws_one_point_per_value_with_hover_text() {
        let pts: Vec<Datum> = (0..7)
            .map(|i| Datum::new(format!("Jun {i}"), f64::from(i), format!("{i} tickets")))
            .collect();
        let c = sparkline("Tickets, 7 days", &pts, 0);
        assert_well_formed(c.as_str());
        assert_eq!(c.as_str().matches("<circle").count(), 7);
        assert!(c.as_str().contains("<title>Jun 6: 6 tickets</title>"));
        assert!(c.as_str().contains(r#"aria-label="Tickets, 7 days""#));
    }

    #[test]
    fn empty_and_flat_series() {
        let c = sparkline("x", &[], 0);
        assert_well_formed(c.as_str());
        assert!(c.as_str().contains("No data"));
        let flat = vec![Datum::new("a", 0.0, "0"), Datum::new("b", 0.0, "0")];
        assert!(!sparkline("x", &flat, 1).as_str().contains("NaN"));
    }
}
