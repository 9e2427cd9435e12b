//! The GraphQL Admin API over real HTTP: selections, cursors and the
//! `updated_at` search, the documented query costs, throttling on a clock
//! the test moves, versions and scopes (`queries`); bulk operations from
//! CREATED to a JSONL file, to FAILED with partial data, the concurrency
//! limit (`bulk`); the new resources of the merchant and their
//! determinism (`merchant`).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod bulk;
mod merchant;
mod queries;

use std::net::SocketAddr;

use opsdeck_simulator::{SimConfig, Simulator};
use serde_json::{json, Value};

pub struct Running {
    pub sim: Simulator,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    _stop: tokio::sync::oneshot::Sender<()>,
}

pub const NOW: &str = "2026-05-03T18:05:09Z";

pub async fn spawn(seed: u64, scale: f64) -> Running {
    let sim = Simulator::new(SimConfig {
        seed,
        now: NOW.parse().unwrap(),
        scale,
    });
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
    pub async fn post_version(
        &self,
        slug: &str,
        version: &str,
        query: &str,
        variables: Value,
    ) -> (reqwest::header::HeaderMap, Value) {
        let token = self
            .sim
            .shops()
            .into_iter()
            .find(|s| s.slug == slug)
            .unwrap()
            .access_token;
        let url = format!(
            "{}/admin/api/{version}/graphql.json",
            Simulator::shop_base_url(self.addr, slug)
        );
        let response = self
            .http
            .post(url)
            .header("X-Shopify-Access-Token", token)
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        let headers = response.headers().clone();
        (headers, response.json().await.unwrap())
    }

    pub async fn gql(&self, slug: &str, query: &str) -> Value {
        self.post_version(slug, "2026-01", query, json!({})).await.1
    }
}

pub fn keys(value: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = value
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    keys
}
