//! Issue 15 point 5: storefront funnel events through the ingest API
//! (web pixels' standard event names), counted per session and local day
//! whatever order and however often they arrive, across a DST change in
//! the brand's zone; bad events refused whole with the field and its
//! bound named; the /funnel page; and point 6's section on the WISMO and
//! tickets pages.

use crate::common::{body_text, Fixture};
use crate::ingest::token;
use axum::body::Body;
use axum::http::Request;
use opsdeck_domain::BrandId;
use opsdeck_store::funnel::FunnelDayCounts;
use opsdeck_store::TokenKinds;
use serde_json::{json, Value};
use tower::ServiceExt;

async fn post(fx: &Fixture, token: &str, records: Vec<Value>) -> (u16, Value) {
    let request = Request::post("/api/v1/ingest/funnel-events")
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {token}"))
        .body(Body::from(json!({ "records": records }).to_string()))
        .unwrap();
    let response = fx.router().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    let text = body_text(response).await;
    (status, serde_json::from_str(&text).unwrap())
}

fn event(id: &str, name: &str, session: &str, at: &str) -> Value {
    json!({"id": id, "name": name, "session_id": session, "occurred_at": at})
}

async fn days(fx: &Fixture) -> Vec<FunnelDayCounts> {
    fx.state
        .store
        .funnel_days(
            &BrandId::parse("mavena").unwrap(),
            "2026-03-01",
            "2026-03-31",
        )
        .await
        .unwrap()
}

fn day(d: &str, sessions: i64, cart: i64, started: i64, completed: i64) -> FunnelDayCounts {
    FunnelDayCounts {
        day: d.into(),
        sessions,
        added_to_cart: cart,
        checkout_started: started,
        checkout_completed: completed,
    }
}

/// Mavena's zone is New York; 2026-03-08 is the day its clocks go from
/// 02:00 EST (−5) to 03:00 EDT (−4).
/// - s1 views, adds to cart, starts and completes a checkout on Mar 8;
///   its completion arrives first and is sent three times;
/// - s2 views, adds to cart and starts a checkout on Mar 8 (abandoned);
///   its view is sent twice, its cart after its checkout;
/// - s4's only event is `checkout_completed` (its start was lost): a
///   started and completed checkout;
/// - s5 at 04:30 UTC on Mar 8 is 23:30 EST on Mar 7;
/// - s3 at 04:30 UTC on Mar 9 is 00:30 EDT on Mar 9 (a fixed −5 offset
///   would put it on Mar 8).
///
/// Mar 7: 1 session. Mar 8: 3 sessions, 2 added to cart, 3 checkouts
/// started, 2 completed: conversion 2/3, abandonment 1/3. Mar 9: 1 session.
#[tokio::test]
async fn funnel_events_out_of_order_and_twice_count_once_on_their_local_day() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let first = vec![
        event("e4", "checkout_completed", "s1", "2026-03-08T15:20:00Z"),
        event("e7", "checkout_started", "s2", "2026-03-08T16:05:00Z"),
        event("e5", "page_viewed", "s2", "2026-03-08T16:00:00Z"),
        event("e11", "page_viewed", "s5", "2026-03-08T04:30:00Z"),
        event("e10", "page_viewed", "s3", "2026-03-09T04:30:00Z"),
    ];
    let (status, body) = post(&fx, &t, first.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["events"], 5);
    assert_eq!(body["session_days_changed"], 4, "{body}");
    assert_eq!(body["source"], "ingest-mavena");

    let (status, body) = post(
        &fx,
        &t,
        vec![
            event("e1", "page_viewed", "s1", "2026-03-08T15:00:00-04:00"),
            event("e2", "product_added_to_cart", "s1", "2026-03-08T15:05:00Z"),
            event("e3", "checkout_started", "s1", "2026-03-08T15:10:00Z"),
            event("e4", "checkout_completed", "s1", "2026-03-08T15:20:00Z"),
            event("e4", "checkout_completed", "s1", "2026-03-08T15:20:00Z"),
            event("e5", "page_viewed", "s2", "2026-03-08T16:00:00Z"),
            event("e6", "product_added_to_cart", "s2", "2026-03-08T16:01:00Z"),
            event("e8", "checkout_completed", "s4", "2026-03-08T20:00:00Z"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session_days_changed"], 3, "{body}");
    let expected = vec![
        day("2026-03-07", 1, 0, 0, 0),
        day("2026-03-08", 3, 2, 3, 2),
        day("2026-03-09", 1, 0, 0, 0),
    ];
    assert_eq!(days(&fx).await, expected);

    // The first batch again (a retry): nothing changes.
    let (status, body) = post(&fx, &t, first).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["session_days_changed"], 0, "{body}");
    assert_eq!(body["session_days_unchanged"], 4, "{body}");
    assert_eq!(days(&fx).await, expected);

    // The page: Mar 8's conversion 2 of 3, abandonment 1 of 3, not judged
    // with 3 sessions; Shopify's abandoned checkouts shown as their own.
    let response = fx
        .get("/funnel?brand=mavena&range=custom&from=2026-03-07&to=2026-03-09")
        .await;
    assert_eq!(response.status(), 200);
    let html = body_text(response).await;
    assert!(html.contains("66.7 %"), "conversion of Mar 8");
    assert!(html.contains("33.3 %"), "abandonment of Mar 8");
    assert!(html.contains("not judged: 3 of the 200 sessions needed"));
    assert!(
        html.contains("2 of 5 sessions completed a checkout"),
        "range total"
    );
    assert!(html.contains("Abandoned checkouts (Shopify)"));
    assert!(html.contains("chart--funnel"));
}

#[tokio::test]
async fn bad_funnel_events_are_refused_whole_naming_field_and_bound() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let long = "x".repeat(300);
    let (status, body) = post(
        &fx,
        &t,
        vec![
            event("ok", "page_viewed", "s1", "2026-06-10T10:00:00Z"),
            event("e2", "purchase", "s1", "2026-06-10T10:00:00Z"),
            event("e3", "page_viewed", &long, "2026-06-10T10:00:00Z"),
            json!({"id": "e4", "name": "page_viewed", "session_id": "s1"}),
            json!({"id": "e5", "name": "page_viewed", "session_id": "s1",
                   "occurred_at": "2026-06-10T10:00:00Z", "colour": "red"}),
            event("e6", "page_viewed", "s1", "2026-06-10 10:00"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let errors: Vec<(String, String)> = body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let reason = |field: &str| {
        errors
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, r)| r.clone())
            .unwrap_or_else(|| panic!("no error for {field}: {errors:?}"))
    };
    assert!(reason("records[1].name").contains("not a web pixels standard event"));
    assert!(reason("records[1].name").contains("checkout_completed"));
    assert_eq!(
        reason("records[2].session_id"),
        "is 300 bytes long; the limit is 255 bytes"
    );
    assert_eq!(reason("records[3].occurred_at"), "missing (required)");
    assert_eq!(reason("records[4].colour"), "unknown field");
    assert!(reason("records[5].occurred_at").contains("not an RFC 3339 timestamp"));
    assert!(!errors.iter().any(|(f, _)| f.starts_with("records[0]")));
    assert!(body["error"]
        .as_str()
        .unwrap()
        .contains("nothing was stored"));
    assert_eq!(days(&fx).await, vec![], "nothing of the batch was counted");

    // Stamped in the future beyond the 1 h of clock skew (now is
    // 2026-06-10 18:05 UTC): refused, nothing counted.
    let (status, body) = post(
        &fx,
        &t,
        vec![
            event("ok", "page_viewed", "s1", "2026-06-10T19:00:00Z"),
            event("late", "page_viewed", "s1", "2026-06-10T19:06:00Z"),
        ],
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["errors"][0]["field"], "records[1].occurred_at");
    assert!(body["errors"][0]["reason"]
        .as_str()
        .unwrap()
        .contains("in the future"));
    let june = fx
        .state
        .store
        .funnel_days(
            &BrandId::parse("mavena").unwrap(),
            "2026-06-01",
            "2026-06-30",
        )
        .await
        .unwrap();
    assert_eq!(june, vec![]);

    // A token that may not write funnel events.
    let orders_only = token(&fx, "mavena", TokenKinds::Only(vec!["orders".into()])).await;
    let (status, _) = post(
        &fx,
        &orders_only,
        vec![event("x", "page_viewed", "s1", "2026-06-10T10:00:00Z")],
    )
    .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn the_funnel_page_says_when_no_events_arrive_and_satisfaction_shows_on_wismo_and_tickets() {
    let fx = Fixture::with_projection().await;
    let response = fx.get("/funnel?brand=kumo&range=7d").await;
    assert_eq!(response.status(), 200);
    let html = body_text(response).await;
    assert!(html.contains("funnel-no-events"));
    for uri in ["/wismo?brand=mavena&range=30d", "/tickets?brand=mavena"] {
        let response = fx.get(uri).await;
        assert_eq!(response.status(), 200, "{uri}");
        let html = body_text(response).await;
        assert!(html.contains("What drives satisfaction"), "{uri}");
        assert!(html.contains("First-contact resolution"), "{uri}");
        assert!(html.contains("Correlation"), "{uri}");
    }
}
