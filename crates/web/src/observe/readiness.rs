//! Whether this instance can answer with current figures: the store
//! answers a cheap query in time, and the projection every panel reads is
//! within [`CAUGHT_UP_WITHIN`] changes of the change feed. `/readyz` says
//! so to a load balancer; the `/metrics` scrape reports the same lag as
//! `opsdeck_projection_lag_changes`.

use opsdeck_metrics::SharedProjection;
use opsdeck_store::Store;
use std::time::Duration;

/// How long the check waits for the store before calling it unreachable:
/// a load balancer's probe must get its answer before its own timeout.
pub const STORE_CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// How many changes the projection may be behind and still count as
/// caught up: one page of the projection follower, which its next poll
/// (within a second) applies. A busy store always has a few changes in
/// flight; an instance that is rebuilding or stuck is far past this.
pub const CAUGHT_UP_WITHIN: u64 = 2_000;

/// The store did not answer (an error, or no answer within
/// [`STORE_CHECK_TIMEOUT`]). The cause is logged, never shown on the
/// public probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreUnreachable;

/// How many changes of the feed the projection has not applied yet: the
/// store's latest sequence value less the projection's.
pub async fn projection_lag(
    store: &dyn Store,
    projection: &SharedProjection,
) -> Result<u64, StoreUnreachable> {
    let latest = match tokio::time::timeout(STORE_CHECK_TIMEOUT, store.latest_seq()).await {
        Ok(Ok(latest)) => latest,
        Ok(Err(error)) => {
            tracing::warn!(%error, "readiness: the store did not answer");
            return Err(StoreUnreachable);
        }
        Err(_) => {
            tracing::warn!(
                timeout_ms = STORE_CHECK_TIMEOUT.as_millis() as u64,
                "readiness: the store did not answer in time"
            );
            return Err(StoreUnreachable);
        }
    };
    let applied = projection
        .read()
        .map(|p| p.last_seq)
        .unwrap_or_else(|e| e.into_inner().last_seq);
    Ok(latest.saturating_sub(applied))
}
