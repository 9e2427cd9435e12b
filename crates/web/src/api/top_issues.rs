//! `GET /api/v1/top-issues`: what customers write about: tickets by tag and untagged subjects clustered into named groups.

use super::panel_query::{projection, support_response, PanelResponse, RangeQuery};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_metrics::panels;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/top-issues",
        method: "get",
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<RangeQuery>,
) -> Result<Json<PanelResponse<panels::support::TopIssues>>, Error> {
    let range = query.range()?;
    let now = state.now();
    let p = projection(&state);
    Ok(Json(support_response(
        &state,
        &p,
        query.brand.as_deref(),
        Some(range),
        now,
        |b| panels::support::top_issues(&p, b, range, now),
    )?))
}
