//! `/gorgias/api/...`: HTTP Basic, the 40-per-20-s limit with
//! `X-Gorgias-Account-Api-Call-Limit` and 429 `Retry-after`, the shared
//! fault plan, and cursor-paginated lists.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

use super::plan::Helpdesk;
use super::wire;
use crate::faults::{decide, Fault};
use crate::rate_limit::BUCKET_SIZE;
use crate::Simulator;

const CALL_LIMIT: &str = "x-gorgias-account-api-call-limit";
const DEFAULT_LIMIT: usize = 30;
const MAX_LIMIT: usize = 100;

fn respond(status: u16, body: Value, used: Option<u32>) -> Response {
    let mut response = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *response.status_mut() =
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    if let Some(used) = used {
        if let Ok(v) = HeaderValue::from_str(&format!("{used}/{BUCKET_SIZE}")) {
            headers.insert(CALL_LIMIT, v);
        }
    }
    response
}

fn too_many_requests() -> Response {
    let mut response = respond(
        429,
        json!({"error": {"msg": "Too many requests. Please retry later."}}),
        Some(BUCKET_SIZE),
    );
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from_static("1"));
    response
}

fn authorized(helpdesk: &Helpdesk, headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let Some(encoded) = value.strip_prefix("Basic ") else {
        return false;
    };
    let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
        return false;
    };
    decoded == format!("{}:{}", helpdesk.user, helpdesk.api_key).as_bytes()
}

pub(crate) async fn dispatch(
    State(simulator): State<Simulator>,
    Path(rest): Path<String>,
    RawQuery(raw_query): RawQuery,
    headers: HeaderMap,
) -> Response {
    let (used, fault, slow) = {
        let mut world = simulator.lock();
        let rate_limit = world.rate_limit;
        let helpdesk = &mut world.helpdesk;
        helpdesk.requests += 1;
        if !authorized(helpdesk, &headers) {
            return respond(401, json!({"error": {"msg": "Unauthorized"}}), None);
        }
        let now = Instant::now();
        let used = if rate_limit {
            match helpdesk.bucket.acquire(now) {
                Ok(used) => used,
                Err(_) => return too_many_requests(),
            }
        } else {
            helpdesk.bucket.peek(now)
        };
        let counter = world.fault_counter;
        world.fault_counter += 1;
        let (fault, slow) = decide(&world.faults, counter);
        (
            used,
            fault,
            slow.then(|| Duration::from_millis(world.faults.slow_ms)),
        )
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Some(Fault::TooManyRequests) => return too_many_requests(),
        Some(Fault::ServerError(status)) => {
            return respond(
                status,
                json!({"error": {"msg": "Internal error"}}),
                Some(used),
            )
        }
        Some(Fault::Reset) => {
            let failing = futures::stream::once(async {
                Err::<Bytes, std::io::Error>(std::io::Error::new(
                    std::io::ErrorKind::ConnectionReset,
                    "simulated reset",
                ))
            });
            let mut response = respond(200, Value::Null, Some(used));
            *response.body_mut() = Body::from_stream(failing);
            return response;
        }
        _ => {}
    }
    let query: Vec<(String, String)> =
        url::form_urlencoded::parse(raw_query.unwrap_or_default().as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
    let (status, body) = {
        let world = simulator.lock();
        answer(
            &world.helpdesk,
            world.now,
            rest.trim_end_matches('/'),
            &query,
        )
    };
    let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
    if fault == Some(Fault::Truncated) && status == 200 {
        bytes.truncate(bytes.len() / 2);
    }
    let mut response = respond(status, Value::Null, Some(used));
    *response.body_mut() = Body::from(bytes);
    response
}

fn param<'a>(query: &'a [(String, String)], key: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn bad_request(msg: &str) -> (u16, Value) {
    (400, json!({"error": {"msg": msg}}))
}

/// Endpoint semantics, HTTP-free.
pub(crate) fn answer(
    desk: &Helpdesk,
    now: i64,
    path: &str,
    query: &[(String, String)],
) -> (u16, Value) {
    let limit = match param(query, "limit").map(str::parse::<usize>) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        Some(_) => return bad_request("limit must be between 1 and 100"),
    };
    let cursor = param(query, "cursor");
    let visible = || desk.tickets.iter().filter(|t| t.visible(now));
    match path {
        "account" => (
            200,
            json!({"domain": "acme-brands", "status": {"status": "active"}}),
        ),
        "tickets" => {
            let order_by = param(query, "order_by").unwrap_or("created_datetime:desc");
            let field = match order_by.split(':').next() {
                Some("created_datetime") => "created_datetime",
                Some("updated_datetime") => "updated_datetime",
                _ => return bad_request("order_by must be created_datetime or updated_datetime"),
            };
            let desc = !order_by.ends_with(":asc");
            let with_trashed = param(query, "trashed") != Some("false");
            let rows: Vec<Value> = visible()
                .map(|t| wire::ticket_json(t, now))
                .filter(|t| with_trashed || t["trashed_datetime"].is_null())
                .collect();
            page(
                rows,
                |r| {
                    (
                        r[field].as_str().unwrap_or_default().to_string(),
                        r["id"].as_u64().unwrap_or(0),
                    )
                },
                desc,
                order_by,
                cursor,
                limit,
            )
        }
        "messages" => {
            let ticket_id = match param(query, "ticket_id").map(str::parse::<u64>) {
                None => None,
                Some(Ok(id)) => Some(id),
                Some(Err(_)) => return bad_request("ticket_id must be an integer"),
            };
            let rows: Vec<Value> = visible()
                .filter(|t| ticket_id.is_none_or(|id| t.id == id))
                .flat_map(|t| wire::messages_json(t, now))
                .collect();
            page(
                rows,
                |r| (String::new(), r["id"].as_u64().unwrap_or(0)),
                false,
                "messages",
                cursor,
                limit,
            )
        }
        "satisfaction-surveys" => {
            let rows: Vec<Value> = visible()
                .filter_map(|t| wire::survey_json(t, now))
                .collect();
            page(
                rows,
                |r| (String::new(), r["id"].as_u64().unwrap_or(0)),
                false,
                "surveys",
                cursor,
                limit,
            )
        }
        _ => (404, json!({"error": {"msg": "Not found"}})),
    }
}

/// Keyset pagination: the cursor is the last row's (sort key, id) plus the
/// listing it belongs to, so a page after a change never repeats or skips
/// rows that did not move.
fn page(
    mut rows: Vec<Value>,
    key: impl Fn(&Value) -> (String, u64),
    desc: bool,
    listing: &str,
    cursor: Option<&str>,
    limit: usize,
) -> (u16, Value) {
    rows.sort_by_key(&key);
    if desc {
        rows.reverse();
    }
    let after: Option<(String, u64)> = match cursor {
        None => None,
        Some(c) => {
            let decoded = URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice::<(String, String, u64)>(&b).ok());
            match decoded {
                Some((l, k, id)) if l == listing => Some((k, id)),
                _ => return bad_request("invalid cursor"),
            }
        }
    };
    let start = match &after {
        None => 0,
        Some(pos) => rows
            .iter()
            .position(|r| {
                let k = key(r);
                if desc {
                    k < *pos
                } else {
                    k > *pos
                }
            })
            .unwrap_or(rows.len()),
    };
    let end = (start + limit).min(rows.len());
    let data: Vec<Value> = rows[start..end].to_vec();
    let next = (end < rows.len()).then(|| {
        let (k, id) = key(&rows[end - 1]);
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(listing, k, id)).unwrap_or_default())
    });
    (
        200,
        json!({
            "object": "list",
            "uri": format!("/api/{listing}"),
            "data": data,
            "meta": {"prev_cursor": null, "next_cursor": next},
        }),
    )
}
