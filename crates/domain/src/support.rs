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
}
