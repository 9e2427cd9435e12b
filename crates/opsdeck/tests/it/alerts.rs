//! Alerts in the running application: a configuration with `[alerts]` and
//! `[notifiers.*]` pointing at the fake receivers; a brand with no order in
//! its business hours fires "zero orders" to Telegram within seconds, and
//! the API shows the episode and its delivery.

use crate::helpers::{self, Secrets};
use opsdeck::app;
use opsdeck::config::parse_config;
use opsdeck_alerts::testing::FakeReceivers;
use std::path::Path;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;

const ENV: Secrets = Secrets::only(&[("TG_TOKEN", "123:token")]);

/// One brand open around the clock with no orders, "zero orders" firing at
/// once, evaluated every second, and the given `[notifiers.*]` section.
fn config_text(dir: &Path, notifier: &str) -> String {
    format!(
        r#"
[database]
url = "sqlite://{db}"

[[brands]]
id = "mavena"
name = "Mavena"
kind = "subscription"
time_zone = "America/New_York"
currency = "USD"

[alerts]
every = "1s"
[[alerts.rules]]
rule = "zero_orders"
pending = "0s"

{notifier}"#,
        db = dir.join("opsdeck.db").display(),
    )
}

#[tokio::test]
async fn zero_orders_reaches_telegram_and_the_api() {
    let fake = FakeReceivers::start().await.unwrap();
    let dir = helpers::temp_dir("alerts-app");
    let text = config_text(
        &dir,
        &format!(
            "[notifiers.telegram]\nbase_url = \"{}\"\nbot_token_env = \"TG_TOKEN\"\nchat_id = \"-100\"\n",
            fake.telegram_base_url()
        ),
    );
    let config = parse_config(&text, &ENV).unwrap();
    let running = helpers::start(&config, app::system_clock()).await;
    let got = fake.wait_for("telegram", 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "zero orders reached Telegram");
    let text = got[0].body["text"].as_str().unwrap();
    assert!(text.contains("Zero orders"), "{text}");
    assert_eq!(got[0].body["chat_id"], "-100");

    let base = helpers::base(&running);
    let session = helpers::log_in(&running, "view", opsdeck_store::Role::Viewer).await;
    let body: serde_json::Value = reqwest::Client::new()
        .get(format!("{base}/api/v1/alerts"))
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let alerts = body["alerts"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{body}");
    assert_eq!(alerts[0]["rule"], "zero_orders");
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// `[notifiers.email]` in the running application: the same episode is
/// mailed through the configured relay, with the alert in the subject.
#[tokio::test]
async fn zero_orders_is_mailed_through_the_configured_relay() {
    let smtp = opsdeck_alerts::testing::FakeSmtp::start().await.unwrap();
    let dir = helpers::temp_dir("alerts-email");
    let text = config_text(
        &dir,
        &format!(
            "[notifiers.email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"opsdeck@example.com\"\nto = [\"owner@example.com\"]\n",
            smtp.port
        ),
    );
    let config = parse_config(&text, &ENV).unwrap();
    let running = helpers::start(&config, app::system_clock()).await;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while smtp.messages().is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let received = smtp.received();
    assert_eq!(received.len(), 1, "one message for one episode");
    let message = &received[0];
    assert!(!message.secured && message.user.is_none());
    assert!(message.data.contains("Zero orders"), "{}", message.data);
    assert!(message.data.contains("To: owner@example.com\r\n"));
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// An unfulfilled order of `brand` created `days` ago.
fn unfulfilled(id: &str, days: i64) -> opsdeck_store::AnyRecord {
    use opsdeck_domain::*;
    let created = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24 * days);
    let price = Money::new(25_00, Currency::USD);
    opsdeck_store::AnyRecord::Order(Order {
        source: SourceId::parse("shopify-mavena").unwrap(),
        external_id: id.to_string(),
        brand: BrandId::parse("mavena").unwrap(),
        name: format!("#{id}"),
        number: None,
        created_at: created,
        updated_at: created,
        processed_at: Some(created),
        cancelled_at: None,
        cancel_reason: None,
        closed_at: None,
        currency: Currency::USD,
        total_price: price,
        subtotal_price: price,
        total_discounts: Money::zero(Currency::USD),
        total_tax: Money::zero(Currency::USD),
        financial_status: FinancialStatus::Paid,
        fulfillment_status: OrderFulfillmentStatus::Unfulfilled,
        tags: Vec::new(),
        source_name: Some("web".into()),
        test: false,
        email: None,
        customer: None,
        line_items: Vec::new(),
        fulfillments: Vec::new(),
        refunds: Vec::new(),
    })
}

/// Issue 10.A1: a minimal configuration (no `[alerts]`, no `[notifiers]`)
/// still evaluates every default rule: stale orders open "unfulfilled
/// stale" alerts, shown by the API and the pages, which say that no
/// channel will deliver them.
#[tokio::test]
async fn a_minimal_config_opens_alerts_and_says_nothing_delivers_them() {
    let dir = helpers::temp_dir("alerts-minimal");
    let text = format!(
        r#"
[database]
url = "sqlite://{db}"

[[brands]]
id = "mavena"
name = "Mavena"
kind = "subscription"
time_zone = "America/New_York"
currency = "USD"
"#,
        db = dir.join("opsdeck.db").display(),
    );
    let config = parse_config(&text, &ENV).unwrap();
    // A clock that runs fast (each poll below moves it a minute on), so
    // the rules' production pending period of 2 minutes passes in seconds.
    let ahead = Arc::new(AtomicI64::new(0));
    let clock: app::Clock = {
        let ahead = ahead.clone();
        Arc::new(move || {
            jiff::Timestamp::now() + jiff::SignedDuration::from_secs(ahead.load(Ordering::SeqCst))
        })
    };
    let running = helpers::start(&config, clock).await;
    let stale: Vec<_> = (0..3)
        .map(|i| unfulfilled(&format!("10{i}"), 10 + i))
        .collect();
    running.store.upsert(&stale, None).await.unwrap();

    let base = helpers::base(&running);
    let session = helpers::log_in(&running, "view", opsdeck_store::Role::Viewer).await;
    let client = reqwest::Client::new();
    let get = |path: &str| {
        client
            .get(format!("{base}{path}"))
            .header("cookie", &session.cookie)
            .send()
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    let body = loop {
        let body: serde_json::Value = get("/api/v1/alerts").await.unwrap().json().await.unwrap();
        let stale_alerts = body["alerts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["rule"] == "unfulfilled_stale")
            .count();
        if stale_alerts == 3 {
            break body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no stale alert opened: {body:#}"
        );
        ahead.fetch_add(60, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let warning = body["delivery_warning"].as_str().unwrap();
    assert!(
        warning.contains("no channel will deliver them"),
        "{warning}"
    );
    let page = get("/alerts").await.unwrap().text().await.unwrap();
    assert!(page.contains("Unfulfilled order stale"), "{page}");
    assert!(page.contains("no channel will deliver them"), "{page}");
    let feed = get("/fragments/feed").await.unwrap().text().await.unwrap();
    assert!(feed.contains("no channel will deliver them"), "{feed}");
    // Nothing was queued for channels nobody configured.
    assert!(running
        .store
        .outbox_list(None, 10)
        .await
        .unwrap()
        .is_empty());
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
