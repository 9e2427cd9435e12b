//! Normalization of real Shopify payloads (the shared fixtures, written by
//! Shopify's and others' client libraries, not by us) and of bad input.

use super::*;
use serde_json::json;

fn ctx() -> NormalizeContext {
    NormalizeContext {
        source: SourceId::parse("shopify-test").unwrap(),
        brand: BrandId::parse("test").unwrap(),
        currency: Currency::USD,
    }
}

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/shopify/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

#[test]
fn official_order_fixture_normalizes() {
    let raw = fixture("order_official_python_lib.json");
    let order = order_from_json(&ctx(), &raw["order"]).unwrap();
    assert_eq!(order.external_id, "450789469");
    assert_eq!(order.name, "#1001");
    assert_eq!(order.number, Some(1001));
    // The payload's currency is the brand's (USD in the context).
    assert_eq!(order.currency, Currency::USD);
    assert_eq!(order.total_price, Money::new(40994, Currency::USD));
    assert_eq!(order.subtotal_price.minor, 39800);
    assert_eq!(order.total_tax.minor, 1194);
    assert_eq!(order.total_discounts.minor, 0);
    assert_eq!(order.financial_status, FinancialStatus::Authorized);
    assert_eq!(
        order.fulfillment_status,
        OrderFulfillmentStatus::Unfulfilled
    );
    assert_eq!(order.created_at, ts("2008-01-10T16:00:00Z"));
    assert_eq!(order.updated_at, order.created_at);
    assert!(order.tags.is_empty(), "the fixture has no tags field");
    assert_eq!(order.source_name.as_deref(), Some("web"));
    assert!(!order.test);
    assert!(order.counts_for_revenue());

    assert_eq!(order.line_items.len(), 3);
    let green = &order.line_items[0];
    assert_eq!(green.external_id, "466157049");
    assert_eq!(green.sku.as_deref(), Some("IPOD2008GREEN"));
    assert_eq!(green.variant_id.as_deref(), Some("39072856"));
    assert_eq!(green.product_id.as_deref(), Some("632910392"));
    assert_eq!(green.variant_title.as_deref(), Some("green"));
    assert_eq!(green.price, Money::new(19900, Currency::USD));
    // The one fulfillment failed, so nothing counts as shipped.
    assert_eq!(green.fulfilled_quantity, Some(0));

    assert_eq!(order.fulfillments.len(), 1);
    let ful = &order.fulfillments[0];
    assert_eq!(ful.status, FulfillmentState::Failure);
    assert_eq!(ful.tracking_numbers, vec!["1Z2345"]);
    assert_eq!(ful.tracking_urls.len(), 1);
    assert_eq!(ful.shipment_status, None);
    assert_eq!(ful.delivered_at, None);

    let customer = order.customer.as_ref().unwrap();
    assert_eq!(customer.external_id, "207119551");
    assert_eq!(customer.email.as_deref(), Some("bob.norman@hostmail.com"));
    assert_eq!(customer.name.as_deref(), Some("Bob Norman"));
    assert!(order.refunds.is_empty());
}

#[test]
fn product_fixture_normalizes_with_variants() {
    let raw = fixture("product_get_with_variants.json");
    let product = product_from_json(&ctx(), &raw["product"]).unwrap();
    assert_eq!(product.external_id, "632910392");
    assert_eq!(product.title, "IPod Nano - 8GB");
    assert_eq!(product.handle.as_deref(), Some("ipod-nano"));
    // No `status` in this old payload; it is published, so active.
    assert_eq!(product.status, ProductStatus::Active);
    assert_eq!(product.image_count, 2);
    assert_eq!(
        product.tags,
        vec!["Emotive", "Flash Memory", "MP3", "Music"]
    );
    assert!(!product.description_is_empty());
    assert_eq!(product.vendor.as_deref(), Some("Apple"));
    assert_eq!(product.updated_at, ts("2015-09-02T18:50:32Z"));
    assert_eq!(product.variants.len(), 4);
    let skus: Vec<_> = product
        .variants
        .iter()
        .map(|v| v.sku.clone().unwrap())
        .collect();
    assert_eq!(
        skus,
        [
            "IPOD2008PINK",
            "IPOD2008RED",
            "IPOD2008GREEN",
            "IPOD2008BLACK"
        ]
    );
    let stock: Vec<_> = product
        .variants
        .iter()
        .map(|v| v.inventory_quantity)
        .collect();
    assert_eq!(stock, [Some(10), Some(20), Some(30), Some(40)]);
    for v in &product.variants {
        // Product prices are in the shop's currency.
        assert_eq!(v.price, Money::new(19900, Currency::USD));
        assert!(v.inventory_tracked);
        assert_eq!(
            v.inventory_item_id, None,
            "old payload has no inventory_item_id"
        );
    }
}

#[test]
fn inventory_levels_fixture_normalizes() {
    let raw = fixture("inventory_levels_list.json");
    let levels: Vec<_> = raw["inventory_levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| inventory_level_from_json(&ctx(), l).unwrap())
        .collect();
    assert_eq!(levels.len(), 2);
    assert_eq!(levels[0].external_id, "808950810:905684977");
    assert_eq!(levels[0].inventory_item_id, "808950810");
    assert_eq!(levels[0].location_id, "905684977");
    assert_eq!(levels[0].available, Some(1));
    assert_eq!(levels[1].available, Some(9));
    assert_eq!(levels[1].updated_at, ts("2018-03-21T15:32:36Z"));
}

#[test]
fn order_from_text_matches_order_from_json() {
    let raw = fixture("order_official_python_lib.json")["order"].clone();
    let text = serde_json::to_string(&raw).unwrap();
    let from_text = order_from_text(&ctx(), &text).expect("decodes").unwrap();
    assert_eq!(from_text, order_from_json(&ctx(), &raw).unwrap());

    // Text that is no order is left to order_from_json, which names the field.
    let mut bad = raw.clone();
    bad["line_items"][0]["quantity"] = json!("one");
    assert!(order_from_text(&ctx(), &bad.to_string()).is_none());
    assert!(order_from_text(&ctx(), "{\"id\": 1} trailing").is_none());
    // Decoded, but not a valid order: the same error as order_from_json.
    let mut bad = raw;
    bad["total_price"] = json!("lots");
    let err = order_from_text(&ctx(), &bad.to_string())
        .expect("decodes")
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        order_from_json(&ctx(), &bad).unwrap_err().to_string()
    );
}

#[test]
fn bad_money_names_record_and_field() {
    let mut raw = fixture("order_official_python_lib.json")["order"].clone();
    raw["line_items"][1]["price"] = json!("19,90");
    let err = order_from_json(&ctx(), &raw).unwrap_err();
    assert_eq!(err.kind, "order");
    assert_eq!(err.id, "450789469");
    assert_eq!(err.field, "line_items[1].price");
    assert!(err.to_string().contains("19,90"), "{err}");

    raw["line_items"][1]["price"] = json!("199.00");
    raw["total_price"] = json!("lots");
    let err = order_from_json(&ctx(), &raw).unwrap_err();
    assert_eq!(err.field, "total_price");
}

#[test]
fn wrong_types_and_bad_times_name_the_field() {
    let mut raw = fixture("order_official_python_lib.json")["order"].clone();
    raw["line_items"][0]["quantity"] = json!("one");
    let err = order_from_json(&ctx(), &raw).unwrap_err();
    assert_eq!(err.id, "450789469");
    assert_eq!(err.field, "line_items[0].quantity");

    let mut raw = fixture("product_get_with_variants.json")["product"].clone();
    raw["updated_at"] = json!("yesterday");
    let err = product_from_json(&ctx(), &raw).unwrap_err();
    assert_eq!((err.kind, err.field.as_str()), ("product", "updated_at"));

    let err = product_from_json(&ctx(), &json!({"title": "no id"})).unwrap_err();
    assert_eq!(err.id, "?");
}

#[test]
fn unknown_statuses_are_kept_and_delivery_is_dated() {
    let mut raw = fixture("order_official_python_lib.json")["order"].clone();
    raw["financial_status"] = json!("paid_in_gold");
    raw["fulfillment_status"] = json!("partial");
    raw["tags"] = json!("Subscription, vip,");
    raw["fulfillments"][0]["status"] = json!("success");
    raw["fulfillments"][0]["shipment_status"] = json!("teleported");
    raw["fulfillments"][0]["estimated_delivery_at"] = json!("2014-01-25T12:00:00-05:00");
    let mut delivered = raw["fulfillments"][0].clone();
    delivered["id"] = json!(255858047u64);
    delivered["shipment_status"] = json!("delivered");
    delivered["updated_at"] = json!("2014-01-24T09:00:00-05:00");
    raw["fulfillments"].as_array_mut().unwrap().push(delivered);
    let order = order_from_json(&ctx(), &raw).unwrap();
    assert_eq!(
        order.financial_status,
        FinancialStatus::Other("paid_in_gold".into())
    );
    assert_eq!(order.fulfillment_status, OrderFulfillmentStatus::Partial);
    assert_eq!(order.tags, vec!["Subscription", "vip"]);
    let [first, second] = &order.fulfillments[..] else {
        panic!("two fulfillments")
    };
    assert_eq!(
        first.shipment_status,
        Some(ShipmentStatus::Other("teleported".into()))
    );
    assert_eq!(first.delivered_at, None);
    assert_eq!(
        first.estimated_delivery_at,
        Some(ts("2014-01-25T17:00:00Z"))
    );
    assert!(second.is_delivered());
    assert_eq!(second.delivered_at, Some(ts("2014-01-24T14:00:00Z")));
    // Both successful fulfillments shipped the green line's one unit.
    assert_eq!(order.line_items[0].fulfilled_quantity, Some(2));
}

#[test]
fn refund_amount_sums_successful_refund_transactions() {
    let mut raw = fixture("order_official_python_lib.json")["order"].clone();
    raw["currency"] = json!(null);
    raw["refunds"] = json!([{
        "id": 18423447608u64,
        "created_at": "2014-02-01T10:00:00-05:00",
        "note": "damaged",
        "refund_line_items": [{"line_item_id": 518995019, "quantity": 1}],
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "150.00"},
            {"kind": "refund", "status": "failure", "amount": "150.00"},
            {"kind": "refund", "status": "success", "amount": "49.00"},
            {"kind": "sale", "status": "success", "amount": "5.00"}
        ]
    }]);
    let eur = NormalizeContext {
        currency: Currency::EUR,
        ..ctx()
    };
    let order = order_from_json(&eur, &raw).unwrap();
    // No currency in the payload: the brand's currency is assumed.
    assert_eq!(order.currency, Currency::EUR);
    let refund = &order.refunds[0];
    assert_eq!(refund.amount, Money::new(19900, Currency::EUR));
    assert_eq!(refund.line_items[0].line_item_id, "518995019");
    assert_eq!(refund.note.as_deref(), Some("damaged"));
}

#[test]
fn nulls_and_large_ids_are_tolerated() {
    let raw = json!({
        "id": 9_007_199_254_740_993u64,
        "created_at": "2024-05-01T10:00:00+02:00",
        "updated_at": null,
        "total_price": "0.00",
        "line_items": [{"id": 1, "product_id": null, "variant_id": null, "sku": "",
                        "title": "Gift wrap", "quantity": 1, "price": "0.00"}],
        "fulfillments": null,
        "refunds": null,
        "customer": null
    });
    let order = order_from_json(&ctx(), &raw).unwrap();
    assert_eq!(order.external_id, "9007199254740993");
    assert_eq!(order.updated_at, order.created_at);
    assert_eq!(order.line_items[0].sku, None);
    assert_eq!(order.line_items[0].product_id, None);
    assert_eq!(order.financial_status, FinancialStatus::Pending);

    let level = inventory_level_from_json(
        &ctx(),
        &json!({"inventory_item_id": 1, "location_id": 2, "available": null,
                "updated_at": "2024-05-01T10:00:00Z"}),
    )
    .unwrap();
    assert_eq!(level.available, None);
}

#[test]
fn presentment_currency_refunds_are_converted_at_the_orders_rate() {
    let mut raw = fixture("order_official_python_lib.json")["order"].clone();
    // A USD shop selling in EUR: totals in both, refund transactions in EUR.
    raw["presentment_currency"] = json!("EUR");
    raw["total_price_set"] = json!({
        "shop_money": {"amount": "409.94", "currency_code": "USD"},
        "presentment_money": {"amount": "375.00", "currency_code": "EUR"}
    });
    raw["refunds"] = json!([{
        "id": 509562969,
        "created_at": "2014-02-01T10:00:00-05:00",
        "refund_line_items": [],
        "transactions": [
            {"kind": "refund", "status": "success", "amount": "37.50", "currency": "EUR"},
            {"kind": "refund", "status": "success", "amount": "1.00", "currency": "USD"}
        ]
    }]);
    let order = order_from_json(&ctx(), &raw).unwrap();
    // 37.50 EUR × 409.94 / 375.00 = 40.994 USD, rounded; plus 1.00 USD.
    assert_eq!(order.refunds[0].amount, Money::new(4199, Currency::USD));

    // A presentment amount with no rate to convert it is refused, naming the field.
    raw["total_price_set"] = json!(null);
    let err = order_from_json(&ctx(), &raw).unwrap_err();
    assert_eq!(err.field, "refunds[0].transactions[0].currency");
    assert!(err.to_string().contains("EUR"), "{err}");
}

#[test]
fn unlisted_product_status_is_known() {
    // Admin API 2025-10: sold by link, hidden from search and collections.
    let mut raw = fixture("product_get_with_variants.json")["product"].clone();
    raw["status"] = json!("unlisted");
    raw["published_at"] = json!(null);
    let product = product_from_json(&ctx(), &raw).unwrap();
    assert_eq!(product.status, ProductStatus::Unlisted);
    assert!(product.status.is_on_sale());
}

/// Issue 11.1: an order in another currency than its brand's is stored in
/// the brand's currency, by the `*_set` side in it, or refused.
#[test]
fn an_order_in_another_currency_is_converted_by_its_sets_or_refused() {
    let mut raw = fixture("order_official_python_lib.json")["order"].clone();
    raw["currency"] = json!("EUR");
    let err = order_from_json(&ctx(), &raw).unwrap_err();
    assert_eq!(err.field, "currency");
    assert_eq!(
        err.reason,
        "EUR differs from the brand's currency USD, and total_price_set gives no amount in USD"
    );
    assert!(order_from_text(&ctx(), &raw.to_string()).unwrap().is_err());

    // Shop money in the brand's currency: its amounts are used.
    raw["total_price_set"] = json!({
        "shop_money": {"amount": "409.94", "currency_code": "USD"},
        "presentment_money": {"amount": "375.00", "currency_code": "EUR"}
    });
    raw["total_tax_set"] = json!({
        "shop_money": {"amount": "11.94", "currency_code": "USD"},
        "presentment_money": {"amount": "10.92", "currency_code": "EUR"}
    });
    raw["total_price"] = json!("375.00");
    raw["total_tax"] = json!("10.92");
    raw["subtotal_price"] = json!("375.00");
    raw["refunds"] = json!([{
        "id": 509562969,
        "created_at": "2014-02-01T10:00:00-05:00",
        "transactions": [{"kind": "refund", "status": "success", "amount": "37.50", "currency": "EUR"}]
    }]);
    let order = order_from_json(&ctx(), &raw).unwrap();
    assert_eq!(order.currency, Currency::USD);
    assert_eq!(order.total_price, Money::new(40994, Currency::USD));
    assert_eq!(order.total_tax, Money::new(1194, Currency::USD));
    // Without a set of its own: converted at the total's rate (375.00 EUR
    // × 409.94 / 375.00).
    assert_eq!(order.subtotal_price, Money::new(40994, Currency::USD));
    assert_eq!(order.refunds[0].amount, Money::new(4099, Currency::USD));
    for line in &order.line_items {
        assert_eq!(line.price.currency, Currency::USD);
    }
    assert_eq!(order_from_text(&ctx(), &raw.to_string()), Some(Ok(order)));
}

/// Issue 11.4 / 11.5: what no merchant has is refused naming the field.
#[test]
fn values_beyond_their_bounds_are_refused_naming_the_field() {
    let base = fixture("order_official_python_lib.json")["order"].clone();
    let refused = |edit: &dyn Fn(&mut Value)| {
        let mut raw = base.clone();
        edit(&mut raw);
        order_from_json(&ctx(), &raw).unwrap_err()
    };
    let e = refused(&|r| r["total_price"] = json!("92233720368547758.07"));
    assert_eq!(e.field, "total_price");
    assert!(e.reason.contains("beyond the limit"), "{e}");
    let e = refused(&|r| r["total_price"] = json!("-409.94"));
    assert_eq!(e.field, "total_price");
    assert!(e.reason.contains("must not be negative"), "{e}");
    let e = refused(&|r| r["line_items"][0]["price"] = json!("-1.00"));
    assert_eq!(e.field, "line_items[0].price");
    for amount in [" 409.94", "+409.94"] {
        let e = refused(&|r| r["total_price"] = json!(amount));
        assert_eq!(e.field, "total_price", "{amount:?}");
    }
    let e = refused(&|r| r["created_at"] = json!("0000-01-01T00:00:00Z"));
    assert_eq!(e.field, "created_at");
    let e = refused(&|r| r["updated_at"] = json!("2100-01-01T00:00:00Z"));
    assert_eq!(e.field, "updated_at");
    let e = refused(&|r| r["created_at"] = json!("2026-01-01T00:00:00+25:00"));
    assert_eq!(e.field, "created_at");
    assert!(e.reason.contains("-12:00 to +14:00"), "{e}");
    let e = refused(&|r| r["name"] = json!("#".repeat(10 * 1024 * 1024)));
    assert_eq!(e.field, "name");
    assert_eq!(e.reason, "is 10485760 bytes long; the limit is 1024 bytes");
    let e = refused(&|r| r["line_items"][1]["title"] = json!("t".repeat(2_000)));
    assert_eq!(e.field, "line_items[1].title");
    // Two fulfillments of i64::MAX units of one line: no overflow panic.
    let e = refused(&|r| {
        let line = r["line_items"][0]["id"].clone();
        let shipment = json!({"id": 1, "status": "success", "created_at": "2026-01-01T00:00:00Z",
            "line_items": [{"id": line, "quantity": i64::MAX}]});
        r["fulfillments"] = json!([shipment.clone(), shipment]);
    });
    assert_eq!(e.field, "line_items[0].fulfilled_quantity");
}
