//! A query as opsdeck sends it, what it is expected to cost, and the two
//! things every listing needs: cursor pages (`first`, `after`,
//! `pageInfo { hasNextPage endCursor }`) and an `updated_at` search filter.

use serde_json::{Map, Value};

/// One GraphQL document with its variables and the cost opsdeck expects
/// Shopify to compute for it.
#[derive(Debug, Clone, PartialEq)]
pub struct GraphqlQuery {
    /// The operation's name, e.g. `OrdersPage`: names it in logs and errors,
    /// and keys the cost Shopify reported for it last time.
    pub operation: String,
    pub document: String,
    pub variables: Map<String, Value>,
    /// The requested cost estimated from the selection
    /// ([`connection_cost`]); Shopify's own figure, once an answer gave
    /// one, is used when it is higher.
    pub estimated_cost: u32,
}

impl GraphqlQuery {
    pub fn new(operation: &str, document: &str, estimated_cost: u32) -> Self {
        GraphqlQuery {
            operation: operation.to_string(),
            document: document.to_string(),
            variables: Map::new(),
            estimated_cost,
        }
    }

    pub fn variable(mut self, name: &str, value: impl Into<Value>) -> Self {
        self.variables.insert(name.to_string(), value.into());
        self
    }

    /// The POST body: `{"query", "variables", "operationName"}`.
    pub fn body(&self) -> Value {
        serde_json::json!({
            "query": self.document,
            "variables": Value::Object(self.variables.clone()),
            "operationName": self.operation,
        })
    }
}

/// Shopify's requested cost of a connection of `first` nodes, each node
/// selecting `per_node` points of nested objects and connections: objects
/// cost 1, connections their `first`, scalars and enums nothing, so the
/// connection costs `first × (1 + per_node)`, plus 2 for the connection
/// object and its `pageInfo`. A guide for the cap check before the first
/// answer; the answer's `requestedQueryCost` replaces it afterwards.
pub fn connection_cost(first: u32, per_node: u32) -> u32 {
    first
        .saturating_mul(per_node.saturating_add(1))
        .saturating_add(2)
}

/// A search filter for records updated after `since`, in Shopify's search
/// syntax: `updated_at:>'2026-01-01T00:00:00Z'` (quoted, UTC, seconds).
pub fn updated_at_filter(since: jiff::Timestamp) -> String {
    format!("updated_at:>'{}'", since.strftime("%Y-%m-%dT%H:%M:%SZ"))
}

/// `pageInfo` of a connection.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PageInfo {
    pub has_next_page: bool,
    pub end_cursor: Option<String>,
}

/// One page of a connection: its nodes (from `nodes` or `edges[].node`)
/// still as JSON, so one bad record does not sink its page, and where the
/// next page starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionPage {
    pub nodes: Vec<Value>,
    pub page_info: PageInfo,
}

impl ConnectionPage {
    /// The cursor to pass as `after` for the next page; `None` on the last.
    pub fn next_cursor(&self) -> Option<&str> {
        if self.page_info.has_next_page {
            self.page_info.end_cursor.as_deref()
        } else {
            None
        }
    }

    /// The connection at `path` under `data` (e.g. `["orders"]`,
    /// `["shopifyPaymentsAccount", "disputes"]`). A connection without
    /// `pageInfo` is read as a last page.
    pub fn at(data: &Value, path: &[&str]) -> Result<ConnectionPage, String> {
        let mut connection = data;
        for key in path {
            connection = connection
                .get(key)
                .filter(|v| !v.is_null())
                .ok_or_else(|| format!("`{}`", path.join(".")))?;
        }
        let nodes = if let Some(Value::Array(nodes)) = connection.get("nodes") {
            nodes.clone()
        } else if let Some(Value::Array(edges)) = connection.get("edges") {
            edges
                .iter()
                .map(|edge| edge.get("node").cloned().unwrap_or(Value::Null))
                .collect()
        } else {
            return Err(format!("`{}.nodes` or `.edges`", path.join(".")));
        };
        let page_info = match connection.get("pageInfo") {
            Some(info) => serde_json::from_value(info.clone())
                .map_err(|e| format!("a readable `pageInfo` ({e})"))?,
            None => PageInfo::default(),
        };
        Ok(ConnectionPage { nodes, page_info })
    }
}

/// A listing walked page by page: the same query sent with `$first`,
/// `$after` (the previous page's end cursor) and, when set, `$query`.
#[derive(Debug, Clone, PartialEq)]
pub struct PagedQuery {
    /// The document must declare `$first: Int!` and `$after: String` (and
    /// `$query: String` when [`PagedQuery::search`] is set).
    pub query: GraphqlQuery,
    /// Where the connection sits under `data`.
    pub path: Vec<String>,
    pub first: u32,
    pub search: Option<String>,
}

impl PagedQuery {
    /// The query for the page after `after` (the first page for `None`).
    pub fn page(&self, after: Option<&str>) -> GraphqlQuery {
        let mut query = self
            .query
            .clone()
            .variable("first", self.first)
            .variable("after", after.map_or(Value::Null, Value::from));
        if let Some(search) = &self.search {
            query = query.variable("query", search.as_str());
        }
        query
    }

    pub fn path(&self) -> Vec<&str> {
        self.path.iter().map(String::as_str).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_updated_at_filter_is_quoted_utc_to_the_second() {
        let since: jiff::Timestamp = "2026-01-01T00:00:00.734Z".parse().unwrap();
        assert_eq!(
            updated_at_filter(since),
            "updated_at:>'2026-01-01T00:00:00Z'"
        );
    }

    #[test]
    fn connection_cost_follows_shopifys_rule() {
        // 50 orders, each with two money objects (2) and 10 line items.
        assert_eq!(connection_cost(50, 2 + 10), 652);
        assert_eq!(connection_cost(250, 0), 252);
    }

    #[test]
    fn reads_nodes_and_edges_and_a_missing_page_info() {
        let data = serde_json::json!({
            "a": {"nodes": [{"id": 1}], "pageInfo": {"hasNextPage": true, "endCursor": "c1"}},
            "b": {"edges": [{"cursor": "x", "node": {"id": 2}}]},
        });
        let a = ConnectionPage::at(&data, &["a"]).unwrap();
        assert_eq!(a.nodes, vec![serde_json::json!({"id": 1})]);
        assert_eq!(a.next_cursor(), Some("c1"));
        let b = ConnectionPage::at(&data, &["b"]).unwrap();
        assert_eq!(b.nodes, vec![serde_json::json!({"id": 2})]);
        assert_eq!(b.next_cursor(), None);
        assert!(ConnectionPage::at(&data, &["c"]).is_err());
    }

    #[test]
    fn a_page_query_carries_first_after_and_the_search() {
        let paged = PagedQuery {
            query: GraphqlQuery::new("OrdersPage", "query OrdersPage { x }", 100),
            path: vec!["orders".into()],
            first: 50,
            search: Some("updated_at:>'2026-01-01T00:00:00Z'".into()),
        };
        let first = paged.page(None);
        assert_eq!(first.variables["first"], 50);
        assert_eq!(first.variables["after"], Value::Null);
        assert_eq!(
            first.variables["query"],
            "updated_at:>'2026-01-01T00:00:00Z'"
        );
        assert_eq!(paged.page(Some("c9")).variables["after"], "c9");
    }
}
