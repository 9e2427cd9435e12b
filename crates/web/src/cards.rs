//! Gathers what the order volume panel shows for a set of brands: the
//! cards from the projection's sales rollups and a freshness line, both
//! computed by `opsdeck-metrics`. Shared by the dashboard page and the JSON
//! API so both always show the same numbers.
//!
//! The cards come from the projection (a month of a busy brand's order
//! facts read per request made the dashboard take over a second at 1M
//! orders). The store's facts are read only when the rollup cannot give
//! the answer: a window holding an order in a foreign currency, which the
//! card leaves out of revenue and names, or a brand the projection does
//! not know.

use crate::{pages, AppState, Error};
use opsdeck_domain::{Brand, Timestamp};
use opsdeck_metrics::order_volume::order_volume_from_sales;
use opsdeck_metrics::{brand_freshness, facts_window_start, order_volume, BrandVolume, Freshness};
use opsdeck_store::SyncState;

/// One brand's panel as of one instant.
pub(crate) struct BrandCards<'a> {
    pub brand: &'a Brand,
    pub volume: BrandVolume,
    pub freshness: Freshness,
}

/// The panels of `brands` as of `now`, in the order given; freshness from
/// `sync_states` (every source's, read once by the caller per request).
#[tracing::instrument(skip_all, fields(brands = brands.len(), %now))]
pub(crate) async fn load<'a>(
    state: &AppState,
    brands: &[&'a Brand],
    sync_states: &[SyncState],
    now: Timestamp,
) -> Result<Vec<BrandCards<'a>>, Error> {
    let projected: Vec<Option<BrandVolume>> = {
        let p = pages::read(state);
        brands
            .iter()
            .map(|brand| {
                let ix = p.ctx.brand_ix(&brand.id)?;
                let sales = p.orders.sales.get(usize::from(ix))?;
                order_volume_from_sales(brand, sales, now, state.week_start)
            })
            .collect()
    };
    let mut panels = Vec::with_capacity(brands.len());
    for (&brand, volume) in brands.iter().zip(projected) {
        let volume = match volume {
            Some(volume) => volume,
            None => from_facts(state, brand, now).await?,
        };
        panels.push(BrandCards {
            brand,
            volume,
            freshness: brand_freshness(&state.sources_of(&brand.id), sync_states),
        });
    }
    Ok(panels)
}

/// The cards from the store's order facts: what the rollup cannot answer.
#[tracing::instrument(skip_all, fields(brand = %brand.id))]
async fn from_facts(state: &AppState, brand: &Brand, now: Timestamp) -> Result<BrandVolume, Error> {
    let from = facts_window_start(brand, now, state.week_start);
    let facts = state.store.order_facts(&brand.id, from, now).await?;
    Ok(order_volume(brand, &facts, now, state.week_start))
}
