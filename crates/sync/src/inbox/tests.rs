//! Inbox processing on real payload shapes (the shared fixtures): every
//! topic routed and applied, out-of-order deliveries never roll data back,
//! retries and give-ups stay visible.

use super::*;
use opsdeck_domain::{BrandId, Currency, FulfillmentState, Money, ShipmentStatus};
use opsdeck_store::testing::{sqlite_temp, TempGuard};
use opsdeck_store::{InboxEvent, WebhookStatus};
use serde_json::json;

const SOURCE: &str = "shopify-test";

fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/shopify/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let value: Value = serde_json::from_str(&text).unwrap();
    // Webhook payloads are the bare resource, without the wrapper key.
    match value.as_object().filter(|o| o.len() == 1) {
        Some(o) => o.values().next().unwrap().clone(),
        None => value,
    }
}

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn source() -> SourceId {
    SourceId::parse(SOURCE).unwrap()
}

struct Env {
    store: Arc<dyn Store>,
    shops: WebhookShops,
    settings: InboxSettings,
    next: u32,
    _guard: TempGuard,
}

async fn env() -> Env {
    let (store, guard) = sqlite_temp().await;
    Env {
        store,
        shops: WebhookShops::new([NormalizeContext {
            source: source(),
            brand: BrandId::parse("test").unwrap(),
            currency: Currency::USD,
        }]),
        settings: InboxSettings {
            max_attempts: 3,
            backoff_base: Duration::from_secs(1),
            ..InboxSettings::default()
        },
        next: 0,
        _guard: guard,
    }
}

const NOW: &str = "2026-06-10T18:00:00Z";

impl Env {
    async fn deliver(&mut self, topic: &str, body: &Value) {
        self.deliver_at(topic, body, "2026-06-10T17:59:00Z").await;
    }

    /// A delivery triggered at `triggered_at` (`X-Shopify-Triggered-At`).
    async fn deliver_at(&mut self, topic: &str, body: &Value, triggered_at: &str) {
        self.next += 1;
        let event = InboxEvent {
            source: source(),
            shop_domain: "test.myshopify.com".into(),
            webhook_id: format!("wh-{}", self.next),
            event_id: None,
            topic: topic.into(),
            api_version: Some("2025-07".into()),
            triggered_at: Some(ts(triggered_at)),
            received_at: ts(NOW),
            body: body.to_string(),
        };
        self.store.insert_webhooks(&[event]).await.unwrap();
    }

    async fn step_at(&self, now: &str) -> InboxStep {
        process_inbox_once(self.store.as_ref(), &self.shops, &self.settings, ts(now))
            .await
            .unwrap()
    }

    async fn step(&self) -> InboxStep {
        self.step_at(NOW).await
    }

    async fn order(&self, id: &str) -> Order {
        self.store.get_order(&source(), id).await.unwrap().unwrap()
    }
}

fn order_at(updated_at: &str, note: &str) -> Value {
    let mut o = fixture("order_official_python_lib.json");
    o["updated_at"] = json!(updated_at);
    o["tags"] = json!(note);
    o
}

#[tokio::test]
async fn every_topic_is_routed_and_applied() {
    let mut e = env().await;
    e.deliver("orders/create", &fixture("order_official_python_lib.json"))
        .await;
    e.deliver(
        "products/create",
        &fixture("product_get_with_variants.json"),
    )
    .await;
    let levels = fixture("inventory_levels_list.json");
    e.deliver("inventory_levels/update", &levels[0]).await;
    let step = e.step().await;
    assert_eq!((step.taken, step.processed, step.failed), (3, 3, 0));
    let order = e.order("450789469").await;
    assert_eq!(order.fulfillments.len(), 1);
    assert_eq!(
        e.store.list_inventory_levels(&source()).await.unwrap()[0].external_id,
        "808950810:905684977"
    );

    // The fixture's fulfillment, later delivered alone and newer.
    let mut ful = fixture("order_official_python_lib.json")["fulfillments"][0].clone();
    ful["status"] = json!("success");
    ful["shipment_status"] = json!("delivered");
    ful["updated_at"] = json!("2014-01-25T10:00:00-05:00");
    e.deliver("fulfillments/update", &ful).await;
    let refund = json!({
        "id": 509562969, "order_id": 450789469, "created_at": "2014-01-26T10:00:00-05:00",
        "note": "damaged", "refund_line_items": [{"line_item_id": 466157049, "quantity": 1}],
        "transactions": [{"kind": "refund", "status": "success", "amount": "41.94"}]
    });
    e.deliver("refunds/create", &refund).await;
    e.deliver("refunds/create", &refund).await;
    e.deliver("products/delete", &json!({"id": 632910392}))
        .await;
    e.deliver(
        "app/uninstalled",
        &json!({"id": 1, "domain": "test.myshopify.com"}),
    )
    .await;
    let step = e.step().await;
    assert_eq!((step.processed, step.failed), (5, 0), "{step:?}");

    let order = e.order("450789469").await;
    assert_eq!(order.fulfillments.len(), 1);
    let f = &order.fulfillments[0];
    assert_eq!(f.shipment_status, Some(ShipmentStatus::Delivered));
    assert_eq!(f.status, FulfillmentState::Success);
    assert_eq!(order.refunds.len(), 1, "a repeated refund is added once");
    assert_eq!(order.refunds[0].amount.minor, 41_94);
    assert_eq!(order.updated_at, ts("2014-01-26T15:00:00Z"));
    let product = e
        .store
        .get_product(&source(), "632910392")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(product.deleted_at, Some(ts("2026-06-10T17:59:00Z")));
    let state = e
        .store
        .sync_state(&source(), "webhooks")
        .await
        .unwrap()
        .unwrap();
    assert!(state.last_error.unwrap().contains("uninstalled"));
    let stats = e.store.webhook_stats().await.unwrap();
    assert_eq!((stats.pending, stats.processed, stats.failed), (0, 8, 0));
}

#[tokio::test]
async fn out_of_order_order_updates_keep_the_newest() {
    let mut e = env().await;
    // Newest first, then an older one in a later step, then both orders
    // mixed in one step.
    e.deliver("orders/updated", &order_at("2024-05-03T10:00:00Z", "third"))
        .await;
    e.step().await;
    e.deliver("orders/updated", &order_at("2024-05-01T10:00:00Z", "first"))
        .await;
    e.step().await;
    assert_eq!(e.order("450789469").await.tags, ["third"]);
    e.deliver(
        "orders/updated",
        &order_at("2024-05-04T10:00:00Z", "fourth"),
    )
    .await;
    e.deliver(
        "orders/cancelled",
        &order_at("2024-05-02T10:00:00Z", "second"),
    )
    .await;
    let step = e.step().await;
    assert_eq!(step.processed, 2);
    assert_eq!(e.order("450789469").await.tags, ["fourth"]);
    let done = e
        .store
        .webhooks_with_status(WebhookStatus::Processed, 10)
        .await
        .unwrap();
    assert!(done
        .iter()
        .any(|w| w.result.as_deref().unwrap().contains("stale")));
}

#[tokio::test]
async fn an_older_fulfillment_update_does_not_roll_back_a_newer_one() {
    let mut e = env().await;
    e.deliver("orders/create", &fixture("order_official_python_lib.json"))
        .await;
    e.step().await;
    let base = fixture("order_official_python_lib.json")["fulfillments"][0].clone();
    let mut newer = base.clone();
    newer["shipment_status"] = json!("delivered");
    newer["status"] = json!("success");
    newer["updated_at"] = json!("2014-01-30T10:00:00Z");
    let mut older = base.clone();
    older["shipment_status"] = json!("in_transit");
    older["status"] = json!("success");
    older["updated_at"] = json!("2014-01-28T10:00:00Z");
    e.deliver("fulfillments/update", &newer).await;
    e.deliver("fulfillments/update", &older).await;
    e.step().await;
    let order = e.order("450789469").await;
    assert_eq!(
        order.fulfillments[0].shipment_status,
        Some(ShipmentStatus::Delivered)
    );
    // A new fulfillment of one line counts its units as shipped.
    let mut second = base.clone();
    second["id"] = json!(255858047u64);
    second["status"] = json!("success");
    second["updated_at"] = json!("2014-02-01T10:00:00Z");
    second["line_items"] = json!([{"id": 518995019, "quantity": 1}]);
    e.deliver("fulfillments/create", &second).await;
    e.step().await;
    let order = e.order("450789469").await;
    assert_eq!(order.fulfillments.len(), 2);
    let line = order
        .line_items
        .iter()
        .find(|l| l.external_id == "518995019")
        .unwrap();
    assert_eq!(line.fulfilled_quantity, Some(1));
}

#[tokio::test]
async fn a_part_of_an_unknown_order_is_retried_then_given_up_visibly() {
    let mut e = env().await;
    let ful = fixture("order_official_python_lib.json")["fulfillments"][0].clone();
    e.deliver("fulfillments/create", &ful).await;
    let step = e.step().await;
    assert_eq!((step.retrying, step.failed), (1, 0));
    // Not due again before its backoff.
    assert_eq!(e.step().await.taken, 0);
    let step = e.step_at("2026-06-10T18:00:02Z").await;
    assert_eq!(step.retrying, 1);
    let step = e.step_at("2026-06-10T18:10:00Z").await;
    assert_eq!(step.failed, 1);
    let failed = e
        .store
        .webhooks_with_status(WebhookStatus::Failed, 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
    assert_eq!(failed[0].attempts, 3);
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(
        error.contains("order 450789469") && error.contains("gave up"),
        "{error}"
    );
}

#[tokio::test]
async fn a_part_waits_for_its_order_then_applies() {
    let mut e = env().await;
    let mut ful = fixture("order_official_python_lib.json")["fulfillments"][0].clone();
    ful["shipment_status"] = json!("delivered");
    ful["updated_at"] = json!("2014-01-30T10:00:00Z");
    e.deliver("fulfillments/update", &ful).await;
    assert_eq!(e.step().await.retrying, 1);
    e.deliver("orders/create", &fixture("order_official_python_lib.json"))
        .await;
    e.step().await;
    let step = e.step_at("2026-06-10T18:00:05Z").await;
    assert_eq!(step.processed, 1);
    let order = e.order("450789469").await;
    assert_eq!(
        order.fulfillments[0].shipment_status,
        Some(ShipmentStatus::Delivered)
    );
}

#[tokio::test]
async fn an_unusable_payload_fails_at_once_with_its_field() {
    let mut e = env().await;
    let mut bad = fixture("order_official_python_lib.json");
    bad["total_price"] = json!("twelve");
    e.deliver("orders/updated", &bad).await;
    let step = e.step().await;
    assert_eq!(step.failed, 1);
    let failed = e
        .store
        .webhooks_with_status(WebhookStatus::Failed, 10)
        .await
        .unwrap();
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(error.contains("total_price"), "{error}");
    assert!(e.store.list_orders(&source()).await.unwrap().is_empty());
}

/// A processing failure is not only in the log: the source's `webhooks`
/// sync state names its topic, webhook id and reason and counts it toward
/// the source's health; webhooks applying again clear the count.
#[tokio::test]
async fn a_failed_webhook_shows_on_the_source_with_topic_id_and_reason() {
    let mut e = env().await;
    let mut bad = fixture("order_official_python_lib.json");
    bad["total_price"] = json!("twelve");
    e.deliver("orders/updated", &bad).await;
    assert_eq!(e.step().await.failed, 1);
    let health = e
        .store
        .sync_state(&source(), WEBHOOKS_RESOURCE)
        .await
        .unwrap()
        .expect("the failure is recorded on the source");
    assert_eq!((health.consecutive_failures, health.errors), (1, 1));
    let said = health.last_error.unwrap();
    assert!(
        said.contains("orders/updated webhook wh-1 failed") && said.contains("total_price"),
        "{said}"
    );
    assert_eq!(health.last_error_at, Some(ts(NOW)));

    // A retried failure counts as an error, not yet as given up.
    let ful = fixture("order_official_python_lib.json")["fulfillments"][0].clone();
    e.deliver("fulfillments/create", &ful).await;
    assert_eq!(e.step().await.retrying, 1);
    let health = e
        .store
        .sync_state(&source(), WEBHOOKS_RESOURCE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((health.consecutive_failures, health.errors), (1, 2));
    assert!(health.last_error.unwrap().contains("will retry"));

    // The source's webhooks apply again: healthy, the failed one still listed.
    e.deliver("orders/create", &fixture("order_official_python_lib.json"))
        .await;
    e.step_at("2026-06-10T18:00:05Z").await;
    let health = e
        .store
        .sync_state(&source(), WEBHOOKS_RESOURCE)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(health.consecutive_failures, 0);
    let failed = e
        .store
        .webhooks_with_status(WebhookStatus::Failed, 10)
        .await
        .unwrap();
    assert_eq!(failed.len(), 1);
}

/// The fixture order on a USD shop sold in EUR: totals in both currencies.
fn multi_currency_order() -> Value {
    let mut o = fixture("order_official_python_lib.json");
    o["presentment_currency"] = json!("EUR");
    o["total_price_set"] = json!({
        "shop_money": {"amount": "409.94", "currency_code": "USD"},
        "presentment_money": {"amount": "375.00", "currency_code": "EUR"}
    });
    o
}

/// A `refunds/create` body shaped like Shopify's: one unit of line
/// 466157049 (199.00 USD = 182.04 EUR at the order's rate) and a shipping
/// refund, given back in EUR by two transactions.
fn eur_refund() -> Value {
    let set = |usd: &str, eur: &str| {
        json!({
            "shop_money": {"amount": usd, "currency_code": "USD"},
            "presentment_money": {"amount": eur, "currency_code": "EUR"}
        })
    };
    json!({
        "id": 890088186047892319_i64,
        "order_id": 450789469,
        "created_at": "2014-01-26T10:00:00-05:00",
        "note": "Things were damaged",
        "user_id": 548380009,
        "processed_at": "2014-01-26T10:00:00-05:00",
        "restock": false,
        "duties": [],
        "total_duties_set": set("0.00", "0.00"),
        "admin_graphql_api_id": "gid://shopify/Refund/890088186047892319",
        "refund_line_items": [{
            "id": 487817672276298627_i64,
            "quantity": 1,
            "line_item_id": 466157049,
            "location_id": null,
            "restock_type": "no_restock",
            "subtotal": 199.0,
            "total_tax": 0.0,
            "subtotal_set": set("199.00", "182.04"),
            "total_tax_set": set("0.00", "0.00")
        }],
        "transactions": [
            {
                "id": 245135271310201185_i64, "order_id": 450789469, "kind": "refund",
                "gateway": "bogus", "status": "success", "message": "Bogus Gateway: Forced success",
                "created_at": "2014-01-26T10:00:00-05:00", "test": true, "parent_id": 389404469,
                "amount": "182.04", "currency": "EUR"
            },
            {
                "id": 245135271310201186_i64, "order_id": 450789469, "kind": "refund",
                "gateway": "bogus", "status": "success", "message": "Bogus Gateway: Forced success",
                "created_at": "2014-01-26T10:00:00-05:00", "test": true, "parent_id": 389404469,
                "amount": "10.00", "currency": "EUR"
            }
        ],
        "order_adjustments": [{
            "id": 12345, "order_id": 450789469, "refund_id": 890088186047892319_i64,
            "kind": "shipping_refund", "reason": "Shipping refund",
            "amount": "-10.93", "tax_amount": "0.00",
            "amount_set": set("-10.93", "-10.00"),
            "tax_amount_set": set("0.00", "0.00")
        }]
    })
}

#[tokio::test]
async fn a_refund_in_the_presentment_currency_is_stored_at_the_orders_rate() {
    let mut e = env().await;
    e.deliver("orders/create", &multi_currency_order()).await;
    e.deliver("refunds/create", &eur_refund()).await;
    let step = e.step().await;
    assert_eq!((step.processed, step.retrying, step.failed), (2, 0, 0));
    let order = e.order("450789469").await;
    assert_eq!(order.refunds.len(), 1);
    // 192.04 EUR × 409.94 / 375.00 = 209.93 USD.
    assert_eq!(order.refunds[0].amount, Money::new(20993, Currency::USD));

    // The same refund inside its order (a sync, orders/updated) converts
    // at the order's total: the same figure.
    let mut whole = multi_currency_order();
    whole["refunds"] = json!([eur_refund()]);
    let synced = order_from_json(&e.shops.shops[&source()], &whole).unwrap();
    assert_eq!(synced.refunds[0].amount, order.refunds[0].amount);
}

#[tokio::test]
async fn a_presentment_refund_of_an_unknown_order_waits_for_it() {
    let mut e = env().await;
    e.deliver("refunds/create", &eur_refund()).await;
    let step = e.step().await;
    assert_eq!((step.retrying, step.failed), (1, 0));
    e.deliver("orders/create", &multi_currency_order()).await;
    e.step().await;
    let step = e.step_at("2026-06-10T18:00:05Z").await;
    assert_eq!(step.processed, 1);
    let order = e.order("450789469").await;
    assert_eq!(order.refunds[0].amount, Money::new(20993, Currency::USD));
}

#[tokio::test]
async fn a_presentment_refund_without_amounts_in_both_currencies_fails_visibly() {
    let mut e = env().await;
    e.deliver("orders/create", &multi_currency_order()).await;
    let mut refund = eur_refund();
    refund["refund_line_items"] = json!([]);
    refund["order_adjustments"] = json!([]);
    e.deliver("refunds/create", &refund).await;
    let step = e.step().await;
    assert_eq!((step.processed, step.failed), (1, 1));
    let failed = e
        .store
        .webhooks_with_status(WebhookStatus::Failed, 10)
        .await
        .unwrap();
    let error = failed[0].last_error.as_deref().unwrap();
    assert!(
        error.contains("transactions[0].currency") && error.contains("EUR"),
        "{error}"
    );
    assert!(e.order("450789469").await.refunds.is_empty());
}

/// Issue 11.1 / 11.4 / 11.5: a signed `orders/updated` in EUR for a USD
/// brand (with no amount in USD), an order of `i64::MAX` minor units, a
/// negative total and a +25:00 offset were applied. Each now fails at
/// once, naming its field, and nothing is stored.
#[tokio::test]
async fn orders_no_merchant_has_fail_at_once_and_store_nothing() {
    let mut e = env().await;
    let edits: [(&str, Value, &str); 4] = [
        ("currency", json!("EUR"), "currency"),
        ("total_price", json!("92233720368547758.07"), "total_price"),
        ("total_price", json!("-409.94"), "total_price"),
        (
            "created_at",
            json!("2026-06-10T10:00:00+25:00"),
            "created_at",
        ),
    ];
    for (key, value, _) in &edits {
        let mut bad = fixture("order_official_python_lib.json");
        bad[*key] = value.clone();
        e.deliver("orders/updated", &bad).await;
    }
    let step = e.step().await;
    assert_eq!((step.processed, step.failed), (0, 4));
    let failed = e
        .store
        .webhooks_with_status(WebhookStatus::Failed, 10)
        .await
        .unwrap();
    let mut errors: Vec<&str> = failed
        .iter()
        .map(|f| f.last_error.as_deref().unwrap())
        .collect();
    errors.sort();
    for (_, _, field) in &edits {
        assert!(
            errors
                .iter()
                .any(|e| e.contains(&format!("field `{field}`"))),
            "{field}: {errors:#?}"
        );
    }
    assert!(errors
        .iter()
        .any(|e| e.contains("EUR differs from the brand's currency USD")));
    assert!(e.store.list_orders(&source()).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_bulk_finish_wakes_the_backfill_waiting_for_that_operation_only() {
    let mut e = env().await;
    let finishes = Arc::new(BulkFinishes::new());
    e.shops = e.shops.clone().with_bulk_finishes(finishes.clone());
    // Both real samples: the bulk-operations guide's and the webhook
    // reference's (times with an offset).
    let guide = fixture("graphql/bulk_finish_webhook.json");
    let reference = fixture("graphql/bulk_finish_webhook_reference.json");
    let waiting = finishes.wait_for(&source(), "gid://shopify/BulkOperation/720918");
    e.deliver("bulk_operations/finish", &guide).await;
    e.deliver("bulk_operations/finish", &reference).await;
    let mut broken = guide.clone();
    broken["admin_graphql_api_id"] = json!("gid://shopify/Order/1");
    e.deliver("bulk_operations/finish", &broken).await;
    let step = e.step().await;
    assert_eq!((step.processed, step.failed), (2, 1), "{step:?}");
    // Woken by its own operation's delivery (not by the other one).
    waiting.finished().await;
    let failed = e
        .store
        .webhooks_with_status(WebhookStatus::Failed, 10)
        .await
        .unwrap();
    assert!(
        failed[0]
            .last_error
            .as_deref()
            .is_some_and(|r| r.contains("admin_graphql_api_id")),
        "{failed:?}"
    );
}

/// Every stored record of `kind` of the test source, by external id.
async fn records_of(store: &dyn Store, kind: opsdeck_domain::RecordKind) -> Vec<AnyRecord> {
    store
        .changes_since(0, 1_000)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record)
        .filter(|r| r.kind() == kind && r.source() == &source())
        .collect()
}

#[tokio::test]
async fn the_graphql_only_resources_topics_apply_real_payloads() {
    use opsdeck_domain::RecordKind;
    let mut e = env().await;
    for (topic, file) in [
        ("disputes/create", "webhooks/disputes_create.json"),
        ("disputes/update", "webhooks/disputes_update.json"),
        ("customers/update", "webhooks/customers_update.json"),
        ("checkouts/create", "webhooks/checkouts_update.json"),
        ("checkouts/update", "webhooks/checkouts_update.json"),
        ("returns/request", "webhooks/returns_request.json"),
    ] {
        e.deliver(topic, &fixture(file)).await;
    }
    e.deliver("checkouts/delete", &json!({"id": 450789469}))
        .await;
    let step = e.step().await;
    assert_eq!(
        (step.taken, step.processed, step.failed),
        (7, 7, 0),
        "{step:?}"
    );

    let disputes = records_of(e.store.as_ref(), RecordKind::PaymentEvent).await;
    let mut ids: Vec<&str> = disputes.iter().map(AnyRecord::external_id).collect();
    ids.sort();
    assert_eq!(ids, ["598735659", "85190714"]);
    let Some(AnyRecord::CustomerSummary(c)) =
        records_of(e.store.as_ref(), RecordKind::CustomerSummary)
            .await
            .pop()
    else {
        panic!("customer stored");
    };
    assert_eq!((c.order_count, c.lifetime_spend.minor), (1, 19_965));
    let checkouts = records_of(e.store.as_ref(), RecordKind::AbandonedCheckout).await;
    assert_eq!(checkouts.len(), 1, "the same checkout twice is one record");
    let Some(AnyRecord::ReturnRequest(r)) = records_of(e.store.as_ref(), RecordKind::ReturnRequest)
        .await
        .pop()
    else {
        panic!("return stored");
    };
    assert_eq!(r.external_id, "3547267221");
    assert_eq!(r.requested_at, ts("2026-06-10T17:59:00Z"));
    assert_eq!(r.status.as_str(), "requested");
    let stats = e.store.webhook_stats().await.unwrap();
    assert_eq!((stats.pending, stats.processed, stats.failed), (0, 7, 0));
}

/// Shopify's sample return (`returns_*.json` share it) requested at `at`:
/// the `returns/request` sample with its id and order.
fn sample_return_request() -> Value {
    let mut body = fixture("webhooks/returns_request.json");
    body["id"] = json!(123134564567890_i64);
    body["admin_graphql_api_id"] = json!("gid://shopify/Return/123134564567890");
    body["order"] = json!({"id": 4783296544821_i64});
    body
}

async fn stored_return(e: &Env, id: &str) -> ReturnRequest {
    e.store
        .get_return_request(&source(), id)
        .await
        .unwrap()
        .unwrap_or_else(|| panic!("return {id} stored"))
}

#[tokio::test]
async fn each_returns_topic_moves_the_stored_return_at_its_trigger_time() {
    let mut e = env().await;
    e.deliver_at(
        "returns/request",
        &sample_return_request(),
        "2026-06-01T10:00:00Z",
    )
    .await;
    // Out of order in one batch: the close before the approval.
    e.deliver_at(
        "returns/close",
        &fixture("webhooks/returns_close.json"),
        "2026-06-05T10:00:00Z",
    )
    .await;
    e.deliver_at(
        "returns/approve",
        &fixture("webhooks/returns_approve.json"),
        "2026-06-02T10:00:00Z",
    )
    .await;
    e.deliver_at(
        "returns/update",
        &fixture("webhooks/returns_update.json"),
        "2026-06-03T10:00:00Z",
    )
    .await;
    let step = e.step().await;
    assert_eq!(
        (step.processed, step.failed, step.retrying),
        (4, 0, 0),
        "{step:?}"
    );
    let r = stored_return(&e, "123134564567890").await;
    let history: Vec<(&str, String)> = r
        .status_history
        .iter()
        .map(|c| (c.status.as_str(), c.at.to_string()))
        .collect();
    assert_eq!(
        history,
        [
            ("requested", "2026-06-01T10:00:00Z".to_string()),
            ("approved", "2026-06-02T10:00:00Z".to_string()),
            ("received", "2026-06-05T10:00:00Z".to_string()),
        ]
    );
    assert_eq!(r.status.as_str(), "received");
    assert_eq!(r.resolved_at, Some(ts("2026-06-05T10:00:00Z")));
    assert_eq!(r.updated_at, ts("2026-06-05T10:00:00Z"));
    assert_eq!(r.order_id.as_deref(), Some("4783296544821"));

    // Reopened, then the close redelivered under another webhook id: the
    // history keeps each moment once and the return stays reopened.
    e.deliver_at(
        "returns/reopen",
        &fixture("webhooks/returns_reopen.json"),
        "2026-06-06T10:00:00Z",
    )
    .await;
    e.deliver_at(
        "returns/close",
        &fixture("webhooks/returns_close.json"),
        "2026-06-05T10:00:00Z",
    )
    .await;
    assert_eq!(e.step().await.processed, 2);
    let r = stored_return(&e, "123134564567890").await;
    assert_eq!(r.status.as_str(), "approved");
    assert_eq!(r.resolved_at, None);
    assert_eq!(r.status_history.len(), 4);
    assert_eq!(r.updated_at, ts("2026-06-06T10:00:00Z"));
}

#[tokio::test]
async fn a_declined_and_a_canceled_return_end_with_their_reason_and_time() {
    let mut e = env().await;
    e.deliver_at(
        "returns/request",
        &fixture("webhooks/returns_request.json"),
        "2026-06-01T10:00:00Z",
    )
    .await;
    e.deliver_at(
        "returns/request",
        &sample_return_request(),
        "2026-06-01T11:00:00Z",
    )
    .await;
    let mut declined = fixture("webhooks/returns_decline.json");
    declined["id"] = json!(3547267221_i64);
    e.deliver_at("returns/decline", &declined, "2026-06-02T09:00:00Z")
        .await;
    e.deliver_at(
        "returns/cancel",
        &fixture("webhooks/returns_cancel.json"),
        "2026-06-03T09:00:00Z",
    )
    .await;
    assert_eq!(e.step().await.processed, 4);
    let d = stored_return(&e, "3547267221").await;
    assert_eq!(d.status.as_str(), "rejected");
    assert_eq!(d.reason.as_deref(), Some("return_period_ended"));
    assert_eq!(d.resolved_at, Some(ts("2026-06-02T09:00:00Z")));
    // The decline sample names no order: the request's is kept.
    assert_eq!(d.order_id.as_deref(), Some("5196695273621"));
    let c = stored_return(&e, "123134564567890").await;
    assert_eq!(c.status.as_str(), "cancelled");
    assert_eq!(c.resolved_at, Some(ts("2026-06-03T09:00:00Z")));
}

#[tokio::test]
async fn a_change_of_a_return_not_stored_yet_waits_for_its_request() {
    let mut e = env().await;
    e.deliver_at(
        "returns/approve",
        &fixture("webhooks/returns_approve.json"),
        "2026-06-02T10:00:00Z",
    )
    .await;
    let step = e.step().await;
    assert_eq!((step.retrying, step.processed), (1, 0), "{step:?}");
    e.deliver_at(
        "returns/request",
        &sample_return_request(),
        "2026-06-01T10:00:00Z",
    )
    .await;
    // The request is stored; the approval, taken before it in that step,
    // waits for its next attempt.
    e.step_at("2026-06-10T18:00:05Z").await;
    assert_eq!(
        stored_return(&e, "123134564567890").await.status.as_str(),
        "requested"
    );
    let step = e.step_at("2026-06-10T18:01:00Z").await;
    assert_eq!(step.processed, 1, "{step:?}");
    let r = stored_return(&e, "123134564567890").await;
    assert_eq!(r.status.as_str(), "approved");
    assert_eq!(r.status_history.len(), 2);
}

#[tokio::test]
async fn an_unknown_returns_topic_fails_visibly_naming_it() {
    let mut e = env().await;
    e.deliver(
        "returns/frobnicate",
        &fixture("webhooks/returns_close.json"),
    )
    .await;
    let step = e.step().await;
    assert_eq!((step.processed, step.failed), (0, 1), "{step:?}");
    let failed = e.store.recent_failed_webhooks(5).await.unwrap();
    let reason = failed[0].last_error.clone().unwrap_or_default();
    assert!(
        reason.contains("returns/frobnicate") && reason.contains("returns topic"),
        "{reason}"
    );
    assert_eq!(e.store.webhook_stats().await.unwrap().failed, 1);
    assert!(e
        .store
        .get_return_request(&source(), "123134564567890")
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn a_customer_payload_without_lifetime_figures_fails_naming_the_field() {
    let mut e = env().await;
    let mut body = fixture("webhooks/customers_update.json");
    body.as_object_mut().unwrap().remove("orders_count");
    e.deliver("customers/update", &body).await;
    let step = e.step().await;
    assert_eq!((step.processed, step.failed), (0, 1), "{step:?}");
    let failed = e.store.recent_failed_webhooks(5).await.unwrap();
    let reason = failed[0].last_error.clone().unwrap_or_default();
    assert!(reason.contains("orders_count"), "{reason}");
}
