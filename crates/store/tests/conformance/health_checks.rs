//! System health checks (migration 0019): results read back newest first
//! within a window, a state change is recorded once with its history (the
//! same state again keeps its `since`), and pruning removes old results
//! and changes but keeps the current states.

use jiff::Timestamp;
use opsdeck_domain::health::{CheckResult, Evaluation, HealthState, Outcome};
use opsdeck_store::testing::TestStore;

fn at(min: i64) -> Timestamp {
    Timestamp::from_second(1_800_000_000 + min * 60).unwrap()
}

fn eval(state: HealthState, reason: &str) -> Evaluation {
    Evaluation {
        state,
        reason: reason.into(),
    }
}

pub(crate) async fn health_results_and_state_changes_round_trip_and_prune(db: &TestStore) {
    let s = &db.store;
    let probe = |min, status| CheckResult {
        at: at(min),
        outcome: Outcome::Probe {
            status,
            latency_ms: 120,
            body_matched: true,
            error: status.is_none().then(|| "timed out".to_string()),
        },
    };
    for r in [probe(0, Some(200)), probe(5, None), probe(10, Some(500))] {
        s.health_result_add("gateway", &r).await.unwrap();
    }
    s.health_result_add(
        "queue",
        &CheckResult {
            at: at(3),
            outcome: Outcome::Value { value: 42.5 },
        },
    )
    .await
    .unwrap();
    let recent = s.health_results_recent("gateway", at(5), 10).await.unwrap();
    assert_eq!(recent, [probe(10, Some(500)), probe(5, None)]);
    let one = s.health_results_recent("gateway", at(0), 1).await.unwrap();
    assert_eq!(one, [probe(10, Some(500))]);

    let first = s
        .health_state_record("gateway", &eval(HealthState::Up, "ok"), at(0))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.from, first.to), (None, HealthState::Up));
    let same = s
        .health_state_record("gateway", &eval(HealthState::Up, "still ok"), at(5))
        .await
        .unwrap();
    assert_eq!(same, None);
    let down = s
        .health_state_record("gateway", &eval(HealthState::Down, "3 failures"), at(10))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (down.from, down.to, down.at),
        (Some(HealthState::Up), HealthState::Down, at(10))
    );
    let states = s.health_states().await.unwrap();
    assert_eq!(states.len(), 1);
    assert_eq!(
        (states[0].state, states[0].since, states[0].reason.as_str()),
        (HealthState::Down, at(10), "3 failures")
    );
    s.health_state_record("gateway", &eval(HealthState::Down, "4 failures"), at(12))
        .await
        .unwrap();
    let states = s.health_states().await.unwrap();
    assert_eq!(
        (
            states[0].since,
            states[0].evaluated_at,
            states[0].reason.as_str()
        ),
        (at(10), at(12), "4 failures"),
        "the same state keeps its since"
    );
    let changes = s.health_changes("gateway", 10).await.unwrap();
    let got: Vec<_> = changes.iter().map(|c| (c.from, c.to)).collect();
    assert_eq!(
        got,
        [
            (Some(HealthState::Up), HealthState::Down),
            (None, HealthState::Up)
        ]
    );

    let pruned = s.health_prune(at(5)).await.unwrap();
    assert_eq!((pruned.results, pruned.changes), (2, 1));
    assert_eq!(
        s.health_results_recent("gateway", at(0), 10)
            .await
            .unwrap()
            .len(),
        2
    );
    assert_eq!(s.health_changes("gateway", 10).await.unwrap().len(), 1);
    assert_eq!(s.health_states().await.unwrap().len(), 1, "states are kept");
}
