//! The running application hands the web its configured alert rules: a
//! `[[alerts.custom]]` rule can be silenced and is offered by the /alerts
//! silence form, while a rule id the configuration lacks is refused.

use crate::helpers::{self, Secrets};
use opsdeck::app;
use opsdeck::config::parse_config;

#[tokio::test]
async fn a_custom_rule_can_be_silenced_and_an_unknown_one_cannot() {
    let dir = helpers::temp_dir("custom-silence");
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
    let config = parse_config(&text, &Secrets::NONE).unwrap();
    let running = helpers::start(&config, app::system_clock()).await;
    let base = helpers::base(&running);
    let session = helpers::log_in(&running, "root", opsdeck_store::Role::Admin).await;
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
