//! Webhook payloads of the resources only GraphQL lists (disputes,
//! customers, abandoned checkouts, returns) → domain records, as pure
//! functions. Webhooks kept their REST-shaped JSON when the listings moved
//! to GraphQL; the rules that make these records (amounts in the brand's
//! currency or refused, Shopify's enums kept when unknown, `Date`-only
//! fields, the recovery link never kept) have one home, the GraphQL
//! normalizers ([`crate::shopify::graphql::normalize`]). So a payload is
//! restated in the GraphQL shape here — `snake_case` to `camelCase`, enums to
//! their upper-case GraphQL spelling, a bare amount with its currency to a
//! `MoneyV2` — and normalized by them: the webhook and the sync store the
//! same record from the same facts.
//!
//! What a payload lacks is refused naming the field, never invented: a
//! customer without `orders_count`/`total_spent` (recent API versions
//! leave them out of the customer resource) cannot give lifetime figures.
//! A return's payload carries no time at all: each `returns/*` delivery
//! happens at its trigger time (`X-Shopify-Triggered-At`), which is when
//! the return reached the status the topic names. `returns/request` makes
//! the record ([`return_request_from_json`]); the others are a change of
//! a stored return ([`return_change_from_json`]), applied to it with that
//! time ([`opsdeck_domain::ReturnRequest::record_status`]).

use crate::shopify::graphql::normalize::return_status;
use crate::shopify::graphql::normalize::{
    abandoned_checkout_from_graphql, customer_from_graphql, dispute_from_graphql,
    return_from_graphql, ShopifyDispute, ShopifyReturn,
};
use crate::shopify::normalize::{NormalizeContext, NormalizeError};
use crate::shopify::WebhookTopic;
use opsdeck_domain::bounds;
use opsdeck_domain::{AbandonedCheckout, CustomerSummary, ReturnStatus, Timestamp};
use serde_json::{json, Value};

fn error(kind: &'static str, raw: &Value, field: &str, reason: &str) -> NormalizeError {
    NormalizeError {
        kind,
        id: bounds::excerpt(&id_of(raw, "id").unwrap_or_else(|| "?".into())),
        field: field.into(),
        reason: reason.into(),
    }
}

/// A REST id (a number, or a string) as text.
fn id_of(raw: &Value, key: &str) -> Option<String> {
    match raw.get(key)? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        _ => None,
    }
}

fn required_id(kind: &'static str, raw: &Value) -> Result<String, NormalizeError> {
    id_of(raw, "id").ok_or_else(|| error(kind, raw, "id", "missing"))
}

/// `{"id": …}` of a nested REST object, as the GraphQL reference `{id}`.
fn reference(raw: &Value, key: &str) -> Value {
    match raw.get(key) {
        Some(Value::Object(_)) => raw
            .get(key)
            .and_then(|o| id_of(o, "id"))
            .map_or(Value::Null, |id| json!({ "id": id })),
        Some(_) => id_of(raw, key).map_or(Value::Null, |id| json!({ "id": id })),
        None => Value::Null,
    }
}

fn upper(raw: &Value, key: &str) -> Value {
    raw.get(key)
        .and_then(Value::as_str)
        .map_or(Value::Null, |s| Value::String(s.to_ascii_uppercase()))
}

/// A REST amount (string or number) as text.
fn amount(raw: &Value, key: &str) -> Option<String> {
    match raw.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A `disputes/create|update` payload (Shopify's REST `Dispute`).
pub fn dispute_from_json(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<ShopifyDispute, NormalizeError> {
    let id = required_id("dispute", raw)?;
    let money = amount(raw, "amount").ok_or_else(|| error("dispute", raw, "amount", "missing"))?;
    let restated = json!({
        "id": id,
        "amount": {"amount": money, "currencyCode": raw.get("currency")},
        "status": upper(raw, "status"),
        "type": upper(raw, "type"),
        "evidenceDueBy": raw.get("evidence_due_by"),
        "evidenceSentOn": raw.get("evidence_sent_on"),
        "finalizedOn": raw.get("finalized_on"),
        "initiatedAt": raw.get("initiated_at"),
        "reasonDetails": {
            "reason": upper(raw, "reason"),
            "networkReasonCode": raw.get("network_reason_code"),
        },
        "order": reference(raw, "order_id"),
    });
    dispute_from_graphql(ctx, &restated)
}

/// A `customers/update` payload (Shopify's REST `Customer`): its lifetime
/// figures are `orders_count` and `total_spent` in the customer's
/// `currency`.
pub fn customer_from_json(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<CustomerSummary, NormalizeError> {
    let id = required_id("customer", raw)?;
    let orders = raw
        .get("orders_count")
        .filter(|v| !v.is_null())
        .ok_or_else(|| error("customer", raw, "orders_count", "missing"))?;
    let spent = amount(raw, "total_spent")
        .ok_or_else(|| error("customer", raw, "total_spent", "missing"))?;
    let tags: Vec<&str> = raw
        .get("tags")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .collect();
    let restated = json!({
        "id": id,
        "email": raw.get("email"),
        "firstName": raw.get("first_name"),
        "lastName": raw.get("last_name"),
        "numberOfOrders": orders,
        "amountSpent": {"amount": spent, "currencyCode": raw.get("currency")},
        "tags": tags,
        "createdAt": raw.get("created_at"),
        "updatedAt": raw.get("updated_at"),
    });
    customer_from_graphql(ctx, &restated)
}

/// A `checkouts/create|update` payload (Shopify's REST abandoned
/// `Checkout`): its total in the checkout's `currency`, its units from its
/// line items. The recovery URL is not read.
pub fn abandoned_checkout_from_json(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<AbandonedCheckout, NormalizeError> {
    let id = required_id("abandoned_checkout", raw)?;
    let lines: Vec<Value> = raw
        .get("line_items")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .map(|l| json!({"quantity": l.get("quantity")}))
                .collect()
        })
        .unwrap_or_default();
    let customer = raw.get("customer").filter(|c| c.is_object()).map(|c| {
        json!({
            "id": id_of(c, "id"),
            "email": c.get("email").filter(|e| !e.is_null()).or(raw.get("email")),
        })
    });
    let total = amount(raw, "total_price")
        .map(|total| json!({"shopMoney": {"amount": total, "currencyCode": raw.get("currency")}}));
    let restated = json!({
        "id": id,
        "name": raw.get("name"),
        "createdAt": raw.get("created_at"),
        "updatedAt": raw.get("updated_at"),
        "completedAt": raw.get("completed_at"),
        "customer": customer.unwrap_or_else(|| json!({"id": null, "email": raw.get("email")})),
        "totalPriceSet": total,
        "lineItems": {"nodes": lines},
    });
    abandoned_checkout_from_graphql(ctx, &restated)
}

/// A `returns/request` payload: the return as requested at `requested_at`
/// (the delivery's trigger time; the payload itself has no time).
pub fn return_request_from_json(
    ctx: &NormalizeContext,
    raw: &Value,
    requested_at: Timestamp,
) -> Result<ShopifyReturn, NormalizeError> {
    let id = required_id("return", raw)?;
    let lines: Vec<Value> = raw
        .get("return_line_items")
        .and_then(Value::as_array)
        .map(|lines| {
            lines
                .iter()
                .map(|l| {
                    json!({
                        "id": id_of(l, "id").unwrap_or_default(),
                        "quantity": l.get("quantity"),
                        "returnReason": upper(l, "return_reason"),
                        "returnReasonNote": l.get("return_reason_note"),
                        "customerNote": l.get("customer_note"),
                        "fulfillmentLineItem": {
                            "lineItem": l.get("fulfillment_line_item")
                                .map_or(Value::Null, |f| reference(f, "line_item")),
                        },
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    let restated = json!({
        "id": id,
        "name": raw.get("name"),
        "status": upper(raw, "status"),
        "createdAt": requested_at.to_string(),
        "order": reference(raw, "order"),
        "returnLineItems": {"nodes": lines},
    });
    return_from_graphql(ctx, &restated)
}

/// What a `returns/*` delivery other than `returns/request` says of a
/// stored return.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnChange {
    /// The return's id (REST, numeric).
    pub return_id: String,
    /// The order, where the payload names it (`order_id` or `order`).
    pub order_id: Option<String>,
    /// The status the return reached: the payload's `status` where it has
    /// one, else the one the topic documents (`returns/approve` and
    /// `returns/reopen` leave it OPEN, `returns/decline` DECLINED,
    /// `returns/cancel` CANCELED, `returns/close` CLOSED). `None` for a
    /// change that is not one of status (`returns/update`: lines added or
    /// removed; `returns/process` without a `status`).
    pub status: Option<ReturnStatus>,
    /// A declined return's reason (`decline.reason`, e.g.
    /// `return_period_ended`).
    pub decline_reason: Option<String>,
    /// `returns/update`: return lines removed, by how many units in all
    /// (`return_line_items.removals[].delta`).
    pub lines_removed: i64,
}

/// A `returns/approve|decline|cancel|close|reopen|process|update`
/// payload. Their shapes differ (Shopify's reference samples, in
/// `fixtures/shopify/webhooks/returns_*.json`): approve carries the whole
/// return with `order`; cancel, close and reopen only `id`, `order_id` and
/// `status`; decline `id`, `status` and `decline {reason, note}`; update
/// has no status, only the lines' removals and updates. `returns/request`
/// is not a change ([`return_request_from_json`]); a topic that is not
/// about returns is refused.
pub fn return_change_from_json(
    topic: WebhookTopic,
    raw: &Value,
) -> Result<ReturnChange, NormalizeError> {
    use WebhookTopic as T;
    let documented = match topic {
        T::ReturnsApprove | T::ReturnsReopen => Some("OPEN"),
        T::ReturnsDecline => Some("DECLINED"),
        T::ReturnsCancel => Some("CANCELED"),
        T::ReturnsClose => Some("CLOSED"),
        T::ReturnsProcess | T::ReturnsUpdate => None,
        other => {
            return Err(error(
                "return",
                raw,
                "topic",
                &format!("{other} is not a change of a return"),
            ))
        }
    };
    let return_id = id_of(raw, "id")
        .or_else(|| {
            // `returns/update` names the return only by its GraphQL id.
            raw.get("admin_graphql_api_id")
                .and_then(Value::as_str)
                .and_then(|gid| gid.rsplit_once('/'))
                .map(|(_, id)| id.to_string())
                .filter(|id| !id.is_empty())
        })
        .ok_or_else(|| error("return", raw, "id", "missing"))?;
    let payload_status = raw
        .get("status")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let status = match topic {
        // Its lines changed, not its status, whatever else it carries.
        T::ReturnsUpdate => None,
        _ => payload_status
            .map(|s| return_status(&s.to_ascii_uppercase()))
            .or_else(|| documented.map(return_status)),
    };
    let order_id = id_of(raw, "order_id").or_else(|| {
        raw.get("order")
            .filter(|o| o.is_object())
            .and_then(|o| id_of(o, "id"))
    });
    let decline_reason = raw
        .pointer("/decline/reason")
        .and_then(Value::as_str)
        .map(str::to_ascii_lowercase);
    let lines_removed = raw
        .pointer("/return_line_items/removals")
        .and_then(Value::as_array)
        .map_or(0, |removals| {
            removals
                .iter()
                .filter_map(|r| r.get("delta").and_then(Value::as_i64))
                .sum()
        });
    bounds::units(lines_removed)
        .map_err(|e| error("return", raw, "return_line_items.removals", &e.to_string()))?;
    Ok(ReturnChange {
        return_id,
        order_id,
        status,
        decline_reason,
        lines_removed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::{BrandId, Currency, ReturnStatus, SourceId};

    fn ctx() -> NormalizeContext {
        NormalizeContext {
            source: SourceId::parse("shopify-test").unwrap(),
            brand: BrandId::parse("test").unwrap(),
            currency: Currency::parse("USD").unwrap(),
        }
    }

    fn fixture(name: &str) -> Value {
        let path = format!(
            "{}/../../fixtures/shopify/webhooks/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    #[test]
    fn a_real_dispute_payload_becomes_a_chargeback_with_its_state() {
        let d = dispute_from_json(&ctx(), &fixture("disputes_update.json")).unwrap();
        assert_eq!(d.event.external_id, "85190714");
        assert_eq!(d.event.kind.as_str(), "chargeback");
        assert_eq!(d.event.order_id.as_deref(), Some("625362839"));
        assert_eq!(d.event.amount.unwrap().minor, 1150);
        assert_eq!(d.event.reason.as_deref(), Some("fraudulent"));
        assert_eq!(d.state.status.as_str(), "under_review");
        assert!(d.state.evidence_due_by.is_some());
        // Its latest known event: the evidence sent on 2024-01-01.
        assert_eq!(d.event.updated_at.to_string(), "2024-01-02T00:00:00Z");
    }

    #[test]
    fn a_dispute_in_another_currency_is_refused_naming_the_field() {
        let mut raw = fixture("disputes_create.json");
        raw["currency"] = json!("CAD");
        let err = dispute_from_json(&ctx(), &raw).unwrap_err();
        assert_eq!(err.field, "amount");
    }

    #[test]
    fn a_real_customer_payload_gives_lifetime_figures_and_refuses_without_them() {
        let c = customer_from_json(&ctx(), &fixture("customers_update.json")).unwrap();
        assert_eq!(c.external_id, "207119551");
        assert_eq!(c.order_count, 1);
        assert_eq!(c.lifetime_spend.minor, 19965);
        assert_eq!(c.tags, ["Léon", "Noël"]);
        assert_eq!(c.name.as_deref(), Some("Bob Norman"));
        let mut without = fixture("customers_update.json");
        without.as_object_mut().unwrap().remove("total_spent");
        let err = customer_from_json(&ctx(), &without).unwrap_err();
        assert_eq!(err.field, "total_spent");
    }

    #[test]
    fn a_real_checkout_payload_keeps_total_and_units_but_not_the_recovery_link() {
        let raw = fixture("checkouts_update.json");
        let c = abandoned_checkout_from_json(&ctx(), &raw).unwrap();
        assert_eq!(c.external_id, "450789469");
        assert_eq!(c.total.unwrap().minor, 37969);
        assert_eq!(c.quantity, Some(2));
        assert_eq!(c.customer_id.as_deref(), Some("207119551"));
        assert!(!c.is_recovered());
        let stored = serde_json::to_string(&c).unwrap();
        assert!(!stored.contains("recover"), "{stored}");
    }

    #[test]
    fn a_real_return_request_payload_is_requested_at_its_trigger_time() {
        let at: Timestamp = "2023-10-19T10:00:00Z".parse().unwrap();
        let r = return_request_from_json(&ctx(), &fixture("returns_request.json"), at).unwrap();
        assert_eq!(r.request.external_id, "3547267221");
        assert_eq!(r.request.status, ReturnStatus::Requested);
        assert_eq!(r.request.order_id.as_deref(), Some("5196695273621"));
        assert_eq!(r.request.requested_at, at);
        assert_eq!(r.request.reason.as_deref(), Some("unwanted"));
        assert_eq!(r.lines[0].line_item_id.as_deref(), Some("12695210000533"));
    }

    #[test]
    fn each_real_returns_payload_gives_its_return_and_status() {
        use ReturnStatus as S;
        let cases = [
            (
                WebhookTopic::ReturnsApprove,
                "returns_approve.json",
                S::Approved,
                Some("4783296544821"),
            ),
            (
                WebhookTopic::ReturnsDecline,
                "returns_decline.json",
                S::Rejected,
                None,
            ),
            (
                WebhookTopic::ReturnsCancel,
                "returns_cancel.json",
                S::Cancelled,
                Some("4783296544821"),
            ),
            (
                WebhookTopic::ReturnsClose,
                "returns_close.json",
                S::Received,
                Some("4783296544821"),
            ),
            (
                WebhookTopic::ReturnsReopen,
                "returns_reopen.json",
                S::Approved,
                Some("4783296544821"),
            ),
        ];
        for (topic, file, status, order) in cases {
            let c = return_change_from_json(topic, &fixture(file)).unwrap();
            assert_eq!(c.return_id, "123134564567890", "{file}");
            assert_eq!(c.status, Some(status), "{file}");
            assert_eq!(c.order_id.as_deref(), order, "{file}");
            assert_eq!(c.lines_removed, 0, "{file}");
        }
        let declined = return_change_from_json(
            WebhookTopic::ReturnsDecline,
            &fixture("returns_decline.json"),
        )
        .unwrap();
        assert_eq!(
            declined.decline_reason.as_deref(),
            Some("return_period_ended")
        );
    }

    #[test]
    fn a_returns_update_is_a_change_of_lines_named_by_its_graphql_id() {
        let c =
            return_change_from_json(WebhookTopic::ReturnsUpdate, &fixture("returns_update.json"))
                .unwrap();
        assert_eq!(c.return_id, "123134564567890");
        assert_eq!(c.status, None);
        assert_eq!(c.lines_removed, 2);
    }

    #[test]
    fn without_a_status_the_topic_says_which_and_process_says_none() {
        let mut raw = fixture("returns_close.json");
        raw.as_object_mut().unwrap().remove("status");
        let c = return_change_from_json(WebhookTopic::ReturnsClose, &raw).unwrap();
        assert_eq!(c.status, Some(ReturnStatus::Received));
        let c = return_change_from_json(WebhookTopic::ReturnsProcess, &raw).unwrap();
        assert_eq!(c.status, None);
        // A status Shopify adds later is kept, not mapped to a known one.
        raw["status"] = json!("in_transit");
        let c = return_change_from_json(WebhookTopic::ReturnsProcess, &raw).unwrap();
        assert_eq!(c.status, Some(ReturnStatus::Other("in_transit".into())));
    }

    #[test]
    fn a_return_change_without_an_id_or_on_another_topic_is_refused_naming_it() {
        let mut raw = fixture("returns_cancel.json");
        let err = return_change_from_json(WebhookTopic::DisputesUpdate, &raw).unwrap_err();
        assert_eq!(err.field, "topic");
        raw.as_object_mut().unwrap().remove("id");
        raw.as_object_mut().unwrap().remove("admin_graphql_api_id");
        let err = return_change_from_json(WebhookTopic::ReturnsCancel, &raw).unwrap_err();
        assert_eq!(err.field, "id");
    }

    #[test]
    fn a_return_request_starts_its_history_and_changes_follow_in_time_order() {
        let requested: Timestamp = "2023-10-19T10:00:00Z".parse().unwrap();
        let mut r = return_request_from_json(&ctx(), &fixture("returns_request.json"), requested)
            .unwrap()
            .request;
        assert_eq!(r.status_history.len(), 1);
        let approved: Timestamp = "2023-10-20T10:00:00Z".parse().unwrap();
        let closed: Timestamp = "2023-10-25T10:00:00Z".parse().unwrap();
        // Delivered out of order, and the close twice.
        r.record_status(ReturnStatus::Received, closed);
        r.record_status(ReturnStatus::Approved, approved);
        r.record_status(ReturnStatus::Received, closed);
        let history: Vec<_> = r
            .status_history
            .iter()
            .map(|c| (c.status.as_str().to_string(), c.at))
            .collect();
        assert_eq!(
            history,
            [
                ("requested".to_string(), requested),
                ("approved".to_string(), approved),
                ("received".to_string(), closed),
            ]
        );
        assert_eq!(r.status, ReturnStatus::Received);
        assert_eq!(r.resolved_at, Some(closed));
        assert_eq!(r.updated_at, closed);
        // Reopened: under way again, no longer resolved.
        let reopened: Timestamp = "2023-10-26T10:00:00Z".parse().unwrap();
        r.record_status(ReturnStatus::Approved, reopened);
        assert_eq!(r.status, ReturnStatus::Approved);
        assert_eq!(r.resolved_at, None);
        assert_eq!(r.updated_at, reopened);
    }
}
