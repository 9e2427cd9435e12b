//! Report runs: one scheduled run per subscription and time, claimed by
//! one caller only, finished with its outcome and listed newest first
//! (scheduled ones apart).

use crate::fixtures::*;
use opsdeck_store::testing::TestStore;
use opsdeck_store::RunStatus;

pub(crate) async fn report_runs_are_scheduled_claimed_once_and_listed(db: &TestStore) {
    let s = &db.store;
    assert_eq!(s.report_run_upcoming("daily").await.unwrap(), None);
    s.report_run_schedule("daily", ts("2026-03-29T05:00:00Z"))
        .await
        .unwrap();
    // Scheduling the same time again is harmless.
    s.report_run_schedule("daily", ts("2026-03-29T05:00:00Z"))
        .await
        .unwrap();
    s.report_run_schedule("weekly", ts("2026-03-30T06:00:00Z"))
        .await
        .unwrap();
    let run = s.report_run_upcoming("daily").await.unwrap().unwrap();
    assert_eq!(run.subscription, "daily");
    assert_eq!(run.scheduled_for, ts("2026-03-29T05:00:00Z"));
    assert_eq!(run.status, RunStatus::Scheduled);
    assert!(s.report_runs("daily", 10).await.unwrap().is_empty());

    assert!(s
        .report_run_claim(run.id, ts("2026-03-29T05:00:10Z"))
        .await
        .unwrap());
    assert!(!s
        .report_run_claim(run.id, ts("2026-03-29T05:00:11Z"))
        .await
        .unwrap());
    assert_eq!(s.report_run_upcoming("daily").await.unwrap(), None);
    s.report_run_finish(
        run.id,
        RunStatus::Failed,
        "email: SMTP 550",
        ts("2026-03-29T05:00:12Z"),
    )
    .await
    .unwrap();
    s.report_run_schedule("daily", ts("2026-03-30T05:00:00Z"))
        .await
        .unwrap();
    let next = s.report_run_upcoming("daily").await.unwrap().unwrap();
    assert_eq!(next.scheduled_for, ts("2026-03-30T05:00:00Z"));
    s.report_run_claim(next.id, ts("2026-03-30T05:00:01Z"))
        .await
        .unwrap();
    s.report_run_finish(next.id, RunStatus::Sent, "sent", ts("2026-03-30T05:00:02Z"))
        .await
        .unwrap();

    let runs = s.report_runs("daily", 10).await.unwrap();
    assert_eq!(
        runs.iter()
            .map(|r| (r.status, r.detail.as_deref()))
            .collect::<Vec<_>>(),
        [
            (RunStatus::Sent, Some("sent")),
            (RunStatus::Failed, Some("email: SMTP 550")),
        ]
    );
    assert_eq!(runs[1].started_at, Some(ts("2026-03-29T05:00:10Z")));
    assert_eq!(runs[1].finished_at, Some(ts("2026-03-29T05:00:12Z")));
    assert_eq!(s.report_runs("daily", 1).await.unwrap().len(), 1);
    // Another subscription's runs stay its own.
    assert!(s.report_runs("weekly", 10).await.unwrap().is_empty());
    assert!(s.report_run_upcoming("weekly").await.unwrap().is_some());
}
