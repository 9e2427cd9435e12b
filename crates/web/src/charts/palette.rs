//! The one palette every chart and the stylesheet use: Okabe–Ito, chosen
//! because its hues stay distinguishable with the common colour-vision
//! deficiencies. Series take the colours in [`SERIES`] order, so "orders"
//! is the same blue on every page. Text is never drawn in a series colour:
//! labels use [`INK`] or [`MUTED`], which the tests hold to WCAG AA
//! (≥ 4.5:1) against the card background.

/// Body text on charts and cards.
pub(crate) const INK: &str = "#1d2330";
/// Secondary text: axis labels, freshness lines.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "the stylesheet holds the same value; the tests check it"
    )
)]
pub(crate) const MUTED: &str = "#5d6677";
/// Card background.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "the stylesheet holds the same value; the tests check it"
    )
)]
pub(crate) const PAPER: &str = "#ffffff";
/// Page background.
#[cfg_attr(
    not(test),
    expect(
        dead_code,
        reason = "the stylesheet holds the same value; the tests check it"
    )
)]
pub(crate) const GROUND: &str = "#f4f6f9";

/// Okabe–Ito blue, vermillion, bluish green, reddish purple, orange, sky blue.
pub(crate) const SERIES: [&str; 6] = [
    "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
];

/// Good / warning / bad, as the gauge zones and status marks show them;
/// always paired with a word, never colour alone.
pub(crate) const GOOD: &str = "#009E73";
pub(crate) const WARN: &str = "#E69F00";
pub(crate) const BAD: &str = "#D55E00";

/// The series colour for index `i` (wrapping).
pub(crate) fn series(i: usize) -> &'static str {
    SERIES[i % SERIES.len()]
}

/// WCAG 2 contrast ratio of two `#rrggbb` colours, 1.0..=21.0.
#[cfg_attr(
    not(test),
    expect(dead_code, reason = "only the tests below check contrast")
)]
pub(crate) fn contrast(a: &str, b: &str) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

fn luminance(hex: &str) -> f64 {
    let channel = |i: usize| {
        let v = u8::from_str_radix(&hex[1 + 2 * i..3 + 2 * i], 16).unwrap_or(0);
        let c = f64::from(v) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * channel(0) + 0.7152 * channel(1) + 0.0722 * channel(2)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contrast_matches_known_values() {
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 0.01);
        assert!((contrast("#777777", "#ffffff") - 4.48).abs() < 0.01);
        assert!((contrast("#ffffff", "#ffffff") - 1.0).abs() < 1e-9);
    }

    #[test]
    fn text_colours_meet_aa_on_every_background() {
        for text in [INK, MUTED] {
            for bg in [PAPER, GROUND] {
                let c = contrast(text, bg);
                assert!(c >= 4.5, "{text} on {bg}: {c:.2}");
            }
        }
        // The top bar: white wordmark on ink.
        assert!(contrast("#ffffff", INK) >= 4.5);
    }

    #[test]
    fn series_marks_are_distinct_from_the_card() {
        // Lines and bars (non-text, WCAG 1.4.11 asks 3:1) use the first
        // four series colours; the lighter two only fill areas that carry
        // their own label.
        for c in &SERIES[..4] {
            assert!(contrast(c, PAPER) >= 3.0, "{c}: {:.2}", contrast(c, PAPER));
        }
        assert_eq!(series(6), series(0));
    }
}
