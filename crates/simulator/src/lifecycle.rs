//! The state of an order at a given moment, derived from its plan: which
//! shipments exist and where they are, whether it is cancelled, refunded or
//! archived, its financial status, and its `updated_at` (the latest event).

use crate::orders::{Exception, LineItem, Order, OrderBook, Payment, Shipment, NEVER};

/// A shipment as it stands at `now`.
pub(crate) struct ShipmentState {
    pub created_at: i64,
    pub updated_at: i64,
    pub shipment_status: Option<&'static str>,
}

pub(crate) fn shipment_state(
    order_created: i64,
    shipment: &Shipment,
    now: i64,
) -> Option<ShipmentState> {
    if shipment.created == NEVER {
        return None;
    }
    let created_at = order_created + shipment.created as i64;
    if created_at > now {
        return None;
    }
    let mut updated_at = created_at;
    let mut status = None;
    let exception = match shipment.exception {
        Exception::None => "",
        Exception::Failure => "failure",
        Exception::AttemptedDelivery => "attempted_delivery",
        Exception::Delayed => "delayed",
    };
    let events = [
        (shipment.in_transit, "in_transit"),
        (shipment.exception_at, exception),
        (shipment.out_for_delivery, "out_for_delivery"),
        (shipment.delivered, "delivered"),
    ];
    for (offset, name) in events {
        if offset == NEVER {
            continue;
        }
        let at = created_at + offset as i64;
        if at <= now && at >= updated_at {
            updated_at = at;
            status = Some(name);
        }
    }
    Some(ShipmentState {
        created_at,
        updated_at,
        shipment_status: status,
    })
}

/// An order as it stands at `now`.
pub(crate) struct OrderState {
    pub updated_at: i64,
    pub cancelled_at: Option<i64>,
    pub closed_at: Option<i64>,
    /// Bit i set: line item i is fulfilled.
    pub fulfilled: u8,
    pub fulfillment_status: Option<&'static str>,
    pub financial_status: &'static str,
    /// A partial refund that has happened (cancellation refunds are separate).
    pub refunded_at: Option<i64>,
    pub refunded_cents: i64,
    pub total_cents: i64,
}

/// What a partial refund of `quantity` units of one line item gives back: (subtotal, tax).
pub(crate) fn refund_amounts(order: &Order, items: &[LineItem]) -> (i64, i64) {
    let item = &items[order.refund_item as usize];
    let gross = item.unit_price_cents as i64 * order.refund_quantity as i64;
    let line_total = order.line_total_cents(items).max(1);
    let subtotal = gross - gross * order.discount_cents as i64 / line_total;
    let tax = (subtotal * order.tax_rate_bp as i64 + 5_000) / 10_000;
    (subtotal, tax)
}

pub(crate) fn total_cents(order: &Order, items: &[LineItem]) -> i64 {
    order.line_total_cents(items) - order.discount_cents as i64
        + order.shipping_cents as i64
        + order.tax_cents as i64
}

pub(crate) fn order_state(book: &OrderBook, order: &Order, now: i64) -> OrderState {
    let items = book.items(order);
    let all: u8 = if items.len() >= 8 {
        u8::MAX
    } else {
        (1u8 << items.len()) - 1
    };
    let mut updated_at = order.created_at;
    let mut fulfilled = 0u8;
    let mut fully_at = order.created_at;
    for shipment in book.shipments(order) {
        if let Some(state) = shipment_state(order.created_at, shipment, now) {
            fulfilled |= shipment.items;
            fully_at = fully_at.max(state.created_at);
            updated_at = updated_at.max(state.updated_at);
        }
    }
    let total = total_cents(order, items);
    let at = |offset: u32| {
        (offset != NEVER)
            .then(|| order.created_at + offset as i64)
            .filter(|t| *t <= now)
    };
    let cancelled_at = at(order.cancel_at);
    let refunded_at = if cancelled_at.is_some() {
        None
    } else {
        at(order.refund_at)
    };
    let mut refunded_cents = 0;
    let mut closed_at = None;
    if let Some(t) = cancelled_at {
        updated_at = updated_at.max(t);
        closed_at = Some(t);
    } else if fulfilled == all && order.close_after != NEVER {
        let close = fully_at + order.close_after as i64;
        if close <= now {
            closed_at = Some(close);
            updated_at = updated_at.max(close);
        }
    }
    if let Some(t) = refunded_at {
        let (subtotal, tax) = refund_amounts(order, items);
        refunded_cents = subtotal + tax;
        updated_at = updated_at.max(t);
    }
    let financial_status = match (cancelled_at, order.payment) {
        (Some(_), Payment::Paid) => "refunded",
        (Some(_), _) => "voided",
        (None, _) if refunded_cents >= total && total > 0 => "refunded",
        (None, _) if refunded_cents > 0 => "partially_refunded",
        (None, Payment::Paid) => "paid",
        (None, Payment::Pending) => "pending",
        (None, Payment::Authorized) => "authorized",
    };
    let fulfillment_status = if fulfilled == 0 {
        None
    } else if fulfilled == all {
        Some("fulfilled")
    } else {
        Some("partial")
    };
    OrderState {
        updated_at,
        cancelled_at,
        closed_at,
        fulfilled,
        fulfillment_status,
        financial_status,
        refunded_at,
        refunded_cents,
        total_cents: total,
    }
}
