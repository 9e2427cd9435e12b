//! `GET /api/v1/brands`: the configured brands, so a client can list them
//! and pick one for `?brand=`.

use super::ApiRoute;
use crate::params::{NoParams, Params};
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_domain::{Brand, BrandId, BrandKind, Currency};
use serde::Serialize;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/brands",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(list_brands),
    }
}

/// A brand as the API shows it: identity and how its numbers are counted,
/// without the alert thresholds (configuration, not something to display).
#[derive(Debug, Serialize)]
pub(crate) struct BrandSummary {
    pub id: BrandId,
    pub name: String,
    pub kind: BrandKind,
    pub currency: Currency,
    /// IANA name of the zone its days are counted in.
    pub time_zone: String,
    pub launched: bool,
}

impl From<&Brand> for BrandSummary {
    fn from(b: &Brand) -> Self {
        BrandSummary {
            id: b.id.clone(),
            name: b.name.clone(),
            kind: b.kind.clone(),
            currency: b.currency,
            time_zone: b.time_zone_name().to_string(),
            launched: b.launched,
        }
    }
}

#[derive(Serialize)]
struct BrandList {
    brands: Vec<BrandSummary>,
}

async fn list_brands(
    State(state): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<BrandList>, Error> {
    Ok(Json(BrandList {
        // The brands the person sees (`crate::scope`).
        brands: state
            .visible_brands()
            .into_iter()
            .map(BrandSummary::from)
            .collect(),
    }))
}
