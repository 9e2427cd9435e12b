//! Scheduled reports in a running opsdeck: the runner built from
//! `[reports.NAME]` and the `reports` task that steps it.
//!
//! Every instance steps it; a due run is claimed in the store, so one
//! instance sends it. The task is supervised with the workers' policy:
//! runs are in the store, so a restarted loop sends nothing twice.

use crate::app::Clock;
use crate::config::Config;
use crate::supervise::{Policy, Supervisor};
use opsdeck_metrics::SharedProjection;
use opsdeck_operations::incidents::IncidentService;
use opsdeck_reports::digest::DigestSources;
use opsdeck_reports::runner::{Delivery, ReportRunner};
use opsdeck_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often due runs are looked for: a report leaves within this of its
/// time.
pub const STEP_EVERY: Duration = Duration::from_secs(30);

/// The runner of the configured subscriptions; `None` when there are none.
pub fn build(
    config: &Config,
    store: Arc<dyn Store>,
    projection: SharedProjection,
    incidents: Arc<IncidentService>,
) -> Option<Arc<ReportRunner>> {
    if config.reports.is_empty() {
        return None;
    }
    let digest = DigestSources {
        projection,
        panel: crate::app::panel_config(config),
        review_slas: config.review_queues.clone(),
        store: store.clone(),
        incidents,
        regions: config.regions.clone(),
    };
    let delivery = Delivery {
        email: crate::alerts_app::email_notifier(&config.alerts),
        notifiers: crate::alerts_app::notifiers(&config.alerts),
    };
    Some(Arc::new(ReportRunner::new(
        store,
        config.reports.clone(),
        digest,
        delivery,
        crate::alerts_app::dashboard_url(config),
    )))
}

/// Spawns the supervised `reports` loop: a step at once, then every
/// [`STEP_EVERY`], until the application stops.
pub fn start(runner: Arc<ReportRunner>, clock: Clock, tasks: &mut Supervisor) {
    let stop = tasks.stop_signal();
    tasks.spawn("reports", Policy::RESTART, move || {
        let (runner, clock, mut stop) = (runner.clone(), clock.clone(), stop.clone());
        async move {
            loop {
                match runner.run_due_once(clock()).await {
                    Ok(done) => {
                        if !done.sent.is_empty() || !done.failed.is_empty() {
                            tracing::info!(sent = ?done.sent, skipped = ?done.skipped, failed = done.failed.len(), "scheduled reports ran");
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "scheduled reports: the store failed; trying again"),
                }
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return Ok(()),
                    _ = tokio::time::sleep(STEP_EVERY) => {}
                }
            }
        }
    });
}
