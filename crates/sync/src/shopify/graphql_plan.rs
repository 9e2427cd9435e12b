//! Which run a shop that reads by GraphQL makes for a resource now: a bulk
//! operation or an incremental page walk.
//!
//! - **Backfill by bulk** when the resource was never synced (no
//!   successful run and no watermark) or a bulk operation is under way (its
//!   cursor is in the sync state: the run resumes it, after a restart too).
//!   Paging a shop's whole history through the cost budget is what the bulk
//!   operation exists to avoid (a page of orders costs ~250 points, a few
//!   orders; a bulk query costs 10 and Shopify writes the file).
//! - **Reconciliation by bulk** once every [`RECONCILE_EVERY`] after the
//!   last bulk run of this process (the first one a period after it
//!   starts): the whole resource read again and upserted newer-wins, so a
//!   change that no webhook delivered and no `updated_at` search found (a
//!   clock skew, an edit that did not touch `updated_at`) is corrected by
//!   the next morning. The time of the last one is kept in memory: a
//!   restart postpones the next reconciliation by up to a period, never
//!   repeats one.
//! - **Incremental** otherwise: `updated_at` search from the watermark.
//!
//! Returns, disputes and abandoned checkouts always page (returns are
//! listed per order, disputes are read whole, checkouts are few). A bulk run checks what the shop hides first (the same
//! [`preflight`](super::preflight) as every run: scopes, the shop's
//! currency), so a token without `read_all_orders` backfills the 60 days
//! Shopify shows and says so on /sources instead of looking complete.

use super::bulk::{backfill_reporting, BulkCursor, BulkResource};
use super::bulk_finish::{finish_subscribed, FinishWebhook};
use super::{preflight, run, Progress, ShopifyResource, SyncError, SyncRun};
use crate::checkpoints::Checkpoints;
use crate::worker::BulkJob;
use opsdeck_domain::Timestamp;
use opsdeck_sources::shopify::graphql::GraphqlClient;
use opsdeck_sources::shopify::{NormalizeContext, ShopifyClient};
use opsdeck_store::{Store, SyncState};
use tokio::sync::Notify;

/// How often a shop's resources are read whole again by bulk operation.
pub const RECONCILE_EVERY: jiff::SignedDuration = jiff::SignedDuration::from_hours(24);

/// The run a resource needs now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphqlRun {
    /// A bulk operation: the first backfill, its resumption, or the
    /// periodic reconciliation.
    Bulk(BulkResource),
    /// Pages of what changed since the watermark.
    Incremental,
}

impl BulkResource {
    /// The bulk listing that reads `resource` whole, if there is one.
    pub fn of(resource: ShopifyResource) -> Option<BulkResource> {
        match resource {
            ShopifyResource::Orders => Some(BulkResource::Orders),
            ShopifyResource::Products => Some(BulkResource::Products),
            ShopifyResource::InventoryLevels => Some(BulkResource::InventoryLevels),
            ShopifyResource::Customers => Some(BulkResource::Customers),
            // Returns are listed per order, disputes under the payments
            // account and read whole, checkouts are few: paged.
            ShopifyResource::Returns
            | ShopifyResource::Disputes
            | ShopifyResource::AbandonedCheckouts => None,
        }
    }
}

/// Decides the run of `resource` from its sync state and the time of this
/// process's last bulk run of it (`None`: none yet, and the process started
/// at `started`).
pub fn next_run(
    resource: ShopifyResource,
    state: Option<&SyncState>,
    last_bulk: Option<Timestamp>,
    started: Timestamp,
    now: Timestamp,
) -> GraphqlRun {
    let Some(kind) = BulkResource::of(resource) else {
        return GraphqlRun::Incremental;
    };
    let Some(state) = state else {
        return GraphqlRun::Bulk(kind);
    };
    let under_way = state
        .cursor
        .as_deref()
        .and_then(BulkCursor::parse)
        .is_some();
    let never_synced = state.last_success_at.is_none() && state.watermark.is_none();
    if under_way || never_synced {
        return GraphqlRun::Bulk(kind);
    }
    let since = last_bulk.unwrap_or(started);
    match now.duration_since(since) >= RECONCILE_EVERY {
        true => GraphqlRun::Bulk(kind),
        false => GraphqlRun::Incremental,
    }
}

/// The next run of `resource` on a shop that reads by GraphQL: a bulk
/// backfill or reconciliation (then at once an incremental run from the
/// watermark it reached), or an incremental run ([`next_run`]). `bulk`
/// says how a bulk run waits; `last_bulk` is the caller's memory of this
/// process's last bulk run of the resource, updated here; `started` is
/// when the caller started. Outcomes are logged and recorded in the sync
/// state either way.
#[expect(
    clippy::too_many_arguments,
    reason = "the worker's per-run inputs and memory; a struct would only rename them"
)]
pub async fn sync_graphql_resource(
    client: &ShopifyClient,
    graphql: &GraphqlClient,
    store: &dyn Store,
    resource: ShopifyResource,
    now: Timestamp,
    committed: Option<&Notify>,
    bulk: &BulkJob,
    last_bulk: &mut Option<Timestamp>,
    started: Timestamp,
) -> Result<(), SyncError> {
    let state = store.sync_state(client.source(), resource.as_str()).await?;
    match next_run(resource, state.as_ref(), *last_bulk, started, now) {
        GraphqlRun::Incremental => run(client, Some(graphql), store, resource, now, committed)
            .await
            .map(drop),
        GraphqlRun::Bulk(kind) => {
            *last_bulk = Some(now);
            let Some(hidden) = check_before_bulk(client, graphql, store, resource, now).await?
            else {
                return Ok(());
            };
            let mut settings = bulk.settings.clone();
            if let Some(finishes) = &bulk.finishes {
                // Wait for the finish webhook only where the shop sends it.
                match finish_subscribed(client).await {
                    Ok(true) => {
                        settings.finish_webhook = Some(FinishWebhook::new(finishes.clone()))
                    }
                    Ok(false) => {}
                    Err(error) => tracing::info!(
                        %error,
                        "webhook subscriptions not read; polling the bulk operation"
                    ),
                }
            }
            backfill_reporting(graphql, store, kind, &settings, now, committed, hidden).await?;
            // Changes since the operation began, at once rather than a turn later.
            run(client, Some(graphql), store, resource, now, committed)
                .await
                .map(drop)
        }
    }
}

/// The pre-run checks of [`preflight`] before a bulk run: what the shop
/// hides (`Some`, possibly empty), or `None` when a check itself failed,
/// which is recorded in the sync state as that run's failure (and
/// returned).
async fn check_before_bulk(
    client: &ShopifyClient,
    graphql: &GraphqlClient,
    store: &dyn Store,
    resource: ShopifyResource,
    now: Timestamp,
) -> Result<Option<Vec<String>>, SyncError> {
    let settings = client.settings();
    let book = Checkpoints::open(store, &settings.source, resource.as_str(), now, None).await?;
    let mut progress = Progress {
        client,
        graphql: Some(graphql),
        ctx: NormalizeContext {
            source: settings.source.clone(),
            brand: settings.brand.clone(),
            currency: settings.currency,
        },
        book,
        run: SyncRun::new(settings.source.clone(), resource),
    };
    match preflight::check(&mut progress, resource, now).await {
        // The backfill opens the same sync state again and records its
        // outcome; this book only read the checks.
        Ok(hidden) => Ok(Some(hidden)),
        Err(error) => {
            let calls = progress.calls();
            let Progress { book, run, .. } = progress;
            tracing::warn!(%error, "checks before a bulk run failed");
            // Records the failure in the sync state, and returns it.
            book.finish(&calls, Err(error), &run.rejected, now)
                .await
                .map(|_| None)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::SourceId;

    fn at(s: &str) -> Timestamp {
        s.parse().expect("a timestamp")
    }

    fn synced(watermark: Option<&str>, success: Option<&str>) -> SyncState {
        let mut state = SyncState::new(SourceId::parse("shop").expect("an id"), "orders");
        state.watermark = watermark.map(at);
        state.last_success_at = success.map(at);
        state
    }

    #[test]
    fn a_resource_never_synced_is_backfilled_by_bulk() {
        let now = at("2026-12-07T12:00:00Z");
        let bulk = GraphqlRun::Bulk(BulkResource::Orders);
        assert_eq!(
            next_run(ShopifyResource::Orders, None, None, now, now),
            bulk
        );
        let empty = synced(None, None);
        assert_eq!(
            next_run(ShopifyResource::Orders, Some(&empty), None, now, now),
            bulk
        );
        // A shop with no orders synced fine once: no second backfill.
        let done_empty = synced(None, Some("2026-12-07T11:00:00Z"));
        assert_eq!(
            next_run(ShopifyResource::Orders, Some(&done_empty), None, now, now),
            GraphqlRun::Incremental
        );
    }

    #[test]
    fn a_bulk_run_under_way_is_resumed() {
        let now = at("2026-12-07T12:00:00Z");
        let mut state = synced(Some("2026-12-01T00:00:00Z"), Some("2026-12-07T11:00:00Z"));
        state.cursor = Some(
            BulkCursor {
                operation: "gid://shopify/BulkOperation/1".into(),
                line: 10,
                objects: 10,
                newest: None,
                detail: None,
            }
            .encode(),
        );
        assert_eq!(
            next_run(ShopifyResource::Products, Some(&state), Some(now), now, now),
            GraphqlRun::Bulk(BulkResource::Products)
        );
        // A cursor some other run left is not a bulk run.
        state.cursor = Some("page_info=abc".into());
        assert_eq!(
            next_run(ShopifyResource::Products, Some(&state), Some(now), now, now),
            GraphqlRun::Incremental
        );
    }

    #[test]
    fn reconciliation_comes_a_period_after_the_last_bulk_run_or_the_start() {
        let started = at("2026-12-07T00:00:00Z");
        let state = synced(Some("2026-12-06T00:00:00Z"), Some("2026-12-06T23:00:00Z"));
        let run = |last, now: &str| {
            next_run(
                ShopifyResource::InventoryLevels,
                Some(&state),
                last,
                started,
                at(now),
            )
        };
        assert_eq!(run(None, "2026-12-07T23:59:59Z"), GraphqlRun::Incremental);
        assert_eq!(
            run(None, "2026-12-08T00:00:00Z"),
            GraphqlRun::Bulk(BulkResource::InventoryLevels)
        );
        let last = Some(at("2026-12-08T00:00:00Z"));
        assert_eq!(run(last, "2026-12-08T12:00:00Z"), GraphqlRun::Incremental);
        assert_eq!(
            run(last, "2026-12-09T00:00:00Z"),
            GraphqlRun::Bulk(BulkResource::InventoryLevels)
        );
    }
}
