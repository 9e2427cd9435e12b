//! The pages people use: the main dashboard, its live tiles, and the
//! drill-downs (WISMO, inventory, alerts). Every page is complete HTML from
//! the server and works without script; `static/live.js` only swaps tiles
//! when `/events` says the projection changed.
//!
//! Handlers read the shared projection under a short read lock, compute
//! the panels with `opsdeck-metrics` (pure functions), drop the lock, and
//! render templates — the numbers are the same as the JSON API's.
//!
//! # Layout
//! - `tiles`: each dashboard tile as a view and its HTML fragment.
//! - `dashboard`: `GET /` and `GET /fragments/{tile}`.
//! - `wismo`: `GET /wismo` with range and previous-period comparison.
//! - `inventory`: `GET /inventory`, sortable on the server.
//! - `alerts`: `GET /alerts` with the ack / resolve / silence forms, and
//!   `GET /alerts/{id}` (one episode's history).
//! - `pulse`: `GET /pulse` (sales pulse) and its decision form.
//! - `sources`: `GET /sources` (sync health) and `POST /refresh`.
//! - `drill`: `GET /catalog`, `/tickets`, `/orders/{source}/{external_id}`,
//!   `/orders/by-number/{brand}/{number}` (and [`drill::order_path`]).
//! - `format`: numbers, durations and shares in words.
//! - `customer_risk`: a customer's risk flags as the order, ticket and
//!   approval pages show them.

pub(crate) mod alerts;
pub(crate) mod customer_risk;
mod dashboard;
pub(crate) mod drill;
pub(crate) mod format;
mod inventory;
mod pulse;
mod sources;
pub(crate) mod tiles;
mod wismo;

use crate::auth::rules::Routes;
use crate::auth::Permission;
use crate::{AppState, Error};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::projection::BrandIx;
use opsdeck_metrics::Projection;
use std::sync::RwLockReadGuard;

/// Every page, with who may open it (see [`crate::auth::rules`]).
pub(crate) fn router() -> Routes {
    use Permission::*;
    Routes::new()
        .get("/", ViewDashboard, dashboard::page)
        .get("/fragments/{tile}", ViewDashboard, dashboard::fragment)
        .get("/wismo", ViewDashboard, wismo::page)
        .get("/inventory", ViewDashboard, inventory::page)
        .get("/catalog", ViewDashboard, drill::catalog)
        .get("/tickets", ViewDashboard, drill::tickets)
        .get(
            "/orders/{source}/{external_id}",
            ViewDashboard,
            drill::order,
        )
        .get(
            "/orders/by-number/{brand}/{number}",
            ViewDashboard,
            drill::order_by_number,
        )
        .get("/sources", ViewDashboard, sources::page)
        .post("/refresh", RefreshSync, sources::refresh)
        .get("/pulse", ViewRevenue, pulse::page)
        .post("/pulse/{brand}/decision", RecordDecisions, pulse::decide)
        .get("/alerts", ViewDashboard, alerts::page)
        .post("/alerts/silences", ActOnAlerts, alerts::silence)
        .post(
            "/alerts/silences/{id}/end",
            ActOnAlerts,
            alerts::end_silence,
        )
        .post("/alerts/groups/ack", ActOnAlerts, alerts::ack_group)
        .post("/alerts/groups/silence", ActOnAlerts, alerts::silence_group)
        .get("/alerts/{id}", ViewDashboard, alerts::detail)
        .post("/alerts/{id}/ack", ActOnAlerts, alerts::ack)
        .post("/alerts/{id}/resolve", ActOnAlerts, alerts::resolve)
}

/// The settings panels read (week start, reporting currency and rates,
/// thresholds), as configured.
pub(crate) fn panel_config(state: &AppState) -> PanelConfig {
    state.panel_config.as_ref().clone()
}

/// A read view of the projection. Poisoning is ignored: the writer applies
/// whole changes, so the last state is still consistent.
pub(crate) fn read(state: &AppState) -> RwLockReadGuard<'_, Projection> {
    state
        .projection
        .read()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The brand a single-brand page shows (`params::one_brand`: the one
/// asked for, else the first launched one of the region or of the brands
/// the person sees).
pub(crate) fn default_brand(
    state: &AppState,
    brand: Option<&str>,
    region: Option<&str>,
) -> Result<String, Error> {
    Ok(crate::params::one_brand(state, brand, region)?
        .id
        .to_string())
}

/// A picker's choices: `(id, name)` pairs, as the templates read them.
pub(crate) type Choices = Vec<(String, String)>;

/// What a single-brand page's filter bar offers: the brands the person
/// sees (launched only, when `launched_only`) within the region chosen,
/// and the regions they see, as `(id, name)` pairs.
pub(crate) fn pickers(
    state: &AppState,
    region: Option<&str>,
    launched_only: bool,
) -> Result<(Choices, Choices), Error> {
    let brands = crate::params::chosen_brands(state, None, region)?
        .unwrap_or_else(|| state.brands.iter().collect())
        .into_iter()
        .filter(|b| b.launched || !launched_only)
        .map(|b| (b.id.to_string(), b.name.clone()))
        .collect();
    let regions = state
        .visible_regions()
        .into_iter()
        .map(|r| (r.id.to_string(), r.name.clone()))
        .collect();
    Ok((brands, regions))
}

/// The projection index of brand `id`, or the 400 naming it.
pub(crate) fn brand_ix(p: &Projection, state: &AppState, id: &str) -> Result<BrandIx, Error> {
    let brand = state.brand(id)?;
    p.ctx
        .brand_ix(&brand.id)
        .ok_or_else(|| Error::UnknownBrand(id.to_string()))
}
