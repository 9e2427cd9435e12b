//! Approvals in the application: the service built from `[approvals]`
//! (callbacks per platform, each Shopify shop's GraphQL client, the flag
//! service for approved freezes, the alerts' Slack and Telegram channels,
//! whose outbox carries the notices), and its sweep loop, which expires
//! requests nobody decided (telling their platforms) and runs approved
//! ones a crash left unrun.

use crate::config::Config;
use crate::supervise::{Policy, Supervisor};
use opsdeck_alerts::notify::http_client;
use opsdeck_alerts::Clock;
use opsdeck_operations::approvals::{
    ApprovalNotices, Approvals, CallbackPlatform, Executor, Retry,
};
use opsdeck_operations::flags::approval::FlagApprovals;
use opsdeck_sources::shopify::graphql::{CostBuckets, GraphqlClient, GRAPHQL_API_VERSION};
use opsdeck_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often the sweep runs.
const SWEEP_EVERY: Duration = Duration::from_secs(60);

/// The approvals service of `config`; approved freeze switch-ons are
/// applied through `flags` (the flag service's settings and the bell of
/// its deliverer).
pub fn build(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Clock,
    flags: &opsdeck_web::flags::Flags,
) -> Arc<Approvals> {
    let mut executor = Executor::new(
        http_client(Duration::from_secs(10)),
        Retry {
            attempts: 5,
            first_wait: Duration::from_secs(1),
        },
    )
    .with_flags(FlagApprovals {
        store: store.clone(),
        settings: flags.settings.clone(),
        changed: flags.changed.clone(),
        clock: clock.clone(),
    });
    for p in &config.approvals.platforms {
        executor = executor.with_platform(
            &p.source,
            CallbackPlatform {
                secret: p.secret.clone(),
                url_prefix: p.callback_url_prefix.clone(),
            },
        );
    }
    let buckets = CostBuckets::new();
    for shop in &config.shopify {
        let source = shop.source.to_string();
        let client = crate::app::shopify_settings(shop, config)
            .map_err(|e| e.to_string())
            .and_then(|settings| {
                let bucket = buckets.for_shop(&settings.base_url);
                GraphqlClient::new(settings, GRAPHQL_API_VERSION, bucket).map_err(|e| e.to_string())
            });
        match client {
            Ok(client) => executor = executor.with_shop(&source, Arc::new(client)),
            Err(error) => {
                tracing::warn!(%source, %error, "approved Shopify changes cannot run for this shop")
            }
        }
    }
    let dashboard_url = config
        .public_url
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_else(|| format!("http://{}", config.listen));
    Arc::new(
        Approvals::new(store, config.approvals.policy.clone(), Arc::new(executor))
            .with_clock(clock)
            .with_notices(ApprovalNotices::of(
                &crate::alerts_app::notifiers(&config.alerts),
                dashboard_url,
            )),
    )
}

/// Runs [`Approvals::sweep_once`] every minute until the application stops.
pub fn start_sweep(approvals: Arc<Approvals>, tasks: &mut Supervisor) {
    let stop = tasks.stop_signal();
    tasks.spawn("approvals-sweep", Policy::RESTART, move || {
        let (approvals, mut stop) = (approvals.clone(), stop.clone());
        async move {
            loop {
                if let Err(e) = approvals.sweep_once().await {
                    tracing::warn!(error = %e, "approvals sweep failed");
                }
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return Ok(()),
                    _ = tokio::time::sleep(SWEEP_EVERY) => {}
                }
            }
        }
    });
}
