//! `metafieldsSet` on the shop: how opsdeck mirrors a flag where a theme
//! block or a checkout validation function reads it. Validated as Shopify
//! does (owner, namespace 3–255 characters, key 2–64 of letters, digits,
//! `-` and `_`, a known type, a value of that type); each problem is a
//! `userErrors` entry with Shopify's code and nothing is set. Only the
//! shop as owner is simulated: another owner answers `INVALID_VALUE` on
//! `ownerId`. At most 25 metafields per call, as on Shopify.

use crate::world::{Shop, StoredMetafield};
use serde_json::{json, Value};

const MAX_PER_CALL: usize = 25;
const TYPES: &[&str] = &[
    "boolean",
    "json",
    "single_line_text_field",
    "multi_line_text_field",
    "number_integer",
];

fn user_error(index: usize, field: &str, message: String, code: &str) -> Value {
    json!({ "field": ["metafields", index.to_string(), field], "message": message, "code": code })
}

fn check(index: usize, input: &Value, shop_gid: &str) -> Vec<Value> {
    let mut errors = Vec::new();
    let text = |name: &str| input.get(name).and_then(Value::as_str);
    match text("ownerId") {
        None => errors.push(user_error(
            index,
            "ownerId",
            "Owner can't be blank".into(),
            "BLANK",
        )),
        Some(owner) if owner != shop_gid => errors.push(user_error(
            index,
            "ownerId",
            format!("Owner {owner} is not this shop (only the shop is simulated)"),
            "INVALID_VALUE",
        )),
        Some(_) => {}
    }
    match text("namespace") {
        Some(ns) if (3..=255).contains(&ns.len()) => {}
        _ => errors.push(user_error(
            index,
            "namespace",
            "Namespace must be 3 to 255 characters".into(),
            "INVALID",
        )),
    }
    match text("key") {
        Some(k)
            if (2..=64).contains(&k.len())
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') => {}
        _ => errors.push(user_error(
            index,
            "key",
            "Key must be 2 to 64 letters, digits, - or _".into(),
            "INVALID",
        )),
    }
    let value = text("value");
    match (text("type"), value) {
        (Some(t), _) if !TYPES.contains(&t) => errors.push(user_error(
            index,
            "type",
            format!("Type {t:?} is not a metafield type"),
            "INVALID_TYPE",
        )),
        (None, _) => errors.push(user_error(
            index,
            "type",
            "Type can't be blank".into(),
            "BLANK",
        )),
        (_, None) => errors.push(user_error(
            index,
            "value",
            "Value can't be blank".into(),
            "BLANK",
        )),
        (Some("boolean"), Some(v)) if v != "true" && v != "false" => errors.push(user_error(
            index,
            "value",
            "Value must be true or false".into(),
            "INVALID_VALUE",
        )),
        (Some("json"), Some(v)) if serde_json::from_str::<Value>(v).is_err() => {
            errors.push(user_error(
                index,
                "value",
                "Value is invalid JSON".into(),
                "INVALID_VALUE",
            ))
        }
        _ => {}
    }
    errors
}

/// Runs `metafieldsSet(metafields:)` against `shop`: all set, or none.
pub(crate) fn set(shop: &mut Shop, shop_gid: &str, metafields: Option<&Value>) -> Value {
    let inputs = metafields
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    if inputs.is_empty() || inputs.len() > MAX_PER_CALL {
        return json!({ "metafields": null, "userErrors": [{
            "field": ["metafields"],
            "message": format!("Between 1 and {MAX_PER_CALL} metafields can be set at once"),
            "code": "LESS_THAN_OR_EQUAL_TO",
        }]});
    }
    let errors: Vec<Value> = inputs
        .iter()
        .enumerate()
        .flat_map(|(i, m)| check(i, m, shop_gid))
        .collect();
    if !errors.is_empty() {
        return json!({ "metafields": null, "userErrors": errors });
    }
    let mut set = Vec::new();
    for m in &inputs {
        let field = |name: &str| {
            m.get(name)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let stored = StoredMetafield {
            namespace: field("namespace"),
            key: field("key"),
            kind: field("type"),
            value: field("value"),
        };
        shop.metafields
            .retain(|s| !(s.namespace == stored.namespace && s.key == stored.key));
        let id = 90_000_000 + shop.metafields.len() as u64;
        set.push(json!({
            "__typename": "Metafield",
            "id": format!("gid://shopify/Metafield/{id}"),
            "namespace": stored.namespace, "key": stored.key,
            "type": stored.kind, "value": stored.value,
            "ownerType": "SHOP",
        }));
        shop.metafields.push(stored);
    }
    json!({ "metafields": set, "userErrors": [] })
}
