//! Which order a ticket is about, kept current as tickets and orders
//! change, and what the urgent queue and where-is-my-order derive from it.
//!
//! A ticket's link (the order number it quotes, else its customer's most
//! recent order placed before it) depends on orders that may arrive,
//! change or go after the ticket. So every ticket that a panel links — the
//! open ones (urgent queue) and the order-status inquiries
//! (where-is-my-order) — is registered under the order number it quotes
//! and its customer's e-mail; when an order with that number or e-mail
//! changes, those tickets' linked contribution is removed and added again
//! (−old, +new, like every other contribution).
//!
//! What is derived:
//! - [`UrgentFacts`] per open ticket: every fact the urgent flags need,
//!   so the queue decides flags without looking anything up;
//! - per inquiry, its link, the local hour it arrived, its type and the
//!   local day of the previous inquiry about the same order (`prev_day`),
//!   kept by a chain of inquiries per order;
//! - [`WismoDay`] per (brand, local day): counts, types, hours, linked
//!   inquiries and the sorted `prev_day`s, so a 30 or 90-day window reads
//!   one entry per day: an inquiry is a repeat for a window starting on
//!   day `first` exactly when its `prev_day ≥ first − lookback`.

use super::keys::KeyMap;
use super::orders::{OrderRow, OrderState};
use super::support::{Inquiry, SupportState, TicketRow};
use super::text::{Classified, CHARGEBACK, INQUIRY_TYPES};
use super::{BrandIx, Context};
use opsdeck_domain::Timestamp;

/// The order a ticket of brand `b` is about: the number quoted in its text,
/// else the customer's most recent order of the brand placed before the
/// ticket (else their latest).
pub fn linked_order(orders: &OrderState, b: BrandIx, t: &TicketRow) -> Option<u64> {
    found(orders, b, t, &t.words()).order.map(|o| o.key)
}

/// A ticket's linked order and its customer's order count, from one walk
/// of the customer's orders.
struct Found<'a> {
    order: Option<&'a OrderRow>,
    /// Orders placed with the ticket's e-mail, all brands.
    customer_orders: usize,
}

fn found<'a>(orders: &'a OrderState, b: BrandIx, t: &TicketRow, words: &Classified) -> Found<'a> {
    let quoted = (words.order_number != 0)
        .then(|| orders.rows.by_number(b, words.order_number))
        .flatten();
    // Else the brand's orders of the customer: the latest placed by the
    // ticket's creation, else the latest (ties: the greater key).
    let (mut before, mut latest, mut count) = (None, None, 0);
    for o in orders.rows.of_customer(t.email) {
        count += 1;
        if quoted.is_some() || o.brand != b {
            continue;
        }
        let later =
            |best: Option<&OrderRow>| best.is_none_or(|x| (x.created, x.key) < (o.created, o.key));
        if later(latest) {
            latest = Some(o);
        }
        if o.created <= t.created && later(before) {
            before = Some(o);
        }
    }
    Found {
        order: quoted.or(before.or(latest)),
        customer_orders: count,
    }
}

/// What the urgent flags of an open ticket depend on, apart from the
/// thresholds (which the panel's configuration sets).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UrgentFacts {
    /// The linked order's total, minor units (VIP by order value).
    pub order_total: Option<i64>,
    /// Orders placed with the customer's e-mail, all brands (VIP by count);
    /// `None` when the ticket has no e-mail.
    pub customer_orders: Option<u32>,
    pub chargeback: bool,
    /// Linked order still open and a customer message ≥ 5 days after it.
    pub emergency: bool,
    pub social: bool,
}

impl UrgentFacts {
    fn of(t: &TicketRow, words: &Classified, found: &Found) -> Self {
        let order = found.order;
        let emergency = match (order, t.last_customer_message()) {
            (Some(o), Some(last)) => o.stage().is_open() && last - o.created >= 5 * 86_400,
            _ => false,
        };
        UrgentFacts {
            order_total: order.map(|o| o.total),
            customer_orders: (t.email != 0)
                .then(|| u32::try_from(found.customer_orders).unwrap_or(u32::MAX)),
            chargeback: words.words & CHARGEBACK != 0,
            emergency,
            social: t.social,
        }
    }

    /// Whether any flag is raised: VIP (linked order worth more than
    /// `vip_value` minor units, else at least `vip_count` orders), chargeback
    /// risk, shipping emergency, social channel.
    pub fn flagged(&self, vip_value: i64, vip_count: usize) -> bool {
        let vip_order = self.order_total.is_some_and(|t| t > vip_value);
        let vip_count = !vip_order
            && self
                .customer_orders
                .is_some_and(|n| usize::try_from(n).unwrap_or(usize::MAX) >= vip_count);
        vip_order || vip_count || self.chargeback || self.emergency || self.social
    }
}

/// A ticket's link and urgent facts as the orders give them now.
#[derive(Debug, Clone, Copy)]
pub(super) struct Linked {
    link: Option<u64>,
    facts: UrgentFacts,
}

impl Linked {
    fn of(orders: &OrderState, t: &TicketRow) -> Linked {
        let words = t.words();
        let found = found(orders, t.brand, t, &words);
        Linked {
            link: found.order.map(|o| o.key),
            facts: UrgentFacts::of(t, &words, &found),
        }
    }
}

/// Where-is-my-order figures of the inquiries created on one local day.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WismoDay {
    pub inquiries: i64,
    pub linked: i64,
    /// By [`INQUIRY_TYPES`] index.
    pub types: [i64; 4],
    /// By local hour of creation.
    pub hours: [i64; 24],
    /// Sorted local days of the previous inquiry about the same order, for
    /// the linked inquiries that have one.
    pub prev_days: Vec<i32>,
}

impl WismoDay {
    /// Inquiries of the day that are repeats when the lookback starts on `from`.
    pub fn repeats_since(&self, from: i32) -> i64 {
        let older = self.prev_days.partition_point(|d| *d < from);
        (self.prev_days.len() - older) as i64
    }

    fn add(&mut self, q: &Inquiry, sign: i64) {
        self.inquiries += sign;
        self.linked += sign * i64::from(q.link.is_some());
        self.types[usize::from(q.kind)] += sign;
        self.hours[usize::from(q.hour)] += sign;
        if let Some(d) = q.prev_day {
            sorted_set(&mut self.prev_days, d, sign);
        }
    }
}

/// The index of a ticket's inquiry type in [`INQUIRY_TYPES`].
pub fn inquiry_kind(words: &Classified) -> u8 {
    INQUIRY_TYPES
        .iter()
        .position(|(f, _)| words.words & f != 0)
        .map_or(0, |i| i as u8)
}

impl SupportState {
    /// Adds (`sign` 1) or removes (−1) what a ticket contributes through
    /// its link. Removal reads only what was stored when it was added, so
    /// it is exact whatever changed in the orders since.
    pub(super) fn account_linked(
        &mut self,
        key: u64,
        row: &TicketRow,
        inquiry: bool,
        ctx: &Context,
        orders: &OrderState,
        sign: i64,
    ) {
        let linked = (sign > 0 && (row.open || inquiry)).then(|| Linked::of(orders, row));
        self.account_linked_as(key, row, inquiry, ctx, linked, sign);
    }

    /// [`Self::account_linked`] with the link and facts already found
    /// (`linked`, when adding).
    fn account_linked_as(
        &mut self,
        key: u64,
        row: &TicketRow,
        inquiry: bool,
        ctx: &Context,
        linked: Option<Linked>,
        sign: i64,
    ) {
        if !(row.open || inquiry) {
            return;
        }
        let b = row.brand;
        let words = row.words();
        if words.order_number != 0 {
            let list = self
                .ticket_numbers
                .entry((b, words.order_number))
                .or_default();
            sorted_set(list, key, sign);
            if list.is_empty() {
                self.ticket_numbers.remove(&(b, words.order_number));
            }
        }
        if row.email != 0 {
            let list = self.ticket_emails.entry(row.email).or_default();
            sorted_set(list, key, sign);
            if list.is_empty() {
                self.ticket_emails.remove(&row.email);
            }
        }
        let link = linked.and_then(|l| l.link);
        if row.open {
            if let Some(l) = linked.filter(|_| sign > 0) {
                self.open.insert((b, row.created, key), l.facts);
            } else {
                self.open.remove(&(b, row.created, key));
            }
        }
        if inquiry {
            let tz = ctx.zone(b);
            let (day, hour) = local_day_hour(row.created, tz);
            if sign > 0 {
                self.add_inquiry(b, day, key, inquiry_of(row, &words, hour, link));
            } else {
                self.remove_inquiry(b, day, key);
            }
        }
    }

    /// Re-links the tickets that may be about an order that changed: those
    /// quoting its number (old or new) and those of its customer (old or
    /// new e-mail; their order count changed too).
    pub fn refresh_links(
        &mut self,
        touched: &[(BrandIx, u32, u64)],
        ctx: &Context,
        orders: &OrderState,
    ) {
        let mut keys: Vec<u64> = vec![];
        for (b, number, email) in touched {
            if *number != 0 {
                keys.extend(
                    self.ticket_numbers
                        .get(&(*b, *number))
                        .into_iter()
                        .flatten(),
                );
            }
            if *email != 0 {
                keys.extend(self.ticket_emails.get(email).into_iter().flatten());
            }
        }
        if keys.is_empty() {
            return;
        }
        keys.sort_unstable();
        keys.dedup();
        for key in keys {
            let Some(row) = self.tickets.get(&key) else {
                continue;
            };
            let inquiry = self.is_inquiry(row, ctx);
            if !(row.open || inquiry) {
                continue;
            }
            let now = Linked::of(orders, row);
            if !self.link_changed(key, row, inquiry, ctx, &now) {
                continue;
            }
            // As removing the ticket's linked contribution and adding it
            // again, without touching what does not depend on the link
            // (its entries in the ticket indexes; its inquiry when the
            // linked order is the same and only the urgent facts moved).
            let b = row.brand;
            let open = row.open.then_some((b, row.created, key));
            let (day, hour) = local_day_hour(row.created, ctx.zone(b));
            let fresh = inquiry.then(|| inquiry_of(row, &row.words(), hour, now.link));
            if let Some(at) = open {
                self.open.insert(at, now.facts);
            }
            if let Some(q) = fresh {
                if self.inquiries.get(&(b, day, key)).map(|q| q.link) != Some(now.link) {
                    self.remove_inquiry(b, day, key);
                    self.add_inquiry(b, day, key, q);
                }
            }
        }
    }

    /// Whether what is kept of a ticket through its link (its urgent facts,
    /// its inquiry's link) differs from what the orders give `now`.
    fn link_changed(
        &self,
        key: u64,
        row: &TicketRow,
        inquiry: bool,
        ctx: &Context,
        now: &Linked,
    ) -> bool {
        let b = row.brand;
        if row.open && self.open.get(&(b, row.created, key)) != Some(&now.facts) {
            return true;
        }
        if inquiry {
            let tz = ctx.zone(b);
            let (day, _) = local_day_hour(row.created, tz);
            if self.inquiries.get(&(b, day, key)).map(|q| q.link) != Some(now.link) {
                return true;
            }
        }
        false
    }

    fn add_inquiry(&mut self, b: BrandIx, day: i32, key: u64, mut q: Inquiry) {
        if let Some(o) = q.link {
            let chain = self.chains.entry(o).or_default();
            let at = chain.partition_point(|(c, k, _)| (*c, *k) < (q.created, key));
            q.prev_day = at.checked_sub(1).map(|i| chain[i].2);
            let next = chain.get(at).copied();
            chain.insert(at, (q.created, key, day));
            if let Some((_, next_key, next_day)) = next {
                self.set_prev_day(b, next_day, next_key, Some(day));
            }
        }
        self.wismo_days.entry((b, day)).or_default().add(&q, 1);
        self.inquiries.insert((b, day, key), q);
    }

    fn remove_inquiry(&mut self, b: BrandIx, day: i32, key: u64) {
        let Some(q) = self.inquiries.remove(&(b, day, key)) else {
            return;
        };
        self.add_to_day(b, day, &q, -1);
        let Some(o) = q.link else {
            return;
        };
        let Some(chain) = self.chains.get_mut(&o) else {
            return;
        };
        let Ok(at) = chain.binary_search(&(q.created, key, day)) else {
            return;
        };
        chain.remove(at);
        let prev = at.checked_sub(1).map(|i| chain[i].2);
        let next = chain.get(at).copied();
        if chain.is_empty() {
            self.chains.remove(&o);
        }
        if let Some((_, next_key, next_day)) = next {
            self.set_prev_day(b, next_day, next_key, prev);
        }
    }

    fn add_to_day(&mut self, b: BrandIx, day: i32, q: &Inquiry, sign: i64) {
        if let Some(d) = self.wismo_days.get_mut(&(b, day)) {
            d.add(q, sign);
            if *d == WismoDay::default() {
                self.wismo_days.remove(&(b, day));
            }
        }
    }

    /// The inquiry before this one about the same order changed.
    fn set_prev_day(&mut self, b: BrandIx, day: i32, key: u64, prev: Option<i32>) {
        let Some(q) = self.inquiries.get_mut(&(b, day, key)) else {
            return;
        };
        let old = *q;
        q.prev_day = prev;
        let new = *q;
        self.add_to_day(b, day, &old, -1);
        self.wismo_days.entry((b, day)).or_default().add(&new, 1);
    }
}

/// A ticket's inquiry as first kept (`prev_day` is set by the chain).
fn inquiry_of(row: &TicketRow, words: &Classified, hour: i64, link: Option<u64>) -> Inquiry {
    Inquiry {
        created: row.created,
        order_number: words.order_number,
        email: row.email,
        link,
        prev_day: None,
        hour: u8::try_from(hour).unwrap_or(0),
        kind: inquiry_kind(words),
    }
}

/// The local day and hour (0–23) of a unix second in `tz`.
fn local_day_hour(at: i64, tz: &jiff::tz::TimeZone) -> (i32, i64) {
    let ts = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH);
    let local = at + i64::from(tz.to_offset(ts).seconds());
    (
        i32::try_from(local.div_euclid(86_400)).unwrap_or(0),
        local.rem_euclid(86_400) / 3600,
    )
}

/// Inserts (`sign` > 0) or removes one occurrence of `v` in a sorted vector.
fn sorted_set<T: Ord + Copy>(list: &mut Vec<T>, v: T, sign: i64) {
    let at = list.partition_point(|x| *x < v);
    if sign > 0 {
        list.insert(at, v);
    } else if list.get(at) == Some(&v) {
        list.remove(at);
    }
}

/// Ticket keys by what can link them to an order.
pub type TicketIndex<K> = KeyMap<K, Vec<u64>>;
