//! `/gorgias/api/...`: HTTP Basic, Gorgias's call limit (40 calls per
//! 20 s, `X-Gorgias-Account-Api-Call-Limit`, 429 with `Retry-after`), the
//! shared fault plan, and cursor-paginated lists as APIS.md describes them:
//! `/api/tickets` (`order_by` created or updated time), and
//! `/api/messages` and `/api/satisfaction-surveys` account-wide or for one
//! `ticket_id`, ordered by `created_datetime:asc|desc`, `limit` 1-100,
//! keyset cursors tied to their list.

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::{json, Value};

use super::limit::CAPACITY;
use super::plan::Helpdesk;
use super::wire;
use crate::faults::{decide, Fault};
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
        if let Ok(v) = HeaderValue::from_str(&format!("{used}/{CAPACITY}")) {
            headers.insert(CALL_LIMIT, v);
        }
    }
    response
}

fn too_many_requests(retry_after: &str) -> Response {
    let mut response = respond(
        429,
        json!({"error": {"msg": "Too many requests. Please retry later."}}),
        Some(CAPACITY),
    );
    if let Ok(v) = HeaderValue::from_str(retry_after) {
        response.headers_mut().insert("retry-after", v);
    }
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
    let (used, fault, slow, fault_retry) = {
        let mut world = simulator.lock();
        let helpdesk = &mut world.helpdesk;
        helpdesk.requests += 1;
        if !authorized(helpdesk, &headers) {
            return respond(401, json!({"error": {"msg": "Unauthorized"}}), None);
        }
        let used = match helpdesk.limit.acquire(Instant::now()) {
            Ok(used) => used,
            Err(wait) => return too_many_requests(&helpdesk.limit.retry_after(wait)),
        };
        let counter = world.fault_counter;
        world.fault_counter += 1;
        let (fault, slow) = decide(&world.faults, counter);
        // An injected 429 asks for one call's share of the window.
        let share = world.helpdesk.limit.window / CAPACITY;
        (
            used,
            fault,
            slow.then(|| Duration::from_millis(world.faults.slow_ms)),
            world.helpdesk.limit.retry_after(share),
        )
    };
    if let Some(delay) = slow {
        tokio::time::sleep(delay).await;
    }
    match fault {
        Some(Fault::TooManyRequests) => return too_many_requests(&fault_retry),
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
    let ticket_id = match param(query, "ticket_id").map(str::parse::<u64>) {
        None => None,
        Some(Ok(id)) => Some(id),
        Some(Err(_)) => return bad_request("ticket_id must be an integer"),
    };
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
            let desc = match created_order(query) {
                Ok(desc) => desc,
                Err(answer) => return answer,
            };
            let mut rows: Vec<(i64, u64, usize, usize)> = Vec::new();
            for (t, ticket) in desk.tickets.iter().enumerate() {
                if !ticket.visible(now) || ticket_id.is_some_and(|id| ticket.id != id) {
                    continue;
                }
                for (m, message) in ticket.messages.iter().enumerate() {
                    if message.at <= now {
                        rows.push((wire::instant(message.at, message.id), message.id, t, m));
                    }
                }
            }
            let listing = format!("messages:{}", ticket_id.unwrap_or(0));
            keyed_page(rows, desc, &listing, cursor, limit, |&(_, _, t, m)| {
                wire::message_json(&desk.tickets[t], &desk.tickets[t].messages[m])
            })
        }
        "satisfaction-surveys" => {
            let desc = match created_order(query) {
                Ok(desc) => desc,
                Err(answer) => return answer,
            };
            let rows: Vec<(i64, u64, usize, usize)> = desk
                .tickets
                .iter()
                .enumerate()
                .filter(|(_, t)| t.visible(now) && ticket_id.is_none_or(|id| t.id == id))
                .filter_map(|(i, t)| {
                    let survey = t.survey.as_ref().filter(|s| s.sent_at <= now)?;
                    let created = wire::survey_created_at(survey);
                    Some((wire::instant(created, survey.id), survey.id, i, 0))
                })
                .collect();
            let listing = format!("satisfaction-surveys:{}", ticket_id.unwrap_or(0));
            keyed_page(rows, desc, &listing, cursor, limit, |&(_, _, t, _)| {
                wire::survey_json(&desk.tickets[t], now).unwrap_or(Value::Null)
            })
        }
        _ => (404, json!({"error": {"msg": "Not found"}})),
    }
}

/// `order_by` of the account-wide lists: `created_datetime:asc|desc`
/// (descending when absent); `Ok(true)` for descending.
fn created_order(query: &[(String, String)]) -> Result<bool, (u16, Value)> {
    match param(query, "order_by") {
        None | Some("created_datetime:desc") | Some("created_datetime") => Ok(true),
        Some("created_datetime:asc") => Ok(false),
        Some(_) => Err(bad_request(
            "order_by must be created_datetime:asc or created_datetime:desc",
        )),
    }
}

/// Keyset pagination over rows already keyed by (creation instant in
/// microseconds, id): only the page's rows are rendered. The cursor names
/// the listing (and its filter), so it is refused by another listing.
fn keyed_page<R>(
    mut rows: Vec<(i64, u64, usize, usize)>,
    desc: bool,
    listing: &str,
    cursor: Option<&str>,
    limit: usize,
    render: R,
) -> (u16, Value)
where
    R: Fn(&(i64, u64, usize, usize)) -> Value,
{
    rows.sort_unstable_by_key(|r| (r.0, r.1));
    if desc {
        rows.reverse();
    }
    let order = if desc { "desc" } else { "asc" };
    let name = format!("{listing}:{order}");
    let start = match cursor {
        None => 0,
        Some(c) => {
            let decoded = URL_SAFE_NO_PAD
                .decode(c)
                .ok()
                .and_then(|b| serde_json::from_slice::<(String, i64, u64)>(&b).ok());
            let Some((l, key, id)) = decoded.filter(|(l, _, _)| *l == name) else {
                return bad_request("invalid cursor");
            };
            let _ = l;
            rows.partition_point(|r| {
                if desc {
                    (r.0, r.1) >= (key, id)
                } else {
                    (r.0, r.1) <= (key, id)
                }
            })
        }
    };
    let end = (start + limit).min(rows.len());
    let data: Vec<Value> = rows[start..end].iter().map(render).collect();
    let next = (end < rows.len()).then(|| {
        let last = &rows[end - 1];
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(&(&name, last.0, last.1)).unwrap_or_default())
    });
    let uri = listing.split(':').next().unwrap_or(listing);
    (
        200,
        json!({
            "object": "list",
            "uri": format!("/api/{uri}"),
            "data": data,
            "meta": {"prev_cursor": null, "next_cursor": next},
        }),
    )
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimConfig;

    fn world() -> crate::world::World {
        crate::world::World::new(&SimConfig {
            seed: 3,
            now: "2026-05-04T14:00:00Z".parse().unwrap(),
            scale: 0.01,
        })
    }

    fn get(world: &crate::world::World, path: &str, query: &[(&str, &str)]) -> (u16, Value) {
        let query: Vec<(String, String)> = query
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        answer(&world.helpdesk, world.now, path, &query)
    }

    /// Walks a list by cursor; the `created_datetime` of every record.
    fn walk(world: &crate::world::World, path: &str, order: &str) -> Vec<(String, u64)> {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut query = vec![("limit", "7"), ("order_by", order)];
            if let Some(c) = &cursor {
                query.push(("cursor", c.as_str()));
            }
            let (status, body) = get(world, path, &query);
            assert_eq!(status, 200, "{body}");
            for r in body["data"].as_array().unwrap() {
                let at = r["created_datetime"].as_str().unwrap();
                let at = crate::gorgias::wire::tests_parse(at);
                seen.push((at, r["id"].as_u64().unwrap()));
            }
            match body["meta"]["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_string()),
                None => return seen,
            }
        }
    }

    #[test]
    fn account_wide_lists_walk_by_cursor_in_creation_order() {
        let world = world();
        for (path, all) in [
            (
                "messages",
                world
                    .helpdesk
                    .tickets
                    .iter()
                    .flat_map(|t| t.messages_at(world.now))
                    .count(),
            ),
            (
                "satisfaction-surveys",
                world
                    .helpdesk
                    .tickets
                    .iter()
                    .filter(|t| t.survey.as_ref().is_some_and(|s| s.sent_at <= world.now))
                    .count(),
            ),
        ] {
            assert!(all > 7, "{path}: {all} records, more than a page");
            let asc = walk(&world, path, "created_datetime:asc");
            let mut sorted = asc.clone();
            sorted.sort();
            assert_eq!(asc, sorted, "{path} ascending");
            assert_eq!(asc.len(), all, "{path}: each record once");
            let mut desc = walk(&world, path, "created_datetime:desc");
            desc.reverse();
            assert_eq!(desc, asc, "{path} descending is the reverse");
        }
        let (status, _) = get(&world, "messages", &[("order_by", "updated_datetime:desc")]);
        assert_eq!(status, 400);
        let (_, first) = get(&world, "messages", &[("limit", "2")]);
        let cursor = first["meta"]["next_cursor"].as_str().unwrap().to_string();
        let (status, _) = get(&world, "satisfaction-surveys", &[("cursor", &cursor)]);
        assert_eq!(status, 400, "a cursor belongs to its list");
        let (status, _) = get(&world, "messages", &[("limit", "101")]);
        assert_eq!(status, 400);
        let surveyed = world
            .helpdesk
            .tickets
            .iter()
            .find(|t| t.survey.as_ref().is_some_and(|s| s.sent_at <= world.now))
            .unwrap()
            .id;
        let (_, one) = get(
            &world,
            "satisfaction-surveys",
            &[("ticket_id", &surveyed.to_string())],
        );
        let data = one["data"].as_array().unwrap();
        assert_eq!(data.len(), 1);
        assert_eq!(data[0]["ticket_id"].as_u64(), Some(surveyed));
        assert_eq!(one["uri"], "/api/satisfaction-surveys");
        let ticket = world.helpdesk.tickets[0].id;
        let (_, one) = get(&world, "messages", &[("ticket_id", &ticket.to_string())]);
        assert!(one["data"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["ticket_id"].as_u64() == Some(ticket)));
    }
}
