//! The simulator's GraphQL answers have the shape of Shopify's real ones:
//! for each public sample in `fixtures/shopify/graphql/`, the simulator is
//! asked for exactly the fields the sample holds (the selection is derived
//! from the sample), and every field path of the sample must come back with
//! the same JSON type, nesting and string form (global id, date-time,
//! decimal amount, `SCREAMING_CASE` enum) in at least one of the simulator's
//! records. A field the simulator does not serve is named per case with
//! the reason; everything else must match.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use opsdeck_simulator::{SimConfig, Simulator};
use serde_json::{json, Value};

fn fixture_text(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/shopify/graphql")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn fixture(name: &str) -> Value {
    serde_json::from_str(&fixture_text(name)).unwrap()
}

/// What a value looks like, as far as a parser cares.
fn class(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(_) => "number".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
        Value::String(s) => {
            let enum_like = s.len() >= 2
                && s.chars().next().is_some_and(|c| c.is_ascii_uppercase())
                && s.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
            let decimal = s.split_once('.').is_some_and(|(a, b)| {
                !a.is_empty()
                    && a.trim_start_matches('-')
                        .chars()
                        .all(|c| c.is_ascii_digit())
                    && !b.is_empty()
                    && b.chars().all(|c| c.is_ascii_digit())
            });
            let datetime = s.len() >= 20 && s.as_bytes()[4] == b'-' && s.as_bytes()[10] == b'T';
            if s.starts_with("gid://shopify/") {
                "gid".into()
            } else if datetime {
                "datetime".into()
            } else if decimal {
                "decimal".into()
            } else if enum_like {
                "enum".into()
            } else {
                "string".into()
            }
        }
    }
}

/// Every path of `value` with the classes seen there.
fn signature(value: &Value, path: &str, out: &mut BTreeMap<String, BTreeSet<String>>) {
    out.entry(path.to_string())
        .or_default()
        .insert(class(value));
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                signature(v, &format!("{path}.{k}"), out);
            }
        }
        Value::Array(items) => {
            for item in items {
                signature(item, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// The items at `value`: an array's elements or the value itself.
fn items(value: &Value) -> Vec<&Value> {
    match value {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    }
}

/// The GraphQL selection that asks for exactly the fields of `samples`;
/// nested connections get `first: n`. Fields only ever null are asked
/// for as scalars (an object field then answers `selectionMismatch`,
/// which proves it exists).
fn selection(samples: &[&Value], n: u32, skip: &[&str], path: &str) -> String {
    let mut keys: Vec<String> = Vec::new();
    for sample in samples {
        if let Value::Object(map) = sample {
            for k in map.keys() {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
    }
    let mut out = Vec::new();
    for key in keys {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        if skip.contains(&here.as_str()) {
            continue;
        }
        let values: Vec<&Value> = samples
            .iter()
            .filter_map(|s| s.get(&key))
            .filter(|v| !v.is_null())
            .collect();
        let inner: Vec<&Value> = values
            .iter()
            .flat_map(|v| items(v))
            .filter(|v| v.is_object())
            .collect();
        if inner.is_empty() {
            out.push(key);
            continue;
        }
        let connection = inner
            .iter()
            .any(|v| v.get("edges").is_some() || v.get("nodes").is_some());
        let args = if connection {
            format!("(first: {n})")
        } else {
            String::new()
        };
        let sub = selection(&inner, n, skip, &here);
        out.push(format!("{key}{args} {{ {sub} }}"));
    }
    out.join(" ")
}

fn remove(value: &mut Value, path: &[&str]) {
    let Some((first, rest)) = path.split_first() else {
        return;
    };
    match value {
        Value::Array(items) => items.iter_mut().for_each(|i| remove(i, path)),
        Value::Object(map) if rest.is_empty() => {
            map.remove(*first);
        }
        Value::Object(map) => {
            if let Some(v) = map.get_mut(*first) {
                remove(v, rest);
            }
        }
        _ => {}
    }
}

/// Compares the sample's signature with the simulator's answers.
fn mismatches(case: &str, sample: &[&Value], answers: &[&Value]) -> Vec<String> {
    let mut real = BTreeMap::new();
    for s in sample {
        signature(s, "", &mut real);
    }
    let mut simulated = BTreeMap::new();
    for a in answers {
        signature(a, "", &mut simulated);
    }
    let mut problems = Vec::new();
    for (path, classes) in &real {
        let Some(seen) = simulated.get(path) else {
            // An empty list in every sample has no element paths to match.
            problems.push(format!(
                "{case}: {path} missing from the simulator's answers"
            ));
            continue;
        };
        for class in classes.iter().filter(|c| *c != "null") {
            if !seen.contains(class) {
                problems.push(format!(
                    "{case}: {path} is {class} in the sample, {seen:?} in the simulator"
                ));
            }
        }
    }
    problems
}

struct Running {
    sim: Simulator,
    addr: SocketAddr,
    http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

async fn spawn(scale: f64) -> Running {
    let sim = Simulator::new(SimConfig {
        seed: 3,
        now: "2026-05-03T18:05:09Z".parse().unwrap(),
        scale,
    });
    sim.set_rate_limit(false);
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
    async fn gql(&self, slug: &str, query: &str, variables: Value) -> Value {
        let token = self
            .sim
            .shops()
            .into_iter()
            .find(|s| s.slug == slug)
            .unwrap()
            .access_token;
        let url = format!(
            "{}/admin/api/2026-01/graphql.json",
            Simulator::shop_base_url(self.addr, slug)
        );
        self.http
            .post(url)
            .header("X-Shopify-Access-Token", token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

/// One sample and how the simulator is asked for the same thing.
struct Case {
    file: &'static str,
    /// JSON pointer to the sample object(s) in the file.
    sample: &'static str,
    /// The query, `{sel}` standing for the derived selection; a query with
    /// `$after` is paged through `orders` to the end.
    query: &'static str,
    /// Where the answers are (a pointer), then keys to flatten through.
    answer: &'static str,
    within: &'static [&'static str],
    /// `first:` for nested connections.
    n: u32,
    /// Sample fields the simulator does not serve (dotted), and why.
    not_served: &'static [&'static str],
}

const REFUNDS_PAGED: &str = "query($after: String) { orders(first: 100, after: $after) { pageInfo { hasNextPage endCursor } nodes { refunds { {sel} } } } }";

const CASES: &[Case] = &[
    Case { file: "orders_details.json", sample: "/orders", query: "{ orders(first: 20) { {sel} } }", answer: "/data/orders", within: &[], n: 5, not_served: &[] },
    Case { file: "orders_page_cursors.json", sample: "/orders", query: "{ orders(first: 10) { {sel} } }", answer: "/data/orders", within: &[], n: 5, not_served: &[] },
    Case { file: "order_single_presentment.json", sample: "/order", query: "{ orders(first: 20) { nodes { {sel} } } }", answer: "/data/orders/nodes", within: &[], n: 5, not_served: &[] },
    Case { file: "order_fulfillments_empty.json", sample: "/order", query: "{ orders(first: 20) { nodes { {sel} } } }", answer: "/data/orders/nodes", within: &[], n: 5, not_served: &[] },
    Case {
        file: "order_transactions.json",
        sample: "/order",
        query: "{ orders(first: 20) { nodes { {sel} } } }",
        answer: "/data/orders/nodes",
        within: &[],
        n: 5,
        // Payment-processing detail opsdeck does not read.
        not_served: &[
            "transactions.accountNumber", "transactions.authorizationCode", "transactions.authorizationExpiresAt",
            "transactions.manuallyCapturable", "transactions.maximumRefundableV2", "transactions.multiCapturable",
            "transactions.paymentDetails", "transactions.paymentIcon", "transactions.paymentId", "transactions.receiptJson",
            "transactions.settlementCurrency", "transactions.shopifyPaymentsSet", "transactions.totalUnsettledSet",
            "transactions.user", "transactions.fees",
        ],
    },
    Case { file: "refund_show_presentment.json", sample: "/refund", query: REFUNDS_PAGED, answer: "/data/orders/nodes", within: &["refunds"], n: 5, not_served: &[] },
    Case { file: "refund_total_shop_money.json", sample: "/refund", query: REFUNDS_PAGED, answer: "/data/orders/nodes", within: &["refunds"], n: 5, not_served: &[] },
    Case { file: "customer_by_id.json", sample: "/customer", query: "{ customers(first: 50) { nodes { {sel} } } }", answer: "/data/customers/nodes", within: &[], n: 5, not_served: &[] },
    Case { file: "disputes_list.json", sample: "/shopifyPaymentsAccount/disputes", query: "{ shopifyPaymentsAccount { disputes(first: 50) { {sel} } } }", answer: "/data/shopifyPaymentsAccount/disputes", within: &[], n: 5, not_served: &[] },
    Case { file: "return_approve_request.json", sample: "/returnApproveRequest/return", query: "query($after: String) { orders(first: 50, after: $after) { pageInfo { hasNextPage endCursor } nodes { returns(first: 1) { nodes { {sel} } } } } }", answer: "/data/orders/nodes", within: &["returns", "nodes"], n: 2, not_served: &[] },
    Case { file: "return_decline_request.json", sample: "/returnDeclineRequest/return", query: "query($after: String) { orders(first: 50, after: $after) { pageInfo { hasNextPage endCursor } nodes { returns(first: 1) { nodes { {sel} } } } } }", answer: "/data/orders/nodes", within: &["returns", "nodes"], n: 2, not_served: &[] },
    Case { file: "return_create.json", sample: "/returnCreate/return", query: "query($after: String) { orders(first: 50, after: $after) { pageInfo { hasNextPage endCursor } nodes { returns(first: 1) { nodes { {sel} } } } } }", answer: "/data/orders/nodes", within: &["returns", "nodes"], n: 2, not_served: &[] },
    Case { file: "abandoned_checkouts.json", sample: "/abandonedCheckouts", query: "{ abandonedCheckouts(first: 20) { {sel} } }", answer: "/data/abandonedCheckouts", within: &[], n: 5, not_served: &[] },
    Case { file: "inventory_level.json", sample: "/inventoryLevel", query: "{ inventoryItems(first: 20) { nodes { inventoryLevels(first: 5) { nodes { {sel} } } } } }", answer: "/data/inventoryItems/nodes", within: &["inventoryLevels", "nodes"], n: 5, not_served: &[] },
    Case { file: "products_variants_inventory_live.json", sample: "/data/publication/includedProducts", query: "{ products(first: 20) { {sel} } }", answer: "/data/products", within: &[], n: 3, not_served: &[] },
];

/// Asks the simulator for `case`'s fields; returns the compared objects.
async fn answers(app: &Running, case: &Case, selection: &str) -> Vec<Value> {
    let query = case.query.replace("{sel}", selection);
    let mut out = Vec::new();
    let mut after = Value::Null;
    loop {
        let answer = app.gql("mavena", &query, json!({ "after": after })).await;
        let errors: Vec<&Value> = answer["errors"]
            .as_array()
            .map(|e| {
                e.iter()
                    .filter(|e| e["extensions"]["code"] != "selectionMismatch")
                    .collect()
            })
            .unwrap_or_default();
        assert!(errors.is_empty(), "{}: {errors:?}\n{query}", case.file);
        let mut found: Vec<Value> = items(answer.pointer(case.answer).unwrap_or(&Value::Null))
            .into_iter()
            .cloned()
            .collect();
        for key in case.within {
            found = found
                .iter()
                .flat_map(|v| {
                    items(v.get(*key).unwrap_or(&Value::Null))
                        .into_iter()
                        .cloned()
                        .collect::<Vec<_>>()
                })
                .filter(|v| !v.is_null())
                .collect();
        }
        out.extend(found);
        let info = &answer["data"]["orders"]["pageInfo"];
        if !case.query.contains("$after") || info["hasNextPage"] != true {
            break;
        }
        after = info["endCursor"].clone();
    }
    out
}

#[tokio::test]
async fn records_have_the_shape_of_real_samples() {
    let app = spawn(0.3).await;
    let mut problems = Vec::new();
    for case in CASES {
        let mut sample = fixture(case.file).pointer(case.sample).cloned().unwrap();
        for skip in case.not_served {
            remove(&mut sample, &skip.split('.').collect::<Vec<_>>());
        }
        let samples = items(&sample);
        let selection = selection(&samples, case.n, &[], "");
        let found = answers(&app, case, &selection).await;
        assert!(
            !found.is_empty(),
            "{}: the simulator returned nothing to compare",
            case.file
        );
        let found: Vec<&Value> = found.iter().collect();
        problems.extend(mismatches(case.file, &samples, &found));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn throttled_and_cost_answers_have_the_shape_of_real_ones() {
    let app = spawn(0.2).await;
    app.sim.set_rate_limit(true);
    app.sim.use_manual_api_clock();
    let query = "{ orders(first: 250) { nodes { id } } }";
    let mut throttled = None;
    for _ in 0..20 {
        let answer = app.gql("mavena", query, json!({})).await;
        if answer.get("errors").is_some() {
            throttled = Some(answer);
            break;
        }
        let real = fixture("cost_extensions_limits_doc.json");
        let problems = mismatches("cost", &[&real["extensions"]], &[&answer["extensions"]]);
        assert!(problems.is_empty(), "{problems:?}");
    }
    let throttled = throttled.expect("the bucket ran out");
    let real = fixture("throttled_recorded.json");
    let problems = mismatches("throttled_recorded.json", &[&real], &[&throttled]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(throttled["errors"][0], real["errors"][0]);
}

/// A receiver for webhook deliveries: the bodies it got.
async fn receiver() -> (String, tokio::sync::mpsc::UnboundedReceiver<Value>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hooks",
        axum::routing::post(move |body: axum::body::Bytes| {
            let tx = tx.clone();
            async move {
                let _ = tx.send(serde_json::from_slice::<Value>(&body).unwrap_or(Value::Null));
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hooks"), rx)
}

#[tokio::test]
async fn bulk_operations_and_their_files_have_the_shape_of_real_ones() {
    let app = spawn(0.2).await;
    app.sim.use_manual_api_clock();
    // Subscribe to the finish webhook through the REST endpoint, as an app does.
    let (address, mut deliveries) = receiver().await;
    let token = app
        .sim
        .shops()
        .into_iter()
        .find(|s| s.slug == "mavena")
        .unwrap()
        .access_token;
    let created = app
        .http
        .post(format!("{}/admin/api/2026-01/webhooks.json", Simulator::shop_base_url(app.addr, "mavena")))
        .header("X-Shopify-Access-Token", &token)
        .json(&json!({ "webhook": { "topic": "bulk_operations/finish", "address": address, "format": "json" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);

    let run = app
        .gql(
            "mavena",
            r#"mutation { bulkOperationRunQuery(query: """{ products { edges { node { id variants { edges { node { id title } } } } } } }""") { bulkOperation { id status } userErrors { field message } } }"#,
            json!({}),
        )
        .await;
    let real = fixture("bulk_run_query.json");
    let problems = mismatches("bulk_run_query.json", &[&real], &[&run]);
    assert!(problems.is_empty(), "{problems:?}");
    let id = run["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
        .as_str()
        .unwrap()
        .to_string();

    app.sim.advance_api_clock(Duration::from_secs(2));
    let completed = fixture("bulk_operation_completed.json");
    let sample = &completed["data"]["bulkOperation"];
    let poll = app
        .gql(
            "mavena",
            &format!(
                r#"{{ bulkOperation(id: "{id}") {{ {} }} }}"#,
                selection(&[sample], 5, &[], "")
            ),
            json!({}),
        )
        .await;
    let problems = mismatches(
        "bulk_operation_completed.json",
        &[sample],
        &[&poll["data"]["bulkOperation"]],
    );
    assert!(problems.is_empty(), "{problems:?}");
    let node = app
        .gql(
            "mavena",
            &format!(
                r#"{{ node(id: "{id}") {{ ... on BulkOperation {{ url partialDataUrl }} }} }}"#
            ),
            json!({}),
        )
        .await;
    let real = fixture("bulk_node_url.json");
    let problems = mismatches("bulk_node_url.json", &[&real], &[&node]);
    assert!(problems.is_empty(), "{problems:?}");

    // The file: parents, then children naming them with `__parentId`.
    let url = node["data"]["node"]["url"].as_str().unwrap();
    let text = app
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let real: Vec<Value> = fixture_text("bulk_products_variants.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let (real_parents, real_children): (Vec<&Value>, Vec<&Value>) =
        real.iter().partition(|l| l.get("__parentId").is_none());
    let (parents, children): (Vec<&Value>, Vec<&Value>) =
        lines.iter().partition(|l| l.get("__parentId").is_none());
    let mut problems = mismatches("jsonl parents", &real_parents, &parents);
    problems.extend(mismatches("jsonl children", &real_children, &children));
    assert!(problems.is_empty(), "{problems:?}");
    let keys = |v: &Value| {
        v.as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect::<BTreeSet<_>>()
    };
    assert_eq!(keys(children[0]), keys(real_children[0]));
    assert_eq!(keys(parents[0]), keys(real_parents[0]));

    // The finish webhook.
    let body = tokio::time::timeout(Duration::from_secs(10), deliveries.recv())
        .await
        .expect("the finish webhook arrived")
        .unwrap();
    let real = fixture("bulk_finish_webhook.json");
    let problems = mismatches("bulk_finish_webhook.json", &[&real], &[&body]);
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(keys(&body), keys(&real));
    assert_eq!(body["admin_graphql_api_id"], id.as_str());
    assert_eq!(body["status"], "completed");
}
