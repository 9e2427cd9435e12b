//! Prints alert figures (run with `cargo run --release -p opsdeck-alerts
//! --example alerts_bench`):
//! 1. evaluation cost per cycle (pure `evaluate_once`, and the committed
//!    `AlertService::step` on SQLite) with 3 and with 100 brands of
//!    synthetic observations;
//! 2. condition cost for 3 brands over the 8-day slice of 1M orders a year;
//! 3. time from an observation turning active to the fake Telegram
//!    receiving the message (wake → observe → step → commit → send), p50/p99.
#![expect(
    clippy::unwrap_used,
    reason = "a benchmark aborts on a setup failure; there is nothing to recover"
)]

use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::conditions::{observe_all, BrandInputs, MetricsSnapshot};
use opsdeck_alerts::hours::BusinessHours;
use opsdeck_alerts::notify::telegram::{TelegramConfig, TelegramNotifier};
use opsdeck_alerts::notify::{http_client, Channel, Notifiers};
use opsdeck_alerts::outbox::Sender;
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::testing::FakeReceivers;
use opsdeck_alerts::*;
use opsdeck_domain::{Brand, BrandId, BrandKind, Currency, Money, Secret, Thresholds};
use opsdeck_store::OrderFact;
use std::sync::Arc;
use std::time::{Duration, Instant};

const RULES: [&str; 6] = [
    "inventory_low",
    "inventory_critical",
    "unfulfilled_stale",
    "zero_orders",
    "revenue_anomaly",
    "source_stale",
];

/// ~100 observations per brand (60 SKUs, 30 orders, brand-level rules),
/// one in ten active.
fn observations(brands: usize, cycle: usize) -> Vec<Observation> {
    let mut out = Vec::new();
    for b in 0..brands {
        for i in 0..100 {
            let rule = RULES[i % RULES.len()];
            out.push(Observation {
                rule: rule.into(),
                brand: format!("brand{b}"),
                subject: format!("item:{i}"),
                value: Some(Figure::new(i as f64, format!("{i} units"))),
                baseline: None,
                threshold: Some(Figure::new(3.0, "3 units")),
                active: (i + cycle / 50).is_multiple_of(10),
                why: format!("item {i} of brand {b}"),
                why_without_money: None,
                dashboard_path: "/".into(),
            });
        }
    }
    out
}

fn evaluator() -> Evaluator {
    let mut rules = RuleSet::defaults();
    for r in rules::default_rules() {
        let mut r = r;
        r.timing.pending_for = SignedDuration::ZERO;
        rules.upsert(r);
    }
    Evaluator::new(rules)
}

fn service(store: Arc<dyn opsdeck_store::Store>) -> AlertService {
    AlertService::new(
        store,
        evaluator(),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "b",
    )
}

async fn evaluation_cost(brands: usize) {
    let e = evaluator();
    let mut state = AlertState::new("b");
    let t0: Timestamp = "2026-03-01T10:00:00Z".parse().unwrap();
    let cycles = 200;
    let inputs: Vec<_> = (0..cycles).map(|c| observations(brands, c)).collect();
    let start = Instant::now();
    for (c, obs) in inputs.iter().enumerate() {
        e.evaluate_once(
            &mut state,
            obs,
            &[],
            t0 + SignedDuration::from_secs(5 * c as i64),
        );
    }
    let pure = start.elapsed() / cycles as u32;

    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    let svc = service(store);
    let cycles = 40;
    let mut times = Vec::new();
    for c in 0..cycles {
        let obs = observations(brands, c * 50);
        let start = Instant::now();
        svc.step(&obs, t0 + SignedDuration::from_secs(5 * c as i64))
            .await
            .unwrap();
        times.push(start.elapsed());
    }
    times.sort();
    // Steady state: the same 10 % of observations stay active (their
    // episodes open), as between incidents; only the step's reads and an
    // empty commit remain.
    let mut steady = Vec::new();
    for c in cycles..cycles * 2 {
        let obs = observations(brands, (cycles - 1) * 50);
        let start = Instant::now();
        svc.step(&obs, t0 + SignedDuration::from_secs(5 * c as i64))
            .await
            .unwrap();
        steady.push(start.elapsed());
    }
    steady.sort();
    println!(
        "evaluation, {brands:>3} brands ({} observations/cycle): evaluate_once {:>8.1?}/cycle; \
         step with SQLite commit, every active set replaced each cycle: p50 {:>8.1?}, max {:>8.1?}; \
         steady ({} open episodes): p50 {:>8.1?}, max {:>8.1?}",
        brands * 100,
        pure,
        times[times.len() / 2],
        times[times.len() - 1],
        brands * 10,
        steady[steady.len() / 2],
        steady[steady.len() - 1]
    );
}

fn conditions_cost() {
    let usd = Currency::parse("USD").unwrap();
    let now: Timestamp = "2026-03-05T17:00:00Z".parse().unwrap();
    let tz = jiff::tz::TimeZone::get("America/New_York").unwrap();
    let per_year = 1_000_000 / 3;
    let step = 365 * 86_400 / per_year as i64;
    let mut brands = Vec::new();
    let mut facts_total = 0;
    for b in 0..3 {
        let brand = Brand {
            id: BrandId::parse(&format!("brand{b}")).unwrap(),
            name: format!("Brand {b}"),
            kind: BrandKind::Standard,
            time_zone: tz.clone(),
            currency: usd,
            launched: true,
            thresholds: Thresholds::defaults_for(&BrandKind::Standard),
        };
        let from = opsdeck_alerts::conditions::orders_from(&brand, now);
        // The projection hands over only the 8-day slice of the year's orders.
        let facts: Vec<OrderFact> = (0..per_year as i64)
            .map(|i| now - SignedDuration::from_secs(i * step + 1))
            .filter(|t| *t >= from)
            .map(|t| OrderFact {
                created_at: t,
                total_price: Money::new(4_999, usd),
                cancelled: false,
            })
            .collect();
        facts_total += facts.len();
        brands.push(BrandInputs {
            brand,
            hours: BusinessHours::always(tz.clone()),
            sources: vec![],
            cadences: opsdeck_metrics::Cadences::every(std::time::Duration::from_secs(300)),
            sales: Some(opsdeck_metrics::order_volume::sales_series(&facts, usd)),
            orders_from: from,
            panels: None,
        });
    }
    let facts = facts_total;
    let snapshot = MetricsSnapshot {
        brands,
        sync_states: vec![],
    };
    let rules = RuleSet::defaults();
    let runs = 20;
    let start = Instant::now();
    for _ in 0..runs {
        std::hint::black_box(observe_all(&rules, &snapshot, now));
    }
    println!(
        "conditions, 3 brands, 1M orders/year ({facts} orders in the 8-day slice of the rollup): {:.1?}/cycle",
        start.elapsed() / runs
    );
}

async fn latency() {
    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    let fake = FakeReceivers::start().await.unwrap();
    let tg = TelegramConfig {
        base_url: fake.telegram_base_url(),
        bot_token: Secret::new("1:b"),
        chat_id: "1".into(),
        message_thread_id: None,
        allowed_user_ids: Vec::new(),
    };
    let notifiers = Notifiers::new().with(
        Channel::Telegram,
        Arc::new(TelegramNotifier::new(
            http_client(Duration::from_secs(5)),
            tg,
        )),
    );
    let svc = Arc::new(service(store.clone()));
    let sender = Arc::new(Sender::new(store, notifiers, "bench"));
    let wake = Arc::new(tokio::sync::Notify::new());
    let active = Arc::new(std::sync::Mutex::new(false));
    // The runner's loop: wait for a wake, then observe, step, send.
    let worker = {
        let (svc, sender, wake, active) =
            (svc.clone(), sender.clone(), wake.clone(), active.clone());
        tokio::spawn(async move {
            loop {
                wake.notified().await;
                let now = Timestamp::now();
                let on = *active.lock().unwrap();
                let obs = Observation {
                    rule: "zero_orders".into(),
                    brand: "mavena".into(),
                    subject: "brand".into(),
                    value: None,
                    baseline: None,
                    threshold: None,
                    active: on,
                    why: "bench".into(),
                    why_without_money: None,
                    dashboard_path: "/".into(),
                };
                svc.step(&[obs], now).await.unwrap();
                sender.deliver_once(now).await.unwrap();
            }
        })
    };
    let samples = 200;
    let mut times = Vec::new();
    for i in 0..samples {
        *active.lock().unwrap() = true;
        let start = Instant::now();
        wake.notify_one();
        let got = fake
            .wait_for("telegram", i + 1, Duration::from_secs(5))
            .await;
        assert_eq!(got.len(), i + 1, "message {i} arrived");
        times.push(got[i].at.duration_since(start));
        // Clear it and let it resolve (keep-firing is 10 min: use a manual
        // resolve so the next sample is a new episode).
        *active.lock().unwrap() = false;
        let open = svc
            .store()
            .alert_episodes(&opsdeck_store::alerts::EpisodeFilter {
                open_only: true,
                brand: None,
                limit: 10,
            })
            .await
            .unwrap();
        for e in open {
            svc.resolve(&e.id, &Actor::new("bench", Via::Cli), Timestamp::now())
                .await
                .unwrap();
        }
    }
    worker.abort();
    times.sort();
    println!(
        "observation active → fake Telegram received ({samples} samples, SQLite, pending 0): p50 {:.1?}, p99 {:.1?}, max {:.1?}",
        times[samples / 2],
        times[samples * 99 / 100],
        times[samples - 1]
    );
}

#[tokio::main]
async fn main() {
    evaluation_cost(3).await;
    evaluation_cost(100).await;
    conditions_cost();
    latency().await;
}
