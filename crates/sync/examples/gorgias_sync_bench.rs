//! Requests and wall time of a first and an incremental Gorgias sync
//! against the simulated helpdesk at Gorgias's call limit (40 calls per
//! 20 s), for docs/benchmarks.md.
//!
//! ```text
//! cargo run --release -p opsdeck-sync --example gorgias_sync_bench -- \
//!     [scale=1.0] [window_ms=20000] [hours=24]
//! ```
//!
//! `scale` 1.0 is the demo's helpdesk (~6,470 tickets); `window_ms` is the
//! window the 40 calls drain over (20,000 is Gorgias's; a smaller one is a
//! faster clock: the request counts stay, the wall time shrinks by the
//! same factor); `hours` is how far the clock moves before the incremental
//! run. Prints one line per run.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark aborts on a setup failure; there is nothing to recover"
)]

use jiff::{SignedDuration, Timestamp};
use opsdeck_domain::{Secret, SourceId};
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_sources::{GorgiasClient, GorgiasSettings};
use opsdeck_store::testing::sqlite_store;
use opsdeck_sync::{sync_gorgias, GorgiasConnector, GorgiasResource};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: f64| {
        args.get(i)
            .and_then(|a| a.parse::<f64>().ok())
            .unwrap_or(default)
    };
    let (scale, window_ms, hours) = (arg(0, 1.0), arg(1, 20_000.0), arg(2, 24.0));
    let window = Duration::from_millis(window_ms as u64);
    let start: Timestamp = "2026-05-04T14:00:00Z".parse().unwrap();
    let sim = Simulator::new(SimConfig {
        seed: 42,
        now: start,
        scale,
    });
    sim.set_gorgias_window(window);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sim.clone();
    tokio::spawn(async move { serving.serve(listener, std::future::pending()).await });

    let (user, key) = sim.gorgias_credentials();
    let mut settings = GorgiasSettings::new(
        SourceId::parse("gorgias").unwrap(),
        "acme",
        user,
        Secret::new(key),
    )
    .unwrap();
    settings.base_url = Url::parse(&Simulator::gorgias_base_url(addr)).unwrap();
    settings.rate_window = window;
    let connector = GorgiasConnector::new(
        Arc::new(GorgiasClient::new(settings).unwrap()),
        vec![],
        vec![],
    );
    let store = sqlite_store().await;
    let tickets = sim.tickets_json().len();
    let messages = sim.messages_json().len();
    let surveys = sim.surveys_json().len();
    println!(
        "helpdesk: {tickets} tickets, {messages} messages, {surveys} surveys; \
         40 calls per {window_ms} ms window"
    );

    let run = |label: &'static str, now: Timestamp| {
        let sim = sim.clone();
        let store = store.store.clone();
        let connector = &connector;
        async move {
            let before = sim.gorgias_request_count();
            let refused = sim.gorgias_refused_count();
            let began = Instant::now();
            let mut records = 0u64;
            for resource in GorgiasResource::ALL {
                let run = sync_gorgias(connector, store.as_ref(), resource, now)
                    .await
                    .unwrap();
                records += run.tickets + run.messages + run.surveys;
            }
            let elapsed = began.elapsed();
            let requests = sim.gorgias_request_count() - before;
            let scaled = elapsed.as_secs_f64() * 20_000.0 / window_ms;
            println!(
                "{label}: {requests} requests ({} refused with 429), {records} records, \
                 {:.1} s wall ({scaled:.0} s at 40 per 20 s)",
                sim.gorgias_refused_count() - refused,
                elapsed.as_secs_f64()
            );
        }
    };
    run("first sync", start).await;
    let later = start
        .checked_add(SignedDuration::from_secs((hours * 3600.0) as i64))
        .unwrap();
    sim.advance_to(later);
    let changed = sim
        .tickets_json()
        .iter()
        .filter(|t| {
            opsdeck_sources::gorgias::normalize::parse_time(
                t["updated_datetime"].as_str().unwrap_or_default(),
            )
            .is_some_and(|u| u > start)
        })
        .count();
    println!("{hours} h later: {changed} tickets changed");
    run("incremental", later).await;
}
