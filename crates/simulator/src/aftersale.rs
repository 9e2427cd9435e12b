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

use crate::lifecycle::shipment_state;
use crate::orders::{Order, OrderBook, Payment, NEVER};
use crate::rhythm::mix;

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
    if order.cancel_at != NEVER || draw(seed, salt, index, 1) >= RETURN_SHARE {
        return None;
    }
    // The first shipment that happens, even far in the future.
    let shipment = book.shipments(order).iter().find(|s| s.created != NEVER)?;
    let shipped = shipment_state(order.created_at, shipment, i64::MAX)?;
    let items = book.items(order);
    let item = (0..items.len()).find(|i| shipment.items & (1 << i) != 0)?;
    let requested_at =
        shipped.updated_at + DAY + (draw(seed, salt, index, 2) * 10.0 * DAY as f64) as i64;
    let decision = draw(seed, salt, index, 4);
    let outcome = if decision < 0.8 {
        ReturnOutcome::Approved
    } else if decision < 0.93 {
        ReturnOutcome::Declined
    } else {
        ReturnOutcome::Canceled
    };
    let decided_at = requested_at + HOUR + (draw(seed, salt, index, 5) * 60.0) as i64 * HOUR;
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
pub(crate) fn dispute_plan(order: &Order, seed: u64, salt: u64, index: u32) -> Option<DisputePlan> {
    if order.test || order.payment != Payment::Paid || order.cancel_at != NEVER {
        return None;
    }
    // One order in 400 is disputed regardless of the draw, so even the
    // smallest test world has one.
    if draw(seed, salt, index, 20) >= DISPUTE_SHARE && index % 400 != 123 {
        return None;
    }
    let chargeback = draw(seed, salt, index, 21) < 0.7;
    let initiated_at = order.created_at + (10.0 + draw(seed, salt, index, 22) * 50.0) as i64 * DAY;
    let evidence_due_by = initiated_at + if chargeback { 14 * DAY } else { 7 * DAY };
    let accepts = draw(seed, salt, index, 23) < 0.15;
    let responded_at = if accepts {
        i64::MAX
    } else {
        initiated_at + (1.0 + draw(seed, salt, index, 24) * 5.0) as i64 * DAY
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
