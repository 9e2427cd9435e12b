//! Every payload in the repository's fixtures (`fixtures/` at the root: real
//! platform payloads that no one here wrote) goes through our wire types and
//! normalization without losing a field we use. The directory is walked, so
//! a fixture added beside the others is checked without a new test: each
//! record's ids, money, quantities, statuses, tags and times are compared
//! with the raw JSON, not with values copied into the test.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use jiff::Timestamp;
use opsdeck_domain::{BrandId, Currency, Money, Order, SourceId};
use opsdeck_sources::gorgias::normalize::{
    message_from_json, parse_time, survey_from_json, ticket_from_json,
};
use opsdeck_sources::shopify::normalize::{
    inventory_level_from_json, order_from_json, product_from_json, NormalizeContext,
};
use serde_json::Value;
use std::path::{Path, PathBuf};

fn fixtures_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures")
}

/// Every `*.json` under `dir`, sorted.
fn json_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

fn load(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"))
}

/// The records of a payload: under a wrapper key (`order`, `orders`,
/// `data`, …) or the bare resource (a webhook body), each with its kind.
fn records(payload: &Value) -> Vec<(&'static str, &Value)> {
    fn kind_of(r: &Value) -> Option<&'static str> {
        let has = |k: &str| r.get(k).is_some();
        Some(if has("line_items") && has("total_price") {
            "order"
        } else if has("variants") {
            "product"
        } else if has("inventory_item_id") && has("location_id") {
            "inventory_level"
        } else if has("score") && has("ticket_id") {
            "survey"
        } else if has("ticket_id") && (has("from_agent") || has("body_text")) {
            "message"
        } else if has("created_datetime") && has("channel") {
            "ticket"
        } else {
            return None;
        })
    }
    let candidates: Vec<&Value> = match payload {
        Value::Object(map) if kind_of(payload).is_none() => map
            .values()
            .flat_map(|value| match value {
                Value::Array(items) => items.iter().collect(),
                Value::Object(_) => vec![value],
                _ => vec![],
            })
            .collect(),
        Value::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    candidates
        .into_iter()
        .filter_map(|r| kind_of(r).map(|kind| (kind, r)))
        .collect()
}

fn ctx() -> NormalizeContext {
    NormalizeContext {
        source: SourceId::parse("shopify-fixtures").unwrap(),
        brand: BrandId::parse("fixtures").unwrap(),
        currency: Currency::EUR,
    }
}

/// A JSON id (number or string) as text; `None` for null or absent.
fn id_text(v: &Value) -> Option<String> {
    match v {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn text(v: &Value) -> Option<String> {
    v.as_str()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

fn money(v: &Value, currency: Currency) -> Money {
    Money::parse(v.as_str().expect("money is a string"), currency).unwrap()
}

fn time(v: &Value) -> Option<Timestamp> {
    v.as_str().map(|t| t.parse().unwrap())
}

fn check_order(raw: &Value) {
    let currency = raw["currency"]
        .as_str()
        .map(|c| Currency::parse(c).unwrap())
        .unwrap_or(Currency::EUR);
    // The brand is configured in its shop's currency (an order in another
    // one is converted or refused: normalize_tests.rs).
    let brand = NormalizeContext { currency, ..ctx() };
    let order = order_from_json(&brand, raw).unwrap();
    assert_eq!(Some(order.external_id.clone()), id_text(&raw["id"]));
    assert_eq!(order.currency, currency);
    assert_eq!(order.total_price, money(&raw["total_price"], currency));
    for (field, got) in [
        ("subtotal_price", order.subtotal_price),
        ("total_tax", order.total_tax),
        ("total_discounts", order.total_discounts),
    ] {
        if raw[field].is_string() {
            assert_eq!(got, money(&raw[field], currency), "{field}");
        }
    }
    assert_eq!(Some(order.created_at), time(&raw["created_at"]));
    if let Some(updated) = time(&raw["updated_at"]) {
        assert_eq!(order.updated_at, updated);
    }
    assert_eq!(order.cancelled_at, time(&raw["cancelled_at"]));
    assert_eq!(order.closed_at, time(&raw["closed_at"]));
    if let Some(status) = raw["financial_status"].as_str() {
        assert_eq!(order.financial_status.as_str(), status);
    }
    if let Some(status) = raw["fulfillment_status"].as_str() {
        assert_eq!(order.fulfillment_status.as_str(), status);
    }
    assert_eq!(
        order.tags,
        raw["tags"]
            .as_str()
            .map(Order::split_tags)
            .unwrap_or_default()
    );
    assert_eq!(order.test, raw["test"].as_bool().unwrap_or(false));
    assert_eq!(order.source_name, text(&raw["source_name"]));
    if let Some(name) = text(&raw["name"]) {
        assert_eq!(order.name, name);
    }
    let lines = raw["line_items"].as_array().unwrap();
    assert_eq!(order.line_items.len(), lines.len());
    for (line, raw_line) in order.line_items.iter().zip(lines) {
        assert_eq!(Some(line.external_id.clone()), id_text(&raw_line["id"]));
        assert_eq!(line.variant_id, id_text(&raw_line["variant_id"]));
        assert_eq!(line.product_id, id_text(&raw_line["product_id"]));
        assert_eq!(line.sku, text(&raw_line["sku"]));
        assert_eq!(Some(line.quantity), raw_line["quantity"].as_i64());
        assert_eq!(line.price, money(&raw_line["price"], currency));
    }
    let fulfillments = raw["fulfillments"].as_array().cloned().unwrap_or_default();
    assert_eq!(order.fulfillments.len(), fulfillments.len());
    for (ful, raw_ful) in order.fulfillments.iter().zip(&fulfillments) {
        assert_eq!(Some(ful.external_id.clone()), id_text(&raw_ful["id"]));
        if let Some(status) = raw_ful["status"].as_str() {
            assert_eq!(ful.status.as_str(), status);
        }
        assert_eq!(
            ful.shipment_status.as_ref().map(|s| s.as_str().to_string()),
            text(&raw_ful["shipment_status"])
        );
        assert_eq!(ful.tracking_company, text(&raw_ful["tracking_company"]));
        let numbers: Vec<String> = match raw_ful["tracking_numbers"].as_array() {
            Some(list) if !list.is_empty() => list
                .iter()
                .filter_map(|n| n.as_str())
                .map(String::from)
                .collect(),
            _ => text(&raw_ful["tracking_number"]).into_iter().collect(),
        };
        assert_eq!(ful.tracking_numbers, numbers);
        assert_eq!(Some(ful.created_at), time(&raw_ful["created_at"]));
    }
    let refunds = raw["refunds"].as_array().cloned().unwrap_or_default();
    assert_eq!(order.refunds.len(), refunds.len());
    if let (Some(customer), Some(raw_id)) = (&order.customer, id_text(&raw["customer"]["id"])) {
        assert_eq!(customer.external_id, raw_id);
        assert_eq!(customer.email, text(&raw["customer"]["email"]));
    }
}

fn check_product(raw: &Value) {
    let product = product_from_json(&ctx(), raw).unwrap();
    assert_eq!(Some(product.external_id.clone()), id_text(&raw["id"]));
    assert_eq!(product.title, raw["title"].as_str().unwrap_or_default());
    if let Some(status) = raw["status"].as_str() {
        assert_eq!(product.status.as_str(), status);
    }
    assert_eq!(
        product.body_html.as_deref(),
        raw["body_html"].as_str().filter(|html| !html.is_empty())
    );
    let images = raw["images"].as_array().map_or(0, Vec::len);
    assert_eq!(product.image_count as usize, images);
    assert_eq!(
        product.tags,
        raw["tags"]
            .as_str()
            .map(Order::split_tags)
            .unwrap_or_default()
    );
    assert_eq!(Some(product.created_at), time(&raw["created_at"]));
    let variants = raw["variants"].as_array().unwrap();
    assert_eq!(product.variants.len(), variants.len());
    for (v, raw_v) in product.variants.iter().zip(variants) {
        assert_eq!(Some(v.external_id.clone()), id_text(&raw_v["id"]));
        assert_eq!(v.price, money(&raw_v["price"], Currency::EUR));
        assert_eq!(v.sku, text(&raw_v["sku"]));
        assert_eq!(v.inventory_item_id, id_text(&raw_v["inventory_item_id"]));
        assert_eq!(v.inventory_quantity, raw_v["inventory_quantity"].as_i64());
        assert_eq!(
            v.inventory_tracked,
            raw_v["inventory_management"].as_str() == Some("shopify")
        );
    }
}

fn check_inventory_level(raw: &Value) {
    let level = inventory_level_from_json(&ctx(), raw).unwrap();
    assert_eq!(
        Some(level.inventory_item_id.clone()),
        id_text(&raw["inventory_item_id"])
    );
    assert_eq!(
        Some(level.location_id.clone()),
        id_text(&raw["location_id"])
    );
    assert_eq!(level.available, raw["available"].as_i64());
    assert_eq!(Some(level.updated_at), time(&raw["updated_at"]));
}

fn gorgias_time(v: &Value) -> Option<Timestamp> {
    v.as_str().map(|t| parse_time(t).unwrap())
}

fn check_ticket(raw: &Value) {
    let source = SourceId::parse("gorgias").unwrap();
    let t = ticket_from_json(&source, raw).unwrap();
    assert_eq!(Some(t.external_id.clone()), id_text(&raw["id"]));
    if let Some(status) = raw["status"].as_str() {
        assert_eq!(t.status.as_str(), status);
    }
    if let Some(channel) = text(&raw["channel"]) {
        assert_eq!(t.channel.as_str(), channel);
    }
    assert_eq!(Some(t.created_at), gorgias_time(&raw["created_datetime"]));
    assert_eq!(t.closed_at, gorgias_time(&raw["closed_datetime"]));
    let tags: Vec<String> = raw["tags"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| text(&t["name"]))
        .collect();
    assert_eq!(t.tags, tags);
}

fn check_message(raw: &Value) {
    let source = SourceId::parse("gorgias").unwrap();
    let (m, _) = message_from_json(&source, raw).unwrap();
    assert_eq!(Some(m.external_id.clone()), id_text(&raw["id"]));
    assert_eq!(Some(m.ticket_id.clone()), id_text(&raw["ticket_id"]));
    assert_eq!(m.from_agent, raw["from_agent"].as_bool().unwrap_or(false));
    assert_eq!(m.public, raw["public"].as_bool().unwrap_or(true));
    assert_eq!(m.rule_id, id_text(&raw["rule_id"]));
    assert_eq!(Some(m.created_at), gorgias_time(&raw["created_datetime"]));
    assert_eq!(m.sent_at, gorgias_time(&raw["sent_datetime"]));
}

fn check_survey(raw: &Value) {
    let source = SourceId::parse("gorgias").unwrap();
    let s = survey_from_json(&source, raw).unwrap();
    assert_eq!(Some(s.external_id.clone()), id_text(&raw["id"]));
    assert_eq!(Some(s.ticket_id.clone()), id_text(&raw["ticket_id"]));
    assert_eq!(s.score.map(i64::from), raw["score"].as_i64());
    assert_eq!(s.scored_at, gorgias_time(&raw["scored_datetime"]));
}

#[test]
fn every_shared_fixture_normalizes_without_losing_a_field_we_use() {
    let root = fixtures_dir();
    let mut checked = Vec::new();
    for platform in ["shopify", "gorgias"] {
        for path in json_files(&root.join(platform)) {
            let payload = load(&path);
            let found = records(&payload);
            assert!(
                !found.is_empty(),
                "{path:?}: no order, product, inventory level, ticket, message or survey found"
            );
            for (kind, raw) in found {
                match kind {
                    "order" => check_order(raw),
                    "product" => check_product(raw),
                    "inventory_level" => check_inventory_level(raw),
                    "ticket" => check_ticket(raw),
                    "message" => check_message(raw),
                    "survey" => check_survey(raw),
                    _ => unreachable!(),
                }
                checked.push((path.file_name().unwrap().to_owned(), kind));
            }
        }
    }
    // The three fixtures shipped today hold an order, a product and two
    // inventory levels; more files only add to this.
    for kind in ["order", "product", "inventory_level"] {
        assert!(
            checked.iter().any(|(_, k)| *k == kind),
            "no {kind} among the fixtures: {checked:?}"
        );
    }
    assert!(checked.len() >= 4, "{checked:?}");
}
