//! `GET /api/v1/urgent-tickets`: the urgent queue, ranked by its score
//! (docs/metrics.md), a page at a time: each ticket with subject, customer,
//! brand, age, its flags with their evidence and a link to the helpdesk.
//! Order values are not in this JSON (it is not a revenue endpoint); the
//! customer risk flags' high-value evidence names the lifetime spend only
//! for roles with revenue permission (`money_json`).

use super::panel_query::{projection, support_response, PanelResponse};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_metrics::panels;
use serde::Deserialize;

/// `?brand=ID|unattributed|all&region=ID&page=N`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrgentQuery {
    brand: Option<String>,
    region: Option<String>,
    page: Option<String>,
}

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/urgent-tickets",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<UrgentQuery>,
) -> Result<Json<PanelResponse<panels::urgent::Urgent>>, Error> {
    let page = match query.page.as_deref() {
        None => 1,
        Some(n) => n
            .parse::<usize>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| {
                Error::BadRequest(format!(
                    "page must be a whole number from 1 to 100000, not {n:?}"
                ))
            })?,
    };
    let now = state.now();
    let p = projection(&state);
    Ok(Json(support_response(
        &state,
        &p,
        query.brand.as_deref(),
        query.region.as_deref(),
        None,
        now,
        |b| panels::urgent::urgent_page(&p, &state.panel_config, b, now, page),
    )?))
}
