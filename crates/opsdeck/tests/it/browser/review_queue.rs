//! The review queue in the browser (issue 15 point 3): a pharmacy pushes
//! prescriptions through the ingest API (`RX_UPLOADED` events, one three
//! hours old, one 50 minutes old, one 5 minutes old, and one approved);
//! /queues/review shows the brand's prescriptions queue with three waiting,
//! the oldest three hours old, and the three-hour-old one breached (the
//! playbook's 1 h SLA) at the top of the table, marked urgent.

use super::app::{TestApp, NOW};
use super::webdriver::{missing_browser, Browser};
use opsdeck_domain::{BrandId, SourceId};
use opsdeck_store::{AuditAction, AuditEntry, NewApiToken, TokenKinds};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// `minutes` before the data set's clock, as the platform sends it.
fn ago(minutes: i64) -> String {
    let now: jiff::Timestamp = NOW.parse().unwrap();
    (now - jiff::SignedDuration::from_mins(minutes)).to_string()
}

/// A review-events token for `brand`'s pharmacy platform.
async fn pharmacy_token(app: &TestApp, brand: &str) -> String {
    let new = NewApiToken::generate(
        "pharmacy",
        BrandId::parse(brand).unwrap(),
        SourceId::parse(&format!("ingest-{brand}")).unwrap(),
        TokenKinds::Only(vec!["review-events".into()]),
        "tester",
        NOW.parse().unwrap(),
    );
    let audit = AuditEntry {
        at: NOW.parse().unwrap(),
        actor: "tester".into(),
        action: AuditAction::ApiTokenCreate,
        subject: new.token.id.clone(),
        payload: json!({}),
        ip: None,
    };
    app.running
        .store
        .create_api_token(&new, &audit)
        .await
        .unwrap();
    new.plaintext.expose().to_string()
}

/// The brand's prescriptions queue once it holds `pending` items.
async fn prescriptions(app: &TestApp, brand: &str, pending: u64) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let view = app
            .json(&format!("/api/v1/queues/review?brand={brand}"))
            .await;
        let queue = view["brands"][0]["queues"]
            .as_array()
            .and_then(|qs| qs.iter().find(|q| q["queue"] == "prescriptions"))
            .cloned();
        if let Some(q) = queue.filter(|q| q["pending"] == pending) {
            return q;
        }
        assert!(
            Instant::now() < deadline,
            "the queue never held {pending}: {view:#}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushed_prescriptions_show_count_oldest_and_the_breached_one_urgent() {
    if let Some(why) = missing_browser() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser is missing: {why}");
        }
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let app = TestApp::start(0.03, "review-queue").await;
    let brand = app.simulator.shops()[0].brand_id.to_string();
    let token = pharmacy_token(&app, &brand).await;
    let event = |id: &str, name: &str, minutes: i64| json!({"external_id": id, "event": name, "occurred_at": ago(minutes)});
    let response = app
        .http
        .post(format!("{}/api/v1/ingest/review-events", app.base))
        .bearer_auth(&token)
        .json(&json!({"records": [
            event("rx-old", "RX_UPLOADED", 180),
            event("rx-late", "RX_UPLOADED", 50),
            event("rx-new", "RX_UPLOADED", 5),
            event("rx-done", "RX_UPLOADED", 240),
            event("rx-done", "RX_APPROVED", 200),
        ]}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
    let queue = prescriptions(&app, &brand, 3).await;
    assert_eq!(queue["breached"], 1, "{queue:#}");

    let b = Browser::start().await;
    let url = |path: &str| format!("{}{path}", app.base);
    b.goto(&url("/login")).await;
    let (name, value) = app.api.cookie.split_once('=').unwrap();
    b.set_cookie(name, value).await;
    b.goto(&url("/queues/review")).await;
    assert_eq!(b.text_of("h1").await, "Review queues");
    let heading = b.text_of(&format!("#brand-{brand} h2")).await;
    assert!(heading.contains("3 waiting"), "{heading}");
    assert!(heading.contains("1 breached"), "{heading}");
    let summary = b
        .eval(
            "return document.querySelector(arguments[0]).nextElementSibling.textContent;",
            vec![Value::from(format!("#queue-{brand}-prescriptions"))],
        )
        .await;
    let summary = summary
        .as_str()
        .unwrap()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    assert!(summary.starts_with("3 waiting · oldest 3 h"), "{summary}");
    assert!(summary.contains("1 breached"), "{summary}");
    // The breached prescription is the first row, styled urgent; the one
    // at 50 minutes is at risk (75 % of the hour), the newest on track.
    let rows = b
        .eval(
            "return [...document.querySelectorAll(arguments[0] + ' tbody tr')].map(r => \
             [r.cells[0].textContent.trim(), r.className, r.cells[6].textContent.trim()]);",
            vec![Value::from(format!(
                "table[aria-label='{} prescriptions']",
                app.simulator.shops()[0].name
            ))],
        )
        .await;
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert_eq!(rows[0][0], "rx-old", "{rows:?}");
    assert_eq!(rows[0][2], "breached");
    let class = rows[0][1].as_str().unwrap();
    assert!(
        class.contains("sla--breached") && class.contains("sev--out-of-stock"),
        "the breached row is marked urgent: {class}"
    );
    assert_eq!(rows[1][0], "rx-late");
    assert_eq!(rows[1][2], "at risk");
    assert_eq!(rows[2][0], "rx-new");
    assert_eq!(rows[2][2], "on track");
    b.screenshot(&super::screenshot_dir().join("review-queue.png"))
        .await;
    drop(b);
    app.stop().await;
}
