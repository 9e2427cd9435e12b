//! The demo's refunds queue is not empty: the demo's own simulated merchant
//! (`demo::demo_simulator`, merchant-sized) synced through the Shopify
//! connector into a fresh store gives, over HTTP, return requests still
//! waiting (some at risk, some breached), a Shopify Payments dispute that
//! needs a response with its evidence due within days, and disputes under
//! review listed apart as waiting on the bank.

use crate::helpers;
use jiff::{SignedDuration, Timestamp};
use opsdeck::demo::{demo_config, demo_simulator};
use opsdeck_store::Role;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    let response = client.get(url).send().await.unwrap();
    assert_eq!(response.status(), 200, "GET {url}");
    response.json().await.unwrap()
}

/// Waits until every shop's returns and disputes have synced once.
async fn wait_for_returns_and_disputes(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        let sources = get_json(client, &format!("{base}/api/v1/sources")).await;
        let synced = sources["sources"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| {
                s["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r["resource"] == "returns")
            })
            .all(|s| {
                s["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| r["resource"] == "returns" || r["resource"] == "disputes")
                    .all(|r| !r["last_success_at"].is_null())
            });
        if synced {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "returns and disputes did not sync: {sources:#}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_merchant_fills_the_refunds_queue() {
    let now: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let simulator = demo_simulator(7, now);
    let sim_addr = helpers::serve_simulator(&simulator).await;
    let dir = helpers::temp_dir("demo-queue");
    let config = demo_config(
        &simulator.shops(),
        sim_addr,
        "127.0.0.1:0".parse().unwrap(),
        format!("sqlite://{}", dir.join("opsdeck.db").display()),
        Duration::from_secs(600),
    )
    .unwrap();
    let running = helpers::start(&config, Arc::new(move || now)).await;
    let base = helpers::base(&running);
    let client = helpers::logged_in_client(&running, "fin", Role::Finance).await;
    wait_for_returns_and_disputes(&client, &base).await;

    // The projection follows the store's change feed: wait until the
    // queue holds what the sync stored (a merchant-sized store takes a
    // while on a loaded machine).
    let deadline = Instant::now() + Duration::from_secs(120);
    let (items, bank) = loop {
        let q = get_json(&client, &format!("{base}/api/v1/queues/refunds")).await;
        let items = q["items"].as_array().cloned().unwrap_or_default();
        let bank = q["waiting_on_bank"].as_array().cloned().unwrap_or_default();
        let disputes = items.iter().any(|i| i["kind"] == "dispute");
        if (disputes && !bank.is_empty()) || Instant::now() > deadline {
            break (items, bank);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let shopify_returns: Vec<&Value> = items
        .iter()
        .filter(|i| i["origin"] == "shopify" && i["kind"] == "return")
        .collect();
    assert!(
        shopify_returns.len() >= 3,
        "return requests waiting: {items:#?}"
    );
    assert!(shopify_returns.iter().all(|i| i["status"] == "requested"));
    let hours = |i: &Value| i["age_seconds"].as_i64().unwrap() / 3600;
    assert!(
        shopify_returns.iter().all(|i| hours(i) <= 31),
        "a request waits up to about 30 h: {shopify_returns:#?}"
    );
    let in_state = |s: &str| shopify_returns.iter().filter(|i| i["sla"] == s).count();
    assert!(in_state("at_risk") >= 1, "at risk: {shopify_returns:#?}");
    assert!(in_state("breached") >= 1, "breached: {shopify_returns:#?}");
    assert!(in_state("on_track") >= 1, "on track: {shopify_returns:#?}");

    let needs_response: Vec<&Value> = items
        .iter()
        .filter(|i| i["kind"] == "dispute" && i["status"] == "needs_response")
        .collect();
    assert!(
        !needs_response.is_empty(),
        "a dispute to answer: {items:#?}"
    );
    let within_days = needs_response.iter().any(|d| {
        let due: Timestamp = d["evidence_due_by"].as_str().unwrap().parse().unwrap();
        due > now && due.duration_since(now) <= SignedDuration::from_hours(7 * 24)
    });
    assert!(within_days, "evidence due within days: {needs_response:#?}");

    // Under review: listed apart, with no deadline, never breached.
    assert!(!bank.is_empty(), "disputes under review");
    for d in &bank {
        assert_eq!(d["status"], "under_review");
        assert!(
            d.get("sla").is_none() && d.get("deadline").is_none(),
            "{d:#}"
        );
    }
    let q = get_json(
        &client,
        &format!("{base}/api/v1/queues/refunds?kind=return"),
    )
    .await;
    assert!(q["waiting_on_bank"].as_array().unwrap().is_empty());

    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
