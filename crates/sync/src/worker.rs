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
//! operation first, then synced incrementally, and read whole again by
//! bulk once a day ([`crate::shopify::graphql_plan`], [`BulkJob`]).

use crate::gorgias::{sync_gorgias_notifying, GorgiasConnector, GorgiasResource};
use crate::shopify::bulk::BulkSettings;
use crate::shopify::bulk_finish::BulkFinishes;
use crate::shopify::graphql_plan::sync_graphql_resource;
use crate::shopify::{sync_once_notifying, ShopifyResource};
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
    /// budget. Such a shop backfills and reconciles by bulk operation
    /// ([`crate::shopify::graphql_plan`]).
    pub graphql: Option<Arc<GraphqlClient>>,
    pub resource: ShopifyResource,
    pub every: Duration,
    /// For a GraphQL shop: how its bulk runs (backfill, resumption,
    /// reconciliation: [`crate::shopify::graphql_plan`]) poll and wait.
    /// `None`: the default settings, polling.
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

    /// The resource's name, as its sync state names it.
    fn resource_name(&self) -> &'static str {
        match self {
            WorkerJob::Shopify(j) => j.resource.as_str(),
            WorkerJob::Gorgias(j) => j.resource.as_str(),
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
    /// itself, and counted here for `/metrics` (`opsdeck_sync_runs_total`). `memory` is what the worker keeps between this job's runs.
    async fn run(
        &self,
        store: &dyn Store,
        now: Timestamp,
        committed: Option<&Notify>,
        memory: &mut JobMemory,
    ) {
        let succeeded = match self {
            WorkerJob::Shopify(j) => match &j.graphql {
                Some(graphql) => {
                    let started = *memory.started.get_or_insert(now);
                    let bulk = j.bulk.clone().unwrap_or_default();
                    sync_graphql_resource(
                        &j.client,
                        graphql,
                        store,
                        j.resource,
                        now,
                        committed,
                        &bulk,
                        &mut memory.last_bulk,
                        started,
                    )
                    .await
                    .is_ok()
                }
                None => sync_once_notifying(&j.client, store, j.resource, now, committed)
                    .await
                    .is_ok(),
            },
            WorkerJob::Gorgias(j) => {
                let connector = &j.connector;
                sync_gorgias_notifying(connector, store, j.resource, now, committed)
                    .await
                    .is_ok()
            }
        };
        metrics::counter!(
            "opsdeck_sync_runs_total",
            "source" => self.source().to_string(),
            "resource" => self.resource_name(),
            "outcome" => if succeeded { "ok" } else { "failed" }
        )
        .increment(1);
    }
}

/// What the worker remembers of one job between its runs.
#[derive(Debug, Default)]
struct JobMemory {
    /// The clock's time at the job's first run.
    started: Option<Timestamp>,
    /// When this process last ran the job by bulk operation.
    last_bulk: Option<Timestamp>,
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
    let mut memory: Vec<JobMemory> = jobs.iter().map(|_| JobMemory::default()).collect();
    let mut trigger_alive = true;
    loop {
        for ((job, due_at), memory) in jobs.iter().zip(due.iter_mut()).zip(memory.iter_mut()) {
            if *shutdown.borrow() {
                return;
            }
            if *due_at > Instant::now() {
                continue;
            }
            let run = job.run(store.as_ref(), clock(), committed.as_deref(), memory);
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
