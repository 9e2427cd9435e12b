//! `GET /api/v1/orders/{source}/{external_id}/timeline`: one order's
//! timeline for the where-is-my-order view — placed, paid, shipments,
//! carrier events (exceptions marked), delivery, linked inquiries, refunds —
//! with estimated against actual delivery. 404 when the projection does not
//! know the order (or its brand is not configured).

use super::panel_query::projection;
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::{Path, State};
use axum::routing::get;
use axum::Json;
use opsdeck_metrics::panels::timeline::{timeline, Timeline};
use serde::Deserialize;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/orders/{source}/{external_id}/timeline",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

/// No query parameters: an unknown one is a 400.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoQuery {}

async fn handler(
    State(state): State<AppState>,
    Path((source, external_id)): Path<(String, String)>,
    Params(NoQuery {}): Params<NoQuery>,
) -> Result<Json<Timeline>, Error> {
    let now = state.now();
    let p = projection(&state);
    timeline(&p, &source, &external_id, now)
        // Another brand's order is not there for a person who does not
        // see that brand.
        .filter(|t| crate::scope::sees(t.brand.as_str()))
        .map(Json)
        .ok_or(Error::NotFound)
}
