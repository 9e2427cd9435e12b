//! Webhook intake throughput with durable commits: the real application on
//! loopback, N concurrent senders posting signed `orders/updated` webhooks of
//! ~10 KB. Prints events/s, the latency of the 200 answer (p50/p99/max), and
//! how long the inbox worker takes to apply everything. No assertions.
//!
//!     cargo run --release -p opsdeck --example webhook_bench [EVENTS] [CLIENTS]
//!
//! The senders run in a second process (this program re-run with
//! `--client`), so the figures are the server's alone.
//!
//! SQLite always; PostgreSQL too when `OPSDECK_TEST_POSTGRES_URL` is set.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark aborts on a setup failure; there is nothing to recover"
)]

use jiff::Timestamp;
use opsdeck::app;
use opsdeck::demo::demo_config;
use opsdeck_domain::Secret;
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_sources::shopify::webhooks::sign;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

const SECRET: &str = "bench-secret";
/// Distinct orders the events cycle over (each event a newer version).
const ORDERS: u64 = 2_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The 1, 5 and 15 minute load averages: the machine is shared, and its
/// load moves these figures more than most code changes do.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

/// CPU seconds (user and system) this process has used so far (Linux
/// `/proc/self/stat`, in clock ticks of 10 ms; 0 elsewhere). The client
/// process is not counted. Less moved by the machine's load than events/s.
fn cpu_seconds() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the parenthesised command name; utime and stime
            // are the 14th and 15th of the whole line.
            let rest = stat.rsplit_once(')')?.1;
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks: f64 =
                fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
            Some(ticks / 100.0)
        })
        .unwrap_or(0.0)
}

/// Bytes this process has caused to be written to storage so far (Linux
/// `/proc/self/io`; 0 elsewhere): the database and its WAL, checkpoints
/// included.
fn bytes_written() -> u64 {
    std::fs::read_to_string("/proc/self/io")
        .ok()
        .and_then(|io| {
            io.lines()
                .find_map(|l| l.strip_prefix("write_bytes: "))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// An orders/updated payload of about 10 KB (8 KB or more): a simulator order with enough
/// line items.
fn payload_template(simulator: &Simulator) -> serde_json::Value {
    let orders = simulator.orders_json("plentum");
    let mut order = orders
        .iter()
        .max_by_key(|o| o.to_string().len())
        .cloned()
        .expect("orders");
    let lines = order["line_items"].as_array().cloned().unwrap_or_default();
    let mut all = lines.clone();
    let mut n = 0;
    while serde_json::to_vec(&order).unwrap().len() < 8_000 && !lines.is_empty() {
        let mut extra = lines[n % lines.len()].clone();
        extra["id"] = serde_json::json!(9_000_000_000_000u64 + n as u64);
        all.push(extra);
        order["line_items"] = serde_json::Value::Array(all.clone());
        n += 1;
    }
    order
}

async fn run(label: &str, database_url: String, events: u64, clients: u64) {
    let now: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let simulator = Simulator::new(SimConfig {
        seed: 1,
        now,
        scale: 0.05,
    });
    let mut config = demo_config(
        &simulator.shops(),
        "127.0.0.1:9".parse().unwrap(),
        "127.0.0.1:0".parse().unwrap(),
        database_url,
        Duration::from_secs(3600),
    )
    .unwrap();
    config
        .shopify
        .retain(|s| s.shop_domain == "plentum.myshopify.com");
    config.shopify[0].webhook_secret = Some(Secret::new(SECRET));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let running = app::start(&config, listener, app::system_clock())
        .await
        .unwrap();
    let url = format!("http://{}/webhooks/shopify", running.addr);
    // The senders run in their own process, so their CPU is not the
    // server's (this machine has few cores).
    let load_before = load_average();
    let written_before = bytes_written();
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let output = tokio::task::spawn_blocking(move || {
        std::process::Command::new(std::env::current_exe().unwrap())
            .args(["--client", &url, &events.to_string(), &clients.to_string()])
            .stderr(std::process::Stdio::inherit())
            .output()
    })
    .await
    .unwrap()
    .expect("client process");
    assert!(output.status.success(), "client process failed");
    let figures: Vec<f64> = String::from_utf8(output.stdout)
        .unwrap()
        .split_whitespace()
        .map(|f| f.parse().unwrap())
        .collect();
    let [n, intake, p50, p99, max, size] = figures[..] else {
        panic!("client printed {figures:?}")
    };
    // Receipt to applied: wait for the inbox worker to drain.
    loop {
        let stats = running.store.webhook_stats().await.unwrap();
        if stats.pending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let applied = started.elapsed().as_secs_f64();
    let written = bytes_written().saturating_sub(written_before) as f64;
    let cpu = cpu_seconds() - cpu_before;
    println!(
        "{label}: {n} events of {size} B from {clients} clients (separate process): {:.0} \
         events/s accepted (200 latency p50 {p50:.1} ms, p99 {p99:.1} ms, max {max:.1} ms); \
         all applied {applied:.2} s after the client started ({:.0} events/s end to end); \
         server CPU {:.0} µs per event; {:.1} KB written to storage per event; load average \
         {load_before} before, {} after",
        n / intake,
        n / applied,
        cpu / n * 1e6,
        written / n / 1024.0,
        load_average(),
    );
    running.stop().await.unwrap();
}

/// The sending side, in its own process: signs every body up front, posts
/// them from `clients` concurrent connections and prints
/// `events intake_seconds p50_ms p99_ms max_ms body_bytes`.
async fn client(url: String, events: u64, clients: u64) {
    let now: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let simulator = Simulator::new(SimConfig {
        seed: 1,
        now,
        scale: 0.05,
    });
    let template = payload_template(&simulator);
    let size = serde_json::to_vec(&template).unwrap().len();

    // Bodies signed up front: the figures are the server's, not the signing's.
    let per_client = events / clients;
    let mut work = Vec::new();
    for c in 0..clients {
        let mut bodies = Vec::with_capacity(per_client as usize);
        for i in 0..per_client {
            let n = c * per_client + i;
            let mut order = template.clone();
            order["id"] = serde_json::json!(7_000_000_000_000u64 + n % ORDERS);
            let updated = now
                .checked_add(jiff::SignedDuration::from_millis(n as i64))
                .unwrap();
            order["updated_at"] = serde_json::json!(updated.to_string());
            let body = serde_json::to_vec(&order).unwrap();
            let signature = sign(SECRET.as_bytes(), &body);
            bodies.push((format!("bench-{n}"), signature, body));
        }
        work.push(bodies);
    }
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(clients as usize)
        .build()
        .unwrap();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for bodies in work {
        let (client, url) = (client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(bodies.len());
            for (id, signature, body) in bodies {
                let t = Instant::now();
                let response = client
                    .post(&url)
                    .header("X-Shopify-Topic", "orders/updated")
                    .header("X-Shopify-Hmac-Sha256", signature)
                    .header("X-Shopify-Shop-Domain", "plentum.myshopify.com")
                    .header("X-Shopify-Webhook-Id", id)
                    .header("X-Shopify-API-Version", "2025-07")
                    .body(body)
                    .send()
                    .await
                    .expect("send");
                assert_eq!(response.status(), 200);
                let _ = response.bytes().await;
                latencies.push(t.elapsed());
            }
            latencies
        }));
    }
    let mut latencies = Vec::new();
    for t in tasks {
        latencies.extend(t.await.unwrap());
    }
    let intake = started.elapsed();
    latencies.sort_unstable();
    let n = latencies.len() as f64;
    println!(
        "{n} {} {} {} {} {size}",
        intake.as_secs_f64(),
        percentile(&latencies, 0.5).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
}

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1).peekable();
    if args.peek().map(String::as_str) == Some("--client") {
        args.next();
        let url = args.next().expect("url");
        let events = args.next().and_then(|a| a.parse().ok()).expect("events");
        let clients = args.next().and_then(|a| a.parse().ok()).expect("clients");
        return client(url, events, clients).await;
    }
    let events: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let clients: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(32);
    let (_, guard) = opsdeck_store::testing::sqlite_temp().await;
    let url = format!("sqlite:{}", guard.dir().join("bench.db").display());
    run("sqlite (WAL, synchronous=FULL)", url, events, clients).await;
    if let Some(pg) = opsdeck_store::testing::postgres_store().await {
        run("postgresql", pg.url.clone(), events, clients).await;
    }
}
