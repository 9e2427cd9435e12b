//! A whole order as `documents::orders` selects it — line items,
//! fulfillments with tracking, a refund in the customer's currency — goes
//! through the REST rules: the same ids, fulfilled quantities and refund
//! conversion as the REST path gives. (No public sample holds such an
//! order whole; the parts' shapes are checked against the real samples in
//! `graphql_fixtures.rs`.)

use opsdeck_domain::{
    BrandId, Currency, FinancialStatus, FulfillmentState, Money, OrderFulfillmentStatus,
    ShipmentStatus, SourceId,
};
use opsdeck_sources::shopify::graphql::normalize::order_from_graphql;
use opsdeck_sources::shopify::NormalizeContext;
use serde_json::json;

fn bag(shop: &str, presentment: &str) -> serde_json::Value {
    json!({
        "shopMoney": {"amount": shop, "currencyCode": "EUR"},
        "presentmentMoney": {"amount": presentment, "currencyCode": "USD"}
    })
}

#[test]
fn a_multi_currency_order_maps_like_its_rest_twin() {
    let node = json!({
        "id": "gid://shopify/Order/5001",
        "name": "#5001",
        "createdAt": "2026-03-01T10:00:00Z",
        "updatedAt": "2026-03-02T10:00:00Z",
        "processedAt": "2026-03-01T10:00:00Z",
        "cancelledAt": null,
        "cancelReason": null,
        "closedAt": null,
        "currencyCode": "EUR",
        "displayFinancialStatus": "PARTIALLY_REFUNDED",
        "displayFulfillmentStatus": "PARTIALLY_FULFILLED",
        "tags": ["vip", "wholesale"],
        "sourceName": "web",
        "test": false,
        "email": "ada@example.com",
        "totalPriceSet": bag("90.00", "100.00"),
        "subtotalPriceSet": bag("90.00", "100.00"),
        "totalDiscountsSet": bag("0.00", "0.00"),
        "totalTaxSet": bag("0.00", "0.00"),
        "customer": {"id": "gid://shopify/Customer/77", "email": "ada@example.com", "firstName": "Ada", "lastName": "L"},
        "lineItems": {"nodes": [{
            "id": "gid://shopify/LineItem/9001", "title": "Mug", "name": "Mug - Blue",
            "variantTitle": "Blue", "sku": "MUG-B", "quantity": 2,
            "product": {"id": "gid://shopify/Product/31"}, "variant": {"id": "gid://shopify/ProductVariant/32"},
            "originalUnitPriceSet": bag("45.00", "50.00")
        }]},
        "fulfillments": [{
            "id": "gid://shopify/Fulfillment/7001", "status": "SUCCESS", "displayStatus": "IN_TRANSIT",
            "createdAt": "2026-03-01T12:00:00Z", "updatedAt": "2026-03-01T13:00:00Z",
            "deliveredAt": null, "estimatedDeliveryAt": "2026-03-04T12:00:00Z",
            "trackingInfo": [{"company": "DHL", "number": "JD0001", "url": "https://dhl.example/JD0001"}],
            "fulfillmentLineItems": {"nodes": [{"quantity": 1, "lineItem": {"id": "gid://shopify/LineItem/9001"}}]}
        }],
        "refunds": [{
            "id": "gid://shopify/Refund/8001", "createdAt": "2026-03-02T10:00:00Z", "note": "broken",
            "refundLineItems": {"nodes": [{
                "quantity": 1, "lineItem": {"id": "gid://shopify/LineItem/9001"},
                "subtotalSet": bag("45.00", "50.00"), "totalTaxSet": bag("0.00", "0.00")
            }]},
            "transactions": {"nodes": [
                {"kind": "REFUND", "status": "SUCCESS", "amountSet": bag("45.00", "50.00")},
                {"kind": "REFUND", "status": "FAILURE", "amountSet": bag("45.00", "50.00")}
            ]},
            "orderAdjustments": {"nodes": []}
        }]
    });
    let ctx = NormalizeContext {
        source: SourceId::parse("shopify-eu").unwrap(),
        brand: BrandId::parse("eu").unwrap(),
        currency: Currency::parse("EUR").unwrap(),
    };
    let eur = |a: &str| Money::parse(a, ctx.currency).unwrap();
    let order = order_from_graphql(&ctx, &node).unwrap();
    assert_eq!(order.external_id, "5001");
    assert_eq!(order.total_price, eur("90.00"));
    assert_eq!(order.financial_status, FinancialStatus::PartiallyRefunded);
    assert_eq!(order.fulfillment_status, OrderFulfillmentStatus::Partial);
    assert_eq!(order.tags, ["vip", "wholesale"]);
    assert_eq!(order.customer.as_ref().unwrap().external_id, "77");
    assert_eq!(
        order.customer.as_ref().unwrap().name.as_deref(),
        Some("Ada L")
    );

    let line = &order.line_items[0];
    assert_eq!(line.external_id, "9001");
    assert_eq!(line.product_id.as_deref(), Some("31"));
    assert_eq!(line.variant_id.as_deref(), Some("32"));
    assert_eq!(line.price, eur("45.00"), "the shop side of the unit price");
    assert_eq!(
        line.fulfilled_quantity,
        Some(1),
        "from the fulfillment's lines"
    );

    let shipment = &order.fulfillments[0];
    assert_eq!(shipment.external_id, "7001");
    assert_eq!(shipment.status, FulfillmentState::Success);
    assert_eq!(shipment.shipment_status, Some(ShipmentStatus::InTransit));
    assert_eq!(shipment.tracking_company.as_deref(), Some("DHL"));
    assert_eq!(shipment.tracking_numbers, ["JD0001"]);
    assert!(shipment.estimated_delivery_at.is_some());

    let refund = &order.refunds[0];
    assert_eq!(refund.external_id, "8001");
    // 50.00 USD back to the customer, at the order's 0.9 rate, and the
    // failed attempt not counted: the REST rule.
    assert_eq!(refund.amount, eur("45.00"));
    assert_eq!(refund.line_items[0].line_item_id, "9001");
    assert_eq!(refund.line_items[0].quantity, 1);
    assert_eq!(refund.note.as_deref(), Some("broken"));

    // An unknown display status is kept, not a failure.
    let mut odd = node.clone();
    odd["displayFulfillmentStatus"] = "AWAITING_PICKUP".into();
    assert_eq!(
        order_from_graphql(&ctx, &odd).unwrap().fulfillment_status,
        OrderFulfillmentStatus::Other("awaiting_pickup".into())
    );
}
