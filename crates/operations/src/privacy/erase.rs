//! What an erasure replaces, per kind of record: the one rule of which
//! fields are personal. Personal values become [`TOMBSTONE`]; what counts
//! and sums read (amounts, dates, quantities, statuses, line items, the
//! platform's pseudonymous ids) stays, so the dashboard's figures do not
//! move. Then every remaining mention of the person's identifiers in the
//! record (a name quoted in a reason, an email in a note) is wiped by the
//! one text rule, [`scrub`].
//!
//! What is kept and why is written on the request's outcome ([`KEPT`]).

use opsdeck_domain::privacy::{scrub, TOMBSTONE};
use opsdeck_domain::{AnyRecord, RecordKind};

/// What an erasure keeps and the reason, as the request's outcome says.
pub const KEPT: &[(&str, &str)] = &[
    (
        "orders: amounts, taxes, discounts, currency, dates, statuses and line items",
        "tax and accounting records must be kept (GDPR art. 17(3)(b): a legal obligation); \
         they name no one once the email, name and notes are erased",
    ),
    (
        "the platform's customer and order ids",
        "pseudonymous keys that tie the kept figures together (orders per customer, \
         refunds per order); without the email and name they identify no one here",
    ),
    (
        "ticket and survey timings, statuses, channels and scores",
        "support figures (first response, resolution time, CSAT) count them; \
         the subject, excerpt and every message body are erased",
    ),
];

fn tomb(value: &mut Option<String>) -> bool {
    match value {
        Some(v) if v != TOMBSTONE => {
            *v = TOMBSTONE.to_string();
            true
        }
        _ => false,
    }
}

/// `record` with its personal fields replaced and `needles` wiped from
/// the rest; `None` when nothing in it changed.
pub fn erase_record(record: &AnyRecord, needles: &[String]) -> Option<AnyRecord> {
    let mut r = record.clone();
    let mut changed = false;
    let mut t = |v: &mut Option<String>| changed |= tomb(v);
    match &mut r {
        AnyRecord::Order(o) => {
            t(&mut o.email);
            if let Some(c) = &mut o.customer {
                t(&mut c.email);
                t(&mut c.name);
            }
            for refund in &mut o.refunds {
                t(&mut refund.note);
            }
        }
        AnyRecord::CustomerSummary(c) => {
            t(&mut c.email);
            t(&mut c.name);
        }
        AnyRecord::AbandonedCheckout(c) => t(&mut c.email),
        AnyRecord::Ticket(tk) => {
            if let Some(c) = &mut tk.customer {
                t(&mut c.email);
                t(&mut c.name);
            }
            t(&mut tk.subject);
            t(&mut tk.excerpt);
        }
        AnyRecord::TicketMessage(m) => {
            t(&mut m.subject);
            t(&mut m.body_text);
        }
        AnyRecord::SatisfactionSurvey(s) => t(&mut s.body_text),
        AnyRecord::ReturnRequest(q) => t(&mut q.reason),
        AnyRecord::ReviewItem(i) => t(&mut i.subject),
        AnyRecord::TrackingEvent(e) => {
            t(&mut e.tracking_number);
            t(&mut e.description);
            t(&mut e.location);
        }
        AnyRecord::PaymentEvent(_)
        | AnyRecord::Product(_)
        | AnyRecord::InventoryLevel(_)
        | AnyRecord::InventoryBatch(_)
        | AnyRecord::HealthCheck(_) => {}
    }
    match scrub_record(&r, needles) {
        Some(clean) => Some(clean),
        None => changed.then_some(r),
    }
}

/// `record` with `needles` wiped from every string in it, or `None` when
/// none occurs. The tombstone holds no character JSON escapes, so the
/// wiped text is the same record's JSON.
fn scrub_record(record: &AnyRecord, needles: &[String]) -> Option<AnyRecord> {
    fn json<T: serde::Serialize>(r: &T) -> String {
        serde_json::to_string(r).expect("domain records serialize")
    }
    let body = opsdeck_domain::dispatch_any_record!(record, r => json(r));
    let clean = scrub(&body, needles)?;
    let back = |e: serde_json::Error| {
        tracing::error!(kind = record.kind().as_str(), error = %e, "an erased record no longer decodes");
    };
    let decoded = match record.kind() {
        RecordKind::Order => serde_json::from_str(&clean).map(AnyRecord::Order),
        RecordKind::Product => serde_json::from_str(&clean).map(AnyRecord::Product),
        RecordKind::InventoryLevel => serde_json::from_str(&clean).map(AnyRecord::InventoryLevel),
        RecordKind::Ticket => serde_json::from_str(&clean).map(AnyRecord::Ticket),
        RecordKind::TicketMessage => serde_json::from_str(&clean).map(AnyRecord::TicketMessage),
        RecordKind::SatisfactionSurvey => {
            serde_json::from_str(&clean).map(AnyRecord::SatisfactionSurvey)
        }
        RecordKind::TrackingEvent => serde_json::from_str(&clean).map(AnyRecord::TrackingEvent),
        RecordKind::InventoryBatch => serde_json::from_str(&clean).map(AnyRecord::InventoryBatch),
        RecordKind::ReturnRequest => serde_json::from_str(&clean).map(AnyRecord::ReturnRequest),
        RecordKind::ReviewItem => serde_json::from_str(&clean).map(AnyRecord::ReviewItem),
        RecordKind::PaymentEvent => serde_json::from_str(&clean).map(AnyRecord::PaymentEvent),
        RecordKind::HealthCheck => serde_json::from_str(&clean).map(AnyRecord::HealthCheck),
        RecordKind::CustomerSummary => serde_json::from_str(&clean).map(AnyRecord::CustomerSummary),
        RecordKind::AbandonedCheckout => {
            serde_json::from_str(&clean).map(AnyRecord::AbandonedCheckout)
        }
    };
    decoded.map_err(back).ok()
}
