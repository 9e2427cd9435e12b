//! A line chart of one or more series over the same x positions (e.g. WISMO
//! inquiries vs orders per day), with a legend, the y maximum and the first
//! and last x labels.

use super::palette;
use super::svg::{num, Chart, Svg};
use super::{max_of, Datum};

const W: f64 = 480.0;
const H: f64 = 200.0;
const LEFT: f64 = 40.0;
const RIGHT: f64 = 10.0;
const TOP: f64 = 24.0;
const BOTTOM: f64 = 24.0;

/// One named series; its points share x positions with the others.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Series {
    pub name: String,
    pub points: Vec<Datum>,
}

/// `series` drawn in palette order; `y_max_text` labels the top of the
/// axis (already formatted).
pub(crate) fn line(label: &str, series: &[Series], y_max_text: impl Fn(f64) -> String) -> Chart {
    let svg = Svg::new("chart--line", W, H, label);
    let n = series.iter().map(|s| s.points.len()).max().unwrap_or(0);
    if n == 0 {
        return svg.empty(W, H);
    }
    let mut svg = svg;
    let max = max_of(
        series.iter().flat_map(|s| s.points.iter().map(|p| p.value)),
        1.0,
    );
    let plot_w = W - LEFT - RIGHT;
    let plot_h = H - TOP - BOTTOM;
    let x = |i: usize| {
        if n > 1 {
            LEFT + plot_w * i as f64 / (n - 1) as f64
        } else {
            LEFT + plot_w / 2.0
        }
    };
    let y = |v: f64| TOP + plot_h - (v.max(0.0) / max) * plot_h;
    // Axes.
    svg.shape(
        "path",
        &[
            (
                "d",
                format!("M{LEFT} {TOP} V{} H{}", num(TOP + plot_h), num(W - RIGHT)),
            ),
            ("class", "chart__grid".into()),
            ("fill", "none".into()),
        ],
        None,
    );
    svg.text(
        LEFT - 4.0,
        TOP + 4.0,
        "chart__axis",
        "end",
        &y_max_text(max),
    );
    svg.text(LEFT - 4.0, TOP + plot_h, "chart__axis", "end", "0");
    let labels = &series
        .iter()
        .find(|s| s.points.len() == n)
        .map(|s| &s.points);
    if let Some(points) = labels {
        svg.text(LEFT, H - 6.0, "chart__axis", "start", &points[0].label);
        if n > 1 {
            svg.text(
                W - RIGHT,
                H - 6.0,
                "chart__axis",
                "end",
                &points[n - 1].label,
            );
        }
    }
    for (si, s) in series.iter().enumerate() {
        let colour = palette::series(si);
        // Legend: a swatch and the name, along the top.
        let lx = LEFT + 110.0 * si as f64;
        svg.shape(
            "rect",
            &[
                ("x", num(lx)),
                ("y", "6".into()),
                ("width", "10".into()),
                ("height", "10".into()),
                ("fill", colour.into()),
            ],
            None,
        );
        svg.text(lx + 14.0, 15.0, "chart__legend", "start", &s.name);
        let pts: Vec<String> = s
            .points
            .iter()
            .enumerate()
            .map(|(i, p)| format!("{},{}", num(x(i)), num(y(p.value))))
            .collect();
        svg.shape(
            "polyline",
            &[
                ("points", pts.join(" ")),
                ("fill", "none".into()),
                ("stroke", colour.into()),
                ("stroke-width", "2".into()),
                // The second series is dashed, so the two read apart in grey.
                (
                    "stroke-dasharray",
                    if si % 2 == 1 { "5 3" } else { "none" }.into(),
                ),
            ],
            None,
        );
        for (i, p) in s.points.iter().enumerate() {
            svg.shape(
                "circle",
                &[
                    ("cx", num(x(i))),
                    ("cy", num(y(p.value))),
                    ("r", "3".into()),
                    ("fill", colour.into()),
                ],
                Some(&format!("{} · {}: {}", s.name, p.label, p.text)),
            );
        }
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::svg::tests::assert_well_formed;

    fn series(name: &str, values: &[f64]) -> Series {
        Series {
            name: name.into(),
            points: values
                .iter()
                .enumerate()
                .map(|(i, v)| Datum::new(format!("d{i}"), *v, format!("{v}")))
                .collect(),
        }
    }

    #[test]
    fn two_series_with_legend_and_hover() {
        let c = line(
            "Inquiries vs orders",
            &[
                series("Inquiries", &[1.0, 3.0, 2.0]),
                series("Orders", &[10.0, 12.0, 8.0]),
            ],
            |m| format!("{m:.0}"),
        );
        let s = c.as_str();
        assert_well_formed(s);
        assert_eq!(s.matches("<polyline").count(), 2);
        assert_eq!(s.matches("<circle").count(), 6);
        assert!(s.contains(">Orders</text>") && s.contains(">12</text>"));
        assert!(s.contains("<title>Orders · d1: 12</title>"));
        assert!(s.contains(palette::SERIES[0]) && s.contains(palette::SERIES[1]));
    }

    #[test]
    fn empty_single_and_hostile_names() {
        assert!(line("x", &[], |_| String::new())
            .as_str()
            .contains("No data"));
        let c = line("x", &[series("<b>", &[5.0])], |m| format!("{m}"));
        assert_well_formed(c.as_str());
        assert!(c.as_str().contains("&lt;b&gt;"));
    }
}
