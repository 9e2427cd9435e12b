//! Incidents over a real store, on SQLite and on PostgreSQL (skipped
//! without `OPSDECK_TEST_POSTGRES_URL`): the lifecycle with its timestamps
//! and audit entries, alerts linked both ways, escalation with a fixed
//! clock (notified once per step, repeats as configured, stops on
//! acknowledge), component statuses.
#![expect(
    clippy::unwrap_used,
    reason = "tests unwrap: a failed unwrap is a failed test"
)]

use jiff::{SignedDuration, Timestamp};
use opsdeck_operations::incidents::*;
use opsdeck_store::alerts::{AlertBatch, Channel, EpisodeRow, EpisodeState};
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AuditAction, AuditFilter, Store};
use std::sync::{Arc, Mutex};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct Fixture {
    store: Arc<dyn Store>,
    now: Arc<Mutex<Timestamp>>,
    service: IncidentService,
}

impl Fixture {
    fn new(db: &TestStore) -> Fixture {
        let now = Arc::new(Mutex::new(ts("2026-06-10T10:00:00Z")));
        let clock_now = now.clone();
        let service = IncidentService::new(
            db.store.clone(),
            SeverityPolicies::default(),
            Arc::new(move || *clock_now.lock().unwrap()),
            // Telegram has no notifier here: its part is noted, not queued.
            vec![Channel::Slack, Channel::Email],
            "https://ops.example.com",
        );
        Fixture {
            store: db.store.clone(),
            now,
            service,
        }
    }

    fn at(&self, s: &str) -> Timestamp {
        let t = ts(s);
        *self.now.lock().unwrap() = t;
        t
    }

    async fn audited(&self, action: AuditAction) -> usize {
        self.store
            .search_audit(&AuditFilter {
                action: Some(action),
                limit: 100,
                ..AuditFilter::default()
            })
            .await
            .unwrap()
            .len()
    }

    async fn outbox(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .store
            .outbox_list(None, 100)
            .await
            .unwrap()
            .into_iter()
            .map(|r| r.id)
            .collect();
        ids.sort();
        ids
    }
}

fn anna() -> Actor {
    Actor {
        name: "anna".into(),
        ip: Some("192.0.2.7".into()),
    }
}

fn declaration(severity: Severity, alerts: Vec<String>) -> Declaration {
    Declaration {
        title: "Checkout failing".into(),
        severity,
        brand: Some("mavena".into()),
        alerts,
        via: DeclaredVia::Dashboard,
        summary: None,
    }
}

async fn seed_episode(store: &dyn Store, id: &str) {
    let at = ts("2026-06-10T09:55:00Z");
    store
        .alert_commit(&AlertBatch {
            episodes: vec![EpisodeRow {
                id: id.into(),
                dedup_key: format!("checkout_errors|mavena|{id}"),
                rule: "checkout_errors".into(),
                brand: "mavena".into(),
                severity: opsdeck_store::alerts::Severity::Critical,
                state: EpisodeState::Firing,
                opened_at: at,
                updated_at: at,
                body: serde_json::json!({}),
            }],
            ..AlertBatch::default()
        })
        .await
        .unwrap();
}

async fn lifecycle_is_stored_with_a_time_and_an_audit_entry_at_each_step(db: &TestStore) {
    let f = Fixture::new(db);
    seed_episode(&*f.store, "ep-1").await;
    seed_episode(&*f.store, "ep-2").await;
    let i = f
        .service
        .declare(declaration(Severity::High, vec!["ep-1".into()]), &anna())
        .await
        .unwrap();
    assert_eq!(i.state, IncidentState::Triage);
    // Linked both ways.
    assert_eq!(f.service.alerts_of(i.id).await.unwrap(), ["ep-1"]);
    let of_alert = f.service.incidents_of_alert("ep-1").await.unwrap();
    assert_eq!(of_alert.len(), 1);
    assert_eq!(of_alert[0].id, i.id);
    f.service
        .link_alerts(i.id, &["ep-2".into()], &anna())
        .await
        .unwrap();
    assert_eq!(f.service.alerts_of(i.id).await.unwrap(), ["ep-1", "ep-2"]);
    let err = f
        .service
        .link_alerts(i.id, &["ep-9".into()], &anna())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("no alert \"ep-9\""), "{err}");

    f.at("2026-06-10T10:10:00Z");
    f.service
        .transition(i.id, IncidentState::Investigating, "on it", None, &anna())
        .await
        .unwrap();
    let err = f
        .service
        .transition(i.id, IncidentState::Closed, "", None, &anna())
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cannot go from investigating to closed"),
        "{err}"
    );
    f.at("2026-06-10T10:40:00Z");
    f.service
        .transition(i.id, IncidentState::Mitigated, "rolled back", None, &anna())
        .await
        .unwrap();
    f.at("2026-06-10T11:00:00Z");
    let resolved = f
        .service
        .transition(i.id, IncidentState::Resolved, "", None, &anna())
        .await
        .unwrap();
    assert_eq!(
        resolved.times().to_resolve,
        Some(SignedDuration::from_mins(60))
    );
    assert_eq!(
        resolved.times().to_acknowledge,
        Some(SignedDuration::from_mins(10))
    );
    let stored = f.service.get(i.id).await.unwrap();
    assert_eq!(stored, resolved, "what is stored is what was returned");
    assert_eq!(f.audited(AuditAction::IncidentDeclare).await, 1);
    assert_eq!(f.audited(AuditAction::IncidentLinkAlerts).await, 1);
    assert_eq!(
        f.audited(AuditAction::IncidentTransition).await,
        3,
        "the refused transition wrote nothing"
    );
    let report = f.service.report().await.unwrap();
    assert_eq!((report[1].incidents, report[1].breaches), (1, 0));

    // A postmortem with an open action item, listed until done.
    f.service
        .set_postmortem(
            i.id,
            Postmortem {
                summary: "A bad deploy".into(),
                impact_from: Some(ts("2026-06-10T09:58:00Z")),
                impact_until: Some(ts("2026-06-10T10:40:00Z")),
                contributing_factors: "No canary".into(),
                what_worked: "Rollback".into(),
                action_items: vec![ActionItem {
                    text: "Add a canary".into(),
                    owner: "bo".into(),
                    due: "2026-06-20".parse().unwrap(),
                    status: ActionItemStatus::Open,
                }],
            },
            &anna(),
        )
        .await
        .unwrap();
    let open = f.service.open_action_items().await.unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].item.owner, "bo");
    f.service
        .set_action_item_status(i.id, 0, ActionItemStatus::Done, &anna())
        .await
        .unwrap();
    assert!(f.service.open_action_items().await.unwrap().is_empty());
    assert_eq!(f.audited(AuditAction::IncidentPostmortem).await, 1);
    assert_eq!(f.audited(AuditAction::IncidentActionItem).await, 1);
}

async fn a_stale_writer_is_refused(db: &TestStore) {
    let f = Fixture::new(db);
    let i = f
        .service
        .declare(declaration(Severity::Low, vec![]), &anna())
        .await
        .unwrap();
    let row = f.store.incident(i.id).await.unwrap().unwrap();
    assert!(f.store.incident_update(&row, &[], &[]).await.unwrap());
    assert!(
        !f.store.incident_update(&row, &[], &[]).await.unwrap(),
        "the same version a second time is refused"
    );
}

async fn escalation_notifies_once_per_step_repeats_and_stops_on_acknowledge(db: &TestStore) {
    let f = Fixture::new(db);
    let t0 = f.at("2026-06-10T10:00:00Z");
    let i = f
        .service
        .declare(declaration(Severity::High, vec![]), &anna())
        .await
        .unwrap();
    let step = |n: u32, m: u32| EscalationReport {
        notices: n,
        messages: m,
    };
    // Declared: to the regional lead on Slack (Telegram not configured).
    assert_eq!(f.service.escalate_once(t0).await.unwrap(), step(1, 1));
    assert_eq!(f.service.escalate_once(t0).await.unwrap(), step(0, 0));
    let declared = format!("incident-{}-declared-slack", i.id);
    assert_eq!(f.outbox().await, std::slice::from_ref(&declared));
    // The response target (15 min) passes: step 0, once.
    let t15 = f.at("2026-06-10T10:15:00Z");
    assert_eq!(f.service.escalate_once(t15).await.unwrap(), step(1, 1));
    assert_eq!(f.service.escalate_once(t15).await.unwrap(), step(0, 0));
    let t20 = f.at("2026-06-10T10:20:00Z");
    assert_eq!(f.service.escalate_once(t20).await.unwrap(), step(0, 0));
    // Its first repeat, 15 min later.
    let t30 = f.at("2026-06-10T10:30:00Z");
    assert_eq!(f.service.escalate_once(t30).await.unwrap(), step(1, 1));
    let mut expected = vec![
        declared,
        format!("incident-{}-escalation:0:0-slack", i.id),
        format!("incident-{}-escalation:0:1-slack", i.id),
    ];
    expected.sort();
    assert_eq!(f.outbox().await, expected);
    // Acknowledged: nothing more, even when the next step falls due.
    f.at("2026-06-10T10:31:00Z");
    f.service.acknowledge(i.id, &anna()).await.unwrap();
    let t50 = f.at("2026-06-10T10:50:00Z");
    assert_eq!(f.service.escalate_once(t50).await.unwrap(), step(0, 0));
    assert_eq!(f.outbox().await.len(), 3);
    assert_eq!(f.audited(AuditAction::IncidentNotify).await, 3);
    let notices: Vec<String> = f
        .store
        .incident_notices(i.id)
        .await
        .unwrap()
        .into_iter()
        .map(|n| n.key)
        .collect();
    assert_eq!(notices, ["declared", "escalation:0:0", "escalation:0:1"]);
    let stored = f.service.get(i.id).await.unwrap();
    let notified: Vec<_> = stored
        .timeline
        .iter()
        .filter_map(|e| match &e.what {
            TimelineWhat::Notified { unconfigured, .. } => Some(unconfigured.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(notified.len(), 3, "each notice is on the timeline");
    assert_eq!(
        notified[0],
        ["telegram"],
        "the unconfigured channel is named"
    );
    // Acknowledged 31 min in, against a 15 min target.
    assert_eq!(f.service.report().await.unwrap()[1].breaches, 1);
}

async fn component_statuses_are_set_and_audited(db: &TestStore) {
    let f = Fixture::new(db);
    let scopes = vec!["mavena".to_string(), "kumo".to_string()];
    f.service
        .set_component_status(
            Component::Checkout,
            "mavena",
            ComponentStatus::MajorOutage,
            &anna(),
        )
        .await
        .unwrap();
    let all = f.service.components(&scopes).await.unwrap();
    assert_eq!(all.len(), 10);
    assert_eq!(all[0].status, ComponentStatus::MajorOutage);
    assert_eq!(all[0].updated_by.as_deref(), Some("anna"));
    assert!(all[1..]
        .iter()
        .all(|c| c.status == ComponentStatus::Operational));
    f.service
        .set_component_status(
            Component::Checkout,
            "mavena",
            ComponentStatus::Operational,
            &anna(),
        )
        .await
        .unwrap();
    assert_eq!(
        f.service.components(&scopes).await.unwrap()[0].status,
        ComponentStatus::Operational
    );
    assert_eq!(f.audited(AuditAction::ComponentStatus).await, 2);
    let page = f
        .service
        .status_page("Status", "https://ops.example.com", &scopes)
        .await
        .unwrap();
    assert_eq!(page.status.indicator, "none");
}

macro_rules! on_both {
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
                        eprintln!("SKIPPED postgres::{}: set OPSDECK_TEST_POSTGRES_URL", stringify!($name));
                        return;
                    };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

on_both!(
    lifecycle_is_stored_with_a_time_and_an_audit_entry_at_each_step,
    a_stale_writer_is_refused,
    escalation_notifies_once_per_step_repeats_and_stops_on_acknowledge,
    component_statuses_are_set_and_audited,
);
