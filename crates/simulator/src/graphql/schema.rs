//! What each field the simulator serves is in Shopify's schema: a
//! paginated connection, a plain list of objects, or one object, and of
//! which type. Answering a query does not need it (the rendered record has
//! the shape), but the bulk operation restrictions do: Shopify refuses a
//! bulk query that nests a connection inside a LIST field
//! (`Order.fulfillments`, `Order.refunds` are lists; their
//! `fulfillmentLineItems`, `refundLineItems`, `transactions` are
//! connections), and only the schema says which is which — a list selects
//! its fields directly, just like an object.
//!
//! A field missing from the table is read by its selection: a connection
//! when it selects `edges` or `nodes`, an object of unknown type otherwise.

use super::cost::is_connection;
use super::query::Field;

/// A field's kind and the type of what it holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// `XConnection`: `edges { node }`, `nodes`, `pageInfo`.
    Connection(&'static str),
    /// `[X!]!`, sized by an optional `first`.
    List(&'static str),
    /// One `X`.
    Object(&'static str),
}

use Shape::{Connection, List, Object};

/// `(parent type, field, shape)` for every object-valued field served.
const FIELDS: &[(&str, &str, Shape)] = &[
    ("QueryRoot", "orders", Connection("Order")),
    ("QueryRoot", "products", Connection("Product")),
    ("QueryRoot", "inventoryItems", Connection("InventoryItem")),
    ("QueryRoot", "locations", Connection("Location")),
    ("QueryRoot", "customers", Connection("Customer")),
    (
        "QueryRoot",
        "disputes",
        Connection("ShopifyPaymentsDispute"),
    ),
    (
        "QueryRoot",
        "abandonedCheckouts",
        Connection("AbandonedCheckout"),
    ),
    (
        "QueryRoot",
        "fulfillmentOrders",
        Connection("FulfillmentOrder"),
    ),
    ("FulfillmentOrder", "order", Object("Order")),
    ("QueryRoot", "order", Object("Order")),
    ("QueryRoot", "product", Object("Product")),
    ("QueryRoot", "customer", Object("Customer")),
    ("QueryRoot", "fulfillment", Object("Fulfillment")),
    ("QueryRoot", "refund", Object("Refund")),
    ("QueryRoot", "node", Object("Node")),
    ("QueryRoot", "nodes", List("Node")),
    ("QueryRoot", "shop", Object("Shop")),
    (
        "QueryRoot",
        "shopifyPaymentsAccount",
        Object("ShopifyPaymentsAccount"),
    ),
    (
        "ShopifyPaymentsAccount",
        "disputes",
        Connection("ShopifyPaymentsDispute"),
    ),
    ("Order", "lineItems", Connection("LineItem")),
    ("Order", "fulfillments", List("Fulfillment")),
    ("Order", "refunds", List("Refund")),
    ("Order", "transactions", List("OrderTransaction")),
    ("Order", "returns", Connection("Return")),
    ("Order", "customer", Object("Customer")),
    ("Order", "fulfillmentOrders", Connection("FulfillmentOrder")),
    (
        "FulfillmentOrder",
        "lineItems",
        Connection("FulfillmentOrderLineItem"),
    ),
    ("FulfillmentOrderLineItem", "lineItem", Object("LineItem")),
    ("LineItem", "product", Object("Product")),
    ("LineItem", "variant", Object("ProductVariant")),
    (
        "Fulfillment",
        "trackingInfo",
        List("FulfillmentTrackingInfo"),
    ),
    (
        "Fulfillment",
        "fulfillmentLineItems",
        Connection("FulfillmentLineItem"),
    ),
    ("FulfillmentLineItem", "lineItem", Object("LineItem")),
    ("Refund", "refundLineItems", Connection("RefundLineItem")),
    ("Refund", "transactions", Connection("OrderTransaction")),
    ("Refund", "orderAdjustments", Connection("OrderAdjustment")),
    ("RefundLineItem", "lineItem", Object("LineItem")),
    ("Product", "variants", Connection("ProductVariant")),
    ("ProductVariant", "inventoryItem", Object("InventoryItem")),
    ("ProductVariant", "product", Object("Product")),
    (
        "InventoryItem",
        "inventoryLevels",
        Connection("InventoryLevel"),
    ),
    ("InventoryLevel", "quantities", List("InventoryQuantity")),
    ("InventoryLevel", "item", Object("InventoryItem")),
    ("InventoryLevel", "location", Object("Location")),
    (
        "Return",
        "returnLineItems",
        Connection("ReturnLineItemType"),
    ),
    ("Return", "order", Object("Order")),
    (
        "ReturnLineItem",
        "fulfillmentLineItem",
        Object("FulfillmentLineItem"),
    ),
    (
        "AbandonedCheckout",
        "lineItems",
        Connection("AbandonedCheckoutLineItem"),
    ),
    ("AbandonedCheckout", "customer", Object("Customer")),
    ("Customer", "orders", Connection("Order")),
];

/// Type name used where the schema table does not know the type.
const UNKNOWN: &str = "";

/// The shape of `field` selected on an object of type `parent` (or of the
/// type its inline fragment names).
pub(crate) fn shape(parent: &str, field: &Field) -> Shape {
    let parent = field.on.as_deref().unwrap_or(parent);
    FIELDS
        .iter()
        .find(|(p, name, _)| *p == parent && *name == field.name)
        .map(|(_, _, shape)| *shape)
        .unwrap_or(if is_connection(field) {
            Connection(UNKNOWN)
        } else {
            Object(UNKNOWN)
        })
}

/// The most connections a bulk query may hold.
pub(crate) const BULK_MAX_CONNECTIONS: usize = 5;
/// The deepest connections may nest in a bulk query (the root's is 1).
pub(crate) const BULK_MAX_NESTING: usize = 2;

/// What a bulk query's selection holds, as the restrictions count it.
#[derive(Default)]
struct Census {
    connections: usize,
    deepest: usize,
    /// The first connection found inside a list: (list, connection).
    in_list: Option<(String, String)>,
}

impl Census {
    /// Walks `selection`, made on an object of type `parent`, `depth`
    /// connections deep, inside list `list` if any.
    fn walk(&mut self, parent: &str, selection: &[Field], depth: usize, list: Option<&str>) {
        for field in selection {
            if field.selection.is_empty() {
                continue;
            }
            match shape(parent, field) {
                Connection(node) => {
                    self.connections += 1;
                    self.deepest = self.deepest.max(depth + 1);
                    if let (Some(list), None) = (list, &self.in_list) {
                        self.in_list = Some((list.to_string(), field.name.clone()));
                    }
                    for part in &field.selection {
                        let nodes = match part.name.as_str() {
                            "nodes" => Some(part.selection.as_slice()),
                            "edges" => part.child("node").map(|n| n.selection.as_slice()),
                            _ => None,
                        };
                        if let Some(nodes) = nodes {
                            self.walk(node, nodes, depth + 1, list);
                        }
                    }
                }
                List(item) => self.walk(
                    item,
                    &field.selection,
                    depth,
                    Some(list.unwrap_or(&field.name)),
                ),
                Object(kind) => self.walk(kind, &field.selection, depth, list),
            }
        }
    }
}

/// Checks a bulk query's operation against Shopify's bulk operation
/// restrictions and returns its one top-level connection; the error is
/// the `userErrors` message Shopify gives.
pub(crate) fn check_bulk(root: &[Field]) -> Result<&Field, String> {
    if let Some(field) = root.iter().find(|f| f.name == "node" || f.name == "nodes") {
        return Err(format!(
            "Bulk queries cannot use the top-level `{}` field.",
            field.name
        ));
    }
    let connections: Vec<&Field> = root
        .iter()
        .filter(|f| matches!(shape("QueryRoot", f), Connection(_)) && is_connection(f))
        .collect();
    let [first] = connections.as_slice() else {
        return Err(if connections.is_empty() {
            "Bulk queries must contain at least one connection.".to_string()
        } else {
            "Bulk queries must have exactly one top-level connection field.".to_string()
        });
    };
    let mut census = Census::default();
    census.walk("QueryRoot", root, 0, None);
    if let Some((list, connection)) = census.in_list {
        return Err(format!(
            "Queries that contain a connection field within a list field are not supported \
             (`{connection}` inside the list `{list}`)."
        ));
    }
    if census.connections > BULK_MAX_CONNECTIONS {
        return Err(format!(
            "Bulk queries cannot contain more than {BULK_MAX_CONNECTIONS} connections."
        ));
    }
    if census.deepest > BULK_MAX_NESTING {
        return Err(format!(
            "Bulk queries cannot contain connections with a nesting depth greater than {BULK_MAX_NESTING}."
        ));
    }
    Ok(first)
}

/// [`check_bulk`] of a query's text (parse errors included).
pub(crate) fn check_bulk_text(text: &str) -> Result<(), String> {
    let operation = super::query::operation(text, &Default::default(), None)
        .map_err(|invalid| format!("Invalid bulk query: {}", invalid.0))?;
    check_bulk(&operation.fields).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str) -> Result<(), String> {
        check_bulk_text(text)
    }

    #[test]
    fn a_connection_inside_a_list_is_refused() {
        let old = "{ orders { edges { node { id lineItems { nodes { id } } \
                   fulfillments(first: 2) { id fulfillmentLineItems(first: 5) { nodes { quantity } } } \
                   refunds(first: 2) { id refundLineItems(first: 5) { nodes { quantity } } \
                   transactions(first: 2) { nodes { kind } } } } } } }";
        let error = check(old).unwrap_err();
        assert!(
            error.contains("connection field within a list field")
                && error.contains("fulfillmentLineItems")
                && error.contains("fulfillments"),
            "{error}"
        );
        // The same lists with only their own fields (and a list in them) pass.
        check(
            "{ orders { edges { node { id lineItems { nodes { id } } \
             fulfillments { id status trackingInfo { number } } \
             refunds { id totalRefundedSet { shopMoney { amount } } } } } } }",
        )
        .unwrap();
    }

    #[test]
    fn counts_depth_top_level_node_and_a_missing_connection_are_refused() {
        assert!(check("{ shop { id } }")
            .unwrap_err()
            .contains("at least one connection"));
        assert!(check(r#"{ nodes(ids: ["gid://shopify/Order/1"]) { id } }"#)
            .unwrap_err()
            .contains("`nodes`"));
        assert!(check(r#"{ node(id: "gid://shopify/Order/1") { id } }"#)
            .unwrap_err()
            .contains("`node`"));
        let deep = "{ products { edges { node { variants { edges { node { inventoryItem { \
                    inventoryLevels { edges { node { id } } } } } } } } } } }";
        assert!(check(deep).unwrap_err().contains("nesting depth"));
        let six = "{ orders { edges { node { a: lineItems { nodes { id } } b: lineItems { nodes { id } } \
                   c: lineItems { nodes { id } } d: lineItems { nodes { id } } \
                   e: lineItems { nodes { id } } } } } }";
        assert!(check(six).unwrap_err().contains("more than 5 connections"));
        assert!(
            check("{ orders { edges { node { id } } } products { nodes { id } } }")
                .unwrap_err()
                .contains("exactly one")
        );
    }

    #[test]
    fn lists_and_connections_are_told_apart_by_the_parent_type() {
        let op = super::super::query::operation(
            "{ order(id: \"x\") { transactions { id } refunds { transactions { nodes { id } } } } }",
            &Default::default(),
            None,
        )
        .unwrap();
        let order = &op.fields[0];
        assert_eq!(shape("QueryRoot", order), Object("Order"));
        let transactions = order.child("transactions").unwrap();
        assert_eq!(shape("Order", transactions), List("OrderTransaction"));
        let refunds = order.child("refunds").unwrap();
        let inner = refunds.child("transactions").unwrap();
        assert_eq!(shape("Refund", inner), Connection("OrderTransaction"));
    }
}
