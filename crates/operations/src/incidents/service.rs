//! Incidents over the store: every change loads the incident, applies one
//! rule of [`super::lifecycle`], and saves it with its audit entry in one
//! transaction (refused with [`IncidentError::Conflict`] when someone else
//! changed it in between). [`IncidentService::escalate_once`] is the one
//! step the application's loop runs: it queues every due notice in the
//! alert outbox, whose senders deliver it.

use super::escalation::{due_notices, NoticeKind};
use super::lifecycle::{
    report, ActionItem, ActionItemStatus, DeclaredVia, Incident, IncidentState, Postmortem,
    SeverityReport, TimelineWhat,
};
use super::notify::render;
use super::severity::{Severity, SeverityPolicies};
use super::status::{
    components, status_page, Component, ComponentStatus, ComponentView, StatusPage,
};
use super::IncidentError;
use jiff::{SignedDuration, Timestamp};
use opsdeck_store::alerts::{Channel, NewNotification};
use opsdeck_store::incidents::{ComponentRow, IncidentFilter, IncidentRow};
use opsdeck_store::{AuditAction, AuditEntry, Store};
use serde_json::{json, Value};
use std::sync::Arc;

/// Where "now" comes from (the application's clock; a fixed one in tests).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// Who acts, as the audit log names them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    pub name: String,
    pub ip: Option<String>,
}

impl Actor {
    pub fn new(name: impl Into<String>) -> Self {
        Actor {
            name: name.into(),
            ip: None,
        }
    }
}

/// A declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declaration {
    pub title: String,
    pub severity: Severity,
    pub brand: Option<String>,
    /// Alert episodes it is declared from (linked both ways).
    pub alerts: Vec<String>,
    pub via: DeclaredVia,
    /// A first update (public or not), if any.
    pub summary: Option<(String, bool)>,
}

/// A postmortem action item still to do, with its incident.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct OpenActionItem {
    pub incident_id: i64,
    pub incident_title: String,
    pub index: usize,
    pub item: ActionItem,
}

/// What one escalation pass queued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EscalationReport {
    /// Notices queued (each on one or more channels).
    pub notices: u32,
    /// Outbox rows written.
    pub messages: u32,
}

/// How many incidents the lists, the report and the status page read.
const RECENT: u32 = 500;

pub struct IncidentService {
    store: Arc<dyn Store>,
    policies: SeverityPolicies,
    clock: Clock,
    /// The channels with a configured notifier: the others of a severity
    /// are noted on the timeline as unconfigured instead of queued.
    configured: Vec<Channel>,
    /// Links in notices point here.
    dashboard_url: String,
    /// How long the outbox keeps trying a notice.
    pub notification_ttl: SignedDuration,
    /// The public status page's name.
    pub status_name: String,
}

impl IncidentService {
    pub fn new(
        store: Arc<dyn Store>,
        policies: SeverityPolicies,
        clock: Clock,
        configured: Vec<Channel>,
        dashboard_url: impl Into<String>,
    ) -> Self {
        IncidentService {
            store,
            policies,
            clock,
            configured,
            dashboard_url: dashboard_url.into(),
            notification_ttl: SignedDuration::from_hours(24),
            status_name: "Status".into(),
        }
    }

    /// Where the dashboard is served (links in notices, the status page).
    pub fn dashboard_url(&self) -> &str {
        &self.dashboard_url
    }

    pub fn policies(&self) -> &SeverityPolicies {
        &self.policies
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    fn audit(&self, actor: &Actor, action: AuditAction, id: i64, payload: Value) -> AuditEntry {
        AuditEntry {
            at: self.now(),
            actor: actor.name.clone(),
            action,
            subject: if id == 0 {
                String::new()
            } else {
                format!("incident:{id}")
            },
            payload,
            ip: actor.ip.clone(),
        }
        .bounded()
    }

    fn to_row(incident: &Incident) -> IncidentRow {
        IncidentRow {
            id: incident.id,
            severity: incident.severity.as_str().into(),
            state: incident.state.as_str().into(),
            declared_at: incident.declared_at,
            updated_at: incident.updated_at,
            version: incident.version,
            body: serde_json::to_value(incident).expect("an incident serializes"),
        }
    }

    fn from_row(row: IncidentRow) -> Result<Incident, IncidentError> {
        let mut incident: Incident = serde_json::from_value(row.body)
            .map_err(|e| IncidentError::Corrupt(row.id, e.to_string()))?;
        incident.id = row.id;
        incident.version = row.version;
        Ok(incident)
    }

    /// Declares an incident: stored in triage with its alerts linked and
    /// its audit entry. Its notices go out on the next escalation pass.
    pub async fn declare(&self, d: Declaration, actor: &Actor) -> Result<Incident, IncidentError> {
        let now = self.now();
        let mut incident = Incident::declare(
            &d.title,
            d.severity,
            d.brand.clone(),
            &actor.name,
            d.via.clone(),
            now,
        )?;
        if !d.alerts.is_empty() {
            for id in &d.alerts {
                if self.store.alert_episode(id).await?.is_none() {
                    return Err(IncidentError::Invalid(format!("alerts: no alert {id:?}")));
                }
            }
            incident.link_alerts(d.alerts.clone(), &actor.name, now);
        }
        if let Some((text, public)) = &d.summary {
            if !text.trim().is_empty() {
                incident.add_update(text, *public, &actor.name, now)?;
            }
        }
        let audit = self.audit(
            actor,
            AuditAction::IncidentDeclare,
            0,
            json!({
                "title": incident.title,
                "severity": incident.severity,
                "brand": incident.brand,
                "via": incident.declared_via,
                "alerts": d.alerts,
            }),
        );
        let id = self
            .store
            .incident_insert(&Self::to_row(&incident), &d.alerts, &audit)
            .await?;
        incident.id = id;
        incident.version = 1;
        tracing::info!(id, severity = %incident.severity, actor = %actor.name, "incident declared");
        Ok(incident)
    }

    pub async fn get(&self, id: i64) -> Result<Incident, IncidentError> {
        let row = self
            .store
            .incident(id)
            .await?
            .ok_or(IncidentError::NotFound(id))?;
        Self::from_row(row)
    }

    /// Loads, applies `change` (which returns the audit action and
    /// payload), and saves with the audit entry; `new_alerts` are linked.
    async fn change(
        &self,
        id: i64,
        actor: &Actor,
        new_alerts: &[String],
        change: impl FnOnce(&mut Incident, Timestamp) -> Result<(AuditAction, Value), IncidentError>,
    ) -> Result<Incident, IncidentError> {
        let mut incident = self.get(id).await?;
        let now = self.now();
        let (action, payload) = change(&mut incident, now)?;
        let audit = self.audit(actor, action, id, payload);
        if !self
            .store
            .incident_update(&Self::to_row(&incident), new_alerts, &[audit])
            .await?
        {
            return Err(IncidentError::Conflict(id));
        }
        incident.version += 1;
        Ok(incident)
    }

    pub async fn transition(
        &self,
        id: i64,
        to: IncidentState,
        note: &str,
        merged_into: Option<i64>,
        actor: &Actor,
    ) -> Result<Incident, IncidentError> {
        if let Some(into) = merged_into {
            let target = self.get(into).await.map_err(|e| match e {
                IncidentError::NotFound(_) => {
                    IncidentError::Invalid(format!("merged_into: no incident {into}"))
                }
                other => other,
            })?;
            if matches!(
                target.state,
                IncidentState::Merged | IncidentState::Cancelled
            ) {
                return Err(IncidentError::Invalid(format!(
                    "merged_into: incident {into} is {}",
                    target.state
                )));
            }
        }
        self.change(id, actor, &[], |i, now| {
            let from = i.state;
            i.transition(to, note, merged_into, &actor.name, now)?;
            Ok((
                AuditAction::IncidentTransition,
                json!({ "from": from, "to": to, "note": note, "merged_into": merged_into }),
            ))
        })
        .await
    }

    pub async fn acknowledge(&self, id: i64, actor: &Actor) -> Result<Incident, IncidentError> {
        self.change(id, actor, &[], |i, now| {
            i.acknowledge(&actor.name, now)?;
            let late = i.times().to_acknowledge.map(|d| d.as_secs());
            Ok((AuditAction::IncidentAcknowledge, json!({ "after_s": late })))
        })
        .await
    }

    pub async fn change_severity(
        &self,
        id: i64,
        to: Severity,
        actor: &Actor,
    ) -> Result<Incident, IncidentError> {
        self.change(id, actor, &[], |i, now| {
            let from = i.severity;
            i.change_severity(to, &actor.name, now)?;
            Ok((
                AuditAction::IncidentSeverity,
                json!({ "from": from, "to": to }),
            ))
        })
        .await
    }

    /// A written update (`public`: also on the status page) or, with
    /// `action`, something done about it.
    pub async fn add_update(
        &self,
        id: i64,
        text: &str,
        public: bool,
        action: bool,
        actor: &Actor,
    ) -> Result<Incident, IncidentError> {
        self.change(id, actor, &[], |i, now| {
            if action {
                i.add_action(text, &actor.name, now)?;
            } else {
                i.add_update(text, public, &actor.name, now)?;
            }
            Ok((
                AuditAction::IncidentUpdate,
                json!({ "text": text, "public": public, "action": action }),
            ))
        })
        .await
    }

    /// Links alert episodes (each must exist; ones already linked are
    /// left out).
    pub async fn link_alerts(
        &self,
        id: i64,
        episodes: &[String],
        actor: &Actor,
    ) -> Result<Incident, IncidentError> {
        let linked = self.store.incident_alerts(id).await?;
        let mut new = Vec::new();
        for e in episodes {
            if self.store.alert_episode(e).await?.is_none() {
                return Err(IncidentError::Invalid(format!("alerts: no alert {e:?}")));
            }
            if !linked.contains(e) && !new.contains(e) {
                new.push(e.clone());
            }
        }
        if new.is_empty() {
            return Err(IncidentError::Invalid(
                "alerts: every alert named is already linked".into(),
            ));
        }
        let list = new.clone();
        self.change(id, actor, &new, |i, now| {
            i.link_alerts(list.clone(), &actor.name, now);
            Ok((AuditAction::IncidentLinkAlerts, json!({ "alerts": list })))
        })
        .await
    }

    pub async fn set_postmortem(
        &self,
        id: i64,
        postmortem: Postmortem,
        actor: &Actor,
    ) -> Result<Incident, IncidentError> {
        self.change(id, actor, &[], |i, now| {
            let payload = serde_json::to_value(&postmortem).unwrap_or(Value::Null);
            i.set_postmortem(postmortem, &actor.name, now)?;
            Ok((AuditAction::IncidentPostmortem, payload))
        })
        .await
    }

    pub async fn add_action_item(
        &self,
        id: i64,
        item: ActionItem,
        actor: &Actor,
    ) -> Result<Incident, IncidentError> {
        self.change(id, actor, &[], |i, now| {
            let payload = serde_json::to_value(&item).unwrap_or(Value::Null);
            i.add_action_item(item, &actor.name, now)?;
            Ok((AuditAction::IncidentActionItem, payload))
        })
        .await
    }

    pub async fn set_action_item_status(
        &self,
        id: i64,
        index: usize,
        status: ActionItemStatus,
        actor: &Actor,
    ) -> Result<Incident, IncidentError> {
        self.change(id, actor, &[], |i, now| {
            i.set_action_item_status(index, status, &actor.name, now)?;
            Ok((
                AuditAction::IncidentActionItem,
                json!({ "index": index, "status": status }),
            ))
        })
        .await
    }

    /// Adds a system entry to the timeline (no audit entry of its own:
    /// what it notes was audited where it happened).
    async fn note_on_timeline(
        &self,
        id: i64,
        what: TimelineWhat,
        now: Timestamp,
    ) -> Result<(), IncidentError> {
        let mut incident = self.get(id).await?;
        incident.updated_at = now;
        incident.timeline.push(super::lifecycle::TimelineEntry {
            at: now,
            by: "opsdeck".into(),
            what,
        });
        if self
            .store
            .incident_update(&Self::to_row(&incident), &[], &[])
            .await?
        {
            Ok(())
        } else {
            Err(IncidentError::Conflict(id))
        }
    }

    /// Newest declared first.
    pub async fn list(&self, live_only: bool) -> Result<Vec<Incident>, IncidentError> {
        let filter = IncidentFilter {
            states: if live_only {
                IncidentState::LIVE
                    .iter()
                    .map(|s| s.as_str().into())
                    .collect()
            } else {
                Vec::new()
            },
            limit: RECENT,
        };
        self.store
            .incidents(&filter)
            .await?
            .into_iter()
            .map(Self::from_row)
            .collect()
    }

    /// The live incidents of an incident-mode severity, most severe first:
    /// what the banner shows and the dashboard pins. Also what a shift
    /// handover lists as live now.
    pub async fn incident_mode(&self) -> Result<Vec<Incident>, IncidentError> {
        let mut live: Vec<Incident> = self
            .list(true)
            .await?
            .into_iter()
            .filter(|i| self.policies.get(i.severity).incident_mode)
            .collect();
        live.sort_by_key(|i| (i.severity, std::cmp::Reverse(i.declared_at)));
        Ok(live)
    }

    pub async fn alerts_of(&self, id: i64) -> Result<Vec<String>, IncidentError> {
        Ok(self.store.incident_alerts(id).await?)
    }

    /// The incidents an alert is linked to.
    pub async fn incidents_of_alert(
        &self,
        episode_id: &str,
    ) -> Result<Vec<Incident>, IncidentError> {
        let mut out = Vec::new();
        for id in self.store.incidents_of_alert(episode_id).await? {
            out.push(self.get(id).await?);
        }
        Ok(out)
    }

    /// Postmortem action items not done, oldest due first.
    pub async fn open_action_items(&self) -> Result<Vec<OpenActionItem>, IncidentError> {
        let mut out: Vec<OpenActionItem> = self
            .list(false)
            .await?
            .into_iter()
            .flat_map(|i| {
                let items = i
                    .postmortem
                    .as_ref()
                    .map(|p| p.action_items.clone())
                    .unwrap_or_default();
                items
                    .into_iter()
                    .enumerate()
                    .filter(|(_, item)| item.status != ActionItemStatus::Done)
                    .map(move |(index, item)| OpenActionItem {
                        incident_id: i.id,
                        incident_title: i.title.clone(),
                        index,
                        item,
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        out.sort_by_key(|o| (o.item.due, o.incident_id, o.index));
        Ok(out)
    }

    /// Count, breaches and mean times per severity over recent incidents.
    pub async fn report(&self) -> Result<Vec<SeverityReport>, IncidentError> {
        Ok(report(&self.list(false).await?, &self.policies, self.now()))
    }

    /// Every component of every scope with its status.
    pub async fn components(&self, scopes: &[String]) -> Result<Vec<ComponentView>, IncidentError> {
        Ok(components(scopes, &self.store.component_statuses().await?))
    }

    pub async fn set_component_status(
        &self,
        component: Component,
        scope: &str,
        status: ComponentStatus,
        actor: &Actor,
    ) -> Result<(), IncidentError> {
        let now = self.now();
        let row = ComponentRow {
            component: component.as_str().into(),
            scope: scope.into(),
            status: status.as_str().into(),
            updated_at: now,
            updated_by: actor.name.clone(),
        };
        let mut audit = self.audit(
            actor,
            AuditAction::ComponentStatus,
            0,
            json!({ "component": component, "scope": scope, "status": status }),
        );
        audit.subject = format!("component:{}:{scope}", component.as_str());
        self.store.set_component_status(&row, &audit).await?;
        Ok(())
    }

    /// The public status document.
    pub async fn status_page(
        &self,
        name: &str,
        url: &str,
        scopes: &[String],
    ) -> Result<StatusPage, IncidentError> {
        let components = self.components(scopes).await?;
        let incidents = self.list(false).await?;
        Ok(status_page(
            name,
            url,
            &components,
            &incidents,
            &self.policies,
            self.now(),
        ))
    }

    /// One escalation pass at `now`: for each live incident, every notice
    /// due and not yet sent is rendered for each configured channel of it
    /// and queued in the alert outbox with its key (once per key, whatever
    /// runs concurrently), its timeline entry and its audit entry.
    #[tracing::instrument(name = "incident_escalate_once", skip_all)]
    pub async fn escalate_once(&self, now: Timestamp) -> Result<EscalationReport, IncidentError> {
        let mut report = EscalationReport::default();
        for incident in self.list(true).await? {
            let policy = self.policies.get(incident.severity);
            let sent: Vec<String> = self
                .store
                .incident_notices(incident.id)
                .await?
                .into_iter()
                .map(|n| n.key)
                .collect();
            for notice in due_notices(&incident, policy, &sent, now) {
                let (configured, unconfigured): (Vec<Channel>, Vec<Channel>) = notice
                    .channels
                    .iter()
                    .cloned()
                    .partition(|c| self.configured.contains(c));
                let expires_at = now.saturating_add(self.notification_ttl).unwrap_or(now);
                let notifications: Vec<NewNotification> = configured
                    .iter()
                    .filter_map(|channel| {
                        let payload = render(
                            channel,
                            &incident,
                            &notice,
                            policy,
                            &self.dashboard_url,
                            now,
                        )?;
                        Some(NewNotification {
                            id: format!(
                                "incident-{}-{}-{}",
                                incident.id,
                                notice.key,
                                channel.as_str()
                            ),
                            channel: channel.clone(),
                            payload,
                            episode_ids: Vec::new(),
                            created_at: now,
                            expires_at,
                        })
                    })
                    .collect();
                let names = |cs: &[Channel]| {
                    cs.iter()
                        .map(|c| c.as_str().to_string())
                        .collect::<Vec<_>>()
                };
                let audit = AuditEntry {
                    at: now,
                    actor: "opsdeck".into(),
                    action: AuditAction::IncidentNotify,
                    subject: format!("incident:{}", incident.id),
                    payload: json!({
                        "notice": notice.key,
                        "notify": notice.notify,
                        "channels": names(&configured),
                        "unconfigured": names(&unconfigured),
                    }),
                    ip: None,
                };
                if !self
                    .store
                    .incident_notify(incident.id, &notice.key, now, &notifications, &audit)
                    .await?
                {
                    continue;
                }
                if !unconfigured.is_empty() {
                    tracing::warn!(id = incident.id, notice = %notice.key, unconfigured = ?names(&unconfigured), "incident notice: some of its channels have no notifier configured");
                }
                report.notices += 1;
                report.messages += notifications.len() as u32;
                let kind = match notice.kind {
                    NoticeKind::Declared => "declared",
                    NoticeKind::Escalation { .. } => "escalation",
                };
                tracing::info!(id = incident.id, notice = %notice.key, kind, "incident notice queued");
                // The timeline says who was called; a conflicting change by
                // a person wins (the notice is already queued and audited).
                let entry = TimelineWhat::Notified {
                    notice: notice.key.clone(),
                    notify: notice.notify.clone(),
                    channels: names(&configured),
                    unconfigured: names(&unconfigured),
                };
                let result = self.note_on_timeline(incident.id, entry, now).await;
                if let Err(e) = result {
                    tracing::warn!(id = incident.id, error = %e, "incident notice queued but not noted on its timeline");
                }
            }
        }
        Ok(report)
    }
}
