//! Both ways data arrives, together and under trouble.
//!
//! 1. Periodic sync AND webhooks running at once against a faulty simulator
//!    (429 storms, 5xx, truncated JSON, connection resets, duplicated and
//!    reordered webhooks) converge to exactly the simulator's data set:
//!    every order and product compared record by record, none twice — for
//!    several seeds.
//! 2. The real binary killed with SIGKILL in the middle of a backfill loses
//!    nothing it committed, and after a restart finishes the backfill to
//!    exactly the simulator's orders.

use crate::helpers::{self, serve_simulator};
use jiff::{Timestamp, ToSpan};
use opsdeck::app;
use opsdeck::demo::demo_config;
use opsdeck_domain::Order;
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use opsdeck_simulator::{Faults, SimConfig, Simulator};
use opsdeck_sources::shopify::normalize::{order_from_json, product_from_json};
use opsdeck_sources::shopify::NormalizeContext;
use opsdeck_store::Store;
use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

fn context(shop: &opsdeck_simulator::ShopInfo) -> NormalizeContext {
    NormalizeContext {
        source: SourceId::parse(&format!("shopify-{}", shop.slug)).unwrap(),
        brand: BrandId::parse(&shop.brand_id).unwrap(),
        currency: Currency::parse(&shop.currency).unwrap(),
    }
}

/// The simulator's orders of `shop` as the store must hold them: their
/// REST JSON normalized, with each shipment's estimated delivery, which
/// only the GraphQL face carries (the merge rule keeps it when a webhook
/// without it arrives: docs/sync.md), taken from the GraphQL nodes.
fn expected_orders(simulator: &Simulator, shop: &opsdeck_simulator::ShopInfo) -> Vec<Order> {
    let ctx = context(shop);
    let estimates: BTreeMap<String, Timestamp> = simulator
        .graphql_nodes(&shop.slug, "orders")
        .iter()
        .flat_map(|o| o["fulfillments"].as_array().cloned().unwrap_or_default())
        .filter_map(|f| {
            let id = f["legacyResourceId"].as_str()?.to_string();
            Some((id, f["estimatedDeliveryAt"].as_str()?.parse().ok()?))
        })
        .collect();
    let mut want: Vec<Order> = simulator
        .orders_json(&shop.slug)
        .iter()
        .map(|o| order_from_json(&ctx, o).unwrap())
        .collect();
    for shipment in want.iter_mut().flat_map(|o| &mut o.fulfillments) {
        shipment.estimated_delivery_at = estimates.get(&shipment.external_id).copied();
    }
    want.sort_by(|a, b| a.external_id.cmp(&b.external_id));
    want
}

/// Whether the store holds exactly the simulator's orders and products of
/// every shop; `Err` says the first difference.
async fn exact(simulator: &Simulator, store: &dyn Store) -> Result<(), String> {
    for shop in simulator.shops() {
        let ctx = context(&shop);
        let want = expected_orders(simulator, &shop);
        let got = store.list_orders(&ctx.source).await.unwrap();
        let ids: BTreeSet<&str> = got.iter().map(|o| o.external_id.as_str()).collect();
        assert_eq!(ids.len(), got.len(), "{}: an order stored twice", shop.slug);
        if got != want {
            let first = got.iter().zip(&want).find(|(a, b)| a != b);
            return Err(format!(
                "{}: {} orders stored, {} in the simulator; first difference at {:?}",
                shop.slug,
                got.len(),
                want.len(),
                first.map(|(a, _)| a.external_id.clone())
            ));
        }
        let mut want: Vec<_> = simulator
            .products_json(&shop.slug)
            .iter()
            .map(|p| product_from_json(&ctx, p).unwrap())
            .collect();
        want.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        let got = store.list_products(&ctx.source).await.unwrap();
        if got != want {
            let first = got.iter().zip(&want).find(|(a, b)| a != b);
            return Err(format!(
                "{}: {} products stored, {} in the simulator; first difference (stored, expected) {:?}",
                shop.slug,
                got.len(),
                want.len(),
                first
            ));
        }
    }
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_and_webhooks_together_converge_under_faults_for_several_seeds() {
    for seed in [3, 17, 40] {
        converge_under_faults(seed).await;
    }
}

async fn converge_under_faults(seed: u64) {
    let start: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let simulator = Simulator::new(SimConfig {
        seed,
        now: start,
        scale: 0.06,
    });
    simulator.set_rate_limit(false);
    let sim_addr = serve_simulator(&simulator).await;
    let dir = opsdeck_store::testing::sqlite_temp().await.1;
    let mut config = demo_config(
        &simulator.shops(),
        sim_addr,
        "127.0.0.1:0".parse().unwrap(),
        format!("sqlite:{}", dir.dir().join("both.db").display()),
        Duration::from_millis(300),
    )
    .unwrap();
    for (source, shop) in config.shopify.iter_mut().zip(simulator.shops()) {
        source.webhook_secret = simulator.webhook_secret(&shop.slug).map(Secret::new);
    }
    let running = helpers::start(&config, app::system_clock()).await;
    let address = url::Url::parse(&format!("http://{}/webhooks/shopify", running.addr)).unwrap();
    let registered = opsdeck::shopify_cli::register_all(&config, &address)
        .await
        .unwrap();
    assert!(registered.iter().all(|r| r.errors.is_empty()));

    // Trouble on every path while the world moves and both run.
    simulator.set_faults(Faults {
        http_429_rate: 0.05,
        http_5xx_rate: 0.08,
        reset_rate: 0.03,
        truncated_rate: 0.05,
        webhook_duplicate_rate: 0.3,
        webhook_reorder: true,
        seed,
        ..Faults::default()
    });
    for hours in [3, 9, 24, 36] {
        simulator.advance_to(start.checked_add(hours.hours()).unwrap());
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(simulator.wait_for_webhooks(Duration::from_secs(20)).await);
    let delivered = simulator.webhook_stats();
    assert!(delivered.delivered > 5, "{delivered:?}");

    let waited = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        match exact(&simulator, running.store.as_ref()).await {
            Ok(()) => break,
            Err(e) if Instant::now() >= deadline => {
                let states = running.store.all_sync_states().await.unwrap();
                let runs: Vec<String> = states
                    .iter()
                    .map(|s| {
                        format!(
                            "{} {}: watermark {:?}, {} failures, last error {:?}",
                            s.source, s.resource, s.watermark, s.consecutive_failures, s.last_error
                        )
                    })
                    .collect();
                panic!("seed {seed}: {e}\nsync states:\n{}", runs.join("\n"));
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let inbox = running.store.webhook_stats().await.unwrap();
    assert_eq!(inbox.failed, 0, "seed {seed}: {inbox:?}");
    let errors: u64 = running
        .store
        .all_sync_states()
        .await
        .unwrap()
        .iter()
        .map(|s| s.errors)
        .sum();
    eprintln!(
        "seed {seed}: converged after {:?}; webhooks {delivered:?}, inbox {inbox:?}, sync errors survived {errors}",
        waited.elapsed()
    );
    running.stop().await.unwrap();
}

mod crash {
    use super::*;
    use std::process::{Child, Command, Stdio};

    fn spawn(config: &std::path::Path, token: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(["serve", "--config"])
            .arg(config)
            .env("KILL_SHOP_TOKEN", token)
            .env("OPSDECK_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    async fn order_ids(store: &dyn Store, source: &SourceId) -> BTreeSet<String> {
        store
            .list_orders(source)
            .await
            .unwrap()
            .into_iter()
            .map(|o| o.external_id)
            .collect()
    }

    /// The REST backfill's paging (`api = "rest"`, kept for the benchmark
    /// that compares the two backfills); the GraphQL bulk backfill has its
    /// own kill test (`graphql_backfill::kill`).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_backfill_killed_with_sigkill_loses_nothing_committed() {
        let simulator = Simulator::new(SimConfig {
            seed: 8,
            now: "2026-06-10T18:05:00Z".parse().unwrap(),
            scale: 0.3,
        });
        simulator.set_rate_limit(false);
        // Every API answer takes 150 ms, so the backfill spans seconds.
        simulator.set_faults(Faults {
            slow_rate: 1.0,
            slow_ms: 150,
            seed: 8,
            ..Faults::default()
        });
        let sim_addr = serve_simulator(&simulator).await;
        let shop = simulator
            .shops()
            .into_iter()
            .find(|s| s.slug == "mavena")
            .unwrap();
        let total = simulator.orders_json("mavena").len();
        let dir = opsdeck_store::testing::sqlite_temp().await.1;
        let db = dir.dir().join("kill.db");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.dir().join("opsdeck.toml");
        std::fs::write(
            &config,
            format!(
                r#"[server]
listen = "127.0.0.1:{port}"
[database]
url = "sqlite:{db}"
[[brands]]
id = "{brand}"
name = "Mavena"
kind = "standard"
time_zone = "{tz}"
currency = "{currency}"
[brands.shopify]
shop_domain = "{domain}"
access_token_env = "KILL_SHOP_TOKEN"
base_url = "{base}"
api = "rest"
[brands.shopify.sync]
orders_every = "1s"
products_every = "1h"
inventory_every = "1h"
"#,
                db = db.display(),
                brand = shop.brand_id,
                tz = shop.time_zone,
                currency = shop.currency,
                domain = shop.shop_domain,
                base = Simulator::shop_base_url(sim_addr, "mavena"),
            ),
        )
        .unwrap();
        let source = SourceId::parse(&format!("shopify-{}", shop.brand_id)).unwrap();

        let mut child = spawn(&config, &shop.access_token);
        // Wait for the first committed pages, then kill mid-backfill.
        let deadline = Instant::now() + Duration::from_secs(20);
        let store = loop {
            assert!(
                Instant::now() < deadline,
                "the backfill never committed a page"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
            if !db.exists() {
                continue;
            }
            let Ok(store) = opsdeck_store::connect(&format!("sqlite:{}", db.display())).await
            else {
                continue;
            };
            if store
                .list_orders(&source)
                .await
                .is_ok_and(|o| !o.is_empty())
            {
                break store;
            }
        };
        let committed = order_ids(store.as_ref(), &source).await;
        child.kill().unwrap(); // SIGKILL: no shutdown path runs
        child.wait().unwrap();
        assert!(
            committed.len() < total,
            "killed after the backfill ended ({total} orders)"
        );
        let after_kill = order_ids(store.as_ref(), &source).await;
        assert!(
            committed.is_subset(&after_kill),
            "{} committed orders gone after SIGKILL",
            committed.difference(&after_kill).count()
        );

        // Restart: the backfill resumes and completes.
        simulator.set_faults(Faults::default());
        let mut child = spawn(&config, &shop.access_token);
        let deadline = Instant::now() + Duration::from_secs(20);
        let ctx = context(&shop);
        let mut want: Vec<_> = simulator
            .orders_json("mavena")
            .iter()
            .map(|o| order_from_json(&ctx, o).unwrap())
            .collect();
        want.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        loop {
            let got = store.list_orders(&source).await.unwrap();
            if got == want {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "after restart {} of {total} orders",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();
        eprintln!(
            "killed with {} of {total} orders committed ({} after the kill); restart completed",
            committed.len(),
            after_kill.len()
        );
    }
}
