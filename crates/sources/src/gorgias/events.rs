//! Gorgias HTTP-integration events: what the helpdesk POSTs to
//! `/webhooks/gorgias` when a ticket is created or updated or a message is
//! created, so a ticket reaches the dashboard in seconds and the polling
//! sync becomes reconciliation.
//!
//! Gorgias renders the body from a template the merchant writes; opsdeck
//! reads this one (README, "Gorgias events"):
//!
//! ```json
//! {"event": "ticket-message-created", "ticket": {…}, "message": {…}}
//! ```
//!
//! `ticket` and `message` are the API's objects (the fields
//! [`super::normalize`] reads); `event` is `ticket-created`,
//! `ticket-updated` or `ticket-message-created` (underscores accepted), or
//! is left out and given in the URL (`?event=`) instead. A ticket event
//! needs `ticket`; a message event needs `message` (its `ticket_id` may
//! come from `ticket`). The receiver checks all of it before it stores the
//! event, so a bad body is refused with the reason and nothing is stored;
//! the inbox worker parses it again to apply it.

use super::normalize;
use opsdeck_domain::{Secret, SourceId};
use serde_json::Value;
use subtle::ConstantTimeEq;

/// True when `given` (from `?secret=` or `X-Opsdeck-Secret`) is the
/// integration's secret: Gorgias signs nothing, the merchant configures the
/// integration with a secret. Constant time in the secret's content; an
/// empty secret opens nothing.
pub fn secret_matches(secret: &Secret, given: &str) -> bool {
    let expected = secret.expose().as_bytes();
    !expected.is_empty() && bool::from(expected.ct_eq(given.as_bytes()))
}

/// Which trigger fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GorgiasEventKind {
    TicketCreated,
    TicketUpdated,
    MessageCreated,
}

impl GorgiasEventKind {
    /// Gorgias's trigger names, with `-` or `_`.
    pub fn parse(name: &str) -> Option<Self> {
        match name.trim().replace('_', "-").as_str() {
            "ticket-created" => Some(GorgiasEventKind::TicketCreated),
            "ticket-updated" => Some(GorgiasEventKind::TicketUpdated),
            "ticket-message-created" => Some(GorgiasEventKind::MessageCreated),
            _ => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            GorgiasEventKind::TicketCreated => "ticket-created",
            GorgiasEventKind::TicketUpdated => "ticket-updated",
            GorgiasEventKind::MessageCreated => "ticket-message-created",
        }
    }

    /// The inbox topic its events are stored under.
    pub fn topic(&self) -> String {
        format!("{TOPIC_PREFIX}{}", self.as_str())
    }
}

/// Inbox topics of helpdesk events start with this.
pub const TOPIC_PREFIX: &str = "gorgias/";

/// One event, checked: its records map to the domain.
#[derive(Debug, Clone, PartialEq)]
pub struct GorgiasEvent {
    pub kind: GorgiasEventKind,
    /// The ticket as the API renders it, when sent.
    pub ticket: Option<Value>,
    /// The message, with its `ticket_id`, for a message event.
    pub message: Option<Value>,
}

/// Parses and checks an event body; `hint` is the kind given in the URL
/// (or the inbox topic). The error says what is wrong, naming the field.
pub fn parse_event(
    source: &SourceId,
    body: &str,
    hint: Option<&str>,
) -> Result<GorgiasEvent, String> {
    let value: Value =
        serde_json::from_str(body).map_err(|e| format!("body is not valid JSON: {e}"))?;
    let Value::Object(mut fields) = value else {
        return Err("body is JSON but not an object".into());
    };
    let named = match fields.get("event") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err("`event` must be a string".into()),
    };
    let kind = match (named.as_deref(), hint) {
        (None, None) => {
            return Err(
                "no event: give `event` in the body or `?event=` in the URL \
                 (ticket-created, ticket-updated or ticket-message-created)"
                    .into(),
            )
        }
        (Some(name), other) | (None, other @ Some(name)) => {
            let kind = GorgiasEventKind::parse(name).ok_or_else(|| {
                format!(
                    "event {name:?} is not one of ticket-created, ticket-updated, \
                     ticket-message-created"
                )
            })?;
            if let Some(h) = other.filter(|_| named.is_some()) {
                if GorgiasEventKind::parse(h) != Some(kind) {
                    return Err(format!("event {name:?} in the body but {h:?} in the URL"));
                }
            }
            kind
        }
    };
    let ticket = match fields.remove("ticket") {
        None | Some(Value::Null) => None,
        Some(t @ Value::Object(_)) => {
            normalize::ticket_from_json(source, &t).map_err(|e| e.to_string())?;
            Some(t)
        }
        Some(_) => return Err("`ticket` must be an object".into()),
    };
    let message = match fields.remove("message") {
        None | Some(Value::Null) => None,
        Some(Value::Object(mut m)) => {
            if m.get("ticket_id").is_none_or(Value::is_null) {
                if let Some(id) = ticket.as_ref().and_then(|t| t.get("id")) {
                    m.insert("ticket_id".into(), id.clone());
                }
            }
            let m = Value::Object(m);
            normalize::message_from_json(source, &m).map_err(|e| e.to_string())?;
            Some(m)
        }
        Some(_) => return Err("`message` must be an object".into()),
    };
    match kind {
        GorgiasEventKind::MessageCreated if message.is_none() => {
            Err("a ticket-message-created event needs `message`".into())
        }
        GorgiasEventKind::TicketCreated | GorgiasEventKind::TicketUpdated if ticket.is_none() => {
            Err(format!("a {} event needs `ticket`", kind.as_str()))
        }
        _ => Ok(GorgiasEvent {
            kind,
            ticket,
            message,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source() -> SourceId {
        SourceId::parse("gorgias").unwrap()
    }

    const TICKET: &str = r#"{"id": 7, "status": "open", "created_datetime": "2026-05-04T10:00:00.000001", "updated_datetime": "2026-05-04T10:05:00.5+00:00"}"#;

    #[test]
    fn only_the_whole_secret_matches() {
        let secret = Secret::new("s3cret-value");
        assert!(secret_matches(&secret, "s3cret-value"));
        assert!(!secret_matches(&secret, "s3cret-valu"));
        assert!(!secret_matches(&secret, "s3cret-value2"));
        assert!(!secret_matches(&secret, ""));
        assert!(
            !secret_matches(&Secret::new(""), ""),
            "an empty secret opens nothing"
        );
    }

    #[test]
    fn events_parse_with_the_kind_in_the_body_or_the_url() {
        let body = format!(r#"{{"event": "ticket-created", "ticket": {TICKET}}}"#);
        let e = parse_event(&source(), &body, None).unwrap();
        assert_eq!(e.kind, GorgiasEventKind::TicketCreated);
        assert_eq!(e.ticket.unwrap()["id"], 7);
        let body = format!(
            r#"{{"ticket": {TICKET}, "message": {{"id": 9, "from_agent": false, "created_datetime": "2026-05-04T10:05:00"}}}}"#
        );
        let e = parse_event(&source(), &body, Some("ticket_message_created")).unwrap();
        assert_eq!(e.kind, GorgiasEventKind::MessageCreated);
        assert_eq!(e.message.unwrap()["ticket_id"], 7, "taken from the ticket");
        assert_eq!(e.kind.topic(), "gorgias/ticket-message-created");
    }

    #[test]
    fn bad_events_say_what_is_wrong() {
        let s = source();
        let err = |body: &str, hint| parse_event(&s, body, hint).unwrap_err();
        assert!(err("{", None).starts_with("body is not valid JSON"));
        assert_eq!(err("[1]", None), "body is JSON but not an object");
        assert!(err(&format!(r#"{{"ticket": {TICKET}}}"#), None).starts_with("no event"));
        assert!(err(r#"{"event": "ticket-deleted"}"#, None).contains("is not one of"));
        assert!(err(r#"{"event": "ticket-created"}"#, None).contains("needs `ticket`"));
        assert!(err(r#"{"event": "ticket-message-created"}"#, None).contains("needs `message`"));
        let e = err(
            &format!(r#"{{"event": "ticket-created", "ticket": {TICKET}}}"#),
            Some("ticket-updated"),
        );
        assert!(e.contains("in the URL"), "{e}");
        let e = err(
            r#"{"event": "ticket-updated", "ticket": {"id": 1, "created_datetime": "yesterday"}}"#,
            None,
        );
        assert!(e.contains("created_datetime"), "names the field: {e}");
        let e = err(
            r#"{"event": "ticket-message-created", "message": {"id": 3, "created_datetime": "2026-05-04T10:00:00"}}"#,
            None,
        );
        assert!(e.contains("ticket_id"), "{e}");
    }
}
