//! Which notices of an incident are due: a pure function of the incident,
//! its severity's policy, the notices already sent and now.
//!
//! - `declared`: as soon as the incident is declared, to the severity's
//!   people on its channels.
//! - `escalation:<step>:<repeat>`: step `s` is due at response target +
//!   `after`, its repeat `r` `r × every` later, while nobody has
//!   acknowledged and the incident is live. A process that was down while
//!   several repeats fell due sends only the newest of them (one message
//!   that says how late it is, not a burst).
//!
//! The keys are what the store records as sent, so a notice goes out once
//! however many passes or processes see it due.

use super::lifecycle::Incident;
use super::severity::SeverityPolicy;
use jiff::Timestamp;
use opsdeck_store::alerts::Channel;

/// A notice to queue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// `declared` or `escalation:<step>:<repeat>`.
    pub key: String,
    pub kind: NoticeKind,
    pub notify: Vec<String>,
    pub channels: Vec<Channel>,
}

/// What a notice announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeKind {
    Declared,
    /// Step `step` (0-based), its `repeat`-th repeat (0: the first notice).
    Escalation {
        step: usize,
        repeat: u32,
    },
}

/// The key of escalation step `step`'s repeat `repeat`.
pub fn escalation_key(step: usize, repeat: u32) -> String {
    format!("escalation:{step}:{repeat}")
}

/// The notices due at `now` and not in `sent`.
pub fn due_notices(
    incident: &Incident,
    policy: &SeverityPolicy,
    sent: &[String],
    now: Timestamp,
) -> Vec<Notice> {
    let mut due = Vec::new();
    if !incident.is_live() {
        return due;
    }
    if !sent.iter().any(|k| k == "declared") {
        due.push(Notice {
            key: "declared".into(),
            kind: NoticeKind::Declared,
            notify: policy.notify.clone(),
            channels: policy.channels.clone(),
        });
    }
    if incident.acknowledged_at.is_some() {
        return due;
    }
    let target = incident.response_due(policy);
    for (i, step) in policy.escalation.iter().enumerate() {
        let Ok(first) = target.checked_add(step.after) else {
            continue;
        };
        if now < first {
            continue;
        }
        // The newest repeat due by now.
        let mut newest = 0;
        for r in 1..=step.repeats {
            match step.every.checked_mul(i32::try_from(r).unwrap_or(i32::MAX)) {
                Some(gap) if first.checked_add(gap).is_ok_and(|t| t <= now) => newest = r,
                _ => break,
            }
        }
        let already = (newest..=step.repeats).any(|r| sent.contains(&escalation_key(i, r)));
        if !already {
            due.push(Notice {
                key: escalation_key(i, newest),
                kind: NoticeKind::Escalation {
                    step: i,
                    repeat: newest,
                },
                notify: step.notify.clone(),
                channels: step.channels.clone(),
            });
        }
    }
    due
}
