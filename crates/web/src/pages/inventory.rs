//! `GET /inventory?brand=&region=&sort=severity|velocity|days_left&status=on_sale|all`:
//! every tracked variant out of stock or low, sorted on the server so the
//! links work without script. Products on sale by default; `status=all`
//! adds drafts and archived products (shown, never alerted). Below, the
//! playbook's stock tiers of the products on sale (critical, low, normal,
//! high) and the high tier's overstock to review against demand
//! (`opsdeck_metrics::panels::inventory::stock_tiers`).

use super::{brand_ix, format, panel_config, read};
use crate::error::PageError;
use crate::params::Params;
use crate::{templates, AppState, Error};
use axum::extract::State;
use axum::response::Html;
use opsdeck_metrics::panels::inventory::{
    inventory_of, stock_tiers, ProductScope, StockAlert, StockTier,
};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Query {
    brand: Option<String>,
    /// A region id: the brand picker offers its brands, and the first is
    /// shown unless `brand` names one (see `params::one_brand`).
    region: Option<String>,
    sort: Option<String>,
    status: Option<String>,
}

pub(crate) async fn page(
    State(state): State<AppState>,
    params: Result<Params<Query>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = params?;
    let sort = q.sort.as_deref().unwrap_or("severity");
    if !["severity", "velocity", "days_left"].contains(&sort) {
        return Err(Error::BadRequest(format!(
            "sort must be severity, velocity or days_left, not {sort:?}"
        ))
        .into());
    }
    let scope = match q.status.as_deref().unwrap_or("on_sale") {
        "on_sale" => ProductScope::OnSale,
        "all" => ProductScope::All,
        other => {
            return Err(
                Error::BadRequest(format!("status must be on_sale or all, not {other:?}")).into(),
            )
        }
    };
    let brand_id = super::default_brand(&state, q.brand.as_deref(), q.region.as_deref())?;
    let (brands, regions) = super::pickers(&state, q.region.as_deref(), true)?;
    let now = state.now();
    let cfg = panel_config(&state);
    let (mut lines, tiers) = {
        let p = read(&state);
        let b = brand_ix(&p, &state, &brand_id)?;
        (
            inventory_of(&p, &cfg, b, now, scope).alerts,
            stock_tiers(&p, &cfg, b, now),
        )
    };
    match sort {
        "velocity" => lines.sort_by(|a, b| b.velocity_per_week.total_cmp(&a.velocity_per_week)),
        "days_left" => lines.sort_by(|a, b| {
            let key = |d: Option<f64>| d.unwrap_or(f64::INFINITY);
            key(a.days_until_stockout).total_cmp(&key(b.days_until_stockout))
        }),
        _ => lines.sort_by_key(|l| l.stock_state),
    }
    let rows: Vec<_> = lines
        .iter()
        .map(|l| {
            serde_json::json!({
                "product": l.product, "variant": l.variant, "sku": l.sku,
                "quantity": l.quantity, "threshold": l.threshold,
                "severity": l.stock_state.label(),
                "status": l.product_status,
                "alert": match l.alert { Some(StockAlert::Critical) => "critical", Some(StockAlert::Low) => "low", None => "none" },
                "velocity": format!("{:.1}", l.velocity_per_week),
                "days_left": format::days(l.days_until_stockout),
            })
        })
        .collect();
    let brand = state.brand(&brand_id)?;
    let t = &brand.thresholds;
    let tier_rows: Vec<_> = StockTier::ALL
        .into_iter()
        .map(|tier| {
            let bound = match tier {
                StockTier::Critical => format!("≤ {}", t.critical_stock),
                StockTier::Low => format!("{}–{}", t.critical_stock + 1, t.low_stock),
                StockTier::Normal => format!("{}–{}", t.low_stock + 1, t.high_stock),
                StockTier::High => format!("> {}", t.high_stock),
            };
            serde_json::json!({"label": tier.label(), "bound": bound, "count": tiers.count(tier)})
        })
        .collect();
    let overstock: Vec<_> = tiers
        .overstock
        .iter()
        .map(|l| {
            serde_json::json!({
                "product": l.product, "variant": l.variant, "sku": l.sku,
                "quantity": l.quantity,
                "velocity": format!("{:.1}", l.velocity_per_week),
                "days_left": format::days(l.days_until_stockout),
            })
        })
        .collect();
    let html = templates::render(
        "inventory.html",
        minijinja::context! {
            brand => brand.name, brand_id => brand_id, sort => sort, rows => rows,
            all_statuses => scope == ProductScope::All,
            tiers => tier_rows, overstock => overstock, high_above => tiers.high_above,
            brands => brands, regions => regions, region => q.region.as_deref().unwrap_or(""),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}
