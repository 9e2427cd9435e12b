//! Incident mode and the public status page.
//!
//! Each component (checkout, payments, fulfillment, support, catalog) has a
//! status per scope — a brand until regions exist — set by a person; one
//! never set is operational. The public `GET /status.json` is shaped like
//! Atlassian Statuspage's `summary.json` (page, status indicator,
//! components, incidents with their updates) so status widgets read it.
//! It carries no login, no money and no internal note: only the incidents
//! of incident-mode severities or with a public update, and only their
//! public updates.

use super::lifecycle::{Incident, IncidentState, TimelineWhat};
use super::severity::{Severity, SeverityPolicies};
use jiff::{SignedDuration, Timestamp};
use opsdeck_store::incidents::ComponentRow;
use serde::{Deserialize, Serialize};

/// A part of the shop a customer can find broken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Component {
    Checkout,
    Payments,
    Fulfillment,
    Support,
    Catalog,
}

impl Component {
    pub const ALL: [Component; 5] = [
        Component::Checkout,
        Component::Payments,
        Component::Fulfillment,
        Component::Support,
        Component::Catalog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Component::Checkout => "checkout",
            Component::Payments => "payments",
            Component::Fulfillment => "fulfillment",
            Component::Support => "support",
            Component::Catalog => "catalog",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Component::Checkout => "Checkout",
            Component::Payments => "Payments",
            Component::Fulfillment => "Fulfillment",
            Component::Support => "Support",
            Component::Catalog => "Catalog",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        Component::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown component {s:?}: use checkout, payments, fulfillment, support or catalog"
                )
            })
    }
}

/// How a component is doing (Statuspage's words).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentStatus {
    Operational,
    /// Scheduled work; ranks below any outage.
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentStatus {
    pub const ALL: [ComponentStatus; 5] = [
        ComponentStatus::Operational,
        ComponentStatus::DegradedPerformance,
        ComponentStatus::PartialOutage,
        ComponentStatus::MajorOutage,
        ComponentStatus::UnderMaintenance,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "operational",
            ComponentStatus::DegradedPerformance => "degraded_performance",
            ComponentStatus::PartialOutage => "partial_outage",
            ComponentStatus::MajorOutage => "major_outage",
            ComponentStatus::UnderMaintenance => "under_maintenance",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ComponentStatus::Operational => "Operational",
            ComponentStatus::DegradedPerformance => "Degraded",
            ComponentStatus::PartialOutage => "Partial outage",
            ComponentStatus::MajorOutage => "Major outage",
            ComponentStatus::UnderMaintenance => "Maintenance",
        }
    }

    pub fn parse(s: &str) -> Result<Self, String> {
        ComponentStatus::ALL
            .into_iter()
            .find(|c| c.as_str() == s)
            .ok_or_else(|| {
                format!(
                    "unknown component status {s:?}: use operational, degraded_performance, \
                     partial_outage, major_outage or under_maintenance"
                )
            })
    }
}

/// One component in one scope, as shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentView {
    pub component: Component,
    pub scope: String,
    pub status: ComponentStatus,
    pub updated_at: Option<Timestamp>,
    pub updated_by: Option<String>,
}

/// Every component of every scope, in order, with its stored status or
/// operational. Stored rows this version cannot read are left out (and
/// logged): the page still answers.
pub fn components(scopes: &[String], stored: &[ComponentRow]) -> Vec<ComponentView> {
    let mut out = Vec::new();
    for scope in scopes {
        for component in Component::ALL {
            let row = stored
                .iter()
                .find(|r| r.component == component.as_str() && &r.scope == scope);
            let status = match row.map(|r| ComponentStatus::parse(&r.status)) {
                Some(Ok(s)) => s,
                Some(Err(e)) => {
                    tracing::warn!(error = %e, component = component.as_str(), %scope, "stored component status unreadable; shown as operational");
                    ComponentStatus::Operational
                }
                None => ComponentStatus::Operational,
            };
            out.push(ComponentView {
                component,
                scope: scope.clone(),
                status,
                updated_at: row.map(|r| r.updated_at),
                updated_by: row.map(|r| r.updated_by.clone()),
            });
        }
    }
    out
}

/// The public status document.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusPage {
    pub page: PageInfo,
    pub status: PageStatus,
    pub components: Vec<StatusComponent>,
    pub incidents: Vec<StatusIncident>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageInfo {
    pub id: String,
    pub name: String,
    pub url: String,
    pub updated_at: Timestamp,
}

/// The overall indicator: `none`, `minor`, `major`, `critical`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PageStatus {
    pub indicator: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusComponent {
    /// `checkout:mavena`.
    pub id: String,
    pub name: String,
    pub status: ComponentStatus,
    /// The scope (brand) the component belongs to.
    pub group: String,
    pub updated_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusIncident {
    pub id: String,
    pub name: String,
    /// Statuspage's words: investigating, identified, monitoring, resolved.
    pub status: &'static str,
    /// none, minor, major, critical.
    pub impact: &'static str,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub shortlink: String,
    pub incident_updates: Vec<StatusUpdate>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StatusUpdate {
    pub id: String,
    pub status: &'static str,
    pub body: String,
    pub created_at: Timestamp,
}

fn public_status(state: IncidentState) -> &'static str {
    match state {
        IncidentState::Triage => "investigating",
        IncidentState::Investigating => "identified",
        IncidentState::Mitigated => "monitoring",
        IncidentState::Resolved
        | IncidentState::Closed
        | IncidentState::Cancelled
        | IncidentState::Merged => "resolved",
    }
}

fn impact(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "critical",
        Severity::High => "major",
        Severity::Medium | Severity::Low => "minor",
    }
}

/// How long a resolved incident stays on the status page.
pub const RESOLVED_SHOWN_FOR: SignedDuration = SignedDuration::from_hours(24 * 7);

/// The status document from the component statuses and the incidents
/// (any order; live ones and ones resolved within [`RESOLVED_SHOWN_FOR`]
/// are shown when public: an incident-mode severity, or a public update).
pub fn status_page(
    name: &str,
    url: &str,
    components: &[ComponentView],
    incidents: &[Incident],
    policies: &SeverityPolicies,
    now: Timestamp,
) -> StatusPage {
    let url = url.trim_end_matches('/').to_string();
    let shown: Vec<StatusIncident> = incidents
        .iter()
        .filter(|i| !matches!(i.state, IncidentState::Cancelled | IncidentState::Merged))
        .filter(|i| {
            i.is_live()
                || i.reached_at(IncidentState::Resolved)
                    .is_some_and(|at| now.duration_since(at) <= RESOLVED_SHOWN_FOR)
        })
        .filter_map(|i| {
            let updates: Vec<StatusUpdate> = i
                .timeline
                .iter()
                .enumerate()
                .filter_map(|(n, e)| match &e.what {
                    TimelineWhat::Update { text, public: true } => Some(StatusUpdate {
                        id: format!("{}-{n}", i.id),
                        status: public_status(state_at(i, e.at)),
                        body: text.clone(),
                        created_at: e.at,
                    }),
                    _ => None,
                })
                .rev()
                .collect();
            let public = policies.get(i.severity).incident_mode || !updates.is_empty();
            public.then(|| StatusIncident {
                id: i.id.to_string(),
                name: i.title.clone(),
                status: public_status(i.state),
                impact: impact(i.severity),
                created_at: i.declared_at,
                updated_at: i.updated_at,
                resolved_at: i.reached_at(IncidentState::Resolved),
                shortlink: format!("{url}/status.json#incident-{}", i.id),
                incident_updates: updates,
            })
        })
        .collect();
    let worst = components.iter().map(|c| c.status).max();
    let live_impact = shown
        .iter()
        .filter(|i| i.status != "resolved")
        .map(|i| i.impact)
        .max_by_key(|i| match *i {
            "critical" => 3,
            "major" => 2,
            "minor" => 1,
            _ => 0,
        });
    let indicator = match (worst, live_impact) {
        (Some(ComponentStatus::MajorOutage), _) | (_, Some("critical")) => "critical",
        (Some(ComponentStatus::PartialOutage), _) | (_, Some("major")) => "major",
        (Some(ComponentStatus::DegradedPerformance), _) | (_, Some("minor")) => "minor",
        (Some(ComponentStatus::UnderMaintenance), _) => "maintenance",
        _ => "none",
    };
    let description = match indicator {
        "critical" => "Major System Outage",
        "major" => "Partial System Outage",
        "minor" => "Minor Service Outage",
        "maintenance" => "Service Under Maintenance",
        _ => "All Systems Operational",
    };
    let updated_at = components
        .iter()
        .filter_map(|c| c.updated_at)
        .chain(shown.iter().map(|i| i.updated_at))
        .max()
        .unwrap_or(now);
    StatusPage {
        page: PageInfo {
            id: "opsdeck".into(),
            name: name.to_string(),
            url: url.clone(),
            updated_at,
        },
        status: PageStatus {
            indicator,
            description,
        },
        components: components
            .iter()
            .map(|c| StatusComponent {
                id: format!("{}:{}", c.component.as_str(), c.scope),
                name: format!("{} ({})", c.component.label(), c.scope),
                status: c.status,
                group: c.scope.clone(),
                updated_at: c.updated_at,
            })
            .collect(),
        incidents: shown,
    }
}

/// The state an incident was in at `at`.
fn state_at(i: &Incident, at: Timestamp) -> IncidentState {
    i.reached
        .iter()
        .take_while(|r| r.at <= at)
        .last()
        .map(|r| r.state)
        .unwrap_or(IncidentState::Triage)
}
