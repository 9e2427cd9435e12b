//! Start-up wiring: from a [`Config`] to a running opsdeck (store, sync
//! workers, web server), stopped by a shutdown future. Tests call
//! [`start`] with a listener on port 0; `main` calls [`run`]. Every
//! background task runs under the [`Supervisor`] (see
//! [`crate::supervise`] for each task's policy).

use crate::config::{Config, ShopifySourceConfig};
use crate::supervise::{Fatal, Policy, Supervisor};
use anyhow::Context;
use jiff::Timestamp;
use opsdeck_domain::SourceId;
use opsdeck_sources::gorgias::{GorgiasClient, GorgiasSettings};
use opsdeck_sources::shopify::graphql::{CostBucket, GraphqlClient, GRAPHQL_API_VERSION};
use opsdeck_sources::shopify::NormalizeContext;
use opsdeck_sources::shopify::{ShopifyClient, ShopifySettings};
use opsdeck_store::Store;
use opsdeck_sync::group_commit::{InboxCommits, IngestCommits};
use opsdeck_sync::inbox::{run_inbox_loop_notifying, InboxSettings, WebhookShops};
use opsdeck_sync::shopify::bulk::BulkSettings;
use opsdeck_sync::shopify::bulk_finish::BulkFinishes;
use opsdeck_sync::worker::{
    run_sync_loop_notifying, BulkJob, GorgiasJob, SyncJob, SyncTrigger, WorkerJob,
};
use opsdeck_sync::{GorgiasConnector, GorgiasResource, ShopifyApi, ShopifyResource};
use opsdeck_web::{
    AppState, GorgiasIntake, ShopWebhookSecrets, SourceInfo, TaskBoard, WebhookReceiver,
};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Notify};

/// Where "now" comes from. Production uses the system clock; tests inject
/// a fixed one.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

pub fn system_clock() -> Clock {
    Arc::new(Timestamp::now)
}

/// Opens the configured store and applies migrations.
pub async fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let store = opsdeck_store::connect(config.database.url.expose())
        .await
        .with_context(|| format!("cannot open the database {}", config.database.display_url()))?;
    store
        .migrate()
        .await
        .context("cannot apply database migrations")?;
    Ok(store)
}

/// The Shopify client settings for one configured store.
pub(crate) fn shopify_settings(
    source: &ShopifySourceConfig,
    config: &Config,
) -> anyhow::Result<ShopifySettings> {
    let brand = config
        .brands
        .iter()
        .find(|b| b.id == source.brand)
        .context("shopify source without a brand")?;
    Ok(ShopifySettings {
        source: source.source.clone(),
        brand: source.brand.clone(),
        currency: brand.currency,
        time_zone: Some(brand.time_zone_name().to_string()),
        base_url: source.base_url.clone(),
        api_version: source.api_version.clone(),
        access_token: source.access_token.clone(),
        page_size: 250,
        request_timeout: Duration::from_secs(30),
        max_body_bytes: opsdeck_sources::DEFAULT_MAX_BODY_BYTES,
        max_retries: 6,
        overlap: Duration::from_secs(5 * 60),
        backoff_base: Duration::from_millis(500),
    })
}

/// A Shopify client for one configured store (sync, webhook registration).
pub fn shopify_client(
    source: &ShopifySourceConfig,
    config: &Config,
) -> anyhow::Result<ShopifyClient> {
    ShopifyClient::new(shopify_settings(source, config)?)
        .with_context(|| format!("cannot build the Shopify client for {}", source.source))
}

/// Where flag changes are delivered: each configured webhook receiver, and
/// each Shopify brand's shop (its own GraphQL client: mirroring a flag is
/// a few points now and then, beside a sync's budget).
pub fn flag_receivers(config: &Config) -> anyhow::Result<crate::flags_app::FlagReceivers> {
    let mut receivers = crate::flags_app::FlagReceivers::default();
    for w in &config.flags.webhooks {
        receivers = receivers.with_webhook(&w.name, &w.url, w.secret.clone());
    }
    for source in &config.shopify {
        let client = GraphqlClient::new(
            shopify_settings(source, config)?,
            GRAPHQL_API_VERSION,
            Arc::new(CostBucket::new()),
        )
        .with_context(|| {
            format!(
                "cannot build the Shopify GraphQL client for {}",
                source.source
            )
        })?;
        receivers
            .shops
            .insert(source.brand.clone(), Arc::new(client));
    }
    Ok(receivers)
}

/// The shops whose webhooks are accepted (those with a webhook secret), and
/// what processing their events needs.
fn webhook_shops(config: &Config) -> (Vec<ShopWebhookSecrets>, WebhookShops) {
    let mut secrets = Vec::new();
    let mut contexts = Vec::new();
    for source in &config.shopify {
        let Some(secret) = &source.webhook_secret else {
            continue;
        };
        let Some(brand) = config.brands.iter().find(|b| b.id == source.brand) else {
            continue;
        };
        secrets.push(ShopWebhookSecrets {
            shop_domain: source.shop_domain.clone(),
            source: source.source.clone(),
            secret: secret.clone(),
            previous: source.previous_webhook_secret.clone(),
        });
        contexts.push(NormalizeContext {
            source: source.source.clone(),
            brand: source.brand.clone(),
            currency: brand.currency,
        });
    }
    (secrets, WebhookShops::new(contexts))
}

/// The helpdesk jobs: tickets, then messages, then surveys, sharing one
/// client (and so one pacing of the account's call limit).
pub fn gorgias_jobs(config: &Config) -> anyhow::Result<Vec<GorgiasJob>> {
    let Some(g) = &config.gorgias else {
        return Ok(Vec::new());
    };
    let settings = GorgiasSettings {
        source: g.source.clone(),
        base_url: g.base_url.clone(),
        user: g.user.clone(),
        api_key: g.api_key.clone(),
        page_size: 100,
        request_timeout: Duration::from_secs(30),
        max_retries: 6,
        overlap: Duration::from_secs(5 * 60),
        backoff_base: Duration::from_millis(500),
        rate_window: opsdeck_sources::gorgias::client::WINDOW,
        survey_lookback: opsdeck_sources::gorgias::client::DEFAULT_SURVEY_LOOKBACK,
    };
    let client = GorgiasClient::new(settings).context("cannot build the Gorgias client")?;
    let order_sources = config.shopify.iter().map(|s| s.source.clone()).collect();
    let connector = Arc::new(GorgiasConnector::new(
        Arc::new(client),
        g.attribution.clone(),
        order_sources,
    ));
    Ok(GorgiasResource::ALL
        .into_iter()
        .map(|resource| GorgiasJob {
            connector: connector.clone(),
            resource,
            every: g.every,
        })
        .collect())
}

/// One sync job per (source, resource), on the source's cadence.
pub fn sync_jobs(config: &Config) -> anyhow::Result<Vec<SyncJob>> {
    sync_jobs_waking(config, &Arc::new(BulkFinishes::new()))
}

/// [`sync_jobs`], whose bulk backfills are woken through `finishes` (the
/// map the webhook inbox wakes on `bulk_operations/finish`) for the shops
/// whose webhooks this process receives.
fn sync_jobs_waking(config: &Config, finishes: &Arc<BulkFinishes>) -> anyhow::Result<Vec<SyncJob>> {
    let mut jobs = Vec::new();
    for source in &config.shopify {
        // A GraphQL shop backfills by bulk operation.
        let bulk = (source.api == ShopifyApi::Graphql).then(|| BulkJob {
            settings: BulkSettings::default(),
            finishes: source.webhook_secret.as_ref().map(|_| finishes.clone()),
        });
        let settings = shopify_settings(source, config)?;
        // One GraphQL client per shop, so its jobs share one cost budget.
        // Every shop has one: returns, disputes, customers and abandoned
        // checkouts exist only in GraphQL, whatever the shop's `api`.
        let graphql = Arc::new(
            GraphqlClient::new(
                settings.clone(),
                GRAPHQL_API_VERSION,
                Arc::new(CostBucket::new()),
            )
            .with_context(|| {
                format!(
                    "cannot build the Shopify GraphQL client for {}",
                    source.source
                )
            })?,
        );
        let client =
            Arc::new(ShopifyClient::new(settings).with_context(|| {
                format!("cannot build the Shopify client for {}", source.source)
            })?);
        for resource in ShopifyResource::ALL {
            let by_graphql = resource.graphql_only() || source.api == ShopifyApi::Graphql;
            jobs.push(SyncJob {
                client: client.clone(),
                graphql: by_graphql.then(|| graphql.clone()),
                resource,
                every: source.cadence.of(resource),
                bulk: bulk.clone(),
            });
        }
    }
    Ok(jobs)
}

/// The sync jobs of each source, in configuration order (each source
/// syncs in a supervised task of its own).
fn jobs_by_source(
    shopify: Vec<SyncJob>,
    helpdesk: Vec<GorgiasJob>,
) -> Vec<(SourceId, Vec<WorkerJob>)> {
    let jobs = shopify
        .into_iter()
        .map(|j| (j.client.source().clone(), WorkerJob::from(j)))
        .chain(
            helpdesk
                .into_iter()
                .map(|j| (j.connector.source().clone(), WorkerJob::from(j))),
        );
    let mut by_source: Vec<(SourceId, Vec<WorkerJob>)> = Vec::new();
    for (source, job) in jobs {
        match by_source.iter_mut().find(|(s, _)| *s == source) {
            Some((_, jobs)) => jobs.push(job),
            None => by_source.push((source, vec![job])),
        }
    }
    by_source
}

fn source_infos(config: &Config) -> Vec<SourceInfo> {
    let mut sources: Vec<SourceInfo> = config
        .shopify
        .iter()
        .map(|s| SourceInfo {
            id: s.source.clone(),
            brand: Some(s.brand.clone()),
            platform: "shopify".to_string(),
            resources: vec![
                "products".into(),
                "inventory_levels".into(),
                "orders".into(),
            ],
        })
        .collect();
    if let Some(gorgias) = &config.gorgias {
        sources.push(SourceInfo {
            id: gorgias.source.clone(),
            brand: None,
            platform: "gorgias".to_string(),
            resources: GorgiasResource::ALL
                .iter()
                .map(|r| r.as_str().to_string())
                .collect(),
        });
    }
    sources
}

/// A running opsdeck: the address it serves on and its supervised tasks.
pub struct Running {
    pub addr: std::net::SocketAddr,
    /// Where `/metrics` is served (`[observability] metrics_listen`).
    pub metrics_addr: Option<std::net::SocketAddr>,
    pub store: Arc<dyn Store>,
    stop: watch::Sender<bool>,
    /// Sync, webhook inbox, projection follower, alerts, housekeeping and
    /// the web server.
    tasks: Supervisor,
    /// Tasks that ended where their policy is to stop the process.
    fatal: mpsc::UnboundedReceiver<Fatal>,
}

impl Running {
    /// Signals every task to stop and waits for them (clean shutdown:
    /// in-flight requests finish, a sync page in progress commits or not).
    /// An error names a task that ended badly.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        self.tasks.join().await
    }

    /// Runs until `shutdown` completes, then stops cleanly; or until a task
    /// whose policy is to stop the process ends, then stops the others and
    /// returns the error naming it.
    pub async fn until(mut self, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
        let fatal = tokio::select! {
            () = shutdown => None,
            Some(fatal) = self.fatal.recv() => Some(fatal),
        };
        let Some(fatal) = fatal else {
            tracing::info!("shutting down");
            return self.stop().await;
        };
        tracing::error!(task = %fatal.task, reason = %fatal.reason, "stopping opsdeck: an essential task ended");
        // The stop's own error repeats the fatal one.
        let _ = self.stop().await;
        Err(anyhow::anyhow!("opsdeck stopped: {fatal}"))
    }

    /// Every supervised task's state, as `/readyz` shows it.
    pub fn tasks(&self) -> TaskBoard {
        self.tasks.board()
    }

    /// Runs one more task under the application's supervisor (the demo's
    /// simulator, say): `start` is called for each run, and its future
    /// should end when [`Running::stop_signal`] turns true.
    pub fn supervise<F, Fut>(&mut self, name: &str, policy: Policy, start: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        self.tasks.spawn(name, policy, start);
    }

    /// The application's stop signal (true once stopping).
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.tasks.stop_signal()
    }
}

/// Starts store, sync workers and web server on `listener`; returns at once.
pub async fn start(
    config: &Config,
    listener: TcpListener,
    clock: Clock,
) -> anyhow::Result<Running> {
    // First, so every event from here on is counted.
    let metrics = crate::observe::MetricsListener::prepare(config).await?;
    let metrics_addr = metrics.as_ref().map(|m| m.addr()).transpose()?;
    let store = open_store(config).await?;
    check_people(config, store.as_ref()).await?;
    let helpdesk_jobs = gorgias_jobs(config)?;
    // The helpdesk's events are attributed by the connector its sync uses.
    let helpdesk = helpdesk_jobs.first().map(|j| j.connector.clone());
    // Backfills waiting for a bulk operation, woken by the webhook inbox.
    let finishes = Arc::new(BulkFinishes::new());
    let sources = jobs_by_source(sync_jobs_waking(config, &finishes)?, helpdesk_jobs);
    let addr = listener.local_addr()?;
    let (stop, stop_rx) = watch::channel(false);

    // Latency from a change to an alert: the inbox worker (after applying
    // webhook events) and the sync worker (after each committed page)
    // notify `stored`, which wakes the projection follower; the follower
    // notifies `applied` after applying the changes, which wakes the alert
    // runner. The ingest API's writer notifies `stored` after each commit.
    let stored = Arc::new(Notify::new());
    let applied = Arc::new(Notify::new());
    // The dashboard's refresh button fires this to sync every source now.
    let sync_trigger = SyncTrigger::new();
    let (mut tasks, fatal) = Supervisor::new(stop_rx.clone(), clock.clone());
    // One task per source: a panic in one shop's sync ends that task
    // alone, which is restarted, and `/readyz` names the source.
    for (source, jobs) in sources {
        let (store, clock, stop, trigger, stored) = (
            store.clone(),
            clock.clone(),
            stop_rx.clone(),
            sync_trigger.clone(),
            stored.clone(),
        );
        tasks.spawn(&format!("sync:{source}"), Policy::RESTART, move || {
            let run = run_sync_loop_notifying(
                jobs.clone(),
                store.clone(),
                clock.clone(),
                stop.clone(),
                trigger.clone(),
                Some(stored.clone()),
            );
            async move {
                run.await;
                Ok(())
            }
        });
    }
    // Webhooks: received into the inbox by the web server, applied by the
    // inbox worker, which the receiver wakes after each commit.
    let (secrets, shops) = webhook_shops(config);
    let mut shops = shops.with_bulk_finishes(finishes);
    let gorgias_intake = config.gorgias.as_ref().and_then(|g| {
        g.webhook_secret.clone().map(|secret| GorgiasIntake {
            source: g.source.clone(),
            secret,
        })
    });
    if let (Some(_), Some(connector)) = (&gorgias_intake, helpdesk) {
        shops = shops.with_helpdesk(connector);
    }
    let webhooks = if secrets.is_empty() && gorgias_intake.is_none() {
        None
    } else {
        let wake = Arc::new(Notify::new());
        let (commits, inbox_writer) = InboxCommits::start(store.clone(), wake.clone());
        let receiver = WebhookReceiver::new(secrets, gorgias_intake, commits, wake.clone());
        // The writer owns its queue's receiver: it cannot start again, and
        // it ends after the web server (holding the queue) has stopped.
        tasks.adopt("webhook-writer", inbox_writer);
        let shops = Arc::new(shops);
        let (store, clock, stop, stored) = (
            store.clone(),
            clock.clone(),
            stop_rx.clone(),
            stored.clone(),
        );
        tasks.spawn("webhook-inbox", Policy::RESTART, move || {
            let run = run_inbox_loop_notifying(
                store.clone(),
                shops.clone(),
                InboxSettings::default(),
                clock.clone(),
                wake.clone(),
                Some(stored.clone()),
                stop.clone(),
            );
            async move {
                run.await;
                Ok(())
            }
        });
        Some(receiver)
    };
    // The projection every panel and panel-backed alert rule reads: built
    // once from the store, kept current from the change feed.
    let (ingest, ingest_writer) = IngestCommits::start(store.clone(), Some(stored.clone()));
    // As the webhook writer: run once, ends after the web server.
    tasks.adopt("ingest-writer", ingest_writer);
    let projection = start_projection(
        config,
        store.clone(),
        stored.clone(),
        Some(applied.clone()),
        &mut tasks,
    )
    .await?;
    if let Some(metrics) = metrics {
        metrics.start(store.clone(), projection.clone(), &mut tasks)?;
    }
    let incidents = crate::alerts_app::incident_service(config, store.clone(), clock.clone());
    // Alerts: evaluator and sender behind the leader lease (and incident
    // escalation, whose notices the sender delivers).
    // Approvals: the service the pages, the API and Telegram's buttons
    // share, and its sweep (expiry, runs a crash left undone).
    // Freeze flags: a change rings `changed`, which wakes the deliverer.
    let flags = opsdeck_web::flags::Flags {
        settings: Arc::new(config.flags.settings.clone()),
        changed: Arc::new(Notify::new()),
    };
    let approvals = crate::approvals_app::build(config, store.clone(), clock.clone(), &flags);
    crate::approvals_app::start_sweep(approvals.clone(), &mut tasks);
    // Alerts: evaluator and sender behind the leader lease.
    crate::alerts_app::start_alerts(
        config,
        store.clone(),
        Some(projection.clone()),
        applied,
        clock.clone(),
        incidents.clone(),
        &mut tasks,
        Some(approvals.clone()),
    )
    .await?;
    let receivers = flag_receivers(config)?;
    // Delivered by one instance of those sharing the store (its lease).
    let lease = crate::flags_app::Lease::of(config);
    tasks.spawn("flags", Policy::RESTART, {
        let (store, clock, stop, flags) =
            (store.clone(), clock.clone(), stop_rx.clone(), flags.clone());
        move || {
            let run = crate::flags_app::run(
                store.clone(),
                flags.settings.clone(),
                receivers.clone(),
                lease.clone(),
                clock.clone(),
                flags.changed.clone(),
                stop.clone(),
            );
            async move {
                run.await;
                Ok(())
            }
        }
    });
    // Shift handovers: the pages' service and the late-acknowledgement notices.
    let handovers = crate::handover_app::build(
        config,
        store.clone(),
        clock.clone(),
        incidents.clone(),
        Some(approvals.clone()),
        projection.clone(),
    );
    crate::handover_app::start_notifier(handovers.clone(), &mut tasks);
    let refunds_queue = crate::queues_app::build(
        config,
        store.clone(),
        Some(approvals.clone()),
        clock.clone(),
        stored.clone(),
    );
    // Privacy requests: filed by the compliance webhooks, the dashboard and
    // the ingest API; worked in the background within their deadline.
    let privacy = Arc::new(opsdeck_operations::privacy::Privacy::new(
        store.clone(),
        config.privacy.settings.clone(),
    ));
    tasks.spawn("privacy", Policy::RESTART, {
        let (privacy, clock, stop) = (privacy.clone(), clock.clone(), stop_rx.clone());
        move || {
            let run =
                opsdeck_operations::privacy::run(privacy.clone(), clock.clone(), stop.clone());
            async move {
                run.await;
                Ok(())
            }
        }
    });
    // System health checks: probed, fed by pushes and judged in the
    // background; their states feed /system and the health alerts.
    let health_checks = (!config.health_checks.is_empty()).then(|| {
        Arc::new(opsdeck_operations::health::HealthChecks::new(
            store.clone(),
            config.health_checks.clone(),
            projection.clone(),
        ))
    });
    if let Some(checks) = &health_checks {
        tasks.spawn("health_checks", Policy::RESTART, {
            let (checks, clock, stop) = (checks.clone(), clock.clone(), stop_rx.clone());
            move || {
                let run =
                    opsdeck_operations::health::run(checks.clone(), clock.clone(), stop.clone());
                async move {
                    run.await;
                    Ok(())
                }
            }
        });
    }
    // Scheduled reports and digests (`[reports.NAME]`).
    let reports =
        crate::reports_app::build(config, store.clone(), projection.clone(), incidents.clone());
    if let Some(runner) = &reports {
        crate::reports_app::start(runner.clone(), clock.clone(), &mut tasks);
    }
    let state = AppState {
        store: store.clone(),
        brands: Arc::new(config.brands.clone()),
        sources: Arc::new(source_infos(config)),
        week_start: config.week_start,
        clock: clock.clone(),
        started_at: clock(),
        webhooks,
        auth: opsdeck_web::auth::Auth::new(config.security.auth.clone()),
        projection,
        panel_config: Arc::new(panel_config(config)),
        ingest,
        sync_trigger,
        alert_rules: opsdeck_alerts::AlertRules::of(config.alerts.rules.all())
            .delivered_by(crate::alerts_app::delivery(&config.alerts)),
        tasks: tasks.board(),
        incidents,
        approvals: Some(approvals.clone()),
        flags,
        handovers: Some(handovers),
        refunds_queue: Some(refunds_queue),
        privacy: Some(privacy),
        health_checks,
        reports,
        latency: Default::default(),
    };
    // Audit retention and expired sessions; ends with the application.
    tasks.spawn("housekeeping", Policy::RESTART, {
        let (store, clock, stop) = (store.clone(), clock.clone(), stop_rx.clone());
        let (retention, auth) = (
            config.security.audit_retention,
            config.security.auth.clone(),
        );
        move || {
            let run = crate::housekeeping::run(
                store.clone(),
                clock.clone(),
                retention,
                auth.clone(),
                stop.clone(),
            );
            async move {
                run.await;
                Ok(())
            }
        }
    });
    // The listener cannot be handed to a second server: the web's policy
    // is to stop the process (see `supervise`), so it runs once.
    let mut listener = Some(listener);
    tasks.spawn("web", Policy::StopProcess, move || {
        let listener = listener.take();
        let state = state.clone();
        let mut stop = stop_rx.clone();
        async move {
            let listener = listener.context("the web server's listener is gone")?;
            opsdeck_web::serve(listener, state, async move {
                let _ = stop.wait_for(|stopped| *stopped).await;
            })
            .await
            .context("the web server failed")
        }
    });
    Ok(Running {
        addr,
        metrics_addr,
        store,
        stop,
        tasks,
        fatal,
    })
}

/// What the panels read from configuration.
pub fn panel_config(config: &Config) -> opsdeck_metrics::panels::PanelConfig {
    opsdeck_metrics::panels::PanelConfig {
        week_start: config.week_start,
        reporting_currency: config.reporting_currency,
        rates: config.reporting_rates.clone(),
        cadences: config.cadences(),
        helpdesk_ticket_url: config
            .gorgias
            .as_ref()
            .map(|g| format!("https://{}.gorgias.com/app/ticket/", g.subdomain)),
        regions: config.regions.clone(),
        sla_queue: crate::queues_app::sla_queue(config),
        customer_risk: config.customers.clone(),
        review_slas: config.review_queues.clone(),
        ..Default::default()
    }
}

/// Checks the stored people against the configuration before serving:
/// a user whose role is not configured (removed or misspelt in
/// `[roles.NAME]`) stops start-up with an error naming the user and the
/// role, instead of that person being refused everything; a region lead
/// who is no user yet is logged (the first admin may not exist yet).
pub async fn check_people(config: &Config, store: &dyn Store) -> anyhow::Result<()> {
    let users = store.list_users().await?;
    config
        .security
        .auth
        .roles
        .check_users(users.iter().map(|u| (u.username.as_str(), u.role)))
        .map_err(|e| anyhow::anyhow!("configuration and users disagree: {e}"))?;
    for region in &config.regions {
        for lead in &region.leads {
            if !users.iter().any(|u| &u.username == lead) {
                tracing::warn!(region = %region.id, %lead, "a region's lead is not a user");
            }
        }
    }
    Ok(())
}

/// What the projection reads from configuration: the helpdesk attribution
/// rules' tags (a brand's tag is not an issue).
pub fn projection_rules(config: &Config) -> opsdeck_metrics::ProjectionRules {
    opsdeck_metrics::ProjectionRules {
        attribution_tags: config
            .gorgias
            .iter()
            .flat_map(|g| g.attribution.iter())
            .flat_map(|r| r.tags.iter().cloned())
            .collect(),
        ..Default::default()
    }
}

/// How often the projection looks for new changes. The store has no
/// write notification shared across processes, so a short poll is the
/// bound on how stale a panel can be (changes are read incrementally, so a
/// poll with nothing new is one indexed query).
const PROJECTION_POLL: Duration = Duration::from_secs(1);

/// Builds the shared projection from the store and spawns the task that
/// keeps it current (`projection-follower`, stopped with the application):
/// it reads new changes every [`PROJECTION_POLL`] or at once when `stored`
/// is notified, and notifies `applied` after applying them.
pub async fn start_projection(
    config: &Config,
    store: Arc<dyn Store>,
    stored: Arc<Notify>,
    applied: Option<Arc<Notify>>,
    tasks: &mut Supervisor,
) -> anyhow::Result<opsdeck_metrics::SharedProjection> {
    let started = std::time::Instant::now();
    let projection = opsdeck_metrics::Projection::build(
        store.as_ref(),
        config.brands.clone(),
        projection_rules(config),
    )
    .await
    .context("cannot build the metrics projection from the store")?;
    tracing::info!(
        orders = projection.order_count(),
        last_seq = projection.last_seq,
        elapsed_ms = started.elapsed().as_millis() as u64,
        "metrics projection built"
    );
    let shared: opsdeck_metrics::SharedProjection = Arc::new(std::sync::RwLock::new(projection));
    let stop = tasks.stop_signal();
    tasks.spawn("projection-follower", Policy::RESTART, {
        let shared = shared.clone();
        move || {
            let run = opsdeck_metrics::follow_changes_notifying(
                shared.clone(),
                store.clone(),
                PROJECTION_POLL,
                stored.clone(),
                applied.clone(),
                stop.clone(),
            );
            async move {
                run.await;
                Ok(())
            }
        }
    });
    Ok(shared)
}

/// Runs opsdeck until `shutdown` completes.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let listener = TcpListener::bind(config.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.listen))?;
    let running = start(&config, listener, system_clock()).await?;
    if running.store.list_users().await?.is_empty() {
        eprintln!(
            "No dashboard users yet: every page asks for a login. Create an admin with\n  \
             opsdeck user add --username admin --role admin --config FILE"
        );
    }
    tracing::info!(addr = %running.addr, database = %config.database.display_url(), "opsdeck is serving");
    println!("opsdeck is serving on http://{}", running.addr);
    running.until(shutdown).await
}

/// Completes on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}

#[cfg(test)]
mod people_tests {
    use super::check_people;
    use crate::config::{parse_config, ProcessEnv};
    use opsdeck_store::{AuditAction, AuditEntry, NewUser, Role};

    const BRAND: &str = r#"
[[brands]]
id = "a"
name = "A"
time_zone = "UTC"
currency = "USD"
"#;

    #[tokio::test]
    async fn a_user_whose_role_is_not_configured_stops_start_up_naming_both() {
        let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
        let at = jiff::Timestamp::UNIX_EPOCH;
        for (name, role) in [
            ("anna", Role::Ops),
            ("nina", Role::parse("night_desk").unwrap()),
        ] {
            let user = NewUser {
                username: name.into(),
                role,
                password_hash: "$argon2id$fake".into(),
                at,
            };
            let audit = AuditEntry {
                at,
                actor: "test".into(),
                action: AuditAction::UserCreate,
                subject: format!("user:{name}"),
                payload: serde_json::json!({}),
                ip: None,
            };
            assert!(store.create_user(&user, &audit).await.unwrap());
        }
        let without = parse_config(BRAND, &ProcessEnv).unwrap();
        let err = check_people(&without, store.as_ref())
            .await
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"nina\"") && err.contains("\"night_desk\"") && !err.contains("anna"),
            "{err}"
        );
        let with = parse_config(
            &format!("{BRAND}\n[roles.night_desk]\npermissions = [\"view_dashboard\"]\n"),
            &ProcessEnv,
        )
        .unwrap();
        check_people(&with, store.as_ref()).await.unwrap();
    }
}
