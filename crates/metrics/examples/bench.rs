//! Benchmark of the projection and the full dashboard. Prints figures; no
//! assertions. Run with --release:
//!
//! `cargo run --release -p opsdeck-metrics --example bench -- ORDERS TICKETS [STORE_ORDERS]`
//!
//! Builds the projection from generated changes (streamed in chunks so the
//! resident-memory growth is the projection's), times one change, times the
//! full dashboard (all panels, all brands) over many runs, and, when
//! STORE_ORDERS > 0, loads that many orders into a SQLite store, builds the
//! projection from it and compares the core numbers with plain SQL.

#[path = "../tests/support/gen.rs"]
mod gen;

use gen::{brand, order, world, Rng};
use opsdeck_domain::{BrandKind, Timestamp};
use opsdeck_metrics::panels::{self, PanelConfig, Range};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::AnyRecord;
use std::time::Instant;

fn rss_bytes() -> u64 {
    let s = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    s.split_whitespace()
        .nth(1)
        .and_then(|v| v.parse::<u64>().ok())
        .unwrap_or(0)
        * 4096
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .map(|a| a.parse().expect("numbers"))
        .collect();
    let orders = args.first().copied().unwrap_or(1_000_000);
    let tickets = args.get(1).copied().unwrap_or(orders / 10);
    let store_orders = args.get(2).copied().unwrap_or(0);
    let brands = vec![
        brand("plentum", "America/New_York", BrandKind::Subscription, true),
        brand("mavena", "America/Los_Angeles", BrandKind::Dropship, true),
        brand("pawly", "Europe/London", BrandKind::Standard, true),
        brand("retromedy", "UTC", BrandKind::Standard, false),
    ];
    let now_ts: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let now = now_ts.as_second();
    let days = 730;
    let mut p = Projection::new(brands.clone(), SubscriptionRules::default());
    let rss0 = rss_bytes();
    let chunk = 200_000u64;
    let (mut gen_time, mut apply_time) = (0.0, 0.0);
    let mut done = 0;
    while done < orders {
        let n = chunk.min(orders - done);
        let t0 = Instant::now();
        let mut recs = world(done + 1, &brands, n, 0, days, now);
        for (i, r) in recs.iter_mut().enumerate() {
            if let AnyRecord::Order(o) = r {
                o.external_id = (done + i as u64).to_string();
                o.number = Some((done + i as u64) as i64 + 1000);
                o.name = format!("#{}", done + i as u64 + 1000);
            }
        }
        gen_time += t0.elapsed().as_secs_f64();
        let t1 = Instant::now();
        for r in &recs {
            p.apply_record(r);
        }
        apply_time += t1.elapsed().as_secs_f64();
        done += n;
    }
    let rss_orders = rss_bytes().saturating_sub(rss0);
    let t1 = Instant::now();
    let trecs = world(7, &brands, 0, tickets, days, now);
    gen_time += t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    for r in &trecs {
        p.apply_record(r);
    }
    let ticket_apply = t2.elapsed().as_secs_f64();
    drop(trecs);
    println!("orders: {orders}, tickets: {tickets} (generated in {gen_time:.1} s)");
    println!(
        "projection build from generated changes: orders {apply_time:.2} s ({:.2} us/order), tickets {ticket_apply:.2} s",
        apply_time * 1e6 / orders as f64
    );
    println!(
        "projection memory (RSS growth while applying orders): {:.0} MB = {:.0} bytes/order = {:.0} MB per million orders",
        rss_orders as f64 / 1e6,
        rss_orders as f64 / orders as f64,
        rss_orders as f64 / orders as f64
    );
    // One change: updates of existing orders (a new version replaces the old).
    let mut rng = Rng::new(99);
    let b = brands[0].id.clone();
    let updates: Vec<AnyRecord> = (0..20_000)
        .map(|_| {
            let i = rng.below(orders);
            let at = now - rng.below(30 * 86_400) as i64;
            let mut o = order(&mut rng, &b, i, at, now);
            o.external_id = i.to_string();
            AnyRecord::Order(o)
        })
        .collect();
    let mut each = Vec::with_capacity(updates.len());
    for r in &updates {
        let t = Instant::now();
        p.apply_record(r);
        each.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!(
        "apply one change (order update): p50 {:.2} us, p99 {:.2} us, mean {:.2} us",
        pct(&mut each.clone(), 0.5),
        pct(&mut each.clone(), 0.99),
        each.iter().sum::<f64>() / each.len() as f64
    );
    let cfg = PanelConfig::default();
    for range in [
        Range::Today,
        Range::Days { days: 30 },
        Range::Days { days: 90 },
    ] {
        let mut runs = vec![];
        for _ in 0..100 {
            let t = Instant::now();
            let d = panels::dashboard(&p, &cfg, range, now_ts);
            std::hint::black_box(&d);
            runs.push(t.elapsed().as_secs_f64() * 1e3);
        }
        println!(
            "full dashboard (all panels, all brands, range {range:?}): p50 {:.2} ms, p99 {:.2} ms over {} runs",
            pct(&mut runs.clone(), 0.5),
            pct(&mut runs.clone(), 0.99),
            runs.len()
        );
    }
    if store_orders > 0 {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(store_bench(store_orders, brands, now));
    }
}

async fn store_bench(n: u64, brands: Vec<opsdeck_domain::Brand>, now: i64) {
    let dir = std::env::temp_dir().join(format!("opsdeck-metrics-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}", dir.join("bench.db").display());
    let store = opsdeck_store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let t0 = Instant::now();
    let recs = world(3, &brands, n, 0, 730, now);
    for c in recs.chunks(5_000) {
        store.upsert(c, None).await.unwrap();
    }
    drop(recs);
    println!(
        "store: {n} orders written to SQLite in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    let t1 = Instant::now();
    let p = Projection::build(store.as_ref(), brands.clone(), SubscriptionRules::default())
        .await
        .unwrap();
    println!(
        "projection build from the store (changes_since, paged): {:.1} s",
        t1.elapsed().as_secs_f64()
    );
    let now_ts = Timestamp::from_second(now).unwrap();
    let cfg = PanelConfig::default();
    let mut eng = vec![];
    for _ in 0..50 {
        let t = Instant::now();
        let s = panels::sales::sales(&p, &cfg, None, Range::Days { days: 30 }, now_ts);
        let f: Vec<_> = (0..3)
            .map(|b| panels::fulfillment::fulfillment(&p, b, now_ts))
            .collect();
        std::hint::black_box((&s, &f));
        eng.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let from_us = (now - 30 * 86_400) * 1_000_000;
    let mut sql = vec![];
    for _ in 0..5 {
        let t = Instant::now();
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT brand_id, created_at_us / 86400000000, COUNT(*), \
             COALESCE(SUM(CASE WHEN cancelled_at_us IS NULL THEN total_minor END), 0) \
             FROM orders WHERE NOT test AND created_at_us >= ? GROUP BY 1, 2",
        )
        .bind(from_us)
        .fetch_all(&pool)
        .await
        .unwrap()
        .into_iter()
        .map(|(b, d, c, r): (String, i64, i64, i64)| (b, d, c, r))
        .collect();
        let open: Vec<(String, i64)> = sqlx::query_as(
            "SELECT brand_id, COUNT(*) FROM orders WHERE NOT test AND cancelled_at_us IS NULL \
             AND fulfillment_status IN ('unfulfilled', 'partial') GROUP BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap();
        std::hint::black_box((&rows, &open));
        sql.push(t.elapsed().as_secs_f64() * 1e3);
    }
    let (e, s) = (pct(&mut eng, 0.5), pct(&mut sql, 0.5));
    println!("core numbers (30-day orders/revenue per brand per day + open orders): engine p50 {e:.3} ms, plain SQL p50 {s:.1} ms, ratio {:.0}x", s / e);
    let _ = std::fs::remove_dir_all(&dir);
}
