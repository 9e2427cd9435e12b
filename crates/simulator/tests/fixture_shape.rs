//! The simulator's JSON must have the shape of Shopify's real payloads: every
//! field that a real fixture and the simulator both carry has the same JSON
//! type (null counts as compatible with anything: the field is nullable), and
//! the fields the connector relies on are present with the fixture's type.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use std::path::PathBuf;

use opsdeck_simulator::{SimConfig, Simulator};
use serde_json::Value;

fn fixture(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/shopify")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap()
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Compares `real` with `simulated` recursively; pushes "path: fixture X, simulator Y".
fn compare(path: &str, real: &Value, simulated: &Value, mismatches: &mut Vec<String>) {
    if real.is_null() || simulated.is_null() {
        return;
    }
    if kind(real) != kind(simulated) {
        mismatches.push(format!(
            "{path}: fixture {} ({real}), simulator {} ({simulated})",
            kind(real),
            kind(simulated)
        ));
        return;
    }
    match (real, simulated) {
        (Value::Object(r), Value::Object(s)) => {
            for (key, value) in r {
                if let Some(other) = s.get(key) {
                    compare(&format!("{path}.{key}"), value, other, mismatches);
                }
            }
        }
        (Value::Array(r), Value::Array(s)) => {
            for real_item in r {
                for simulated_item in s {
                    compare(&format!("{path}[]"), real_item, simulated_item, mismatches);
                }
            }
        }
        _ => {}
    }
}

/// The value at a dotted path, looking into the first element of arrays (`line_items.sku`).
fn find<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
    let mut current = value;
    for part in path.split('.') {
        if let Value::Array(items) = current {
            current = items.iter().find(|item| item.get(part).is_some())?;
        }
        current = current.get(part)?;
    }
    Some(current)
}

/// Fields the connector reads: present in the simulator with the fixture's type
/// (or, where the fixture predates the field, with the stated type).
fn check_required(
    label: &str,
    real: &Value,
    samples: &[Value],
    required: &[(&str, &str)],
    mismatches: &mut Vec<String>,
) {
    for (path, fallback) in required {
        let expected = find(real, path)
            .map(kind)
            .filter(|k| *k != "null")
            .unwrap_or(fallback);
        let found: Vec<&Value> = samples.iter().filter_map(|s| find(s, path)).collect();
        if found.is_empty() {
            mismatches.push(format!(
                "{label}.{path}: missing from the simulator's output"
            ));
            continue;
        }
        if !found.iter().any(|v| kind(v) == expected) {
            mismatches.push(format!(
                "{label}.{path}: expected {expected}, simulator has {}",
                kind(found[0])
            ));
        }
        if let Some(bad) = found.iter().find(|v| !v.is_null() && kind(v) != expected) {
            mismatches.push(format!(
                "{label}.{path}: expected {expected}, simulator has {} ({bad})",
                kind(bad)
            ));
        }
    }
}

fn simulator() -> Simulator {
    Simulator::new(SimConfig {
        seed: 11,
        now: "2026-05-03T18:05:09Z".parse().unwrap(),
        scale: 0.3,
    })
}

fn report(mismatches: Vec<String>) {
    assert!(
        mismatches.is_empty(),
        "{} shape mismatches:\n  {}",
        mismatches.len(),
        mismatches.join("\n  ")
    );
}

#[test]
fn orders_have_the_shape_of_the_official_fixture() {
    let real = fixture("order_official_python_lib.json")["order"].clone();
    let sim = simulator();
    let mut orders = Vec::new();
    for slug in ["plentum", "mavena", "pawfully"] {
        orders.extend(sim.orders_json(slug));
    }
    // Every kind of order: shipped, partial, refunded, cancelled, custom items.
    let mut mismatches = Vec::new();
    for order in &orders {
        compare("order", &real, order, &mut mismatches);
    }
    mismatches.sort();
    mismatches.dedup();
    let required = [
        ("id", "number"),
        ("name", "string"),
        ("order_number", "number"),
        ("email", "string"),
        ("created_at", "string"),
        ("updated_at", "string"),
        ("processed_at", "string"),
        ("cancelled_at", "string"),
        ("cancel_reason", "string"),
        ("closed_at", "string"),
        ("currency", "string"),
        ("total_price", "string"),
        ("subtotal_price", "string"),
        ("total_tax", "string"),
        ("total_discounts", "string"),
        ("financial_status", "string"),
        ("fulfillment_status", "string"),
        ("test", "bool"),
        ("source_name", "string"),
        ("tags", "string"),
        ("customer.id", "number"),
        ("customer.email", "string"),
        ("customer.first_name", "string"),
        ("line_items.id", "number"),
        ("line_items.variant_id", "number"),
        ("line_items.product_id", "number"),
        ("line_items.sku", "string"),
        ("line_items.title", "string"),
        ("line_items.quantity", "number"),
        ("line_items.price", "string"),
        ("line_items.fulfillment_status", "string"),
        ("fulfillments.id", "number"),
        ("fulfillments.status", "string"),
        ("fulfillments.shipment_status", "string"),
        ("fulfillments.tracking_company", "string"),
        ("fulfillments.tracking_number", "string"),
        ("fulfillments.tracking_numbers", "array"),
        ("fulfillments.tracking_url", "string"),
        ("fulfillments.tracking_urls", "array"),
        ("fulfillments.created_at", "string"),
        ("fulfillments.updated_at", "string"),
        ("fulfillments.line_items", "array"),
        ("refunds", "array"),
        ("refunds.created_at", "string"),
        ("refunds.refund_line_items", "array"),
        ("refunds.refund_line_items.line_item_id", "number"),
        ("refunds.refund_line_items.quantity", "number"),
        ("refunds.transactions", "array"),
        ("refunds.transactions.amount", "string"),
        ("refunds.transactions.kind", "string"),
        ("refunds.transactions.status", "string"),
    ];
    check_required("order", &real, &orders, &required, &mut mismatches);
    report(mismatches);
}

#[test]
fn products_have_the_shape_of_the_fixture() {
    let real = fixture("product_get_with_variants.json")["product"].clone();
    let sim = simulator();
    let mut products = Vec::new();
    for slug in ["plentum", "mavena", "pawfully", "retromedy"] {
        products.extend(sim.products_json(slug));
    }
    let mut mismatches = Vec::new();
    for product in &products {
        compare("product", &real, product, &mut mismatches);
    }
    mismatches.sort();
    mismatches.dedup();
    let required = [
        ("id", "number"),
        ("title", "string"),
        ("body_html", "string"),
        ("vendor", "string"),
        ("product_type", "string"),
        ("handle", "string"),
        ("created_at", "string"),
        ("updated_at", "string"),
        ("published_at", "string"),
        ("tags", "string"),
        ("status", "string"),
        ("images", "array"),
        ("images.id", "number"),
        ("images.src", "string"),
        ("image", "object"),
        ("variants", "array"),
        ("variants.id", "number"),
        ("variants.product_id", "number"),
        ("variants.title", "string"),
        ("variants.sku", "string"),
        ("variants.price", "string"),
        ("variants.inventory_item_id", "number"),
        ("variants.inventory_quantity", "number"),
        ("variants.inventory_management", "string"),
        ("variants.updated_at", "string"),
    ];
    check_required("product", &real, &products, &required, &mut mismatches);
    report(mismatches);
}

#[test]
fn inventory_levels_have_the_shape_of_the_fixture() {
    let real = fixture("inventory_levels_list.json")["inventory_levels"][0].clone();
    let sim = simulator();
    let levels: Vec<Value> = ["plentum", "mavena", "pawfully"]
        .iter()
        .flat_map(|s| sim.inventory_levels_json(s))
        .collect();
    let mut mismatches = Vec::new();
    for level in &levels {
        compare("inventory_level", &real, level, &mut mismatches);
    }
    mismatches.sort();
    mismatches.dedup();
    let required = [
        ("inventory_item_id", "number"),
        ("location_id", "number"),
        ("available", "number"),
        ("updated_at", "string"),
    ];
    check_required(
        "inventory_level",
        &real,
        &levels,
        &required,
        &mut mismatches,
    );
    report(mismatches);
}

#[test]
fn the_comparison_itself_catches_a_type_change() {
    let real: Value = serde_json::json!({ "a": "1.00", "b": [{ "c": 1 }], "d": null });
    let wrong: Value = serde_json::json!({ "a": 1.0, "b": [{ "c": "1" }], "d": 5 });
    let mut mismatches = Vec::new();
    compare("x", &real, &wrong, &mut mismatches);
    assert_eq!(mismatches.len(), 2, "{mismatches:?}");
}
