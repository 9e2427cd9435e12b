//! The store conformance suite: every rule of the `Store` trait, checked the
//! same way on SQLite and on PostgreSQL.
//!
//! Each test body is an `async fn(&TestStore)`; `conformance!` generates a
//! `sqlite::NAME` and a `postgres::NAME` test for it. The PostgreSQL ones
//! print SKIPPED and pass when `OPSDECK_TEST_POSTGRES_URL` is unset (and
//! fail when CI also sets `OPSDECK_REQUIRE_POSTGRES=1`).

mod fixtures;

use fixtures::*;
use opsdeck_domain::{
    Channel, FinancialStatus, OrderFulfillmentStatus, ProductStatus, ShipmentStatus, TicketStatus,
};
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AnyRecord, Backend, UpsertOutcome};
use sqlx::Connection;

macro_rules! conformance {
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
                        eprintln!(
                            "SKIPPED postgres::{}: set OPSDECK_TEST_POSTGRES_URL to run it",
                            stringify!($name)
                        );
                        return;
                    };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

conformance!(
    upsert_is_idempotent,
    older_update_is_stale_and_ignored,
    newer_update_wins_with_a_new_seq,
    equal_time_different_content_updates,
    sub_microsecond_times_still_order_updates,
    duplicate_keys_in_one_batch_apply_in_order,
    change_feed_returns_later_writes_in_order,
    change_feed_limit_pages_through,
    latest_seq_counts_only_writes,
    failed_batch_leaves_nothing_written,
    failed_checkpoint_leaves_no_records,
    checkpoint_commits_with_the_batch,
    sync_state_round_trips_and_replaces,
    order_facts_window_is_half_open_without_test_orders,
    get_and_list_are_keyed_and_ordered,
    every_kind_round_trips_exactly,
    unknown_enum_values_round_trip,
    ids_above_2_pow_53_round_trip,
    record_counts_count_each_kind,
    concurrent_batches_get_distinct_ordered_seqs,
);

fn seqs(outcomes: &[UpsertOutcome]) -> Vec<u64> {
    outcomes
        .iter()
        .filter_map(|o| match o {
            UpsertOutcome::Inserted { seq } | UpsertOutcome::Updated { seq } => Some(*seq),
            _ => None,
        })
        .collect()
}

/// Runs raw SQL on the test's own database, to break it on purpose.
async fn raw_execute(db: &TestStore, sql: &str) {
    match db.store.backend() {
        Backend::Sqlite => {
            let mut conn = sqlx::SqliteConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
        Backend::Postgres => {
            let mut conn = sqlx::PgConnection::connect(&db.url).await.unwrap();
            sqlx::query(sql).execute(&mut conn).await.unwrap();
        }
    }
}

async fn upsert_is_idempotent(db: &TestStore) {
    let batch = one_of_each("2024-05-01T10:00:00Z");
    let first = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(first.inserted(), 6, "{}", db.label);
    assert_eq!(seqs(&first.outcomes), vec![1, 2, 3, 4, 5, 6]);
    let second = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(second.outcomes, vec![UpsertOutcome::Unchanged; 6]);
    assert_eq!(db.store.latest_seq().await.unwrap(), 6);
}

async fn older_update_is_stale_and_ignored(db: &TestStore) {
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

async fn newer_update_wins_with_a_new_seq(db: &TestStore) {
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

async fn equal_time_different_content_updates(db: &TestStore) {
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
async fn sub_microsecond_times_still_order_updates(db: &TestStore) {
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

async fn duplicate_keys_in_one_batch_apply_in_order(db: &TestStore) {
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

async fn change_feed_returns_later_writes_in_order(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let batch = one_of_each(at);
    db.store.upsert(&batch, None).await.unwrap();
    let all = db.store.changes_since(0, 100).await.unwrap();
    assert_eq!(
        all.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5, 6]
    );
    assert_eq!(
        all.iter().map(|c| c.record.clone()).collect::<Vec<_>>(),
        batch
    );

    // Touch the product and the order (in that order): the feed after 6
    // holds exactly those two writes, with the current content.
    let mut product = product("p-1", "2024-05-01T12:00:00Z");
    product.status = ProductStatus::Draft;
    let mut order = order("1001", at);
    order.updated_at = ts("2024-05-01T12:00:00Z");
    order.tags = vec!["edited".into()];
    let update = [AnyRecord::Product(product), AnyRecord::Order(order)];
    db.store.upsert(&update, None).await.unwrap();
    let later = db.store.changes_since(6, 100).await.unwrap();
    assert_eq!(later.iter().map(|c| c.seq).collect::<Vec<_>>(), [7, 8]);
    assert_eq!(
        later.iter().map(|c| c.record.clone()).collect::<Vec<_>>(),
        update
    );
    let everything = db.store.changes_since(0, 100).await.unwrap();
    assert_eq!(
        everything.iter().map(|c| c.seq).collect::<Vec<_>>(),
        [3, 4, 5, 6, 7, 8]
    );
    assert!(db.store.changes_since(8, 100).await.unwrap().is_empty());
}

async fn change_feed_limit_pages_through(db: &TestStore) {
    let batch = one_of_each("2024-05-01T10:00:00Z");
    db.store.upsert(&batch, None).await.unwrap();
    let mut after = 0;
    let mut pages = Vec::new();
    loop {
        let page = db.store.changes_since(after, 4).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 4);
        after = page.last().unwrap().seq;
        pages.push(page.iter().map(|c| c.seq).collect::<Vec<_>>());
    }
    assert_eq!(pages, vec![vec![1, 2, 3, 4], vec![5, 6]]);
    assert!(db.store.changes_since(0, 0).await.unwrap().is_empty());
}

async fn latest_seq_counts_only_writes(db: &TestStore) {
    assert_eq!(db.store.latest_seq().await.unwrap(), 0);
    let batch = [AnyRecord::Order(order("1001", "2024-05-01T10:00:00Z"))];
    db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(db.store.latest_seq().await.unwrap(), 1);
    db.store.upsert(&batch, None).await.unwrap();
    db.store.upsert(&[], None).await.unwrap();
    assert_eq!(db.store.latest_seq().await.unwrap(), 1);
}

async fn failed_batch_leaves_nothing_written(db: &TestStore) {
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
    assert_eq!(seqs(&report.outcomes), vec![1, 2, 3, 4, 5]);
}

async fn failed_checkpoint_leaves_no_records(db: &TestStore) {
    raw_execute(db, "DROP TABLE sync_state").await;
    let batch = one_of_each("2024-05-01T10:00:00Z");
    let checkpoint = sync_state("shopify-mavena", "orders");
    assert!(db.store.upsert(&batch, Some(&checkpoint)).await.is_err());
    assert_eq!(db.store.record_counts().await.unwrap(), Default::default());
    assert_eq!(db.store.latest_seq().await.unwrap(), 0);
}

async fn checkpoint_commits_with_the_batch(db: &TestStore) {
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

async fn sync_state_round_trips_and_replaces(db: &TestStore) {
    let store = &db.store;
    assert_eq!(
        store
            .sync_state(&source("gorgias"), "tickets")
            .await
            .unwrap(),
        None
    );
    let full = sync_state("gorgias", "tickets");
    let blank = opsdeck_store::SyncState::new(source("gorgias"), "messages");
    let other = sync_state("shopify-mavena", "orders");
    for state in [&other, &full, &blank] {
        store.save_sync_state(state).await.unwrap();
    }
    assert_eq!(
        store
            .sync_state(&source("gorgias"), "tickets")
            .await
            .unwrap(),
        Some(full.clone())
    );
    // Saving replaces the whole row, including fields set back to None.
    let mut cleared = full.clone();
    cleared.last_error = None;
    cleared.last_error_at = None;
    cleared.consecutive_failures = 0;
    cleared.requests = u64::from(u32::MAX) + 7;
    store.save_sync_state(&cleared).await.unwrap();
    assert_eq!(
        store.all_sync_states().await.unwrap(),
        vec![blank, cleared, other],
        "ordered by source, then resource"
    );
}

async fn order_facts_window_is_half_open_without_test_orders(db: &TestStore) {
    let from = ts("2024-05-01T00:00:00Z");
    let to = ts("2024-05-02T00:00:00Z");
    let placed = |id: &str, at: &str| {
        let mut o = order(id, at);
        o.updated_at = ts("2024-05-03T00:00:00Z");
        o
    };
    let before = placed("1", "2024-04-30T23:59:59.999999Z");
    let at_start = placed("2", "2024-05-01T00:00:00Z");
    let mut cancelled = placed("3", "2024-05-01T12:00:00Z");
    cancelled.cancelled_at = Some(ts("2024-05-01T13:00:00Z"));
    cancelled.total_price = eur(1500);
    let last = placed("4", "2024-05-01T23:59:59.999999Z");
    let at_end = placed("5", "2024-05-02T00:00:00Z");
    let mut test_order = placed("6", "2024-05-01T08:00:00Z");
    test_order.test = true;
    let mut other_brand = placed("7", "2024-05-01T08:00:00Z");
    other_brand.brand = brand("plentum");
    let batch: Vec<_> = [
        before,
        at_start,
        cancelled,
        last,
        at_end,
        test_order,
        other_brand,
    ]
    .into_iter()
    .map(AnyRecord::Order)
    .collect();
    db.store.upsert(&batch, None).await.unwrap();

    let facts = db
        .store
        .order_facts(&brand("mavena"), from, to)
        .await
        .unwrap();
    let summary: Vec<_> = facts
        .iter()
        .map(|f| (f.created_at, f.total_price, f.cancelled))
        .collect();
    assert_eq!(
        summary,
        vec![
            (ts("2024-05-01T00:00:00Z"), usd(4_999), false),
            (ts("2024-05-01T12:00:00Z"), eur(1500), true),
            (ts("2024-05-01T23:59:59.999999Z"), usd(4_999), false),
        ]
    );
    let plentum = db
        .store
        .order_facts(&brand("plentum"), from, to)
        .await
        .unwrap();
    assert_eq!(plentum.len(), 1);
}

async fn get_and_list_are_keyed_and_ordered(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let mut elsewhere = order("a", at);
    elsewhere.source = source("shopify-plentum");
    let mut batch: Vec<AnyRecord> = ["b", "c", "a"]
        .iter()
        .map(|id| AnyRecord::Order(order(id, at)))
        .collect();
    batch.push(AnyRecord::Order(elsewhere.clone()));
    batch.push(AnyRecord::Product(product("p-2", at)));
    batch.push(AnyRecord::Product(product("p-1", at)));
    batch.push(AnyRecord::InventoryLevel(inventory_level(
        "ii-2", "loc", at,
    )));
    batch.push(AnyRecord::InventoryLevel(inventory_level(
        "ii-1", "loc", at,
    )));
    db.store.upsert(&batch, None).await.unwrap();

    let mavena = source("shopify-mavena");
    let ids = |v: Vec<String>| v;
    let orders = db.store.list_orders(&mavena).await.unwrap();
    assert_eq!(
        ids(orders.iter().map(|o| o.external_id.clone()).collect()),
        ["a", "b", "c"]
    );
    let products = db.store.list_products(&mavena).await.unwrap();
    assert_eq!(
        ids(products.iter().map(|p| p.external_id.clone()).collect()),
        ["p-1", "p-2"]
    );
    let levels = db.store.list_inventory_levels(&mavena).await.unwrap();
    assert_eq!(
        ids(levels.iter().map(|l| l.external_id.clone()).collect()),
        ["ii-1:loc", "ii-2:loc"]
    );
    let plentum = source("shopify-plentum");
    assert_eq!(
        db.store.get_order(&plentum, "a").await.unwrap(),
        Some(elsewhere)
    );
    assert_eq!(db.store.get_order(&plentum, "b").await.unwrap(), None);
    assert!(db.store.list_products(&plentum).await.unwrap().is_empty());
}

async fn every_kind_round_trips_exactly(db: &TestStore) {
    let batch = one_of_each("2024-05-01T10:00:00.123456789Z");
    db.store.upsert(&batch, None).await.unwrap();
    let back: Vec<_> = db
        .store
        .changes_since(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record)
        .collect();
    assert_eq!(back, batch, "{}", db.label);
    let mavena = source("shopify-mavena");
    let AnyRecord::Order(order) = &batch[0] else {
        unreachable!()
    };
    assert_eq!(
        db.store.get_order(&mavena, "1001").await.unwrap().as_ref(),
        Some(order)
    );
    let AnyRecord::Product(product) = &batch[1] else {
        unreachable!()
    };
    assert_eq!(
        db.store.list_products(&mavena).await.unwrap(),
        vec![product.clone()]
    );
    let AnyRecord::InventoryLevel(level) = &batch[2] else {
        unreachable!()
    };
    assert_eq!(
        db.store.list_inventory_levels(&mavena).await.unwrap(),
        vec![level.clone()]
    );
    // Written again unchanged, they stay unchanged: JSONB key order or
    // number formatting never makes a record look different.
    let again = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(again.unchanged(), 6);
}

async fn unknown_enum_values_round_trip(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let mut o = order("1001", at);
    o.financial_status = FinancialStatus::Other("pending_review".into());
    o.fulfillment_status = OrderFulfillmentStatus::Other("on_hold".into());
    o.fulfillments[0].shipment_status = Some(ShipmentStatus::Other("teleported".into()));
    let mut p = product("p-1", at);
    p.status = ProductStatus::Other("unlisted".into());
    let mut t = ticket("t-1", at);
    t.status = TicketStatus::Other("snoozed".into());
    t.channel = Channel::Other("carrier-pigeon".into());
    let batch = [
        AnyRecord::Order(o),
        AnyRecord::Product(p),
        AnyRecord::Ticket(t),
    ];
    db.store.upsert(&batch, None).await.unwrap();
    let back: Vec<_> = db
        .store
        .changes_since(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record)
        .collect();
    assert_eq!(back, batch);
    assert_eq!(db.store.upsert(&batch, None).await.unwrap().unchanged(), 3);
}

async fn ids_above_2_pow_53_round_trip(db: &TestStore) {
    // 2^53 + 1 and u64::MAX: JSON numbers would lose them, strings must not.
    let at = "2024-05-01T10:00:00Z";
    let mut o = order("9007199254740993", at);
    o.line_items[0].product_id = Some("18446744073709551615".into());
    o.number = Some(i64::MAX);
    let s = survey("9007199254740993", at);
    let batch = [
        AnyRecord::Order(o.clone()),
        AnyRecord::SatisfactionSurvey(s),
    ];
    db.store.upsert(&batch, None).await.unwrap();
    let got = db
        .store
        .get_order(&o.source, "9007199254740993")
        .await
        .unwrap();
    assert_eq!(got, Some(o));
    assert_eq!(
        db.store
            .get_order(&source("shopify-mavena"), "9007199254740992")
            .await
            .unwrap(),
        None
    );
    let back: Vec<_> = db
        .store
        .changes_since(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record)
        .collect();
    assert_eq!(back, batch);
}

async fn record_counts_count_each_kind(db: &TestStore) {
    assert_eq!(db.store.record_counts().await.unwrap(), Default::default());
    let at = "2024-05-01T10:00:00Z";
    let mut batch = one_of_each(at);
    batch.push(AnyRecord::Order(order("1002", at)));
    batch.push(AnyRecord::Order(order("1003", at)));
    batch.push(AnyRecord::TicketMessage(ticket_message("m-2", at)));
    db.store.upsert(&batch, None).await.unwrap();
    let counts = db.store.record_counts().await.unwrap();
    assert_eq!(
        counts,
        opsdeck_store::RecordCounts {
            orders: 3,
            products: 1,
            inventory_levels: 1,
            tickets: 1,
            ticket_messages: 2,
            satisfaction_surveys: 1,
        }
    );
}

/// Writers in parallel: every write gets its own seq, the feed holds them
/// all, and a reader following the feed never misses one.
async fn concurrent_batches_get_distinct_ordered_seqs(db: &TestStore) {
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
                    seqs.extend(super_seqs(
                        &store.upsert(&batch, None).await.unwrap().outcomes,
                    ));
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

fn eur(minor: i64) -> opsdeck_domain::Money {
    opsdeck_domain::Money::new(minor, opsdeck_domain::Currency::parse("EUR").unwrap())
}

fn super_seqs(outcomes: &[UpsertOutcome]) -> Vec<u64> {
    seqs(outcomes)
}

/// SQLite only: a committed batch is on disk, found again by a new process
/// opening the same file.
#[tokio::test]
async fn sqlite_data_survives_reopening() {
    let db = opsdeck_store::testing::sqlite_store().await;
    let batch = one_of_each("2024-05-01T10:00:00Z");
    let checkpoint = sync_state("shopify-mavena", "orders");
    db.store.upsert(&batch, Some(&checkpoint)).await.unwrap();
    let url = db.url.clone();
    let _guard = db.guard;
    drop(db.store);

    let reopened = opsdeck_store::connect(&url).await.unwrap();
    reopened.migrate().await.unwrap();
    assert_eq!(reopened.latest_seq().await.unwrap(), 6);
    let back: Vec<_> = reopened
        .changes_since(0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record)
        .collect();
    assert_eq!(back, batch);
    assert_eq!(
        reopened
            .sync_state(&source("shopify-mavena"), "orders")
            .await
            .unwrap(),
        Some(checkpoint)
    );
    let next = reopened
        .upsert(
            &[AnyRecord::Order(order("1002", "2024-05-01T10:00:00Z"))],
            None,
        )
        .await
        .unwrap();
    assert_eq!(next.outcomes, vec![UpsertOutcome::Inserted { seq: 7 }]);
}
