//! The refunds, returns and disputes queue on hand-built records with a
//! fixed clock: what waits (a Shopify-style return, an ingest refund
//! request, a chargeback with an evidence date, a ticket asking for a
//! refund), each item's SLA state as the clock moves (on track → at risk
//! at 75 % of 24 h → breached after it; a dispute due at its sooner
//! evidence date), the order of the queue, and an item leaving it when
//! its record says it was decided.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ts};
use opsdeck_domain::dispute::{DisputeState, DisputeStatus};
use opsdeck_domain::sla::SlaState;
use opsdeck_domain::support::{Channel, Party, Ticket, TicketStatus};
use opsdeck_domain::*;
use opsdeck_metrics::panels::refunds_queue::{breaches, refunds_queue, ItemOrigin, QueueItem};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::projection::queue::QueueKind;
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::AnyRecord;

/// 2026-03-10 08:00 UTC: when the return was requested.
const T0: i64 = 1_773_129_600;
const HOUR: i64 = 3600;

fn id(b: &str) -> BrandId {
    BrandId::parse(b).unwrap()
}

fn shopify() -> SourceId {
    SourceId::parse("shopify-mavena").unwrap()
}

fn platform() -> SourceId {
    SourceId::parse("pharmacy").unwrap()
}

fn request(
    source: SourceId,
    x: &str,
    kind: ReturnKind,
    status: ReturnStatus,
    at: i64,
    amount: Option<i64>,
) -> ReturnRequest {
    ReturnRequest {
        source,
        external_id: x.into(),
        brand: id("mavena"),
        order_id: Some("5001".into()),
        kind,
        status,
        amount: amount.map(|m| Money::new(m, Currency::USD)),
        reason: Some("too-small".into()),
        requested_at: ts(at),
        resolved_at: None,
        updated_at: ts(at),
        status_history: Vec::new(),
    }
}

fn dispute(x: &str, at: i64, due: i64, status: DisputeStatus) -> AnyRecord {
    AnyRecord::PaymentEvent(PaymentEvent {
        source: shopify(),
        external_id: x.into(),
        brand: id("mavena"),
        order_id: Some("5002".into()),
        kind: PaymentEventKind::Chargeback,
        amount: Some(Money::new(12_900, Currency::USD)),
        reason: Some("fraudulent".into()),
        gateway: Some("shopify_payments".into()),
        occurred_at: ts(at),
        updated_at: ts(at),
        dispute: Some(DisputeState {
            status,
            evidence_due_by: Some(ts(due)),
            evidence_sent_on: None,
            finalized_on: None,
        }),
    })
}

fn refund_ticket(x: &str, at: i64) -> AnyRecord {
    AnyRecord::Ticket(Ticket {
        source: SourceId::parse("helpdesk").unwrap(),
        external_id: x.into(),
        brand: Some(id("mavena")),
        status: TicketStatus::Open,
        channel: Channel::Email,
        subject: Some("Please refund my order".into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: vec![],
        customer: Some(Party {
            external_id: None,
            email: Some("ana@example.com".into()),
            name: Some("Ana Ruiz".into()),
        }),
        assignee: None,
        created_at: ts(at),
        opened_at: None,
        updated_at: ts(at),
        last_received_message_at: None,
        closed_at: None,
        snooze_until: None,
        trashed_at: None,
    })
}

fn cfg() -> PanelConfig {
    let mut cfg = PanelConfig {
        helpdesk_ticket_url: Some("https://acme.gorgias.com/app/ticket/".into()),
        ..PanelConfig::default()
    };
    cfg.sla_queue.shop_admin.insert(
        "shopify-mavena".into(),
        "https://mavena.myshopify.com/admin".into(),
    );
    cfg
}

fn projection(records: &[AnyRecord]) -> Projection {
    let mut p = Projection::new(
        vec![brand("mavena", "Europe/Berlin", BrandKind::Standard, true)],
        SubscriptionRules::default(),
    );
    for r in records {
        p.apply_record(r);
    }
    p
}

fn find<'a>(q: &'a [QueueItem], x: &str) -> &'a QueueItem {
    q.iter().find(|i| i.external_id == x).unwrap()
}

#[test]
fn a_return_is_on_track_then_at_risk_at_18_hours_then_breached_after_24() {
    let p = projection(&[AnyRecord::ReturnRequest(request(
        shopify(),
        "r1",
        ReturnKind::Return,
        ReturnStatus::Requested,
        T0,
        None,
    ))]);
    let cfg = cfg();
    let at = |secs: i64| refunds_queue(&p, &cfg, &[0], ts(secs));
    let q = at(T0 + 17 * HOUR + 59 * 60);
    assert_eq!(q.len(), 1);
    let r = &q[0];
    assert_eq!((r.kind, r.origin), (QueueKind::Return, ItemOrigin::Shopify));
    assert_eq!(r.sla, SlaState::OnTrack);
    assert_eq!(r.age, "17 h 59 min");
    assert_eq!(r.time_left, "6 h 01 min left");
    assert_eq!(r.deadline, ts(T0 + 24 * HOUR));
    assert_eq!(
        r.act_url.as_deref(),
        Some("https://mavena.myshopify.com/admin/orders/5001")
    );
    assert_eq!(r.order.as_ref().unwrap().url, "/orders/shopify-mavena/5001");
    assert!(r.decidable());
    assert_eq!(at(T0 + 18 * HOUR)[0].sla, SlaState::AtRisk);
    assert_eq!(at(T0 + 24 * HOUR)[0].sla, SlaState::AtRisk);
    let late = &at(T0 + 26 * HOUR)[0];
    assert_eq!(late.sla, SlaState::Breached);
    assert_eq!(late.time_left, "overdue by 2 h 00 min");
    assert_eq!(late.time_left_seconds, -2 * HOUR);
    assert_eq!(breaches(&p, &cfg, 0, ts(T0 + 26 * HOUR)).len(), 1);
    assert!(breaches(&p, &cfg, 0, ts(T0 + 23 * HOUR)).is_empty());
}

#[test]
fn a_dispute_is_due_at_its_evidence_date_when_that_is_sooner() {
    // Evidence due 10 h after the dispute opened: at risk from 7 h 30 min.
    let p = projection(&[dispute(
        "d1",
        T0,
        T0 + 10 * HOUR,
        DisputeStatus::NeedsResponse,
    )]);
    let cfg = cfg();
    let q = refunds_queue(&p, &cfg, &[0], ts(T0 + 7 * HOUR));
    assert_eq!(q[0].kind, QueueKind::Dispute);
    assert_eq!(q[0].deadline, ts(T0 + 10 * HOUR));
    assert_eq!(q[0].sla, SlaState::OnTrack);
    assert!(!q[0].decidable(), "a dispute is answered in its platform");
    let q = refunds_queue(&p, &cfg, &[0], ts(T0 + 7 * HOUR + 30 * 60));
    assert_eq!(q[0].sla, SlaState::AtRisk);
    let q = refunds_queue(&p, &cfg, &[0], ts(T0 + 11 * HOUR));
    assert_eq!(q[0].sla, SlaState::Breached);
    // Evidence sent: under review, nothing left for the merchant.
    let p = projection(&[dispute(
        "d1",
        T0,
        T0 + 10 * HOUR,
        DisputeStatus::UnderReview,
    )]);
    assert!(refunds_queue(&p, &cfg, &[0], ts(T0 + 11 * HOUR)).is_empty());
    // A far evidence date: the 24 h window wins.
    let p = projection(&[dispute(
        "d2",
        T0,
        T0 + 14 * 24 * HOUR,
        DisputeStatus::NeedsResponse,
    )]);
    assert_eq!(
        refunds_queue(&p, &cfg, &[0], ts(T0))[0].deadline,
        ts(T0 + 24 * HOUR)
    );
}

#[test]
fn breached_first_then_at_risk_then_by_time_left_and_decided_items_leave() {
    let records = [
        // On track: 2 h old at the reading below.
        AnyRecord::ReturnRequest(request(
            platform(),
            "ingest-new",
            ReturnKind::Exchange,
            ReturnStatus::Requested,
            T0 + 28 * HOUR,
            None,
        )),
        // Breached by 6 h: a refund request of the custom platform.
        AnyRecord::ReturnRequest(request(
            platform(),
            "refund-old",
            ReturnKind::Refund,
            ReturnStatus::Requested,
            T0,
            Some(45_000),
        )),
        // At risk: a ticket asking for a refund, 20 h old.
        refund_ticket("t-9", T0 + 10 * HOUR),
        // Breached by 2 h: the Shopify return.
        AnyRecord::ReturnRequest(request(
            shopify(),
            "r1",
            ReturnKind::Return,
            ReturnStatus::Requested,
            T0 + 4 * HOUR,
            None,
        )),
        // Decided: not in the queue.
        AnyRecord::ReturnRequest(request(
            shopify(),
            "r-done",
            ReturnKind::Return,
            ReturnStatus::Approved,
            T0,
            None,
        )),
    ];
    let p = projection(&records);
    let now = ts(T0 + 30 * HOUR);
    let q = refunds_queue(&p, &cfg(), &[0], now);
    let order: Vec<(&str, SlaState)> = q.iter().map(|i| (i.external_id.as_str(), i.sla)).collect();
    assert_eq!(
        order,
        [
            ("refund-old", SlaState::Breached),
            ("r1", SlaState::Breached),
            ("t-9", SlaState::AtRisk),
            ("ingest-new", SlaState::OnTrack),
        ]
    );
    let refund = find(&q, "refund-old");
    assert_eq!(
        (refund.kind, refund.origin),
        (QueueKind::Refund, ItemOrigin::Platform)
    );
    assert_eq!(refund.amount, Some(Money::new(45_000, Currency::USD)));
    assert_eq!(
        refund.act_url, None,
        "a custom platform has no admin to link"
    );
    let ticket = find(&q, "t-9");
    assert_eq!(
        (ticket.kind, ticket.origin),
        (QueueKind::Refund, ItemOrigin::Helpdesk)
    );
    assert_eq!(ticket.customer.as_deref(), Some("Ana Ruiz"));
    assert_eq!(
        ticket.act_url.as_deref(),
        Some("https://acme.gorgias.com/app/ticket/t-9")
    );
    assert!(!ticket.decidable());
    assert_eq!(find(&q, "ingest-new").kind, QueueKind::Return);

    // The refund is approved: it leaves the queue, the others stay.
    let mut p = p;
    let mut decided = request(
        platform(),
        "refund-old",
        ReturnKind::Refund,
        ReturnStatus::Requested,
        T0,
        Some(45_000),
    );
    decided.record_status(ReturnStatus::Approved, now);
    p.apply_record(&AnyRecord::ReturnRequest(decided));
    let q = refunds_queue(&p, &cfg(), &[0], now);
    assert!(q.iter().all(|i| i.external_id != "refund-old"));
    assert_eq!(q.len(), 3);
}

/// An amount serializes only where revenue is shown.
#[test]
fn an_items_amount_is_hidden_outside_a_revenue_scope() {
    let p = projection(&[AnyRecord::ReturnRequest(request(
        platform(),
        "refund-1",
        ReturnKind::Refund,
        ReturnStatus::Requested,
        T0,
        Some(45_000),
    ))]);
    let q = refunds_queue(&p, &cfg(), &[0], ts(T0 + HOUR));
    let hidden = serde_json::to_value(&q[0]).unwrap();
    assert!(hidden["amount"].is_null(), "{hidden}");
    let shown =
        opsdeck_metrics::money_json::with_shown(true, || serde_json::to_value(&q[0]).unwrap());
    assert_eq!(shown["amount"]["minor"], 45_000);
}
