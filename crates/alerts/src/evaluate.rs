//! The evaluation state machine: one pure step from (state, observations,
//! silences, now) to state changes and the notifications they cause.
//!
//! Per (rule, brand, subject) — the dedup key — an alert moves
//! pending → firing → acknowledged → resolved:
//! - an active observation starts it **pending**; it fires once it has been
//!   active for the rule's `pending_for` (a blip shorter than that never
//!   reaches anyone), and is forgotten if it clears first;
//! - a **firing** alert whose condition clears keeps firing for
//!   `keep_firing_for`; if the condition returns meanwhile nothing new is
//!   sent, so flapping input gives one notification, not many;
//! - while firing and unacknowledged it is repeated every `repeat_every`,
//!   and a critical one escalates a tier every `escalate_after`;
//! - **acknowledged** stops repeats and escalation; the alert still
//!   resolves when its condition clears;
//! - **resolved** ends the episode (with a "resolved" message to whoever
//!   was told it fired); a new activation starts a new episode.
//!
//! Notifications of one step are grouped by (brand, tier, kind): alerts
//! that fire together arrive as one message. A silence suppresses sending,
//! never the state changes; an alert whose first message was silenced is
//! announced when the silence ends, if it is still firing.

use crate::notify::Channel;
use crate::observation::{Figure, Observation};
use crate::rules::{RuleSet, Severity, Tier, Timing};
use crate::silence::{AlertLabels, Silence};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

/// Where an alert is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Pending,
    Firing,
    Acknowledged,
    Resolved,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "pending",
            Phase::Firing => "firing",
            Phase::Acknowledged => "acknowledged",
            Phase::Resolved => "resolved",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Phase::Pending,
            "firing" => Phase::Firing,
            "acknowledged" => Phase::Acknowledged,
            "resolved" => Phase::Resolved,
            _ => return None,
        })
    }
}

opsdeck_domain::open_enum! {
    /// Through what a person acted on an alert. Stored in the episode (its
    /// [`Ack`]), its history and the audit log, so a value written by a
    /// newer version is kept as `Other`.
    pub enum Via {
        /// The JSON API.
        Api = "api",
        /// The dashboard's pages.
        Web = "web",
        /// A button press in Telegram.
        Telegram = "telegram",
        /// A command line tool.
        Cli = "cli",
    }
}

/// Who acknowledged, how and when.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub by: String,
    pub via: Via,
    pub at: Timestamp,
}

/// One tracked alert (an episode once it fires).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    pub key: String,
    pub rule: String,
    pub rule_name: String,
    pub brand: String,
    pub subject: String,
    pub severity: Severity,
    pub phase: Phase,
    /// Assigned when it fires.
    pub episode_id: Option<String>,
    pub pending_since: Timestamp,
    pub fired_at: Option<Timestamp>,
    pub inactive_since: Option<Timestamp>,
    pub last_notified_at: Option<Timestamp>,
    pub notifications: u32,
    pub tier: Tier,
    pub escalated_at: Option<Timestamp>,
    pub ack: Option<Ack>,
    pub resolved_at: Option<Timestamp>,
    /// The silence keeping it quiet right now, if any.
    pub silenced_by: Option<String>,
    pub value: Option<Figure>,
    pub baseline: Option<Figure>,
    pub threshold: Option<Figure>,
    pub why: String,
    /// `why` without amounts of money (see [`Observation::why_without_money`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_without_money: Option<String>,
    pub dashboard_path: String,
    pub timing: Timing,
}

impl Alert {
    pub fn is_open(&self) -> bool {
        matches!(self.phase, Phase::Firing | Phase::Acknowledged)
    }

    fn labels(&self) -> AlertLabels<'_> {
        AlertLabels {
            rule: &self.rule,
            brand: &self.brand,
            subject: &self.subject,
            severity: self.severity.as_str(),
        }
    }
}

/// The evaluator's memory between steps: every pending or open alert by
/// dedup key. Open alerts are persisted as episodes; pending ones live only
/// in memory (a restart restarts their pending period, which only delays).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertState {
    pub alerts: BTreeMap<String, Alert>,
    /// Makes ids unique across evaluator processes (set once per process).
    pub id_prefix: String,
    pub next_id: u64,
}

impl AlertState {
    pub fn new(id_prefix: impl Into<String>) -> Self {
        AlertState {
            id_prefix: id_prefix.into(),
            ..Default::default()
        }
    }

    fn new_id(&mut self, kind: char, now: Timestamp) -> String {
        self.next_id += 1;
        format!(
            "{kind}{}{}-{}",
            self.id_prefix,
            now.as_microsecond(),
            self.next_id
        )
    }

    pub fn by_episode(&self, episode_id: &str) -> Option<&Alert> {
        self.alerts
            .values()
            .find(|a| a.episode_id.as_deref() == Some(episode_id))
    }

    /// Acknowledges an open episode. `None` when it is not open (already
    /// acknowledged, resolved, or unknown): acknowledging twice is harmless.
    pub fn acknowledge(&mut self, episode_id: &str, ack: Ack) -> Option<Transition> {
        let alert = self
            .alerts
            .values_mut()
            .find(|a| a.episode_id.as_deref() == Some(episode_id))?;
        if alert.phase != Phase::Firing {
            return None;
        }
        alert.phase = Phase::Acknowledged;
        let t = Transition {
            key: alert.key.clone(),
            episode_id: episode_id.to_string(),
            from: Phase::Firing,
            to: Phase::Acknowledged,
            at: ack.at,
            note: format!("acknowledged by {} via {}", ack.by, ack.via),
            note_without_money: None,
        };
        alert.ack = Some(ack);
        Some(t)
    }

    /// Resolves an open episode by hand. Returns the resolved alert.
    pub fn resolve(&mut self, episode_id: &str, now: Timestamp) -> Option<Alert> {
        let key = self.by_episode(episode_id)?.key.clone();
        let mut alert = self.alerts.remove(&key)?;
        alert.phase = Phase::Resolved;
        alert.resolved_at = Some(now);
        Some(alert)
    }
}

/// A state change of an episode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Transition {
    pub key: String,
    pub episode_id: String,
    pub from: Phase,
    pub to: Phase,
    pub at: Timestamp,
    pub note: String,
    /// `note` without amounts of money, where it names one.
    pub note_without_money: Option<String>,
}

/// Why a message is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    Firing,
    Repeat,
    Escalated,
    Resolved,
}

/// One message: alerts of one brand, tier and kind that became due in the
/// same step, for every channel of the tier.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Notification {
    pub id: String,
    pub kind: NoticeKind,
    pub tier: Tier,
    pub channels: Vec<Channel>,
    pub brand: String,
    /// Most severe first.
    pub alerts: Vec<Alert>,
}

/// What one step changed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Step {
    pub transitions: Vec<Transition>,
    pub notifications: Vec<Notification>,
    /// Open alerts whose stored episode must be rewritten (new phase, new
    /// figures, notified, silenced).
    pub changed: Vec<Alert>,
    /// Episodes that resolved in this step, as they ended.
    pub resolved: Vec<Alert>,
    /// (episode id, silence id): a message that a silence held back.
    pub suppressed: Vec<(String, String)>,
}

/// Where alert messages can go: what the pages show so that an alert that
/// reaches no one is never a surprise.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Delivery {
    /// Every channel some tier sends to.
    pub channels: Vec<Channel>,
    /// Tiers with no channel: their alerts open and show, and reach no one.
    pub unrouted: Vec<Tier>,
}

/// The rules in force and where each tier's messages go.
#[derive(Debug, Clone)]
pub struct Evaluator {
    pub rules: RuleSet,
    pub tier_channels: BTreeMap<Tier, Vec<Channel>>,
}

impl Evaluator {
    pub fn new(rules: RuleSet) -> Self {
        let tier_channels = [Tier::Slack, Tier::Telegram, Tier::TelegramAndSlack]
            .into_iter()
            .map(|t| (t, t.default_channels()))
            .collect();
        Evaluator {
            rules,
            tier_channels,
        }
    }

    /// Keeps only the `configured` channels of each tier: a message for a
    /// channel nobody configured could only expire in the outbox. What is
    /// left without a channel is said by [`Evaluator::delivery`].
    pub fn deliver_only_to(&mut self, configured: &[Channel]) {
        for channels in self.tier_channels.values_mut() {
            channels.retain(|c| configured.contains(c));
        }
    }

    /// The channels messages can reach and the tiers none can.
    pub fn delivery(&self) -> Delivery {
        let mut channels: Vec<Channel> = Vec::new();
        let mut unrouted = Vec::new();
        for tier in [Tier::Slack, Tier::Telegram, Tier::TelegramAndSlack] {
            let of_tier = self.channels(tier);
            if of_tier.is_empty() {
                unrouted.push(tier);
            }
            for c in of_tier {
                if !channels.contains(&c) {
                    channels.push(c);
                }
            }
        }
        Delivery { channels, unrouted }
    }

    fn channels(&self, tier: Tier) -> Vec<Channel> {
        self.tier_channels.get(&tier).cloned().unwrap_or_default()
    }

    /// One evaluation step at `now`. `observations` is everything the
    /// conditions saw this cycle; an open alert with no active observation
    /// counts as cleared.
    pub fn evaluate_once(
        &self,
        state: &mut AlertState,
        observations: &[Observation],
        silences: &[Silence],
        now: Timestamp,
    ) -> Step {
        let mut step = Step::default();
        let mut due: Vec<(NoticeKind, Alert)> = Vec::new();
        let mut active: HashMap<String, &Observation> = HashMap::new();
        for obs in observations.iter().filter(|o| o.active) {
            active.insert(obs.key(), obs);
        }

        // Activations: start pending, or refresh what is already tracked.
        for (key, obs) in &active {
            let Some(rule) = self.rules.for_brand(&obs.rule, &obs.brand) else {
                continue;
            };
            if !rule.enabled {
                continue;
            }
            let alert = state.alerts.entry(key.clone()).or_insert_with(|| Alert {
                key: key.clone(),
                rule: rule.id.clone(),
                rule_name: rule.name.clone(),
                brand: obs.brand.clone(),
                subject: obs.subject.clone(),
                severity: rule.severity.clone(),
                phase: Phase::Pending,
                episode_id: None,
                pending_since: now,
                fired_at: None,
                inactive_since: None,
                last_notified_at: None,
                notifications: 0,
                tier: rule.tier,
                escalated_at: None,
                ack: None,
                resolved_at: None,
                silenced_by: None,
                value: None,
                baseline: None,
                threshold: None,
                why: String::new(),
                why_without_money: None,
                dashboard_path: String::new(),
                timing: rule.timing,
            });
            alert.timing = rule.timing;
            let came_back = alert.inactive_since.take().is_some();
            let figures_changed = came_back || alert.value != obs.value || alert.why != obs.why;
            alert.value = obs.value.clone();
            alert.baseline = obs.baseline.clone();
            alert.threshold = obs.threshold.clone();
            alert.why = obs.why.clone();
            alert.why_without_money = obs.why_without_money.clone();
            alert.dashboard_path = obs.dashboard_path.clone();
            if alert.is_open() && figures_changed {
                step.changed.push(alert.clone());
            }
        }

        let keys: Vec<String> = state.alerts.keys().cloned().collect();
        for key in keys {
            let is_active = active.contains_key(&key);
            let alert = state.alerts.get_mut(&key).expect("key listed above");
            match alert.phase {
                Phase::Pending if !is_active => {
                    state.alerts.remove(&key);
                    continue;
                }
                Phase::Pending => {
                    if now.duration_since(alert.pending_since) >= alert.timing.pending_for {
                        let id = format!(
                            "A{}{}-{}",
                            state.id_prefix,
                            now.as_microsecond(),
                            state.next_id + 1
                        );
                        state.next_id += 1;
                        let alert = state.alerts.get_mut(&key).expect("present");
                        alert.phase = Phase::Firing;
                        alert.episode_id = Some(id.clone());
                        alert.fired_at = Some(now);
                        step.transitions.push(Transition {
                            key: key.clone(),
                            episode_id: id,
                            from: Phase::Pending,
                            to: Phase::Firing,
                            at: now,
                            note: alert.why.clone(),
                            note_without_money: alert.why_without_money.clone(),
                        });
                        step.changed.push(alert.clone());
                    }
                }
                Phase::Firing | Phase::Acknowledged if !is_active => {
                    if alert.inactive_since.is_none() {
                        // Persisted: the store is the evaluator's memory.
                        alert.inactive_since = Some(now);
                        step.changed.push(alert.clone());
                    }
                    let since = alert.inactive_since.unwrap_or(now);
                    if now.duration_since(since) >= alert.timing.keep_firing_for {
                        let mut done = state.alerts.remove(&key).expect("present");
                        let from = done.phase;
                        done.phase = Phase::Resolved;
                        done.resolved_at = Some(now);
                        step.transitions.push(Transition {
                            key: key.clone(),
                            episode_id: done.episode_id.clone().unwrap_or_default(),
                            from,
                            to: Phase::Resolved,
                            at: now,
                            note: "condition cleared".into(),
                            note_without_money: None,
                        });
                        if done.last_notified_at.is_some() {
                            due.push((NoticeKind::Resolved, done.clone()));
                        }
                        step.resolved.push(done);
                        continue;
                    }
                }
                Phase::Firing | Phase::Acknowledged | Phase::Resolved => {}
            }
        }

        // Messages due: first announcement, repeats, escalation.
        for alert in state.alerts.values_mut() {
            if alert.phase != Phase::Firing {
                continue;
            }
            let kind = match alert.last_notified_at {
                None => Some(NoticeKind::Firing),
                Some(last) => {
                    let fired = alert.fired_at.unwrap_or(now);
                    let since_escalation = alert.escalated_at.unwrap_or(fired);
                    if alert.severity == Severity::Critical
                        && alert.tier.next().is_some()
                        && now.duration_since(since_escalation) >= alert.timing.escalate_after
                    {
                        alert.tier = alert.tier.next().expect("checked");
                        alert.escalated_at = Some(now);
                        Some(NoticeKind::Escalated)
                    } else if now.duration_since(last) >= alert.timing.repeat_every {
                        Some(NoticeKind::Repeat)
                    } else {
                        None
                    }
                }
            };
            if let Some(kind) = kind {
                due.push((kind, alert.clone()));
            }
        }

        // Silences hold messages back; the state changes stand.
        let mut groups: BTreeMap<(String, Tier, NoticeKind), Vec<Alert>> = BTreeMap::new();
        for (kind, alert) in due {
            let silence = silences.iter().find(|s| s.covers(&alert.labels(), now));
            let episode = alert.episode_id.clone().unwrap_or_default();
            let silenced_by = silence.map(|s| s.id.clone());
            let newly = match state.alerts.get_mut(&alert.key) {
                Some(live) if live.silenced_by != silenced_by => {
                    live.silenced_by = silenced_by;
                    step.changed.push(live.clone());
                    true
                }
                Some(_) => false,
                None => silence.is_some(),
            };
            if let Some(s) = silence {
                if newly {
                    step.suppressed.push((episode, s.id.clone()));
                }
                continue;
            }
            if let Some(live) = state.alerts.get_mut(&alert.key) {
                live.last_notified_at = Some(now);
                live.notifications += 1;
                step.changed.push(live.clone());
            }
            groups
                .entry((alert.brand.clone(), alert.tier, kind))
                .or_default()
                .push(alert);
        }
        for ((brand, tier, kind), mut alerts) in groups {
            alerts.sort_by(|a, b| b.severity.cmp(&a.severity).then(a.key.cmp(&b.key)));
            step.notifications.push(Notification {
                id: state.new_id('N', now),
                kind,
                tier,
                channels: self.channels(tier),
                brand,
                alerts,
            });
        }
        dedup_changed(&mut step.changed);
        step
    }
}

/// Keeps the last copy of each changed alert.
fn dedup_changed(changed: &mut Vec<Alert>) {
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, a) in changed.iter().enumerate() {
        last.insert(a.key.clone(), i);
    }
    let mut i = 0;
    changed.retain(|a| {
        let keep = last.get(&a.key) == Some(&i);
        i += 1;
        keep
    });
}
