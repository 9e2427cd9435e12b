//! An orders backfill by GraphQL bulk operation beside today's REST
//! backfill of the same shop, against the simulator over real HTTP into a
//! fresh SQLite store (WAL, `synchronous=FULL`), for docs/benchmarks.md.
//!
//! ```text
//! cargo run --release -p opsdeck-sync --example bulk_backfill_bench -- bulk [scale=22.5]
//! cargo run --release -p opsdeck-sync --example bulk_backfill_bench -- rest [scale=3]
//! ```
//!
//! The simulator runs in a second process (this program re-run with
//! `--server SCALE`), so its CPU and memory are not in the figures: it
//! prints the shop's address and credentials on its first line, then
//! answers `requests` on its standard input with the shop's request count
//! and its own peak memory, and exits when its standard input closes.
//!
//! Run each mode in its own process: peak memory (`VmHWM` of
//! `/proc/self/status`) only ever grows, so a second run in the same process
//! would show the first's peak; the RSS before the run is printed beside
//! it. The shop is the simulator's busiest (seed 42, `mavena`); `scale`
//! sets its size (22.5: ~100,000 orders, 225: ~1,000,000). Both APIs run at
//! the simulator's limits, Shopify's Standard plan: REST 2 requests/s after
//! a burst of 40, GraphQL 100 points/s (a bulk operation's few queries cost
//! a point or so each). A REST backfill of 100,000 orders takes minutes:
//! run it on a smaller scale and extrapolate by its requests (printed).
//!
//! Measured 2026-12-07 (release, load average 5–8, bulk at scale 22.5,
//! follow-ups included): 100,170 orders in 253.5 s wall, 3,200 requests
//! (3,174 of them follow-ups: 3.2 % of orders), 25,743 points, 395
//! orders/s, 179 µs of opsdeck CPU per order, peak RSS 31 MiB (10 before).
//! The follow-ups' points (~257 s at 100 points/s) are the wall time.
//! REST, same session, scale 3: 13,356 orders in 28.0 s, 56 requests,
//! 478 orders/s, 236 µs per order, peak 45 MiB; at 100,170 orders ≥ 182 s
//! by its ~403 requests at 2/s (docs/benchmarks.md).
//!
//! Measured 2026-12-08 with the fulfillment orders' bulk file beside the
//! orders' (release, load 5–8, scale 22.5): 100,170 orders in 120.1 s
//! wall, 38 requests, 66 points, 0 follow-ups (3,174 orders joined from
//! the second file), 834 orders/s, 169 µs of opsdeck CPU per order, peak
//! RSS 26 MiB; of 113 s on the files, 39.6 s in SQLite commits and 71.8 s
//! waiting for the reader task. REST, scale 3: 22.1 s, 56 requests, 605
//! orders/s, peak 47 MiB.
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
use std::io::{BufRead, BufReader, Write};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

/// The moment the simulated history ends.
const NOW: &str = "2026-05-04T14:00:00Z";

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

/// CPU seconds (user and system) this process has used so far (Linux
/// `/proc/self/stat`, in ticks of 10 ms; 0 elsewhere): less moved by the
/// machine's load than wall time.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks: f64 =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// The 1, 5 and 15 minute load averages: the machine is shared, and its
/// load moves these figures more than most code changes do.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// The simulator's side, in its own process: builds the world, serves it,
/// prints `addr slug brand currency token orders build_seconds`, then
/// answers each `requests` line with `requests peak_kib` until its input
/// closes.
async fn server(scale: f64) {
    let built = Instant::now();
    let sim = Simulator::new(SimConfig {
        seed: 42,
        now: NOW.parse().unwrap(),
        scale,
    });
    let shop = sim
        .shops()
        .into_iter()
        .max_by_key(|s| sim.order_count(&s.slug))
        .expect("a shop");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sim.clone();
    tokio::spawn(async move { serving.serve(listener, std::future::pending()).await });
    println!(
        "{addr} {} {} {} {} {} {:.1}",
        shop.slug,
        shop.brand_id,
        shop.currency,
        shop.access_token,
        sim.order_count(&shop.slug),
        built.elapsed().as_secs_f64()
    );
    std::io::stdout().flush().unwrap();
    let slug = shop.slug.clone();
    tokio::task::spawn_blocking(move || {
        for line in std::io::stdin().lock().lines() {
            if line.unwrap().trim() == "requests" {
                println!("{} {}", sim.request_count(&slug), status_kib("VmHWM:"));
                std::io::stdout().flush().unwrap();
            }
        }
    })
    .await
    .unwrap();
}

/// The simulator process as the benchmark talks to it.
struct SimProcess {
    input: ChildStdin,
    output: BufReader<ChildStdout>,
}

impl SimProcess {
    /// The shop's request count and the simulator's peak memory (KiB).
    fn requests(&mut self) -> (u64, u64) {
        writeln!(self.input, "requests").unwrap();
        self.input.flush().unwrap();
        let mut line = String::new();
        self.output.read_line(&mut line).unwrap();
        let mut figures = line.split_whitespace().map(|f| f.parse().unwrap());
        (figures.next().unwrap(), figures.next().unwrap())
    }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("--server") {
        let scale = args.get(1).and_then(|a| a.parse().ok()).expect("scale");
        return server(scale).await;
    }
    let mode = args.first().map_or("bulk", String::as_str).to_string();
    let default_scale = if mode == "rest" { 3.0 } else { 22.5 };
    let scale = args
        .get(1)
        .and_then(|a| a.parse::<f64>().ok())
        .unwrap_or(default_scale);

    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--server", &scale.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("simulator process");
    let mut sim = SimProcess {
        input: child.stdin.take().unwrap(),
        output: BufReader::new(child.stdout.take().unwrap()),
    };
    let mut first = String::new();
    sim.output.read_line(&mut first).unwrap();
    let [addr, slug, brand, currency, token, orders_served, built] =
        first.split_whitespace().collect::<Vec<_>>()[..]
    else {
        panic!("the simulator printed {first:?}")
    };
    println!(
        "shop {slug}: {orders_served} orders (scale {scale}), simulator built in {built} s \
         in its own process"
    );

    let mut settings = ShopifySettings::new(
        SourceId::parse(&format!("shopify-{slug}")).unwrap(),
        BrandId::parse(brand).unwrap(),
        Currency::parse(currency).unwrap(),
        "unused.myshopify.com",
        Secret::new(token.to_string()),
    )
    .unwrap();
    settings.base_url = Url::parse(&Simulator::shop_base_url(addr.parse().unwrap(), slug)).unwrap();
    settings.request_timeout = Duration::from_secs(60);
    let store = sqlite_store().await;
    let start: Timestamp = NOW.parse().unwrap();
    let rss_before = status_kib("VmRSS:");
    let (requests_before, _) = sim.requests();
    let load_before = load_average();
    let cpu_before = cpu_seconds();
    let began = Instant::now();
    let (orders, lines) = match mode.as_str() {
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
            println!(
                "rest: {} pages, {} rate-limit waits",
                run.pages, run.calls.rate_limit_waits
            );
            (run.records(), None)
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
            let follow_ups = run.follow_up_queries;
            let reading = run.reading.as_secs_f64();
            println!(
                "bulk: {} objects in the file, {} pages committed, {} polls, {follow_ups} \
                 follow-up queries, {:.1} points spent, {} throttled; at most {} KiB of the \
                 file held; the file read and stored in {reading:.1} s: {:.0} orders/s, \
                 {:.0} lines/s",
                run.objects,
                run.pages,
                run.polls,
                run.stats.points_spent,
                run.stats.throttled,
                run.peak_buffered / 1024,
                run.records() as f64 / reading,
                run.objects as f64 / reading,
            );
            println!(
                "bulk: {} orders followed up (lines the file cannot carry) by {} queries, {} points",
                run.followed_up, run.follow_up_queries, run.follow_up_points
            );
            println!(
                "bulk: {} orders given their units shipped by the fulfillment orders' file \
                 (operation {})",
                run.detail_joined,
                run.detail_operation.as_deref().unwrap_or("none")
            );
            println!(
                "bulk: of the {reading:.1} s reading, {:.1} s committing pages to SQLite, \
                 {:.1} s waiting for the reader task (download, parse, normalize, join), \
                 {:.1} s on follow-up queries and the rest; the wall time beyond the \
                 reading waits for the operations to run",
                run.writing.as_secs_f64(),
                run.waiting_for_pages.as_secs_f64(),
                run.reading
                    .saturating_sub(run.writing + run.waiting_for_pages)
                    .as_secs_f64(),
            );
            (run.records(), Some(run.objects))
        }
    };
    let wall = began.elapsed().as_secs_f64();
    let cpu = cpu_seconds() - cpu_before;
    let (requests_after, sim_peak) = sim.requests();
    let requests = requests_after - requests_before;
    let lines = lines.map_or(String::new(), |l| {
        format!(" ({l} lines, {:.0} lines/s)", l as f64 / wall)
    });
    println!(
        "{mode}: {orders} orders{lines}, {wall:.1} s wall, {requests} requests, {:.0} orders/s; \
         opsdeck CPU {cpu:.1} s ({:.0} µs per order); RSS {} MiB before the run, peak {} MiB \
         (simulator process: peak {} MiB); load average {load_before} before, {} after",
        orders as f64 / wall,
        cpu / orders.max(1) as f64 * 1e6,
        rss_before / 1024,
        status_kib("VmHWM:") / 1024,
        sim_peak / 1024,
        load_average(),
    );
    drop(sim);
    child.wait().unwrap();
}
