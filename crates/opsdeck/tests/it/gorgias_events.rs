//! Gorgias HTTP-integration events over real HTTP, in the real application:
//! opsdeck on loopback with the simulated helpdesk configured (its first
//! polling sync done), then events POSTed to `/webhooks/gorgias`.
//!
//! - a wrong or missing secret is 401 and a bad body 400 with its reason,
//!   and neither stores anything;
//! - each `ticket-created` event for a new ticket shows in the dashboard
//!   API (`/api/v1/tickets`, the brand's tickets created today) without a
//!   sync; the test prints the time from POST to API, p50 and p99;
//! - a `ticket-message-created` event stores the message with its ticket's
//!   brand, and the same body twice is stored once;
//! - the simulated helpdesk's HTTP integration (as the demo sets it up)
//!   delivers a day of events, and every message it created is stored.

use crate::helpers;
use jiff::Timestamp;
use opsdeck::demo::{demo_config, demo_gorgias};
use opsdeck_domain::{Secret, SourceId};
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_store::AnyRecord;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "gorgias-events-test-secret";

/// Mavena's tickets created today, as the dashboard API reports them.
async fn created_today(client: &reqwest::Client, base: &str) -> i64 {
    let response = client
        .get(format!("{base}/api/v1/tickets?brand=mavena"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    body["brands"][0]["created_today"]
        .as_i64()
        .unwrap_or_else(|| panic!("no created_today in {body:#}"))
}

/// A new Mavena ticket (its top-issue tag claims it), created at `now`.
fn new_ticket(id: u64, now: Timestamp) -> Value {
    let at = now.strftime("%Y-%m-%dT%H:%M:%S%.6f").to_string();
    json!({
        "id": id,
        "status": "open",
        "channel": "email",
        "subject": "Website defaults to size 5.5",
        "tags": [{"id": 1, "name": "size-5.5"}],
        "customer": {"id": 77, "email": "latency@mail.example", "name": "Lat"},
        "created_datetime": at,
        "updated_datetime": at,
    })
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gorgias_events_reach_the_dashboard_without_a_sync() {
    let now: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let simulator = Simulator::new(SimConfig {
        seed: 5,
        now,
        scale: 0.02,
    });
    simulator.set_rate_limit(false);
    let sim_addr = helpers::serve_simulator(&simulator).await;
    let backend = opsdeck_store::testing::sqlite_store().await;
    let mut config = demo_config(
        &simulator.shops(),
        sim_addr,
        "127.0.0.1:0".parse().unwrap(),
        backend.url.clone(),
        Duration::from_secs(3600),
    )
    .unwrap();
    let mut gorgias = demo_gorgias(&simulator, sim_addr, Duration::from_secs(3600)).unwrap();
    gorgias.webhook_secret = Some(Secret::new(SECRET));
    config.gorgias = Some(gorgias);
    let running = helpers::start(&config, Arc::new(move || now)).await;
    let base = helpers::base(&running);
    let client = helpers::logged_in_client(&running, "ops", opsdeck_store::Role::Ops).await;
    let store = running.store.clone();
    let source = SourceId::parse("gorgias").unwrap();

    // The first polling round (tickets, messages, surveys) completes.
    let deadline = Instant::now() + Duration::from_secs(60);
    while store
        .sync_state(&source, "satisfaction_surveys")
        .await
        .unwrap()
        .and_then(|s| s.last_success_at)
        .is_none()
    {
        assert!(Instant::now() < deadline, "the first sync did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    let http = reqwest::Client::new();
    let post = |query: &str, secret_header: Option<&str>, body: String| {
        let mut request = http
            .post(format!("{base}/webhooks/gorgias{query}"))
            .header("content-type", "application/json")
            .body(body);
        if let Some(secret) = secret_header {
            request = request.header("X-Opsdeck-Secret", secret);
        }
        request.send()
    };
    let inbox = || async { store.webhook_stats().await.unwrap() };

    // Refused: nothing stored.
    let before = inbox().await;
    let event = json!({"event": "ticket-created", "ticket": new_ticket(1, now)}).to_string();
    let r = post("?secret=wrong", None, event.clone()).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = post("", None, event.clone()).await.unwrap();
    assert_eq!(r.status(), 401);
    let r = post("", Some("gorgias-events-test-secreT"), event.clone())
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let bad = json!({"event": "ticket-created", "ticket": {"id": 2, "created_datetime": "soon"}});
    let r = post("", Some(SECRET), bad.to_string()).await.unwrap();
    assert_eq!(r.status(), 400);
    let reason = r.text().await.unwrap();
    assert!(reason.contains("created_datetime"), "{reason}");
    let r = post("", Some(SECRET), "{\"ticket\": 1".into())
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(inbox().await, before, "nothing stored");

    // Accepted: each new ticket shows in the API.
    let mut latencies = Vec::new();
    let mut count = created_today(&client, &base).await;
    for n in 0..40u64 {
        let body = json!({"event": "ticket-created", "ticket": new_ticket(90_000_000 + n, now)});
        let started = Instant::now();
        let r = if n % 2 == 0 {
            post(&format!("?secret={SECRET}"), None, body.to_string())
        } else {
            post("", Some(SECRET), body.to_string())
        }
        .await
        .unwrap();
        assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        loop {
            let seen = created_today(&client, &base).await;
            if seen > count {
                count = seen;
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "ticket {n} never reached the API"
            );
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        latencies.push(started.elapsed());
    }
    latencies.sort();
    eprintln!(
        "gorgias event to /api/v1/tickets: p50 {:?}, p99 {:?}, max {:?} over {} events",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().unwrap(),
        latencies.len()
    );

    // A message for one of them: stored with the ticket's brand, once.
    let message = json!({
        "event": "ticket-message-created",
        "ticket": new_ticket(90_000_000, now),
        "message": {
            "id": 555_000_001u64,
            "from_agent": false,
            "channel": "email",
            "body_text": "Any news?",
            "created_datetime": now.strftime("%Y-%m-%dT%H:%M:%S%.6f").to_string(),
        },
    })
    .to_string();
    let r = post("", Some(SECRET), message.clone()).await.unwrap();
    assert_eq!(r.text().await.unwrap(), r#"{"status":"accepted"}"#);
    let r = post("", Some(SECRET), message).await.unwrap();
    assert_eq!(r.text().await.unwrap(), r#"{"status":"duplicate"}"#);
    let deadline = Instant::now() + Duration::from_secs(30);
    let stored = loop {
        let found = store
            .changes_since(0, 100_000)
            .await
            .unwrap()
            .into_iter()
            .find_map(|c| match c.record {
                AnyRecord::TicketMessage(m) if m.external_id == "555000001" => Some(m),
                _ => None,
            });
        if let Some(m) = found {
            break m;
        }
        assert!(Instant::now() < deadline, "the message was never applied");
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(stored.ticket_id, "90000000");
    assert_eq!(stored.brand.as_ref().map(|b| b.as_str()), Some("mavena"));

    // The simulated helpdesk's HTTP integration (as in the demo): a day of
    // its tickets and messages arrive as events, all accepted and applied.
    simulator.set_gorgias_http_integration(&format!("{base}/webhooks/gorgias"), SECRET);
    let later = now
        .checked_add(jiff::SignedDuration::from_hours(24))
        .unwrap();
    simulator.advance_to(later);
    assert!(
        simulator
            .wait_for_gorgias_events(Duration::from_secs(60))
            .await
    );
    let (delivered, abandoned) = simulator.gorgias_event_stats();
    assert!(delivered > 0 && abandoned == 0, "{delivered} {abandoned}");
    let want: std::collections::BTreeSet<String> = simulator
        .messages_json()
        .iter()
        .map(|m| m["id"].to_string())
        .collect();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let got: std::collections::BTreeSet<String> = store
            .changes_since(0, 1_000_000)
            .await
            .unwrap()
            .into_iter()
            .filter_map(|c| match c.record {
                AnyRecord::TicketMessage(m) if m.external_id != "555000001" => Some(m.external_id),
                _ => None,
            })
            .collect();
        if got == want {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} of {} messages stored",
            got.len(),
            want.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    eprintln!("simulator integration: {delivered} events delivered");
    let stats = inbox().await;
    assert_eq!(stats.failed, 0, "{stats:?}");
    running.stop().await.unwrap();
}
