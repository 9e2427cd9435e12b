//! `Return` with its `returnLineItems`, reached through `Order.returns`.

use serde::Serialize;
use serde_json::Value;

use super::{datetime, gid, reference, typed, with, Nodes};
use crate::aftersale::{return_plan, return_status, ReturnOutcome};
use crate::ids;
use crate::world::Shop;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReturnWire {
    id: String,
    name: String,
    status: &'static str,
    created_at: String,
    request_approved_at: Option<String>,
    closed_at: Option<String>,
    decline: Option<Value>,
    total_quantity: u16,
    order: Value,
    return_line_items: Nodes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReturnLineItemWire {
    id: String,
    quantity: u16,
    return_reason: &'static str,
    return_reason_definition: Value,
    return_reason_note: &'static str,
    customer_note: Option<&'static str>,
    fulfillment_line_item: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DeclineWire {
    reason: &'static str,
    note: Option<&'static str>,
}

/// The return on order `index` as it stands at `now`, if one was requested.
pub(crate) fn order_return(shop: &Shop, seed: u64, index: u32, now: i64) -> Option<Value> {
    let book = &shop.book;
    let salt = shop.profile.id_salt;
    let id = ids::order(salt, index);
    let number = 1000 + index + 1;
    let line_id = |position: usize| ids::line_item(salt, index, position);
    let plan = return_plan(book, seed, salt, index)?;
    let status = return_status(&plan, now)?;
    let rid = ids::return_id(salt, index);
    let decided = plan.decided_at <= now;
    Some(typed(
        "Return",
        ReturnWire {
            id: gid("Return", rid),
            name: format!("#{number}-R1"),
            status,
            created_at: datetime(plan.requested_at),
            request_approved_at: (decided && plan.outcome == ReturnOutcome::Approved)
                .then(|| datetime(plan.decided_at)),
            closed_at: match status {
                "CLOSED" => Some(datetime(plan.closed_at)),
                "DECLINED" | "CANCELED" => Some(datetime(plan.decided_at)),
                _ => None,
            },
            decline: (status == "DECLINED").then(|| {
                typed(
                    "ReturnDecline",
                    DeclineWire {
                        reason: "RETURN_PERIOD_ENDED",
                        note: Some("Outside the 30-day window"),
                    },
                )
            }),
            total_quantity: plan.quantity,
            order: reference("Order", id),
            return_line_items: Nodes {
                nodes: vec![typed(
                    "ReturnLineItem",
                    ReturnLineItemWire {
                        id: gid("ReturnLineItem", ids::return_line_item(salt, index)),
                        quantity: plan.quantity,
                        return_reason: plan.reason,
                        return_reason_definition: reason_definition(plan.reason),
                        return_reason_note: "",
                        customer_note: None,
                        fulfillment_line_item: {
                            let mut fli = reference("FulfillmentLineItem", line_id(plan.item) + 7);
                            if let Value::Object(map) = &mut fli {
                                map.insert(
                                    "lineItem".into(),
                                    reference("LineItem", line_id(plan.item)),
                                );
                            }
                            fli
                        },
                    },
                )],
            },
        },
    ))
}

/// Shopify's return reason definitions for the reasons the simulator uses.
fn reason_definition(reason: &str) -> Value {
    let (number, handle, name) = match reason {
        "SIZE_TOO_SMALL" => (64, "too-small", "Too small"),
        "SIZE_TOO_LARGE" => (65, "too-large", "Too large"),
        "DEFECTIVE" => (66, "defective", "Defective or damaged"),
        "NOT_AS_DESCRIBED" => (67, "not-as-described", "Not as described"),
        "UNWANTED" => (68, "unwanted", "Changed my mind"),
        _ => (69, "wrong-item", "Received the wrong item"),
    };
    with(
        reference("ReturnReasonDefinition", number),
        [
            ("handle", Value::String(handle.into())),
            ("name", Value::String(name.into())),
        ],
    )
}
