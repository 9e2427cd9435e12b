use super::*;
use crate::order::{FulfillmentState, LineItem, ShipmentStatus};
use crate::Currency;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn order(updated: &str) -> Order {
    let usd = Money::zero(Currency::USD);
    Order {
        source: SourceId::parse("ingest-pharma").unwrap(),
        external_id: "1042".into(),
        brand: BrandId::parse("pharma").unwrap(),
        name: "#1042".into(),
        number: None,
        created_at: ts("2026-06-01T10:00:00Z"),
        updated_at: ts(updated),
        processed_at: None,
        cancelled_at: None,
        cancel_reason: None,
        closed_at: None,
        currency: Currency::USD,
        total_price: usd,
        subtotal_price: usd,
        total_discounts: usd,
        total_tax: usd,
        financial_status: FinancialStatus::Paid,
        fulfillment_status: OrderFulfillmentStatus::Unfulfilled,
        tags: vec![],
        source_name: None,
        test: false,
        email: None,
        customer: None,
        line_items: vec![],
        fulfillments: vec![],
        refunds: vec![],
    }
}

fn change(at: &str) -> OrderStatusChange {
    OrderStatusChange {
        order_id: "1042".into(),
        occurred_at: ts(at),
        financial_status: Some(FinancialStatus::Refunded),
        fulfillment_status: None,
        cancelled_at: Some(ts(at)),
        cancel_reason: Some("customer".into()),
        closed_at: None,
    }
}

fn fulfillment(id: &str, updated: &str, status: Option<ShipmentStatus>) -> Fulfillment {
    Fulfillment {
        external_id: id.into(),
        status: FulfillmentState::Success,
        shipment_status: status,
        tracking_company: Some("DHL".into()),
        tracking_numbers: vec!["JD0001".into()],
        tracking_urls: vec![],
        created_at: ts("2026-06-02T10:00:00Z"),
        updated_at: ts(updated),
        delivered_at: None,
        estimated_delivery_at: None,
    }
}

#[test]
fn newer_status_change_applies_and_moves_updated_at() {
    let mut o = order("2026-06-01T10:00:00Z");
    assert_eq!(
        change("2026-06-02T09:00:00Z").apply_to(&mut o),
        Applied::Applied
    );
    assert_eq!(o.financial_status, FinancialStatus::Refunded);
    assert!(o.is_cancelled());
    assert_eq!(
        o.fulfillment_status,
        OrderFulfillmentStatus::Unfulfilled,
        "untouched"
    );
    assert_eq!(o.updated_at, ts("2026-06-02T09:00:00Z"));
    let again = o.clone();
    assert_eq!(
        change("2026-06-02T09:00:00Z").apply_to(&mut o),
        Applied::Applied
    );
    assert_eq!(o, again, "re-sending the same change is idempotent");
}

#[test]
fn older_status_change_is_stale() {
    let mut o = order("2026-06-03T00:00:00Z");
    let before = o.clone();
    assert_eq!(
        change("2026-06-02T09:00:00Z").apply_to(&mut o),
        Applied::Stale
    );
    assert_eq!(o, before);
}

#[test]
fn fulfillments_append_replace_and_ignore_older() {
    let mut o = order("2026-06-01T10:00:00Z");
    let first = FulfillmentUpdate {
        order_id: "1042".into(),
        fulfillment: fulfillment("f1", "2026-06-02T10:00:00Z", None),
        shipped: vec![],
    };
    assert_eq!(first.apply_to(&mut o), Applied::Applied);
    assert_eq!(o.fulfillments.len(), 1);
    assert_eq!(o.updated_at, ts("2026-06-02T10:00:00Z"));
    let delivered = FulfillmentUpdate {
        order_id: "1042".into(),
        fulfillment: fulfillment(
            "f1",
            "2026-06-04T10:00:00Z",
            Some(ShipmentStatus::Delivered),
        ),
        shipped: vec![],
    };
    assert_eq!(delivered.apply_to(&mut o), Applied::Applied);
    assert_eq!(o.fulfillments.len(), 1);
    assert!(o.fulfillments[0].is_delivered());
    assert_eq!(first.apply_to(&mut o), Applied::Stale);
    assert!(
        o.fulfillments[0].is_delivered(),
        "older fulfillment ignored"
    );
}

#[test]
fn exceptions_and_expiry() {
    assert!(TrackingStatus::NonDeliveryReport.is_exception());
    assert!(TrackingStatus::parse("courier_failure").is_exception());
    assert!(!TrackingStatus::Delivered.is_exception());
    assert_eq!(TrackingStatus::parse("lost_at_sea").as_str(), "lost_at_sea");
    let batch = InventoryBatch {
        source: SourceId::parse("ingest-pharma").unwrap(),
        external_id: "lot-1".into(),
        brand: BrandId::parse("pharma").unwrap(),
        sku: "AMOX-500".into(),
        variant_id: None,
        lot: "L1".into(),
        location_id: None,
        quantity: 40,
        expires_on: Some(jiff::civil::date(2026, 7, 1)),
        updated_at: ts("2026-06-01T00:00:00Z"),
    };
    assert!(batch.expires_within(jiff::civil::date(2026, 6, 1), 30));
    assert!(!batch.expires_within(jiff::civil::date(2026, 5, 1), 30));
    assert!(PaymentEventKind::PaymentFailed.is_problem());
}

/// The one fulfillment merge (issue 10.B9): equal timestamps apply, older
/// is stale, line quantities follow whether the fulfillment ships, and a
/// re-delivery changes nothing.
#[test]
fn one_merge_equal_is_applied_older_is_stale_and_lines_follow() {
    let mut o = order("2026-06-01T10:00:00Z");
    let line = |id: &str, qty| LineItem {
        external_id: id.into(),
        product_id: None,
        variant_id: None,
        sku: Some(format!("SKU-{id}")),
        title: "Item".into(),
        variant_title: None,
        quantity: qty,
        price: Money::new(10_00, Currency::USD),
        fulfilled_quantity: None,
    };
    o.line_items = vec![line("l1", 2), line("l2", 1)];
    let shipped = vec![
        ("l1".to_string(), 2),
        ("l2".to_string(), 1),
        ("nope".to_string(), 5),
    ];
    let f = fulfillment("f1", "2026-06-02T10:00:00Z", None);
    assert_eq!(o.merge_fulfillment(f.clone(), &shipped), Applied::Applied);
    let qty = |o: &Order| {
        o.line_items
            .iter()
            .map(|l| l.fulfilled_quantity)
            .collect::<Vec<_>>()
    };
    assert_eq!(qty(&o), [Some(2), Some(1)]);
    // The same copy again (a re-delivery): applied, nothing counted twice.
    let before = o.clone();
    assert_eq!(o.merge_fulfillment(f.clone(), &shipped), Applied::Applied);
    assert_eq!(o, before);
    // As new but changed (equal timestamps): applied, as the store's
    // newer-wins rule ignores only what is older.
    let mut cancelled = f.clone();
    cancelled.status = FulfillmentState::Cancelled;
    assert_eq!(o.merge_fulfillment(cancelled, &shipped), Applied::Applied);
    assert_eq!(o.fulfillments[0].status, FulfillmentState::Cancelled);
    assert_eq!(qty(&o), [Some(0), Some(0)], "units taken back");
    // Older than the stored copy: stale, nothing changes.
    let before = o.clone();
    let older = fulfillment("f1", "2026-06-01T12:00:00Z", None);
    assert_eq!(o.merge_fulfillment(older, &shipped), Applied::Stale);
    assert_eq!(o, before);
    // The ingest path's update is the same merge.
    let update = FulfillmentUpdate {
        order_id: "1042".into(),
        fulfillment: fulfillment("f1", "2026-06-03T10:00:00Z", None),
        shipped: shipped.clone(),
    };
    assert_eq!(update.apply_to(&mut o), Applied::Applied);
    assert_eq!(qty(&o), [Some(2), Some(1)]);
    assert_eq!(o.updated_at, ts("2026-06-03T10:00:00Z"));
}
