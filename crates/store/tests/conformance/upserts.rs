//! Upsert rules: idempotence, newer wins, stale ignored, duplicates in a
//! batch, atomicity with the checkpoint, concurrent writers.

use crate::fixtures::*;
use crate::{raw_execute, seqs_of};
use opsdeck_domain::*;
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AnyRecord, UpsertOutcome};

pub(crate) async fn upsert_is_idempotent(db: &TestStore) {
    let batch = one_of_each("2024-05-01T10:00:00Z");
    let first = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(first.inserted(), 6, "{}", db.label);
    assert_eq!(seqs_of(&first.outcomes), vec![1, 2, 3, 4, 5, 6]);
    let second = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(second.outcomes, vec![UpsertOutcome::Unchanged; 6]);
    assert_eq!(db.store.latest_seq().await.unwrap(), 6);
}

pub(crate) async fn older_update_is_stale_and_ignored(db: &TestStore) {
    let current = order("1001", "2024-05-01T10:00:00Z");
    db.store
        .upsert(&[AnyRecord::Order(current.clone())], None)
        .await
        .unwrap();
    let mut older = order("1001", "2024-05-01T09:00:00Z");
    older.financial_status = FinancialStatus::Refunded;
    let report = db
        .store
        .upsert(&[AnyRecord::Order(older)], None)
        .await
        .unwrap();
    assert_eq!(report.outcomes, vec![UpsertOutcome::Stale]);
    let stored = db.store.get_order(&current.source, "1001").await.unwrap();
    assert_eq!(stored, Some(current));
    assert_eq!(db.store.latest_seq().await.unwrap(), 1);
}

pub(crate) async fn newer_update_wins_with_a_new_seq(db: &TestStore) {
    let first = order("1001", "2024-05-01T10:00:00Z");
    db.store
        .upsert(&[AnyRecord::Order(first)], None)
        .await
        .unwrap();
    let mut newer = order("1001", "2024-05-01T10:00:00Z");
    newer.updated_at = ts("2024-05-01T11:00:00Z");
    newer.fulfillment_status = OrderFulfillmentStatus::Fulfilled;
    let report = db
        .store
        .upsert(&[AnyRecord::Order(newer.clone())], None)
        .await
        .unwrap();
    assert_eq!(report.outcomes, vec![UpsertOutcome::Updated { seq: 2 }]);
    let stored = db.store.get_order(&newer.source, "1001").await.unwrap();
    assert_eq!(stored, Some(newer));
}

pub(crate) async fn equal_time_different_content_updates(db: &TestStore) {
    let first = ticket("t-1", "2024-05-01T10:00:00Z");
    db.store
        .upsert(&[AnyRecord::Ticket(first.clone())], None)
        .await
        .unwrap();
    let mut retagged = first.clone();
    retagged.tags.push("urgent".into());
    let report = db
        .store
        .upsert(&[AnyRecord::Ticket(retagged.clone())], None)
        .await
        .unwrap();
    assert_eq!(report.outcomes, vec![UpsertOutcome::Updated { seq: 2 }]);
    let changes = db.store.changes_since(0, 10).await.unwrap();
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].record, AnyRecord::Ticket(retagged));
}

/// The indexed column keeps microseconds; the body keeps nanoseconds and
/// breaks ties, so a record 500 ns older is still stale.
pub(crate) async fn sub_microsecond_times_still_order_updates(db: &TestStore) {
    let base = order("1001", "2024-05-01T10:00:00.000000700Z");
    db.store
        .upsert(&[AnyRecord::Order(base.clone())], None)
        .await
        .unwrap();
    let mut older = base.clone();
    older.updated_at = ts("2024-05-01T10:00:00.000000200Z");
    older.name = "#older".into();
    let mut newer = base.clone();
    newer.updated_at = ts("2024-05-01T10:00:00.000000900Z");
    newer.name = "#newer".into();
    let report = db
        .store
        .upsert(
            &[AnyRecord::Order(older), AnyRecord::Order(newer.clone())],
            None,
        )
        .await
        .unwrap();
    assert_eq!(
        report.outcomes,
        vec![UpsertOutcome::Stale, UpsertOutcome::Updated { seq: 2 }]
    );
    let stored = db.store.get_order(&base.source, "1001").await.unwrap();
    assert_eq!(stored, Some(newer));
}

pub(crate) async fn duplicate_keys_in_one_batch_apply_in_order(db: &TestStore) {
    let v1 = order("1001", "2024-05-01T10:00:00Z");
    let mut v2 = v1.clone();
    v2.updated_at = ts("2024-05-01T11:00:00Z");
    v2.financial_status = FinancialStatus::PartiallyRefunded;
    let batch = [
        AnyRecord::Order(v1.clone()),
        AnyRecord::Order(v2.clone()),
        AnyRecord::Order(v1),
        AnyRecord::Order(v2.clone()),
    ];
    let report = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(
        report.outcomes,
        vec![
            UpsertOutcome::Inserted { seq: 1 },
            UpsertOutcome::Updated { seq: 2 },
            UpsertOutcome::Stale,
            UpsertOutcome::Unchanged,
        ]
    );
    let changes = db.store.changes_since(0, 10).await.unwrap();
    assert_eq!(changes.len(), 1, "a record appears once, at its latest seq");
    assert_eq!(changes[0].seq, 2);
    assert_eq!(changes[0].record, AnyRecord::Order(v2));
    assert_eq!(db.store.latest_seq().await.unwrap(), 2);
}

pub(crate) async fn failed_batch_leaves_nothing_written(db: &TestStore) {
    // A database error on the last record (here its table is gone) must
    // undo the records before it, the counter and the checkpoint.
    raw_execute(db, "DROP TABLE satisfaction_surveys").await;
    let batch = one_of_each("2024-05-01T10:00:00Z");
    let checkpoint = sync_state("gorgias", "tickets");
    let result = db.store.upsert(&batch, Some(&checkpoint)).await;
    assert!(result.is_err(), "{}: batch should fail", db.label);
    let counts = db.store.record_counts().await;
    assert!(counts.is_err(), "surveys table is gone, counting fails");
    assert!(db
        .store
        .list_orders(&source("shopify-mavena"))
        .await
        .unwrap()
        .is_empty());
    assert!(db.store.changes_since(0, 10).await.is_err());
    assert_eq!(db.store.latest_seq().await.unwrap(), 0);
    assert_eq!(
        db.store
            .sync_state(&source("gorgias"), "tickets")
            .await
            .unwrap(),
        None
    );
    // The next good batch starts at seq 1: no gap was burned.
    let report = db.store.upsert(&batch[..5], None).await.unwrap();
    assert_eq!(seqs_of(&report.outcomes), vec![1, 2, 3, 4, 5]);
}

pub(crate) async fn failed_checkpoint_leaves_no_records(db: &TestStore) {
    raw_execute(db, "DROP TABLE sync_state").await;
    let batch = one_of_each("2024-05-01T10:00:00Z");
    let checkpoint = sync_state("shopify-mavena", "orders");
    assert!(db.store.upsert(&batch, Some(&checkpoint)).await.is_err());
    assert_eq!(db.store.record_counts().await.unwrap(), Default::default());
    assert_eq!(db.store.latest_seq().await.unwrap(), 0);
}

pub(crate) async fn checkpoint_commits_with_the_batch(db: &TestStore) {
    let batch = [AnyRecord::Order(order("1001", "2024-05-01T10:00:00Z"))];
    let mut checkpoint = sync_state("shopify-mavena", "orders");
    db.store.upsert(&batch, Some(&checkpoint)).await.unwrap();
    let stored = db
        .store
        .sync_state(&source("shopify-mavena"), "orders")
        .await;
    assert_eq!(stored.unwrap(), Some(checkpoint.clone()));
    // A page with nothing new still moves the checkpoint.
    checkpoint.cursor = Some("page-2".into());
    checkpoint.records_synced += 1;
    let report = db.store.upsert(&batch, Some(&checkpoint)).await.unwrap();
    assert_eq!(report.outcomes, vec![UpsertOutcome::Unchanged]);
    let stored = db
        .store
        .sync_state(&source("shopify-mavena"), "orders")
        .await;
    assert_eq!(stored.unwrap(), Some(checkpoint));
}

/// Writers in parallel: every write gets its own seq, the feed holds them
/// all, and a reader following the feed never misses one.
pub(crate) async fn concurrent_batches_get_distinct_ordered_seqs(db: &TestStore) {
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let store = db.store.clone();
            tokio::spawn(async move {
                let mut seqs = Vec::new();
                for b in 0..10 {
                    let batch: Vec<_> = (0..5)
                        .map(|i| {
                            AnyRecord::Order(order(&format!("{w}-{b}-{i}"), "2024-05-01T10:00:00Z"))
                        })
                        .collect();
                    seqs.extend(seqs_of(&store.upsert(&batch, None).await.unwrap().outcomes));
                }
                seqs
            })
        })
        .collect();
    let mut all = Vec::new();
    for writer in writers {
        all.extend(writer.await.unwrap());
    }
    all.sort_unstable();
    assert_eq!(all, (1..=200).collect::<Vec<u64>>());
    let feed = db.store.changes_since(0, 1000).await.unwrap();
    assert_eq!(feed.iter().map(|c| c.seq).collect::<Vec<_>>(), all);
}

/// The merge rule (`Order::keep_what_only_the_stored_copy_knows`): a
/// shipment's estimated delivery, which only Shopify's GraphQL face
/// carries, is kept when a newer record arrives from the REST face (a
/// webhook) without it, in the stored copy and on the change feed, and a
/// replayed webhook then changes nothing; the reverse, a GraphQL sync after
/// a webhook, stores the estimate; an older record still never wins; a
/// new estimate replaces the old.
pub(crate) async fn a_field_only_one_face_carries_is_kept(db: &TestStore) {
    let put = |records: Vec<Order>| {
        let batch: Vec<AnyRecord> = records.into_iter().map(AnyRecord::Order).collect();
        async move { db.store.upsert(&batch, None).await.unwrap().outcomes }
    };
    let estimate = ts("2024-05-04T12:00:00Z");
    let by_graphql = |id: &str, at: &str| {
        let mut o = order(id, at);
        o.fulfillments[0].estimated_delivery_at = Some(estimate);
        o
    };
    let by_webhook = |id: &str, at: &str| {
        let mut o = order(id, at);
        o.fulfillments[0].estimated_delivery_at = None;
        o
    };
    let stored = |id: &'static str| async move {
        db.store
            .get_order(&order(id, "2024-05-01T10:00:00Z").source, id)
            .await
            .unwrap()
            .unwrap()
    };

    // A webhook after a GraphQL sync.
    put(vec![by_graphql("1001", "2024-05-01T10:00:00Z")]).await;
    let mut delivered = by_webhook("1001", "2024-05-01T11:00:00Z");
    delivered.fulfillments[0].shipment_status = Some(ShipmentStatus::Delivered);
    assert_eq!(
        put(vec![delivered.clone()]).await,
        vec![UpsertOutcome::Updated { seq: 2 }],
        "{}",
        db.label
    );
    let kept = stored("1001").await;
    assert_eq!(
        kept.fulfillments[0].shipment_status,
        Some(ShipmentStatus::Delivered)
    );
    assert_eq!(
        kept.fulfillments[0].estimated_delivery_at,
        Some(estimate),
        "{}",
        db.label
    );
    let changes = db.store.changes_since(1, 10).await.unwrap();
    assert_eq!(
        changes[0].record,
        AnyRecord::Order(kept.clone()),
        "the feed has the merged copy"
    );
    assert_eq!(
        put(vec![delivered]).await,
        vec![UpsertOutcome::Unchanged],
        "a replayed webhook"
    );
    // An older record, of either face, never overwrites the newer one.
    assert_eq!(
        put(vec![by_graphql("1001", "2024-05-01T09:00:00Z")]).await,
        vec![UpsertOutcome::Stale]
    );
    assert_eq!(stored("1001").await, kept);
    // A newer estimate replaces the kept one.
    let mut later = by_graphql("1001", "2024-05-01T12:00:00Z");
    let moved = ts("2024-05-05T12:00:00Z");
    later.fulfillments[0].estimated_delivery_at = Some(moved);
    put(vec![later.clone()]).await;
    assert_eq!(stored("1001").await, later);

    // A GraphQL sync after a webhook of the same moment: the estimate is stored.
    put(vec![by_webhook("1002", "2024-05-01T10:00:00Z")]).await;
    assert_eq!(
        stored("1002").await.fulfillments[0].estimated_delivery_at,
        None
    );
    let synced = by_graphql("1002", "2024-05-01T10:00:00Z");
    assert!(matches!(
        put(vec![synced.clone()]).await[..],
        [UpsertOutcome::Updated { .. }]
    ));
    assert_eq!(stored("1002").await, synced);
    assert_eq!(
        put(vec![by_webhook("1002", "2024-05-01T10:00:00Z")]).await,
        vec![UpsertOutcome::Unchanged]
    );

    // Both in one batch: the rule holds against the batch's own copy.
    let outcomes = put(vec![
        by_graphql("1003", "2024-05-01T10:00:00Z"),
        by_webhook("1003", "2024-05-01T11:00:00Z"),
    ])
    .await;
    assert!(matches!(
        outcomes[..],
        [
            UpsertOutcome::Inserted { .. },
            UpsertOutcome::Updated { .. }
        ]
    ));
    assert_eq!(
        stored("1003").await.fulfillments[0].estimated_delivery_at,
        Some(estimate)
    );
}
