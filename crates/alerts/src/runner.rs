//! The loop a process runs: every few seconds (or at once when woken by a
//! change), if it holds the leader lease, observe, evaluate, commit and
//! send. A follower only renews its bid for the lease, so when the leader
//! dies another process takes over within the lease's length.

use crate::conditions::{self, BrandInputs, MetricsSnapshot};
use crate::funnel_conditions::observe_funnel;
use crate::health_conditions::observe_health;
use crate::hours::BusinessHours;
use crate::leader::Leader;
use crate::observation::Observation;
use crate::outbox::{DeliveryReport, Sender};
use crate::panel_conditions::Panels;
use crate::privacy_conditions::observe_privacy;
use crate::security_conditions::observe_accounts;
use crate::service::{AlertError, AlertService};
use async_trait::async_trait;
use jiff::Timestamp;
use opsdeck_domain::{Brand, SourceId};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::projection::series::SalesSeries;
use opsdeck_metrics::SharedProjection;
use opsdeck_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// Where a cycle's observations come from.
#[async_trait]
pub trait ObservationSource: Send + Sync {
    async fn observe(&self, now: Timestamp) -> Result<Vec<Observation>, AlertError>;
}

/// One brand as the store-backed source needs it.
#[derive(Debug, Clone)]
pub struct BrandWatch {
    pub brand: Brand,
    pub hours: BusinessHours,
    pub sources: Vec<SourceId>,
    /// Each source resource's sync cadence, for "source stale".
    pub cadences: opsdeck_metrics::Cadences,
}

/// Observations from the projection the dashboard reads (each brand's
/// sales rollup of the last 8 local days and its panels) and the store's
/// sync states, through [`conditions::observe_all`], plus the accounts
/// under attack ([`observe_accounts`]) and yesterday's storefront funnel
/// ([`observe_funnel`], from the store's session-day counts). Order tallies have one
/// path: the projection, never a second query of the store.
pub struct StoreObservations {
    pub store: Arc<dyn Store>,
    pub brands: Vec<BrandWatch>,
    pub rules: crate::rules::RuleSet,
    /// The projection the dashboard uses, for the order and panel rules;
    /// without it those rules observe nothing (they neither fire nor resolve).
    pub projection: Option<(SharedProjection, PanelConfig)>,
}

impl StoreObservations {
    /// The snapshot the conditions read at `now`.
    pub async fn snapshot(&self, now: Timestamp) -> Result<MetricsSnapshot, AlertError> {
        let mut brands = Vec::with_capacity(self.brands.len());
        for w in &self.brands {
            let from = conditions::orders_from(&w.brand, now);
            let (sales, panels) = self.read_projection(&w.brand, from, now);
            brands.push(BrandInputs {
                brand: w.brand.clone(),
                hours: w.hours.clone(),
                sources: w.sources.clone(),
                cadences: w.cadences.clone(),
                sales,
                orders_from: from,
                panels,
            });
        }
        Ok(MetricsSnapshot {
            brands,
            sync_states: self.store.all_sync_states().await?,
        })
    }
}

impl StoreObservations {
    /// The brand's sales rollup over `[from, now)` and its panels, read
    /// under one lock of the projection; `(None, None)` without one.
    fn read_projection(
        &self,
        brand: &Brand,
        from: Timestamp,
        now: Timestamp,
    ) -> (Option<SalesSeries>, Option<Panels>) {
        let Some((shared, config)) = self.projection.as_ref() else {
            return (None, None);
        };
        let Ok(p) = shared.read() else {
            return (None, None);
        };
        let Some(ix) = p.ctx.brand_ix(&brand.id) else {
            return (None, None);
        };
        let sales = p
            .orders
            .sales
            .get(usize::from(ix))
            .map(|s| s.window(from.as_second(), now.as_second() + 1));
        let panels = Panels::read(&p, config, ix, now);
        (sales, Some(panels))
    }
}

#[async_trait]
impl ObservationSource for StoreObservations {
    async fn observe(&self, now: Timestamp) -> Result<Vec<Observation>, AlertError> {
        let snapshot = self.snapshot(now).await?;
        let mut out = conditions::observe_all(&self.rules, &snapshot, now);
        let first_brand = self.brands.first().map(|w| w.brand.id.as_str());
        let store = self.store.as_ref();
        out.extend(observe_accounts(&self.rules, store, first_brand, now).await?);
        out.extend(observe_funnel(&self.rules, store, &self.brands, now).await?);
        out.extend(observe_privacy(&self.rules, store, first_brand, now).await?);
        out.extend(observe_health(&self.rules, store, first_brand).await?);
        Ok(out)
    }
}

/// What one cycle did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cycle {
    /// Another process leads; nothing evaluated or sent.
    Follower,
    Led {
        notifications: usize,
        delivery: DeliveryReport,
    },
}

pub struct Runner {
    pub service: Arc<AlertService>,
    pub source: Arc<dyn ObservationSource>,
    pub sender: Sender,
    pub leader: Leader,
    pub interval: Duration,
    wake: Arc<Notify>,
    leading: watch::Sender<bool>,
}

impl Runner {
    pub fn new(
        service: Arc<AlertService>,
        source: Arc<dyn ObservationSource>,
        sender: Sender,
        leader: Leader,
        interval: Duration,
    ) -> Self {
        Runner {
            service,
            source,
            sender,
            leader,
            interval,
            wake: Arc::new(Notify::new()),
            leading: watch::Sender::new(false),
        }
    }

    /// Whether this process held the lease at its last cycle. Work that
    /// only one process may do besides evaluating — polling Telegram's
    /// `getUpdates`, which answers a second poller with 409 Conflict —
    /// waits on this.
    pub fn leading(&self) -> watch::Receiver<bool> {
        self.leading.subscribe()
    }

    /// A handle that runs the next cycle at once (call it on each change
    /// the change feed brings, so an alert does not wait for the interval).
    pub fn waker(&self) -> Arc<Notify> {
        self.wake.clone()
    }

    /// Uses `wake` as the handle of [`Runner::waker`]: for a notifier made
    /// before the runner (the projection follower's "changes applied").
    /// Wakes arriving while a cycle runs coalesce into one more cycle.
    pub fn woken_by(mut self, wake: Arc<Notify>) -> Self {
        self.wake = wake;
        self
    }

    /// One cycle at `now`.
    #[tracing::instrument(name = "alerts_cycle", skip_all)]
    pub async fn cycle(&self, now: Timestamp) -> Result<Cycle, AlertError> {
        let leads = match self.leader.try_lead(now).await {
            Ok(leads) => leads,
            Err(e) => {
                // Unknown: assume not, so two processes never both poll.
                self.leading.send_replace(false);
                return Err(e.into());
            }
        };
        self.leading.send_replace(leads);
        if !leads {
            return Ok(Cycle::Follower);
        }
        let observations = self.source.observe(now).await?;
        let step = self.service.step(&observations, now).await?;
        let delivery = self.sender.deliver_once(now).await?;
        Ok(Cycle::Led {
            notifications: step.notifications.len(),
            delivery,
        })
    }

    /// Cycles until `stop` resolves, then gives the lease up.
    pub async fn run(&self, stop: impl std::future::Future<Output = ()>) {
        tokio::pin!(stop);
        loop {
            if let Err(e) = self.cycle(self.service.now()).await {
                tracing::error!(error = %e, "alert cycle failed; next cycle retries");
            }
            tokio::select! {
                _ = &mut stop => break,
                _ = tokio::time::sleep(self.interval) => {}
                _ = self.wake.notified() => {}
            }
        }
        self.leading.send_replace(false);
        if let Err(e) = self.leader.step_down().await {
            tracing::warn!(error = %e, "could not release the alert lease");
        }
    }
}
