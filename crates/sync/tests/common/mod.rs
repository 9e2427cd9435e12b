//! A running simulator on port 0, a fresh SQLite store, and the checks that
//! the store holds exactly what the simulator serves.

#![expect(
    dead_code,
    reason = "each test crate that includes this module uses a different part of it"
)]

/// The connector tests' scripted fake Shopify: one file, shared.
#[path = "../../../sources/tests/common/fake.rs"]
pub mod fake;

use jiff::Timestamp;
use opsdeck_domain::{BrandId, Currency, InventoryLevel, Money, Order, Product, Secret, SourceId};
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_sources::shopify::graphql::{CostBucket, GraphqlClient, GRAPHQL_API_VERSION};
use opsdeck_sources::{ShopifyClient, ShopifySettings};
use opsdeck_store::testing::{sqlite_temp, TempGuard};
use opsdeck_store::Store;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use url::Url;

/// The simulated "now" the tests start at.
pub fn start_time() -> Timestamp {
    "2026-05-04T14:00:00Z".parse().unwrap()
}

pub struct Harness {
    pub sim: Simulator,
    pub addr: SocketAddr,
    pub store: Arc<dyn Store>,
    _guard: TempGuard,
    _shutdown: tokio::sync::watch::Sender<bool>,
}

impl Harness {
    pub async fn start(scale: f64) -> Harness {
        Harness::start_seeded(42, scale).await
    }

    pub async fn start_seeded(seed: u64, scale: f64) -> Harness {
        let sim = Simulator::new(SimConfig {
            seed,
            now: start_time(),
            scale,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (shutdown, mut stop) = tokio::sync::watch::channel(false);
        let serving = sim.clone();
        tokio::spawn(async move {
            let signal = async move {
                let _ = stop.wait_for(|s| *s).await;
            };
            serving.serve(listener, signal).await
        });
        let (store, guard) = sqlite_temp().await;
        Harness {
            sim,
            addr,
            store,
            _guard: guard,
            _shutdown: shutdown,
        }
    }

    pub fn source(slug: &str) -> SourceId {
        SourceId::parse(&format!("shopify-{slug}")).unwrap()
    }

    /// Settings for one shop: small pages and quick retries, so tests are fast.
    pub fn settings(&self, slug: &str) -> ShopifySettings {
        let shop = self
            .sim
            .shops()
            .into_iter()
            .find(|s| s.slug == slug)
            .unwrap_or_else(|| panic!("no shop {slug}"));
        let mut settings = ShopifySettings::new(
            Self::source(slug),
            BrandId::parse(&shop.brand_id.to_string()).unwrap(),
            Currency::parse(&shop.currency.to_string()).unwrap(),
            "unused.myshopify.com",
            Secret::new(shop.access_token.to_string()),
        )
        .unwrap();
        settings.base_url =
            Url::parse(&Simulator::shop_base_url(self.addr, slug).to_string()).unwrap();
        settings.page_size = 50;
        settings.max_retries = 8;
        settings.backoff_base = Duration::from_millis(5);
        settings.request_timeout = Duration::from_secs(5);
        settings
    }

    pub fn client(&self, slug: &str) -> Arc<ShopifyClient> {
        Arc::new(ShopifyClient::new(self.settings(slug)).unwrap())
    }

    /// A GraphQL Admin client of shop `slug`, with its own cost bucket.
    pub fn graphql(&self, slug: &str) -> GraphqlClient {
        GraphqlClient::new(
            self.settings(slug),
            GRAPHQL_API_VERSION,
            Arc::new(CostBucket::new()),
        )
        .unwrap()
    }

    /// The simulator's records under `key`, however it hands them out.
    fn sim_records(value: Value, key: &str) -> Vec<Value> {
        let value = match value {
            Value::String(text) => serde_json::from_str(&text).unwrap(),
            other => other,
        };
        match value {
            Value::Array(list) => list,
            Value::Object(mut map) => match map.remove(key) {
                Some(Value::Array(list)) => list,
                _ => panic!("no {key} list"),
            },
            other => panic!("unexpected {key} shape: {other}"),
        }
    }

    pub fn sim_orders(&self, slug: &str) -> Vec<Value> {
        Self::sim_records(
            serde_json::to_value(self.sim.orders_json(slug)).unwrap(),
            "orders",
        )
    }

    pub fn sim_products(&self, slug: &str) -> Vec<Value> {
        Self::sim_records(
            serde_json::to_value(self.sim.products_json(slug)).unwrap(),
            "products",
        )
    }

    pub fn sim_inventory_levels(&self, slug: &str) -> Vec<Value> {
        Self::sim_records(
            serde_json::to_value(self.sim.inventory_levels_json(slug)).unwrap(),
            "inventory_levels",
        )
    }

    /// Asserts the store holds exactly the simulator's orders, products and
    /// (tracked) inventory levels of `slug`.
    pub async fn assert_exact_data_set(&self, slug: &str) {
        let source = Self::source(slug);
        let orders = self.store.list_orders(&source).await.unwrap();
        assert_orders_match(&orders, &self.sim_orders(slug));
        let products = self.store.list_products(&source).await.unwrap();
        let sim_products = self.sim_products(slug);
        assert_products_match(&products, &sim_products);
        let levels = self.store.list_inventory_levels(&source).await.unwrap();
        assert_levels_match(&levels, &self.sim_inventory_levels(slug), &sim_products);
    }
}

fn id_of(v: &Value, key: &str) -> String {
    match &v[key] {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.clone(),
        other => panic!("{key} is {other}"),
    }
}

fn time_of(v: &Value, key: &str) -> Timestamp {
    v[key].as_str().unwrap().parse().unwrap()
}

pub fn assert_orders_match(stored: &[Order], expected: &[Value]) {
    let by_id: BTreeMap<&str, &Order> =
        stored.iter().map(|o| (o.external_id.as_str(), o)).collect();
    assert_eq!(
        by_id.len(),
        stored.len(),
        "duplicate order ids in the store"
    );
    let expected_ids: BTreeSet<String> = expected.iter().map(|o| id_of(o, "id")).collect();
    assert_eq!(
        expected_ids.len(),
        expected.len(),
        "duplicate ids from the simulator"
    );
    let stored_ids: BTreeSet<String> = by_id.keys().map(|k| k.to_string()).collect();
    let missing: Vec<_> = expected_ids.difference(&stored_ids).take(5).collect();
    let extra: Vec<_> = stored_ids.difference(&expected_ids).take(5).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing {missing:?}, extra {extra:?}"
    );
    for want in expected {
        let id = id_of(want, "id");
        let got = by_id[id.as_str()];
        let currency = Currency::parse(want["currency"].as_str().unwrap()).unwrap();
        assert_eq!(
            got.updated_at,
            time_of(want, "updated_at"),
            "order {id} updated_at"
        );
        assert_eq!(
            got.total_price,
            Money::parse(want["total_price"].as_str().unwrap(), currency).unwrap(),
            "order {id} total_price"
        );
        assert_eq!(
            got.financial_status.as_str(),
            want["financial_status"].as_str().unwrap(),
            "order {id} financial_status"
        );
        assert_eq!(
            got.fulfillment_status.as_str(),
            want["fulfillment_status"].as_str().unwrap_or("unfulfilled"),
            "order {id} fulfillment_status"
        );
        let fulfillments = want["fulfillments"].as_array().map_or(0, Vec::len);
        assert_eq!(
            got.fulfillments.len(),
            fulfillments,
            "order {id} fulfillments"
        );
        let refunds = want["refunds"].as_array().map_or(0, Vec::len);
        assert_eq!(got.refunds.len(), refunds, "order {id} refunds");
        assert_eq!(
            got.cancelled_at.is_some(),
            !want["cancelled_at"].is_null(),
            "order {id} cancelled"
        );
    }
}

pub fn assert_products_match(stored: &[Product], expected: &[Value]) {
    assert_eq!(stored.len(), expected.len(), "product count");
    let by_id: BTreeMap<&str, &Product> =
        stored.iter().map(|p| (p.external_id.as_str(), p)).collect();
    for want in expected {
        let id = id_of(want, "id");
        let got = by_id
            .get(id.as_str())
            .unwrap_or_else(|| panic!("product {id} missing"));
        assert_eq!(
            got.updated_at,
            time_of(want, "updated_at"),
            "product {id} updated_at"
        );
        assert_eq!(
            got.status.as_str(),
            want["status"].as_str().unwrap(),
            "product {id} status"
        );
        let variants = want["variants"].as_array().unwrap();
        assert_eq!(got.variants.len(), variants.len(), "product {id} variants");
        for (g, w) in got.variants.iter().zip(variants) {
            assert_eq!(g.external_id, id_of(w, "id"));
            assert_eq!(g.price.to_decimal_string(), w["price"].as_str().unwrap());
            assert_eq!(g.inventory_quantity, w["inventory_quantity"].as_i64());
            assert_eq!(g.inventory_tracked, w["inventory_management"] == "shopify");
        }
    }
}

/// Only tracked variants' stock is synced, so only those are expected.
pub fn assert_levels_match(stored: &[InventoryLevel], expected: &[Value], products: &[Value]) {
    let tracked: BTreeSet<String> = products
        .iter()
        .flat_map(|p| p["variants"].as_array().unwrap().iter())
        .filter(|v| v["inventory_management"] == "shopify")
        .map(|v| id_of(v, "inventory_item_id"))
        .collect();
    let expected: BTreeMap<String, &Value> = expected
        .iter()
        .filter(|l| tracked.contains(&id_of(l, "inventory_item_id")))
        .map(|l| {
            let key = InventoryLevel::external_id_for(
                &id_of(l, "inventory_item_id"),
                &id_of(l, "location_id"),
            );
            (key, l)
        })
        .collect();
    assert!(
        !expected.is_empty(),
        "no tracked inventory levels to compare"
    );
    assert_eq!(stored.len(), expected.len(), "inventory level count");
    for got in stored {
        let want = expected
            .get(&got.external_id)
            .unwrap_or_else(|| panic!("unexpected level {}", got.external_id));
        assert_eq!(
            got.available,
            want["available"].as_i64(),
            "{} available",
            got.external_id
        );
        assert_eq!(
            got.updated_at,
            time_of(want, "updated_at"),
            "{} updated_at",
            got.external_id
        );
    }
}
