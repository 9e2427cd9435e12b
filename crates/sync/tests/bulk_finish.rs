//! Waiting for a bulk operation by the `bulk_operations/finish` webhook:
//! the simulator sends it to a receiver that commits it to the store's
//! webhook inbox, the inbox step wakes the waiting backfill, and the
//! backfill (polling only hourly) asks for the operation once and reads
//! its file. A delivery that never comes is made up for by the safety
//! poll.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use common::{start_time, Harness};
use opsdeck_domain::{BrandId, Currency};
use opsdeck_sources::shopify::{CallStats, NormalizeContext};
use opsdeck_store::{InboxEvent, Store};
use opsdeck_sync::inbox::{process_inbox_once, InboxSettings, WebhookShops};
use opsdeck_sync::shopify::bulk::{backfill_orders, BulkSettings};
use opsdeck_sync::shopify::bulk_finish::{finish_subscribed, BulkFinishes, FinishWebhook};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const SLUG: &str = "mavena";

/// A webhook receiver: each delivery is committed to the inbox and the
/// inbox applied at once (the web receiver and the inbox worker, in short),
/// unless it is to be lost.
#[derive(Clone)]
struct Receiver {
    store: Arc<dyn Store>,
    shops: Arc<WebhookShops>,
    lose: bool,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> &'static str {
    if r.lose {
        return "lost";
    }
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let event = InboxEvent {
        source: Harness::source(SLUG),
        shop_domain: header("x-shopify-shop-domain").unwrap(),
        webhook_id: header("x-shopify-webhook-id").unwrap(),
        event_id: header("x-shopify-event-id"),
        topic: header("x-shopify-topic").unwrap(),
        api_version: header("x-shopify-api-version"),
        triggered_at: None,
        received_at: start_time(),
        body: String::from_utf8(body.to_vec()).unwrap(),
    };
    r.store.insert_webhooks(&[event]).await.unwrap();
    let step = process_inbox_once(
        r.store.as_ref(),
        &r.shops,
        &InboxSettings::default(),
        start_time(),
    )
    .await
    .unwrap();
    assert_eq!(step.failed, 0, "{step:?}");
    "ok"
}

/// Serves a receiver and subscribes the shop's `bulk_operations/finish`
/// to it, as `opsdeck shopify webhooks register` does.
async fn subscribe(h: &Harness, finishes: &Arc<BulkFinishes>, lose: bool) {
    let shops = WebhookShops::new([NormalizeContext {
        source: Harness::source(SLUG),
        brand: BrandId::parse("mavena").unwrap(),
        currency: Currency::USD,
    }])
    .with_bulk_finishes(finishes.clone());
    let receiver = Receiver {
        store: h.store.clone(),
        shops: Arc::new(shops),
        lose,
    };
    let app = Router::new()
        .route("/webhooks/shopify", post(receive))
        .with_state(receiver);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = format!("http://{}/webhooks/shopify", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let client = h.client(SLUG);
    assert!(!finish_subscribed(&client).await.unwrap());
    let body = json!({ "webhook": {
        "topic": "bulk_operations/finish", "address": address, "format": "json"
    }});
    client
        .call_json(
            axum::http::Method::POST,
            "webhooks",
            Some(&body),
            &mut CallStats::default(),
        )
        .await
        .unwrap();
    assert!(finish_subscribed(&client).await.unwrap());
}

/// A hang guard only: the test asserts counts, never a duration.
const HANG: Duration = Duration::from_secs(120);

#[tokio::test]
async fn a_backfill_polling_hourly_completes_when_the_finish_webhook_arrives() {
    let h = Harness::start(0.05).await;
    let finishes = Arc::new(BulkFinishes::new());
    subscribe(&h, &finishes, false).await;
    let settings = BulkSettings {
        poll_interval: Duration::from_secs(3600),
        finish_webhook: Some(FinishWebhook {
            finishes: finishes.clone(),
            safety_poll: Duration::from_secs(3600),
        }),
        ..BulkSettings::default()
    };
    let client = h.graphql(SLUG);
    let run = tokio::time::timeout(
        HANG,
        backfill_orders(&client, h.store.as_ref(), &settings, start_time(), None),
    )
    .await
    .expect("the backfill waited for its safety poll: the webhook did not wake it")
    .unwrap();
    // Two operations run (the orders and their fulfillment orders), each
    // with its own finish webhook. Which finishes first is the
    // simulator's (and Shopify's) business: the orders' webhook wakes the
    // run, which then looks at the fulfillment orders' operation; when that
    // one is still running, its own webhook wakes the run once more. Either
    // way no hourly safety poll runs: every look follows a webhook, plus
    // the one look beside it.
    assert!(run.detail_operation.is_some(), "{run:?}");
    assert!(
        (1..=2).contains(&run.woken_by_webhook),
        "one wake per operation at most: {run:?}"
    );
    assert_eq!(
        run.polls,
        run.woken_by_webhook + 1,
        "a look after each webhook and one beside it, no safety poll: {run:?}"
    );
    assert_eq!(finishes.waiting(), 0);
    assert_eq!(run.objects, run.object_count);
    let orders = h.store.list_orders(&Harness::source(SLUG)).await.unwrap();
    assert_eq!(orders.len(), h.sim_orders(SLUG).len());
}

#[tokio::test]
async fn a_lost_finish_webhook_is_made_up_for_by_the_safety_poll() {
    let h = Harness::start(0.05).await;
    let finishes = Arc::new(BulkFinishes::new());
    subscribe(&h, &finishes, true).await;
    let settings = BulkSettings {
        poll_interval: Duration::from_secs(3600),
        finish_webhook: Some(FinishWebhook {
            finishes: finishes.clone(),
            safety_poll: Duration::from_millis(20),
        }),
        ..BulkSettings::default()
    };
    let client = h.graphql(SLUG);
    let run = tokio::time::timeout(
        HANG,
        backfill_orders(&client, h.store.as_ref(), &settings, start_time(), None),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(run.woken_by_webhook, 0, "{run:?}");
    assert!(run.polls >= 1, "{run:?}");
    assert_eq!(run.objects, run.object_count);
    assert!(h.sim.wait_for_webhooks(HANG).await);
    assert!(
        h.sim.webhook_stats().delivered >= 1,
        "the delivery was sent, and lost"
    );
    let orders = h.store.list_orders(&Harness::source(SLUG)).await.unwrap();
    assert_eq!(orders.len(), h.sim_orders(SLUG).len());
}
