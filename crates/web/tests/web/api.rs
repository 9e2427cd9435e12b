//! `/api/v1/*` and `/healthz` through the router.

use crate::common::{assert_security_headers, body_text, Fixture, NOW};
use serde_json::json;

fn close(value: &serde_json::Value, expected: f64) {
    let v = value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"));
    assert!((v - expected).abs() < 1e-9, "{v} != {expected}");
}

#[tokio::test]
async fn order_volume_numbers_for_the_fixture() {
    let fx = Fixture::with_projection().await;
    let (status, body) = fx.get_json("/api/v1/order-volume?brand=mavena").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["generated_at"], NOW);
    let brands = body["brands"].as_array().unwrap();
    assert_eq!(brands.len(), 1);
    let mavena = &brands[0];
    assert_eq!(
        mavena["brand"],
        json!({"id": "mavena", "name": "Mavena", "kind": "standard", "currency": "USD",
               "time_zone": "America/New_York", "launched": true})
    );
    assert_eq!(mavena["synced_at"], "2026-06-10T18:03:00Z");
    assert_eq!(mavena["freshness"]["state"], "synced");

    let today = &mavena["periods"][0];
    assert_eq!(today["period"], "today");
    assert_eq!(
        today["window"],
        json!({"start": "2026-06-10T04:00:00Z", "end": NOW,
               "prior_start": "2026-06-09T04:00:00Z", "prior_end": "2026-06-09T18:05:00Z"})
    );
    assert_eq!(today["orders"], 2);
    assert_eq!(today["prior_orders"], 1);
    close(&today["orders_delta"], 1.0);
    assert_eq!(
        today["gross_revenue"],
        json!({"minor": 100_00, "currency": "USD", "display": "$100.00"})
    );
    assert_eq!(today["prior_gross_revenue"]["minor"], 80_00);
    close(&today["revenue_delta"], 0.25);
    assert_eq!(today["aov"]["display"], "$100.00");
    assert_eq!(today["prior_aov"]["minor"], 80_00);
    close(&today["aov_delta"], 0.25);

    for (i, period) in [(1, "this_week"), (2, "this_month")] {
        let card = &mavena["periods"][i];
        assert_eq!(card["period"], period);
        assert_eq!(card["orders"], 4, "{period}");
        assert_eq!(card["prior_orders"], 0, "{period}");
        assert_eq!(card["gross_revenue"]["minor"], 200_00, "{period}");
        // 200.00 / 3 non-cancelled orders = 66.666… → 66.67.
        assert_eq!(card["aov"]["minor"], 66_67, "{period}");
        assert_eq!(card["prior_aov"], json!(null), "{period}");
        for delta in ["orders_delta", "revenue_delta", "aov_delta"] {
            assert_eq!(card[delta], json!(null), "{period} {delta}");
        }
    }
}

#[tokio::test]
async fn every_brand_by_default_in_configuration_order() {
    let fx = Fixture::with_projection().await;
    let (status, body) = fx.get_json("/api/v1/order-volume").await;
    assert_eq!(status, 200);
    let ids: Vec<&str> = body["brands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["brand"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["mavena", "kumo", "retromedy"]);

    let kumo = &body["brands"][1];
    assert_eq!(kumo["periods"][0]["orders"], 1);
    assert_eq!(
        kumo["periods"][0]["gross_revenue"],
        json!({"minor": 1500, "currency": "JPY", "display": "¥1,500"})
    );
    assert_eq!(kumo["freshness"]["state"], "failing");
    assert_eq!(kumo["freshness"]["error"], "HTTP 401 from Shopify");
    assert_eq!(kumo["synced_at"], "2026-06-10T12:00:00Z");

    let retromedy = &body["brands"][2];
    assert_eq!(retromedy["brand"]["launched"], false);
    assert_eq!(retromedy["periods"], json!([]));
    assert_eq!(retromedy["synced_at"], json!(null));
    assert_eq!(retromedy["freshness"], json!({"state": "never_synced"}));
}

#[tokio::test]
async fn unknown_brand_is_a_400_naming_it() {
    let fx = Fixture::new().await;
    let response = fx.get("/api/v1/order-volume?brand=x").await;
    assert_eq!(response.status(), 400);
    assert_security_headers(&response);
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body, json!({"error": "unknown brand \"x\""}));
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_with_the_reason() {
    let fx = Fixture::new().await;
    for uri in [
        "/api/v1/order-volume?brnad=mavena",
        "/api/v1/brands?page=2",
        "/api/v1/sources?x=1",
        "/healthz?verbose=1",
    ] {
        let (status, body) = fx.get_json(uri).await;
        assert_eq!(status, 400, "{uri}");
        let reason = body["error"].as_str().unwrap();
        assert!(reason.contains("unknown field"), "{uri}: {reason}");
    }
}

#[tokio::test]
async fn brands_lists_configuration_without_thresholds() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get_json("/api/v1/brands").await;
    assert_eq!(status, 200);
    assert_eq!(body["brands"].as_array().unwrap().len(), 3);
    assert_eq!(
        body["brands"][1],
        json!({"id": "kumo", "name": "Kumo", "kind": "standard", "currency": "JPY",
               "time_zone": "Asia/Tokyo", "launched": true})
    );
}

#[tokio::test]
async fn sources_show_sync_health_per_resource() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get_json("/api/v1/sources").await;
    assert_eq!(status, 200);
    let sources = body["sources"].as_array().unwrap();
    assert_eq!(sources.len(), 3);
    let mavena = &sources[0];
    assert_eq!(mavena["id"], "shopify-mavena");
    assert_eq!(mavena["brand"], "mavena");
    assert_eq!(mavena["platform"], "shopify");
    assert_eq!(mavena["resources"][0]["resource"], "orders");
    assert_eq!(
        mavena["resources"][0]["last_success_at"],
        "2026-06-10T18:03:00Z"
    );
    assert_eq!(mavena["resources"][0]["records_synced"], 5);
    // Configured but never attempted.
    assert_eq!(mavena["resources"][1]["resource"], "products");
    assert_eq!(mavena["resources"][1]["last_attempt_at"], json!(null));
    let kumo = &sources[1]["resources"][0];
    assert_eq!(kumo["consecutive_failures"], 3);
    assert_eq!(kumo["last_error"], "HTTP 401 from Shopify");
    assert_eq!(sources[2]["brand"], json!(null));
    assert!(!body.to_string().contains("cursor"));
}

#[tokio::test]
async fn sources_show_runs_in_progress_refused_records_and_failed_webhooks() {
    let fx = Fixture::new().await;
    crate::common::source_health_extras(fx.state.store.as_ref()).await;
    // Kumo's orders keep failing and a new run is under way: still failing.
    let kumo = opsdeck_domain::SourceId::parse("shopify-kumo").unwrap();
    let mut state = fx
        .state
        .store
        .sync_state(&kumo, "orders")
        .await
        .unwrap()
        .unwrap();
    state.running_since = Some(crate::common::ts("2026-06-10T18:04:30Z"));
    fx.state.store.save_sync_state(&state).await.unwrap();
    let (status, body) = fx.get_json("/api/v1/sources").await;
    assert_eq!(status, 200);
    let mavena = &body["sources"][0];
    let orders = &mavena["resources"][0];
    assert_eq!(
        (orders["health"].as_str(), orders["running_since"].clone()),
        (Some("ok"), json!(null))
    );
    let products = &mavena["resources"][1];
    assert_eq!(products["health"], "running");
    assert_eq!(products["running_since"], "2026-06-10T18:04:00Z");
    assert_eq!(
        products["last_success_at"],
        json!(null),
        "not a success yet"
    );
    assert_eq!(products["records_refused"], 3);
    assert_eq!(
        products["needs_attention"], true,
        "a missing scope needs a person"
    );
    assert_eq!(orders["needs_attention"], false);
    assert_eq!(body["sources"][1]["resources"][0]["health"], "failing");
    assert_eq!(
        body["sources"][1]["resources"][0]["running_since"],
        "2026-06-10T18:04:30Z"
    );
    assert_eq!(
        mavena["failed_webhooks"],
        json!([{"topic": "orders/updated", "webhook_id": "wh-deep-1",
                "reason": "recursion limit exceeded at line 1", "attempts": 1,
                "received_at": "2026-06-10T18:02:00Z"}])
    );
    assert_eq!(body["sources"][1]["failed_webhooks"], json!([]));
}

#[tokio::test]
async fn healthz_names_the_backend() {
    let fx = Fixture::new().await;
    let (status, body) = fx.get_json("/healthz").await;
    assert_eq!(status, 200);
    assert_eq!(
        body,
        json!({"status": "ok", "store": "sqlite", "started_at": "2026-06-10T18:00:00Z",
               "uptime_seconds": 300})
    );
}

#[tokio::test]
async fn openapi_document_is_served_as_json() {
    let fx = Fixture::new().await;
    let response = fx.get("/api/v1/openapi.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "application/json");
    let doc: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/api/v1/order-volume"]["get"].is_object());
}

#[tokio::test]
async fn unknown_api_path_is_a_json_404() {
    let fx = Fixture::new().await;
    let response = fx.get("/api/v1/nope").await;
    assert_eq!(response.status(), 404);
    assert_security_headers(&response);
    let body: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(body, json!({"error": "not found"}));
}
