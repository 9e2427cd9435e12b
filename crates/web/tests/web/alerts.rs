//! `/api/v1/alerts*`: list, urgent attention, one episode with history,
//! acknowledge, resolve, silences — over episodes the real evaluator made.

use crate::common::{body_text, Fixture, NOW};
use axum::body::Body;
use axum::http::Request;
use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::{rules, AlertService, Evaluator, Figure, Observation, RuleSet};
use opsdeck_store::AuditAction;
use serde_json::{json, Value};

fn obs(rule: &str, brand: &str, subject: &str) -> Observation {
    Observation {
        rule: rule.into(),
        brand: brand.into(),
        subject: subject.into(),
        value: Some(Figure::new(2.0, "2 units")),
        baseline: None,
        threshold: Some(Figure::new(3.0, "≤ 3 units")),
        active: true,
        why: format!("{subject} is low"),
        why_without_money: None,
        dashboard_path: "/".into(),
    }
}

/// Fires a warning, then two criticals a minute later; returns their ids
/// in that order.
async fn fire(fx: &Fixture) -> Vec<String> {
    let mut rules = RuleSet::defaults();
    for mut r in rules::default_rules() {
        r.timing.pending_for = SignedDuration::ZERO;
        rules.upsert(r);
    }
    let service = AlertService::new(
        fx.state.store.clone(),
        Evaluator::new(rules),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "w",
    );
    let now: Timestamp = NOW.parse().unwrap();
    let first = [obs("inventory_low", "mavena", "sku:A")];
    let s1 = service
        .step(&first, now - SignedDuration::from_mins(2))
        .await
        .unwrap();
    let mut all = first.to_vec();
    all.push(obs("inventory_critical", "mavena", "sku:B"));
    all.push(obs("zero_orders", "mavena", "brand"));
    let s2 = service
        .step(&all, now - SignedDuration::from_mins(1))
        .await
        .unwrap();
    let mut ids: Vec<String> = s1
        .changed
        .iter()
        .filter_map(|a| a.episode_id.clone())
        .collect();
    let mut later: Vec<(String, String)> = s2
        .changed
        .iter()
        .filter(|a| a.rule != "inventory_low")
        .map(|a| (a.rule.clone(), a.episode_id.clone().unwrap()))
        .collect();
    later.sort();
    ids.extend(later.into_iter().map(|(_, id)| id));
    ids
}

async fn post(fx: &Fixture, uri: &str, body: &str) -> (u16, Value) {
    let response = fx
        .send(
            Request::post(uri)
                .header("content-type", "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&body_text(response).await).unwrap(),
    )
}

#[tokio::test]
async fn list_urgent_and_one_episode_with_history() {
    let fx = Fixture::new().await;
    let ids = fire(&fx).await; // [low A, critical B, zero orders]
    let (status, body) = fx.get_json("/api/v1/alerts").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["alerts"].as_array().unwrap().len(), 3);
    let (_, urgent) = fx.get_json("/api/v1/alerts/urgent?limit=2").await;
    let got: Vec<&str> = urgent["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["rule"].as_str().unwrap())
        .collect();
    assert_eq!(got.len(), 2);
    assert!(
        got.iter().all(|r| *r != "inventory_low"),
        "critical first: {got:?}"
    );

    let (status, one) = fx.get_json(&format!("/api/v1/alerts/{}", ids[0])).await;
    assert_eq!(status, 200, "{one}");
    assert_eq!(one["alert"]["state"], "firing");
    assert_eq!(
        one["alert"]["value"],
        json!({"value": 2.0, "text": "2 units"})
    );
    assert_eq!(one["alert"]["why"], "sku:A is low");
    assert_eq!(one["events"][0]["kind"], "firing");
    assert_eq!(one["notifications"][0]["channel"], "slack");
    assert_eq!(one["notifications"][0]["status"], "pending");

    let (status, _) = fx.get_json("/api/v1/alerts/nope").await;
    assert_eq!(status, 404);
    let (status, body) = fx.get_json("/api/v1/alerts?state=closed").await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "state must be open or all, not \"closed\"")
    );
    let (status, _) = fx.get_json("/api/v1/alerts?brand=nosuch").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn acknowledge_resolve_and_silence() {
    let fx = Fixture::new().await;
    let ids = fire(&fx).await;
    let ack = format!("/api/v1/alerts/{}/ack", ids[1]);
    let (status, body) = post(&fx, &ack, "{}").await;
    assert_eq!(
        (status, body["outcome"].as_str().unwrap()),
        (200, "acknowledged")
    );
    let (_, again) = post(&fx, &ack, "").await;
    assert_eq!(again["outcome"], "already_acknowledged");
    assert_eq!(again["by"], "admin", "the session's user, not a typed name");
    let (status, bad) = post(&fx, &ack, r#"{"who": "x"}"#).await;
    assert_eq!(status, 400);
    assert!(
        bad["error"]
            .as_str()
            .unwrap()
            .starts_with("request body: unknown field `who`"),
        "{bad}"
    );
    let (status, bad) = post(&fx, &ack, r#"{"by": "someone else"}"#).await;
    assert_eq!(status, 400, "who acts cannot be chosen: {bad}");

    let resolve = format!("/api/v1/alerts/{}/resolve", ids[1]);
    let (status, _) = post(&fx, &resolve, "{}").await;
    assert_eq!(status, 200);
    let (status, body) = post(&fx, &resolve, "{}").await;
    assert_eq!(status, 400, "{body}");
    let (_, one) = fx.get_json(&format!("/api/v1/alerts/{}", ids[1])).await;
    let kinds: Vec<&str> = one["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "firing",
            "notification",
            "notification",
            "acknowledged",
            "resolved"
        ]
    );
    let audit: Vec<_> = fx
        .state
        .store
        .audit_log(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.action.as_str().starts_with("alert."))
        .collect();
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].action, AuditAction::AlertResolve);
    assert_eq!(audit[0].actor, "admin");

    let silence = json!({"rules": ["zero_orders"], "brands": ["mavena"], "ends_at": "2026-06-10T20:00:00Z",
                         "reason": "store migration"});
    let (status, created) = post(&fx, "/api/v1/alerts/silences", &silence.to_string()).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["starts_at"], NOW);
    assert_eq!(created["author"], "admin");
    let (_, list) = fx.get_json("/api/v1/alerts/silences").await;
    assert_eq!(list["silences"][0]["body"]["reason"], "store migration");
    let everything = json!({"ends_at": "2026-06-10T20:00:00Z", "reason": "r"});
    let (status, body) = post(&fx, "/api/v1/alerts/silences", &everything.to_string()).await;
    assert_eq!(
        (status, body["error"].as_str().unwrap()),
        (400, "a silence must name at least one rule, brand or label")
    );

    let end = format!(
        "/api/v1/alerts/silences/{}/end",
        created["id"].as_str().unwrap()
    );
    let (status, ended) = post(&fx, &end, "").await;
    assert_eq!(
        (status, ended["outcome"].as_str()),
        (200, Some("ended")),
        "{ended}"
    );
    assert_eq!(ended["ended_at"], NOW);
    let (_, list) = fx.get_json("/api/v1/alerts/silences").await;
    assert_eq!(list["silences"], json!([]), "no silence is active any more");
    let (_, again) = post(&fx, &end, "{}").await;
    assert_eq!(again["outcome"], "already_ended");
    let (status, _) = post(&fx, "/api/v1/alerts/silences/nope/end", "").await;
    assert_eq!(status, 404);
    let ends = fx.state.store.audit_log(20).await.unwrap();
    assert_eq!(
        ends.iter()
            .filter(|e| e.action == AuditAction::AlertSilenceEnd)
            .count(),
        1
    );
}

/// The alerts page read a `summary` the episodes never carry, so open
/// alerts of one rule were identical lines; each now says what it is about.
#[tokio::test]
async fn alerts_page_says_what_each_alert_is_about() {
    let fx = Fixture::new().await;
    fire(&fx).await;
    let html = body_text(fx.get("/alerts").await).await;
    for why in ["sku:A is low", "sku:B is low"] {
        assert!(html.contains(why), "{why}: {html}");
    }
}
