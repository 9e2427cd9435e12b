//! The helpdesk: tickets, their messages, and satisfaction surveys.

use crate::record::{impl_record, RecordKind};
use crate::{BrandId, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

open_enum! {
    /// Ticket status (Gorgias: open or closed; more may come).
    pub enum TicketStatus {
        Open = "open",
        Closed = "closed",
    }
}

open_enum! {
    /// Where the conversation happens.
    pub enum Channel {
        Email = "email",
        Chat = "chat",
        ContactForm = "contact_form",
        Facebook = "facebook",
        FacebookMessenger = "facebook-messenger",
        FacebookMention = "facebook-mention",
        InstagramComment = "instagram-comment",
        InstagramDirectMessage = "instagram-direct-message",
        InstagramAdComment = "instagram-ad-comment",
        Twitter = "twitter",
        TwitterDirectMessage = "twitter-direct-message",
        Sms = "sms",
        Phone = "phone",
        WhatsApp = "whatsapp",
        Api = "api",
    }
}

impl Channel {
    /// Public social channels, where a slow answer is seen by everyone.
    pub fn is_social(&self) -> bool {
        let s = self.as_str();
        s.starts_with("facebook") || s.starts_with("instagram") || s.starts_with("twitter")
    }
}

/// A person on either side of a ticket.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Party {
    pub external_id: Option<String>,
    pub email: Option<String>,
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ticket {
    pub source: SourceId,
    pub external_id: String,
    /// `None` until an attribution rule claims the ticket for a brand.
    pub brand: Option<BrandId>,
    pub status: TicketStatus,
    pub channel: Channel,
    pub subject: Option<String>,
    pub excerpt: Option<String>,
    pub priority: Option<String>,
    pub spam: bool,
    pub tags: Vec<String>,
    pub customer: Option<Party>,
    pub assignee: Option<Party>,
    pub created_at: Timestamp,
    pub opened_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    pub last_received_message_at: Option<Timestamp>,
    pub closed_at: Option<Timestamp>,
    /// Snoozed until this time; a ticket snoozed into the future is pending.
    pub snooze_until: Option<Timestamp>,
    pub trashed_at: Option<Timestamp>,
}

impl_record!(Ticket, RecordKind::Ticket, brand: optional);

impl Ticket {
    /// Open, not snoozed into the future, not trashed or spam.
    pub fn is_open_at(&self, now: Timestamp) -> bool {
        self.status == TicketStatus::Open
            && !self.is_hidden()
            && self.snooze_until.is_none_or(|until| until <= now)
    }

    /// Open but snoozed into the future.
    pub fn is_pending_at(&self, now: Timestamp) -> bool {
        self.status == TicketStatus::Open
            && !self.is_hidden()
            && self.snooze_until.is_some_and(|until| until > now)
    }

    /// Trashed or spam tickets count nowhere.
    pub fn is_hidden(&self) -> bool {
        self.spam || self.trashed_at.is_some()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TicketMessage {
    pub source: SourceId,
    pub external_id: String,
    pub brand: Option<BrandId>,
    pub ticket_id: String,
    /// Written by an agent (or a rule) rather than the customer.
    pub from_agent: bool,
    /// `false` for internal notes, which customers never see.
    pub public: bool,
    /// Set when an automation rule sent the message; such replies do not
    /// count as a first response.
    pub rule_id: Option<String>,
    pub channel: Option<Channel>,
    pub subject: Option<String>,
    pub body_text: Option<String>,
    pub intents: Vec<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

impl_record!(TicketMessage, RecordKind::TicketMessage, brand: optional);

impl TicketMessage {
    /// A reply a person on the team sent to the customer: counts for first
    /// response time.
    pub fn is_human_public_reply(&self) -> bool {
        self.from_agent && self.public && self.rule_id.is_none() && self.failed_at.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SatisfactionSurvey {
    pub source: SourceId,
    pub external_id: String,
    pub brand: Option<BrandId>,
    pub ticket_id: String,
    pub customer_id: Option<String>,
    /// 1-5, or `None` while unanswered (unanswered surveys count nowhere).
    pub score: Option<u8>,
    pub body_text: Option<String>,
    pub sent_at: Option<Timestamp>,
    pub scored_at: Option<Timestamp>,
    pub updated_at: Timestamp,
}

impl_record!(SatisfactionSurvey, RecordKind::SatisfactionSurvey, brand: optional);

/// What first response time reads of one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageTiming {
    /// When it reached the other side: its send time when known, else the
    /// time it was written (unix seconds).
    pub at: i64,
    /// Written by the customer (not an agent, not a rule).
    pub from_customer: bool,
    /// A reply that counts as a response: see
    /// [`TicketMessage::is_human_public_reply`].
    pub human_reply: bool,
}

impl TicketMessage {
    pub fn timing(&self) -> MessageTiming {
        MessageTiming {
            at: self.sent_at.unwrap_or(self.created_at).as_second(),
            from_customer: !self.from_agent,
            human_reply: self.is_human_public_reply(),
        }
    }
}

/// First response time of one ticket, in seconds, from its messages (any
/// order): the one definition of METRICS.md, which the projection calls.
///
/// It is the first public reply a person on the team sent (not an internal
/// note, not an automation rule's reply, not a failed send) minus the first
/// customer message, both at their send time. A reply that precedes the
/// customer's first message (an outbound ticket) does not count. `None` while
/// the customer has written nothing or nobody has answered yet.
pub fn first_response_secs<I>(messages: I) -> Option<i64>
where
    I: IntoIterator<Item = MessageTiming>,
    I::IntoIter: Clone,
{
    let messages = messages.into_iter();
    let asked = messages
        .clone()
        .filter(|m| m.from_customer)
        .map(|m| m.at)
        .min()?;
    let answered = messages
        .filter(|m| m.human_reply && m.at >= asked)
        .map(|m| m.at)
        .min()?;
    Some(answered - asked)
}

/// Resolution time of one ticket: closed minus created, for a ticket that is
/// closed now. A ticket reopened after closing (status open, an old
/// `closed_at` still set) has none until it closes again.
pub fn resolution_time(ticket: &Ticket) -> Option<jiff::SignedDuration> {
    if ticket.status != TicketStatus::Closed {
        return None;
    }
    let closed = ticket.closed_at?;
    (closed >= ticket.created_at).then(|| closed.duration_since(ticket.created_at))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn social_channels() {
        assert!(Channel::parse("instagram-direct-message").is_social());
        assert!(Channel::Twitter.is_social());
        assert!(!Channel::Email.is_social());
        assert_eq!(Channel::parse("carrier-pigeon").as_str(), "carrier-pigeon");
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn message(
        id: &str,
        from_agent: bool,
        public: bool,
        rule: Option<&str>,
        at: &str,
    ) -> TicketMessage {
        TicketMessage {
            source: SourceId::parse("gorgias").unwrap(),
            external_id: id.into(),
            brand: None,
            ticket_id: "1".into(),
            from_agent,
            public,
            rule_id: rule.map(String::from),
            channel: Some(Channel::Email),
            subject: None,
            body_text: None,
            intents: vec![],
            created_at: ts(at),
            sent_at: Some(ts(at)),
            failed_at: None,
            updated_at: ts(at),
        }
    }

    fn ticket(status: TicketStatus, created: &str, closed: Option<&str>) -> Ticket {
        Ticket {
            source: SourceId::parse("gorgias").unwrap(),
            external_id: "1".into(),
            brand: None,
            status,
            channel: Channel::Email,
            subject: None,
            excerpt: None,
            priority: None,
            spam: false,
            tags: vec![],
            customer: None,
            assignee: None,
            created_at: ts(created),
            opened_at: None,
            updated_at: ts(created),
            last_received_message_at: None,
            closed_at: closed.map(ts),
            snooze_until: None,
            trashed_at: None,
        }
    }

    fn frt(messages: &[TicketMessage]) -> Option<i64> {
        first_response_secs(messages.iter().map(TicketMessage::timing))
    }

    #[test]
    fn first_response_skips_rules_notes_and_failed_sends() {
        // Customer writes at 09:00; a rule auto-replies at 09:00:05; an agent
        // leaves an internal note at 09:30; a reply fails at 10:00; the first
        // real reply goes out at 11:15 -> 2h15m.
        let mut failed = message("4", true, true, None, "2024-03-01T10:00:00Z");
        failed.failed_at = Some(ts("2024-03-01T10:00:01Z"));
        let messages = vec![
            message("6", true, true, None, "2024-03-01T12:00:00Z"),
            message("1", false, true, None, "2024-03-01T09:00:00Z"),
            message("2", true, true, Some("77"), "2024-03-01T09:00:05Z"),
            message("3", true, false, None, "2024-03-01T09:30:00Z"),
            failed,
            message("5", true, true, None, "2024-03-01T11:15:00Z"),
        ];
        assert_eq!(frt(&messages), Some(2 * 3600 + 15 * 60));
    }

    #[test]
    fn no_first_response_without_a_customer_message_or_a_human_reply() {
        let only_rule = vec![
            message("1", false, true, None, "2024-03-01T09:00:00Z"),
            message("2", true, true, Some("77"), "2024-03-01T09:00:05Z"),
            message("3", true, false, None, "2024-03-01T09:30:00Z"),
        ];
        assert_eq!(frt(&only_rule), None);
        let outbound = vec![message("1", true, true, None, "2024-03-01T09:00:00Z")];
        assert_eq!(frt(&outbound), None);
        assert_eq!(frt(&[]), None);
    }

    #[test]
    fn resolution_time_only_for_closed_tickets() {
        let closed = ticket(
            TicketStatus::Closed,
            "2024-03-01T09:00:00Z",
            Some("2024-03-15T09:00:00Z"),
        );
        assert_eq!(
            resolution_time(&closed),
            Some(jiff::SignedDuration::from_hours(14 * 24))
        );
        let reopened = ticket(
            TicketStatus::Open,
            "2024-03-01T09:00:00Z",
            Some("2024-03-15T09:00:00Z"),
        );
        assert_eq!(resolution_time(&reopened), None);
        let open = ticket(TicketStatus::Open, "2024-03-01T09:00:00Z", None);
        assert_eq!(resolution_time(&open), None);
    }
}
