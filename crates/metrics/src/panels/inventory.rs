//! Inventory alerts: tracked variants out of stock or low, with velocity
//! (units/week over 28 days, net of refunds) and days until stockout, most
//! severe first; dropship brands one severity lower or off, by config.

use super::pulse::units_28d;
use super::{DropshipAlerts, PanelConfig};
use crate::projection::{local_day, BrandIx, Projection};
use opsdeck_domain::{BrandKind, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    OutOfStock,
    Low,
    Healthy,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StockLine {
    pub product: String,
    pub variant: String,
    pub sku: Option<String>,
    pub quantity: i64,
    pub threshold: i64,
    /// The stock state before any dropship lowering.
    pub stock_state: Severity,
    /// What the alert shows (a dropship brand's is one level lower).
    pub severity: Severity,
    pub velocity_per_week: f64,
    pub days_until_stockout: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Inventory {
    pub tracked_variants: usize,
    pub out_of_stock: usize,
    pub low: usize,
    /// Alerts, most severe first, then fewest days until stockout.
    pub alerts: Vec<StockLine>,
    pub dropship_handling: Option<DropshipAlerts>,
    /// Lots expiring within 30 days, soonest first (see `operations`).
    pub expiring_batch_count: usize,
    pub expiring_batches: Vec<super::operations::ExpiringBatch>,
}

pub fn inventory(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Inventory {
    let brand = p.brand(b);
    let today = local_day(now.as_second(), &brand.time_zone);
    let sold = units_28d(p, b, today);
    let dropship = brand.kind == BrandKind::Dropship;
    let mut out = Inventory {
        tracked_variants: 0,
        out_of_stock: 0,
        low: 0,
        alerts: vec![],
        dropship_handling: dropship.then_some(cfg.dropship_stock_alerts),
        expiring_batch_count: 0,
        expiring_batches: vec![],
    };
    for prod in p.catalog.products_of(b) {
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
            let state = if q <= 0 {
                Severity::OutOfStock
            } else if q <= threshold {
                Severity::Low
            } else {
                Severity::Healthy
            };
            match state {
                Severity::OutOfStock => out.out_of_stock += 1,
                Severity::Low => out.low += 1,
                Severity::Healthy => continue,
            }
            let severity = match (dropship, cfg.dropship_stock_alerts, state) {
                (false, _, s) => s,
                (true, DropshipAlerts::Off, _) => continue,
                (true, DropshipAlerts::Lower, Severity::OutOfStock) => Severity::Low,
                (true, DropshipAlerts::Lower, _) => Severity::Healthy,
            };
            let velocity = if v.sku == 0 {
                0.0
            } else {
                sold.get(&v.sku).copied().unwrap_or(0) as f64 / 4.0
            };
            out.alerts.push(StockLine {
                product: prod.title.to_string(),
                variant: v.title.to_string(),
                sku,
                quantity: q,
                threshold,
                stock_state: state,
                severity,
                velocity_per_week: velocity,
                days_until_stockout: (velocity > 0.0).then(|| (q.max(0) as f64) / (velocity / 7.0)),
            });
        }
    }
    (out.expiring_batch_count, out.expiring_batches) =
        super::operations::expiring_batches(p, b, now);
    out.alerts.sort_by(|a, b| {
        a.severity
            .cmp(&b.severity)
            .then(a.stock_state.cmp(&b.stock_state))
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
