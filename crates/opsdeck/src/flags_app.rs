//! Delivering flag changes: the signed webhook to each configured receiver
//! and the shop metafield of each mirrored Shopify brand, from the durable
//! outbox a change writes (`opsdeck_store::flags`), and the automatic end
//! of flags past theirs.
//!
//! [`step`] is the one-step function tests call: end what is due
//! ([`end_expired_flags`]), then attempt every pending delivery that is
//! due. Deliveries to one receiver go in the order of the changes: a
//! delivery waiting for its retry holds back the later ones of the same
//! receiver, so a shop never ends up with an older value. A failed attempt
//! is retried with a doubling wait (1 s, 2 s, 4 s, … at most
//! [`MAX_RETRY_WAIT`]) up to [`MAX_ATTEMPTS`], then given up on; every
//! failure is logged and shown on /sources and /flags with its reason.
//!
//! [`run`] loops around it, woken by a change at once (the web rings
//! `Flags::changed`) and otherwise every second, so a receiver hears of a
//! change within a second of its commit and an automatic end within a
//! second of its time.
//!
//! Several instances may share one PostgreSQL: only the holder of the
//! [`LEASE_NAME`] lease steps ([`step_if_leading`]), so each change is
//! delivered once, not once per instance. The lease is the alert
//! evaluator's mechanism (a row in `alert_leases`, renewed each step,
//! taken over once it has run out) under its own name, so flags are
//! delivered whether or not alerts are configured. A change made on a
//! follower wakes only that follower; the leader picks it up at its next
//! tick, within a second.

use anyhow::Context;
use opsdeck_alerts::notify::webhook::WebhookNotifier;
use opsdeck_alerts::notify::{Notifier, SendOutcome};
use opsdeck_domain::{BrandId, Secret, Timestamp};
use opsdeck_operations::flags::{end_expired_flags, FlagSettings};
use opsdeck_sources::shopify::graphql::{GraphqlClient, GraphqlError, GraphqlStats, ShopMetafield};
use opsdeck_store::flags::{DeliveryAttempt, DeliveryTarget, FlagDelivery};
use opsdeck_store::Store;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Attempts per delivery before it is given up on.
pub const MAX_ATTEMPTS: i64 = 10;
/// The longest wait between two attempts.
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(300);
/// Pending deliveries read per step.
const BATCH: u32 = 200;
/// How often the loop looks without being woken (automatic ends, retries).
const TICK: Duration = Duration::from_secs(1);

/// Where deliveries go: the configured receivers by name, the Shopify
/// brands' GraphQL clients by brand.
#[derive(Default, Clone)]
pub struct FlagReceivers {
    pub webhooks: HashMap<String, Arc<dyn Notifier>>,
    pub shops: HashMap<BrandId, Arc<GraphqlClient>>,
}

impl FlagReceivers {
    /// A signed-webhook receiver (`X-Opsdeck-Signature`, as alert webhooks).
    pub fn with_webhook(mut self, name: &str, url: &str, secret: Secret) -> Self {
        let client = opsdeck_alerts::notify::http_client(Duration::from_secs(10));
        self.webhooks.insert(
            name.to_string(),
            Arc::new(WebhookNotifier::new(client, Secret::new(url), secret)),
        );
        self
    }
}

/// What one step did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct StepReport {
    pub ended: usize,
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

/// The wait before attempt `attempts + 1`.
fn backoff(attempts: i64) -> Duration {
    let exp = u32::try_from(attempts.clamp(0, 16)).unwrap_or(16);
    Duration::from_secs(1u64 << exp).min(MAX_RETRY_WAIT)
}

/// How a failure that may pass is recorded: retried, or given up on after
/// the last attempt.
fn retry_or_fail(
    d: &FlagDelivery,
    now: Timestamp,
    wait: Option<Duration>,
    error: String,
) -> DeliveryAttempt {
    if d.attempts + 1 >= MAX_ATTEMPTS {
        return DeliveryAttempt::Failed {
            error: format!("{error} (gave up after {MAX_ATTEMPTS} attempts)"),
        };
    }
    let wait = wait
        .unwrap_or_else(|| backoff(d.attempts))
        .min(MAX_RETRY_WAIT);
    let next_at = now
        .checked_add(
            jiff::SignedDuration::try_from(wait).unwrap_or(jiff::SignedDuration::from_secs(1)),
        )
        .unwrap_or(now);
    DeliveryAttempt::Retry { next_at, error }
}

async fn attempt(receivers: &FlagReceivers, d: &FlagDelivery, now: Timestamp) -> DeliveryAttempt {
    match &d.target {
        DeliveryTarget::Webhook(name) => {
            let Some(notifier) = receivers.webhooks.get(name) else {
                return DeliveryAttempt::Failed {
                    error: format!("no webhook receiver named {name:?} is configured"),
                };
            };
            match notifier.send(&d.payload).await {
                SendOutcome::Delivered => DeliveryAttempt::Delivered,
                SendOutcome::Retry { after, error } => retry_or_fail(d, now, after, error),
                SendOutcome::Refused { error } => DeliveryAttempt::Failed { error },
            }
        }
        DeliveryTarget::ShopifyMetafield(brand) => {
            let Some(client) = receivers.shops.get(brand) else {
                return DeliveryAttempt::Failed {
                    error: format!("brand {brand} has no Shopify shop configured"),
                };
            };
            let field = |name: &str| {
                d.payload
                    .get(name)
                    .and_then(serde_json::Value::as_str)
                    .unwrap_or_default()
                    .to_string()
            };
            let metafield = ShopMetafield {
                namespace: field("namespace"),
                key: field("key"),
                kind: field("type"),
                value: field("value"),
            };
            let mut stats = GraphqlStats::default();
            match client.set_shop_metafields(&[metafield], &mut stats).await {
                Ok(()) => DeliveryAttempt::Delivered,
                // Shopify refused the value itself: sending it again will not help.
                Err(e @ GraphqlError::UserErrors { .. }) => DeliveryAttempt::Failed {
                    error: e.to_string(),
                },
                Err(e) => retry_or_fail(d, now, None, e.to_string()),
            }
        }
    }
}

/// One step: record due automatic ends, then attempt every due delivery
/// (in order per receiver). Called by [`run`] and by tests.
pub async fn step(
    store: &dyn Store,
    settings: &FlagSettings,
    receivers: &FlagReceivers,
    now: Timestamp,
) -> anyhow::Result<StepReport> {
    let mut report = StepReport {
        ended: end_expired_flags(store, settings, now)
            .await
            .context("recording the automatic end of flags")?
            .len(),
        ..StepReport::default()
    };
    let pending = store
        .pending_flag_deliveries(BATCH)
        .await
        .context("reading pending flag deliveries")?;
    let mut held: HashSet<DeliveryTarget> = HashSet::new();
    for d in pending {
        if held.contains(&d.target) {
            continue;
        }
        if d.next_attempt_at > now {
            held.insert(d.target.clone());
            continue;
        }
        let outcome = attempt(receivers, &d, now).await;
        match &outcome {
            DeliveryAttempt::Delivered => {
                report.delivered += 1;
                tracing::info!(target = %d.target, flag = %d.key, version = d.version, "flag change delivered");
            }
            DeliveryAttempt::Retry { error, .. } => {
                report.retried += 1;
                held.insert(d.target.clone());
                tracing::warn!(target = %d.target, flag = %d.key, attempts = d.attempts + 1, %error, "flag change not delivered; will retry");
            }
            DeliveryAttempt::Failed { error } => {
                report.failed += 1;
                tracing::error!(target = %d.target, flag = %d.key, %error, "flag change could not be delivered; given up");
            }
        }
        store
            .record_flag_delivery(d.id, now, &outcome)
            .await
            .context("recording a flag delivery")?;
    }
    Ok(report)
}

/// The lease naming the one instance that delivers flag changes.
pub const LEASE_NAME: &str = "flag-delivery";

/// This instance's claim on [`LEASE_NAME`].
#[derive(Debug, Clone)]
pub struct Lease {
    /// This process's name on the lease.
    pub holder: String,
    /// How long the lease lasts unrenewed: how soon another instance
    /// takes over from one that died.
    pub ttl: jiff::SignedDuration,
}

impl Lease {
    /// A new process name, with the alerts' lease time (`[alerts] lease`).
    pub fn of(config: &crate::config::Config) -> Lease {
        Lease {
            holder: opsdeck_alerts::leader::process_name(),
            ttl: jiff::SignedDuration::try_from(config.alerts.lease)
                .unwrap_or(jiff::SignedDuration::from_secs(30)),
        }
    }
}

/// [`step`] if this instance holds (or takes) the lease; `None` when
/// another instance does.
pub async fn step_if_leading(
    store: &dyn Store,
    settings: &FlagSettings,
    receivers: &FlagReceivers,
    lease: &Lease,
    now: Timestamp,
) -> anyhow::Result<Option<StepReport>> {
    let leading = store
        .alert_lease(LEASE_NAME, &lease.holder, now, lease.ttl)
        .await
        .context("taking the flag delivery lease")?;
    if !leading {
        return Ok(None);
    }
    step(store, settings, receivers, now).await.map(Some)
}

/// Runs [`step_if_leading`] whenever `changed` rings, and every second,
/// until `stop`; then gives the lease up so another instance takes over
/// at once.
pub async fn run(
    store: Arc<dyn Store>,
    settings: Arc<FlagSettings>,
    receivers: FlagReceivers,
    lease: Lease,
    clock: crate::app::Clock,
    changed: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) {
    loop {
        let stepped = step_if_leading(store.as_ref(), &settings, &receivers, &lease, clock()).await;
        if let Err(error) = stepped {
            tracing::error!(error = format!("{error:#}"), "flag delivery step failed");
        }
        tokio::select! {
            _ = changed.notified() => {}
            _ = tokio::time::sleep(TICK) => {}
            _ = stop.wait_for(|stopped| *stopped) => break,
        }
    }
    if let Err(error) = store.alert_lease_release(LEASE_NAME, &lease.holder).await {
        tracing::warn!(%error, "could not give up the flag delivery lease");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap() {
        assert_eq!(backoff(0), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(8));
        assert_eq!(backoff(12), MAX_RETRY_WAIT);
    }
}
