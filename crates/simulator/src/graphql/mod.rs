//! The Shopify GraphQL Admin API: `POST /admin/api/{version}/graphql.json`
//! on each simulated shop, HTTP-free here (`crate::server` routes to it).
//!
//! A request is parsed (`query`), costed before it runs (`cost`), admitted
//! by the shop's cost bucket (`throttle`), answered from the world for
//! exactly the selection asked (`roots` lists and finds records, `wire`
//! renders them, `project` cuts them to the selection and counts the
//! actual cost), and carries `extensions.cost` with the throttle status.
//! A query over 1,000 requested points is refused with `MAX_COST_EXCEEDED`;
//! one the bucket cannot pay for gets `THROTTLED`; both are HTTP 200, as on
//! Shopify. Mutations: `bulkOperationRunQuery` and `bulkOperationCancel`
//! (`bulk`), `metafieldsSet` on the shop (`metafields`), and the returns
//! mutations `returnApproveRequest` / `returnDeclineRequest` (`returns`).
//! The version that answers falls forward from an expired one
//! ([`answering_version`]); fields the token's scopes do not cover answer
//! `ACCESS_DENIED`, and without `read_all_orders` only 60 days of orders
//! exist, as on Shopify.
//!
//! # Layout
//!
//! - `query`: parsing with `graphql-parser`, variables and fragments lowered.
//! - `cost`: the requested cost of a query.
//! - `throttle`: the API clock and the per-shop cost bucket.
//! - `search`: the `query:` search terms (`updated_at:>'…'`).
//! - `wire`: the GraphQL payload structs.
//! - `project`: selection, connection paging, actual cost.
//! - `roots`: root fields, keyset cursors, records by global id.
//! - `schema`: which served fields are connections, lists or objects, and
//!   the bulk operation restrictions checked on it.
//! - `bulk`: bulk operations and their JSONL files.

pub(crate) mod bulk;
pub(crate) mod cost;
mod metafields;
mod project;
pub(crate) mod query;
mod returns;
mod roots;
pub(crate) mod schema;
mod search;
pub(crate) mod throttle;
pub(crate) mod wire;

use serde_json::{json, Value};

use crate::world::World;
use project::Projection;
use query::{Field, Kind, Operation, Request};
use roots::{Reading, CONNECTIONS};
use throttle::ThrottleStatus;

/// An answer: HTTP status and JSON body, the API version that answered
/// and, when the query used something deprecated, why.
pub(crate) struct Answer {
    pub status: u16,
    pub body: Value,
    pub version: String,
    pub deprecated: Option<&'static str>,
}

/// The version that answers a request for `requested` at world time `now`:
/// Shopify releases a version each quarter (January, April, July, October)
/// and supports each for 12 months; a request for an unsupported or
/// unknown version is answered by the oldest supported one, a request for
/// one not yet released by the newest. `unstable` stays itself.
pub(crate) fn answering_version(requested: &str, now: i64) -> String {
    if requested == "unstable" {
        return requested.to_string();
    }
    let today = jiff::Timestamp::from_second(now)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .to_zoned(jiff::tz::TimeZone::UTC)
        .date();
    let quarter = |year: i32, month: i32| year * 12 + (month - 1) / 3 * 3;
    let newest = quarter(today.year() as i32, today.month() as i32);
    let oldest = newest - 9;
    let format = |q: i32| format!("{:04}-{:02}", q / 12, q % 12 + 1);
    let asked = requested.split_once('-').and_then(|(y, m)| {
        let (y, m) = (y.parse::<i32>().ok()?, m.parse::<i32>().ok()?);
        [1, 4, 7, 10].contains(&m).then(|| quarter(y, m))
    });
    match asked {
        Some(q) if q > newest => format(newest),
        Some(q) if q >= oldest => format(q),
        _ => format(oldest),
    }
}

/// A `THROTTLED` answer whatever the bucket holds (an injected fault):
/// the cost the query would have requested and the bucket as it stands.
pub(crate) fn throttled(
    world: &mut World,
    slug: &str,
    requested_version: &str,
    body: &[u8],
) -> Answer {
    let version = answering_version(requested_version, world.now);
    let requested = serde_json::from_slice::<Request>(body)
        .ok()
        .and_then(|r| {
            let variables = r.variables.unwrap_or_default();
            query::operation(&r.query, &variables, r.operation_name.as_deref()).ok()
        })
        .map_or(0, |op| cost::requested(&op));
    let t = world.api_clock.seconds();
    let status = match world.shop_mut(slug) {
        Some(shop) => shop.cost_bucket.status(t),
        None => throttle::CostBucket::default().status(t),
    };
    Answer {
        status: 200,
        body: throttled_body(requested, status),
        version,
        deprecated: None,
    }
}

fn throttled_body(requested: u64, status: ThrottleStatus) -> Value {
    json!({
        "errors": [{
            "message": "Throttled",
            "extensions": { "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits" },
        }],
        "extensions": cost_extension(requested, None, status),
    })
}

/// Why a query's answer names a deprecation, if it does.
fn deprecation(operation: &Operation, version: &str) -> Option<&'static str> {
    let polls_current = operation.kind == Kind::Query
        && operation
            .fields
            .iter()
            .any(|f| f.name == "currentBulkOperation");
    (polls_current && version >= "2026-01")
        .then_some("https://shopify.dev/api/usage/versioning#deprecation-practices")
}

fn cost_extension(requested: u64, actual: Option<u64>, status: ThrottleStatus) -> Value {
    json!({
        "cost": {
            "requestedQueryCost": requested,
            "actualQueryCost": actual,
            "throttleStatus": {
                "maximumAvailable": status.maximum_available,
                "currentlyAvailable": status.currently_available,
                "restoreRate": status.restore_rate,
            },
        }
    })
}

/// Answers one GraphQL request for shop `slug`; `base` is the shop's
/// address as the client reached it (for bulk file links).
pub(crate) fn answer(
    world: &mut World,
    slug: &str,
    requested_version: &str,
    base: &str,
    body: &[u8],
) -> Answer {
    let version = answering_version(requested_version, world.now);
    let (status, body, deprecated) = respond(world, slug, &version, base, body);
    Answer {
        status,
        body,
        version,
        deprecated,
    }
}

fn respond(
    world: &mut World,
    slug: &str,
    version: &str,
    base: &str,
    body: &[u8],
) -> (u16, Value, Option<&'static str>) {
    let request: Request = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => {
            return (
                400,
                json!({ "errors": { "query": format!("Required parameter missing or invalid: {e}") } }),
                None,
            )
        }
    };
    let variables = request.variables.unwrap_or_default();
    let operation = match query::operation(
        &request.query,
        &variables,
        request.operation_name.as_deref(),
    ) {
        Ok(operation) => operation,
        Err(invalid) => {
            return (
                200,
                json!({ "errors": [{ "message": invalid.0, "extensions": { "code": "GRAPHQL_PARSE_FAILED" } }] }),
                None,
            )
        }
    };
    let requested = cost::requested(&operation);
    let t = world.api_clock.seconds();
    let rate_limit = world.rate_limit;
    let Some(shop) = world.shop_mut(slug) else {
        return (404, json!({ "errors": "Not Found" }), None);
    };
    if requested > cost::MAX_QUERY_COST {
        let status = shop.cost_bucket.status(t);
        let message = format!(
            "Query cost is {requested}, which exceeds the single query max cost limit ({}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n",
            cost::MAX_QUERY_COST
        );
        return (
            200,
            json!({
                "errors": [{ "message": message, "extensions": { "code": "MAX_COST_EXCEEDED", "cost": requested, "maxCost": cost::MAX_QUERY_COST } }],
                "extensions": cost_extension(requested, None, status),
            }),
            None,
        );
    }
    if rate_limit && !shop.cost_bucket.take(requested, t) {
        let status = shop.cost_bucket.status(t);
        return (200, throttled_body(requested, status), None);
    }
    let (data, actual, errors) = execute(world, slug, version, base, &operation);
    let Some(shop) = world.shop_mut(slug) else {
        return (404, json!({ "errors": "Not Found" }), None);
    };
    if rate_limit {
        shop.cost_bucket.refund(requested.saturating_sub(actual));
    }
    let status = shop.cost_bucket.status(t);
    let mut body =
        json!({ "data": data, "extensions": cost_extension(requested, Some(actual), status) });
    if !errors.is_empty() {
        body["errors"] = Value::Array(errors);
    }
    let deprecated = deprecation(&operation, version);
    (200, body, deprecated)
}

/// Runs the operation: `(data, actual cost, errors)`.
fn execute(
    world: &mut World,
    slug: &str,
    version: &str,
    base: &str,
    operation: &Operation,
) -> (Value, u64, Vec<Value>) {
    let mut data = serde_json::Map::new();
    if operation.kind == Kind::Mutation {
        let mut errors = Vec::new();
        for field in &operation.fields {
            let payload = match field.name.as_str() {
                "bulkOperationRunQuery" => match field.arg_str("query") {
                    Some(text) => {
                        let seed = world.seed;
                        bulk::run_query(world, slug, version, seed, text)
                    }
                    None => {
                        errors.push(json!({ "message": "Field 'bulkOperationRunQuery' is missing required arguments: query" }));
                        continue;
                    }
                },
                "bulkOperationCancel" => {
                    bulk::cancel(world, slug, field.arg_str("id").unwrap_or_default())
                }
                "metafieldsSet" => match world.shop_mut(slug) {
                    Some(shop) => {
                        let shop_gid = wire::shop(shop)["id"]
                            .as_str()
                            .unwrap_or_default()
                            .to_string();
                        metafields::set(shop, &shop_gid, field.arg("metafields"))
                    }
                    None => continue,
                },
                name @ ("returnApproveRequest" | "returnDeclineRequest") => {
                    let granted = world
                        .shop(slug)
                        .is_some_and(|s| s.scopes.iter().any(|x| x == "write_returns"));
                    if !granted {
                        errors.push(json!({
                            "message": format!("Access denied for {name} field. Required access: `write_returns` access scope."),
                            "path": [field.key],
                            "extensions": {
                                "code": "ACCESS_DENIED",
                                "documentation": "https://shopify.dev/api/usage/access-scopes",
                                "requiredAccess": "`write_returns` access scope.",
                            },
                        }));
                        data.insert(field.key.clone(), Value::Null);
                        continue;
                    }
                    let approve = name == "returnApproveRequest";
                    let decided = returns::decide(world, slug, field.arg("input"), approve);
                    if let Some((topic, body)) = decided.webhook {
                        crate::webhooks::enqueue_event(world, slug, topic, &body);
                    }
                    decided.payload
                }
                other => {
                    errors.push(json!({ "message": format!("Field '{other}' doesn't exist on type 'Mutation'"), "extensions": { "code": "undefinedField" } }));
                    continue;
                }
            };
            let mut projection = Projection::default();
            let value = projection.fields(&payload, &field.selection);
            errors.extend(projection.errors);
            data.insert(field.key.clone(), value);
        }
        return (
            Value::Object(data),
            operation.fields.len() as u64 * cost::MUTATION_COST,
            errors,
        );
    }
    let t = world.api_clock.seconds();
    let Some(shop) = world.shop(slug) else {
        return (Value::Null, 0, Vec::new());
    };
    let reading = Reading {
        shop,
        seed: world.seed,
        now: world.now,
    };
    let mut projection = Projection::default();
    for field in &operation.fields {
        let value = root_field(&reading, world, slug, base, t, field, &mut projection);
        data.insert(field.key.clone(), value);
    }
    (
        Value::Object(data),
        projection.actual_cost,
        projection.errors,
    )
}

/// Every node of root connection `root` of shop `slug` at the clock,
/// rendered whole (token scopes apply, as to a request): the set a sync of
/// that resource must end up storing.
pub(crate) fn root_nodes(world: &World, slug: &str, root: &str) -> Vec<Value> {
    let Some(shop) = world.shop(slug) else {
        return Vec::new();
    };
    let reading = Reading {
        shop,
        seed: world.seed,
        now: world.now,
    };
    reading
        .records(root)
        .iter()
        .map(|record| reading.render(record))
        .collect()
}

fn root_field(
    reading: &Reading<'_>,
    world: &World,
    slug: &str,
    base: &str,
    t: f64,
    field: &Field,
    projection: &mut Projection,
) -> Value {
    let name = field.name.as_str();
    if reading.denied(field, projection) {
        return Value::Null;
    }
    if name == "orders" || name == "order" {
        if let Some(returns) = find_field(&field.selection, "returns") {
            reading.denied(returns, projection);
        }
    }
    match name {
        _ if CONNECTIONS.contains(&name) => reading.connection(field, projection),
        "shop" => projection.object(&wire::shop(reading.shop), &field.selection),
        "shopifyPaymentsAccount" => {
            projection.actual_cost += 1;
            let mut out = serde_json::Map::new();
            for child in &field.selection {
                let value = match child.name.as_str() {
                    "disputes" => reading.connection(child, projection),
                    "id" => json!(wire::gid(
                        "ShopifyPaymentsAccount",
                        1_000 + reading.shop.profile.id_salt
                    )),
                    "__typename" => json!("ShopifyPaymentsAccount"),
                    other => {
                        projection.error(
                            format!(
                                "Field '{other}' doesn't exist on type 'ShopifyPaymentsAccount'"
                            ),
                            Some("undefinedField"),
                        );
                        Value::Null
                    }
                };
                out.insert(child.key.clone(), value);
            }
            Value::Object(out)
        }
        "order" | "product" | "customer" | "fulfillment" | "refund" | "node" | "bulkOperation" => {
            let id = field.arg_str("id").unwrap_or_default();
            match find(reading, world, slug, base, t, id) {
                Some(value) => projection.object(&value, &field.selection),
                None => Value::Null,
            }
        }
        "nodes" => field
            .arg("ids")
            .and_then(Value::as_array)
            .map(|ids| {
                ids.iter()
                    .map(|id| {
                        match find(
                            reading,
                            world,
                            slug,
                            base,
                            t,
                            id.as_str().unwrap_or_default(),
                        ) {
                            Some(value) => projection.object(&value, &field.selection),
                            None => Value::Null,
                        }
                    })
                    .collect()
            })
            .unwrap_or(Value::Null),
        "currentAppInstallation" => {
            let scopes: Vec<Value> = reading
                .shop
                .scopes
                .iter()
                .map(|handle| json!({ "__typename": "AccessScope", "handle": handle }))
                .collect();
            let installation = json!({
                "__typename": "AppInstallation",
                "id": wire::gid("AppInstallation", 90_000 + reading.shop.profile.id_salt),
                "accessScopes": scopes,
            });
            projection.object(&installation, &field.selection)
        }
        "currentBulkOperation" => world
            .bulk
            .operations
            .iter()
            .rev()
            .find(|op| op.slug == slug)
            .map(|op| projection.object(&bulk::operation_json(op, t, Some(base)), &field.selection))
            .unwrap_or(Value::Null),
        other => {
            projection.error(
                format!("Field '{other}' doesn't exist on type 'QueryRoot'"),
                Some("undefinedField"),
            );
            Value::Null
        }
    }
}

/// The first field named `name` anywhere in `selection`.
fn find_field<'a>(selection: &'a [Field], name: &str) -> Option<&'a Field> {
    selection.iter().find_map(|f| {
        if f.name == name {
            Some(f)
        } else {
            find_field(&f.selection, name)
        }
    })
}

/// The record or bulk operation a global id names.
fn find(
    reading: &Reading<'_>,
    world: &World,
    slug: &str,
    base: &str,
    t: f64,
    id: &str,
) -> Option<Value> {
    if wire::parse_gid("BulkOperation", id).is_some() {
        return world
            .bulk
            .operations
            .iter()
            .find(|op| op.slug == slug && op.gid() == id)
            .map(|op| bulk::operation_json(op, t, Some(base)));
    }
    reading.by_gid(id)
}

#[cfg(test)]
mod tests {
    #[test]
    fn versions_fall_forward_to_the_oldest_supported_one() {
        // 2026-05-03: 2026-04 is the newest, 2025-07 the oldest supported.
        let now = 1_777_831_509;
        assert_eq!(super::answering_version("2026-01", now), "2026-01");
        assert_eq!(super::answering_version("2025-07", now), "2025-07");
        assert_eq!(super::answering_version("2025-04", now), "2025-07");
        assert_eq!(super::answering_version("2024-13", now), "2025-07");
        assert_eq!(super::answering_version("2026-07", now), "2026-04");
        assert_eq!(super::answering_version("unstable", now), "unstable");
    }
}
