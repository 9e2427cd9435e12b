//! `GET /api/v1/tickets`: the ticket queue of each brand: open, pending, resolved this week, created vs resolved today, 7-day daily series.

use super::panel_query::{projection, support_response, BrandQuery, PanelResponse};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_metrics::panels;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/tickets",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<BrandQuery>,
) -> Result<Json<PanelResponse<panels::support::Queue>>, Error> {
    let now = state.now();
    let p = projection(&state);
    Ok(Json(support_response(
        &state,
        &p,
        query.brand.as_deref(),
        query.region.as_deref(),
        None,
        now,
        |b| panels::support::queue(&p, b, state.panel_config.week_start, now),
    )?))
}
