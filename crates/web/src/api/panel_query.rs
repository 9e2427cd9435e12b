//! What every panel endpoint shares: the `brand`, `region`, `range`, `from` and `to`
//! parameters parsed into the metrics crate's types (a bad value is a 400
//! naming the parameter and the reason), the read-locked projection, and
//! the one response shape `{generated_at, range, brands: [...]}`.
//!
//! Handlers stay thin: parse, read-lock, call the panel's pure function,
//! serialize. The lock is held only while the numbers are computed, never
//! across an `.await`.

use crate::{AppState, Error};
use opsdeck_domain::Timestamp;
use opsdeck_metrics::panels::support::{support_views, SupportView};
use opsdeck_metrics::panels::{per_brand, BrandPanel, Range};
use opsdeck_metrics::projection::BrandIx;
use opsdeck_metrics::Projection;
use serde::{Deserialize, Serialize};
use std::sync::RwLockReadGuard;

/// `?brand=ID&region=ID&range=today|7d|30d|90d|custom&from=YYYY-MM-DD&to=YYYY-MM-DD`.
/// Custom dates are whole local days in each brand's own time zone.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RangeQuery {
    pub brand: Option<String>,
    /// A region id: its brands (see `params::chosen_brands`).
    pub region: Option<String>,
    pub range: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
}

/// `?brand=ID&region=ID` for panels that are "as of now" (no range).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct BrandQuery {
    pub brand: Option<String>,
    pub region: Option<String>,
}

impl RangeQuery {
    /// The range asked for; `from`/`to` with a preset range is a 400
    /// (the one reading shared with the pages: `params::parse_range`).
    pub fn range(&self) -> Result<Range, Error> {
        crate::params::parse_range(
            self.range.as_deref(),
            self.from.as_deref(),
            self.to.as_deref(),
            "today",
            crate::params::PresetDates::Refuse,
        )
        .map(|c| c.range)
    }
}

/// The projection, read-locked (a refresher that panicked mid-page left
/// whole changes applied, so its data is still consistent to read).
pub(super) fn projection(state: &AppState) -> RwLockReadGuard<'_, Projection> {
    state.projection.read().unwrap_or_else(|e| e.into_inner())
}

/// The brands `?brand=` and `?region=` choose (the one reading:
/// `params::chosen_brands`), as the projection's indexes; `None` = all.
pub(super) fn only(
    state: &AppState,
    p: &Projection,
    brand: Option<&str>,
    region: Option<&str>,
) -> Result<Option<Vec<BrandIx>>, Error> {
    let Some(brands) = crate::params::chosen_brands(state, brand, region)? else {
        return Ok(None);
    };
    brands
        .into_iter()
        .map(|b| {
            p.ctx
                .brand_ix(&b.id)
                .ok_or_else(|| Error::UnknownBrand(b.id.to_string()))
        })
        .collect::<Result<Vec<_>, _>>()
        .map(Some)
}

/// One panel for each brand asked for.
#[derive(Debug, Serialize)]
pub(super) struct PanelResponse<T> {
    /// The instant the numbers are "as of".
    pub generated_at: Timestamp,
    /// The range asked for; absent for panels that are "as of now".
    #[serde(skip_serializing_if = "Option::is_none")]
    pub range: Option<Range>,
    pub brands: Vec<BrandPanel<T>>,
    /// Support panels only: the unattributed tickets and all brands
    /// together (`view` = `unattributed`, `all`), so brands + unattributed
    /// add up to the helpdesk's totals.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<SupportView<T>>,
}

/// A support panel's response: `?brand=ID` one brand; `?brand=unattributed`
/// or `?brand=all` that view alone; no `brand` every brand, then the
/// unattributed tickets and all brands together.
pub(super) fn support_response<T>(
    state: &AppState,
    p: &Projection,
    brand: Option<&str>,
    region: Option<&str>,
    range: Option<Range>,
    now: Timestamp,
    f: impl Fn(BrandIx) -> T,
) -> Result<PanelResponse<T>, Error> {
    // The helpdesk-wide views hold every brand's tickets, so only a
    // person who sees every brand gets them (`crate::scope`).
    let every = crate::scope::current().is_every();
    let (brands, views) = match brand {
        // A region's support: its brands' tickets, without the helpdesk-wide views.
        _ if region.is_some_and(|r| !r.is_empty()) => {
            let only = only(state, p, brand, region)?;
            (per_brand(p, only.as_deref(), |b, _| f(b)), vec![])
        }
        Some(view @ ("unattributed" | "all")) if !every => {
            return Err(state.out_of_scope(&format!("the helpdesk-wide view {view:?}")))
        }
        Some(view @ ("unattributed" | "all")) => (
            vec![],
            support_views(&f)
                .into_iter()
                .filter(|v| v.view == view)
                .collect(),
        ),
        Some(_) => {
            let only = only(state, p, brand, None)?;
            (per_brand(p, only.as_deref(), |b, _| f(b)), vec![])
        }
        None if !every => {
            let only = only(state, p, None, None)?;
            (per_brand(p, only.as_deref(), |b, _| f(b)), vec![])
        }
        None => (per_brand(p, None, |b, _| f(b)), support_views(&f)),
    };
    Ok(PanelResponse {
        generated_at: now,
        range,
        brands,
        views,
    })
}

/// A support panel over `?range=` (CSAT, response times, top issues):
/// parse the range, read-lock, and answer [`support_response`] with the
/// panel's pure function for each brand and view.
pub(super) fn support_range_response<T>(
    state: &AppState,
    query: &RangeQuery,
    panel: impl Fn(&Projection, BrandIx, Range, Timestamp) -> T,
) -> Result<PanelResponse<T>, Error> {
    let range = query.range()?;
    let now = state.now();
    let p = projection(state);
    let (brand, region) = (query.brand.as_deref(), query.region.as_deref());
    support_response(state, &p, brand, region, Some(range), now, |b| {
        panel(&p, b, range, now)
    })
}
