//! Shopify webhooks through the whole product: the simulator subscribes
//! opsdeck through `opsdeck shopify webhooks register`'s code path, moves its
//! world and delivers signed webhooks; opsdeck (with its sync pointed at a
//! dead address, so nothing arrives any other way) must converge to exactly
//! the simulator's orders — also with duplicated and reordered deliveries.
//! And a burst against the real binary, killed with SIGKILL mid-burst: every
//! delivery that was answered 200 is in the store after a restart.

use crate::helpers;
use jiff::{Timestamp, ToSpan};
use opsdeck_domain::{BrandId, Currency, SourceId};
use opsdeck_simulator::{Faults, SimConfig, Simulator};
use opsdeck_sources::shopify::normalize::order_from_json;
use opsdeck_sources::shopify::NormalizeContext;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_alone_converge_to_the_simulators_orders() {
    converge(Faults::default(), 5).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_reordered_webhooks_still_converge() {
    let faults = Faults {
        webhook_duplicate_rate: 0.3,
        webhook_reorder: true,
        seed: 9,
        ..Faults::default()
    };
    converge(faults, 23).await;
}

async fn converge(faults: Faults, seed: u64) {
    let start: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let helpers::WebhookOnly {
        simulator,
        running,
        real,
        address,
        registered: first,
        ..
    } = helpers::webhook_only(faults, seed, start, "hooks.db").await;
    assert!(first.iter().all(|r| r.errors.is_empty()), "{first:?}");
    let topics = opsdeck_sources::shopify::WebhookTopic::subscribable().count();
    assert!(first.iter().all(|r| r.created.len() == topics));
    // Registering again changes nothing.
    let again = opsdeck::shopify_cli::register_all(&real, &address)
        .await
        .unwrap();
    assert!(again
        .iter()
        .all(|r| r.created.is_empty() && r.already.len() == topics));

    // Two days of the world: new orders, shipments, deliveries, refunds.
    let before: BTreeMap<String, Vec<serde_json::Value>> = simulator
        .shops()
        .iter()
        .map(|s| (s.slug.clone(), simulator.orders_json(&s.slug)))
        .collect();
    for hours in [6, 12, 24, 48] {
        simulator.advance_to(start.checked_add(hours.hours()).unwrap());
    }
    assert!(simulator.wait_for_webhooks(Duration::from_secs(30)).await);
    let stats = simulator.webhook_stats();
    assert_eq!(stats.abandoned, 0, "{stats:?}");
    assert!(stats.delivered > 20, "{stats:?}");

    // Expected: every order the world changed since the subscriptions, as
    // the connector normalizes the simulator's current rendering.
    for shop in simulator.shops() {
        let source = SourceId::parse(&format!("shopify-{}", shop.slug)).unwrap();
        let ctx = NormalizeContext {
            source: source.clone(),
            brand: BrandId::parse(&shop.brand_id).unwrap(),
            currency: Currency::parse(&shop.currency).unwrap(),
        };
        let old = &before[&shop.slug];
        let mut expected: Vec<_> = simulator
            .orders_json(&shop.slug)
            .iter()
            .enumerate()
            .filter(|(i, o)| {
                old.get(*i)
                    .is_none_or(|was| was["updated_at"] != o["updated_at"])
            })
            .map(|(_, o)| order_from_json(&ctx, o).unwrap())
            .collect();
        expected.sort_by(|a, b| a.external_id.cmp(&b.external_id));
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let stored = running.store.list_orders(&source).await.unwrap();
            if stored == expected {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "{}: {} stored vs {} expected; first difference: {:?}",
                shop.slug,
                stored.len(),
                expected.len(),
                stored
                    .iter()
                    .zip(&expected)
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| (a.external_id.clone(), b.external_id.clone()))
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        if shop.launched {
            assert!(
                !expected.is_empty(),
                "{}: the world did not move",
                shop.slug
            );
        }
    }
    let inbox = running.store.webhook_stats().await.unwrap();
    assert_eq!(inbox.failed, 0, "{inbox:?}");
    running.stop().await.unwrap();
}

mod crash {
    use super::*;
    use opsdeck_sources::shopify::webhooks::sign;
    use std::process::{Child, Command, Stdio};

    const SECRET: &str = "crash-test-secret";

    fn spawn(config: &std::path::Path) -> Child {
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(["serve", "--config"])
            .arg(config)
            .env("CRASH_SHOP_TOKEN", "shpat_unused")
            .env("CRASH_WEBHOOK_SECRET", SECRET)
            .env("OPSDECK_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    async fn wait_up(client: &reqwest::Client, base: &str) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while client.get(format!("{base}/healthz")).send().await.is_err() {
            assert!(Instant::now() < deadline, "opsdeck did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_acknowledged_webhook_survives_sigkill() {
        let dir = opsdeck_store::testing::sqlite_temp().await.1;
        let db = dir.dir().join("crash.db");
        let port = free_port();
        let config = dir.dir().join("opsdeck.toml");
        std::fs::write(
            &config,
            format!(
                r#"[server]
listen = "127.0.0.1:{port}"
[database]
url = "sqlite:{}"
[[brands]]
id = "plentum"
name = "Plentum"
kind = "subscription"
time_zone = "America/New_York"
currency = "USD"
[brands.shopify]
shop_domain = "plentum.myshopify.com"
access_token_env = "CRASH_SHOP_TOKEN"
webhook_secret_env = "CRASH_WEBHOOK_SECRET"
base_url = "http://127.0.0.1:9"
"#,
                db.display()
            ),
        )
        .unwrap();
        let template = Simulator::new(SimConfig {
            seed: 3,
            now: "2026-06-10T18:05:00Z".parse().unwrap(),
            scale: 0.02,
        })
        .orders_json("plentum")
        .remove(0);

        let mut child = spawn(&config);
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        wait_up(&client, &base).await;

        // Four senders, 400 orders each, until the process is killed.
        let acked = Arc::new(std::sync::Mutex::new(Vec::<u64>::new()));
        let mut senders = Vec::new();
        for worker in 0..4u64 {
            let (client, base, acked) = (client.clone(), base.clone(), acked.clone());
            let template = template.clone();
            senders.push(tokio::spawn(async move {
                for n in 0..400u64 {
                    let id = 5_000_000_000_000 + worker * 10_000 + n;
                    let mut order = template.clone();
                    order["id"] = serde_json::json!(id);
                    let body = serde_json::to_vec(&order).unwrap();
                    let sent = client
                        .post(format!("{base}/webhooks/shopify"))
                        .header("X-Shopify-Topic", "orders/create")
                        .header("X-Shopify-Hmac-Sha256", sign(SECRET.as_bytes(), &body))
                        .header("X-Shopify-Shop-Domain", "plentum.myshopify.com")
                        .header("X-Shopify-Webhook-Id", format!("crash-{id}"))
                        .body(body)
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 200 => acked.lock().unwrap().push(id),
                        Ok(r) => panic!("unexpected {}", r.status()),
                        Err(_) => return, // killed
                    }
                }
            }));
        }
        // Kill once a good part of the burst was acknowledged.
        let deadline = Instant::now() + Duration::from_secs(20);
        while acked.lock().unwrap().len() < 300 {
            assert!(Instant::now() < deadline, "burst too slow");
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        for s in senders {
            s.await.unwrap();
        }
        let acked = acked.lock().unwrap().clone();
        assert!(acked.len() < 1600, "the kill came after the burst");

        // Restart: the inbox worker applies what was committed before the kill.
        let mut child = spawn(&config);
        wait_up(&client, &base).await;
        let store = opsdeck_store::connect(&format!("sqlite:{}", db.display()))
            .await
            .unwrap();
        let source = SourceId::parse("shopify-plentum").unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        let stored = loop {
            let ids: std::collections::HashSet<u64> = store
                .list_orders(&source)
                .await
                .unwrap()
                .iter()
                .map(|o| o.external_id.parse().unwrap())
                .collect();
            if acked.iter().all(|id| ids.contains(id)) {
                break ids;
            }
            assert!(
                Instant::now() < deadline,
                "{} of {} acknowledged orders missing",
                acked.iter().filter(|id| !ids.contains(id)).count(),
                acked.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        };
        child.kill().unwrap();
        child.wait().unwrap();
        eprintln!(
            "acknowledged {} before SIGKILL, {} stored after restart",
            acked.len(),
            stored.len()
        );
    }
}
