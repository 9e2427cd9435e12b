//! The evaluator with its memory in the store: each step reads the open
//! episodes and active silences, runs [`Evaluator::evaluate_once`], and
//! commits the resulting episode changes, history and notifications in one
//! transaction. Acknowledge, resolve and silence go through here too, from
//! the API or from Telegram's button, so every path leaves the same record.
//!
//! The store is the truth for open episodes: a step starts by replacing its
//! in-memory open alerts with the stored ones, which is how an ack made by
//! another process, or a new leader taking over, is seen. Pending alerts
//! (not fired yet) live only in memory.

use crate::actions;
pub use crate::actions::{AckOutcome, Actor};
use crate::episode::EventBody;
pub use crate::episode::{decode, encode};
use crate::evaluate::{Ack, Alert, AlertState, Evaluator, Phase, Step};
use crate::notify::Channel;
use crate::observation::Observation;
use crate::render::{render, RenderConfig};
use crate::silence::{Silence, SilenceError};
use jiff::{SignedDuration, Timestamp};
use opsdeck_store::alerts::{AlertBatch, EpisodeFilter, EventKind, EventRow, NewNotification};
use opsdeck_store::{Store, StoreError};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::Mutex;

/// Why an alert operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AlertError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("no alert episode {0:?}")]
    NoSuchEpisode(String),
    #[error("alert episode {id:?} is {state}, not open")]
    NotOpen { id: String, state: String },
    #[error(transparent)]
    Silence(#[from] SilenceError),
    #[error("no silence {0:?}")]
    NoSuchSilence(String),
    /// A silence named a rule the application does not run: it would
    /// silence nothing.
    #[error("unknown alert rule {0:?}")]
    UnknownRule(String),
    #[error("stored alert episode {0:?} could not be read: {1}")]
    Corrupt(String, String),
}

/// The alert evaluator bound to a store.
pub struct AlertService {
    store: Arc<dyn Store>,
    evaluator: Evaluator,
    render: RenderConfig,
    /// The channel whose payload shape each `Other` channel takes.
    channel_kinds: BTreeMap<Channel, Channel>,
    /// How long the outbox keeps trying a message.
    pub notification_ttl: SignedDuration,
    state: Mutex<AlertState>,
    clock: Clock,
}

/// Where "now" comes from: the system clock in production, a fixed or
/// accelerated one in tests and simulations.
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

impl AlertService {
    /// `channel_kinds` maps a channel a tier may use to the known channel
    /// it is rendered as; a known channel (`Channel::Slack`) needs no entry.
    pub fn new(
        store: Arc<dyn Store>,
        evaluator: Evaluator,
        render: RenderConfig,
        channel_kinds: BTreeMap<Channel, Channel>,
        id_prefix: &str,
    ) -> Self {
        AlertService {
            store,
            evaluator,
            render,
            channel_kinds,
            notification_ttl: SignedDuration::from_hours(24),
            state: Mutex::new(AlertState::new(id_prefix)),
            clock: Arc::new(Timestamp::now),
        }
    }

    /// Reads "now" from `clock` (the application's) instead of the system
    /// clock: the runner's cycles and Telegram acknowledgements use it.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The current time by this service's clock.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn evaluator(&self) -> &Evaluator {
        &self.evaluator
    }

    /// The open episodes as stored, decoded.
    async fn open_alerts(&self) -> Result<Vec<Alert>, AlertError> {
        let filter = EpisodeFilter {
            open_only: true,
            brand: None,
            limit: u32::MAX >> 1,
        };
        let rows = self.store.alert_episodes(&filter).await?;
        rows.iter().map(decode).collect()
    }

    /// Active silences at `now`, decoded (unreadable ones are skipped with
    /// a warning rather than silencing nothing or everything).
    async fn silences(&self, now: Timestamp) -> Result<Vec<Silence>, AlertError> {
        let rows = self.store.alert_silences(Some(now)).await?;
        Ok(rows
            .into_iter()
            .filter_map(|r| match serde_json::from_value::<Silence>(r.body) {
                Ok(s) => Some(s),
                Err(e) => {
                    tracing::warn!(id = %r.id, error = %e, "unreadable silence skipped");
                    None
                }
            })
            .collect())
    }

    /// One evaluation step at `now`, committed. On a failed commit the
    /// in-memory state is left as it was, so the next step tries again.
    #[tracing::instrument(name = "alerts_step", skip_all, fields(observations = observations.len()))]
    pub async fn step(
        &self,
        observations: &[Observation],
        now: Timestamp,
    ) -> Result<Step, AlertError> {
        let open = self.open_alerts().await?;
        let silences = self.silences(now).await?;
        let mut state = self.state.lock().await;
        let mut next = state.clone();
        next.alerts.retain(|_, a| a.phase == Phase::Pending);
        for alert in open {
            next.alerts.insert(alert.key.clone(), alert);
        }
        let step = self
            .evaluator
            .evaluate_once(&mut next, observations, &silences, now);
        let batch = self.batch_for(&step, now);
        self.store.alert_commit(&batch).await?;
        *state = next;
        metrics::counter!("opsdeck_alert_evaluations_total").increment(1);
        Ok(step)
    }

    fn channel_kind<'a>(&'a self, channel: &'a Channel) -> &'a Channel {
        self.channel_kinds.get(channel).unwrap_or(channel)
    }

    /// The rows one step writes.
    pub fn batch_for(&self, step: &Step, now: Timestamp) -> AlertBatch {
        let mut batch = AlertBatch::default();
        for alert in step.changed.iter().chain(&step.resolved) {
            if let Some(row) = encode(alert, now) {
                batch.episodes.push(row);
            }
        }
        for t in &step.transitions {
            batch.events.push(EventRow {
                episode_id: t.episode_id.clone(),
                at: t.at,
                kind: EventKind::parse(t.to.as_str()),
                body: EventBody {
                    from: Some(t.from),
                    to: Some(t.to),
                    note: Some(t.note.clone()),
                    note_without_money: t.note_without_money.clone(),
                    ..Default::default()
                }
                .to_json(),
            });
        }
        for (episode, silence) in &step.suppressed {
            batch.events.push(EventRow {
                episode_id: episode.clone(),
                at: now,
                kind: EventKind::Silenced,
                body: EventBody {
                    silence_id: Some(silence.clone()),
                    ..Default::default()
                }
                .to_json(),
            });
        }
        for n in &step.notifications {
            let episodes: Vec<String> = n
                .alerts
                .iter()
                .filter_map(|a| a.episode_id.clone())
                .collect();
            for channel in &n.channels {
                let Some(payload) = render(self.channel_kind(channel), n, &self.render) else {
                    tracing::error!(%channel, "channel of unknown kind: notification not queued");
                    continue;
                };
                let id = format!("{}-{channel}", n.id);
                for episode in &episodes {
                    batch.events.push(EventRow {
                        episode_id: episode.clone(),
                        at: now,
                        kind: EventKind::Notification,
                        body: EventBody {
                            notification_id: Some(id.clone()),
                            kind: Some(n.kind),
                            channel: Some(channel.clone()),
                            tier: Some(n.tier),
                            grouped_with: Some(episodes.len() - 1),
                            ..Default::default()
                        }
                        .to_json(),
                    });
                }
                batch.notifications.push(NewNotification {
                    id,
                    channel: channel.clone(),
                    payload,
                    episode_ids: episodes.clone(),
                    created_at: now,
                    expires_at: now.saturating_add(self.notification_ttl).unwrap_or(now),
                });
            }
        }
        batch
    }

    /// Acknowledges an open episode (see [`actions::acknowledge`]) and
    /// keeps this evaluator's memory in step at once.
    pub async fn acknowledge(
        &self,
        episode_id: &str,
        who: &Actor,
        now: Timestamp,
    ) -> Result<AckOutcome, AlertError> {
        let outcome = actions::acknowledge(self.store.as_ref(), episode_id, who, now).await?;
        if outcome == AckOutcome::Acknowledged {
            let ack = Ack {
                by: who.name.clone(),
                via: who.via.clone(),
                at: now,
            };
            self.state.lock().await.acknowledge(episode_id, ack);
        }
        Ok(outcome)
    }

    /// Resolves an open episode by hand (see [`actions::resolve`]).
    pub async fn resolve(
        &self,
        episode_id: &str,
        who: &Actor,
        now: Timestamp,
    ) -> Result<(), AlertError> {
        actions::resolve(self.store.as_ref(), episode_id, who, now).await?;
        self.state.lock().await.resolve(episode_id, now);
        Ok(())
    }

    /// Saves a silence (see [`actions::silence`]).
    pub async fn silence(
        &self,
        silence: &Silence,
        who: &Actor,
        now: Timestamp,
    ) -> Result<(), AlertError> {
        actions::silence(self.store.as_ref(), silence, who, now).await
    }

    /// Ends a silence early (see [`actions::end_silence`]).
    pub async fn end_silence(
        &self,
        id: &str,
        who: &Actor,
        now: Timestamp,
    ) -> Result<actions::EndSilenceOutcome, AlertError> {
        actions::end_silence(self.store.as_ref(), id, who, now).await
    }
}
