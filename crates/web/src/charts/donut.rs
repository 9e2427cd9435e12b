//! A donut of shares (WISMO inquiry types), each slice a stroked circle
//! segment with its share in a legend beside it, so the numbers are read
//! from text, not from arc lengths.

use super::palette;
use super::svg::{num, Chart, Svg};
use super::Datum;

const W: f64 = 300.0;
const R: f64 = 50.0;
const CX: f64 = 70.0;
const CY: f64 = 70.0;

pub(crate) fn donut(label: &str, slices: &[Datum]) -> Chart {
    let h = (140.0f64).max(20.0 * slices.len() as f64 + 10.0);
    let svg = Svg::new("chart--donut", W, h, label);
    let total: f64 = slices.iter().map(|s| s.value.max(0.0)).sum();
    if slices.is_empty() || total <= 0.0 {
        return svg.empty(W, h);
    }
    let mut svg = svg;
    let circumference = 2.0 * std::f64::consts::PI * R;
    let mut offset = 0.0;
    for (i, s) in slices.iter().enumerate() {
        let share = s.value.max(0.0) / total;
        let len = share * circumference;
        let colour = palette::series(i);
        svg.shape(
            "circle",
            &[
                ("cx", num(CX)),
                ("cy", num(CY)),
                ("r", num(R)),
                ("fill", "none".into()),
                ("stroke", colour.into()),
                ("stroke-width", "22".into()),
                (
                    "stroke-dasharray",
                    format!("{} {}", num(len), num(circumference - len)),
                ),
                ("stroke-dashoffset", num(circumference / 4.0 - offset)),
            ],
            Some(&format!("{}: {} ({:.0} %)", s.label, s.text, share * 100.0)),
        );
        offset += len;
        let ly = 16.0 + 20.0 * i as f64;
        svg.shape(
            "rect",
            &[
                ("x", "150".into()),
                ("y", num(ly - 10.0)),
                ("width", "10".into()),
                ("height", "10".into()),
                ("fill", colour.into()),
            ],
            None,
        );
        svg.text(
            166.0,
            ly,
            "chart__legend",
            "start",
            &format!("{} {} ({:.0} %)", s.label, s.text, share * 100.0),
        );
    }
    svg.finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::svg::tests::assert_well_formed;

    #[test]
    fn slices_add_up_and_are_labelled() {
        let c = donut(
            "Inquiry types",
            &[
                Datum::new("tracking", 3.0, "3"),
                Datum::new("delayed", 1.0, "1"),
            ],
        );
        let s = c.as_str();
        assert_well_formed(s);
        assert_eq!(s.matches("stroke-dasharray").count(), 2);
        assert!(s.contains(">tracking 3 (75 %)</text>"));
        assert!(s.contains(">delayed 1 (25 %)</text>"));
    }

    #[test]
    fn empty_or_all_zero_says_no_data() {
        assert!(donut("x", &[]).as_str().contains("No data"));
        let c = donut("<t>", &[Datum::new("a", 0.0, "0")]);
        assert_well_formed(c.as_str());
        assert!(c.as_str().contains("No data"));
    }
}
