//! Exactly one evaluator and sender among the processes sharing a store.
//!
//! A lease row in the store (`alert_leases`) names the leader until an
//! expiry; the leader renews it every cycle, a follower takes it over once
//! it has expired. With the default 30 s lease and 5 s cycle a dead
//! leader is replaced within 35 s — inside the minute the issue asks for.
//! A lease row rather than `pg_try_advisory_lock`: it behaves the same on
//! SQLite and PostgreSQL, survives a connection pool recycling connections
//! (an advisory lock dies with its connection, silently), and its holder
//! is visible to an operator. Should two processes ever both act (a leader
//! paused past its lease), the store still keeps one open episode per key
//! and one sender per notification row.

use jiff::{SignedDuration, Timestamp};
use opsdeck_store::Store;
use std::sync::Arc;

/// The lease the alert evaluator holds.
pub const LEASE_NAME: &str = "alerts";

pub struct Leader {
    store: Arc<dyn Store>,
    pub holder: String,
    pub ttl: SignedDuration,
}

impl Leader {
    pub fn new(store: Arc<dyn Store>, holder: impl Into<String>, ttl: SignedDuration) -> Self {
        Leader {
            store,
            holder: holder.into(),
            ttl,
        }
    }

    /// Takes or renews the lease; true while this process leads.
    pub async fn try_lead(&self, now: Timestamp) -> opsdeck_store::Result<bool> {
        self.store
            .alert_lease(LEASE_NAME, &self.holder, now, self.ttl)
            .await
    }

    /// Gives the lease up (clean shutdown) so another takes over at once.
    pub async fn step_down(&self) -> opsdeck_store::Result<()> {
        self.store
            .alert_lease_release(LEASE_NAME, &self.holder)
            .await
    }
}

/// A name for this process on leases and outbox claims: host-less but
/// unique enough (pid and a random part).
pub fn process_name() -> String {
    format!(
        "opsdeck-{}-{:08x}",
        std::process::id(),
        rand::random::<u32>()
    )
}
