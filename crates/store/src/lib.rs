//! The durable system of record.
//!
//! One [`Store`] trait, implemented for SQLite (the default: one file, WAL)
//! and PostgreSQL (production). Both keep the same rules:
//!
//! - records are upserted idempotently, keyed by (kind, source, external id);
//! - an update whose `updated_at` is older than the stored copy is ignored,
//!   so webhooks and syncs that arrive out of order never roll data back;
//! - every write that changes a record takes the next value of one global
//!   sequence, and [`Store::changes_since`] reads them back in that order
//!   (the change feed the projection follows);
//! - a batch, together with its sync checkpoint, commits whole or not at all.
//!
//! # Layout
//! - [`model`]: the types the trait speaks (records of any kind, changes,
//!   upsert reports, sync state).
//! - `kinds`: every record kind in one place: its [`AnyRecord`] variant,
//!   its count, its table (report columns, nullability, indexes), and the
//!   exhaustive map from [`opsdeck_domain::RecordKind`] to its table.
//! - `engine`: the store rules (upsert, change feed, reports), written once.
//! - `schema`: the SQL built from those tables (upserts, lookups, the change
//!   feed, counts, sync state), a record's row, and each record table's
//!   `CREATE .. IF NOT EXISTS` that [`Store::migrate`] runs after the
//!   migrations.
//! - `db`: the narrow seam each driver implements (run a statement, read
//!   rows, open a transaction), so the rules are not duplicated per backend.
//! - `sqlite`, `postgres`: the two drivers, each with its own `migrations/`
//!   folder.
//! - [`alerts`]: alert episodes, history, the notification outbox,
//!   silences and the evaluator's lease (the `AlertStore` part of a store).
//! - [`users`]: dashboard accounts, sessions and the audit log queries
//!   (the `UserStore` part of a store); `audit`: [`AuditAction`], what an
//!   audit entry says a person did.
//! - [`decisions`]: sales-pulse decisions, stored with their audit entry
//!   (the `DecisionStore` part of a store).
//! - [`incidents`]: incidents, their linked alerts, the notices sent for
//!   them and component statuses (the `IncidentStore` part of a store).
//! - [`api_versions`]: the Shopify API version each source's answers came
//!   in and their deprecation notices (the `ApiVersionStore` part).
//! - [`approvals`]: approval requests, each step a compare-and-set with its
//!   audit entry (the `ApprovalStore` part of a store).
//! - [`flags`]: freeze flags, the outbox of their deliveries and the
//!   storefront keys that read them (the `FlagStore` part of a store).
//! - [`handover`]: shift handover notes and the morning checklist's
//!   checks (the `HandoverStore` part of a store).
//! - [`funnel`]: the storefront funnel's session-days and the abandoned
//!   checkouts' creation times (the `FunnelStore` part of a store).
//! - [`exports`]: export jobs (queued, claimed by one worker, finished
//!   once, expired with their file) and their download links (the
//!   `ExportStore` part of a store).
//! - [`privacy`]: privacy requests, the search for a person's records,
//!   their erasure and the wiping of every other copy (the
//!   `PrivacyStore` part of a store).
//! - [`health_checks`]: system health checks' results, current states and
//!   state changes (the `HealthCheckStore` part of a store).
//! - [`report_runs`]: runs of scheduled reports, each scheduled, claimed
//!   by one instance and ended as sent, skipped or failed.
//! - [`testing`] (feature `testing`, for tests only): helpers that give tests
//!   a fresh store on each available backend, and `TEST_LOG`.

pub mod alerts;
pub mod api_versions;
pub mod approvals;
mod audit;
mod db;
pub mod decisions;
mod engine;
pub mod exports;
pub mod flags;
pub mod funnel;
pub mod handover;
pub mod health_checks;
pub mod inbox;
pub mod incidents;
mod journal;
mod kinds;
pub mod model;
mod postgres;
pub mod privacy;
pub mod report_runs;
mod schema;
mod sqlite;
mod sqlx_db;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
pub mod tokens;
pub mod users;

pub use alerts::AlertStore;
pub use api_versions::{ApiVersionNote, ApiVersionStore};
pub use approvals::{
    Approval, ApprovalDecision, ApprovalKind, ApprovalState, ApprovalStore, DecideOutcome,
    NewApproval, RequestedVia, RunOutcome,
};
pub use audit::AuditAction;
pub use decisions::{Decision, DecisionKind, DecisionStore, NewDecision};
pub use exports::ExportStore;
pub use flags::{FlagKey, FlagRecord, FlagStore};
pub use funnel::FunnelStore;
pub use handover::HandoverStore;
pub use health_checks::HealthCheckStore;
pub use inbox::{
    AppliedWebhooks, InboxEvent, InsertOutcome, StoredWebhook, WebhookStats, WebhookStatus,
};
pub use incidents::IncidentStore;
pub use model::{
    AnyRecord, Change, OrderFact, RecordCounts, SyncState, UpsertOutcome, UpsertReport,
    WEBHOOKS_RESOURCE,
};
pub use privacy::PrivacyStore;
pub use report_runs::{ReportRun, ReportRunStore, RunStatus};
pub use tokens::{
    cut_text, ApiToken, AuditEntry, IngestNote, IngestNoteFor, NewApiToken, TokenCheck, TokenKinds,
};
pub use users::{
    normalize_username, validate_username, AuditCursor, AuditFilter, AuditPage, LoginAttack,
    NewSession, NewUser, Role, SessionRecord, User, UserStore,
};

use async_trait::async_trait;
use opsdeck_domain::{
    BrandId, InventoryLevel, Order, Product, ReturnRequest, ReviewItem, SourceId, Timestamp,
};
use std::sync::Arc;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Why a store operation failed. The database's own message is kept for
/// operators; connection URLs (which may hold passwords) never appear.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported database URL scheme {0:?}: use sqlite:PATH or postgres://...")]
    UnsupportedUrl(String),
    /// A malformed database URL; the message names the problem, never the
    /// URL itself.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// The SQLite store's webhook journal (a directory beside the database).
    #[error("webhook journal {0}")]
    Journal(String),
    #[error("stored {kind} {external_id:?} could not be decoded: {reason}")]
    Corrupt {
        kind: &'static str,
        external_id: String,
        reason: String,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The one storage interface every other stage uses. Object safe, so the
/// application holds an `Arc<dyn Store>` and never knows the backend.
#[async_trait]
pub trait Store:
    AlertStore
    + UserStore
    + DecisionStore
    + IncidentStore
    + ApiVersionStore
    + ApprovalStore
    + FlagStore
    + HandoverStore
    + FunnelStore
    + PrivacyStore
    + HealthCheckStore
    + ReportRunStore
    + ExportStore
    + Send
    + Sync
    + 'static
{
    fn backend(&self) -> Backend;

    /// Applies pending migrations, then creates each record kind's table
    /// and indexes from its descriptor where missing (a new kind needs no
    /// migration; an existing table is left as it is). Safe to call on
    /// every start.
    async fn migrate(&self) -> Result<()>;

    /// Upserts `records` and, when given, saves `checkpoint`, in one
    /// transaction. Per record: inserted if new; updated (taking the next
    /// change sequence value) if its `updated_at` is newer than the stored
    /// copy, or equal with different content; otherwise left alone and
    /// reported as unchanged or stale. Outcomes come back in input order.
    async fn upsert(
        &self,
        records: &[AnyRecord],
        checkpoint: Option<&SyncState>,
    ) -> Result<UpsertReport>;

    /// Changes with sequence value greater than `after`, oldest first, at
    /// most `limit`. Each carries the record as it is now.
    /// [`Store::upsert`] that also counts `notes` in the ingest health rows
    /// in the same transaction, so a committed batch is always counted.
    async fn upsert_noting_ingest(
        &self,
        records: &[AnyRecord],
        notes: &[IngestNoteFor],
    ) -> Result<UpsertReport>;

    /// [`Store::upsert`] of the records applied from webhook events that
    /// also marks those events (and `applied.notes`' events) processed in
    /// the same transaction: one durable commit per inbox step.
    async fn upsert_applying_webhooks(
        &self,
        records: &[AnyRecord],
        applied: &AppliedWebhooks<'_>,
    ) -> Result<UpsertReport>;

    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<Change>>;

    /// The highest sequence value written so far (0 for an empty store).
    async fn latest_seq(&self) -> Result<u64>;

    async fn get_order(&self, source: &SourceId, external_id: &str) -> Result<Option<Order>>;

    /// Every order of a source, ordered by external id (tests and exports).
    async fn list_orders(&self, source: &SourceId) -> Result<Vec<Order>>;

    /// Every product of a source, ordered by external id.
    async fn list_products(&self, source: &SourceId) -> Result<Vec<Product>>;

    /// Every inventory level of a source, ordered by external id.
    async fn list_inventory_levels(&self, source: &SourceId) -> Result<Vec<InventoryLevel>>;

    /// The few columns the order volume cards need, for non-test orders of
    /// `brand` created in `[from, to)`, read from indexed columns only.
    async fn order_facts(
        &self,
        brand: &BrandId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OrderFact>>;

    /// Number of stored records of each kind.
    async fn record_counts(&self) -> Result<RecordCounts>;

    async fn sync_state(&self, source: &SourceId, resource: &str) -> Result<Option<SyncState>>;

    /// Saves the whole sync state of one (source, resource), replacing it.
    async fn save_sync_state(&self, state: &SyncState) -> Result<()>;

    async fn all_sync_states(&self) -> Result<Vec<SyncState>>;

    async fn get_product(&self, source: &SourceId, external_id: &str) -> Result<Option<Product>>;

    /// The stored return request `external_id` of `source`, if any: what a
    /// `returns/*` webhook changes.
    async fn get_return_request(
        &self,
        source: &SourceId,
        external_id: &str,
    ) -> Result<Option<ReturnRequest>>;

    /// The stored review item `external_id` of `source`, if any: what a
    /// review event (`/api/v1/ingest/review-events`) lands on.
    async fn get_review_item(
        &self,
        source: &SourceId,
        external_id: &str,
    ) -> Result<Option<ReviewItem>>;

    /// Commits webhook deliveries to the inbox in one transaction (one
    /// durable commit for the whole batch). A `(source, webhook_id)` already
    /// stored, or repeated earlier in the batch, is a `Duplicate` and not
    /// written again. Outcomes come back in input order.
    async fn insert_webhooks(&self, events: &[InboxEvent]) -> Result<Vec<InsertOutcome>>;

    /// Pending events whose next attempt is due by `due_by`, oldest first.
    async fn pending_webhooks(&self, due_by: Timestamp, limit: u32) -> Result<Vec<StoredWebhook>>;

    /// Events in `status`, oldest first (e.g. the failed ones, for a person).
    async fn webhooks_with_status(
        &self,
        status: WebhookStatus,
        limit: u32,
    ) -> Result<Vec<StoredWebhook>>;

    /// The newest `limit` events given up on (status `Failed`), newest
    /// first, for the source health view.
    async fn recent_failed_webhooks(&self, limit: u32) -> Result<Vec<StoredWebhook>>;

    /// Marks events processed, each with a short note of what it did.
    async fn mark_webhooks_processed(&self, done: &[(i64, String)], at: Timestamp) -> Result<()>;

    /// Records a failed processing attempt (attempts + 1, the error without
    /// secrets). With `retry_at` the event stays pending until then; without,
    /// it is given up on and kept as `Failed`.
    async fn mark_webhook_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()>;

    async fn webhook_stats(&self) -> Result<WebhookStats>;

    /// Stores a new API token (only the hash of its secret) and its audit
    /// entry, in one transaction.
    async fn create_api_token(&self, token: &NewApiToken, audit: &AuditEntry) -> Result<()>;

    /// Every API token, oldest first, without secrets.
    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>>;

    /// Checks a presented `odk_…` token: lookup by id, constant-time hash
    /// compare. A valid token's `last_used_at` is refreshed (at most once a
    /// minute).
    async fn verify_api_token(&self, presented: &str, now: Timestamp) -> Result<TokenCheck>;

    /// Revokes a token and writes the audit entry, in one transaction.
    /// `false` (and nothing written) when no unrevoked token has this id.
    async fn revoke_api_token(&self, id: &str, at: Timestamp, audit: &AuditEntry) -> Result<bool>;

    /// The newest audit entries first, at most `limit`.
    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>>;

    /// Counts one ingest request in the health row of (source, kind):
    /// requests, errors, last success or error, records and watermark.
    async fn note_ingest(
        &self,
        source: &SourceId,
        kind: &str,
        at: Timestamp,
        note: &IngestNote,
    ) -> Result<()>;
}

/// Opens the store a URL names: `sqlite:PATH` / `sqlite://PATH` (created if
/// missing, WAL mode) or `postgres://…` / `postgresql://…`. Does not migrate.
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("sqlite:") {
        Ok(Arc::new(sqlite::SqliteStore::connect(url).await?))
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PostgresStore::connect(url).await?))
    } else {
        let scheme = url.split(':').next().unwrap_or_default().to_string();
        Err(StoreError::UnsupportedUrl(scheme))
    }
}
