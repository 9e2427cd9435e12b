//! What is live now in a region, read from where each thing already lives
//! (no rule is computed again here): the incidents service's live
//! incidents, the open alert episodes, the silences in force, the
//! approvals service's pending requests, the urgent ticket queue's flagged
//! tickets (the dashboard's attention list) and the live freeze flags.
//! A handover note keeps this snapshot and pre-fills its sections from it.

use jiff::Timestamp;
use opsdeck_store::alerts::{EpisodeState, Severity as AlertSeverity};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveIncident {
    pub id: i64,
    pub title: String,
    pub severity: String,
    pub state: String,
    pub brand: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveAlert {
    pub id: String,
    pub rule: String,
    pub brand: String,
    pub subject: String,
    pub severity: String,
    /// Firing, or acknowledged (still open).
    pub state: String,
    pub opened_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveSilence {
    pub id: String,
    pub reason: String,
    pub author: String,
    pub ends_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveApproval {
    pub id: String,
    pub kind: String,
    pub brand: String,
    /// The request's own words (the approvals page shows the same to
    /// everyone who may open it; amounts are not copied here).
    pub summary: String,
    pub requested_by: String,
    pub expires_at: Timestamp,
}

/// A brand's urgent ticket queue, as the dashboard flags it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BreachedQueue {
    pub brand: String,
    /// Which queue (`urgent tickets`).
    pub queue: String,
    /// Tickets the queue flags (chargeback risk, shipping emergency, VIP,
    /// social channel).
    pub flagged: usize,
    /// Where the queue is shown.
    pub link: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LiveFreeze {
    pub key: String,
    pub label: String,
    pub reason: String,
    pub set_by: String,
    pub ends_at: Option<Timestamp>,
}

/// Everything a handover note is pre-filled from, as it was at `at`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LiveState {
    pub at: Option<Timestamp>,
    pub incidents: Vec<LiveIncident>,
    pub alerts: Vec<LiveAlert>,
    pub silences: Vec<LiveSilence>,
    pub approvals: Vec<LiveApproval>,
    pub breached_queues: Vec<BreachedQueue>,
    pub freezes: Vec<LiveFreeze>,
}

/// The playbook's four sections of a handover note.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Sections {
    pub open_issues: String,
    pub pending_actions: String,
    pub customer_escalations: String,
    pub next_shift_notes: String,
}

/// The longest a section may be, in characters: four full sections still
/// fit the dashboard's 64 KiB form body once URL-encoded.
pub const MAX_SECTION_CHARS: usize = 5_000;

/// How much of a section the pre-fill may use, leaving the person room to
/// write: past it the lines end with how many more there are and where.
pub const PREFILL_CHARS: usize = 4_000;

impl Sections {
    /// Each section within [`MAX_SECTION_CHARS`]; the error names it.
    pub fn validate(&self) -> Result<(), String> {
        for (name, text) in [
            ("open_issues", &self.open_issues),
            ("pending_actions", &self.pending_actions),
            ("customer_escalations", &self.customer_escalations),
            ("next_shift_notes", &self.next_shift_notes),
        ] {
            let n = text.chars().count();
            if n > MAX_SECTION_CHARS {
                return Err(format!(
                    "{name} is {n} characters long: at most {MAX_SECTION_CHARS}"
                ));
            }
        }
        Ok(())
    }
}

fn when(t: Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

pub(crate) fn alert_severity(s: &AlertSeverity) -> String {
    s.as_str().to_string()
}

pub(crate) fn episode_state(s: &EpisodeState) -> String {
    s.as_str().to_string()
}

/// The sections as the outgoing person first sees them: one line per live
/// thing, in the playbook's places. Notes for the next shift start empty:
/// only the person can write them.
pub fn prefill(live: &LiveState) -> Sections {
    let mut open = Vec::new();
    for i in &live.incidents {
        open.push(format!(
            "- Incident #{} ({}, {}): {}{}",
            i.id,
            i.severity,
            i.state,
            i.title,
            i.brand
                .as_ref()
                .map(|b| format!(" [{b}]"))
                .unwrap_or_default()
        ));
    }
    for a in &live.alerts {
        open.push(format!(
            "- Alert {} ({}, {}) [{}]: {} since {}",
            a.rule,
            a.severity,
            a.state,
            a.brand,
            a.subject,
            when(a.opened_at)
        ));
    }
    for f in &live.freezes {
        open.push(format!(
            "- {} is ON (set by {}: {}){}",
            f.label,
            f.set_by,
            f.reason,
            f.ends_at
                .map(|t| format!(", ends {}", when(t)))
                .unwrap_or_else(|| ", no automatic end".into())
        ));
    }
    let mut pending = Vec::new();
    for a in &live.approvals {
        pending.push(format!(
            "- Approval {} ({}) [{}]: {} - requested by {}, expires {}",
            a.id,
            a.kind,
            a.brand,
            a.summary,
            a.requested_by,
            when(a.expires_at)
        ));
    }
    for s in &live.silences {
        pending.push(format!(
            "- Silence {} by {} ends {}: {}",
            s.id,
            s.author,
            when(s.ends_at),
            s.reason
        ));
    }
    let escalations: Vec<String> = live
        .breached_queues
        .iter()
        .map(|q| format!("- {} [{}]: {} flagged", q.queue, q.brand, q.flagged))
        .collect();
    Sections {
        open_issues: within(open, "/incidents and /alerts"),
        pending_actions: within(pending, "/approvals and /alerts"),
        customer_escalations: within(escalations, "/tickets"),
        next_shift_notes: String::new(),
    }
}

/// `lines` joined, as many as fit [`PREFILL_CHARS`]; the rest are counted
/// in a last line that says where to see them.
fn within(lines: Vec<String>, where_: &str) -> String {
    let mut out = String::new();
    let mut used = 0;
    for (i, line) in lines.iter().enumerate() {
        let n = line.chars().count() + 1;
        if used + n > PREFILL_CHARS - 100 {
            out.push_str(&format!("- ... and {} more: see {where_}", lines.len() - i));
            return out;
        }
        out.push_str(line);
        out.push('\n');
        used += n;
    }
    out.truncate(out.trim_end().len());
    out
}
