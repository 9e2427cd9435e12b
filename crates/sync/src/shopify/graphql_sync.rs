//! The pages of a run that reads by the GraphQL Admin API: the same
//! records as the REST pages (GraphQL nodes are normalized through the
//! REST rules, keyed by the same numeric ids), committed by the same
//! checkpoint path ([`Progress::commit_ascending`]), so a shop can move
//! from one API to the other without a second copy of anything.
//!
//! - Orders and products: `updated_at:>'…'` search from the watermark minus
//!   the overlap, `sortKey: UPDATED_AT`, cursor pages. An order's nested
//!   connections come a page at a time (10 line items, 2 fulfillments, 2
//!   refunds): an order whose line items fill that page gets them all by
//!   follow-up pages ([`documents::order_line_items`]), and one whose
//!   fulfillments or refunds fill it gets them again in one larger query
//!   ([`documents::order_fulfillments`], [`documents::order_refunds`]),
//!   before it is normalized. A fulfillment's or refund's lines (5 per
//!   page) whose `pageInfo` says more follow are read again whole
//!   ([`documents::fulfillment_line_items`], [`documents::refund_line_items`]).
//!   A refund's transactions beyond its first 2 are not followed up.
//! - Inventory levels: read whole each run like REST (a level's change
//!   does not change its item's `updated_at`), through `inventoryItems`,
//!   keeping the levels of the tracked variants the store knows.

use super::{tracked_inventory_items, Progress, ShopifyResource, SyncError};
use opsdeck_domain::Timestamp;
use opsdeck_sources::shopify::graphql::normalize::{
    inventory_level_from_graphql, order_from_graphql, product_from_graphql,
};
use opsdeck_sources::shopify::graphql::wire::legacy_id;
use opsdeck_sources::shopify::graphql::{
    documents, updated_at_filter, GraphqlClient, GraphqlError, GraphqlStats, PagedQuery,
};
use opsdeck_store::AnyRecord;
use serde_json::{json, Value};
use std::collections::BTreeSet;

/// The pages of `resource`, committed one by one.
pub(super) async fn pages(
    p: &mut Progress<'_>,
    graphql: &GraphqlClient,
    resource: ShopifyResource,
) -> Result<(), SyncError> {
    match resource {
        ShopifyResource::Orders | ShopifyResource::Products => {
            by_updated_at(p, graphql, resource).await
        }
        ShopifyResource::InventoryLevels => inventory_levels(p, graphql).await,
    }
}

/// Orders and products changed since the watermark, oldest change first.
async fn by_updated_at(
    p: &mut Progress<'_>,
    graphql: &GraphqlClient,
    resource: ShopifyResource,
) -> Result<(), SyncError> {
    let search = p.since().map(updated_at_filter);
    let paged = match resource {
        ShopifyResource::Orders => documents::orders(search),
        _ => documents::products(search),
    };
    let mut after: Option<String> = None;
    let mut seen_max: Option<Timestamp> = None;
    loop {
        let page = graphql
            .page(&paged, after.as_deref(), &mut p.run.graphql)
            .await?;
        p.run.pages += 1;
        let mut records = Vec::with_capacity(page.nodes.len());
        for mut node in page.nodes.iter().cloned() {
            let normalized = match resource {
                ShopifyResource::Orders => {
                    complete_order(graphql, &mut p.run.graphql, &mut node).await?;
                    order_from_graphql(&p.ctx, &node).map(AnyRecord::Order)
                }
                _ => product_from_graphql(&p.ctx, &node).map(AnyRecord::Product),
            };
            match normalized {
                Ok(record) => records.push(record),
                Err(e) => p.reject(e),
            }
        }
        p.commit_ascending(&records, &mut seen_max).await?;
        match page.next_cursor() {
            Some(cursor) => after = Some(cursor.to_string()),
            None => break,
        }
    }
    p.close_ascending(seen_max);
    Ok(())
}

/// Replaces the line items, fulfillments and refunds of `order` by all of
/// them where the listing's first page of them was full (Shopify says no
/// more than that: the listing does not ask each nested `pageInfo`).
async fn complete_order(
    graphql: &GraphqlClient,
    stats: &mut GraphqlStats,
    order: &mut Value,
) -> Result<(), GraphqlError> {
    let count = |pointer: &str| {
        order
            .pointer(pointer)
            .and_then(Value::as_array)
            .map_or(0, Vec::len)
    };
    let full_lines = count("/lineItems/nodes") >= documents::ORDER_LINES as usize;
    let full_fulfillments = count("/fulfillments") >= documents::ORDER_FULFILLMENTS as usize;
    let full_refunds = count("/refunds") >= documents::ORDER_REFUNDS as usize;
    let Some(id) = order.get("id").and_then(Value::as_str).map(str::to_string) else {
        // Normalization refuses an order without an id.
        return Ok(());
    };
    if full_lines {
        let lines = every_node(graphql, &documents::order_line_items(&id), stats).await?;
        tracing::debug!(
            order = legacy_id(&id),
            lines = lines.len(),
            "line items followed up"
        );
        order["lineItems"] = json!({ "nodes": lines });
    }
    for (full, list) in [
        (full_fulfillments, OrderList::Fulfillments),
        (full_refunds, OrderList::Refunds),
    ] {
        order[list.field()] = if full {
            order_list(graphql, stats, &id, list).await?
        } else {
            let mut given = order[list.field()].take();
            complete_lines(graphql, stats, &mut given, list).await?;
            given
        };
    }
    Ok(())
}

/// An order's list whose members carry lines of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum OrderList {
    Fulfillments,
    Refunds,
}

impl OrderList {
    pub(super) fn field(self) -> &'static str {
        match self {
            OrderList::Fulfillments => "fulfillments",
            OrderList::Refunds => "refunds",
        }
    }

    /// The connection of lines inside each member.
    fn lines(self) -> &'static str {
        match self {
            OrderList::Fulfillments => "fulfillmentLineItems",
            OrderList::Refunds => "refundLineItems",
        }
    }
}

/// The whole list (fulfillments or refunds) of the order `order_gid`, each
/// member with all its lines: the follow-up of an order the listing or a
/// bulk file could not give whole.
pub(super) async fn order_list(
    graphql: &GraphqlClient,
    stats: &mut GraphqlStats,
    order_gid: &str,
    list: OrderList,
) -> Result<Value, GraphqlError> {
    let query = match list {
        OrderList::Fulfillments => documents::order_fulfillments(order_gid),
        OrderList::Refunds => documents::order_refunds(order_gid),
    };
    let answer = graphql.execute(&query, stats).await?;
    let mut members = answer
        .data
        .pointer(&format!("/order/{}", list.field()))
        .filter(|v| v.is_array())
        .cloned()
        .ok_or_else(|| GraphqlError::Missing {
            operation: query.operation.clone(),
            what: format!("`order.{}`", list.field()),
        })?;
    complete_lines(graphql, stats, &mut members, list).await?;
    Ok(members)
}

/// Gives each member of `members` (an order's fulfillments or refunds)
/// all its lines where its first page of them says more follow.
async fn complete_lines(
    graphql: &GraphqlClient,
    stats: &mut GraphqlStats,
    members: &mut Value,
    list: OrderList,
) -> Result<(), GraphqlError> {
    let Some(members) = members.as_array_mut() else {
        return Ok(());
    };
    for member in members {
        let more = member
            .pointer(&format!("/{}/pageInfo/hasNextPage", list.lines()))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let Some(gid) = member.get("id").and_then(Value::as_str).map(str::to_string) else {
            continue;
        };
        if !more {
            continue;
        }
        let paged = match list {
            OrderList::Fulfillments => documents::fulfillment_line_items(&gid),
            OrderList::Refunds => documents::refund_line_items(&gid),
        };
        let lines = every_node(graphql, &paged, stats).await?;
        tracing::debug!(
            member = legacy_id(&gid),
            lines = lines.len(),
            "nested lines followed up"
        );
        member[list.lines()] = json!({ "nodes": lines });
    }
    Ok(())
}

/// Every node of a listing, page by page.
async fn every_node(
    graphql: &GraphqlClient,
    paged: &PagedQuery,
    stats: &mut GraphqlStats,
) -> Result<Vec<Value>, GraphqlError> {
    let mut nodes = Vec::new();
    graphql
        .each_page(paged, stats, |page| {
            nodes.extend(page.nodes);
            Ok(())
        })
        .await?;
    Ok(nodes)
}

/// Stock of every tracked variant the store knows, page by page of
/// inventory items (levels of other items are not asked for by REST
/// either, so both paths store the same set).
async fn inventory_levels(p: &mut Progress<'_>, graphql: &GraphqlClient) -> Result<(), SyncError> {
    let products = p.book.store.list_products(p.client.source()).await?;
    let tracked: BTreeSet<String> = tracked_inventory_items(&products).into_iter().collect();
    let paged = documents::inventory_items(None);
    let mut after: Option<String> = None;
    let mut seen_max: Option<Timestamp> = None;
    loop {
        let page = graphql
            .page(&paged, after.as_deref(), &mut p.run.graphql)
            .await?;
        p.run.pages += 1;
        let mut records = Vec::new();
        for item in &page.nodes {
            let item_id = item.get("id").and_then(Value::as_str).map(legacy_id);
            if !item_id.is_some_and(|id| tracked.contains(id)) {
                continue;
            }
            let levels = item
                .pointer("/inventoryLevels/nodes")
                .and_then(Value::as_array)
                .map_or(&[][..], Vec::as_slice);
            for level in levels {
                match inventory_level_from_graphql(&p.ctx, level, None) {
                    Ok(level) => records.push(AnyRecord::InventoryLevel(level)),
                    Err(e) => p.reject(e),
                }
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
