//! Sync by the GraphQL Admin API against the simulator, into a real SQLite
//! store: it must store exactly the data set the REST sync stores — after
//! a backfill and an incremental run, for two worlds, and through
//! throttling and server errors — and follow up an order whose line items
//! fill more than one page.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use common::fake::{self, answer};
use common::{start_time, Harness};
use jiff::ToSpan;
use opsdeck_domain::Order;
use opsdeck_simulator::Faults;
use opsdeck_sources::shopify::graphql::{CostBucket, GraphqlClient, GRAPHQL_API_VERSION};
use opsdeck_store::testing::sqlite_temp;
use opsdeck_sync::shopify::graphql_plan::sync_graphql_resource;
use opsdeck_sync::{
    run_sync_loop_with_trigger, sync_once, sync_once_graphql, BulkJob, ShopifyResource, SyncJob,
    SyncRun, SyncTrigger,
};
use serde_json::json;
use std::sync::Arc;
use std::time::Duration;

const ALL: [ShopifyResource; 3] = ShopifyResource::REST_OR_GRAPHQL;

/// Runs every resource by GraphQL at `at`, each run retried like the
/// worker retries a run that gives up.
async fn graphql_runs(
    h: &Harness,
    slug: &str,
    graphql: &GraphqlClient,
    at: jiff::Timestamp,
) -> Vec<SyncRun> {
    let client = h.client(slug);
    let mut runs = Vec::new();
    for resource in ALL {
        let mut attempts = 0;
        let run = loop {
            attempts += 1;
            match sync_once_graphql(&client, graphql, h.store.as_ref(), resource, at).await {
                Ok(run) => break run,
                Err(e) if attempts < 4 => eprintln!("retrying the run after: {e}"),
                Err(e) => panic!("{}: {e}", resource.as_str()),
            }
        };
        assert!(run.rejected.is_empty(), "{:?}", run.rejected);
        runs.push(run);
    }
    runs
}

/// Asserts the store holds what a REST sync of `slug` stores at `at`
/// (made into a store of its own, with faults off): the same products and
/// stock levels as the simulator serves, and the same orders field for
/// field — the number included, which GraphQL gives only inside the name
/// `#1001`, the `updated_at` a return moved, and the tags in their order.
/// The one difference is the platform's: only GraphQL carries a shipment's
/// estimated delivery.
async fn assert_rest_data_set(h: &Harness, slug: &str, at: jiff::Timestamp) {
    let (rest_store, _guard) = sqlite_temp().await;
    let client = h.client(slug);
    sync_once(&client, rest_store.as_ref(), ShopifyResource::Orders, at)
        .await
        .unwrap();
    let rest = rest_store.list_orders(client.source()).await.unwrap();
    let graphql = h.store.list_orders(client.source()).await.unwrap();
    assert_eq!(rest.len(), graphql.len(), "order count");
    assert!(!rest.is_empty());
    let mut estimated_deliveries = 0;
    for (r, g) in rest.iter().zip(&graphql) {
        assert_eq!(r.external_id, g.external_id);
        assert!(r.number.is_some(), "order {} has a number", r.external_id);
        let mut g = g.clone();
        assert_eq!(r.fulfillments.len(), g.fulfillments.len());
        for (rf, gf) in r.fulfillments.iter().zip(&mut g.fulfillments) {
            if rf.estimated_delivery_at.is_none() {
                estimated_deliveries += u32::from(gf.estimated_delivery_at.is_some());
                gf.estimated_delivery_at = None;
            }
        }
        assert_eq!(r, &g, "order {}", r.external_id);
    }
    eprintln!("{estimated_deliveries} estimated deliveries only GraphQL has");
    let source = client.source();
    let sim_products = h.sim_products(slug);
    let products = h.store.list_products(source).await.unwrap();
    common::assert_products_match(&products, &sim_products);
    let levels = h.store.list_inventory_levels(source).await.unwrap();
    common::assert_levels_match(&levels, &h.sim_inventory_levels(slug), &sim_products);
}

async fn backfill_then_incremental(seed: u64, slug: &str) {
    let h = Harness::start_seeded(seed, 0.1).await;
    h.sim.set_rate_limit(false);
    let graphql = h.graphql(slug);
    let now = start_time();

    let runs = graphql_runs(&h, slug, &graphql, now).await;
    let orders = &runs[0];
    assert_eq!(orders.since, None, "first run is a full backfill");
    assert!(orders.ascending, "sorted by updated_at");
    assert!(orders.missing_scopes.is_empty());
    assert_eq!(orders.inserted, h.sim_orders(slug).len() as u64);
    assert!(orders.graphql.points_spent > 0.0);
    eprintln!(
        "seed {seed}: {} orders in {} pages, {} requests, {} points",
        orders.inserted, orders.pages, orders.calls.requests, orders.graphql.points_spent
    );
    assert_rest_data_set(&h, slug, now).await;
    let source = Harness::source(slug);
    let state = h
        .store
        .sync_state(&source, "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.requests, orders.calls.requests);
    let watermark = state.watermark.expect("a watermark after the backfill");

    let later = now.checked_add(2.hours()).unwrap();
    h.sim.advance_to(later);
    let runs = graphql_runs(&h, slug, &graphql, later).await;
    let incremental = &runs[0];
    assert_eq!(
        incremental.since,
        Some(watermark - Duration::from_secs(300))
    );
    assert!(incremental.pages < orders.pages);
    assert_rest_data_set(&h, slug, later).await;
    assert!(
        incremental.inserted + incremental.updated > 0,
        "two hours bring changes"
    );
}

#[tokio::test]
async fn graphql_backfill_and_incremental_store_the_rest_data_set_seed_42() {
    backfill_then_incremental(42, "mavena").await;
}

#[tokio::test]
async fn graphql_backfill_and_incremental_store_the_rest_data_set_seed_7() {
    backfill_then_incremental(7, "mavena").await;
}

#[tokio::test]
async fn graphql_sync_converges_through_throttling_and_server_errors() {
    let h = Harness::start_seeded(9, 0.02).await;
    let slug = "plentum";
    let faults = Faults {
        // At the GraphQL endpoint a 429 fault answers THROTTLED.
        http_429_rate: 0.2,
        http_5xx_rate: 0.2,
        seed: 5,
        ..Faults::default()
    };
    let graphql = h.graphql(slug);
    let now = start_time();
    let later = now.checked_add(2.hours()).unwrap();
    let (mut throttled, mut errors) = (0, 0);
    for at in [now, later] {
        h.sim.advance_to(at);
        h.sim.set_faults(faults.clone());
        for run in graphql_runs(&h, slug, &graphql, at).await {
            throttled += run.graphql.throttled;
            errors += run.calls.errors;
        }
        h.sim.set_faults(Faults::default());
        assert_rest_data_set(&h, slug, at).await;
    }
    eprintln!("faults: {throttled} throttled answers, {errors} errors");
    assert!(
        throttled > 0 && errors > 0,
        "faults were injected ({throttled} throttled, {errors} errors)"
    );
    let state = h
        .store
        .sync_state(&Harness::source(slug), "orders")
        .await
        .unwrap()
        .unwrap();
    assert!(state.errors > 0);
    assert_eq!(state.consecutive_failures, 0);
}

/// Every path at which `a` and `b` differ, so a disagreement is named
/// field by field rather than as two whole orders.
fn differences(path: &str, a: &serde_json::Value, b: &serde_json::Value, out: &mut Vec<String>) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            for k in keys {
                let null = Value::Null;
                let (l, r) = (x.get(k).unwrap_or(&null), y.get(k).unwrap_or(&null));
                differences(&format!("{path}.{k}"), l, r, out);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (l, r)) in x.iter().zip(y).enumerate() {
                differences(&format!("{path}[{i}]"), l, r, out);
            }
        }
        _ if a != b => out.push(format!("{path}: REST {a} / GraphQL {b}")),
        _ => {}
    }
}

/// One truth per order (and product) on both of the simulator's faces:
/// every order of every shop, as its REST JSON (what `orders/{id}.json` and the webhooks
/// send) goes through the REST normalization and as a GraphQL sync stores
/// it, gives the same record field by field — `updated_at` after a return
/// included, and the tags in the same order. The one field only one face
/// carries, a shipment's estimated delivery (GraphQL's), is set aside and
/// counted. Checked at the start and after 20 days of the world (returns
/// requested, decided and closed meanwhile), read by incremental sync.
async fn both_faces_serve_one_truth(seed: u64) {
    use opsdeck_domain::Product;
    use opsdeck_sources::shopify::normalize::{order_from_json, product_from_json};
    use opsdeck_sources::shopify::NormalizeContext;

    let h = Harness::start_seeded(seed, 0.1).await;
    h.sim.set_rate_limit(false);
    let start = start_time();
    let (mut compared, mut with_returns, mut estimates) = (0, 0, 0);
    for at in [start, start.checked_add(480.hours()).unwrap()] {
        h.sim.advance_to(at);
        for shop in h.sim.shops() {
            let slug = shop.slug.as_str();
            let client = h.client(slug);
            let graphql = h.graphql(slug);
            let run = sync_once_graphql(
                &client,
                &graphql,
                h.store.as_ref(),
                ShopifyResource::Orders,
                at,
            )
            .await
            .unwrap();
            assert!(run.rejected.is_empty(), "{:?}", run.rejected);
            let settings = client.settings();
            let ctx = NormalizeContext {
                source: settings.source.clone(),
                brand: settings.brand.clone(),
                currency: settings.currency,
            };
            let mut rest: Vec<Order> = h
                .sim
                .orders_json(slug)
                .iter()
                .map(|raw| order_from_json(&ctx, raw).unwrap())
                .collect();
            let mut by_graphql = h.store.list_orders(&settings.source).await.unwrap();
            rest.sort_by(|a, b| a.external_id.cmp(&b.external_id));
            by_graphql.sort_by(|a, b| a.external_id.cmp(&b.external_id));
            assert_eq!(rest.len(), by_graphql.len(), "{slug}: order count");
            with_returns += h
                .sim
                .graphql_nodes(slug, "orders")
                .iter()
                .filter(|o| {
                    o.pointer("/returns/__nodes")
                        .and_then(serde_json::Value::as_array)
                        .is_some_and(|r| !r.is_empty())
                })
                .count();
            let mut report = Vec::new();
            for (r, g) in rest.iter().zip(&by_graphql) {
                let mut g = g.clone();
                for (rf, gf) in r.fulfillments.iter().zip(&mut g.fulfillments) {
                    assert_eq!(rf.estimated_delivery_at, None, "REST carries no estimate");
                    estimates += u32::from(gf.estimated_delivery_at.take().is_some());
                }
                let path = format!("{slug} order {}", r.external_id);
                let (r, g) = (
                    serde_json::to_value(r).unwrap(),
                    serde_json::to_value(&g).unwrap(),
                );
                differences(&path, &r, &g, &mut report);
                compared += 1;
            }
            // Products, the same way: both faces' normalized records.
            sync_once_graphql(
                &client,
                &graphql,
                h.store.as_ref(),
                ShopifyResource::Products,
                at,
            )
            .await
            .unwrap();
            let mut rest_products: Vec<Product> = h
                .sim
                .products_json(slug)
                .iter()
                .map(|raw| product_from_json(&ctx, raw).unwrap())
                .collect();
            rest_products.sort_by(|a, b| a.external_id.cmp(&b.external_id));
            let mut graphql_products = h.store.list_products(&settings.source).await.unwrap();
            graphql_products.sort_by(|a, b| a.external_id.cmp(&b.external_id));
            assert_eq!(
                rest_products.len(),
                graphql_products.len(),
                "{slug}: products"
            );
            for (r, g) in rest_products.iter().zip(&graphql_products) {
                let path = format!("{slug} product {}", r.external_id);
                let (r, g) = (
                    serde_json::to_value(r).unwrap(),
                    serde_json::to_value(g).unwrap(),
                );
                differences(&path, &r, &g, &mut report);
            }
            assert!(
                report.is_empty(),
                "seed {seed} at {at}: {} difference(s):\n{}",
                report.len(),
                report[..report.len().min(30)].join("\n")
            );
        }
    }
    eprintln!(
        "seed {seed}: {compared} orders compared, {with_returns} with a return, \
         {estimates} estimated deliveries only GraphQL carries"
    );
    assert!(with_returns > 0, "the worlds hold returns to compare");
    assert!(estimates > 0, "the one-face field was seen");
}

/// Fulfillment orders, read page by page over HTTP with their lines, ship
/// per line exactly the units the REST face's fulfillments ship (what the
/// REST rule stores as `fulfilled_quantity`), including the lines whose
/// units were refunded after they shipped, which a bulk file's line
/// quantities cannot tell; and a bulk query cannot ask for those lines
/// from the orders (three levels of connections), as Shopify refuses it.
async fn fulfillment_orders_ship_what_fulfillments_ship(seed: u64) {
    use opsdeck_sources::shopify::graphql::{GraphqlQuery, GraphqlStats};
    use opsdeck_sources::shopify::normalize::order_from_json;
    use opsdeck_sources::shopify::NormalizeContext;
    use std::collections::BTreeMap;

    let h = Harness::start_seeded(seed, 0.1).await;
    h.sim.set_rate_limit(false);
    h.sim
        .advance_to(start_time().checked_add(480.hours()).unwrap());
    let (mut lines_compared, mut refunded_after_shipping, mut closed_seen) = (0, 0, 0);
    for shop in h.sim.shops() {
        let slug = shop.slug.as_str();
        let client = h.client(slug);
        let graphql = h.graphql(slug);
        let settings = client.settings();
        let ctx = NormalizeContext {
            source: settings.source.clone(),
            brand: settings.brand.clone(),
            currency: settings.currency,
        };
        let rest: BTreeMap<String, Order> = h
            .sim
            .orders_json(slug)
            .iter()
            .map(|raw| order_from_json(&ctx, raw).unwrap())
            .map(|order| (order.external_id.clone(), order))
            .collect();
        let document = "query OrderFulfillmentOrders($first: Int!, $after: String) { \
             orders(first: $first, after: $after) { nodes { id lineItems(first: 10) { nodes { \
             id quantity currentQuantity } } fulfillmentOrders(first: 5) { nodes { id status \
             lineItems(first: 10) { nodes { id totalQuantity remainingQuantity lineItem { id } } } \
             } } } pageInfo { hasNextPage endCursor } } }";
        let mut stats = GraphqlStats::default();
        let mut after: Option<String> = None;
        let mut seen = 0;
        loop {
            let mut query =
                GraphqlQuery::new("OrderFulfillmentOrders", document, 999).variable("first", 3);
            if let Some(cursor) = &after {
                query = query.variable("after", cursor.as_str());
            }
            let answer = graphql.execute(&query, &mut stats).await.unwrap();
            let cost = answer.cost.as_ref().expect("every answer carries its cost");
            // Connections cost 2 and `first` times a node: a fulfillment
            // order's lines 2 + 10 × (1 + lineItem 1) = 22; a fulfillment
            // order 1 + 22, five of them 2 + 115 = 117; the order's lines
            // 2 + 10 = 12; an order 1 + 12 + 117 = 130; three 2 + 390.
            assert_eq!(cost.requested_query_cost, 392.0, "{cost:?}");
            let page = &answer.data["orders"];
            for order in page["nodes"].as_array().unwrap() {
                seen += 1;
                let gid = order["id"].as_str().unwrap();
                let id = gid.rsplit('/').next().unwrap();
                let stored = &rest[id];
                let mut shipped: BTreeMap<String, i64> = BTreeMap::new();
                let fulfillment_orders = order["fulfillmentOrders"]["nodes"].as_array().unwrap();
                assert_eq!(
                    fulfillment_orders.len(),
                    1,
                    "{gid}: one location, one fulfillment order"
                );
                for fo in fulfillment_orders {
                    for line in fo["lineItems"]["nodes"].as_array().unwrap() {
                        let (total, remaining) = (
                            line["totalQuantity"].as_i64().unwrap(),
                            line["remainingQuantity"].as_i64().unwrap(),
                        );
                        assert!((0..=total).contains(&remaining), "{gid}: {line}");
                        let item = line["lineItem"]["id"].as_str().unwrap();
                        *shipped
                            .entry(item.rsplit('/').next().unwrap().to_string())
                            .or_default() += total - remaining;
                    }
                }
                for (line, graphql_line) in stored
                    .line_items
                    .iter()
                    .zip(order["lineItems"]["nodes"].as_array().unwrap())
                {
                    let by_fulfillment_orders =
                        shipped.get(&line.external_id).copied().unwrap_or(0);
                    assert_eq!(
                        Some(by_fulfillment_orders),
                        line.fulfilled_quantity.or(Some(0)),
                        "{slug} order {id} line {}",
                        line.external_id
                    );
                    lines_compared += 1;
                    let current = graphql_line["currentQuantity"].as_i64().unwrap();
                    if by_fulfillment_orders > 0 && current < line.quantity {
                        refunded_after_shipping += 1;
                    }
                }
            }
            if page["pageInfo"]["hasNextPage"] != json!(true) || seen >= 600 {
                break;
            }
            after = page["pageInfo"]["endCursor"].as_str().map(str::to_string);
        }
        // The root listing (what the backfill's second bulk query reads)
        // names each one's order; closed ones only when asked.
        let listing = |include_closed: bool| {
            GraphqlQuery::new(
                "FulfillmentOrders",
                &format!(
                    "query FulfillmentOrders {{ fulfillmentOrders(first: 250, \
                     includeClosed: {include_closed}) {{ nodes {{ id orderId status }} }} }}"
                ),
                252,
            )
        };
        let all = graphql.execute(&listing(true), &mut stats).await.unwrap();
        let all = all.data["fulfillmentOrders"]["nodes"]
            .as_array()
            .unwrap()
            .clone();
        let open = graphql.execute(&listing(false), &mut stats).await.unwrap();
        let open = open.data["fulfillmentOrders"]["nodes"]
            .as_array()
            .unwrap()
            .clone();
        let closed =
            |fo: &serde_json::Value| matches!(fo["status"].as_str(), Some("CLOSED" | "CANCELLED"));
        closed_seen += all.iter().filter(|fo| closed(fo)).count();
        assert!(!open.iter().any(closed), "{slug}");
        for fo in &all {
            let order = fo["orderId"].as_str().unwrap();
            assert!(rest.contains_key(order.rsplit('/').next().unwrap()), "{fo}");
        }
    }
    eprintln!(
        "seed {seed}: {lines_compared} lines compared, {refunded_after_shipping} refunded after \
         they shipped"
    );
    assert!(lines_compared > 0);
    assert!(
        closed_seen > 0,
        "closed fulfillment orders were listed when asked"
    );
    assert!(
        refunded_after_shipping > 0,
        "the case bulk files cannot tell was seen"
    );
    let nested = "{ orders { edges { node { id fulfillmentOrders { edges { node { id \
                  lineItems { edges { node { id totalQuantity remainingQuantity } } } } } } } } } }";
    let refusal = opsdeck_simulator::check_bulk_query(nested).unwrap_err();
    assert!(
        refusal.contains("nesting depth greater than 2"),
        "{refusal}"
    );
    // Refunded units per refund (`Order.agreements` → `sales`) are three
    // levels too.
    let agreements = "{ orders { edges { node { id agreements { edges { node { id \
                      sales { edges { node { id quantity } } } } } } } } } }";
    let refusal = opsdeck_simulator::check_bulk_query(agreements).unwrap_err();
    assert!(
        refusal.contains("nesting depth greater than 2"),
        "{refusal}"
    );
    opsdeck_simulator::check_bulk_query(
        "{ orders { edges { node { id fulfillmentOrders { edges { node { id status } } } } } } }",
    )
    .unwrap();
}

#[tokio::test]
async fn fulfillment_orders_ship_what_fulfillments_ship_seed_42() {
    fulfillment_orders_ship_what_fulfillments_ship(42).await;
}

#[tokio::test]
async fn fulfillment_orders_ship_what_fulfillments_ship_seed_7() {
    fulfillment_orders_ship_what_fulfillments_ship(7).await;
}

#[tokio::test]
async fn both_faces_serve_one_truth_per_order_seed_42() {
    both_faces_serve_one_truth(42).await;
}

#[tokio::test]
async fn both_faces_serve_one_truth_per_order_seed_7() {
    both_faces_serve_one_truth(7).await;
}

#[tokio::test]
async fn both_faces_serve_one_truth_per_order_seed_1234() {
    both_faces_serve_one_truth(1234).await;
}

fn money(amount: &str) -> serde_json::Value {
    json!({
        "shopMoney": {"amount": amount, "currencyCode": "USD"},
        "presentmentMoney": {"amount": amount, "currencyCode": "USD"}
    })
}

fn line(n: u32) -> serde_json::Value {
    json!({
        "id": format!("gid://shopify/LineItem/{}", 9000 + n), "title": "Mug", "name": "Mug",
        "variantTitle": null, "sku": format!("MUG-{n}"), "quantity": 1,
        "product": {"id": "gid://shopify/Product/31"}, "variant": {"id": "gid://shopify/ProductVariant/32"},
        "originalUnitPriceSet": money("10.00")
    })
}

/// A GraphQL answer with a roomy bucket (Standard plan), so the client
/// sends the next query at once.
fn fulfillment(n: u32) -> serde_json::Value {
    json!({
        "id": format!("gid://shopify/Fulfillment/{}", 7000 + n), "status": "SUCCESS",
        "displayStatus": "IN_TRANSIT", "createdAt": "2026-03-01T12:00:00Z",
        "updatedAt": "2026-03-01T13:00:00Z", "deliveredAt": null, "estimatedDeliveryAt": null,
        "trackingInfo": [],
        "fulfillmentLineItems": {"nodes": [
            {"quantity": 1, "lineItem": {"id": format!("gid://shopify/LineItem/{}", 9000 + n)}}
        ]}
    })
}

fn graphql_answer(data: serde_json::Value) -> fake::Answer {
    let cost = json!({
        "requestedQueryCost": 10, "actualQueryCost": 10,
        "throttleStatus": {"maximumAvailable": 2000.0, "currentlyAvailable": 1990, "restoreRate": 100.0}
    });
    answer(
        200,
        &json!({ "data": data, "extensions": { "cost": cost } }).to_string(),
    )
}

#[tokio::test]
async fn an_order_with_more_line_items_and_fulfillments_than_a_page_is_followed_up() {
    let scopes = ["read_orders", "read_all_orders", "read_customers"];
    let order = json!({
        "id": "gid://shopify/Order/5001", "name": "#5001",
        "createdAt": "2026-03-01T10:00:00Z", "updatedAt": "2026-03-02T10:00:00Z",
        "processedAt": "2026-03-01T10:00:00Z", "currencyCode": "USD",
        "displayFinancialStatus": "PAID", "displayFulfillmentStatus": "UNFULFILLED",
        "tags": [], "test": false,
        "totalPriceSet": money("120.00"), "subtotalPriceSet": money("120.00"),
        "totalDiscountsSet": money("0.00"), "totalTaxSet": money("0.00"),
        // The listing's page of line items, full: there may be more.
        "lineItems": {"nodes": (0..10).map(line).collect::<Vec<_>>()},
        // Two fulfillments fill the listing's page too.
        "fulfillments": [fulfillment(0), fulfillment(1)], "refunds": []
    });
    let (base, script) = fake::fake_shop(vec![
        graphql_answer(json!({"currentAppInstallation": {"accessScopes":
            scopes.iter().map(|s| json!({"handle": s})).collect::<Vec<_>>()}})),
        graphql_answer(json!({"orders": {"nodes": [order],
            "pageInfo": {"hasNextPage": false, "endCursor": "o1"}}})),
        graphql_answer(
            json!({"order": {"lineItems": {"nodes": (0..7).map(line).collect::<Vec<_>>(),
            "pageInfo": {"hasNextPage": true, "endCursor": "l7"}}}}),
        ),
        graphql_answer(
            json!({"order": {"lineItems": {"nodes": (7..12).map(line).collect::<Vec<_>>(),
            "pageInfo": {"hasNextPage": false, "endCursor": "l12"}}}}),
        ),
        graphql_answer(
            json!({"order": {"fulfillments": (0..3).map(fulfillment).collect::<Vec<_>>()}}),
        ),
    ])
    .await;
    let client = fake::client(&base);
    let graphql = GraphqlClient::new(
        client.settings().clone(),
        GRAPHQL_API_VERSION,
        Arc::new(CostBucket::new()),
    )
    .unwrap();
    let (store, _guard) = sqlite_temp().await;
    let run = sync_once_graphql(
        &client,
        &graphql,
        store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap();
    assert!(run.missing_scopes.is_empty(), "{:?}", run.missing_scopes);
    assert_eq!(run.inserted, 1);
    let orders = store.list_orders(client.source()).await.unwrap();
    assert_eq!(orders[0].number, Some(5001));
    let skus: Vec<String> = orders[0]
        .line_items
        .iter()
        .filter_map(|l| l.sku.as_ref().map(|s| s.to_string()))
        .collect();
    let expected: Vec<String> = (0..12).map(|n| format!("MUG-{n}")).collect();
    assert_eq!(skus, expected, "all twelve lines, once each, in order");
    assert_eq!(orders[0].fulfillments.len(), 3, "all three fulfillments");
    let script = script.lock().unwrap();
    // Scopes, the orders page, two pages of lines, the fulfillments;
    // shop.json apart.
    assert_eq!(script.seen.len(), 5);
    assert!(script.answers.is_empty());
}

fn fulfillment_line(n: u32) -> serde_json::Value {
    json!({"quantity": 1, "lineItem": {"id": format!("gid://shopify/LineItem/{}", 9000 + n)}})
}

fn refund_line(n: u32) -> serde_json::Value {
    json!({"quantity": 1, "lineItem": {"id": format!("gid://shopify/LineItem/{}", 9000 + n)},
        "subtotalSet": money("10.00"), "totalTaxSet": money("0.00")})
}

#[tokio::test]
async fn lines_of_a_fulfillment_and_a_refund_beyond_their_first_page_are_followed_up() {
    let scopes = ["read_orders", "read_all_orders", "read_customers"];
    let order = json!({
        "id": "gid://shopify/Order/5002", "name": "#5002",
        "createdAt": "2026-03-01T10:00:00Z", "updatedAt": "2026-03-02T10:00:00Z",
        "processedAt": "2026-03-01T10:00:00Z", "currencyCode": "USD",
        "displayFinancialStatus": "REFUNDED", "displayFulfillmentStatus": "FULFILLED",
        "tags": [], "test": false,
        "totalPriceSet": money("70.00"), "subtotalPriceSet": money("70.00"),
        "totalDiscountsSet": money("0.00"), "totalTaxSet": money("0.00"),
        "lineItems": {"nodes": (0..7).map(line).collect::<Vec<_>>()},
        // One fulfillment and one refund of all seven lines, each giving
        // its first five and saying more follow.
        "fulfillments": [{
            "id": "gid://shopify/Fulfillment/7100", "status": "SUCCESS",
            "displayStatus": "DELIVERED", "createdAt": "2026-03-01T12:00:00Z",
            "updatedAt": "2026-03-01T13:00:00Z", "deliveredAt": null, "estimatedDeliveryAt": null,
            "trackingInfo": [],
            "fulfillmentLineItems": {"nodes": (0..5).map(fulfillment_line).collect::<Vec<_>>(),
                "pageInfo": {"hasNextPage": true, "endCursor": "f5"}}
        }],
        "refunds": [{
            "id": "gid://shopify/Refund/8100", "createdAt": "2026-03-02T10:00:00Z", "note": null,
            "refundLineItems": {"nodes": (0..5).map(refund_line).collect::<Vec<_>>(),
                "pageInfo": {"hasNextPage": true, "endCursor": "r5"}},
            "transactions": {"nodes": [{"kind": "REFUND", "status": "SUCCESS", "amountSet": money("70.00")}]},
            "orderAdjustments": {"nodes": []}
        }]
    });
    let (base, script) = fake::fake_shop(vec![
        graphql_answer(json!({"currentAppInstallation": {"accessScopes":
            scopes.iter().map(|s| json!({"handle": s})).collect::<Vec<_>>()}})),
        graphql_answer(json!({"orders": {"nodes": [order],
            "pageInfo": {"hasNextPage": false, "endCursor": "o1"}}})),
        // The fulfillment's lines, read again from the start, two pages.
        graphql_answer(json!({"fulfillment": {"fulfillmentLineItems": {
            "nodes": (0..6).map(fulfillment_line).collect::<Vec<_>>(),
            "pageInfo": {"hasNextPage": true, "endCursor": "f6"}}}})),
        graphql_answer(json!({"fulfillment": {"fulfillmentLineItems": {
            "nodes": [fulfillment_line(6)],
            "pageInfo": {"hasNextPage": false, "endCursor": "f7"}}}})),
        // The refund's lines, one page.
        graphql_answer(json!({"refund": {"refundLineItems": {
            "nodes": (0..7).map(refund_line).collect::<Vec<_>>(),
            "pageInfo": {"hasNextPage": false, "endCursor": "r7"}}}})),
    ])
    .await;
    let client = fake::client(&base);
    let graphql = GraphqlClient::new(
        client.settings().clone(),
        GRAPHQL_API_VERSION,
        Arc::new(CostBucket::new()),
    )
    .unwrap();
    let (store, _guard) = sqlite_temp().await;
    let run = sync_once_graphql(
        &client,
        &graphql,
        store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap();
    assert_eq!(run.inserted, 1, "{:?}", run.rejected);
    let orders = store.list_orders(client.source()).await.unwrap();
    let fulfilled: Vec<Option<i64>> = orders[0]
        .line_items
        .iter()
        .map(|l| l.fulfilled_quantity)
        .collect();
    assert_eq!(fulfilled, vec![Some(1); 7], "every line shipped once");
    let refund = &orders[0].refunds[0];
    assert_eq!(refund.line_items.len(), 7, "all seven refunded lines");
    assert_eq!(refund.amount.minor, 7_000);
    let script = script.lock().unwrap();
    // Scopes, the orders page, two pages of the fulfillment's lines (read
    // at `fulfillment.fulfillmentLineItems`), one of the refund's.
    assert_eq!(script.seen.len(), 5);
    assert!(script.answers.is_empty());
}

#[tokio::test]
async fn graphql_scopes_name_the_missing_ones() {
    let h = Harness::start_seeded(42, 0.02).await;
    h.sim.set_rate_limit(false);
    let slug = "mavena";
    h.sim.set_access_scopes(
        slug,
        Some(&["read_orders", "read_customers", "read_products"]),
        &[],
    );
    let graphql = h.graphql(slug);
    let client = h.client(slug);
    let err = sync_once_graphql(
        &client,
        &graphql,
        h.store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("missing access scope read_all_orders"),
        "{err}"
    );
    let state = h
        .store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert!(state.needs_attention);
    assert!(state
        .last_error
        .is_some_and(|e| e.contains("read_all_orders")));
}

#[tokio::test]
async fn a_bulk_backfill_without_read_all_orders_stores_what_it_sees_and_says_so() {
    let h = Harness::start_seeded(42, 0.02).await;
    h.sim.set_rate_limit(false);
    let slug = "mavena";
    h.sim.set_access_scopes(
        slug,
        Some(&["read_orders", "read_customers", "read_products"]),
        &[],
    );
    let graphql = h.graphql(slug);
    let client = h.client(slug);
    let mut last_bulk = None;
    let err = sync_graphql_resource(
        &client,
        &graphql,
        h.store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
        None,
        &BulkJob::default(),
        &mut last_bulk,
        start_time(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string()
            .contains("missing access scope read_all_orders"),
        "{err}"
    );
    assert_eq!(last_bulk, Some(start_time()), "the run went by bulk");
    let state = h
        .store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    assert!(state.needs_attention, "a person must grant the scope");
    assert!(state.running_since.is_none(), "the run is over");
    assert!(state.cursor.is_none());
    assert!(state
        .last_error
        .is_some_and(|e| e.contains("read_all_orders")));
    // What the token sees is stored all the same.
    let stored = h.store.list_orders(client.source()).await.unwrap();
    assert!(!stored.is_empty());
}

#[tokio::test]
async fn the_worker_syncs_a_graphql_shop_by_graphql() {
    let h = Harness::start_seeded(42, 0.02).await;
    h.sim.set_rate_limit(false);
    let slug = "mavena";
    let client = h.client(slug);
    let graphql = Arc::new(h.graphql(slug));
    let jobs = ALL
        .map(|resource| SyncJob {
            client: client.clone(),
            graphql: Some(graphql.clone()),
            resource,
            every: Duration::from_secs(3600),
            bulk: None,
        })
        .to_vec();
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let clock: Arc<dyn Fn() -> jiff::Timestamp + Send + Sync> = Arc::new(start_time);
    let worker = tokio::spawn(run_sync_loop_with_trigger(
        jobs,
        h.store.clone(),
        clock,
        shutdown,
        SyncTrigger::new(),
    ));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let state = h
            .store
            .sync_state(client.source(), "inventory_levels")
            .await
            .unwrap();
        if state.is_some_and(|s| s.last_success_at.is_some()) {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "round did not finish");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    stop.send(true).unwrap();
    worker.await.unwrap();
    assert!(
        graphql.answered_api_version().is_some(),
        "the runs went through the GraphQL client"
    );
    assert_rest_data_set(&h, slug, start_time()).await;
    // A shop never synced is backfilled by bulk operation: a handful of
    // calls per resource (checks, start, polls, the file, follow-ups, then
    // the incremental run from the backfill's watermark: 28 here), where
    // paging its orders through the cost budget takes one call per few
    // orders (113).
    let orders = h
        .store
        .sync_state(client.source(), "orders")
        .await
        .unwrap()
        .unwrap();
    let stored = h.sim.order_count(slug) as u64;
    let calls = h.sim.request_count(slug);
    assert!(
        stored > 40,
        "{stored} orders: too few to tell the two apart"
    );
    assert!(
        calls <= 40,
        "{calls} calls for {stored} orders and their products: not a bulk backfill"
    );
    assert!(
        orders.cursor.is_none(),
        "the bulk cursor is cleared at the end"
    );
}
