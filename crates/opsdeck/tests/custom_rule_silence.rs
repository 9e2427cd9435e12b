//! The running application hands the web its configured alert rules: a
//! `[[alerts.custom]]` rule can be silenced and is offered by the /alerts
//! silence form, while a rule id the configuration lacks is refused.

use opsdeck::app;
use opsdeck::config::{parse_config, SecretSource};
use std::path::Path;
use tokio::net::TcpListener;

struct NoSecrets;

impl SecretSource for NoSecrets {
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn file(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::Error::other("no files here"))
    }
}

#[tokio::test]
async fn a_custom_rule_can_be_silenced_and_an_unknown_one_cannot() {
    let dir = std::env::temp_dir().join(format!("opsdeck-custom-silence-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
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

[alerts]
every = "1h"
[[alerts.custom]]
id = "orders_drop"
name = "Orders dropping"
metric = "orders_today"
direction = "below"
change_percent = 30
min_volume = 10
"#,
        db = dir.join("opsdeck.db").display(),
    );
    let config = parse_config(&text, &NoSecrets).unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start(&config, listener, app::system_clock())
        .await
        .unwrap();
    let base = format!("http://{}", running.addr);
    let password = "correct horse battery";
    let admin = opsdeck_store::Role::Admin;
    opsdeck_web::testing::create_user(running.store.as_ref(), "root", admin, password).await;
    let session = opsdeck_web::testing::login(&base, "root", password)
        .await
        .unwrap();
    let client = reqwest::Client::new();
    let silence = |rule: &str| {
        client
            .post(format!("{base}/api/v1/alerts/silences"))
            .header("cookie", &session.cookie)
            .header("x-csrf-token", &session.csrf_token)
            .json(&serde_json::json!({
                "rules": [rule], "ends_at": "2099-01-01T00:00:00Z", "reason": "test"
            }))
            .send()
    };
    let custom = silence("orders_drop").await.unwrap();
    assert_eq!(custom.status(), 201, "{}", custom.text().await.unwrap());
    let unknown = silence("nope").await.unwrap();
    assert_eq!(unknown.status(), 400);
    assert!(unknown.text().await.unwrap().contains("nope"));
    let page = client
        .get(format!("{base}/alerts"))
        .header("cookie", &session.cookie)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<option value=\"orders_drop\">Orders dropping</option>"),
        "{page}"
    );
    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}
