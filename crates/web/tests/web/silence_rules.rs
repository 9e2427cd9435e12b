//! A silence may name only a configured alert rule: an unknown one was
//! accepted (201) and silenced nothing. The API and the /alerts form refuse
//! it with 400 naming the rule; a custom rule of the configuration is
//! accepted and offered by the form.

use crate::common::{body_text, send_as};
use crate::pulse::{fixture, get_as, post_form};
use axum::body::Body;
use axum::http::Request;
use opsdeck_alerts::AlertRules;
use serde_json::json;

async fn post_json(fx: &crate::common::Fixture, body: serde_json::Value) -> (u16, String) {
    let request = Request::post("/api/v1/alerts/silences")
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = send_as(fx.router(), &fx.session, request).await;
    (response.status().as_u16(), body_text(response).await)
}

#[tokio::test]
async fn silences_of_unknown_rules_are_refused_and_custom_rules_accepted() {
    let mut fx = fixture().await;
    let mut rules = AlertRules::default().all().to_vec();
    rules.push(("vip_refund".into(), "VIP refund".into()));
    fx.state.alert_rules = AlertRules::new(rules);
    let silence =
        |rule: &str| json!({"rules": [rule], "ends_at": "2026-06-10T20:00:00Z", "reason": "r"});

    let (status, body) = post_json(&fx, silence("nope")).await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("nope"), "the error names the rule: {body}");
    let t = fx.session.csrf_token.clone();
    let form = format!("csrf_token={t}&rule=nope&hours=2&reason=x");
    let (status, _, html) = post_form(fx.router(), &fx.session, "/alerts/silences", &form).await;
    assert_eq!(status, 400, "{html}");
    assert!(html.contains("unknown alert rule"), "{html}");
    assert!(html.contains("nope"), "{html}");
    assert!(fx
        .state
        .store
        .alert_silences(None)
        .await
        .unwrap()
        .is_empty());

    let (_, html) = get_as(&fx, &fx.session, "/alerts").await;
    assert!(
        html.contains("<option value=\"vip_refund\">VIP refund</option>"),
        "the form offers the custom rule: {html}"
    );
    let (status, body) = post_json(&fx, silence("vip_refund")).await;
    assert_eq!(status, 201, "{body}");
    let form = format!("csrf_token={t}&rule=vip_refund&hours=2&reason=x");
    let (status, _, html) = post_form(fx.router(), &fx.session, "/alerts/silences", &form).await;
    assert_eq!(status, 303, "{html}");
    let (status, body) = post_json(&fx, silence("inventory_low")).await;
    assert_eq!(status, 201, "a default rule: {body}");
    assert_eq!(fx.state.store.alert_silences(None).await.unwrap().len(), 3);
}
