//! Bulk operations: `bulkOperationRunQuery` checks the query against
//! Shopify's restrictions (`schema::check_bulk`: at least one connection,
//! at most 5, nested at most 2 deep, none inside a list field, no top-level
//! `node`/`nodes`) and refuses it with an `INVALID` user error, then the operation
//! moves CREATED → RUNNING → COMPLETED on the API clock, producing objects
//! at a fixed rate; `currentBulkOperation`, `bulkOperation(id:)` and
//! `node(id:)` report it, `bulkOperationCancel` stops it (CANCELING, then
//! CANCELED). At most 5 query operations run at once
//! per shop from API 2026-01 (1 before), whoever started them.
//!
//! The result is a JSONL file served over HTTP at the operation's `url`:
//! one line per object, children of a nested connection as lines of their
//! own carrying `__parentId`, rendered in chunks while it streams (never
//! whole in memory). The file is the world as it stood when the operation
//! was created. A fault set with `Faults::bulk_fail_after_objects` makes
//! an operation FAILED (`INTERNAL_SERVER_ERROR`) after that many objects,
//! with those at `partialDataUrl`. Links expire 7 days after the operation
//! finished (the API clock's days): the status becomes EXPIRED and the file
//! answers 403. Each operation that finishes is announced once by the
//! `bulk_operations/finish` webhook to the shop's subscribers.

use serde_json::{json, Map, Value};

use super::cost::is_connection;
use super::project::Projection;
use super::query::Field;
use super::roots::{node_selection, Reading, Record};
use super::wire::Wants;
use super::wire::{datetime, gid, typed, NODES_KEY};
use crate::ids;
use crate::world::{Shop, World};

/// Seconds between creation and the start of the run.
const START_DELAY: f64 = 0.05;
/// Seconds an operation stays CANCELING after `bulkOperationCancel`.
const CANCEL_DELAY: f64 = 0.05;
/// Objects produced per second of API clock while running.
pub(crate) const OBJECTS_PER_SECOND: f64 = 50_000.0;
/// How long result links stay valid.
pub(crate) const LINK_LIFETIME: f64 = 7.0 * 86_400.0;
/// Records rendered per chunk of the streamed file.
pub(crate) const CHUNK_RECORDS: usize = 200;

pub(crate) struct BulkOperation {
    pub sequence: u64,
    pub slug: String,
    pub query: String,
    /// The root connection field of the query.
    pub root: Field,
    /// The records at creation, in id order.
    pub records: Vec<Record>,
    /// The world's clock at creation: the file renders this moment.
    pub world_now: i64,
    /// API clock readings.
    pub created_at: f64,
    pub canceled_at: Option<f64>,
    /// Objects (lines) each record gives the file, and their sum.
    pub counts: Vec<u32>,
    pub total_objects: u64,
    pub root_objects: u64,
    /// Injected: fail after this many objects.
    pub fail_after: Option<u64>,
    /// Why it fails when it does: `INTERNAL_SERVER_ERROR` for an injected
    /// fault, `ACCESS_DENIED` for a query the token may not read.
    pub failure: &'static str,
    /// Wall clock (world seconds) at creation, for `createdAt`.
    pub created_world: i64,
    pub announced: bool,
}

#[derive(Default)]
pub(crate) struct BulkState {
    pub operations: Vec<BulkOperation>,
    /// A task waits for the next operation to finish (real clock only).
    pub watching: bool,
}

/// Where an operation stands at API clock `t`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Standing {
    pub status: &'static str,
    pub object_count: u64,
    pub finished_at: Option<f64>,
    pub error_code: Option<&'static str>,
}

impl BulkOperation {
    pub fn standing(&self, t: f64) -> Standing {
        let start = self.created_at + START_DELAY;
        let produced = |at: f64| (((at - start).max(0.0)) * OBJECTS_PER_SECOND) as u64;
        let limit = self.fail_after.unwrap_or(u64::MAX).min(self.total_objects);
        let done_at = start + limit as f64 / OBJECTS_PER_SECOND;
        if let Some(canceled) = self.canceled_at {
            if canceled < done_at {
                let stopped = canceled + CANCEL_DELAY;
                return Standing {
                    status: if t < stopped { "CANCELING" } else { "CANCELED" },
                    object_count: produced(canceled).min(limit),
                    finished_at: (t >= stopped).then_some(stopped),
                    error_code: None,
                };
            }
        }
        if t < start {
            return Standing {
                status: "CREATED",
                object_count: 0,
                finished_at: None,
                error_code: None,
            };
        }
        if t < done_at {
            return Standing {
                status: "RUNNING",
                object_count: produced(t),
                finished_at: None,
                error_code: None,
            };
        }
        let failed = self.failure == "ACCESS_DENIED" || limit < self.total_objects;
        let expired = t > done_at + LINK_LIFETIME;
        Standing {
            status: match (failed, expired) {
                (_, true) => "EXPIRED",
                (true, false) => "FAILED",
                (false, false) => "COMPLETED",
            },
            object_count: limit,
            finished_at: Some(done_at),
            error_code: failed.then_some(self.failure),
        }
    }

    pub fn gid(&self) -> String {
        gid("BulkOperation", ids::bulk_operation(self.sequence))
    }

    /// Whether it still holds one of the shop's concurrent slots.
    fn running(&self, t: f64) -> bool {
        matches!(self.standing(t).status, "CREATED" | "RUNNING" | "CANCELING")
    }
}

/// How many query operations may run at once for API `version`.
pub(crate) fn concurrency_limit(version: &str) -> usize {
    if version < "2026-01" {
        1
    } else {
        5
    }
}

/// Objects a record contributes to the file: itself and each node of
/// each nested connection selected, counted from the compact world where
/// the connection is known (rendered otherwise).
fn objects_of(reading: &Reading<'_>, record: &Record, selection: &[Field]) -> u64 {
    let nested: Vec<&Field> = selection.iter().filter(|f| is_connection(f)).collect();
    let mut count = 1;
    for field in nested {
        match nested_len(reading, record, field) {
            Some(n) => count += n,
            None => {
                let value = reading.render_for(record, &Wants::of(selection));
                let mut lines = Vec::new();
                emit(&value, selection, None, &mut lines);
                return lines.len() as u64;
            }
        }
    }
    count
}

/// How many lines nested connection `field` of `record` gives (its nodes
/// and theirs), when the compact world says so without rendering.
fn nested_len(reading: &Reading<'_>, record: &Record, field: &Field) -> Option<u64> {
    let shop = reading.shop;
    let book = &shop.book;
    Some(match (record, field.name.as_str()) {
        (Record::Order(i), "lineItems") => book.items(&book.orders[*i as usize]).len() as u64,
        // One fulfillment order per order (its lines would be a third
        // level of connections, which a bulk query may not ask).
        (Record::Order(_), "fulfillmentOrders") => 1,
        (Record::Order(i), "returns") => {
            if !reading.granted("read_returns") {
                return Some(0);
            }
            crate::aftersale::return_plan(book, reading.seed, shop.profile.id_salt, *i)
                .and_then(|plan| crate::aftersale::return_status(&plan, reading.now))
                .map_or(0, |_| 1)
        }
        (Record::FulfillmentOrder(i), "lineItems") => {
            book.items(&book.orders[*i as usize]).len() as u64
        }
        (Record::Product(p), "variants") => shop.catalog.products[*p].variants.len() as u64,
        (Record::InventoryItem(..), "inventoryLevels") => shop.catalog.locations.len() as u64,
        (Record::Checkout(k), "lineItems") => {
            crate::checkouts::checkout(book, reading.seed, shop.profile.id_salt, *k)?.items as u64
        }
        _ => return None,
    })
}

/// The lines of one rendered record: the object, then its children.
pub(crate) fn emit(value: &Value, selection: &[Field], parent: Option<&str>, out: &mut Vec<Value>) {
    let mut projection = Projection::default();
    let plain: Vec<Field> = selection
        .iter()
        .filter(|f| !is_connection(f))
        .cloned()
        .collect();
    let mut line = projection.fields(value, &plain);
    if let (Some(parent), Value::Object(map)) = (parent, &mut line) {
        map.insert("__parentId".into(), Value::String(parent.to_string()));
    }
    let id = value.get("id").and_then(Value::as_str).map(str::to_string);
    out.push(line);
    for field in selection.iter().filter(|f| is_connection(f)) {
        let children = value
            .get(&field.name)
            .and_then(|c| c.get(NODES_KEY))
            .and_then(Value::as_array);
        let inner = node_selection(field);
        for child in children.into_iter().flatten() {
            emit(child, &inner, id.as_deref(), out);
        }
    }
}

/// `bulkOperationRunQuery(query:)`: the payload `{bulkOperation, userErrors}`.
pub(crate) fn run_query(
    world: &mut World,
    slug: &str,
    version: &str,
    seed: u64,
    text: &str,
) -> Value {
    let t = world.api_clock.seconds();
    let user_error = |code: &str, message: String| {
        json!({
            "bulkOperation": null,
            "userErrors": [{ "__typename": "BulkOperationUserError", "field": ["query"], "message": message, "code": code }],
        })
    };
    let running: Vec<&BulkOperation> = world
        .bulk
        .operations
        .iter()
        .filter(|op| op.slug == slug && op.running(t))
        .collect();
    let limit = concurrency_limit(version);
    if running.len() >= limit {
        return if limit == 1 {
            user_error(
                "OPERATION_IN_PROGRESS",
                format!(
                    "A bulk query operation for this app and shop is already in progress: {}.",
                    running[0].gid()
                ),
            )
        } else {
            user_error(
                "LIMIT_REACHED",
                format!("Bulk operations limit reached: {limit} bulk query operations are already running for this app and shop. Please try again later."),
            )
        };
    }
    let operation = match super::query::operation(text, &Map::new(), None) {
        Ok(op) => op,
        Err(invalid) => return user_error("INVALID", format!("Invalid bulk query: {}", invalid.0)),
    };
    let root = match super::schema::check_bulk(&operation.fields) {
        Ok(root) => root.clone(),
        Err(message) => return user_error("INVALID", message),
    };
    let Some(shop) = world.shop(slug) else {
        return user_error("INVALID", "Unknown shop".into());
    };
    let reading = Reading {
        shop,
        seed,
        now: world.now,
    };
    let mut wanted = vec![root.name.clone()];
    collect_names(&root.selection, &mut wanted);
    let denied = wanted.iter().any(|name| {
        super::roots::required_scope(name).is_some_and(|scope| !reading.granted(scope))
    });
    let mut matching = reading.matching(&root.name, &root);
    matching.sort_by_key(|(rank, _)| *rank);
    let records: Vec<Record> = matching.into_iter().map(|(_, r)| r).collect();
    let selection = node_selection(&root);
    let counts: Vec<u32> = records
        .iter()
        .map(|r| objects_of(&reading, r, &selection) as u32)
        .collect();
    let total_objects: u64 = counts.iter().map(|&c| c as u64).sum();
    let sequence = world.bulk.operations.len() as u64 + 1;
    let operation = BulkOperation {
        sequence,
        slug: slug.to_string(),
        query: text.to_string(),
        root,
        root_objects: records.len() as u64,
        records,
        world_now: world.now,
        created_at: t,
        canceled_at: None,
        counts,
        total_objects,
        fail_after: if denied {
            Some(0)
        } else {
            world.faults.bulk_fail_after_objects
        },
        failure: if denied {
            "ACCESS_DENIED"
        } else {
            "INTERNAL_SERVER_ERROR"
        },
        created_world: world.now,
        announced: false,
    };
    let answer = json!({
        "bulkOperation": operation_json(&operation, t, None),
        "userErrors": [],
    });
    world.bulk.operations.push(operation);
    answer
}

fn collect_names(selection: &[Field], out: &mut Vec<String>) {
    for field in selection {
        out.push(field.name.clone());
        collect_names(&field.selection, out);
    }
}

/// `bulkOperationCancel(id:)`.
pub(crate) fn cancel(world: &mut World, slug: &str, id: &str) -> Value {
    let t = world.api_clock.seconds();
    let Some(op) = world
        .bulk
        .operations
        .iter_mut()
        .find(|op| op.slug == slug && op.gid() == id)
    else {
        return json!({
            "bulkOperation": null,
            "userErrors": [{ "__typename": "UserError", "field": ["id"], "message": "Bulk operation does not exist" }],
        });
    };
    if !op.running(t) {
        let status = op.standing(t).status;
        return json!({
            "bulkOperation": operation_json(op, t, None),
            "userErrors": [{ "__typename": "UserError", "field": null, "message": format!("A bulk operation cannot be canceled when it is {}", status.to_lowercase()) }],
        });
    }
    op.canceled_at = Some(t);
    json!({ "bulkOperation": operation_json(op, t, None), "userErrors": [] })
}

/// The `BulkOperation` object at clock `t`; `base` is the address files
/// are served from (`http://host/shops/slug`): mutations answer before
/// any file exists and pass `None`.
pub(crate) fn operation_json(op: &BulkOperation, t: f64, base: Option<&str>) -> Value {
    let standing = op.standing(t);
    let file = |suffix: &str| base.map(|base| format!("{base}/bulk/{}{suffix}.jsonl", op.sequence));
    let completed_at = standing
        .finished_at
        .map(|f| datetime(op.created_world + (f - op.created_at).ceil() as i64));
    typed(
        "BulkOperation",
        json!({
            "id": op.gid(),
            "status": standing.status,
            "type": "QUERY",
            "query": op.query,
            "errorCode": standing.error_code,
            "createdAt": datetime(op.created_world),
            "completedAt": completed_at,
            "objectCount": standing.object_count.to_string(),
            "rootObjectCount": op.root_objects.min(standing.object_count).to_string(),
            "fileSize": (standing.status == "COMPLETED").then(|| (standing.object_count * 120).to_string()),
            "url": (standing.status == "COMPLETED").then(|| file("")).flatten(),
            "partialDataUrl": (standing.status == "FAILED" && standing.object_count > 0)
                .then(|| file("-partial"))
                .flatten(),
        }),
    )
}

/// The lines of records `from..to` of operation `sequence`, or `None` when
/// the file does not exist (any more). `partial` asks for the partial file.
pub(crate) fn file_chunk(
    world: &World,
    slug: &str,
    sequence: u64,
    partial: bool,
    from: usize,
    seed: u64,
) -> Result<(Vec<u8>, Option<usize>), u16> {
    let t = world.api_clock.seconds();
    let op = world
        .bulk
        .operations
        .iter()
        .find(|op| op.slug == slug && op.sequence == sequence)
        .ok_or(404u16)?;
    let standing = op.standing(t);
    let allowed = match (partial, standing.status) {
        (false, "COMPLETED") => true,
        (true, "FAILED") => true,
        (_, "EXPIRED") => return Err(403),
        _ => false,
    };
    if !allowed {
        return Err(404);
    }
    let shop: &Shop = world.shop(slug).ok_or(404u16)?;
    let reading = Reading {
        shop,
        seed,
        now: op.world_now,
    };
    let selection = node_selection(&op.root);
    let wants = Wants::of(&selection);
    let to = (from + CHUNK_RECORDS).min(op.records.len());
    // Lines before `from`: needed only to cut a partial file at its limit.
    let mut written: u64 = op.counts[..from].iter().map(|&c| c as u64).sum();
    let limit = standing.object_count;
    if partial && written >= limit {
        return Ok((Vec::new(), None));
    }
    let mut body = Vec::new();
    for record in &op.records[from..to] {
        let value = reading.render_for(record, &wants);
        let mut lines = Vec::new();
        emit(&value, &selection, None, &mut lines);
        for line in lines {
            if partial && written >= limit {
                return Ok((body, None));
            }
            written += 1;
            if let Ok(text) = serde_json::to_vec(&line) {
                body.extend_from_slice(&text);
                body.push(b'\n');
            }
        }
    }
    Ok((body, (to < op.records.len()).then_some(to)))
}

/// Operations that finished since the last call: their webhook bodies.
pub(crate) fn newly_finished(world: &mut World) -> Vec<(String, Value)> {
    let t = world.api_clock.seconds();
    let mut finished = Vec::new();
    for op in world.bulk.operations.iter_mut().filter(|op| !op.announced) {
        let standing = op.standing(t);
        if let Some(at) = standing.finished_at.filter(|_| !op.running(t)) {
            op.announced = true;
            let body = json!({
                "admin_graphql_api_id": op.gid(),
                "completed_at": datetime(op.created_world + (at - op.created_at).ceil() as i64),
                "created_at": datetime(op.created_world),
                "error_code": standing.error_code.map(str::to_lowercase),
                "status": standing.status.to_lowercase(),
                "type": "query",
            });
            finished.push((op.slug.clone(), body));
        }
    }
    finished
}

/// Seconds of API clock until the earliest running operation finishes.
pub(crate) fn next_finish(world: &World) -> Option<f64> {
    let t = world.api_clock.seconds();
    world
        .bulk
        .operations
        .iter()
        .filter(|op| !op.announced)
        .map(|op| {
            let limit = op.fail_after.unwrap_or(u64::MAX).min(op.total_objects);
            let done = op.created_at + START_DELAY + limit as f64 / OBJECTS_PER_SECOND;
            let stopped = op.canceled_at.map_or(f64::MAX, |c| c + CANCEL_DELAY);
            done.min(stopped) - t
        })
        .reduce(f64::min)
        .map(|s| s.max(0.0))
}

/// Sends `bulk_operations/finish` for each operation that finished.
pub(crate) fn announce(world: &mut World) {
    for (slug, body) in newly_finished(world) {
        crate::webhooks::enqueue_event(world, &slug, "bulk_operations/finish", &body);
    }
}

/// On a real clock, wakes when the next operation should finish, so its
/// webhook goes out without anyone polling. One watcher at a time; a
/// manual clock is announced by whoever moves it.
pub(crate) fn watch(simulator: &crate::Simulator) {
    let wait = {
        let mut world = simulator.lock();
        if world.api_clock.is_manual() || world.bulk.watching {
            return;
        }
        let Some(wait) = next_finish(&world) else {
            return;
        };
        world.bulk.watching = true;
        wait
    };
    if world_has_subscribers(simulator) {
        crate::webhooks::ensure_sender(simulator);
    }
    let simulator = simulator.clone();
    tokio::spawn(async move {
        let mut wait = wait;
        loop {
            tokio::time::sleep(std::time::Duration::from_secs_f64(wait + 0.001)).await;
            let mut world = simulator.lock();
            announce(&mut world);
            match next_finish(&world) {
                Some(next) => wait = next,
                None => {
                    world.bulk.watching = false;
                    return;
                }
            }
        }
    });
}

fn world_has_subscribers(simulator: &crate::Simulator) -> bool {
    !simulator.lock().webhooks.subscriptions.is_empty()
}
