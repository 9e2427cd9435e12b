//! The standing robustness suite for the connectors' parsers at the edge
//! (issue 11): real payloads (the Shopify fixtures, Gorgias' documented
//! shapes) with generated hostile values put anywhere in them — megabyte
//! strings, `i64::MAX`, negative and signed amounts, the years 0 and 2100,
//! a +25:00 offset, wrong types, deep nesting — fed to every normalizer.
//!
//! Each case must end in one of two ways, never a panic:
//! - a record within every bound (`opsdeck_domain::bounds`), with its
//!   order amounts not negative and in the brand's currency; or
//! - an error that names the record and gives a reason of bounded length.
//!
//! 64 cases per property by default (CI); a deeper run:
//! `PROPTEST_CASES=5000 cargo test -p opsdeck-sources --test hostile_payloads`.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use opsdeck_domain::{Bounded, BrandId, Currency, SourceId};
use opsdeck_sources::gorgias::normalize::{message_from_json, survey_from_json, ticket_from_json};
use opsdeck_sources::shopify::normalize::{
    fulfillment_from_json, inventory_level_from_json, order_from_json, order_from_text,
    product_from_json, refund_from_json,
};
use opsdeck_sources::shopify::NormalizeContext;
use proptest::prelude::*;
use serde_json::{json, Value};

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        config.cases = 64;
    }
    config.failure_persistence = None;
    config
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/shopify/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap();
    match value.as_object().filter(|o| o.len() == 1) {
        Some(o) => o.values().next().unwrap().clone(),
        None => value,
    }
}

fn ctx() -> NormalizeContext {
    NormalizeContext {
        source: SourceId::parse("shopify-hostile").unwrap(),
        brand: BrandId::parse("hostile").unwrap(),
        currency: Currency::USD,
    }
}

/// A value no merchant has, or one at the edge of what they have.
fn hostile_value() -> impl Strategy<Value = Value> {
    let big = prop_oneof![Just(256usize), Just(1_025), Just(20_000), Just(1_100_000)]
        .prop_map(|n| Value::String("é".repeat(n / 2)));
    let amount = "[ +\\-]{0,2}[0-9]{0,22}(\\.[0-9]{0,5})?[ ]?".prop_map(Value::String);
    let time = "(0000|1999|2000|2026|2099|2100|9999)-(01|06|12|13)-(01|10|31)T(00|12|24):00:00(Z|[+-](00|12|14|15|25):(00|30|59))?"
        .prop_map(Value::String);
    let number = prop_oneof![
        Just(json!(i64::MAX)),
        Just(json!(i64::MIN)),
        Just(json!(u64::MAX)),
        Just(json!(-1)),
        Just(json!(0)),
        Just(json!(1e308)),
        Just(json!(-0.5)),
    ];
    let deep = (1usize..200).prop_map(|n| {
        let mut v = json!(1);
        for _ in 0..n {
            v = json!([v]);
        }
        v
    });
    prop_oneof![
        big,
        amount,
        time,
        number,
        deep,
        any::<String>().prop_map(Value::String),
        Just(Value::Null),
        Just(json!(true)),
        Just(json!({})),
        Just(json!([])),
        Just(json!("EUR")),
    ]
}

/// Every place in `value` a hostile value can go: each existing path, and
/// for objects a new key.
fn paths(value: &Value, at: String, out: &mut Vec<String>) {
    out.push(at.clone());
    match value {
        Value::Object(map) => {
            out.push(format!("{at}/unknown_key"));
            for (k, v) in map {
                paths(
                    v,
                    format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")),
                    out,
                );
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                paths(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

/// `base` with up to four of its places replaced by hostile values.
fn mutated(base: Value) -> impl Strategy<Value = Value> {
    let mut places = Vec::new();
    paths(&base, String::new(), &mut places);
    let places: Vec<String> = places.into_iter().filter(|p| !p.is_empty()).collect();
    proptest::collection::vec((0..places.len(), hostile_value()), 1..5).prop_map(move |edits| {
        let mut v = base.clone();
        for (i, hostile) in edits {
            set(&mut v, &places[i], hostile);
        }
        v
    })
}

/// Sets the JSON pointer `path` to `new`, adding the last key to an object.
fn set(root: &mut Value, path: &str, new: Value) {
    let (parent, key) = path.rsplit_once('/').unwrap();
    let key = key.replace("~1", "/").replace("~0", "~");
    match root.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.insert(key, new);
        }
        Some(Value::Array(items)) => {
            if let Some(slot) = key.parse::<usize>().ok().and_then(|i| items.get_mut(i)) {
                *slot = new;
            }
        }
        _ => {}
    }
}

/// An error is short enough for a log line and names why.
fn reasonable(error: &dyn std::fmt::Display) {
    let text = error.to_string();
    assert!(!text.is_empty());
    assert!(text.len() < 2_000, "error of {} bytes", text.len());
}

fn bounded<T: Bounded>(record: &T) {
    let outside = record.check();
    assert!(
        outside.is_empty(),
        "accepted outside its bounds: {outside:?}"
    );
}

fn gorgias_ticket() -> Value {
    json!({
        "id": 8001, "status": "open", "channel": "email", "via": "email",
        "subject": "Where is my order?", "excerpt": "Hi", "priority": "normal",
        "spam": false, "tags": [{"id": 1, "name": "wismo"}],
        "customer": {"id": 9, "email": "a@example.com", "name": "Ana"},
        "assignee_user": {"id": 2, "email": "agent@example.com", "name": "Bo"},
        "created_datetime": "2024-02-14T21:30:50.201204+00:00",
        "opened_datetime": "2024-02-14T21:30:50",
        "updated_datetime": "2024-02-14T22:00:00+00:00",
        "last_received_message_datetime": "2024-02-14T21:30:50+00:00",
        "closed_datetime": null, "snooze_datetime": null, "trashed_datetime": null
    })
}

fn gorgias_message() -> Value {
    json!({
        "id": 9001, "ticket_id": 8001, "from_agent": true, "public": true,
        "channel": "email", "rule_id": null, "integration_id": 5,
        "source": {"to": [{"address": "help@example.com"}]},
        "created_datetime": "2024-02-14T21:35:00+00:00",
        "sent_datetime": "2024-02-14T21:35:01+00:00", "failed_datetime": null,
        "subject": "Re: Where is my order?", "body_text": "It ships today.",
        "stripped_text": "It ships today.", "intents": [{"name": "shipping/status"}]
    })
}

fn gorgias_survey() -> Value {
    json!({
        "id": 7001, "ticket_id": 8001, "customer_id": 9, "score": 5,
        "body_text": "Great", "created_datetime": "2024-02-15T10:00:00",
        "scored_datetime": "2024-02-15T11:00:00+00:00",
        "sent_datetime": "2024-02-15T10:00:00+00:00"
    })
}

fn shopify_refund() -> Value {
    json!({
        "id": 509562969, "order_id": 450789469,
        "created_at": "2024-02-01T10:00:00-05:00", "note": "damaged",
        "refund_line_items": [{"line_item_id": 466157049, "quantity": 1,
            "subtotal_set": {"shop_money": {"amount": "199.00", "currency_code": "USD"},
                             "presentment_money": {"amount": "199.00", "currency_code": "USD"}}}],
        "transactions": [{"kind": "refund", "status": "success", "amount": "199.00", "currency": "USD"}]
    })
}

fn shopify_fulfillment() -> Value {
    let mut f = fixture("order_official_python_lib.json")["fulfillments"][0].clone();
    f["order_id"] = json!(450789469);
    f
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn shopify_orders(raw in mutated(fixture("order_official_python_lib.json"))) {
        match order_from_json(&ctx(), &raw) {
            Ok(order) => {
                bounded(&order);
                prop_assert_eq!(order.currency, Currency::USD);
                for m in [order.total_price, order.subtotal_price, order.total_tax, order.total_discounts] {
                    prop_assert!(m.minor >= 0 && m.currency == Currency::USD, "{m:?}");
                }
                for line in &order.line_items {
                    prop_assert!(line.price.minor >= 0 && line.price.currency == Currency::USD);
                }
            }
            Err(e) => reasonable(&e),
        }
        // The webhook worker's fast path agrees with the slow one.
        if let Some(fast) = order_from_text(&ctx(), &raw.to_string()) {
            prop_assert_eq!(fast.is_ok(), order_from_json(&ctx(), &raw).is_ok());
        }
    }

    #[test]
    fn shopify_products(raw in mutated(fixture("product_get_with_variants.json"))) {
        match product_from_json(&ctx(), &raw) {
            Ok(product) => bounded(&product),
            Err(e) => reasonable(&e),
        }
    }

    #[test]
    fn shopify_inventory_levels(raw in mutated(fixture("inventory_levels_list.json")[0].clone())) {
        match inventory_level_from_json(&ctx(), &raw) {
            Ok(level) => bounded(&level),
            Err(e) => reasonable(&e),
        }
    }

    #[test]
    fn shopify_refunds(raw in mutated(shopify_refund())) {
        match refund_from_json(Currency::USD, &raw) {
            Ok((_, refund)) => bounded(&refund),
            Err(e) => reasonable(&e),
        }
    }

    #[test]
    fn shopify_fulfillments(raw in mutated(shopify_fulfillment())) {
        match fulfillment_from_json(&raw) {
            Ok(f) => bounded(&f.fulfillment),
            Err(e) => reasonable(&e),
        }
    }

    #[test]
    fn gorgias_tickets(raw in mutated(gorgias_ticket())) {
        match ticket_from_json(&ctx().source, &raw) {
            Ok(ticket) => bounded(&ticket),
            Err(e) => reasonable(&e),
        }
    }

    #[test]
    fn gorgias_messages(raw in mutated(gorgias_message())) {
        match message_from_json(&ctx().source, &raw) {
            Ok((message, _)) => bounded(&message),
            Err(e) => reasonable(&e),
        }
    }

    #[test]
    fn gorgias_surveys(raw in mutated(gorgias_survey())) {
        match survey_from_json(&ctx().source, &raw) {
            Ok(survey) => {
                bounded(&survey);
                prop_assert!(survey.score.is_none_or(|s| (1..=5).contains(&s)));
            }
            Err(e) => reasonable(&e),
        }
    }
}

/// The hostile values of the issue, one by one, in the Gorgias shapes: each
/// refused naming its field.
#[test]
fn gorgias_values_no_helpdesk_has_are_refused_naming_the_field() {
    let cases = [
        (
            "created_datetime",
            json!("0000-01-01T00:00:00"),
            "created_datetime",
        ),
        (
            "created_datetime",
            json!("2100-01-01T00:00:00+00:00"),
            "created_datetime",
        ),
        (
            "created_datetime",
            json!("2024-02-14T21:30:50+25:00"),
            "created_datetime",
        ),
        ("subject", json!("s".repeat(10 * 1024 * 1024)), "subject"),
    ];
    for (key, value, field) in cases {
        let mut raw = gorgias_ticket();
        raw[key] = value;
        let e = ticket_from_json(&ctx().source, &raw).unwrap_err();
        assert_eq!(e.field, field, "{e}");
        reasonable(&e);
    }
    let mut raw = gorgias_message();
    raw["body_text"] = json!("b".repeat(2 * 1024 * 1024));
    raw["stripped_text"] = json!(null);
    let e = message_from_json(&ctx().source, &raw).unwrap_err();
    assert_eq!(e.field, "body_text");
    assert_eq!(
        e.reason,
        "is 2097152 bytes long; the limit is 1048576 bytes"
    );
}
