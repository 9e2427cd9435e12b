//! Benchmark of the projection and the full dashboard. Prints figures; no
//! assertions. Run with --release:
//!
//! `cargo run --release -p opsdeck-metrics --example bench -- ORDERS TICKETS [STORE_ORDERS]`
//!
//! Builds the projection from generated changes (streamed in chunks),
//! measures its memory as the heap bytes it holds (a counting global
//! allocator: bytes live after the build, generator batches dropped, minus
//! bytes live before), times one change, times the full dashboard (all
//! panels, all brands) and each panel over many runs, and, when
//! `STORE_ORDERS` > 0, loads that many orders into a SQLite store, builds the
//! projection from it and compares the core numbers with plain SQL.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark aborts on a setup failure; there is nothing to recover"
)]

#[path = "../tests/support/gen.rs"]
mod gen;

use gen::{brand, order, ticket, world, Rng};
use opsdeck_domain::{BrandKind, Timestamp};
use opsdeck_metrics::panels::{self, PanelConfig, Range};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::AnyRecord;
use stats_alloc::{StatsAlloc, INSTRUMENTED_SYSTEM};
use std::alloc::System;
use std::time::Instant;

/// The system allocator, counting the bytes allocated and freed.
#[global_allocator]
static ALLOC: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Bytes currently allocated on the heap. `stats_alloc` already adds a
/// realloc's growth to `bytes_allocated` (and a shrink to
/// `bytes_deallocated`); `bytes_reallocated` is the same change again, so
/// adding it (as this bench did before) counted every growing vector twice
/// — the generator's ticket batch alone showed as ~4 kB per ticket.
fn live_bytes() -> isize {
    let s = ALLOC.stats();
    s.bytes_allocated as isize - s.bytes_deallocated as isize
}

fn pct(v: &mut [f64], q: f64) -> f64 {
    v.sort_by(f64::total_cmp);
    v[((v.len() as f64 - 1.0) * q).round() as usize]
}

/// p50 and p99 (ms) of `runs` timings of `f`.
fn time_ms(runs: usize, mut f: impl FnMut()) -> (f64, f64) {
    let mut v: Vec<f64> = (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1e3
        })
        .collect();
    (pct(&mut v, 0.5), pct(&mut v, 0.99))
}

/// One timed change, a function of its own so a profiler can single it
/// out (`valgrind --tool=callgrind --toggle-collect='*apply_one_change*'`).
#[inline(never)]
fn apply_one_change(p: &mut Projection, r: &AnyRecord) {
    p.apply_record(r);
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .unwrap_or_default()
        .split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
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
    let heap0 = live_bytes();
    let chunk = 200_000u64;
    let (mut gen_time, mut apply_time) = (0.0, 0.0);
    let mut done = 0;
    while done < orders {
        let n = chunk.min(orders - done);
        let t0 = Instant::now();
        let mut recs = world(done + 1, &brands, n, 0, days, now);
        let mut mail = Rng::new(done + 3);
        for (i, r) in recs.iter_mut().enumerate() {
            if let AnyRecord::Order(o) = r {
                let g = done + i as u64;
                o.external_id = g.to_string();
                o.number = Some(g as i64 + 1000);
                o.name = format!("#{}", g + 1000);
                // Customers over the whole run: a few loyal ones with many
                // orders, most with one to three (as `gen::order` does per batch).
                o.email = Some(format!("c{}@example.com", mail.below(1 + g / 3)));
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
    let heap_orders = (live_bytes() - heap0) as f64;
    let t1 = Instant::now();
    // Tickets about these orders: quoted numbers and customers' e-mails
    // match orders of the run.
    let mut trng = Rng::new(7);
    let live: Vec<_> = brands.iter().filter(|b| b.launched).collect();
    let trecs: Vec<AnyRecord> = (0..tickets)
        .flat_map(|i| {
            let b = &live[trng.below(live.len() as u64) as usize].id;
            let created = now - trng.below((days * 86_400) as u64) as i64 - 1;
            ticket(&mut trng, b, i, created, now, orders)
        })
        .collect();
    gen_time += t1.elapsed().as_secs_f64();
    let t2 = Instant::now();
    for r in &trecs {
        p.apply_record(r);
    }
    let ticket_apply = t2.elapsed().as_secs_f64();
    drop(trecs);
    let risk_apply = risk_records(&mut p, &brands, orders, now);
    println!(
        "orders: {orders}, tickets: {tickets}, open: {} (generated in {gen_time:.1} s); load average {}",
        p.support.open.len(),
        load_average()
    );
    println!(
        "projection build from generated changes: orders {apply_time:.2} s ({:.2} us/order), tickets {ticket_apply:.2} s",
        apply_time * 1e6 / orders as f64
    );
    println!(
        "projection memory (heap bytes held for the orders, batches dropped): {:.0} MB = {:.0} bytes/order = {:.0} MB per million orders; with tickets: {:.0} MB",
        heap_orders / 1e6,
        heap_orders / orders as f64,
        heap_orders / orders as f64,
        (live_bytes() - heap0) as f64 / 1e6
    );
    memory_by_part(&p, orders, tickets);
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
        apply_one_change(&mut p, r);
        each.push(t.elapsed().as_secs_f64() * 1e6);
    }
    println!(
        "apply one change (order update): p50 {:.2} us, p99 {:.2} us, mean {:.2} us",
        pct(&mut each.clone(), 0.5),
        pct(&mut each.clone(), 0.99),
        each.iter().sum::<f64>() / each.len() as f64
    );
    let cfg = PanelConfig::default();
    risk_lookups(&p, &cfg, orders, risk_apply);
    for range in [
        Range::Today,
        Range::Days { days: 7 },
        Range::Days { days: 30 },
        Range::Days { days: 90 },
    ] {
        let (p50, p99) = time_ms(100, || {
            std::hint::black_box(panels::dashboard(&p, &cfg, range, now_ts));
        });
        println!(
            "full dashboard (all panels, all brands, range {range:?}): p50 {p50:.3} ms, p99 {p99:.3} ms over 100 runs"
        );
        let live = 0..3u8;
        let each: [(&str, &dyn Fn()); 13] = [
            ("sales", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::sales::brand_sales(&p, b, range, now_ts));
                }
            }),
            ("pulse", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::pulse::pulse(&p, &cfg, b, now_ts));
                }
            }),
            ("fulfillment", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::fulfillment::fulfillment(&p, b, now_ts));
                }
            }),
            ("inventory", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::inventory::inventory(&p, &cfg, b, now_ts));
                }
            }),
            ("catalog", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::catalog::catalog(&p, b));
                }
            }),
            ("queue", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::support::queue(&p, b, cfg.week_start, now_ts));
                }
            }),
            ("csat", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::support::csat(&p, b, range, now_ts));
                }
            }),
            ("times", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::support::times(&p, b, range, now_ts));
                }
            }),
            ("top_issues", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::support::top_issues(&p, b, range, now_ts));
                }
            }),
            ("urgent", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::urgent::urgent(&p, &cfg, b, now_ts));
                }
            }),
            ("urgent_all_brands", &|| {
                std::hint::black_box(panels::urgent::urgent(
                    &p,
                    &cfg,
                    panels::support::ALL_BRANDS,
                    now_ts,
                ));
            }),
            ("wismo", &|| {
                for b in live.clone() {
                    std::hint::black_box(panels::wismo::wismo(&p, b, range, now_ts));
                }
            }),
            ("insights", &|| {
                std::hint::black_box(panels::brand_insights(&p, &cfg, None, now_ts));
            }),
        ];
        let parts: Vec<String> = each
            .iter()
            .map(|(name, f)| {
                let (p50, p99) = time_ms(30, f);
                format!("{name} {p50:.3}/{p99:.3}")
            })
            .collect();
        println!(
            "  per panel, 3 live brands, p50/p99 ms: {}",
            parts.join(", ")
        );
    }
    if store_orders > 0 {
        let rt = tokio::runtime::Runtime::new().unwrap();
        rt.block_on(store_bench(store_orders, brands, now));
    }
}

/// What the customer risk flags read beyond orders: a return request on 1
/// order in 20, a chargeback on 1 in 200, and the platform's lifetime
/// figures for 1 customer in 10. Returns the seconds applying them took.
fn risk_records(
    p: &mut Projection,
    brands: &[opsdeck_domain::Brand],
    orders: u64,
    now: i64,
) -> f64 {
    use opsdeck_domain::*;
    let shop = SourceId::parse("shop").unwrap();
    let at = Timestamp::from_second(now - 86_400).unwrap();
    let brand = brands[0].id.clone();
    let mut recs = Vec::new();
    for g in (0..orders).step_by(20) {
        recs.push(AnyRecord::ReturnRequest(ReturnRequest {
            source: shop.clone(),
            external_id: format!("rr{g}"),
            brand: brand.clone(),
            order_id: Some(g.to_string()),
            kind: ReturnKind::Return,
            status: ReturnStatus::Requested,
            amount: None,
            reason: None,
            requested_at: at,
            resolved_at: None,
            updated_at: at,
            status_history: Vec::new(),
        }));
    }
    for g in (0..orders).step_by(200) {
        recs.push(AnyRecord::PaymentEvent(PaymentEvent {
            source: shop.clone(),
            external_id: format!("cb{g}"),
            brand: brand.clone(),
            order_id: Some(g.to_string()),
            kind: PaymentEventKind::Chargeback,
            amount: None,
            reason: None,
            gateway: None,
            occurred_at: at,
            updated_at: at,
            dispute: None,
        }));
    }
    for c in (0..orders / 3).step_by(10) {
        recs.push(AnyRecord::CustomerSummary(CustomerSummary {
            source: shop.clone(),
            external_id: format!("cust{c}"),
            brand: brand.clone(),
            email: Some(format!("c{c}@example.com")),
            name: None,
            order_count: 4,
            lifetime_spend: Money::new(600_000, Currency::USD),
            tags: Vec::new(),
            created_at: at,
            updated_at: at,
        }));
    }
    let t = Instant::now();
    for r in &recs {
        p.apply_record(r);
    }
    t.elapsed().as_secs_f64()
}

/// One customer's risk flags, looked up from random orders (what a queue
/// item, an approval or an order page does), and for the customer with
/// the most orders.
fn risk_lookups(p: &Projection, cfg: &PanelConfig, orders: u64, apply_secs: f64) {
    use opsdeck_metrics::customers::{customer_risk, CustomerOf};
    use opsdeck_metrics::projection::keys::record_key;
    let mut rng = Rng::new(5);
    let (mut each, mut flagged, mut walked) = (Vec::new(), 0usize, 0u64);
    for _ in 0..100_000 {
        let key = record_key("shop", &rng.below(orders).to_string());
        let t = Instant::now();
        let risk = std::hint::black_box(customer_risk(p, cfg, CustomerOf::OrderKey(key)));
        each.push(t.elapsed().as_secs_f64() * 1e6);
        if let Some(r) = risk {
            flagged += usize::from(!r.flags.is_empty());
            walked += r.orders;
        }
    }
    let heaviest = p
        .orders
        .rows
        .of_customer(opsdeck_metrics::projection::keys::email_key(Some(
            "c0@example.com",
        )))
        .count();
    let (p50, p99) = time_ms(100, || {
        std::hint::black_box(customer_risk(p, cfg, CustomerOf::Email("c0@example.com")));
    });
    println!(
        "customer risk: applying its records {apply_secs:.2} s; lookup by order (100,000 random orders, {:.1} orders per customer on average, {flagged} flagged): p50 {:.2} us, p99 {:.2} us; the customer with the most orders ({heaviest}): p50 {:.3} ms, p99 {:.3} ms; kept for it {:.1} bytes/order",
        walked as f64 / 100_000.0,
        pct(&mut each.clone(), 0.5),
        pct(&mut each, 0.99),
        p50,
        p99,
        held(&p.customers) / orders as f64,
    );
}

/// Heap bytes a value holds: the bytes its clone allocates (a clone is
/// allocated tight, so this is what the value needs, not its spare capacity).
fn held<T: Clone>(v: &T) -> f64 {
    let before = live_bytes();
    let c = std::hint::black_box(v.clone());
    let bytes = live_bytes() - before;
    drop(c);
    bytes as f64
}

/// Where the projection's bytes go, per order and per ticket.
fn memory_by_part(p: &Projection, orders: u64, tickets: u64) {
    let o = &p.orders;
    let per = |b: f64| b / orders as f64;
    println!(
        "  orders, bytes/order: rows {:.0} (lines, shipments, number and customer indexes included), sales series {:.0}, days {:.0}, carriers {:.0}, skus {:.0}, open {:.0}, order extras {:.0}",
        per(held(&o.rows)),
        per(held(&o.sales)),
        per(held(&o.days)),
        per(held(&o.carriers)),
        per(held(&o.skus)),
        per(held(&o.open)),
        per(held(&p.ops.order_extras)),
    );
    let s = &p.support;
    let per = |b: f64| b / tickets.max(1) as f64;
    println!(
        "  support, bytes/ticket: tickets {:.0}, message→ticket {:.0}, open {:.0}, inquiries {:.0}, chains {:.0}, ticket index {:.0}, wismo days {:.0}, surveys {:.0}, rollups {:.0}; symbols {:.0} MB ({} texts)",
        per(held(&s.tickets)),
        per(held(&s.message_ticket)),
        per(held(&s.open)),
        per(held(&s.inquiries)),
        per(held(&s.chains)),
        per(held(&s.ticket_numbers) + held(&s.ticket_emails)),
        per(held(&s.wismo_days)),
        per(held(&s.surveys)),
        per(held(&s.days)
            + held(&s.snoozes)
            + held(&s.first_response)
            + held(&s.resolution)
            + held(&s.tags)
            + held(&s.clusters)
            + held(&s.details)
            + held(&s.scores)),
        held(&p.syms) / 1e6,
        p.syms.len(),
    );
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
