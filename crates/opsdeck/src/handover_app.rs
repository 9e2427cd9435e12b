//! Shift handovers in a running opsdeck: the service the pages and the API
//! share, and the loop that notifies a region's leads of a note not
//! acknowledged in time.
//!
//! The loop runs on every instance: the store marks a note notified in the
//! same transaction as its outbox rows, so however many instances see it
//! due, the leads are told once, and the alert sender (on the leader)
//! delivers it.

use crate::config::Config;
use crate::supervise::{Policy, Supervisor};
use opsdeck_metrics::SharedProjection;
use opsdeck_operations::approvals::Approvals;
use opsdeck_operations::handover::{HandoverParts, Handovers};
use opsdeck_operations::incidents::IncidentService;
use opsdeck_store::alerts::Channel;
use opsdeck_store::Store;
use std::sync::Arc;
use std::time::Duration;

/// How often the deadline is looked at: a lead hears of a late
/// acknowledgement at most this long after it fell due.
const NOTIFY_EVERY: Duration = Duration::from_secs(30);

/// The handover service over `store`, reading live state from the other
/// operations services and the dashboard's projection.
pub fn build(
    config: &Config,
    store: Arc<dyn Store>,
    clock: opsdeck_operations::handover::Clock,
    incidents: Arc<IncidentService>,
    approvals: Option<Arc<Approvals>>,
    projection: SharedProjection,
) -> Arc<Handovers> {
    let configured: Vec<Channel> = crate::alerts_app::notifiers(&config.alerts)
        .channels()
        .map(|(c, _)| c.clone())
        .collect();
    Arc::new(Handovers::new(HandoverParts {
        store,
        incidents,
        approvals,
        regions: config.regions.clone(),
        brands: config.brands.iter().map(|b| b.id.clone()).collect(),
        policy: config.handover.policy.clone(),
        clock,
        projection,
        panel_config: Arc::new(crate::app::panel_config(config)),
        configured,
        dashboard_url: crate::alerts_app::dashboard_url(config),
    }))
}

/// Starts the loop that notifies late acknowledgements.
pub fn start_notifier(handovers: Arc<Handovers>, tasks: &mut Supervisor) {
    let stop = tasks.stop_signal();
    tasks.spawn("handover-notify", Policy::RESTART, move || {
        let (handovers, mut stop) = (handovers.clone(), stop.clone());
        async move {
            loop {
                match handovers.notify_unacknowledged_once(handovers.now()).await {
                    Ok(0) => {}
                    Ok(n) => tracing::info!(notes = n, "late handovers notified to their leads"),
                    Err(e) => tracing::warn!(error = %e, "handover notify pass failed"),
                }
                tokio::select! {
                    _ = stop.wait_for(|s| *s) => return Ok(()),
                    _ = tokio::time::sleep(NOTIFY_EVERY) => {}
                }
            }
        }
    });
}
