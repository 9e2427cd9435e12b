//! Shift handovers and the morning checklist over a real store, on SQLite
//! and (when configured) PostgreSQL, with a clock the test moves: the
//! lifecycle with its refusals, the pre-fill from live state (an open
//! incident, a pending approval, an active freeze, a silence), the late
//! acknowledgement notified once through the alert outbox, and the
//! checklist's day across the end of daylight saving time in Berlin.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use jiff::tz::TimeZone;
use jiff::Timestamp;
use opsdeck_alerts::notify::http_client;
use opsdeck_alerts::silence::{Matchers, Silence};
use opsdeck_domain::{
    AnyRecord, Brand, BrandId, BrandKind, Currency, FinancialStatus, Money, Order,
    OrderFulfillmentStatus, Region, RegionId, SourceId, Thresholds,
};
use opsdeck_metrics::{Projection, ProjectionRules, SharedProjection};
use opsdeck_operations::approvals::{
    Action, ApprovalPolicy, Approvals, CallbackPlatform, Executor, NewRequest, Requested,
    Requester, Retry,
};
use opsdeck_operations::flags::{change_flag, Authority, FlagChange, FlagKey, FlagSettings};
use opsdeck_operations::handover::*;
use opsdeck_operations::incidents::{
    Actor, Declaration, DeclaredVia, IncidentService, Severity, SeverityPolicies,
};
use opsdeck_store::alerts::{AlertBatch, Channel, SilenceRow};
use opsdeck_store::testing::TestStore;
use opsdeck_store::{ApprovalKind, AuditAction, RequestedVia, Store};
use serde_json::json;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct FixedClock(Arc<Mutex<Timestamp>>);

impl FixedClock {
    fn at(s: &str) -> Self {
        FixedClock(Arc::new(Mutex::new(ts(s))))
    }
    fn set(&self, s: &str) {
        *self.0.lock().unwrap() = ts(s);
    }
    fn clock(&self) -> Clock {
        let inner = self.0.clone();
        Arc::new(move || *inner.lock().unwrap())
    }
}

fn brand(id: &str, zone: &str) -> Brand {
    let kind = BrandKind::Standard;
    Brand {
        id: BrandId::parse(id).unwrap(),
        name: id.to_string(),
        thresholds: Thresholds::defaults_for(&kind),
        kind,
        time_zone: TimeZone::get(zone).unwrap(),
        currency: Currency::EUR,
        launched: true,
    }
}

fn eu() -> Region {
    Region {
        id: RegionId::parse("eu").unwrap(),
        name: "European Union".into(),
        currency: Currency::EUR,
        time_zone: TimeZone::get("Europe/Berlin").unwrap(),
        brands: vec![BrandId::parse("mavena").unwrap()],
        countries: vec!["DE".into()],
        leads: vec!["lena".into()],
    }
}

fn person(name: &str) -> Actor {
    Actor {
        name: name.into(),
        ip: Some("192.0.2.7".into()),
    }
}

struct Fixture {
    clock: FixedClock,
    store: Arc<dyn Store>,
    incidents: Arc<IncidentService>,
    approvals: Arc<Approvals>,
    projection: SharedProjection,
    handovers: Handovers,
}

fn fixture(store: Arc<dyn Store>, now: &str) -> Fixture {
    let clock = FixedClock::at(now);
    let brands = vec![
        brand("mavena", "Europe/Berlin"),
        brand("kumo", "Asia/Tokyo"),
    ];
    let projection: SharedProjection = Arc::new(std::sync::RwLock::new(Projection::new(
        brands.clone(),
        ProjectionRules::default(),
    )));
    let incidents = Arc::new(IncidentService::new(
        store.clone(),
        SeverityPolicies::default(),
        clock.clock(),
        Vec::new(),
        "http://opsdeck.test",
    ));
    let executor = Executor::new(
        http_client(Duration::from_secs(5)),
        Retry {
            attempts: 1,
            first_wait: Duration::ZERO,
        },
    )
    .with_platform(
        "lux-ingest",
        CallbackPlatform {
            secret: opsdeck_domain::Secret::new("platform-secret"),
            url_prefix: "https://lux.example.com/".into(),
        },
    );
    let approvals = Arc::new(
        Approvals::new(
            store.clone(),
            ApprovalPolicy::playbook(),
            Arc::new(executor),
        )
        .with_clock(clock.clock()),
    );
    let handovers = Handovers::new(HandoverParts {
        store: store.clone(),
        incidents: incidents.clone(),
        approvals: Some(approvals.clone()),
        regions: vec![eu()],
        brands: brands.iter().map(|b| b.id.clone()).collect(),
        policy: ShiftPolicy::playbook(),
        clock: clock.clock(),
        projection: projection.clone(),
        panel_config: Default::default(),
        configured: vec![Channel::Telegram, Channel::Webhook],
        dashboard_url: "http://opsdeck.test".into(),
    });
    Fixture {
        clock,
        store,
        incidents,
        approvals,
        projection,
        handovers,
    }
}

async fn audit_of(store: &dyn Store, subject: &str) -> Vec<String> {
    let mut actions: Vec<String> = store
        .audit_log(200)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.subject == subject)
        .map(|e| format!("{} {}", e.action.as_str(), e.actor))
        .collect();
    actions.reverse();
    actions
}

async fn the_lifecycle_refuses_invalid_steps_and_audits_each_one(db: &TestStore) {
    // 14:40 in Berlin: the day shift (07:00–15:00) is handed over.
    let f = fixture(db.store.clone(), "2026-06-10T12:40:00Z");
    let note = f.handovers.start("eu", &person("ana")).await.unwrap();
    assert_eq!(note.state, HandoverState::Draft);
    assert_eq!(note.shift.start, ts("2026-06-10T05:00:00Z"), "{}", db.label);
    assert_eq!(note.shift.end, ts("2026-06-10T13:00:00Z"));
    let again = f.handovers.start("eu", &person("ben")).await.unwrap();
    assert_eq!(again.id, note.id, "one note per region and shift");
    assert_eq!(again.created_by, "ana");
    let err = f.handovers.start("mars", &person("ana")).await.unwrap_err();
    assert!(err.to_string().contains("the regions are eu"), "{err}");

    let id = note.id;
    let mine = Sections {
        next_shift_notes: "Call the courier about parcel 88 at 09:00".into(),
        ..note.sections.clone()
    };
    assert!(matches!(
        f.handovers.edit(id, mine.clone(), &person("ben")).await,
        Err(HandoverError::NotAuthor { .. })
    ));
    assert!(matches!(
        f.handovers.acknowledge(id, &person("ben")).await,
        Err(HandoverError::Transition {
            from: HandoverState::Draft,
            to: HandoverState::Acknowledged
        })
    ));
    f.handovers.edit(id, mine, &person("ana")).await.unwrap();
    assert!(matches!(
        f.handovers.submit(id, &person("ben")).await,
        Err(HandoverError::NotAuthor { .. })
    ));
    f.clock.set("2026-06-10T12:58:00Z");
    let submitted = f.handovers.submit(id, &person("ana")).await.unwrap();
    assert_eq!(submitted.submitted_at, Some(ts("2026-06-10T12:58:00Z")));
    assert!(matches!(
        f.handovers
            .edit(id, Sections::default(), &person("ana"))
            .await,
        Err(HandoverError::NotEditable(HandoverState::Submitted))
    ));
    assert!(matches!(
        f.handovers.submit(id, &person("ana")).await,
        Err(HandoverError::Transition { .. })
    ));
    assert!(matches!(
        f.handovers.acknowledge(id, &person("ana")).await,
        Err(HandoverError::OwnHandover)
    ));
    f.clock.set("2026-06-10T13:05:00Z");
    let done = f.handovers.acknowledge(id, &person("ben")).await.unwrap();
    assert_eq!(done.state, HandoverState::Acknowledged);
    assert_eq!(done.acknowledged_by.as_deref(), Some("ben"));
    assert!(matches!(
        f.handovers.acknowledge(id, &person("cy")).await,
        Err(HandoverError::Transition { .. })
    ));
    let stored = f.handovers.get(id).await.unwrap();
    assert_eq!(
        stored.sections.next_shift_notes,
        "Call the courier about parcel 88 at 09:00"
    );
    assert_eq!(stored.state, HandoverState::Acknowledged);
    assert_eq!(
        audit_of(f.store.as_ref(), &format!("handover:{id}")).await,
        [
            "handover.start ana",
            "handover.edit ana",
            "handover.submit ana",
            "handover.acknowledge ben"
        ],
        "each change audited once, the refused ones not at all"
    );
}

async fn the_note_is_prefilled_from_what_is_live(db: &TestStore) {
    let f = fixture(db.store.clone(), "2026-06-10T12:40:00Z");
    let declare = |title: &str, brand: &str| Declaration {
        title: title.into(),
        severity: Severity::High,
        brand: Some(brand.into()),
        alerts: Vec::new(),
        via: DeclaredVia::Dashboard,
        summary: None,
    };
    let incident = f
        .incidents
        .declare(
            declare("Checkout failing in the EU", "mavena"),
            &person("ana"),
        )
        .await
        .unwrap();
    f.incidents
        .declare(declare("Kumo feed late", "kumo"), &person("ana"))
        .await
        .unwrap();
    let request = NewRequest {
        kind: ApprovalKind::Refund,
        brand: "mavena".into(),
        summary: "Refund order 1042 (damaged bag)".into(),
        amount: Some(Money::new(90_000, Currency::EUR)),
        percent_bp: None,
        action: Action::Callback {
            platform: "lux-ingest".into(),
            url: "https://lux.example.com/cb".into(),
            payload: json!({ "order": "1042" }),
        },
        target_version: None,
        subject: None,
    };
    let who = Requester {
        name: "platform:lux-ingest".into(),
        via: RequestedVia::Api,
        ip: None,
    };
    let Requested::Pending(approval) = f.approvals.request(request, &who).await.unwrap() else {
        panic!("a refund over 500 waits for approval");
    };
    let flags = FlagSettings {
        requires_approval: Vec::new(),
        webhooks: Vec::new(),
        mirror_brands: Vec::new(),
        mirrored_flags: Vec::new(),
        polling_interval_seconds: 30,
    };
    let freeze = FlagChange {
        key: FlagKey::FreezeCheckout,
        on: true,
        targets: Vec::new(),
        text: None,
        reason: "payment provider outage".into(),
        ends_at: Some(ts("2026-06-10T18:00:00Z")),
    };
    let flag_actor = opsdeck_operations::flags::Actor {
        name: "lena".into(),
        ip: None,
    };
    change_flag(
        f.store.as_ref(),
        &flags,
        &freeze,
        &flag_actor,
        &Authority::Direct,
        ts("2026-06-10T12:00:00Z"),
    )
    .await
    .unwrap();
    let silence = Silence {
        id: "sil-1".into(),
        matchers: Matchers {
            rules: Vec::new(),
            brands: vec!["mavena".into()],
            labels: Vec::new(),
        },
        starts_at: ts("2026-06-10T12:00:00Z"),
        ends_at: ts("2026-06-10T16:00:00Z"),
        reason: "carrier outage known".into(),
        author: "ana".into(),
        incident: None,
    };
    f.store
        .alert_commit(&AlertBatch {
            silences: vec![SilenceRow {
                id: silence.id.clone(),
                starts_at: silence.starts_at,
                ends_at: silence.ends_at,
                created_at: silence.starts_at,
                body: serde_json::to_value(&silence).unwrap(),
            }],
            ..AlertBatch::default()
        })
        .await
        .unwrap();

    let note = f.handovers.start("eu", &person("ana")).await.unwrap();
    let live = &note.live;
    assert_eq!(
        live.incidents.iter().map(|i| i.id).collect::<Vec<_>>(),
        [incident.id],
        "{}: the region's incident only (kumo is in no region)",
        db.label
    );
    assert_eq!(
        live.approvals
            .iter()
            .map(|a| a.id.as_str())
            .collect::<Vec<_>>(),
        [approval.id.as_str()]
    );
    assert_eq!(
        live.freezes
            .iter()
            .map(|f| f.key.as_str())
            .collect::<Vec<_>>(),
        ["freeze-checkout"]
    );
    assert_eq!(live.silences.len(), 1);
    assert_eq!(live.silences[0].ends_at, ts("2026-06-10T16:00:00Z"));
    let s = &note.sections;
    assert!(
        s.open_issues.contains("Checkout failing in the EU")
            && s.open_issues.contains("Freeze checkout is ON")
            && !s.open_issues.contains("Kumo"),
        "{}",
        s.open_issues
    );
    assert!(
        s.pending_actions.contains("Refund order 1042")
            && s.pending_actions.contains("carrier outage known")
            && s.pending_actions.contains("2026-06-10 16:00 UTC"),
        "{}",
        s.pending_actions
    );
    assert!(
        !serde_json::to_string(&note).unwrap().contains("900"),
        "no amount of money is copied into a note"
    );
}

async fn a_late_acknowledgement_notifies_the_leads_once(db: &TestStore) {
    let f = fixture(db.store.clone(), "2026-06-10T12:40:00Z");
    let late = f.handovers.start("eu", &person("ana")).await.unwrap();
    f.clock.set("2026-06-10T13:00:00Z");
    f.handovers.submit(late.id, &person("ana")).await.unwrap();
    // The next shift's note, acknowledged in time, is never notified.
    f.clock.set("2026-06-10T20:50:00Z");
    let on_time = f.handovers.start("eu", &person("ben")).await.unwrap();
    assert_ne!(on_time.id, late.id);
    f.handovers
        .submit(on_time.id, &person("ben"))
        .await
        .unwrap();
    f.clock.set("2026-06-10T21:10:00Z");
    f.handovers
        .acknowledge(on_time.id, &person("cy"))
        .await
        .unwrap();

    let h = &f.handovers;
    assert_eq!(
        h.notify_unacknowledged_once(ts("2026-06-10T13:29:59Z"))
            .await
            .unwrap(),
        0,
        "{}: not due before 30 minutes",
        db.label
    );
    // Two instances see it due at once: the leads are told once.
    let other = fixture(db.store.clone(), "2026-06-10T13:30:00Z");
    let (a, b) = tokio::join!(
        h.notify_unacknowledged_once(ts("2026-06-10T13:30:00Z")),
        other
            .handovers
            .notify_unacknowledged_once(ts("2026-06-10T13:30:00Z"))
    );
    assert_eq!(a.unwrap() + b.unwrap(), 1, "{}", db.label);
    assert_eq!(
        h.notify_unacknowledged_once(ts("2026-06-10T13:31:00Z"))
            .await
            .unwrap(),
        0,
        "once"
    );
    assert_eq!(
        h.notify_unacknowledged_once(ts("2026-06-11T09:00:00Z"))
            .await
            .unwrap(),
        0
    );
    let outbox = f.store.outbox_list(None, 50).await.unwrap();
    let mut ids: Vec<&str> = outbox.iter().map(|o| o.id.as_str()).collect();
    ids.sort();
    assert_eq!(
        ids,
        [
            format!("handover-{}-unacknowledged-telegram", late.id),
            format!("handover-{}-unacknowledged-webhook", late.id)
        ]
    );
    let telegram = outbox
        .iter()
        .find(|o| o.channel == Channel::Telegram)
        .unwrap();
    let text = telegram.payload["text"].as_str().unwrap();
    assert!(
        text.contains("NOT ACKNOWLEDGED") && text.contains("For: lena"),
        "{text}"
    );
    let webhook = outbox
        .iter()
        .find(|o| o.channel == Channel::Webhook)
        .unwrap();
    assert_eq!(webhook.payload["event"], "handover.unacknowledged");
    assert_eq!(webhook.payload["notify"], json!(["lena"]));
    assert_eq!(
        audit_of(f.store.as_ref(), &format!("handover:{}", late.id)).await,
        [
            "handover.start ana",
            "handover.submit ana",
            "handover.notify opsdeck"
        ]
    );
    let read = h.get(late.id).await.unwrap();
    assert_eq!(read.notified_at, Some(ts("2026-06-10T13:30:00Z")));
    // Acknowledging late still works, and says it was late.
    f.clock.set("2026-06-10T13:40:00Z");
    h.acknowledge(late.id, &person("ben")).await.unwrap();
    let entry = f
        .store
        .audit_log(50)
        .await
        .unwrap()
        .into_iter()
        .find(|e| {
            e.action == AuditAction::HandoverAcknowledge
                && e.subject == format!("handover:{}", late.id)
        })
        .unwrap();
    assert_eq!(entry.payload["late"], true);
}

fn order(id: &str, created_at: &str) -> AnyRecord {
    let price = Money::new(12_000, Currency::EUR);
    let zero = Money::zero(Currency::EUR);
    AnyRecord::Order(Order {
        source: SourceId::parse("shopify-mavena").unwrap(),
        external_id: id.to_string(),
        brand: BrandId::parse("mavena").unwrap(),
        name: format!("#{id}"),
        number: None,
        created_at: ts(created_at),
        updated_at: ts(created_at),
        processed_at: Some(ts(created_at)),
        cancelled_at: None,
        cancel_reason: None,
        closed_at: None,
        currency: Currency::EUR,
        total_price: price,
        subtotal_price: price,
        total_discounts: zero,
        total_tax: zero,
        financial_status: FinancialStatus::Paid,
        fulfillment_status: OrderFulfillmentStatus::Unfulfilled,
        tags: Vec::new(),
        source_name: Some("web".into()),
        test: false,
        email: None,
        customer: None,
        line_items: Vec::new(),
        fulfillments: Vec::new(),
        refunds: Vec::new(),
    })
}

fn row(c: &Checklist, item: ChecklistItem) -> &ChecklistRow {
    c.rows.iter().find(|r| r.item == item).unwrap()
}

async fn the_checklist_day_follows_the_regions_midnight_across_dst(db: &TestStore) {
    // 00:10 on Sunday 25 October 2026 in Berlin (CEST, UTC+2); clocks go
    // back at 03:00, so this local day is 25 hours long.
    let f = fixture(db.store.clone(), "2026-10-24T22:10:00Z");
    {
        let mut p = f.projection.write().unwrap();
        // 23:50 the evening before: not overnight.
        p.apply_record(&order("1", "2026-10-24T21:50:00Z"));
        // 00:05: overnight.
        p.apply_record(&order("2", "2026-10-24T22:05:00Z"));
    }
    let c = f.handovers.checklist("eu").await.unwrap();
    assert_eq!(c.local_day, "2026-10-25", "{}", db.label);
    assert_eq!(c.since, ts("2026-10-24T22:00:00Z"));
    assert_eq!(
        c.rows.iter().map(|r| r.item).collect::<Vec<_>>(),
        ChecklistItem::ALL
    );
    let overnight = row(&c, ChecklistItem::OvernightOrders);
    assert_eq!(overnight.count, 1, "{}", overnight.state);
    assert!(overnight.checked_by.is_none());
    let c = f
        .handovers
        .check("eu", "overnight_orders", &person("ana"))
        .await
        .unwrap();
    let overnight = row(&c, ChecklistItem::OvernightOrders);
    assert_eq!(overnight.checked_by.as_deref(), Some("ana"));
    assert_eq!(overnight.checked_at, Some(ts("2026-10-24T22:10:00Z")));
    assert!(row(&c, ChecklistItem::Incidents).checked_by.is_none());
    // 23:30 CET the same local day, 24 h 20 min later: still checked (a
    // reset after 24 hours, or at a fixed UTC+2 midnight, would have
    // cleared it).
    f.clock.set("2026-10-25T22:30:00Z");
    let c = f.handovers.checklist("eu").await.unwrap();
    assert_eq!(c.local_day, "2026-10-25");
    assert_eq!(c.since, ts("2026-10-24T22:00:00Z"));
    assert_eq!(
        row(&c, ChecklistItem::OvernightOrders)
            .checked_by
            .as_deref(),
        Some("ana")
    );
    // 00:05 CET on Monday: a new local day, unchecked, counted from the
    // new midnight (now UTC+1).
    f.clock.set("2026-10-25T23:05:00Z");
    let c = f.handovers.checklist("eu").await.unwrap();
    assert_eq!(c.local_day, "2026-10-26");
    assert_eq!(c.since, ts("2026-10-25T23:00:00Z"));
    let overnight = row(&c, ChecklistItem::OvernightOrders);
    assert!(overnight.checked_by.is_none());
    assert_eq!(overnight.count, 0);
    f.handovers
        .check("eu", "overnight_orders", &person("ben"))
        .await
        .unwrap();
    let err = f
        .handovers
        .check("eu", "coffee", &person("ben"))
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("overnight_orders, inventory_alerts"),
        "{err}"
    );
    assert_eq!(
        audit_of(f.store.as_ref(), "checklist:eu:overnight_orders").await,
        ["checklist.check ana", "checklist.check ben"]
    );
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = opsdeck_store::testing::sqlite_store().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = opsdeck_store::testing::postgres_store().await else {
                        eprintln!("SKIPPED postgres::{}: set OPSDECK_TEST_POSTGRES_URL to run it", stringify!($name));
                        return;
                    };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

both_backends!(
    the_lifecycle_refuses_invalid_steps_and_audits_each_one,
    the_note_is_prefilled_from_what_is_live,
    a_late_acknowledgement_notifies_the_leads_once,
    the_checklist_day_follows_the_regions_midnight_across_dst,
);
