//! A heatmap grid (WISMO inquiries by weekday × hour): one hue, darker for
//! more, with each cell's count on hover and the peak cell outlined.

use super::palette;
use super::svg::{num, Chart, Svg};

const CELL: f64 = 14.0;
const LEFT: f64 = 36.0;
const TOP: f64 = 16.0;

/// `values[row][col]`; `rows` and `cols` label them (e.g. "Mon", "09").
pub(crate) fn heatmap(label: &str, rows: &[String], cols: &[String], values: &[Vec<i64>]) -> Chart {
    let w = LEFT + CELL * cols.len() as f64 + 4.0;
    let h = TOP + CELL * rows.len() as f64 + 4.0;
    let max = values.iter().flatten().copied().max().unwrap_or(0);
    let svg = Svg::new("chart--heatmap", w.max(120.0), h.max(40.0), label);
    if rows.is_empty() || cols.is_empty() || max <= 0 {
        return svg.empty(w.max(120.0), h.max(40.0));
    }
    let mut svg = svg;
    for (c, name) in cols.iter().enumerate() {
        // Every third hour label, so they do not collide.
        if c % 3 == 0 {
            svg.text(
                LEFT + CELL * c as f64 + CELL / 2.0,
                TOP - 4.0,
                "chart__axis",
                "middle",
                name,
            );
        }
    }
    let mut peak = (0, 0, 0);
    for (r, name) in rows.iter().enumerate() {
        let y = TOP + CELL * r as f64;
        svg.text(LEFT - 4.0, y + CELL - 3.0, "chart__axis", "end", name);
        for (c, col) in cols.iter().enumerate() {
            let v = values
                .get(r)
                .and_then(|row| row.get(c))
                .copied()
                .unwrap_or(0);
            if v > peak.2 {
                peak = (r, c, v);
            }
            let opacity = if v > 0 {
                0.15 + 0.85 * v as f64 / max as f64
            } else {
                0.04
            };
            svg.shape(
                "rect",
                &[
                    ("x", num(LEFT + CELL * c as f64)),
                    ("y", num(y)),
                    ("width", num(CELL - 1.0)),
                    ("height", num(CELL - 1.0)),
                    ("fill", palette::SERIES[0].into()),
                    ("fill-opacity", format!("{opacity:.2}")),
                ],
                Some(&format!("{name} {col}:00 — {v}")),
            );
        }
    }
    svg.shape(
        "rect",
        &[
            ("x", num(LEFT + CELL * peak.1 as f64 - 1.0)),
            ("y", num(TOP + CELL * peak.0 as f64 - 1.0)),
            ("width", num(CELL + 1.0)),
            ("height", num(CELL + 1.0)),
            ("fill", "none".into()),
            ("stroke", palette::BAD.into()),
            ("stroke-width", "2".into()),
        ],
        Some(&format!(
            "Peak: {} {}:00 — {}",
            rows[peak.0], cols[peak.1], peak.2
        )),
    );
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::svg::tests::assert_well_formed;

    #[test]
    fn cells_scale_and_the_peak_is_marked() {
        let rows = vec!["Mon".to_string(), "Tue".to_string()];
        let cols: Vec<String> = (0..3).map(|h| format!("{h:02}")).collect();
        let c = heatmap("Peaks", &rows, &cols, &[vec![0, 1, 2], vec![4, 0, 0]]);
        let s = c.as_str();
        assert_well_formed(s);
        assert_eq!(s.matches("<rect").count(), 7);
        assert!(s.contains("<title>Peak: Tue 00:00 — 4</title>"));
        assert!(s.contains(r#"fill-opacity="1.00""#));
    }

    #[test]
    fn empty_grid_and_escaped_names() {
        assert!(heatmap("x", &[], &[], &[]).as_str().contains("No data"));
        let c = heatmap("a&b", &["<r>".into()], &["0".into()], &[vec![1]]);
        assert_well_formed(c.as_str());
        assert!(c.as_str().contains("&lt;r&gt;") && c.as_str().contains("a&amp;b"));
    }
}
