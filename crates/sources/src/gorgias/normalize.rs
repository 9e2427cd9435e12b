//! Gorgias' JSON shapes and their mapping to the domain's [`Ticket`],
//! [`TicketMessage`] and [`SatisfactionSurvey`].
//!
//! The wire structs accept what the API documents and tolerate what it
//! leaves out: every field but the id and the creation time may be missing
//! or null, unknown fields are ignored, unknown status and channel values are
//! kept as they come (open enums). Timestamps come with and without a UTC
//! offset, with microseconds; a naive one is UTC. A record that cannot be
//! mapped is rejected alone with a [`GorgiasRecordError`] naming its id and
//! the field, so one odd ticket never sinks its page.

use opsdeck_domain::bounds::{self, BoundError, Bounded};
use opsdeck_domain::support::Party;
use opsdeck_domain::{
    Channel, SatisfactionSurvey, SourceId, Ticket, TicketMessage, TicketStatus, Timestamp,
};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use serde_json::Value;

/// One record that could not be mapped; safe to log and store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("gorgias {kind} {id}: field `{field}`: {reason}")]
pub struct GorgiasRecordError {
    /// `ticket`, `message` or `satisfaction_survey`.
    pub kind: &'static str,
    /// The platform id, or `?` when the record has none.
    pub id: String,
    pub field: String,
    pub reason: String,
}

/// An id Gorgias sends as a number (or, tolerated, a string).
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
enum WireId {
    Int(i64),
    Text(String),
}

impl WireId {
    fn text(&self) -> String {
        match self {
            WireId::Int(i) => i.to_string(),
            WireId::Text(s) => s.clone(),
        }
    }
}

#[derive(Deserialize, Debug, Default)]
struct WireTag {
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
struct WirePerson {
    #[serde(default)]
    id: Option<WireId>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Deserialize, Debug)]
struct WireTicket {
    id: WireId,
    #[serde(default)]
    status: Option<String>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    excerpt: Option<String>,
    #[serde(default)]
    priority: Option<String>,
    #[serde(default)]
    spam: Option<bool>,
    #[serde(default)]
    tags: Option<Vec<WireTag>>,
    #[serde(default)]
    customer: Option<WirePerson>,
    #[serde(default)]
    assignee_user: Option<WirePerson>,
    created_datetime: Option<String>,
    #[serde(default)]
    opened_datetime: Option<String>,
    #[serde(default)]
    updated_datetime: Option<String>,
    #[serde(default)]
    last_received_message_datetime: Option<String>,
    #[serde(default)]
    closed_datetime: Option<String>,
    #[serde(default)]
    snooze_datetime: Option<String>,
    #[serde(default)]
    trashed_datetime: Option<String>,
}

#[derive(Deserialize, Debug, Default)]
struct WireAddress {
    #[serde(default)]
    address: Option<String>,
}

/// Where a message came from and went to (`source.to[].address` is the
/// helpdesk address a customer wrote to).
#[derive(Deserialize, Debug, Default)]
struct WireMessageSource {
    #[serde(default)]
    to: Option<Vec<WireAddress>>,
}

#[derive(Deserialize, Debug)]
struct WireMessage {
    id: WireId,
    ticket_id: Option<WireId>,
    #[serde(default)]
    from_agent: Option<bool>,
    #[serde(default)]
    public: Option<bool>,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    rule_id: Option<WireId>,
    #[serde(default)]
    integration_id: Option<WireId>,
    #[serde(default)]
    source: Option<WireMessageSource>,
    created_datetime: Option<String>,
    #[serde(default)]
    sent_datetime: Option<String>,
    #[serde(default)]
    failed_datetime: Option<String>,
    #[serde(default)]
    updated_datetime: Option<String>,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    body_text: Option<String>,
    #[serde(default)]
    stripped_text: Option<String>,
    #[serde(default)]
    intents: Option<Vec<Value>>,
}

#[derive(Deserialize, Debug)]
struct WireSurvey {
    id: WireId,
    ticket_id: Option<WireId>,
    #[serde(default)]
    customer_id: Option<WireId>,
    #[serde(default)]
    score: Option<i64>,
    #[serde(default)]
    body_text: Option<String>,
    #[serde(default)]
    created_datetime: Option<String>,
    #[serde(default)]
    scored_datetime: Option<String>,
    #[serde(default)]
    sent_datetime: Option<String>,
    #[serde(default)]
    updated_datetime: Option<String>,
}

/// What a message tells about where the customer wrote to, for brand
/// attribution (not part of the stored message).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MessageRouting {
    pub integration_id: Option<String>,
    /// Lowercased `source.to` addresses.
    pub to: Vec<String>,
}

struct Fields<'a> {
    kind: &'static str,
    id: &'a str,
}

impl Fields<'_> {
    fn error(&self, field: &str, reason: impl Into<String>) -> GorgiasRecordError {
        GorgiasRecordError {
            kind: self.kind,
            id: bounds::excerpt(self.id),
            field: field.to_string(),
            reason: reason.into(),
        }
    }

    fn time(
        &self,
        field: &str,
        value: Option<&str>,
    ) -> Result<Option<Timestamp>, GorgiasRecordError> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => bounded_time(text)
                .map(Some)
                .map_err(|e| self.error(field, e.to_string())),
        }
    }

    /// The record's first field outside its bound (`opsdeck_domain::bounds`).
    fn within_bounds<T: Bounded>(&self, record: T) -> Result<T, GorgiasRecordError> {
        match record.check().into_iter().next() {
            None => Ok(record),
            Some(outside) => Err(self.error(&outside.field, outside.error.to_string())),
        }
    }

    fn required_time(
        &self,
        field: &str,
        value: Option<&str>,
    ) -> Result<Timestamp, GorgiasRecordError> {
        self.time(field, value)?
            .ok_or_else(|| self.error(field, "is missing"))
    }
}

/// Both of Gorgias' forms: `2024-02-14T21:30:50.201204+00:00` (or `Z`) and
/// the naive `2019-11-16T15:59:41.966927`, which is UTC.
pub fn parse_time(text: &str) -> Option<Timestamp> {
    bounded_time(text).ok()
}

/// [`parse_time`] with the reason it fails: not a date-time, an offset
/// outside −12:00..+14:00, or a year outside the accepted window
/// (`opsdeck_domain::bounds`).
pub fn bounded_time(text: &str) -> Result<Timestamp, BoundError> {
    match bounds::timestamp(text) {
        Ok(t) => return Ok(t),
        Err(BoundError::NotATimestamp { .. }) => {}
        Err(e) => return Err(e),
    }
    let not_a_time = || BoundError::NotATimestamp {
        excerpt: bounds::excerpt(text),
    };
    if text.len() > 64 {
        return Err(not_a_time());
    }
    let civil: jiff::civil::DateTime = text.parse().map_err(|_| not_a_time())?;
    let at = civil
        .to_zoned(jiff::tz::TimeZone::UTC)
        .map_err(|_| not_a_time())?
        .timestamp();
    bounds::instant(at)?;
    Ok(at)
}

fn decode<T: DeserializeOwned>(kind: &'static str, raw: &Value) -> Result<T, GorgiasRecordError> {
    serde_path_to_error::deserialize(raw).map_err(|e| GorgiasRecordError {
        kind,
        id: match raw.get("id") {
            Some(Value::Number(n)) => n.to_string(),
            Some(Value::String(s)) => bounds::excerpt(s),
            _ => "?".into(),
        },
        field: e.path().to_string(),
        reason: bounds::clip(&e.inner().to_string()),
    })
}

fn party(p: WirePerson) -> Option<Party> {
    let party = Party {
        external_id: p.id.map(|i| i.text()),
        email: p.email.filter(|e| !e.is_empty()),
        name: p.name.filter(|n| !n.is_empty()),
    };
    (party.external_id.is_some() || party.email.is_some() || party.name.is_some()).then_some(party)
}

/// Maps one ticket; `brand` is decided by attribution afterwards.
pub fn ticket_from_json(source: &SourceId, raw: &Value) -> Result<Ticket, GorgiasRecordError> {
    let wire: WireTicket = decode("ticket", raw)?;
    let id = wire.id.text();
    let f = Fields {
        kind: "ticket",
        id: &id,
    };
    let created_at = f.required_time("created_datetime", wire.created_datetime.as_deref())?;
    let updated_at = f
        .time("updated_datetime", wire.updated_datetime.as_deref())?
        .unwrap_or(created_at);
    let channel = match wire.channel.as_deref().map(str::trim) {
        Some(c) if !c.is_empty() => Channel::parse(c),
        _ => Channel::parse("unknown"),
    };
    f.within_bounds(Ticket {
        source: source.clone(),
        brand: None,
        status: TicketStatus::parse(wire.status.as_deref().unwrap_or("open")),
        channel,
        subject: wire.subject,
        excerpt: wire.excerpt,
        priority: wire.priority,
        spam: wire.spam.unwrap_or(false),
        tags: wire
            .tags
            .unwrap_or_default()
            .into_iter()
            .filter_map(|t| t.name)
            .filter(|n| !n.trim().is_empty())
            .collect(),
        customer: wire.customer.and_then(party),
        assignee: wire.assignee_user.and_then(party),
        created_at,
        opened_at: f.time("opened_datetime", wire.opened_datetime.as_deref())?,
        updated_at,
        last_received_message_at: f.time(
            "last_received_message_datetime",
            wire.last_received_message_datetime.as_deref(),
        )?,
        closed_at: f.time("closed_datetime", wire.closed_datetime.as_deref())?,
        snooze_until: f.time("snooze_datetime", wire.snooze_datetime.as_deref())?,
        trashed_at: f.time("trashed_datetime", wire.trashed_datetime.as_deref())?,
        external_id: id.clone(),
    })
}

/// Maps one message and tells where it was sent to. A message has no
/// `updated_datetime` in Gorgias' documentation; the latest of its own
/// times stands in, so a later send or failure updates the stored copy.
pub fn message_from_json(
    source: &SourceId,
    raw: &Value,
) -> Result<(TicketMessage, MessageRouting), GorgiasRecordError> {
    let wire: WireMessage = decode("message", raw)?;
    let id = wire.id.text();
    let f = Fields {
        kind: "message",
        id: &id,
    };
    let ticket_id = wire
        .ticket_id
        .map(|t| t.text())
        .ok_or_else(|| f.error("ticket_id", "is missing"))?;
    let created_at = f.required_time("created_datetime", wire.created_datetime.as_deref())?;
    let sent_at = f.time("sent_datetime", wire.sent_datetime.as_deref())?;
    let failed_at = f.time("failed_datetime", wire.failed_datetime.as_deref())?;
    let updated_at = f
        .time("updated_datetime", wire.updated_datetime.as_deref())?
        .into_iter()
        .chain([Some(created_at), sent_at, failed_at].into_iter().flatten())
        .max()
        .unwrap_or(created_at);
    let intents = wire
        .intents
        .unwrap_or_default()
        .into_iter()
        .filter_map(|i| match i {
            Value::String(s) => Some(s),
            Value::Object(o) => o.get("name").and_then(Value::as_str).map(String::from),
            _ => None,
        })
        .collect();
    let routing = MessageRouting {
        integration_id: wire.integration_id.map(|i| i.text()),
        to: wire
            .source
            .and_then(|s| s.to)
            .unwrap_or_default()
            .into_iter()
            .filter_map(|a| a.address)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect(),
    };
    let message = TicketMessage {
        source: source.clone(),
        brand: None,
        ticket_id,
        from_agent: wire.from_agent.unwrap_or(false),
        public: wire.public.unwrap_or(true),
        rule_id: wire.rule_id.map(|r| r.text()),
        channel: wire
            .channel
            .filter(|c| !c.is_empty())
            .map(|c| Channel::parse(&c)),
        subject: wire.subject,
        // The reply without the quoted thread is what a person wrote.
        body_text: wire
            .stripped_text
            .filter(|t| !t.is_empty())
            .or(wire.body_text),
        intents,
        created_at,
        sent_at,
        failed_at,
        updated_at,
        external_id: id.clone(),
    };
    Ok((f.within_bounds(message)?, routing))
}

/// A record's `created_datetime` as listed: the time the account-wide
/// lists are ordered by (a survey keeps no creation time of its own).
pub fn listed_created_at(raw: &Value) -> Option<Timestamp> {
    raw.get("created_datetime")
        .and_then(Value::as_str)
        .and_then(|t| parse_time(t.trim()))
}

/// Maps one satisfaction survey; a score outside 1-5 rejects it.
pub fn survey_from_json(
    source: &SourceId,
    raw: &Value,
) -> Result<SatisfactionSurvey, GorgiasRecordError> {
    let wire: WireSurvey = decode("satisfaction_survey", raw)?;
    let id = wire.id.text();
    let f = Fields {
        kind: "satisfaction_survey",
        id: &id,
    };
    let ticket_id = wire
        .ticket_id
        .map(|t| t.text())
        .ok_or_else(|| f.error("ticket_id", "is missing"))?;
    let score = match wire.score {
        None => None,
        Some(s @ 1..=5) => Some(s as u8),
        Some(other) => return Err(f.error("score", format!("{other} is not 1-5"))),
    };
    let created = f.time("created_datetime", wire.created_datetime.as_deref())?;
    let sent_at = f.time("sent_datetime", wire.sent_datetime.as_deref())?;
    let scored_at = f.time("scored_datetime", wire.scored_datetime.as_deref())?;
    let updated = f.time("updated_datetime", wire.updated_datetime.as_deref())?;
    let updated_at = [updated, created, sent_at, scored_at]
        .into_iter()
        .flatten()
        .max()
        .ok_or_else(|| f.error("created_datetime", "the survey has no date-time at all"))?;
    f.within_bounds(SatisfactionSurvey {
        source: source.clone(),
        brand: None,
        ticket_id,
        customer_id: wire.customer_id.map(|c| c.text()),
        score,
        body_text: wire.body_text,
        sent_at,
        scored_at,
        updated_at,
        external_id: id.clone(),
    })
}
