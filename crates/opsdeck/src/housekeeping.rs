//! Periodic clean-up every instance runs: audit entries past their
//! retention and sessions past their idle or absolute limit are deleted.
//! Both deletes are idempotent, so several instances doing it is harmless.

use crate::app::Clock;
use opsdeck_accounts::{AuthConfig, SessionCutoffs};
use opsdeck_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the clean-up runs (and once at start).
pub const EVERY: Duration = Duration::from_secs(3600);

/// Runs one clean-up at the clock's now: returns (audit entries, sessions)
/// deleted.
pub async fn run_once(
    store: &dyn Store,
    now: jiff::Timestamp,
    audit_retention: Duration,
    auth: &AuthConfig,
) -> Result<(u64, u64), opsdeck_store::StoreError> {
    let audit = opsdeck_store::users::prune_audit_older_than(store, now, audit_retention).await?;
    let ended = SessionCutoffs::at(now, auth);
    let sessions = store
        .prune_sessions(ended.idle_before, ended.created_before)
        .await?;
    Ok((audit, sessions))
}

/// The clean-up loop (the supervised `housekeeping` task): once at once,
/// then every [`EVERY`]; it ends when `stop` turns true.
pub async fn run(
    store: Arc<dyn Store>,
    clock: Clock,
    audit_retention: Duration,
    auth: AuthConfig,
    mut stop: watch::Receiver<bool>,
) {
    if *stop.borrow() {
        return;
    }
    let mut interval = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = interval.tick() => {
                match run_once(store.as_ref(), clock(), audit_retention, &auth).await {
                    Ok((audit, sessions)) => tracing::debug!(audit, sessions, "housekeeping done"),
                    Err(e) => tracing::warn!(error = %e, "housekeeping failed; retrying next hour"),
                }
            }
            changed = stop.changed() => {
                // Stopped, or the application is gone.
                if changed.is_err() || *stop.borrow() {
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_store::AuditEntry;

    #[tokio::test]
    async fn prunes_audit_past_retention_only() {
        let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
        let now: jiff::Timestamp = "2026-06-10T12:00:00Z".parse().unwrap();
        for (at, action) in [
            ("2026-03-11T11:59:59Z", "old"),
            ("2026-03-11T12:00:01Z", "kept"),
        ] {
            store
                .record_audit(&AuditEntry {
                    at: at.parse().unwrap(),
                    actor: "anna".into(),
                    action: opsdeck_store::AuditAction::parse(action),
                    subject: "x".into(),
                    payload: serde_json::json!({}),
                    ip: None,
                })
                .await
                .unwrap();
        }
        let retention = Duration::from_secs(91 * 86_400);
        let (audit, _) = run_once(store.as_ref(), now, retention, &AuthConfig::default())
            .await
            .unwrap();
        assert_eq!(audit, 1);
        let left: Vec<_> = store
            .audit_log(10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.action.to_string())
            .collect();
        assert_eq!(left, ["kept"]);
    }
}
