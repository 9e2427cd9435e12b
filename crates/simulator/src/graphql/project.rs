//! Answering exactly the selection: a rendered object (see `wire`) is cut
//! down to the requested fields under their response keys, nested
//! connections are paged by their `first`/`last`/`after`/`before` and
//! shaped as `edges`/`node`/`cursor`, `nodes` and `pageInfo`, and the
//! actual query cost is counted on what is returned (each object 1, each
//! connection 2, as the requested cost counts them).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::query::Field;
use super::wire::{NODES_KEY, TYPENAME};

/// Projection state for one request: actual cost and field errors so far.
#[derive(Default)]
pub(crate) struct Projection {
    pub actual_cost: u64,
    pub errors: Vec<Value>,
}

/// An opaque cursor for position `index` of a nested connection.
fn nested_cursor(index: usize) -> String {
    STANDARD.encode(format!("{{\"last_id\":{index}}}"))
}

fn nested_position(cursor: &str) -> Option<usize> {
    let bytes = STANDARD.decode(cursor).ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value.get("last_id")?.as_u64().map(|n| n as usize)
}

impl Projection {
    pub fn error(&mut self, message: String, code: Option<&str>) {
        let mut error = json!({ "message": message });
        if let Some(code) = code {
            error["extensions"] = json!({ "code": code });
        }
        self.errors.push(error);
    }

    /// `value` cut to `selection`; the object itself costs 1.
    pub fn object(&mut self, value: &Value, selection: &[Field]) -> Value {
        self.actual_cost += 1;
        self.fields(value, selection)
    }

    /// `value` cut to `selection` without counting the object (roots, `pageInfo`).
    pub fn fields(&mut self, value: &Value, selection: &[Field]) -> Value {
        let typename = value.get(TYPENAME).and_then(Value::as_str).unwrap_or("");
        let mut out = Map::new();
        for field in selection {
            if field
                .on
                .as_deref()
                .is_some_and(|on| on != typename && on != "Node")
            {
                continue;
            }
            if field.name == "__typename" {
                out.insert(field.key.clone(), Value::String(typename.to_string()));
                continue;
            }
            let Some(found) = value.get(&field.name) else {
                self.error(
                    format!("Field '{}' doesn't exist on type '{typename}'", field.name),
                    Some("undefinedField"),
                );
                out.insert(field.key.clone(), Value::Null);
                continue;
            };
            let answer = self.value(found, field);
            out.insert(field.key.clone(), answer);
        }
        Value::Object(out)
    }

    fn value(&mut self, found: &Value, field: &Field) -> Value {
        match found {
            Value::Object(map) if map.contains_key(NODES_KEY) => {
                let nodes = map[NODES_KEY].as_array().map(Vec::as_slice).unwrap_or(&[]);
                self.nested_connection(field, nodes)
            }
            Value::Object(_) if field.selection.is_empty() => {
                self.error(
                    format!(
                        "Field must have selections (field '{}' returns an object)",
                        field.name
                    ),
                    Some("selectionMismatch"),
                );
                Value::Null
            }
            Value::Object(_) => self.object(found, &field.selection),
            Value::Array(items) if !field.selection.is_empty() => {
                let names: Option<Vec<&str>> = field
                    .arg("names")
                    .and_then(Value::as_array)
                    .map(|names| names.iter().filter_map(Value::as_str).collect());
                let limit = super::cost::page_size(field).map_or(usize::MAX, |n| n as usize);
                items
                    .iter()
                    .filter(|item| {
                        names.as_ref().is_none_or(|names| {
                            item.get("name")
                                .and_then(Value::as_str)
                                .is_some_and(|n| names.contains(&n))
                        })
                    })
                    .take(limit)
                    .map(|item| self.object(item, &field.selection))
                    .collect()
            }
            other => other.clone(),
        }
    }

    /// Pages an already rendered connection by the field's arguments.
    fn nested_connection(&mut self, field: &Field, nodes: &[Value]) -> Value {
        let Some(size) = super::cost::page_size(field) else {
            self.error(
                format!(
                    "you must provide one of first or last (field '{}')",
                    field.name
                ),
                Some("argumentLiteralsIncompatible"),
            );
            return Value::Null;
        };
        let start = field
            .arg_str("after")
            .and_then(nested_position)
            .map_or(0, |p| p + 1);
        let end = field
            .arg_str("before")
            .and_then(nested_position)
            .unwrap_or(nodes.len())
            .min(nodes.len());
        let start = start.min(end);
        let (from, to) = if field.arg_u64("first").is_some() {
            (start, end.min(start + size as usize))
        } else {
            (end.saturating_sub(size as usize).max(start), end)
        };
        let page: Vec<(String, &Value)> =
            (from..to).map(|i| (nested_cursor(i), &nodes[i])).collect();
        self.connection(field, &page, to < end, from > start)
    }

    /// The answer for connection `field` given its page of `(cursor, node)`.
    pub fn connection(
        &mut self,
        field: &Field,
        page: &[(String, &Value)],
        has_next: bool,
        has_previous: bool,
    ) -> Value {
        self.actual_cost += 2;
        let mut rendered: Vec<Option<Value>> = vec![None; page.len()];
        let mut out = Map::new();
        for part in &field.selection {
            let answer = match part.name.as_str() {
                "edges" => page
                    .iter()
                    .enumerate()
                    .map(|(i, (cursor, node))| {
                        let mut edge = Map::new();
                        for e in &part.selection {
                            match e.name.as_str() {
                                "cursor" => {
                                    edge.insert(e.key.clone(), Value::String(cursor.clone()));
                                }
                                "node" => {
                                    let value =
                                        self.node_once(&mut rendered[i], node, &e.selection);
                                    edge.insert(e.key.clone(), value);
                                }
                                "__typename" => {
                                    edge.insert(e.key.clone(), json!("Edge"));
                                }
                                other => self.error(
                                    format!("Field '{other}' doesn't exist on an edge"),
                                    Some("undefinedField"),
                                ),
                            }
                        }
                        Value::Object(edge)
                    })
                    .collect(),
                "nodes" => page
                    .iter()
                    .enumerate()
                    .map(|(i, (_, node))| self.node_once(&mut rendered[i], node, &part.selection))
                    .collect(),
                "pageInfo" => {
                    let info = json!({
                        "__typename": "PageInfo",
                        "hasNextPage": has_next,
                        "hasPreviousPage": has_previous,
                        "startCursor": page.first().map(|p| p.0.clone()),
                        "endCursor": page.last().map(|p| p.0.clone()),
                    });
                    self.fields(&info, &part.selection)
                }
                "__typename" => json!("Connection"),
                other => {
                    self.error(
                        format!("Field '{other}' doesn't exist on a connection"),
                        Some("undefinedField"),
                    );
                    Value::Null
                }
            };
            out.insert(part.key.clone(), answer);
        }
        Value::Object(out)
    }

    /// A node selected through both `edges.node` and `nodes` costs once.
    fn node_once(&mut self, slot: &mut Option<Value>, node: &Value, selection: &[Field]) -> Value {
        if slot.is_none() {
            *slot = Some(self.object(node, selection));
            return slot.clone().unwrap_or(Value::Null);
        }
        self.fields(node, selection)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::query::operation;

    #[test]
    fn answers_exactly_the_selection_and_pages_nested_connections() {
        let op = operation(
            "{ o { id total: price { amount } items(first: 2) { nodes { sku } pageInfo { hasNextPage endCursor } } } }",
            &Map::new(),
            None,
        )
        .unwrap();
        let value = json!({
            "__typename": "Order", "id": "gid://shopify/Order/1", "name": "#1001",
            "price": { "__typename": "MoneyV2", "amount": "1.00", "currencyCode": "USD" },
            "items": { "__nodes": [
                { "__typename": "LineItem", "sku": "A" },
                { "__typename": "LineItem", "sku": "B" },
                { "__typename": "LineItem", "sku": "C" },
            ] },
        });
        let mut p = Projection::default();
        let out = p.object(&value, &op.fields[0].selection);
        assert_eq!(out["id"], "gid://shopify/Order/1");
        assert!(out.get("name").is_none());
        assert_eq!(out["total"], json!({ "amount": "1.00" }));
        assert_eq!(
            out["items"]["nodes"],
            json!([{ "sku": "A" }, { "sku": "B" }])
        );
        assert_eq!(out["items"]["pageInfo"]["hasNextPage"], true);
        // order 1 + price 1 + connection 2 + two nodes.
        assert_eq!(p.actual_cost, 6);
        assert!(p.errors.is_empty());
    }
}
