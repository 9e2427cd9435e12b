//! An order's timeline for the where-is-my-order view: placed, paid,
//! each shipment, every carrier event, delivery, the customer's inquiries
//! about it and refunds, in time order — and the promised delivery against
//! the actual one.
//!
//! - Shipments come from the order's fulfillments (a fulfillment is created
//!   when the parcel leaves: one `shipped` entry each, with its carrier and
//!   whether it is tracked) and `delivered` from their delivery times.
//! - Carrier events are the `TrackingEvent` records whose `order_id` names
//!   this order (same source); exception statuses are marked.
//! - Inquiries are the order-status tickets linked to this order by the
//!   rule the where-is-my-order panel uses (the quoted number, else the
//!   customer's latest order placed before the ticket).
//! - Estimated delivery is the latest estimate of the order's shipments;
//!   delivered is the last shipment's delivery once all are delivered.
//!   Days late = local days (the brand's zone) from the estimate's day to
//!   the delivery's day, or to today while undelivered; never negative.

use crate::panels::urgent::linked_order;
use crate::projection::keys::record_key;
use crate::projection::orders::NONE;
use crate::projection::{local_day, Projection, Stage};
use opsdeck_domain::{Money, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    Placed,
    Paid,
    Shipped,
    Tracking,
    Delivered,
    Inquiry,
    Refund,
    Cancelled,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimelineEvent {
    pub at: Timestamp,
    pub kind: EventKind,
    /// What happened, in words (carrier and status, inquiry type, ...).
    pub detail: String,
    /// A carrier event that needs someone to look at the parcel.
    pub exception: bool,
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub amount: Option<Money>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Timeline {
    pub brand: String,
    pub order: String,
    pub placed_at: Timestamp,
    pub stage: Stage,
    pub cancelled: bool,
    pub events: Vec<TimelineEvent>,
    pub estimated_delivery_at: Option<Timestamp>,
    pub delivered_at: Option<Timestamp>,
    pub days_late: Option<i64>,
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
}

/// The timeline of the order `external_id` of `source`, or `None` when the
/// projection does not know it (or it belongs to a brand not configured).
pub fn timeline(
    p: &Projection,
    source: &str,
    external_id: &str,
    now: Timestamp,
) -> Option<Timeline> {
    timeline_of_key(p, record_key(source, external_id), now)
}

/// The timeline of the order with projection key `key` — what a panel that
/// names an order by its number (`by_number`) links to.
pub fn timeline_of_key(p: &Projection, key: u64, now: Timestamp) -> Option<Timeline> {
    let row = p.orders.rows.get(&key)?;
    let b = row.brand;
    let brand = p.brand(b);
    let tz = &brand.time_zone;
    let currency = brand.currency;
    let at = |off: i32| row.created + i64::from(off);
    let ev = |at: i64, kind, detail: String| TimelineEvent {
        at: ts(at),
        kind,
        detail,
        exception: false,
        amount: None,
    };
    let mut events = vec![ev(
        row.created,
        EventKind::Placed,
        format!("order #{}", row.number),
    )];
    let extra = p.ops.order_extra(key, row.created);
    if let Some(paid) = extra.paid {
        let mut e = ev(paid, EventKind::Paid, "payment received".into());
        e.amount = Some(Money::new(row.total, currency));
        events.push(e);
    }
    for (i, s) in row.ships().enumerate() {
        let carrier = p.syms.text(s.carrier);
        if s.created != NONE {
            let tracked = if s.tracked { "tracked" } else { "no tracking" };
            events.push(ev(
                at(s.created),
                EventKind::Shipped,
                format!("shipment {} with {carrier} ({tracked})", i + 1),
            ));
        }
        if s.delivered != NONE {
            events.push(ev(
                at(s.delivered),
                EventKind::Delivered,
                format!("shipment {} delivered by {carrier}", i + 1),
            ));
        }
    }
    for (_, _, ekey) in p
        .ops
        .tracking_by_order
        .range((key, i64::MIN, 0)..=(key, i64::MAX, u64::MAX))
    {
        let Some(t) = p.ops.tracking.get(ekey) else {
            continue;
        };
        let words: Vec<&str> = [t.carrier, t.status, t.description, t.location]
            .iter()
            .filter(|s| **s != 0)
            .map(|s| p.syms.text(*s))
            .collect();
        let mut e = ev(t.at, EventKind::Tracking, words.join(" · "));
        e.exception = t.exception;
        events.push(e);
    }
    // Inquiries: order-status tickets of the brand from the order's day on
    // that quote its number or come from its customer, linked to it.
    let first_day = local_day(row.created, tz);
    for ((_, _, tkey), q) in p
        .support
        .inquiries
        .range((b, first_day, 0)..=(b, i32::MAX, u64::MAX))
    {
        let candidate = (q.order_number != 0 && q.order_number == row.number)
            || (row.email != 0 && q.email == row.email);
        if !candidate {
            continue;
        }
        let Some(t) = p.support.tickets.get(tkey) else {
            continue;
        };
        if linked_order(p, b, t) == Some(key) {
            let kind = t.words().inquiry_type();
            events.push(ev(
                t.created,
                EventKind::Inquiry,
                format!("customer asked: {kind}"),
            ));
        }
    }
    for (at, minor) in extra.refunds.iter() {
        let mut e = ev(*at, EventKind::Refund, "refund".into());
        e.amount = Some(Money::new(*minor, currency));
        events.push(e);
    }
    if let Some(c) = extra.cancelled {
        events.push(ev(c, EventKind::Cancelled, "order cancelled".into()));
    }
    let cancelled = row.is(crate::projection::orders::CANCELLED);
    events.sort_by(|a, b| a.at.cmp(&b.at).then(a.kind.cmp(&b.kind)));
    let estimated = row
        .ships()
        .filter(|s| s.estimated != NONE)
        .map(|s| at(s.estimated))
        .max();
    let delivered = (row.ships().len() != 0 && row.ships().all(|s| s.delivered != NONE))
        .then(|| row.ships().map(|s| at(s.delivered)).max())
        .flatten();
    let days_late = estimated.map(|e| {
        let until = delivered.unwrap_or(now.as_second());
        (local_day(until, tz) - local_day(e, tz)).max(0).into()
    });
    Some(Timeline {
        brand: brand.id.to_string(),
        order: format!("#{}", row.number),
        placed_at: ts(row.created),
        stage: row.stage(),
        cancelled,
        events,
        estimated_delivery_at: estimated.map(ts),
        delivered_at: delivered.map(ts),
        days_late,
    })
}
