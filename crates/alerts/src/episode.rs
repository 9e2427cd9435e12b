//! An alert episode as everyone reads it: the evaluator, the actions, the
//! web pages and the API. The store keeps an episode as typed columns and a
//! JSON body; the body is the [`Alert`] the evaluator last saved, so it is
//! read back as that type ([`Episode::alert`]), and a field renamed or
//! dropped fails to compile wherever it is read instead of showing up
//! empty on a page.
//!
//! Bodies stored by earlier versions still decode: what was added since is
//! optional (`why_without_money`, a figure's `money` flag), and a severity
//! or state this version does not know is kept (`Other`).

use crate::evaluate::{Alert, NoticeKind, Phase, Via};
use crate::notify::Channel;
use crate::rules::Tier;
use crate::service::AlertError;
use jiff::Timestamp;
use opsdeck_store::alerts::{EpisodeFilter, EpisodeRow, EpisodeState, Severity};
use opsdeck_store::Store;
use serde::{Deserialize, Serialize};

/// One stored episode with its body read as the alert it holds.
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub id: String,
    /// `rule|brand|subject`: at most one unresolved episode per key.
    pub dedup_key: String,
    pub rule: String,
    pub brand: String,
    pub severity: Severity,
    /// The stored state, which wins over the body's phase (an
    /// acknowledgement written by another process).
    pub state: EpisodeState,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    /// Everything else: subject, figures, why, tier, acknowledgement...
    pub alert: Alert,
}

impl Episode {
    /// Reads a stored row; a body that is no alert is
    /// [`AlertError::Corrupt`].
    pub fn from_row(row: EpisodeRow) -> Result<Episode, AlertError> {
        let alert = decode(&row)?;
        Ok(Episode {
            id: row.id,
            dedup_key: row.dedup_key,
            rule: row.rule,
            brand: row.brand,
            severity: row.severity,
            state: row.state,
            opened_at: row.opened_at,
            updated_at: row.updated_at,
            alert,
        })
    }

    /// Firing and not acknowledged.
    pub fn is_firing(&self) -> bool {
        self.state == EpisodeState::Firing
    }
}

/// What one entry of an episode's history says (an `EventRow`'s body):
/// a state change (`from`, `to`, `note`, and `by`/`via` when a person made
/// it), a silenced notification (`silence_id`) or a notification queued
/// (`notification_id`, `kind`, `channel`, `tier`, `grouped_with`). Fields
/// an entry does not have are left out of its JSON, as before this type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventBody {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<Phase>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<Phase>,
    /// The person who acknowledged or resolved it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub by: Option<String>,
    /// Through what.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub via: Option<Via>,
    /// Set when a whole group was acknowledged at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// `note` without amounts of money, where it names one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note_without_money: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub silence_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notification_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<NoticeKind>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier: Option<Tier>,
    /// How many other episodes the same message named.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grouped_with: Option<usize>,
}

impl EventBody {
    /// The JSON an `EventRow` stores.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("event bodies serialize")
    }

    /// A stored body read back; one this version cannot read (a phase of
    /// a newer version) reads as empty rather than failing a page.
    pub fn of(body: &serde_json::Value) -> EventBody {
        serde_json::from_value(body.clone()).unwrap_or_else(|e| {
            tracing::warn!(error = %e, "unreadable alert event body");
            EventBody::default()
        })
    }
}

/// The episodes `filter` selects, newest change first, decoded. A row
/// whose body does not decode is logged and left out, as an unreadable
/// silence is: one bad row does not take a whole list down (the evaluator,
/// which must not lose an open episode, fails its step on it instead).
pub async fn episodes(
    store: &dyn Store,
    filter: &EpisodeFilter,
) -> Result<Vec<Episode>, AlertError> {
    Ok(store
        .alert_episodes(filter)
        .await?
        .into_iter()
        .filter_map(|row| match Episode::from_row(row) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::error!(error = %e, "unreadable alert episode left out");
                None
            }
        })
        .collect())
}

/// One episode by id, decoded; `None` when there is none.
pub async fn episode(store: &dyn Store, id: &str) -> Result<Option<Episode>, AlertError> {
    store
        .alert_episode(id)
        .await?
        .map(Episode::from_row)
        .transpose()
}

/// The stored row of an open or resolved alert (pending ones have none).
pub fn encode(alert: &Alert, now: Timestamp) -> Option<EpisodeRow> {
    let id = alert.episode_id.clone()?;
    Some(EpisodeRow {
        id,
        dedup_key: alert.key.clone(),
        rule: alert.rule.clone(),
        brand: alert.brand.clone(),
        severity: alert.severity.clone(),
        state: EpisodeState::parse(alert.phase.as_str()),
        opened_at: alert.fired_at.unwrap_or(now),
        updated_at: now,
        body: serde_json::to_value(alert).expect("alerts serialize"),
    })
}

/// The alert an episode row holds; the row's state column wins.
pub fn decode(row: &EpisodeRow) -> Result<Alert, AlertError> {
    let mut alert: Alert = serde_json::from_value(row.body.clone())
        .map_err(|e| AlertError::Corrupt(row.id.clone(), e.to_string()))?;
    if let Some(phase) = Phase::parse(row.state.as_str()) {
        alert.phase = phase;
    }
    Ok(alert)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A body exactly as the evaluator of the previous release wrote it: no
    /// `why_without_money`, figures without the `money` flag.
    fn old_body() -> serde_json::Value {
        json!({
            "key": "fulfillment_blocker|mavena|order:#1042",
            "rule": "fulfillment_blocker",
            "rule_name": "Fulfillment blocker",
            "brand": "mavena",
            "subject": "order:#1042",
            "severity": "critical",
            "phase": "firing",
            "episode_id": "E1",
            "pending_since": "2026-06-10T08:00:00Z",
            "fired_at": "2026-06-10T08:05:00Z",
            "inactive_since": null,
            "last_notified_at": "2026-06-10T08:05:00Z",
            "notifications": 1,
            "tier": "telegram",
            "escalated_at": null,
            "ack": null,
            "resolved_at": null,
            "silenced_by": null,
            "value": {"value": 41200.0, "text": "$412.00"},
            "baseline": null,
            "threshold": {"value": 48.0, "text": "48 h"},
            "why": "Order #1042 ($412.00) unfulfilled for 52 h",
            "dashboard_path": "/?brand=mavena#orders",
            "timing": {"pending_for": "PT5M", "keep_firing_for": "PT10M", "repeat_every": "PT4H", "escalate_after": "PT30M"}
        })
    }

    fn row(state: &str, severity: &str, body: serde_json::Value) -> EpisodeRow {
        EpisodeRow {
            id: "E1".into(),
            dedup_key: "fulfillment_blocker|mavena|order:#1042".into(),
            rule: "fulfillment_blocker".into(),
            brand: "mavena".into(),
            severity: Severity::parse(severity),
            state: EpisodeState::parse(state),
            opened_at: "2026-06-10T08:05:00Z".parse().unwrap(),
            updated_at: "2026-06-10T09:00:00Z".parse().unwrap(),
            body,
        }
    }

    #[test]
    fn an_episode_stored_by_the_previous_release_reads_as_its_alert() {
        let e = Episode::from_row(row("acknowledged", "critical", old_body())).unwrap();
        assert_eq!(e.severity, Severity::Critical);
        assert_eq!(e.state, EpisodeState::Acknowledged);
        assert_eq!(e.alert.phase, Phase::Acknowledged, "the column wins");
        assert_eq!(e.alert.subject, "order:#1042");
        assert_eq!(e.alert.why_without_money, None);
        let value = e.alert.value.as_ref().unwrap();
        assert_eq!((value.text.as_str(), value.money), ("$412.00", false));
        assert_eq!(
            e.alert.timing.pending_for,
            jiff::SignedDuration::from_secs(300)
        );
    }

    #[test]
    fn unknown_severities_and_states_are_kept() {
        let mut body = old_body();
        body["severity"] = json!("page");
        let e = Episode::from_row(row("snoozed", "page", body)).unwrap();
        assert_eq!(e.severity, Severity::Other("page".into()));
        assert_eq!(e.alert.severity, Severity::Other("page".into()));
        assert_eq!(e.state, EpisodeState::Other("snoozed".into()));
        assert!(e.state.is_open());
        assert!(Severity::Other("page".into()) < Severity::Warning);
        assert!(Severity::Warning < Severity::Critical);
    }

    #[test]
    fn event_bodies_keep_the_json_they_were_written_as() {
        let ack = EventBody {
            from: Some(Phase::Firing),
            to: Some(Phase::Acknowledged),
            by: Some("@owner".into()),
            via: Some(Via::Telegram),
            ..Default::default()
        };
        let stored =
            json!({"from": "firing", "to": "acknowledged", "by": "@owner", "via": "telegram"});
        assert_eq!(ack.to_json(), stored);
        assert_eq!(EventBody::of(&stored), ack);
        let sent = json!({"notification_id": "n1-slack", "kind": "repeat", "channel": "slack",
                          "tier": "slack", "grouped_with": 2});
        let read = EventBody::of(&sent);
        assert_eq!(read.kind, Some(NoticeKind::Repeat));
        assert_eq!(read.to_json(), sent);
        let newer = json!({"from": "snoozed", "by": "x"});
        assert_eq!(EventBody::of(&newer), EventBody::default());
    }

    #[test]
    fn a_body_that_is_no_alert_is_corrupt() {
        let got = Episode::from_row(row("firing", "warning", json!({"why": "x"})));
        assert!(matches!(got, Err(AlertError::Corrupt(id, _)) if id == "E1"));
    }

    #[test]
    fn encoding_then_decoding_gives_the_alert_back() {
        let alert = decode(&row("firing", "critical", old_body())).unwrap();
        let stored = encode(&alert, "2026-06-10T09:00:00Z".parse().unwrap()).unwrap();
        assert_eq!(stored.state, EpisodeState::Firing);
        assert_eq!(stored.severity, Severity::Critical);
        assert_eq!(decode(&stored).unwrap(), alert);
        assert_eq!(
            stored.body,
            old_body(),
            "the literal above is exactly the shape the evaluator writes"
        );
    }
}
