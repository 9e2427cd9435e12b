//! What Shopify hides silently is said aloud, end to end over real HTTP
//! against the simulator: a token without a scope opsdeck needs (listed by
//! `access_scopes.json`, or detected where that is not answered), a shop
//! whose currency or time zone is not the brand's, an upstream that hangs.
//! Each shows in the resource's sync state, which /sources, the sources
//! API and the "source stale" alert read.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use common::fake::{answer, client, fake_shop, Tail};
use common::{start_time, Harness};
use opsdeck_domain::Currency;
use opsdeck_simulator::{Faults, ALL_SCOPES, RECENT_ORDERS_SECONDS};
use opsdeck_sources::ShopifyClient;
use opsdeck_store::testing::sqlite_temp;
use opsdeck_sync::{sync_once, ShopifyResource, SyncError};
use serde_json::Value;
use std::time::{Duration, Instant};

/// Every scope but `without`.
fn scopes_without(without: &str) -> Vec<&'static str> {
    ALL_SCOPES.into_iter().filter(|s| *s != without).collect()
}

/// Orders of the simulator created within Shopify's 60-day window.
fn recent(orders: &[Value]) -> usize {
    let cutoff = start_time().as_second() - RECENT_ORDERS_SECONDS;
    orders
        .iter()
        .filter(|o| {
            let created: jiff::Timestamp = o["created_at"].as_str().unwrap().parse().unwrap();
            created.as_second() >= cutoff
        })
        .count()
}

#[tokio::test]
async fn a_missing_read_all_orders_scope_is_named_and_the_visible_orders_are_kept() {
    let h = Harness::start(0.1).await;
    h.sim.set_rate_limit(false);
    let slug = "mavena";
    let granted = scopes_without("read_all_orders");
    h.sim.set_access_scopes(slug, Some(&granted), &[]);
    let client = h.client(slug);
    let err = sync_once(
        &client,
        h.store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, SyncError::Incomplete(why) if why.contains("missing access scope read_all_orders")),
        "{err}"
    );
    // The 60 days Shopify still shows are stored; the rest is named missing.
    let all = h.sim_orders(slug);
    let stored = h.store.list_orders(client.source()).await.unwrap().len();
    assert!(recent(&all) < all.len(), "the shop has older orders");
    assert_eq!(stored, recent(&all));
    let state = h
        .store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        state.consecutive_failures, 1,
        "counts toward the source's health"
    );
    assert!(
        state.needs_attention,
        "a missing scope is not transient: the source-health alert fires now"
    );
    assert!(state
        .last_error
        .as_deref()
        .is_some_and(|e| e.contains("read_all_orders") && e.contains("older than 60 days")));
    assert_eq!(state.running_since, None);

    // The scope granted: the next run is whole again, and healthy.
    h.sim.set_access_scopes(slug, Some(&ALL_SCOPES), &[]);
    let run = sync_once(
        &client,
        h.store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap();
    assert!(run.missing_scopes.is_empty());
    let state = h
        .store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.consecutive_failures, 0);
    assert_eq!(state.last_error, None);
    assert!(!state.needs_attention);
}

#[tokio::test]
async fn every_needed_scope_is_checked_for_its_resource() {
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    let slug = "plentum";
    let client = h.client(slug);
    for (resource, scope) in [
        (ShopifyResource::Orders, "read_customers"),
        (ShopifyResource::Products, "read_products"),
        (ShopifyResource::InventoryLevels, "read_inventory"),
    ] {
        h.sim
            .set_access_scopes(slug, Some(&scopes_without(scope)), &[]);
        let err = sync_once(&client, h.store.as_ref(), resource, start_time())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("missing access scope {scope}")),
            "{}: {err}",
            resource.as_str()
        );
    }
}

#[tokio::test]
async fn without_the_scopes_endpoint_hidden_old_orders_are_detected_by_count() {
    let h = Harness::start(0.1).await;
    h.sim.set_rate_limit(false);
    let slug = "mavena";
    let client = h.client(slug);

    // access_scopes.json not answered, every scope in force: no false alarm.
    h.sim.set_access_scopes(slug, None, &ALL_SCOPES);
    let run = sync_once(
        &client,
        h.store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap();
    assert!(run.missing_scopes.is_empty());

    // Not answered, and read_all_orders missing: orders/count says older
    // orders exist, the listing shows none of them.
    h.sim
        .set_access_scopes(slug, None, &scopes_without("read_all_orders"));
    let err = sync_once(
        &client,
        h.store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("missing access scope read_all_orders"),
        "{err}"
    );
}

#[tokio::test]
async fn a_shop_in_another_currency_or_time_zone_is_shown_on_the_source() {
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    let slug = "plentum";
    let mut settings = h.settings(slug);
    settings.time_zone = Some("Europe/Berlin".into());
    let client = ShopifyClient::new(settings.clone()).unwrap();

    // Same currency, another time zone: a notice, not a failure.
    let run = sync_once(
        &client,
        h.store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap();
    let shop_zone = run.shop_time_zone.clone().expect("the shop's zone differs");
    let state = h
        .store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.consecutive_failures, 0);
    let said = state.last_error.unwrap_or_default();
    assert!(
        said.contains(&format!("time zone is {shop_zone}")) && said.contains("Europe/Berlin"),
        "{said}"
    );

    // A shop in another currency than the brand's (a fresh store, so the
    // run reads every order): the run is incomplete, and each order, with
    // no amount in the brand's currency, is refused, counted and named;
    // nothing in EUR is stored for a USD brand.
    h.sim.set_shop_currency(slug, "EUR");
    settings.time_zone = Some(shop_zone);
    let client = ShopifyClient::new(settings).unwrap();
    let (store, _guard) = sqlite_temp().await;
    let err = sync_once(
        &client,
        store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("currency is EUR") && text.contains(Currency::USD.code()),
        "{text}"
    );
    let state = store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.consecutive_failures, 1);
    assert!(
        state.needs_attention,
        "a shop in another currency needs a person"
    );
    let orders = h.sim_orders(slug).len() as u64;
    assert!(orders > 0);
    assert_eq!(state.records_refused, orders, "every EUR order refused");
    let said = state.last_error.unwrap();
    assert!(
        said.contains(&format!("{orders} record(s) rejected")) && said.contains("EUR"),
        "{said}"
    );
    assert!(store.list_orders(client.source()).await.unwrap().is_empty());
}

/// A record that cannot be normalized is refused and counted as its page is
/// committed; the run goes on to the next page and succeeds.
#[tokio::test]
async fn refused_records_are_counted_page_by_page_without_stopping_the_run() {
    let order = |id: u64, total: &str| {
        serde_json::json!({
            "id": id, "name": format!("#{id}"), "created_at": "2026-05-01T09:00:00-04:00",
            "updated_at": "2026-05-01T10:00:00-04:00", "currency": "USD", "total_price": total,
            "financial_status": "paid", "fulfillment_status": null, "line_items": []
        })
    };
    let (base, script) = fake_shop(vec![]).await;
    let next = format!(
        "{}/admin/api/2025-07/orders.json?limit=2&page_info=p2",
        base.as_str().trim_end_matches('/')
    );
    let mut first = answer(
        200,
        &serde_json::json!({"orders": [order(1, "10.00"), order(2, "not money")]}).to_string(),
    );
    first
        .headers
        .push(("Link", format!("<{next}>; rel=\"next\"")));
    let second = answer(
        200,
        &serde_json::json!({"orders": [order(3, "oops"), order(4, "4.00")]}).to_string(),
    );
    script.lock().unwrap().answers = vec![first, second];
    let client = client(&base);
    let (store, _guard) = sqlite_temp().await;
    let run = sync_once(
        &client,
        store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap();
    assert_eq!(run.pages, 2);
    assert_eq!(run.rejected.len(), 2);
    assert_eq!(store.list_orders(client.source()).await.unwrap().len(), 2);
    let state = store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.records_refused, 2);
    assert!(state
        .last_error
        .is_some_and(|e| e.starts_with("2 record(s) rejected")));
    assert_eq!(script.lock().unwrap().checks, 2, "scopes and shop checked");
}

/// An upstream that hangs mid-body fails the run within the retry budget,
/// and the sync state names the cause: what /sources shows.
#[tokio::test]
async fn a_hanging_upstream_fails_the_run_with_its_cause_on_the_source() {
    let mut hanging = answer(200, r#"{"orders":[{"id":1"#);
    hanging.tail = Tail::Stall;
    let (base, _script) = fake_shop(vec![hanging; 4]).await;
    let mut settings = client(&base).settings().clone();
    settings.request_timeout = Duration::from_millis(150);
    let client = ShopifyClient::new(settings).unwrap();
    let (store, _guard) = sqlite_temp().await;
    let started = Instant::now();
    let err = sync_once(
        &client,
        store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap_err();
    // 4 attempts of 150 ms and 3 backoffs of at most 10, 20, 40 ms.
    eprintln!("hanging upstream: run failed after {:?}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("timed out (4 attempts)"), "{err}");
    let state = store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert!(state.last_error.is_some_and(|e| e.contains("timed out")));
    assert_eq!((state.consecutive_failures, state.errors), (1, 4));
    assert_eq!(state.running_since, None);
    assert!(!state.needs_attention, "a timeout may pass on its own");
}

/// A run shows as running while it runs, and its success is stamped when
/// it finished, not when it started: a slow run does not look fresh early.
#[tokio::test]
async fn a_run_in_progress_shows_as_such_and_succeeds_when_it_finishes() {
    let order = |id: u64| {
        serde_json::json!({
            "id": id, "name": format!("#{id}"), "created_at": "2026-05-01T09:00:00-04:00",
            "updated_at": "2026-05-01T10:00:00-04:00", "currency": "USD", "total_price": "5.00",
            "financial_status": "paid", "fulfillment_status": null, "line_items": []
        })
    };
    let (base, script) = fake_shop(vec![]).await;
    let next = format!(
        "{}/admin/api/2025-07/orders.json?limit=2&page_info=p2",
        base.as_str().trim_end_matches('/')
    );
    let mut first = answer(
        200,
        &serde_json::json!({"orders": [order(1), order(2)]}).to_string(),
    );
    first
        .headers
        .push(("Link", format!("<{next}>; rel=\"next\"")));
    let mut slow = answer(200, &serde_json::json!({"orders": [order(3)]}).to_string());
    slow.delay = Duration::from_millis(400);
    script.lock().unwrap().answers = vec![first, slow];
    let client = std::sync::Arc::new(client(&base));
    let (store, _guard) = sqlite_temp().await;
    let started = start_time();
    let run = {
        let (client, store) = (client.clone(), store.clone());
        tokio::spawn(async move {
            sync_once(&client, store.as_ref(), ShopifyResource::Orders, started).await
        })
    };
    let deadline = Instant::now() + Duration::from_secs(5);
    let mid = loop {
        let state = store.sync_state(client.source(), "orders").await.unwrap();
        if let Some(state) = state.filter(|s| s.records_synced >= 2) {
            break state;
        }
        assert!(
            Instant::now() < deadline,
            "the first page was never committed"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    };
    assert_eq!(mid.running_since, Some(started), "running, visibly");
    assert_eq!(mid.last_success_at, None, "not a success before it ends");
    run.await.unwrap().unwrap();
    let done = store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(done.running_since, None);
    let took = done.last_success_at.unwrap().duration_since(started);
    assert!(
        took >= jiff::SignedDuration::from_millis(400),
        "success stamped at the end of the run, {took:?} after its start"
    );
}

/// The simulator's own faults, over real HTTP: a shop that hangs mid-body
/// and one that streams 10 MB both fail the run within its retry budget,
/// naming the cause in the sync state; the next healthy run recovers.
#[tokio::test]
async fn simulated_hangs_and_huge_bodies_fail_the_run_with_their_cause() {
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    let slug = "plentum";
    let mut settings = h.settings(slug);
    settings.request_timeout = Duration::from_millis(300);
    settings.max_body_bytes = 1024 * 1024;
    settings.max_retries = 2;
    let client = ShopifyClient::new(settings).unwrap();
    for (faults, cause) in [
        (
            Faults {
                hang_rate: 1.0,
                ..Faults::default()
            },
            "timed out (3 attempts)",
        ),
        (
            Faults {
                huge_body_rate: 1.0,
                ..Faults::default()
            },
            "body over the 1 MiB cap (3 attempts)",
        ),
    ] {
        h.sim.set_faults(faults);
        let started = Instant::now();
        let err = sync_once(
            &client,
            h.store.as_ref(),
            ShopifyResource::Products,
            start_time(),
        )
        .await
        .unwrap_err();
        eprintln!("{cause}: run failed after {:?}", started.elapsed());
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(err.to_string().contains(cause), "{err}");
        let state = h
            .store
            .sync_state(client.source(), "products")
            .await
            .unwrap()
            .unwrap();
        assert!(state.last_error.is_some_and(|e| e.contains(cause)));
    }
    h.sim.set_faults(Faults::default());
    sync_once(
        &client,
        h.store.as_ref(),
        ShopifyResource::Products,
        start_time(),
    )
    .await
    .unwrap();
}

/// A token Shopify rejects (401) stays rejected until someone replaces it:
/// the first failed run is marked as needing a person, so the source-health
/// alert does not wait for three runs. The client's own rule
/// (`ShopifyError::needs_attention`) decides, not a second list.
#[tokio::test]
async fn a_rejected_token_needs_attention_on_the_first_failed_run() {
    let rejected = answer(401, r#"{"errors":"[API] Invalid API key or access token"}"#);
    let (base, _script) = fake_shop(vec![rejected; 4]).await;
    let client = client(&base);
    let (store, _guard) = sqlite_temp().await;
    let err = sync_once(
        &client,
        store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("401"), "{err}");
    let state = store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.consecutive_failures, 1);
    assert!(state.needs_attention, "a rejected token needs a person");
}
