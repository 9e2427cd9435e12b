//! Every number on the dashboard, as pure functions of data, configuration
//! and `now`.
//!
//! Nothing in this crate's panels reads a clock, a database or the network:
//! the [`projection`] holds the data (built from the store and kept current
//! from its change feed by [`projection::follow_changes`], the one async
//! part), the caller passes the instant it wants the numbers "as of", and
//! gets back plain, serializable values. That is what lets every number be
//! tested with a fixed clock and hand-computed fixtures, and lets the web
//! layer stay a thin renderer. Definitions follow the project's METRICS.md;
//! docs/metrics.md says exactly how each is implemented.
//!
//! # Layout
//! - [`projection`]: the in-memory analytic state and its refresher.
//! - [`panels`]: one module per dashboard panel, each a pure function of
//!   (projection, [`panels::PanelConfig`], range, now).
//! - [`order_volume`]: the order volume cards — orders, gross revenue and
//!   AOV for today / this week / this month in the brand's time zone, each
//!   against the same elapsed span of the prior period.
//! - [`customers`]: customers across their orders, returns and disputes —
//!   the customer risk flags and their evidence.
//! - [`freshness`]: how recent a brand's numbers are — the newest successful
//!   sync of its sources, or why the last one failed.
//! - [`sums`]: money sums that cannot wrap (128 bits), and the AOV and
//!   AOV change computed from them.
//! - [`variance`]: whether today's sales differ from the baseline by more
//!   than chance (the pulse's state, its insight and the revenue alert).
//! - [`money_json`]: the one JSON shape of an amount (`{minor, currency,
//!   display}`), so clients never parse or format money themselves.

pub mod customers;
pub mod freshness;
pub mod money_json;
pub mod order_volume;
pub mod panels;
pub mod projection;
pub mod sums;
pub mod variance;

pub use freshness::{
    brand_freshness, lag, source_staleness, staleness, Cadences, Freshness, Lag, Staleness,
    STALE_AFTER_CADENCES,
};
pub use order_volume::{
    facts_window_start, order_volume, period_volume, BrandVolume, LeftOut, PeriodVolume,
};
pub use projection::{
    follow_changes, follow_changes_notifying, Projection, ProjectionRules, SharedProjection,
    SubscriptionRules,
};
