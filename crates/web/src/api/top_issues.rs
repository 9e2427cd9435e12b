//! `GET /api/v1/top-issues`: what customers write about: tickets by tag and untagged subjects clustered into named groups.

use super::panel_query::{support_range_response, PanelResponse, RangeQuery};
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
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<RangeQuery>,
) -> Result<Json<PanelResponse<panels::support::TopIssues>>, Error> {
    support_range_response(&state, &query, panels::support::top_issues).map(Json)
}
