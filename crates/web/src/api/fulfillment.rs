//! `GET /api/v1/fulfillment`: the fulfillment pipeline of each brand: stages, unfulfilled age buckets, stale orders, recurring vs one-time, time to ship, delivery by carrier.

use super::panel_query::{only, projection, BrandQuery, PanelResponse};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_metrics::panels::{self, per_brand};

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/fulfillment",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

/// The revenue split (recurring vs one-time) is money: `null` for roles
/// without revenue (see `opsdeck_metrics::money_json`).
async fn handler(
    State(state): State<AppState>,
    Params(query): Params<BrandQuery>,
) -> Result<Json<PanelResponse<panels::fulfillment::Fulfillment>>, Error> {
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let brands = per_brand(&p, only.as_deref(), |b, _| {
        panels::fulfillment::fulfillment(&p, b, now)
    });
    Ok(Json(PanelResponse {
        generated_at: now,
        range: None,
        brands,
        views: vec![],
    }))
}
