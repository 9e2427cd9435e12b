//! Inventory (issue 10.B1, B2, B4): one stock state for the panel, the API
//! and the alerts; a dropship brand's "lower" changes only the alert; only
//! products on sale count; velocity is counted per variant, so a variant
//! without a SKU sells too. The playbook's stock tiers (issue 14) at their
//! boundaries, with a brand's own levels and a SKU's low override.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ts, Rng};
use opsdeck_domain::*;
use opsdeck_metrics::panels::inventory::{
    inventory, inventory_of, stock_alert, stock_state, stock_tier, stock_tiers, ProductScope,
    StockAlert, StockLine, StockState, StockTier,
};
use opsdeck_metrics::panels::{DropshipAlerts, PanelConfig};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

const NOW: i64 = 1_773_252_300;

fn variant(id: &str, sku: Option<&str>, stock: i64) -> Variant {
    Variant {
        external_id: id.into(),
        title: format!("Variant {id}"),
        sku: sku.map(String::from),
        price: Money::new(1500, Currency::USD),
        inventory_item_id: None,
        inventory_quantity: Some(stock),
        inventory_tracked: true,
    }
}

fn product(brand: &str, id: &str, status: ProductStatus, variants: Vec<Variant>) -> AnyRecord {
    AnyRecord::Product(Product {
        source: SourceId::parse("shop").unwrap(),
        external_id: id.into(),
        brand: BrandId::parse(brand).unwrap(),
        title: format!("Product {id}"),
        handle: None,
        status,
        body_html: Some("<p>Soft cotton</p>".into()),
        image_count: 1,
        vendor: None,
        product_type: None,
        tags: vec![],
        created_at: ts(NOW - 86_400),
        updated_at: ts(NOW - 86_400),
        deleted_at: None,
        variants,
    })
}

/// A non-test order of `brand` created `days_ago`, with lines
/// (line id, variant id, sku, quantity) and refunded (line id, units).
fn order(
    brand: &str,
    id: u64,
    days_ago: i64,
    lines: &[(&str, Option<&str>, Option<&str>, i64)],
    refunded: &[(&str, i64)],
    cancelled: bool,
) -> AnyRecord {
    let b = BrandId::parse(brand).unwrap();
    let created = NOW - days_ago * 86_400 - 3600;
    let mut o = gen::order(&mut Rng::new(id), &b, id, created, NOW);
    o.test = false;
    o.cancelled_at = cancelled.then(|| ts(created + 60));
    o.line_items = lines
        .iter()
        .map(|(line, v, sku, qty)| LineItem {
            external_id: line.to_string(),
            product_id: None,
            variant_id: v.map(String::from),
            sku: sku.map(String::from),
            title: "Item".into(),
            variant_title: None,
            quantity: *qty,
            price: Money::new(1000, Currency::USD),
            fulfilled_quantity: None,
        })
        .collect();
    o.refunds = if refunded.is_empty() {
        vec![]
    } else {
        vec![Refund {
            external_id: format!("r{id}"),
            created_at: ts(created + 600),
            amount: Money::new(1000, Currency::USD),
            line_items: refunded
                .iter()
                .map(|(l, q)| RefundLineItem {
                    line_item_id: l.to_string(),
                    quantity: *q,
                })
                .collect(),
            note: None,
        }]
    };
    AnyRecord::Order(o)
}

fn projection(records: &[AnyRecord]) -> Projection {
    let brands = vec![
        brand("mavena", "America/New_York", BrandKind::Standard, true),
        brand("kumo", "America/New_York", BrandKind::Dropship, true),
    ];
    let mut p = Projection::new(brands, SubscriptionRules::default());
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
    p
}

fn line<'a>(lines: &'a [StockLine], variant: &str) -> &'a StockLine {
    lines
        .iter()
        .find(|l| l.variant == format!("Variant {variant}"))
        .unwrap_or_else(|| panic!("no line for {variant}: {lines:#?}"))
}

#[test]
fn stock_state_is_the_fact_for_every_brand() {
    assert_eq!(stock_state(0, 10), StockState::OutOfStock);
    assert_eq!(stock_state(-2, 10), StockState::OutOfStock);
    assert_eq!(stock_state(1, 10), StockState::Low);
    assert_eq!(stock_state(10, 10), StockState::Low);
    assert_eq!(stock_state(11, 10), StockState::Healthy);
    // The alert: critical at the critical level, low above it; a dropship
    // brand's one tier lower, or off.
    let lower = Some(DropshipAlerts::Lower);
    let off = Some(DropshipAlerts::Off);
    assert_eq!(
        stock_alert(StockState::OutOfStock, 0, 3, None),
        Some(StockAlert::Critical)
    );
    assert_eq!(
        stock_alert(StockState::Low, 3, 3, None),
        Some(StockAlert::Critical)
    );
    assert_eq!(
        stock_alert(StockState::Low, 4, 3, None),
        Some(StockAlert::Low)
    );
    assert_eq!(stock_alert(StockState::Healthy, 40, 3, None), None);
    assert_eq!(
        stock_alert(StockState::OutOfStock, 0, 3, lower),
        Some(StockAlert::Low)
    );
    assert_eq!(stock_alert(StockState::Low, 4, 3, lower), None);
    assert_eq!(stock_alert(StockState::OutOfStock, 0, 3, off), None);
}

#[test]
fn a_dropship_brand_shows_its_true_stock_and_only_the_alert_is_lowered() {
    let p = projection(&[
        product(
            "kumo",
            "k",
            ProductStatus::Active,
            vec![
                variant("empty", Some("K-0"), 0),
                variant("one", Some("K-1"), 1),
                variant("five", Some("K-5"), 5),
                variant("plenty", Some("K-50"), 50),
            ],
        ),
        product(
            "mavena",
            "m",
            ProductStatus::Active,
            vec![variant("m-empty", Some("M-0"), 0)],
        ),
    ]);
    let now = ts(NOW);
    let lower = PanelConfig::default();
    let inv = inventory(&p, &lower, 1, now);
    // The fact: 0 units is out of stock, 1 of 10 is low (the panel once
    // showed "low" and "healthy" here).
    assert_eq!(
        line(&inv.alerts, "empty").stock_state,
        StockState::OutOfStock
    );
    assert_eq!(line(&inv.alerts, "one").stock_state, StockState::Low);
    assert_eq!(line(&inv.alerts, "five").stock_state, StockState::Low);
    assert_eq!((inv.out_of_stock, inv.low, inv.tracked_variants), (1, 2, 4));
    // The alert: one tier lower (critical → low, low → none).
    assert_eq!(line(&inv.alerts, "empty").alert, Some(StockAlert::Low));
    assert_eq!(line(&inv.alerts, "one").alert, Some(StockAlert::Low));
    assert_eq!(line(&inv.alerts, "five").alert, None);
    // A standard brand's empty variant is critical.
    let m = inventory(&p, &lower, 0, now);
    assert_eq!(line(&m.alerts, "m-empty").alert, Some(StockAlert::Critical));

    // Off: no alert, and still the true state on the panel.
    let off = PanelConfig {
        dropship_stock_alerts: DropshipAlerts::Off,
        ..PanelConfig::default()
    };
    let inv = inventory(&p, &off, 1, now);
    assert_eq!(
        line(&inv.alerts, "empty").stock_state,
        StockState::OutOfStock
    );
    assert_eq!(line(&inv.alerts, "empty").alert, None);
    assert_eq!((inv.out_of_stock, inv.low), (1, 2));
}

#[test]
fn drafts_and_archived_products_count_only_behind_the_all_statuses_filter() {
    let p = projection(&[
        product(
            "mavena",
            "a",
            ProductStatus::Active,
            vec![variant("a", Some("A"), 0)],
        ),
        product(
            "mavena",
            "u",
            ProductStatus::Unlisted,
            vec![variant("u", Some("U"), 2)],
        ),
        product(
            "mavena",
            "d",
            ProductStatus::Draft,
            vec![variant("d", Some("D"), 0)],
        ),
        product(
            "mavena",
            "x",
            ProductStatus::Archived,
            vec![variant("x", Some("X"), 1)],
        ),
    ]);
    let cfg = PanelConfig::default();
    let inv = inventory(&p, &cfg, 0, ts(NOW));
    assert_eq!((inv.tracked_variants, inv.out_of_stock, inv.low), (2, 1, 1));
    let names: Vec<&str> = inv.alerts.iter().map(|l| l.variant.as_str()).collect();
    assert_eq!(names, vec!["Variant a", "Variant u"]);

    let all = inventory_of(&p, &cfg, 0, ts(NOW), ProductScope::All);
    assert_eq!((all.tracked_variants, all.out_of_stock, all.low), (4, 2, 2));
    // Shown with their status, and never alerted.
    let draft = line(&all.alerts, "d");
    assert_eq!(
        (draft.product_status.as_str(), draft.alert),
        ("draft", None)
    );
    assert_eq!(line(&all.alerts, "x").alert, None);
    assert_eq!(line(&all.alerts, "a").alert, Some(StockAlert::Critical));
}

#[test]
fn velocity_is_counted_per_variant_even_without_a_sku() {
    let p = projection(&[
        product(
            "mavena",
            "p",
            ProductStatus::Active,
            vec![
                variant("nosku", None, 4),
                variant("withsku", Some("W-1"), 4),
                variant("skuonly", Some("S-1"), 4),
            ],
        ),
        // 10 units of the SKU-less variant, 2 of them refunded: 8 net.
        order(
            "mavena",
            1,
            3,
            &[("l1", Some("nosku"), None, 10)],
            &[("l1", 2)],
            false,
        ),
        // 6 units of the variant with a SKU, named by variant id.
        order(
            "mavena",
            2,
            10,
            &[("l2", Some("withsku"), Some("W-1"), 6)],
            &[],
            false,
        ),
        // Older than 28 days, and a cancelled order: neither counts.
        order(
            "mavena",
            3,
            40,
            &[("l3", Some("withsku"), Some("W-1"), 50)],
            &[],
            false,
        ),
        order(
            "mavena",
            4,
            2,
            &[("l4", Some("nosku"), None, 50)],
            &[],
            true,
        ),
        // A line naming no variant, only the SKU (a custom platform's).
        order("mavena", 5, 1, &[("l5", None, Some("S-1"), 12)], &[], false),
    ]);
    let inv = inventory(&p, &PanelConfig::default(), 0, ts(NOW));
    let nosku = line(&inv.alerts, "nosku");
    assert_eq!(nosku.velocity_per_week, 2.0, "8 units over 4 weeks");
    assert_eq!(nosku.days_until_stockout, Some(14.0));
    assert_eq!(line(&inv.alerts, "withsku").velocity_per_week, 1.5);
    assert_eq!(line(&inv.alerts, "skuonly").velocity_per_week, 3.0);
}

#[test]
fn top_sku_stock_counts_only_products_on_sale() {
    // The same SKU on an empty active product and on a stocked draft: the
    // top-SKU cover reads the stock on sale, so the seller is out of stock.
    let p = projection(&[
        product(
            "mavena",
            "a",
            ProductStatus::Active,
            vec![variant("a", Some("TOP"), 0)],
        ),
        product(
            "mavena",
            "d",
            ProductStatus::Draft,
            vec![variant("d", Some("TOP"), 50)],
        ),
        order(
            "mavena",
            1,
            0,
            &[("l1", Some("a"), Some("TOP"), 3)],
            &[],
            false,
        ),
    ]);
    let pulse = opsdeck_metrics::panels::pulse::pulse(&p, &PanelConfig::default(), 0, ts(NOW));
    let top = pulse
        .top_skus_today
        .iter()
        .find(|s| s.sku == "TOP")
        .expect("TOP sold today");
    assert_eq!(top.stock, Some(0));
    assert!(top.out_of_stock);
}

#[test]
fn stock_tiers_meet_the_playbook_at_their_boundaries() {
    let t = Thresholds::defaults_for(&BrandKind::Standard);
    let tier = |q: i64| stock_tier(q, t.low_stock, &t);
    // critical < 5, low 5–10, normal 11–50, high > 50.
    for (q, want) in [
        (-1, StockTier::Critical),
        (0, StockTier::Critical),
        (4, StockTier::Critical),
        (5, StockTier::Low),
        (10, StockTier::Low),
        (11, StockTier::Normal),
        (50, StockTier::Normal),
        (51, StockTier::High),
    ] {
        assert_eq!(tier(q), want, "{q} units");
    }
    // The critical tier is where the critical alert fires: one rule.
    assert_eq!(
        stock_alert(StockState::Low, 4, t.critical_stock, None),
        Some(StockAlert::Critical)
    );
    assert_eq!(
        stock_alert(StockState::Low, 5, t.critical_stock, None),
        Some(StockAlert::Low)
    );
    // A brand's own levels move every boundary.
    let own = Thresholds {
        critical_stock: 2,
        low_stock: 20,
        high_stock: 200,
        ..t.clone()
    };
    for (q, want) in [
        (2, StockTier::Critical),
        (3, StockTier::Low),
        (20, StockTier::Low),
        (21, StockTier::Normal),
        (200, StockTier::Normal),
        (201, StockTier::High),
    ] {
        assert_eq!(stock_tier(q, own.low_stock, &own), want, "{q} units");
    }
    // A SKU's low override wins over the brand's, as for the stock state.
    assert_eq!(stock_tier(8, 6, &t), StockTier::Normal);
}

#[test]
fn stock_tiers_count_a_brands_variants_and_list_its_overstock() {
    let mut own = brand("kumo", "America/New_York", BrandKind::Standard, true);
    own.thresholds.high_stock = 30;
    let brands = vec![
        brand("mavena", "America/New_York", BrandKind::Standard, true),
        own,
    ];
    let mut p = Projection::new(brands, SubscriptionRules::default());
    let records = [
        product(
            "mavena",
            "m",
            ProductStatus::Active,
            vec![
                variant("m4", Some("M-4"), 4),
                variant("m5", Some("M-5"), 5),
                variant("m10", Some("M-10"), 10),
                variant("m11", Some("M-11"), 11),
                variant("m50", Some("M-50"), 50),
                variant("m51", Some("M-51"), 51),
                variant("m90", Some("M-90"), 90),
            ],
        ),
        // Drafts are not on sale: not counted.
        product(
            "mavena",
            "d",
            ProductStatus::Draft,
            vec![variant("d99", Some("D-99"), 99)],
        ),
        product(
            "kumo",
            "k",
            ProductStatus::Active,
            vec![
                variant("k31", Some("K-31"), 31),
                variant("k30", Some("K-30"), 30),
            ],
        ),
    ];
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
    let now = ts(NOW);
    let m = stock_tiers(&p, &PanelConfig::default(), 0, now);
    assert_eq!((m.critical, m.low, m.normal, m.high), (1, 2, 2, 2));
    assert_eq!(m.high_above, 50);
    let over: Vec<(&str, i64)> = m
        .overstock
        .iter()
        .map(|l| (l.variant.as_str(), l.quantity))
        .collect();
    assert_eq!(over, [("Variant m90", 90), ("Variant m51", 51)]);
    // Kumo reviews demand above its own 30.
    let k = stock_tiers(&p, &PanelConfig::default(), 1, now);
    assert_eq!((k.normal, k.high, k.high_above), (1, 1, 30));
    assert_eq!(k.overstock[0].variant, "Variant k31");
    assert_eq!(k.count(StockTier::High), 1);
}
