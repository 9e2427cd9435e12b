//! Privacy requests (issue 15 point 4, METRICS.md "Queues with deadlines"):
//! a person asks for a copy of what opsdeck holds about them (an export)
//! or for it to be erased; a shop that uninstalled asks for all its
//! customers' data to go. Each is due 30 days after receipt and alerted 7
//! days before; the deadline is the one SLA rule ([`crate::sla::SlaClock`]).
//!
//! The types here say *what* a request is; how it is worked (what an
//! export gathers, which fields an erasure replaces) is
//! `opsdeck_operations::privacy`'s.

use crate::sla::SlaClock;
use crate::Timestamp;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// Days a request may take from receipt (GDPR art. 12(3), and what
/// Shopify asks of the compliance webhooks).
pub const PRIVACY_WINDOW_DAYS: i64 = 30;

/// Days before the deadline from which an open request is alerted.
pub const PRIVACY_ALERT_DAYS_BEFORE: i64 = 7;

/// What replaces a personal value on erasure: a fixed marker, so counts
/// and sums stay right and a person reading a record sees it was erased.
pub const TOMBSTONE: &str = "[erased]";

/// What a request asks for. A closed set: opsdeck's own, not a platform's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyRequestKind {
    /// A copy of everything held about one person (`customers/data_request`).
    Export,
    /// One person's personal data erased (`customers/redact`).
    Erasure,
    /// Every customer's personal data of one shop erased (`shop/redact`).
    ShopErasure,
}

impl PrivacyRequestKind {
    pub const ALL: [PrivacyRequestKind; 3] = [
        PrivacyRequestKind::Export,
        PrivacyRequestKind::Erasure,
        PrivacyRequestKind::ShopErasure,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyRequestKind::Export => "export",
            PrivacyRequestKind::Erasure => "erasure",
            PrivacyRequestKind::ShopErasure => "shop_erasure",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How a person reads it on the queue.
    pub fn label(self) -> &'static str {
        match self {
            PrivacyRequestKind::Export => "Data export",
            PrivacyRequestKind::Erasure => "Erasure",
            PrivacyRequestKind::ShopErasure => "Shop erasure",
        }
    }
}

/// Where a request stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyStatus {
    Received,
    InProgress,
    Completed,
    /// Tried and could not finish; the error says why and a person retries.
    Failed,
}

impl PrivacyStatus {
    pub const ALL: [PrivacyStatus; 4] = [
        PrivacyStatus::Received,
        PrivacyStatus::InProgress,
        PrivacyStatus::Completed,
        PrivacyStatus::Failed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyStatus::Received => "received",
            PrivacyStatus::InProgress => "in_progress",
            PrivacyStatus::Completed => "completed",
            PrivacyStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Still owed to the person: counts against the deadline.
    pub fn is_open(self) -> bool {
        !matches!(self, PrivacyStatus::Completed)
    }
}

/// How a request reached opsdeck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PrivacyVia {
    /// One of Shopify's compliance webhooks.
    ShopifyWebhook,
    /// Filed by an admin on `/privacy`.
    Dashboard,
    /// Pushed by a custom platform through the ingest API.
    Ingest,
}

impl PrivacyVia {
    pub const ALL: [PrivacyVia; 3] = [
        PrivacyVia::ShopifyWebhook,
        PrivacyVia::Dashboard,
        PrivacyVia::Ingest,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            PrivacyVia::ShopifyWebhook => "shopify_webhook",
            PrivacyVia::Dashboard => "dashboard",
            PrivacyVia::Ingest => "ingest",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `text` with every occurrence of each of `needles` (matched without
/// ASCII case) replaced by [`TOMBSTONE`]; `None` when none occurs. The one
/// rule for wiping a person's identifiers out of free text (audit entries,
/// raw payloads, notes), so every copy is wiped the same way. Needles
/// shorter than 3 characters are ignored: they would wipe unrelated text.
pub fn scrub(text: &str, needles: &[String]) -> Option<String> {
    let mut out = text.to_string();
    let mut changed = false;
    for needle in needles.iter().map(|n| n.trim()).filter(|n| n.len() >= 3) {
        let lower_needle = needle.to_ascii_lowercase();
        let mut result = String::with_capacity(out.len());
        let mut rest = out.as_str();
        loop {
            let lower_rest = rest.to_ascii_lowercase();
            match lower_rest.find(&lower_needle) {
                // ASCII lowercasing keeps byte offsets, so `at` is a char
                // boundary of `rest` too.
                Some(at) => {
                    result.push_str(&rest[..at]);
                    result.push_str(TOMBSTONE);
                    rest = &rest[at + needle.len()..];
                    changed = true;
                }
                None => {
                    result.push_str(rest);
                    break;
                }
            }
        }
        out = result;
    }
    changed.then_some(out)
}

/// Who a request is about, as the platform or the person filing it names
/// them. Every field optional: Shopify's `customers/redact` may carry only
/// an email; a `shop/redact` names no one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DataSubject {
    /// The platform's customer id (Shopify's `customer.id`).
    pub customer_id: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub name: Option<String>,
    /// Orders the platform names (`orders_requested`, `orders_to_redact`).
    #[serde(default)]
    pub order_ids: Vec<String>,
}

impl DataSubject {
    /// Names no one: nothing to find by.
    pub fn is_empty(&self) -> bool {
        self.customer_id.is_none()
            && self.email.is_none()
            && self.phone.is_none()
            && self.name.is_none()
            && self.order_ids.is_empty()
    }

    /// `email` matches this subject's email (case-insensitive, trimmed).
    pub fn has_email(&self, email: Option<&str>) -> bool {
        match (&self.email, email) {
            (Some(mine), Some(theirs)) => mine.trim().eq_ignore_ascii_case(theirs.trim()),
            _ => false,
        }
    }
}

/// The deadline clock of a request received at `received_at`: due 30 days
/// later, by the one SLA rule.
pub fn privacy_clock(received_at: Timestamp) -> SlaClock {
    SlaClock::new(
        received_at,
        SignedDuration::from_hours(24 * PRIVACY_WINDOW_DAYS),
    )
}

/// From when an open request received at `received_at` is alerted: 7
/// days before it is due.
pub fn privacy_alert_from(received_at: Timestamp) -> Timestamp {
    let due = privacy_clock(received_at).deadline;
    due.checked_sub(SignedDuration::from_hours(24 * PRIVACY_ALERT_DAYS_BEFORE))
        .unwrap_or(received_at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_thirty_days_after_receipt_and_alerted_seven_before() {
        let at: Timestamp = "2026-03-20T10:00:00Z".parse().unwrap();
        // Across the March DST change: real hours, 30 × 24 of them.
        assert_eq!(
            privacy_clock(at).deadline,
            "2026-04-19T10:00:00Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(
            privacy_alert_from(at),
            "2026-04-12T10:00:00Z".parse::<Timestamp>().unwrap()
        );
    }

    #[test]
    fn kinds_and_statuses_round_trip() {
        for k in PrivacyRequestKind::ALL {
            assert_eq!(PrivacyRequestKind::parse(k.as_str()), Some(k));
        }
        for s in PrivacyStatus::ALL {
            assert_eq!(PrivacyStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(PrivacyStatus::parse("done"), None);
    }

    #[test]
    fn scrub_replaces_every_occurrence_without_case() {
        let needles = vec!["ana@example.com".to_string(), "Ana Lima".to_string()];
        assert_eq!(
            scrub(
                r#"{"email":"ANA@example.com","n":"ana lima, ana@example.com"}"#,
                &needles
            )
            .as_deref(),
            Some(r#"{"email":"[erased]","n":"[erased], [erased]"}"#)
        );
        assert_eq!(scrub("nothing here", &needles), None);
        // Too short to be safe: ignored.
        assert_eq!(scrub("a b", &["a".to_string()]), None);
    }

    #[test]
    fn emails_match_without_case() {
        let s = DataSubject {
            email: Some("Ana@Example.com".into()),
            ..DataSubject::default()
        };
        assert!(s.has_email(Some(" ana@example.COM")));
        assert!(!s.has_email(Some("bob@example.com")));
        assert!(!s.has_email(None));
    }
}
