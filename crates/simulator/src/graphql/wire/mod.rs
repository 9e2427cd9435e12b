//! The GraphQL payloads, as private `Serialize` structs with Shopify's
//! GraphQL names (camelCase, enums in `SCREAMING_CASE`, global ids
//! `gid://shopify/Order/…`, money as `MoneyBag`/`MoneyV2` objects with
//! decimal strings, `UnsignedInt64` as a string, timestamps in UTC).
//! Each struct is rendered whole and the requested selection is cut from it
//! (`project`); nested connections render as `Nodes`, which the projection
//! pages with the field's `first`/`after`. They share nothing with the
//! REST payloads in `crate::wire` but the compact world they render.

mod catalog;
mod order;
mod people;
pub(crate) mod returns;

pub(crate) use catalog::{inventory_item, location, product};
pub(crate) use order::order;
pub(crate) use people::{abandoned_checkout, customer, dispute, shop};

use serde::Serialize;
use serde_json::Value;

/// The fields a request selects on a record, so rendering can skip the
/// costly parts nobody asked for. `Wants::All` renders everything.
pub(crate) enum Wants {
    All,
    Fields(Vec<String>),
}

impl Wants {
    pub fn of(selection: &[crate::graphql::query::Field]) -> Wants {
        Wants::Fields(selection.iter().map(|f| f.name.clone()).collect())
    }

    pub fn has(&self, name: &str) -> bool {
        match self {
            Wants::All => true,
            Wants::Fields(names) => names.iter().any(|n| n == name),
        }
    }
}

/// A nested connection's nodes, all of them: `project` pages them.
#[derive(Serialize)]
pub(crate) struct Nodes {
    #[serde(rename = "__nodes")]
    pub nodes: Vec<Value>,
}

pub(crate) const NODES_KEY: &str = "__nodes";
pub(crate) const TYPENAME: &str = "__typename";

/// Serializes `wire` and stamps its GraphQL type on it.
pub(crate) fn typed(typename: &str, wire: impl Serialize) -> Value {
    let mut value = serde_json::to_value(wire).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert(TYPENAME.into(), Value::String(typename.into()));
    }
    value
}

pub(crate) fn gid(kind: &str, id: u64) -> String {
    format!("gid://shopify/{kind}/{id}")
}

/// The number in a global id of `kind`: `gid://shopify/Order/123` → 123.
pub(crate) fn parse_gid(kind: &str, gid: &str) -> Option<u64> {
    gid.strip_prefix("gid://shopify/")?
        .strip_prefix(kind)?
        .strip_prefix('/')?
        .parse()
        .ok()
}

/// GraphQL `DateTime`: UTC with a `Z`.
pub(crate) fn datetime(seconds: i64) -> String {
    crate::wire::timestamp(seconds, &jiff::tz::TimeZone::UTC).replace("+00:00", "Z")
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MoneyV2 {
    amount: String,
    currency_code: String,
}

pub(crate) fn money(cents: i64, currency: &str) -> Value {
    typed(
        "MoneyV2",
        MoneyV2 {
            amount: crate::wire::money(cents),
            currency_code: currency.to_string(),
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct MoneyBag {
    shop_money: Value,
    presentment_money: Value,
}

/// Shopify's `*Set` fields: the amount in shop and presentment currency.
pub(crate) fn money_bag(cents: i64, currency: &str) -> Value {
    typed(
        "MoneyBag",
        MoneyBag {
            shop_money: money(cents, currency),
            presentment_money: money(cents, currency),
        },
    )
}

/// Just enough of an object to follow a reference (`lineItem { id }`).
pub(crate) fn reference(typename: &str, id: u64) -> Value {
    let mut map = serde_json::Map::new();
    map.insert("id".into(), Value::String(gid(typename, id)));
    map.insert(TYPENAME.into(), Value::String(typename.into()));
    Value::Object(map)
}

/// `object` with `fields` added (a reference that carries a few fields).
pub(crate) fn with<const N: usize>(mut object: Value, fields: [(&str, Value); N]) -> Value {
    if let Value::Object(map) = &mut object {
        for (key, value) in fields {
            map.insert(key.to_string(), value);
        }
    }
    object
}

#[cfg(test)]
mod tests {
    #[test]
    fn ids_and_times_are_graphql_shaped() {
        assert_eq!(
            super::parse_gid("Order", "gid://shopify/Order/42"),
            Some(42)
        );
        assert_eq!(super::parse_gid("Order", "gid://shopify/OrderX/42"), None);
        assert_eq!(super::datetime(1_777_831_509), "2026-05-03T18:05:09Z");
    }
}
