//! The alert tables: one-step commits, one open episode per key, the outbox
//! claim/lease/finish rules and the leader lease.

use jiff::{SignedDuration, Timestamp};
use opsdeck_store::alerts::*;
use opsdeck_store::testing::TestStore;
use serde_json::json;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn episode(id: &str, key: &str, state: &str, at: &str) -> EpisodeRow {
    EpisodeRow {
        id: id.into(),
        dedup_key: key.into(),
        rule: "zero_orders".into(),
        brand: "mavena".into(),
        severity: Severity::Critical,
        state: EpisodeState::parse(state),
        opened_at: t(at),
        updated_at: t(at),
        body: json!({"value": 0, "why": "no order <6 h> & counting"}),
    }
}

fn notification(id: &str, episodes: &[&str], at: &str) -> NewNotification {
    NewNotification {
        id: id.into(),
        channel: Channel::Telegram,
        payload: json!({"text": "hi"}),
        episode_ids: episodes.iter().map(|e| e.to_string()).collect(),
        created_at: t(at),
        expires_at: t("2026-03-02T00:00:00Z"),
    }
}

pub(crate) async fn alert_step_commits_whole_with_history(db: &TestStore) {
    let at = "2026-03-01T10:00:00Z";
    let batch = AlertBatch {
        episodes: vec![episode("e1", "zero_orders|mavena|brand", "firing", at)],
        events: vec![EventRow {
            episode_id: "e1".into(),
            at: t(at),
            kind: EventKind::Firing,
            body: json!({"from": "pending"}),
        }],
        notifications: vec![notification("n1", &["e1"], at)],
        silences: vec![],
        audit: vec![opsdeck_store::AuditEntry {
            at: t(at),
            actor: "ops@example.com".into(),
            action: opsdeck_store::AuditAction::AlertAcknowledge,
            subject: "alert_episode:e1".into(),
            payload: json!({"via": "api"}),
            ip: Some("127.0.0.1".into()),
        }],
    };
    db.store.alert_commit(&batch).await.unwrap();
    let got = db.store.alert_episode("e1").await.unwrap().unwrap();
    assert_eq!(got, batch.episodes[0]);
    assert_eq!(db.store.alert_events("e1").await.unwrap(), batch.events);
    assert_eq!(db.store.audit_log(10).await.unwrap(), batch.audit);
    let sent = db.store.outbox_list(Some("e1"), 10).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, OutboxStatus::Pending);
    assert_eq!(sent[0].payload, json!({"text": "hi"}));

    // A second open episode for the same key is refused, and nothing of
    // that batch (not even its notification) is written.
    let dup = AlertBatch {
        episodes: vec![episode("e2", "zero_orders|mavena|brand", "firing", at)],
        notifications: vec![notification("n2", &["e2"], at)],
        ..Default::default()
    };
    assert!(db.store.alert_commit(&dup).await.is_err());
    assert!(db.store.alert_episode("e2").await.unwrap().is_none());
    assert_eq!(db.store.outbox_list(None, 10).await.unwrap().len(), 1);

    // Resolving replaces the row; then a new episode for the key may open.
    let mut resolved = episode("e1", "zero_orders|mavena|brand", "resolved", at);
    resolved.updated_at = t("2026-03-01T11:00:00Z");
    let close = AlertBatch {
        episodes: vec![resolved.clone()],
        ..Default::default()
    };
    db.store.alert_commit(&close).await.unwrap();
    db.store.alert_commit(&dup).await.unwrap();
    let open = EpisodeFilter {
        open_only: true,
        brand: None,
        limit: 10,
    };
    let open: Vec<String> = db
        .store
        .alert_episodes(&open)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(open, ["e2"]);
    let all = EpisodeFilter {
        open_only: false,
        brand: Some("mavena".into()),
        limit: 10,
    };
    assert_eq!(db.store.alert_episodes(&all).await.unwrap().len(), 2);
}

/// A severity or state this version does not know (written by a newer
/// one) reads back verbatim; an unknown state counts as open, as the
/// store's own rules treat anything but `resolved`.
pub(crate) async fn episode_severity_and_state_of_a_newer_version_are_kept(db: &TestStore) {
    let at = "2026-03-01T10:00:00Z";
    let mut e = episode("e1", "k1", "snoozed", at);
    e.severity = Severity::parse("page");
    let batch = AlertBatch {
        episodes: vec![e.clone()],
        ..Default::default()
    };
    db.store.alert_commit(&batch).await.unwrap();
    let got = db.store.alert_episode("e1").await.unwrap().unwrap();
    assert_eq!(got, e);
    assert_eq!(got.severity, Severity::Other("page".into()));
    assert_eq!(got.state, EpisodeState::Other("snoozed".into()));
    let open = EpisodeFilter {
        open_only: true,
        brand: None,
        limit: 10,
    };
    let open = db.store.alert_episodes(&open).await.unwrap();
    assert_eq!(open.len(), 1);
    assert!(open[0].state.is_open());
}

/// A notification's channel reads back as the variant it was written as,
/// and one this version does not know (a newer version's, or a name a
/// caller maps itself) as `Other`, spelled as written.
pub(crate) async fn outbox_channels_read_back_as_written(db: &TestStore) {
    let at = "2026-03-01T10:00:00Z";
    let mut pager = notification("n2", &["e1"], at);
    pager.channel = Channel::parse("pager");
    let batch = AlertBatch {
        episodes: vec![episode("e1", "k1", "firing", at)],
        notifications: vec![notification("n1", &["e1"], at), pager],
        ..Default::default()
    };
    db.store.alert_commit(&batch).await.unwrap();
    let mut got: Vec<(String, Channel)> = db
        .store
        .outbox_list(Some("e1"), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|r| (r.id, r.channel))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("n1".to_string(), Channel::Telegram),
            ("n2".to_string(), Channel::Other("pager".into())),
        ]
    );
}

pub(crate) async fn outbox_claim_lease_and_finish(db: &TestStore) {
    let at = "2026-03-01T10:00:00Z";
    let batch = AlertBatch {
        episodes: vec![episode("e1", "k1", "firing", at)],
        notifications: vec![
            notification("n1", &["e1"], at),
            notification("n2", &["e1"], at),
        ],
        ..Default::default()
    };
    db.store.alert_commit(&batch).await.unwrap();
    let lease = SignedDuration::from_secs(30);
    let now = t("2026-03-01T10:00:01Z");
    let a = db.store.outbox_claim("a", now, lease, 1).await.unwrap();
    assert_eq!(a.len(), 1, "{a:?}");
    assert_eq!(a[0].attempts, 1);
    assert_eq!(a[0].lease_holder.as_deref(), Some("a"));
    let b = db.store.outbox_claim("b", now, lease, 10).await.unwrap();
    assert_eq!(b.len(), 1, "the row a holds is not handed to b");
    assert_ne!(a[0].id, b[0].id);
    assert!(db
        .store
        .outbox_claim("c", now, lease, 10)
        .await
        .unwrap()
        .is_empty());

    // b retries later; a crashes without finishing.
    let retry = DeliveryResult::Retry {
        at: t("2026-03-01T10:00:05Z"),
        error: "HTTP 429".into(),
    };
    assert!(db
        .store
        .outbox_finish(&b[0].id, "b", &retry, now)
        .await
        .unwrap());
    assert!(db
        .store
        .outbox_claim("c", t("2026-03-01T10:00:04Z"), lease, 10)
        .await
        .unwrap()
        .is_empty());
    let again = db
        .store
        .outbox_claim("c", t("2026-03-01T10:00:05Z"), lease, 10)
        .await
        .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, b[0].id);
    assert_eq!(again[0].attempts, 2);
    assert_eq!(again[0].last_error.as_deref(), Some("HTTP 429"));

    // a's lease passes: d takes the row; a's late finish is refused.
    let late = t("2026-03-01T10:00:31Z");
    let taken = db.store.outbox_claim("d", late, lease, 10).await.unwrap();
    assert_eq!(
        taken.iter().map(|r| r.id.clone()).collect::<Vec<_>>(),
        [a[0].id.clone()]
    );
    assert!(!db
        .store
        .outbox_finish(&a[0].id, "a", &DeliveryResult::Delivered, late)
        .await
        .unwrap());
    assert!(db
        .store
        .outbox_finish(&a[0].id, "d", &DeliveryResult::Delivered, late)
        .await
        .unwrap());
    let expired = DeliveryResult::Expired {
        error: "HTTP 404".into(),
    };
    assert!(db
        .store
        .outbox_finish(&b[0].id, "c", &expired, late)
        .await
        .unwrap());
    let rows = db.store.outbox_list(Some("e1"), 10).await.unwrap();
    let status = |id: &str| rows.iter().find(|r| r.id == id).unwrap().clone();
    assert_eq!(status(&a[0].id).status, OutboxStatus::Delivered);
    assert_eq!(status(&a[0].id).delivered_at, Some(late));
    assert_eq!(status(&b[0].id).status, OutboxStatus::Expired);
    assert!(db
        .store
        .outbox_claim("e", t("2026-03-01T12:00:00Z"), lease, 10)
        .await
        .unwrap()
        .is_empty());
}

pub(crate) async fn silences_by_window(db: &TestStore) {
    let s = SilenceRow {
        id: "s1".into(),
        starts_at: t("2026-03-01T10:00:00Z"),
        ends_at: t("2026-03-01T12:00:00Z"),
        created_at: t("2026-03-01T09:00:00Z"),
        body: json!({"reason": "planned maintenance", "author": "ops@example.com"}),
    };
    let batch = AlertBatch {
        silences: vec![s.clone()],
        ..Default::default()
    };
    db.store.alert_commit(&batch).await.unwrap();
    assert_eq!(
        db.store
            .alert_silences(Some(t("2026-03-01T11:00:00Z")))
            .await
            .unwrap(),
        std::slice::from_ref(&s)
    );
    assert!(db
        .store
        .alert_silences(Some(t("2026-03-01T12:00:00Z")))
        .await
        .unwrap()
        .is_empty());
    assert!(db
        .store
        .alert_silences(Some(t("2026-03-01T09:59:59Z")))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(db.store.alert_silences(None).await.unwrap().len(), 1);
}

pub(crate) async fn leader_lease_is_exclusive_until_it_expires(db: &TestStore) {
    let ttl = SignedDuration::from_secs(10);
    let t0 = t("2026-03-01T10:00:00Z");
    assert!(db.store.alert_lease("alerts", "a", t0, ttl).await.unwrap());
    assert!(!db.store.alert_lease("alerts", "b", t0, ttl).await.unwrap());
    let t1 = t("2026-03-01T10:00:05Z");
    assert!(
        db.store.alert_lease("alerts", "a", t1, ttl).await.unwrap(),
        "renewal"
    );
    assert!(!db
        .store
        .alert_lease("alerts", "b", t("2026-03-01T10:00:14Z"), ttl)
        .await
        .unwrap());
    assert!(db
        .store
        .alert_lease("alerts", "b", t("2026-03-01T10:00:15Z"), ttl)
        .await
        .unwrap());
    assert!(!db
        .store
        .alert_lease("alerts", "a", t("2026-03-01T10:00:16Z"), ttl)
        .await
        .unwrap());
    db.store.alert_lease_release("alerts", "a").await.unwrap();
    assert!(!db
        .store
        .alert_lease("alerts", "a", t("2026-03-01T10:00:16Z"), ttl)
        .await
        .unwrap());
    db.store.alert_lease_release("alerts", "b").await.unwrap();
    assert!(db
        .store
        .alert_lease("alerts", "a", t("2026-03-01T10:00:16Z"), ttl)
        .await
        .unwrap());
}
