//! A freeze that needs a second person, on each backend: requested rather
//! than refused; approved by another, it goes live once (audited with the
//! approval, its deliveries owed once, the deliverer woken); rejected or
//! expired, nothing changes; a double click and a repeated run apply it
//! once; a flag changed in between is refused.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use jiff::Timestamp;
use opsdeck_alerts::notify::http_client;
use opsdeck_operations::approvals::*;
use opsdeck_operations::flags::approval::{request_switch_on, FlagApprovals};
use opsdeck_operations::flags::*;
use opsdeck_store::flags::DeliveryTarget;
use opsdeck_store::testing::each_backend;
use opsdeck_store::{
    ApprovalKind, ApprovalState, AuditAction, RequestedVia, Role, RunOutcome, Store,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn settings() -> FlagSettings {
    FlagSettings {
        requires_approval: vec![FlagKey::FreezeCheckout],
        webhooks: vec!["storefront-cache".into()],
        mirror_brands: Vec::new(),
        mirrored_flags: Vec::new(),
        polling_interval_seconds: 30,
    }
}

struct World {
    store: Arc<dyn Store>,
    approvals: Arc<Approvals>,
    flags: FlagApprovals,
    now: Arc<Mutex<Timestamp>>,
}

impl World {
    fn new(store: Arc<dyn Store>) -> World {
        let now = Arc::new(Mutex::new(ts("2026-12-07T10:00:00Z")));
        let clock: Clock = {
            let now = now.clone();
            Arc::new(move || *now.lock().unwrap())
        };
        let flags = FlagApprovals {
            store: store.clone(),
            settings: Arc::new(settings()),
            changed: Arc::new(Notify::new()),
            clock: clock.clone(),
        };
        let executor = Executor::new(
            http_client(Duration::from_secs(5)),
            Retry {
                attempts: 1,
                first_wait: Duration::ZERO,
            },
        )
        .with_flags(flags.clone());
        let approvals = Arc::new(
            Approvals::new(
                store.clone(),
                ApprovalPolicy::playbook(),
                Arc::new(executor),
            )
            .with_clock(clock),
        );
        World {
            store,
            approvals,
            flags,
            now,
        }
    }

    fn set(&self, s: &str) {
        *self.now.lock().unwrap() = ts(s);
    }

    async fn request(&self, by: &str) -> String {
        let change = FlagChange {
            key: FlagKey::FreezeCheckout,
            on: true,
            targets: Vec::new(),
            text: None,
            reason: "payment provider outage".into(),
            ends_at: Some(ts("2026-12-07T12:00:00Z")),
        };
        let actor = Actor {
            name: by.into(),
            ip: Some("192.0.2.7".into()),
        };
        request_switch_on(&self.approvals, &change, &actor, RequestedVia::Dashboard)
            .await
            .unwrap()
            .id
    }

    async fn checkout(&self) -> Option<FlagRecord> {
        self.store
            .flags()
            .await
            .unwrap()
            .into_iter()
            .find(|f| f.key == FlagKey::FreezeCheckout)
    }

    async fn flag_sets(&self) -> usize {
        self.store
            .flag_audit(&FlagKey::FreezeCheckout, 50)
            .await
            .unwrap()
            .iter()
            .filter(|e| e.action == AuditAction::FlagSet)
            .count()
    }
}

fn admin(name: &str) -> Decider {
    Decider {
        username: name.into(),
        role: Role::Admin,
        via: "dashboard",
        ip: None,
    }
}

#[tokio::test]
async fn a_requested_freeze_goes_live_once_when_another_person_approves() {
    for db in each_backend().await {
        let w = World::new(db.store.clone());
        let id = w.request("anna").await;
        let a = db.store.approval(&id).await.unwrap().unwrap();
        assert_eq!(a.kind, ApprovalKind::FlagChange);
        assert_eq!(a.state, ApprovalState::Pending);
        assert_eq!(a.target_version.as_deref(), Some("0"));
        assert!(a.summary.contains("Freeze checkout"), "{}", a.summary);
        assert!(
            w.checkout().await.is_none(),
            "{}: nothing live yet",
            db.label
        );

        // Four eyes: the requester cannot approve their own freeze.
        let err = w
            .approvals
            .decide(&id, &admin("anna"), true, "go")
            .await
            .unwrap_err();
        assert!(matches!(err, ApprovalError::OwnRequest(_)), "{err}");
        assert!(w.checkout().await.is_none());

        // Approved half an hour later: the two hours asked run from then.
        w.set("2026-12-07T10:30:00Z");
        let rung = w.flags.changed.clone();
        let woken = tokio::spawn(async move { rung.notified().await });
        tokio::task::yield_now().await;
        let decided = w
            .approvals
            .decide(&id, &admin("bob"), true, "confirmed with the PSP")
            .await
            .unwrap();
        assert!(
            matches!(decided.run, Some(RunOutcome::Executed { .. })),
            "{}: {:?}",
            db.label,
            decided.run
        );
        tokio::time::timeout(Duration::from_secs(5), woken)
            .await
            .expect("the deliverer is woken")
            .unwrap();
        let flag = w.checkout().await.unwrap();
        assert!(is_live(&flag, ts("2026-12-07T10:30:00Z")));
        assert_eq!(flag.version, 1);
        assert_eq!(flag.set_by, "anna");
        assert_eq!(flag.ends_at, Some(ts("2026-12-07T12:30:00Z")));
        let trail = db
            .store
            .flag_audit(&FlagKey::FreezeCheckout, 10)
            .await
            .unwrap();
        assert_eq!(trail.len(), 1, "{}", db.label);
        assert_eq!(trail[0].action, AuditAction::FlagSet);
        assert_eq!(trail[0].payload["approval"], id.as_str());
        assert_eq!(trail[0].payload["approved_by"], "bob");
        let owed = db.store.recent_flag_deliveries(10).await.unwrap();
        assert_eq!(owed.len(), 1, "one change, one webhook owed");
        assert_eq!(
            owed[0].target,
            DeliveryTarget::Webhook("storefront-cache".into())
        );
        assert_eq!(
            db.store.approval(&id).await.unwrap().unwrap().state,
            ApprovalState::Executed
        );

        // Run again (a sweep, a run a crash left behind): nothing more.
        assert_eq!(w.approvals.run(&id).await.unwrap(), None);
        assert_eq!(w.approvals.sweep_once().await.unwrap(), 0);
        let again = w
            .flags
            .apply(
                &a_approved(&db.store, &id).await,
                &action(&db.store, &id).await,
            )
            .await;
        assert!(
            matches!(&again, RunOutcome::Executed { note } if note.contains("already")),
            "{again:?}"
        );
        assert_eq!(w.flag_sets().await, 1, "{}: applied once", db.label);
        assert_eq!(w.checkout().await.unwrap().version, 1);
    }
}

async fn a_approved(store: &Arc<dyn Store>, id: &str) -> opsdeck_store::Approval {
    store.approval(id).await.unwrap().unwrap()
}

async fn action(store: &Arc<dyn Store>, id: &str) -> Action {
    serde_json::from_value(a_approved(store, id).await.action).unwrap()
}

#[tokio::test]
async fn a_rejected_or_expired_freeze_changes_nothing() {
    for db in each_backend().await {
        let w = World::new(db.store.clone());
        let rejected = w.request("anna").await;
        let d = w
            .approvals
            .decide(&rejected, &admin("bob"), false, "the PSP is back")
            .await
            .unwrap();
        assert_eq!((d.state, d.run), (ApprovalState::Rejected, None));
        assert!(w.checkout().await.is_none(), "{}", db.label);

        let expired = w.request("anna").await;
        w.set("2026-12-08T10:00:00Z");
        assert_eq!(w.approvals.sweep_once().await.unwrap(), 0);
        assert_eq!(
            db.store.approval(&expired).await.unwrap().unwrap().state,
            ApprovalState::Expired
        );
        let err = w
            .approvals
            .decide(&expired, &admin("bob"), true, "late")
            .await
            .unwrap_err();
        assert!(matches!(err, ApprovalError::Expired), "{err}");
        assert!(w.checkout().await.is_none(), "{}", db.label);
        assert_eq!(w.flag_sets().await, 0);
        assert!(db
            .store
            .recent_flag_deliveries(10)
            .await
            .unwrap()
            .is_empty());
    }
}

#[tokio::test]
async fn a_double_approval_switches_the_freeze_on_once() {
    for db in each_backend().await {
        let w = World::new(db.store.clone());
        let id = w.request("anna").await;
        let clicks: Vec<_> = ["bob", "bob", "carol", "bob"]
            .into_iter()
            .map(|who| {
                let (approvals, id) = (w.approvals.clone(), id.clone());
                tokio::spawn(async move { approvals.decide(&id, &admin(who), true, "ok").await })
            })
            .collect();
        let mut won = 0;
        for click in clicks {
            match click.await.unwrap() {
                Ok(_) => won += 1,
                Err(e) => assert!(matches!(e, ApprovalError::AlreadyDecided { .. }), "{e}"),
            }
        }
        assert_eq!(won, 1, "{}", db.label);
        assert_eq!(w.flag_sets().await, 1, "{}", db.label);
        assert_eq!(w.checkout().await.unwrap().version, 1);
        assert_eq!(db.store.recent_flag_deliveries(10).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_flag_changed_since_the_request_is_refused() {
    for db in each_backend().await {
        let w = World::new(db.store.clone());
        let id = w.request("anna").await;
        // Meanwhile someone switches it off (direct: no approval needed).
        let off = FlagChange {
            key: FlagKey::FreezeCheckout,
            on: false,
            targets: Vec::new(),
            text: None,
            reason: "not needed after all".into(),
            ends_at: None,
        };
        let olga = Actor {
            name: "olga".into(),
            ip: None,
        };
        let now = ts("2026-12-07T10:00:00Z");
        change_flag(
            db.store.as_ref(),
            &settings(),
            &off,
            &olga,
            &Authority::Direct,
            now,
        )
        .await
        .unwrap();
        let d = w
            .approvals
            .decide(&id, &admin("bob"), true, "ok")
            .await
            .unwrap();
        assert!(
            matches!(&d.run, Some(RunOutcome::Failed { reason }) if reason.contains("changed since the request")),
            "{}: {:?}",
            db.label,
            d.run
        );
        let flag = w.checkout().await.unwrap();
        assert!(!flag.on);
        assert_eq!(flag.version, 1);
    }
}

#[tokio::test]
async fn a_direct_switch_on_is_still_refused_and_off_needs_no_approval() {
    for db in each_backend().await {
        let w = World::new(db.store.clone());
        let change = FlagChange {
            key: FlagKey::FreezeCheckout,
            on: false,
            targets: Vec::new(),
            text: None,
            reason: "all clear".into(),
            ends_at: None,
        };
        let actor = Actor {
            name: "anna".into(),
            ip: None,
        };
        let err = request_switch_on(&w.approvals, &change, &actor, RequestedVia::Dashboard)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("switch it off directly"), "{err}");
        let bad = FlagChange {
            on: true,
            reason: " ".into(),
            ..change
        };
        let err = request_switch_on(&w.approvals, &bad, &actor, RequestedVia::Dashboard)
            .await
            .unwrap_err();
        assert!(err.to_string().starts_with("reason:"), "{err}");
        assert!(
            db.store.approvals(None, 10).await.unwrap().is_empty(),
            "{}",
            db.label
        );
    }
}
