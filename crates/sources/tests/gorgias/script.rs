//! A scripted Gorgias on port 0: answers served in order, each request's
//! path, query and `Authorization` header kept. Shared by the client's
//! contract tests here and the sync's tests in `opsdeck-sync` (which
//! include this file).

#![allow(
    dead_code,
    reason = "each test crate that includes this file uses a different part of it"
)]

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, Uri};
use axum::Router;
use opsdeck_domain::{Secret, SourceId};
use opsdeck_sources::{GorgiasClient, GorgiasSettings};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use url::Url;

pub const USER: &str = "ops@acme.example";
pub const KEY: &str = "gorgias-api-key-42";

/// One scripted answer: status, headers, body.
pub type Answer = (u16, Vec<(&'static str, String)>, String);

#[derive(Default)]
pub struct Script {
    pub answers: Vec<Answer>,
    /// (path and query, Authorization header) of each request.
    pub seen: Vec<(String, Option<String>)>,
}

pub type Shared = Arc<Mutex<Script>>;

async fn handle(State(script): State<Shared>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let mut s = script.lock().unwrap();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    s.seen.push((uri.to_string(), auth));
    let (status, headers, body) = if s.answers.is_empty() {
        (500, vec![], "script exhausted".to_string())
    } else {
        s.answers.remove(0)
    };
    let mut response = Response::builder()
        .status(status)
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        response = response.header(name, value);
    }
    response.body(Body::from(body)).unwrap()
}

pub async fn fake_gorgias(answers: Vec<Answer>) -> (Url, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers,
        seen: vec![],
    }));
    let app = Router::new().fallback(handle).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (Url::parse(&format!("http://{addr}")).unwrap(), script)
}

pub fn client(base: &Url) -> GorgiasClient {
    let mut s = GorgiasSettings::new(
        SourceId::parse("gorgias").unwrap(),
        "acme",
        USER,
        Secret::new(KEY),
    )
    .unwrap();
    s.base_url = base.clone();
    s.page_size = 2;
    s.backoff_base = Duration::from_millis(10);
    GorgiasClient::new(s).unwrap()
}
