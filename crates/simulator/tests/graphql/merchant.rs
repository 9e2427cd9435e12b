//! Returns, disputes, customers with histories and abandoned checkouts:
//! present, consistent, deterministic per seed, and seen by an
//! incremental sync when they move.

use serde_json::{json, Value};

use crate::{spawn, Running};

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
