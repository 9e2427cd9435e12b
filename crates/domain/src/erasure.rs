//! Erasure of a person's data (issue 15 point 4): which fields of a record
//! are personal, what identifies a person in a record, and the keys under
//! which an erased person (or shop) is remembered so their data does not
//! come back.
//!
//! - [`erase_record`]: the one rule of which fields are personal. Personal
//!   values become [`TOMBSTONE`]; what counts and sums read (amounts,
//!   dates, quantities, statuses, line items, the platform's pseudonymous
//!   ids) stays, so the dashboard's figures do not move. Then every
//!   remaining mention of the person's identifiers in the record (a name
//!   quoted in a reason, an email in a note) is wiped by the one text
//!   rule, [`scrub`]. `opsdeck-operations` applies it to the stored
//!   records of an erasure; the store applies it to a record of an erased
//!   person that arrives afterwards (a sync page, a webhook, an ingest
//!   push, an import).
//! - [`identifiers`]: the names and emails a record carries of its
//!   customer (the text an erasure wipes from every other copy).
//! - [`erased_keys`] and [`lookup_keys`]: the identity rule of
//!   `opsdeck_operations::privacy::find` as keys, so an erasure remembers
//!   who it erased and a later record is checked the same way: a normalized
//!   email within the request's brand (a helpdesk record without a brand
//!   matches any brand, as the search does), a platform customer id, order
//!   id or ticket id within its source, and a whole shop after
//!   `shop/redact`. The store keeps only a keyed hash of each key.

use crate::privacy::{scrub, TOMBSTONE};
use crate::{AnyRecord, BrandId, RecordKind, SourceId};

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
/// none occurs (or, which a test would show, the wiped text no longer
/// decodes). The tombstone holds no character JSON escapes, so the wiped
/// text is the same record's JSON.
fn scrub_record(record: &AnyRecord, needles: &[String]) -> Option<AnyRecord> {
    fn json<T: serde::Serialize>(r: &T) -> String {
        serde_json::to_string(r).expect("domain records serialize")
    }
    let body = crate::dispatch_any_record!(record, r => json(r));
    let clean = scrub(&body, needles)?;
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
    decoded.ok()
}

/// Pushes the names and emails `record` carries of its customer.
pub fn identifiers(record: &AnyRecord, out: &mut Vec<String>) {
    let mut push = |v: &Option<String>| {
        if let Some(v) = v {
            out.push(v.clone());
        }
    };
    match record {
        AnyRecord::Order(o) => {
            push(&o.email);
            if let Some(c) = &o.customer {
                push(&c.email);
                push(&c.name);
            }
        }
        AnyRecord::CustomerSummary(c) => {
            push(&c.email);
            push(&c.name);
        }
        AnyRecord::AbandonedCheckout(c) => push(&c.email),
        AnyRecord::Ticket(t) => {
            if let Some(c) = &t.customer {
                push(&c.email);
                push(&c.name);
            }
        }
        _ => {}
    }
}

/// An email as erasure keys compare it: trimmed, ASCII lowercase (the
/// search's `DataSubject::has_email` rule). `None` for a tombstone or an
/// empty value.
fn normal_email(email: &str) -> Option<String> {
    let e = email.trim().to_ascii_lowercase();
    (!e.is_empty() && e != TOMBSTONE).then_some(e)
}

/// A person's identity in one record: their emails, and the platform ids
/// (kind, id) that tie records to them within the record's source.
struct Identity<'a> {
    emails: Vec<&'a str>,
    ids: Vec<(&'static str, &'a str)>,
}

fn identity(record: &AnyRecord) -> Identity<'_> {
    let mut emails = Vec::new();
    let mut ids = Vec::new();
    match record {
        AnyRecord::Order(o) => {
            emails.extend(o.email.as_deref());
            if let Some(c) = &o.customer {
                emails.extend(c.email.as_deref());
                ids.push(("customer", c.external_id.as_str()));
            }
            ids.push(("order", o.external_id.as_str()));
        }
        AnyRecord::CustomerSummary(c) => {
            emails.extend(c.email.as_deref());
            ids.push(("customer", c.external_id.as_str()));
        }
        AnyRecord::AbandonedCheckout(c) => {
            emails.extend(c.email.as_deref());
            ids.extend(c.customer_id.as_deref().map(|id| ("customer", id)));
        }
        AnyRecord::Ticket(t) => {
            emails.extend(t.customer.as_ref().and_then(|c| c.email.as_deref()));
            ids.push(("ticket", t.external_id.as_str()));
        }
        AnyRecord::TicketMessage(m) => ids.push(("ticket", m.ticket_id.as_str())),
        AnyRecord::SatisfactionSurvey(s) => ids.push(("ticket", s.ticket_id.as_str())),
        AnyRecord::ReturnRequest(r) => ids.extend(r.order_id.as_deref().map(|o| ("order", o))),
        AnyRecord::PaymentEvent(p) => ids.extend(p.order_id.as_deref().map(|o| ("order", o))),
        AnyRecord::ReviewItem(r) => ids.extend(r.order_id.as_deref().map(|o| ("order", o))),
        AnyRecord::TrackingEvent(t) => ids.extend(t.order_id.as_deref().map(|o| ("order", o))),
        AnyRecord::Product(_)
        | AnyRecord::InventoryLevel(_)
        | AnyRecord::InventoryBatch(_)
        | AnyRecord::HealthCheck(_) => {}
    }
    Identity { emails, ids }
}

/// The key of an email erased within `brand` (`None`: every brand).
pub fn email_key(email: &str, brand: Option<&BrandId>) -> Vec<String> {
    let Some(e) = normal_email(email) else {
        return Vec::new();
    };
    match brand {
        // The brand's records, and helpdesk records without a brand (the
        // search includes those with any brand).
        Some(b) => vec![format!("email:{b}:{e}"), format!("email:?:{e}")],
        None => vec![format!("email:*:{e}")],
    }
}

/// The key of a platform id (`customer`, `order`, `ticket`) of `source`.
pub fn id_key(kind: &str, source: &SourceId, id: &str) -> Option<String> {
    let id = id.trim();
    (!id.is_empty() && id != TOMBSTONE).then(|| format!("{kind}:{source}:{id}"))
}

/// The key of a shop whose data was erased (`shop/redact`): every later
/// record of its source is tombstoned.
pub fn shop_key(source: &SourceId) -> String {
    format!("shop:{source}")
}

/// Whether `key` is a shop's ([`shop_key`]): the store logs those apart.
pub fn is_shop_key(key: &str) -> bool {
    key.starts_with("shop:")
}

/// The keys an erasure remembers for `record`, one of the records it
/// erased for a request of `brand`: the record's emails and platform ids.
pub fn erased_keys(record: &AnyRecord, brand: Option<&BrandId>) -> Vec<String> {
    let who = identity(record);
    let mut keys: Vec<String> = who
        .emails
        .iter()
        .flat_map(|e| email_key(e, brand))
        .collect();
    keys.extend(
        who.ids
            .iter()
            .filter_map(|(kind, id)| id_key(kind, record.source(), id)),
    );
    keys.sort();
    keys.dedup();
    keys
}

/// The keys under which an incoming `record` is looked up: if any was
/// erased, the record is stored erased ([`erase_record`]).
pub fn lookup_keys(record: &AnyRecord) -> Vec<String> {
    let who = identity(record);
    let mut keys = vec![shop_key(record.source())];
    for e in who.emails.iter().filter_map(|e| normal_email(e)) {
        match record.brand() {
            Some(b) => keys.push(format!("email:{b}:{e}")),
            None => keys.push(format!("email:?:{e}")),
        }
        keys.push(format!("email:*:{e}"));
    }
    keys.extend(
        who.ids
            .iter()
            .filter_map(|(kind, id)| id_key(kind, record.source(), id)),
    );
    keys.sort();
    keys.dedup();
    keys
}

/// Text that identifies the person in `record` itself, to wipe from its
/// other fields when it arrives after their erasure.
pub fn own_needles(record: &AnyRecord) -> Vec<String> {
    let mut out = Vec::new();
    identifiers(record, &mut out);
    out.retain(|n| n.trim().len() >= 3 && n != TOMBSTONE);
    out
}
