//! The fixture every web test starts from.
//!
//! Clock: Wednesday 2026-06-10 18:05Z — 14:05 in New York, 03:05 on
//! Thursday in Tokyo. Brands: Mavena (USD, New York), Kumo (JPY, Tokyo),
//! RetroMedy (not launched). Mavena's orders, by local time:
//! - today 00:01, $100.00 (counts)
//! - today 10:00, $30.00, cancelled (an order, not revenue)
//! - today 11:00, $500.00, test order (nowhere)
//! - yesterday 09:00, $80.00 (yesterday's span)
//! - yesterday 14:06, $20.00 (after the 14:05 cutoff: not yesterday's span)
//!
//! So today: 2 orders vs 1, $100.00 vs $80.00 (↑ 25 %), AOV $100.00 vs
//! $80.00. This week and month (nothing before Monday 06-08): 4 orders,
//! $200.00, AOV $66.67, no prior, so no deltas.

use axum::body::Body;
use axum::http::{Method, Request, Response};
use axum::Router;
use futures::StreamExt;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use opsdeck_domain::{
    Brand, BrandId, BrandKind, Currency, FinancialStatus, Money, Order, OrderFulfillmentStatus,
    SourceId, Thresholds, Timestamp,
};
use opsdeck_store::testing::{sqlite_temp, TempGuard};
use opsdeck_store::{AnyRecord, Store, SyncState};
use opsdeck_web::auth::Role;
use opsdeck_web::testing::{tile_names, user_session, TestSession, CSRF_HEADER};
use opsdeck_web::{AppState, SourceInfo};
use std::collections::BTreeMap;
use std::sync::Arc;
use tower::ServiceExt;

pub const NOW: &str = "2026-06-10T18:05:00Z";

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn brand(id: &str, name: &str, zone: &str, currency: Currency, launched: bool) -> Brand {
    let kind = BrandKind::Standard;
    Brand {
        id: BrandId::parse(id).unwrap(),
        name: name.to_string(),
        thresholds: Thresholds::defaults_for(&kind),
        kind,
        time_zone: TimeZone::get(zone).unwrap(),
        currency,
        launched,
    }
}

fn source(id: &str, brand: Option<&str>, platform: &str, resources: &[&str]) -> SourceInfo {
    SourceInfo {
        id: SourceId::parse(id).unwrap(),
        brand: brand.map(|b| BrandId::parse(b).unwrap()),
        platform: platform.to_string(),
        resources: resources.iter().map(|r| r.to_string()).collect(),
    }
}

pub fn order(source: &str, brand: &str, id: &str, created_at: &str, price: Money) -> Order {
    let zero = Money::zero(price.currency);
    Order {
        source: SourceId::parse(source).unwrap(),
        external_id: id.to_string(),
        brand: BrandId::parse(brand).unwrap(),
        name: format!("#{id}"),
        number: None,
        created_at: ts(created_at),
        updated_at: ts(created_at),
        processed_at: Some(ts(created_at)),
        cancelled_at: None,
        cancel_reason: None,
        closed_at: None,
        currency: price.currency,
        total_price: price,
        subtotal_price: price,
        total_discounts: zero,
        total_tax: zero,
        financial_status: FinancialStatus::Paid,
        fulfillment_status: OrderFulfillmentStatus::Unfulfilled,
        tags: Vec::new(),
        source_name: Some("web".into()),
        test: false,
        email: None,
        customer: None,
        line_items: Vec::new(),
        fulfillments: Vec::new(),
        refunds: Vec::new(),
    }
}

fn usd(cents: i64) -> Money {
    Money::new(cents, Currency::USD)
}

fn orders() -> Vec<AnyRecord> {
    let mavena =
        |id: &str, at: &str, cents: i64| order("shopify-mavena", "mavena", id, at, usd(cents));
    let mut cancelled = mavena("1002", "2026-06-10T14:00:00Z", 30_00);
    cancelled.cancelled_at = Some(ts("2026-06-10T15:00:00Z"));
    let mut test = mavena("1003", "2026-06-10T15:00:00Z", 500_00);
    test.test = true;
    let kumo = order(
        "shopify-kumo",
        "kumo",
        "2001",
        "2026-06-10T16:00:00Z", // 01:00 JST on the 11th: Kumo's today
        Money::new(1_500, Currency::JPY),
    );
    vec![
        mavena("1001", "2026-06-10T04:01:00Z", 100_00),
        cancelled,
        test,
        mavena("0901", "2026-06-09T13:00:00Z", 80_00),
        mavena("0902", "2026-06-09T18:06:00Z", 20_00),
        kumo,
    ]
    .into_iter()
    .map(AnyRecord::Order)
    .collect()
}

fn sync_states() -> Vec<SyncState> {
    let mut mavena = SyncState::new(SourceId::parse("shopify-mavena").unwrap(), "orders");
    mavena.last_attempt_at = Some(ts("2026-06-10T18:03:00Z"));
    mavena.last_success_at = Some(ts("2026-06-10T18:03:00Z"));
    mavena.records_synced = 5;
    let mut kumo = SyncState::new(SourceId::parse("shopify-kumo").unwrap(), "orders");
    kumo.last_success_at = Some(ts("2026-06-10T12:00:00Z"));
    kumo.last_attempt_at = Some(ts("2026-06-10T18:04:00Z"));
    kumo.last_error_at = Some(ts("2026-06-10T18:04:00Z"));
    kumo.last_error = Some("HTTP 401 from Shopify".into());
    kumo.consecutive_failures = 3;
    vec![mavena, kumo]
}

/// Puts on the fixture's store what /sources must show beyond the fixture's
/// states: Mavena's products mid-run (started 18:04, 3 records refused so
/// far, the reason in its last error) and one `orders/updated` webhook of
/// Mavena given up on.
pub async fn source_health_extras(store: &dyn Store) {
    let mut running = SyncState::new(SourceId::parse("shopify-mavena").unwrap(), "products");
    running.last_attempt_at = Some(ts("2026-06-10T18:04:00Z"));
    running.running_since = Some(ts("2026-06-10T18:04:00Z"));
    running.records_refused = 3;
    running.needs_attention = true;
    running.last_error = Some("missing access scope read_all_orders: hidden".into());
    store
        .save_sync_state(&running)
        .await
        .expect("save sync state");
    let event = opsdeck_store::InboxEvent {
        source: SourceId::parse("shopify-mavena").unwrap(),
        shop_domain: "mavena.myshopify.com".into(),
        webhook_id: "wh-deep-1".into(),
        event_id: None,
        topic: "orders/updated".into(),
        api_version: None,
        triggered_at: None,
        received_at: ts("2026-06-10T18:02:00Z"),
        body: "{}".into(),
    };
    let out = store
        .insert_webhooks(&[event])
        .await
        .expect("insert webhook");
    let opsdeck_store::InsertOutcome::Inserted { id } = out[0] else {
        panic!("{out:?}")
    };
    store
        .mark_webhook_failed(id, "recursion limit exceeded at line 1", None)
        .await
        .expect("mark failed");
}

/// A running fixture: the state and the guard that keeps its database.
pub struct Fixture {
    pub state: AppState,
    /// An admin's session (user `admin`, password [`PASSWORD`]): every
    /// request of [`Fixture::get`] and [`Fixture::send`] carries it.
    pub session: TestSession,
    _guard: TempGuard,
}

impl Fixture {
    pub async fn new() -> Fixture {
        let (store, guard) = sqlite_temp().await;
        store.upsert(&orders(), None).await.expect("insert orders");
        for s in sync_states() {
            store.save_sync_state(&s).await.expect("save sync state");
        }
        let session = user_session(store.as_ref(), "admin", Role::Admin, ts(NOW)).await;
        Fixture {
            session,
            state: state(store),
            _guard: guard,
        }
    }

    /// The fixture with its projection built from the store, as the app
    /// builds it at start: for tests of numbers the projection gives (the
    /// order volume cards and every panel).
    pub async fn with_projection() -> Fixture {
        let fx = Fixture::new().await;
        fx.build_projection().await;
        fx
    }

    /// Rebuilds the projection from everything now in the store (after a
    /// test adds records).
    pub async fn build_projection(&self) {
        let p = opsdeck_metrics::Projection::build(
            self.state.store.as_ref(),
            self.state.brands.to_vec(),
            opsdeck_metrics::SubscriptionRules::default(),
        )
        .await
        .expect("build the projection");
        *self.state.projection.write().unwrap() = p;
    }

    pub fn router(&self) -> Router {
        opsdeck_web::router(self.state.clone())
    }

    pub async fn get(&self, uri: &str) -> Response<Body> {
        self.send(Request::get(uri).body(Body::empty()).unwrap())
            .await
    }

    /// Sends `request` as the fixture's admin: session cookie, and the
    /// CSRF header unless the request already has one.
    pub async fn send(&self, request: Request<Body>) -> Response<Body> {
        send_as(self.router(), &self.session, request).await
    }

    pub async fn get_json(&self, uri: &str) -> (u16, serde_json::Value) {
        let response = self.get(uri).await;
        let status = response.status().as_u16();
        (
            status,
            serde_json::from_str(&body_text(response).await).unwrap(),
        )
    }
}

pub fn state(store: Arc<dyn Store>) -> AppState {
    let now = ts(NOW);
    let brands = vec![
        brand("mavena", "Mavena", "America/New_York", Currency::USD, true),
        brand("kumo", "Kumo", "Asia/Tokyo", Currency::JPY, true),
        brand(
            "retromedy",
            "RetroMedy",
            "America/New_York",
            Currency::USD,
            false,
        ),
    ];
    // Empty: tests that need numbers in it fill it (see `with_projection`).
    let projection = Arc::new(std::sync::RwLock::new(opsdeck_metrics::Projection::new(
        brands.clone(),
        opsdeck_metrics::ProjectionRules::default(),
    )));
    // The ingest writer, started as the application does (its task is
    // left to end with the state's last clone).
    let (ingest, _writer) = opsdeck_sync::group_commit::IngestCommits::start(store.clone(), None);
    let privacy = Arc::new(opsdeck_operations::privacy::Privacy::new(
        store.clone(),
        Default::default(),
    ));
    let incidents = opsdeck_web::testing::incident_service(store.clone(), Arc::new(move || now));
    let handovers =
        opsdeck_operations::handover::Handovers::new(opsdeck_operations::handover::HandoverParts {
            store: store.clone(),
            incidents: incidents.clone(),
            approvals: None,
            regions: Vec::new(),
            brands: brands.iter().map(|b| b.id.clone()).collect(),
            policy: opsdeck_operations::handover::ShiftPolicy::playbook(),
            clock: Arc::new(move || now),
            projection: projection.clone(),
            panel_config: Default::default(),
            configured: Vec::new(),
            dashboard_url: "http://opsdeck.test".into(),
        });
    // No Shopify shop: its items are decided in opsdeck (tests of the
    // returns mutations run the whole application against the simulator).
    let refunds_queue = Arc::new(opsdeck_operations::queues::RefundQueue::new(
        store.clone(),
        Default::default(),
        None,
        Arc::new(move || now),
    ));
    let health_checks = Arc::new(opsdeck_operations::health::HealthChecks::new(
        store.clone(),
        health_checks(),
        projection.clone(),
    ));
    AppState {
        incidents,
        store,
        brands: Arc::new(brands),
        sources: Arc::new(vec![
            source(
                "shopify-mavena",
                Some("mavena"),
                "shopify",
                &["orders", "products"],
            ),
            source("shopify-kumo", Some("kumo"), "shopify", &["orders"]),
            source("gorgias", None, "gorgias", &["tickets"]),
        ]),
        week_start: Weekday::Monday,
        clock: Arc::new(move || now),
        started_at: ts("2026-06-10T18:00:00Z"),
        webhooks: None,
        projection,
        panel_config: Default::default(),
        ingest,
        sync_trigger: Default::default(),
        alert_rules: Default::default(),
        approvals: None,
        auth: opsdeck_web::testing::auth_for_tests(),
        tasks: Default::default(),
        flags: Default::default(),
        handovers: Some(Arc::new(handovers)),
        refunds_queue: Some(refunds_queue),
        privacy: Some(privacy),
        health_checks: Some(health_checks),
        reports: None,
        latency: Default::default(),
    }
}

/// The health checks of the test application: a heartbeat every 5 minutes
/// (down after 2 missed) and a queue length (degraded above 100, down
/// above 500).
pub fn health_checks() -> Vec<opsdeck_domain::health::CheckSpec> {
    use opsdeck_domain::health::{CheckKind, CheckSpec, DownAfter, Maintenance};
    let spec = |name: &str, kind, failures| CheckSpec {
        name: name.into(),
        kind,
        down_after: DownAfter {
            failures,
            within: jiff::SignedDuration::from_mins(15),
        },
        maintenance: Maintenance::default(),
    };
    vec![
        spec(
            "label_worker",
            CheckKind::Heartbeat {
                period: jiff::SignedDuration::from_mins(5),
            },
            2,
        ),
        spec(
            "pick_queue",
            CheckKind::Threshold {
                degraded_above: 100.0,
                down_above: 500.0,
            },
            1,
        ),
    ]
}

/// The password every fixture user has.
pub const PASSWORD: &str = "correct horse battery";

/// Sends `request` on `router` as the user of `session` (cookie, and the
/// CSRF header unless the request already has one).
pub async fn send_as(
    router: Router,
    session: &TestSession,
    mut request: Request<Body>,
) -> Response<Body> {
    let h = request.headers_mut();
    h.insert("cookie", session.cookie.parse().unwrap());
    if !h.contains_key(CSRF_HEADER) {
        h.insert(CSRF_HEADER, session.csrf_token.parse().unwrap());
    }
    router.oneshot(request).await.unwrap()
}

/// The concrete URIs of the route `path` for the route-walking tests:
/// each `{param}` replaced from each set in turn, `{tile}` expanded to
/// every tile. Fails naming a parameter no set gives a value for, so a new
/// route with a new parameter cannot slip past the walk.
pub fn concrete_uris(path: &str, sets: &[BTreeMap<&str, String>]) -> Vec<String> {
    let mut uris = Vec::new();
    for set in sets {
        let mut uri = path.to_string();
        for (param, value) in set {
            uri = uri.replace(param, value);
        }
        if uri.contains("{tile}") {
            uris.extend(tile_names().into_iter().map(|t| uri.replace("{tile}", t)));
        } else {
            uris.push(uri);
        }
    }
    uris.sort();
    uris.dedup();
    for uri in &uris {
        assert!(
            !uri.contains('{'),
            "{uri}: a path parameter this test has no value for; add one to `expand`"
        );
    }
    uris
}

/// The status and body of `method uri` (no body) as `session`, for the
/// route-walking tests; an event stream is read up to its first event
/// (it does not end).
pub async fn walk_request(
    fx: &Fixture,
    session: &TestSession,
    method: &Method,
    uri: &str,
) -> (u16, String) {
    let request = Request::builder()
        .method(method.clone())
        .uri(uri)
        .header("content-type", "application/json")
        .body(Body::empty())
        .unwrap();
    let response = send_as(fx.router(), session, request).await;
    let status = response.status().as_u16();
    let streaming = response
        .headers()
        .get("content-type")
        .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
    if streaming {
        let mut stream = response.into_body().into_data_stream();
        let first = stream.next().await.unwrap().unwrap();
        return (status, String::from_utf8_lossy(&first).into_owned());
    }
    (status, body_text(response).await)
}

pub async fn body_text(response: Response<Body>) -> String {
    let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
        .await
        .unwrap();
    String::from_utf8(bytes.to_vec()).unwrap()
}

pub fn assert_security_headers(response: &Response<Body>) {
    let h = response.headers();
    assert_eq!(
        h["content-security-policy"],
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["referrer-policy"], "same-origin");
    assert_eq!(
        h["permissions-policy"],
        opsdeck_web::testing::PERMISSIONS_POLICY
    );
    assert_eq!(h["x-frame-options"], "DENY");
}
