//! An orders backfill by GraphQL bulk operation beside today's REST
//! backfill of the same shop, against the simulator over real HTTP into a
//! fresh SQLite store, for docs/benchmarks.md.
//!
//! ```text
//! cargo run --release -p opsdeck-sync --example bulk_backfill_bench -- bulk [scale=22.5]
//! cargo run --release -p opsdeck-sync --example bulk_backfill_bench -- rest [scale=3]
//! ```
//!
//! Run each mode in its own process: peak memory (`VmHWM` of
//! `/proc/self/status`) only ever grows, so a second run in the same process
//! would show the first's peak. The figure includes the simulator, which
//! lives in the same process; the RSS before the run is printed beside it.
//! The shop is the simulator's busiest; `scale` sets its size (22.5: 100,170
//! orders). REST runs at its real limit (2 requests/s after a burst
//! of 40), so a REST backfill of 100,000 orders takes minutes: run it on a
//! smaller scale and extrapolate by its requests (printed).
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark aborts on a setup failure; there is nothing to recover"
)]

use jiff::Timestamp;
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_sources::shopify::graphql::{CostBucket, GraphqlClient, GRAPHQL_API_VERSION};
use opsdeck_sources::{ShopifyClient, ShopifySettings};
use opsdeck_store::testing::sqlite_store;
use opsdeck_sync::shopify::bulk::{backfill_orders, BulkSettings};
use opsdeck_sync::{sync_once, ShopifyResource};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// A line of /proc/self/status in KiB (`VmRSS`, `VmHWM`).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mode = args.first().map_or("bulk", String::as_str).to_string();
    let default_scale = if mode == "rest" { 3.0 } else { 22.5 };
    let scale = args
        .get(1)
        .and_then(|a| a.parse::<f64>().ok())
        .unwrap_or(default_scale);
    let start: Timestamp = "2026-05-04T14:00:00Z".parse().unwrap();
    let built = Instant::now();
    let sim = Simulator::new(SimConfig {
        seed: 42,
        now: start,
        scale,
    });
    let shop = sim
        .shops()
        .into_iter()
        .max_by_key(|s| sim.order_count(&s.slug))
        .expect("a shop");
    let slug = shop.slug.clone();
    println!(
        "shop {slug}: {} orders (scale {scale}), simulator built in {:.1} s",
        sim.order_count(&slug),
        built.elapsed().as_secs_f64()
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sim.clone();
    tokio::spawn(async move { serving.serve(listener, std::future::pending()).await });

    let mut settings = ShopifySettings::new(
        SourceId::parse(&format!("shopify-{slug}")).unwrap(),
        BrandId::parse(&shop.brand_id.to_string()).unwrap(),
        Currency::parse(&shop.currency.to_string()).unwrap(),
        "unused.myshopify.com",
        Secret::new(shop.access_token.to_string()),
    )
    .unwrap();
    settings.base_url = Url::parse(&Simulator::shop_base_url(addr, &slug)).unwrap();
    settings.request_timeout = Duration::from_secs(60);
    let store = sqlite_store().await;
    let rss_before = status_kib("VmRSS:");
    let requests_before = sim.request_count(&slug);
    let began = Instant::now();
    let orders = match mode.as_str() {
        "rest" => {
            settings.page_size = 250;
            let client = ShopifyClient::new(settings).unwrap();
            let run = sync_once(
                &client,
                store.store.as_ref(),
                ShopifyResource::Orders,
                start,
            )
            .await
            .unwrap();
            println!("rest: {} pages", run.pages);
            run.records()
        }
        _ => {
            let client =
                GraphqlClient::new(settings, GRAPHQL_API_VERSION, Arc::new(CostBucket::new()))
                    .unwrap();
            let bulk = BulkSettings {
                poll_interval: Duration::from_millis(200),
                ..BulkSettings::default()
            };
            let run = backfill_orders(&client, store.store.as_ref(), &bulk, start, None)
                .await
                .unwrap();
            println!(
                "bulk: {} objects in the file, {} pages committed, {} polls, at most {} KiB of the file held",
                run.objects,
                run.pages,
                run.polls,
                run.peak_buffered / 1024
            );
            println!(
                "bulk: {} orders followed up (lines the file cannot carry) by {} queries, {} points",
                run.followed_up, run.follow_up_queries, run.follow_up_points
            );
            run.records()
        }
    };
    let wall = began.elapsed().as_secs_f64();
    let requests = sim.request_count(&slug) - requests_before;
    println!(
        "{mode}: {orders} orders, {wall:.1} s wall, {requests} requests, {:.0} orders/s, \
         RSS {} MiB before the run, peak {} MiB",
        orders as f64 / wall,
        rss_before / 1024,
        status_kib("VmHWM:") / 1024
    );
}
