//! Export jobs: queued with their audit entry, claimed by one worker,
//! finished once, queued again after a stop, expired with their links;
//! links stored by hash.

use crate::fixtures::*;
use opsdeck_store::exports::{ExportJob, ExportLink, ExportOutcome, ExportStatus};
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AuditAction, AuditEntry};
use serde_json::json;

fn job(format: &str) -> ExportJob {
    ExportJob {
        id: 0,
        requested_by: "ana".into(),
        request: json!({ "sections": ["fulfillment"], "range": "7d" }),
        format: format.into(),
        status: ExportStatus::Ready,
        progress: 50,
        created_at: ts("2026-12-08T01:00:00Z"),
        started_at: None,
        finished_at: None,
        file_name: None,
        size_bytes: None,
        error: None,
        expires_at: None,
    }
}

fn created() -> AuditEntry {
    AuditEntry {
        at: ts("2026-12-08T01:00:00Z"),
        actor: "ana".into(),
        action: AuditAction::ExportCreate,
        subject: String::new(),
        payload: json!({ "format": "csv" }),
        ip: None,
    }
}

pub(crate) async fn export_jobs_are_claimed_once_and_finished_once(db: &TestStore) {
    let s = &db.store;
    let first = s.export_insert(&job("csv"), &created()).await.unwrap();
    let second = s.export_insert(&job("xlsx"), &created()).await.unwrap();
    let stored = s.export_job(first).await.unwrap().unwrap();
    assert_eq!(stored.status, ExportStatus::Queued, "a new job is queued");
    assert_eq!(stored.progress, 0);
    assert_eq!(stored.request, job("csv").request);
    let log = s.audit_log(10).await.unwrap();
    assert!(
        log.iter().any(
            |e| e.action == AuditAction::ExportCreate && e.subject == format!("export:{first}")
        ),
        "{log:?}"
    );

    let now = ts("2026-12-08T01:01:00Z");
    let claimed = s.export_claim(now).await.unwrap().unwrap();
    assert_eq!((claimed.id, claimed.status), (first, ExportStatus::Running));
    let next = s.export_claim(now).await.unwrap().unwrap();
    assert_eq!(next.id, second, "the oldest queued job first, each once");
    assert_eq!(s.export_claim(now).await.unwrap(), None);

    s.export_progress(first, 40).await.unwrap();
    assert_eq!(s.export_job(first).await.unwrap().unwrap().progress, 40);
    let ready = ExportOutcome::Ready {
        file_name: "export-1.csv".into(),
        size_bytes: 1234,
        expires_at: ts("2026-12-09T01:01:00Z"),
    };
    assert!(s.export_finish(first, &ready, now).await.unwrap());
    assert!(
        !s.export_finish(first, &ExportOutcome::Failed { error: "x".into() }, now)
            .await
            .unwrap(),
        "a finished job does not change"
    );
    let done = s.export_job(first).await.unwrap().unwrap();
    assert_eq!(done.status, ExportStatus::Ready);
    assert_eq!(done.progress, 100);
    assert_eq!(done.size_bytes, Some(1234));
    assert_eq!(done.file_name.as_deref(), Some("export-1.csv"));

    // The second job's process stopped: it is queued again on start.
    assert_eq!(s.exports_requeue_running().await.unwrap(), 1);
    assert_eq!(s.export_claim(now).await.unwrap().unwrap().id, second);
    assert!(s
        .export_finish(
            second,
            &ExportOutcome::Failed {
                error: "disk full".into()
            },
            now
        )
        .await
        .unwrap());
    let failed = s.export_job(second).await.unwrap().unwrap();
    assert_eq!(failed.status, ExportStatus::Failed);
    assert_eq!(failed.error.as_deref(), Some("disk full"));
}

pub(crate) async fn export_links_are_kept_by_hash_and_expire_with_the_file(db: &TestStore) {
    let s = &db.store;
    let id = s.export_insert(&job("csv"), &created()).await.unwrap();
    let now = ts("2026-12-08T01:01:00Z");
    s.export_claim(now).await.unwrap().unwrap();
    let expires_at = ts("2026-12-08T02:01:00Z");
    let ready = ExportOutcome::Ready {
        file_name: "export-1.csv".into(),
        size_bytes: 10,
        expires_at,
    };
    s.export_finish(id, &ready, now).await.unwrap();
    let link = ExportLink {
        token_sha256: "ab".repeat(32),
        job_id: id,
        expires_at,
        created_by: "ana".into(),
        created_at: now,
    };
    s.export_link_insert(&link).await.unwrap();
    assert_eq!(
        s.export_link(&link.token_sha256).await.unwrap(),
        Some(link.clone())
    );
    assert_eq!(s.export_link("cd").await.unwrap(), None);

    assert!(s.exports_expiring(now).await.unwrap().is_empty());
    let due = s.exports_expiring(expires_at).await.unwrap();
    assert_eq!(due.iter().map(|j| j.id).collect::<Vec<_>>(), [id]);
    s.export_expire(id).await.unwrap();
    assert_eq!(
        s.export_job(id).await.unwrap().unwrap().status,
        ExportStatus::Expired
    );
    assert_eq!(s.export_link(&link.token_sha256).await.unwrap(), None);
    assert!(s.exports_expiring(expires_at).await.unwrap().is_empty());
}
