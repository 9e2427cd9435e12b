//! The listings opsdeck sends, one per resource, each selecting exactly
//! what [`super::wire`] reads, with its requested cost estimated by
//! Shopify's rule ([`connection_cost`]) so the page size keeps a query
//! under the 1,000-point cap. Incremental runs pass an `updated_at` filter
//! ([`super::updated_at_filter`]) and walk the cursor.
//!
//! Page sizes are chosen from the cost, not the other way round: an order
//! with its line items, fulfillments and refunds costs hundreds of points,
//! so orders come a few per page (the backfill goes by bulk operation,
//! which the cost does not limit).

use super::cost::SINGLE_QUERY_MAX_COST;
use super::query::{connection_cost, GraphqlQuery, PagedQuery};

const MONEY_BAG: &str =
    "{ shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }";
/// A money bag and its two sides: 3 objects.
const MONEY_BAG_COST: u32 = 3;

/// Line items per order, fulfillments and refunds per order, and lines
/// per fulfillment or refund asked in one page. Each nested size
/// multiplies the order's cost, so they are small; an order with more
/// (its connection's `hasNextPage`) needs a follow-up query of its own,
/// which is the sync's to make.
pub const ORDER_LINES: u32 = 10;
pub const ORDER_FULFILLMENTS: u32 = 2;
pub const ORDER_REFUNDS: u32 = 2;
pub const NESTED_LINES: u32 = 5;
pub const REFUND_TRANSACTIONS: u32 = 2;
const ORDER_ADJUSTMENTS: u32 = 2;

/// What opsdeck reads of an order's line item. The three quantities after
/// `quantity` let a bulk file, which cannot carry fulfillments' and
/// refunds' lines, give them back (see `normalize::order_from_bulk`).
fn line_item_fields() -> String {
    format!(
        "id title name variantTitle sku quantity currentQuantity unfulfilledQuantity \
         refundableQuantity product {{ id }} variant {{ id }} originalUnitPriceSet {MONEY_BAG}"
    )
}
/// A line item's nested objects: product, variant (1 each) and a money bag.
const LINE_ITEM_COST: u32 = 2 + MONEY_BAG_COST;

/// A fulfillment's own fields: what the bulk query can ask of it (its
/// lines are a connection inside the `fulfillments` list, which bulk
/// operations refuse).
const FULFILLMENT_OWN_FIELDS: &str =
    "id status displayStatus createdAt updatedAt deliveredAt estimatedDeliveryAt";

/// What opsdeck reads of an order's fulfillment. Its lines say whether
/// more follow ([`fulfillment_line_items`]).
fn fulfillment_fields() -> String {
    format!(
        "{FULFILLMENT_OWN_FIELDS} trackingInfo(first: 3) {{ company number url }} \
         fulfillmentLineItems(first: {NESTED_LINES}) {{ {FULFILLMENT_LINE} {PAGE_INFO} }}"
    )
}

/// One line of a fulfillment, as a connection's `nodes`.
const FULFILLMENT_LINE: &str = "nodes { quantity lineItem { id } }";
/// Whether a nested connection has more, and where its page ended.
const PAGE_INFO: &str = "pageInfo { hasNextPage endCursor }";

/// A fulfillment, its tracking infos (3) and its lines.
fn fulfillment_cost() -> u32 {
    1 + 3 + connection_cost(NESTED_LINES, 1)
}

/// One line of a refund, as a connection's `nodes`.
fn refund_line() -> String {
    format!(
        "nodes {{ quantity lineItem {{ id }} subtotalSet {MONEY_BAG} totalTaxSet {MONEY_BAG} }}"
    )
}

/// What opsdeck reads of an order's refund. Its lines say whether more
/// follow ([`refund_line_items`]).
fn refund_fields() -> String {
    format!(
        "id createdAt note \
         refundLineItems(first: {NESTED_LINES}) {{ {} {PAGE_INFO} }} \
         transactions(first: {REFUND_TRANSACTIONS}) {{ nodes {{ kind status amountSet {MONEY_BAG} }} }} \
         orderAdjustments(first: {ORDER_ADJUSTMENTS}) {{ nodes {{ amountSet {MONEY_BAG} taxAmountSet {MONEY_BAG} }} }}",
        refund_line()
    )
}

/// A refund, its lines, transactions and adjustments.
fn refund_cost() -> u32 {
    1 + connection_cost(NESTED_LINES, 1 + 2 * MONEY_BAG_COST)
        + connection_cost(REFUND_TRANSACTIONS, MONEY_BAG_COST)
        + connection_cost(ORDER_ADJUSTMENTS, 2 * MONEY_BAG_COST)
}

/// One order's selection and its cost in points.
pub fn order_selection() -> (String, u32) {
    let lines = format!(
        "lineItems(first: {ORDER_LINES}) {{ nodes {{ {} }} }}",
        line_item_fields()
    );
    let lines_cost = connection_cost(ORDER_LINES, LINE_ITEM_COST);
    let fulfillments = format!(
        "fulfillments(first: {ORDER_FULFILLMENTS}) {{ {} }}",
        fulfillment_fields()
    );
    let fulfillments_cost = ORDER_FULFILLMENTS * fulfillment_cost();
    let refunds = format!("refunds(first: {ORDER_REFUNDS}) {{ {} }}", refund_fields());
    let refunds_cost = ORDER_REFUNDS * refund_cost();
    let selection = format!("{} {lines} {fulfillments} {refunds}", order_own_fields());
    // The order, its four money bags and its customer.
    let cost = 1 + 4 * MONEY_BAG_COST + 1 + lines_cost + fulfillments_cost + refunds_cost;
    (selection, cost)
}

/// An order's own fields and objects (no list, no connection).
fn order_own_fields() -> String {
    format!(
        "id name createdAt updatedAt processedAt cancelledAt cancelReason closedAt currencyCode \
         displayFinancialStatus displayFulfillmentStatus tags sourceName test email \
         totalPriceSet {MONEY_BAG} subtotalPriceSet {MONEY_BAG} totalDiscountsSet {MONEY_BAG} \
         totalTaxSet {MONEY_BAG} customer {{ id email firstName lastName }}"
    )
}

/// One order's selection in a bulk query. Bulk operations refuse a
/// connection inside a list field, and `fulfillments` and `refunds` are
/// lists: they come with their own fields only (a fulfillment's tracking
/// is a list too; a refund's amount is its `totalRefundedSet`), and their
/// lines are given back from the line items' quantities or followed up
/// (`normalize::order_from_bulk`). The line items are the one nested
/// connection, given whole (a bulk query ignores page sizes).
///
/// With `fulfillment_order_ids` (a token that may read fulfillment
/// orders), each order also names its fulfillment orders: their lines,
/// which say per line how many units shipped, are a third level of
/// connections, so they come from a bulk query of their own
/// ([`fulfillment_orders_bulk_selection`]) joined to the orders by these
/// ids.
pub fn order_bulk_selection(fulfillment_order_ids: bool) -> String {
    let fulfillment_orders = match fulfillment_order_ids {
        true => " fulfillmentOrders(displayable: true) { nodes { id } }",
        false => "",
    };
    format!(
        "{} lineItems {{ nodes {{ {} }} }}{fulfillment_orders} \
         fulfillments {{ {FULFILLMENT_OWN_FIELDS} trackingInfo {{ company number url }} }} \
         refunds {{ id createdAt note totalRefundedSet {MONEY_BAG} }}",
        order_own_fields(),
        line_item_fields()
    )
}

/// One fulfillment order's selection in a bulk query of fulfillment
/// orders: its order's id (to join it to the orders' file) and, per
/// line, the units it is to ship and those still to ship (shipped: the
/// difference). Every object a bulk file puts on a line of its own
/// carries its `id`.
pub fn fulfillment_orders_bulk_selection() -> &'static str {
    "id orderId status lineItems { nodes { id totalQuantity remainingQuantity lineItem { id } } }"
}

/// How many nodes of `node_cost` points fit one page under the cap.
pub fn page_size(node_cost: u32, at_most: u32) -> u32 {
    ((SINGLE_QUERY_MAX_COST - 2) / node_cost.max(1)).clamp(1, at_most)
}

fn paged(
    operation: &str,
    root: &str,
    selection: &str,
    node_cost: u32,
    at_most: u32,
    search: Option<String>,
) -> PagedQuery {
    paged_sorted(operation, root, "", selection, node_cost, at_most, search)
}

/// [`paged`] with extra arguments on the root (`sortKey: UPDATED_AT`).
fn paged_sorted(
    operation: &str,
    root: &str,
    arguments: &str,
    selection: &str,
    node_cost: u32,
    at_most: u32,
    search: Option<String>,
) -> PagedQuery {
    let first = page_size(node_cost, at_most);
    let document = format!(
        "query {operation}($first: Int!, $after: String, $query: String) {{ \
         {root}(first: $first, after: $after, query: $query{arguments}) {{ nodes {{ {selection} }} \
         pageInfo {{ hasNextPage endCursor }} }} }}"
    );
    PagedQuery {
        query: GraphqlQuery::new(
            operation,
            &document,
            connection_cost(first, node_cost.saturating_sub(1)),
        ),
        path: vec![root.to_string()],
        first,
        search,
    }
}

/// Orders (with line items, fulfillments and refunds), oldest change
/// first, so an incremental sync's watermark can follow its pages.
pub fn orders(search: Option<String>) -> PagedQuery {
    let (selection, cost) = order_selection();
    paged_sorted(
        "OrdersPage",
        "orders",
        ", sortKey: UPDATED_AT",
        &selection,
        cost,
        250,
        search,
    )
}

/// The fulfillments of the order `order_gid`, for an order with more than
/// [`ORDER_FULFILLMENTS`]: as many as one query may cost (a list, not a
/// connection: it has no further page). Answers `order.fulfillments`.
pub fn order_fulfillments(order_gid: &str) -> GraphqlQuery {
    order_list(
        "OrderFulfillments",
        "fulfillments",
        &fulfillment_fields(),
        fulfillment_cost(),
        order_gid,
    )
}

/// The refunds of the order `order_gid`, for an order with more than
/// [`ORDER_REFUNDS`], as [`order_fulfillments`]. Answers `order.refunds`.
pub fn order_refunds(order_gid: &str) -> GraphqlQuery {
    order_list(
        "OrderRefunds",
        "refunds",
        &refund_fields(),
        refund_cost(),
        order_gid,
    )
}

fn order_list(
    operation: &str,
    field: &str,
    fields: &str,
    cost: u32,
    order_gid: &str,
) -> GraphqlQuery {
    let first = page_size(cost, 250);
    let document = format!(
        "query {operation}($id: ID!) {{ order(id: $id) {{ {field}(first: {first}) {{ {fields} }} }} }}"
    );
    GraphqlQuery::new(operation, &document, 1 + first * cost).variable("id", order_gid)
}

/// The line items of the order `order_gid`, for an order with more than
/// [`ORDER_LINES`] (the rest of its `lineItems` connection).
pub fn order_line_items(order_gid: &str) -> PagedQuery {
    let first = page_size(1 + LINE_ITEM_COST, 250);
    let document = format!(
        "query OrderLineItemsPage($id: ID!, $first: Int!, $after: String) {{ order(id: $id) {{ \
         lineItems(first: $first, after: $after) {{ nodes {{ {} }} \
         pageInfo {{ hasNextPage endCursor }} }} }} }}",
        line_item_fields()
    );
    PagedQuery {
        query: GraphqlQuery::new(
            "OrderLineItemsPage",
            &document,
            1 + connection_cost(first, LINE_ITEM_COST),
        )
        .variable("id", order_gid),
        path: vec!["order".into(), "lineItems".into()],
        first,
        search: None,
    }
}

/// The lines of the fulfillment `fulfillment_gid`, for one whose first
/// [`NESTED_LINES`] said there were more (`pageInfo.hasNextPage`): all of
/// them, a page at a time. Answers `fulfillment.fulfillmentLineItems`.
pub fn fulfillment_line_items(fulfillment_gid: &str) -> PagedQuery {
    nested_lines(
        "FulfillmentLineItemsPage",
        "fulfillment",
        "fulfillmentLineItems",
        FULFILLMENT_LINE,
        1,
        fulfillment_gid,
    )
}

/// The lines of the refund `refund_gid`, as [`fulfillment_line_items`].
/// Answers `refund.refundLineItems`.
pub fn refund_line_items(refund_gid: &str) -> PagedQuery {
    nested_lines(
        "RefundLineItemsPage",
        "refund",
        "refundLineItems",
        &refund_line(),
        1 + 2 * MONEY_BAG_COST,
        refund_gid,
    )
}

fn nested_lines(
    operation: &str,
    root: &str,
    field: &str,
    nodes: &str,
    line_cost: u32,
    gid: &str,
) -> PagedQuery {
    let first = page_size(1 + line_cost, 250);
    let document = format!(
        "query {operation}($id: ID!, $first: Int!, $after: String) {{ {root}(id: $id) {{ \
         {field}(first: $first, after: $after) {{ {nodes} {PAGE_INFO} }} }} }}"
    );
    PagedQuery {
        query: GraphqlQuery::new(operation, &document, 1 + connection_cost(first, line_cost))
            .variable("id", gid),
        path: vec![root.into(), field.into()],
        first,
        search: None,
    }
}

/// Products with their variants and each variant's inventory item,
/// oldest change first.
pub fn products(search: Option<String>) -> PagedQuery {
    let selection = "id title handle status descriptionHtml vendor productType tags createdAt \
         updatedAt publishedAt featuredImage { id } mediaCount { count } variants(first: 100) { \
         nodes { id title sku price inventoryQuantity inventoryItem { id tracked } } }";
    // featuredImage, mediaCount, and 100 variants of 1 + their inventory item.
    let cost = 1 + 1 + 1 + connection_cost(100, 1);
    paged_sorted(
        "ProductsPage",
        "products",
        ", sortKey: UPDATED_AT",
        selection,
        cost,
        250,
        search,
    )
}

/// Inventory items with their levels' `available` quantity per location.
pub fn inventory_items(search: Option<String>) -> PagedQuery {
    let selection = "id inventoryLevels(first: 20) { nodes { id updatedAt \
         quantities(names: [\"available\"]) { name quantity } item { id } location { id } } }";
    let cost = 1 + connection_cost(20, 3);
    paged(
        "InventoryPage",
        "inventoryItems",
        selection,
        cost,
        250,
        search,
    )
}

/// Customers with their lifetime order count and spend.
pub fn customers(search: Option<String>) -> PagedQuery {
    let selection = "id email firstName lastName numberOfOrders \
         amountSpent { amount currencyCode } tags createdAt updatedAt";
    paged("CustomersPage", "customers", selection, 2, 250, search)
}

/// Abandoned checkouts with their total and units.
pub fn abandoned_checkouts(search: Option<String>) -> PagedQuery {
    let selection = format!(
        "id name createdAt updatedAt completedAt customer {{ id email }} \
         totalPriceSet {MONEY_BAG} lineItems(first: 50) {{ nodes {{ quantity }} }}"
    );
    let cost = 1 + 1 + MONEY_BAG_COST + connection_cost(50, 0);
    paged(
        "AbandonedCheckoutsPage",
        "abandonedCheckouts",
        &selection,
        cost,
        250,
        search,
    )
}

/// Returns with their lines, through the orders that have them (the API
/// lists returns per order): `search` should select such orders, e.g.
/// `return_status:return_requested` or an `updated_at` window.
pub fn order_returns(search: Option<String>) -> PagedQuery {
    let selection = "id returns(first: 10) { nodes { id name status createdAt closedAt \
         order { id } decline { reason note } returnLineItems(first: 20) { nodes { \
         ... on ReturnLineItem { id quantity returnReasonNote customerNote \
         returnReasonDefinition { handle name } fulfillmentLineItem { lineItem { id } } } } } } }";
    let per_return = 1 + 1 + 1 + connection_cost(20, 3);
    let cost = 1 + connection_cost(10, per_return);
    paged("OrderReturnsPage", "orders", selection, cost, 250, search)
}

/// Shopify Payments disputes (newest first by Shopify's default order).
pub fn disputes() -> PagedQuery {
    let selection = "id amount { amount currencyCode } status type evidenceDueBy \
         evidenceSentOn finalizedOn initiatedAt reasonDetails { reason networkReasonCode } \
         order { id }";
    let first = page_size(4, 250);
    let document = format!(
        "query DisputesPage($first: Int!, $after: String) {{ shopifyPaymentsAccount {{ \
         disputes(first: $first, after: $after) {{ nodes {{ {selection} }} \
         pageInfo {{ hasNextPage endCursor }} }} }} }}"
    );
    PagedQuery {
        query: GraphqlQuery::new("DisputesPage", &document, 1 + connection_cost(first, 3)),
        path: vec!["shopifyPaymentsAccount".into(), "disputes".into()],
        first,
        search: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Vec<PagedQuery> {
        vec![
            orders(None),
            products(None),
            inventory_items(None),
            customers(None),
            abandoned_checkouts(None),
            order_returns(None),
            disputes(),
            order_line_items("gid://shopify/Order/1"),
            fulfillment_line_items("gid://shopify/Fulfillment/1"),
            refund_line_items("gid://shopify/Refund/1"),
        ]
    }

    #[test]
    fn every_listing_stays_under_the_single_query_cap() {
        for paged in all() {
            let cost = paged.page(Some("c")).estimated_cost;
            assert!(
                (1..=SINGLE_QUERY_MAX_COST).contains(&cost),
                "{} costs {cost}",
                paged.query.operation
            );
            assert!(paged.first >= 1);
        }
        // An order is costly: only a few fit a page.
        let (_, order_cost) = order_selection();
        assert_eq!(order_cost, 246);
        assert_eq!(orders(None).first, 4);
    }

    #[test]
    fn documents_declare_the_variables_they_are_sent() {
        for paged in all() {
            let document = &paged.query.document;
            assert!(document.contains("$first: Int!"), "{document}");
            assert!(document.contains("$after: String"), "{document}");
            assert_eq!(
                document.matches('{').count(),
                document.matches('}').count(),
                "{document}"
            );
            assert!(document.contains("pageInfo { hasNextPage endCursor }"));
        }
    }

    #[test]
    fn follow_ups_of_fulfillments_and_refunds_stay_under_the_cap() {
        for query in [
            order_fulfillments("gid://shopify/Order/1"),
            order_refunds("gid://shopify/Order/1"),
        ] {
            assert!(
                query.estimated_cost <= SINGLE_QUERY_MAX_COST,
                "{}",
                query.estimated_cost
            );
            assert!(query.document.contains("order(id: $id)"));
            assert_eq!(
                query.document.matches('{').count(),
                query.document.matches('}').count()
            );
        }
        assert!(order_fulfillments("x")
            .document
            .contains("fulfillments(first: 62)"));
    }

    #[test]
    fn page_sizes_follow_the_cost() {
        assert_eq!(page_size(2, 250), 250);
        assert_eq!(page_size(100, 250), 9);
        assert_eq!(page_size(5_000, 250), 1);
    }
}
