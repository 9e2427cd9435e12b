//! The sync's rules one by one, against a scripted fake shop: what the
//! requests ask for, when the watermark may move, and what happens to a bad
//! record.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use common::fake::{answer, client, fake_shop, Answer};
use opsdeck_domain::{Money, Product, ProductStatus, Timestamp, Variant};
use opsdeck_sources::ShopifyError;
use opsdeck_store::testing::sqlite_temp;
use opsdeck_store::AnyRecord;
use opsdeck_sync::{sync_once, ShopifyResource, SyncError};
use serde_json::{json, Value};
use url::Url;

fn order(id: u64, updated_at: &str, total: &str) -> Value {
    json!({
        "id": id, "name": format!("#{id}"), "created_at": "2026-05-01T09:00:00-04:00",
        "updated_at": updated_at, "currency": "USD", "total_price": total,
        "financial_status": "paid", "fulfillment_status": null, "line_items": []
    })
}

fn page(records: Vec<Value>, next: Option<String>) -> Answer {
    let mut a = answer(200, &json!({ "orders": records }).to_string());
    if let Some(next) = next {
        a.headers.push(("Link", format!("<{next}>; rel=\"next\"")));
    }
    a
}

fn next_url(base: &Url, token: &str) -> String {
    format!(
        "{}/admin/api/2025-07/orders.json?limit=2&page_info={token}",
        base.as_str().trim_end_matches('/')
    )
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

const T1: &str = "2026-05-02T10:00:00Z";
const T2: &str = "2026-05-02T11:00:00Z";
const T3: &str = "2026-05-02T12:00:00Z";

#[tokio::test]
async fn watermark_is_held_until_the_run_ends_when_pages_are_not_ascending() {
    let (store, _guard) = sqlite_temp().await;
    let (base, script) = fake_shop(vec![]).await;
    let client = client(&base);
    let descending = || {
        page(
            vec![order(3, T3, "3.00"), order(2, T2, "2.00")],
            Some(next_url(&base, "p2")),
        )
    };
    // The run breaks after the first (descending) page.
    script.lock().unwrap().answers = vec![descending(), answer(401, "{}")];
    let now = ts("2026-05-02T13:00:00Z");
    let err = sync_once(&client, store.as_ref(), ShopifyResource::Orders, now)
        .await
        .unwrap_err();
    assert!(matches!(
        err,
        SyncError::Shopify(ShopifyError::Unauthorized { .. })
    ));
    let state = store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.records_synced, 2, "the first page was committed");
    assert_eq!(
        state.watermark, None,
        "an unordered page proves nothing about older records"
    );

    script.lock().unwrap().answers = vec![descending(), page(vec![order(1, T1, "1.00")], None)];
    let run = sync_once(&client, store.as_ref(), ShopifyResource::Orders, now)
        .await
        .unwrap();
    assert!(!run.ascending);
    assert_eq!(
        run.watermark,
        Some(ts(T3)),
        "the complete run sets the max seen"
    );
    assert_eq!((run.inserted, run.unchanged), (1, 2));
    assert_eq!(store.list_orders(client.source()).await.unwrap().len(), 3);
}

#[tokio::test]
async fn requests_carry_the_incremental_filters_and_pages_only_their_link() {
    let (store, _guard) = sqlite_temp().await;
    let (base, script) = fake_shop(vec![]).await;
    let client = client(&base);
    let now = ts("2026-05-02T13:00:00Z");
    script.lock().unwrap().answers = vec![
        page(
            vec![order(1, T1, "1.00"), order(2, T2, "2.00")],
            Some(next_url(&base, "p2")),
        ),
        page(vec![order(3, T3, "3.00")], None),
    ];
    let run = sync_once(&client, store.as_ref(), ShopifyResource::Orders, now)
        .await
        .unwrap();
    assert!(run.ascending);
    assert_eq!(run.watermark, Some(ts(T3)));
    assert_eq!(run.pages, 2);

    script.lock().unwrap().answers = vec![page(vec![order(3, T3, "3.00")], None)];
    let run = sync_once(&client, store.as_ref(), ShopifyResource::Orders, now)
        .await
        .unwrap();
    assert_eq!(run.unchanged, 1);
    let seen: Vec<String> = script
        .lock()
        .unwrap()
        .seen
        .iter()
        .map(|s| s.0.clone())
        .collect();
    let path = "/shops/fake/admin/api/2025-07/orders.json";
    assert_eq!(
        seen[0],
        format!("{path}?status=any&order=updated_at+asc&limit=2")
    );
    assert_eq!(seen[1], format!("{path}?limit=2&page_info=p2"));
    // T3 minus the five-minute overlap.
    assert_eq!(
        seen[2],
        format!("{path}?status=any&updated_at_min=2026-05-02T11%3A55%3A00Z&order=updated_at+asc&limit=2")
    );
}

#[tokio::test]
async fn a_bad_record_is_rejected_alone_and_reported() {
    let (store, _guard) = sqlite_temp().await;
    let (base, script) = fake_shop(vec![]).await;
    let client = client(&base);
    script.lock().unwrap().answers = vec![page(
        vec![
            order(1, T1, "1.00"),
            order(2, T2, "12,50"),
            order(3, T3, "3.00"),
        ],
        None,
    )];
    let now = ts("2026-05-02T13:00:00Z");
    let run = sync_once(&client, store.as_ref(), ShopifyResource::Orders, now)
        .await
        .unwrap();
    assert_eq!(run.inserted, 2);
    assert_eq!(run.rejected.len(), 1);
    assert_eq!(run.rejected[0].id, "2");
    assert_eq!(run.rejected[0].field, "total_price");
    let state = store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.consecutive_failures, 0);
    // Stamped as the run finished: its start plus what it took.
    assert!(state.last_success_at.is_some_and(|at| at >= now));
    assert_eq!(state.records_refused, 1);
    let note = state.last_error.unwrap();
    assert!(
        note.contains("order 2") && note.contains("total_price"),
        "{note}"
    );
    let ids: Vec<_> = store
        .list_orders(client.source())
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.external_id)
        .collect();
    assert_eq!(ids, ["1", "3"]);
}

#[tokio::test]
async fn inventory_is_asked_for_tracked_items_fifty_at_a_time() {
    let (store, _guard) = sqlite_temp().await;
    let (base, script) = fake_shop(vec![]).await;
    let client = client(&base);
    let settings = client.settings();
    // 120 tracked variants and one untracked, over three products.
    let products: Vec<AnyRecord> = (0..3u64)
        .map(|p| {
            let variants = (0..41u64)
                .map(|v| Variant {
                    external_id: format!("{}", p * 100 + v),
                    title: "v".into(),
                    sku: None,
                    price: Money::new(100, settings.currency),
                    inventory_item_id: Some(format!("{}", 9000 + p * 100 + v)),
                    inventory_quantity: Some(1),
                    inventory_tracked: !(p == 0 && v < 3),
                })
                .collect();
            AnyRecord::Product(Product {
                source: settings.source.clone(),
                external_id: p.to_string(),
                brand: settings.brand.clone(),
                title: "p".into(),
                handle: None,
                status: ProductStatus::Active,
                body_html: None,
                image_count: 0,
                vendor: None,
                product_type: None,
                tags: vec![],
                created_at: ts(T1),
                updated_at: ts(T1),
                deleted_at: None,
                variants,
            })
        })
        .collect();
    store.upsert(&products, None).await.unwrap();
    let level = |item: u64| json!({"inventory_item_id": item, "location_id": 7, "available": 5, "updated_at": T2});
    let levels = |items: Vec<Value>| answer(200, &json!({ "inventory_levels": items }).to_string());
    script.lock().unwrap().answers = vec![
        levels(vec![level(9003)]),
        levels(vec![level(9140)]),
        levels(vec![level(9240)]),
    ];
    let run = sync_once(
        &client,
        store.as_ref(),
        ShopifyResource::InventoryLevels,
        ts(T3),
    )
    .await
    .unwrap();
    assert_eq!(run.inserted, 3);
    let seen = script.lock().unwrap().seen.clone();
    let counts: Vec<usize> = seen
        .iter()
        .map(|(uri, _)| {
            let url = Url::parse(&format!("http://x{uri}")).unwrap();
            let ids = url
                .query_pairs()
                .find(|(k, _)| k == "inventory_item_ids")
                .map(|(_, v)| v.into_owned())
                .unwrap();
            ids.split(',').count()
        })
        .collect();
    assert_eq!(
        counts,
        [50, 50, 20],
        "120 tracked items, untracked left out"
    );
    let stored = store.list_inventory_levels(client.source()).await.unwrap();
    assert_eq!(stored.len(), 3);
    assert_eq!(stored[0].external_id, "9003:7");
}
