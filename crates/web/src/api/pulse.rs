//! `GET /api/v1/pulse`: the sales pulse of each brand: today against its time-of-day baseline, warning/critical state, order spike, top SKUs with stock cover, open fulfillment blockers.

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
        path: "/api/v1/pulse",
        method: "get",
        access: crate::auth::Permission::ViewRevenue.into(),
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<BrandQuery>,
) -> Result<Json<PanelResponse<panels::pulse::Pulse>>, Error> {
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let brands = per_brand(&p, only.as_deref(), |b, _| {
        panels::pulse::pulse(&p, &state.panel_config, b, now)
    });
    Ok(Json(PanelResponse {
        generated_at: now,
        range: None,
        brands,
        views: vec![],
    }))
}
