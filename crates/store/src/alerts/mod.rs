//! Storage for alerts: episodes and their history, the durable notification
//! outbox, silences and the evaluator's leader lease (migration 0004).
//!
//! The store does not know what an alert rule *is*: episode, event, silence
//! and payload bodies are JSON owned by the `opsdeck-alerts` crate (which
//! reads an episode's body as its `Alert` type). An episode's severity and
//! state are columns, typed here ([`Severity`], [`EpisodeState`]) because
//! the store's own rules read the state. The store keeps the rules that
//! must hold whoever calls it:
//!
//! - one evaluation step (episode changes, their events, the notifications
//!   they cause) commits whole or not at all ([`AlertStore::alert_commit`]),
//!   so a notification exists in the outbox before anything tries to send it;
//! - at most one unresolved episode per dedup key (a unique partial index);
//! - a notification is handed to one sender at a time: claiming writes the
//!   sender's name and a lease, and only a row whose lease has passed can be
//!   claimed again ([`AlertStore::outbox_claim`]); a sender can only finish a
//!   row it still holds ([`AlertStore::outbox_finish`]);
//! - a lease row names the one process that evaluates and sends
//!   ([`AlertStore::alert_lease`]); it is taken over once it expires.
//!
//! # Layout
//! - `rows`: what is stored and read ([`EpisodeRow`] with its
//!   [`Severity`] and [`EpisodeState`], [`EventRow`], the outbox's rows,
//!   [`SilenceRow`], [`AlertBatch`]), and the [`Channel`] a notification
//!   is queued for.
//! - `sql`: [`AlertStore`] over SQLite and PostgreSQL.

mod rows;
mod sql;

pub use rows::*;
pub(crate) use sql::insert_notifications;

use crate::Result;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

/// The alert tables. Every [`crate::Store`] implements it.
///
/// An episode write never reopens a resolved episode nor turns an
/// acknowledged one back to firing: an acknowledgement made by a person
/// (through any process) wins over an evaluator that has not seen it yet.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Writes a batch in one transaction.
    async fn alert_commit(&self, batch: &AlertBatch) -> Result<()>;

    async fn alert_episodes(&self, filter: &EpisodeFilter) -> Result<Vec<EpisodeRow>>;

    async fn alert_episode(&self, id: &str) -> Result<Option<EpisodeRow>>;

    /// The history of an episode, oldest first.
    async fn alert_events(&self, episode_id: &str) -> Result<Vec<EventRow>>;

    /// Claims up to `limit` pending notifications due at `now` whose lease
    /// (if any) has passed, for `holder` until `now + lease`, counting an
    /// attempt for each. Two concurrent claimers never get the same row.
    async fn outbox_claim(
        &self,
        holder: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<OutboxRow>>;

    /// Records how an attempt ended. Returns false (and changes nothing)
    /// when `holder` no longer holds the row: its lease passed and another
    /// sender claimed it.
    async fn outbox_finish(
        &self,
        id: &str,
        holder: &str,
        result: &DeliveryResult,
        now: Timestamp,
    ) -> Result<bool>;

    /// Notifications, newest first: those of one episode, or all.
    async fn outbox_list(&self, episode_id: Option<&str>, limit: u32) -> Result<Vec<OutboxRow>>;

    /// Silences whose window contains `at`, or every silence when `None`.
    async fn alert_silences(&self, at: Option<Timestamp>) -> Result<Vec<SilenceRow>>;

    /// Takes or renews the lease `name` for `holder` until `now + ttl`.
    /// True when `holder` holds it afterwards: it was free, expired, or
    /// already `holder`'s.
    async fn alert_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<bool>;

    /// Gives the lease up at once (clean shutdown), if `holder` holds it.
    async fn alert_lease_release(&self, name: &str, holder: &str) -> Result<()>;
}
