//! Shopify's mandatory compliance webhooks → privacy requests, as a pure
//! function ([`compliance_request_from_json`]).
//!
//! The payloads (Shopify's documentation; samples in
//! `fixtures/shopify/webhooks/compliance/`):
//! - `customers/data_request`: `{shop_id, shop_domain, orders_requested[],
//!   customer {id, email, phone}, data_request {id}}`: the merchant asked
//!   Shopify for a customer's data; the app must give its share.
//! - `customers/redact`: `{shop_id, shop_domain, customer {id, email,
//!   phone}, orders_to_redact[]}`: erase one customer's personal data of
//!   that shop (sent 10 days after the request, or held until 6 months
//!   after the customer's last order).
//! - `shop/redact`: `{shop_id, shop_domain}`: 48 h after the app was
//!   uninstalled, erase every customer's personal data of that shop.
//!
//! Ids arrive as numbers or strings; both are kept as text. A customer
//! request that names no one (no id, email or phone, no order) is refused
//! naming the field, since nothing could be found by it.

use crate::shopify::normalize::NormalizeError;
use crate::shopify::WebhookTopic;
use opsdeck_domain::bounds;
use opsdeck_domain::privacy::{DataSubject, PrivacyRequestKind};
use serde_json::Value;

/// What a compliance delivery asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComplianceRequest {
    pub kind: PrivacyRequestKind,
    /// Shopify's own id of the request, where it gives one
    /// (`data_request.id`); the redactions have none.
    pub platform_request_id: Option<String>,
    /// The shop as the payload names it (`shop_domain`).
    pub shop_domain: Option<String>,
    /// Who it is about; empty for `shop/redact`.
    pub subject: DataSubject,
}

fn text_id(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.trim().is_empty() => Some(bounds::excerpt(s.trim())),
        _ => None,
    }
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(bounds::excerpt(s.trim())),
        _ => None,
    }
}

fn error(topic: WebhookTopic, field: &str, reason: &str) -> NormalizeError {
    NormalizeError {
        kind: topic.as_str(),
        id: "?".into(),
        field: field.into(),
        reason: reason.into(),
    }
}

/// The privacy request a compliance delivery of `topic` makes. `None`
/// for a topic that is not a compliance one.
pub fn compliance_request_from_json(
    topic: WebhookTopic,
    raw: &Value,
) -> Option<Result<ComplianceRequest, NormalizeError>> {
    let kind = match topic {
        WebhookTopic::CustomersDataRequest => PrivacyRequestKind::Export,
        WebhookTopic::CustomersRedact => PrivacyRequestKind::Erasure,
        WebhookTopic::ShopRedact => PrivacyRequestKind::ShopErasure,
        _ => return None,
    };
    Some(read(topic, kind, raw))
}

fn read(
    topic: WebhookTopic,
    kind: PrivacyRequestKind,
    raw: &Value,
) -> Result<ComplianceRequest, NormalizeError> {
    if !raw.is_object() {
        return Err(error(topic, "(body)", "not a JSON object"));
    }
    let shop_domain = text(raw.get("shop_domain"));
    if kind == PrivacyRequestKind::ShopErasure {
        return Ok(ComplianceRequest {
            kind,
            platform_request_id: None,
            shop_domain,
            subject: DataSubject::default(),
        });
    }
    let customer = raw.get("customer");
    if customer.is_some_and(|c| !c.is_object() && !c.is_null()) {
        return Err(error(topic, "customer", "not an object"));
    }
    let orders_key = match kind {
        PrivacyRequestKind::Export => "orders_requested",
        _ => "orders_to_redact",
    };
    let order_ids = match raw.get(orders_key) {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => {
            let mut ids = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                match text_id(Some(item)) {
                    Some(id) => ids.push(id),
                    None => {
                        return Err(error(
                            topic,
                            &format!("{orders_key}[{i}]"),
                            "not an order id",
                        ))
                    }
                }
            }
            ids
        }
        Some(_) => return Err(error(topic, orders_key, "not an array")),
    };
    let field = |name: &str| customer.and_then(|c| c.get(name));
    let subject = DataSubject {
        customer_id: text_id(field("id")),
        email: text(field("email")),
        phone: text(field("phone")),
        name: None,
        order_ids,
    };
    if subject.is_empty() {
        return Err(error(
            topic,
            "customer",
            "names no one: no id, email or phone, and no orders",
        ));
    }
    let platform_request_id = raw.get("data_request").and_then(|d| text_id(d.get("id")));
    Ok(ComplianceRequest {
        kind,
        platform_request_id,
        shop_domain,
        subject,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_request_names_the_customer_orders_and_request() {
        let raw = json!({
            "shop_id": 954889, "shop_domain": "x.myshopify.com",
            "orders_requested": [299938, "280263"],
            "customer": {"id": 191167, "email": "john@example.com", "phone": "555-625-1199"},
            "data_request": {"id": 9999}
        });
        let r = compliance_request_from_json(WebhookTopic::CustomersDataRequest, &raw)
            .unwrap()
            .unwrap();
        assert_eq!(r.kind, PrivacyRequestKind::Export);
        assert_eq!(r.platform_request_id.as_deref(), Some("9999"));
        assert_eq!(r.subject.customer_id.as_deref(), Some("191167"));
        assert_eq!(r.subject.email.as_deref(), Some("john@example.com"));
        assert_eq!(r.subject.order_ids, vec!["299938", "280263"]);
    }

    #[test]
    fn a_redaction_naming_no_one_is_refused_naming_the_field() {
        let raw = json!({"shop_id": 1, "shop_domain": "x.myshopify.com", "customer": {}});
        let err = compliance_request_from_json(WebhookTopic::CustomersRedact, &raw)
            .unwrap()
            .unwrap_err();
        assert_eq!(err.field, "customer");
        let raw = json!({"customer": {"id": 1}, "orders_to_redact": [{"id": 1}]});
        let err = compliance_request_from_json(WebhookTopic::CustomersRedact, &raw)
            .unwrap()
            .unwrap_err();
        assert_eq!(err.field, "orders_to_redact[0]");
    }

    #[test]
    fn shop_redact_names_the_shop_only() {
        let raw = json!({"shop_id": 954889, "shop_domain": "x.myshopify.com"});
        let r = compliance_request_from_json(WebhookTopic::ShopRedact, &raw)
            .unwrap()
            .unwrap();
        assert_eq!(r.kind, PrivacyRequestKind::ShopErasure);
        assert!(r.subject.is_empty());
        assert!(compliance_request_from_json(WebhookTopic::OrdersCreate, &raw).is_none());
    }
}
