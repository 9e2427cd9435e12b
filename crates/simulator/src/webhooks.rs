//! Webhooks, as Shopify does them: subscriptions managed through
//! `webhooks.json`, and signed deliveries of the world's changes.
//!
//! When [`crate::Simulator::advance_to`] moves the clock, every order,
//! product and stock level that changed becomes a delivery to each address
//! subscribed to its topic: `orders/create` for new orders, `orders/updated`
//! for changed ones (plus `fulfillments/create` for each new shipment),
//! `products/update`, and `inventory_levels/update` per location; returns,
//! disputes, abandoned checkouts and customers as
//! [`crate::webhook_events`] finds their changes, each triggered at the
//! moment it happened. Bodies are
//! the bare resource, exactly as the REST endpoints render it, signed with
//! the shop's own webhook secret ([`crate::Simulator::webhook_secret`]) and
//! sent with Shopify's headers. A non-2xx answer or a network error is
//! retried a bounded number of times with growing pauses (Shopify retries
//! 8 times over 4 hours; here the pauses are milliseconds).
//!
//! Faults (off by default): each delivery may be sent twice with the same
//! webhook id (`webhook_duplicate_rate`), and one advance's deliveries may
//! be sent in shuffled order (`webhook_reorder`).

use crate::world::{Shop, World};
use crate::{wire, Simulator};
use base64::Engine as _;
use hmac::{Hmac, Mac};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

/// Topics a subscription may name (those the simulator can send, and a few
/// more Shopify has that it never sends).
pub const TOPICS: &[&str] = &[
    "orders/create",
    "orders/updated",
    "orders/cancelled",
    "orders/fulfilled",
    "orders/partially_fulfilled",
    "fulfillments/create",
    "fulfillments/update",
    "refunds/create",
    "products/create",
    "products/update",
    "products/delete",
    "inventory_levels/update",
    "app/uninstalled",
    "customers/create",
    "customers/update",
    "bulk_operations/finish",
    // The resources only GraphQL lists, sent as they change
    // ([`crate::webhook_events`]).
    "returns/request",
    "returns/approve",
    "returns/decline",
    "returns/cancel",
    "returns/close",
    "disputes/create",
    "disputes/update",
    "checkouts/create",
    "checkouts/update",
    // Accepted so opsdeck can subscribe to them; the simulator's world
    // never reopens, processes or edits a return, nor deletes a checkout.
    "returns/reopen",
    "returns/process",
    "returns/update",
    "checkouts/delete",
];

/// Attempts per delivery, the first included.
const MAX_ATTEMPTS: u32 = 5;
const FIRST_RETRY: Duration = Duration::from_millis(50);

#[derive(Clone, Debug)]
pub(crate) struct Subscription {
    pub id: u64,
    pub slug: String,
    pub topic: String,
    pub address: String,
    pub api_version: String,
    pub created_at: i64,
}

#[derive(Clone, Debug)]
pub(crate) struct Delivery {
    address: String,
    topic: String,
    shop_domain: String,
    api_version: String,
    webhook_id: String,
    event_id: String,
    triggered_at: String,
    signature: String,
    body: Vec<u8>,
}

/// Delivery counters, for tests and the demo.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DeliveryStats {
    /// HTTP attempts made, retries and duplicates included.
    pub attempts: u64,
    /// Deliveries answered 2xx.
    pub delivered: u64,
    /// Deliveries given up on after every retry failed.
    pub abandoned: u64,
}

#[derive(Default)]
pub(crate) struct WebhookState {
    pub subscriptions: Vec<Subscription>,
    next_id: u64,
    next_delivery: u64,
    outbox: VecDeque<Delivery>,
    in_flight: usize,
    pub stats: DeliveryStats,
    sender_started: bool,
    pub wake: Arc<Notify>,
}

/// A shop's webhook signing secret, derived from its access token.
pub(crate) fn secret_of(shop: &Shop) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(shop.info.access_token.as_bytes()).expect("any key length");
    mac.update(b"webhook signing secret");
    let bytes = mac.finalize().into_bytes();
    let hex: String = bytes[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("shpss_{hex}")
}

fn sign(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn subscription_json(s: &Subscription, tz: &jiff::tz::TimeZone) -> Value {
    json!({
        "id": s.id,
        "address": s.address,
        "topic": s.topic,
        "created_at": wire::timestamp(s.created_at, tz),
        "updated_at": wire::timestamp(s.created_at, tz),
        "format": "json",
        "fields": [],
        "metafield_namespaces": [],
        "api_version": s.api_version,
        "private_metafield_namespaces": [],
    })
}

/// `GET webhooks.json` (filters `topic`, `address`).
pub(crate) fn list(world: &World, slug: &str, query: &[(String, String)]) -> (u16, Value) {
    let Some(shop) = world.shop(slug) else {
        return (404, json!({ "errors": "Not Found" }));
    };
    let filter = |key: &str| query.iter().find(|(k, _)| k == key).map(|(_, v)| v);
    let hooks: Vec<Value> = world
        .webhooks
        .subscriptions
        .iter()
        .filter(|s| s.slug == slug)
        .filter(|s| filter("topic").is_none_or(|t| *t == s.topic))
        .filter(|s| filter("address").is_none_or(|a| *a == s.address))
        .map(|s| subscription_json(s, &shop.tz))
        .collect();
    (200, json!({ "webhooks": hooks }))
}

/// `POST webhooks.json` with `{"webhook": {"topic", "address", "format"}}`.
pub(crate) fn create(world: &mut World, slug: &str, version: &str, body: &[u8]) -> (u16, Value) {
    let now = world.now;
    let Some(tz) = world.shop(slug).map(|s| s.tz.clone()) else {
        return (404, json!({ "errors": "Not Found" }));
    };
    let parsed: Value = match serde_json::from_slice(body) {
        Ok(v) => v,
        Err(_) => {
            return (
                400,
                json!({ "errors": { "webhook": "Required parameter missing or invalid" } }),
            )
        }
    };
    let hook = &parsed["webhook"];
    let topic = hook["topic"].as_str().unwrap_or_default().to_string();
    let address = hook["address"].as_str().unwrap_or_default().to_string();
    let format = hook["format"].as_str().unwrap_or("json");
    if !TOPICS.contains(&topic.as_str()) {
        return (
            422,
            json!({ "errors": { "topic": [format!("Invalid topic specified: {topic}. Topic must be one of the following: {}", TOPICS.join(", "))] } }),
        );
    }
    if !(address.starts_with("https://") || address.starts_with("http://")) {
        return (
            422,
            json!({ "errors": { "address": ["is not a valid URL"] } }),
        );
    }
    if format != "json" {
        return (422, json!({ "errors": { "format": ["is not supported"] } }));
    }
    let state = &mut world.webhooks;
    if state
        .subscriptions
        .iter()
        .any(|s| s.slug == slug && s.topic == topic && s.address == address)
    {
        return (
            422,
            json!({ "errors": { "address": ["for this topic has already been taken"] } }),
        );
    }
    state.next_id += 1;
    let sub = Subscription {
        id: 1_000_000_000_000 + state.next_id,
        slug: slug.to_string(),
        topic,
        address,
        api_version: version.to_string(),
        created_at: now,
    };
    let out = subscription_json(&sub, &tz);
    state.subscriptions.push(sub);
    (201, json!({ "webhook": out }))
}

/// `DELETE webhooks/{id}.json`.
pub(crate) fn delete(world: &mut World, slug: &str, id: u64) -> (u16, Value) {
    let subs = &mut world.webhooks.subscriptions;
    let before = subs.len();
    subs.retain(|s| !(s.slug == slug && s.id == id));
    if subs.len() == before {
        (404, json!({ "errors": "Not Found" }))
    } else {
        (200, json!({}))
    }
}

/// What changed can only be found by comparing with the state before.
pub(crate) struct Snapshot {
    /// The clock before it moved: the events after it are new.
    now: i64,
    shops: Vec<ShopSnapshot>,
}

struct ShopSnapshot {
    /// Customers' `updated_at`, where `customers/update` is subscribed.
    customer_updated: Vec<i64>,
    order_updated: Vec<i64>,
    order_fulfillments: Vec<usize>,
    product_updated: Vec<i64>,
    stock_updated: Vec<Vec<i64>>,
}

fn fulfillment_count(order: &Value) -> usize {
    order["fulfillments"].as_array().map_or(0, Vec::len)
}

/// Taken before the clock moves; `None` when nobody is subscribed.
pub(crate) fn snapshot(world: &World) -> Option<Snapshot> {
    if world.webhooks.subscriptions.is_empty() {
        return None;
    }
    let shops = world
        .shops
        .iter()
        .map(|shop| {
            let subscribed = world
                .webhooks
                .subscriptions
                .iter()
                .any(|s| s.slug == shop.info.slug);
            let wants_fulfillments = world
                .webhooks
                .subscriptions
                .iter()
                .any(|s| s.slug == shop.info.slug && s.topic == "fulfillments/create");
            let wants_customers = world
                .webhooks
                .subscriptions
                .iter()
                .any(|s| s.slug == shop.info.slug && s.topic == "customers/update");
            ShopSnapshot {
                customer_updated: if wants_customers {
                    shop.book.customers.iter().map(|c| c.updated_at).collect()
                } else {
                    Vec::new()
                },
                order_updated: if subscribed {
                    shop.book.orders.iter().map(|o| o.updated_at).collect()
                } else {
                    Vec::new()
                },
                order_fulfillments: if wants_fulfillments {
                    (0..shop.book.orders.len() as u32)
                        .map(|i| fulfillment_count(&wire::order_json(shop, i, world.now)))
                        .collect()
                } else {
                    Vec::new()
                },
                product_updated: shop.catalog.products.iter().map(|p| p.updated_at).collect(),
                stock_updated: shop
                    .catalog
                    .products
                    .iter()
                    .map(|p| p.variants.iter().map(|v| v.stock_updated_at).collect())
                    .collect(),
            }
        })
        .collect();
    Some(Snapshot {
        now: world.now,
        shops,
    })
}

/// Queues a delivery of every change since `before` to each subscriber.
pub(crate) fn enqueue_changes(world: &mut World, before: Snapshot) {
    let now = world.now;
    // (shop, topic, body, the moment it happened).
    let mut changes: Vec<(usize, &'static str, Value, i64)> = Vec::new();
    for (s, (shop, old)) in world.shops.iter().zip(&before.shops).enumerate() {
        let subscribed = |topic: &str| {
            world
                .webhooks
                .subscriptions
                .iter()
                .any(|x| x.slug == shop.info.slug && x.topic == topic)
        };
        for event in crate::webhook_events::events(
            shop,
            world.seed,
            before.now,
            now,
            &old.customer_updated,
            &subscribed,
        ) {
            changes.push((s, event.topic, event.body, event.at));
        }
        if old.order_updated.is_empty() && !subscribed("orders/create") {
            continue;
        }
        for (i, order) in shop.book.orders.iter().enumerate() {
            let known = old.order_updated.get(i).copied();
            if known == Some(order.updated_at) {
                continue;
            }
            let body = wire::order_json(shop, i as u32, now);
            if subscribed("fulfillments/create") {
                let had = old.order_fulfillments.get(i).copied().unwrap_or(0);
                if let Some(fs) = body["fulfillments"].as_array() {
                    for f in fs.iter().skip(had) {
                        changes.push((s, "fulfillments/create", f.clone(), now));
                    }
                }
            }
            let topic = if known.is_none() {
                "orders/create"
            } else {
                "orders/updated"
            };
            changes.push((s, topic, body, now));
        }
        for (p, product) in shop.catalog.products.iter().enumerate() {
            if old.product_updated.get(p) != Some(&product.updated_at) {
                changes.push((s, "products/update", wire::product_json(shop, p), now));
            }
            for (v, variant) in product.variants.iter().enumerate() {
                let was = old.stock_updated.get(p).and_then(|vs| vs.get(v));
                if was != Some(&variant.stock_updated_at) {
                    for l in 0..shop.catalog.locations.len() {
                        let level = wire::inventory_level_json(shop, p, v, l);
                        changes.push((s, "inventory_levels/update", level, now));
                    }
                }
            }
        }
    }
    let faults = world.faults.clone();
    let mut rng = ChaCha8Rng::seed_from_u64(faults.seed ^ (now as u64).wrapping_mul(0x9E37));
    let mut deliveries = Vec::new();
    for (s, topic, body, at) in changes {
        let shop = &world.shops[s];
        let secret = secret_of(shop);
        let body = serde_json::to_vec(&body).unwrap_or_default();
        let signature = sign(&secret, &body);
        world.webhooks.next_delivery += 1;
        let n = world.webhooks.next_delivery;
        for sub in world
            .webhooks
            .subscriptions
            .iter()
            .filter(|x| x.slug == shop.info.slug && x.topic == topic)
        {
            let delivery = Delivery {
                address: sub.address.clone(),
                topic: topic.to_string(),
                shop_domain: shop.info.shop_domain.clone(),
                api_version: sub.api_version.clone(),
                webhook_id: format!("b54557e4-{:04x}-4a0c-9f1e-{n:012x}", sub.id % 0xffff),
                event_id: format!("98880550-7158-44d4-b7cd-{n:012x}"),
                triggered_at: wire::timestamp(at, &jiff::tz::TimeZone::UTC),
                signature: signature.clone(),
                body: body.clone(),
            };
            if rng.gen::<f64>() < faults.webhook_duplicate_rate {
                deliveries.push(delivery.clone());
            }
            deliveries.push(delivery);
        }
    }
    if faults.webhook_reorder {
        deliveries.shuffle(&mut rng);
    }
    if !deliveries.is_empty() {
        world.webhooks.outbox.extend(deliveries);
        world.webhooks.wake.notify_one();
    }
}

/// Queues one delivery of `body` on `topic` to shop `slug`'s subscribers
/// (events that are not a change of a REST resource: a bulk operation
/// that finished).
pub(crate) fn enqueue_event(world: &mut World, slug: &str, topic: &str, body: &Value) {
    let Some(shop) = world.shop(slug) else {
        return;
    };
    let secret = secret_of(shop);
    let shop_domain = shop.info.shop_domain.clone();
    let body = serde_json::to_vec(body).unwrap_or_default();
    let signature = sign(&secret, &body);
    world.webhooks.next_delivery += 1;
    let n = world.webhooks.next_delivery;
    let now = world.now;
    let deliveries: Vec<Delivery> = world
        .webhooks
        .subscriptions
        .iter()
        .filter(|x| x.slug == slug && x.topic == topic)
        .map(|sub| Delivery {
            address: sub.address.clone(),
            topic: topic.to_string(),
            shop_domain: shop_domain.clone(),
            api_version: sub.api_version.clone(),
            webhook_id: format!("b54557e4-{:04x}-4a0c-9f1e-{n:012x}", sub.id % 0xffff),
            event_id: format!("98880550-7158-44d4-b7cd-{n:012x}"),
            triggered_at: wire::timestamp(now, &jiff::tz::TimeZone::UTC),
            signature: signature.clone(),
            body: body.clone(),
        })
        .collect();
    if !deliveries.is_empty() {
        world.webhooks.outbox.extend(deliveries);
        world.webhooks.wake.notify_one();
    }
}

/// Starts the sender task once, on the runtime of the caller.
pub(crate) fn ensure_sender(simulator: &Simulator) {
    let mut world = simulator.lock();
    if world.webhooks.sender_started {
        return;
    }
    world.webhooks.sender_started = true;
    drop(world);
    tokio::spawn(send_loop(simulator.clone()));
}

async fn send_loop(simulator: Simulator) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("http client");
    let wake = simulator.lock().webhooks.wake.clone();
    loop {
        let next = {
            let mut world = simulator.lock();
            let next = world.webhooks.outbox.pop_front();
            if next.is_some() {
                world.webhooks.in_flight += 1;
            }
            next
        };
        let Some(delivery) = next else {
            wake.notified().await;
            continue;
        };
        let ok = deliver(&simulator, &http, &delivery).await;
        let mut world = simulator.lock();
        world.webhooks.in_flight -= 1;
        if ok {
            world.webhooks.stats.delivered += 1;
        } else {
            world.webhooks.stats.abandoned += 1;
            tracing::warn!(topic = %delivery.topic, address = %delivery.address, "simulator gave up a webhook delivery");
        }
    }
}

async fn deliver(simulator: &Simulator, http: &reqwest::Client, d: &Delivery) -> bool {
    for attempt in 0..MAX_ATTEMPTS {
        if attempt > 0 {
            tokio::time::sleep(FIRST_RETRY * (1 << (attempt - 1))).await;
        }
        simulator.lock().webhooks.stats.attempts += 1;
        let sent = http
            .post(&d.address)
            .header("Content-Type", "application/json")
            .header("X-Shopify-Topic", &d.topic)
            .header("X-Shopify-Hmac-Sha256", &d.signature)
            .header("X-Shopify-Shop-Domain", &d.shop_domain)
            .header("X-Shopify-API-Version", &d.api_version)
            .header("X-Shopify-Webhook-Id", &d.webhook_id)
            .header("X-Shopify-Event-Id", &d.event_id)
            .header("X-Shopify-Triggered-At", &d.triggered_at)
            .body(d.body.clone())
            .send()
            .await;
        if matches!(&sent, Ok(r) if r.status().is_success()) {
            return true;
        }
    }
    false
}

impl Simulator {
    /// The secret the shop signs its webhooks with (configure it as the
    /// shop's webhook secret on the receiving side).
    pub fn webhook_secret(&self, slug: &str) -> Option<String> {
        self.lock().shop(slug).map(secret_of)
    }

    /// Delivery counters so far.
    pub fn webhook_stats(&self) -> DeliveryStats {
        self.lock().webhooks.stats
    }

    /// Waits until every queued webhook has been delivered or abandoned;
    /// false if that takes longer than `timeout`.
    pub async fn wait_for_webhooks(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let world = self.lock();
                let w = &world.webhooks;
                if w.outbox.is_empty() && w.in_flight == 0 {
                    return true;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}
