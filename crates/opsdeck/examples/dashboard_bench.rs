//! How fast the main dashboard's HTML is served with a million orders.
//! Prints figures; asserts nothing. Run with --release:
//!
//! `cargo run --release -p opsdeck --example dashboard_bench -- [ORDERS] [REQUESTS]`
//!
//! Writes ORDERS generated orders (default 1,000,000, over two years, three
//! launched brands and one not launched; the metrics tests' generator) into
//! a fresh SQLite store, builds the shared projection from the store as the
//! app does at start, serves the real router on loopback, logs a user in
//! (a real session), and times REQUESTS sequential `GET /` (default 1,000)
//! after a warm-up: the whole page, every tile, as a browser asks for it.
//! The client runs in this process over real HTTP on the other core.
//!
//! Then, back to back on the same data, the order volume cards of the
//! launched brands computed the way the tile did before (a month of order
//! facts read from the store per request) and the way it does now (the
//! projection's sales rollups): an A/B of the change that took `GET /` at
//! 1M orders from seconds to milliseconds.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark aborts on a setup failure; there is nothing to recover"
)]

#[path = "../../metrics/tests/support/gen.rs"]
mod gen;

use gen::{brand, world};
use jiff::civil::Weekday;
use opsdeck_domain::{BrandKind, SourceId, Timestamp};
use opsdeck_metrics::{Projection, SubscriptionRules};
use opsdeck_web::auth::Role;
use opsdeck_web::{AppState, SourceInfo};
use std::sync::Arc;
use std::time::Instant;

fn pct(v: &[f64], q: f64) -> f64 {
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

#[tokio::main]
async fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("ORDERS and REQUESTS are numbers"))
        .collect();
    let orders = args.first().copied().unwrap_or(1_000_000);
    let requests = args.get(1).copied().unwrap_or(1_000) as usize;
    let now: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let brands = vec![
        brand("plentum", "America/New_York", BrandKind::Subscription, true),
        brand("mavena", "America/Los_Angeles", BrandKind::Dropship, true),
        brand("pawly", "Europe/London", BrandKind::Standard, true),
        brand("retromedy", "UTC", BrandKind::Standard, false),
    ];

    let dir = std::env::temp_dir().join(format!("opsdeck-dashboard-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let store = opsdeck_store::connect(&format!("sqlite://{}", dir.join("bench.db").display()))
        .await
        .unwrap();
    store.migrate().await.unwrap();
    let t0 = Instant::now();
    let chunk = 100_000u64;
    let mut done = 0;
    while done < orders {
        let n = chunk.min(orders - done);
        let mut recs = world(done + 1, &brands, n, 0, 730, now.as_second());
        for (i, r) in recs.iter_mut().enumerate() {
            if let opsdeck_store::AnyRecord::Order(o) = r {
                let g = done + i as u64;
                o.external_id = g.to_string();
                o.number = Some(g as i64 + 1000);
                o.name = format!("#{}", g + 1000);
            }
        }
        for c in recs.chunks(5_000) {
            store.upsert(c, None).await.unwrap();
        }
        done += n;
    }
    println!(
        "store: {orders} orders written to SQLite in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let t1 = Instant::now();
    let projection =
        Projection::build(store.as_ref(), brands.clone(), SubscriptionRules::default())
            .await
            .unwrap();
    println!(
        "projection built from the store in {:.1} s ({} orders)",
        t1.elapsed().as_secs_f64(),
        projection.order_count()
    );

    let sources = brands
        .iter()
        .filter(|b| b.launched)
        .map(|b| SourceInfo {
            id: SourceId::parse(&format!("shopify-{}", b.id)).unwrap(),
            brand: Some(b.id.clone()),
            platform: "shopify".into(),
            resources: vec!["orders".into(), "products".into()],
        })
        .collect();
    let shared = Arc::new(std::sync::RwLock::new(projection));
    let (ingest, _writer) = opsdeck_sync::group_commit::IngestCommits::start(store.clone(), None);
    let state = AppState {
        incidents: opsdeck_web::testing::incident_service(store.clone(), Arc::new(move || now)),
        store: store.clone(),
        brands: Arc::new(brands),
        sources: Arc::new(sources),
        week_start: Weekday::Monday,
        clock: Arc::new(move || now),
        started_at: now,
        webhooks: None,
        auth: opsdeck_web::testing::auth_for_tests(),
        projection: shared.clone(),
        panel_config: Default::default(),
        ingest,
        sync_trigger: Default::default(),
        alert_rules: Default::default(),
        approvals: None,
        tasks: Default::default(),
        flags: Default::default(),
        handovers: None,
        refunds_queue: None,
        privacy: None,
        health_checks: None,
        reports: None,
        latency: Default::default(),
    };
    let session =
        opsdeck_web::testing::user_session(store.as_ref(), "bench", Role::Admin, now).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(opsdeck_web::serve(listener, state, async {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::new();
    let url = format!("http://{addr}/");
    let get = || async {
        let response = client
            .get(&url)
            .header("cookie", &session.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            200,
            "GET / answered {}",
            response.status()
        );
        response.bytes().await.unwrap().len()
    };
    let mut bytes = 0;
    for _ in 0..20 {
        bytes = get().await;
    }
    let mut ms: Vec<f64> = Vec::with_capacity(requests);
    for _ in 0..requests {
        let t = Instant::now();
        std::hint::black_box(get().await);
        ms.push(t.elapsed().as_secs_f64() * 1e3);
    }
    ms.sort_by(f64::total_cmp);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "GET / (logged in, {bytes} bytes of HTML), {requests} sequential requests: \
         p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms; load average {}",
        pct(&ms, 0.5),
        pct(&ms, 0.9),
        pct(&ms, 0.99),
        ms[ms.len() - 1],
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    order_volume_ab(store.as_ref(), &shared, now).await;
    let _ = stop.send(());
    server.await.unwrap().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Times the order volume cards of every launched brand from the store's
/// facts and from the projection's rollups, alternating, and checks that
/// both give the same cards.
async fn order_volume_ab(
    store: &dyn opsdeck_store::Store,
    shared: &opsdeck_metrics::SharedProjection,
    now: Timestamp,
) {
    use opsdeck_metrics::order_volume::order_volume_from_sales;
    use opsdeck_metrics::{facts_window_start, order_volume};
    let week = Weekday::Monday;
    let brands: Vec<_> = shared.read().unwrap().ctx.brands.clone();
    let (mut facts_ms, mut rollup_ms) = (Vec::new(), Vec::new());
    for _ in 0..10 {
        let t = Instant::now();
        let mut from_facts = Vec::new();
        for brand in brands.iter().filter(|b| b.launched) {
            let from = facts_window_start(brand, now, week);
            let facts = store.order_facts(&brand.id, from, now).await.unwrap();
            from_facts.push(order_volume(brand, &facts, now, week));
        }
        facts_ms.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let from_rollups: Vec<_> = {
            let p = shared.read().unwrap();
            brands
                .iter()
                .enumerate()
                .filter(|(_, b)| b.launched)
                .map(|(i, b)| order_volume_from_sales(b, &p.orders.sales[i], now, week).unwrap())
                .collect()
        };
        rollup_ms.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!(from_facts, from_rollups, "the two ways give the same cards");
    }
    facts_ms.sort_by(f64::total_cmp);
    rollup_ms.sort_by(f64::total_cmp);
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "order volume cards of the launched brands, 10 alternating runs: from store facts \
         median {:.1} ms (max {:.1}), from projection rollups median {:.3} ms (max {:.3}); \
         load average {}",
        pct(&facts_ms, 0.5),
        facts_ms[facts_ms.len() - 1],
        pct(&rollup_ms, 0.5),
        rollup_ms[rollup_ms.len() - 1],
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
}
