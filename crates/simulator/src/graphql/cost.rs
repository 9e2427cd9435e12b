//! Shopify's calculated query cost, from the query alone (before it runs):
//! scalars and enums cost 0, an object 1 plus its selection, a connection 2
//! plus `first` (or `last`) times the cost of one of its nodes, a mutation
//! 10. `pageInfo` and the edges' `cursor` are part of the connection's 2.
//! So `orders(first: 250) { edges { node { id } } }` costs 252, the figure
//! Shopify's responses report for it. The actual cost counts what came back
//! (see `project`), and the difference is refunded to the bucket.

use super::query::{Field, Kind, Operation};

/// What one mutation field costs, whatever it selects.
pub(crate) const MUTATION_COST: u64 = 10;
/// The most one query may request, on every plan.
pub(crate) const MAX_QUERY_COST: u64 = 1_000;

/// The requested cost of the whole operation.
pub(crate) fn requested(operation: &Operation) -> u64 {
    match operation.kind {
        Kind::Mutation => operation.fields.len() as u64 * MUTATION_COST,
        Kind::Query => operation.fields.iter().map(field_cost).sum(),
    }
}

/// How many nodes a connection or list field asks for.
pub(crate) fn page_size(field: &Field) -> Option<u64> {
    field.arg_u64("first").or_else(|| field.arg_u64("last"))
}

/// Whether `field` is a connection (selects `edges` or `nodes`).
pub(crate) fn is_connection(field: &Field) -> bool {
    field
        .selection
        .iter()
        .any(|f| f.name == "edges" || f.name == "nodes")
}

/// The cost of one node of connection `field`: the node object and what it selects.
fn node_cost(field: &Field) -> u64 {
    let mut cost = 0;
    for part in &field.selection {
        let nodes = match part.name.as_str() {
            "nodes" => Some(part),
            "edges" => part.child("node"),
            _ => None,
        };
        if let Some(node) = nodes {
            cost = cost.max(1 + selection_cost(&node.selection));
        }
    }
    cost
}

fn selection_cost(selection: &[Field]) -> u64 {
    selection.iter().map(field_cost).sum()
}

fn field_cost(field: &Field) -> u64 {
    if field.selection.is_empty() || field.name == "pageInfo" || field.name == "__typename" {
        return 0;
    }
    if is_connection(field) {
        return 2 + page_size(field).unwrap_or(0) * node_cost(field);
    }
    let one = 1 + selection_cost(&field.selection);
    match page_size(field) {
        // A plain list of objects sized by `first` (`Order.fulfillments`).
        Some(n) => n * one,
        None => one,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graphql::query::operation;

    fn cost(text: &str) -> u64 {
        requested(&operation(text, &Default::default(), None).unwrap())
    }

    #[test]
    fn objects_connections_scalars_and_mutations() {
        assert_eq!(cost("{ shop { id name currencyCode } }"), 1);
        assert_eq!(
            cost("{ orders(first: 250) { edges { node { id } } } }"),
            252
        );
        assert_eq!(
            cost("{ orders(first: 10) { pageInfo { hasNextPage endCursor } nodes { id totalPriceSet { shopMoney { amount } } } } }"),
            2 + 10 * 3
        );
        assert_eq!(
            cost("{ products(first: 50) { edges { node { id variants(first: 20) { edges { node { id } } } } } } }"),
            2 + 50 * (1 + 2 + 20)
        );
        assert_eq!(
            cost(
                r#"mutation { bulkOperationRunQuery(query: "{ orders { edges { node { id } } } }") { bulkOperation { id } userErrors { message } } }"#
            ),
            10
        );
    }
}
