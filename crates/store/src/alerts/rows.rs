//! The alert tables' rows as the store takes and gives them.

use crate::AuditEntry;
use jiff::Timestamp;
use serde::Serialize;

opsdeck_domain::open_enum! {
    /// How bad an alert is; orders the urgent-attention list, critical
    /// first. A severity written by a newer version is kept as `Other` and
    /// ranks below warning ([`Ord`]).
    pub enum Severity {
        Warning = "warning",
        Critical = "critical",
    }
}

impl Severity {
    /// A severity this version knows, for configuration, which must refuse
    /// any other word; `None` for anything else.
    pub fn known(s: &str) -> Option<Severity> {
        match Severity::parse(s) {
            Severity::Other(_) => None,
            known => Some(known),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Severity::Other(_) => 0,
            Severity::Warning => 1,
            Severity::Critical => 2,
        }
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| self.as_str().cmp(other.as_str()))
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

opsdeck_domain::open_enum! {
    /// Where a stored episode is in its life. The store's rules read it:
    /// at most one unresolved episode per dedup key, and an acknowledgement
    /// is never turned back to firing. A state written by a newer version
    /// is kept as `Other` and counts as open (not resolved).
    pub enum EpisodeState {
        Firing = "firing",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

impl EpisodeState {
    /// Not resolved: what `EpisodeFilter::open_only` lists.
    pub fn is_open(&self) -> bool {
        *self != EpisodeState::Resolved
    }
}

/// One alert episode as stored. `body` carries everything else (value,
/// baseline, threshold, why, escalation tier, ...): the `opsdeck-alerts`
/// crate's `Alert`, which its `Episode` reads it as.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpisodeRow {
    pub id: String,
    /// `rule|brand|subject`: at most one unresolved episode per key.
    pub dedup_key: String,
    pub rule: String,
    pub brand: String,
    pub severity: Severity,
    pub state: EpisodeState,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub body: serde_json::Value,
}

opsdeck_domain::open_enum! {
    /// What an entry of an episode's history records. A kind written by a
    /// newer version is kept as `Other`.
    pub enum EventKind {
        /// The episode opened (its first notification is due).
        Firing = "firing",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
        /// A notification held back by a silence.
        Silenced = "silenced",
        /// A notification queued for one channel.
        Notification = "notification",
    }
}

/// One entry of an episode's history (state change, notification, ack...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    pub episode_id: String,
    pub at: Timestamp,
    pub kind: EventKind,
    pub body: serde_json::Value,
}

opsdeck_domain::open_enum! {
    /// The channel a notification is queued for, named as its
    /// `[notifiers.*]` section is: which configured notifier sends it, and
    /// (for these four) which shape its payload is rendered in. A name
    /// written by a newer version, or one a caller maps to a known channel
    /// itself, is kept as `Other`.
    pub enum Channel {
        Slack = "slack",
        Telegram = "telegram",
        Email = "email",
        Webhook = "webhook",
    }
}

/// By name, so channels can key ordered maps.
impl Ord for Channel {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Channel {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Not delivered yet: waiting for its next attempt (or being sent).
    Pending,
    Delivered,
    /// Gave up: its deadline passed, or the receiver refused it for good.
    Expired,
}

impl OutboxStatus {
    pub(super) fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Expired => "expired",
        }
    }

    /// `None` for a status this version does not write.
    pub(super) fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(OutboxStatus::Pending),
            "delivered" => Some(OutboxStatus::Delivered),
            "expired" => Some(OutboxStatus::Expired),
            _ => None,
        }
    }
}

/// A notification to commit: what to send, on which configured channel,
/// for which episodes, until when to keep trying.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewNotification {
    pub id: String,
    pub channel: Channel,
    pub payload: serde_json::Value,
    pub episode_ids: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A notification with its delivery status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRow {
    pub id: String,
    pub channel: Channel,
    pub payload: serde_json::Value,
    pub status: OutboxStatus,
    /// Send attempts started so far (a claim counts as one).
    pub attempts: u32,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
    pub expires_at: Timestamp,
    pub lease_holder: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
}

/// How one send attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryResult {
    Delivered,
    /// Try again at `at` (the receiver's `Retry-After`, or backoff).
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Stop trying; the row stays visible with the reason.
    Expired {
        error: String,
    },
}

/// A silence or a declared incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SilenceRow {
    pub id: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_at: Timestamp,
    pub body: serde_json::Value,
}

/// Everything one evaluation step (or one acknowledgement) writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertBatch {
    /// Inserted, or replaced by id.
    pub episodes: Vec<EpisodeRow>,
    pub events: Vec<EventRow>,
    pub notifications: Vec<NewNotification>,
    /// Inserted, or replaced by id (ending a silence early is a replace).
    pub silences: Vec<SilenceRow>,
    /// What people did (ack, resolve, silence), into the shared audit log
    /// in the same transaction.
    pub audit: Vec<AuditEntry>,
}

impl AlertBatch {
    pub fn is_empty(&self) -> bool {
        self.episodes.is_empty()
            && self.events.is_empty()
            && self.notifications.is_empty()
            && self.silences.is_empty()
            && self.audit.is_empty()
    }
}

/// Which episodes to list, newest change first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeFilter {
    /// Only episodes that are not resolved.
    pub open_only: bool,
    pub brand: Option<String>,
    pub limit: u32,
}
