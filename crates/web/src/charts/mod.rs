//! Server-rendered SVG charts: small components that turn already
//! formatted numbers into accessible images. Each chart has a `<title>` and
//! `aria-label` saying what it shows, text labels for its axes or parts,
//! and a `<title>` on every mark so hovering (or a screen reader) gives the
//! exact value. Colours come from [`palette`] only.
//!
//! No charting crate fits a server-rendered, script-free page with these
//! accessibility needs without pulling in a drawing backend, so these are
//! plain functions of their data, each tested for valid markup, escaping
//! and empty data.
//!
//! # Layout
//! - [`svg`]: the escaping writer every chart uses, and `Chart`.
//! - [`palette`]: Okabe–Ito colours and the contrast check.
//! - [`sparkline`], [`gauge`], [`line`], [`bar`] (bars and the funnel),
//!   [`donut`], [`heatmap`]: the components.

pub(crate) mod bar;
pub(crate) mod donut;
pub(crate) mod gauge;
pub(crate) mod heatmap;
pub(crate) mod line;
pub(crate) mod palette;
pub(crate) mod sparkline;
pub(crate) mod svg;

/// One labelled value, e.g. a bar or a donut slice. `text` is the value as
/// the page shows it ("$1,204.00", "12 %"), so charts never format money.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Datum {
    pub label: String,
    pub value: f64,
    pub text: String,
}

impl Datum {
    pub(crate) fn new(label: impl Into<String>, value: f64, text: impl Into<String>) -> Datum {
        Datum {
            label: label.into(),
            value,
            text: text.into(),
        }
    }
}

/// The largest finite value of `values`, at least `floor`.
pub(crate) fn max_of(values: impl IntoIterator<Item = f64>, floor: f64) -> f64 {
    values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold(floor, f64::max)
}
