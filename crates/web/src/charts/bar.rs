//! Horizontal bars (top issues, carriers) and the fulfillment funnel
//! (stages as bars centred on one axis, so narrowing reads as flow). Labels
//! sit left of each bar and the formatted value right of it: the numbers
//! are readable without hovering.

use super::palette;
use super::svg::{num, Chart, Svg};
use super::{max_of, Datum};

const W: f64 = 360.0;
const ROW: f64 = 24.0;
const LABEL_W: f64 = 120.0;
const VALUE_W: f64 = 70.0;

/// One bar per datum, longest = the largest value, in `colour` (a series
/// index).
pub(crate) fn bars(label: &str, data: &[Datum], colour: usize) -> Chart {
    let h = (ROW * data.len() as f64).max(ROW * 2.0);
    let svg = Svg::new("chart--bars", W, h, label);
    if data.is_empty() {
        return svg.empty(W, h);
    }
    let mut svg = svg;
    let max = max_of(data.iter().map(|d| d.value), 1e-9);
    let span = W - LABEL_W - VALUE_W;
    for (i, d) in data.iter().enumerate() {
        let y = ROW * i as f64;
        let w = (d.value.max(0.0) / max * span).max(1.0);
        svg.text(
            LABEL_W - 6.0,
            y + 16.0,
            "chart__label",
            "end",
            &short(&d.label),
        );
        svg.shape(
            "rect",
            &[
                ("x", num(LABEL_W)),
                ("y", num(y + 4.0)),
                ("width", num(w)),
                ("height", num(ROW - 8.0)),
                ("fill", palette::series(colour).into()),
            ],
            Some(&format!("{}: {}", d.label, d.text)),
        );
        svg.text(
            LABEL_W + w + 4.0,
            y + 16.0,
            "chart__value",
            "start",
            &d.text,
        );
    }
    svg.finish()
}

/// Stages in flow order, each bar centred and as wide as its share of the
/// largest stage; `flagged` stages (e.g. stale orders) are drawn in the
/// warning colour and say so in their hover text.
pub(crate) fn funnel(label: &str, stages: &[Datum], flagged: &[bool]) -> Chart {
    let h = (ROW * stages.len() as f64).max(ROW * 2.0);
    let svg = Svg::new("chart--funnel", W, h, label);
    if stages.is_empty() {
        return svg.empty(W, h);
    }
    let mut svg = svg;
    let max = max_of(stages.iter().map(|d| d.value), 1e-9);
    let span = W - LABEL_W - VALUE_W;
    let centre = LABEL_W + span / 2.0;
    for (i, d) in stages.iter().enumerate() {
        let y = ROW * i as f64;
        let w = (d.value.max(0.0) / max * span).max(2.0);
        let stale = flagged.get(i).copied().unwrap_or(false);
        svg.text(
            LABEL_W - 6.0,
            y + 16.0,
            "chart__label",
            "end",
            &short(&d.label),
        );
        let hover = if stale {
            format!("{}: {} (stale)", d.label, d.text)
        } else {
            format!("{}: {}", d.label, d.text)
        };
        svg.shape(
            "rect",
            &[
                ("x", num(centre - w / 2.0)),
                ("y", num(y + 3.0)),
                ("width", num(w)),
                ("height", num(ROW - 6.0)),
                (
                    "fill",
                    if stale {
                        palette::BAD
                    } else {
                        palette::series(i)
                    }
                    .into(),
                ),
            ],
            Some(&hover),
        );
        let text = if stale {
            format!("{} ⚑", d.text)
        } else {
            d.text.clone()
        };
        svg.text(W - VALUE_W + 4.0, y + 16.0, "chart__value", "start", &text);
    }
    svg.finish()
}

/// Long labels are cut with an ellipsis so they stay left of the bars; the
/// whole label is in the bar's hover text.
fn short(label: &str) -> String {
    const MAX: usize = 18;
    if label.chars().count() <= MAX {
        label.to_string()
    } else {
        let mut s: String = label.chars().take(MAX - 1).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::charts::svg::tests::assert_well_formed;

    #[test]
    fn bars_scale_to_the_largest_and_show_values() {
        let data = vec![
            Datum::new("shipping", 10.0, "10 tickets"),
            Datum::new("returns & refunds", 5.0, "5 tickets"),
        ];
        let c = bars("Top issues", &data, 0);
        let s = c.as_str();
        assert_well_formed(s);
        assert_eq!(s.matches("<rect").count(), 2);
        assert!(s.contains(r#"width="170""#) && s.contains(r#"width="85""#));
        assert!(s.contains(">returns &amp; refunds</text>"));
        assert!(s.contains(">10 tickets</text>"));
    }

    #[test]
    fn funnel_flags_stale_stages_in_words() {
        let stages = vec![
            Datum::new("Unfulfilled", 8.0, "8"),
            Datum::new("In transit", 4.0, "4"),
        ];
        let c = funnel("Pipeline", &stages, &[true, false]);
        let s = c.as_str();
        assert_well_formed(s);
        assert!(s.contains("<title>Unfulfilled: 8 (stale)</title>"));
        assert!(s.contains(palette::BAD));
        assert!(s.contains(">8 ⚑</text>"));
    }

    #[test]
    fn empty_zero_and_long_labels() {
        assert!(bars("x", &[], 0).as_str().contains("No data"));
        assert!(funnel("x", &[], &[]).as_str().contains("No data"));
        let z = bars("x", &[Datum::new("a", 0.0, "0")], 0);
        assert!(!z.as_str().contains("NaN"));
        assert_eq!(short("a very long issue name here"), "a very long issue…");
    }
}
