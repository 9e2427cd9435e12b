//! What the ingest kinds beyond orders, catalog and helpdesk add to the
//! dashboard:
//! - [`expiring_batches`]: lots expiring within 30 days (already expired
//!   ones included, empty lots left out), soonest first — part of the
//!   inventory panel;
//! - [`tracking_exception_orders`]: orders whose carrier reported an
//!   exception although their own shipments do not say so — added to the
//!   fulfillment panel's exception rate;
//! - [`operations`]: the operations panel — open return requests, payment
//!   failures and chargebacks in the last 24 hours, the review queue, and
//!   dependencies whose latest health check failed.

use super::PanelConfig;
use crate::projection::orders::{CANCELLED, TEST};
use crate::projection::{day_date, day_start, local_day, BrandIx, Projection};
use jiff::civil::Date;
use opsdeck_domain::Timestamp;
use serde::Serialize;

/// Lots expiring within this many days are listed.
pub const EXPIRY_HORIZON_DAYS: i32 = 30;
/// At most this many lots are listed per brand (the count is exact).
pub const EXPIRING_LIMIT: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExpiringBatch {
    pub sku: String,
    pub lot: String,
    pub quantity: i64,
    pub expires_on: Date,
    /// Days from today (the brand's zone) to the last sale day; negative
    /// when already expired.
    pub days_left: i32,
}

/// Lots of a brand with units on hand whose last sale day is at most
/// [`EXPIRY_HORIZON_DAYS`] after today, soonest first; and how many there are.
pub fn expiring_batches(p: &Projection, b: BrandIx, now: Timestamp) -> (usize, Vec<ExpiringBatch>) {
    let today = local_day(now.as_second(), &p.brand(b).time_zone);
    let mut count = 0;
    let mut out = vec![];
    for (_, day, key) in p
        .ops
        .expiring
        .range((b, i32::MIN, 0)..=(b, today + EXPIRY_HORIZON_DAYS, u64::MAX))
    {
        let Some(row) = p.ops.batches.get(key).filter(|r| r.quantity > 0) else {
            continue;
        };
        count += 1;
        if out.len() < EXPIRING_LIMIT {
            out.push(ExpiringBatch {
                sku: p.syms.text(row.sku).to_string(),
                lot: p.syms.text(row.lot).to_string(),
                quantity: row.quantity,
                expires_on: day_date(*day),
                days_left: day - today,
            });
        }
    }
    (count, out)
}

/// Orders of brand `b` created in local days `first..=last` (not cancelled,
/// not test, with at least one shipment, none of them already an exception)
/// that have a carrier event with an exception status — counted once each.
/// Events are looked up from the window's start on (a carrier cannot report
/// on a parcel before its order exists).
pub fn tracking_exception_orders(p: &Projection, b: BrandIx, first: i32, last: i32) -> i64 {
    let tz = &p.brand(b).time_zone;
    let from = day_start(first, tz);
    let mut seen = std::collections::BTreeSet::new();
    for (_, _, order, _) in p
        .ops
        .tracking_exceptions
        .range((b, from, 0, 0)..=(b, i64::MAX, u64::MAX, u64::MAX))
    {
        let Some(r) = p.orders.rows.get(order) else {
            continue;
        };
        let day = local_day(r.created, tz);
        if r.brand == b
            && (first..=last).contains(&day)
            && !r.is(CANCELLED)
            && !r.is(TEST)
            && r.ships().len() != 0
            && !r.ships().any(|s| s.exception)
        {
            seen.insert(*order);
        }
    }
    seen.len() as i64
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FailingCheck {
    pub dependency: String,
    pub checked_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operations {
    /// Return and refund requests requested, approved or received (not yet
    /// refunded, rejected or cancelled).
    pub open_returns: i64,
    /// Payment failures that occurred in the last 24 hours.
    pub failed_payments_24h: i64,
    pub chargebacks_24h: i64,
    /// Review-queue items still open, and when the oldest was submitted
    /// (over every queue).
    pub review_queue_pending: usize,
    pub oldest_review_submitted_at: Option<Timestamp>,
    /// Each review queue's numbers against its SLA, as the review queue
    /// page shows them ([`super::review_queues::review_queues`]).
    pub review_queues: Vec<super::review_queues::QueueCounts>,
    /// Dependencies whose latest health check failed.
    pub failing_health_checks: Vec<FailingCheck>,
    pub health_checked_dependencies: usize,
}

fn ts(s: i64) -> Timestamp {
    Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH)
}

pub fn operations(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Operations {
    let now_s = now.as_second();
    let (mut failed, mut chargebacks) = (0, 0);
    for (_, _, key) in p
        .ops
        .payment_problems_by_time
        .range((b, now_s - 86_400, 0)..(b, now_s, 0))
    {
        match p.ops.payment_problems.get(key) {
            Some(x) if x.chargeback => chargebacks += 1,
            Some(_) => failed += 1,
            None => {}
        }
    }
    let queues: Vec<_> = super::review_queues::review_queues(p, &cfg.review_slas, b, now)
        .into_iter()
        .map(|q| q.counts)
        .collect();
    let checks = p.ops.latest_checks(b);
    let mut failing: Vec<FailingCheck> = checks
        .iter()
        .filter(|c| c.failed)
        .map(|c| FailingCheck {
            dependency: p.syms.text(c.dependency).to_string(),
            checked_at: ts(c.checked),
        })
        .collect();
    failing.sort_by(|a, b| a.dependency.cmp(&b.dependency));
    Operations {
        open_returns: p.ops.open_returns_by_brand.get(&b).copied().unwrap_or(0),
        failed_payments_24h: failed,
        chargebacks_24h: chargebacks,
        review_queue_pending: queues.iter().map(|q| q.pending).sum(),
        oldest_review_submitted_at: queues.iter().filter_map(|q| q.oldest_submitted_at).min(),
        review_queues: queues,
        failing_health_checks: failing,
        health_checked_dependencies: checks.len(),
    }
}
