//! A sync page committed wakes whoever follows the change feed (the
//! projection in the app), from a single run and from the worker, so synced
//! records show at once instead of at the follower's next poll.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use common::fake::{answer, client, fake_shop};
use opsdeck_store::testing::sqlite_temp;
use opsdeck_store::Store;
use opsdeck_sync::{
    run_sync_loop_notifying, sync_once_notifying, ShopifyResource, SyncJob, SyncTrigger,
};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

fn orders_page(ids: &[u64]) -> common::fake::Answer {
    let orders: Vec<_> = ids
        .iter()
        .map(|id| {
            json!({
                "id": id, "name": format!("#{id}"), "created_at": "2026-05-01T09:00:00Z",
                "updated_at": "2026-05-02T10:00:00Z", "currency": "USD", "total_price": "1.00",
                "financial_status": "paid", "fulfillment_status": null, "line_items": []
            })
        })
        .collect();
    answer(200, &json!({ "orders": orders }).to_string())
}

/// Waits, as the projection follower does, and answers how many orders of
/// the fake shop the store holds once woken.
fn follower(committed: Arc<Notify>, store: Arc<dyn Store>) -> tokio::task::JoinHandle<usize> {
    tokio::spawn(async move {
        committed.notified().await;
        let source = opsdeck_domain::SourceId::parse("shopify-fake").unwrap();
        store.list_orders(&source).await.unwrap().len()
    })
}

#[tokio::test]
async fn a_committed_page_wakes_the_follower_before_the_run_ends() {
    let (store, _guard) = sqlite_temp().await;
    let (base, script) = fake_shop(vec![]).await;
    let client = client(&base);
    let next = format!("{base}/admin/api/2025-07/orders.json?page_info=p2");
    let mut first = orders_page(&[1, 2]);
    first
        .headers
        .push(("Link", format!("<{next}>; rel=\"next\"")));
    // The run fails on its second page: only a wake per committed page,
    // not one at the end of a successful run, reaches the follower.
    script.lock().unwrap().answers = vec![first, answer(401, "{}")];
    let committed = Arc::new(Notify::new());
    let woken = follower(committed.clone(), store.clone());
    tokio::task::yield_now().await;

    let now = "2026-05-02T13:00:00Z".parse().unwrap();
    let run = sync_once_notifying(
        &client,
        store.as_ref(),
        ShopifyResource::Orders,
        now,
        Some(&committed),
    )
    .await;
    assert!(run.is_err(), "the second page was refused");
    let seen = tokio::time::timeout(Duration::from_secs(2), woken)
        .await
        .expect("the committed page woke the follower")
        .unwrap();
    assert_eq!(seen, 2, "woken after the page was committed, not before");
}

#[tokio::test]
async fn the_worker_wakes_the_follower_after_a_committed_page() {
    let (store, _guard) = sqlite_temp().await;
    let (base, _script) = fake_shop(vec![orders_page(&[7])]).await;
    let job = SyncJob {
        client: Arc::new(client(&base)),
        graphql: None,
        resource: ShopifyResource::Orders,
        every: Duration::from_secs(3600),
        bulk: None,
    };
    let committed = Arc::new(Notify::new());
    let woken = follower(committed.clone(), store.clone());
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let clock: Arc<dyn Fn() -> jiff::Timestamp + Send + Sync> =
        Arc::new(|| "2026-05-02T13:00:00Z".parse().unwrap());
    let worker = tokio::spawn(run_sync_loop_notifying(
        vec![job],
        store.clone(),
        clock,
        shutdown,
        SyncTrigger::new(),
        Some(committed),
    ));

    let seen = tokio::time::timeout(Duration::from_secs(5), woken)
        .await
        .expect("the worker's committed page woke the follower")
        .unwrap();
    assert_eq!(seen, 1);
    stop.send(true).unwrap();
    tokio::time::timeout(Duration::from_secs(2), worker)
        .await
        .expect("worker stops promptly")
        .unwrap();
}
