//! `GET /api/v1/operations`: what the ingest API's operations kinds say
//! for each brand — open return requests, payment failures and chargebacks
//! in the last 24 hours, the review queue, failing health checks.

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
        path: "/api/v1/operations",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<BrandQuery>,
) -> Result<Json<PanelResponse<panels::operations::Operations>>, Error> {
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let brands = per_brand(&p, only.as_deref(), |b, _| {
        panels::operations::operations(&p, &state.panel_config, b, now)
    });
    Ok(Json(PanelResponse {
        generated_at: now,
        range: None,
        brands,
        views: vec![],
    }))
}
