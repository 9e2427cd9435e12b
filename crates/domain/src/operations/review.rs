//! Review-queue events: what a platform that reports its review items as a
//! stream of events (the pharmacy: a prescription uploaded, approved,
//! rejected) sends, and how each one lands on the one [`ReviewItem`] it is
//! about — there is no separate record kind for events.
//!
//! An item keeps every event it has seen ([`ReviewItem::events`], oldest
//! first), so events applied in any order, or twice, give the same item:
//! - it was **submitted** at its first upload event (until one arrives, at
//!   its earliest event: a decision that overtook its upload);
//! - its **status** is that of its latest event (an upload after a
//!   rejection reopens it), decided at that event's time;
//! - its **OCR state** is the latest event's that carries one;
//! - `updated_at` is its latest event's time, so the store's newer-wins
//!   rule never throws away an event: an older one changes the content
//!   with the same `updated_at`, which the store writes.
//!
//! The SLA clock of an item is `opsdeck_domain::sla`'s, from `submitted_at`.

use super::{ReviewItem, ReviewStatus};
use crate::{BrandId, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

open_enum! {
    /// Where the platform's reading of an uploaded document (OCR) stands.
    /// Values opsdeck does not know yet are kept and shown as sent.
    pub enum OcrState {
        Pending = "pending",
        Completed = "completed",
        Failed = "failed",
        LowConfidence = "low_confidence",
    }
}

impl OcrState {
    /// A reading a person must check by eye before deciding.
    pub fn needs_a_look(&self) -> bool {
        matches!(self, OcrState::Failed | OcrState::LowConfidence)
    }
}

/// An event the review-events ingest accepts. Closed on purpose: each one
/// sets the item's status, so an unknown name is refused (with the list of
/// known ones) rather than guessed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ReviewEventKind {
    /// A prescription was uploaded: it waits for a pharmacist.
    #[serde(rename = "RX_UPLOADED")]
    RxUploaded,
    #[serde(rename = "RX_APPROVED")]
    RxApproved,
    #[serde(rename = "RX_REJECTED")]
    RxRejected,
}

impl ReviewEventKind {
    pub const ALL: [ReviewEventKind; 3] = [
        ReviewEventKind::RxUploaded,
        ReviewEventKind::RxApproved,
        ReviewEventKind::RxRejected,
    ];

    /// The queue an item of this event goes to when the event names none.
    pub const DEFAULT_QUEUE: &'static str = "prescriptions";

    /// The platform's spelling, e.g. `RX_UPLOADED`.
    pub const fn as_str(self) -> &'static str {
        match self {
            ReviewEventKind::RxUploaded => "RX_UPLOADED",
            ReviewEventKind::RxApproved => "RX_APPROVED",
            ReviewEventKind::RxRejected => "RX_REJECTED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The item's status once this is its latest event.
    pub fn status(self) -> ReviewStatus {
        match self {
            ReviewEventKind::RxUploaded => ReviewStatus::Open,
            ReviewEventKind::RxApproved => ReviewStatus::Approved,
            ReviewEventKind::RxRejected => ReviewStatus::Rejected,
        }
    }

    /// Whether this event puts an item in the queue (rather than deciding it).
    pub fn submits(self) -> bool {
        self == ReviewEventKind::RxUploaded
    }
}

/// What an item keeps of one event it has seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewEventSeen {
    pub event: ReviewEventKind,
    pub at: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_state: Option<OcrState>,
}

/// One event about a review item, as a platform reported it: a partial
/// update of the item `external_id` of the same source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewEvent {
    pub source: SourceId,
    pub brand: BrandId,
    /// The item's id on the platform (the prescription's).
    pub external_id: String,
    /// The queue of a new item; an existing item stays in its queue.
    pub queue: String,
    pub event: ReviewEventKind,
    pub occurred_at: Timestamp,
    pub ocr_state: Option<OcrState>,
    pub order_id: Option<String>,
    pub subject: Option<String>,
}

impl ReviewEvent {
    /// The item after this event: `stored` (the same source's item, if
    /// any) with the event added, or a new item of the event alone.
    pub fn apply_to(&self, stored: Option<&ReviewItem>) -> ReviewItem {
        let mut item = match stored {
            Some(item) => {
                let mut item = item.clone();
                if item.events.is_empty() {
                    item.events = seed_history(&item);
                }
                item
            }
            None => ReviewItem {
                source: self.source.clone(),
                external_id: self.external_id.clone(),
                brand: self.brand.clone(),
                queue: self.queue.clone(),
                status: ReviewStatus::Open,
                order_id: None,
                subject: None,
                submitted_at: self.occurred_at,
                decided_at: None,
                updated_at: self.occurred_at,
                ocr_state: None,
                events: Vec::new(),
            },
        };
        let newest = stored.is_none_or(|s| self.occurred_at >= s.updated_at);
        if newest || item.order_id.is_none() {
            item.order_id = self.order_id.clone().or(item.order_id);
        }
        if newest || item.subject.is_none() {
            item.subject = self.subject.clone().or(item.subject);
        }
        let seen = ReviewEventSeen {
            event: self.event,
            at: self.occurred_at,
            ocr_state: self.ocr_state.clone(),
        };
        if !item.events.contains(&seen) {
            let after = item.events.partition_point(|e| e.at <= seen.at);
            item.events.insert(after, seen);
        }
        derive_from_history(&mut item);
        item
    }
}

/// The history an item pushed whole (with a status, no events) stands for:
/// its submission, then its decision if it has one.
fn seed_history(item: &ReviewItem) -> Vec<ReviewEventSeen> {
    let mut events = vec![ReviewEventSeen {
        event: ReviewEventKind::RxUploaded,
        at: item.submitted_at,
        ocr_state: item.ocr_state.clone(),
    }];
    let decision = match item.status {
        ReviewStatus::Approved => Some(ReviewEventKind::RxApproved),
        ReviewStatus::Rejected => Some(ReviewEventKind::RxRejected),
        _ => None,
    };
    if let Some(event) = decision {
        events.push(ReviewEventSeen {
            event,
            at: item.decided_at.unwrap_or(item.updated_at),
            ocr_state: None,
        });
    }
    events
}

/// Status, submission, decision, OCR state and `updated_at` from the
/// item's events (see the module doc).
fn derive_from_history(item: &mut ReviewItem) {
    let Some(latest) = item.events.last() else {
        return;
    };
    item.status = latest.event.status();
    item.decided_at = (!latest.event.submits()).then_some(latest.at);
    item.updated_at = item.updated_at.max(latest.at);
    item.submitted_at = item
        .events
        .iter()
        .find(|e| e.event.submits())
        .or(item.events.first())
        .map_or(item.submitted_at, |e| e.at);
    if let Some(ocr) = item.events.iter().rev().find_map(|e| e.ocr_state.clone()) {
        item.ocr_state = Some(ocr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn event(kind: ReviewEventKind, when: &str, ocr: Option<OcrState>) -> ReviewEvent {
        ReviewEvent {
            source: SourceId::parse("ingest-pharma").unwrap(),
            brand: BrandId::parse("pharma").unwrap(),
            external_id: "rx-1".into(),
            queue: "prescriptions".into(),
            event: kind,
            occurred_at: at(when),
            ocr_state: ocr,
            order_id: Some("1001".into()),
            subject: None,
        }
    }

    fn apply_all(events: &[ReviewEvent]) -> ReviewItem {
        let mut item: Option<ReviewItem> = None;
        for e in events {
            item = Some(e.apply_to(item.as_ref()));
        }
        item.unwrap()
    }

    #[test]
    fn upload_then_decision_opens_then_closes_the_item() {
        use ReviewEventKind::*;
        let up = event(RxUploaded, "2026-06-01T08:00:00Z", Some(OcrState::Pending));
        let item = up.apply_to(None);
        assert_eq!(item.status, ReviewStatus::Open);
        assert_eq!(item.submitted_at, at("2026-06-01T08:00:00Z"));
        assert_eq!(item.ocr_state, Some(OcrState::Pending));
        let ocr = event(
            RxUploaded,
            "2026-06-01T08:05:00Z",
            Some(OcrState::LowConfidence),
        );
        let item = ocr.apply_to(Some(&item));
        assert_eq!(
            item.submitted_at,
            at("2026-06-01T08:00:00Z"),
            "first upload"
        );
        assert_eq!(item.ocr_state, Some(OcrState::LowConfidence));
        let ok = event(RxApproved, "2026-06-01T08:40:00Z", None);
        let item = ok.apply_to(Some(&item));
        assert_eq!(item.status, ReviewStatus::Approved);
        assert_eq!(item.decided_at, Some(at("2026-06-01T08:40:00Z")));
        assert_eq!(item.updated_at, at("2026-06-01T08:40:00Z"));
        assert_eq!(
            item.ocr_state,
            Some(OcrState::LowConfidence),
            "a decision without OCR keeps it"
        );
    }

    #[test]
    fn any_order_and_duplicates_give_the_same_item() {
        use ReviewEventKind::*;
        let up = event(
            RxUploaded,
            "2026-06-01T08:00:00Z",
            Some(OcrState::Completed),
        );
        let no = event(RxRejected, "2026-06-01T09:30:00Z", None);
        let in_order = apply_all(&[up.clone(), no.clone()]);
        let reversed = apply_all(&[no.clone(), up.clone()]);
        let twice = apply_all(&[up.clone(), no.clone(), up.clone(), no.clone()]);
        assert_eq!(in_order, reversed);
        assert_eq!(in_order, twice);
        assert_eq!(in_order.status, ReviewStatus::Rejected);
        assert_eq!(in_order.submitted_at, at("2026-06-01T08:00:00Z"));
        // Before its upload arrived, the decision alone dated the item.
        let early = no.apply_to(None);
        assert_eq!(early.submitted_at, at("2026-06-01T09:30:00Z"));
        assert_eq!(early.status, ReviewStatus::Rejected);
    }

    #[test]
    fn an_upload_after_a_rejection_reopens_the_item() {
        use ReviewEventKind::*;
        let item = apply_all(&[
            event(RxUploaded, "2026-06-01T08:00:00Z", None),
            event(RxRejected, "2026-06-01T08:30:00Z", None),
            event(RxUploaded, "2026-06-01T10:00:00Z", Some(OcrState::Pending)),
        ]);
        assert_eq!(item.status, ReviewStatus::Open);
        assert_eq!(item.decided_at, None);
        assert_eq!(item.submitted_at, at("2026-06-01T08:00:00Z"));
    }

    #[test]
    fn an_item_pushed_whole_keeps_its_history_under_events() {
        let whole = ReviewItem {
            source: SourceId::parse("ingest-pharma").unwrap(),
            external_id: "rx-1".into(),
            brand: BrandId::parse("pharma").unwrap(),
            queue: "prescriptions".into(),
            status: ReviewStatus::Open,
            order_id: None,
            subject: Some("Amoxicillin".into()),
            submitted_at: at("2026-06-01T07:00:00Z"),
            decided_at: None,
            updated_at: at("2026-06-01T07:00:00Z"),
            ocr_state: None,
            events: vec![],
        };
        let item =
            event(ReviewEventKind::RxApproved, "2026-06-01T07:20:00Z", None).apply_to(Some(&whole));
        assert_eq!(item.submitted_at, at("2026-06-01T07:00:00Z"));
        assert_eq!(item.status, ReviewStatus::Approved);
        assert_eq!(item.subject.as_deref(), Some("Amoxicillin"));
        assert_eq!(item.events.len(), 2);
    }

    #[test]
    fn unknown_ocr_states_are_kept_and_event_names_are_closed() {
        assert_eq!(
            OcrState::parse("manual_entry"),
            OcrState::Other("manual_entry".into())
        );
        assert!(OcrState::LowConfidence.needs_a_look());
        assert_eq!(
            ReviewEventKind::parse("RX_APPROVED"),
            Some(ReviewEventKind::RxApproved)
        );
        assert_eq!(ReviewEventKind::parse("rx_approved"), None);
    }
}
