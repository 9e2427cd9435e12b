//! Webhook-to-notification latency in the real application: opsdeck on
//! loopback with the simulator's shop, alerts on, Slack and Telegram
//! pointed at the fake receivers. Each episode posts one signed
//! `orders/create` webhook for an order created 5 days ago and still
//! unfulfilled (past the brand's stale limit) to `POST /webhooks/shopify`,
//! and measures the time until a fake receiver holds the next critical
//! message for the shop's brand (each episode's order is a new alert, and
//! is cancelled again afterwards). The path: receiver → inbox commit →
//! inbox worker applies → projection follower applies → alert runner
//! evaluates, commits, sends. Prints
//! p50/p99/max. No assertions.
//!
//!     cargo run --release -p opsdeck --example alert_latency_bench [EPISODES]
//!
//! Evaluation cost per cycle at scale (3 brands at 1M orders, 100 brands)
//! is `opsdeck-alerts`'s `alerts_bench`.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark aborts on a setup failure; there is nothing to recover"
)]

use jiff::{SignedDuration, Timestamp};
use opsdeck::app;
use opsdeck::config::alerts::{SlackConfig, TelegramConfig};
use opsdeck::demo::demo_config;
use opsdeck_alerts::testing::FakeReceivers;
use opsdeck_domain::Secret;
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_sources::shopify::webhooks::sign;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const SECRET: &str = "bench-secret";
const SHOP: &str = "plentum.myshopify.com";

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// A simulator order made new, open and unfulfilled, created `age` ago.
fn stale_order(template: &serde_json::Value, n: u64, now: Timestamp) -> serde_json::Value {
    let mut order = template.clone();
    let created = now - SignedDuration::from_hours(5 * 24);
    order["id"] = serde_json::json!(8_100_000_000_000u64 + n);
    order["name"] = serde_json::json!(format!("#LAT{n}"));
    order["order_number"] = serde_json::json!(900_000 + n);
    order["created_at"] = serde_json::json!(created.to_string());
    order["processed_at"] = serde_json::json!(created.to_string());
    order["updated_at"] = serde_json::json!(now.to_string());
    order["financial_status"] = serde_json::json!("paid");
    order["fulfillment_status"] = serde_json::Value::Null;
    order["fulfillments"] = serde_json::json!([]);
    order["refunds"] = serde_json::json!([]);
    order["cancelled_at"] = serde_json::Value::Null;
    order["closed_at"] = serde_json::Value::Null;
    order["test"] = serde_json::json!(false);
    order
}

#[tokio::main]
async fn main() {
    let episodes: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(100);
    let now = Timestamp::now();
    let simulator = Simulator::new(SimConfig {
        seed: 1,
        now,
        scale: 0.05,
    });
    let dir = std::env::temp_dir().join(format!("opsdeck-alert-latency-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Sync pointed at a dead address: only the webhooks bring orders, so
    // the only stale orders are the episodes'.
    let mut config = demo_config(
        &simulator.shops(),
        "127.0.0.1:9".parse().unwrap(),
        "127.0.0.1:0".parse().unwrap(),
        format!("sqlite:{}", dir.join("latency.db").display()),
        Duration::from_secs(3600),
    )
    .unwrap();
    config.shopify.retain(|s| s.shop_domain == SHOP);
    config.shopify[0].webhook_secret = Some(Secret::new(SECRET));
    let fake = FakeReceivers::start().await.unwrap();
    let a = &mut config.alerts;
    let mut stale = a.rules.get("unfulfilled_stale").unwrap().clone();
    stale.timing.pending_for = SignedDuration::ZERO;
    a.rules.upsert(stale);
    a.slack = Some(SlackConfig {
        webhook_url: Secret::new(fake.slack_url()),
    });
    a.telegram = Some(TelegramConfig {
        base_url: fake.telegram_base_url(),
        bot_token: Secret::new("1:bench"),
        chat_id: "bench".into(),
        message_thread_id: None,
        allowed_user_ids: Vec::new(),
    });
    let every = a.every;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start(&config, listener, app::system_clock())
        .await
        .unwrap();
    let url = format!("http://{}/webhooks/shopify", running.addr);
    let template = simulator.orders_json("plentum")[0].clone();
    let client = reqwest::Client::new();
    let log = fake.clone_handle();
    let mut latencies = Vec::new();
    let mut missed = 0;
    for n in 0..episodes {
        let name = format!("#LAT{n}");
        let body = serde_json::to_vec(&stale_order(&template, n, Timestamp::now())).unwrap();
        let signature = sign(SECRET.as_bytes(), &body);
        let seen = log.received_all().len();
        let started = Instant::now();
        let response = client
            .post(&url)
            .header("X-Shopify-Topic", "orders/create")
            .header("X-Shopify-Hmac-Sha256", signature)
            .header("X-Shopify-Shop-Domain", SHOP)
            .header("X-Shopify-Webhook-Id", format!("latency-{n}"))
            .header("X-Shopify-API-Version", "2025-07")
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200, "webhook refused");
        let arrived = loop {
            if log
                .received_all()
                .iter()
                .skip(seen)
                .any(|r| r.raw.contains("CRITICAL · plentum") && !r.raw.contains("RESOLVED"))
            {
                break Some(started.elapsed());
            }
            if started.elapsed() > Duration::from_secs(10) {
                break None;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        };
        // Cancel it again, so the open orders stay few (the stale panel
        // lists a bounded number) and the next episode is a new alert.
        let mut cancelled = stale_order(&template, n, Timestamp::now());
        cancelled["cancelled_at"] = serde_json::json!(Timestamp::now().to_string());
        let body = serde_json::to_vec(&cancelled).unwrap();
        let response = client
            .post(&url)
            .header("X-Shopify-Topic", "orders/updated")
            .header("X-Shopify-Hmac-Sha256", sign(SECRET.as_bytes(), &body))
            .header("X-Shopify-Shop-Domain", SHOP)
            .header("X-Shopify-Webhook-Id", format!("latency-cancel-{n}"))
            .header("X-Shopify-API-Version", "2025-07")
            .body(body)
            .send()
            .await
            .expect("send");
        assert_eq!(response.status(), 200, "webhook refused");
        match arrived {
            Some(d) => latencies.push(d),
            None => {
                missed += 1;
                if missed == 1 {
                    let stats = running.store.webhook_stats().await;
                    let received: Vec<String> = log
                        .received_all()
                        .iter()
                        .map(|r| r.raw.chars().take(120).collect())
                        .collect();
                    eprintln!(
                        "{name} not notified within 10 s; inbox {stats:?}; received {received:?}"
                    );
                }
            }
        }
    }
    latencies.sort_unstable();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "webhook orders/create (order 5 days old, unfulfilled) → its stale-order message at a fake Slack/Telegram: \
         {} episodes, p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms, missed {missed} \
         (alerts every {:?}, SQLite)",
        latencies.len(),
        ms(percentile(&latencies, 0.5)),
        ms(percentile(&latencies, 0.99)),
        ms(latencies.last().copied().unwrap_or_default()),
        every,
    );
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
