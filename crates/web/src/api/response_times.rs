//! `GET /api/v1/response-times`: first response and resolution time of each brand over the range: median, mean and daily trend.

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
        path: "/api/v1/response-times",
        method: "get",
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<RangeQuery>,
) -> Result<Json<PanelResponse<panels::support::Times>>, Error> {
    let range = query.range()?;
    let now = state.now();
    let p = projection(&state);
    Ok(Json(support_response(
        &state,
        &p,
        query.brand.as_deref(),
        Some(range),
        now,
        |b| panels::support::times(&p, b, range, now),
    )?))
}
