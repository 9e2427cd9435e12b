//! System health checks over a real store with a clock the test moves:
//! an HTTP check against a local fake server (200, slow 200, 500s, a
//! timeout, 200 again), pushed heartbeats and values, a success ratio over
//! pushed `HealthCheck` records, maintenance, and pushes refused with
//! their bound. Each kind goes up → degraded → down → up, pending before
//! its first result, and every change lands in the history.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use opsdeck_domain::health::{
    CheckKind, CheckSpec, DownAfter, HealthState, HttpProbe, Maintenance,
};
use opsdeck_domain::{
    AnyRecord, Brand, BrandId, BrandKind, Currency, HealthCheck, HealthStatus, SourceId, Thresholds,
};
use opsdeck_metrics::{Projection, SubscriptionRules};
use opsdeck_operations::health::{HealthChecks, HealthError, Push};
use opsdeck_store::testing::sqlite_store;
use opsdeck_store::Store;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

fn at(min: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + min * 60).unwrap()
}

fn brand() -> Brand {
    let kind = BrandKind::Standard;
    Brand {
        id: BrandId::parse("shop").unwrap(),
        name: "Shop".into(),
        thresholds: Thresholds::defaults_for(&kind),
        kind,
        time_zone: TimeZone::get("Europe/Berlin").unwrap(),
        currency: Currency::EUR,
        launched: true,
    }
}

fn spec(name: &str, kind: CheckKind, failures: u32) -> CheckSpec {
    CheckSpec {
        name: name.into(),
        kind,
        down_after: DownAfter {
            failures,
            within: SignedDuration::from_mins(15),
        },
        maintenance: Maintenance::default(),
    }
}

async fn checks_over(store: &Arc<dyn Store>, specs: Vec<CheckSpec>) -> HealthChecks {
    let projection = Projection::build(store.as_ref(), vec![brand()], SubscriptionRules::default())
        .await
        .unwrap();
    HealthChecks::new(store.clone(), specs, Arc::new(RwLock::new(projection)))
}

async fn state_of(store: &Arc<dyn Store>, name: &str) -> HealthState {
    store
        .health_states()
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.check == name)
        .unwrap()
        .state
}

/// What the fake gateway answers next.
#[derive(Clone, Copy)]
enum Answer {
    Ok,
    SlowOk,
    Error,
    Hang,
}

async fn gateway(State(answer): State<Arc<Mutex<Answer>>>) -> (StatusCode, &'static str) {
    let now = *answer.lock().unwrap();
    match now {
        Answer::Ok => (StatusCode::OK, "all systems operational"),
        Answer::SlowOk => {
            tokio::time::sleep(Duration::from_millis(1_200)).await;
            (StatusCode::OK, "all systems operational")
        }
        Answer::Error => (StatusCode::INTERNAL_SERVER_ERROR, "boom"),
        Answer::Hang => {
            tokio::time::sleep(Duration::from_secs(30)).await;
            (StatusCode::OK, "too late")
        }
    }
}

#[tokio::test]
async fn http_check_goes_up_degraded_down_and_up_against_a_fake_gateway() {
    let answer = Arc::new(Mutex::new(Answer::Ok));
    let app = axum::Router::new()
        .route("/status", get(gateway))
        .with_state(answer.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let db = sqlite_store().await;
    let store = db.store.clone();
    let check = spec(
        "payment_gateway",
        CheckKind::Http(HttpProbe {
            url: format!("http://{addr}/status"),
            interval: SignedDuration::from_mins(5),
            timeout: SignedDuration::from_millis(3_000),
            expect_status: 200,
            body_contains: Some("operational".into()),
            slow_after: SignedDuration::from_millis(700),
        }),
        3,
    );
    let checks = checks_over(&store, vec![check]).await;

    checks.evaluate_once(at(0)).await.unwrap();
    assert_eq!(
        state_of(&store, "payment_gateway").await,
        HealthState::Pending
    );

    let mut seen = Vec::new();
    for (min, next) in [
        (0, Answer::Ok),
        (5, Answer::SlowOk),
        (10, Answer::Error),
        (15, Answer::Error),
        (20, Answer::Hang),
        (25, Answer::Ok),
    ] {
        *answer.lock().unwrap() = next;
        checks.step(at(min)).await.unwrap();
        seen.push(state_of(&store, "payment_gateway").await);
        // Not due again a minute later: no second probe.
        assert_eq!(checks.probe_due(at(min + 1)).await.unwrap(), 0);
    }
    use HealthState::*;
    assert_eq!(seen, [Up, Degraded, Degraded, Degraded, Down, Up]);

    let history: Vec<_> = store
        .health_changes("payment_gateway", 10)
        .await
        .unwrap()
        .into_iter()
        .rev()
        .map(|c| (c.from, c.to))
        .collect();
    assert_eq!(
        history,
        [
            (None, Pending),
            (Some(Pending), Up),
            (Some(Up), Degraded),
            (Some(Degraded), Down),
            (Some(Down), Up),
        ]
    );
    let timeout = store
        .health_results_recent("payment_gateway", at(20), 10)
        .await
        .unwrap();
    let text: Vec<_> = timeout
        .iter()
        .map(opsdeck_domain::health::describe)
        .collect();
    assert!(text.iter().any(|t| t.contains("timed out")), "{text:?}");

    let overview = checks.overview(at(25)).await.unwrap();
    assert_eq!(overview[0].state, Up);
    assert_eq!(overview[0].since, Some(at(25)));
    assert_eq!(overview[0].recent.len(), 6, "the sparkline's results");
}

#[tokio::test]
async fn pushed_heartbeats_and_values_go_up_degraded_down_and_up() {
    let db = sqlite_store().await;
    let store = db.store.clone();
    let checks = checks_over(
        &store,
        vec![
            spec(
                "label_worker",
                CheckKind::Heartbeat {
                    period: SignedDuration::from_mins(5),
                },
                2,
            ),
            spec(
                "pick_queue",
                CheckKind::Threshold {
                    degraded_above: 100.0,
                    down_above: 500.0,
                },
                1,
            ),
        ],
    )
    .await;
    use HealthState::*;
    checks.evaluate_once(at(0)).await.unwrap();
    assert_eq!(state_of(&store, "label_worker").await, Pending);
    assert_eq!(state_of(&store, "pick_queue").await, Pending);

    // Heartbeat: on time, late, two periods missed, back.
    checks
        .push("label_worker", Push::Heartbeat, at(0))
        .await
        .unwrap();
    let mut beats = Vec::new();
    for min in [4, 7, 11] {
        checks.evaluate_once(at(min)).await.unwrap();
        beats.push(state_of(&store, "label_worker").await);
    }
    checks
        .push("label_worker", Push::Heartbeat, at(12))
        .await
        .unwrap();
    checks.evaluate_once(at(12)).await.unwrap();
    beats.push(state_of(&store, "label_worker").await);
    assert_eq!(beats, [Up, Degraded, Down, Up]);

    // Threshold: a queue length.
    let mut values = Vec::new();
    for (min, v) in [(20, 40.0), (21, 150.0), (22, 900.0), (23, 10.0)] {
        checks
            .push("pick_queue", Push::Value(v), at(min))
            .await
            .unwrap();
        checks.evaluate_once(at(min)).await.unwrap();
        values.push(state_of(&store, "pick_queue").await);
    }
    assert_eq!(values, [Up, Degraded, Down, Up]);
}

#[tokio::test]
async fn pushes_that_do_not_fit_are_refused_naming_why_and_store_nothing() {
    let db = sqlite_store().await;
    let store = db.store.clone();
    let checks = checks_over(
        &store,
        vec![spec(
            "pick_queue",
            CheckKind::Threshold {
                degraded_above: 100.0,
                down_above: 500.0,
            },
            1,
        )],
    )
    .await;
    for (name, push, words) in [
        ("pick_queue", Push::Value(2e12), "1e12"),
        ("pick_queue", Push::Value(f64::NAN), "1e12"),
        ("pick_queue", Push::Heartbeat, "threshold check"),
        ("nope", Push::Heartbeat, "\"nope\""),
    ] {
        let e = checks.push(name, push, at(0)).await.unwrap_err();
        assert!(
            matches!(e, HealthError::Invalid(_) | HealthError::UnknownCheck(_)),
            "{e}"
        );
        assert!(e.to_string().contains(words), "{e}");
    }
    assert!(store
        .health_results_recent("pick_queue", at(-100), 10)
        .await
        .unwrap()
        .is_empty());
}

fn courier_call(n: i64, ok: bool) -> AnyRecord {
    let checked = at(n);
    AnyRecord::HealthCheck(HealthCheck {
        source: SourceId::parse("ingest-shop").unwrap(),
        external_id: format!("call-{n}"),
        brand: BrandId::parse("shop").unwrap(),
        dependency: "courier-api".into(),
        status: if ok {
            HealthStatus::Ok
        } else {
            HealthStatus::Failed
        },
        latency_ms: Some(120),
        detail: None,
        checked_at: checked,
        updated_at: checked,
    })
}

#[tokio::test]
async fn success_ratio_counts_the_last_pushed_health_checks_of_its_dependency() {
    let db = sqlite_store().await;
    let store = db.store.clone();
    let ratio = spec(
        "courier",
        CheckKind::SuccessRatio {
            dependency: "courier-api".into(),
            last: 10,
            degraded_below: 0.95,
            down_below: 0.8,
        },
        1,
    );
    use HealthState::*;
    let pending = checks_over(&store, vec![ratio.clone()]).await;
    pending.evaluate_once(at(0)).await.unwrap();
    assert_eq!(state_of(&store, "courier").await, Pending);

    let mut states = Vec::new();
    let mut n = 0;
    for calls in [
        vec![true; 10],
        vec![false],
        vec![false, false],
        vec![true; 10],
    ] {
        let batch: Vec<_> = calls
            .into_iter()
            .map(|ok| {
                n += 1;
                courier_call(n, ok)
            })
            .collect();
        store.upsert(&batch, None).await.unwrap();
        let checks = checks_over(&store, vec![ratio.clone()]).await;
        checks.evaluate_once(at(n)).await.unwrap();
        states.push(state_of(&store, "courier").await);
    }
    assert_eq!(states, [Up, Degraded, Down, Up]);
}

#[tokio::test]
async fn maintenance_holds_a_failing_check_out_of_down() {
    let db = sqlite_store().await;
    let store = db.store.clone();
    let mut queue = spec(
        "pick_queue",
        CheckKind::Threshold {
            degraded_above: 100.0,
            down_above: 500.0,
        },
        1,
    );
    queue.maintenance.windows.push((at(0), at(30)));
    let checks = checks_over(&store, vec![queue]).await;
    checks
        .push("pick_queue", Push::Value(900.0), at(1))
        .await
        .unwrap();
    checks.evaluate_once(at(1)).await.unwrap();
    assert_eq!(
        state_of(&store, "pick_queue").await,
        HealthState::Maintenance
    );
    // After the window the check is judged again: a failing value is down.
    checks
        .push("pick_queue", Push::Value(900.0), at(30))
        .await
        .unwrap();
    checks.evaluate_once(at(30)).await.unwrap();
    assert_eq!(state_of(&store, "pick_queue").await, HealthState::Down);
}
