//! The standing robustness suite for the web doors (issue 11): generated
//! hostile input on every ingest kind, on signed webhook deliveries and on
//! the query parameters of every page and API route that reads them.
//!
//! Each case must end, never in a panic or a 5xx, in either an accepted
//! request or a 4xx with a reason — and a refused ingest batch or webhook
//! stores nothing.
//!
//! 64 cases per property by default (CI); a deeper run:
//! `PROPTEST_CASES=2000 cargo test -p opsdeck-web --test web hostile::`.

use crate::common::*;
use crate::ingest::{one_of_each, token};
use crate::webhooks::{hook, signed, SECRET};
use axum::body::Body;
use axum::http::Request;
use opsdeck_store::TokenKinds;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use serde_json::{json, Value};
use tower::ServiceExt;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        config.cases = 64;
    }
    config.failure_persistence = None;
    config
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A value no merchant has, or one at the edge of what they have.
pub(crate) fn hostile_value() -> impl Strategy<Value = Value> {
    let big = prop_oneof![Just(256usize), Just(1_025), Just(20_000), Just(1_100_000)]
        .prop_map(|n| Value::String("é".repeat(n / 2)));
    let amount = "[ +\\-]{0,2}[0-9]{0,22}(\\.[0-9]{0,5})?[ ]?".prop_map(Value::String);
    let time = "(0000|1999|2000|2026|2099|2100)-(01|06|13)-(01|31)T(00|24):00:00(Z|[+-](00|14|15|25):(00|30))?"
        .prop_map(Value::String);
    let number = prop_oneof![
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(1e308)),
        Just(json!(0.5)),
    ];
    let money = (
        "[ +\\-]?[0-9]{1,20}(\\.[0-9]{1,4})?",
        prop_oneof![Just("USD"), Just("EUR"), Just("usd"), Just("XXXX")],
    )
        .prop_map(|(amount, currency)| json!({"amount": amount, "currency": currency}));
    let deep = (1usize..150).prop_map(|n| {
        let mut v = json!(1);
        for _ in 0..n {
            v = json!([v]);
        }
        v
    });
    prop_oneof![
        big,
        amount,
        time,
        number,
        money,
        deep,
        any::<String>().prop_map(Value::String),
        Just(Value::Null),
        Just(json!(true)),
        Just(json!({})),
        Just(json!([])),
    ]
}

fn paths(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            out.push(format!("{at}/unknown_key"));
            for (k, v) in map {
                paths(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                paths(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn set(root: &mut Value, path: &str, new: Value) {
    let (parent, key) = path.rsplit_once('/').unwrap();
    match root.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(key.to_string(), new);
        }
        Some(Value::Array(items)) => {
            if let Some(slot) = key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = new;
            }
        }
        _ => {}
    }
}

/// `base` with one to four of its places (or new keys) made hostile.
pub(crate) fn mutated(base: Value) -> impl Strategy<Value = Value> {
    let mut places = Vec::new();
    paths(&base, String::new(), &mut places);
    places.retain(|p| !p.is_empty());
    proptest::collection::vec((0..places.len(), hostile_value()), 1..5).prop_map(move |edits| {
        let mut v = base.clone();
        for (i, hostile) in edits {
            set(&mut v, &places[i], hostile);
        }
        v
    })
}

#[test]
fn ingest_every_kind_answers_2xx_or_a_4xx_that_stores_nothing() {
    let rt = runtime();
    let fx = rt.block_on(Fixture::new());
    let t = rt.block_on(token(&fx, "mavena", TokenKinds::All));
    let kinds = one_of_each();
    let strategy = (0..kinds.len()).prop_flat_map(move |i| {
        let (kind, base) = kinds[i].clone();
        mutated(base).prop_map(move |record| (kind, record))
    });
    let mut runner = TestRunner::new(config());
    runner
        .run(&strategy, |(kind, record)| {
            rt.block_on(async {
                let counts = fx.state.store.record_counts().await.unwrap();
                let seq = fx.state.store.latest_seq().await.unwrap();
                let body = json!({ "records": [record] }).to_string();
                let request = Request::post(format!("/api/v1/ingest/{kind}"))
                    .header("content-type", "application/json")
                    .header("authorization", format!("Bearer {t}"))
                    .body(Body::from(body))
                    .unwrap();
                let response = fx.router().oneshot(request).await.unwrap();
                let status = response.status().as_u16();
                let text = body_text(response).await;
                prop_assert!(
                    status == 200 || (400..500).contains(&status),
                    "{kind}: {status} {text}"
                );
                if status != 200 {
                    let answer: Value = serde_json::from_str(&text).unwrap();
                    prop_assert!(answer["error"].is_string(), "{text}");
                    prop_assert!(
                        text.len() < 20_000,
                        "{kind}: an answer of {} bytes",
                        text.len()
                    );
                    prop_assert_eq!(fx.state.store.record_counts().await.unwrap(), counts);
                    prop_assert_eq!(fx.state.store.latest_seq().await.unwrap(), seq);
                }
                Ok(())
            })
        })
        .unwrap();
}

#[test]
fn signed_webhooks_answer_200_or_a_400_that_stores_nothing() {
    let rt = runtime();
    let h = rt.block_on(hook());
    let order = {
        let path = format!(
            "{}/../../fixtures/shopify/order_official_python_lib.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        v["order"].clone()
    };
    let header = prop_oneof![
        Just("wh".to_string()),
        "[a-z0-9-]{1,64}",
        (200usize..70_000).prop_map(|n| "w".repeat(n)),
    ];
    let topic = prop_oneof![
        Just("orders/updated".to_string()),
        Just("refunds/create".to_string()),
        Just("fulfillments/update".to_string()),
        "[a-z/_]{1,300}",
    ];
    let mut runner = TestRunner::new(config());
    let n = std::cell::Cell::new(0u64);
    runner
        .run(&(mutated(order), header, topic), |(body, id, topic)| {
            n.set(n.get() + 1);
            rt.block_on(async {
                let before = h.stored().await.len();
                let id = format!("{}-{id}", n.get());
                let bytes = body.to_string().into_bytes();
                let (status, answer) = h.send(signed(&bytes, SECRET, &topic, &id)).await;
                prop_assert!(
                    status == 200 || status == 400 || status == 413,
                    "{status} {answer}"
                );
                if status != 200 {
                    prop_assert!(answer["error"].is_string(), "{answer}");
                    prop_assert_eq!(h.stored().await.len(), before);
                }
                Ok(())
            })
        })
        .unwrap();
}

/// Every route that reads query parameters (the SSE stream aside).
const GET_ROUTES: &[&str] = &[
    "/",
    "/alerts",
    "/audit",
    "/audit.csv",
    "/catalog",
    "/fragments/volume",
    "/fragments/feed",
    "/inventory",
    "/login",
    "/pulse",
    "/sources",
    "/tickets",
    "/wismo",
    "/api/v1/alerts",
    "/api/v1/alerts/urgent",
    "/api/v1/brands",
    "/api/v1/catalog",
    "/api/v1/csat",
    "/api/v1/dashboard",
    "/api/v1/fulfillment",
    "/api/v1/insights",
    "/api/v1/inventory",
    "/api/v1/operations",
    "/api/v1/order-volume",
    "/api/v1/pulse",
    "/api/v1/response-times",
    "/api/v1/sales",
    "/api/v1/sources",
    "/api/v1/tickets",
    "/api/v1/top-issues",
    "/api/v1/urgent-tickets",
    "/api/v1/wismo",
    "/api/v1/orders/shopify-mavena/1001/timeline",
];

#[test]
fn query_parameters_never_give_a_server_error() {
    let rt = runtime();
    let fx = rt.block_on(Fixture::new());
    let key = prop_oneof![
        Just("brand"),
        Just("range"),
        Just("from"),
        Just("to"),
        Just("period"),
        Just("limit"),
        Just("cursor"),
        Just("status"),
        Just("page"),
        Just("next"),
        Just("back"),
        Just("actor"),
        Just("action"),
        Just("q"),
        Just("x"),
    ];
    let value = prop_oneof![
        "[ -~]{0,40}",
        any::<String>(),
        Just("mavena".to_string()),
        Just("custom".to_string()),
        Just("2026-06-10".to_string()),
        Just("0000-01-01".to_string()),
        Just("-1".to_string()),
        Just("99999999999999999999".to_string()),
        (1usize..20_000).prop_map(|n| "a".repeat(n)),
    ];
    let strategy = (
        0..GET_ROUTES.len(),
        proptest::collection::vec((key, value), 0..4),
    );
    let mut runner = TestRunner::new(config());
    runner
        .run(&strategy, |(route, params)| {
            let query: String = params
                .iter()
                .map(|(k, v)| format!("{k}={}", percent_encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            let uri = format!("{}?{query}", GET_ROUTES[route]);
            rt.block_on(async {
                let response = fx.get(&uri).await;
                let status = response.status().as_u16();
                prop_assert!(status < 500, "{uri}: {status}");
                Ok(())
            })
        })
        .unwrap();
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
