//! `GET /api/v1/wismo`: where-is-my-order inquiries of each brand: rate, types, linked orders, repeat rate, hour × weekday heatmap.

use super::panel_query::{only, projection, PanelResponse, RangeQuery};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_metrics::panels::{self, per_brand};

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/wismo",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<RangeQuery>,
) -> Result<Json<PanelResponse<panels::wismo::Wismo>>, Error> {
    let range = query.range()?;
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let brands = per_brand(&p, only.as_deref(), |b, _| {
        panels::wismo::wismo(&p, b, range, now)
    });
    Ok(Json(PanelResponse {
        generated_at: now,
        range: Some(range),
        brands,
        views: vec![],
    }))
}
