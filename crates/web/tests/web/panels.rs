//! The panel endpoints (`/api/v1/sales`, `/pulse`, … `/dashboard`) through
//! the router, on the shared fixture (see `common`) read into the
//! projection, plus two CSAT surveys: Mavena scored 5 and 2 today (mean
//! 3.5, half of them 4–5) and one unanswered (counts nowhere).

use crate::common::{ts, Fixture, NOW};
use opsdeck_domain::{BrandId, Currency, SatisfactionSurvey, SourceId};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::{Projection, SubscriptionRules};
use opsdeck_store::AnyRecord;
use serde_json::{json, Value};
use std::sync::Arc;

fn survey(id: &str, score: Option<u8>, at: &str) -> AnyRecord {
    AnyRecord::SatisfactionSurvey(SatisfactionSurvey {
        source: SourceId::parse("gorgias").unwrap(),
        external_id: id.into(),
        brand: Some(BrandId::parse("mavena").unwrap()),
        ticket_id: format!("t{id}"),
        customer_id: None,
        score,
        body_text: None,
        sent_at: Some(ts(at)),
        scored_at: score.map(|_| ts(at)),
        updated_at: ts(at),
    })
}

/// The fixture with surveys, its projection built from the store, and a
/// JPY rate (1 JPY = 0.0067 USD) for all-brand totals.
async fn fixture() -> Fixture {
    let mut fx = Fixture::new().await;
    let store = fx.state.store.clone();
    let surveys = vec![
        survey("1", Some(5), "2026-06-10T13:00:00Z"),
        survey("2", Some(2), "2026-06-10T14:00:00Z"),
        survey("3", None, "2026-06-10T15:00:00Z"),
    ];
    store.upsert(&surveys, None).await.unwrap();
    let p = Projection::build(
        store.as_ref(),
        fx.state.brands.to_vec(),
        SubscriptionRules::default(),
    )
    .await
    .unwrap();
    *fx.state.projection.write().unwrap() = p;
    let mut cfg = PanelConfig::default();
    cfg.rates.insert(Currency::JPY, 6_700);
    fx.state.panel_config = Arc::new(cfg);
    fx
}

fn close(value: &Value, expected: f64) {
    let v = value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"));
    assert!((v - expected).abs() < 1e-9, "{v} != {expected}");
}

fn brand<'a>(body: &'a Value, id: &str) -> &'a Value {
    body["brands"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["brand"] == id)
        .unwrap_or_else(|| panic!("no {id} in {body}"))
}

#[tokio::test]
async fn sales_today_per_brand_and_total_in_reporting_currency() {
    let fx = fixture().await;
    let (status, body) = fx.get_json("/api/v1/sales?range=today").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["generated_at"], NOW);
    assert_eq!(body["range"], json!({"kind": "today"}));
    let m = brand(&body, "mavena");
    assert_eq!(m["status"], "live");
    assert_eq!(m["orders"], 2);
    assert_eq!(m["prior_orders"], 1);
    assert_eq!(m["gross_revenue"]["minor"], 100_00);
    assert_eq!(m["prior_gross_revenue"]["minor"], 80_00);
    close(&m["revenue_delta"], 0.25);
    let series = m["orders_series"].as_array().unwrap();
    assert!(series
        .iter()
        .all(|p| p["t"].is_string() && p["value"].is_number()));
    let total: f64 = series.iter().map(|p| p["value"].as_f64().unwrap()).sum();
    assert_eq!(total, 2.0, "{series:?}");
    assert_eq!(brand(&body, "kumo")["gross_revenue"]["minor"], 1_500);
    assert_eq!(brand(&body, "retromedy")["status"], "not_launched");
    // $100.00 + ¥1,500 × 0.0067 = $100.00 + $10.05.
    assert_eq!(body["total"]["orders"], 3);
    assert_eq!(body["total"]["gross_revenue"]["minor"], 110_05);
    assert_eq!(body["total"]["gross_revenue"]["currency"], "USD");
    assert_eq!(body["total"]["brands_without_rate"], json!([]));
}

#[tokio::test]
async fn sales_over_seven_days_and_a_custom_range_in_the_brand_zone() {
    let fx = fixture().await;
    let (status, body) = fx.get_json("/api/v1/sales?brand=mavena&range=7d").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["brands"].as_array().unwrap().len(), 1);
    let m = brand(&body, "mavena");
    assert_eq!(m["orders"], 4);
    assert_eq!(m["gross_revenue"]["minor"], 200_00);
    assert_eq!(m["orders_series"].as_array().unwrap().len(), 7);
    // Yesterday in New York only: 09:00 and 14:06 local.
    let (status, body) = fx
        .get_json("/api/v1/sales?brand=mavena&range=custom&from=2026-06-09&to=2026-06-09")
        .await;
    assert_eq!(status, 200, "{body}");
    let m = brand(&body, "mavena");
    assert_eq!(m["orders"], 2);
    assert_eq!(m["gross_revenue"]["minor"], 100_00);
    assert_eq!(m["window"]["start"], "2026-06-09T04:00:00Z");
    assert_eq!(m["window"]["end"], "2026-06-10T04:00:00Z");
}

#[tokio::test]
async fn csat_counts_answered_surveys_only() {
    let fx = fixture().await;
    let (status, body) = fx.get_json("/api/v1/csat?brand=mavena&range=today").await;
    assert_eq!(status, 200, "{body}");
    let m = brand(&body, "mavena");
    assert_eq!(m["surveys"], 2, "{m}");
    close(&m["mean"], 3.5);
}

#[tokio::test]
async fn every_panel_answers_for_every_brand() {
    let fx = fixture().await;
    for path in [
        "pulse",
        "fulfillment",
        "inventory",
        "catalog",
        "tickets",
        "urgent-tickets",
        "csat",
        "response-times",
        "top-issues",
        "wismo",
    ] {
        let (status, body) = fx.get_json(&format!("/api/v1/{path}")).await;
        assert_eq!(status, 200, "{path}: {body}");
        let ids: Vec<&str> = body["brands"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["brand"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["mavena", "kumo", "retromedy"], "{path}");
        assert_eq!(
            brand(&body, "retromedy")["status"],
            "not_launched",
            "{path}"
        );
    }
    // Pulse: today's Mavena orders (the cancelled one is not revenue).
    let (_, body) = fx.get_json("/api/v1/pulse?brand=mavena").await;
    assert_eq!(brand(&body, "mavena")["orders_today"], 2, "{body}");
    assert_eq!(brand(&body, "mavena")["revenue_today"]["minor"], 100_00);
    // Fulfillment: four unfulfilled, non-test Mavena orders… less the cancelled one.
    let (_, body) = fx.get_json("/api/v1/fulfillment?brand=mavena").await;
    let buckets: i64 = brand(&body, "mavena")["age_buckets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["orders"].as_i64().unwrap())
        .sum();
    assert_eq!(buckets, 3, "{body}");
    let (status, body) = fx.get_json("/api/v1/insights").await;
    assert_eq!(status, 200, "{body}");
    assert!(body["insights"].is_array());
}

#[tokio::test]
async fn dashboard_has_every_panel_and_the_total() {
    let fx = fixture().await;
    let (status, body) = fx.get_json("/api/v1/dashboard?range=7d").await;
    assert_eq!(status, 200, "{body}");
    let m = brand(&body, "mavena");
    for panel in [
        "sales",
        "pulse",
        "fulfillment",
        "inventory",
        "catalog",
        "queue",
        "csat",
        "times",
        "top_issues",
        "urgent",
        "wismo",
    ] {
        assert!(m[panel].is_object(), "{panel} missing");
    }
    assert_eq!(m["sales"]["orders"], 4);
    assert_eq!(m["csat"]["surveys"], 2);
    // Seven days: Mavena $200.00 + Kumo ¥1,500 ($10.05).
    assert_eq!(body["sales_total"]["gross_revenue"]["minor"], 210_05);
    assert!(body["insights"].is_array());
}

#[tokio::test]
async fn bad_parameters_are_400_naming_the_parameter() {
    let fx = fixture().await;
    for (uri, needle) in [
        ("/api/v1/sales?range=week", "range must be"),
        (
            "/api/v1/sales?range=custom&from=2026-06-01",
            "needs both from and to",
        ),
        (
            "/api/v1/csat?range=custom&from=2026-13-01&to=2026-06-01",
            "from is not a date",
        ),
        (
            "/api/v1/wismo?range=custom&from=2026-06-05&to=2026-06-01",
            "is after to",
        ),
        (
            "/api/v1/dashboard?range=7d&from=2026-06-01",
            "only allowed with range=custom",
        ),
        (
            "/api/v1/top-issues?range=custom&from=2024-01-01&to=2026-06-01",
            "at most 400 days",
        ),
        ("/api/v1/pulse?brand=nope", "unknown brand \"nope\""),
        ("/api/v1/pulse?range=7d", "range"),
        ("/api/v1/csat?brnad=mavena", "brnad"),
    ] {
        let (status, body) = fx.get_json(uri).await;
        assert_eq!(status, 400, "{uri}: {body}");
        let error = body["error"].as_str().unwrap();
        assert!(error.contains(needle), "{uri}: {error:?} lacks {needle:?}");
    }
}

/// The pipeline is for everyone; its recurring vs one-time revenue split is
/// money, which roles without revenue do not get.
#[tokio::test]
async fn fulfillment_leaves_out_revenue_for_roles_without_it() {
    let fx = fixture().await;
    let (_, body) = fx.get_json("/api/v1/fulfillment?brand=mavena").await;
    assert!(brand(&body, "mavena")["one_time_revenue"]["minor"].is_i64());
    for (name, role) in [
        ("viewer", opsdeck_web::auth::Role::Viewer),
        ("support", opsdeck_web::auth::Role::Support),
    ] {
        let session =
            opsdeck_web::testing::user_session(fx.state.store.as_ref(), name, role, ts(NOW)).await;
        let request = axum::http::Request::get("/api/v1/fulfillment?brand=mavena")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = crate::common::send_as(fx.router(), &session, request).await;
        assert_eq!(response.status(), 200);
        let text = crate::common::body_text(response).await;
        assert!(!text.contains("\"minor\""), "{name}: {text}");
        let body: Value = serde_json::from_str(&text).unwrap();
        assert!(brand(&body, "mavena")["stages"].is_array(), "{name}");
        assert!(
            brand(&body, "mavena")["one_time_revenue"].is_null(),
            "{name}"
        );
        assert!(
            brand(&body, "mavena")["recurring_revenue"].is_null(),
            "{name}"
        );
    }
}

/// A timestamp where a date belongs was answered with jiff's wording
/// ("…parse as a `jiff::Timestamp` first…"); the error names the parameter
/// and the value given.
#[tokio::test]
async fn a_bad_date_names_the_value_not_the_parser() {
    let fx = fixture().await;
    let (status, body) = fx
        .get_json("/api/v1/wismo?range=custom&from=2026-06-01T00:00:00Z&to=2026-06-05")
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        body["error"],
        "from is not a date (YYYY-MM-DD, like 2026-06-01): \"2026-06-01T00:00:00Z\""
    );
}
