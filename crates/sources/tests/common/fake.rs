//! A scripted fake Shopify on port 0: answers are served in order, and
//! every request's path, query and token header is kept for assertions.

#![allow(dead_code)]

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, Uri};
use axum::Router;
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use opsdeck_sources::{ShopifyClient, ShopifySettings};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

pub const TOKEN: &str = "shpat_fake_token_0123456789";

/// One scripted answer.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

pub fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        headers: vec![],
        body: body.to_string(),
        delay: Duration::ZERO,
    }
}

#[derive(Default)]
pub struct Script {
    pub answers: Vec<Answer>,
    /// (path and query, token header) of each request received.
    pub seen: Vec<(String, Option<String>)>,
}

pub type Shared = Arc<Mutex<Script>>;

async fn handle(State(script): State<Shared>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let next = {
        let mut s = script.lock().unwrap();
        let token = headers
            .get("x-shopify-access-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        s.seen.push((uri.to_string(), token));
        if s.answers.is_empty() {
            answer(500, "script exhausted")
        } else {
            s.answers.remove(0)
        }
    };
    tokio::time::sleep(next.delay).await;
    let mut response = Response::builder().status(next.status);
    for (name, value) in &next.headers {
        response = response.header(*name, value);
    }
    response.body(Body::from(next.body)).unwrap()
}

/// Serves `answers` in order on a fresh port; returns the shop base URL.
pub async fn fake_shop(answers: Vec<Answer>) -> (Url, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers,
        seen: vec![],
    }));
    let app = Router::new().fallback(handle).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (
        Url::parse(&format!("http://{addr}/shops/fake")).unwrap(),
        script,
    )
}

pub fn client(base: &Url) -> ShopifyClient {
    let mut settings = ShopifySettings::new(
        SourceId::parse("shopify-fake").unwrap(),
        BrandId::parse("fake").unwrap(),
        Currency::USD,
        "fake.myshopify.com",
        Secret::new(TOKEN),
    )
    .unwrap();
    settings.base_url = base.clone();
    settings.page_size = 2;
    settings.max_retries = 3;
    settings.backoff_base = Duration::from_millis(10);
    settings.request_timeout = Duration::from_secs(5);
    ShopifyClient::new(settings).unwrap()
}
