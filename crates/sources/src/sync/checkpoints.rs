//! The bookkeeping every sync run does, whatever the platform: load the
//! resource's [`SyncState`], commit each page's records together with the
//! advanced checkpoint and the calls made since the previous one (one store
//! call, so a crash loses nothing and repeats at most one page), and record
//! the run's outcome in the state at the end, success or failure. Each
//! commit can wake whoever follows the change feed (the projection), so a
//! synced page shows at once rather than at the follower's next poll.

use crate::http::CallStats;
use opsdeck_domain::{SourceId, Timestamp};
use opsdeck_store::{AnyRecord, Store, StoreError, SyncState, UpsertReport};
use std::fmt::Display;
use tokio::sync::Notify;

/// A run's sync state as last committed, and how much of the run's calls
/// it already counts.
pub(crate) struct Checkpoints<'a> {
    pub store: &'a dyn Store,
    /// The state as last committed (or loaded); it moves only after a commit.
    pub state: SyncState,
    /// The run's call counts already added to `state`.
    flushed: CallStats,
    /// Woken after each commit, when someone follows the change feed.
    committed: Option<&'a Notify>,
}

impl<'a> Checkpoints<'a> {
    /// The stored state of `resource` (a fresh one on the first run), its
    /// `last_attempt_at` set to `now`; `committed` is woken after each commit.
    pub async fn open(
        store: &'a dyn Store,
        source: &SourceId,
        resource: &str,
        now: Timestamp,
        committed: Option<&'a Notify>,
    ) -> Result<Self, StoreError> {
        let mut state = store
            .sync_state(source, resource)
            .await?
            .unwrap_or_else(|| SyncState::new(source.clone(), resource));
        state.last_attempt_at = Some(now);
        Ok(Checkpoints {
            store,
            state,
            flushed: CallStats::default(),
            committed,
        })
    }

    /// The committed state plus the calls made since the last commit.
    fn with_calls(&self, calls: &CallStats) -> SyncState {
        let mut state = self.state.clone();
        state.requests += calls.requests - self.flushed.requests;
        state.errors += calls.errors - self.flushed.errors;
        state.rate_limit_waits += calls.rate_limit_waits - self.flushed.rate_limit_waits;
        state
    }

    /// Commits one page's `records` with the checkpoint `advance` makes
    /// (watermark, cursor) in one store call; only after that commit does
    /// the in-memory state move forward, and `committed` is woken.
    pub async fn commit(
        &mut self,
        records: &[AnyRecord],
        calls: &CallStats,
        advance: impl FnOnce(&mut SyncState),
    ) -> Result<UpsertReport, StoreError> {
        let mut checkpoint = self.with_calls(calls);
        advance(&mut checkpoint);
        checkpoint.records_synced += records.len() as u64;
        let report = self.store.upsert(records, Some(&checkpoint)).await?;
        self.state = checkpoint;
        self.flushed = *calls;
        if let Some(committed) = self.committed {
            committed.notify_one();
        }
        Ok(report)
    }

    /// Records how the run ended and returns the saved state, or the
    /// run's error. A run that skipped `rejected` records succeeded, but
    /// says so in `last_error`. A failure to record a failed run is logged:
    /// the run's own error is the one worth returning.
    pub async fn finish<E>(
        self,
        calls: &CallStats,
        outcome: Result<(), E>,
        rejected: &[impl Display],
        now: Timestamp,
    ) -> Result<SyncState, E>
    where
        E: From<StoreError> + Display,
    {
        let mut state = self.with_calls(calls);
        match outcome {
            Ok(()) => {
                state.last_success_at = Some(now);
                state.consecutive_failures = 0;
                state.last_error = rejected
                    .first()
                    .map(|first| format!("{} record(s) rejected; first: {first}", rejected.len()));
                state.last_error_at = state.last_error.as_ref().map(|_| now);
                self.store.save_sync_state(&state).await?;
                Ok(state)
            }
            Err(error) => {
                state.last_error = Some(error.to_string());
                state.last_error_at = Some(now);
                state.consecutive_failures += 1;
                if let Err(save) = self.store.save_sync_state(&state).await {
                    tracing::error!(error = %save, "could not record the failed sync");
                }
                Err(error)
            }
        }
    }
}
