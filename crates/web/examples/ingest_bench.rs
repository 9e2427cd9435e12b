//! Ingest API throughput over loopback HTTP with durable commits.
//!
//!     cargo run --release -p opsdeck-web --example ingest_bench
//!
//! Runs the real server on 127.0.0.1:0 against a fresh SQLite store
//! (WAL, synchronous=FULL: every batch is fsynced before it is answered),
//! and against PostgreSQL too when `OPSDECK_TEST_POSTGRES_URL` is set. For
//! batches of 1, 100 and 1,000 orders (each order shaped like a Shopify
//! orders/updated payload: three lines, a customer, a fulfillment, ~1.6 KB
//! of JSON) it sends requests from `INGEST_BENCH_CLIENTS` (default 64)
//! concurrent connections, from a second process (this program re-run with
//! `--client`, so the client's CPU is not the server's), and prints
//! records/s and the p50/p99 request latency. Prints figures; asserts
//! nothing.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark aborts on a setup failure; there is nothing to recover"
)]

use jiff::civil::Weekday;
use opsdeck_domain::{Brand, BrandId, BrandKind, Currency, SourceId, Thresholds, Timestamp};
use opsdeck_store::{AuditEntry, NewApiToken, Store, TokenKinds};
use opsdeck_web::AppState;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn order(i: usize) -> Value {
    let money = |a: &str| json!({"amount": a, "currency": "USD"});
    json!({
        "external_id": format!("bench-{i}"),
        "name": format!("#{}", 100_000 + i),
        "number": 100_000 + i,
        "created_at": "2026-06-10T12:00:00Z",
        "updated_at": "2026-06-10T12:30:00Z",
        "processed_at": "2026-06-10T12:00:01Z",
        "total_price": money("89.85"), "subtotal_price": money("79.85"),
        "total_discounts": money("5.00"), "total_tax": money("15.00"),
        "financial_status": "paid", "fulfillment_status": "partial",
        "tags": ["Subscription", "vip"], "source_name": "web",
        "email": "buyer@example.com",
        "customer": {"external_id": format!("c-{}", i % 997), "email": "buyer@example.com", "name": "Buyer Name"},
        "line_items": (0..3).map(|l| json!({
            "external_id": format!("li-{i}-{l}"), "product_id": "p-1", "variant_id": format!("v-{l}"),
            "sku": format!("SKU-{l}"), "title": "Magnesium Glycinate", "variant_title": "60 caps",
            "quantity": 1 + l, "price": money("26.62"), "fulfilled_quantity": 1
        })).collect::<Vec<_>>(),
        "fulfillments": [{"external_id": format!("f-{i}"), "status": "success", "shipment_status": "in_transit",
            "tracking_company": "UPS", "tracking_numbers": ["1Z999AA10123456784"],
            "tracking_urls": ["https://www.ups.com/track?tracknum=1Z999AA10123456784"],
            "created_at": "2026-06-10T12:20:00Z", "updated_at": "2026-06-10T12:30:00Z"}]
    })
}

fn brand() -> Brand {
    Brand {
        id: BrandId::parse("mavena").unwrap(),
        name: "Mavena".into(),
        kind: BrandKind::Standard,
        time_zone: jiff::tz::TimeZone::UTC,
        currency: Currency::USD,
        launched: true,
        thresholds: Thresholds::defaults_for(&BrandKind::Standard),
    }
}

async fn bench(label: &str, store: Arc<dyn Store>) {
    let now = Timestamp::now();
    let new = NewApiToken::generate(
        "bench",
        brand().id,
        SourceId::parse("ingest-mavena").unwrap(),
        TokenKinds::All,
        "bench",
        now,
    );
    let audit = AuditEntry {
        at: now,
        actor: "bench".into(),
        action: opsdeck_store::AuditAction::ApiTokenCreate,
        subject: new.token.id.clone(),
        payload: json!({}),
        ip: None,
    };
    store.create_api_token(&new, &audit).await.unwrap();
    let token = new.plaintext.expose().to_string();
    let (ingest, _writer) = opsdeck_sync::group_commit::IngestCommits::start(store.clone(), None);
    let state = AppState {
        incidents: opsdeck_web::testing::incident_service(store.clone(), Arc::new(Timestamp::now)),
        store,
        brands: Arc::new(vec![brand()]),
        sources: Arc::new(vec![]),
        week_start: Weekday::Monday,
        clock: Arc::new(Timestamp::now),
        started_at: now,
        webhooks: None,
        projection: Arc::new(std::sync::RwLock::new(opsdeck_metrics::Projection::new(
            vec![brand()],
            opsdeck_metrics::ProjectionRules::default(),
        ))),
        panel_config: Default::default(),
        ingest,
        sync_trigger: Default::default(),
        alert_rules: Default::default(),
        approvals: None,
        auth: opsdeck_web::auth::Auth::new(Default::default()),
        tasks: Default::default(),
        flags: Default::default(),
        handovers: None,
        refunds_queue: None,
        privacy: None,
        health_checks: None,
        reports: None,
        latency: Default::default(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(opsdeck_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    let url = format!("http://{addr}/api/v1/ingest/orders");
    let sample = serde_json::to_string(&order(0)).unwrap().len();
    println!(
        "{label}: order payload {sample} bytes, {} concurrent clients (separate process)",
        clients()
    );
    let mut next_id = 0usize;
    for (batch, requests) in [(1usize, 4000usize), (100, 200), (1000, 16)] {
        // The client runs in its own process, so its CPU is not the server's.
        let args = [
            "--client".to_string(),
            url.clone(),
            token.clone(),
            batch.to_string(),
            requests.to_string(),
            next_id.to_string(),
        ];
        next_id += batch * requests;
        let output = tokio::task::spawn_blocking(move || {
            std::process::Command::new(std::env::current_exe().unwrap())
                .args(args)
                .env("INGEST_BENCH_CLIENTS", clients().to_string())
                .stderr(std::process::Stdio::inherit())
                .output()
        })
        .await
        .unwrap()
        .expect("client process");
        assert!(output.status.success(), "client process failed");
        print!("{}", String::from_utf8_lossy(&output.stdout));
    }
    let _ = stop.send(());
    let _ = server.await;
}

/// Concurrent connections (`INGEST_BENCH_CLIENTS`, default 64).
fn clients() -> usize {
    std::env::var("INGEST_BENCH_CLIENTS")
        .ok()
        .and_then(|c| c.parse().ok())
        .unwrap_or(64)
}

/// The sending side, in its own process: `requests` bodies of `batch`
/// orders numbered from `first`, from [`clients`] connections; prints one
/// line of figures.
async fn client(url: String, token: String, batch: usize, requests: usize, first: usize) {
    let clients = clients();
    let mut next_id = first;
    let bodies: Vec<String> = (0..requests)
        .map(|_| {
            let records: Vec<Value> = (0..batch)
                .map(|_| {
                    next_id += 1;
                    order(next_id)
                })
                .collect();
            json!({ "records": records }).to_string()
        })
        .collect();
    let bodies = Arc::new(bodies);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (bodies, url, token) = (bodies.clone(), url.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut latencies = Vec::new();
            for body in bodies.iter().skip(c).step_by(clients) {
                let t = Instant::now();
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200, "{}", r.text().await.unwrap_or_default());
                r.bytes().await.unwrap();
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "  batch {batch:>4}: {requests:>4} requests, {:>8.0} records/s, {:>7.1} requests/s, p50 {:>7.2} ms, p99 {:>7.2} ms",
        (batch * requests) as f64 / elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--client") {
        let n = |i: usize| args[i].parse::<usize>().expect("number");
        return client(args[1].clone(), args[2].clone(), n(3), n(4), n(5)).await;
    }
    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    bench("SQLite (WAL, synchronous=FULL)", store).await;
    match opsdeck_store::testing::postgres_fresh().await {
        Some(store) => bench("PostgreSQL", store).await,
        None => println!("PostgreSQL: skipped (set OPSDECK_TEST_POSTGRES_URL)"),
    }
}
