//! `Order` with its `lineItems`, `fulfillmentOrders`, `fulfillments`,
//! `transactions` and `refunds`; its `returns` come from `returns`.

use serde::Serialize;
use serde_json::Value;

use super::{datetime, gid, money_bag, reference, typed, with, Nodes, Wants};
use crate::catalog::{CUSTOM_ITEMS, DELETED_ITEMS};
use crate::customers::NO_CUSTOMER;
use crate::ids;
use crate::lifecycle::{order_state, refund_amounts, shipment_state};
use crate::orders::{ItemRef, CANCEL_REASONS, CARRIERS, DISCOUNT_CODES, NO_TRACKING, SOURCES};
use crate::world::Shop;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct OrderWire {
    id: String,
    legacy_resource_id: String,
    name: String,
    created_at: String,
    updated_at: String,
    processed_at: String,
    cancelled_at: Option<String>,
    cancel_reason: Option<String>,
    closed_at: Option<String>,
    closed: bool,
    confirmed: bool,
    test: bool,
    email: Option<String>,
    phone: Option<String>,
    currency_code: String,
    presentment_currency_code: String,
    display_financial_status: Option<String>,
    display_fulfillment_status: &'static str,
    source_name: &'static str,
    tags: Vec<&'static str>,
    note: Option<String>,
    discount_codes: Vec<&'static str>,
    subtotal_price_set: Value,
    total_price_set: Value,
    total_tax_set: Value,
    total_discounts_set: Value,
    total_shipping_price_set: Value,
    total_refunded_set: Value,
    current_total_price_set: Value,
    customer: Option<Value>,
    shipping_address: Option<Value>,
    billing_address: Option<Value>,
    line_items: Nodes,
    /// A connection (unlike `fulfillments`): what a bulk query can read
    /// units shipped per line from.
    fulfillment_orders: Nodes,
    fulfillments: Vec<Value>,
    /// The sale (or authorization) and any refund, oldest first.
    transactions: Vec<Value>,
    refunds: Vec<Value>,
    returns: Nodes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LineItemWire {
    id: String,
    name: String,
    title: String,
    variant_title: Option<String>,
    sku: Option<String>,
    vendor: Option<String>,
    quantity: u16,
    /// Units ordered less those refunded and removed (all of them once
    /// the order is cancelled).
    current_quantity: u16,
    /// `currentQuantity` less the units in live fulfillments: negative
    /// when units are refunded after they shipped, as Shopify reports it.
    unfulfilled_quantity: i32,
    /// Units not refunded yet: `quantity` less the units of this line in
    /// the order's refunds.
    refundable_quantity: u16,
    requires_shipping: bool,
    original_unit_price_set: Value,
    original_total_set: Value,
    variant: Option<Value>,
    product: Option<Value>,
}

/// The work of shipping an order's lines from one location. The
/// simulator's shops ship from one, so an order has one.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentOrderWire {
    id: String,
    /// The order's id: what a bulk file of fulfillment orders is joined
    /// to the orders by.
    order_id: String,
    order: Value,
    /// `FulfillmentOrderStatus`: `OPEN`, `IN_PROGRESS`, `CLOSED`, `CANCELLED`, …
    status: &'static str,
    created_at: String,
    updated_at: String,
    line_items: Nodes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentOrderLineItemWire {
    id: String,
    /// Units this fulfillment order is to ship: those shipped plus those
    /// still to ship (units refunded or removed before shipping leave it).
    total_quantity: i32,
    /// Units still to ship.
    remaining_quantity: i32,
    line_item: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrackingInfo {
    company: Option<&'static str>,
    number: Option<String>,
    url: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentWire {
    id: String,
    legacy_resource_id: String,
    name: String,
    status: &'static str,
    display_status: Option<&'static str>,
    created_at: String,
    updated_at: String,
    in_transit_at: Option<String>,
    delivered_at: Option<String>,
    /// The carrier's estimate, known once the parcel is in transit.
    estimated_delivery_at: Option<String>,
    tracking_info: Vec<Value>,
    fulfillment_line_items: Nodes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct FulfillmentLineItemWire {
    id: String,
    quantity: u16,
    line_item: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefundWire {
    id: String,
    legacy_resource_id: String,
    created_at: String,
    note: Option<&'static str>,
    total_refunded_set: Value,
    refund_line_items: Nodes,
    transactions: Nodes,
    /// Shipping refunds and refund discrepancies; the simulator refunds
    /// line items only, so it is always empty.
    order_adjustments: Nodes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RefundLineItemWire {
    id: String,
    quantity: u16,
    restock_type: &'static str,
    restocked: bool,
    subtotal_set: Value,
    total_tax_set: Value,
    line_item: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TransactionWire {
    id: String,
    kind: &'static str,
    status: &'static str,
    gateway: &'static str,
    formatted_gateway: &'static str,
    test: bool,
    created_at: String,
    processed_at: String,
    amount_set: Value,
    error_code: Option<&'static str>,
    parent_transaction: Option<Value>,
    order: Value,
}

fn transaction(
    salt: u64,
    index: u32,
    position: usize,
    kind: &'static str,
    at: i64,
    amount: Value,
    test: bool,
) -> Value {
    let id = ids::transaction(salt, index, position);
    typed(
        "OrderTransaction",
        TransactionWire {
            id: gid("OrderTransaction", id),
            kind,
            status: "SUCCESS",
            gateway: if test { "bogus" } else { "shopify_payments" },
            formatted_gateway: if test {
                "(For Testing) Bogus Gateway"
            } else {
                "Shopify Payments"
            },
            test,
            created_at: datetime(at),
            processed_at: datetime(at),
            amount_set: amount,
            error_code: None,
            parent_transaction: (position > 0)
                .then(|| reference("OrderTransaction", ids::transaction(salt, index, 0))),
            order: reference("Order", ids::order(salt, index)),
        },
    )
}

/// Order `index` of `shop` as the GraphQL `Order` object at `now`. The
/// costly parts (line items, fulfillments, refunds, transactions, returns,
/// customer, addresses) are rendered only when `wants` names them; the
/// projection never reads a field that was not selected.
pub(crate) fn order(shop: &Shop, seed: u64, index: u32, now: i64, wants: &Wants) -> Value {
    let book = &shop.book;
    let order = &book.orders[index as usize];
    let items = book.items(order);
    let state = order_state(book, order, now);
    let salt = shop.profile.id_salt;
    let id = ids::order(salt, index);
    let currency = shop.info.currency.as_str();
    let number = 1000 + index + 1;
    let line_id = |position: usize| ids::line_item(salt, index, position);

    // Units of each line: (refunded, current, shipped), the one truth the
    // line items, fulfillment orders and refunds below all tell.
    let units = |position: usize| {
        let item = &items[position];
        let done = state.fulfilled & (1 << position) != 0;
        // The units of this line in the order's refund, as `refunds`
        // below lists them: every unit when a paid order is cancelled,
        // the planned ones when it is refunded.
        let refunded = match (state.cancelled_at, state.financial_status) {
            (Some(_), "refunded") => item.quantity,
            (Some(_), _) => 0,
            (None, _) if state.refunded_at.is_some() && order.refund_item as usize == position => {
                order.refund_quantity
            }
            (None, _) => 0,
        };
        let current = if state.cancelled_at.is_some() {
            0
        } else {
            item.quantity - refunded
        };
        // Fulfillments ship whole lines (see `fulfillment_line_items`).
        let shipped = if done { item.quantity } else { 0 };
        (refunded, current, shipped)
    };

    let line_items = (0..items.len())
        .filter(|_| wants.has("lineItems"))
        .map(|position| {
            let item = &items[position];
            let (title, variant_title, sku, vendor, variant, product) = match item.item {
                ItemRef::Variant { product, variant } => {
                    let p = &shop.catalog.products[product as usize];
                    let v = &p.variants[variant as usize];
                    (
                        p.title.clone(),
                        (v.title != "Default Title").then(|| v.title.clone()),
                        Some(v.sku.clone()),
                        Some(p.vendor.clone()),
                        Some(with(
                            reference("ProductVariant", v.id),
                            [
                                ("title", Value::String(v.title.clone())),
                                ("sku", Value::String(v.sku.clone())),
                            ],
                        )),
                        Some(with(
                            reference("Product", p.id),
                            [("title", Value::String(p.title.clone()))],
                        )),
                    )
                }
                ItemRef::Deleted(which) => {
                    let (title, sku, _) = DELETED_ITEMS[which as usize];
                    (
                        title.to_string(),
                        None,
                        Some(sku.to_string()),
                        None,
                        None,
                        None,
                    )
                }
                ItemRef::Custom(which) => (
                    CUSTOM_ITEMS[which as usize].0.to_string(),
                    None,
                    None,
                    None,
                    None,
                    None,
                ),
            };
            let (refunded, current, shipped) = units(position);
            typed(
                "LineItem",
                LineItemWire {
                    id: gid("LineItem", line_id(position)),
                    name: match &variant_title {
                        Some(v) => format!("{title} - {v}"),
                        None => title.clone(),
                    },
                    title,
                    variant_title,
                    sku,
                    vendor,
                    quantity: item.quantity,
                    current_quantity: current,
                    unfulfilled_quantity: i32::from(current) - i32::from(shipped),
                    refundable_quantity: item.quantity - refunded,
                    requires_shipping: !matches!(item.item, ItemRef::Custom(_)),
                    original_unit_price_set: money_bag(item.unit_price_cents as i64, currency),
                    original_total_set: money_bag(
                        item.unit_price_cents as i64 * item.quantity as i64,
                        currency,
                    ),
                    variant,
                    product,
                },
            )
        })
        .collect();

    let fulfillment_orders = wants
        .has("fulfillmentOrders")
        .then(|| {
            let lines: Vec<(i32, i32)> = (0..items.len())
                .map(|position| {
                    let (_, current, shipped) = units(position);
                    let remaining = (i32::from(current) - i32::from(shipped)).max(0);
                    (i32::from(shipped) + remaining, remaining)
                })
                .collect();
            let shipped_any = lines.iter().any(|(total, remaining)| total > remaining);
            let status = match lines.iter().all(|(_, remaining)| *remaining == 0) {
                true if state.cancelled_at.is_some() && !shipped_any => "CANCELLED",
                true => "CLOSED",
                false if shipped_any => "IN_PROGRESS",
                false => "OPEN",
            };
            let line_items = lines
                .into_iter()
                .enumerate()
                .map(|(position, (total, remaining))| {
                    typed(
                        "FulfillmentOrderLineItem",
                        FulfillmentOrderLineItemWire {
                            id: gid(
                                "FulfillmentOrderLineItem",
                                ids::fulfillment_order_line_item(salt, index, position),
                            ),
                            total_quantity: total,
                            remaining_quantity: remaining,
                            line_item: reference("LineItem", line_id(position)),
                        },
                    )
                })
                .collect();
            typed(
                "FulfillmentOrder",
                FulfillmentOrderWire {
                    id: gid("FulfillmentOrder", ids::fulfillment_order(salt, index)),
                    order_id: gid("Order", id),
                    order: reference("Order", id),
                    status,
                    created_at: datetime(order.created_at),
                    updated_at: datetime(state.updated_at),
                    line_items: Nodes { nodes: line_items },
                },
            )
        })
        .into_iter()
        .collect();

    let mut fulfillments = Vec::new();
    let shipments = if wants.has("fulfillments") {
        book.shipments(order)
    } else {
        &[]
    };
    for (position, shipment) in shipments.iter().enumerate() {
        let Some(shipped) = shipment_state(order.created_at, shipment, now) else {
            continue;
        };
        let fid = ids::fulfillment(salt, index, position);
        let tracking = if shipment.carrier == NO_TRACKING {
            Vec::new()
        } else {
            let (company, prefix, stem) = CARRIERS[shipment.carrier as usize];
            let number = format!("{stem}{:012}", crate::rhythm::mix(fid) % 1_000_000_000_000);
            vec![typed(
                "FulfillmentTrackingInfo",
                TrackingInfo {
                    company: Some(company),
                    url: Some(format!("{prefix}{number}")),
                    number: Some(number),
                },
            )]
        };
        let at = |offset: u32| {
            (offset != crate::orders::NEVER)
                .then(|| shipped.created_at + offset as i64)
                .filter(|t| *t <= now)
                .map(datetime)
        };
        let fulfillment_line_items = (0..items.len())
            .filter(|i| shipment.items & (1 << i) != 0)
            .map(|i| {
                typed(
                    "FulfillmentLineItem",
                    FulfillmentLineItemWire {
                        id: gid("FulfillmentLineItem", line_id(i) + 7),
                        quantity: items[i].quantity,
                        line_item: reference("LineItem", line_id(i)),
                    },
                )
            })
            .collect();
        fulfillments.push(typed(
            "Fulfillment",
            FulfillmentWire {
                id: gid("Fulfillment", fid),
                legacy_resource_id: fid.to_string(),
                name: format!("#{number}-F{}", position + 1),
                status: "SUCCESS",
                display_status: Some(match shipped.shipment_status {
                    None => "FULFILLED",
                    Some("in_transit") => "IN_TRANSIT",
                    Some("out_for_delivery") => "OUT_FOR_DELIVERY",
                    Some("delivered") => "DELIVERED",
                    Some("attempted_delivery") => "ATTEMPTED_DELIVERY",
                    Some("delayed") => "DELAYED",
                    Some(_) => "FAILURE",
                }),
                created_at: datetime(shipped.created_at),
                updated_at: datetime(shipped.updated_at),
                in_transit_at: at(shipment.in_transit),
                delivered_at: at(shipment.delivered),
                estimated_delivery_at: at(shipment.in_transit).and(
                    (shipment.delivered != crate::orders::NEVER)
                        .then(|| datetime(shipped.created_at + shipment.delivered as i64)),
                ),
                tracking_info: tracking,
                fulfillment_line_items: Nodes {
                    nodes: fulfillment_line_items,
                },
            },
        ));
    }

    let test = order.test;
    let refund = |at: i64, lines: Vec<(usize, u16, i64, i64)>, amount: i64, cancel: bool| {
        let rid = ids::refund(salt, index);
        typed(
            "Refund",
            RefundWire {
                id: gid("Refund", rid),
                legacy_resource_id: rid.to_string(),
                created_at: datetime(at),
                note: Some(if cancel {
                    "Order cancelled"
                } else {
                    "Damaged in transit"
                }),
                total_refunded_set: money_bag(amount, currency),
                refund_line_items: Nodes {
                    nodes: lines
                        .into_iter()
                        .enumerate()
                        .map(|(k, (position, quantity, subtotal, tax))| {
                            typed(
                                "RefundLineItem",
                                RefundLineItemWire {
                                    id: gid(
                                        "RefundLineItem",
                                        ids::refund_line_item(salt, index, k),
                                    ),
                                    quantity,
                                    restock_type: if cancel { "CANCEL" } else { "NO_RESTOCK" },
                                    restocked: cancel,
                                    subtotal_set: money_bag(subtotal, currency),
                                    total_tax_set: money_bag(tax, currency),
                                    line_item: reference("LineItem", line_id(position)),
                                },
                            )
                        })
                        .collect(),
                },
                order_adjustments: Nodes { nodes: Vec::new() },
                transactions: Nodes {
                    nodes: vec![transaction(
                        salt,
                        index,
                        1,
                        "REFUND",
                        at,
                        money_bag(amount, currency),
                        test,
                    )],
                },
            },
        )
    };
    let line_total = order.line_total_cents(items);
    let mut refunds = Vec::new();
    let refunds_wanted = wants.has("refunds") || wants.has("transactions");
    if refunds_wanted {
        if let (Some(at), "refunded") = (state.cancelled_at, state.financial_status) {
            let lines = (0..items.len())
                .map(|i| {
                    let gross = items[i].unit_price_cents as i64 * items[i].quantity as i64;
                    let subtotal = gross - gross * order.discount_cents as i64 / line_total.max(1);
                    (
                        i,
                        items[i].quantity,
                        subtotal,
                        (subtotal * order.tax_rate_bp as i64 + 5_000) / 10_000,
                    )
                })
                .collect();
            refunds.push(refund(at, lines, state.total_cents, true));
        } else if let Some(at) = state.refunded_at {
            let (subtotal, tax) = refund_amounts(order, items);
            let lines = vec![(
                order.refund_item as usize,
                order.refund_quantity,
                subtotal,
                tax,
            )];
            refunds.push(refund(at, lines, state.refunded_cents, false));
        }
    }

    let returns: Vec<Value> = super::returns::order_return(shop, seed, index, now)
        .filter(|_| wants.has("returns"))
        .into_iter()
        .collect();

    let mut transactions = vec![transaction(
        salt,
        index,
        0,
        if order.payment == crate::orders::Payment::Authorized {
            "AUTHORIZATION"
        } else {
            "SALE"
        },
        order.created_at,
        money_bag(state.total_cents, currency),
        test,
    )];
    if let Some(refund) = refunds.first() {
        if let Some(t) = refund.pointer("/transactions/__nodes/0") {
            transactions.push(t.clone());
        }
    }
    if order.payment == crate::orders::Payment::Pending {
        transactions.clear();
    }
    let address = (wants.has("shippingAddress") || wants.has("billingAddress"))
        .then(|| super::people::mailing_address(shop, order.customer))
        .flatten();

    let subtotal = line_total - order.discount_cents as i64;
    let refunded = if state.cancelled_at.is_some() {
        state.total_cents
    } else {
        state.refunded_cents
    };
    let customer = book.customers.get(order.customer as usize);
    let tags = crate::orders::order_tags(order.kind).to_vec();
    let financial = match state.financial_status {
        "partially_refunded" => "PARTIALLY_REFUNDED",
        "refunded" => "REFUNDED",
        "voided" => "VOIDED",
        "pending" => "PENDING",
        "authorized" => "AUTHORIZED",
        _ => "PAID",
    };
    typed(
        "Order",
        OrderWire {
            id: gid("Order", id),
            legacy_resource_id: id.to_string(),
            name: format!("#{number}"),
            created_at: datetime(order.created_at),
            updated_at: datetime(crate::aftersale::order_updated_at(
                book,
                seed,
                salt,
                index,
                state.updated_at,
                now,
            )),
            processed_at: datetime(order.created_at),
            cancelled_at: state.cancelled_at.map(datetime),
            cancel_reason: state
                .cancelled_at
                .map(|_| CANCEL_REASONS[order.cancel_reason as usize].to_uppercase()),
            closed_at: state.closed_at.map(datetime),
            closed: state.closed_at.is_some(),
            confirmed: true,
            test,
            email: customer.map(|c| c.email(order.customer)),
            phone: None,
            currency_code: currency.to_string(),
            presentment_currency_code: currency.to_string(),
            display_financial_status: Some(financial.to_string()),
            display_fulfillment_status: match state.fulfillment_status {
                Some("fulfilled") => "FULFILLED",
                Some(_) => "PARTIALLY_FULFILLED",
                None => "UNFULFILLED",
            },
            source_name: SOURCES[order.source as usize],
            tags,
            note: None,
            discount_codes: match order.discount_code {
                0 => Vec::new(),
                code => vec![DISCOUNT_CODES[code as usize].0],
            },
            subtotal_price_set: money_bag(subtotal, currency),
            total_price_set: money_bag(state.total_cents, currency),
            total_tax_set: money_bag(order.tax_cents as i64, currency),
            total_discounts_set: money_bag(order.discount_cents as i64, currency),
            total_shipping_price_set: money_bag(order.shipping_cents as i64, currency),
            total_refunded_set: money_bag(refunded, currency),
            current_total_price_set: money_bag(state.total_cents - refunded, currency),
            customer: (order.customer != NO_CUSTOMER && wants.has("customer"))
                .then(|| super::customer(shop, order.customer, now)),
            shipping_address: address.clone(),
            billing_address: address,
            line_items: Nodes { nodes: line_items },
            fulfillment_orders: Nodes {
                nodes: fulfillment_orders,
            },
            fulfillments,
            transactions,
            refunds,
            returns: Nodes { nodes: returns },
        },
    )
}
