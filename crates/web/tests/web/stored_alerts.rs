//! An episode stored by the previous release (its body written before
//! alerts were read as types, without the wording of its reason without
//! money, its figure without the `money` mark) still reads on the API and
//! the pages; a role that may not see revenue gets neither the amount in
//! the reason nor the figure that names one.

use crate::common::{body_text, send_as, ts, Fixture, NOW};
use axum::body::Body;
use axum::http::Request;
use opsdeck_store::alerts::{AlertBatch, EpisodeRow, EpisodeState, Severity};
use opsdeck_store::Role;
use opsdeck_web::testing::user_session;
use serde_json::{json, Value};

/// The body as the previous release's evaluator wrote it (acknowledged by
/// `@owner` over Telegram).
fn stored_body() -> Value {
    json!({
        "key": "fulfillment_blocker|mavena|order:#1042",
        "rule": "fulfillment_blocker",
        "rule_name": "Fulfillment blocker",
        "brand": "mavena",
        "subject": "order:#1042",
        "severity": "critical",
        "phase": "acknowledged",
        "episode_id": "E1",
        "pending_since": "2026-06-10T08:00:00Z",
        "fired_at": "2026-06-10T08:05:00Z",
        "inactive_since": null,
        "last_notified_at": "2026-06-10T08:05:00Z",
        "notifications": 1,
        "tier": "telegram",
        "escalated_at": null,
        "ack": {"by": "@owner", "via": "telegram", "at": "2026-06-10T09:00:00Z"},
        "resolved_at": null,
        "silenced_by": null,
        "value": {"value": 41200.0, "text": "$412.00"},
        "baseline": null,
        "threshold": {"value": 48.0, "text": "48 h"},
        "why": "Order #1042 ($412.00) unfulfilled for 52 h",
        "dashboard_path": "/?brand=mavena#orders",
        "timing": {"pending_for": "PT5M", "keep_firing_for": "PT10M",
                   "repeat_every": "PT4H", "escalate_after": "PT30M"}
    })
}

pub(crate) async fn store_it(fx: &Fixture) {
    let row = EpisodeRow {
        id: "E1".into(),
        dedup_key: "fulfillment_blocker|mavena|order:#1042".into(),
        rule: "fulfillment_blocker".into(),
        brand: "mavena".into(),
        severity: Severity::Critical,
        state: EpisodeState::Acknowledged,
        opened_at: ts("2026-06-10T08:05:00Z"),
        updated_at: ts("2026-06-10T09:00:00Z"),
        body: stored_body(),
    };
    let batch = AlertBatch {
        episodes: vec![row],
        ..Default::default()
    };
    fx.state.store.alert_commit(&batch).await.unwrap();
}

#[tokio::test]
async fn an_episode_stored_by_the_previous_release_reads_with_amounts_only_for_money_roles() {
    let fx = Fixture::new().await;
    store_it(&fx).await;

    let (status, admin) = fx.get_json("/api/v1/alerts/E1").await;
    assert_eq!(status, 200, "{admin}");
    let a = &admin["alert"];
    assert_eq!(a["why"], "Order #1042 ($412.00) unfulfilled for 52 h");
    assert_eq!(a["value"], json!({"value": 41200.0, "text": "$412.00"}));
    assert_eq!(a["threshold"], json!({"value": 48.0, "text": "48 h"}));
    assert_eq!(
        (
            &a["subject"],
            &a["rule_name"],
            &a["tier"],
            &a["notifications"]
        ),
        (
            &json!("order:#1042"),
            &json!("Fulfillment blocker"),
            &json!("telegram"),
            &json!(1)
        )
    );
    assert_eq!(
        (&a["severity"], &a["state"]),
        (&json!("critical"), &json!("acknowledged"))
    );
    assert_eq!(a["acknowledged"]["by"], "@owner");

    let support = user_session(fx.state.store.as_ref(), "sam", Role::Support, ts(NOW)).await;
    let get = |uri: &str| Request::get(uri).body(Body::empty()).unwrap();
    let r = send_as(fx.router(), &support, get("/api/v1/alerts/E1")).await;
    assert_eq!(r.status(), 200);
    let hidden: Value = serde_json::from_str(&body_text(r).await).unwrap();
    let h = &hidden["alert"];
    assert_eq!(
        h["why"],
        "Details name an amount of money, which your role does not show."
    );
    assert_eq!(h["value"], Value::Null, "the figure names an amount");
    assert_eq!(h["threshold"], json!({"value": 48.0, "text": "48 h"}));

    let r = send_as(fx.router(), &support, get("/alerts/E1")).await;
    assert_eq!(r.status(), 200);
    let html = body_text(r).await;
    assert!(html.contains("your role does not show"), "{html}");
    assert!(!html.contains("412"), "{html}");
}

#[tokio::test]
async fn an_episode_that_does_not_decode_is_left_out_of_lists_and_is_a_500_alone() {
    let fx = Fixture::new().await;
    store_it(&fx).await;
    let broken = EpisodeRow {
        id: "E2".into(),
        dedup_key: "zero_orders|mavena|brand".into(),
        rule: "zero_orders".into(),
        brand: "mavena".into(),
        severity: Severity::Critical,
        state: EpisodeState::Firing,
        opened_at: ts("2026-06-10T08:05:00Z"),
        updated_at: ts("2026-06-10T09:30:00Z"),
        body: json!({"why": "no subject, no timing"}),
    };
    let batch = AlertBatch {
        episodes: vec![broken],
        ..Default::default()
    };
    fx.state.store.alert_commit(&batch).await.unwrap();
    let (status, list) = fx.get_json("/api/v1/alerts").await;
    assert_eq!(status, 200, "{list}");
    let ids: Vec<&str> = list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["E1"]);
    assert_eq!(fx.get("/alerts").await.status(), 200);
    let (status, _) = fx.get_json("/api/v1/alerts/E2").await;
    assert_eq!(status, 500);
}
