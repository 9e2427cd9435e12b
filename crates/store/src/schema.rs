//! The tables, the SQL that reads and writes them, and the mapping between
//! domain records and rows — shared by both backends.
//!
//! The JSON body is the source of truth for a record; the plain columns are
//! copies of the few fields that SQL reports filter on (brand, creation
//! time, status, total), so those reports never parse JSON.

use crate::db::{Dialect, Row, Value};
use crate::model::{AnyRecord, SyncState};
use crate::{Result, StoreError};
use opsdeck_domain::{SourceId, Timestamp};
use serde::de::DeserializeOwned;
use std::sync::LazyLock;

/// One record kind's table.
#[derive(Debug)]
pub(crate) struct Table {
    /// The kind's name as errors and the change feed spell it (`order`).
    pub(crate) kind: &'static str,
    pub(crate) name: &'static str,
    /// The report columns after the common ones, in parameter order.
    pub(crate) extra: &'static [(&'static str, SqlType)],
}

/// A column's SQL type, which PostgreSQL needs spelled out when rows are
/// unpacked from a JSON parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlType {
    Text,
    BigInt,
    Bool,
    Json,
}

use SqlType::{BigInt, Bool, Json, Text as Txt};

/// The columns every record table starts with, in parameter order.
const COMMON: [(&str, SqlType); 6] = [
    ("source", Txt),
    ("external_id", Txt),
    ("brand_id", Txt),
    ("updated_at_us", BigInt),
    ("seq", BigInt),
    ("body", Json),
];

pub(crate) const ORDERS: Table = Table {
    kind: "order",
    name: "orders",
    extra: &[
        ("name", Txt),
        ("created_at_us", BigInt),
        ("cancelled_at_us", BigInt),
        ("test", Bool),
        ("total_minor", BigInt),
        ("currency", Txt),
        ("financial_status", Txt),
        ("fulfillment_status", Txt),
    ],
};
pub(crate) const PRODUCTS: Table = Table {
    kind: "product",
    name: "products",
    extra: &[("status", Txt)],
};
pub(crate) const INVENTORY_LEVELS: Table = Table {
    kind: "inventory_level",
    name: "inventory_levels",
    extra: &[
        ("inventory_item_id", Txt),
        ("location_id", Txt),
        ("available", BigInt),
    ],
};
pub(crate) const TICKETS: Table = Table {
    kind: "ticket",
    name: "tickets",
    extra: &[
        ("status", Txt),
        ("channel", Txt),
        ("created_at_us", BigInt),
        ("closed_at_us", BigInt),
    ],
};
pub(crate) const TICKET_MESSAGES: Table = Table {
    kind: "ticket_message",
    name: "ticket_messages",
    extra: &[("ticket_id", Txt), ("created_at_us", BigInt)],
};
pub(crate) const SATISFACTION_SURVEYS: Table = Table {
    kind: "satisfaction_survey",
    name: "satisfaction_surveys",
    extra: &[
        ("ticket_id", Txt),
        ("score", BigInt),
        ("scored_at_us", BigInt),
    ],
};

// The kinds the ingest API brings (migration 0002).
pub(crate) const TRACKING_EVENTS: Table = Table {
    kind: "tracking_event",
    name: "tracking_events",
    extra: &[
        ("order_id", Txt),
        ("status", Txt),
        ("occurred_at_us", BigInt),
    ],
};
pub(crate) const INVENTORY_BATCHES: Table = Table {
    kind: "inventory_batch",
    name: "inventory_batches",
    extra: &[("sku", Txt), ("quantity", BigInt), ("expires_on", Txt)],
};
pub(crate) const RETURN_REQUESTS: Table = Table {
    kind: "return_request",
    name: "return_requests",
    extra: &[
        ("order_id", Txt),
        ("kind", Txt),
        ("status", Txt),
        ("requested_at_us", BigInt),
    ],
};
pub(crate) const REVIEW_ITEMS: Table = Table {
    kind: "review_item",
    name: "review_items",
    extra: &[("queue", Txt), ("status", Txt), ("submitted_at_us", BigInt)],
};
pub(crate) const PAYMENT_EVENTS: Table = Table {
    kind: "payment_event",
    name: "payment_events",
    extra: &[("order_id", Txt), ("kind", Txt), ("occurred_at_us", BigInt)],
};
pub(crate) const HEALTH_CHECKS: Table = Table {
    kind: "health_check",
    name: "health_checks",
    extra: &[
        ("dependency", Txt),
        ("status", Txt),
        ("checked_at_us", BigInt),
    ],
};

/// Number of record tables.
pub(crate) const TABLE_COUNT: usize = 12;

/// Every record table, in the order of [`Statements`]' per-table arrays
/// and of [`crate::RecordCounts`]' fields.
pub(crate) const TABLES: [&Table; TABLE_COUNT] = [
    &ORDERS,
    &PRODUCTS,
    &INVENTORY_LEVELS,
    &TICKETS,
    &TICKET_MESSAGES,
    &SATISFACTION_SURVEYS,
    &TRACKING_EVENTS,
    &INVENTORY_BATCHES,
    &RETURN_REQUESTS,
    &REVIEW_ITEMS,
    &PAYMENT_EVENTS,
    &HEALTH_CHECKS,
];

/// Position of the `seq` parameter in [`RecordRow::params`]; it is only
/// known once the record is found to need a write.
pub(crate) const SEQ_PARAM: usize = 4;

/// A record flattened into the parameters of its table's upsert statement:
/// source, external_id, brand_id, updated_at_us, seq, body, then the
/// table's extra columns.
pub(crate) struct RecordRow {
    pub(crate) table: usize,
    pub(crate) params: Vec<Value>,
}

impl RecordRow {
    /// The row as a JSON array, one element per column, for the set-based
    /// upsert statement.
    pub(crate) fn to_json_array(&self) -> serde_json::Value {
        self.params
            .iter()
            .map(|v| match v {
                Value::Int(Some(i)) => serde_json::Value::from(*i),
                Value::Text(Some(t)) => serde_json::Value::from(t.as_str()),
                Value::Bool(b) => serde_json::Value::from(*b),
                Value::Int(None) | Value::Text(None) => serde_json::Value::Null,
            })
            .collect()
    }
}

/// UTC microseconds since the epoch: how every timestamp column is stored.
/// Sub-microsecond digits are dropped here; the JSON body keeps them.
pub(crate) fn micros(ts: Timestamp) -> i64 {
    ts.as_microsecond()
}

fn opt_micros(ts: Option<Timestamp>) -> Value {
    Value::Int(ts.map(micros))
}

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

pub(crate) fn from_micros(us: i64, kind: &'static str, id: &str) -> Result<Timestamp> {
    Timestamp::from_microsecond(us).map_err(|e| corrupt(kind, id, e))
}

pub(crate) fn corrupt(kind: &'static str, id: &str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        kind,
        external_id: id.to_string(),
        reason: reason.to_string(),
    }
}

impl RecordRow {
    pub(crate) fn new(record: &AnyRecord) -> RecordRow {
        let (table, body, extra) = match record {
            AnyRecord::Order(o) => (
                0,
                to_json(o),
                vec![
                    text(&o.name),
                    Value::Int(Some(micros(o.created_at))),
                    opt_micros(o.cancelled_at),
                    Value::Bool(o.test),
                    Value::Int(Some(o.total_price.minor)),
                    text(o.total_price.currency.code()),
                    text(o.financial_status.as_str()),
                    text(o.fulfillment_status.as_str()),
                ],
            ),
            AnyRecord::Product(p) => (1, to_json(p), vec![text(p.status.as_str())]),
            AnyRecord::InventoryLevel(l) => (
                2,
                to_json(l),
                vec![
                    text(&l.inventory_item_id),
                    text(&l.location_id),
                    Value::Int(l.available),
                ],
            ),
            AnyRecord::Ticket(t) => (
                3,
                to_json(t),
                vec![
                    text(t.status.as_str()),
                    text(t.channel.as_str()),
                    Value::Int(Some(micros(t.created_at))),
                    opt_micros(t.closed_at),
                ],
            ),
            AnyRecord::TicketMessage(m) => (
                4,
                to_json(m),
                vec![text(&m.ticket_id), Value::Int(Some(micros(m.created_at)))],
            ),
            AnyRecord::SatisfactionSurvey(s) => (
                5,
                to_json(s),
                vec![
                    text(&s.ticket_id),
                    Value::Int(s.score.map(i64::from)),
                    opt_micros(s.scored_at),
                ],
            ),
            AnyRecord::TrackingEvent(e) => (
                6,
                to_json(e),
                vec![
                    Value::Text(e.order_id.clone()),
                    text(e.status.as_str()),
                    Value::Int(Some(micros(e.occurred_at))),
                ],
            ),
            AnyRecord::InventoryBatch(b) => (
                7,
                to_json(b),
                vec![
                    text(&b.sku),
                    Value::Int(Some(b.quantity)),
                    Value::Text(b.expires_on.map(|d| d.to_string())),
                ],
            ),
            AnyRecord::ReturnRequest(r) => (
                8,
                to_json(r),
                vec![
                    Value::Text(r.order_id.clone()),
                    text(r.kind.as_str()),
                    text(r.status.as_str()),
                    Value::Int(Some(micros(r.requested_at))),
                ],
            ),
            AnyRecord::ReviewItem(r) => (
                9,
                to_json(r),
                vec![
                    text(&r.queue),
                    text(r.status.as_str()),
                    Value::Int(Some(micros(r.submitted_at))),
                ],
            ),
            AnyRecord::PaymentEvent(e) => (
                10,
                to_json(e),
                vec![
                    Value::Text(e.order_id.clone()),
                    text(e.kind.as_str()),
                    Value::Int(Some(micros(e.occurred_at))),
                ],
            ),
            AnyRecord::HealthCheck(h) => (
                11,
                to_json(h),
                vec![
                    text(&h.dependency),
                    text(h.status.as_str()),
                    Value::Int(Some(micros(h.checked_at))),
                ],
            ),
        };
        let mut params = vec![
            text(record.source().as_str()),
            text(record.external_id()),
            Value::Text(record.brand().map(|b| b.as_str().to_string())),
            Value::Int(Some(micros(record.updated_at()))),
            Value::Int(None), // seq, set when written
            Value::Text(Some(body)),
        ];
        params.extend(extra);
        RecordRow { table, params }
    }
}

/// Domain records are plain data (strings, integers, nested structs, enums
/// serialized as strings): serializing them to JSON cannot fail.
fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain records always serialize to JSON")
}

/// Decodes a stored body; a body that no longer parses is reported with
/// the kind and id so an operator can find the row.
pub(crate) fn decode<T: DeserializeOwned>(table: &Table, id: &str, body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| corrupt(table.kind, id, e))
}

pub(crate) fn decode_any(table: &Table, id: &str, body: &str) -> Result<AnyRecord> {
    Ok(match table.kind {
        "order" => AnyRecord::Order(decode(table, id, body)?),
        "product" => AnyRecord::Product(decode(table, id, body)?),
        "inventory_level" => AnyRecord::InventoryLevel(decode(table, id, body)?),
        "ticket" => AnyRecord::Ticket(decode(table, id, body)?),
        "ticket_message" => AnyRecord::TicketMessage(decode(table, id, body)?),
        "satisfaction_survey" => AnyRecord::SatisfactionSurvey(decode(table, id, body)?),
        "tracking_event" => AnyRecord::TrackingEvent(decode(table, id, body)?),
        "inventory_batch" => AnyRecord::InventoryBatch(decode(table, id, body)?),
        "return_request" => AnyRecord::ReturnRequest(decode(table, id, body)?),
        "review_item" => AnyRecord::ReviewItem(decode(table, id, body)?),
        "payment_event" => AnyRecord::PaymentEvent(decode(table, id, body)?),
        _ => AnyRecord::HealthCheck(decode(table, id, body)?),
    })
}

/// Every statement the store runs, built once per dialect so the text is
/// identical each time and the driver's prepared-statement cache hits.
pub(crate) struct Statements {
    /// Per table: `source, external_id, updated_at_us, body` of the keys in
    /// $1, a JSON array of `[source, external_id]` pairs — one round trip
    /// for a whole batch instead of one per record.
    pub(crate) stored: [String; TABLE_COUNT],
    /// Per table: insert, or replace on key conflict, the rows in $1, a JSON
    /// array of rows as [`RecordRow::to_json_array`] makes them. No key may
    /// appear twice in one call.
    pub(crate) upsert: [String; TABLE_COUNT],
    /// Per table: `external_id, body` of one source, by external id.
    pub(crate) list: [String; TABLE_COUNT],
    /// `kind, external_id, seq, body` of rows with seq > $1, by seq, limit $2.
    pub(crate) changes: String,
    pub(crate) get_order: String,
}

/// Locks the counter row (PostgreSQL: row lock; SQLite: the write lock)
/// until commit and reads the last sequence value handed out.
pub(crate) const LOCK_COUNTER: &str =
    "UPDATE change_counter SET value = value WHERE id = 1 RETURNING value";
pub(crate) const SET_COUNTER: &str = "UPDATE change_counter SET value = $1 WHERE id = 1";
pub(crate) const LATEST_SEQ: &str = "SELECT value FROM change_counter WHERE id = 1";
/// One count per table of [`TABLES`], in that order.
pub(crate) static RECORD_COUNTS: LazyLock<String> = LazyLock::new(|| {
    let counts: Vec<String> = TABLES
        .iter()
        .map(|t| format!("(SELECT COUNT(*) FROM {})", t.name))
        .collect();
    format!("SELECT {}", counts.join(", "))
});
pub(crate) const ORDER_FACTS: &str = "SELECT external_id, created_at_us, total_minor, currency, \
    cancelled_at_us FROM orders WHERE brand_id = $1 AND created_at_us >= $2 \
    AND created_at_us < $3 AND NOT test ORDER BY created_at_us, external_id";

const SYNC_COLUMNS: &str = "source, resource, watermark_us, cursor, last_attempt_at_us, \
    last_success_at_us, last_error, last_error_at_us, consecutive_failures, requests, \
    errors, rate_limit_waits, records_synced, running_since_us, records_refused, \
    needs_attention";
pub(crate) static SAVE_SYNC_STATE: LazyLock<String> = LazyLock::new(|| {
    let updates = SYNC_COLUMNS
        .split(", ")
        .skip(2)
        .map(|c| format!("{c} = excluded.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO sync_state ({SYNC_COLUMNS}) VALUES \
         ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
         ON CONFLICT (source, resource) DO UPDATE SET {updates}"
    )
});
pub(crate) static GET_SYNC_STATE: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {SYNC_COLUMNS} FROM sync_state WHERE source = $1 AND resource = $2")
});
pub(crate) static ALL_SYNC_STATES: LazyLock<String> =
    LazyLock::new(|| format!("SELECT {SYNC_COLUMNS} FROM sync_state ORDER BY source, resource"));

impl Statements {
    fn build(dialect: Dialect) -> Statements {
        let body = dialect.body_column();
        let per_table = |f: &dyn Fn(&Table) -> String| TABLES.map(f);
        Statements {
            stored: per_table(&|t| {
                format!(
                    "SELECT source, external_id, updated_at_us, {body} FROM {} \
                     WHERE (source, external_id) IN (SELECT {}, {} FROM {})",
                    t.name,
                    dialect.json_element(0, SqlType::Text),
                    dialect.json_element(1, SqlType::Text),
                    dialect.json_rows(1),
                )
            }),
            upsert: per_table(&|t| upsert_sql(t, dialect)),
            list: per_table(&|t| {
                format!(
                    "SELECT external_id, {body} FROM {} WHERE source = $1 ORDER BY external_id",
                    t.name
                )
            }),
            changes: {
                // Each arm is limited on its own so it walks its seq index
                // and stops, instead of the union scanning every table.
                let arms = TABLES
                    .iter()
                    .map(|t| {
                        format!(
                            "SELECT * FROM (SELECT '{}' AS kind, external_id, seq, {body} AS body \
                             FROM {} WHERE seq > $1 ORDER BY seq LIMIT $2) AS {}",
                            t.kind, t.name, t.name
                        )
                    })
                    .collect::<Vec<_>>()
                    .join(" UNION ALL ");
                format!("SELECT kind, external_id, seq, body FROM ({arms}) AS changes ORDER BY seq LIMIT $2")
            },
            get_order: format!("SELECT {body} FROM orders WHERE source = $1 AND external_id = $2"),
        }
    }

    pub(crate) fn for_dialect(dialect: Dialect) -> &'static Statements {
        static SQLITE: LazyLock<Statements> = LazyLock::new(|| Statements::build(Dialect::Sqlite));
        static POSTGRES: LazyLock<Statements> =
            LazyLock::new(|| Statements::build(Dialect::Postgres));
        match dialect {
            Dialect::Sqlite => &SQLITE,
            Dialect::Postgres => &POSTGRES,
        }
    }
}

fn upsert_sql(table: &Table, dialect: Dialect) -> String {
    let columns: Vec<(&str, SqlType)> = COMMON.iter().chain(table.extra).copied().collect();
    let names: Vec<&str> = columns.iter().map(|(name, _)| *name).collect();
    let elements: Vec<String> = columns
        .iter()
        .enumerate()
        .map(|(i, (_, ty))| dialect.json_element(i, *ty))
        .collect();
    let updates: Vec<String> = names[2..]
        .iter()
        .map(|c| format!("{c} = excluded.{c}"))
        .collect();
    // `WHERE true` resolves SQLite's parsing ambiguity between a join
    // constraint and the upsert clause after `INSERT .. SELECT`.
    format!(
        "INSERT INTO {} ({}) SELECT {} FROM {} WHERE true \
         ON CONFLICT (source, external_id) DO UPDATE SET {}",
        table.name,
        names.join(", "),
        elements.join(", "),
        dialect.json_rows(1),
        updates.join(", ")
    )
}

/// Counters are `u64` in the model and BIGINT in the database; a counter
/// past `i64::MAX` (never reached in practice) is stored saturated.
fn count(v: u64) -> Value {
    Value::Int(Some(i64::try_from(v).unwrap_or(i64::MAX)))
}

pub(crate) fn sync_state_params(s: &SyncState) -> Vec<Value> {
    vec![
        text(s.source.as_str()),
        text(&s.resource),
        opt_micros(s.watermark),
        Value::Text(s.cursor.clone()),
        opt_micros(s.last_attempt_at),
        opt_micros(s.last_success_at),
        Value::Text(s.last_error.clone()),
        opt_micros(s.last_error_at),
        count(u64::from(s.consecutive_failures)),
        count(s.requests),
        count(s.errors),
        count(s.rate_limit_waits),
        count(s.records_synced),
        opt_micros(s.running_since),
        count(s.records_refused),
        Value::Bool(s.needs_attention),
    ]
}

pub(crate) fn sync_state_from_row(row: &Row) -> Result<SyncState> {
    const KIND: &str = "sync_state";
    let source = row.text(0)?;
    let resource = row.text(1)?;
    let id = format!("{source}/{resource}");
    let ts = |i: usize| -> Result<Option<Timestamp>> {
        row.opt_int(i)
            .map(|us| from_micros(us, KIND, &id))
            .transpose()
    };
    let unsigned =
        |i: usize| -> Result<u64> { u64::try_from(row.int(i)?).map_err(|e| corrupt(KIND, &id, e)) };
    Ok(SyncState {
        source: SourceId::parse(&source).map_err(|e| corrupt(KIND, &id, e))?,
        resource,
        watermark: ts(2)?,
        cursor: row.opt_text(3),
        last_attempt_at: ts(4)?,
        last_success_at: ts(5)?,
        last_error: row.opt_text(6),
        last_error_at: ts(7)?,
        consecutive_failures: u32::try_from(unsigned(8)?).map_err(|e| corrupt(KIND, &id, e))?,
        requests: unsigned(9)?,
        errors: unsigned(10)?,
        rate_limit_waits: unsigned(11)?,
        records_synced: unsigned(12)?,
        running_since: ts(13)?,
        records_refused: unsigned(14)?,
        needs_attention: row.bool(15)?,
    })
}

/// The columns [`GET_SYNC_STATE`] and [`ALL_SYNC_STATES`] return.
pub(crate) const SYNC_COLS: [crate::db::Col; 16] = {
    use crate::db::Col::{Bool, Int, Text};
    [
        Text, Text, Int, Text, Int, Int, Text, Int, Int, Int, Int, Int, Int, Int, Int, Bool,
    ]
};
