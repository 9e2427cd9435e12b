//! Shift handovers and the morning checklist (issue 14, point 4).
//!
//! A handover note is written per region and shift in the playbook's
//! format — open issues, pending actions, customer escalations, notes for
//! the next shift — pre-filled from what is live now ([`live`]), edited and
//! submitted by the outgoing person and acknowledged by the incoming one:
//! draft → submitted → acknowledged, nothing else. Only its author edits
//! or submits a draft; nobody edits after submission; nobody acknowledges
//! their own note. A note submitted and not acknowledged within the
//! configured time notifies the region's leads once, through the alert
//! outbox the incident notices use ([`Handovers::notify_unacknowledged_once`]).
//!
//! The morning checklist ([`checklist`]) shows each playbook item's state
//! now and who checked it today (the region's local day).
//!
//! # Layout
//! - [`shifts`]: shift boundaries and the acknowledgement deadline
//!   ([`ShiftPolicy`]), and which shift an instant falls in.
//! - [`live`]: the live-state snapshot and the pre-filled sections.
//! - [`checklist`]: the morning checklist's items, their state and checks.
//! - `notify`: the "not acknowledged" notice as each channel is sent it.
//! - this file: a note's lifecycle and [`Handovers`], the service over the
//!   store with the audit log.

pub mod checklist;
pub mod live;
mod notify;
pub mod shifts;

pub use checklist::{Checklist, ChecklistItem, ChecklistRow};
pub use live::{LiveState, Sections};
pub use shifts::{Shift, ShiftPolicy};

use crate::approvals::Approvals;
use crate::incidents::{Actor, IncidentService};
use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::episode;
use opsdeck_alerts::silence::Silence;
use opsdeck_domain::{BrandId, Region, RegionId};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::SharedProjection;
use opsdeck_store::alerts::{Channel, EpisodeFilter, NewNotification};
use opsdeck_store::handover::HandoverRow;
use opsdeck_store::{AuditAction, AuditEntry, Store};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

/// Where "now" comes from (the application's clock; a fixed one in tests).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Where a note is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoverState {
    /// Being written by the outgoing person.
    Draft,
    /// Handed over, waiting for the incoming person.
    Submitted,
    Acknowledged,
}

impl HandoverState {
    pub const ALL: [HandoverState; 3] = [
        HandoverState::Draft,
        HandoverState::Submitted,
        HandoverState::Acknowledged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            HandoverState::Draft => "draft",
            HandoverState::Submitted => "submitted",
            HandoverState::Acknowledged => "acknowledged",
        }
    }

    pub fn parse(s: &str) -> Option<HandoverState> {
        HandoverState::ALL.into_iter().find(|h| h.as_str() == s)
    }

    /// The one state each may go to.
    pub fn next(self) -> Option<HandoverState> {
        match self {
            HandoverState::Draft => Some(HandoverState::Submitted),
            HandoverState::Submitted => Some(HandoverState::Acknowledged),
            HandoverState::Acknowledged => None,
        }
    }
}

impl std::fmt::Display for HandoverState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a handover change was refused.
#[derive(Debug, thiserror::Error)]
pub enum HandoverError {
    #[error("a handover cannot go from {from} to {to}; {}", match from.next() { Some(n) => format!("from {from} it may only go to {n}"), None => "it is final".to_string() })]
    Transition {
        from: HandoverState,
        to: HandoverState,
    },
    #[error("a {0} handover cannot be edited: only a draft can")]
    NotEditable(HandoverState),
    /// Only the author writes and submits a draft.
    #[error("this draft is {author}'s: only they may edit or submit it")]
    NotAuthor { author: String },
    /// Four eyes: the incoming person acknowledges.
    #[error("you submitted this handover: the incoming person acknowledges it, not you")]
    OwnHandover,
    #[error("unknown region {0:?}: the regions are {1}")]
    UnknownRegion(String, String),
    #[error("unknown checklist item {0:?}: the items are {1}")]
    UnknownItem(String, String),
    #[error("{0}")]
    Invalid(String),
    #[error("no handover {0}")]
    NotFound(i64),
    #[error("handover {0} was changed by someone else meanwhile: reload and try again")]
    Conflict(i64),
    #[error("stored handover {0} could not be read: {1}")]
    Corrupt(i64, String),
    #[error(transparent)]
    Store(#[from] opsdeck_store::StoreError),
    #[error("live state could not be read: {0}")]
    Live(String),
}

/// A handover note.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoverNote {
    pub id: i64,
    pub region: String,
    pub shift: Shift,
    pub state: HandoverState,
    pub created_by: String,
    pub created_at: Timestamp,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    pub notified_at: Option<Timestamp>,
    pub version: i64,
    pub sections: Sections,
    /// What the sections were pre-filled from.
    pub live: LiveState,
}

/// The stored body: what the store does not filter on.
#[derive(Serialize, Deserialize)]
struct Body {
    sections: Sections,
    live: LiveState,
}

impl HandoverNote {
    fn to_row(&self) -> HandoverRow {
        HandoverRow {
            id: self.id,
            region: self.region.clone(),
            shift_start: self.shift.start,
            shift_end: self.shift.end,
            state: self.state.as_str().into(),
            created_by: self.created_by.clone(),
            created_at: self.created_at,
            submitted_by: self.submitted_by.clone(),
            submitted_at: self.submitted_at,
            acknowledged_by: self.acknowledged_by.clone(),
            acknowledged_at: self.acknowledged_at,
            notified_at: self.notified_at,
            version: self.version,
            body: json!({ "sections": self.sections, "live": self.live }),
        }
    }

    fn from_row(row: HandoverRow) -> Result<HandoverNote, HandoverError> {
        let body: Body = serde_json::from_value(row.body)
            .map_err(|e| HandoverError::Corrupt(row.id, e.to_string()))?;
        let state = HandoverState::parse(&row.state)
            .ok_or_else(|| HandoverError::Corrupt(row.id, format!("state {:?}", row.state)))?;
        Ok(HandoverNote {
            id: row.id,
            region: row.region,
            shift: Shift {
                start: row.shift_start,
                end: row.shift_end,
            },
            state,
            created_by: row.created_by,
            created_at: row.created_at,
            submitted_by: row.submitted_by,
            submitted_at: row.submitted_at,
            acknowledged_by: row.acknowledged_by,
            acknowledged_at: row.acknowledged_at,
            notified_at: row.notified_at,
            version: row.version,
            sections: body.sections,
            live: body.live,
        })
    }

    /// When the incoming person should have acknowledged it by.
    pub fn ack_due(&self, policy: &ShiftPolicy) -> Option<Timestamp> {
        self.submitted_at
            .and_then(|t| t.checked_add(policy.ack_within).ok())
    }

    /// Submitted, not acknowledged, and past its deadline at `now`.
    pub fn is_overdue(&self, policy: &ShiftPolicy, now: Timestamp) -> bool {
        self.state == HandoverState::Submitted && self.ack_due(policy).is_some_and(|d| d <= now)
    }

    /// The author's edit of a draft.
    pub fn edit(&mut self, sections: Sections, by: &str) -> Result<(), HandoverError> {
        if self.state != HandoverState::Draft {
            return Err(HandoverError::NotEditable(self.state));
        }
        if by != self.created_by {
            return Err(HandoverError::NotAuthor {
                author: self.created_by.clone(),
            });
        }
        sections.validate().map_err(HandoverError::Invalid)?;
        self.sections = sections;
        Ok(())
    }

    /// The author hands the draft over.
    pub fn submit(&mut self, by: &str, now: Timestamp) -> Result<(), HandoverError> {
        self.step(HandoverState::Submitted)?;
        if by != self.created_by {
            return Err(HandoverError::NotAuthor {
                author: self.created_by.clone(),
            });
        }
        self.state = HandoverState::Submitted;
        self.submitted_by = Some(by.into());
        self.submitted_at = Some(now);
        Ok(())
    }

    /// The incoming person takes it over.
    pub fn acknowledge(&mut self, by: &str, now: Timestamp) -> Result<(), HandoverError> {
        self.step(HandoverState::Acknowledged)?;
        if self.submitted_by.as_deref() == Some(by) {
            return Err(HandoverError::OwnHandover);
        }
        self.state = HandoverState::Acknowledged;
        self.acknowledged_by = Some(by.into());
        self.acknowledged_at = Some(now);
        Ok(())
    }

    fn step(&self, to: HandoverState) -> Result<(), HandoverError> {
        if self.state.next() == Some(to) {
            Ok(())
        } else {
            Err(HandoverError::Transition {
                from: self.state,
                to,
            })
        }
    }
}

/// What the service reads live state from, besides the store.
pub struct HandoverParts {
    pub store: Arc<dyn Store>,
    pub incidents: Arc<IncidentService>,
    /// `None` where approvals are not configured (nothing is pending).
    pub approvals: Option<Arc<Approvals>>,
    /// The configured regions; none configured is one region, `all`.
    pub regions: Vec<Region>,
    pub brands: Vec<BrandId>,
    pub policy: ShiftPolicy,
    pub clock: Clock,
    /// The projection and panel settings the dashboard reads: the urgent
    /// queue, the stock tiers and the overnight orders come from there.
    pub projection: SharedProjection,
    pub panel_config: Arc<PanelConfig>,
    /// The channels with a configured notifier.
    pub configured: Vec<Channel>,
    /// Links in notices point here.
    pub dashboard_url: String,
}

/// The id of the one region used when none is configured.
pub const ALL_REGIONS: &str = "all";

/// How many notes a list reads.
const RECENT: u32 = 200;

/// Handover notes and the morning checklist over the store.
pub struct Handovers {
    parts: HandoverParts,
    /// How long the outbox keeps trying a notice.
    pub notification_ttl: SignedDuration,
}

impl Handovers {
    pub fn new(mut parts: HandoverParts) -> Self {
        if parts.regions.is_empty() {
            // Without `[regions]` the whole merchant is one region in UTC:
            // handovers and the checklist still work, with no lead to notify.
            if let Ok(id) = RegionId::parse(ALL_REGIONS) {
                parts.regions.push(Region {
                    id,
                    name: "All brands".into(),
                    currency: parts.panel_config.reporting_currency,
                    time_zone: jiff::tz::TimeZone::UTC,
                    brands: parts.brands.clone(),
                    countries: Vec::new(),
                    leads: Vec::new(),
                });
            }
        }
        Handovers {
            parts,
            notification_ttl: SignedDuration::from_hours(24),
        }
    }

    pub fn now(&self) -> Timestamp {
        (self.parts.clock)()
    }

    pub fn policy(&self) -> &ShiftPolicy {
        &self.parts.policy
    }

    pub fn regions(&self) -> &[Region] {
        &self.parts.regions
    }

    /// The region named `id`, or the error listing them.
    pub fn region(&self, id: &str) -> Result<&Region, HandoverError> {
        self.parts
            .regions
            .iter()
            .find(|r| r.id.as_str() == id)
            .ok_or_else(|| {
                let known: Vec<&str> = self.parts.regions.iter().map(|r| r.id.as_str()).collect();
                HandoverError::UnknownRegion(id.into(), known.join(", "))
            })
    }

    /// The shift `now` falls in, in `region`'s zone.
    pub fn current_shift(&self, region: &Region) -> Shift {
        self.parts.policy.shift_at(&region.time_zone, self.now())
    }

    fn audit(
        &self,
        actor: &Actor,
        action: AuditAction,
        id: i64,
        payload: serde_json::Value,
    ) -> AuditEntry {
        AuditEntry {
            at: self.now(),
            actor: actor.name.clone(),
            action,
            subject: if id == 0 {
                String::new()
            } else {
                format!("handover:{id}")
            },
            payload,
            ip: actor.ip.clone(),
        }
        .bounded()
    }

    /// What is live in `region` now.
    pub async fn live_state(&self, region: &Region) -> Result<LiveState, HandoverError> {
        let now = self.now();
        let in_region = |brand: &str| region.brands.iter().any(|b| b.as_str() == brand);
        let incidents = self
            .parts
            .incidents
            .list(true)
            .await
            .map_err(|e| HandoverError::Live(e.to_string()))?
            .into_iter()
            .filter(|i| i.brand.as_deref().is_none_or(in_region))
            .map(|i| live::LiveIncident {
                id: i.id,
                title: i.title,
                severity: i.severity.as_str().into(),
                state: i.state.as_str().into(),
                brand: i.brand,
            })
            .collect();
        let filter = EpisodeFilter {
            open_only: true,
            brand: None,
            limit: 500,
        };
        let alerts = episode::episodes(self.parts.store.as_ref(), &filter)
            .await
            .map_err(|e| HandoverError::Live(e.to_string()))?
            .into_iter()
            .filter(|e| in_region(&e.brand))
            .map(|e| live::LiveAlert {
                subject: e.alert.subject.clone(),
                id: e.id,
                rule: e.rule,
                brand: e.brand,
                severity: live::alert_severity(&e.severity),
                state: live::episode_state(&e.state),
                opened_at: e.opened_at,
            })
            .collect();
        let mut silences = Vec::new();
        for row in self.parts.store.alert_silences(Some(now)).await? {
            let Ok(s) = serde_json::from_value::<Silence>(row.body.clone()) else {
                tracing::warn!(id = %row.id, "a stored silence could not be read; left out of the handover");
                continue;
            };
            let brands = &s.matchers.brands;
            if brands.is_empty() || brands.iter().any(|b| in_region(b)) {
                silences.push(live::LiveSilence {
                    id: s.id,
                    reason: s.reason,
                    author: s.author,
                    ends_at: row.ends_at,
                });
            }
        }
        silences.sort_by_key(|s| s.ends_at);
        let approvals = match &self.parts.approvals {
            Some(a) => a
                .pending()
                .await
                .map_err(|e| HandoverError::Live(e.to_string()))?
                .into_iter()
                .filter(|a| in_region(&a.brand))
                .map(|a| live::LiveApproval {
                    id: a.id,
                    kind: a.kind.as_str().into(),
                    brand: a.brand,
                    summary: a.summary,
                    requested_by: a.requested_by,
                    expires_at: a.expires_at,
                })
                .collect(),
            None => Vec::new(),
        };
        let breached_queues = self.breached_queues(region, now);
        let freezes = crate::flags::live_flags(&self.parts.store.flags().await?, now)
            .into_iter()
            .map(|f| live::LiveFreeze {
                key: f.key.as_str().into(),
                label: f.key.label().into(),
                reason: f.reason,
                set_by: f.set_by,
                ends_at: f.ends_at,
            })
            .collect();
        Ok(LiveState {
            at: Some(now),
            incidents,
            alerts,
            silences,
            approvals,
            breached_queues,
            freezes,
        })
    }

    /// The dashboard's urgent queue per brand of the region, where it
    /// flags any ticket.
    fn breached_queues(&self, region: &Region, now: Timestamp) -> Vec<live::BreachedQueue> {
        let p = self
            .parts
            .projection
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        region
            .brands
            .iter()
            .filter_map(|brand| {
                let ix = p.ctx.brand_ix(brand)?;
                let urgent =
                    opsdeck_metrics::panels::urgent::urgent(&p, &self.parts.panel_config, ix, now);
                (urgent.flagged > 0).then(|| live::BreachedQueue {
                    brand: brand.to_string(),
                    queue: "urgent tickets".into(),
                    flagged: urgent.flagged,
                    link: format!("/tickets?brand={brand}"),
                })
            })
            .collect()
    }

    /// Starts the note of `region`'s current shift, pre-filled from live
    /// state; the note already started for it when there is one (two
    /// people starting it at once get one note).
    pub async fn start(&self, region: &str, actor: &Actor) -> Result<HandoverNote, HandoverError> {
        let region = self.region(region)?;
        let shift = self.current_shift(region);
        if let Some(row) = self
            .parts
            .store
            .handover_of_shift(region.id.as_str(), shift.start)
            .await?
        {
            return HandoverNote::from_row(row);
        }
        let live = self.live_state(region).await?;
        let mut note = HandoverNote {
            id: 0,
            region: region.id.to_string(),
            shift,
            state: HandoverState::Draft,
            created_by: actor.name.clone(),
            created_at: self.now(),
            submitted_by: None,
            submitted_at: None,
            acknowledged_by: None,
            acknowledged_at: None,
            notified_at: None,
            version: 1,
            sections: live::prefill(&live),
            live,
        };
        let audit = self.audit(
            actor,
            AuditAction::HandoverStart,
            0,
            json!({
                "region": note.region,
                "shift_start": shift.start,
                "shift_end": shift.end,
                "incidents": note.live.incidents.len(),
                "alerts": note.live.alerts.len(),
                "approvals": note.live.approvals.len(),
                "freezes": note.live.freezes.len(),
            }),
        );
        match self
            .parts
            .store
            .handover_insert(&note.to_row(), &audit)
            .await?
        {
            Some(id) => {
                note.id = id;
                tracing::info!(id, region = %note.region, actor = %actor.name, "handover started");
                Ok(note)
            }
            None => {
                let row = self
                    .parts
                    .store
                    .handover_of_shift(region.id.as_str(), shift.start)
                    .await?
                    .ok_or_else(|| HandoverError::Invalid("the shift's note vanished".into()))?;
                HandoverNote::from_row(row)
            }
        }
    }

    pub async fn get(&self, id: i64) -> Result<HandoverNote, HandoverError> {
        let row = self
            .parts
            .store
            .handover(id)
            .await?
            .ok_or(HandoverError::NotFound(id))?;
        HandoverNote::from_row(row)
    }

    /// Newest shift first, of one region or all.
    pub async fn list(&self, region: Option<&str>) -> Result<Vec<HandoverNote>, HandoverError> {
        if let Some(r) = region {
            self.region(r)?;
        }
        self.parts
            .store
            .handovers(region, RECENT)
            .await?
            .into_iter()
            .map(HandoverNote::from_row)
            .collect()
    }

    async fn change(
        &self,
        id: i64,
        actor: &Actor,
        action: AuditAction,
        change: impl FnOnce(&mut HandoverNote, Timestamp) -> Result<serde_json::Value, HandoverError>,
    ) -> Result<HandoverNote, HandoverError> {
        let mut note = self.get(id).await?;
        let now = self.now();
        let payload = change(&mut note, now)?;
        let audit = self.audit(actor, action, id, payload);
        if !self
            .parts
            .store
            .handover_update(&note.to_row(), &[audit])
            .await?
        {
            return Err(HandoverError::Conflict(id));
        }
        note.version += 1;
        Ok(note)
    }

    pub async fn edit(
        &self,
        id: i64,
        sections: Sections,
        actor: &Actor,
    ) -> Result<HandoverNote, HandoverError> {
        self.change(id, actor, AuditAction::HandoverEdit, |n, _| {
            n.edit(sections, &actor.name)?;
            Ok(json!({ "sections": n.sections }))
        })
        .await
    }

    pub async fn submit(&self, id: i64, actor: &Actor) -> Result<HandoverNote, HandoverError> {
        let policy = self.parts.policy.clone();
        self.change(id, actor, AuditAction::HandoverSubmit, |n, now| {
            n.submit(&actor.name, now)?;
            Ok(json!({ "region": n.region, "ack_due": n.ack_due(&policy) }))
        })
        .await
    }

    pub async fn acknowledge(&self, id: i64, actor: &Actor) -> Result<HandoverNote, HandoverError> {
        let policy = self.parts.policy.clone();
        self.change(id, actor, AuditAction::HandoverAcknowledge, |n, now| {
            let late = n.is_overdue(&policy, now);
            n.acknowledge(&actor.name, now)?;
            Ok(json!({ "region": n.region, "submitted_by": n.submitted_by, "late": late }))
        })
        .await
    }

    /// One pass at `now`: every submitted note past its deadline and not
    /// yet notified about is rendered for each configured channel and
    /// queued in the alert outbox for the region's leads, with its audit
    /// entry. Once per note, whatever runs concurrently (the store marks
    /// it in the same transaction). Returns how many notes were notified.
    #[tracing::instrument(name = "handover_notify_once", skip_all)]
    pub async fn notify_unacknowledged_once(&self, now: Timestamp) -> Result<u32, HandoverError> {
        let Ok(due_before) = now.checked_sub(self.parts.policy.ack_within) else {
            return Ok(0);
        };
        let mut notified = 0;
        for row in self
            .parts
            .store
            .handovers_unacknowledged(due_before)
            .await?
        {
            let note = HandoverNote::from_row(row)?;
            let leads = self
                .region(&note.region)
                .map(|r| r.leads.clone())
                .unwrap_or_default();
            let expires_at = now.saturating_add(self.notification_ttl).unwrap_or(now);
            let notifications: Vec<NewNotification> = self
                .parts
                .configured
                .iter()
                .filter_map(|channel| {
                    let payload = notify::render(
                        channel,
                        &note,
                        &leads,
                        &self.parts.policy,
                        &self.parts.dashboard_url,
                        now,
                    )?;
                    Some(NewNotification {
                        id: format!("handover-{}-unacknowledged-{}", note.id, channel.as_str()),
                        channel: channel.clone(),
                        payload,
                        episode_ids: Vec::new(),
                        created_at: now,
                        expires_at,
                    })
                })
                .collect();
            let audit = AuditEntry {
                at: now,
                actor: "opsdeck".into(),
                action: AuditAction::HandoverNotify,
                subject: format!("handover:{}", note.id),
                payload: json!({
                    "region": note.region,
                    "leads": leads,
                    "submitted_by": note.submitted_by,
                    "channels": notifications.iter().map(|n| n.channel.as_str()).collect::<Vec<_>>(),
                }),
                ip: None,
            };
            if !self
                .parts
                .store
                .handover_notify(note.id, now, &notifications, &audit)
                .await?
            {
                continue;
            }
            if leads.is_empty() || notifications.is_empty() {
                tracing::warn!(id = note.id, region = %note.region, leads = leads.len(), channels = notifications.len(), "handover not acknowledged in time, but the region has no lead or no notifier is configured");
            } else {
                tracing::info!(id = note.id, region = %note.region, "handover not acknowledged in time: leads notified");
            }
            notified += 1;
        }
        Ok(notified)
    }

    /// The morning checklist of `region` now.
    pub async fn checklist(&self, region: &str) -> Result<Checklist, HandoverError> {
        let region = self.region(region)?.clone();
        checklist::build(self, &region).await
    }

    /// Records `item` of `region`'s checklist as checked today (the
    /// region's local day) by `actor`; checking it again the same day
    /// changes nothing.
    pub async fn check(
        &self,
        region: &str,
        item: &str,
        actor: &Actor,
    ) -> Result<Checklist, HandoverError> {
        let region = self.region(region)?.clone();
        let item = ChecklistItem::parse(item)?;
        checklist::check(self, &region, item, actor).await?;
        checklist::build(self, &region).await
    }
}

#[cfg(test)]
mod tests;
