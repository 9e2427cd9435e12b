//! The resources only Shopify's GraphQL API lists — returns, disputes,
//! abandoned checkouts — and customers' lifetime figures, by webhooks
//! alone: opsdeck's API address is dead, the simulator sends its signed
//! `returns/*`, `disputes/*`, `checkouts/*` and `customers/update` as its
//! world changes, and what opsdeck stores must be exactly what the GraphQL
//! normalizers make of the simulator's GraphQL nodes at the end — the
//! state a GraphQL sync would store — for everything that happened after
//! the subscriptions.
//!
//! A return requested before the subscriptions cannot be made by webhooks
//! (its later changes wait in the inbox for the returns sync); none is
//! stored, and none of its changes fails.

use crate::helpers;
use jiff::{Timestamp, ToSpan};
use opsdeck_domain::{BrandId, Currency, RecordKind, SourceId};
use opsdeck_simulator::{Faults, Simulator};
use opsdeck_sources::shopify::graphql::normalize::{
    abandoned_checkout_from_graphql, customer_from_graphql, dispute_from_graphql,
    return_from_graphql,
};
use opsdeck_sources::shopify::NormalizeContext;
use opsdeck_store::{AnyRecord, Store};
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_alone_bring_returns_disputes_checkouts_and_customers_to_the_simulators_state() {
    converge(Faults::default(), 11).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_reordered_resource_webhooks_still_converge() {
    let faults = Faults {
        webhook_duplicate_rate: 0.3,
        webhook_reorder: true,
        seed: 4,
        ..Faults::default()
    };
    converge(faults, 31).await;
}

/// A record's time as the simulator's GraphQL renders it.
fn time(node: &Value, field: &str) -> Option<Timestamp> {
    node.get(field)?.as_str()?.parse().ok()
}

/// A node as a query receives it: the simulator keeps a connection's
/// nodes under `__nodes` until a query projects them as `nodes`.
fn as_queried(node: &Value) -> Value {
    match node {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let key = if k == "__nodes" { "nodes" } else { k.as_str() };
                    (key.to_string(), as_queried(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(as_queried).collect()),
        other => other.clone(),
    }
}

/// What a GraphQL sync would store of `slug` now, per kind and id, for the
/// records that changed after `since`.
fn expected(
    simulator: &Simulator,
    slug: &str,
    ctx: &NormalizeContext,
    since: Timestamp,
) -> BTreeMap<(RecordKind, String), AnyRecord> {
    let mut out = BTreeMap::new();
    let mut put = |record: AnyRecord| {
        out.insert((record.kind(), record.external_id().to_string()), record);
    };
    for order in simulator.graphql_nodes(slug, "orders") {
        let returns = order
            .pointer("/returns/__nodes")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for node in returns {
            if time(&node, "createdAt").is_some_and(|t| t > since) {
                let mut r = return_from_graphql(ctx, &as_queried(&node))
                    .unwrap()
                    .request;
                // Shopify's two faces name a line's reason differently: the
                // webhook's `return_reason` is the legacy enum, GraphQL's
                // `returnReasonDefinition.handle` its successor. The
                // webhook's is what opsdeck can know from it.
                if r.status.as_str() != "rejected" {
                    r.reason = node
                        .pointer("/returnLineItems/__nodes/0/returnReason")
                        .and_then(Value::as_str)
                        .map(str::to_ascii_lowercase);
                }
                put(AnyRecord::ReturnRequest(r));
            }
        }
    }
    for node in simulator.graphql_nodes(slug, "disputes") {
        let d = dispute_from_graphql(ctx, &as_queried(&node)).unwrap();
        let changed = [
            time(&node, "initiatedAt"),
            time(&node, "evidenceSentOn"),
            time(&node, "finalizedOn"),
        ]
        .into_iter()
        .flatten()
        .any(|t| t > since);
        if changed {
            put(AnyRecord::PaymentEvent(d.event));
        }
    }
    for node in simulator.graphql_nodes(slug, "abandonedCheckouts") {
        if time(&node, "updatedAt").is_some_and(|t| t > since) {
            put(AnyRecord::AbandonedCheckout(
                abandoned_checkout_from_graphql(ctx, &as_queried(&node)).unwrap(),
            ));
        }
    }
    for node in simulator.graphql_nodes(slug, "customers") {
        if time(&node, "updatedAt").is_some_and(|t| t > since) {
            put(AnyRecord::CustomerSummary(
                customer_from_graphql(ctx, &as_queried(&node)).unwrap(),
            ));
        }
    }
    out
}

const KINDS: [RecordKind; 4] = [
    RecordKind::ReturnRequest,
    RecordKind::PaymentEvent,
    RecordKind::AbandonedCheckout,
    RecordKind::CustomerSummary,
];

/// The stored records of these kinds of `source`.
async fn stored(store: &dyn Store, source: &SourceId) -> BTreeMap<(RecordKind, String), AnyRecord> {
    let mut out = BTreeMap::new();
    for change in store.changes_since(0, 1_000_000).await.unwrap() {
        let r = change.record;
        if KINDS.contains(&r.kind()) && r.source() == source {
            out.insert((r.kind(), r.external_id().to_string()), r);
        }
    }
    out
}

async fn converge(faults: Faults, seed: u64) {
    let start: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
    let helpers::WebhookOnly {
        simulator,
        running,
        registered,
        ..
    } = helpers::webhook_only(faults, seed, start, "topics.db").await;
    assert!(
        registered.iter().all(|r| r.errors.is_empty()),
        "{registered:?}"
    );

    // Two months of the world, two days at a time: returns requested,
    // decided and closed, disputes opened, answered and decided (a
    // handful per shop), carts left.
    for day in (2..=60).step_by(2) {
        simulator.advance_to(start.checked_add((24 * day).hours()).unwrap());
    }
    assert!(simulator.wait_for_webhooks(Duration::from_secs(60)).await);
    let stats = simulator.webhook_stats();
    assert_eq!(stats.abandoned, 0, "{stats:?}");

    let mut seen = BTreeMap::<RecordKind, usize>::new();
    let mut histories = 0;
    for shop in simulator.shops() {
        let source = SourceId::parse(&format!("shopify-{}", shop.slug)).unwrap();
        let ctx = NormalizeContext {
            source: source.clone(),
            brand: BrandId::parse(&shop.brand_id).unwrap(),
            currency: Currency::parse(&shop.currency).unwrap(),
        };
        let want = expected(&simulator, &shop.slug, &ctx, start);
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = stored(running.store.as_ref(), &source).await;
            if got == want {
                break;
            }
            let missing: Vec<_> = want.keys().filter(|k| !got.contains_key(*k)).collect();
            let extra: Vec<_> = got.keys().filter(|k| !want.contains_key(*k)).collect();
            let differs: Vec<_> = want
                .iter()
                .filter_map(|(k, w)| got.get(k).filter(|g| *g != w).map(|g| (g, w)))
                .take(1)
                .collect();
            assert!(
                Instant::now() < deadline,
                "{}: {} stored vs {} expected; missing {missing:?}, extra {extra:?}, \
                 first difference (stored, expected) {differs:?}",
                shop.slug,
                got.len(),
                want.len()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        for ((kind, _), record) in &want {
            *seen.entry(*kind).or_default() += 1;
            if let AnyRecord::ReturnRequest(r) = record {
                histories += usize::from(r.status_history.len() >= 2);
            }
        }
    }
    // The world moved in every kind, and returns moved past their request.
    for kind in KINDS {
        assert!(
            seen.get(&kind).is_some_and(|n| *n > 0),
            "no {kind:?}: {seen:?}"
        );
    }
    assert!(histories > 0, "no return got past its request: {seen:?}");
    // Changes of returns requested before the subscriptions wait for the
    // returns sync; nothing failed.
    let inbox = running.store.webhook_stats().await.unwrap();
    assert_eq!(inbox.failed, 0, "{inbox:?}");
    running.stop().await.unwrap();
}
