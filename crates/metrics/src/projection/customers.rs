//! What the customer risk flags ([`crate::customers::risk`]) read beyond
//! the order rows, kept so one customer's flags cost a walk of that
//! customer's orders (the customer index of [`super::rows`]) and a few
//! lookups — never a scan of all orders, returns or payments.
//!
//! - The platform's lifetime figures ([`CustomerSummary`]), by the
//!   customer's e-mail key and brand: the key that also links orders and
//!   tickets to one person. A summary without an e-mail cannot be linked
//!   to anything and is not kept.
//! - Which orders have a return or refund request (any request naming the
//!   order, same source, that was not rejected or cancelled).
//! - Disputes and chargebacks by the order they name (same source):
//!   payment events of kind `chargeback`, and Shopify's `inquiry` (a
//!   dispute before the bank turns it into a chargeback).
//! - The currency of the few orders not in their brand's currency (an
//!   order row keeps its total in minor units only).
//!
//! Like every other part, a record's contribution is replaced as a whole,
//! so building change by change and rebuilding from the store agree.

use super::keys::{email_key, record_key, KeyMap};
use super::BrandIx;
use opsdeck_domain::{
    Currency, CustomerSummary, Money, Order, PaymentEvent, PaymentEventKind, ReturnRequest,
    ReturnStatus,
};
use std::collections::BTreeSet;

/// A platform's lifetime figures of one customer at one brand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SummaryRow {
    pub brand: BrandIx,
    pub email: u64,
    pub order_count: u64,
    pub lifetime_spend: Money,
    /// When the platform last changed it (unix seconds): the latest wins
    /// when a brand holds two records for one e-mail.
    pub updated: i64,
}

/// A dispute or chargeback naming an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DisputeRow {
    pub order: u64,
    pub at: i64,
    /// A chargeback (the bank took the money back) rather than an inquiry.
    pub chargeback: bool,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CustomerState {
    summaries: KeyMap<u64, SummaryRow>,
    /// (e-mail key, brand, summary key) of every kept summary.
    summaries_by_email: BTreeSet<(u64, BrandIx, u64)>,
    /// Return or refund request → the order it names.
    requests: KeyMap<u64, u64>,
    /// Orders named by at least one counted request, and by how many.
    requested_orders: KeyMap<u64, u32>,
    disputes: KeyMap<u64, DisputeRow>,
    /// (order key, at, event key) of every dispute.
    disputes_by_order: BTreeSet<(u64, i64, u64)>,
    /// The currency of orders not in their brand's currency.
    foreign_currency: KeyMap<u64, Currency>,
}

/// Whether a payment event is a dispute: a chargeback, or Shopify's
/// `inquiry` (which the payment kinds have no variant for).
pub fn is_dispute(kind: &PaymentEventKind) -> bool {
    match kind {
        PaymentEventKind::Chargeback => true,
        PaymentEventKind::Other(k) => k.eq_ignore_ascii_case("inquiry"),
        _ => false,
    }
}

impl CustomerState {
    pub(super) fn apply_summary(&mut self, c: &CustomerSummary, b: BrandIx) {
        let key = record_key(c.source.as_str(), &c.external_id);
        if let Some(old) = self.summaries.remove(&key) {
            self.summaries_by_email.remove(&(old.email, old.brand, key));
        }
        let email = email_key(c.email.as_deref());
        if email == 0 {
            return;
        }
        self.summaries_by_email.insert((email, b, key));
        self.summaries.insert(
            key,
            SummaryRow {
                brand: b,
                email,
                order_count: c.order_count,
                lifetime_spend: c.lifetime_spend,
                updated: c.updated_at.as_second(),
            },
        );
    }

    pub(super) fn apply_return(&mut self, r: &ReturnRequest) {
        let key = record_key(r.source.as_str(), &r.external_id);
        if let Some(order) = self.requests.remove(&key) {
            if let Some(n) = self.requested_orders.get_mut(&order) {
                *n -= 1;
                if *n == 0 {
                    self.requested_orders.remove(&order);
                }
            }
        }
        let counted = !matches!(r.status, ReturnStatus::Rejected | ReturnStatus::Cancelled);
        if let Some(order_id) = r.order_id.as_deref().filter(|_| counted) {
            let order = record_key(r.source.as_str(), order_id);
            self.requests.insert(key, order);
            *self.requested_orders.entry(order).or_default() += 1;
        }
    }

    pub(super) fn apply_payment(&mut self, e: &PaymentEvent) {
        let key = record_key(e.source.as_str(), &e.external_id);
        if let Some(old) = self.disputes.remove(&key) {
            self.disputes_by_order.remove(&(old.order, old.at, key));
        }
        if let Some(order_id) = e.order_id.as_deref().filter(|_| is_dispute(&e.kind)) {
            let row = DisputeRow {
                order: record_key(e.source.as_str(), order_id),
                at: e.occurred_at.as_second(),
                chargeback: e.kind == PaymentEventKind::Chargeback,
            };
            self.disputes_by_order.insert((row.order, row.at, key));
            self.disputes.insert(key, row);
        }
    }

    pub(super) fn apply_order(&mut self, o: &Order, brand_currency: Currency) {
        let key = record_key(o.source.as_str(), &o.external_id);
        if o.total_price.currency == brand_currency {
            self.foreign_currency.remove(&key);
        } else {
            self.foreign_currency.insert(key, o.total_price.currency);
        }
    }

    /// The platform's figures for this e-mail key at brand `b` (the most
    /// recently updated when there are several).
    pub fn summary(&self, email: u64, b: BrandIx) -> Option<&SummaryRow> {
        self.summaries_by_email
            .range((email, b, 0)..=(email, b, u64::MAX))
            .filter_map(|(_, _, key)| self.summaries.get(key))
            .max_by_key(|s| s.updated)
    }

    /// The brands where this e-mail key has platform figures.
    pub fn summary_brands(&self, email: u64) -> impl Iterator<Item = BrandIx> + '_ {
        let mut last = None;
        self.summaries_by_email
            .range((email, 0, 0)..=(email, BrandIx::MAX, u64::MAX))
            .filter_map(move |(_, b, _)| {
                let new = last != Some(*b);
                last = Some(*b);
                new.then_some(*b)
            })
    }

    /// Whether a counted return or refund request names the order.
    pub fn has_request(&self, order: u64) -> bool {
        self.requested_orders.contains_key(&order)
    }

    /// The disputes naming the order, oldest first.
    pub fn disputes_of(&self, order: u64) -> impl Iterator<Item = &DisputeRow> + '_ {
        self.disputes_by_order
            .range((order, i64::MIN, 0)..=(order, i64::MAX, u64::MAX))
            .filter_map(|(_, _, key)| self.disputes.get(key))
    }

    /// The order's currency, when it is not its brand's.
    pub fn foreign_currency(&self, order: u64) -> Option<Currency> {
        self.foreign_currency.get(&order).copied()
    }
}
