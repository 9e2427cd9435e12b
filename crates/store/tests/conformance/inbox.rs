//! The webhook inbox: dedupe on (source, webhook id), due-time ordering,
//! processed / retry / failed bookkeeping, stats.

use crate::fixtures::*;
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AnyRecord, AppliedWebhooks, InboxEvent, InsertOutcome, WebhookStatus};

fn event(source_id: &str, webhook_id: &str, at: &str) -> InboxEvent {
    InboxEvent {
        source: source(source_id),
        shop_domain: format!("{}.myshopify.com", source_id.trim_start_matches("shopify-")),
        webhook_id: webhook_id.into(),
        event_id: Some(format!("ev-{webhook_id}")),
        topic: "orders/updated".into(),
        api_version: Some("2025-07".into()),
        triggered_at: Some(ts(at)),
        received_at: ts(at),
        // Raw bytes as sent: spacing and key order are kept exactly.
        body: format!("{{\"id\": 1001,  \"note\":\"é {webhook_id}\"}}"),
    }
}

fn inserted(o: &InsertOutcome) -> bool {
    matches!(o, InsertOutcome::Inserted { .. })
}

pub(crate) async fn inbox_dedupes_on_source_and_webhook_id(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let first = db
        .store
        .insert_webhooks(&[event("shopify-a", "w1", at), event("shopify-a", "w2", at)])
        .await
        .unwrap();
    assert!(first.iter().all(inserted), "{first:?}");
    // A redelivery, a repeat inside one batch, and the same id of another shop.
    let second = db
        .store
        .insert_webhooks(&[
            event("shopify-a", "w1", at),
            event("shopify-a", "w3", at),
            event("shopify-a", "w3", at),
            event("shopify-b", "w1", at),
        ])
        .await
        .unwrap();
    assert_eq!(second[0], InsertOutcome::Duplicate);
    assert!(inserted(&second[1]));
    assert_eq!(second[2], InsertOutcome::Duplicate);
    assert!(inserted(&second[3]));
    let pending = db.store.pending_webhooks(ts(at), 100).await.unwrap();
    assert_eq!(pending.len(), 4);
    let ids: Vec<_> = pending.iter().map(|w| w.id).collect();
    let mut sorted = ids.clone();
    sorted.sort_unstable();
    assert_eq!(ids, sorted, "oldest first");
    // Round trip of every field, body byte for byte.
    assert_eq!(pending[0].event, event("shopify-a", "w1", at));
    assert_eq!(pending[0].status, WebhookStatus::Pending);
    assert_eq!(pending[0].attempts, 0);
    let stats = db.store.webhook_stats().await.unwrap();
    assert_eq!(stats.pending, 4);
    assert_eq!(stats.oldest_pending_received_at, Some(ts(at)));
}

pub(crate) async fn inbox_processed_events_leave_the_queue(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let out = db
        .store
        .insert_webhooks(&[event("shopify-a", "w1", at), event("shopify-a", "w2", at)])
        .await
        .unwrap();
    let InsertOutcome::Inserted { id } = out[0] else {
        panic!("{out:?}")
    };
    db.store
        .mark_webhooks_processed(&[(id, "order 1001 updated".into())], ts(at))
        .await
        .unwrap();
    let pending = db.store.pending_webhooks(ts(at), 100).await.unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].event.webhook_id, "w2");
    let done = db
        .store
        .webhooks_with_status(WebhookStatus::Processed, 10)
        .await
        .unwrap();
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].result.as_deref(), Some("order 1001 updated"));
    // A redelivery of a processed event is still a duplicate.
    let again = db
        .store
        .insert_webhooks(&[event("shopify-a", "w1", at)])
        .await
        .unwrap();
    assert_eq!(again, [InsertOutcome::Duplicate]);
    let stats = db.store.webhook_stats().await.unwrap();
    assert_eq!((stats.pending, stats.processed, stats.failed), (1, 1, 0));
}

pub(crate) async fn inbox_failures_retry_later_then_give_up_visibly(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let out = db
        .store
        .insert_webhooks(&[event("shopify-a", "w1", at)])
        .await
        .unwrap();
    let InsertOutcome::Inserted { id } = out[0] else {
        panic!("{out:?}")
    };
    db.store
        .mark_webhook_failed(
            id,
            "order 7 not stored yet",
            Some(ts("2024-05-01T10:00:30Z")),
        )
        .await
        .unwrap();
    // Not due before the retry time, due after it.
    assert!(db
        .store
        .pending_webhooks(ts(at), 10)
        .await
        .unwrap()
        .is_empty());
    let due = db
        .store
        .pending_webhooks(ts("2024-05-01T10:00:30Z"), 10)
        .await
        .unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].attempts, 1);
    assert_eq!(due[0].last_error.as_deref(), Some("order 7 not stored yet"));
    let stats = db.store.webhook_stats().await.unwrap();
    assert_eq!((stats.pending, stats.retrying), (1, 1));

    db.store
        .mark_webhook_failed(id, "still broken", None)
        .await
        .unwrap();
    assert!(db
        .store
        .pending_webhooks(ts("2030-01-01T00:00:00Z"), 10)
        .await
        .unwrap()
        .is_empty());
    let failed = db
        .store
        .webhooks_with_status(WebhookStatus::Failed, 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 2);
    assert_eq!(failed[0].last_error.as_deref(), Some("still broken"));
    let stats = db.store.webhook_stats().await.unwrap();
    assert_eq!((stats.pending, stats.failed), (0, 1));
    assert_eq!(stats.oldest_pending_received_at, None);
}

pub(crate) async fn inbox_recent_failures_are_listed_newest_first(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let events: Vec<InboxEvent> = (1..=4)
        .map(|i| event("shopify-a", &format!("w{i}"), at))
        .collect();
    let out = db.store.insert_webhooks(&events).await.unwrap();
    let ids: Vec<i64> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Inserted { id } => *id,
            other => panic!("{other:?}"),
        })
        .collect();
    // w1, w3 and w4 given up on; w2 only retrying.
    for (id, retry) in [(ids[0], None), (ids[1], Some(ts("2030-01-01T00:00:00Z")))] {
        db.store
            .mark_webhook_failed(id, "bad", retry)
            .await
            .unwrap();
    }
    for id in &ids[2..] {
        db.store
            .mark_webhook_failed(*id, "worse", None)
            .await
            .unwrap();
    }
    let recent = db.store.recent_failed_webhooks(2).await.unwrap();
    let names: Vec<&str> = recent.iter().map(|w| w.event.webhook_id.as_str()).collect();
    assert_eq!(names, ["w4", "w3"]);
    assert_eq!(recent[0].last_error.as_deref(), Some("worse"));
    assert_eq!(db.store.recent_failed_webhooks(10).await.unwrap().len(), 3);
}

pub(crate) async fn inbox_large_batches_commit_whole(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let events: Vec<InboxEvent> = (0..450)
        .map(|i| event("shopify-a", &format!("w{i}"), at))
        .collect();
    let out = db.store.insert_webhooks(&events).await.unwrap();
    assert_eq!(out.iter().filter(|o| inserted(o)).count(), 450);
    let pending = db.store.pending_webhooks(ts(at), 1000).await.unwrap();
    assert_eq!(pending.len(), 450);
    let done: Vec<(i64, String)> = pending.iter().map(|w| (w.id, "ok".to_string())).collect();
    db.store
        .mark_webhooks_processed(&done, ts(at))
        .await
        .unwrap();
    assert_eq!(db.store.webhook_stats().await.unwrap().processed, 450);
}

pub(crate) async fn inbox_events_applied_with_their_records_in_one_commit(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let out = db
        .store
        .insert_webhooks(&[
            event("shopify-a", "w1", at),
            event("shopify-a", "w2", at),
            event("shopify-a", "w3", at),
        ])
        .await
        .unwrap();
    let ids: Vec<i64> = out
        .iter()
        .map(|o| match o {
            InsertOutcome::Inserted { id } => *id,
            other => panic!("{other:?}"),
        })
        .collect();
    let newer = order("o-1", "2024-05-01T10:00:00Z");
    let older = order("o-1", "2024-04-01T10:00:00Z");
    let applied = AppliedWebhooks {
        owners: &[(ids[0], "order o-1".into()), (ids[1], "order o-1".into())],
        notes: &[(ids[2], "nothing to do".into())],
        at: ts(at),
    };
    let report = db
        .store
        .upsert_applying_webhooks(
            &[AnyRecord::Order(newer), AnyRecord::Order(older)],
            &applied,
        )
        .await
        .unwrap();
    assert_eq!(report.outcomes[1], opsdeck_store::UpsertOutcome::Stale);
    assert!(db
        .store
        .pending_webhooks(ts(at), 10)
        .await
        .unwrap()
        .is_empty());
    let done = db
        .store
        .webhooks_with_status(WebhookStatus::Processed, 10)
        .await
        .unwrap();
    let results: Vec<(i64, Option<&str>)> =
        done.iter().map(|w| (w.id, w.result.as_deref())).collect();
    assert_eq!(
        results,
        [
            (ids[0], Some("order o-1 inserted")),
            (ids[1], Some("order o-1 stale (a newer copy is stored)")),
            (ids[2], Some("nothing to do")),
        ]
    );
}

pub(crate) async fn get_product_reads_one_product(db: &TestStore) {
    let p = product("p-1", "2024-05-01T10:00:00Z");
    db.store
        .upsert(&[opsdeck_store::AnyRecord::Product(p.clone())], None)
        .await
        .unwrap();
    assert_eq!(
        db.store.get_product(&p.source, "p-1").await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(db.store.get_product(&p.source, "p-2").await.unwrap(), None);
}
