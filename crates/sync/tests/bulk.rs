//! The orders backfill by GraphQL bulk operation, over real HTTP against the
//! simulator into a real SQLite store: it must converge on exactly the
//! simulator's orders — straight, after a failed operation's partial data,
//! after a crash mid-file, and while other operations hold the shop's slots.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use common::{start_time, Harness};
use jiff::Timestamp;
use opsdeck_domain::Order;
use opsdeck_simulator::Faults;
use opsdeck_sources::shopify::graphql::wire::legacy_id;
use opsdeck_sources::shopify::graphql::{
    CostBucket, GraphqlClient, GraphqlQuery, PagedQuery, GRAPHQL_API_VERSION,
};
use opsdeck_sync::shopify::bulk::{
    backfill, backfill_orders, cancel_backfill, orders_bulk_query, BulkCursor, BulkError,
    BulkResource, BulkSettings,
};
use opsdeck_sync::ShopifyResource;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

fn graphql_client(h: &Harness, slug: &str) -> GraphqlClient {
    GraphqlClient::new(
        h.settings(slug),
        GRAPHQL_API_VERSION,
        Arc::new(CostBucket::new()),
    )
    .unwrap()
}

fn quick(page_size: usize) -> BulkSettings {
    BulkSettings {
        poll_interval: Duration::from_millis(10),
        page_size,
        max_restarts: 3,
        ..BulkSettings::default()
    }
}

/// Each order's `updatedAt` as the GraphQL face reports it: later than
/// the REST payload's for an order whose return changed since.
async fn graphql_updated_at(client: &GraphqlClient) -> BTreeMap<String, Timestamp> {
    let listing = PagedQuery {
        query: GraphqlQuery::new(
            "OrderTimes",
            "query OrderTimes($first: Int!, $after: String) { orders(first: $first, after: $after) \
             { nodes { id updatedAt } pageInfo { hasNextPage endCursor } } }",
            252,
        ),
        path: vec!["orders".into()],
        first: 250,
        search: None,
    };
    let mut times = BTreeMap::new();
    let mut stats = Default::default();
    client
        .each_page(&listing, &mut stats, |page| {
            for node in page.nodes {
                let id = legacy_id(node["id"].as_str().unwrap());
                times.insert(
                    id.to_string(),
                    node["updatedAt"].as_str().unwrap().parse().unwrap(),
                );
            }
            Ok(())
        })
        .await
        .unwrap();
    times
}

/// The store holds exactly the simulator's orders (as the REST check
/// compares them), each with the `updatedAt` GraphQL gives it.
async fn assert_orders_match(client: &GraphqlClient, stored: &[Order], expected: &[Value]) {
    let times = graphql_updated_at(client).await;
    let expected: Vec<Value> = expected
        .iter()
        .map(|order| {
            let mut order = order.clone();
            let id = order["id"].to_string();
            let time = times
                .get(&id)
                .unwrap_or_else(|| panic!("order {id} not in GraphQL"));
            order["updated_at"] = Value::from(time.to_string());
            order
        })
        .collect();
    assert_eq!(times.len(), expected.len());
    common::assert_orders_match(stored, &expected);
}

/// The stored orders equal, field for field, those a REST sync of the same
/// shop stores (refunds' amounts and lines and each line's fulfilled units
/// included: the numbers a bulk file cannot carry whole), but for what
/// only GraphQL has: an `updated_at` moved later by a return, tags in
/// another order, a shipment's estimated delivery.
async fn assert_orders_equal_rest(h: &Harness, slug: &str, stored: &[Order]) {
    let (rest_store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    let client = h.client(slug);
    opsdeck_sync::sync_once(
        &client,
        rest_store.as_ref(),
        ShopifyResource::Orders,
        start_time(),
    )
    .await
    .unwrap();
    let rest = rest_store.list_orders(client.source()).await.unwrap();
    assert_eq!(rest.len(), stored.len(), "order count");
    let by_id: BTreeMap<&str, &Order> =
        stored.iter().map(|o| (o.external_id.as_str(), o)).collect();
    let (mut refunded_lines, mut shipped_units) = (0, 0);
    for r in &rest {
        let mut g = by_id[r.external_id.as_str()].clone();
        assert!(g.updated_at >= r.updated_at, "order {}", r.external_id);
        g.updated_at = r.updated_at;
        let mut tags = r.tags.clone();
        tags.sort();
        g.tags.sort();
        assert_eq!(tags, g.tags, "order {} tags", r.external_id);
        g.tags = r.tags.clone();
        for (rf, gf) in r.fulfillments.iter().zip(&mut g.fulfillments) {
            if rf.estimated_delivery_at.is_none() {
                gf.estimated_delivery_at = None;
            }
        }
        assert_eq!(r, &g, "order {}", r.external_id);
        refunded_lines += r.refunds.iter().map(|f| f.line_items.len()).sum::<usize>();
        shipped_units += r
            .line_items
            .iter()
            .filter_map(|l| l.fulfilled_quantity)
            .sum::<i64>();
    }
    assert!(
        refunded_lines > 0 && shipped_units > 0,
        "the comparison saw refunds and shipments"
    );
}

/// Lines an orders file of the simulator holds: each order, its items
/// and, where the token may read them, its one fulfillment order's id.
fn expected_objects(h: &Harness, slug: &str) -> u64 {
    let fulfillment_order = u64::from(reads_fulfillment_orders(h, slug));
    h.sim_orders(slug)
        .iter()
        .map(|o| 1 + o["line_items"].as_array().unwrap().len() as u64 + fulfillment_order)
        .sum()
}

/// Whether the backfill asks for fulfillment orders (the default scopes).
fn reads_fulfillment_orders(h: &Harness, slug: &str) -> bool {
    h.sim
        .access_scopes(slug)
        .iter()
        .any(|s| s.ends_with("fulfillment_orders"))
}

/// Orders whose lines all come at or before `line` in an orders file of
/// the simulator (each order, then its items, in id order).
fn expected_before_resume(h: &Harness, slug: &str, line: u64) -> usize {
    let fulfillment_order = u64::from(reads_fulfillment_orders(h, slug));
    let mut orders = h.sim_orders(slug);
    orders.sort_by_key(|o| o["id"].as_u64().unwrap());
    let mut reached = 0;
    orders
        .iter()
        .take_while(|o| {
            reached += 1 + o["line_items"].as_array().unwrap().len() as u64 + fulfillment_order;
            reached <= line
        })
        .count()
}

async fn saved_cursor(h: &Harness, slug: &str) -> Option<BulkCursor> {
    let state = h
        .store
        .sync_state(&Harness::source(slug), ShopifyResource::Orders.as_str())
        .await
        .unwrap()
        .unwrap();
    state.cursor.as_deref().and_then(BulkCursor::parse)
}

#[tokio::test]
async fn a_bulk_backfill_stores_exactly_the_simulators_orders() {
    backfill_stores_exactly_the_simulators_orders(true).await;
}

/// Without a scope to read fulfillment orders, the orders' file goes
/// without them (asking would fail the whole operation) and the orders it
/// cannot give whole are read again by paged queries, as before.
#[tokio::test]
async fn without_fulfillment_order_scopes_the_gaps_are_followed_up() {
    backfill_stores_exactly_the_simulators_orders(false).await;
}

async fn backfill_stores_exactly_the_simulators_orders(fulfillment_orders: bool) {
    for seed in [42, 7, 1234] {
        let h = Harness::start_seeded(seed, 0.05).await;
        let slug = "mavena";
        if !fulfillment_orders {
            let scopes: Vec<&str> = opsdeck_simulator::ALL_SCOPES
                .into_iter()
                .filter(|s| !s.ends_with("fulfillment_orders"))
                .collect();
            h.sim.set_access_scopes(slug, Some(&scopes), &[]);
        }
        let client = graphql_client(&h, slug);
        let run = backfill_orders(&client, h.store.as_ref(), &quick(40), start_time(), None)
            .await
            .unwrap_or_else(|e| panic!("seed {seed}: {e}"));
        let expected = h.sim_orders(slug);
        assert!(!expected.is_empty());
        assert!(run.rejected.is_empty(), "{:?}", run.rejected);
        assert_eq!(run.operations_started, 1);
        assert_eq!(run.inserted, expected.len() as u64, "seed {seed}");
        assert_eq!(run.objects, expected_objects(&h, slug), "seed {seed}");
        assert_eq!(run.objects, run.object_count);
        assert_eq!(run.pages as usize, expected.len().div_ceil(40));
        // Orders the file cannot give whole (a refunded line that had
        // shipped) are read again; they must stay a few.
        println!(
            "seed {seed}: {} orders, {} followed up by {} queries costing {} points",
            expected.len(),
            run.followed_up,
            run.follow_up_queries,
            run.follow_up_points
        );
        // Every seed has some (4 to 7). With the fulfillment orders'
        // file beside the orders', they are joined in from it and none is
        // followed up; without, the reader task hands them over raw and
        // the commit side follows them up. None may be lost either way.
        let gaps = run.followed_up + run.detail_joined;
        assert!(gaps > 0, "seed {seed}: no order the file could not give");
        assert!(
            gaps * 20 <= expected.len() as u64,
            "seed {seed}: {gaps} of {} orders",
            expected.len()
        );
        if fulfillment_orders {
            assert!(run.detail_operation.is_some());
            assert_eq!(run.followed_up, 0, "seed {seed}");
            assert_eq!(run.follow_up_queries, 0, "seed {seed}");
        } else {
            assert_eq!(run.detail_operation, None);
            assert_eq!(run.detail_joined, 0);
            assert!(run.follow_up_queries >= run.followed_up);
        }
        let stored = h.store.list_orders(&Harness::source(slug)).await.unwrap();
        assert_orders_match(&client, &stored, &expected).await;
        assert_orders_equal_rest(&h, slug, &stored).await;
        // The watermark is the newest change, and the cursor is gone.
        let newest = stored.iter().map(|o| o.updated_at).max();
        assert_eq!(run.watermark, newest);
        let state = h
            .store
            .sync_state(&Harness::source(slug), "orders")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(state.watermark, newest);
        assert_eq!(state.cursor, None);
        assert_eq!(state.last_error, None);
        assert!(state.requests >= 3, "run, poll(s), and the download");
    }
}

/// The orders query opsdeck sent before: fulfillments' and refunds' lines
/// and transactions are connections inside the `fulfillments` and
/// `refunds` lists, which Shopify's bulk operations refuse.
const OLD_ORDERS_BULK_QUERY: &str = "{ orders { edges { node { id name updatedAt \
     lineItems { nodes { id quantity } } \
     fulfillments(first: 2) { id status fulfillmentLineItems(first: 5) { nodes { quantity lineItem { id } } } } \
     refunds(first: 2) { id createdAt refundLineItems(first: 5) { nodes { quantity lineItem { id } } } \
     transactions(first: 2) { nodes { kind status } } } } } } }";

#[tokio::test]
async fn the_old_orders_query_is_refused_as_shopify_refuses_it() {
    let h = Harness::start_seeded(42, 0.05).await;
    let client = graphql_client(&h, "mavena");
    let mut stats = Default::default();
    let refused = client
        .run_bulk_query(OLD_ORDERS_BULK_QUERY, &mut stats)
        .await
        .unwrap_err();
    let opsdeck_sources::shopify::graphql::GraphqlError::UserErrors { errors, .. } = &refused
    else {
        panic!("not a user error: {refused}");
    };
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].field, Some(vec!["query".to_string()]));
    assert_eq!(errors[0].code.as_deref(), Some("INVALID"));
    assert!(
        errors[0]
            .message
            .contains("connection field within a list field"),
        "{}",
        errors[0].message
    );
    // Today's query runs.
    client
        .run_bulk_query(&orders_bulk_query(true), &mut stats)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failed_operation_stores_its_partial_data_but_holds_the_watermark() {
    let h = Harness::start_seeded(42, 0.05).await;
    let slug = "mavena";
    let client = graphql_client(&h, slug);
    let total = expected_objects(&h, slug);
    // Cut the file inside an order past the middle: after its own line and
    // its first line item, with more to come.
    let mut fail_after = 0;
    for order in h.sim_orders(slug) {
        let items = order["line_items"].as_array().unwrap().len() as u64;
        if fail_after >= total / 2 && items >= 2 {
            fail_after += 2;
            break;
        }
        fail_after += 1 + items;
    }
    assert!(fail_after < total);
    h.sim.set_faults(Faults {
        bulk_fail_after_objects: Some(fail_after),
        ..Faults::default()
    });
    let failed = backfill_orders(&client, h.store.as_ref(), &quick(25), start_time(), None).await;
    let Err(BulkError::Incomplete(reason)) = failed else {
        panic!("expected an incomplete run, got {failed:?}");
    };
    assert!(reason.contains("INTERNAL_SERVER_ERROR"), "{reason}");
    let source = Harness::source(slug);
    let state = h
        .store
        .sync_state(&source, "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        state.watermark, None,
        "partial data never moves the watermark"
    );
    assert!(state.last_error.unwrap().contains("watermark is held"));
    assert_eq!(state.consecutive_failures, 1);
    assert_eq!(state.cursor, None, "the next run starts a new operation");
    let partial = h.store.list_orders(&source).await.unwrap();
    assert!(!partial.is_empty(), "what the partial file held is stored");
    assert!(partial.len() < h.sim_orders(slug).len());
    // Each stored order is whole: the last one of the file, which may have
    // lost lines, was left out.
    let expected: BTreeMap<String, usize> = h
        .sim_orders(slug)
        .iter()
        .map(|o| {
            (
                o["id"].to_string(),
                o["line_items"].as_array().unwrap().len(),
            )
        })
        .collect();
    for order in &partial {
        assert_eq!(
            order.line_items.len(),
            expected[&order.external_id],
            "order {}",
            order.external_id
        );
    }

    // The fault cleared, the next run converges.
    h.sim.set_faults(Faults::default());
    let run = backfill_orders(&client, h.store.as_ref(), &quick(25), start_time(), None)
        .await
        .unwrap();
    assert_eq!(run.operations_started, 1);
    assert_eq!(run.objects, total);
    assert_eq!(run.records(), h.sim_orders(slug).len() as u64);
    assert_eq!(
        run.inserted as usize,
        h.sim_orders(slug).len() - partial.len()
    );
    let stored = h.store.list_orders(&source).await.unwrap();
    assert_orders_match(&client, &stored, &h.sim_orders(slug)).await;
    assert_eq!(run.watermark, stored.iter().map(|o| o.updated_at).max());
}

#[tokio::test]
async fn a_crash_mid_file_resumes_the_same_file_without_loss_or_duplicates() {
    let h = Harness::start_seeded(7, 0.05).await;
    let slug = "mavena";
    let client = graphql_client(&h, slug);
    let settings = quick(5);
    let committed = Notify::new();
    // The "crash": the run's future is dropped once a few pages are in.
    tokio::select! {
        done = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), Some(&committed)) => {
            panic!("the backfill should have been dropped mid-file: {done:?}");
        }
        () = async {
            // The operation's id is saved first, then pages.
            for _ in 0..4 {
                committed.notified().await;
            }
        } => {}
    }
    let cursor = saved_cursor(&h, slug).await.expect("a cursor mid-file");
    assert!(cursor.line > 0, "pages were committed");
    let total = expected_objects(&h, slug);
    assert!(cursor.objects < total, "the crash came before the end");
    let source = Harness::source(slug);
    let before = h.store.list_orders(&source).await.unwrap().len();
    let state = h
        .store
        .sync_state(&source, "orders")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.watermark, None);

    let run = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), None)
        .await
        .unwrap();
    assert_eq!(run.operations_started, 0, "the same operation was resumed");
    assert_eq!(run.operation.as_deref(), Some(cursor.operation.as_str()));
    // And the fulfillment orders' file beside it, read again from its start.
    assert!(
        cursor.detail.is_some(),
        "the detail operation is in the cursor"
    );
    assert_eq!(run.detail_operation, cursor.detail);
    assert_eq!(run.followed_up, 0);
    // The dropped run's last commit may land after the reads above: its
    // transaction was already with SQLite's worker thread when the future
    // was dropped (as a process killed mid-commit may have committed). So
    // the second run resumes at the cursor read or one page after it.
    assert!(
        run.resumed_after_line >= cursor.line,
        "resumed after line {}, the crash had committed up to {}",
        run.resumed_after_line,
        cursor.line
    );
    assert!(
        (expected_before_resume(&h, slug, cursor.line)
            ..=expected_before_resume(&h, slug, run.resumed_after_line))
            .contains(&before),
        "{before} orders stored by the crashed run"
    );
    assert_eq!(run.objects, total);
    let expected = h.sim_orders(slug);
    assert_eq!(
        expected_before_resume(&h, slug, run.resumed_after_line) as u64 + run.inserted,
        expected.len() as u64,
        "each order inserted once across both runs"
    );
    assert_eq!(run.unchanged, 0, "nothing before the cursor was read again");
    let stored = h.store.list_orders(&source).await.unwrap();
    assert_orders_match(&client, &stored, &expected).await;
    assert_eq!(run.watermark, stored.iter().map(|o| o.updated_at).max());
}

#[tokio::test]
async fn a_backfill_waits_while_other_processes_hold_every_bulk_slot() {
    let h = Harness::start_seeded(42, 0.05).await;
    h.sim.use_manual_api_clock();
    let slug = "mavena";
    let client = graphql_client(&h, slug);
    // Another process of the app takes all five slots.
    let other = graphql_client(&h, slug);
    let mut stats = Default::default();
    for _ in 0..5 {
        other
            .run_bulk_query(&orders_bulk_query(true), &mut stats)
            .await
            .unwrap();
    }
    let refused = other
        .run_bulk_query(&orders_bulk_query(true), &mut stats)
        .await
        .unwrap_err();
    assert!(refused.is_bulk_limit(), "{refused}");

    let settings = quick(50);
    let before = h.sim.request_count(slug);
    let backfill = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), None);
    let clock = async {
        // Time on Shopify's side moves only once the backfill was refused
        // (its scopes asked, its start refused): moved earlier, the other
        // process's operations could finish before the backfill asks, as
        // they did on a loaded machine.
        while h.sim.request_count(slug) < before + 2 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            h.sim.advance_api_clock(Duration::from_millis(20));
        }
    };
    let run = tokio::select! {
        run = backfill => run.unwrap(),
        () = clock => unreachable!(),
    };
    assert!(run.waited_for_others >= 1);
    assert_eq!(run.operations_started, 1);
    let stored = h.store.list_orders(&Harness::source(slug)).await.unwrap();
    assert_orders_match(&client, &stored, &h.sim_orders(slug)).await;
}

#[tokio::test]
async fn an_expired_result_link_starts_the_operation_again() {
    let h = Harness::start_seeded(42, 0.05).await;
    h.sim.use_manual_api_clock();
    let slug = "mavena";
    let client = graphql_client(&h, slug);
    let committed = Notify::new();
    let settings = quick(5);
    // Crash after the first page of the first operation.
    let clock = async {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            h.sim.advance_api_clock(Duration::from_millis(50));
        }
    };
    tokio::select! {
        done = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), Some(&committed)) => {
            panic!("should have been dropped: {done:?}");
        }
        () = async { for _ in 0..2 { committed.notified().await; } } => {}
        () = clock => unreachable!(),
    }
    let first = saved_cursor(&h, slug).await.expect("a saved cursor");
    // Eight days pass on Shopify's side: the file's link has expired.
    h.sim.advance_api_clock(Duration::from_secs(8 * 86_400));
    let clock = async {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            h.sim.advance_api_clock(Duration::from_millis(50));
        }
    };
    let run = tokio::select! {
        run = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), None) => run.unwrap(),
        () = clock => unreachable!(),
    };
    assert_eq!(run.operations_started, 1);
    assert_ne!(run.operation.as_deref(), Some(first.operation.as_str()));
    let stored = h.store.list_orders(&Harness::source(slug)).await.unwrap();
    assert_orders_match(&client, &stored, &h.sim_orders(slug)).await;
    assert_eq!(run.watermark, stored.iter().map(|o| o.updated_at).max());
}

#[tokio::test]
async fn a_canceled_operation_ends_the_run_and_the_next_one_starts_afresh() {
    let h = Harness::start_seeded(42, 0.05).await;
    h.sim.use_manual_api_clock();
    let slug = "mavena";
    let client = graphql_client(&h, slug);
    let settings = quick(5);
    let committed = Notify::new();
    // The run saves its new operation's id, then is stopped while the
    // operation has not started (the clock stands still).
    tokio::select! {
        done = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), Some(&committed)) => {
            panic!("should have been stopped: {done:?}");
        }
        () = committed.notified() => {}
    }
    let saved = saved_cursor(&h, slug)
        .await
        .expect("the operation's id is saved");
    assert_eq!(saved.line, 0);
    // Someone else cancels it.
    let mut stats = Default::default();
    client
        .cancel_bulk_operation(&saved.operation, &mut stats)
        .await
        .unwrap();
    h.sim.advance_api_clock(Duration::from_secs(1));
    let canceled = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), None).await;
    let Err(BulkError::Incomplete(reason)) = canceled else {
        panic!("expected an incomplete run, got {canceled:?}");
    };
    assert!(reason.contains("canceled"), "{reason}");
    assert_eq!(saved_cursor(&h, slug).await, None);
    let source = Harness::source(slug);
    assert!(h.store.list_orders(&source).await.unwrap().is_empty());

    // Our own cancel: the next run's operation is canceled and forgotten.
    tokio::select! {
        done = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), Some(&committed)) => {
            panic!("should have been stopped: {done:?}");
        }
        () = committed.notified() => {}
    }
    let second = saved_cursor(&h, slug).await.expect("a new operation");
    assert_ne!(second.operation, saved.operation);
    let answer = cancel_backfill(&client, h.store.as_ref(), BulkResource::Orders)
        .await
        .unwrap()
        .expect("the operation as shopify answered");
    assert_eq!(answer.id, second.operation);
    assert_eq!(saved_cursor(&h, slug).await, None);

    let clock = async {
        loop {
            tokio::time::sleep(Duration::from_millis(5)).await;
            h.sim.advance_api_clock(Duration::from_millis(50));
        }
    };
    let run = tokio::select! {
        run = backfill_orders(&client, h.store.as_ref(), &settings, start_time(), None) => run.unwrap(),
        () = clock => unreachable!(),
    };
    assert_eq!(run.operations_started, 1);
    let stored = h.store.list_orders(&source).await.unwrap();
    assert_orders_match(&client, &stored, &h.sim_orders(slug)).await;
}

#[tokio::test]
async fn a_bulk_backfill_of_products_stores_exactly_the_simulators_products() {
    let h = Harness::start_seeded(42, 0.05).await;
    let slug = "mavena";
    let client = graphql_client(&h, slug);
    let run = backfill(
        &client,
        h.store.as_ref(),
        BulkResource::Products,
        &quick(20),
        start_time(),
        None,
    )
    .await
    .unwrap();
    let expected = h.sim_products(slug);
    let variants: u64 = expected
        .iter()
        .map(|p| p["variants"].as_array().unwrap().len() as u64)
        .sum();
    assert!(run.rejected.is_empty(), "{:?}", run.rejected);
    assert_eq!(run.inserted, expected.len() as u64);
    assert_eq!(run.objects, expected.len() as u64 + variants);
    assert_eq!(run.objects, run.object_count);
    let stored = h.store.list_products(&Harness::source(slug)).await.unwrap();
    common::assert_products_match(&stored, &expected);
    assert_eq!(run.watermark, stored.iter().map(|p| p.updated_at).max());
}

#[tokio::test]
async fn a_bulk_backfill_of_inventory_stores_exactly_the_tracked_levels() {
    let h = Harness::start_seeded(42, 0.05).await;
    let slug = "mavena";
    let client = graphql_client(&h, slug);
    let run = backfill(
        &client,
        h.store.as_ref(),
        BulkResource::InventoryLevels,
        &quick(20),
        start_time(),
        None,
    )
    .await
    .unwrap();
    assert!(run.rejected.is_empty(), "{:?}", run.rejected);
    assert_eq!(run.objects, run.object_count);
    let stored = h
        .store
        .list_inventory_levels(&Harness::source(slug))
        .await
        .unwrap();
    common::assert_levels_match(
        &stored,
        &h.sim_inventory_levels(slug),
        &h.sim_products(slug),
    );
    assert_eq!(run.inserted as usize, stored.len());
    assert_eq!(run.watermark, stored.iter().map(|l| l.updated_at).max());
}
