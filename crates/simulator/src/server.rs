//! The HTTP face: one route serving every shop under
//! `/shops/{slug}/admin/api/{version}/...`, with Shopify's authentication,
//! rate limit headers and 429s, plus injected faults.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{CONTENT_TYPE, HOST, LINK, RETRY_AFTER};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use crate::faults::{decide, Fault};
use crate::rate_limit::BUCKET_SIZE;
use crate::resources::answer;
use crate::Simulator;
use futures::StreamExt;

const CALL_LIMIT: &str = "x-shopify-shop-api-call-limit";
const API_VERSION: &str = "x-shopify-api-version";
const ACCESS_TOKEN: &str = "x-shopify-access-token";

pub(crate) fn router(simulator: Simulator) -> Router {
    Router::new()
        .route(
            "/shops/{slug}/admin/api/{version}/{*rest}",
            get(dispatch).post(write).delete(write),
        )
        .route(
            "/shops/{slug}/admin/api/{version}/graphql.json",
            axum::routing::post(graphql),
        )
        .route("/shops/{slug}/bulk/{file}", get(bulk_file))
        .route(
            "/shops/{slug}/admin/oauth/access_scopes.json",
            get(access_scopes),
        )
        .route(
            "/gorgias/api/{*rest}",
            get(crate::gorgias::server::dispatch),
        )
        .with_state(simulator)
}

/// What the locked first phase decided about a request.
struct Admitted {
    used: u32,
    fault: Option<Fault>,
    slow: Option<Duration>,
}

fn respond(status: u16, body: Vec<u8>, version: &str, used: Option<u32>) -> Response {
    let mut response = Response::new(Body::from(body));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    // Unversioned paths (`/admin/oauth/…`) name no version.
    if let Some(value) = HeaderValue::from_str(version)
        .ok()
        .filter(|_| !version.is_empty())
    {
        headers.insert(API_VERSION, value);
    }
    if let Some(used) = used {
        if let Ok(value) = HeaderValue::from_str(&format!("{used}/{BUCKET_SIZE}")) {
            headers.insert(CALL_LIMIT, value);
        }
    }
    response
}

fn error_body(errors: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({ "errors": errors })).unwrap_or_default()
}

fn too_many_requests(version: &str) -> Response {
    let body = error_body(json!(
        "Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service."
    ));
    let mut response = respond(429, body, version, Some(BUCKET_SIZE));
    response
        .headers_mut()
        .insert(RETRY_AFTER, HeaderValue::from_static("1.0"));
    response
}

/// The body of a 200 that goes wrong: the start of `start` then silence on
/// an open connection (`Hang`), [`crate::faults::HUGE_BODY_BYTES`] of
/// blanks without `Content-Length` (`HugeBody`), or a failure before the
/// first byte, which makes hyper drop the connection (`Reset`).
fn broken_body(fault: Fault, start: &'static [u8]) -> Body {
    match fault {
        Fault::Hang => {
            let first = futures::stream::once(async move {
                Ok::<Bytes, std::io::Error>(Bytes::from_static(start))
            });
            Body::from_stream(first.chain(futures::stream::pending()))
        }
        Fault::HugeBody => {
            const CHUNK: usize = 64 * 1024;
            let chunk = Bytes::from(vec![b' '; CHUNK]);
            let chunks = crate::faults::HUGE_BODY_BYTES.div_ceil(CHUNK);
            Body::from_stream(futures::stream::iter(
                (0..chunks).map(move |_| Ok::<Bytes, std::io::Error>(chunk.clone())),
            ))
        }
        _ => Body::from_stream(futures::stream::once(async {
            Err::<Bytes, std::io::Error>(std::io::Error::new(
                std::io::ErrorKind::ConnectionReset,
                "simulated reset",
            ))
        })),
    }
}

/// Counts, authenticates, consults the fault plan and the leaky bucket.
fn admit(
    simulator: &Simulator,
    slug: &str,
    version: &str,
    headers: &HeaderMap,
) -> Result<Admitted, Box<Response>> {
    let mut world = simulator.lock();
    let rate_limit = world.rate_limit;
    let Some(shop) = world.shop_mut(slug) else {
        return Err(Box::new(respond(
            404,
            error_body(json!("Not Found")),
            version,
            None,
        )));
    };
    shop.requests += 1;
    let token = headers.get(ACCESS_TOKEN).and_then(|v| v.to_str().ok());
    if token != Some(shop.info.access_token.as_str()) {
        let message =
            "[API] Invalid API key or access token (unrecognized login or wrong password)";
        return Err(Box::new(respond(
            401,
            error_body(json!(message)),
            version,
            None,
        )));
    }
    let now = Instant::now();
    let used = if rate_limit {
        match shop.bucket.acquire(now) {
            Ok(used) => used,
            Err(_) => return Err(Box::new(too_many_requests(version))),
        }
    } else {
        shop.bucket.peek(now)
    };
    let counter = world.fault_counter;
    world.fault_counter += 1;
    let (fault, slow) = decide(&world.faults, counter);
    let slow = slow.then(|| Duration::from_millis(world.faults.slow_ms));
    Ok(Admitted { used, fault, slow })
}

async fn dispatch(
    State(simulator): State<Simulator>,
    Path((slug, version, rest)): Path<(String, String, String)>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let admitted = match admit(&simulator, &slug, &version, &headers) {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    if let Some(delay) = admitted.slow {
        tokio::time::sleep(delay).await;
    }
    let used = Some(admitted.used);
    match admitted.fault {
        Some(Fault::TooManyRequests) => return too_many_requests(&version),
        Some(Fault::ServerError(status)) => {
            let message = match status {
                500 => "Internal Server Error",
                502 => "Bad Gateway",
                _ => "Service Unavailable",
            };
            return respond(status, error_body(json!(message)), &version, used);
        }
        Some(fault @ (Fault::Hang | Fault::HugeBody | Fault::Reset)) => {
            let mut response = respond(200, Vec::new(), &version, used);
            *response.body_mut() = broken_body(fault, b"{\"orders\":[{\"id\":1");
            return response;
        }
        _ => {}
    }
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    if rest == "webhooks.json" {
        let (status, value) = crate::webhooks::list(&simulator.lock(), &slug, &query);
        let body = serde_json::to_vec(&value).unwrap_or_default();
        return respond(status, body, &version, used);
    }
    let reply = {
        let world = simulator.lock();
        match world.shop(&slug) {
            Some(shop) => answer(shop, world.now, &rest, &query),
            None => return respond(404, error_body(json!("Not Found")), &version, None),
        }
    };
    let mut body = serde_json::to_vec(&reply.body).unwrap_or_default();
    if admitted.fault == Some(Fault::Truncated) && reply.status == 200 {
        body.truncate(body.len() / 2);
    }
    let mut response = respond(reply.status, body, &version, used);
    if !reply.links.is_empty() {
        let host = headers
            .get(HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("localhost");
        let links: Vec<String> = reply
            .links
            .iter()
            .map(|link| {
                let mut query = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in &reply.carry {
                    query.append_pair(k, v);
                }
                query.append_pair("page_info", &link.page_info);
                format!(
                    "<http://{host}/shops/{slug}/admin/api/{version}/{rest}?{}>; rel=\"{}\"",
                    query.finish(),
                    link.rel
                )
            })
            .collect();
        if let Ok(value) = HeaderValue::from_str(&links.join(", ")) {
            response.headers_mut().insert(LINK, value);
        }
    }
    response
}

/// `GET /admin/oauth/access_scopes.json`: the token's scopes as
/// `{"access_scopes": [{"handle": "read_orders"}, …]}`, or 404 when the
/// shop is set not to answer it. Authenticated and rate limited like reads.
async fn access_scopes(
    State(simulator): State<Simulator>,
    Path(slug): Path<String>,
    headers: HeaderMap,
) -> Response {
    let version = "";
    let admitted = match admit(&simulator, &slug, version, &headers) {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let listed = simulator.lock().shop(&slug).and_then(|shop| {
        shop.scopes_endpoint.then(|| {
            let handles: Vec<Value> = shop.scopes.iter().map(|s| json!({ "handle": s })).collect();
            json!({ "access_scopes": handles })
        })
    });
    match listed {
        Some(body) => respond(
            200,
            serde_json::to_vec(&body).unwrap_or_default(),
            version,
            Some(admitted.used),
        ),
        None => respond(404, error_body(json!("Not Found")), version, None),
    }
}

/// `POST webhooks.json` and `DELETE webhooks/{id}.json`: webhook
/// subscriptions (see `webhooks`). Authenticated and rate limited like
/// reads; injected faults apply to reads only.
async fn write(
    State(simulator): State<Simulator>,
    Path((slug, version, rest)): Path<(String, String, String)>,
    method: Method,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let admitted = match admit(&simulator, &slug, &version, &headers) {
        Ok(admitted) => admitted,
        Err(response) => return *response,
    };
    let delete_id = rest
        .strip_prefix("webhooks/")
        .and_then(|r| r.strip_suffix(".json"))
        .and_then(|id| id.parse::<u64>().ok());
    let (status, value) = {
        let mut world = simulator.lock();
        match (&method, rest.as_str(), delete_id) {
            (&Method::POST, "webhooks.json", _) => {
                crate::webhooks::create(&mut world, &slug, &version, &body)
            }
            (&Method::DELETE, _, Some(id)) => crate::webhooks::delete(&mut world, &slug, id),
            _ => (404, json!({ "errors": "Not Found" })),
        }
    };
    if status == 201 {
        crate::webhooks::ensure_sender(&simulator);
    }
    let body = serde_json::to_vec(&value).unwrap_or_default();
    respond(status, body, &version, Some(admitted.used))
}

/// `POST graphql.json`: the GraphQL Admin API (see `graphql`). The same
/// token check as REST; the cost bucket instead of REST's request bucket;
/// injected faults apply as to reads, an injected 429 as a `THROTTLED`
/// answer (the bucket untouched).
async fn graphql(
    State(simulator): State<Simulator>,
    Path((slug, version)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let fault = {
        let mut world = simulator.lock();
        let Some(shop) = world.shop_mut(&slug) else {
            return respond(404, error_body(json!("Not Found")), &version, None);
        };
        shop.requests += 1;
        let token = headers.get(ACCESS_TOKEN).and_then(|v| v.to_str().ok());
        if token != Some(shop.info.access_token.as_str()) {
            let message =
                "[API] Invalid API key or access token (unrecognized login or wrong password)";
            return respond(401, error_body(json!(message)), &version, None);
        }
        let counter = world.fault_counter;
        world.fault_counter += 1;
        decide(&world.faults, counter).0
    };
    match fault {
        Some(Fault::ServerError(status)) => {
            return respond(
                status,
                error_body(json!("Internal Server Error")),
                &version,
                None,
            )
        }
        Some(fault @ (Fault::Hang | Fault::HugeBody | Fault::Reset)) => {
            let mut response = respond(200, Vec::new(), &version, None);
            *response.body_mut() =
                broken_body(fault, b"{\"data\":{\"orders\":{\"nodes\":[{\"id\":\"gid");
            return response;
        }
        _ => {}
    }
    let host = headers
        .get(HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("localhost");
    let base = format!("http://{host}/shops/{slug}");
    let answer = {
        let mut world = simulator.lock();
        let answer = if fault == Some(Fault::TooManyRequests) {
            // GraphQL's form of a 429 storm: THROTTLED though points remain.
            crate::graphql::throttled(&mut world, &slug, &version, &body)
        } else {
            crate::graphql::answer(&mut world, &slug, &version, &base, &body)
        };
        crate::graphql::bulk::announce(&mut world);
        answer
    };
    crate::graphql::bulk::watch(&simulator);
    let mut body = serde_json::to_vec(&answer.body).unwrap_or_default();
    if fault == Some(Fault::Truncated) && answer.status == 200 {
        body.truncate(body.len() / 2);
    }
    let mut response = respond(answer.status, body, &answer.version, None);
    if let Some(reason) = answer.deprecated {
        response.headers_mut().insert(
            "x-shopify-api-deprecated-reason",
            HeaderValue::from_static(reason),
        );
    }
    response
}

/// `GET /shops/{slug}/bulk/{n}.jsonl` (and `{n}-partial.jsonl`): a bulk
/// operation's result, streamed in chunks of records. Like Shopify's
/// signed storage links it needs no token; an expired link answers 403.
async fn bulk_file(
    State(simulator): State<Simulator>,
    Path((slug, file)): Path<(String, String)>,
) -> Response {
    let Some(stem) = file.strip_suffix(".jsonl") else {
        return respond(404, Vec::new(), "", None);
    };
    let (number, partial) = match stem.strip_suffix("-partial") {
        Some(n) => (n, true),
        None => (stem, false),
    };
    let Ok(sequence) = number.parse::<u64>() else {
        return respond(404, Vec::new(), "", None);
    };
    let first = {
        let world = simulator.lock();
        let seed = world.seed;
        crate::graphql::bulk::file_chunk(&world, &slug, sequence, partial, 0, seed)
    };
    let (chunk, next) = match first {
        Ok(first) => first,
        Err(status) => {
            let body = if status == 403 {
                b"<?xml version='1.0' encoding='UTF-8'?><Error><Code>ExpiredToken</Code><Message>The provided token has expired.</Message></Error>".to_vec()
            } else {
                Vec::new()
            };
            let mut response = respond(status, body, "", None);
            response
                .headers_mut()
                .insert(CONTENT_TYPE, HeaderValue::from_static("application/xml"));
            return response;
        }
    };
    let rest = futures::stream::unfold(next, move |next| {
        let simulator = simulator.clone();
        let slug = slug.clone();
        async move {
            let from = next?;
            let world = simulator.lock();
            let seed = world.seed;
            match crate::graphql::bulk::file_chunk(&world, &slug, sequence, partial, from, seed) {
                Ok((bytes, next)) => Some((Ok::<Bytes, std::io::Error>(Bytes::from(bytes)), next)),
                Err(_) => Some((
                    Err(std::io::Error::other(
                        "the bulk file went away while streaming",
                    )),
                    None,
                )),
            }
        }
    });
    let stream =
        futures::stream::once(async move { Ok::<Bytes, std::io::Error>(Bytes::from(chunk)) })
            .chain(rest);
    let mut response = Response::new(Body::from_stream(stream));
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/jsonl"));
    response
}
