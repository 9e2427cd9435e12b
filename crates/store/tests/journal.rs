//! The SQLite store's webhook journal: what survives a restart, a cut
//! tail, rotation, and a second process.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use opsdeck_domain::{SourceId, Timestamp};
use opsdeck_store::testing::{sqlite_store, sqlite_with_journal_limits};
use opsdeck_store::{connect, InboxEvent, InsertOutcome, Store, WebhookStatus};
use std::path::PathBuf;
use std::sync::Arc;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn event(webhook_id: &str) -> InboxEvent {
    InboxEvent {
        source: SourceId::parse("shopify-a").unwrap(),
        shop_domain: "a.myshopify.com".into(),
        webhook_id: webhook_id.into(),
        event_id: None,
        topic: "orders/updated".into(),
        api_version: Some("2025-07".into()),
        triggered_at: Some(ts("2024-05-01T10:00:00Z")),
        received_at: ts("2024-05-01T10:00:01Z"),
        body: format!(
            "{{\"id\": 1, \"w\": \"{webhook_id}\", \"pad\": \"{}\"}}",
            "x".repeat(900)
        ),
    }
}

fn id(o: &InsertOutcome) -> i64 {
    match o {
        InsertOutcome::Inserted { id } => *id,
        other => panic!("not inserted: {other:?}"),
    }
}

fn journal_dir(url: &str) -> PathBuf {
    PathBuf::from(format!("{}-webhooks", url.trim_start_matches("sqlite://")))
}

fn segments(url: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(journal_dir(url))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "log"))
        .collect();
    files.sort();
    files
}

async fn pending_ids(store: &Arc<dyn Store>) -> Vec<String> {
    store
        .pending_webhooks(ts("2030-01-01T00:00:00Z"), 1000)
        .await
        .unwrap()
        .into_iter()
        .map(|w| w.event.webhook_id)
        .collect()
}

#[tokio::test]
async fn a_restart_brings_back_exactly_the_unresolved_events() {
    let test = sqlite_store().await;
    let store = test.store.clone();
    let out = store
        .insert_webhooks(&[event("w1"), event("w2"), event("w3"), event("w4")])
        .await
        .unwrap();
    let ids: Vec<i64> = out.iter().map(id).collect();
    store
        .mark_webhooks_processed(
            &[(ids[0], "order 1 updated".into())],
            ts("2024-05-01T10:00:02Z"),
        )
        .await
        .unwrap();
    store
        .mark_webhook_failed(ids[1], "broken", None)
        .await
        .unwrap();
    store
        .mark_webhook_failed(ids[2], "order not yet", Some(ts("2024-05-01T10:05:00Z")))
        .await
        .unwrap();
    // No clean shutdown: the handle is dropped as a killed process leaves it.
    drop(store);
    drop(test.store);

    let store = connect(&test.url).await.unwrap();
    assert_eq!(pending_ids(&store).await, ["w3", "w4"]);
    let again = store
        .insert_webhooks(&[
            event("w1"),
            event("w2"),
            event("w3"),
            event("w4"),
            event("w5"),
        ])
        .await
        .unwrap();
    assert_eq!(&again[..4], &[InsertOutcome::Duplicate; 4]);
    assert!(id(&again[4]) > ids[3], "ids keep rising after a restart");
    let failed = store
        .webhooks_with_status(WebhookStatus::Failed, 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(
        failed[0].event,
        event("w2"),
        "a failed event keeps its body"
    );
    let processed = store
        .webhooks_with_status(WebhookStatus::Processed, 10)
        .await
        .unwrap();
    assert_eq!(processed[0].result.as_deref(), Some("order 1 updated"));
    assert_eq!(
        processed[0].event.body, "",
        "a processed event keeps no body"
    );
    let stats = store.webhook_stats().await.unwrap();
    assert_eq!((stats.pending, stats.processed, stats.failed), (3, 1, 1));
}

#[tokio::test]
async fn a_frame_cut_by_a_crash_is_dropped_and_appending_goes_on() {
    let test = sqlite_store().await;
    test.store
        .insert_webhooks(&[event("w1"), event("w2")])
        .await
        .unwrap();
    drop(test.store);
    // What a process killed inside write() leaves: half a frame.
    let last = segments(&test.url).pop().unwrap();
    let whole = std::fs::read(&last).unwrap();
    let half = &whole[..whole.len() / 4];
    std::fs::OpenOptions::new()
        .append(true)
        .open(&last)
        .and_then(|mut f| std::io::Write::write_all(&mut f, half))
        .unwrap();

    let store = connect(&test.url).await.unwrap();
    assert_eq!(pending_ids(&store).await, ["w1", "w2"]);
    store.insert_webhooks(&[event("w3")]).await.unwrap();
    drop(store);
    let store = connect(&test.url).await.unwrap();
    assert_eq!(pending_ids(&store).await, ["w1", "w2", "w3"]);
}

#[tokio::test]
async fn resolved_segments_are_deleted() {
    let test = sqlite_store().await;
    drop(test.store);
    let store = sqlite_with_journal_limits(&test.url, 4_000, u64::MAX)
        .await
        .unwrap();
    let mut ids = Vec::new();
    for n in 0..12 {
        let out = store
            .insert_webhooks(&[event(&format!("a{n}")), event(&format!("b{n}"))])
            .await
            .unwrap();
        ids.extend(out.iter().map(id));
    }
    let before = segments(&test.url).len();
    assert!(before >= 5, "2 KB per group, 4 KB segments: {before}");
    // Resolving all but the last event frees every closed segment but the
    // ones holding it.
    let done: Vec<(i64, String)> = ids[..ids.len() - 1]
        .iter()
        .map(|id| (*id, "ok".to_string()))
        .collect();
    store
        .mark_webhooks_processed(&done, ts("2024-05-01T10:00:02Z"))
        .await
        .unwrap();
    let after = segments(&test.url);
    assert!(after.len() <= 2, "{after:?}");
    drop(store);
    let store = connect(&test.url).await.unwrap();
    assert_eq!(pending_ids(&store).await, ["b11"]);
}

#[tokio::test]
async fn a_second_process_cannot_take_the_journal() {
    let test = sqlite_store().await;
    test.store.insert_webhooks(&[event("w1")]).await.unwrap();
    let other = connect(&test.url).await.unwrap();
    let err = other.insert_webhooks(&[event("w2")]).await.unwrap_err();
    assert!(
        err.to_string()
            .contains("in use by another opsdeck process"),
        "{err}"
    );
    // Reading records is not affected.
    assert!(other.record_counts().await.is_ok());
}

#[tokio::test]
async fn rows_left_pending_by_a_version_before_the_journal_are_processed() {
    let test = sqlite_store().await;
    drop(test.store);
    // What the table-based inbox left behind.
    let pool = sqlx::SqlitePool::connect(&test.url).await.unwrap();
    sqlx::query(
        "INSERT INTO webhook_inbox (id, source, shop_domain, webhook_id, topic, received_at_us, \
         status, attempts, next_attempt_at_us) VALUES (7, 'shopify-a', 'a.myshopify.com', 'old', \
         'orders/updated', 1714557601000000, 'pending', 0, 1714557601000000)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO webhook_inbox_bodies (id, body) VALUES (7, '{\"id\": 1}')")
        .execute(&pool)
        .await
        .unwrap();
    pool.close().await;

    let store = connect(&test.url).await.unwrap();
    let pending = store
        .pending_webhooks(ts("2030-01-01T00:00:00Z"), 10)
        .await
        .unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(
        (pending[0].id, pending[0].event.body.as_str()),
        (7, "{\"id\": 1}")
    );
    assert_eq!(
        store.insert_webhooks(&[event("old")]).await.unwrap(),
        [InsertOutcome::Duplicate]
    );
    let new = store.insert_webhooks(&[event("new")]).await.unwrap();
    assert!(id(&new[0]) > 7);
    store
        .mark_webhooks_processed(&[(7, "done".into())], ts("2024-05-01T10:00:02Z"))
        .await
        .unwrap();
    assert_eq!(pending_ids(&store).await, ["new"]);
    let stats = store.webhook_stats().await.unwrap();
    assert_eq!((stats.pending, stats.processed), (1, 1));
}

#[tokio::test]
async fn a_backlog_past_its_limit_refuses_deliveries_until_applied() {
    let test = sqlite_store().await;
    drop(test.store);
    // Each body is ~940 bytes: the third group finds 1,880 pending.
    let store = sqlite_with_journal_limits(&test.url, 1 << 20, 1_500)
        .await
        .unwrap();
    let first = store.insert_webhooks(&[event("w1")]).await.unwrap();
    store.insert_webhooks(&[event("w2")]).await.unwrap();
    let err = store.insert_webhooks(&[event("w3")]).await.unwrap_err();
    assert!(err.to_string().contains("2 events"), "{err}");
    assert!(err.to_string().contains("waiting to be applied"), "{err}");
    assert_eq!(
        pending_ids(&store).await,
        ["w1", "w2"],
        "nothing half-written"
    );
    store
        .mark_webhooks_processed(&[(id(&first[0]), "ok".into())], ts("2024-05-01T10:00:02Z"))
        .await
        .unwrap();
    store.insert_webhooks(&[event("w3")]).await.unwrap();
    assert_eq!(pending_ids(&store).await, ["w2", "w3"]);
}
