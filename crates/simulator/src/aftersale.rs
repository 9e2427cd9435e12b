//! What happens to an order after it ships, and exists only in Shopify's
//! GraphQL API: returns (on a few percent of shipped orders, with their line
//! items and the moments their status changed) and payment disputes (a
//! handful per shop: chargebacks and inquiries, with evidence due dates).
//!
//! Nothing here is stored: each order's return and dispute are drawn from a
//! hash of (seed, shop, order index) and placed on the order's own timeline,
//! so they are deterministic per seed, need no memory at a million orders,
//! and appear by themselves when [`crate::Simulator::advance_to`] moves the
//! clock past them. The REST world (the order plans and their random
//! stream) is untouched by them.
//!
//! The merchant's desk takes its time, as a real one does: a return request
//! waits between one and thirty hours for a decision, so some are at risk
//! and some breach opsdeck's 24-hour window. At the moment the world starts
//! the desk is behind ([`Backlog`], a handful of orders per shop chosen
//! from the seed): in each launched shop three requests wait (one on track,
//! one at risk, one breached) and two disputes opened in the last two days
//! still need a response, with evidence due within days; the desk works
//! them off as the clock moves. Without it a merchant of the demo's size
//! (a few returns a day) shows an empty queue most of the time.

use crate::lifecycle::shipment_state;
use crate::orders::{OrderBook, Payment, NEVER};
use crate::rhythm::mix;
use std::collections::HashMap;

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Share of shipped orders a customer asks to return.
const RETURN_SHARE: f64 = 0.04;
/// Share of paid orders that get disputed: a handful per shop.
const DISPUTE_SHARE: f64 = 0.003;

/// Shopify's `ReturnReason` values the simulator uses.
pub(crate) const RETURN_REASONS: [&str; 6] = [
    "SIZE_TOO_SMALL",
    "SIZE_TOO_LARGE",
    "DEFECTIVE",
    "NOT_AS_DESCRIBED",
    "UNWANTED",
    "WRONG_ITEM",
];

/// A uniform draw in [0, 1) for `(seed, salt, index, purpose)`.
fn draw(seed: u64, salt: u64, index: u32, purpose: u64) -> f64 {
    let h = mix(mix(seed ^ salt.wrapping_mul(0xA24B_AED4_963E_E407))
        ^ (index as u64).wrapping_mul(0x9FB2_1C65_1E98_DF25)
        ^ purpose.wrapping_mul(0xD6E8_FEB8_6659_FD93));
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// How a return request ends.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum ReturnOutcome {
    /// Approved (OPEN), then CLOSED once the item is back and refunded.
    Approved,
    Declined,
    /// Withdrawn by the merchant before approval.
    Canceled,
}

/// A decision made through `returnApproveRequest` or
/// `returnDeclineRequest`: the outcome and its moment replace the plan's.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) struct ReturnDecision {
    pub outcome: ReturnOutcome,
    pub at: i64,
}

/// A return as planned; its status at a moment follows from the times.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ReturnPlan {
    pub requested_at: i64,
    /// When it was approved, declined or canceled.
    pub decided_at: i64,
    /// When an approved return was closed (`NEVER`-like `i64::MAX` if not).
    pub closed_at: i64,
    pub outcome: ReturnOutcome,
    /// Which line item (position in the order) and how many units.
    pub item: usize,
    pub quantity: u16,
    pub reason: &'static str,
}

/// A return's status at `now`, or `None` before it was requested.
pub(crate) fn return_status(plan: &ReturnPlan, now: i64) -> Option<&'static str> {
    if plan.requested_at > now {
        return None;
    }
    Some(match plan.outcome {
        _ if plan.decided_at > now => "REQUESTED",
        ReturnOutcome::Declined => "DECLINED",
        ReturnOutcome::Canceled => "CANCELED",
        ReturnOutcome::Approved if plan.closed_at <= now => "CLOSED",
        ReturnOutcome::Approved => "OPEN",
    })
}

/// The last moment a return changed at or before `now`.
pub(crate) fn return_changed_at(plan: &ReturnPlan, now: i64) -> Option<i64> {
    [plan.requested_at, plan.decided_at, plan.closed_at]
        .into_iter()
        .filter(|t| *t <= now)
        .max()
}

/// An order's `updated_at` at `now`, the one truth every face serves: the
/// REST payloads and webhooks, the GraphQL nodes and bulk lines, the REST
/// `updated_at_min` listing and the GraphQL `updated_at` search. A return
/// touches its order, so the order's last change is the later of `own`
/// (its own latest event, `lifecycle::order_state`) and its return's.
/// Two faces that disagreed here made a REST webhook and a GraphQL sync
/// overwrite each other in turn.
pub(crate) fn order_updated_at(
    book: &OrderBook,
    seed: u64,
    salt: u64,
    index: u32,
    own: i64,
    now: i64,
) -> i64 {
    return_plan(book, seed, salt, index)
        .and_then(|plan| return_changed_at(&plan, now))
        .map_or(own, |t| own.max(t))
}

/// The return planned for order `index`, if any (visible or not yet).
pub(crate) fn return_plan(
    book: &OrderBook,
    seed: u64,
    salt: u64,
    index: u32,
) -> Option<ReturnPlan> {
    let order = &book.orders[index as usize];
    let waiting_at_start = book.backlog.returns.get(&index).copied();
    if order.cancel_at != NEVER
        || (waiting_at_start.is_none() && draw(seed, salt, index, 1) >= RETURN_SHARE)
    {
        return None;
    }
    let (shipped_at, item) = first_shipped(book, index)?;
    let items = book.items(order);
    let requested_at = waiting_at_start.unwrap_or_else(|| {
        shipped_at + DAY + (draw(seed, salt, index, 2) * 10.0 * DAY as f64) as i64
    });
    let decision = draw(seed, salt, index, 4);
    let outcome = if decision < 0.8 {
        ReturnOutcome::Approved
    } else if decision < 0.93 {
        ReturnOutcome::Declined
    } else {
        ReturnOutcome::Canceled
    };
    // The desk decides within 1 to 30 hours; its backlog at the start is
    // worked off within the first 12 hours after it.
    let decided_at = match waiting_at_start {
        Some(_) => {
            book.backlog.started_at + HOUR + (draw(seed, salt, index, 5) * 12.0) as i64 * HOUR
        }
        None => requested_at + HOUR + (draw(seed, salt, index, 5) * 29.0) as i64 * HOUR,
    };
    let closed_at = match outcome {
        ReturnOutcome::Approved => {
            decided_at + (3.0 + draw(seed, salt, index, 6) * 10.0) as i64 * DAY
        }
        _ => i64::MAX,
    };
    let quantity = 1 + (draw(seed, salt, index, 7) * items[item].quantity as f64) as u16;
    let reason =
        RETURN_REASONS[(draw(seed, salt, index, 8) * RETURN_REASONS.len() as f64) as usize];
    // A decision made by a mutation wins over the plan's; an approved
    // return is then closed as long after it as planned.
    let (outcome, decided_at, closed_at) = match book.return_decisions.get(&index) {
        Some(d) => (
            d.outcome,
            d.at,
            match d.outcome {
                ReturnOutcome::Approved => {
                    d.at + (3.0 + draw(seed, salt, index, 6) * 10.0) as i64 * DAY
                }
                _ => i64::MAX,
            },
        ),
        None => (outcome, decided_at, closed_at),
    };
    Some(ReturnPlan {
        requested_at,
        decided_at,
        closed_at,
        outcome,
        item,
        quantity: quantity.min(items[item].quantity),
        reason,
    })
}

/// When order `index`'s first shipment (even one far in the future) was
/// shipped, and the position of its first line item in it.
fn first_shipped(book: &OrderBook, index: u32) -> Option<(i64, usize)> {
    let order = &book.orders[index as usize];
    let shipment = book.shipments(order).iter().find(|s| s.created != NEVER)?;
    let shipped = shipment_state(order.created_at, shipment, i64::MAX)?;
    let items = book.items(order);
    let item = (0..items.len()).find(|i| shipment.items & (1 << i) != 0)?;
    Some((shipped.updated_at, item))
}

/// What waits for the merchant when the world starts, beyond what the
/// draws leave waiting: chosen once per shop from the seed, so the same
/// seed and start give the same backlog.
#[derive(Default, Debug)]
pub(crate) struct Backlog {
    /// The world's start, from which the backlog is worked off.
    pub started_at: i64,
    /// Return requests still waiting at the start, by order index: when
    /// each was requested.
    pub returns: HashMap<u32, i64>,
    /// Disputes open at the start, by order index: when each opened,
    /// whether it is a chargeback (an inquiry if not), and whether its
    /// evidence is already in (under review) or it still needs a response.
    pub disputes: HashMap<u32, (i64, bool, bool)>,
}

/// How long before the start each waiting return was requested: on track,
/// at risk (75 % of the 24-hour window is 18 h) and breached.
const WAITING_AGES: [(i64, i64); 3] = [
    (2 * HOUR, 14 * HOUR),
    (19 * HOUR, 23 * HOUR),
    (25 * HOUR, 30 * HOUR),
];

/// Plans `book`'s backlog at `start`: three return requests on recent
/// shipped orders that have no return of their own, and two disputes (an
/// inquiry whose evidence is due in five to six days and a fresh
/// chargeback) and one under review, on paid orders that have none.
pub(crate) fn plan_backlog(book: &mut OrderBook, seed: u64, salt: u64, start: i64) {
    let mut backlog = Backlog {
        started_at: start,
        ..Backlog::default()
    };
    let mut ages = WAITING_AGES.iter().enumerate();
    let mut next_age = ages.next();
    for index in (0..book.orders.len() as u32).rev() {
        let Some((k, &(low, high))) = next_age else {
            break;
        };
        let order = &book.orders[index as usize];
        if order.cancel_at != NEVER
            || order.test
            || draw(seed, salt, index, 1) < RETURN_SHARE
            || draw(seed, salt, index, 30) >= 0.3
        {
            continue;
        }
        let age = low + (draw(seed, salt, index, 31 + k as u64) * (high - low) as f64) as i64;
        let requested_at = start - age;
        // Asked for at least a day after it shipped, within two weeks.
        match first_shipped(book, index) {
            Some((shipped_at, _))
                if shipped_at + DAY <= requested_at && requested_at - shipped_at <= 14 * DAY =>
            {
                backlog.returns.insert(index, requested_at);
                next_age = ages.next();
            }
            _ => {}
        }
    }
    // An inquiry opened 30 to 44 hours ago (evidence due in 7 days, our
    // 24-hour window already past) and a chargeback opened hours ago (due
    // in 14 days). Neither is older than two days: a request breached for
    // longer stays the most overdue item, as the merchant left it.
    // And a chargeback opened four to six days ago whose evidence went in
    // two days after: under review, waiting on the bank.
    let mut wanted = [
        (false, 30 * HOUR, 44 * HOUR, false),
        (true, 2 * HOUR, 20 * HOUR, false),
        (true, 4 * DAY, 6 * DAY, true),
    ]
    .into_iter();
    let mut next = wanted.next();
    for index in (0..book.orders.len() as u32).rev() {
        let Some((chargeback, low, high, answered)) = next else {
            break;
        };
        let order = &book.orders[index as usize];
        let opened_at = start - low - (draw(seed, salt, index, 35) * (high - low) as f64) as i64;
        if order.test
            || order.payment != Payment::Paid
            || order.cancel_at != NEVER
            || backlog.returns.contains_key(&index)
            || drawn_dispute(seed, salt, index)
            || draw(seed, salt, index, 36) >= 0.3
            || order.created_at + 10 * DAY > opened_at
        {
            continue;
        }
        backlog
            .disputes
            .insert(index, (opened_at, chargeback, answered));
        next = wanted.next();
    }
    book.backlog = backlog;
}

/// Whether order `index` is disputed by the draw (whatever its payment).
fn drawn_dispute(seed: u64, salt: u64, index: u32) -> bool {
    // One order in 400 is disputed regardless of the draw, so even the
    // smallest test world has one.
    draw(seed, salt, index, 20) < DISPUTE_SHARE || index % 400 == 123
}

/// A dispute as planned: it opens, the merchant answers (or not) before the
/// evidence is due, and the card network decides.
#[derive(Clone, Copy, Debug)]
pub(crate) struct DisputePlan {
    pub chargeback: bool,
    pub initiated_at: i64,
    pub evidence_due_by: i64,
    /// Evidence submitted (`UNDER_REVIEW` from here), or `i64::MAX` when
    /// the merchant accepts the dispute instead.
    pub responded_at: i64,
    pub finalized_at: i64,
    /// WON, LOST or ACCEPTED once finalized.
    pub verdict: &'static str,
    pub reason: &'static str,
    pub network_reason_code: &'static str,
}

/// Reasons with Mastercard's network reason codes.
const DISPUTE_REASONS: [(&str, &str); 4] = [
    ("FRAUDULENT", "4837"),
    ("PRODUCT_NOT_RECEIVED", "4855"),
    ("PRODUCT_UNACCEPTABLE", "4853"),
    ("SUBSCRIPTION_CANCELED", "4841"),
];

/// The dispute planned for order `index`, if any.
pub(crate) fn dispute_plan(
    book: &OrderBook,
    seed: u64,
    salt: u64,
    index: u32,
) -> Option<DisputePlan> {
    let order = &book.orders[index as usize];
    if order.test || order.payment != Payment::Paid || order.cancel_at != NEVER {
        return None;
    }
    let waiting_at_start = book.backlog.disputes.get(&index).copied();
    if waiting_at_start.is_none() && !drawn_dispute(seed, salt, index) {
        return None;
    }
    let (chargeback, initiated_at) = match waiting_at_start {
        Some((opened_at, chargeback, _)) => (chargeback, opened_at),
        None => (
            draw(seed, salt, index, 21) < 0.7,
            order.created_at + (10.0 + draw(seed, salt, index, 22) * 50.0) as i64 * DAY,
        ),
    };
    let evidence_due_by = initiated_at + if chargeback { 14 * DAY } else { 7 * DAY };
    // The backlog's are answered, one to three days after the start.
    let accepts = waiting_at_start.is_none() && draw(seed, salt, index, 23) < 0.15;
    let responded_at = match waiting_at_start {
        Some((_, _, true)) => initiated_at + 2 * DAY,
        Some(_) => book.backlog.started_at + (1.0 + draw(seed, salt, index, 24) * 2.0) as i64 * DAY,
        None if accepts => i64::MAX,
        None => initiated_at + (1.0 + draw(seed, salt, index, 24) * 5.0) as i64 * DAY,
    };
    let finalized_at = if accepts {
        initiated_at + 2 * DAY
    } else {
        responded_at + (20.0 + draw(seed, salt, index, 25) * 40.0) as i64 * DAY
    };
    let verdict = if accepts {
        "ACCEPTED"
    } else if draw(seed, salt, index, 26) < 0.55 {
        "WON"
    } else {
        "LOST"
    };
    let (reason, network_reason_code) =
        DISPUTE_REASONS[(draw(seed, salt, index, 27) * DISPUTE_REASONS.len() as f64) as usize];
    Some(DisputePlan {
        chargeback,
        initiated_at,
        evidence_due_by,
        responded_at,
        finalized_at,
        verdict,
        reason,
        network_reason_code,
    })
}

/// A dispute's status at `now`, or `None` before it was opened.
pub(crate) fn dispute_status(plan: &DisputePlan, now: i64) -> Option<&'static str> {
    if plan.initiated_at > now {
        return None;
    }
    Some(if plan.finalized_at <= now {
        plan.verdict
    } else if plan.responded_at <= now {
        "UNDER_REVIEW"
    } else {
        "NEEDS_RESPONSE"
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::world::World;
    use crate::SimConfig;

    /// Per launched shop: the ages (hours) of the requested returns, and
    /// each dispute needing a response with the hours to its evidence date.
    fn waiting(world: &World) -> Vec<(Vec<i64>, Vec<i64>, usize)> {
        let now = world.now;
        let mut out = Vec::new();
        for shop in world.shops.iter().filter(|s| s.profile.launched) {
            let salt = shop.profile.id_salt;
            let (mut returns, mut disputes, mut under_review) = (Vec::new(), Vec::new(), 0);
            for i in 0..shop.book.orders.len() as u32 {
                if let Some(plan) = return_plan(&shop.book, world.seed, salt, i) {
                    if return_status(&plan, now) == Some("REQUESTED") {
                        returns.push((now - plan.requested_at) / HOUR);
                    }
                }
                if let Some(plan) = dispute_plan(&shop.book, world.seed, salt, i) {
                    match dispute_status(&plan, now) {
                        Some("NEEDS_RESPONSE") => {
                            disputes.push((plan.evidence_due_by - now) / HOUR)
                        }
                        Some("UNDER_REVIEW") => under_review += 1,
                        _ => {}
                    }
                }
            }
            returns.sort_unstable();
            out.push((returns, disputes, under_review));
        }
        out
    }

    fn world(seed: u64, at: &str) -> World {
        World::new(&SimConfig {
            seed,
            now: at.parse().expect("a valid moment"),
            scale: 1.0,
        })
    }

    #[test]
    fn at_the_start_each_shop_has_returns_at_every_stage_and_a_dispute_to_answer() {
        for (seed, at) in [(7, "2026-06-10T18:05:00Z"), (42, "2026-12-08T01:00:00Z")] {
            let w = world(seed, at);
            for (returns, disputes, _) in waiting(&w) {
                assert!(returns.iter().all(|h| *h <= 30), "{seed}: {returns:?}");
                assert!(
                    returns.iter().any(|h| *h < 18),
                    "{seed} on track: {returns:?}"
                );
                assert!(
                    returns.iter().any(|h| (18..24).contains(h)),
                    "{seed} at risk: {returns:?}"
                );
                assert!(
                    returns.iter().any(|h| *h >= 24),
                    "{seed} breached: {returns:?}"
                );
                assert!(
                    disputes.iter().any(|h| (0..=7 * 24).contains(h)),
                    "{seed}: evidence due within days: {disputes:?}"
                );
            }
            let under_review: usize = waiting(&w).iter().map(|s| s.2).sum();
            assert!(under_review > 0, "{seed}: some disputes under review");
            // The same seed and start, the same backlog.
            let again = world(seed, at);
            assert_eq!(waiting(&again), waiting(&w));
        }
    }

    #[test]
    fn the_backlog_is_worked_off_as_the_clock_moves() {
        let mut w = world(7, "2026-06-10T18:05:00Z");
        let start = w.now;
        w.advance_to(start + 3 * DAY);
        for shop in w.shops.iter().filter(|s| s.profile.launched) {
            let salt = shop.profile.id_salt;
            for &index in shop.book.backlog.returns.keys() {
                let plan = return_plan(&shop.book, w.seed, salt, index).expect("planned");
                assert_ne!(return_status(&plan, w.now), Some("REQUESTED"));
            }
            for &index in shop.book.backlog.disputes.keys() {
                let plan = dispute_plan(&shop.book, w.seed, salt, index).expect("planned");
                assert_eq!(dispute_status(&plan, w.now), Some("UNDER_REVIEW"));
            }
        }
    }
}
