//! Syncs over real HTTP on both backends: backfill then incremental, faults
//! injected, a crash mid-walk, a wrong key, and the wake after each commit.

use super::desk::{start_time, Desk};
use jiff::{SignedDuration, Timestamp, ToSpan};
use opsdeck_domain::Secret;
use opsdeck_simulator::Faults;
use opsdeck_sources::gorgias::normalize::parse_time;
use opsdeck_sources::{GorgiasClient, GorgiasError};
use opsdeck_store::testing::{each_backend, TestStore};
use opsdeck_sync::{
    sync_gorgias, sync_gorgias_notifying, GorgiasConnector, GorgiasResource, GorgiasSyncError,
};
use serde_json::Value;
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

/// Pages of `page_size` needed for `n` records (an empty list is one page).
fn pages(n: usize, page_size: usize) -> u64 {
    n.div_ceil(page_size).max(1) as u64
}

/// How many of `records` have `field` at or after `since`.
fn since(records: &[Value], field: &str, since: Timestamp) -> usize {
    records
        .iter()
        .filter(|r| {
            r[field]
                .as_str()
                .and_then(parse_time)
                .is_some_and(|at| at >= since)
        })
        .count()
}

async fn backfill_then_incremental_gives_exactly_the_helpdesk_on(backend: TestStore) {
    // Pages of 10, so the first sync needs more calls than the 40 the
    // helpdesk's call limit lets through at once.
    const PAGE: usize = 10;
    let d = Desk::on(42, 0.02, backend).await;
    eprintln!("backfill on {}", d.label);
    let c = d.connector_paged(PAGE as u32);
    let (tickets, messages, surveys) = (
        d.sim.tickets_json(),
        d.sim.messages_json(),
        d.sim.surveys_json(),
    );
    let minimum =
        pages(tickets.len(), PAGE) + pages(messages.len(), PAGE) + pages(surveys.len(), PAGE);
    let before = d.sim.gorgias_request_count();
    let runs = d.sync_all(&c, start_time()).await;
    let requests = d.sim.gorgias_request_count() - before;
    eprintln!(
        "first sync: {} tickets, {} messages, {} surveys: {requests} requests \
         (minimum {minimum} pages, {} refused by the call limit)",
        tickets.len(),
        messages.len(),
        surveys.len(),
        d.sim.gorgias_refused_count()
    );
    assert!(minimum > 40, "the call limit is exercised: {minimum} pages");
    assert!(
        requests * 10 <= minimum * 12,
        "first sync within 1.2 x the minimum pages: {requests} requests for {minimum} pages"
    );
    assert_eq!(
        runs.iter().map(|r| r.calls.requests).sum::<u64>(),
        requests,
        "the runs count every request the helpdesk saw"
    );
    assert!(runs.iter().all(|r| r.since.is_none()));
    assert_eq!(runs[0].tickets, tickets.len() as u64);
    assert_eq!(runs[1].messages, messages.len() as u64);
    assert_eq!(runs[2].surveys, surveys.len() as u64);
    assert_eq!(
        runs[0].unattributed,
        tickets.len() as u64,
        "no rules: every ticket unattributed"
    );
    d.assert_exact_helpdesk().await;
    for resource in ["tickets", "messages", "satisfaction_surveys"] {
        let state = d.sync_state(resource).await;
        assert!(
            state.watermark.is_some() && state.cursor.is_none(),
            "{resource}"
        );
    }

    // Three days later: the incremental round reads what changed since the
    // watermarks (less their overlap, and the surveys' look-back).
    let later = start_time().checked_add(72.hours()).unwrap();
    d.sim.advance_to(later);
    let overlap = 5.minutes();
    let mut floors = Vec::new();
    for resource in ["tickets", "messages", "satisfaction_surveys"] {
        floors.push(d.sync_state(resource).await.watermark.unwrap());
    }
    let ticket_floor = floors[0].checked_sub(overlap).unwrap();
    let message_floor = floors[1].checked_sub(overlap).unwrap();
    let survey_floor = floors[2]
        .checked_sub(SignedDuration::from_hours(7 * 24))
        .unwrap();
    let (tickets, messages, surveys) = (
        d.sim.tickets_json(),
        d.sim.messages_json(),
        d.sim.surveys_json(),
    );
    let changed = (
        since(&tickets, "updated_datetime", ticket_floor),
        since(&messages, "created_datetime", message_floor),
        since(&surveys, "created_datetime", survey_floor),
    );
    // Each walk reads the pages of what changed, and at most the page that
    // crosses its floor besides.
    let bound =
        pages(changed.0 + 1, PAGE) + pages(changed.1 + 1, PAGE) + pages(changed.2 + 1, PAGE);
    let before = d.sim.gorgias_request_count();
    let runs = d.sync_all(&c, later).await;
    let requests = d.sim.gorgias_request_count() - before;
    eprintln!(
        "incremental after 3 days: {} tickets changed, {} messages and {} surveys new or \
         in the look-back: {requests} requests (bound {bound}; first sync {minimum})",
        changed.0, changed.1, changed.2
    );
    assert!(runs.iter().all(|r| r.since.is_some()));
    assert!(changed.0 > 0 && changed.0 < tickets.len());
    assert_eq!(
        runs[0].tickets, changed.0 as u64,
        "exactly the changed tickets"
    );
    assert_eq!(
        runs[1].messages, changed.1 as u64,
        "exactly the new messages"
    );
    assert!(
        requests <= bound,
        "incremental proportional to the changes: {requests} requests, bound {bound}"
    );
    assert!(requests * 3 < minimum, "{requests} vs first sync {minimum}");
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
        let mut errors = 0;
        for resource in ["tickets", "messages", "satisfaction_surveys"] {
            errors += d.sync_state(resource).await.errors;
        }
        assert!(errors > 0, "faults were injected and counted");
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
    let changed = since(&d.sim.tickets_json(), "updated_datetime", start_time());
    assert!(
        changed > 40,
        "{changed} changed tickets: pages enough to die among"
    );
    // Dies about halfway down the walk of `changed / 5` pages.
    let target = d.sim.gorgias_request_count() + (changed / 10) as u64;
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
    d.sync(&c, GorgiasResource::Messages, restart).await;
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
