//! Every real GraphQL sample in `fixtures/shopify/graphql` read by the
//! connector, field by field where it matters. Where a public sample lacks
//! a field opsdeck requires (docs examples select few fields), the test
//! shows the refusal naming that field, and then the sample with the field
//! added mapping fully.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use opsdeck_domain::dispute::DisputeStatus;
use opsdeck_domain::{
    BrandId, Currency, FinancialStatus, Money, OrderFulfillmentStatus, PaymentEventKind,
    ProductStatus, ReturnKind, ReturnStatus, SourceId,
};
use opsdeck_sources::shopify::graphql::cost::throttle_wait;
use opsdeck_sources::shopify::graphql::normalize::{
    abandoned_checkout_from_graphql, customer_from_graphql, dispute_from_graphql,
    inventory_level_from_graphql, order_from_graphql, product_from_graphql, return_from_graphql,
};
use opsdeck_sources::shopify::graphql::wire::{legacy_id, GqlRefund, GqlTransaction};
use opsdeck_sources::shopify::graphql::{BulkOperation, BulkStatus, ConnectionPage, QueryCost};
use opsdeck_sources::shopify::NormalizeContext;
use serde_json::Value;
use std::time::Duration;

const DIR: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/shopify/graphql"
);

fn load(name: &str) -> Value {
    let text = std::fs::read_to_string(format!("{DIR}/{name}")).unwrap();
    serde_json::from_str(&text).unwrap()
}

fn ctx(currency: Currency) -> NormalizeContext {
    NormalizeContext {
        source: SourceId::parse("shopify-docs").unwrap(),
        brand: BrandId::parse("docs").unwrap(),
        currency,
    }
}

fn money(amount: &str, currency: Currency) -> Money {
    Money::parse(amount, currency).unwrap()
}

fn at(text: &str) -> opsdeck_domain::Timestamp {
    text.parse().unwrap()
}

#[test]
fn every_sample_is_json_and_every_bulk_line_an_object() {
    let mut files = 0;
    for entry in std::fs::read_dir(DIR).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        match path.extension().and_then(|e| e.to_str()) {
            Some("json") => {
                serde_json::from_str::<Value>(&text)
                    .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            }
            Some("jsonl") => {
                for line in text.lines() {
                    assert!(serde_json::from_str::<Value>(line).unwrap().is_object());
                }
            }
            _ => continue,
        }
        files += 1;
    }
    assert_eq!(files, 26, "a sample was added or lost: update this test");
}

#[test]
fn the_cost_blocks_read_and_the_recorded_throttle_waits_as_documented() {
    let cost: QueryCost = serde_json::from_value(
        load("cost_extensions_limits_doc.json")["extensions"]["cost"].clone(),
    )
    .unwrap();
    assert_eq!(cost.requested_query_cost, 101.0);
    assert_eq!(cost.actual_query_cost, Some(46.0));
    let bucket = cost.throttle_status.unwrap();
    assert_eq!(
        (
            bucket.maximum_available,
            bucket.currently_available,
            bucket.restore_rate
        ),
        (1000.0, 954.0, 50.0)
    );
    let throttled = load("throttled_recorded.json");
    assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
    let cost: QueryCost = serde_json::from_value(throttled["extensions"]["cost"].clone()).unwrap();
    assert_eq!(
        cost.actual_query_cost, None,
        "a throttled query did not run"
    );
    // (862 − 572) ÷ 200 points/s.
    assert_eq!(
        throttle_wait(cost.requested_query_cost, &cost.throttle_status.unwrap()),
        Duration::from_millis(1450)
    );
    // Shopify's own bulk example answers a cost block without a bucket.
    let cancel = load("bulk_operation_cancel.json");
    let cost: QueryCost = serde_json::from_value(cancel["extensions"]["cost"].clone()).unwrap();
    assert_eq!(cost.throttle_status, None);
}

#[test]
fn bulk_operations_read_field_by_field() {
    let created = BulkOperation::from_json(
        &load("bulk_run_query.json")["data"]["bulkOperationRunQuery"]["bulkOperation"],
    )
    .unwrap();
    assert_eq!(created.id, "gid://shopify/BulkOperation/720918");
    assert_eq!(created.status, BulkStatus::Created);
    assert_eq!(created.object_count, 0);
    assert!(created.url.is_none());

    for (file, key) in [
        ("bulk_operation_completed.json", "bulkOperation"),
        (
            "current_bulk_operation_completed_2019.json",
            "currentBulkOperation",
        ),
    ] {
        let done = BulkOperation::from_json(&load(file)["data"][key]).unwrap();
        assert_eq!(done.status, BulkStatus::Completed, "{file}");
        assert!(done.status.is_finished());
        assert_eq!(done.object_count, 57, "objectCount is a string");
        assert_eq!(done.file_size, Some(358));
        assert_eq!(done.error_code, None);
        assert_eq!(
            done.url.as_ref().and_then(|u| u.host_str()),
            Some("storage.googleapis.com")
        );
        assert_eq!(done.partial_data_url, None);
        assert!(done.completed_at > done.created_at);
    }

    let node = &load("bulk_node_url.json")["data"]["node"];
    assert!(node["url"]
        .as_str()
        .unwrap()
        .starts_with("https://storage.googleapis.com/"));
    assert!(node["partialDataUrl"].is_null());

    // Both real samples of the finish webhook read as what they say.
    for (name, id) in [
        (
            "bulk_finish_webhook.json",
            "gid://shopify/BulkOperation/720918",
        ),
        (
            "bulk_finish_webhook_reference.json",
            "gid://shopify/BulkOperation/147595010",
        ),
    ] {
        let finished =
            opsdeck_sources::shopify::graphql::BulkFinished::from_json(&load(name)).unwrap();
        assert_eq!(
            (
                finished.operation.as_str(),
                finished.status,
                finished.error_code
            ),
            (id, BulkStatus::Completed, None)
        );
    }
    let webhook = load("bulk_finish_webhook.json");
    // The webhook spells the status in lower case; the parser takes the
    // API's spelling, so a webhook's status is upper-cased first.
    assert_eq!(
        BulkStatus::parse(&webhook["status"].as_str().unwrap().to_ascii_uppercase()),
        BulkStatus::Completed
    );
}

#[test]
fn an_orders_page_gives_its_ids_and_its_next_cursor() {
    let page = ConnectionPage::at(&load("orders_page_cursors.json"), &["orders"]).unwrap();
    assert_eq!(page.nodes.len(), 10);
    assert_eq!(
        legacy_id(page.nodes[1]["id"].as_str().unwrap()),
        "148977776"
    );
    assert_eq!(
        page.next_cursor(),
        Some(
            "eyJsYXN0X2lkIjo1NTY1Mjc2MzgsImxhc3RfdmFsdWUiOiIyMDA1LTA3LTMxIDE1OjU3OjExLjAwMDAwMCJ9"
        )
    );
}

#[test]
fn orders_normalize_through_the_rest_rules() {
    let orders = ConnectionPage::at(&load("orders_details.json"), &["orders"]).unwrap();
    let cad = ctx(Currency::parse("CAD").unwrap());
    // The first one's line item was asked without its id, which an order
    // line must have: refused, naming the field.
    let err = order_from_graphql(&cad, &orders.nodes[0]).unwrap_err();
    assert_eq!(
        (err.kind, err.id.as_str(), err.field.as_str()),
        ("order", "158040885", "lineItems")
    );
    assert!(err.reason.contains("node 0: missing field `id`"), "{err}");
    // With its id but without a price, the REST rule refuses it.
    let mut unpriced = orders.nodes[0].clone();
    unpriced["lineItems"]["edges"][0]["node"]["id"] = "gid://shopify/LineItem/1".into();
    let err = order_from_graphql(&cad, &unpriced).unwrap_err();
    assert_eq!(
        (err.field.as_str(), err.reason.as_str()),
        ("line_items[0].price", "missing")
    );
    let order = order_from_graphql(&cad, &orders.nodes[1]).unwrap();
    assert_eq!(order.external_id, "199007853", "the REST id");
    assert_eq!(order.name, "#2006");
    assert_eq!(order.total_price, money("2000.00", order.currency));
    assert_eq!(order.subtotal_price, money("2000.00", order.currency));
    assert_eq!(order.currency.code(), "CAD");
    assert_eq!(order.financial_status, FinancialStatus::Paid);
    assert_eq!(
        order.fulfillment_status,
        OrderFulfillmentStatus::Unfulfilled
    );
    assert_eq!(order.created_at, at("2024-01-01T00:00:00Z"));
    assert_eq!(order.updated_at, order.created_at);
    assert_eq!(order.email.as_deref(), Some("bob@example.com"));
    assert!(order.line_items.is_empty());

    // The same first order with its line's price, as opsdeck's query asks.
    let mut priced = unpriced;
    priced["lineItems"]["edges"][0]["node"]["originalUnitPriceSet"] = serde_json::json!({
        "shopMoney": {"amount": "200.0", "currencyCode": "CAD"}
    });
    let order = order_from_graphql(&cad, &priced).unwrap();
    let line = &order.line_items[0];
    assert_eq!(line.quantity, 10);
    assert_eq!(line.sku.as_deref(), Some("draft-151"));
    assert_eq!(line.variant_id.as_deref(), Some("168923715"));
    assert_eq!(line.price, money("200.00", order.currency));
    assert_eq!(line.fulfilled_quantity, Some(0));

    // An order in another currency than its brand's is refused unless its
    // money bags give the brand's side (the REST rule, unchanged).
    let eur = ctx(Currency::parse("EUR").unwrap());
    let err = order_from_graphql(&eur, &orders.nodes[1]).unwrap_err();
    assert_eq!(err.field, "currency");
}

#[test]
fn money_bags_and_refunds_read_in_both_currencies() {
    let single = load("order_single_presentment.json");
    let order = &single["order"];
    assert_eq!(order["totalPriceSet"]["presentmentMoney"]["amount"], "11.5");
    assert_eq!(
        legacy_id(order["lineItems"]["nodes"][0]["id"].as_str().unwrap()),
        "510711879"
    );
    // Docs ask no createdAt here; an order needs one.
    let err = order_from_graphql(&ctx(Currency::USD), order).unwrap_err();
    assert_eq!(err.field, "created_at");

    let transactions: Vec<GqlTransaction> =
        serde_json::from_value(load("order_transactions.json")["order"]["transactions"].clone())
            .unwrap();
    assert_eq!(transactions.len(), 2);
    assert_eq!(transactions[0].kind.as_deref(), Some("AUTHORIZATION"));
    assert_eq!(transactions[1].status.as_deref(), Some("AWAITING_RESPONSE"));
    let bag = transactions[1].amount_set.as_ref().unwrap();
    assert_eq!(
        bag.shop_money.as_ref().unwrap().amount.as_deref(),
        Some("50.0")
    );
    assert_eq!(
        bag.presentment_money
            .as_ref()
            .unwrap()
            .currency_code
            .as_deref(),
        Some("USD")
    );

    let shop: GqlRefund =
        serde_json::from_value(serde_json::json!({"id": "gid://shopify/Refund/196417871"}))
            .unwrap();
    assert!(shop.refund_line_items.0.is_empty());
    let total = &load("refund_total_shop_money.json")["refund"]["totalRefundedSet"];
    assert_eq!(total["shopMoney"]["amount"], "5.75");
    let shown: GqlRefund =
        serde_json::from_value(load("refund_show_presentment.json")["refund"].clone()).unwrap();
    assert_eq!(shown.note.as_deref(), Some("free shipping"));
    assert_eq!(
        shown
            .total_refunded_set
            .and_then(|b| b.presentment_money)
            .and_then(|m| m.amount)
            .as_deref(),
        Some("5.75")
    );
    assert!(
        load("order_fulfillments_empty.json")["order"]["fulfillments"]
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[test]
fn a_customer_gives_lifetime_orders_and_spend() {
    let customer = customer_from_graphql(
        &ctx(Currency::USD),
        &load("customer_by_id.json")["customer"],
    )
    .unwrap();
    assert_eq!(customer.external_id, "544365967");
    assert_eq!(customer.order_count, 25, "numberOfOrders is a string");
    assert_eq!(customer.lifetime_spend, money("8305.60", Currency::USD));
    assert_eq!(customer.name.as_deref(), Some("Bob Bobsen"));
    assert_eq!(customer.email.as_deref(), Some("bob@example.com"));
    assert_eq!(customer.tags, ["Bob", "Canadian", "Léon", "Noël"]);
    assert_eq!(customer.created_at, at("2005-06-15T15:57:11Z"));
    assert_eq!(customer.updated_at, at("2005-06-16T15:57:11Z"));
    // Spend in another currency than the brand's has no rate to convert by.
    let err = customer_from_graphql(
        &ctx(Currency::parse("EUR").unwrap()),
        &load("customer_by_id.json")["customer"],
    )
    .unwrap_err();
    assert_eq!(err.field, "amountSpent");
}

#[test]
fn disputes_become_payment_events_with_their_state() {
    let page = ConnectionPage::at(
        &load("disputes_list.json"),
        &["shopifyPaymentsAccount", "disputes"],
    )
    .unwrap();
    let disputes = page
        .nodes
        .iter()
        .map(|n| dispute_from_graphql(&ctx(Currency::USD), n).unwrap())
        .collect::<Vec<_>>();
    let won = &disputes[0];
    assert_eq!(won.event.external_id, "1052608616");
    assert_eq!(won.event.kind, PaymentEventKind::Chargeback);
    assert!(won.event.kind.is_problem());
    assert_eq!(won.event.amount, Some(money("100.00", Currency::USD)));
    assert_eq!(won.event.reason.as_deref(), Some("fraudulent"));
    assert_eq!(won.event.occurred_at, at("2013-05-04T00:00:00Z"));
    assert_eq!(won.state.status, DisputeStatus::Won);
    assert_eq!(won.state.evidence_due_by, Some(at("2013-07-03T23:00:00Z")));
    assert_eq!(won.state.evidence_sent_on, Some(at("2013-07-04T11:00:00Z")));
    assert_eq!(won.event.updated_at, at("2013-07-04T11:00:00Z"));
    assert!(!won.state.status.is_open());

    let inquiry = &disputes[2];
    assert_eq!(
        inquiry.event.kind,
        PaymentEventKind::Other("inquiry".into())
    );
    assert_eq!(inquiry.state.status, DisputeStatus::NeedsResponse);
    assert!(inquiry.state.status.is_open());
    assert_eq!(inquiry.state.evidence_due_by, None);
    assert_eq!(
        disputes
            .iter()
            .map(|d| d.state.status.clone())
            .collect::<Vec<_>>(),
        [
            DisputeStatus::Won,
            DisputeStatus::NeedsResponse,
            DisputeStatus::NeedsResponse,
            DisputeStatus::Lost,
            DisputeStatus::UnderReview
        ]
    );
    assert_eq!(
        disputes[1].event.reason.as_deref(),
        Some("credit_not_processed")
    );
    // A status this version does not know is kept.
    let mut odd = page.nodes[0].clone();
    odd["status"] = "ESCALATED".into();
    let odd = dispute_from_graphql(&ctx(Currency::USD), &odd).unwrap();
    assert_eq!(odd.state.status, DisputeStatus::Other("escalated".into()));
}

#[test]
fn returns_map_to_return_requests_with_their_lines() {
    let approved = &load("return_approve_request.json")["returnApproveRequest"]["return"];
    // The docs' mutation answer selects no createdAt; a request needs one.
    let err = return_from_graphql(&ctx(Currency::USD), approved).unwrap_err();
    assert_eq!((err.kind, err.field.as_str()), ("return", "createdAt"));
    let mut with_time = approved.clone();
    with_time["createdAt"] = "2024-02-01T10:00:00Z".into();
    let r = return_from_graphql(&ctx(Currency::USD), &with_time).unwrap();
    assert_eq!(r.request.external_id, "945000959");
    assert_eq!(r.request.kind, ReturnKind::Return);
    assert_eq!(r.request.status, ReturnStatus::Approved, "OPEN: approved");
    assert_eq!(r.request.order_id.as_deref(), Some("311154583"));
    assert_eq!(r.request.requested_at, at("2024-02-01T10:00:00Z"));
    assert_eq!(r.lines.len(), 1);
    assert_eq!(r.lines[0].external_id, "677614676");

    let mut declined =
        load("return_decline_request.json")["returnDeclineRequest"]["return"].clone();
    declined["createdAt"] = "2024-02-01T10:00:00Z".into();
    let r = return_from_graphql(&ctx(Currency::USD), &declined).unwrap();
    assert_eq!(r.request.status, ReturnStatus::Rejected);
    assert_eq!(r.request.reason.as_deref(), Some("return_period_ended"));
    assert_eq!(r.request.order_id.as_deref(), Some("625362839"));

    let mut created = load("return_create.json")["returnCreate"]["return"].clone();
    created["createdAt"] = "2024-02-01T10:00:00Z".into();
    created["status"] = "REQUESTED".into();
    let r = return_from_graphql(&ctx(Currency::USD), &created).unwrap();
    assert_eq!(r.request.status, ReturnStatus::Requested);
    assert_eq!(r.lines[0].quantity, 1);
    assert_eq!(r.lines[0].reason.as_deref(), Some("too-small"));
    assert_eq!(
        r.lines[0].note.as_deref(),
        Some("The size doesn't fit properly")
    );
    assert_eq!(r.request.reason.as_deref(), Some("too-small"));
}

#[test]
fn abandoned_checkouts_keep_no_recovery_link() {
    let page =
        ConnectionPage::at(&load("abandoned_checkouts.json"), &["abandonedCheckouts"]).unwrap();
    // Shopify's sample is dated 2125: outside the years the domain accepts.
    let err = abandoned_checkout_from_graphql(&ctx(Currency::USD), &page.nodes[0]).unwrap_err();
    assert_eq!(err.field, "createdAt");
    let mut node = page.nodes[0].clone();
    node["createdAt"] = "2025-07-31T15:57:11Z".into();
    node["updatedAt"] = "2025-07-31T16:00:00Z".into();
    let checkout = abandoned_checkout_from_graphql(&ctx(Currency::USD), &node).unwrap();
    assert_eq!(checkout.external_id, "123");
    assert_eq!(checkout.email.as_deref(), Some("bob@example.com"));
    assert!(!checkout.is_recovered());
    assert_eq!(checkout.total, None, "the sample asks no total");
    assert!(
        !serde_json::to_string(&checkout)
            .unwrap()
            .contains("secret_token"),
        "the recovery link's key is not kept"
    );
}

#[test]
fn inventory_levels_read_their_available_quantity() {
    let level = inventory_level_from_graphql(
        &ctx(Currency::USD),
        &load("inventory_level.json")["inventoryLevel"],
        Some("2025-06-01T08:15:42Z"),
    )
    .unwrap();
    assert_eq!(level.inventory_item_id, "30322695");
    assert_eq!(level.location_id, "523463154");
    assert_eq!(level.available, Some(2));
    assert_eq!(level.updated_at, at("2025-06-01T08:15:42Z"));
}

#[test]
fn a_live_products_page_maps_products_variants_and_their_levels() {
    let page = ConnectionPage::at(
        &load("products_variants_inventory_live.json")["data"],
        &["publication", "includedProducts"],
    )
    .unwrap();
    assert!(page.next_cursor().is_some());
    let sek = ctx(Currency::parse("SEK").unwrap());
    // The sample asks no createdAt, which a product needs.
    assert_eq!(
        product_from_graphql(&sek, &page.nodes[0])
            .unwrap_err()
            .field,
        "created_at"
    );
    let mut node = page.nodes[1].clone();
    node["createdAt"] = "2025-01-10T08:00:00Z".into();
    let product = product_from_graphql(&sek, &node).unwrap();
    assert_eq!(product.external_id, "8023878434955");
    assert_eq!(product.status, ProductStatus::Active);
    assert_eq!(product.tags, ["bestseller"]);
    assert_eq!(product.image_count, 1);
    let variant = &product.variants[0];
    assert_eq!(variant.external_id, "45013613838475");
    assert_eq!(variant.sku.as_deref(), Some("1024011"));
    assert_eq!(variant.price, money("24.90", sek.currency));
    assert_eq!(variant.inventory_item_id.as_deref(), Some("47104611975307"));
    assert_eq!(variant.inventory_quantity, Some(278));
    assert!(variant.inventory_tracked);
    let level = inventory_level_from_graphql(
        &sek,
        &node["variants"]["nodes"][0]["inventoryItem"]["inventoryLevels"]["nodes"][0],
        node["updatedAt"].as_str(),
    )
    .unwrap();
    assert_eq!(
        (
            level.inventory_item_id.as_str(),
            level.location_id.as_str(),
            level.available
        ),
        ("47104611975307", "80575266955", Some(278))
    );
}
