//! `GET /api/v1/order-volume[?brand=ID&region=ID]`: the order volume cards as JSON,
//! the same numbers the dashboard shows.

use super::{ApiRoute, BrandSummary};
use crate::cards::{self, BrandCards};
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_domain::{Brand, Timestamp};
use opsdeck_metrics::{Freshness, PeriodVolume};
use serde::{Deserialize, Serialize};

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/order-volume",
        method: "get",
        access: crate::auth::Permission::ViewRevenue.into(),
        handler: get(order_volume),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct OrderVolumeQuery {
    /// Only this brand; all configured brands when absent.
    brand: Option<String>,
    /// Only this region's brands (see `params::chosen_brands`).
    region: Option<String>,
}

#[derive(Serialize)]
struct OrderVolumeResponse {
    /// The instant the cards are "as of"; every window ends here.
    generated_at: Timestamp,
    brands: Vec<BrandOrderVolume>,
}

#[derive(Serialize)]
struct BrandOrderVolume {
    brand: BrandSummary,
    /// The newest successful sync of the brand's sources; `null` if never.
    synced_at: Option<Timestamp>,
    freshness: Freshness,
    /// Today, this week, this month; empty for a brand not launched.
    periods: Vec<PeriodVolume>,
}

impl From<BrandCards<'_>> for BrandOrderVolume {
    fn from(p: BrandCards<'_>) -> Self {
        BrandOrderVolume {
            brand: BrandSummary::from(p.brand),
            synced_at: p.freshness.last_success_at(),
            periods: p.volume.periods().to_vec(),
            freshness: p.freshness,
        }
    }
}

async fn order_volume(
    State(state): State<AppState>,
    Params(query): Params<OrderVolumeQuery>,
) -> Result<Json<OrderVolumeResponse>, Error> {
    let brands: Vec<&Brand> =
        crate::params::chosen_brands(&state, query.brand.as_deref(), query.region.as_deref())?
            .unwrap_or_else(|| state.brands.iter().collect());
    let now = state.now();
    let sync_states = state.store.all_sync_states().await?;
    let panels = cards::load(&state, &brands, &sync_states, now).await?;
    Ok(Json(OrderVolumeResponse {
        generated_at: now,
        brands: panels.into_iter().map(BrandOrderVolume::from).collect(),
    }))
}
