//! Incidents (issue 14, point 1): declared by hand, from alerts or by the
//! ingest API; severities whose people, channels, response targets and
//! escalation are configuration; a lifecycle with validated transitions;
//! incident mode and the public status page.
//!
//! # Layout
//! - [`severity`]: the four severities and what each means
//!   ([`SeverityPolicies`], the playbook's by default).
//! - [`lifecycle`]: an [`Incident`], its states and transitions, timeline,
//!   postmortem, and the figures kept (times, breaches, [`report`]).
//! - [`escalation`]: which notices are due (pure, with a given now).
//! - [`notify`]: a notice as each channel is sent it (the alert payloads).
//! - [`status`]: components and their statuses, the public status document.
//! - [`service`]: all of it over the store, with the audit log
//!   ([`IncidentService`]).

pub mod escalation;
pub mod lifecycle;
pub mod notify;
pub mod service;
pub mod severity;
pub mod status;

pub use lifecycle::{
    report, ActionItem, ActionItemStatus, DeclaredVia, Incident, IncidentState, Postmortem,
    SeverityReport, TimelineWhat,
};
pub use service::{Actor, Declaration, EscalationReport, IncidentService, OpenActionItem};
pub use severity::{EscalationStep, Severity, SeverityPolicies, SeverityPolicy};
pub use status::{Component, ComponentStatus, ComponentView, StatusPage};

/// The token kind that lets a platform declare incidents through the
/// ingest API (`POST /api/v1/incidents`), besides the record kinds.
pub const INGEST_KIND: &str = "incidents";

/// Why an incident change was refused.
#[derive(Debug, thiserror::Error)]
pub enum IncidentError {
    /// The lifecycle does not allow this step.
    #[error("an incident cannot go from {from} to {to}; from {from} it may go to: {}", allowed(*.from))]
    Transition {
        from: IncidentState,
        to: IncidentState,
    },
    /// Bad input: the message names the field and its bound.
    #[error("{0}")]
    Invalid(String),
    #[error("no incident {0}")]
    NotFound(i64),
    /// Someone else changed the incident since it was read.
    #[error("incident {0} was changed by someone else meanwhile: reload and try again")]
    Conflict(i64),
    #[error("stored incident {0} could not be read: {1}")]
    Corrupt(i64, String),
    #[error(transparent)]
    Store(#[from] opsdeck_store::StoreError),
}

fn allowed(from: IncidentState) -> String {
    let next: Vec<&str> = from.next().iter().map(|s| s.as_str()).collect();
    if next.is_empty() {
        "nothing (it is final)".into()
    } else {
        next.join(", ")
    }
}

#[cfg(test)]
mod tests;
