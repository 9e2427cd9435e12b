//! The GraphQL Admin client against a fake Shopify on port 0: success,
//! pagination, a throttle waited out by the wait its answer computes, 5xx
//! and 429 retried, a body cut short, the cost cap, the deprecation notice
//! logged once, and two clients of one shop sharing one bucket against a
//! fake that meters points the way Shopify documents.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Response};
use axum::Router;
use futures::stream;
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use opsdeck_sources::shopify::graphql::{
    CostBucket, GraphqlClient, GraphqlError, GraphqlQuery, GraphqlStats, PagedQuery,
    GRAPHQL_API_VERSION,
};
use opsdeck_sources::ShopifySettings;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

const TOKEN: &str = "shpat_graphql_fake_0123456789";

/// One scripted answer.
#[derive(Clone)]
struct Scripted {
    status: u16,
    headers: Vec<(&'static str, String)>,
    body: String,
    /// Send the body, then break the connection instead of ending it.
    cut_short: bool,
}

fn ok(body: Value) -> Scripted {
    Scripted {
        status: 200,
        headers: vec![("X-Shopify-API-Version", GRAPHQL_API_VERSION.into())],
        body: body.to_string(),
        cut_short: false,
    }
}

fn status(status: u16, body: &str) -> Scripted {
    Scripted {
        status,
        headers: vec![],
        body: body.to_string(),
        cut_short: false,
    }
}

fn cost(requested: f64, available: f64, rate: f64) -> Value {
    json!({"cost": {
        "requestedQueryCost": requested,
        "actualQueryCost": requested,
        "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": available, "restoreRate": rate}
    }})
}

#[derive(Default)]
struct Script {
    answers: Vec<Scripted>,
    /// (path, token header, JSON body) of each request.
    seen: Vec<(String, Option<String>, Value)>,
}

type Shared = Arc<Mutex<Script>>;

async fn scripted(
    State(script): State<Shared>,
    uri: axum::http::Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let next = {
        let mut s = script.lock().unwrap();
        let token = headers
            .get("x-shopify-access-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let body = serde_json::from_slice(&body).unwrap_or(Value::Null);
        s.seen.push((uri.path().to_string(), token, body));
        if s.answers.is_empty() {
            status(500, "script exhausted")
        } else {
            s.answers.remove(0)
        }
    };
    let mut response = Response::builder().status(next.status);
    for (name, value) in &next.headers {
        response = response.header(*name, value);
    }
    let body = if next.cut_short {
        let half = Bytes::from(next.body[..next.body.len() / 2].to_string());
        response = response.header("content-length", next.body.len().to_string());
        Body::from_stream(stream::iter(vec![
            Ok(half),
            Err(std::io::Error::other("connection reset")),
        ]))
    } else {
        Body::from(next.body)
    };
    response.body(body).unwrap()
}

async fn serve(app: Router) -> Url {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Url::parse(&format!("http://{addr}/shops/fake")).unwrap()
}

async fn fake_shop(answers: Vec<Scripted>) -> (Url, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers,
        ..Script::default()
    }));
    let base = serve(Router::new().fallback(scripted).with_state(script.clone())).await;
    (base, script)
}

fn settings(base: &Url) -> ShopifySettings {
    let mut settings = ShopifySettings::new(
        SourceId::parse("shopify-fake").unwrap(),
        BrandId::parse("fake").unwrap(),
        Currency::USD,
        "fake.myshopify.com",
        Secret::new(TOKEN),
    )
    .unwrap();
    settings.base_url = base.clone();
    settings.max_retries = 3;
    settings.backoff_base = Duration::from_millis(5);
    settings.request_timeout = Duration::from_secs(5);
    settings
}

fn client(base: &Url, bucket: Arc<CostBucket>) -> GraphqlClient {
    GraphqlClient::new(settings(base), GRAPHQL_API_VERSION, bucket).unwrap()
}

fn shop_query() -> GraphqlQuery {
    GraphqlQuery::new("ShopName", "query ShopName { shop { name } }", 1)
}

#[tokio::test]
async fn answers_data_posting_to_the_pinned_version_with_the_token() {
    let (base, script) = fake_shop(vec![ok(json!({
        "data": {"shop": {"name": "fake"}},
        "extensions": cost(1.0, 999.0, 50.0)
    }))])
    .await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    let answer = client.execute(&shop_query(), &mut stats).await.unwrap();
    assert_eq!(answer.data, json!({"shop": {"name": "fake"}}));
    assert_eq!(
        client.answered_api_version().as_deref(),
        Some(GRAPHQL_API_VERSION)
    );
    assert!(client.bucket().observed());
    assert_eq!(client.bucket().last_status().currently_available, 999.0);
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen[0].0, "/shops/fake/admin/api/2026-01/graphql.json");
    assert_eq!(seen[0].1.as_deref(), Some(TOKEN));
    assert_eq!(seen[0].2["operationName"], "ShopName");
    assert_eq!(seen[0].2["query"], "query ShopName { shop { name } }");
    assert_eq!((stats.http.requests, stats.http.errors), (1, 0));
}

#[tokio::test]
async fn pages_follow_the_end_cursor_until_the_last() {
    let page = |ids: &[u64], next: Option<&str>| {
        ok(json!({
            "data": {"orders": {
                "edges": ids.iter().map(|id| json!({"cursor": format!("c{id}"), "node": {"id": format!("gid://shopify/Order/{id}")}})).collect::<Vec<_>>(),
                "pageInfo": {"hasNextPage": next.is_some(), "endCursor": next}
            }},
            "extensions": cost(52.0, 900.0, 100.0)
        }))
    };
    let (base, script) = fake_shop(vec![page(&[1, 2], Some("c2")), page(&[3], None)]).await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let paged = PagedQuery {
        query: GraphqlQuery::new(
            "OrdersPage",
            "query OrdersPage($first: Int!, $after: String, $query: String) { orders(first: $first, after: $after, query: $query) { edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }",
            52,
        ),
        path: vec!["orders".into()],
        first: 2,
        search: Some("updated_at:>'2026-01-01T00:00:00Z'".into()),
    };
    let mut ids = Vec::new();
    let mut stats = GraphqlStats::default();
    let pages = client
        .each_page(&paged, &mut stats, |page| {
            ids.extend(
                page.nodes
                    .iter()
                    .map(|n| n["id"].as_str().unwrap().to_string()),
            );
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(pages, 2);
    assert_eq!(
        ids,
        [
            "gid://shopify/Order/1",
            "gid://shopify/Order/2",
            "gid://shopify/Order/3"
        ]
    );
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen[0].2["variables"]["after"], Value::Null);
    assert_eq!(seen[1].2["variables"]["after"], "c2");
    assert_eq!(seen[1].2["variables"]["first"], 2);
    assert_eq!(
        seen[1].2["variables"]["query"],
        "updated_at:>'2026-01-01T00:00:00Z'"
    );
}

#[tokio::test]
async fn a_throttled_answer_waits_the_time_it_computes_then_succeeds() {
    let throttled = ok(json!({
        "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": 30, "actualQueryCost": null,
            "throttleStatus": {"maximumAvailable": 1000.0, "currentlyAvailable": 10, "restoreRate": 1000.0}}}
    }));
    let (base, script) = fake_shop(vec![
        throttled,
        ok(json!({"data": {"shop": {"name": "fake"}}, "extensions": cost(30.0, 970.0, 1000.0)})),
    ])
    .await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    let query = GraphqlQuery::new("ShopName", "query ShopName { shop { name } }", 30);
    client.execute(&query, &mut stats).await.unwrap();
    // (30 − 10) ÷ 1000/s: the wait comes from the answer, not a constant.
    assert_eq!(stats.last_throttle_wait, Some(Duration::from_millis(20)));
    assert_eq!(stats.throttled, 1);
    assert_eq!(stats.http.rate_limit_waits, 1, "a throttle is a wait…");
    assert_eq!(stats.http.errors, 0, "…not an error");
    assert_eq!(script.lock().unwrap().seen.len(), 2);
}

#[tokio::test]
async fn server_errors_and_429s_are_retried() {
    let mut limited = status(429, "");
    limited.headers.push(("Retry-After", "0.05".into()));
    let (base, _) = fake_shop(vec![
        status(503, "busy"),
        limited,
        ok(json!({"data": {"shop": {"name": "fake"}}})),
    ])
    .await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    client.execute(&shop_query(), &mut stats).await.unwrap();
    assert_eq!(
        (
            stats.http.requests,
            stats.http.errors,
            stats.http.rate_limit_waits
        ),
        (3, 1, 1)
    );
}

#[tokio::test]
async fn a_body_cut_short_is_retried() {
    let mut cut = ok(json!({"data": {"shop": {"name": "a fairly long shop name to cut"}}}));
    cut.cut_short = true;
    let (base, _) = fake_shop(vec![cut, ok(json!({"data": {"shop": {"name": "fake"}}}))]).await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    let answer = client.execute(&shop_query(), &mut stats).await.unwrap();
    assert_eq!(answer.data["shop"]["name"], "fake");
    assert_eq!((stats.http.requests, stats.http.errors), (2, 1));
}

#[tokio::test]
async fn refusals_are_typed_not_retried_and_never_carry_the_token() {
    let (base, script) = fake_shop(vec![
        status(401, r#"{"errors":"[API] Invalid API key or access token"}"#),
        ok(json!({"errors": [{"message": "Access denied for returns field.", "extensions": {"code": "ACCESS_DENIED"}}]})),
    ])
    .await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    let unauthorized = client.execute(&shop_query(), &mut stats).await.unwrap_err();
    assert!(unauthorized.needs_attention(), "{unauthorized:?}");
    let denied = client.execute(&shop_query(), &mut stats).await.unwrap_err();
    assert!(
        matches!(&denied, GraphqlError::Query { code, .. } if code == "ACCESS_DENIED"),
        "{denied:?}"
    );
    assert_eq!(script.lock().unwrap().seen.len(), 2, "neither was retried");
    for e in [unauthorized, denied] {
        assert!(!e.to_string().contains(TOKEN));
        assert!(!format!("{e:?}").contains(TOKEN));
    }
}

#[tokio::test]
async fn a_query_over_the_cost_cap_is_refused_before_sending() {
    let (base, script) = fake_shop(vec![]).await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    let query = GraphqlQuery::new("Huge", "query Huge { x }", 1_001);
    let err = client.execute(&query, &mut stats).await.unwrap_err();
    assert!(matches!(
        err,
        GraphqlError::OverCostCap {
            cost: 1_001,
            cap: 1_000,
            ..
        }
    ));
    assert!(script.lock().unwrap().seen.is_empty());
    assert_eq!(stats.http.requests, 0);
}

#[tokio::test]
async fn shopifys_reported_cost_replaces_a_low_estimate() {
    let (base, script) = fake_shop(vec![ok(json!({
        "data": {"shop": {"name": "fake"}},
        "extensions": cost(1_040.0, 1000.0, 50.0)
    }))])
    .await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    let query = GraphqlQuery::new("Underestimated", "query Underestimated { x }", 900);
    client.execute(&query, &mut stats).await.unwrap();
    assert_eq!(client.expected_cost(&query), 1_040);
    assert!(matches!(
        client.execute(&query, &mut stats).await,
        Err(GraphqlError::OverCostCap { cost: 1_040, .. })
    ));
    assert_eq!(script.lock().unwrap().seen.len(), 1);
}

/// Counts the log events whose message contains `.1`.
struct DeprecationWarnings(Arc<AtomicUsize>, &'static str);

impl tracing::Subscriber for DeprecationWarnings {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        struct Message(String);
        impl tracing::field::Visit for Message {
            fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
                if field.name() == "message" {
                    self.0 = format!("{value:?}");
                }
            }
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        if message.0.contains(self.1) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

#[tokio::test]
async fn a_deprecation_notice_is_kept_and_logged_once() {
    let reason = "https://shopify.dev/api/admin-graphql/2026-01/queries/currentBulkOperation";
    let mut deprecated = ok(json!({"data": {"shop": {"name": "fake"}}}));
    deprecated
        .headers
        .push(("X-Shopify-API-Deprecated-Reason", reason.into()));
    let (base, _) = fake_shop(vec![deprecated.clone(), deprecated.clone(), deprecated]).await;
    let warnings = Arc::new(AtomicUsize::new(0));
    let _guard = tracing::subscriber::set_default(DeprecationWarnings(
        warnings.clone(),
        "deprecated graphql call",
    ));
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    for _ in 0..3 {
        client.execute(&shop_query(), &mut stats).await.unwrap();
    }
    assert_eq!(client.deprecation_notice().as_deref(), Some(reason));
    assert_eq!(warnings.load(Ordering::SeqCst), 1);
}

/// A fake Shopify that meters points as documented: a query needs its
/// requested cost in the bucket, which restores at `rate` a second up to
/// `max`; short, it answers THROTTLED with the bucket's state.
struct Metered {
    max: f64,
    rate: f64,
    available: f64,
    at: Instant,
    /// (client, throttled) per request, in arrival order.
    log: Vec<(String, bool)>,
}

async fn metered(State(shop): State<Arc<Mutex<Metered>>>, body: Bytes) -> Response<Body> {
    let request: Value = serde_json::from_slice(&body).unwrap();
    let requested = request["variables"]["cost"].as_f64().unwrap();
    let caller = request["variables"]["client"].as_str().unwrap().to_string();
    let body = {
        let mut shop = shop.lock().unwrap();
        let now = Instant::now();
        let restored = shop.available + now.duration_since(shop.at).as_secs_f64() * shop.rate;
        shop.available = restored.min(shop.max);
        shop.at = now;
        let throttled = shop.available < requested;
        shop.log.push((caller, throttled));
        if throttled {
            json!({
                "errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": null,
                    "throttleStatus": {"maximumAvailable": shop.max, "currentlyAvailable": shop.available, "restoreRate": shop.rate}}}
            })
        } else {
            shop.available -= requested;
            json!({
                "data": {"shop": {"name": "metered"}},
                "extensions": {"cost": {"requestedQueryCost": requested, "actualQueryCost": requested,
                    "throttleStatus": {"maximumAvailable": shop.max, "currentlyAvailable": shop.available, "restoreRate": shop.rate}}}
            })
        }
    };
    Response::builder()
        .status(200)
        .body(Body::from(body.to_string()))
        .unwrap()
}

/// The issue's rule: a client whose shop's points are also spent by another
/// client never gets two throttled answers in a row. (With a bucket of its
/// own instead of the shared one, client `a` here meets runs of throttles:
/// the other client spends what `a` was waiting for.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_sharing_a_bucket_never_get_two_throttles_in_a_row() {
    let shop = Arc::new(Mutex::new(Metered {
        max: 100.0,
        rate: 2_000.0,
        available: 100.0,
        at: Instant::now(),
        log: Vec::new(),
    }));
    let base = serve(Router::new().fallback(metered).with_state(shop.clone())).await;
    let bucket = Arc::new(CostBucket::new());
    let (a, b) = (client(&base, bucket.clone()), client(&base, bucket.clone()));
    let query = GraphqlQuery::new(
        "Metered",
        "query Metered($cost: Int, $client: String) { shop { name } }",
        40,
    )
    .variable("cost", 40);
    let run = |client: GraphqlClient, name: &'static str| {
        let query = query.clone().variable("client", name);
        async move {
            let mut stats = GraphqlStats::default();
            for _ in 0..20 {
                client.execute(&query, &mut stats).await.unwrap();
            }
            stats
        }
    };
    let (sa, sb) = tokio::join!(run(a, "a"), run(b, "b"));
    let log = shop.lock().unwrap().log.clone();
    assert_eq!(
        log.iter().filter(|(_, t)| !*t).count(),
        40,
        "every query ran"
    );
    for name in ["a", "b"] {
        let answers: Vec<bool> = log
            .iter()
            .filter(|(c, _)| c == name)
            .map(|(_, t)| *t)
            .collect();
        assert!(
            !answers.windows(2).any(|w| w[0] && w[1]),
            "client {name} got two throttled answers in a row: {answers:?}"
        );
    }
    // A throttle waits no longer than restoring the whole cost takes.
    let longest = Duration::from_secs_f64(40.0 / 2_000.0);
    for stats in [sa, sb] {
        if let Some(wait) = stats.last_throttle_wait {
            assert!(wait <= longest, "{wait:?}");
        }
    }
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/shopify/graphql/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test]
async fn a_bulk_query_is_started_followed_and_cancelled() {
    let run = fixture("bulk_run_query.json");
    // The poll answers Shopify's documented completed operation, as `node`.
    let done = fixture("bulk_operation_completed.json")["data"]["bulkOperation"].clone();
    let mut canceling = done.clone();
    canceling["status"] = "CANCELING".into();
    let (base, script) = fake_shop(vec![
        ok(run),
        ok(json!({"data": {"node": done}})),
        ok(json!({"data": {"bulkOperationCancel": {"bulkOperation": canceling, "userErrors": []}}})),
        ok(json!({"data": {"node": null}})),
    ])
    .await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    let bulk = "{ orders { edges { node { id lineItems { edges { node { id } } } } } } }";
    let started = client.run_bulk_query(bulk, &mut stats).await.unwrap();
    assert_eq!(started.id, "gid://shopify/BulkOperation/720918");
    let polled = client
        .bulk_operation(&started.id, &mut stats)
        .await
        .unwrap()
        .unwrap();
    assert!(polled.status.is_finished());
    assert_eq!(polled.object_count, 57);
    let cancelled = client
        .cancel_bulk_operation(&started.id, &mut stats)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        cancelled.status,
        opsdeck_sources::shopify::graphql::BulkStatus::Canceling
    );
    assert!(client
        .bulk_operation("gid://shopify/BulkOperation/0", &mut stats)
        .await
        .unwrap()
        .is_none());
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen[0].2["variables"]["query"], bulk);
    assert_eq!(seen[1].2["variables"]["id"], started.id);
    assert!(seen[1].2["query"]
        .as_str()
        .unwrap()
        .contains("node(id: $id)"));
}

#[tokio::test]
async fn a_bulk_query_refused_names_shopifys_code() {
    let (base, _) = fake_shop(vec![ok(json!({"data": {"bulkOperationRunQuery": {
        "bulkOperation": null,
        "userErrors": [{"field": null, "message": "A bulk query operation for this app and shop is already in progress: gid://shopify/BulkOperation/1.", "code": "OPERATION_IN_PROGRESS"}]
    }}}))])
    .await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    let err = client
        .run_bulk_query("{ orders { edges { node { id } } } }", &mut stats)
        .await
        .unwrap_err();
    match &err {
        GraphqlError::UserErrors { errors, .. } => {
            assert_eq!(errors[0].code.as_deref(), Some("OPERATION_IN_PROGRESS"))
        }
        other => panic!("{other:?}"),
    }
    assert!(err.is_bulk_limit());
}

#[tokio::test]
async fn granted_scopes_are_listed() {
    let (base, _) = fake_shop(vec![ok(json!({"data": {"currentAppInstallation": {"accessScopes": [
        {"handle": "read_orders"}, {"handle": "read_returns"}, {"handle": "read_shopify_payments_disputes"}
    ]}}}))])
    .await;
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    assert_eq!(
        client.granted_scopes(&mut stats).await.unwrap(),
        [
            "read_orders",
            "read_returns",
            "read_shopify_payments_disputes"
        ]
    );
}

#[tokio::test]
async fn another_answering_version_is_kept_and_logged_once() {
    let mut fell_forward = ok(json!({"data": {"shop": {"name": "fake"}}}));
    fell_forward.headers = vec![("X-Shopify-API-Version", "2026-04".into())];
    let (base, _) = fake_shop(vec![
        fell_forward.clone(),
        fell_forward.clone(),
        fell_forward,
    ])
    .await;
    let warnings = Arc::new(AtomicUsize::new(0));
    let _guard = tracing::subscriber::set_default(DeprecationWarnings(
        warnings.clone(),
        "another version than requested",
    ));
    let client = client(&base, Arc::new(CostBucket::new()));
    let mut stats = GraphqlStats::default();
    for _ in 0..3 {
        client.execute(&shop_query(), &mut stats).await.unwrap();
    }
    let report = client.version_report();
    assert_eq!(report.requested, GRAPHQL_API_VERSION);
    assert_eq!(report.answered.as_deref(), Some("2026-04"));
    assert_eq!(report.deprecation, None);
    assert_eq!(warnings.load(Ordering::SeqCst), 1);
}
