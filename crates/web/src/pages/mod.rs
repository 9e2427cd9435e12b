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

pub(crate) mod alerts;
mod dashboard;
pub(crate) mod drill;
pub(crate) mod format;
mod inventory;
mod pulse;
mod sources;
pub(crate) mod tiles;
mod wismo;

use crate::{AppState, Error};
use axum::routing::{get, post};
use axum::Router;
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::projection::BrandIx;
use opsdeck_metrics::Projection;
use std::sync::RwLockReadGuard;

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(dashboard::page))
        .route("/fragments/{tile}", get(dashboard::fragment))
        .route("/wismo", get(wismo::page))
        .route("/inventory", get(inventory::page))
        .route("/catalog", get(drill::catalog))
        .route("/tickets", get(drill::tickets))
        .route("/orders/{source}/{external_id}", get(drill::order))
        .route(
            "/orders/by-number/{brand}/{number}",
            get(drill::order_by_number),
        )
        .route("/sources", get(sources::page))
        .route("/refresh", post(sources::refresh))
        .route("/pulse", get(pulse::page))
        .route("/pulse/{brand}/decision", post(pulse::decide))
        .route("/alerts", get(alerts::page))
        .route("/alerts/silences", post(alerts::silence))
        .route("/alerts/silences/{id}/end", post(alerts::end_silence))
        .route("/alerts/groups/ack", post(alerts::ack_group))
        .route("/alerts/groups/silence", post(alerts::silence_group))
        .route("/alerts/{id}", get(alerts::detail))
        .route("/alerts/{id}/ack", post(alerts::ack))
        .route("/alerts/{id}/resolve", post(alerts::resolve))
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

/// The brand asked for (a 400 when unknown), or the first launched one.
pub(crate) fn default_brand(state: &AppState, brand: Option<&str>) -> Result<String, Error> {
    match brand.filter(|b| !b.is_empty()) {
        Some(b) => Ok(state.brand(b)?.id.to_string()),
        None => state
            .brands
            .iter()
            .find(|b| b.launched)
            .map(|b| b.id.to_string())
            .ok_or(Error::NotFound),
    }
}

/// The projection index of brand `id`, or the 400 naming it.
pub(crate) fn brand_ix(p: &Projection, state: &AppState, id: &str) -> Result<BrandIx, Error> {
    let brand = state.brand(id)?;
    p.ctx
        .brand_ix(&brand.id)
        .ok_or_else(|| Error::UnknownBrand(id.to_string()))
}
