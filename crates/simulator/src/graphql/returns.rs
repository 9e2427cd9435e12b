//! `returnApproveRequest` and `returnDeclineRequest`, as Shopify answers
//! them: the token needs `write_returns` (else `ACCESS_DENIED`, nothing
//! changes); a return that is not REQUESTED answers a `userErrors` entry
//! (`INVALID_STATE` on `input.id`) and stays as it is; an unknown id
//! answers `NOT_FOUND`. A decided return is OPEN (approved) or DECLINED
//! from that moment on every face (GraphQL, bulk, webhooks), and the
//! shop's `returns/approve` or `returns/decline` subscribers are sent
//! the webhook at once.

use super::wire::returns::order_return;
use crate::aftersale::{return_plan, return_status, ReturnDecision, ReturnOutcome};
use crate::ids;
use crate::world::World;
use serde_json::{json, Value};

/// What a decision mutation did: its payload, and the webhook to send
/// (topic, body) when it changed a return.
pub(crate) struct Decided {
    pub payload: Value,
    pub webhook: Option<(&'static str, Value)>,
}

fn user_error(message: String, code: &str) -> Value {
    json!({ "field": ["input", "id"], "message": message, "code": code })
}

fn refused(error: Value) -> Decided {
    Decided {
        payload: json!({ "return": null, "userErrors": [error] }),
        webhook: None,
    }
}

/// Decides the return `input.id` of shop `slug`: approved when
/// `approve`, else declined.
pub(crate) fn decide(
    world: &mut World,
    slug: &str,
    input: Option<&Value>,
    approve: bool,
) -> Decided {
    let (seed, now) = (world.seed, world.now);
    let Some(shop) = world.shop_mut(slug) else {
        return refused(user_error("Shop not found".into(), "NOT_FOUND"));
    };
    let salt = shop.profile.id_salt;
    let gid = input
        .and_then(|i| i.get("id"))
        .and_then(Value::as_str)
        .unwrap_or_default();
    let index = gid
        .strip_prefix("gid://shopify/Return/")
        .and_then(|n| n.parse::<u64>().ok())
        .and_then(|id| ids::return_order_index(salt, id))
        .filter(|i| (*i as usize) < shop.book.orders.len());
    let Some(index) = index else {
        return refused(user_error(
            format!("Return {gid} does not exist"),
            "NOT_FOUND",
        ));
    };
    let Some(plan) = return_plan(&shop.book, seed, salt, index) else {
        return refused(user_error(
            format!("Return {gid} does not exist"),
            "NOT_FOUND",
        ));
    };
    match return_status(&plan, now) {
        None => {
            return refused(user_error(
                format!("Return {gid} does not exist"),
                "NOT_FOUND",
            ))
        }
        Some("REQUESTED") => {}
        Some(status) => {
            let verb = if approve { "approved" } else { "declined" };
            return refused(user_error(
                format!(
                    "Return is not {verb}able. Only returns with status REQUESTED can be {verb}; this one is {status}."
                ),
                "INVALID_STATE",
            ));
        }
    }
    if !approve {
        let reason = input
            .and_then(|i| i.get("declineReason"))
            .and_then(Value::as_str);
        if !matches!(reason, Some("RETURN_PERIOD_ENDED" | "FINAL_SALE" | "OTHER")) {
            return refused(json!({
                "field": ["input", "declineReason"],
                "message": "Decline reason is invalid",
                "code": "INVALID",
            }));
        }
    }
    let outcome = if approve {
        ReturnOutcome::Approved
    } else {
        ReturnOutcome::Declined
    };
    shop.book
        .return_decisions
        .insert(index, ReturnDecision { outcome, at: now });
    let topic = if approve {
        "returns/approve"
    } else {
        "returns/decline"
    };
    let webhook = return_plan(&shop.book, seed, salt, index).map(|plan| {
        (
            topic,
            crate::webhook_events::return_body(shop, index, &plan, topic),
        )
    });
    Decided {
        payload: json!({
            "return": order_return(shop, seed, index, now),
            "userErrors": [],
        }),
        webhook,
    }
}
