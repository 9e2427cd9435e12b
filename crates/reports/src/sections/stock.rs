//! Stock and catalog: inventory alerts and catalog health.

use super::{col, count, live, opt_text, percent, table, text, wire_name, SectionId};
use crate::document::{Cell, ColumnKind as K, Section};
use opsdeck_metrics::panels::catalog::Catalog;
use opsdeck_metrics::panels::inventory::Inventory;
use opsdeck_metrics::panels::BrandPanel;

/// Each brand's stock counts and the variants that raise an alert.
pub fn inventory(brands: &[BrandPanel<Inventory>]) -> Section {
    let id = SectionId::Inventory;
    let mut section = Section::new(id.as_str(), id.title());
    let live = live(&mut section, brands);
    let mut counts = table(
        "Stock",
        vec![
            col("Brand", K::Text),
            col("Tracked variants", K::Count),
            col("Out of stock", K::Count),
            col("Low", K::Count),
            col("Expiring batches", K::Count),
        ],
    );
    let mut alerts = table(
        "Alerts",
        vec![
            col("Brand", K::Text),
            col("Product", K::Text),
            col("Variant", K::Text),
            col("SKU", K::Text),
            col("Quantity", K::Count),
            col("Threshold", K::Count),
            col("State", K::Text),
            col("Alert", K::Text),
            col("Stock-out in", K::Duration),
        ],
    );
    for (brand, inv) in live {
        counts.rows.push(vec![
            text(brand),
            count(inv.tracked_variants),
            count(inv.out_of_stock),
            count(inv.low),
            count(inv.expiring_batch_count),
        ]);
        for a in &inv.alerts {
            alerts.rows.push(vec![
                text(brand),
                text(a.product.as_str()),
                text(a.variant.as_str()),
                opt_text(a.sku.as_deref()),
                count(a.quantity),
                count(a.threshold),
                text(wire_name(&a.stock_state)),
                a.alert.map_or(Cell::Empty, |al| text(wire_name(&al))),
                a.days_until_stockout.map_or(Cell::Empty, |d| {
                    Cell::Duration((d * 86_400.0).round() as i64)
                }),
            ]);
        }
    }
    section.tables = vec![counts, alerts];
    section
}

/// Each brand's products by status, their listing problems and health.
pub fn catalog(brands: &[BrandPanel<Catalog>]) -> Section {
    let id = SectionId::Catalog;
    let mut section = Section::new(id.as_str(), id.title());
    let live = live(&mut section, brands);
    let mut counts = table(
        "Products",
        vec![
            col("Brand", K::Text),
            col("Active", K::Count),
            col("Unlisted", K::Count),
            col("Draft", K::Count),
            col("Archived", K::Count),
            col("Other", K::Count),
            col("Missing images", K::Count),
            col("Missing description", K::Count),
            col("Zero price", K::Count),
            col("Health", K::Percent),
        ],
    );
    let mut issues = table(
        "Products with issues",
        vec![
            col("Brand", K::Text),
            col("Product", K::Text),
            col("Status", K::Text),
            col("Issues", K::Text),
        ],
    );
    for (brand, c) in live {
        counts.rows.push(vec![
            text(brand),
            count(c.active),
            count(c.unlisted),
            count(c.draft),
            count(c.archived),
            count(c.other),
            count(c.missing_images),
            count(c.missing_description),
            count(c.zero_price),
            percent(c.health_score),
        ]);
        for p in c.issues.iter().chain(&c.off_sale_issues) {
            issues.rows.push(vec![
                text(brand),
                text(p.product.as_str()),
                text(p.status.as_str()),
                text(p.issues.join(", ")),
            ]);
        }
    }
    section.tables = vec![counts, issues];
    section
}
