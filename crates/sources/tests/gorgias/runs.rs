//! Syncs over real HTTP on both backends: backfill then incremental, faults
//! injected, a crash mid-walk, a wrong key, and the wake after each commit.

use super::desk::{source, start_time, Desk};
use jiff::ToSpan;
use opsdeck_domain::Secret;
use opsdeck_simulator::Faults;
use opsdeck_sources::{
    sync_gorgias, sync_gorgias_notifying, GorgiasClient, GorgiasConnector, GorgiasError,
    GorgiasResource, GorgiasSyncError,
};
use opsdeck_store::testing::{each_backend, TestStore};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

#[tokio::test]
async fn backfill_then_incremental_gives_exactly_the_helpdesk() {
    // SQLite always; PostgreSQL too when a test server is configured.
    for backend in each_backend().await {
        backfill_then_incremental_gives_exactly_the_helpdesk_on(backend).await;
    }
}

async fn backfill_then_incremental_gives_exactly_the_helpdesk_on(backend: TestStore) {
    let d = Desk::on(42, 0.02, backend).await;
    eprintln!("backfill on {}", d.label);
    let c = d.connector(vec![]);
    let before = d.sim.gorgias_request_count();
    let run = d.sync(&c, GorgiasResource::Tickets, start_time()).await;
    let tickets = d.sim.tickets_json().len() as u64;
    let pages = tickets.div_ceil(100);
    eprintln!(
        "backfill: {tickets} tickets, {} requests (minimum {pages} list pages + {tickets} message lists = {})",
        d.sim.gorgias_request_count() - before,
        pages + tickets
    );
    assert_eq!(run.since, None);
    assert_eq!(run.tickets, tickets);
    assert_eq!(
        run.calls.requests,
        pages + tickets,
        "no wasted request without faults"
    );
    assert_eq!(
        run.unattributed, tickets,
        "no rules: every ticket unattributed"
    );
    d.sync(&c, GorgiasResource::SatisfactionSurveys, start_time())
        .await;
    d.assert_exact_helpdesk().await;
    let state = d.sync_state("tickets").await;
    assert!(state.watermark.is_some() && state.cursor.is_none());
    assert!(d
        .store
        .sync_state(&source(), "satisfaction_surveys")
        .await
        .unwrap()
        .is_some());

    let later = start_time().checked_add(72.hours()).unwrap();
    d.sim.advance_to(later);
    let run = d.sync(&c, GorgiasResource::Tickets, later).await;
    assert!(run.since.is_some());
    assert!(
        run.tickets > 0 && run.tickets < d.sim.tickets_json().len() as u64,
        "incremental reads only changed tickets: {}",
        run.tickets
    );
    eprintln!(
        "incremental after 3 days: {} tickets, {} requests",
        run.tickets, run.calls.requests
    );
    d.sync(&c, GorgiasResource::SatisfactionSurveys, later)
        .await;
    d.assert_exact_helpdesk().await;
}

#[tokio::test]
async fn faults_still_converge_to_the_helpdesk_for_several_seeds() {
    for seed in [7, 2024, 31337] {
        // SQLite always; PostgreSQL too when a test server is configured.
        for backend in each_backend().await {
            faults_converge_on(seed, backend).await;
        }
    }
}

async fn faults_converge_on(seed: u64, backend: TestStore) {
    {
        let d = Desk::on(seed, 0.01, backend).await;
        eprintln!("faults, seed {seed}, on {}", d.label);
        d.sim.set_faults(Faults {
            http_429_rate: 0.02,
            http_5xx_rate: 0.08,
            reset_rate: 0.03,
            truncated_rate: 0.05,
            seed,
            ..Faults::default()
        });
        let c = d.connector(vec![]);
        d.sync_all(&c, start_time()).await;
        let later = start_time().checked_add(48.hours()).unwrap();
        d.sim.advance_to(later);
        d.sync_all(&c, later).await;
        d.sim.set_faults(Faults::default());
        d.assert_exact_helpdesk().await;
        let state = d.sync_state("tickets").await;
        assert!(state.errors > 0, "faults were injected and counted");
    }
}

#[tokio::test]
async fn a_crash_mid_walk_resumes_without_loss() {
    // SQLite always; PostgreSQL too when a test server is configured.
    for backend in each_backend().await {
        a_crash_mid_walk_resumes_without_loss_on(backend).await;
    }
}

async fn a_crash_mid_walk_resumes_without_loss_on(backend: TestStore) {
    let d = Desk::on(11, 0.03, backend).await;
    eprintln!("crash mid-walk on {}", d.label);
    let mut settings = d.settings();
    settings.page_size = 5;
    let c = GorgiasConnector::new(
        Arc::new(GorgiasClient::new(settings).unwrap()),
        vec![],
        vec![],
    );
    d.sync_all(&c, start_time()).await;
    let watermark = d.sync_state("tickets").await.watermark;

    // A month later many tickets changed; the process dies mid-walk.
    let later = start_time().checked_add(720.hours()).unwrap();
    d.sim.advance_to(later);
    let target = d.sim.gorgias_request_count() + 15;
    let sim = d.sim.clone();
    tokio::select! {
        _ = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, later) => panic!("the run should have been killed"),
        _ = async move { while sim.gorgias_request_count() < target { tokio::time::sleep(Duration::from_millis(2)).await } } => {}
    }
    let state = d.sync_state("tickets").await;
    assert!(state.cursor.is_some(), "a walk checkpoint was committed");
    assert_eq!(
        state.watermark, watermark,
        "the watermark waits for the walk to reach it"
    );

    // More changes while it was down, then a fresh connector (a restart).
    let restart = later.checked_add(1.hour()).unwrap();
    d.sim.advance_to(restart);
    let c = d.connector(vec![]);
    let resumed = d.sync(&c, GorgiasResource::Tickets, restart).await;
    assert!(resumed.resumed);
    let again = d.sync(&c, GorgiasResource::Tickets, restart).await;
    assert!(!again.resumed);
    d.sync(&c, GorgiasResource::SatisfactionSurveys, restart)
        .await;
    d.assert_exact_helpdesk().await;
}

#[tokio::test]
async fn a_wrong_key_is_a_typed_error_without_the_key() {
    let d = Desk::start(1, 0.005).await;
    let mut settings = d.settings();
    settings.api_key = Secret::new("wrong-key-s3cr3t");
    let c = GorgiasConnector::new(
        Arc::new(GorgiasClient::new(settings).unwrap()),
        vec![],
        vec![],
    );
    let err = sync_gorgias(&c, d.store.as_ref(), GorgiasResource::Tickets, start_time())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            GorgiasSyncError::Gorgias(GorgiasError::Unauthorized { .. })
        ),
        "{err:?}"
    );
    assert!(!format!("{err} {err:?}").contains("s3cr3t"));
    let state = d.sync_state("tickets").await;
    let stored = state.last_error.unwrap();
    assert!(
        stored.contains("401") && !stored.contains("s3cr3t"),
        "{stored}"
    );
    assert_eq!(state.consecutive_failures, 1);
}

#[tokio::test]
async fn a_committed_page_wakes_the_change_follower() {
    let d = Desk::start(3, 0.005).await;
    let c = d.connector(vec![]);
    let committed = Arc::new(Notify::new());
    let waiting = committed.clone();
    let follower = tokio::spawn(async move { waiting.notified().await });
    tokio::task::yield_now().await;
    let run = sync_gorgias_notifying(
        &c,
        d.store.as_ref(),
        GorgiasResource::Tickets,
        start_time(),
        Some(&committed),
    )
    .await
    .unwrap();
    assert!(run.tickets > 0);
    tokio::time::timeout(Duration::from_secs(2), follower)
        .await
        .expect("a committed ticket page woke the follower")
        .unwrap();
}
