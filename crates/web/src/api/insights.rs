//! `GET /api/v1/insights`: ranked plain-language findings of each brand (or
//! the one asked for), from its 7-day numbers, each with the numbers behind
//! it and a recommendation.

use super::panel_query::{only, projection, BrandQuery};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_domain::Timestamp;
use opsdeck_metrics::panels::{brand_insights, insights::Insight};
use serde::Serialize;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/insights",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

#[derive(Serialize)]
struct InsightsResponse {
    generated_at: Timestamp,
    /// Highest score first.
    insights: Vec<Insight>,
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<BrandQuery>,
) -> Result<Json<InsightsResponse>, Error> {
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let insights = brand_insights(&p, &state.panel_config, only.as_deref(), now);
    Ok(Json(InsightsResponse {
        generated_at: now,
        insights,
    }))
}
