//! What a person does to alerts — acknowledge, resolve, silence — written
//! straight to the store, so any process can serve it (the API on a
//! follower, the Telegram loop on the leader). The leader's evaluator reads
//! open episodes from the store at each step, so it sees the change on its
//! next cycle; the store never lets an evaluator turn an acknowledged
//! episode back to firing. Each action also goes to the audit log, in the
//! same transaction.

use crate::episode::{decode, encode, episodes, Episode, EventBody};
use crate::evaluate::{Ack, Phase, Via};
use crate::service::AlertError;
use crate::silence::Silence;
use jiff::Timestamp;
use opsdeck_store::alerts::{AlertBatch, EpisodeFilter, EventKind, EventRow, Severity, SilenceRow};
use opsdeck_store::{AuditAction, AuditEntry, Store};
use serde_json::json;

/// Who acted, through what, from where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// A person: `ops@example.com`, `@owner` (Telegram).
    pub name: String,
    pub via: Via,
    /// The client address, for changes made over HTTP.
    pub ip: Option<String>,
    /// What else the audit should say about the action: where it came
    /// from (a Telegram press: the user and chat ids), what it covered (a
    /// group's member count), or null.
    pub context: serde_json::Value,
}

impl Actor {
    pub fn new(name: impl Into<String>, via: Via) -> Self {
        Actor {
            name: name.into(),
            via,
            ip: None,
            context: serde_json::Value::Null,
        }
    }

    /// The same actor, with `context` audited beside each action.
    pub fn with_context(mut self, context: serde_json::Value) -> Self {
        self.context = context;
        self
    }

    /// The history entry of a state change this actor made; `more` adds
    /// what else it says.
    fn changed(
        &self,
        from: Phase,
        to: Phase,
        more: impl FnOnce(&mut EventBody),
    ) -> serde_json::Value {
        let mut body = EventBody {
            from: Some(from),
            to: Some(to),
            by: Some(self.name.clone()),
            via: Some(self.via.clone()),
            ..Default::default()
        };
        more(&mut body);
        body.to_json()
    }

    fn audit(
        &self,
        action: AuditAction,
        subject: String,
        mut payload: serde_json::Value,
        at: Timestamp,
    ) -> AuditEntry {
        if !self.context.is_null() {
            if let Some(p) = payload.as_object_mut() {
                p.insert("context".into(), self.context.clone());
            }
        }
        AuditEntry {
            at,
            actor: self.name.clone(),
            action,
            subject,
            payload,
            ip: self.ip.clone(),
        }
    }
}

/// What an acknowledgement did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckOutcome {
    Acknowledged,
    /// It was already acknowledged (by whoever is named).
    AlreadyAcknowledged {
        by: String,
    },
}

async fn load(store: &dyn Store, id: &str) -> Result<crate::evaluate::Alert, AlertError> {
    let row = store
        .alert_episode(id)
        .await?
        .ok_or_else(|| AlertError::NoSuchEpisode(id.into()))?;
    decode(&row)
}

/// Audits an action that was refused before it reached an episode (a
/// Telegram press from the wrong chat or user): who tried, on what, why.
/// `action` is the refusal's own, e.g. [`AuditAction::AlertAcknowledgeRefused`].
pub async fn refused(
    store: &dyn Store,
    action: AuditAction,
    episode_id: &str,
    who: &Actor,
    reason: &str,
    now: Timestamp,
) -> Result<(), AlertError> {
    let batch = AlertBatch {
        audit: vec![who.audit(
            action,
            format!("alert_episode:{episode_id}"),
            json!({"via": who.via, "reason": reason}),
            now,
        )],
        ..Default::default()
    };
    store.alert_commit(&batch).await?;
    Ok(())
}

/// Open episodes of one rule on one brand: one line on /alerts and in the
/// grouped API ("Mavena · Unfulfilled order stale · 14 orders"), and what
/// acknowledging or silencing the group acts on. 121 stale orders are one
/// problem per brand to a person, as they are one message per brand to
/// Slack and Telegram.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodeGroup {
    pub rule: String,
    pub brand: String,
    /// The most severe member's.
    pub severity: Severity,
    /// Oldest first.
    pub members: Vec<Episode>,
}

impl EpisodeGroup {
    /// Members still firing (not acknowledged).
    pub fn firing(&self) -> usize {
        self.members.iter().filter(|m| m.is_firing()).count()
    }

    /// When the first member opened.
    pub fn first_opened_at(&self) -> Timestamp {
        self.members
            .iter()
            .map(|m| m.opened_at)
            .min()
            .expect("a group has members")
    }
}

/// What `count` alerts about subjects like `subject` (`order:#1001`,
/// `sku:…`, `source:…`, `ticket:…`) are, in words: "14 orders", "1 SKU".
/// A group's line on /alerts and a one-rule notification's headline both
/// say it this way.
pub fn members_in_words(subject: &str, count: usize) -> String {
    let kind = subject.split(':').next().unwrap_or("");
    let (one, many) = match kind {
        "order" => ("order", "orders"),
        "sku" => ("SKU", "SKUs"),
        "source" => ("source", "sources"),
        "ticket" => ("ticket", "tickets"),
        _ => ("alert", "alerts"),
    };
    format!("{count} {}", if count == 1 { one } else { many })
}

/// Groups episodes by (rule, brand): critical groups first, then the group
/// whose first member opened earliest; members oldest first.
pub fn group_episodes(rows: impl IntoIterator<Item = Episode>) -> Vec<EpisodeGroup> {
    let mut groups: Vec<EpisodeGroup> = Vec::new();
    for row in rows {
        match groups
            .iter_mut()
            .find(|g| g.rule == row.rule && g.brand == row.brand)
        {
            Some(g) => {
                if row.severity == Severity::Critical {
                    g.severity = row.severity.clone();
                }
                g.members.push(row);
            }
            None => groups.push(EpisodeGroup {
                rule: row.rule.clone(),
                brand: row.brand.clone(),
                severity: row.severity.clone(),
                members: vec![row],
            }),
        }
    }
    for g in &mut groups {
        g.members
            .sort_by(|a, b| a.opened_at.cmp(&b.opened_at).then(a.id.cmp(&b.id)));
    }
    groups.sort_by(|a, b| {
        (b.severity == Severity::Critical)
            .cmp(&(a.severity == Severity::Critical))
            .then(a.first_opened_at().cmp(&b.first_opened_at()))
            .then(a.rule.cmp(&b.rule))
            .then(a.brand.cmp(&b.brand))
    });
    groups
}

/// The open episodes of `rule` on `brand`, as [`group_episodes`] groups
/// them.
pub async fn open_group(
    store: &dyn Store,
    rule: &str,
    brand: &str,
) -> Result<Option<EpisodeGroup>, AlertError> {
    let filter = EpisodeFilter {
        open_only: true,
        brand: Some(brand.to_string()),
        limit: 100_000,
    };
    let rows = episodes(store, &filter).await?;
    Ok(group_episodes(rows.into_iter().filter(|r| r.rule == rule)).pop())
}

/// What acknowledging a group did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct GroupAck {
    /// Members acknowledged now.
    pub acknowledged: usize,
    /// Members that were acknowledged already.
    pub already: usize,
}

/// Acknowledges every firing member of the group of `rule` on `brand`, in
/// one transaction: each member's history gets its "acknowledged" event,
/// the audit log one entry for the group with the member count.
pub async fn acknowledge_group(
    store: &dyn Store,
    rule: &str,
    brand: &str,
    who: &Actor,
    now: Timestamp,
) -> Result<GroupAck, AlertError> {
    let group = open_group(store, rule, brand)
        .await?
        .ok_or_else(|| AlertError::NoSuchEpisode(format!("{rule} on {brand}")))?;
    let mut batch = AlertBatch::default();
    let mut acknowledged = 0;
    for row in group.members.iter().filter(|m| m.is_firing()) {
        let mut alert = row.alert.clone();
        alert.phase = Phase::Acknowledged;
        alert.ack = Some(Ack {
            by: who.name.clone(),
            via: who.via.clone(),
            at: now,
        });
        batch.episodes.extend(encode(&alert, now));
        batch.events.push(EventRow {
            episode_id: row.id.clone(),
            at: now,
            kind: EventKind::Acknowledged,
            body: who.changed(Phase::Firing, Phase::Acknowledged, |b| b.group = Some(true)),
        });
        acknowledged += 1;
    }
    let outcome = GroupAck {
        acknowledged,
        already: group.members.len() - acknowledged,
    };
    batch.audit.push(who.audit(
        AuditAction::AlertAcknowledgeGroup,
        format!("alert_group:{rule}|{brand}"),
        // Counts, not the ids: each member's own history records its
        // acknowledgement, and a list of hundreds would pass the audit
        // payload bound and hide the count.
        json!({"via": who.via, "rule": rule, "brand": brand, "members": group.members.len(),
               "acknowledged": outcome.acknowledged}),
        now,
    ));
    store.alert_commit(&batch).await?;
    Ok(outcome)
}

/// Acknowledges a firing episode: no more repeats or escalation.
/// Acknowledging twice is harmless and says who did it first.
pub async fn acknowledge(
    store: &dyn Store,
    episode_id: &str,
    who: &Actor,
    now: Timestamp,
) -> Result<AckOutcome, AlertError> {
    let mut alert = load(store, episode_id).await?;
    match alert.phase {
        Phase::Firing => {}
        Phase::Acknowledged => {
            let by = alert.ack.map(|a| a.by).unwrap_or_default();
            return Ok(AckOutcome::AlreadyAcknowledged { by });
        }
        other => {
            return Err(AlertError::NotOpen {
                id: episode_id.into(),
                state: other.as_str().into(),
            })
        }
    }
    alert.phase = Phase::Acknowledged;
    alert.ack = Some(Ack {
        by: who.name.clone(),
        via: who.via.clone(),
        at: now,
    });
    let batch = AlertBatch {
        episodes: encode(&alert, now).into_iter().collect(),
        events: vec![EventRow {
            episode_id: episode_id.into(),
            at: now,
            kind: EventKind::Acknowledged,
            body: who.changed(Phase::Firing, Phase::Acknowledged, |_| {}),
        }],
        audit: vec![who.audit(
            AuditAction::AlertAcknowledge,
            format!("alert_episode:{episode_id}"),
            json!({"via": who.via, "rule": alert.rule, "brand": alert.brand, "subject": alert.subject}),
            now,
        )],
        ..Default::default()
    };
    store.alert_commit(&batch).await?;
    Ok(AckOutcome::Acknowledged)
}

/// Resolves an open episode by hand; if its condition still holds, the
/// next step starts a new episode after the pending period.
pub async fn resolve(
    store: &dyn Store,
    episode_id: &str,
    who: &Actor,
    now: Timestamp,
) -> Result<(), AlertError> {
    let mut alert = load(store, episode_id).await?;
    if !alert.is_open() {
        return Err(AlertError::NotOpen {
            id: episode_id.into(),
            state: alert.phase.as_str().into(),
        });
    }
    let from = alert.phase;
    alert.phase = Phase::Resolved;
    alert.resolved_at = Some(now);
    let batch = AlertBatch {
        episodes: encode(&alert, now).into_iter().collect(),
        events: vec![EventRow {
            episode_id: episode_id.into(),
            at: now,
            kind: EventKind::Resolved,
            body: who.changed(from, Phase::Resolved, |b| {
                b.note = Some("resolved by hand".into())
            }),
        }],
        audit: vec![who.audit(
            AuditAction::AlertResolve,
            format!("alert_episode:{episode_id}"),
            json!({"via": who.via, "rule": alert.rule, "brand": alert.brand, "subject": alert.subject}),
            now,
        )],
        ..Default::default()
    };
    store.alert_commit(&batch).await?;
    Ok(())
}

/// Saves a silence (or a declared incident's mute) after checking it.
pub async fn silence(
    store: &dyn Store,
    silence: &Silence,
    who: &Actor,
    now: Timestamp,
) -> Result<(), AlertError> {
    silence.validate()?;
    let body = serde_json::to_value(silence).expect("silences serialize");
    let batch = AlertBatch {
        silences: vec![SilenceRow {
            id: silence.id.clone(),
            starts_at: silence.starts_at,
            ends_at: silence.ends_at,
            created_at: now,
            body: body.clone(),
        }],
        audit: vec![who.audit(
            if silence.incident.is_some() {
                AuditAction::IncidentMute
            } else {
                AuditAction::AlertSilence
            },
            format!("alert_silence:{}", silence.id),
            body,
            now,
        )],
        ..Default::default()
    };
    store.alert_commit(&batch).await?;
    Ok(())
}

/// How ending a silence went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EndSilenceOutcome {
    /// It ended now (or, not yet started, will never start).
    Ended,
    /// It had already ended at this time; nothing changed.
    AlreadyEnded { at: Timestamp },
}

/// Ends a silence (or an incident's mute) early: its window is cut at `now`
/// so the alerts it hid notify again from the next evaluation. A silence
/// that has not started yet is cancelled (its window becomes empty).
pub async fn end_silence(
    store: &dyn Store,
    id: &str,
    who: &Actor,
    now: Timestamp,
) -> Result<EndSilenceOutcome, AlertError> {
    let row = store
        .alert_silences(None)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(|| AlertError::NoSuchSilence(id.into()))?;
    if row.ends_at <= now {
        return Ok(EndSilenceOutcome::AlreadyEnded { at: row.ends_at });
    }
    let mut silence: Silence = serde_json::from_value(row.body)
        .map_err(|e| AlertError::Corrupt(id.into(), e.to_string()))?;
    let was = silence.ends_at;
    silence.ends_at = now.max(silence.starts_at);
    let body = serde_json::to_value(&silence).expect("silences serialize");
    let batch = AlertBatch {
        silences: vec![SilenceRow {
            id: silence.id.clone(),
            starts_at: silence.starts_at,
            ends_at: silence.ends_at,
            created_at: row.created_at,
            body,
        }],
        audit: vec![who.audit(
            if silence.incident.is_some() {
                AuditAction::IncidentEnd
            } else {
                AuditAction::AlertSilenceEnd
            },
            format!("alert_silence:{id}"),
            json!({"via": who.via, "was_until": was, "ended_at": silence.ends_at, "reason": silence.reason}),
            now,
        )],
        ..Default::default()
    };
    store.alert_commit(&batch).await?;
    Ok(EndSilenceOutcome::Ended)
}
