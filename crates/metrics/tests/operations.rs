//! The ingest kinds beyond orders, catalog and helpdesk: expiring batches in
//! the inventory panel, carrier exceptions in the fulfillment panel's
//! exception rate, the operations panel — on hand-built records with a
//! fixed clock — and incremental == rebuild from the store for these kinds.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, order, ts, Rng};
use opsdeck_domain::*;
use opsdeck_metrics::panels::{self, PanelConfig, Range};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

/// Wednesday 2026-03-11 14:05 in New York.
const NOW: i64 = 1_773_252_300;

fn brands() -> Vec<Brand> {
    vec![
        brand("mavena", "America/New_York", BrandKind::Standard, true),
        brand("kumo", "Asia/Tokyo", BrandKind::Standard, true),
    ]
}

fn src() -> SourceId {
    SourceId::parse("ops").unwrap()
}

fn id(b: &str) -> BrandId {
    BrandId::parse(b).unwrap()
}

fn batch(x: &str, b: &str, lot: &str, qty: i64, expires: Option<&str>) -> AnyRecord {
    AnyRecord::InventoryBatch(InventoryBatch {
        source: src(),
        external_id: x.into(),
        brand: id(b),
        sku: format!("SKU-{lot}"),
        variant_id: None,
        lot: lot.into(),
        location_id: None,
        quantity: qty,
        expires_on: expires.map(|d| d.parse().unwrap()),
        updated_at: ts(NOW - 100),
    })
}

fn ret(x: &str, b: &str, status: ReturnStatus) -> AnyRecord {
    AnyRecord::ReturnRequest(ReturnRequest {
        source: src(),
        external_id: x.into(),
        brand: id(b),
        order_id: None,
        kind: ReturnKind::Return,
        status,
        amount: None,
        reason: None,
        requested_at: ts(NOW - 86_400),
        resolved_at: None,
        updated_at: ts(NOW - 100),
        status_history: Vec::new(),
    })
}

fn pay(x: &str, b: &str, kind: PaymentEventKind, ago: i64) -> AnyRecord {
    AnyRecord::PaymentEvent(PaymentEvent {
        source: src(),
        external_id: x.into(),
        brand: id(b),
        order_id: None,
        kind,
        amount: None,
        reason: Some("card_declined".into()),
        gateway: None,
        occurred_at: ts(NOW - ago),
        updated_at: ts(NOW - ago),
        dispute: None,
    })
}

fn review(x: &str, b: &str, status: ReviewStatus, ago: i64) -> AnyRecord {
    AnyRecord::ReviewItem(ReviewItem {
        source: src(),
        external_id: x.into(),
        brand: id(b),
        queue: "prescriptions".into(),
        status,
        order_id: None,
        subject: None,
        submitted_at: ts(NOW - ago),
        decided_at: None,
        updated_at: ts(NOW - ago),
        ocr_state: None,
        events: Vec::new(),
    })
}

fn health(x: &str, b: &str, dep: &str, status: HealthStatus, ago: i64) -> AnyRecord {
    AnyRecord::HealthCheck(HealthCheck {
        source: src(),
        external_id: x.into(),
        brand: id(b),
        dependency: dep.into(),
        status,
        latency_ms: None,
        detail: None,
        checked_at: ts(NOW - ago),
        updated_at: ts(NOW - ago),
    })
}

fn track(x: &str, order: &str, status: TrackingStatus, ago: i64) -> AnyRecord {
    AnyRecord::TrackingEvent(TrackingEvent {
        source: SourceId::parse("shop").unwrap(),
        external_id: x.into(),
        brand: id("mavena"),
        order_id: Some(order.into()),
        fulfillment_id: None,
        tracking_number: None,
        carrier: Some("DHL".into()),
        status,
        description: None,
        location: None,
        occurred_at: ts(NOW - ago),
        updated_at: ts(NOW - ago),
    })
}

/// Two shipped, tracked, not-exception Mavena orders of 3 days ago.
fn shipped_orders() -> Vec<AnyRecord> {
    let mut rng = Rng::new(9);
    (1..=2u64)
        .map(|i| {
            let mut o = order(&mut rng, &id("mavena"), i, NOW - 3 * 86_400, NOW);
            o.test = false;
            o.cancelled_at = None;
            o.fulfillment_status = OrderFulfillmentStatus::Fulfilled;
            o.fulfillments.truncate(1);
            if o.fulfillments.is_empty() {
                let mut r2 = Rng::new(1);
                let mut other = order(&mut r2, &id("mavena"), 0, NOW - 40 * 86_400, NOW);
                o.fulfillments = std::mem::take(&mut other.fulfillments);
            }
            let f = &mut o.fulfillments[0];
            f.shipment_status = Some(ShipmentStatus::InTransit);
            f.delivered_at = None;
            f.created_at = ts(NOW - 2 * 86_400);
            AnyRecord::Order(o)
        })
        .collect()
}

fn records() -> Vec<AnyRecord> {
    let mut r = vec![
        // Today is 2026-03-11 in New York: expired, in 30 days, in 31 days,
        // empty, no expiry.
        batch("b1", "mavena", "L1", 10, Some("2026-03-20")),
        batch("b2", "mavena", "L2", 5, Some("2026-03-09")),
        batch("b3", "mavena", "L3", 5, Some("2026-04-10")),
        batch("b4", "mavena", "L4", 5, Some("2026-04-11")),
        batch("b5", "mavena", "L5", 0, Some("2026-03-12")),
        batch("b6", "mavena", "L6", 9, None),
        batch("b7", "kumo", "K1", 3, Some("2026-03-15")),
        ret("r1", "mavena", ReturnStatus::Requested),
        ret("r2", "mavena", ReturnStatus::Received),
        ret("r3", "mavena", ReturnStatus::Refunded),
        ret("r4", "kumo", ReturnStatus::Approved),
        pay("p1", "mavena", PaymentEventKind::PaymentFailed, 3600),
        pay("p2", "mavena", PaymentEventKind::PaymentFailed, 86_401),
        pay("p3", "mavena", PaymentEventKind::Chargeback, 60),
        pay("p4", "mavena", PaymentEventKind::Captured, 60),
        review("v1", "mavena", ReviewStatus::Open, 7200),
        review("v2", "mavena", ReviewStatus::Open, 600),
        review("v3", "mavena", ReviewStatus::Approved, 9000),
        // Per-run ids: the latest check of each dependency decides.
        health("h1", "mavena", "pharmacy-api", HealthStatus::Failed, 600),
        health("h2", "mavena", "pharmacy-api", HealthStatus::Ok, 60),
        health("h3", "mavena", "payments", HealthStatus::Ok, 600),
        health("h4", "mavena", "payments", HealthStatus::Failed, 60),
        // Order 1: a courier failure; order 2: in transit only.
        track("e1", "1", TrackingStatus::CourierFailure, 86_000),
        track("e2", "1", TrackingStatus::NonDeliveryReport, 80_000),
        track("e3", "2", TrackingStatus::InTransit, 80_000),
    ];
    r.extend(shipped_orders());
    r
}

fn apply_all(p: &mut Projection, records: &[AnyRecord]) {
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
}

#[test]
fn expiring_batches_operations_and_tracking_exceptions() {
    let mut p = Projection::new(brands(), SubscriptionRules::default());
    apply_all(&mut p, &records());
    let now = ts(NOW);
    assert_eq!(p.skipped, 0, "every operations kind is projected");
    let inv = panels::inventory::inventory(&p, &PanelConfig::default(), 0, now);
    let lots: Vec<(&str, i32)> = inv
        .expiring_batches
        .iter()
        .map(|b| (b.lot.as_str(), b.days_left))
        .collect();
    assert_eq!(lots, vec![("L2", -2), ("L1", 9), ("L3", 30)]);
    assert_eq!(inv.expiring_batch_count, 3);
    let kumo = panels::inventory::inventory(&p, &PanelConfig::default(), 1, now);
    assert_eq!(kumo.expiring_batches.len(), 1);

    let ops = panels::operations::operations(&p, &PanelConfig::default(), 0, now);
    assert_eq!(ops.open_returns, 2, "requested and received");
    assert_eq!(ops.failed_payments_24h, 1, "the other is 24 h + 1 s old");
    assert_eq!(ops.chargebacks_24h, 1);
    assert_eq!(ops.review_queue_pending, 2);
    assert_eq!(ops.oldest_review_submitted_at, Some(ts(NOW - 7200)));
    let failing: Vec<&str> = ops
        .failing_health_checks
        .iter()
        .map(|c| c.dependency.as_str())
        .collect();
    assert_eq!(failing, vec!["payments"]);
    assert_eq!(ops.health_checked_dependencies, 2);
    assert_eq!(
        panels::operations::operations(&p, &PanelConfig::default(), 1, now).open_returns,
        1
    );

    // Two shipments, neither flagged by the shop; order 1's carrier
    // reported two exceptions: counted once.
    let f = panels::fulfillment::fulfillment(&p, 0, now);
    let shipments: i64 = f.carriers.iter().map(|c| c.shipments).sum();
    assert_eq!(shipments, 2);
    assert_eq!(f.exception_rate, Some(0.5));

    // Updates replace: the return refunded, the review approved, the
    // failed dependency recovered, the courier failure corrected.
    for (i, r) in [
        ret("r1", "mavena", ReturnStatus::Refunded),
        review("v1", "mavena", ReviewStatus::Approved, 7200),
        health("h5", "mavena", "payments", HealthStatus::Ok, 1),
        track("e1", "1", TrackingStatus::InTransit, 86_000),
        track("e2", "1", TrackingStatus::Delivered, 80_000),
        batch("b2", "mavena", "L2", 0, Some("2026-03-09")),
    ]
    .into_iter()
    .enumerate()
    {
        p.apply(&Change {
            seq: 1000 + i as u64,
            record: r,
        });
    }
    let ops = panels::operations::operations(&p, &PanelConfig::default(), 0, now);
    assert_eq!(
        (ops.open_returns, ops.review_queue_pending),
        (1, 1),
        "{ops:?}"
    );
    assert!(ops.failing_health_checks.is_empty());
    let f = panels::fulfillment::fulfillment(&p, 0, now);
    assert_eq!(f.exception_rate, Some(0.0));
    let inv = panels::inventory::inventory(&p, &PanelConfig::default(), 0, now);
    assert_eq!(inv.expiring_batch_count, 2, "an emptied lot is not listed");
}

/// Versions of the operations records (each changed once, interleaved),
/// applied change by change through the store, equal a rebuild.
#[tokio::test]
async fn operations_kinds_incremental_equals_rebuild() {
    let mut recs = records();
    let mut later = vec![
        ret("r2", "mavena", ReturnStatus::Rejected),
        review("v2", "mavena", ReviewStatus::Rejected, 600),
        health("h2", "mavena", "pharmacy-api", HealthStatus::Failed, 30),
        track("e3", "2", TrackingStatus::ReturnedToSender, 70_000),
        batch("b1", "mavena", "L1", 4, Some("2026-05-01")),
        pay("p1", "mavena", PaymentEventKind::Captured, 3000),
    ];
    for r in &mut later {
        bump(r);
    }
    recs.splice(5..5, later);
    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    let mut inc = Projection::new(brands(), SubscriptionRules::default());
    for chunk in recs.chunks(3) {
        store.upsert(chunk, None).await.unwrap();
        inc.catch_up(store.as_ref()).await.unwrap();
    }
    let rebuilt = Projection::build(store.as_ref(), brands(), SubscriptionRules::default())
        .await
        .unwrap();
    assert!(inc == rebuilt, "projections differ");
    let now = ts(NOW);
    let cfg = PanelConfig::default();
    assert_eq!(
        panels::dashboard(&inc, &cfg, Range::Days { days: 7 }, now),
        panels::dashboard(&rebuilt, &cfg, Range::Days { days: 7 }, now)
    );
    for b in 0..2 {
        assert_eq!(
            panels::operations::operations(&inc, &PanelConfig::default(), b, now),
            panels::operations::operations(&rebuilt, &PanelConfig::default(), b, now)
        );
    }
    let ops = panels::operations::operations(&rebuilt, &PanelConfig::default(), 0, now);
    assert_eq!(ops.open_returns, 1, "r1 open, r2 rejected later");
    assert_eq!(ops.failed_payments_24h, 0, "p1 captured after all");
    assert_eq!(ops.failing_health_checks.len(), 2);
}

/// A newer version of a record (the store keeps the newer).
fn bump(r: &mut AnyRecord) {
    let later = |t: &mut Timestamp| *t = ts(t.as_second() + 10);
    match r {
        AnyRecord::ReturnRequest(x) => later(&mut x.updated_at),
        AnyRecord::ReviewItem(x) => later(&mut x.updated_at),
        AnyRecord::HealthCheck(x) => later(&mut x.updated_at),
        AnyRecord::TrackingEvent(x) => later(&mut x.updated_at),
        AnyRecord::InventoryBatch(x) => later(&mut x.updated_at),
        AnyRecord::PaymentEvent(x) => later(&mut x.updated_at),
        _ => {}
    }
}
