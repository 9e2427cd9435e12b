//! `GET /api/v1/inventory?brand=&status=on_sale|all`: tracked variants out of stock or low of each brand, most severe first, with velocity, days until stockout and the alert each raises. Products on sale by default; `status=all` adds drafts and archived products (never alerted).

use super::panel_query::{only, projection, PanelResponse};
use super::ApiRoute;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_metrics::panels::{self, per_brand};

/// `?brand=ID&status=on_sale|all`.
#[derive(Debug, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct InventoryQuery {
    brand: Option<String>,
    /// A region id: its brands (see `params::chosen_brands`).
    region: Option<String>,
    status: Option<String>,
}

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/inventory",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
        handler: get(handler),
    }
}

async fn handler(
    State(state): State<AppState>,
    Params(query): Params<InventoryQuery>,
) -> Result<Json<PanelResponse<panels::inventory::Inventory>>, Error> {
    let scope = match query.status.as_deref().unwrap_or("on_sale") {
        "on_sale" => panels::inventory::ProductScope::OnSale,
        "all" => panels::inventory::ProductScope::All,
        other => {
            return Err(Error::BadRequest(format!(
                "status must be on_sale or all, not {other:?}"
            )))
        }
    };
    let now = state.now();
    let p = projection(&state);
    let only = only(&state, &p, query.brand.as_deref(), query.region.as_deref())?;
    let brands = per_brand(&p, only.as_deref(), |b, _| {
        panels::inventory::inventory_of(&p, &state.panel_config, b, now, scope)
    });
    Ok(Json(PanelResponse {
        generated_at: now,
        range: None,
        brands,
        views: vec![],
    }))
}
