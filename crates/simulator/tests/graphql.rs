//! The GraphQL Admin API over real HTTP: selections, cursors and the
//! `updated_at` search, the documented query costs, throttling on a clock
//! the test moves, bulk operations from CREATED to a JSONL file (and to
//! FAILED with partial data), and determinism of the new resources.

use std::net::SocketAddr;
use std::time::Duration;

use opsdeck_simulator::{Faults, SimConfig, Simulator};
use serde_json::{json, Value};

struct Running {
    sim: Simulator,
    addr: SocketAddr,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

const NOW: &str = "2026-05-03T18:05:09Z";

async fn spawn(seed: u64, scale: f64) -> Running {
    let sim = Simulator::new(SimConfig {
        seed,
        now: NOW.parse().unwrap(),
        scale,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = sim.clone();
    tokio::spawn(async move {
        server
            .serve(listener, async move {
                let _ = stopped.await;
            })
            .await
            .unwrap();
    });
    Running {
        sim,
        addr,
        http: reqwest::Client::new(),
        _stop: stop,
    }
}

impl Running {
    async fn post_version(
        &self,
        slug: &str,
        version: &str,
        query: &str,
        variables: Value,
    ) -> (reqwest::header::HeaderMap, Value) {
        let token = self
            .sim
            .shops()
            .into_iter()
            .find(|s| s.slug == slug)
            .unwrap()
            .access_token;
        let url = format!(
            "{}/admin/api/{version}/graphql.json",
            Simulator::shop_base_url(self.addr, slug)
        );
        let response = self
            .http
            .post(url)
            .header("X-Shopify-Access-Token", token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        (headers, response.json().await.unwrap())
    }

    async fn gql(&self, slug: &str, query: &str) -> Value {
        self.post_version(slug, "2026-01", query, json!({})).await.1
    }
}

fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}

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

const BULK_ORDERS: &str = r#"mutation { bulkOperationRunQuery(query: """{ orders { edges { node { id name lineItems { edges { node { id sku quantity } } } } } } }""") { bulkOperation { id status } userErrors { field message code } } }"#;

async fn poll(app: &Running, slug: &str, id: &str) -> Value {
    let query = format!(
        r#"{{ node(id: "{id}") {{ ... on BulkOperation {{ id status errorCode objectCount rootObjectCount url partialDataUrl }} }} }}"#
    );
    app.gql(slug, &query).await["data"]["node"].clone()
}

async fn lines(app: &Running, url: &str) -> Vec<Value> {
    let text = app
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[tokio::test]
async fn bulk_operation_runs_to_a_jsonl_file_whose_lines_match_object_count() {
    let app = spawn(21, 0.2).await;
    app.sim.use_manual_api_clock();
    let run = app.gql("plentum", BULK_ORDERS).await;
    let created = &run["data"]["bulkOperationRunQuery"];
    assert_eq!(created["userErrors"], json!([]));
    assert_eq!(created["bulkOperation"]["status"], "CREATED");
    let id = created["bulkOperation"]["id"].as_str().unwrap().to_string();
    assert_eq!(run["extensions"]["cost"]["requestedQueryCost"], 10);

    // It starts 50 ms after creation and produces 50,000 objects a second.
    app.sim.advance_api_clock(Duration::from_millis(52));
    assert_eq!(poll(&app, "plentum", &id).await["status"], "RUNNING");
    app.sim.advance_api_clock(Duration::from_secs(5));
    let done = poll(&app, "plentum", &id).await;
    assert_eq!(done["status"], "COMPLETED");
    let current = app
        .gql("plentum", "{ currentBulkOperation { id status } }")
        .await;
    assert_eq!(current["data"]["currentBulkOperation"]["id"], id.as_str());
    let by_id = app
        .gql(
            "plentum",
            &format!(r#"{{ bulkOperation(id: "{id}") {{ status }} }}"#),
        )
        .await;
    assert_eq!(by_id["data"]["bulkOperation"]["status"], "COMPLETED");

    let lines = lines(&app, done["url"].as_str().unwrap()).await;
    let count: usize = done["objectCount"].as_str().unwrap().parse().unwrap();
    assert_eq!(lines.len(), count);
    let roots: Vec<&Value> = lines
        .iter()
        .filter(|l| l.get("__parentId").is_none())
        .collect();
    assert_eq!(roots.len(), app.sim.order_count("plentum"));
    assert_eq!(
        done["rootObjectCount"]
            .as_str()
            .unwrap()
            .parse::<usize>()
            .unwrap(),
        roots.len()
    );
    let items: usize = app
        .sim
        .orders_json("plentum")
        .iter()
        .map(|o| o["line_items"].as_array().unwrap().len())
        .sum();
    assert_eq!(lines.len(), roots.len() + items);
    // Each child follows its parent and names it.
    let mut parent = None;
    for line in &lines {
        match line.get("__parentId") {
            None => parent = line["id"].as_str(),
            Some(p) => {
                assert_eq!(p.as_str(), parent);
                assert!(line["id"]
                    .as_str()
                    .unwrap()
                    .starts_with("gid://shopify/LineItem/"));
                assert_eq!(keys(line), ["__parentId", "id", "quantity", "sku"]);
            }
        }
    }
    assert_eq!(keys(roots[0]), ["id", "name"]);

    // Links expire after 7 days.
    app.sim.advance_api_clock(Duration::from_secs(7 * 86_400));
    assert_eq!(poll(&app, "plentum", &id).await["status"], "EXPIRED");
    let gone = app
        .http
        .get(done["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 403);
}

#[tokio::test]
async fn an_injected_failure_leaves_partial_data_and_the_concurrency_limit_holds() {
    let app = spawn(21, 0.2).await;
    app.sim.use_manual_api_clock();
    app.sim.set_faults(Faults {
        bulk_fail_after_objects: Some(25),
        ..Faults::default()
    });
    let run = app.gql("plentum", BULK_ORDERS).await;
    let id = run["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sim.set_faults(Faults::default());
    app.sim.advance_api_clock(Duration::from_secs(5));
    let failed = poll(&app, "plentum", &id).await;
    assert_eq!(failed["status"], "FAILED");
    assert_eq!(failed["errorCode"], "INTERNAL_SERVER_ERROR");
    assert!(failed["url"].is_null());
    assert_eq!(failed["objectCount"], "25");
    let partial = lines(&app, failed["partialDataUrl"].as_str().unwrap()).await;
    assert_eq!(partial.len(), 25);
    assert!(partial[0].get("__parentId").is_none());

    // Five at once from 2026-01; the sixth is refused.
    for _ in 0..5 {
        let ok = app.gql("plentum", BULK_ORDERS).await;
        assert_eq!(ok["data"]["bulkOperationRunQuery"]["userErrors"], json!([]));
    }
    let refused = app.gql("plentum", BULK_ORDERS).await;
    let errors = &refused["data"]["bulkOperationRunQuery"]["userErrors"];
    assert_eq!(errors[0]["code"], "LIMIT_REACHED");
    assert!(refused["data"]["bulkOperationRunQuery"]["bulkOperation"].is_null());
    // Before 2026-01 one at a time.
    let (_, old) = app
        .post_version("plentum", "2025-10", BULK_ORDERS, json!({}))
        .await;
    assert_eq!(
        old["data"]["bulkOperationRunQuery"]["userErrors"][0]["code"],
        "OPERATION_IN_PROGRESS"
    );

    // Cancel one: it stops, and a slot frees.
    let current = app.gql("plentum", "{ currentBulkOperation { id } }").await;
    let last = current["data"]["currentBulkOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let cancel = app
        .gql("plentum", &format!(r#"mutation {{ bulkOperationCancel(id: "{last}") {{ bulkOperation {{ status }} userErrors {{ message }} }} }}"#))
        .await;
    assert_eq!(
        cancel["data"]["bulkOperationCancel"]["bulkOperation"]["status"],
        "CANCELED"
    );
    let again = app.gql("plentum", BULK_ORDERS).await;
    assert_eq!(
        again["data"]["bulkOperationRunQuery"]["userErrors"],
        json!([])
    );

    // Shape checks: too many connections, too deep.
    let deep = r#"mutation { bulkOperationRunQuery(query: """{ orders { edges { node { id fulfillments { id } lineItems { edges { node { id } } } returns { edges { node { id returnLineItems { edges { node { id } } } } } } } } } }""") { userErrors { message code } } }"#;
    let refused = app.gql("mavena", deep).await;
    assert_eq!(
        refused["data"]["bulkOperationRunQuery"]["userErrors"][0]["code"],
        "INVALID"
    );
}

const NEW_RESOURCES: [&str; 4] = [
    "query($after: String) { orders(first: 100, after: $after) { nodes { id returns(first: 1) { nodes { id name status createdAt closedAt returnLineItems(first: 1) { nodes { quantity returnReason } } } } } pageInfo { hasNextPage endCursor } } }",
    "{ shopifyPaymentsAccount { disputes(first: 50) { nodes { id status type amount { amount } evidenceDueBy initiatedAt order { id } } } } }",
    "{ customers(first: 100) { nodes { id amountSpent { amount } numberOfOrders } } }",
    "{ abandonedCheckouts(first: 20) { nodes { id createdAt completedAt lineItems(first: 5) { nodes { title quantity } } } } }",
];

/// Every answer to `NEW_RESOURCES` (every page of orders).
async fn new_resources(app: &Running) -> Vec<Value> {
    app.sim.set_rate_limit(false);
    let mut answers = Vec::new();
    let mut after = Value::Null;
    loop {
        let (_, page) = app
            .post_version(
                "mavena",
                "2026-01",
                NEW_RESOURCES[0],
                json!({ "after": after }),
            )
            .await;
        assert!(page.get("errors").is_none(), "{}", page["errors"]);
        let info = page["data"]["orders"]["pageInfo"].clone();
        answers.push(page["data"].clone());
        if info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    for query in &NEW_RESOURCES[1..] {
        let answer = app.gql("mavena", query).await;
        assert!(answer.get("errors").is_none(), "{}", answer["errors"]);
        answers.push(answer["data"].clone());
    }
    answers
}

#[tokio::test]
async fn new_resources_exist_and_are_the_same_for_the_same_seed() {
    let one = spawn(5, 1.0).await;
    let two = spawn(5, 1.0).await;
    let other = spawn(6, 1.0).await;
    let a = new_resources(&one).await;
    assert_eq!(a, new_resources(&two).await);
    assert_ne!(a, new_resources(&other).await);
    let (pages, rest_of) = a.split_at(a.len() - 3);

    let orders: Vec<&Value> = pages
        .iter()
        .flat_map(|p| p["orders"]["nodes"].as_array().unwrap())
        .collect();
    let returns: Vec<&Value> = orders
        .iter()
        .flat_map(|o| o["returns"]["nodes"].as_array().unwrap())
        .collect();
    // About 4 % of the orders that shipped.
    let share = returns.len() as f64 / orders.len() as f64;
    assert!(
        (0.015..0.06).contains(&share),
        "{} returns on {} orders",
        returns.len(),
        orders.len()
    );
    for r in &returns {
        let status = r["status"].as_str().unwrap();
        assert!(["REQUESTED", "OPEN", "CLOSED", "DECLINED", "CANCELED"].contains(&status));
        assert_eq!(
            r["closedAt"].is_null(),
            matches!(status, "REQUESTED" | "OPEN")
        );
    }
    let statuses: std::collections::BTreeSet<&str> = returns
        .iter()
        .map(|r| r["status"].as_str().unwrap())
        .collect();
    assert!(statuses.len() >= 3, "{statuses:?}");
    let a = rest_of;
    let disputes = a[0]["shopifyPaymentsAccount"]["disputes"]["nodes"]
        .as_array()
        .unwrap();
    assert!((1..=40).contains(&disputes.len()), "{}", disputes.len());
    assert!(disputes
        .iter()
        .all(|d| ["CHARGEBACK", "INQUIRY"].contains(&d["type"].as_str().unwrap())));
    let checkouts = a[2]["abandonedCheckouts"]["nodes"].as_array().unwrap();
    assert_eq!(checkouts.len(), 20);

    // Lifetime spend and order count agree with the customer's orders.
    let rest = one.sim.customers_json("mavena");
    for c in a[1]["customers"]["nodes"].as_array().unwrap() {
        let id = c["id"].as_str().unwrap();
        let r = rest
            .iter()
            .find(|r| r["admin_graphql_api_id"] == id)
            .unwrap();
        assert_eq!(c["numberOfOrders"], r["orders_count"].to_string());
        assert_eq!(c["amountSpent"]["amount"], r["total_spent"]);
    }
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

#[tokio::test]
async fn every_bulk_file_has_object_count_lines_and_the_same_bytes_per_seed() {
    let queries = [
        "{ orders { edges { node { id lineItems { edges { node { id } } } returns { edges { node { id status } } } } } } }",
        "{ products { edges { node { id variants { edges { node { id sku } } } } } } }",
        "{ inventoryItems { edges { node { id inventoryLevels { edges { node { id quantities(names: [\"available\"]) { name quantity } } } } } } } }",
        "{ abandonedCheckouts { edges { node { id lineItems { edges { node { id quantity } } } } } } }",
        "{ customers(query: \"updated_at:>'2026-03-01T00:00:00Z'\") { edges { node { id numberOfOrders amountSpent { amount } } } } }",
    ];
    let mut files = Vec::new();
    for _ in 0..2 {
        let app = spawn(8, 0.2).await;
        app.sim.use_manual_api_clock();
        let mut texts = Vec::new();
        for query in queries {
            let mutation = format!(
                r#"mutation {{ bulkOperationRunQuery(query: """{query}""") {{ bulkOperation {{ id }} userErrors {{ message }} }} }}"#
            );
            let run = app.gql("mavena", &mutation).await;
            let id = run["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{run}"))
                .to_string();
            app.sim.advance_api_clock(Duration::from_secs(2));
            let done = poll(&app, "mavena", &id).await;
            assert_eq!(done["status"], "COMPLETED", "{query}");
            let text = app
                .http
                .get(done["url"].as_str().unwrap())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let count: usize = done["objectCount"].as_str().unwrap().parse().unwrap();
            assert_eq!(text.lines().count(), count, "{query}");
            assert!(count > 0, "{query}");
            texts.push(text);
        }
        files.push(texts);
    }
    assert_eq!(files[0], files[1]);
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
async fn a_return_that_moves_is_seen_by_an_incremental_sync_of_orders() {
    let app = spawn(21, 0.3).await;
    app.sim.set_rate_limit(false);
    let query = "query($after: String, $q: String) { orders(first: 100, after: $after, query: $q) { nodes { id updatedAt returns(first: 1) { nodes { status } } } pageInfo { hasNextPage endCursor } } }";
    let statuses = |pages: &[Value]| {
        pages
            .iter()
            .flat_map(|p| p["data"]["orders"]["nodes"].as_array().unwrap().clone())
            .filter_map(|o| {
                let status = o["returns"]["nodes"][0]["status"].as_str()?.to_string();
                Some((o["id"].as_str().unwrap().to_string(), status))
            })
            .collect::<std::collections::BTreeMap<String, String>>()
    };
    let walk = |q: Option<String>| {
        let app = &app;
        async move {
            let mut pages = Vec::new();
            let mut after = Value::Null;
            loop {
                let (_, page) = app
                    .post_version(
                        "mavena",
                        "2026-01",
                        query,
                        json!({ "after": after, "q": q }),
                    )
                    .await;
                assert!(page.get("errors").is_none(), "{}", page["errors"]);
                let next = page["data"]["orders"]["pageInfo"].clone();
                pages.push(page);
                if next["hasNextPage"] != true {
                    break;
                }
                after = next["endCursor"].clone();
            }
            pages
        }
    };
    let before = statuses(&walk(None).await);
    let open: Vec<&String> = before
        .iter()
        .filter(|(_, s)| *s == "REQUESTED" || *s == "OPEN")
        .map(|(id, _)| id)
        .collect();
    assert!(!open.is_empty(), "no return in flight: {before:?}");
    let watermark = app.sim.now();
    app.sim
        .advance_to(watermark + jiff::SignedDuration::from_hours(24 * 20));
    let since = format!("updated_at:>'{}'", watermark.strftime("%Y-%m-%dT%H:%M:%SZ"));
    let changed = statuses(&walk(Some(since)).await);
    let after_all = statuses(&walk(None).await);
    for id in open {
        if after_all[id] != before[id] {
            assert_eq!(
                changed.get(id),
                Some(&after_all[id]),
                "{id} moved but the incremental sync missed it"
            );
        }
    }
    assert!(
        after_all.iter().any(|(id, s)| before.get(id) != Some(s)),
        "no return moved in 20 days"
    );
}
