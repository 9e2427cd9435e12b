//! Inventory: tracked variants of sellable products out of stock or low,
//! with velocity (units/week over 28 days, net of refunds, per variant) and
//! days until stockout, most severe first.
//!
//! One home for the stock rules: [`stock_state`] is the fact every page,
//! API and alert shows (0 units is out of stock, whatever the brand), and
//! [`stock_alert`] is the alert a variant raises — the only place where a
//! dropship brand's "lower" or "off" applies. The inventory alert
//! conditions read [`StockLine::alert`] and never recompute either.
//!
//! The playbook's stock tiers ([`stock_tier`]: critical, low, normal, high)
//! are the same two thresholds read as four bands, plus the brand's
//! overstock level: critical at or below the critical level (the level the
//! critical alert fires at), low up to the low threshold, high above the
//! overstock level (stock to review against demand). [`stock_tiers`] counts
//! a brand's variants per tier and lists the overstock, for the inventory
//! page and the morning checklist.

use super::{DropshipAlerts, PanelConfig};
use crate::projection::catalog::VariantRow;
use crate::projection::keys::KeyMap;
use crate::projection::orders::VariantKey;
use crate::projection::{local_day, BrandIx, Projection};
use opsdeck_domain::{BrandKind, Thresholds, Timestamp};
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

/// Critical at or below the brand's critical level: the critical tier and
/// the critical alert both ask this.
fn is_critical(quantity: i64, critical_level: i64) -> bool {
    quantity <= critical_level
}

/// A variant's tier in the operations playbook's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StockTier {
    /// At or below the critical level (default 4: "fewer than 5"),
    /// out of stock included.
    Critical,
    /// Above critical, at or below the low threshold (default 10).
    Low,
    /// Above low, at or below the overstock level (default 50).
    Normal,
    /// Above the overstock level: review demand.
    High,
}

impl StockTier {
    pub const ALL: [StockTier; 4] = [
        StockTier::Critical,
        StockTier::Low,
        StockTier::Normal,
        StockTier::High,
    ];

    /// How a page says it.
    pub fn label(self) -> &'static str {
        match self {
            StockTier::Critical => "critical",
            StockTier::Low => "low",
            StockTier::Normal => "normal",
            StockTier::High => "high",
        }
    }
}

/// The tier of `quantity` units: low and out of stock as [`stock_state`]
/// says with `low_threshold` (a per-variant override wins, as there), split
/// at the brand's critical level; healthy stock split at its overstock
/// level.
pub fn stock_tier(quantity: i64, low_threshold: i64, thresholds: &Thresholds) -> StockTier {
    match stock_state(quantity, low_threshold) {
        StockState::Healthy if quantity > thresholds.high_stock => StockTier::High,
        StockState::Healthy => StockTier::Normal,
        _ if is_critical(quantity, thresholds.critical_stock) => StockTier::Critical,
        _ => StockTier::Low,
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
    } else if is_critical(quantity, critical_level) {
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
    each_tracked(p, cfg, b, scope, |v| {
        out.tracked_variants += 1;
        let state = stock_state(v.quantity, v.threshold);
        match state {
            StockState::OutOfStock => out.out_of_stock += 1,
            StockState::Low => out.low += 1,
            StockState::Healthy => return,
        }
        let alert = v
            .on_sale
            .then(|| stock_alert(state, v.quantity, brand.thresholds.critical_stock, dropship))
            .flatten();
        out.alerts.push(v.line(&sold, state, alert));
    });
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

/// One tracked variant with its stock, as every stock rule reads it.
struct Tracked<'a> {
    product: &'a crate::projection::catalog::ProductRow,
    variant: &'a VariantRow,
    on_sale: bool,
    quantity: i64,
    sku: Option<String>,
    /// The low threshold: the SKU's override, else the brand's.
    threshold: i64,
}

impl Tracked<'_> {
    fn line(
        &self,
        sold: &KeyMap<u64, i64>,
        state: StockState,
        alert: Option<StockAlert>,
    ) -> StockLine {
        let velocity = velocity_per_week(sold, self.variant);
        let q = self.quantity;
        StockLine {
            product: self.product.title.to_string(),
            product_status: self.product.status.to_string(),
            variant: self.variant.title.to_string(),
            sku: self.sku.clone(),
            quantity: q,
            threshold: self.threshold,
            stock_state: state,
            alert,
            velocity_per_week: velocity,
            days_until_stockout: (velocity > 0.0).then(|| (q.max(0) as f64) / (velocity / 7.0)),
        }
    }
}

/// Calls `f` with every tracked variant (with a known quantity) of the
/// brand's products in `scope`: what the inventory panel and the stock
/// tiers both count.
fn each_tracked(
    p: &Projection,
    cfg: &PanelConfig,
    b: BrandIx,
    scope: ProductScope,
    mut f: impl FnMut(Tracked<'_>),
) {
    let low = p.brand(b).thresholds.low_stock;
    for prod in p.catalog.products_of(b) {
        let on_sale = prod.status.is_on_sale();
        if !on_sale && scope == ProductScope::OnSale {
            continue;
        }
        for v in prod.variants.iter().filter(|v| v.tracked) {
            let Some(quantity) = p.catalog.quantity(b, v) else {
                continue;
            };
            let sku = (v.sku != 0).then(|| p.syms.text(v.sku).to_string());
            let threshold = sku
                .as_ref()
                .and_then(|s| cfg.low_stock_overrides.get(s).copied())
                .unwrap_or(low);
            f(Tracked {
                product: prod,
                variant: v,
                on_sale,
                quantity,
                sku,
                threshold,
            });
        }
    }
}

/// A brand's tracked variants on sale counted per [`StockTier`], and the
/// overstock (the high tier) to review against demand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockTiers {
    pub critical: usize,
    pub low: usize,
    pub normal: usize,
    pub high: usize,
    /// The brand's overstock level (above it a variant is high).
    pub high_above: i64,
    /// The high tier's variants, most units first: review their demand
    /// (velocity and weeks of cover say how long the stock lasts).
    pub overstock: Vec<StockLine>,
}

impl StockTiers {
    /// How many variants are in `tier`.
    pub fn count(&self, tier: StockTier) -> usize {
        match tier {
            StockTier::Critical => self.critical,
            StockTier::Low => self.low,
            StockTier::Normal => self.normal,
            StockTier::High => self.high,
        }
    }
}

/// The stock tiers of brand `b` now: for the inventory page and the
/// morning checklist (issue 14).
pub fn stock_tiers(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> StockTiers {
    let brand = p.brand(b);
    let today = local_day(now.as_second(), &brand.time_zone);
    let sold = units_28d_by_variant(p, b, today);
    let mut out = StockTiers {
        critical: 0,
        low: 0,
        normal: 0,
        high: 0,
        high_above: brand.thresholds.high_stock,
        overstock: vec![],
    };
    each_tracked(p, cfg, b, ProductScope::OnSale, |v| {
        match stock_tier(v.quantity, v.threshold, &brand.thresholds) {
            StockTier::Critical => out.critical += 1,
            StockTier::Low => out.low += 1,
            StockTier::Normal => out.normal += 1,
            StockTier::High => {
                out.high += 1;
                out.overstock.push(v.line(&sold, StockState::Healthy, None));
            }
        }
    });
    out.overstock.sort_by(|a, b| {
        b.quantity
            .cmp(&a.quantity)
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
