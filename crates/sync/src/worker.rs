//! The background worker: each (source, resource) sync on its own cadence.
//!
//! Jobs of one source run one after another in one task, because they share
//! the source's rate limit and because some read what another stored:
//! inventory levels are read for the variants the products sync stored (so
//! products go first), and Gorgias messages and surveys take their ticket's
//! brand (so tickets go first). Different sources (each shop, the helpdesk) run side
//! by side. A failed run is logged and recorded in its sync state by
//! [`sync_once`](crate::sync_once); the worker itself never stops for it. Started with
//! [`run_sync_loop_notifying`], it wakes a [`Notify`] after every page a run
//! commits, so the projection shows synced records at once. A GraphQL
//! shop's resource that never completed a run is backfilled by bulk
//! operation first ([`BulkJob`]), then synced incrementally.

use crate::gorgias::{sync_gorgias_notifying, GorgiasConnector, GorgiasResource};
use crate::shopify::bulk::{backfill, BulkCursor, BulkResource, BulkSettings};
use crate::shopify::bulk_finish::{finish_subscribed, BulkFinishes, FinishWebhook};
use crate::shopify::{sync_once_graphql_notifying, sync_once_notifying, ShopifyResource};
use opsdeck_domain::{SourceId, Timestamp};
use opsdeck_sources::shopify::graphql::GraphqlClient;
use opsdeck_sources::shopify::ShopifyClient;
use opsdeck_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};
use tokio::task::JoinSet;
use tokio::time::Instant;

/// One resource of one shop, synced every `every`.
#[derive(Debug, Clone)]
pub struct SyncJob {
    pub client: Arc<ShopifyClient>,
    /// Set when the shop reads by GraphQL ([`crate::ShopifyApi::Graphql`]):
    /// one client per shop shared by its jobs, so they draw on one cost
    /// budget.
    pub graphql: Option<Arc<GraphqlClient>>,
    pub resource: ShopifyResource,
    pub every: Duration,
    /// For a GraphQL shop: backfill by bulk operation (a resource's first
    /// run, or one whose bulk backfill was cut short), then the
    /// incremental run. `None`: the first run is an incremental run from
    /// nothing (paged).
    pub bulk: Option<BulkJob>,
}

/// How a GraphQL shop's backfills run.
#[derive(Debug, Clone, Default)]
pub struct BulkJob {
    pub settings: BulkSettings,
    /// Set when this process receives the shop's webhooks (its webhook
    /// secret is configured): a backfill then waits for the
    /// `bulk_operations/finish` delivery if the shop is subscribed to it
    /// (asked at each backfill), polling only every safety interval.
    pub finishes: Option<Arc<BulkFinishes>>,
}

/// One Gorgias resource, synced every `every`.
#[derive(Debug, Clone)]
pub struct GorgiasJob {
    pub connector: Arc<GorgiasConnector>,
    pub resource: GorgiasResource,
    pub every: Duration,
}

/// Any job the worker runs: a Shopify resource of one shop or a Gorgias
/// resource of the helpdesk.
#[derive(Debug, Clone)]
pub enum WorkerJob {
    Shopify(SyncJob),
    Gorgias(GorgiasJob),
}

impl From<SyncJob> for WorkerJob {
    fn from(job: SyncJob) -> Self {
        WorkerJob::Shopify(job)
    }
}

impl From<GorgiasJob> for WorkerJob {
    fn from(job: GorgiasJob) -> Self {
        WorkerJob::Gorgias(job)
    }
}

impl WorkerJob {
    fn source(&self) -> &SourceId {
        match self {
            WorkerJob::Shopify(j) => j.client.source(),
            WorkerJob::Gorgias(j) => j.connector.source(),
        }
    }

    fn every(&self) -> Duration {
        match self {
            WorkerJob::Shopify(j) => j.every,
            WorkerJob::Gorgias(j) => j.every,
        }
    }

    /// Position within its source's round (dependencies first).
    fn rank(&self) -> usize {
        match self {
            WorkerJob::Shopify(j) => ShopifyResource::ALL
                .iter()
                .position(|r| *r == j.resource)
                .unwrap_or(usize::MAX),
            WorkerJob::Gorgias(j) => GorgiasResource::ALL
                .iter()
                .position(|r| *r == j.resource)
                .unwrap_or(usize::MAX),
        }
    }

    /// One run, waking `committed` after each page it commits; its outcome
    /// (and failure) is logged and recorded in the sync state by the run
    /// itself.
    async fn run(&self, store: &dyn Store, now: Timestamp, committed: Option<&Notify>) {
        match self {
            WorkerJob::Shopify(j) => {
                let _ = match &j.graphql {
                    Some(graphql) => {
                        let (client, resource) = (&j.client, j.resource);
                        if let Some(bulk) = &j.bulk {
                            if !backfill_first(j, graphql, bulk, store, now, committed).await {
                                return;
                            }
                        }
                        sync_once_graphql_notifying(
                            client, graphql, store, resource, now, committed,
                        )
                        .await
                    }
                    None => sync_once_notifying(&j.client, store, j.resource, now, committed).await,
                };
            }
            WorkerJob::Gorgias(j) => {
                let connector = &j.connector;
                let _ = sync_gorgias_notifying(connector, store, j.resource, now, committed).await;
            }
        }
    }
}

/// Runs the bulk backfill of `job`'s resource when it needs one (never
/// completed, or cut short with its operation saved); false when that
/// backfill did not complete (its outcome is in the sync state, and the
/// next turn resumes it), so the incremental run waits for it.
async fn backfill_first(
    job: &SyncJob,
    graphql: &GraphqlClient,
    bulk: &BulkJob,
    store: &dyn Store,
    now: Timestamp,
    committed: Option<&Notify>,
) -> bool {
    let kind = match job.resource {
        ShopifyResource::Orders => BulkResource::Orders,
        ShopifyResource::Products => BulkResource::Products,
        ShopifyResource::InventoryLevels => BulkResource::InventoryLevels,
    };
    let source = job.client.source();
    let state = match store.sync_state(source, job.resource.as_str()).await {
        Ok(state) => state,
        Err(error) => {
            tracing::warn!(%source, %error, "cannot read the sync state; backfill later");
            return false;
        }
    };
    let resuming = state
        .as_ref()
        .and_then(|s| s.cursor.as_deref())
        .and_then(BulkCursor::parse)
        .is_some();
    let never_done = state
        .as_ref()
        .is_none_or(|s| s.watermark.is_none() && s.last_success_at.is_none());
    if !resuming && !never_done {
        return true;
    }
    let mut settings = bulk.settings.clone();
    if let Some(finishes) = &bulk.finishes {
        match finish_subscribed(&job.client).await {
            Ok(true) => settings.finish_webhook = Some(FinishWebhook::new(finishes.clone())),
            Ok(false) => {}
            Err(error) => {
                tracing::info!(%source, %error, "webhook subscriptions not read; polling the bulk operation")
            }
        }
    }
    backfill(graphql, store, kind, &settings, now, committed)
        .await
        .is_ok()
}

/// Makes every job run now instead of at its next turn: the dashboard's
/// "refresh" button. Clone it freely; firing while a run is in progress
/// queues one more round right after it.
#[derive(Debug, Clone)]
pub struct SyncTrigger(Arc<watch::Sender<u64>>);

impl SyncTrigger {
    pub fn new() -> Self {
        SyncTrigger(Arc::new(watch::channel(0).0))
    }

    pub fn fire(&self) {
        self.0.send_modify(|generation| *generation += 1);
    }
}

impl Default for SyncTrigger {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs `jobs` until `shutdown` turns true (or its sender is dropped). The
/// first round starts immediately. `clock` gives the `now` stamped on sync
/// states, so tests can run the worker against a simulated time.
pub async fn run_sync_loop<J: Into<WorkerJob>>(
    jobs: Vec<J>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    shutdown: watch::Receiver<bool>,
) {
    run_sync_loop_with_trigger(jobs, store, clock, shutdown, SyncTrigger::new()).await;
}

/// [`run_sync_loop`] with a [`SyncTrigger`] that forces an immediate round.
pub async fn run_sync_loop_with_trigger<J: Into<WorkerJob>>(
    jobs: Vec<J>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    shutdown: watch::Receiver<bool>,
    trigger: SyncTrigger,
) {
    run_sync_loop_notifying(jobs, store, clock, shutdown, trigger, None).await;
}

/// [`run_sync_loop_with_trigger`], waking `committed` after every page a
/// run commits, so whoever follows the change feed (the projection) reads
/// synced records at once instead of at its next poll.
pub async fn run_sync_loop_notifying<J: Into<WorkerJob>>(
    jobs: Vec<J>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    shutdown: watch::Receiver<bool>,
    trigger: SyncTrigger,
    committed: Option<Arc<Notify>>,
) {
    let mut shops: Vec<(SourceId, Vec<WorkerJob>)> = Vec::new();
    for job in jobs {
        let job: WorkerJob = job.into();
        let source = job.source().clone();
        match shops.iter_mut().find(|(s, _)| *s == source) {
            Some((_, shop_jobs)) => shop_jobs.push(job),
            None => shops.push((source, vec![job])),
        }
    }
    let mut tasks = JoinSet::new();
    for (source, mut shop_jobs) in shops {
        // Orders, then products, then inventory levels (which need
        // products); tickets, then messages and surveys (which take the
        // tickets' brands).
        shop_jobs.sort_by_key(WorkerJob::rank);
        tasks.spawn(run_shop(
            source,
            shop_jobs,
            store.clone(),
            clock.clone(),
            shutdown.clone(),
            trigger.0.subscribe(),
            committed.clone(),
        ));
    }
    while let Some(joined) = tasks.join_next().await {
        if let Err(e) = joined {
            tracing::error!(error = %e, "sync task ended abnormally");
        }
    }
}

/// Resolves once shutdown is asked for, or can no longer be (sender gone).
async fn stop_requested(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn run_shop(
    source: SourceId,
    jobs: Vec<WorkerJob>,
    store: Arc<dyn Store>,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    mut shutdown: watch::Receiver<bool>,
    mut trigger: watch::Receiver<u64>,
    committed: Option<Arc<Notify>>,
) {
    let mut due = vec![Instant::now(); jobs.len()];
    let mut trigger_alive = true;
    loop {
        for (job, due_at) in jobs.iter().zip(due.iter_mut()) {
            if *shutdown.borrow() {
                return;
            }
            if *due_at > Instant::now() {
                continue;
            }
            let run = job.run(store.as_ref(), clock(), committed.as_deref());
            tokio::select! {
                biased;
                _ = stop_requested(&mut shutdown) => return,
                // Outcomes (and failures) are logged and recorded by sync_once.
                _ = run => {}
            }
            *due_at = Instant::now() + job.every();
        }
        let Some(next) = due.iter().min().copied() else {
            return;
        };
        tokio::select! {
            biased;
            _ = stop_requested(&mut shutdown) => return,
            changed = trigger.changed(), if trigger_alive => {
                if changed.is_ok() {
                    tracing::info!(%source, "sync triggered");
                    due.fill(Instant::now());
                } else {
                    trigger_alive = false;
                }
            }
            _ = tokio::time::sleep_until(next) => {}
        }
    }
}
