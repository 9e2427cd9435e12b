//! An incident's life: its states and the transitions allowed between
//! them, the time each state was reached, its timeline, its postmortem, and
//! the figures kept from them (time to acknowledge, mitigate, resolve;
//! response-target breaches).
//!
//! ```text
//! triage ─▶ investigating ─▶ mitigated ─▶ resolved ─▶ closed
//!    │            │    ▲          │          │
//!    │            │    └──────────┘ (regressed) └─▶ investigating (reopened)
//!    └──────┬─────┴── cancelled (not an incident) / merged (into another)
//! ```
//!
//! Forward steps may be skipped (a blip resolved while in triage);
//! `closed`, `cancelled` and `merged` are final; nothing returns to triage.

use super::severity::{Severity, SeverityPolicy};
use super::IncidentError;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

/// Where an incident is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IncidentState {
    Triage,
    Investigating,
    Mitigated,
    Resolved,
    Closed,
    /// Declared in error: not an incident.
    Cancelled,
    /// A duplicate, folded into another incident.
    Merged,
}

impl IncidentState {
    pub const ALL: [IncidentState; 7] = [
        IncidentState::Triage,
        IncidentState::Investigating,
        IncidentState::Mitigated,
        IncidentState::Resolved,
        IncidentState::Closed,
        IncidentState::Cancelled,
        IncidentState::Merged,
    ];

    /// The states of a live incident: someone is still working on it.
    pub const LIVE: [IncidentState; 3] = [
        IncidentState::Triage,
        IncidentState::Investigating,
        IncidentState::Mitigated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IncidentState::Triage => "triage",
            IncidentState::Investigating => "investigating",
            IncidentState::Mitigated => "mitigated",
            IncidentState::Resolved => "resolved",
            IncidentState::Closed => "closed",
            IncidentState::Cancelled => "cancelled",
            IncidentState::Merged => "merged",
        }
    }

    pub fn parse(s: &str) -> Result<IncidentState, String> {
        IncidentState::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown incident state {s:?}: use triage, investigating, mitigated, \
                     resolved, closed, cancelled or merged"
                )
            })
    }

    pub fn is_live(self) -> bool {
        IncidentState::LIVE.contains(&self)
    }

    /// The states this one may move to: the one home of the lifecycle.
    pub fn next(self) -> &'static [IncidentState] {
        use IncidentState::*;
        match self {
            Triage => &[Investigating, Mitigated, Resolved, Cancelled, Merged],
            Investigating => &[Mitigated, Resolved, Cancelled, Merged],
            Mitigated => &[Investigating, Resolved, Merged],
            Resolved => &[Closed, Investigating],
            Closed | Cancelled | Merged => &[],
        }
    }

    /// `Ok` when `self → to` is allowed; the error names both and what is.
    pub fn check(self, to: IncidentState) -> Result<(), IncidentError> {
        if self.next().contains(&to) {
            Ok(())
        } else {
            Err(IncidentError::Transition { from: self, to })
        }
    }
}

impl std::fmt::Display for IncidentState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How the incident came to be declared.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "via", rename_all = "snake_case")]
pub enum DeclaredVia {
    /// By hand, on the dashboard.
    Dashboard,
    /// From one alert or a group of alerts (linked to it).
    Alerts,
    /// By a platform through the ingest API, with this token.
    Api { token: String },
}

/// A state reached, when and by whom.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reached {
    pub state: IncidentState,
    pub at: Timestamp,
    pub by: String,
}

/// One entry of the timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub at: Timestamp,
    pub by: String,
    #[serde(flatten)]
    pub what: TimelineWhat,
}

/// What a timeline entry records.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TimelineWhat {
    Declared {
        severity: Severity,
    },
    /// A written update; `public` ones are shown on the status page.
    Update {
        text: String,
        public: bool,
    },
    State {
        from: IncidentState,
        to: IncidentState,
        note: String,
    },
    Acknowledged,
    SeverityChanged {
        from: Severity,
        to: Severity,
    },
    AlertsLinked {
        episodes: Vec<String>,
    },
    /// Something someone did about it (rolled back a deploy, paused ads).
    Action {
        text: String,
    },
    /// A notice queued: to whom, on which channels (and which of the
    /// severity's channels are not configured, so nobody heard there).
    Notified {
        notice: String,
        notify: Vec<String>,
        channels: Vec<String>,
        unconfigured: Vec<String>,
    },
    Postmortem,
    ActionItem {
        text: String,
    },
}

/// Where a postmortem action item stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActionItemStatus {
    Open,
    InProgress,
    Done,
}

impl ActionItemStatus {
    pub const ALL: [ActionItemStatus; 3] = [
        ActionItemStatus::Open,
        ActionItemStatus::InProgress,
        ActionItemStatus::Done,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ActionItemStatus::Open => "open",
            ActionItemStatus::InProgress => "in_progress",
            ActionItemStatus::Done => "done",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        ActionItemStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                format!("unknown action item status {s:?}: use open, in_progress or done")
            })
    }
}

/// A follow-up the postmortem assigns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionItem {
    pub text: String,
    pub owner: String,
    pub due: jiff::civil::Date,
    pub status: ActionItemStatus,
}

/// What was learnt.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Postmortem {
    pub summary: String,
    /// When customers were affected: from, until.
    pub impact_from: Option<Timestamp>,
    pub impact_until: Option<Timestamp>,
    pub contributing_factors: String,
    pub what_worked: String,
    pub action_items: Vec<ActionItem>,
}

/// An incident (the stored body plus the store's id and version).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Incident {
    #[serde(skip)]
    pub id: i64,
    #[serde(skip)]
    pub version: i64,
    pub title: String,
    pub severity: Severity,
    pub state: IncidentState,
    /// The brand it concerns; `None` for all of them.
    pub brand: Option<String>,
    pub declared_at: Timestamp,
    pub declared_by: String,
    pub declared_via: DeclaredVia,
    pub acknowledged_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    /// Every state reached, in order, with its time (triage first).
    pub reached: Vec<Reached>,
    pub merged_into: Option<i64>,
    pub updated_at: Timestamp,
    pub timeline: Vec<TimelineEntry>,
    pub postmortem: Option<Postmortem>,
}

/// The three durations kept for each incident, where reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct IncidentTimes {
    pub to_acknowledge: Option<SignedDuration>,
    pub to_mitigate: Option<SignedDuration>,
    pub to_resolve: Option<SignedDuration>,
}

impl Incident {
    /// A new incident in triage.
    pub fn declare(
        title: &str,
        severity: Severity,
        brand: Option<String>,
        by: &str,
        via: DeclaredVia,
        now: Timestamp,
    ) -> Result<Incident, IncidentError> {
        let title = title.trim();
        if title.is_empty() || title.chars().count() > 200 {
            return Err(IncidentError::Invalid(
                "title: between 1 and 200 characters".into(),
            ));
        }
        Ok(Incident {
            id: 0,
            version: 0,
            title: title.to_string(),
            severity,
            state: IncidentState::Triage,
            brand,
            declared_at: now,
            declared_by: by.to_string(),
            declared_via: via,
            acknowledged_at: None,
            acknowledged_by: None,
            reached: vec![Reached {
                state: IncidentState::Triage,
                at: now,
                by: by.to_string(),
            }],
            merged_into: None,
            updated_at: now,
            timeline: vec![TimelineEntry {
                at: now,
                by: by.to_string(),
                what: TimelineWhat::Declared { severity },
            }],
            postmortem: None,
        })
    }

    pub fn is_live(&self) -> bool {
        self.state.is_live()
    }

    fn note(&mut self, by: &str, now: Timestamp, what: TimelineWhat) {
        self.updated_at = now;
        self.timeline.push(TimelineEntry {
            at: now,
            by: by.to_string(),
            what,
        });
    }

    /// Moves to `to` if the lifecycle allows it, recording when. Leaving
    /// triage acknowledges an incident nobody acknowledged yet. `merged_into`
    /// is required for (and only taken with) `merged`.
    pub fn transition(
        &mut self,
        to: IncidentState,
        note: &str,
        merged_into: Option<i64>,
        by: &str,
        now: Timestamp,
    ) -> Result<(), IncidentError> {
        self.state.check(to)?;
        match (to, merged_into) {
            (IncidentState::Merged, None) => {
                return Err(IncidentError::Invalid(
                    "merged_into: name the incident this one is merged into".into(),
                ))
            }
            (IncidentState::Merged, Some(into)) if into == self.id => {
                return Err(IncidentError::Invalid(
                    "merged_into: an incident cannot be merged into itself".into(),
                ))
            }
            (IncidentState::Merged, Some(_)) => {}
            (_, Some(_)) => {
                return Err(IncidentError::Invalid(
                    "merged_into: only with the merged state".into(),
                ))
            }
            (_, None) => {}
        }
        if self.acknowledged_at.is_none() && to != IncidentState::Cancelled {
            self.acknowledged_at = Some(now);
            self.acknowledged_by = Some(by.to_string());
        }
        let from = self.state;
        self.state = to;
        self.merged_into = merged_into;
        self.reached.push(Reached {
            state: to,
            at: now,
            by: by.to_string(),
        });
        self.note(
            by,
            now,
            TimelineWhat::State {
                from,
                to,
                note: note.trim().to_string(),
            },
        );
        Ok(())
    }

    /// Someone has it: escalation stops. Only a live incident, once.
    pub fn acknowledge(&mut self, by: &str, now: Timestamp) -> Result<(), IncidentError> {
        if !self.is_live() {
            return Err(IncidentError::Invalid(format!(
                "incident {} is {}: only a live incident is acknowledged",
                self.id, self.state
            )));
        }
        if let Some(at) = self.acknowledged_at {
            return Err(IncidentError::Invalid(format!(
                "incident {} was acknowledged at {at}",
                self.id
            )));
        }
        self.acknowledged_at = Some(now);
        self.acknowledged_by = Some(by.to_string());
        self.note(by, now, TimelineWhat::Acknowledged);
        Ok(())
    }

    /// A written update on the timeline; a public one also on the status page.
    pub fn add_update(
        &mut self,
        text: &str,
        public: bool,
        by: &str,
        now: Timestamp,
    ) -> Result<(), IncidentError> {
        let text = bounded_text("text", text, 1, 5000)?;
        self.note(by, now, TimelineWhat::Update { text, public });
        Ok(())
    }

    /// Something done about it, on the timeline.
    pub fn add_action(
        &mut self,
        text: &str,
        by: &str,
        now: Timestamp,
    ) -> Result<(), IncidentError> {
        let text = bounded_text("text", text, 1, 2000)?;
        self.note(by, now, TimelineWhat::Action { text });
        Ok(())
    }

    pub fn change_severity(
        &mut self,
        to: Severity,
        by: &str,
        now: Timestamp,
    ) -> Result<(), IncidentError> {
        if to == self.severity {
            return Err(IncidentError::Invalid(format!("severity is already {to}")));
        }
        let from = self.severity;
        self.severity = to;
        self.note(by, now, TimelineWhat::SeverityChanged { from, to });
        Ok(())
    }

    /// Notes newly linked alerts (the store keeps the links).
    pub fn link_alerts(&mut self, episodes: Vec<String>, by: &str, now: Timestamp) {
        self.note(by, now, TimelineWhat::AlertsLinked { episodes });
    }

    /// Writes (or rewrites) the postmortem; its action items keep their
    /// statuses where their text is unchanged.
    pub fn set_postmortem(
        &mut self,
        postmortem: Postmortem,
        by: &str,
        now: Timestamp,
    ) -> Result<(), IncidentError> {
        bounded_text("summary", &postmortem.summary, 1, 10_000)?;
        if let (Some(from), Some(until)) = (postmortem.impact_from, postmortem.impact_until) {
            if until < from {
                return Err(IncidentError::Invalid(
                    "impact_until: must not be before impact_from".into(),
                ));
            }
        }
        for item in &postmortem.action_items {
            bounded_text("action item text", &item.text, 1, 500)?;
            bounded_text("action item owner", &item.owner, 1, 100)?;
        }
        self.postmortem = Some(postmortem);
        self.note(by, now, TimelineWhat::Postmortem);
        Ok(())
    }

    /// Adds an action item to the postmortem (starting one if none yet).
    pub fn add_action_item(
        &mut self,
        item: ActionItem,
        by: &str,
        now: Timestamp,
    ) -> Result<(), IncidentError> {
        bounded_text("action item text", &item.text, 1, 500)?;
        bounded_text("action item owner", &item.owner, 1, 100)?;
        let text = item.text.clone();
        self.postmortem
            .get_or_insert_with(Postmortem::default)
            .action_items
            .push(item);
        self.note(by, now, TimelineWhat::ActionItem { text });
        Ok(())
    }

    /// Sets the status of action item `index` (0-based).
    pub fn set_action_item_status(
        &mut self,
        index: usize,
        status: ActionItemStatus,
        by: &str,
        now: Timestamp,
    ) -> Result<(), IncidentError> {
        let item = self
            .postmortem
            .as_mut()
            .and_then(|p| p.action_items.get_mut(index))
            .ok_or_else(|| IncidentError::Invalid(format!("no action item {index}")))?;
        item.status = status;
        let text = format!("{} → {}", item.text, status.as_str());
        self.note(by, now, TimelineWhat::ActionItem { text });
        Ok(())
    }

    /// When `state` was first reached.
    pub fn reached_at(&self, state: IncidentState) -> Option<Timestamp> {
        self.reached.iter().find(|r| r.state == state).map(|r| r.at)
    }

    /// Time to acknowledge, to mitigate (resolving unmitigated counts as
    /// mitigating) and to resolve, from the declaration.
    pub fn times(&self) -> IncidentTimes {
        let since = |t: Option<Timestamp>| t.map(|t| t.duration_since(self.declared_at));
        let resolved = self.reached_at(IncidentState::Resolved);
        IncidentTimes {
            to_acknowledge: since(self.acknowledged_at),
            to_mitigate: since(self.reached_at(IncidentState::Mitigated).or(resolved)),
            to_resolve: since(resolved),
        }
    }

    /// When the response target passes (declared + target).
    pub fn response_due(&self, policy: &SeverityPolicy) -> Timestamp {
        self.declared_at
            .saturating_add(policy.response_target)
            .unwrap_or(self.declared_at)
    }

    /// Whether the response target was missed: acknowledged after it, or
    /// still unacknowledged past it (while live). A cancelled incident
    /// never counts.
    pub fn breached(&self, policy: &SeverityPolicy, now: Timestamp) -> bool {
        let due = self.response_due(policy);
        match self.acknowledged_at {
            Some(at) => at > due,
            None => self.is_live() && now > due,
        }
    }
}

fn bounded_text(field: &str, text: &str, min: usize, max: usize) -> Result<String, IncidentError> {
    let text = text.trim();
    let n = text.chars().count();
    if n < min || n > max {
        return Err(IncidentError::Invalid(format!(
            "{field}: between {min} and {max} characters, got {n}"
        )));
    }
    Ok(text.to_string())
}

/// The figures of one severity over a set of incidents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeverityReport {
    pub severity: Severity,
    /// Incidents declared (cancelled and merged ones left out).
    pub incidents: u32,
    /// Response-target breaches among them.
    pub breaches: u32,
    /// Means over the incidents that reached each point, in seconds.
    pub mean_to_acknowledge_s: Option<i64>,
    pub mean_to_mitigate_s: Option<i64>,
    pub mean_to_resolve_s: Option<i64>,
}

/// Per severity, most severe first: count, breaches and mean times. Cancelled
/// and merged incidents are not incidents of their own and are left out.
pub fn report(
    incidents: &[Incident],
    policies: &super::severity::SeverityPolicies,
    now: Timestamp,
) -> Vec<SeverityReport> {
    fn mean(values: impl Iterator<Item = Option<SignedDuration>>) -> Option<i64> {
        let secs: Vec<i64> = values.flatten().map(|d| d.as_secs()).collect();
        (!secs.is_empty()).then(|| secs.iter().sum::<i64>() / secs.len() as i64)
    }
    Severity::ALL
        .into_iter()
        .map(|severity| {
            let policy = policies.get(severity);
            let of: Vec<&Incident> = incidents
                .iter()
                .filter(|i| i.severity == severity)
                .filter(|i| !matches!(i.state, IncidentState::Cancelled | IncidentState::Merged))
                .collect();
            SeverityReport {
                severity,
                incidents: of.len() as u32,
                breaches: of.iter().filter(|i| i.breached(policy, now)).count() as u32,
                mean_to_acknowledge_s: mean(of.iter().map(|i| i.times().to_acknowledge)),
                mean_to_mitigate_s: mean(of.iter().map(|i| i.times().to_mitigate)),
                mean_to_resolve_s: mean(of.iter().map(|i| i.times().to_resolve)),
            }
        })
        .collect()
}
