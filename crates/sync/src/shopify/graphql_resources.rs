//! The pages of the resources only the GraphQL Admin API has: returns,
//! disputes, customers and abandoned checkouts. They are read by GraphQL
//! whatever the shop's `api` setting (the GraphQL client is built from the
//! same credentials), each with its own sync state, and committed by the
//! same checkpoint path as orders ([`Progress::commit`]).
//!
//! - Returns: Shopify lists them per order. A run walks the orders changed
//!   since the watermark minus the overlap (a return's request, decision
//!   and closing touch its order's `updatedAt`) and keeps their returns;
//!   orders without a return are left out by the search where Shopify
//!   applies `-return_status:no_return` (a filter it does not know is
//!   ignored, which only costs pages). An order whose first page of returns
//!   is full gets them all by one follow-up query ([`order_returns`]).
//!   The watermark is the newest *order* `updatedAt` seen, moved only
//!   when the run completes (the listing is in id order).
//! - Disputes: `shopifyPaymentsAccount.disputes` has no `updated_at`
//!   filter, and reading newest-first until past the watermark would miss
//!   changes: a dispute opened months ago moves on (evidence sent, won,
//!   lost) long after newer ones opened. They are few (a handful per
//!   thousand orders), so each run reads them whole. A shop without Shopify
//!   Payments answers a null account: that is "not applicable", recorded as
//!   a notice on the run, not a failure.
//! - Customers and abandoned checkouts: `updated_at:>'…'` search from the
//!   watermark minus the overlap, cursor pages in id order, the watermark
//!   moved at the end of a complete run.

use super::{Progress, ShopifyResource, SyncError};
use opsdeck_domain::Timestamp;
use opsdeck_sources::shopify::graphql::normalize::{
    abandoned_checkout_from_graphql, customer_from_graphql, dispute_from_graphql,
    return_from_graphql,
};
use opsdeck_sources::shopify::graphql::query::connection_cost;
use opsdeck_sources::shopify::graphql::{
    documents, updated_at_filter, ConnectionPage, GraphqlClient, GraphqlError, GraphqlQuery,
    GraphqlStats, PagedQuery,
};
use opsdeck_store::AnyRecord;
use serde_json::Value;

/// Returns asked per order in the listing, and lines per return. One:
/// most orders have none, so the listing's cost (what the bucket waits
/// for) stays low per order; an order that has one gets all of its
/// returns by the follow-up query.
const RETURNS_PER_ORDER: u32 = 1;
const LINES_PER_RETURN: u32 = 5;
/// Returns asked by the follow-up of an order whose first page was full.
const RETURNS_FOLLOW_UP: u32 = 20;

/// The notice a run of disputes leaves on a shop without Shopify Payments.
pub(crate) const NO_SHOPIFY_PAYMENTS: &str =
    "disputes not applicable: the shop has no Shopify Payments account";

/// Customers changed since the watermark.
pub(super) async fn customers(
    p: &mut Progress<'_>,
    graphql: &GraphqlClient,
) -> Result<(), SyncError> {
    let search = p.since().map(updated_at_filter);
    by_listing(
        p,
        graphql,
        documents::customers(search),
        ShopifyResource::Customers,
    )
    .await
}

/// Abandoned checkouts changed since the watermark.
pub(super) async fn abandoned_checkouts(
    p: &mut Progress<'_>,
    graphql: &GraphqlClient,
) -> Result<(), SyncError> {
    let search = p.since().map(updated_at_filter);
    let paged = documents::abandoned_checkouts(search);
    by_listing(p, graphql, paged, ShopifyResource::AbandonedCheckouts).await
}

/// What opsdeck reads of a return (what `return_from_graphql` decodes).
fn return_fields() -> String {
    format!(
        "id name status createdAt requestApprovedAt closedAt order {{ id }} decline {{ reason note }} \
         returnLineItems(first: {LINES_PER_RETURN}) {{ nodes {{ ... on ReturnLineItem {{ \
         id quantity returnReasonNote customerNote returnReasonDefinition {{ handle name }} \
         fulfillmentLineItem {{ lineItem {{ id }} }} }} }} }}"
    )
}

/// A return, its order and decline, and its lines (each with a reason
/// definition and a fulfillment line with its line item).
fn return_cost() -> u32 {
    1 + 1 + 1 + connection_cost(LINES_PER_RETURN, 3)
}

/// Orders changed in the window, with their first returns.
fn orders_with_returns(search: Option<String>) -> PagedQuery {
    let per_order = 1 + connection_cost(RETURNS_PER_ORDER, return_cost());
    let first = documents::page_size(per_order, 250);
    let document = format!(
        "query OrderReturnsPage($first: Int!, $after: String, $query: String) {{ \
         orders(first: $first, after: $after, query: $query) {{ nodes {{ id updatedAt \
         returns(first: {RETURNS_PER_ORDER}) {{ nodes {{ {} }} }} }} \
         pageInfo {{ hasNextPage endCursor }} }} }}",
        return_fields()
    );
    let search = match search {
        Some(window) => format!("{window} AND -return_status:no_return"),
        None => "-return_status:no_return".to_string(),
    };
    PagedQuery {
        query: GraphqlQuery::new(
            "OrderReturnsPage",
            &document,
            // `per_order` counts the order itself, which the connection
            // already counts.
            connection_cost(first, per_order - 1),
        ),
        path: vec!["orders".into()],
        first,
        search: Some(search),
    }
}

/// Every return of the order `order_gid` (up to [`RETURNS_FOLLOW_UP`]),
/// for an order whose listing page of returns was full.
fn order_returns(order_gid: &str) -> GraphqlQuery {
    let document = format!(
        "query OrderReturns($id: ID!) {{ order(id: $id) {{ id \
         returns(first: {RETURNS_FOLLOW_UP}) {{ nodes {{ {} }} }} }} }}",
        return_fields()
    );
    GraphqlQuery::new(
        "OrderReturns",
        &document,
        1 + connection_cost(RETURNS_FOLLOW_UP, return_cost()),
    )
    .variable("id", order_gid)
}

/// The return nodes of an order node (none when Shopify answered null).
fn return_nodes(order: &Value) -> Vec<Value> {
    order
        .pointer("/returns/nodes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Returns of the orders changed since the watermark.
pub(super) async fn returns(
    p: &mut Progress<'_>,
    graphql: &GraphqlClient,
) -> Result<(), SyncError> {
    let search = p.since().map(updated_at_filter);
    let paged = orders_with_returns(search);
    let mut after: Option<String> = None;
    let mut seen_max: Option<Timestamp> = None;
    loop {
        let page = graphql
            .page(&paged, after.as_deref(), &mut p.run.graphql)
            .await?;
        p.run.pages += 1;
        let mut records = Vec::new();
        for order in &page.nodes {
            let updated = order
                .get("updatedAt")
                .and_then(Value::as_str)
                .and_then(|t| t.parse::<Timestamp>().ok());
            seen_max = seen_max.max(updated);
            let mut nodes = return_nodes(order);
            if nodes.len() >= RETURNS_PER_ORDER as usize {
                if let Some(id) = order.get("id").and_then(Value::as_str) {
                    nodes = all_returns(graphql, &mut p.run.graphql, id).await?;
                }
            }
            for node in &nodes {
                match return_from_graphql(&p.ctx, node) {
                    Ok(r) => records.push(AnyRecord::ReturnRequest(r.request)),
                    Err(e) => p.reject(e),
                }
            }
        }
        let watermark = p.book.state.watermark;
        p.commit(&records, watermark).await?;
        match page.next_cursor() {
            Some(cursor) => after = Some(cursor.to_string()),
            None => break,
        }
    }
    p.close_ascending(seen_max);
    Ok(())
}

/// The returns of one order, by its follow-up query.
async fn all_returns(
    graphql: &GraphqlClient,
    stats: &mut GraphqlStats,
    order_gid: &str,
) -> Result<Vec<Value>, GraphqlError> {
    let query = order_returns(order_gid);
    let answer = graphql.execute(&query, stats).await?;
    let order = answer
        .data
        .get("order")
        .filter(|o| !o.is_null())
        .ok_or_else(|| GraphqlError::Missing {
            operation: query.operation.clone(),
            what: "`order`".into(),
        })?;
    Ok(return_nodes(order))
}

/// Every dispute, page by page; a null `shopifyPaymentsAccount` (no
/// Shopify Payments) ends the run as "not applicable".
pub(super) async fn disputes(
    p: &mut Progress<'_>,
    graphql: &GraphqlClient,
) -> Result<(), SyncError> {
    let paged = documents::disputes();
    let mut after: Option<String> = None;
    let mut seen_max: Option<Timestamp> = None;
    loop {
        let query = paged.page(after.as_deref());
        let answer = graphql.execute(&query, &mut p.run.graphql).await?;
        p.run.pages += 1;
        if answer
            .data
            .get("shopifyPaymentsAccount")
            .is_none_or(Value::is_null)
        {
            tracing::info!("{NO_SHOPIFY_PAYMENTS}");
            p.book.notices.push(NO_SHOPIFY_PAYMENTS.to_string());
            return Ok(());
        }
        let page = ConnectionPage::at(&answer.data, &paged.path()).map_err(|what| {
            GraphqlError::Missing {
                operation: query.operation.clone(),
                what,
            }
        })?;
        let mut records = Vec::with_capacity(page.nodes.len());
        for node in &page.nodes {
            match dispute_from_graphql(&p.ctx, node) {
                Ok(d) => records.push(AnyRecord::PaymentEvent(d.event)),
                Err(e) => p.reject(e),
            }
        }
        seen_max = seen_max.max(records.iter().map(AnyRecord::updated_at).max());
        let watermark = p.book.state.watermark;
        p.commit(&records, watermark).await?;
        match page.next_cursor() {
            Some(cursor) => after = Some(cursor.to_string()),
            None => break,
        }
    }
    p.close_ascending(seen_max);
    Ok(())
}

/// Customers or abandoned checkouts changed since the watermark: pages in
/// id order, each committed, the watermark moved when the run completes.
async fn by_listing(
    p: &mut Progress<'_>,
    graphql: &GraphqlClient,
    paged: PagedQuery,
    resource: ShopifyResource,
) -> Result<(), SyncError> {
    let mut after: Option<String> = None;
    let mut seen_max: Option<Timestamp> = None;
    loop {
        let page = graphql
            .page(&paged, after.as_deref(), &mut p.run.graphql)
            .await?;
        p.run.pages += 1;
        let mut records = Vec::with_capacity(page.nodes.len());
        for node in &page.nodes {
            let normalized = match resource {
                ShopifyResource::Customers => {
                    customer_from_graphql(&p.ctx, node).map(AnyRecord::CustomerSummary)
                }
                _ => {
                    abandoned_checkout_from_graphql(&p.ctx, node).map(AnyRecord::AbandonedCheckout)
                }
            };
            match normalized {
                Ok(record) => records.push(record),
                Err(e) => p.reject(e),
            }
        }
        seen_max = seen_max.max(records.iter().map(AnyRecord::updated_at).max());
        let watermark = p.book.state.watermark;
        p.commit(&records, watermark).await?;
        match page.next_cursor() {
            Some(cursor) => after = Some(cursor.to_string()),
            None => break,
        }
    }
    p.close_ascending(seen_max);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_sources::shopify::graphql::SINGLE_QUERY_MAX_COST;

    #[test]
    fn return_queries_stay_under_the_cap_and_balance_their_braces() {
        let listing = orders_with_returns(Some("updated_at:>'2026-01-01T00:00:00Z'".into()));
        let follow_up = order_returns("gid://shopify/Order/1");
        for query in [&listing.page(Some("c")), &follow_up] {
            assert!(
                query.estimated_cost <= SINGLE_QUERY_MAX_COST,
                "{}",
                query.estimated_cost
            );
            assert_eq!(
                query.document.matches('{').count(),
                query.document.matches('}').count()
            );
        }
        assert!(listing.first >= 10, "{} orders a page", listing.first);
        assert_eq!(
            listing.search.as_deref(),
            Some("updated_at:>'2026-01-01T00:00:00Z' AND -return_status:no_return")
        );
    }
}
