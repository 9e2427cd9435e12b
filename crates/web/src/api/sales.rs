//! `GET /api/v1/sales`: orders, gross revenue and AOV of each brand over any
//! range, against the prior span of the same length, with daily (hourly for
//! `today`) series, and all-brand totals in the reporting currency.

use super::panel_query::{only, projection, RangeQuery};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_domain::Timestamp;
use opsdeck_metrics::panels::sales::{self, Sales};
use opsdeck_metrics::panels::Range;
use serde::Serialize;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/sales",
        method: "get",
        access: crate::auth::Permission::ViewRevenue.into(),
        handler: get(handler),
    }
}

#[derive(Serialize)]
struct SalesResponse {
    generated_at: Timestamp,
    range: Range,
    #[serde(flatten)]
    sales: Sales,
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<RangeQuery>,
) -> Result<Json<SalesResponse>, Error> {
    let range = query.range()?;
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let sales = sales::sales(&p, &state.panel_config, only.as_deref(), range, now);
    Ok(Json(SalesResponse {
        generated_at: now,
        range,
        sales,
    }))
}
