//! Selections, cursors and search, cost, throttling, versions, scopes,
//! and the listings opsdeck's client sends.

use std::time::Duration;

use serde_json::{json, Value};

use crate::bulk::poll;
use crate::{keys, spawn};

#[tokio::test]
async fn answers_exactly_the_selection_with_cursors_and_the_updated_at_search() {
    let app = spawn(21, 0.2).await;
    let (headers, body) = app
        .post_version(
            "plentum",
            "2026-01",
            "query($n: Int!) { orders(first: $n) { edges { cursor node { id name totalPriceSet { shopMoney { amount currencyCode } } } } pageInfo { hasNextPage endCursor } } }",
            json!({ "n": 3 }),
        )
        .await;
    assert_eq!(headers["x-shopify-api-version"], "2026-01");
    let edges = body["data"]["orders"]["edges"].as_array().unwrap();
    assert_eq!(edges.len(), 3);
    assert_eq!(keys(&edges[0]), ["cursor", "node"]);
    assert_eq!(keys(&edges[0]["node"]), ["id", "name", "totalPriceSet"]);
    assert_eq!(keys(&edges[0]["node"]["totalPriceSet"]), ["shopMoney"]);
    assert!(edges[0]["node"]["id"]
        .as_str()
        .unwrap()
        .starts_with("gid://shopify/Order/"));
    assert_eq!(body["data"]["orders"]["pageInfo"]["hasNextPage"], true);

    // Every order with its GraphQL updatedAt: never before the REST one
    // (a return can make it later).
    let mut all = Vec::new();
    let mut after = Value::Null;
    loop {
        let (_, page) = app
            .post_version(
                "plentum",
                "2026-01",
                "query($after: String) { orders(first: 250, after: $after) { nodes { id updatedAt } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after }),
            )
            .await;
        all.extend(
            page["data"]["orders"]["nodes"]
                .as_array()
                .unwrap()
                .iter()
                .cloned(),
        );
        if page["data"]["orders"]["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = page["data"]["orders"]["pageInfo"]["endCursor"].clone();
    }
    let seconds = |text: &Value| {
        text.as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second()
    };
    let rest = app.sim.orders_json("plentum");
    assert_eq!(all.len(), rest.len());
    for order in &all {
        let r = rest
            .iter()
            .find(|r| r["admin_graphql_api_id"] == order["id"])
            .unwrap();
        assert!(seconds(&order["updatedAt"]) >= seconds(&r["updated_at"]));
    }

    // Every order updated after a moment, page by page, each once.
    let since = "2026-04-20T00:00:00Z";
    let since_s = since.parse::<jiff::Timestamp>().unwrap().as_second();
    let expected: Vec<String> = all
        .iter()
        .filter(|o| seconds(&o["updatedAt"]) > since_s)
        .map(|o| o["id"].as_str().unwrap().to_string())
        .collect();
    assert!(expected.len() > 10, "{}", expected.len());
    let mut seen = Vec::new();
    let mut after = Value::Null;
    loop {
        let (_, page) = app
            .post_version(
                "plentum",
                "2026-01",
                "query($after: String, $q: String) { orders(first: 7, after: $after, query: $q, sortKey: UPDATED_AT) { nodes { id updatedAt } pageInfo { hasNextPage endCursor } } }",
                json!({ "after": after, "q": format!("updated_at:>'{since}'") }),
            )
            .await;
        let orders = &page["data"]["orders"];
        for node in orders["nodes"].as_array().unwrap() {
            seen.push(node["id"].as_str().unwrap().to_string());
        }
        if orders["pageInfo"]["hasNextPage"] != true {
            break;
        }
        after = orders["pageInfo"]["endCursor"].clone();
    }
    let mut sorted_seen = seen.clone();
    sorted_seen.sort();
    sorted_seen.dedup();
    assert_eq!(sorted_seen.len(), seen.len(), "an order came twice");
    let mut sorted_expected = expected.clone();
    sorted_expected.sort();
    assert_eq!(sorted_seen, sorted_expected);

    let unknown = app.gql("plentum", "{ shop { name nosuchfield } }").await;
    assert_eq!(unknown["errors"][0]["extensions"]["code"], "undefinedField");
}

#[tokio::test]
async fn cost_of_sample_queries_is_the_documented_figure() {
    let app = spawn(21, 1.0).await;
    let body = app
        .gql("mavena", "{ orders(first: 250) { edges { node { id } } } }")
        .await;
    assert_eq!(body["extensions"]["cost"]["requestedQueryCost"], 252);
    assert_eq!(body["extensions"]["cost"]["actualQueryCost"], 252);
    let status = &body["extensions"]["cost"]["throttleStatus"];
    assert_eq!(status["maximumAvailable"], 2000.0);
    assert_eq!(status["restoreRate"], 100.0);
    assert_eq!(status["currentlyAvailable"], 2000.0 - 252.0);

    let shop = app.gql("mavena", "{ shop { name currencyCode } }").await;
    assert_eq!(shop["extensions"]["cost"]["requestedQueryCost"], 1);

    // The catalog has 5 locations at most: the actual cost is what came back.
    let locations = app
        .gql("mavena", "{ locations(first: 50) { nodes { id name } } }")
        .await;
    let count = locations["data"]["locations"]["nodes"]
        .as_array()
        .unwrap()
        .len() as u64;
    assert_eq!(locations["extensions"]["cost"]["requestedQueryCost"], 52);
    assert_eq!(
        locations["extensions"]["cost"]["actualQueryCost"],
        2 + count
    );

    let nested = app
        .gql("mavena", "{ products(first: 50) { edges { node { id variants(first: 20) { edges { node { id } } } } } } }")
        .await;
    assert_eq!(
        nested["errors"][0]["extensions"]["code"],
        "MAX_COST_EXCEEDED"
    );
    assert_eq!(nested["extensions"]["cost"]["requestedQueryCost"], 1152);
    assert!(nested.get("data").is_none());
}

#[tokio::test]
async fn throttles_when_the_bucket_is_empty_and_restores_at_the_documented_rate() {
    let app = spawn(21, 1.0).await;
    app.sim.use_manual_api_clock();
    let query = "{ orders(first: 250) { edges { node { id } } } }";
    for k in 1..=7 {
        let body = app.gql("mavena", query).await;
        assert!(body.get("errors").is_none(), "{body}");
        assert_eq!(
            body["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
            2000.0 - 252.0 * k as f64
        );
    }
    let throttled = app.gql("mavena", query).await;
    assert_eq!(throttled["errors"][0]["message"], "Throttled");
    assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
    assert!(throttled["extensions"]["cost"]["actualQueryCost"].is_null());
    assert_eq!(
        throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        236.0
    );
    // Another shop has its own bucket.
    assert!(app.gql("plentum", query).await.get("errors").is_none());
    // (252 − 236) ÷ 100 per second = 0.16 s.
    app.sim.advance_api_clock(Duration::from_millis(150));
    assert_eq!(
        app.gql("mavena", query).await["errors"][0]["extensions"]["code"],
        "THROTTLED"
    );
    app.sim.advance_api_clock(Duration::from_millis(10));
    let restored = app.gql("mavena", query).await;
    assert!(restored.get("errors").is_none(), "{restored}");
    assert_eq!(
        restored["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        0.0
    );
    // Empty to full in maximumAvailable ÷ restoreRate = 20 s.
    app.sim.advance_api_clock(Duration::from_secs(20));
    let full = app.gql("mavena", "{ shop { id } }").await;
    assert_eq!(
        full["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"],
        1999.0
    );
}

#[tokio::test]
async fn versions_scopes_and_deprecations_answer_as_shopify_does() {
    let app = spawn(21, 0.2).await;
    let (headers, _) = app
        .post_version("plentum", "2024-01", "{ shop { name } }", json!({}))
        .await;
    assert_eq!(
        headers["x-shopify-api-version"], "2025-07",
        "an expired version falls forward"
    );
    let (headers, _) = app
        .post_version(
            "plentum",
            "2026-01",
            "{ currentBulkOperation { id } }",
            json!({}),
        )
        .await;
    assert!(headers.contains_key("x-shopify-api-deprecated-reason"));

    let installation = app
        .gql(
            "plentum",
            "{ currentAppInstallation { accessScopes { handle } } }",
        )
        .await;
    let handles: Vec<&str> = installation["data"]["currentAppInstallation"]["accessScopes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["handle"].as_str().unwrap())
        .collect();
    assert_eq!(handles, opsdeck_simulator::ALL_SCOPES);

    // Without read_returns: the orders come, their returns are refused.
    let everything = app
        .gql(
            "plentum",
            "{ orders(first: 250) { nodes { id createdAt } } }",
        )
        .await;
    let all = everything["data"]["orders"]["nodes"]
        .as_array()
        .unwrap()
        .len();
    let scopes: Vec<&str> = opsdeck_simulator::ALL_SCOPES
        .into_iter()
        .filter(|s| *s != "read_returns" && *s != "read_all_orders")
        .collect();
    app.sim.set_access_scopes("plentum", Some(&scopes), &[]);
    let answer = app
        .gql(
            "plentum",
            "{ orders(first: 240) { nodes { id createdAt returns(first: 1) { nodes { id } } } } }",
        )
        .await;
    assert_eq!(answer["errors"][0]["extensions"]["code"], "ACCESS_DENIED");
    let visible = answer["data"]["orders"]["nodes"].as_array().unwrap();
    assert!(visible.iter().all(|o| o["returns"].is_null()));
    // Without read_all_orders only the last 60 days, silently.
    let cutoff = app.sim.now().as_second() - opsdeck_simulator::RECENT_ORDERS_SECONDS;
    assert!(
        !visible.is_empty() && visible.len() < all,
        "{} of {all}",
        visible.len()
    );
    assert!(visible.iter().all(|o| {
        o["createdAt"]
            .as_str()
            .unwrap()
            .parse::<jiff::Timestamp>()
            .unwrap()
            .as_second()
            >= cutoff
    }));
    // A bulk query over a resource the token may not read fails ACCESS_DENIED.
    app.sim.use_manual_api_clock();
    let run = app
        .gql("plentum", r#"mutation { bulkOperationRunQuery(query: """{ orders { edges { node { id returns { edges { node { id } } } } } } }""") { bulkOperation { id } userErrors { message } } }"#)
        .await;
    let id = run["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sim.advance_api_clock(Duration::from_secs(1));
    let failed = poll(&app, "plentum", &id).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["errorCode"], "ACCESS_DENIED");
}

/// The listings opsdeck's GraphQL client sends (`opsdeck-sources`,
/// `shopify::graphql::documents`), copied with the page sizes it computes.
const CLIENT_DOCUMENTS: [(&str, &str); 7] = [
    (
        "orders",
        r#"query OrdersPage($first: Int!, $after: String, $query: String) { orders(first: $first, after: $after, query: $query) { nodes { id name createdAt updatedAt processedAt cancelledAt cancelReason closedAt currencyCode displayFinancialStatus displayFulfillmentStatus tags sourceName test email totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } subtotalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } totalDiscountsSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } totalTaxSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } customer { id email firstName lastName } lineItems(first: 10) { nodes { id title name variantTitle sku quantity product { id } variant { id } originalUnitPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } fulfillments(first: 2) { id status displayStatus createdAt updatedAt deliveredAt estimatedDeliveryAt trackingInfo(first: 3) { company number url } fulfillmentLineItems(first: 5) { nodes { quantity lineItem { id } } } } refunds(first: 2) { id createdAt note refundLineItems(first: 5) { nodes { quantity lineItem { id } subtotalSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } totalTaxSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } transactions(first: 2) { nodes { kind status amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } orderAdjustments(first: 2) { nodes { amountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } taxAmountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } } } pageInfo { hasNextPage endCursor } } }"#,
    ),
    (
        "products",
        r#"query ProductsPage($first: Int!, $after: String, $query: String) { products(first: $first, after: $after, query: $query) { nodes { id title handle status descriptionHtml vendor productType tags createdAt updatedAt publishedAt featuredImage { id } variants(first: 100) { nodes { id title sku price inventoryQuantity inventoryItem { id tracked } } } } pageInfo { hasNextPage endCursor } } }"#,
    ),
    (
        "inventoryItems",
        r#"query InventoryPage($first: Int!, $after: String, $query: String) { inventoryItems(first: $first, after: $after, query: $query) { nodes { id inventoryLevels(first: 20) { nodes { id updatedAt quantities(names: ["available"]) { name quantity } item { id } location { id } } } } pageInfo { hasNextPage endCursor } } }"#,
    ),
    (
        "customers",
        r#"query CustomersPage($first: Int!, $after: String, $query: String) { customers(first: $first, after: $after, query: $query) { nodes { id email firstName lastName numberOfOrders amountSpent { amount currencyCode } tags createdAt updatedAt } pageInfo { hasNextPage endCursor } } }"#,
    ),
    (
        "abandonedCheckouts",
        r#"query AbandonedCheckoutsPage($first: Int!, $after: String, $query: String) { abandonedCheckouts(first: $first, after: $after, query: $query) { nodes { id name createdAt updatedAt completedAt customer { id email } totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } lineItems(first: 50) { nodes { quantity } } } pageInfo { hasNextPage endCursor } } }"#,
    ),
    (
        "orders",
        r#"query OrderReturnsPage($first: Int!, $after: String, $query: String) { orders(first: $first, after: $after, query: $query) { nodes { id returns(first: 10) { nodes { id name status createdAt closedAt order { id } decline { reason note } returnLineItems(first: 20) { nodes { ... on ReturnLineItem { id quantity returnReasonNote customerNote returnReasonDefinition { handle name } fulfillmentLineItem { lineItem { id } } } } } } } } pageInfo { hasNextPage endCursor } } }"#,
    ),
    (
        "disputes",
        r#"query DisputesPage($first: Int!, $after: String) { shopifyPaymentsAccount { disputes(first: $first, after: $after) { nodes { id amount { amount currencyCode } status type evidenceDueBy evidenceSentOn finalizedOn initiatedAt reasonDetails { reason networkReasonCode } order { id } } pageInfo { hasNextPage endCursor } } } }"#,
    ),
];

#[tokio::test]
async fn the_listings_opsdeck_sends_are_answered_to_the_end_without_errors() {
    let app = spawn(21, 0.1).await;
    app.sim.set_rate_limit(false);
    for (root, document) in CLIENT_DOCUMENTS {
        // The largest page under the 1,000-point cap, as the client sizes it.
        let probe = app
            .post_version("mavena", "2026-01", document, json!({ "first": 1 }))
            .await
            .1;
        let one = probe["extensions"]["cost"]["requestedQueryCost"]
            .as_u64()
            .unwrap();
        let first = ((1000 - 2) / (one - 2)).clamp(1, 250);
        let mut after = Value::Null;
        let mut records = 0;
        loop {
            let (_, page) = app
                .post_version("mavena", "2026-01", document, json!({ "first": first, "after": after, "query": "updated_at:>'2020-01-01T00:00:00Z'" }))
                .await;
            assert!(page.get("errors").is_none(), "{root}: {}", page["errors"]);
            assert!(
                page["extensions"]["cost"]["requestedQueryCost"]
                    .as_u64()
                    .unwrap()
                    <= 1000
            );
            let connection = if root == "disputes" {
                &page["data"]["shopifyPaymentsAccount"]["disputes"]
            } else {
                &page["data"][root]
            };
            records += connection["nodes"].as_array().unwrap().len();
            if connection["pageInfo"]["hasNextPage"] != true {
                break;
            }
            after = connection["pageInfo"]["endCursor"].clone();
        }
        assert!(records > 0, "{root}");
    }
}

#[tokio::test]
async fn injected_faults_reach_graphql_too() {
    let app = spawn(21, 0.1).await;
    let query = "{ shop { name } }";
    app.sim.set_faults(opsdeck_simulator::Faults {
        http_429_rate: 1.0,
        ..Default::default()
    });
    let throttled = app.gql("plentum", query).await;
    assert_eq!(throttled["errors"][0]["extensions"]["code"], "THROTTLED");
    assert_eq!(
        throttled["extensions"]["cost"]["throttleStatus"]["currentlyAvailable"], 2000.0,
        "the bucket had room: the fault, not the bucket, throttled"
    );
    app.sim.set_faults(opsdeck_simulator::Faults {
        http_5xx_rate: 1.0,
        ..Default::default()
    });
    let token = app.sim.shops()[0].access_token.clone();
    let url = format!(
        "{}/admin/api/2026-01/graphql.json",
        opsdeck_simulator::Simulator::shop_base_url(app.addr, "plentum")
    );
    let post = |url: String, token: String| {
        let http = app.http.clone();
        async move {
            http.post(url)
                .header("X-Shopify-Access-Token", token)
                .json(&json!({ "query": "{ shop { name } }" }))
                .send()
                .await
        }
    };
    let failed = post(url.clone(), token.clone()).await.unwrap();
    assert!(failed.status().is_server_error());
    app.sim.set_faults(opsdeck_simulator::Faults {
        truncated_rate: 1.0,
        ..Default::default()
    });
    let cut = post(url.clone(), token.clone())
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&cut).is_err(), "{cut}");
    app.sim.set_faults(opsdeck_simulator::Faults {
        reset_rate: 1.0,
        ..Default::default()
    });
    let reset = match post(url.clone(), token.clone()).await {
        Ok(response) => response.bytes().await.is_err(),
        Err(_) => true,
    };
    assert!(reset, "the connection was dropped");
    app.sim.set_faults(opsdeck_simulator::Faults::default());
    assert!(app.gql("plentum", query).await.get("errors").is_none());
}
