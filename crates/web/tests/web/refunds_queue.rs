//! The refunds queue over HTTP (issue 15 point 1): the API's rows with
//! their clock, order, customer and amount (only for revenue roles); a
//! custom platform's request decided from the queue (who may, what is
//! audited, the item leaving the queue); bad input named; another brand's
//! item not found for a person limited to some brands.

use crate::common::{body_text, order, send_as, ts, Fixture, NOW};
use axum::body::Body;
use axum::http::Request;
use opsdeck_domain::{BrandId, Currency, Money, ReturnKind, ReturnRequest, ReturnStatus, SourceId};
use opsdeck_store::{AnyRecord, AuditFilter, Role};
use opsdeck_web::testing::{user_session, TestSession};
use serde_json::{json, Value};

fn request(x: &str, brand: &str, kind: ReturnKind, requested: &str) -> AnyRecord {
    AnyRecord::ReturnRequest(ReturnRequest {
        source: SourceId::parse(&format!("ingest-{brand}")).unwrap(),
        external_id: x.into(),
        brand: BrandId::parse(brand).unwrap(),
        order_id: Some("4137".into()),
        kind,
        status: ReturnStatus::Requested,
        amount: Some(Money::new(12_345, Currency::USD)),
        reason: Some("damaged".into()),
        requested_at: ts(requested),
        resolved_at: None,
        updated_at: ts(requested),
        status_history: Vec::new(),
    })
}

async fn scene() -> Fixture {
    let fx = Fixture::new().await;
    let mut o = order(
        "ingest-mavena",
        "mavena",
        "4137",
        "2026-06-01T15:00:00Z",
        Money::new(4_137_93, Currency::USD),
    );
    o.name = "#4137".into();
    o.number = Some(4137);
    o.customer = Some(opsdeck_domain::order::CustomerRef {
        external_id: "c-1".into(),
        email: Some("ana@example.com".into()),
        name: Some("Ana Ruiz".into()),
    });
    fx.state
        .store
        .upsert(
            &[
                AnyRecord::Order(o),
                // Breached: requested 26 h before NOW.
                request(
                    "rr-late",
                    "mavena",
                    ReturnKind::Refund,
                    "2026-06-09T16:05:00Z",
                ),
                // On track: an hour old.
                request(
                    "ret-new",
                    "mavena",
                    ReturnKind::Return,
                    "2026-06-10T17:05:00Z",
                ),
                request("kumo-1", "kumo", ReturnKind::Return, "2026-06-10T17:05:00Z"),
                // A chargeback on the same order, won long ago: out of the
                // queue, but the customer's dispute history.
                AnyRecord::PaymentEvent(opsdeck_domain::PaymentEvent {
                    source: SourceId::parse("ingest-mavena").unwrap(),
                    external_id: "cb-1".into(),
                    brand: BrandId::parse("mavena").unwrap(),
                    order_id: Some("4137".into()),
                    kind: opsdeck_domain::PaymentEventKind::Chargeback,
                    amount: Some(Money::new(4_137_93, Currency::USD)),
                    reason: Some("fraudulent".into()),
                    gateway: None,
                    occurred_at: ts("2026-06-02T10:00:00Z"),
                    updated_at: ts("2026-06-05T10:00:00Z"),
                    dispute: Some(opsdeck_domain::dispute::DisputeState {
                        status: opsdeck_domain::dispute::DisputeStatus::Won,
                        evidence_due_by: Some(ts("2026-06-09T10:00:00Z")),
                        evidence_sent_on: Some(ts("2026-06-03T00:00:00Z")),
                        finalized_on: Some(ts("2026-06-05T10:00:00Z")),
                    }),
                }),
            ],
            None,
        )
        .await
        .unwrap();
    fx.build_projection().await;
    fx
}

async fn post_json(fx: &Fixture, s: &TestSession, uri: &str, body: Value) -> (u16, Value) {
    let request = Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = send_as(fx.router(), s, request).await;
    let status = response.status().as_u16();
    let text = body_text(response).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

async fn get_json_as(fx: &Fixture, s: &TestSession, uri: &str) -> (u16, Value) {
    let response = send_as(
        fx.router(),
        s,
        Request::get(uri).body(Body::empty()).unwrap(),
    )
    .await;
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&body_text(response).await).unwrap(),
    )
}

#[tokio::test]
async fn the_api_ranks_breached_first_with_order_customer_and_amount_for_revenue_roles() {
    let fx = scene().await;
    let (status, body) = fx.get_json("/api/v1/queues/refunds?brand=mavena").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["breached"], 1);
    let items = body["items"].as_array().unwrap();
    let ids: Vec<&str> = items
        .iter()
        .map(|i| i["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rr-late", "ret-new"]);
    let late = &items[0];
    assert_eq!(late["sla"], "breached");
    assert_eq!(late["kind"], "refund");
    assert_eq!(late["time_left"], "overdue by 2 h 00 min");
    assert_eq!(late["order"]["name"], "#4137");
    assert_eq!(late["order"]["url"], "/orders/ingest-mavena/4137");
    assert_eq!(late["order_customer"], "Ana Ruiz");
    assert_eq!(late["amount"]["minor"], 12_345, "the admin sees amounts");
    assert_eq!(late["decidable"], true);
    // The customer's risk flags, from the one rule, with their evidence.
    let flags = late["customer_risk"].as_array().unwrap();
    assert!(
        flags.iter().any(|f| f["kind"] == "dispute_history"
            && f["evidence"].as_str().unwrap().contains("chargeback")),
        "{late}"
    );

    // A viewer reads the queue without any amount.
    let viewer = user_session(fx.state.store.as_ref(), "vera", Role::Viewer, ts(NOW)).await;
    let (status, body) = get_json_as(&fx, &viewer, "/api/v1/queues/refunds?brand=mavena").await;
    assert_eq!(status, 200);
    assert!(body["items"][0]["amount"].is_null(), "{body}");
    let response = send_as(
        fx.router(),
        &viewer,
        Request::get("/queues/refunds").body(Body::empty()).unwrap(),
    )
    .await;
    let html = body_text(response).await;
    assert!(
        html.contains("rr-late") && !html.contains("$123.45"),
        "{html}"
    );
    assert!(
        !html.contains("<th>Amount</th>"),
        "no amount column: {html}"
    );
    let (_, html) = {
        let r = fx.get("/queues/refunds").await;
        (r.status(), body_text(r).await)
    };
    assert!(
        html.contains("$123.45") && html.contains("<th>Amount</th>"),
        "{html}"
    );

    let (status, body) = fx.get_json("/api/v1/queues/refunds?kind=nope").await;
    assert_eq!(status, 400);
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("return, refund or dispute"));
    let (_, body) = fx.get_json("/api/v1/queues/refunds?kind=return").await;
    let kinds: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["return", "return"], "{body}");
}

#[tokio::test]
async fn a_platform_request_is_decided_by_whoever_may_audited_and_leaves_the_queue() {
    let fx = scene().await;
    let viewer = user_session(fx.state.store.as_ref(), "vera", Role::Viewer, ts(NOW)).await;
    let uri = "/api/v1/queues/refunds/ingest-mavena/ret-new/approve";
    let (status, _) = post_json(&fx, &viewer, uri, json!({})).await;
    assert_eq!(status, 403, "a viewer may not decide");

    let support = user_session(fx.state.store.as_ref(), "sam", Role::Support, ts(NOW)).await;
    let (status, body) = post_json(
        &fx,
        &support,
        "/api/v1/queues/refunds/ingest-mavena/ret-new/decline",
        json!({"reason": "whenever"}),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("RETURN_PERIOD_ENDED"));

    let (status, body) = post_json(
        &fx,
        &support,
        "/api/v1/queues/refunds/ingest-mavena/ret-new/decline",
        json!({"reason": "final_sale", "note": "Final sale item"}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["outcome"], "rejected");
    let stored = fx
        .state
        .store
        .get_return_request(&SourceId::parse("ingest-mavena").unwrap(), "ret-new")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.status, ReturnStatus::Rejected);
    let audit = fx
        .state
        .store
        .search_audit(&AuditFilter {
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    let entry = audit
        .iter()
        .find(|e| e.action.as_str() == "queue.decline")
        .expect("the decision is audited");
    assert_eq!(entry.actor, "sam");
    assert_eq!(entry.subject, "return:ingest-mavena/ret-new");
    assert_eq!(entry.payload["decline_reason"], "FINAL_SALE");

    // The change feed brings it to the projection: it left the queue, and
    // deciding it again is "not found".
    fx.build_projection().await;
    let (_, body) = fx.get_json("/api/v1/queues/refunds?brand=mavena").await;
    let ids: Vec<&str> = body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["external_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["rr-late"]);
    let (status, _) = post_json(&fx, &support, uri, json!({})).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn another_brands_item_is_not_found_for_a_person_limited_to_some_brands() {
    let mut fx = scene().await;
    let roles = crate::role_scope::scoped_lead(&["mavena"]);
    fx.state.auth = opsdeck_web::auth::Auth::new(opsdeck_accounts::AuthConfig {
        hasher: opsdeck_accounts::PasswordHasher::insecure_fast_for_tests(),
        roles,
        ..opsdeck_accounts::AuthConfig::default()
    });
    let lead = user_session(
        fx.state.store.as_ref(),
        "lena",
        opsdeck_accounts::roles::builtin::REGIONAL_LEAD,
        ts(NOW),
    )
    .await;
    let (status, body) = get_json_as(&fx, &lead, "/api/v1/queues/refunds").await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["brand"] == "mavena"),
        "{body}"
    );
    let (status, _) = post_json(
        &fx,
        &lead,
        "/api/v1/queues/refunds/ingest-kumo/kumo-1/approve",
        json!({}),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = get_json_as(&fx, &lead, "/api/v1/queues/refunds?brand=kumo").await;
    assert_eq!(status, 403);
}

/// A custom platform's chargeback through the ingest API, with its
/// dispute state: needing a response it waits until its evidence date
/// (sooner than 24 h); under review it leaves the queue.
#[tokio::test]
async fn an_ingest_chargeback_waits_until_its_evidence_date_until_answered() {
    let fx = Fixture::new().await;
    let t = crate::ingest::token(&fx, "mavena", opsdeck_store::TokenKinds::All).await;
    let chargeback = |status: &str, updated: &str| {
        json!({"external_id": "cb-9", "order_id": "5001", "kind": "chargeback",
            "amount": {"amount": "80.00", "currency": "USD"},
            "occurred_at": "2026-06-10T10:05:00Z", "updated_at": updated,
            "dispute_status": status, "evidence_due_by": "2026-06-10T20:05:00Z"})
    };
    let (status, body) = crate::ingest::post(
        &fx,
        "payment-events",
        &t,
        vec![chargeback("needs_response", "2026-06-10T10:05:00Z")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    fx.build_projection().await;
    let (_, body) = fx.get_json("/api/v1/queues/refunds?kind=dispute").await;
    let item = &body["items"][0];
    assert_eq!(item["external_id"], "cb-9", "{body}");
    assert_eq!(item["origin"], "platform");
    assert_eq!(
        item["deadline"], "2026-06-10T20:05:00Z",
        "the evidence date"
    );
    assert_eq!(item["sla"], "at_risk", "8 h of a 10 h window: {item}");
    assert_eq!(item["decidable"], false);
    assert!(item["disabled_reason"]
        .as_str()
        .unwrap()
        .contains("dispute"));

    let (status, body) = crate::ingest::post(
        &fx,
        "payment-events",
        &t,
        vec![chargeback("under_review", "2026-06-10T12:00:00Z")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    fx.build_projection().await;
    let (_, body) = fx.get_json("/api/v1/queues/refunds?kind=dispute").await;
    assert_eq!(body["items"], json!([]), "answered: out of the queue");
}
