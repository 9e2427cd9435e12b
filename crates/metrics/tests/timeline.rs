//! The order timeline on a hand-built order: paid after it was placed, one
//! shipment with a carrier exception (courier failure) and a late delivery,
//! a where-is-my-order ticket quoting its number, and a refund.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, order, ticket, ts, Rng};
use opsdeck_domain::*;
use opsdeck_metrics::panels::timeline::{timeline, EventKind};
use opsdeck_metrics::projection::{Projection, Stage, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

fn t(s: &str) -> i64 {
    s.parse::<Timestamp>().unwrap().as_second()
}

fn apply_all(p: &mut Projection, records: &[AnyRecord]) {
    for (i, r) in records.iter().enumerate() {
        p.apply(&Change {
            seq: i as u64 + 1,
            record: r.clone(),
        });
    }
}

const NOW: &str = "2026-03-11T18:05:00Z";

fn tracking(id: &str, order: &str, status: TrackingStatus, at: &str, what: &str) -> AnyRecord {
    AnyRecord::TrackingEvent(TrackingEvent {
        source: SourceId::parse("shop").unwrap(),
        external_id: id.into(),
        brand: BrandId::parse("mavena").unwrap(),
        order_id: Some(order.into()),
        fulfillment_id: Some("f42".into()),
        tracking_number: Some("1Z42".into()),
        carrier: Some("UPS".into()),
        status,
        description: (!what.is_empty()).then(|| what.to_string()),
        location: None,
        occurred_at: ts(t(at)),
        updated_at: ts(t(at)),
    })
}

/// Order #1042 of mavena (New York), placed 2026-03-01 10:00 local.
fn hand_built() -> Vec<AnyRecord> {
    let now = t(NOW);
    let b = BrandId::parse("mavena").unwrap();
    let mut rng = Rng::new(5);
    let mut o = order(&mut rng, &b, 42, t("2026-03-01T15:00:00Z"), now);
    o.test = false;
    o.cancelled_at = None;
    o.number = Some(1042);
    o.name = "#1042".into();
    o.email = Some("ada@example.com".into());
    o.processed_at = Some(ts(t("2026-03-01T15:10:00Z")));
    o.financial_status = FinancialStatus::PartiallyRefunded;
    o.total_price = Money::new(80_00, Currency::USD);
    for l in &mut o.line_items {
        l.fulfilled_quantity = None;
    }
    o.fulfillment_status = OrderFulfillmentStatus::Fulfilled;
    o.fulfillments = vec![opsdeck_domain::Fulfillment {
        external_id: "f42".into(),
        status: FulfillmentState::Success,
        shipment_status: Some(ShipmentStatus::Delivered),
        tracking_company: Some("UPS".into()),
        tracking_numbers: vec!["1Z42".into()],
        tracking_urls: vec![],
        created_at: ts(t("2026-03-02T12:00:00Z")),
        updated_at: ts(t("2026-03-07T16:00:00Z")),
        // Promised Thursday the 5th (noon local), delivered Saturday the 7th.
        estimated_delivery_at: Some(ts(t("2026-03-05T17:00:00Z"))),
        delivered_at: Some(ts(t("2026-03-07T16:00:00Z"))),
    }];
    o.refunds = vec![Refund {
        external_id: "r42".into(),
        created_at: ts(t("2026-03-08T15:00:00Z")),
        amount: Money::new(15_00, Currency::USD),
        line_items: vec![],
        note: None,
    }];
    let mut tk = ticket(&mut rng, &b, 7, t("2026-03-06T14:00:00Z"), now, 10);
    if let AnyRecord::Ticket(tt) = &mut tk[0] {
        tt.subject = Some("Where is my order #1042?".into());
        tt.tags = vec!["wismo".into()];
        tt.spam = false;
        tt.trashed_at = None;
    }
    tk.retain(|r| !matches!(r, AnyRecord::SatisfactionSurvey(_)));
    let mut recs = vec![
        // A carrier event may arrive before its order.
        tracking(
            "e1",
            "42",
            TrackingStatus::InTransit,
            "2026-03-03T09:00:00Z",
            "",
        ),
        AnyRecord::Order(o),
        tracking(
            "e2",
            "42",
            TrackingStatus::CourierFailure,
            "2026-03-05T14:00:00Z",
            "Addressee unknown",
        ),
        tracking(
            "e3",
            "42",
            TrackingStatus::Delivered,
            "2026-03-07T16:00:00Z",
            "",
        ),
        // Another order's event stays off this timeline.
        tracking(
            "e4",
            "43",
            TrackingStatus::InTransit,
            "2026-03-04T09:00:00Z",
            "",
        ),
    ];
    recs.extend(tk);
    recs
}

#[test]
fn timeline_of_a_late_order_with_a_courier_failure() {
    let brands = vec![brand(
        "mavena",
        "America/New_York",
        BrandKind::Standard,
        true,
    )];
    let mut p = Projection::new(brands, SubscriptionRules::default());
    apply_all(&mut p, &hand_built());
    let now = ts(t(NOW));
    assert!(timeline(&p, "shop", "nope", now).is_none(), "unknown order");
    let tl = timeline(&p, "shop", "42", now).unwrap();
    let kinds: Vec<(EventKind, String)> = tl
        .events
        .iter()
        .map(|e| (e.kind, e.at.to_string()))
        .collect();
    let kinds: Vec<(EventKind, &str)> = kinds.iter().map(|(k, a)| (*k, a.as_str())).collect();
    assert_eq!(
        kinds,
        vec![
            (EventKind::Placed, "2026-03-01T15:00:00Z"),
            (EventKind::Paid, "2026-03-01T15:10:00Z"),
            (EventKind::Shipped, "2026-03-02T12:00:00Z"),
            (EventKind::Tracking, "2026-03-03T09:00:00Z"),
            (EventKind::Tracking, "2026-03-05T14:00:00Z"),
            (EventKind::Inquiry, "2026-03-06T14:00:00Z"),
            (EventKind::Tracking, "2026-03-07T16:00:00Z"),
            (EventKind::Delivered, "2026-03-07T16:00:00Z"),
            (EventKind::Refund, "2026-03-08T15:00:00Z"),
        ]
    );
    let failure = &tl.events[4];
    assert!(failure.exception);
    assert_eq!(failure.detail, "UPS · courier_failure · Addressee unknown");
    assert!(!tl.events[3].exception, "in transit is not an exception");
    assert_eq!(tl.events[8].amount.unwrap().minor, 15_00);
    assert_eq!(tl.events[1].amount.unwrap().minor, 80_00);
    assert_eq!(tl.order, "#1042");
    assert_eq!(tl.stage, Stage::Delivered);
    assert_eq!(
        tl.estimated_delivery_at,
        Some(ts(t("2026-03-05T17:00:00Z")))
    );
    assert_eq!(tl.delivered_at, Some(ts(t("2026-03-07T16:00:00Z"))));
    assert_eq!(tl.days_late, Some(2), "promised the 5th, delivered the 7th");
    assert!(!tl.cancelled);

    // An update replaces what the timeline shows: the event e2 corrected to
    // "delayed", the refund withdrawn, the order cancelled.
    let mut recs = hand_built();
    if let AnyRecord::TrackingEvent(e) = &mut recs[2] {
        e.status = TrackingStatus::OutForDelivery;
        e.description = None;
        e.updated_at = ts(e.updated_at.as_second() + 1);
    }
    if let AnyRecord::Order(o) = &mut recs[1] {
        o.refunds.clear();
        o.cancelled_at = Some(ts(t("2026-03-09T12:00:00Z")));
    }
    p.apply(&Change {
        seq: 100,
        record: recs[2].clone(),
    });
    p.apply(&Change {
        seq: 101,
        record: recs[1].clone(),
    });
    let tl = timeline(&p, "shop", "42", now).unwrap();
    assert!(tl.events.iter().all(|e| !e.exception));
    assert!(tl.events.iter().all(|e| e.kind != EventKind::Refund));
    assert_eq!(tl.events.last().unwrap().kind, EventKind::Cancelled);
    assert!(tl.cancelled);
}

#[test]
fn undelivered_order_is_late_until_today() {
    let brands = vec![brand(
        "mavena",
        "America/New_York",
        BrandKind::Standard,
        true,
    )];
    let mut p = Projection::new(brands, SubscriptionRules::default());
    let mut recs = hand_built();
    if let AnyRecord::Order(o) = &mut recs[1] {
        o.fulfillments[0].delivered_at = None;
        o.fulfillments[0].shipment_status = Some(ShipmentStatus::InTransit);
        o.refunds.clear();
        o.processed_at = o.created_at.into();
        o.financial_status = FinancialStatus::Pending;
    }
    apply_all(&mut p, &recs[..2]);
    let tl = timeline(&p, "shop", "42", ts(t(NOW))).unwrap();
    assert_eq!(tl.delivered_at, None);
    // Promised Thursday 5 March; today is Wednesday 11 March in New York.
    assert_eq!(tl.days_late, Some(6));
    assert!(
        tl.events.iter().all(|e| e.kind != EventKind::Paid),
        "a pending order has not been paid"
    );
}
