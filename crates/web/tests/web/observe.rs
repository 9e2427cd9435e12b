//! opsdeck's own observability through the router: `/readyz` says not
//! ready while the projection is behind the change feed, and
//! `GET /api/v1/system/latency` reports the requests just answered by
//! route group.

use crate::common::{order, Fixture};
use opsdeck_domain::{Currency, Money};
use opsdeck_store::AnyRecord;
use opsdeck_web::observe::readiness::CAUGHT_UP_WITHIN;

#[tokio::test]
async fn readyz_waits_for_the_projection_to_catch_up_with_the_feed() {
    let fx = Fixture::with_projection().await;
    let (status, body) = fx.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["status"], "ready");
    assert_eq!(body["store_reachable"], true);
    assert_eq!(body["projection_lag"], 0);
    assert_eq!(body["projection_caught_up"], true);

    // More changes than the projection may be behind, none applied.
    let behind = CAUGHT_UP_WITHIN + 1;
    let records: Vec<AnyRecord> = (0..behind)
        .map(|n| {
            AnyRecord::Order(order(
                "shopify-mavena",
                "mavena",
                &format!("obs-{n}"),
                "2026-06-10T12:00:00Z",
                Money::new(10_00, Currency::USD),
            ))
        })
        .collect();
    fx.state.store.upsert(&records, None).await.unwrap();
    let (status, body) = fx.get_json("/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert_eq!(body["status"], "not ready");
    assert_eq!(body["store_reachable"], true);
    assert_eq!(body["projection_lag"], behind);
    assert_eq!(body["projection_caught_up"], false);
    // Every task runs: the projection alone is what is not ready.
    assert_eq!(body["not_running"], serde_json::json!([]));

    fx.build_projection().await;
    let (status, body) = fx.get_json("/readyz").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["projection_lag"], 0);
}

#[tokio::test]
async fn latency_api_reports_the_requests_answered_by_group() {
    let fx = Fixture::with_projection().await;
    for _ in 0..3 {
        assert_eq!(fx.get("/").await.status(), 200);
    }
    assert_eq!(fx.get("/api/v1/brands").await.status(), 200);
    // Probes and static files belong to no group; an unknown path neither.
    assert_eq!(fx.get("/healthz").await.status(), 200);
    assert_eq!(fx.get("/static/app.css").await.status(), 200);
    assert_eq!(fx.get("/no/such/page").await.status(), 404);
    let (status, body) = fx.get_json("/api/v1/system/latency").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["window_seconds"], 300);
    let groups = body["groups"].as_array().unwrap();
    let names: Vec<&str> = groups
        .iter()
        .map(|g| g["group"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pages", "api", "webhooks", "ingest"]);
    // This request itself is timed once answered, so it is not in its own
    // snapshot.
    assert_eq!(groups[0]["requests"], 3, "{body}");
    assert_eq!(groups[1]["requests"], 1, "{body}");
    assert_eq!(groups[2]["requests"], 0, "{body}");
    let p50 = groups[0]["p50_ms"].as_f64().unwrap();
    let p99 = groups[0]["p99_ms"].as_f64().unwrap();
    assert!(p50 > 0.0 && p50 <= p99, "{body}");
    assert_eq!(groups[3]["p50_ms"], serde_json::Value::Null);
    // Now it counts.
    let (_, body) = fx.get_json("/api/v1/system/latency").await;
    assert_eq!(body["groups"][1]["requests"], 2, "{body}");
}
