//! Reads: exact round trips of every kind, lists, order facts, counts,
//! sync state, and SQLite durability across reopening.

use crate::fixtures::*;
use opsdeck_domain::*;
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AnyRecord, UpsertOutcome};

pub(crate) async fn sync_state_round_trips_and_replaces(db: &TestStore) {
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

pub(crate) async fn order_facts_window_is_half_open_without_test_orders(db: &TestStore) {
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

pub(crate) async fn get_and_list_are_keyed_and_ordered(db: &TestStore) {
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

pub(crate) async fn every_kind_round_trips_exactly(db: &TestStore) {
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

pub(crate) async fn unknown_enum_values_round_trip(db: &TestStore) {
    let at = "2024-05-01T10:00:00Z";
    let mut o = order("1001", at);
    o.financial_status = FinancialStatus::Other("pending_review".into());
    o.fulfillment_status = OrderFulfillmentStatus::Other("on_hold".into());
    o.fulfillments[0].shipment_status = Some(ShipmentStatus::Other("teleported".into()));
    let mut p = product("p-1", at);
    p.status = ProductStatus::Other("scheduled".into());
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

pub(crate) async fn ids_above_2_pow_53_round_trip(db: &TestStore) {
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

pub(crate) async fn record_counts_count_each_kind(db: &TestStore) {
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
            ..Default::default()
        }
    );
}

fn eur(minor: i64) -> opsdeck_domain::Money {
    opsdeck_domain::Money::new(minor, opsdeck_domain::Currency::parse("EUR").unwrap())
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
