//! The types the [`crate::Store`] trait speaks.

use opsdeck_domain::{Money, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

pub use crate::kinds::{AnyRecord, RecordCounts};

/// What happened to one record of an upsert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum UpsertOutcome {
    /// New record; carries its change sequence value.
    Inserted { seq: u64 },
    /// Newer (or same time, different content); carries the new sequence value.
    Updated { seq: u64 },
    /// Same `updated_at` and same content: nothing written.
    Unchanged,
    /// Older than the stored copy: ignored.
    Stale,
}

/// The outcome of each record of a batch, in input order, with totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct UpsertReport {
    pub outcomes: Vec<UpsertOutcome>,
}

impl UpsertReport {
    pub fn inserted(&self) -> usize {
        self.count(|o| matches!(o, UpsertOutcome::Inserted { .. }))
    }
    pub fn updated(&self) -> usize {
        self.count(|o| matches!(o, UpsertOutcome::Updated { .. }))
    }
    pub fn unchanged(&self) -> usize {
        self.count(|o| matches!(o, UpsertOutcome::Unchanged))
    }
    pub fn stale(&self) -> usize {
        self.count(|o| matches!(o, UpsertOutcome::Stale))
    }
    fn count(&self, f: impl Fn(&UpsertOutcome) -> bool) -> usize {
        self.outcomes.iter().filter(|o| f(o)).count()
    }
}

/// One entry of the change feed: the record as it is after the write that
/// took sequence value `seq`. A record written several times appears once,
/// at its latest sequence value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Change {
    pub seq: u64,
    pub record: AnyRecord,
}

/// The columns the order volume cards need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OrderFact {
    pub created_at: Timestamp,
    pub total_price: Money,
    pub cancelled: bool,
}

/// The resource under which a source's webhook processing keeps its
/// health (failures given up on, an uninstalled app). Webhooks are pushed,
/// not polled: their health counts, their age does not (a quiet shop sends
/// none for hours).
pub const WEBHOOKS_RESOURCE: &str = "webhooks";

/// Progress and health of one (source, resource) sync, e.g.
/// (`shopify-mavena`, `orders`). Saved with each page so a crash resumes
/// from the last committed page; error text must already be free of secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SyncState {
    pub source: SourceId,
    pub resource: String,
    /// Highest platform `updated_at` fully stored; the next incremental run
    /// asks for changes since this minus an overlap.
    pub watermark: Option<Timestamp>,
    /// Opaque resume position within a run, where the platform allows one.
    pub cursor: Option<String>,
    pub last_attempt_at: Option<Timestamp>,
    pub last_success_at: Option<Timestamp>,
    pub last_error: Option<String>,
    pub last_error_at: Option<Timestamp>,
    pub consecutive_failures: u32,
    pub requests: u64,
    pub errors: u64,
    pub rate_limit_waits: u64,
    pub records_synced: u64,
    /// When the run in progress started; `None` between runs. Set (and
    /// saved) as a run opens and cleared as it finishes, so the source
    /// health page can tell "syncing now" from "idle", and a run that never
    /// finished (a crash) from one that did.
    #[serde(default)]
    pub running_since: Option<Timestamp>,
    /// Records the latest run refused (could not be normalized: a foreign
    /// currency, a bad field), counted page by page as they are met; the
    /// reasons are in `last_error`. Reset as each run opens.
    #[serde(default)]
    pub records_refused: u64,
    /// The latest run failed for a cause that retrying will not fix (a
    /// missing access scope, a shop in another currency than the brand's):
    /// a person must act, so the source-health alert fires on the first
    /// such run instead of waiting for failures in a row. Set and cleared
    /// by each finished run; the cause is in `last_error`.
    #[serde(default)]
    pub needs_attention: bool,
}

impl SyncState {
    pub fn new(source: SourceId, resource: impl Into<String>) -> Self {
        SyncState {
            source,
            resource: resource.into(),
            watermark: None,
            cursor: None,
            last_attempt_at: None,
            last_success_at: None,
            last_error: None,
            last_error_at: None,
            consecutive_failures: 0,
            requests: 0,
            errors: 0,
            rate_limit_waits: 0,
            records_synced: 0,
            running_since: None,
            records_refused: 0,
            needs_attention: false,
        }
    }
}
