//! `GET /api/v1/dashboard`: every panel of each brand (or the one asked
//! for) in one answer — the ranged panels over `range` — plus the sales
//! totals in the reporting currency and the insights. One read lock, so
//! every number in it is as of the same change.

use super::panel_query::{only, projection, RangeQuery};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_domain::Timestamp;
use opsdeck_metrics::panels::insights::Insight;
use opsdeck_metrics::panels::sales::{self, SalesTotal};
use opsdeck_metrics::panels::{brand_dashboard, brand_insights, per_brand, BrandDashboard};
use opsdeck_metrics::panels::{BrandPanel, Range};
use serde::Serialize;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/dashboard",
        method: "get",
        access: crate::auth::Permission::ViewRevenue.into(),
        handler: get(handler),
    }
}

#[derive(Serialize)]
struct DashboardResponse {
    generated_at: Timestamp,
    range: Range,
    brands: Vec<BrandPanel<BrandDashboard>>,
    /// Sales of the brands listed, in the reporting currency.
    sales_total: SalesTotal,
    insights: Vec<Insight>,
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<RangeQuery>,
) -> Result<Json<DashboardResponse>, Error> {
    let range = query.range()?;
    let now = state.now();
    let cfg = &state.panel_config;
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let brands = per_brand(&p, only.as_deref(), |b, _| {
        brand_dashboard(&p, cfg, b, range, now)
    });
    let sales_total = sales::sales(&p, cfg, only.as_deref(), range, now).total;
    let insights = brand_insights(&p, cfg, only.as_deref(), now);
    Ok(Json(DashboardResponse {
        generated_at: now,
        range,
        brands,
        sales_total,
        insights,
    }))
}
