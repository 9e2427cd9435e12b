//! System health over HTTP: a platform pushes heartbeats and values with
//! its ingest token (401 without one, 403 when it may not write
//! `health-checks`, 400 naming the bound or the check when a push does not
//! fit, and nothing stored); the API and the `/system` page list each check
//! with its state (pending before its first result) and the marked place
//! for opsdeck's own latency.

use crate::common::{body_text, ts, Fixture, NOW};
use crate::ingest::token;
use crate::pulse::{get_as, session};
use opsdeck_store::{Role, TokenKinds};
use serde_json::Value;

async fn push(fx: &Fixture, token: Option<&str>, path: &str, body: &str) -> (u16, String) {
    let mut r = axum::http::Request::post(path).header("content-type", "application/json");
    if let Some(t) = token {
        r = r.header("authorization", format!("Bearer {t}"));
    }
    let response = tower::ServiceExt::oneshot(
        fx.router(),
        r.body(axum::body::Body::from(body.to_string())).unwrap(),
    )
    .await
    .unwrap();
    let status = response.status().as_u16();
    (status, body_text(response).await)
}

#[tokio::test]
async fn platforms_push_heartbeats_and_values_within_their_bounds() {
    let fx = Fixture::new().await;
    let allowed = token(&fx, "kumo", TokenKinds::Only(vec!["health-checks".into()])).await;
    let orders_only = token(&fx, "kumo", TokenKinds::Only(vec!["orders".into()])).await;
    let beat = r#"{"check": "label_worker"}"#;
    assert_eq!(
        push(&fx, None, "/api/v1/ingest/heartbeats", beat).await.0,
        401
    );
    let (status, text) = push(&fx, Some(&orders_only), "/api/v1/ingest/heartbeats", beat).await;
    assert_eq!(status, 403, "{text}");
    let (status, text) = push(&fx, Some(&allowed), "/api/v1/ingest/heartbeats", beat).await;
    assert_eq!(status, 202, "{text}");

    for (body, words) in [
        (r#"{"check": "pick_queue", "value": 5e12}"#, "1e12"),
        (r#"{"check": "pick_queue", "value": "many"}"#, "value"),
        (
            r#"{"check": "label_worker", "value": 3}"#,
            "heartbeat check",
        ),
        (
            r#"{"check": "nope", "value": 3}"#,
            "no health check is named \\\"nope\\\"",
        ),
    ] {
        let (status, text) = push(&fx, Some(&allowed), "/api/v1/ingest/health-values", body).await;
        assert_eq!(status, 400, "{body}: {text}");
        assert!(text.contains(words), "{body}: {text}");
    }
    let (status, text) = push(
        &fx,
        Some(&allowed),
        "/api/v1/ingest/health-values",
        r#"{"check": "pick_queue", "value": 42}"#,
    )
    .await;
    assert_eq!(status, 202, "{text}");

    let checks = fx.state.health_checks.clone().unwrap();
    checks.evaluate_once(ts(NOW)).await.unwrap();
    let viewer = session(&fx, "vera", Role::Viewer).await;
    let (status, text) = get_as(&fx, &viewer, "/api/v1/system/health-checks").await;
    assert_eq!(status, 200, "{text}");
    let v: Value = serde_json::from_str(&text).unwrap();
    let state = |name: &str| {
        v["checks"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == name)
            .map(|c| (c["state"].clone(), c["recent"].as_array().unwrap().len()))
            .unwrap()
    };
    assert_eq!(state("label_worker"), ("up".into(), 1));
    assert_eq!(
        state("pick_queue"),
        ("up".into(), 1),
        "only the good value was stored"
    );
}

#[tokio::test]
async fn the_system_page_lists_checks_pending_before_their_first_result() {
    let fx = Fixture::new().await;
    let viewer = session(&fx, "vera", Role::Viewer).await;
    let (status, html) = get_as(&fx, &viewer, "/system").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("id=\"check-label_worker\" data-state=\"pending\""),
        "{html}"
    );
    assert!(
        html.contains("id=\"check-pick_queue\" data-state=\"pending\""),
        "{html}"
    );
    // opsdeck's own latency by route group, beside the checks (this very
    // request is not in it yet: it is timed once answered).
    assert!(html.contains("id=\"system-latency\""), "{html}");
    assert!(html.contains("Request latency"), "{html}");
    assert!(
        html.contains("No platform has pushed a health check."),
        "{html}"
    );
}
