//! Sending what the outbox holds: claim, send, record — until delivered or
//! expired.
//!
//! Delivery guarantee: **at least once, and in practice exactly once**. A
//! notification row is committed (with its episode's state change) before
//! any send; a sender claims rows with a lease, sends, and records the
//! result at once. Restarts lose nothing: an unsent row stays pending, and
//! a row claimed by a sender that died is claimed again when its lease
//! passes (60 s by default). The one window for a duplicate is a sender
//! dying after the receiver accepted the message but before the
//! "delivered" write commits — a few milliseconds per message; Slack and
//! Telegram offer no idempotency key that could close it. A sender whose
//! lease passed while it was still sending cannot record over the new
//! holder's result (the store refuses the stale holder).

use crate::notify::{Notifiers, SendOutcome};
use jiff::{SignedDuration, Timestamp};
use opsdeck_store::alerts::{DeliveryResult, OutboxRow};
use opsdeck_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// Backoff between attempts when the receiver does not say how long to
/// wait: `base × 2^(attempt−1)`, at most `max`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(2),
            max: Duration::from_secs(300),
        }
    }
}

impl Backoff {
    pub fn after(&self, attempts: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempts.saturating_sub(1).min(20));
        self.base.saturating_mul(factor).min(self.max)
    }
}

/// What one pass did, for logs and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    pub delivered: u32,
    pub retrying: u32,
    pub expired: u32,
    /// Rows whose lease passed before the result could be recorded.
    pub lost_lease: u32,
}

/// One sender of the outbox.
pub struct Sender {
    store: Arc<dyn Store>,
    notifiers: Notifiers,
    /// This process's name on claimed rows.
    pub holder: String,
    pub lease: SignedDuration,
    pub backoff: Backoff,
    pub batch: u32,
}

impl Sender {
    pub fn new(store: Arc<dyn Store>, notifiers: Notifiers, holder: impl Into<String>) -> Self {
        Sender {
            store,
            notifiers,
            holder: holder.into(),
            lease: SignedDuration::from_secs(60),
            backoff: Backoff::default(),
            batch: 50,
        }
    }

    /// Claims every due row and tries each once. `now` decides what is due
    /// and when retries are scheduled.
    #[tracing::instrument(name = "deliver_once", skip_all, fields(holder = %self.holder))]
    pub async fn deliver_once(&self, now: Timestamp) -> opsdeck_store::Result<DeliveryReport> {
        let mut report = DeliveryReport::default();
        let rows = self
            .store
            .outbox_claim(&self.holder, now, self.lease, self.batch)
            .await?;
        for row in rows {
            let result = self.attempt(&row, now).await;
            let outcome = match &result {
                DeliveryResult::Delivered => "delivered",
                DeliveryResult::Retry { .. } => "retry",
                DeliveryResult::Expired { .. } => "expired",
            };
            metrics::counter!("opsdeck_notifications_total", "channel" => row.channel.as_str().to_string(), "outcome" => outcome)
                .increment(1);
            match &result {
                DeliveryResult::Delivered => report.delivered += 1,
                DeliveryResult::Retry { error, .. } => {
                    tracing::warn!(id = %row.id, channel = %row.channel, attempts = row.attempts, %error, "notification will be retried");
                    report.retrying += 1
                }
                DeliveryResult::Expired { error } => {
                    tracing::error!(id = %row.id, channel = %row.channel, %error, "notification given up");
                    report.expired += 1
                }
            }
            if !self
                .store
                .outbox_finish(&row.id, &self.holder, &result, now)
                .await?
            {
                report.lost_lease += 1;
            }
        }
        Ok(report)
    }

    async fn attempt(&self, row: &OutboxRow, now: Timestamp) -> DeliveryResult {
        if now >= row.expires_at {
            return DeliveryResult::Expired {
                error: format!("not delivered before {}", row.expires_at),
            };
        }
        let Some(notifier) = self.notifiers.get(&row.channel) else {
            return DeliveryResult::Expired {
                error: format!("channel {:?} is not configured", row.channel.as_str()),
            };
        };
        match notifier.send(&row.payload).await {
            SendOutcome::Delivered => DeliveryResult::Delivered,
            SendOutcome::Refused { error } => DeliveryResult::Expired { error },
            SendOutcome::Retry { after, error } => {
                let wait = after.unwrap_or_else(|| self.backoff.after(row.attempts));
                let wait = SignedDuration::try_from(wait).unwrap_or(SignedDuration::MAX);
                let at = now.saturating_add(wait).unwrap_or(row.expires_at);
                if at >= row.expires_at {
                    DeliveryResult::Expired {
                        error: format!("{error}; next try would be after the deadline"),
                    }
                } else {
                    DeliveryResult::Retry { at, error }
                }
            }
        }
    }
}
