//! Gorgias JSON for tickets, messages and surveys, as the API renders them.
//! Both timestamp forms appear: tickets and surveys with an explicit
//! `+00:00`, messages naive (UTC implied), all with microseconds.

use serde_json::{json, Value};

use super::plan::{Author, PlannedMessage, PlannedSurvey, Ticket, AGENTS};
use super::{integration_id, CHANNELS, DESKS, SHARED_ADDRESS};
use crate::rhythm::mix;

/// The microseconds [`datetime`] adds to a whole second.
fn micros(seconds: i64, salt: u64) -> u64 {
    mix(salt ^ seconds as u64) % 1_000_000
}

/// The instant [`datetime`] renders, in microseconds: what a listing
/// ordered by that time sorts on.
pub(crate) fn instant(seconds: i64, salt: u64) -> i64 {
    seconds * 1_000_000 + micros(seconds, salt) as i64
}

/// `2024-02-14T21:30:50.201204+00:00` (or without the offset when `naive`).
pub(crate) fn datetime(seconds: i64, salt: u64, naive: bool) -> String {
    let micros = micros(seconds, salt);
    let base = jiff::Timestamp::from_second(seconds)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();
    if naive {
        format!("{base}.{micros:06}")
    } else {
        format!("{base}.{micros:06}+00:00")
    }
}

fn opt_datetime(seconds: Option<i64>, salt: u64) -> Value {
    seconds.map_or(Value::Null, |s| Value::String(datetime(s, salt, false)))
}

fn tag_id(name: &str) -> u64 {
    name.bytes()
        .fold(11u64, |h, b| h.wrapping_mul(31).wrapping_add(b as u64))
        % 100_000
}

pub(crate) fn ticket_json(ticket: &Ticket, now: i64) -> Value {
    let state = ticket.state(now);
    let salt = ticket.id;
    let excerpt: String = ticket
        .messages_at(now)
        .rev()
        .find(|m| m.author != Author::Note)
        .map(|m| m.body.chars().take(80).collect())
        .unwrap_or_default();
    json!({
        "id": ticket.id,
        "uri": format!("/api/tickets/{}/", ticket.id),
        "external_id": null,
        "language": "en",
        "status": if state.open { "open" } else { "closed" },
        "priority": ticket.priority,
        "channel": CHANNELS[ticket.channel].0,
        "via": if CHANNELS[ticket.channel].0 == "contact_form" { "contact_form" } else { CHANNELS[ticket.channel].0 },
        "from_agent": false,
        "spam": ticket.spam,
        "customer": {
            "id": ticket.customer.id,
            "email": ticket.customer.email,
            "name": ticket.customer.name,
            "firstname": ticket.customer.name.split(' ').next().unwrap_or_default(),
            "lastname": ticket.customer.name.split(' ').nth(1).unwrap_or_default(),
        },
        "assignee_user": ticket.assignee.map(|a| json!({
            "id": 400 + a as u64,
            "email": AGENTS[a].1,
            "name": AGENTS[a].0,
        })),
        "assignee_team": null,
        "subject": ticket.subject,
        "excerpt": excerpt,
        "tags": ticket.tags.iter().map(|t| json!({"id": tag_id(t), "name": t, "decoration": null})).collect::<Vec<_>>(),
        "meta": null,
        "is_unread": state.open,
        "messages_count": ticket.messages_at(now).count(),
        "created_datetime": datetime(ticket.created_at, salt, false),
        "opened_datetime": opt_datetime(state.opened_at, salt),
        "last_received_message_datetime": opt_datetime(state.last_received, salt),
        "last_message_datetime": opt_datetime(ticket.messages_at(now).map(|m| m.at).max(), salt),
        "updated_datetime": datetime(state.updated_at, salt, false),
        "closed_datetime": opt_datetime(state.closed_at, salt),
        "snooze_datetime": opt_datetime(state.snooze_until, salt),
        "trashed_datetime": opt_datetime(state.trashed_at, salt),
    })
}

/// The helpdesk address a customer of this ticket wrote to.
fn receiving_address(ticket: &Ticket) -> &'static str {
    ticket.desk.map_or(SHARED_ADDRESS, |d| DESKS[d].address)
}

pub(crate) fn messages_json(ticket: &Ticket, now: i64) -> Vec<Value> {
    ticket
        .messages_at(now)
        .map(|m| message_json(ticket, m))
        .collect()
}

/// One message of `ticket`, as `/api/messages` lists it.
pub(crate) fn message_json(ticket: &Ticket, m: &PlannedMessage) -> Value {
    let channel = CHANNELS[ticket.channel].0;
    let integration = ticket
        .desk
        .map_or(Value::Null, |d| json!(integration_id(d, ticket.channel)));
    let address = receiving_address(ticket);
    let from_agent = m.author != Author::Customer;
    let agent = ticket.assignee.unwrap_or(0);
    let (from, to) = if from_agent {
        (address.to_string(), ticket.customer.email.clone())
    } else {
        (ticket.customer.email.clone(), address.to_string())
    };
    let sent = match m.author {
        Author::Note | Author::Failed => None,
        _ => Some(m.at),
    };
    json!({
        "id": m.id,
        "uri": format!("/api/tickets/{}/messages/{}/", ticket.id, m.id),
        "ticket_id": ticket.id,
        "channel": if m.author == Author::Note { "internal-note" } else { channel },
        "via": channel,
        "from_agent": from_agent,
        "public": m.author != Author::Note,
        "rule_id": if m.author == Author::Rule { json!(31 + ticket.desk.unwrap_or(3) as u64) } else { Value::Null },
        "integration_id": integration,
        "sender": if from_agent {
            json!({"id": 400 + agent as u64, "email": AGENTS[agent].1, "name": AGENTS[agent].0})
        } else {
            json!({"id": ticket.customer.id, "email": ticket.customer.email, "name": ticket.customer.name})
        },
        "source": {
            "type": channel,
            "from": {"address": from},
            "to": [{"address": to}],
        },
        "subject": if m.author == Author::Customer { Value::String(ticket.subject.clone()) } else { Value::Null },
        "body_text": m.body,
        "body_html": format!("<p>{}</p>", m.body),
        "stripped_text": m.body,
        "intents": if m.author == Author::Customer && ticket.subject.starts_with("Where is my order") {
            json!([{"name": "order/status", "feedback": null}])
        } else {
            json!([])
        },
        "created_datetime": datetime(m.at, m.id, true),
        "sent_datetime": sent.map_or(Value::Null, |s| Value::String(datetime(s, m.id, true))),
        "failed_datetime": if m.author == Author::Failed { Value::String(datetime(m.at + 5, m.id, true)) } else { Value::Null },
        "opened_datetime": null,
    })
}

/// When a survey was created: a minute before it was sent.
pub(crate) fn survey_created_at(survey: &PlannedSurvey) -> i64 {
    survey.sent_at - 60
}

/// The survey as it stands at `now`; `None` before it was sent.
pub(crate) fn survey_json(ticket: &Ticket, now: i64) -> Option<Value> {
    let survey = ticket.survey.as_ref().filter(|s| s.sent_at <= now)?;
    let scored = survey.score.is_some() && survey.scored_at <= now;
    let naive = survey.id % 2 == 0;
    Some(json!({
        "id": survey.id,
        "ticket_id": ticket.id,
        "customer_id": ticket.customer.id,
        "score": if scored { json!(survey.score) } else { Value::Null },
        "body_text": if scored { json!(survey.body) } else { Value::Null },
        "created_datetime": datetime(survey_created_at(survey), survey.id, naive),
        "sent_datetime": datetime(survey.sent_at, survey.id, naive),
        "scored_datetime": if scored { Value::String(datetime(survey.scored_at, survey.id, naive)) } else { Value::Null },
        "should_send_datetime": datetime(survey.sent_at, survey.id, naive),
        "meta": null,
    }))
}

/// Sorts rendered times as text in the order of the instants they name
/// (both forms: with and without `+00:00`), for tests.
#[cfg(test)]
pub(crate) fn tests_parse(text: &str) -> String {
    text.trim_end_matches("+00:00").to_string()
}
