//! Alerts in the running application: a configuration with `[alerts]` and
//! `[notifiers.*]` pointing at the fake receivers; a brand with no order in
//! its business hours fires "zero orders" to Telegram within seconds, and
//! the API shows the episode and its delivery.

use opsdeck::app;
use opsdeck::config::{parse_config, SecretSource};
use opsdeck_alerts::testing::FakeReceivers;
use std::path::Path;
use std::time::Duration;
use tokio::net::TcpListener;

struct Env;

impl SecretSource for Env {
    fn env(&self, name: &str) -> Option<String> {
        (name == "TG_TOKEN").then(|| "123:token".to_string())
    }
    fn file(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::Error::other("no files here"))
    }
}

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
    let dir = std::env::temp_dir().join(format!("opsdeck-alerts-app-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = config_text(
        &dir,
        &format!(
            "[notifiers.telegram]\nbase_url = \"{}\"\nbot_token_env = \"TG_TOKEN\"\nchat_id = \"-100\"\n",
            fake.telegram_base_url()
        ),
    );
    let config = parse_config(&text, &Env).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start(&config, listener, app::system_clock())
        .await
        .unwrap();
    let got = fake.wait_for("telegram", 1, Duration::from_secs(10)).await;
    assert_eq!(got.len(), 1, "zero orders reached Telegram");
    let text = got[0].body["text"].as_str().unwrap();
    assert!(text.contains("Zero orders"), "{text}");
    assert_eq!(got[0].body["chat_id"], "-100");

    let base = format!("http://{}", running.addr);
    let password = "correct horse battery";
    let viewer = opsdeck_store::Role::Viewer;
    opsdeck_web::testing::create_user(running.store.as_ref(), "view", viewer, password).await;
    let session = opsdeck_web::testing::login(&base, "view", password)
        .await
        .unwrap();
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
    let dir = std::env::temp_dir().join(format!("opsdeck-alerts-email-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let text = config_text(
        &dir,
        &format!(
            "[notifiers.email]\nhost = \"127.0.0.1\"\nport = {}\nsecurity = \"none\"\n\
             from = \"opsdeck@example.com\"\nto = [\"owner@example.com\"]\n",
            smtp.port
        ),
    );
    let config = parse_config(&text, &Env).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start(&config, listener, app::system_clock())
        .await
        .unwrap();
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
