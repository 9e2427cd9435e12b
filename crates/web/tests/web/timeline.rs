//! `GET /api/v1/orders/{source}/{external_id}/timeline` and `GET /api/v1/operations`
//! on the shared fixture read into the projection.

use crate::common::Fixture;
use opsdeck_metrics::{Projection, SubscriptionRules};

#[tokio::test]
async fn order_timeline_found_missing_and_bad_query() {
    let fx = Fixture::new().await;
    let p = Projection::build(
        fx.state.store.as_ref(),
        fx.state.brands.to_vec(),
        SubscriptionRules::default(),
    )
    .await
    .unwrap();
    *fx.state.projection.write().unwrap() = p;
    let (status, body) = fx
        .get_json("/api/v1/orders/shopify-mavena/1002/timeline")
        .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["brand"], "mavena");
    assert_eq!(body["cancelled"], true);
    let kinds: Vec<&str> = body["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds.first(), Some(&"placed"), "{body}");
    assert_eq!(kinds.last(), Some(&"cancelled"), "{body}");
    let (status, _) = fx
        .get_json("/api/v1/orders/shopify-mavena/nope/timeline")
        .await;
    assert_eq!(status, 404);
    let (status, body) = fx
        .get_json("/api/v1/orders/shopify-mavena/1002/timeline?x=1")
        .await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn operations_panel_answers_each_brand() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get_json("/api/v1/operations?brand=mavena").await;
    assert_eq!(status, 200, "{body}");
    let b = &body["brands"][0];
    assert_eq!(b["brand"], "mavena");
    assert_eq!(b["open_returns"], 0, "{body}");
    assert!(b["failing_health_checks"].as_array().unwrap().is_empty());
    let (status, _) = fx.get_json("/api/v1/operations?brand=nope").await;
    assert!(status == 400 || status == 404, "unknown brand refused");
}
