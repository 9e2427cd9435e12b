//! A GraphQL shop end to end, the real application against the simulator
//! behind a small proxy that plays Shopify's part the simulator does not
//! (a deprecation header) or holds the bulk file mid-way (so a kill lands
//! inside it without a race):
//!
//! 1. Shopify answering another API version than the pinned one (the
//!    simulator's world is a year on, so the pinned version fell forward)
//!    and a deprecation header: /sources shows both, the deprecation is a
//!    notice on the resource (not a failure), and the note is written once,
//!    not on every run.
//! 2. The real binary, `api = "graphql"`, backfilling by bulk operation
//!    under throttling and injected 5xx, killed with SIGKILL while it reads
//!    the JSONL (seen from the bulk cursor it saved, not a sleep), then
//!    started again: it resumes the file, runs incrementally, and the store
//!    holds exactly the simulator's data set — for two seeds.

#[path = "../../../sync/tests/common/mod.rs"]
mod sync_common;

use crate::helpers;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, StatusCode, Uri};
use axum::Router;
use jiff::{Timestamp, ToSpan};
use opsdeck::demo::demo_config;
use opsdeck_domain::{ShopifyApi, SourceId};
use opsdeck_simulator::{Faults, SimConfig, Simulator};
use opsdeck_sources::shopify::graphql::wire::legacy_id;
use opsdeck_sources::shopify::graphql::{
    CostBucket, GraphqlClient, GraphqlQuery, PagedQuery, GRAPHQL_API_VERSION,
};
use opsdeck_sources::ShopifySettings;
use opsdeck_store::{Role, Store};
use opsdeck_sync::shopify::bulk::BulkCursor;
use opsdeck_sync::ShopifyResource;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// What the proxy adds to the simulator.
#[derive(Clone)]
struct Proxy {
    upstream: SocketAddr,
    http: reqwest::Client,
    /// Sent as `X-Shopify-API-Deprecated-Reason` with every GraphQL answer.
    deprecation: Option<&'static str>,
    /// The first bulk file stops after this many root objects (orders)
    /// until `release` turns true.
    hold_after_roots: Option<usize>,
    release: watch::Receiver<bool>,
    held: Arc<AtomicBool>,
}

/// Reads a bulk file from upstream chunk by chunk, counting root lines
/// (those without `__parentId`), and waits for the release once `hold_at`
/// of them went through.
struct Feed {
    upstream: reqwest::Response,
    roots: usize,
    partial: Vec<u8>,
    hold_at: Option<usize>,
    release: watch::Receiver<bool>,
}

impl Feed {
    fn count(&mut self, chunk: &[u8]) {
        self.partial.extend_from_slice(chunk);
        while let Some(end) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=end).collect();
            let parent = b"__parentId";
            if !line.windows(parent.len()).any(|w| w == parent) {
                self.roots += 1;
            }
        }
    }
}

async fn forward(
    State(p): State<Proxy>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let path = uri.path_and_query().map_or("/", |x| x.as_str());
    let mut request = p
        .http
        .request(method, format!("http://{}{path}", p.upstream))
        .body(body);
    // The Host goes through, so the simulator's file links point here.
    for (name, value) in headers.iter().filter(|(n, _)| *n != "content-length") {
        request = request.header(name, value);
    }
    let Ok(upstream) = request.send().await else {
        return Response::builder()
            .status(StatusCode::BAD_GATEWAY)
            .body(Body::empty())
            .unwrap();
    };
    let mut response = Response::builder().status(upstream.status());
    for (name, value) in upstream
        .headers()
        .iter()
        .filter(|(n, _)| *n != "content-length" && *n != "transfer-encoding")
    {
        response = response.header(name, value);
    }
    if let Some(reason) = p
        .deprecation
        .filter(|_| uri.path().ends_with("/graphql.json"))
    {
        response = response.header("X-Shopify-API-Deprecated-Reason", reason);
    }
    let hold_at = p
        .hold_after_roots
        .filter(|_| uri.path().ends_with(".jsonl") && !p.held.swap(true, Ordering::SeqCst));
    let feed = Feed {
        upstream,
        roots: 0,
        partial: Vec::new(),
        hold_at,
        release: p.release.clone(),
    };
    let stream = futures::stream::unfold(feed, |mut feed| async move {
        if feed.hold_at.is_some_and(|n| feed.roots >= n) {
            feed.hold_at = None;
            let _ = feed.release.wait_for(|released| *released).await;
        }
        match feed.upstream.chunk().await {
            Ok(Some(chunk)) => {
                feed.count(&chunk);
                Some((Ok::<Bytes, std::io::Error>(chunk), feed))
            }
            Ok(None) => None,
            Err(e) => Some((Err(std::io::Error::other(e)), feed)),
        }
    });
    response.body(Body::from_stream(stream)).unwrap()
}

/// Serves the proxy on a loopback port; `release` ends a hold.
async fn serve_proxy(
    upstream: SocketAddr,
    deprecation: Option<&'static str>,
    hold_after_roots: Option<usize>,
) -> (SocketAddr, watch::Sender<bool>) {
    let (release, released) = watch::channel(false);
    let proxy = Proxy {
        upstream,
        http: reqwest::Client::new(),
        deprecation,
        hold_after_roots,
        release: released,
        held: Arc::new(AtomicBool::new(false)),
    };
    let app = Router::new().fallback(forward).with_state(proxy);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, release)
}

const DEPRECATION: &str =
    "https://shopify.dev/docs/api/admin-graphql/2026-01/queries/currentBulkOperation";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_answering_version_and_a_deprecation_show_on_sources() {
    // A year after 2026-01 was released, Shopify answers it with the
    // oldest version it still supports.
    let now: Timestamp = "2027-03-10T18:05:00Z".parse().unwrap();
    let simulator = Simulator::new(SimConfig {
        seed: 5,
        now,
        scale: 0.03,
    });
    simulator.set_rate_limit(false);
    let sim_addr = helpers::serve_simulator(&simulator).await;
    let (proxy, _release) = serve_proxy(sim_addr, Some(DEPRECATION), None).await;
    let dir = opsdeck_store::testing::sqlite_temp().await.1;
    let mut config = demo_config(
        &simulator.shops(),
        proxy,
        "127.0.0.1:0".parse().unwrap(),
        format!("sqlite:{}", dir.dir().join("versions.db").display()),
        Duration::from_secs(1),
    )
    .unwrap();
    config
        .shopify
        .retain(|s| s.source.as_str() == "shopify-mavena");
    config.shopify[0].api = ShopifyApi::Graphql;
    let running = helpers::start(&config, Arc::new(move || now)).await;
    let base = helpers::base(&running);
    let client = helpers::logged_in_client(&running, "ops", Role::Ops).await;
    let source = SourceId::parse("shopify-mavena").unwrap();

    let deadline = Instant::now() + Duration::from_secs(60);
    let orders = loop {
        let state = running
            .store
            .sync_state(&source, ShopifyResource::Orders.as_str())
            .await
            .unwrap();
        // The incremental run after the backfill says it.
        if let Some(state) = state.filter(|s| {
            s.running_since.is_none()
                && s.last_error
                    .as_deref()
                    .is_some_and(|e| e.contains("deprecated GraphQL call"))
        }) {
            break state;
        }
        assert!(Instant::now() < deadline, "no GraphQL orders run noted it");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    // A notice on the resource, not a failure.
    assert_eq!(orders.consecutive_failures, 0, "{orders:?}");
    let said = orders.last_error.clone().unwrap_or_default();
    assert!(
        said.contains("deprecated GraphQL call") && said.contains(DEPRECATION),
        "{said}"
    );
    let notes = running.store.api_versions().await.unwrap();
    let graphql = notes
        .iter()
        .find(|n| n.api == ShopifyApi::Graphql)
        .expect("a GraphQL note");
    assert_eq!(
        (graphql.requested.as_str(), graphql.answered.as_deref()),
        (GRAPHQL_API_VERSION, Some("2026-04"))
    );

    let page = client
        .get(format!("{base}/sources"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("GraphQL requested 2026-01, answered 2026-04"),
        "{page}"
    );
    assert!(page.contains("Deprecated GraphQL call"), "{page}");
    // As the page escapes it.
    assert!(page.contains(&DEPRECATION.replace('/', "&#x2f;")), "{page}");

    // Later runs see the same answers: the note is not written again.
    let runs_before = orders.requests;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = running
            .store
            .sync_state(&source, ShopifyResource::Orders.as_str())
            .await
            .unwrap()
            .unwrap();
        if state.requests > runs_before && state.running_since.is_none() {
            break;
        }
        assert!(Instant::now() < deadline, "no later orders run");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let again = running.store.api_versions().await.unwrap();
    assert_eq!(again, notes, "a note rewritten without a change");
    running.stop().await.unwrap();
}

mod kill {
    use super::sync_common::{assert_levels_match, assert_orders_match, assert_products_match};
    use super::*;
    use std::process::{Child, Command, Stdio};

    const SLUG: &str = "mavena";
    /// Orders per store commit of the backfill (the default page).
    const PAGE: usize = 250;

    fn spawn(config: &std::path::Path, token: &str) -> Child {
        Command::new(env!("CARGO_BIN_EXE_opsdeck"))
            .args(["serve", "--config"])
            .arg(config)
            .env("KILL_SHOP_TOKEN", token)
            .env("OPSDECK_LOG", "error")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap()
    }

    /// Each order's `updatedAt` as GraphQL gives it (a return moves it,
    /// and only GraphQL sees returns).
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

    async fn state(
        store: &dyn Store,
        source: &SourceId,
        resource: ShopifyResource,
    ) -> Option<opsdeck_store::SyncState> {
        store.sync_state(source, resource.as_str()).await.unwrap()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_bulk_backfill_killed_mid_file_converges_after_restart_for_two_seeds() {
        for seed in [8, 21] {
            killed_mid_file(seed).await;
        }
    }

    async fn killed_mid_file(seed: u64) {
        let start: Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
        let simulator = Simulator::new(SimConfig {
            seed,
            now: start,
            scale: 0.4,
        });
        // Throttling: the real cost bucket, plus injected THROTTLED and 5xx.
        simulator.set_rate_limit(true);
        simulator.set_faults(Faults {
            http_429_rate: 0.03,
            http_5xx_rate: 0.05,
            seed,
            ..Faults::default()
        });
        let sim_addr = helpers::serve_simulator(&simulator).await;
        let (proxy, release) = serve_proxy(sim_addr, None, Some(PAGE + 50)).await;
        let shop = simulator
            .shops()
            .into_iter()
            .find(|s| s.slug == SLUG)
            .unwrap();
        let total = simulator.orders_json(SLUG).len();
        assert!(total > 2 * PAGE, "seed {seed}: only {total} orders");
        let dir = opsdeck_store::testing::sqlite_temp().await.1;
        let db = dir.dir().join("bulk-kill.db");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = dir.dir().join("opsdeck.toml");
        std::fs::write(
            &config,
            format!(
                r#"[server]
listen = "127.0.0.1:{port}"
[database]
url = "sqlite:{db}"
[[brands]]
id = "{brand}"
name = "Mavena"
kind = "standard"
time_zone = "{tz}"
currency = "{currency}"
[brands.shopify]
shop_domain = "{domain}"
access_token_env = "KILL_SHOP_TOKEN"
base_url = "{base}"
api = "graphql"
[brands.shopify.sync]
orders_every = "1s"
products_every = "1s"
inventory_every = "1s"
"#,
                db = db.display(),
                brand = shop.brand_id,
                tz = shop.time_zone,
                currency = shop.currency,
                domain = shop.shop_domain,
                base = Simulator::shop_base_url(proxy, SLUG),
            ),
        )
        .unwrap();
        let source = SourceId::parse(&format!("shopify-{}", shop.brand_id)).unwrap();

        // The first process: killed once it committed a page of the file
        // (its saved bulk cursor says so) and while the rest is held back.
        let mut child = spawn(&config, &shop.access_token);
        let deadline = Instant::now() + Duration::from_secs(120);
        let (store, cursor) = loop {
            assert!(
                Instant::now() < deadline,
                "seed {seed}: the backfill never committed a page of the file"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
            if !db.exists() {
                continue;
            }
            let Ok(store) = opsdeck_store::connect(&format!("sqlite:{}", db.display())).await
            else {
                continue;
            };
            let cursor = store
                .sync_state(&source, ShopifyResource::Orders.as_str())
                .await
                .ok()
                .flatten()
                .and_then(|s| s.cursor)
                .as_deref()
                .and_then(BulkCursor::parse);
            if let Some(cursor) = cursor.filter(|c| c.line > 0) {
                break (store, cursor);
            }
        };
        child.kill().unwrap(); // SIGKILL: no shutdown path runs
        child.wait().unwrap();
        let committed = store.list_orders(&source).await.unwrap().len();
        assert!(
            (PAGE..total).contains(&committed),
            "seed {seed}: killed with {committed} of {total} orders stored"
        );
        let saved = state(store.as_ref(), &source, ShopifyResource::Orders)
            .await
            .unwrap();
        assert_eq!(
            saved.cursor.as_deref().and_then(BulkCursor::parse),
            Some(cursor.clone()),
            "seed {seed}: the cursor of the last commit survives the kill"
        );
        assert!(
            saved.watermark.is_none(),
            "seed {seed}: watermark moved mid-file"
        );

        // The world moves on meanwhile: the incremental run must catch it.
        simulator.advance_to(start.checked_add(6.hours()).unwrap());
        release.send_replace(true);
        let restarted = Timestamp::now();
        let mut child = spawn(&config, &shop.access_token);
        let want: BTreeSet<String> = simulator
            .orders_json(SLUG)
            .iter()
            .map(|o| o["id"].to_string())
            .collect();
        let deadline = Instant::now() + Duration::from_secs(180);
        loop {
            let mut idle = true;
            let mut states = Vec::new();
            for resource in ShopifyResource::ALL {
                let s = state(store.as_ref(), &source, resource).await;
                states.push(s.clone());
                // A run of each completed since the restart.
                idle &= s.is_some_and(|s| {
                    s.cursor.is_none()
                        && s.watermark.is_some()
                        && s.last_success_at.is_some_and(|t| t > restarted)
                });
            }
            let got: BTreeSet<String> = store
                .list_orders(&source)
                .await
                .unwrap()
                .into_iter()
                .map(|o| o.external_id)
                .collect();
            if idle && got == want {
                break;
            }
            let late = Instant::now() >= deadline;
            let missing: Vec<_> = simulator
                .orders_json(SLUG)
                .into_iter()
                .filter(|o| !got.contains(&o["id"].to_string()))
                .map(|o| (o["id"].clone(), o["updated_at"].clone()))
                .collect();
            assert!(
                !late,
                "seed {seed}: after restart {} of {} orders, idle {idle}; missing {missing:?} {states:#?}",
                got.len(),
                want.len()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        child.kill().unwrap();
        child.wait().unwrap();

        // Exactly the simulator's data set (faults off to read it back).
        simulator.set_faults(Faults::default());
        simulator.set_rate_limit(false);
        let mut settings = ShopifySettings::new(
            source.clone(),
            opsdeck_domain::BrandId::parse(&shop.brand_id).unwrap(),
            opsdeck_domain::Currency::parse(&shop.currency).unwrap(),
            "unused.myshopify.com",
            opsdeck_domain::Secret::new(shop.access_token.to_string()),
        )
        .unwrap();
        settings.base_url = url::Url::parse(&Simulator::shop_base_url(sim_addr, SLUG)).unwrap();
        let graphql =
            GraphqlClient::new(settings, GRAPHQL_API_VERSION, Arc::new(CostBucket::new())).unwrap();
        let times = graphql_updated_at(&graphql).await;
        let expected: Vec<Value> = simulator
            .orders_json(SLUG)
            .into_iter()
            .map(|mut order| {
                let id = order["id"].to_string();
                order["updated_at"] = Value::from(times[&id].to_string());
                order
            })
            .collect();
        let orders = store.list_orders(&source).await.unwrap();
        assert_orders_match(&orders, &expected);
        let products = simulator.products_json(SLUG);
        assert_products_match(&store.list_products(&source).await.unwrap(), &products);
        assert_levels_match(
            &store.list_inventory_levels(&source).await.unwrap(),
            &simulator.inventory_levels_json(SLUG),
            &products,
        );
        eprintln!(
            "seed {seed}: killed at line {} ({committed} of {total} orders stored); \
             after restart {} orders, exactly the simulator's",
            cursor.line,
            orders.len()
        );
    }
}
