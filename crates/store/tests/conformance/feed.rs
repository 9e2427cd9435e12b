//! The change feed: order, resumption, paging, the latest sequence value.

use crate::fixtures::*;
use opsdeck_domain::*;
use opsdeck_store::testing::TestStore;
use opsdeck_store::AnyRecord;

pub(crate) async fn change_feed_returns_later_writes_in_order(db: &TestStore) {
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

pub(crate) async fn change_feed_limit_pages_through(db: &TestStore) {
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

pub(crate) async fn latest_seq_counts_only_writes(db: &TestStore) {
    assert_eq!(db.store.latest_seq().await.unwrap(), 0);
    let batch = [AnyRecord::Order(order("1001", "2024-05-01T10:00:00Z"))];
    db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(db.store.latest_seq().await.unwrap(), 1);
    db.store.upsert(&batch, None).await.unwrap();
    db.store.upsert(&[], None).await.unwrap();
    assert_eq!(db.store.latest_seq().await.unwrap(), 1);
}
