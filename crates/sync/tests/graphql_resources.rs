//! The resources only GraphQL has — returns, disputes, customers, abandoned
//! checkouts — synced from the simulator into SQLite and PostgreSQL: each
//! run stores exactly the simulator's set, an incremental run after the
//! world moved on picks up the changes, a missing scope is named while the
//! other resources keep syncing, and a shop without Shopify Payments is
//! "not applicable", not failing.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use common::fake::{self, answer};
use common::{start_time, Harness};
use jiff::ToSpan;
use opsdeck_domain::{AnyRecord, RecordKind};
use opsdeck_simulator::ALL_SCOPES;
use opsdeck_sources::shopify::graphql::wire::legacy_id;
use opsdeck_sources::shopify::graphql::{CostBucket, GraphqlClient, GRAPHQL_API_VERSION};
use opsdeck_store::testing::{each_backend, sqlite_temp};
use opsdeck_store::Store;
use opsdeck_sync::{sync_once, sync_once_graphql, ShopifyResource, SyncError, SyncRun};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

const SLUG: &str = "mavena";

/// The stored records of `kind` of `slug`'s source, by external id.
async fn stored(store: &dyn Store, kind: RecordKind) -> BTreeMap<String, AnyRecord> {
    let source = Harness::source(SLUG);
    let mut out = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = store.changes_since(after, 1_000).await.unwrap();
        let Some(last) = page.last() else {
            return out;
        };
        after = last.seq;
        for change in page {
            let r = change.record;
            if r.kind() == kind && r.source() == &source {
                out.insert(r.external_id().to_string(), r);
            }
        }
    }
}

/// The simulator's nodes of `resource`, by legacy id.
fn expected(h: &Harness, resource: ShopifyResource) -> BTreeMap<String, Value> {
    let nodes: Vec<Value> = match resource {
        ShopifyResource::Returns => h
            .sim
            .graphql_nodes(SLUG, "orders")
            .iter()
            .flat_map(|o| {
                // The simulator keeps a connection's nodes under `__nodes`.
                o.pointer("/returns/__nodes")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .collect(),
        ShopifyResource::Disputes => h.sim.graphql_nodes(SLUG, "disputes"),
        ShopifyResource::Customers => h.sim.graphql_nodes(SLUG, "customers"),
        ShopifyResource::AbandonedCheckouts => h.sim.graphql_nodes(SLUG, "abandonedCheckouts"),
        other => panic!("{} is not GraphQL-only", other.as_str()),
    };
    nodes
        .into_iter()
        .filter(|n| !n.is_null())
        .map(|n| (legacy_id(n["id"].as_str().unwrap()).to_string(), n))
        .collect()
}

fn kind_of(resource: ShopifyResource) -> RecordKind {
    match resource {
        ShopifyResource::Returns => RecordKind::ReturnRequest,
        ShopifyResource::Disputes => RecordKind::PaymentEvent,
        ShopifyResource::Customers => RecordKind::CustomerSummary,
        _ => RecordKind::AbandonedCheckout,
    }
}

/// Asserts `store` holds exactly the simulator's set of `resource`, with
/// the field each resource is about.
async fn assert_exact_set(h: &Harness, store: &dyn Store, resource: ShopifyResource, label: &str) {
    let want = expected(h, resource);
    let got = stored(store, kind_of(resource)).await;
    assert!(
        !want.is_empty(),
        "{label}: the simulator has {}",
        resource.as_str()
    );
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{label}: {} ids",
        resource.as_str()
    );
    for (id, node) in &want {
        match (&got[id], resource) {
            (AnyRecord::ReturnRequest(r), _) => {
                let status = match node["status"].as_str().unwrap() {
                    "REQUESTED" => "requested",
                    "OPEN" => "approved",
                    "CLOSED" => "received",
                    "DECLINED" => "rejected",
                    "CANCELED" => "cancelled",
                    other => panic!("status {other}"),
                };
                assert_eq!(r.status.as_str(), status, "{label}: return {id}");
                assert_eq!(
                    r.order_id.as_deref(),
                    node.pointer("/order/id")
                        .and_then(Value::as_str)
                        .map(legacy_id),
                    "{label}: return {id} order"
                );
            }
            (AnyRecord::PaymentEvent(e), _) => {
                let kind = node["type"].as_str().unwrap().to_ascii_lowercase();
                assert_eq!(e.kind.as_str(), kind, "{label}: dispute {id}");
                assert_eq!(
                    e.amount.unwrap().to_decimal_string(),
                    node.pointer("/amount/amount")
                        .and_then(Value::as_str)
                        .unwrap(),
                    "{label}: dispute {id} amount"
                );
            }
            (AnyRecord::CustomerSummary(c), _) => {
                let count = match &node["numberOfOrders"] {
                    Value::String(s) => s.parse::<u64>().unwrap(),
                    other => other.as_u64().unwrap(),
                };
                assert_eq!(c.order_count, count, "{label}: customer {id} orders");
                assert_eq!(
                    c.lifetime_spend.to_decimal_string(),
                    node.pointer("/amountSpent/amount")
                        .and_then(Value::as_str)
                        .unwrap(),
                    "{label}: customer {id} spend"
                );
            }
            (AnyRecord::AbandonedCheckout(c), _) => {
                assert_eq!(
                    c.completed_at.is_some(),
                    !node["completedAt"].is_null(),
                    "{label}: checkout {id} recovered"
                );
            }
            (other, _) => panic!("{label}: unexpected record {other:?}"),
        }
    }
}

async fn run(
    h: &Harness,
    graphql: &GraphqlClient,
    store: &dyn Store,
    resource: ShopifyResource,
    at: jiff::Timestamp,
) -> Result<SyncRun, SyncError> {
    sync_once_graphql(&h.client(SLUG), graphql, store, resource, at).await
}

#[tokio::test]
async fn each_resource_stores_exactly_the_simulators_set_then_follows_changes() {
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    let later = start_time().checked_add(1_440.hours()).unwrap();
    // Both backends step through the same world together: the simulator's
    // clock only moves forward.
    let backends = each_backend().await;
    let graphql = h.graphql(SLUG);
    for db in &backends {
        let store = db.store.as_ref();
        for resource in ShopifyResource::GRAPHQL_ONLY {
            let first = run(&h, &graphql, store, resource, start_time())
                .await
                .unwrap_or_else(|e| panic!("{}: {}: {e}", db.label, resource.as_str()));
            assert!(first.rejected.is_empty(), "{:?}", first.rejected);
            assert!(first.inserted > 0, "{}: {}", db.label, resource.as_str());
            assert!(first.watermark.is_some(), "{}", resource.as_str());
            assert_exact_set(&h, store, resource, db.label).await;
            let state = store
                .sync_state(&Harness::source(SLUG), resource.as_str())
                .await
                .unwrap()
                .unwrap();
            assert_eq!(state.last_error, None, "{}", resource.as_str());
            assert_eq!(state.records_synced, first.records());
        }
    }

    // Sixty days on: returns are decided and closed, disputes answered and
    // decided, checkouts left, customers buy again.
    h.sim.advance_to(later);
    for db in &backends {
        let store = db.store.as_ref();
        let mut changed = BTreeMap::new();
        for resource in ShopifyResource::GRAPHQL_ONLY {
            let again = run(&h, &graphql, store, resource, later).await.unwrap();
            assert!(again.since.is_some() || resource == ShopifyResource::Disputes);
            changed.insert(resource.as_str(), again.inserted + again.updated);
            assert_exact_set(&h, store, resource, db.label).await;
        }
        eprintln!("{}: changes picked up: {changed:?}", db.label);
        for (resource, n) in &changed {
            assert!(*n > 0, "{}: {resource}: {changed:?}", db.label);
        }
    }
}

#[tokio::test]
async fn a_rest_shop_still_syncs_them_by_graphql_and_a_rest_run_says_it_cannot() {
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    let (store, _guard) = sqlite_temp().await;
    let err = sync_once(
        &h.client(SLUG),
        store.as_ref(),
        ShopifyResource::Customers,
        start_time(),
    )
    .await
    .unwrap_err();
    assert!(
        err.to_string().contains("only in the GraphQL Admin API"),
        "{err}"
    );
    let state = store
        .sync_state(&Harness::source(SLUG), "customers")
        .await
        .unwrap()
        .unwrap();
    assert!(state.last_error.unwrap().contains("GraphQL"));
}

#[tokio::test]
async fn a_missing_scope_is_named_and_the_other_resources_keep_syncing() {
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    for (resource, scope) in [
        (ShopifyResource::Returns, "read_returns"),
        (ShopifyResource::Disputes, "read_shopify_payments_disputes"),
        (ShopifyResource::Customers, "read_customers"),
        (ShopifyResource::AbandonedCheckouts, "read_orders"),
    ] {
        // A write scope includes its read scope (as at Shopify): both go.
        let write = scope.replacen("read_", "write_", 1);
        let without: Vec<&str> = ALL_SCOPES
            .into_iter()
            .filter(|s| *s != scope && *s != write)
            .collect();
        h.sim.set_access_scopes(SLUG, Some(&without), &[]);
        let (store, _guard) = sqlite_temp().await;
        let graphql = h.graphql(SLUG);
        let err = run(&h, &graphql, store.as_ref(), resource, start_time())
            .await
            .unwrap_err();
        assert!(
            err.to_string()
                .contains(&format!("missing access scope {scope}")),
            "{}: {err}",
            resource.as_str()
        );
        let state = store
            .sync_state(&Harness::source(SLUG), resource.as_str())
            .await
            .unwrap()
            .unwrap();
        assert!(state.needs_attention, "{}", resource.as_str());
        assert!(state.last_error.unwrap().contains(scope));
        assert_eq!(stored(store.as_ref(), kind_of(resource)).await.len(), 0);
        // Every other GraphQL-only resource that does not need the scope
        // syncs whole.
        for other in ShopifyResource::GRAPHQL_ONLY {
            if other == resource || (scope == "read_orders" && other == ShopifyResource::Returns) {
                continue;
            }
            run(&h, &graphql, store.as_ref(), other, start_time())
                .await
                .unwrap_or_else(|e| panic!("{} without {scope}: {e}", other.as_str()));
            assert_exact_set(&h, store.as_ref(), other, "sqlite").await;
        }
    }
}

/// Without `write_returns` the returns are still read whole: the missing
/// scope is a notice on the run (what /sources shows), not a failure, and
/// the refunds queue says so on its disabled buttons.
#[tokio::test]
async fn without_write_returns_returns_sync_whole_and_the_scope_is_named() {
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    let without: Vec<&str> = ALL_SCOPES
        .into_iter()
        .filter(|s| *s != "write_returns")
        .collect();
    h.sim.set_access_scopes(SLUG, Some(&without), &[]);
    let (store, _guard) = sqlite_temp().await;
    let graphql = h.graphql(SLUG);
    run(
        &h,
        &graphql,
        store.as_ref(),
        ShopifyResource::Returns,
        start_time(),
    )
    .await
    .unwrap();
    assert_exact_set(&h, store.as_ref(), ShopifyResource::Returns, "sqlite").await;
    let state = store
        .sync_state(&Harness::source(SLUG), "returns")
        .await
        .unwrap()
        .unwrap();
    assert!(!state.needs_attention);
    assert!(
        state
            .last_error
            .as_deref()
            .unwrap_or_default()
            .contains("missing access scope write_returns"),
        "{state:?}"
    );
    // With it, no such notice.
    h.sim.set_access_scopes(SLUG, Some(&ALL_SCOPES), &[]);
    let (store, _guard) = sqlite_temp().await;
    run(
        &h,
        &graphql,
        store.as_ref(),
        ShopifyResource::Returns,
        start_time(),
    )
    .await
    .unwrap();
    let state = store
        .sync_state(&Harness::source(SLUG), "returns")
        .await
        .unwrap()
        .unwrap();
    assert!(!state
        .last_error
        .unwrap_or_default()
        .contains("write_returns"));
}

/// Without any fulfillment order scope the orders still sync whole (a
/// backfill follows up by query what its file lacks), and /sources names
/// the scope, since the backfill then spends API budget it need not.
#[tokio::test]
async fn without_fulfillment_order_scopes_orders_sync_whole_and_the_scope_is_named() {
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    let without: Vec<&str> = ALL_SCOPES
        .into_iter()
        .filter(|s| !s.ends_with("fulfillment_orders"))
        .collect();
    h.sim.set_access_scopes(SLUG, Some(&without), &[]);
    let graphql = h.graphql(SLUG);
    let notice = || {
        let h = &h;
        let graphql = &graphql;
        async move {
            let (store, _guard) = sqlite_temp().await;
            run(
                h,
                graphql,
                store.as_ref(),
                ShopifyResource::Orders,
                start_time(),
            )
            .await
            .unwrap();
            let stored = store.list_orders(&Harness::source(SLUG)).await.unwrap();
            assert_eq!(stored.len(), h.sim_orders(SLUG).len());
            let state = store
                .sync_state(&Harness::source(SLUG), "orders")
                .await
                .unwrap()
                .unwrap();
            assert!(!state.needs_attention, "{state:?}");
            state.last_error.unwrap_or_default()
        }
    };
    let without_scope = notice().await;
    assert!(
        without_scope.contains("read_merchant_managed_fulfillment_orders"),
        "{without_scope}"
    );
    h.sim.set_access_scopes(SLUG, Some(&ALL_SCOPES), &[]);
    assert!(!notice().await.contains("fulfillment_orders"));
}

fn graphql_answer(data: Value) -> fake::Answer {
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
async fn a_shop_without_shopify_payments_has_disputes_not_applicable() {
    let scopes = ["read_orders", "read_shopify_payments_disputes"];
    let (base, _script) = fake::fake_shop(vec![
        graphql_answer(json!({"currentAppInstallation": {"accessScopes":
            scopes.iter().map(|s| json!({"handle": s})).collect::<Vec<_>>()}})),
        // Shopify's answer for a shop that never set up Shopify Payments.
        graphql_answer(json!({"shopifyPaymentsAccount": null})),
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
        ShopifyResource::Disputes,
        start_time(),
    )
    .await
    .unwrap();
    assert_eq!(run.records(), 0);
    let state = store
        .sync_state(client.source(), "disputes")
        .await
        .unwrap()
        .unwrap();
    assert!(state.last_success_at.is_some());
    assert_eq!(state.consecutive_failures, 0);
    assert!(!state.needs_attention);
    let said = state.last_error.unwrap();
    assert!(said.contains("not applicable"), "{said}");
}

#[tokio::test]
async fn a_bulk_backfill_of_customers_stores_exactly_the_simulators_customers() {
    use opsdeck_sync::shopify::bulk::{backfill, BulkResource, BulkSettings};
    let h = Harness::start(0.05).await;
    h.sim.set_rate_limit(false);
    let graphql = h.graphql(SLUG);
    let settings = BulkSettings {
        poll_interval: std::time::Duration::from_millis(10),
        page_size: 20,
        max_restarts: 3,
        ..BulkSettings::default()
    };
    let run = backfill(
        &graphql,
        h.store.as_ref(),
        BulkResource::Customers,
        &settings,
        start_time(),
        None,
    )
    .await
    .unwrap();
    assert!(run.rejected.is_empty(), "{:?}", run.rejected);
    assert_eq!(run.objects, run.object_count);
    assert_exact_set(&h, h.store.as_ref(), ShopifyResource::Customers, "bulk").await;
    // The same sync state as the paged run: an incremental run goes on
    // from the backfill's watermark.
    let state = h
        .store
        .sync_state(&Harness::source(SLUG), "customers")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.watermark, run.watermark);
    let next = run_paged(&h, &graphql, ShopifyResource::Customers).await;
    assert!(next.since.is_some());
    assert_eq!(next.inserted, 0);
}

async fn run_paged(h: &Harness, graphql: &GraphqlClient, resource: ShopifyResource) -> SyncRun {
    run(h, graphql, h.store.as_ref(), resource, start_time())
        .await
        .unwrap()
}
