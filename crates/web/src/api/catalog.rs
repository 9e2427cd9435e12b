//! `GET /api/v1/catalog`: catalog health of each brand: counts by status, products with issues, health score.

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
        path: "/api/v1/catalog",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<BrandQuery>,
) -> Result<Json<PanelResponse<panels::catalog::Catalog>>, Error> {
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let brands = per_brand(&p, only.as_deref(), |b, _| panels::catalog::catalog(&p, b));
    Ok(Json(PanelResponse {
        generated_at: now,
        range: None,
        brands,
        views: vec![],
    }))
}
