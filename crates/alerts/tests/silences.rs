//! Silences kept in the store: ending one early cuts its window at once (so
//! the next evaluation no longer sees it), cancels one that has not started,
//! is harmless twice, names a silence that does not exist, and is audited.
//! Runs on SQLite and, when `OPSDECK_TEST_POSTGRES_URL` is set, PostgreSQL.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::actions::{end_silence, silence, EndSilenceOutcome};
use opsdeck_alerts::*;
use opsdeck_store::testing::each_backend;
use opsdeck_store::Store;

fn t0() -> Timestamp {
    "2026-03-08T06:00:00Z".parse().unwrap()
}

fn at(mins: i64) -> Timestamp {
    t0() + SignedDuration::from_mins(mins)
}

fn mute(id: &str, from: i64, to: i64) -> Silence {
    Silence {
        id: id.into(),
        matchers: Matchers {
            rules: vec!["zero_orders".into()],
            brands: vec!["mavena".into()],
            labels: vec![],
        },
        starts_at: at(from),
        ends_at: at(to),
        reason: "carrier outage, known".into(),
        author: "ops@example.com".into(),
        incident: None,
    }
}

#[tokio::test]
async fn ending_a_silence_cuts_its_window_and_is_audited() {
    for db in each_backend().await {
        let store: &dyn Store = db.store.as_ref();
        let who = Actor::new("ops@example.com", Via::Api);
        silence(store, &mute("s-now", 0, 120), &who, at(0))
            .await
            .unwrap();
        silence(store, &mute("s-later", 60, 120), &who, at(0))
            .await
            .unwrap();
        assert_eq!(store.alert_silences(Some(at(10))).await.unwrap().len(), 1);

        let ended = end_silence(store, "s-now", &who, at(10)).await.unwrap();
        assert_eq!(ended, EndSilenceOutcome::Ended, "{}", db.label);
        assert!(
            store.alert_silences(Some(at(11))).await.unwrap().is_empty(),
            "{}: an ended silence hides nothing",
            db.label
        );
        let again = end_silence(store, "s-now", &who, at(20)).await.unwrap();
        assert_eq!(again, EndSilenceOutcome::AlreadyEnded { at: at(10) });

        // Not started yet: cancelled, it never becomes active.
        end_silence(store, "s-later", &who, at(10)).await.unwrap();
        assert!(store.alert_silences(Some(at(90))).await.unwrap().is_empty());

        let missing = end_silence(store, "nope", &who, at(10)).await;
        assert!(
            matches!(missing, Err(AlertError::NoSuchSilence(ref id)) if id == "nope"),
            "{missing:?}"
        );

        let audit = store.audit_log(10).await.unwrap();
        let ends: Vec<_> = audit
            .iter()
            .filter(|e| e.action == opsdeck_store::AuditAction::AlertSilenceEnd)
            .collect();
        assert_eq!(ends.len(), 2, "{}: {audit:?}", db.label);
        assert!(ends
            .iter()
            .any(|e| e.subject == "alert_silence:s-now"
                && e.payload["ended_at"] == at(10).to_string()));
    }
}
