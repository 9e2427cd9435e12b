//! A local fake of the Shopify Admin API (REST and GraphQL), serving a
//! seeded synthetic merchant: the four brands of opsdeck's first customer,
//! with months of orders, a catalog with real-world gaps, customers and
//! stock, returns, disputes and abandoned checkouts.
//!
//! It exists so that `opsdeck demo`, the Shopify connector's tests (over real
//! HTTP) and the benchmarks have a Shopify that follows the real contract:
//! the same JSON shapes as the platform's payloads, cursor pagination with
//! `page_info` and `Link` headers, `status=open` as the default orders filter,
//! the leaky-bucket rate limit with 429s, and injectable faults; on GraphQL,
//! the calculated query cost with its bucket and `THROTTLED`, connections
//! with cursors and the `updated_at` search, and bulk operations producing
//! JSONL files. It shares no
//! types with the connector on purpose: the connector must parse what Shopify
//! sends, not what opsdeck thinks Shopify sends.
//!
//! The world is deterministic for a given `(seed, now, scale)`. Orders are
//! stored as compact plans (what was bought and when each later event
//! happens); the state at the current clock is derived from the plan, so
//! [`Simulator::advance_to`] makes orders ship, arrive, get cancelled or
//! refunded simply by moving the clock, while new orders arrive per the
//! brand's daily and weekly rhythm.
//!
//! # Layout
//!
//! - `brands`: the four brand profiles (sizes, time zones, fulfillment speed).
//! - `rhythm`: order intensity over time (day, week, growth, noise) and sampling.
//! - `catalog`: products, variants, stock per location, catalog gaps.
//! - `customers`: compact customers and their statistics.
//! - `aftersale`: returns and disputes, drawn per order from the seed.
//! - `checkouts`: abandoned checkouts, derived from the orders they follow.
//! - `orders`: the compact order plans and how new orders are planned.
//! - `lifecycle`: the state of an order at a moment, derived from its plan.
//! - `ids`: Shopify-like ids derived from positions (some above 2^53).
//! - `world`: all shops behind one mutex; generation and `advance_to`.
//! - `wire`: the private `Serialize` payload structs, rendered on request.
//! - `pagination`: `limit`, `page_info` tokens and keyset page selection.
//! - `resources`: endpoint semantics (filters, sorting, errors), HTTP-free.
//! - `rate_limit`: the per-shop leaky bucket.
//! - `faults`: deterministic injected failures.
//! - `server`: the axum router, authentication and headers.
//! - `webhooks`: `webhooks.json` subscriptions and signed deliveries of changes
//!   (and `bulk_operations/finish`).
//! - `graphql`: the GraphQL Admin API (`graphql.json`): parsing, cost and the
//!   cost bucket on its own clock, the payload structs, selections, root
//!   connections, bulk operations and their files (see its `# Layout`).
//! - `gorgias`: the fake Gorgias helpdesk shared by the brands (ticket plans,
//!   JSON, `/gorgias/api/...` with Basic auth, its own 40-per-20-s limit
//!   (on in the demo too), account-wide message and survey lists with
//!   cursors, and the same fault plan).

mod aftersale;
mod brands;
mod catalog;
mod checkouts;
mod customers;
mod faults;
mod gorgias;
mod graphql;
mod ids;
mod lifecycle;
mod orders;
mod pagination;
mod rate_limit;
mod resources;
mod rhythm;
mod server;
mod webhook_events;
mod webhooks;
mod wire;
mod world;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};

pub use faults::{Faults, HUGE_BODY_BYTES};
pub use webhooks::DeliveryStats;
use world::World;

/// Why Shopify would refuse `query` as a bulk operation (the `userErrors`
/// message `bulkOperationRunQuery` answers), or `Ok` when it would run it:
/// at least one connection, at most five, nested at most two deep, none
/// inside a list field, no top-level `node`/`nodes`. Lets a client check
/// every bulk query it sends without a server.
pub fn check_bulk_query(query: &str) -> Result<(), String> {
    graphql::schema::check_bulk_text(query)
}

/// What the synthetic world is generated from.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Same seed, same world.
    pub seed: u64,
    /// The moment the history ends; the world's clock starts here.
    pub now: jiff::Timestamp,
    /// 1.0 = merchant-sized (~6,400 orders); 0.1 for fast tests; 100+ for benchmarks.
    pub scale: f64,
}

/// One shop as a client needs to know it to connect.
#[derive(Clone, Debug, PartialEq)]
pub struct ShopInfo {
    pub brand_id: String,
    pub name: String,
    pub slug: String,
    /// "plentum.myshopify.com"
    pub shop_domain: String,
    /// Must be sent as `X-Shopify-Access-Token`.
    pub access_token: String,
    pub currency: String,
    /// IANA time zone; timestamps are rendered with its offset.
    pub time_zone: String,
    /// "subscription" | "dropship" | "standard"
    pub kind: String,
    /// RetroMedy is not launched: draft products, no orders.
    pub launched: bool,
}

/// The access scopes a simulated app's token has unless a test takes some
/// away ([`Simulator::set_access_scopes`]).
pub const ALL_SCOPES: [&str; 11] = [
    "read_orders",
    "read_all_orders",
    "read_products",
    "read_inventory",
    "read_customers",
    "write_webhooks",
    "read_returns",
    // Approving and declining returns from opsdeck's refunds queue.
    "write_returns",
    "read_shopify_payments_disputes",
    "read_checkouts",
    "read_merchant_managed_fulfillment_orders",
];

/// How far back orders are served to a token without `read_all_orders`.
pub const RECENT_ORDERS_SECONDS: i64 = 60 * 24 * 3600;

/// The fake Shopify; clones share one world.
#[derive(Clone)]
pub struct Simulator {
    world: Arc<Mutex<World>>,
}

impl Simulator {
    /// Generates the world for `(seed, now, scale)`.
    pub fn new(config: SimConfig) -> Simulator {
        Simulator {
            world: Arc::new(Mutex::new(World::new(&config))),
        }
    }

    fn lock(&self) -> MutexGuard<'_, World> {
        self.world
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// All four brands, RetroMedy with `launched: false`.
    pub fn shops(&self) -> Vec<ShopInfo> {
        self.lock().shops.iter().map(|s| s.info.clone()).collect()
    }

    /// Serves every shop under `/shops/{slug}/admin/api/{version}/...`
    /// (REST resources and `graphql.json`), bulk operation files under
    /// `/shops/{slug}/bulk/`, and the helpdesk under `/gorgias/api/`.
    pub fn router(&self) -> axum::Router {
        server::router(self.clone())
    }

    /// Serves on an already bound listener until `shutdown` completes.
    pub async fn serve(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        axum::serve(listener, self.router())
            .with_graceful_shutdown(shutdown)
            .await
    }

    /// `http://{addr}/shops/{slug}`; a client appends `/admin/api/{version}/orders.json`.
    pub fn shop_base_url(addr: SocketAddr, slug: &str) -> String {
        format!("http://{addr}/shops/{slug}")
    }

    /// Moves the clock forward (never back): new orders arrive, planned
    /// shipments, deliveries, cancellations and refunds happen, `updated_at` moves.
    /// Each change is also sent as a signed webhook to the addresses
    /// subscribed to its topic (see `webhooks`), and each helpdesk change
    /// as an event of its HTTP integration, once set up.
    pub fn advance_to(&self, now: jiff::Timestamp) {
        let mut world = self.lock();
        let before = webhooks::snapshot(&world);
        let helpdesk_before = world.now;
        world.advance_to(now.as_second());
        graphql::bulk::announce(&mut world);
        if let Some(before) = before {
            webhooks::enqueue_changes(&mut world, before);
        }
        if world.helpdesk.integration.url.is_some() && world.now > helpdesk_before {
            let events = gorgias::hooks::events(&world.helpdesk, helpdesk_before, world.now);
            let integration = &mut world.helpdesk.integration;
            integration
                .outbox
                .extend(events.into_iter().map(|(_, body)| body));
            integration.wake.notify_one();
        }
    }

    /// Stops the GraphQL clock (cost buckets, bulk operations) from
    /// following real time: from now on it moves only with
    /// [`Simulator::advance_to`] and [`Simulator::advance_api_clock`], so a
    /// test can watch a bucket restore or an operation run without sleeping.
    pub fn use_manual_api_clock(&self) {
        self.lock().api_clock.make_manual();
    }

    /// Moves a manual GraphQL clock (see [`Simulator::use_manual_api_clock`])
    /// without moving the world: bulk operations that finish send their
    /// `bulk_operations/finish` webhook.
    pub fn advance_api_clock(&self, by: std::time::Duration) {
        let mut world = self.lock();
        world.api_clock.advance(by);
        graphql::bulk::announce(&mut world);
    }

    /// The world's current clock.
    pub fn now(&self) -> jiff::Timestamp {
        jiff::Timestamp::from_second(self.lock().now).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
    }

    /// Faults for the following requests; `Faults::default()` turns them off.
    pub fn set_faults(&self, faults: Faults) {
        let mut world = self.lock();
        world.faults = faults;
        world.fault_counter = 0;
    }

    /// The scopes the token of shop `slug` was granted, as
    /// `access_scopes.json` lists them; `None` makes that endpoint answer
    /// 404 (as for a token that may not read it) while the scopes in force
    /// stay `hidden_scopes`. Without `read_all_orders`, orders created over
    /// 60 days ago are left out of listings and single reads (not out of
    /// `orders/count`), with no word, as Shopify does.
    /// The scopes in force for shop `slug`'s token.
    pub fn access_scopes(&self, slug: &str) -> Vec<String> {
        self.lock()
            .shop(slug)
            .map(|shop| shop.scopes.clone())
            .unwrap_or_default()
    }

    pub fn set_access_scopes(&self, slug: &str, listed: Option<&[&str]>, hidden_scopes: &[&str]) {
        let mut world = self.lock();
        if let Some(shop) = world.shop_mut(slug) {
            shop.scopes_endpoint = listed.is_some();
            let scopes = listed.unwrap_or(hidden_scopes);
            shop.scopes = scopes.iter().map(|s| s.to_string()).collect();
        }
    }

    /// Changes the currency shop `slug` reports in `shop.json` and renders
    /// its orders in (a shop whose currency differs from the configuration).
    /// The metafields set on a shop (`metafieldsSet`), as
    /// `{namespace, key, type, value}`, in the order set.
    pub fn shop_metafields(&self, slug: &str) -> Vec<serde_json::Value> {
        let world = self.lock();
        world
            .shop(slug)
            .map(|shop| {
                shop.metafields
                    .iter()
                    .map(|m| serde_json::json!({ "namespace": m.namespace, "key": m.key, "type": m.kind, "value": m.value }))
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn set_shop_currency(&self, slug: &str, currency: &str) {
        let mut world = self.lock();
        if let Some(shop) = world.shop_mut(slug) {
            shop.info.currency = currency.to_string();
        }
    }

    /// The shops' leaky buckets, REST's request bucket and GraphQL's cost
    /// bucket (on by default); off lets benchmarks run unthrottled (GraphQL
    /// answers still report their cost). The helpdesk's limit is apart:
    /// [`Simulator::set_gorgias_rate_limit`].
    pub fn set_rate_limit(&self, enabled: bool) {
        self.lock().rate_limit = enabled;
    }

    /// Gorgias's call limit, 40 calls per 20 s (on by default, in the demo
    /// too); off only for tests of something else than the helpdesk's cost.
    pub fn set_gorgias_rate_limit(&self, enabled: bool) {
        self.lock().helpdesk.limit.enabled = enabled;
    }

    /// Runs the helpdesk's call limit on a faster clock: the same 40 calls,
    /// draining over `window` instead of 20 s (tests: a sync that takes
    /// minutes against Gorgias pays every call and takes a second).
    /// `Retry-after` then carries fractions of a second.
    pub fn set_gorgias_window(&self, window: std::time::Duration) {
        self.lock().helpdesk.limit.window = window.max(std::time::Duration::from_millis(1));
    }

    /// Helpdesk calls refused with 429 by its call limit (injected faults
    /// not included).
    pub fn gorgias_refused_count(&self) -> u64 {
        self.lock().helpdesk.limit.refused
    }

    /// Every order of the shop (oldest first), exactly as `orders/{id}.json` renders it.
    pub fn orders_json(&self, slug: &str) -> Vec<serde_json::Value> {
        let world = self.lock();
        let Some(shop) = world.shop(slug) else {
            return Vec::new();
        };
        (0..shop.book.orders.len() as u32)
            .map(|i| wire::order_json(shop, i, world.now))
            .collect()
    }

    /// Every product of the shop, drafts and archived included.
    pub fn products_json(&self, slug: &str) -> Vec<serde_json::Value> {
        let world = self.lock();
        let Some(shop) = world.shop(slug) else {
            return Vec::new();
        };
        (0..shop.catalog.products.len())
            .map(|i| wire::product_json(shop, i))
            .collect()
    }

    /// Every inventory level (each variant at each location).
    pub fn inventory_levels_json(&self, slug: &str) -> Vec<serde_json::Value> {
        let world = self.lock();
        let Some(shop) = world.shop(slug) else {
            return Vec::new();
        };
        let mut levels = Vec::new();
        for (p, product) in shop.catalog.products.iter().enumerate() {
            for v in 0..product.variants.len() {
                for l in 0..shop.catalog.locations.len() {
                    levels.push(wire::inventory_level_json(shop, p, v, l));
                }
            }
        }
        levels
    }

    /// Every customer of the shop, with `orders_count` and `total_spent`.
    pub fn customers_json(&self, slug: &str) -> Vec<serde_json::Value> {
        let world = self.lock();
        let Some(shop) = world.shop(slug) else {
            return Vec::new();
        };
        (0..shop.book.customers.len() as u32)
            .map(|i| wire::customer_json(shop, i))
            .collect()
    }

    /// Every node of the GraphQL root connection `root` (`orders`,
    /// `customers`, `disputes`, `abandonedCheckouts`) that exists at the
    /// clock, rendered whole before a query's projection (a nested
    /// connection's nodes sit under `__nodes`, e.g. an order's
    /// `returns.__nodes`): what a GraphQL sync of that resource must store.
    pub fn graphql_nodes(&self, slug: &str, root: &str) -> Vec<serde_json::Value> {
        graphql::root_nodes(&self.lock(), slug, root)
    }

    /// How many orders the shop has (cheap; `orders_json` renders them all).
    pub fn order_count(&self, slug: &str) -> usize {
        self.lock().shop(slug).map_or(0, |s| s.book.orders.len())
    }

    /// Requests received by the shop (including 401s and 429s), to measure API usage.
    pub fn request_count(&self, slug: &str) -> u64 {
        self.lock().shop(slug).map_or(0, |s| s.requests)
    }

    /// `http://{addr}/gorgias`; a client appends `/api/tickets`.
    pub fn gorgias_base_url(addr: SocketAddr) -> String {
        format!("http://{addr}/gorgias")
    }

    /// The Basic-auth user (an email) and API key of the simulated helpdesk.
    pub fn gorgias_credentials(&self) -> (String, String) {
        let world = self.lock();
        (world.helpdesk.user.clone(), world.helpdesk.api_key.clone())
    }

    /// Every ticket that exists at the current clock (trashed and spam
    /// included), oldest first, exactly as `/api/tickets` renders it.
    pub fn tickets_json(&self) -> Vec<serde_json::Value> {
        let world = self.lock();
        let now = world.now;
        world
            .helpdesk
            .tickets
            .iter()
            .filter(|t| t.visible(now))
            .map(|t| gorgias::wire::ticket_json(t, now))
            .collect()
    }

    /// Every message of every existing ticket, by ticket then time.
    pub fn messages_json(&self) -> Vec<serde_json::Value> {
        let world = self.lock();
        let now = world.now;
        world
            .helpdesk
            .tickets
            .iter()
            .filter(|t| t.visible(now))
            .flat_map(|t| gorgias::wire::messages_json(t, now))
            .collect()
    }

    /// Every satisfaction survey sent so far (unanswered ones with a null score).
    pub fn surveys_json(&self) -> Vec<serde_json::Value> {
        let world = self.lock();
        let now = world.now;
        world
            .helpdesk
            .tickets
            .iter()
            .filter(|t| t.visible(now))
            .filter_map(|t| gorgias::wire::survey_json(t, now))
            .collect()
    }

    /// Each brand's helpdesk address and its top-issue tag, if any: what
    /// attribution rules can key on. Tickets written to the group inbox
    /// carry neither.
    pub fn gorgias_brand_desks(&self) -> Vec<(String, String, Option<String>)> {
        gorgias::DESKS
            .iter()
            .map(|d| {
                (
                    d.brand_id.to_string(),
                    d.address.to_string(),
                    d.top_issue.map(|(tag, _)| tag.to_string()),
                )
            })
            .collect()
    }

    /// The truth attribution has to find: each existing ticket's id and the
    /// brand it is about, `None` for a stranger writing to the group inbox
    /// (no rule can know; it must land in the unattributed bucket).
    pub fn gorgias_ticket_brands(&self) -> std::collections::BTreeMap<String, Option<String>> {
        let world = self.lock();
        let now = world.now;
        world
            .helpdesk
            .tickets
            .iter()
            .filter(|t| t.visible(now))
            .map(|t| {
                let brand = t.brand.map(|d| gorgias::DESKS[d].brand_id.to_string());
                (t.id.to_string(), brand)
            })
            .collect()
    }

    /// Requests the helpdesk received (401s and 429s included).
    pub fn gorgias_request_count(&self) -> u64 {
        self.lock().helpdesk.requests
    }
}
