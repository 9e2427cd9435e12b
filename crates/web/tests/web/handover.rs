//! Shift handovers and the morning checklist over HTTP: who may read and
//! who may write (viewer reads, ops writes), the lifecycle's refusals as
//! statuses (four eyes 403, a wrong step 409), the pages, and every change
//! in the audit log.

use crate::common::{send_as, Fixture};
use crate::pulse::{get_as, post_form, session};
use axum::body::Body;
use axum::http::Request;
use opsdeck_store::Role;
use opsdeck_web::testing::TestSession;
use serde_json::{json, Value};

async fn post_json(fx: &Fixture, s: &TestSession, uri: &str, body: Value) -> (u16, Value) {
    let request = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = send_as(fx.router(), s, request).await;
    let status = response.status().as_u16();
    let text = crate::common::body_text(response).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[tokio::test]
async fn a_handover_over_the_api_is_refused_where_the_rules_say_and_audited() {
    let fx = Fixture::with_projection().await;
    let viewer = session(&fx, "vera", Role::Viewer).await;
    let outgoing = session(&fx, "olga", Role::Ops).await;
    let incoming = session(&fx, "ivan", Role::Ops).await;

    let (status, body) = get_as(&fx, &viewer, "/api/v1/handovers").await;
    assert_eq!(status, 200, "a viewer reads handovers: {body}");
    let (status, _) = post_json(
        &fx,
        &viewer,
        "/api/v1/handovers",
        json!({ "region": "all" }),
    )
    .await;
    assert_eq!(status, 403, "a viewer writes none");
    let (status, body) = post_json(
        &fx,
        &outgoing,
        "/api/v1/handovers",
        json!({ "region": "mars" }),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"]
            .as_str()
            .unwrap()
            .contains("the regions are all"),
        "{body}"
    );

    let (status, note) = post_json(
        &fx,
        &outgoing,
        "/api/v1/handovers",
        json!({ "region": "all" }),
    )
    .await;
    assert_eq!(status, 201, "{note}");
    assert_eq!(note["state"], "draft");
    assert_eq!(note["may_edit"], true);
    let id = note["id"].as_i64().unwrap();
    let path = |what: &str| format!("/api/v1/handovers/{id}{what}");
    let (status, _) = post_json(&fx, &incoming, &path("/acknowledge"), json!({})).await;
    assert_eq!(status, 409, "a draft cannot be acknowledged");
    let sections = json!({
        "open_issues": "none",
        "pending_actions": "",
        "customer_escalations": "",
        "next_shift_notes": "Watch the Kumo feed",
    });
    let (status, _) = post_json(&fx, &incoming, &path("/edit"), sections.clone()).await;
    assert_eq!(status, 403, "only the author edits a draft");
    let (status, body) = post_json(&fx, &outgoing, &path("/edit"), sections.clone()).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = post_json(&fx, &outgoing, &path("/submit"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["state"], "submitted");
    let (status, _) = post_json(&fx, &outgoing, &path("/edit"), sections).await;
    assert_eq!(status, 409, "no edit after submission");
    let (status, body) = post_json(&fx, &outgoing, &path("/acknowledge"), json!({})).await;
    assert_eq!(status, 403, "not one's own: {body}");
    let (status, body) = post_json(&fx, &incoming, &path("/acknowledge"), json!({})).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["acknowledged_by"], "ivan");
    assert_eq!(body["sections"]["next_shift_notes"], "Watch the Kumo feed");

    // The pages show it to a viewer, without the buttons.
    let (status, html) = get_as(&fx, &viewer, &format!("/handovers/{id}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Watch the Kumo feed") && !html.contains("acknowledge-form"),
        "{html}"
    );
    let (status, html) = get_as(&fx, &viewer, "/handovers").await;
    assert_eq!(status, 200);
    assert!(
        !html.contains("Write this shift"),
        "a viewer is offered no start button"
    );

    let actions: Vec<String> = fx
        .state
        .store
        .audit_log(50)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.subject == format!("handover:{id}"))
        .map(|e| format!("{} {}", e.action.as_str(), e.actor))
        .rev()
        .collect();
    assert_eq!(
        actions,
        [
            "handover.start olga",
            "handover.edit olga",
            "handover.submit olga",
            "handover.acknowledge ivan"
        ]
    );
}

#[tokio::test]
async fn the_checklist_page_lists_the_playbook_items_and_records_who_checked() {
    let fx = Fixture::with_projection().await;
    let viewer = session(&fx, "vera", Role::Viewer).await;
    let ops = session(&fx, "olga", Role::Ops).await;
    let (status, html) = get_as(&fx, &viewer, "/checklist").await;
    assert_eq!(status, 200, "{html}");
    for item in [
        "Overnight orders",
        "Inventory alerts",
        "Pending approvals",
        "Incidents",
        "Handover notes",
    ] {
        assert!(html.contains(item), "{item}: {html}");
    }
    assert!(!html.contains(">Checked</button>"), "a viewer cannot check");
    let form = format!("csrf_token={}", viewer.csrf_token);
    let (status, _, _) = post_form(fx.router(), &viewer, "/checklist/all/incidents", &form).await;
    assert_eq!(status, 403);
    let form = format!("csrf_token={}", ops.csrf_token);
    let (status, location, text) =
        post_form(fx.router(), &ops, "/checklist/all/incidents", &form).await;
    assert_eq!(status, 303, "{text}");
    assert_eq!(location, "/checklist?region=all");
    let (_, checklist) = get_as(&fx, &viewer, "/api/v1/checklist?region=all").await;
    let checklist: Value = serde_json::from_str(&checklist).unwrap();
    let incidents = checklist["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["item"] == "incidents")
        .unwrap();
    assert_eq!(incidents["checked_by"], "olga");
    let (status, body) = post_json(&fx, &ops, "/api/v1/checklist/all/coffee", json!({})).await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("overnight_orders"),
        "{body}"
    );
}
