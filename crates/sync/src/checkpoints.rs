//! The bookkeeping every sync run does, whatever the platform: load the
//! resource's [`SyncState`] and mark it running (saved at once, so the
//! source health page shows a run in progress as such), commit each page's
//! records together with the advanced checkpoint, the calls made and the
//! records refused since the previous one (one store call, so a crash loses
//! nothing and repeats at most one page), and record the run's outcome in
//! the state at the end, success or failure, stamped with the moment the
//! run *finished*: a long run does not look fresh before it is done. Each
//! commit can wake whoever follows the change feed (the projection), so a
//! synced page shows at once rather than at the follower's next poll.

use opsdeck_domain::{SourceId, Timestamp};
use opsdeck_sources::shopify::CallStats;
use opsdeck_store::{AnyRecord, Store, StoreError, SyncState, UpsertReport};
use std::fmt::Display;
use tokio::sync::Notify;

/// Whether a run's error is one that retrying will not fix, so a person
/// must act ([`SyncState::needs_attention`]).
pub(crate) trait NeedsAttention {
    fn needs_attention(&self) -> bool;
}
use tokio::time::Instant;

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
    /// When the run opened, on the caller's clock and on the monotonic one:
    /// the run's end is the first plus the time elapsed since the second.
    opened_at: Timestamp,
    opened: Instant,
    /// Records refused since the run opened (the state counts those of
    /// committed pages).
    refused: u64,
    /// What the run found wrong without failing (e.g. the shop's time zone
    /// differs from the brand's): logged by whoever pushes it, shown in
    /// `last_error` of a run that otherwise succeeded.
    pub notices: Vec<String>,
}

impl<'a> Checkpoints<'a> {
    /// The stored state of `resource` (a fresh one on the first run), its
    /// `last_attempt_at` and `running_since` set to `now` and saved at once,
    /// so a run in progress shows as such; `committed` is woken after each
    /// commit.
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
        state.running_since = Some(now);
        state.records_refused = 0;
        store.save_sync_state(&state).await?;
        Ok(Checkpoints {
            store,
            state,
            flushed: CallStats::default(),
            committed,
            opened_at: now,
            opened: Instant::now(),
            refused: 0,
            notices: Vec::new(),
        })
    }

    /// Counts `n` records the run refused; the count is saved with the next
    /// commit (and at the end), so /sources shows it page by page.
    pub fn refuse(&mut self, n: u64) {
        self.refused += n;
    }

    /// The moment the run ends: when it opened plus the time it took.
    fn finished_at(&self) -> Timestamp {
        let took = jiff::SignedDuration::try_from(self.opened.elapsed()).unwrap_or_default();
        self.opened_at.checked_add(took).unwrap_or(self.opened_at)
    }

    /// The committed state plus the calls made since the last commit.
    fn with_calls(&self, calls: &CallStats) -> SyncState {
        let mut state = self.state.clone();
        state.requests += calls.requests - self.flushed.requests;
        state.errors += calls.errors - self.flushed.errors;
        state.rate_limit_waits += calls.rate_limit_waits - self.flushed.rate_limit_waits;
        state.records_refused = self.refused;
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
    /// run's error. The run is no longer running, and its success (or
    /// failure) is stamped with the moment it finished, not `_started`
    /// (kept so every platform's run calls this alike). A run that skipped
    /// `rejected` records, or pushed notices, succeeded, but says so in
    /// `last_error`. A failure to record a failed run is logged: the run's
    /// own error is the one worth returning.
    pub async fn finish<E>(
        self,
        calls: &CallStats,
        outcome: Result<(), E>,
        rejected: &[impl Display],
        _started: Timestamp,
    ) -> Result<SyncState, E>
    where
        E: From<StoreError> + Display + NeedsAttention,
    {
        let now = self.finished_at();
        let mut state = self.with_calls(calls);
        state.running_since = None;
        // A platform that counts refusals only here (not page by page).
        state.records_refused = state.records_refused.max(rejected.len() as u64);
        match outcome {
            Ok(()) => {
                state.last_success_at = Some(now);
                state.consecutive_failures = 0;
                state.needs_attention = false;
                let said: Vec<String> = self
                    .notices
                    .iter()
                    .cloned()
                    .chain(refused_summary(rejected))
                    .collect();
                state.last_error = (!said.is_empty()).then(|| said.join("; "));
                state.last_error_at = state.last_error.as_ref().map(|_| now);
                self.store.save_sync_state(&state).await?;
                Ok(state)
            }
            Err(error) => {
                let said: Vec<String> = std::iter::once(error.to_string())
                    .chain(self.notices.iter().cloned())
                    .chain(refused_summary(rejected))
                    .collect();
                state.last_error = Some(said.join("; "));
                state.last_error_at = Some(now);
                state.consecutive_failures += 1;
                state.needs_attention = error.needs_attention();
                if let Err(save) = self.store.save_sync_state(&state).await {
                    tracing::error!(error = %save, "could not record the failed sync");
                }
                Err(error)
            }
        }
    }
}

/// "3 record(s) rejected; first: …", or nothing when none was.
fn refused_summary(rejected: &[impl Display]) -> Option<String> {
    rejected
        .first()
        .map(|first| format!("{} record(s) rejected; first: {first}", rejected.len()))
}
