//! Bulk operations: run, poll, cancel, the concurrency limit, failure
//! with partial data, expiry, and the JSONL files.

use std::time::Duration;

use opsdeck_simulator::Faults;
use serde_json::{json, Value};

use crate::{keys, spawn, Running};

const BULK_ORDERS: &str = r#"mutation { bulkOperationRunQuery(query: """{ orders { edges { node { id name lineItems { edges { node { id sku quantity } } } } } } }""") { bulkOperation { id status } userErrors { field message code } } }"#;

pub async fn poll(app: &Running, slug: &str, id: &str) -> Value {
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
        "CANCELING"
    );
    // It holds its slot until it has stopped.
    let refused = app.gql("plentum", BULK_ORDERS).await;
    assert_eq!(
        refused["data"]["bulkOperationRunQuery"]["userErrors"][0]["code"],
        "LIMIT_REACHED"
    );
    app.sim.advance_api_clock(Duration::from_millis(50));
    assert_eq!(poll(&app, "plentum", &last).await["status"], "CANCELED");
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

/// Figures, not a timed test: run with `--ignored --nocapture`. A bulk
/// export of 100,000 orders with their line items (Mavena at scale 22.46):
/// time to create the operation, time to stream the file, lines per second.
#[tokio::test]
#[ignore]
async fn bulk_export_of_a_hundred_thousand_orders() {
    let app = spawn(42, 22.46).await;
    app.sim.use_manual_api_clock();
    let started = std::time::Instant::now();
    let run = app.gql("mavena", BULK_ORDERS).await;
    let created = started.elapsed();
    let id = run["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.sim.advance_api_clock(Duration::from_secs(3600));
    let done = poll(&app, "mavena", &id).await;
    let started = std::time::Instant::now();
    let mut response = app
        .http
        .get(done["url"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    let (mut bytes, mut lines) = (0usize, 0usize);
    while let Some(chunk) = response.chunk().await.unwrap() {
        bytes += chunk.len();
        lines += chunk.iter().filter(|b| **b == b'\n').count();
    }
    let streamed = started.elapsed();
    assert_eq!(lines.to_string(), done["objectCount"].as_str().unwrap());
    eprintln!(
        "{} orders: created in {created:?}; {lines} lines, {} MB streamed in {streamed:?} ({:.0} lines/s)",
        app.sim.order_count("mavena"),
        bytes / 1_000_000,
        lines as f64 / streamed.as_secs_f64()
    );
}
