//! Gathers what the order volume panel shows for a set of brands: the facts
//! from the store, turned into cards and a freshness line by
//! `opsdeck-metrics`. Shared by the dashboard page and the JSON API so both
//! always show the same numbers.

use crate::{AppState, Error};
use opsdeck_domain::{Brand, Timestamp};
use opsdeck_metrics::{brand_freshness, facts_window_start, order_volume, BrandVolume, Freshness};
use opsdeck_store::SyncState;

/// One brand's panel as of one instant.
pub(crate) struct BrandCards<'a> {
    pub brand: &'a Brand,
    pub volume: BrandVolume,
    pub freshness: Freshness,
}

/// The panels of `brands` as of `now`, in the order given.
#[tracing::instrument(skip_all, fields(brands = brands.len(), %now))]
pub(crate) async fn load<'a>(
    state: &AppState,
    brands: &[&'a Brand],
    now: Timestamp,
) -> Result<Vec<BrandCards<'a>>, Error> {
    let sync_states = state.store.all_sync_states().await?;
    let mut panels = Vec::with_capacity(brands.len());
    for &brand in brands {
        panels.push(load_brand(state, brand, &sync_states, now).await?);
    }
    Ok(panels)
}

#[tracing::instrument(skip_all, fields(brand = %brand.id))]
async fn load_brand<'a>(
    state: &AppState,
    brand: &'a Brand,
    sync_states: &[SyncState],
    now: Timestamp,
) -> Result<BrandCards<'a>, Error> {
    // A brand that has not launched shows no numbers; skip its query.
    let facts = if brand.launched {
        let from = facts_window_start(brand, now, state.week_start);
        state.store.order_facts(&brand.id, from, now).await?
    } else {
        Vec::new()
    };
    Ok(BrandCards {
        brand,
        volume: order_volume(brand, &facts, now, state.week_start)?,
        freshness: brand_freshness(&state.sources_of(&brand.id), sync_states),
    })
}
