//! The whole app against the simulator over real HTTP: a store whose token
//! lacks `read_all_orders` (Shopify then hides every order older than 60
//! days, silently) is named failing, with the scope, on `/api/v1/sources`
//! and on `/sources`, while the other stores stay healthy.

use crate::helpers;
use jiff::Timestamp;
use opsdeck::demo::demo_config;
use opsdeck_simulator::{SimConfig, Simulator, ALL_SCOPES};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_scope_shows_on_the_sources_api_and_page() {
    let now: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let simulator = Simulator::new(SimConfig {
        seed: 5,
        now,
        scale: 0.05,
    });
    simulator.set_rate_limit(false);
    let without: Vec<&str> = ALL_SCOPES
        .into_iter()
        .filter(|s| *s != "read_all_orders")
        .collect();
    simulator.set_access_scopes("mavena", Some(&without), &[]);
    let sim_addr = helpers::serve_simulator(&simulator).await;
    let dir = opsdeck_store::testing::sqlite_temp().await.1;
    let config = demo_config(
        &simulator.shops(),
        sim_addr,
        "127.0.0.1:0".parse().unwrap(),
        format!("sqlite:{}", dir.dir().join("health.db").display()),
        Duration::from_secs(1),
    )
    .unwrap();
    let running = helpers::start(&config, Arc::new(move || now)).await;
    let base = helpers::base(&running);
    let session = helpers::log_in(&running, "ops", opsdeck_store::Role::Ops).await;
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{base}{path}"))
            .header("cookie", session.cookie.clone())
            .send()
    };

    let orders_of = |sources: &Value, id: &str| -> Option<Value> {
        sources["sources"]
            .as_array()?
            .iter()
            .find(|s| s["id"] == id)?["resources"]
            .as_array()?
            .iter()
            .find(|r| r["resource"] == "orders")
            .cloned()
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    let (mavena, plentum) = loop {
        let sources: Value = get("/api/v1/sources").await.unwrap().json().await.unwrap();
        let mavena = orders_of(&sources, "shopify-mavena").unwrap();
        let plentum = orders_of(&sources, "shopify-plentum").unwrap();
        if mavena["consecutive_failures"].as_u64() >= Some(1)
            && !plentum["last_success_at"].is_null()
        {
            break (mavena, plentum);
        }
        assert!(Instant::now() < deadline, "no sync finished: {sources:#}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(mavena["health"], "failing", "{mavena:#}");
    let error = mavena["last_error"].as_str().unwrap();
    assert!(
        error.contains("missing access scope read_all_orders")
            && error.contains("older than 60 days"),
        "{error}"
    );
    assert_eq!(plentum["consecutive_failures"], 0, "{plentum:#}");

    let html = get("/sources").await.unwrap().text().await.unwrap();
    assert!(
        html.contains("missing access scope read_all_orders"),
        "{html}"
    );
    running.stop().await.unwrap();
}
