//! The webhooks of the resources only Shopify's GraphQL API lists —
//! returns, disputes, abandoned checkouts — and of customers, as Shopify
//! sends them when they change: REST-shaped bodies, at the moment of the
//! change.
//!
//! Returns, disputes and checkouts are not stored: each follows from its
//! plan ([`crate::aftersale`], [`crate::checkouts`]) and the clock, so what
//! happened while [`crate::Simulator::advance_to`] moved the clock from
//! `from` to `to` is every planned moment in `(from, to]`. Each becomes an
//! event at that moment (its delivery's `X-Shopify-Triggered-At`), with the
//! body as the resource stood then:
//!
//! - a return: `returns/request` when requested, then `returns/approve`,
//!   `returns/decline` or `returns/cancel` when decided, and an approved
//!   one `returns/close` when closed. Bodies have the shapes of Shopify's
//!   reference samples (`fixtures/shopify/webhooks/returns_*.json`): the
//!   whole return for request and approve, `{id, order_id, status}` for
//!   cancel and close, `{id, status, decline}` for decline;
//! - a dispute: `disputes/create` when opened, `disputes/update` when the
//!   evidence is sent and when it is decided (the REST `Dispute`);
//! - an abandoned checkout: `checkouts/create` once the buyer left it (the
//!   moment the GraphQL listing shows it), `checkouts/update` instead when
//!   it was completed later (the REST abandoned `Checkout`);
//! - a customer whose figures changed, or who is new: `customers/update`
//!   (the REST `Customer`, lifetime figures included), found by comparing
//!   with the snapshot taken before the clock moved.

use crate::aftersale::{dispute_plan, dispute_status, return_plan, ReturnOutcome, ReturnPlan};
use crate::checkouts::{self, Checkout};
use crate::customers::NO_CUSTOMER;
use crate::ids;
use crate::orders::ItemRef;
use crate::wire::{self, timestamp};
use crate::world::Shop;
use serde_json::{json, Value};

/// One change to send: when it happened, its topic and its body.
pub(crate) struct Event {
    pub at: i64,
    pub topic: &'static str,
    pub body: Value,
}

/// The events of `shop` in `(from, to]` on the topics `wanted` accepts,
/// oldest first. `seed` is the world's (the plans are drawn from it);
/// `customers_before` the customers' `updated_at` before the clock moved
/// (empty when nobody wants `customers/update`).
pub(crate) fn events(
    shop: &Shop,
    seed: u64,
    from: i64,
    to: i64,
    customers_before: &[i64],
    wanted: &dyn Fn(&str) -> bool,
) -> Vec<Event> {
    let mut out = Vec::new();
    let book = &shop.book;
    let salt = shop.profile.id_salt;
    let within = |t: i64| from < t && t <= to;
    let returns = [
        "returns/request",
        "returns/approve",
        "returns/decline",
        "returns/cancel",
        "returns/close",
    ]
    .into_iter()
    .any(wanted);
    let disputes = wanted("disputes/create") || wanted("disputes/update");
    for index in 0..book.orders.len() as u32 {
        if returns {
            if let Some(plan) = return_plan(book, seed, salt, index) {
                for (at, topic) in return_moments(&plan) {
                    if within(at) && wanted(topic) {
                        out.push(Event {
                            at,
                            topic,
                            body: return_body(shop, index, &plan, topic),
                        });
                    }
                }
            }
        }
        if disputes {
            if let Some(plan) = dispute_plan(book, seed, salt, index) {
                let moments = [
                    (plan.initiated_at, "disputes/create"),
                    (plan.responded_at, "disputes/update"),
                    (plan.finalized_at, "disputes/update"),
                ];
                for (at, topic) in moments {
                    if within(at) && wanted(topic) {
                        if let Some(body) = dispute_body(shop, index, &plan, at) {
                            out.push(Event { at, topic, body });
                        }
                    }
                }
            }
        }
    }
    if wanted("checkouts/create") || wanted("checkouts/update") {
        for position in 0..checkouts::count(book) {
            let Some(c) = checkouts::checkout(book, seed, salt, position) else {
                continue;
            };
            let topic = if c.completed_at.is_some() {
                "checkouts/update"
            } else {
                "checkouts/create"
            };
            if within(c.updated_at) && wanted(topic) {
                out.push(Event {
                    at: c.updated_at,
                    topic,
                    body: checkout_body(shop, &c),
                });
            }
        }
    }
    if wanted("customers/update") {
        for (index, c) in book.customers.iter().enumerate() {
            // A customer new since the snapshot changed too: its first
            // order counted (opsdeck subscribes to no `customers/create`).
            if customers_before.get(index) != Some(&c.updated_at) {
                out.push(Event {
                    at: c.updated_at,
                    topic: "customers/update",
                    body: wire::customer_json(shop, index as u32),
                });
            }
        }
    }
    out.sort_by_key(|e| e.at);
    out
}

/// The moments a return's status changed, with the topic of each.
fn return_moments(plan: &ReturnPlan) -> Vec<(i64, &'static str)> {
    let decided = match plan.outcome {
        ReturnOutcome::Approved => "returns/approve",
        ReturnOutcome::Declined => "returns/decline",
        ReturnOutcome::Canceled => "returns/cancel",
    };
    let mut moments = vec![
        (plan.requested_at, "returns/request"),
        (plan.decided_at, decided),
    ];
    if plan.outcome == ReturnOutcome::Approved {
        moments.push((plan.closed_at, "returns/close"));
    }
    moments
}

/// A `returns/*` body: Shopify's shape for each topic.
pub(crate) fn return_body(shop: &Shop, index: u32, plan: &ReturnPlan, topic: &str) -> Value {
    let salt = shop.profile.id_salt;
    let id = ids::return_id(salt, index);
    let gid = format!("gid://shopify/Return/{id}");
    let order_id = ids::order(salt, index);
    match topic {
        "returns/decline" => json!({
            "admin_graphql_api_id": gid,
            "decline": {
                "note": "Outside the 30-day window",
                "reason": "return_period_ended",
            },
            "id": id,
            "status": "declined",
        }),
        "returns/cancel" | "returns/close" => json!({
            "admin_graphql_api_id": gid,
            "id": id,
            "order_id": order_id,
            "status": if topic == "returns/cancel" { "canceled" } else { "closed" },
        }),
        // returns/request, returns/approve: the whole return.
        _ => {
            let line_item = ids::line_item(salt, index, plan.item);
            let fulfillment_line_item = line_item + 7;
            let line_id = ids::return_line_item(salt, index);
            json!({
                "admin_graphql_api_id": gid,
                "exchange_line_items": [],
                "id": id,
                "name": format!("#{}-R1", 1001 + index),
                "order": {
                    "admin_graphql_api_id": format!("gid://shopify/Order/{order_id}"),
                    "id": order_id,
                },
                "return_line_items": [{
                    "admin_graphql_api_id": format!("gid://shopify/ReturnLineItem/{line_id}"),
                    "customer_note": null,
                    "fulfillment_line_item": {
                        "admin_graphql_api_id":
                            format!("gid://shopify/FulfillmentLineItem/{fulfillment_line_item}"),
                        "id": fulfillment_line_item,
                        "line_item": {
                            "admin_graphql_api_id": format!("gid://shopify/LineItem/{line_item}"),
                            "id": line_item,
                        },
                    },
                    "id": line_id,
                    "quantity": plan.quantity,
                    "return_reason": plan.reason.to_ascii_lowercase(),
                    "return_reason_note": "",
                }],
                "return_shipping_fees": [],
                "status": if topic == "returns/request" { "requested" } else { "open" },
                "total_exchange_line_items": 0,
                "total_return_line_items": 1,
            })
        }
    }
}

/// The REST `Dispute` on order `index` as it stood at `at`.
fn dispute_body(
    shop: &Shop,
    index: u32,
    plan: &crate::aftersale::DisputePlan,
    at: i64,
) -> Option<Value> {
    let status = dispute_status(plan, at)?;
    let salt = shop.profile.id_salt;
    let order = &shop.book.orders[index as usize];
    let total = crate::lifecycle::total_cents(order, shop.book.items(order));
    Some(json!({
        "id": ids::dispute(salt, index),
        "order_id": ids::order(salt, index),
        "type": if plan.chargeback { "chargeback" } else { "inquiry" },
        "amount": wire::money(total),
        "currency": shop.info.currency,
        "reason": plan.reason.to_ascii_lowercase(),
        "network_reason_code": plan.network_reason_code,
        "status": status.to_ascii_lowercase(),
        "evidence_due_by": timestamp(plan.evidence_due_by, &shop.tz),
        "evidence_sent_on": (plan.responded_at <= at)
            .then(|| timestamp(plan.responded_at, &shop.tz)),
        "finalized_on": (plan.finalized_at <= at).then(|| timestamp(plan.finalized_at, &shop.tz)),
        "initiated_at": timestamp(plan.initiated_at, &shop.tz),
    }))
}

/// The REST abandoned `Checkout`: the cart's first line items of its order.
fn checkout_body(shop: &Shop, checkout: &Checkout) -> Value {
    let salt = shop.profile.id_salt;
    let id = ids::checkout(salt, checkout.position);
    let order = &shop.book.orders[checkout.order as usize];
    let items = &shop.book.items(order)[..checkout.items];
    let subtotal: i64 = items
        .iter()
        .map(|i| i.unit_price_cents as i64 * i.quantity as i64)
        .sum();
    let lines: Vec<Value> = items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let variant_id = match item.item {
                ItemRef::Variant { product, variant } => {
                    Some(shop.catalog.products[product as usize].variants[variant as usize].id)
                }
                _ => None,
            };
            json!({
                "key": format!("{:x}", ids::checkout_line_item(salt, checkout.position, k)),
                "quantity": item.quantity,
                "price": wire::money(item.unit_price_cents as i64),
                "variant_id": variant_id,
            })
        })
        .collect();
    let customer = (order.customer != NO_CUSTOMER).then(|| {
        let c = &shop.book.customers[order.customer as usize];
        json!({
            "id": ids::customer(salt, order.customer),
            "email": c.email(order.customer),
            "first_name": c.first_name(),
            "last_name": c.last_name(),
        })
    });
    let email = customer.as_ref().map(|c| c["email"].clone());
    json!({
        "id": id,
        "token": format!("{:032x}", crate::rhythm::mix(id)),
        "name": format!("#{}", id % 100_000_000),
        "email": email,
        "created_at": timestamp(checkout.created_at, &shop.tz),
        "updated_at": timestamp(checkout.updated_at, &shop.tz),
        "completed_at": checkout.completed_at.map(|t| timestamp(t, &shop.tz)),
        "currency": shop.info.currency,
        "presentment_currency": shop.info.currency,
        "subtotal_price": wire::money(subtotal),
        "total_price": wire::money(subtotal),
        "line_items": lines,
        "customer": customer,
    })
}
