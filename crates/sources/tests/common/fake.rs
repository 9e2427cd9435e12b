//! A scripted fake Shopify on port 0: answers are served in order, and
//! every request's path, query and token header is kept for assertions.
//! The checks a sync makes before its pages (`access_scopes.json`,
//! `shop.json`) are answered apart, from [`Script::scopes`] and
//! [`Script::shop`], so scripts list only the pages; they are counted in
//! [`Script::checks`], not in `seen`.

#![allow(
    dead_code,
    reason = "each test crate that includes this file uses a different part of it"
)]

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, Response, Uri};
use axum::Router;
use futures::stream::{self, StreamExt};
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use opsdeck_sources::{ShopifyClient, ShopifySettings};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

pub const TOKEN: &str = "shpat_fake_token_0123456789";

/// How a scripted body is sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tail {
    /// The body, then the end.
    Complete,
    /// The body, then nothing more, ever: an upstream hanging mid-body.
    Stall,
    /// The body sent again and again until this many bytes went out, with
    /// no `Content-Length`: a huge streamed body.
    RepeatTo(usize),
}

/// One scripted answer.
#[derive(Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
    pub tail: Tail,
}

pub fn answer(status: u16, body: &str) -> Answer {
    Answer {
        status,
        headers: vec![],
        body: body.to_string(),
        delay: Duration::ZERO,
        tail: Tail::Complete,
    }
}

pub struct Script {
    pub answers: Vec<Answer>,
    /// (path and query, token header) of each request received.
    pub seen: Vec<(String, Option<String>)>,
    /// The answer to `access_scopes.json`; every scope opsdeck needs by default.
    pub scopes: Answer,
    /// The answer to `shop.json`; a USD shop in New York by default.
    pub shop: Answer,
    /// Requests for `access_scopes.json` and `shop.json`.
    pub checks: u32,
}

impl Default for Script {
    fn default() -> Self {
        Script {
            answers: Vec::new(),
            seen: Vec::new(),
            scopes: answer(
                200,
                r#"{"access_scopes":[{"handle":"read_orders"},{"handle":"read_all_orders"},{"handle":"read_products"},{"handle":"read_inventory"},{"handle":"read_customers"}]}"#,
            ),
            shop: answer(
                200,
                r#"{"shop":{"currency":"USD","iana_timezone":"America/New_York"}}"#,
            ),
            checks: 0,
        }
    }
}

pub type Shared = Arc<Mutex<Script>>;

async fn handle(State(script): State<Shared>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let next = {
        let mut s = script.lock().unwrap();
        let token = headers
            .get("x-shopify-access-token")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let path = uri.path();
        if path.ends_with("/admin/oauth/access_scopes.json") {
            s.checks += 1;
            s.scopes.clone()
        } else if path.ends_with("/shop.json") {
            s.checks += 1;
            s.shop.clone()
        } else if s.answers.is_empty() {
            s.seen.push((uri.to_string(), token));
            answer(500, "script exhausted")
        } else {
            s.seen.push((uri.to_string(), token));
            s.answers.remove(0)
        }
    };
    tokio::time::sleep(next.delay).await;
    let mut response = Response::builder().status(next.status);
    for (name, value) in &next.headers {
        response = response.header(*name, value);
    }
    let body = match next.tail {
        Tail::Complete => Body::from(next.body),
        Tail::Stall => {
            let first = Bytes::from(next.body);
            let once = stream::once(async move { Ok::<_, std::io::Error>(first) });
            Body::from_stream(once.chain(stream::pending()))
        }
        Tail::RepeatTo(total) => {
            let chunk = Bytes::from(next.body);
            let times = total.div_ceil(chunk.len().max(1));
            Body::from_stream(stream::iter(
                (0..times).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
            ))
        }
    };
    response.body(body).unwrap()
}

/// Serves `answers` in order on a fresh port; returns the shop base URL.
pub async fn fake_shop(answers: Vec<Answer>) -> (Url, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers,
        ..Script::default()
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
