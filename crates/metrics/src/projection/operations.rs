//! The ingest kinds beyond orders, catalog and helpdesk (carrier tracking
//! events, stock batches with expiry dates, return requests, payment
//! events, review-queue items, health checks), and the little an order's
//! timeline needs that its [`super::OrderRow`] does not hold.
//!
//! Like every other part of the projection, each record's row is replaced
//! as a whole (the old row's index entries removed, the new one's added),
//! so building change by change and rebuilding from the store agree.
//! Only what a panel asks about is kept:
//! - tracking events, by order (for the timeline) and, for the exception
//!   statuses, by brand and time (for the fulfillment panel's exception rate);
//! - batches that have an expiry date, by brand and expiry day;
//! - open return requests, payment failures and chargebacks, open review
//!   items, and every health check (the latest per dependency decides).
//!
//! An order paid at the instant it was placed and never refunded — the
//! common case — costs nothing here; others (later payment, refunds, a
//! cancellation) keep a small [`OrderExtra`].

use super::keys::{record_key, KeyMap, Symbols};
use super::series::bump_count;
use super::BrandIx;
use opsdeck_domain::{
    FinancialStatus, HealthCheck, HealthStatus, InventoryBatch, Order, PaymentEvent,
    PaymentEventKind, ReturnRequest, ReturnStatus, ReviewItem, ReviewStatus, TrackingEvent,
};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Payment time and refunds of an order that is not "paid when placed,
/// never refunded".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderExtra {
    /// When it was paid (unix seconds); `None` while not paid.
    pub paid: Option<i64>,
    /// Refunds: (when, amount in minor units of the order's currency).
    pub refunds: Box<[(i64, i64)]>,
    /// When it was cancelled.
    pub cancelled: Option<i64>,
}

/// One carrier event. Texts are symbols (0 = none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrackRow {
    pub brand: BrandIx,
    /// Key of the order (same source, the event's `order_id`); 0 = none.
    pub order: u64,
    pub at: i64,
    pub status: u32,
    pub exception: bool,
    pub carrier: u32,
    pub tracking_number: u32,
    pub fulfillment: u32,
    pub description: u32,
    pub location: u32,
}

/// A lot with an expiry date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BatchRow {
    pub brand: BrandIx,
    pub sku: u32,
    pub lot: u32,
    pub quantity: i64,
    /// Last sale day (days since 1970-01-01).
    pub expires: i32,
}

/// A payment failure or chargeback.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaymentProblem {
    pub brand: BrandIx,
    pub at: i64,
    pub chargeback: bool,
}

/// An open review item: what its queue row shows. Texts are symbols (0 =
/// none).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewRow {
    pub brand: BrandIx,
    /// When it was submitted (unix seconds): its SLA clock's start.
    pub submitted: i64,
    pub queue: u32,
    pub external_id: u32,
    pub subject: u32,
    pub order: u32,
    pub ocr_state: u32,
}

/// One health check result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HealthRow {
    pub brand: BrandIx,
    pub dependency: u32,
    pub checked: i64,
    pub failed: bool,
}

/// An [`OrderExtra`] as kept: 32 bytes, times `NEVER` for none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExtraRow {
    paid: i64,
    cancelled: i64,
    refunds: Box<[(i64, i64)]>,
}

const NEVER: i64 = i64::MIN;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct OperationsState {
    /// Orders not "paid when placed, never refunded or cancelled" (~13 %).
    pub order_extras: KeyMap<u64, ExtraRow>,
    pub tracking: HashMap<u64, TrackRow>,
    /// (order key, occurred at, event key) of events that name an order.
    pub tracking_by_order: BTreeSet<(u64, i64, u64)>,
    /// (brand, occurred at, order key, event key) of exception events.
    pub tracking_exceptions: BTreeSet<(BrandIx, i64, u64, u64)>,
    pub batches: HashMap<u64, BatchRow>,
    /// (brand, expiry day, batch key).
    pub expiring: BTreeSet<(BrandIx, i32, u64)>,
    /// Open return requests (requested, approved, received) → brand.
    pub open_returns: HashMap<u64, BrandIx>,
    pub open_returns_by_brand: BTreeMap<BrandIx, i64>,
    pub payment_problems: HashMap<u64, PaymentProblem>,
    /// (brand, occurred at, event key) of payment problems.
    pub payment_problems_by_time: BTreeSet<(BrandIx, i64, u64)>,
    /// Open review items: (brand, submitted at, key).
    pub open_reviews: BTreeSet<(BrandIx, i64, u64)>,
    pub review_rows: HashMap<u64, ReviewRow>,
    pub health: HashMap<u64, HealthRow>,
    /// (brand, dependency, checked at, key).
    pub health_by_dependency: BTreeSet<(BrandIx, u32, i64, u64)>,
    /// Return and refund requests and disputes waiting for the merchant:
    /// the refunds queue's records ([`super::queue`]).
    pub queue: super::queue::QueueRecords,
}

fn sym(syms: &mut Symbols, text: Option<&str>) -> u32 {
    text.filter(|t| !t.is_empty()).map_or(0, |t| syms.intern(t))
}

impl OperationsState {
    // What this part keeps of each operations kind, for a record of a
    // configured brand `b` (see `Projection::apply_record`).

    pub(super) fn apply_tracking(&mut self, e: &TrackingEvent, b: BrandIx, syms: &mut Symbols) {
        let key = record_key(e.source.as_str(), &e.external_id);
        self.remove_tracking(key);
        let row = TrackRow {
            brand: b,
            order: e
                .order_id
                .as_deref()
                .map_or(0, |id| record_key(e.source.as_str(), id)),
            at: e.occurred_at.as_second(),
            status: syms.intern(e.status.as_str()),
            exception: e.status.is_exception(),
            carrier: sym(syms, e.carrier.as_deref()),
            tracking_number: sym(syms, e.tracking_number.as_deref()),
            fulfillment: sym(syms, e.fulfillment_id.as_deref()),
            description: sym(syms, e.description.as_deref()),
            location: sym(syms, e.location.as_deref()),
        };
        if row.order != 0 {
            self.tracking_by_order.insert((row.order, row.at, key));
            if row.exception {
                self.tracking_exceptions.insert((b, row.at, row.order, key));
            }
        }
        self.tracking.insert(key, row);
    }

    pub(super) fn apply_batch(&mut self, x: &InventoryBatch, b: BrandIx, syms: &mut Symbols) {
        let key = record_key(x.source.as_str(), &x.external_id);
        if let Some(old) = self.batches.remove(&key) {
            self.expiring.remove(&(old.brand, old.expires, key));
        }
        if let Some(d) = x.expires_on {
            let expires = (d - jiff::civil::date(1970, 1, 1)).get_days();
            let row = BatchRow {
                brand: b,
                sku: syms.intern(&x.sku),
                lot: syms.intern(&x.lot),
                quantity: x.quantity,
                expires,
            };
            self.expiring.insert((b, expires, key));
            self.batches.insert(key, row);
        }
    }

    pub(super) fn apply_return(&mut self, r: &ReturnRequest, b: BrandIx) {
        self.queue.apply_return(r, b);
        let key = record_key(r.source.as_str(), &r.external_id);
        if let Some(old) = self.open_returns.remove(&key) {
            bump_count(&mut self.open_returns_by_brand, old, -1);
        }
        let open = matches!(
            r.status,
            ReturnStatus::Requested | ReturnStatus::Approved | ReturnStatus::Received
        );
        if open {
            self.open_returns.insert(key, b);
            bump_count(&mut self.open_returns_by_brand, b, 1);
        }
    }

    pub(super) fn apply_payment(&mut self, e: &PaymentEvent, b: BrandIx) {
        self.queue.apply_payment(e, b);
        let key = record_key(e.source.as_str(), &e.external_id);
        if let Some(old) = self.payment_problems.remove(&key) {
            self.payment_problems_by_time
                .remove(&(old.brand, old.at, key));
        }
        if e.kind.is_problem() {
            let row = PaymentProblem {
                brand: b,
                at: e.occurred_at.as_second(),
                chargeback: e.kind == PaymentEventKind::Chargeback,
            };
            self.payment_problems_by_time.insert((b, row.at, key));
            self.payment_problems.insert(key, row);
        }
    }

    pub(super) fn apply_review(&mut self, r: &ReviewItem, b: BrandIx, syms: &mut Symbols) {
        let key = record_key(r.source.as_str(), &r.external_id);
        if let Some(old) = self.review_rows.remove(&key) {
            self.open_reviews.remove(&(old.brand, old.submitted, key));
        }
        if r.status == ReviewStatus::Open {
            let row = ReviewRow {
                brand: b,
                submitted: r.submitted_at.as_second(),
                queue: syms.intern(&r.queue),
                external_id: syms.intern(&r.external_id),
                subject: sym(syms, r.subject.as_deref()),
                order: sym(syms, r.order_id.as_deref()),
                ocr_state: sym(syms, r.ocr_state.as_ref().map(|o| o.as_str())),
            };
            self.open_reviews.insert((b, row.submitted, key));
            self.review_rows.insert(key, row);
        }
    }

    /// Open review items of a brand, oldest submission first.
    pub fn open_review_rows(&self, b: BrandIx) -> impl Iterator<Item = &ReviewRow> + '_ {
        self.open_reviews
            .range((b, i64::MIN, 0)..=(b, i64::MAX, u64::MAX))
            .filter_map(|(_, _, key)| self.review_rows.get(key))
    }

    pub(super) fn apply_health(&mut self, h: &HealthCheck, b: BrandIx, syms: &mut Symbols) {
        let key = record_key(h.source.as_str(), &h.external_id);
        if let Some(old) = self.health.remove(&key) {
            self.health_by_dependency
                .remove(&(old.brand, old.dependency, old.checked, key));
        }
        let row = HealthRow {
            brand: b,
            dependency: syms.intern(&h.dependency),
            checked: h.checked_at.as_second(),
            failed: h.status != HealthStatus::Ok,
        };
        self.health_by_dependency
            .insert((b, row.dependency, row.checked, key));
        self.health.insert(key, row);
    }

    fn remove_tracking(&mut self, key: u64) {
        if let Some(old) = self.tracking.remove(&key) {
            self.tracking_by_order.remove(&(old.order, old.at, key));
            self.tracking_exceptions
                .remove(&(old.brand, old.at, old.order, key));
        }
    }

    pub(super) fn apply_order(&mut self, o: &Order) {
        let key = record_key(o.source.as_str(), &o.external_id);
        let created = o.created_at.as_second();
        let paid = matches!(
            o.financial_status,
            FinancialStatus::Paid
                | FinancialStatus::PartiallyPaid
                | FinancialStatus::PartiallyRefunded
                | FinancialStatus::Refunded
        )
        .then(|| o.processed_at.unwrap_or(o.created_at).as_second());
        let mut refunds: Vec<(i64, i64)> = o
            .refunds
            .iter()
            .map(|r| (r.created_at.as_second(), r.amount.minor))
            .collect();
        refunds.sort_unstable();
        let cancelled = o.cancelled_at.map(|t| t.as_second());
        if paid == Some(created) && refunds.is_empty() && cancelled.is_none() {
            self.order_extras.remove(&key);
        } else {
            self.order_extras.insert(
                key,
                ExtraRow {
                    paid: paid.unwrap_or(NEVER),
                    cancelled: cancelled.unwrap_or(NEVER),
                    refunds: refunds.into(),
                },
            );
        }
    }

    /// When an order was paid, and its refunds — what the timeline shows
    /// beyond the order row.
    pub fn order_extra(&self, key: u64, created: i64) -> OrderExtra {
        let time = |t: i64| (t != NEVER).then_some(t);
        match self.order_extras.get(&key) {
            Some(x) => OrderExtra {
                paid: time(x.paid),
                refunds: x.refunds.clone(),
                cancelled: time(x.cancelled),
            },
            None => OrderExtra {
                paid: Some(created),
                refunds: Box::new([]),
                cancelled: None,
            },
        }
    }

    /// The last `n` pushed checks of `dependency` over `brands`, newest
    /// first: what a success-ratio health check counts
    /// (`opsdeck_domain::health::CheckKind::SuccessRatio`).
    pub fn recent_checks_of(
        &self,
        brands: &[BrandIx],
        dependency: u32,
        n: usize,
    ) -> Vec<HealthRow> {
        let mut rows: Vec<HealthRow> = brands
            .iter()
            .flat_map(|&b| {
                self.health_by_dependency
                    .range((b, dependency, i64::MIN, 0)..=(b, dependency, i64::MAX, u64::MAX))
                    .rev()
                    .take(n)
                    .filter_map(|(_, _, _, key)| self.health.get(key).copied())
            })
            .collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.checked));
        rows.truncate(n);
        rows
    }

    /// The latest check of each dependency of a brand, in name-symbol order.
    pub fn latest_checks(&self, b: BrandIx) -> Vec<HealthRow> {
        let mut out = vec![];
        let mut dep = 0u32;
        loop {
            let Some((_, d, _, _)) = self
                .health_by_dependency
                .range((b, dep, i64::MIN, 0)..=(b, u32::MAX, i64::MAX, u64::MAX))
                .next()
            else {
                return out;
            };
            let d = *d;
            if let Some((_, _, _, key)) = self
                .health_by_dependency
                .range((b, d, i64::MIN, 0)..=(b, d, i64::MAX, u64::MAX))
                .next_back()
            {
                if let Some(row) = self.health.get(key) {
                    out.push(*row);
                }
            }
            match d.checked_add(1) {
                Some(n) => dep = n,
                None => return out,
            }
        }
    }
}
