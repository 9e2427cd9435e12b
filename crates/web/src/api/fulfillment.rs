//! `GET /api/v1/fulfillment`: the fulfillment pipeline of each brand: stages, unfulfilled age buckets, stale orders, recurring vs one-time, time to ship, delivery by carrier.

use super::panel_query::{only, projection, BrandQuery, PanelResponse};
use super::ApiRoute;
use crate::auth::{CurrentUser, Permission};
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
        handler: get(handler),
    }
}

/// The revenue split (recurring vs one-time) is money: roles without
/// revenue get the pipeline without it.
const REVENUE_FIELDS: [&str; 2] = ["recurring_revenue", "one_time_revenue"];

async fn handler(
    State(state): State<AppState>,
    user: CurrentUser,
    Params(query): Params<BrandQuery>,
) -> Result<Json<serde_json::Value>, Error> {
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref())?;
    let brands = per_brand(&p, only, |b, _| {
        panels::fulfillment::fulfillment(&p, b, now)
    });
    let response = PanelResponse {
        generated_at: now,
        range: None,
        brands,
        views: vec![],
    };
    // Plain structs with string keys: serializing cannot fail.
    let mut json = serde_json::to_value(&response).expect("panel serializes to JSON");
    if !user.can(Permission::ViewRevenue) {
        without_revenue(&mut json);
    }
    Ok(Json(json))
}

fn without_revenue(json: &mut serde_json::Value) {
    let Some(brands) = json.get_mut("brands").and_then(|b| b.as_array_mut()) else {
        return;
    };
    for brand in brands.iter_mut().filter_map(|b| b.as_object_mut()) {
        for field in REVENUE_FIELDS {
            brand.remove(field);
        }
    }
}
