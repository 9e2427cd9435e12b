//! Inventory: tracked variants of sellable products out of stock or low,
//! with velocity (units/week over 28 days, net of refunds, per variant) and
//! days until stockout, most severe first.
//!
//! One home for the stock rules: [`stock_state`] is the fact every page,
//! API and alert shows (0 units is out of stock, whatever the brand), and
//! [`stock_alert`] is the alert a variant raises — the only place where a
//! dropship brand's "lower" or "off" applies. The inventory alert
//! conditions read [`StockLine::alert`] and never recompute either.

use super::{DropshipAlerts, PanelConfig};
use crate::projection::catalog::VariantRow;
use crate::projection::keys::KeyMap;
use crate::projection::orders::VariantKey;
use crate::projection::{local_day, BrandIx, Projection};
use opsdeck_domain::{BrandKind, Timestamp};
use serde::Serialize;

/// A variant's stock state: the fact, the same for every brand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StockState {
    OutOfStock,
    Low,
    Healthy,
}

impl StockState {
    /// How a page says it.
    pub fn label(self) -> &'static str {
        match self {
            StockState::OutOfStock => "out of stock",
            StockState::Low => "low",
            StockState::Healthy => "healthy",
        }
    }
}

/// Out of stock at 0 or fewer units, low at `low_threshold` or fewer.
pub fn stock_state(quantity: i64, low_threshold: i64) -> StockState {
    if quantity <= 0 {
        StockState::OutOfStock
    } else if quantity <= low_threshold {
        StockState::Low
    } else {
        StockState::Healthy
    }
}

/// The inventory alert a variant raises: the rule it fires under
/// (`inventory_critical` or `inventory_low`), and so its severity and
/// channel tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StockAlert {
    Critical,
    Low,
}

/// Which alert a variant of a sellable product raises: critical at the
/// brand's critical level or fewer units, low when its state is low or out
/// of stock above that level. A dropship brand's alerts go one tier lower
/// (critical → low, low → none) or off, by config: the alert's tier and
/// routing change, never the state.
pub fn stock_alert(
    state: StockState,
    quantity: i64,
    critical_level: i64,
    dropship: Option<DropshipAlerts>,
) -> Option<StockAlert> {
    let alert = if state == StockState::Healthy {
        return None;
    } else if quantity <= critical_level {
        StockAlert::Critical
    } else {
        StockAlert::Low
    };
    match (dropship, alert) {
        (None, a) => Some(a),
        (Some(DropshipAlerts::Off), _) => None,
        (Some(DropshipAlerts::Lower), StockAlert::Critical) => Some(StockAlert::Low),
        (Some(DropshipAlerts::Lower), StockAlert::Low) => None,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockLine {
    pub product: String,
    /// The product's status ("active", "draft", …): lines of products not
    /// on sale appear only when a page asks for all statuses.
    pub product_status: String,
    pub variant: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub threshold: i64,
    /// The true stock state (see [`stock_state`]).
    pub stock_state: StockState,
    /// The alert this variant raises, after the dropship setting; `None`
    /// for no alert (see [`stock_alert`]).
    pub alert: Option<StockAlert>,
    pub velocity_per_week: f64,
    pub days_until_stockout: Option<f64>,
}

/// Which products' variants an inventory view covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductScope {
    /// Products on sale (active or unlisted): what counts and alerts.
    #[default]
    OnSale,
    /// Every status, drafts and archived included (they never alert).
    All,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    pub scope: ProductScope,
    pub tracked_variants: usize,
    pub out_of_stock: usize,
    pub low: usize,
    /// Variants out of stock or low, most severe first, then fewest days
    /// until stockout.
    pub alerts: Vec<StockLine>,
    pub dropship_handling: Option<DropshipAlerts>,
    /// Lots expiring within 30 days, soonest first (see `operations`).
    pub expiring_batch_count: usize,
    pub expiring_batches: Vec<super::operations::ExpiringBatch>,
}

/// Tracked variants of products on sale (what every number and alert counts).
pub fn inventory(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Inventory {
    inventory_of(p, cfg, b, now, ProductScope::OnSale)
}

pub fn inventory_of(
    p: &Projection,
    cfg: &PanelConfig,
    b: BrandIx,
    now: Timestamp,
    scope: ProductScope,
) -> Inventory {
    let brand = p.brand(b);
    let today = local_day(now.as_second(), &brand.time_zone);
    let sold = units_28d_by_variant(p, b, today);
    let dropship = (brand.kind == BrandKind::Dropship).then_some(cfg.dropship_stock_alerts);
    let mut out = Inventory {
        scope,
        tracked_variants: 0,
        out_of_stock: 0,
        low: 0,
        alerts: vec![],
        dropship_handling: dropship,
        expiring_batch_count: 0,
        expiring_batches: vec![],
    };
    for prod in p.catalog.products_of(b) {
        let on_sale = prod.status.is_on_sale();
        if !on_sale && scope == ProductScope::OnSale {
            continue;
        }
        for v in prod.variants.iter().filter(|v| v.tracked) {
            let Some(q) = p.catalog.quantity(b, v) else {
                continue;
            };
            out.tracked_variants += 1;
            let sku = (v.sku != 0).then(|| p.syms.text(v.sku).to_string());
            let threshold = sku
                .as_ref()
                .and_then(|s| cfg.low_stock_overrides.get(s).copied())
                .unwrap_or(brand.thresholds.low_stock);
            let state = stock_state(q, threshold);
            match state {
                StockState::OutOfStock => out.out_of_stock += 1,
                StockState::Low => out.low += 1,
                StockState::Healthy => continue,
            }
            let alert = on_sale
                .then(|| stock_alert(state, q, brand.thresholds.critical_stock, dropship))
                .flatten();
            let velocity = velocity_per_week(&sold, v);
            out.alerts.push(StockLine {
                product: prod.title.to_string(),
                product_status: prod.status.to_string(),
                variant: v.title.to_string(),
                sku,
                quantity: q,
                threshold,
                stock_state: state,
                alert,
                velocity_per_week: velocity,
                days_until_stockout: (velocity > 0.0).then(|| (q.max(0) as f64) / (velocity / 7.0)),
            });
        }
    }
    (out.expiring_batch_count, out.expiring_batches) =
        super::operations::expiring_batches(p, b, now);
    out.alerts.sort_by(|a, b| {
        a.stock_state
            .cmp(&b.stock_state)
            .then(
                a.days_until_stockout
                    .unwrap_or(f64::INFINITY)
                    .total_cmp(&b.days_until_stockout.unwrap_or(f64::INFINITY)),
            )
            .then(a.product.cmp(&b.product))
            .then(a.variant.cmp(&b.variant))
    });
    out
}

/// Units sold over the 28 local days ending today, net of refunded units,
/// of non-cancelled orders, per [`VariantKey`].
pub fn units_28d_by_variant(p: &Projection, b: BrandIx, today: i32) -> KeyMap<u64, i64> {
    let mut m = KeyMap::default();
    for ((_, _, k), units) in p
        .orders
        .variant_units
        .range((b, today - 27, 0)..=(b, today, u64::MAX))
    {
        *m.entry(*k).or_default() += units;
    }
    m
}

/// A variant's velocity in units/week: its 28-day units ÷ 4, counting the
/// lines that name it and the lines that name no variant but its SKU.
fn velocity_per_week(sold: &KeyMap<u64, i64>, v: &VariantRow) -> f64 {
    let by_variant = (v.id != 0)
        .then(|| sold.get(&VariantKey::variant(v.id).0).copied())
        .flatten()
        .unwrap_or(0);
    let by_sku = (v.sku != 0)
        .then(|| sold.get(&VariantKey::sku(v.sku).0).copied())
        .flatten()
        .unwrap_or(0);
    (by_variant + by_sku) as f64 / 4.0
}
