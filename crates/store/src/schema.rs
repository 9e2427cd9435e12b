//! The SQL that reads and writes the record tables, built once per dialect
//! from the tables of [`crate::kinds`] — shared by both backends — and a
//! record flattened into its row.
//!
//! The JSON body is the source of truth for a record; the plain columns are
//! copies of the few fields that SQL reports filter on (brand, creation
//! time, status, total), so those reports never parse JSON.

use crate::db::{Dialect, Row, Value};
use crate::kinds::{self, PerKind, StoredRecord, Table};
use crate::model::{AnyRecord, SyncState};
use crate::{Result, StoreError};
use opsdeck_domain::{Order, RecordKind, SourceId, Timestamp};
use serde::de::DeserializeOwned;
use std::sync::LazyLock;

/// A column's SQL type, which PostgreSQL needs spelled out when rows are
/// unpacked from a JSON parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SqlType {
    Text,
    BigInt,
    Bool,
    Json,
}

use SqlType::{BigInt, Json, Text as Txt};

/// The columns every record table starts with, in parameter order.
const COMMON: [(&str, SqlType); 6] = [
    ("source", Txt),
    ("external_id", Txt),
    ("brand_id", Txt),
    ("updated_at_us", BigInt),
    ("seq", BigInt),
    ("body", Json),
];

/// Position of the `seq` parameter in [`RecordRow::params`]; it is only
/// known once the record is found to need a write.
pub(crate) const SEQ_PARAM: usize = 4;

/// A record flattened into the parameters of its table's upsert statement:
/// `source`, `external_id`, `brand_id`, `updated_at_us`, `seq`, `body`, then the
/// table's extra columns.
pub(crate) struct RecordRow {
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

pub(crate) fn opt_micros(ts: Option<Timestamp>) -> Value {
    Value::Int(ts.map(micros))
}

pub(crate) fn text(s: &str) -> Value {
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
        let mut params = vec![
            text(record.source().as_str()),
            text(record.external_id()),
            Value::Text(record.brand().map(|b| b.as_str().to_string())),
            Value::Int(Some(micros(record.updated_at()))),
            Value::Int(None), // seq, set when written
            Value::Text(Some(record.body())),
        ];
        params.extend(record.columns());
        RecordRow { params }
    }
}

/// Decodes a stored body of `kind`; a body that no longer parses is
/// reported with the kind and id so an operator can find the row.
pub(crate) fn decode<T: DeserializeOwned>(kind: RecordKind, id: &str, body: &str) -> Result<T> {
    serde_json::from_str(body).map_err(|e| corrupt(kind.as_str(), id, e))
}

/// Every statement the store runs, built once per dialect so the text is
/// identical each time and the driver's prepared-statement cache hits.
pub(crate) struct Statements {
    /// Per kind: `source, external_id, updated_at_us, body` of the keys in
    /// $1, a JSON array of `[source, external_id]` pairs — one round trip
    /// for a whole batch instead of one per record.
    pub(crate) stored: PerKind<String>,
    /// Per kind: insert, or replace on key conflict, the rows in $1, a JSON
    /// array of rows as [`RecordRow::to_json_array`] makes them. No key may
    /// appear twice in one call.
    pub(crate) upsert: PerKind<String>,
    /// Per kind: `external_id, body` of one source, by external id.
    pub(crate) list: PerKind<String>,
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
/// One count per table, each named after its table.
pub(crate) static RECORD_COUNTS: LazyLock<String> = LazyLock::new(|| {
    let counts: Vec<String> = kinds::tables()
        .map(|t| format!("(SELECT COUNT(*) FROM {0}) AS {0}", t.name))
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
        let per_table = |f: &dyn Fn(&Table) -> String| PerKind::new(|k| f(kinds::table(k)));
        Statements {
            stored: per_table(&|t| {
                format!(
                    "SELECT source, external_id, updated_at_us, {body} AS body FROM {} \
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
                    "SELECT external_id, {body} AS body FROM {} WHERE source = $1 ORDER BY external_id",
                    t.name
                )
            }),
            changes: {
                // Each arm is limited on its own so it walks its seq index
                // and stops, instead of the union scanning every table.
                let arms =
                    kinds::tables()
                        .map(|t| {
                            format!(
                            "SELECT * FROM (SELECT '{}' AS kind, external_id, seq, {body} AS body \
                             FROM {} WHERE seq > $1 ORDER BY seq LIMIT $2) AS {}",
                            t.kind.as_str(), t.name, t.name
                        )
                        })
                        .collect::<Vec<_>>()
                        .join(" UNION ALL ");
                format!("SELECT kind, external_id, seq, body FROM ({arms}) AS changes ORDER BY seq LIMIT $2")
            },
            get_order: format!(
                "SELECT {body} AS body FROM {} WHERE source = $1 AND external_id = $2",
                <Order as kinds::Stored>::TABLE
            ),
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
    let columns: Vec<(&str, SqlType)> = COMMON.iter().chain(&table.extra).copied().collect();
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

/// The statements that create `table` under the name `name` (its own
/// name, or a scratch one in tests) with its indexes, each only if missing:
/// the common columns, the report columns in parameter order, the primary
/// key `(source, external_id)`, the unique index on `seq` the change feed
/// walks, and the kind's own indexes (named `{name}_{suffix}`). A table that
/// exists is left as it is: changing one still takes a migration.
pub(crate) fn create_table_sql(table: &Table, name: &str, dialect: Dialect) -> Vec<String> {
    let columns: Vec<String> = COMMON
        .iter()
        .chain(&table.extra)
        .map(|(column, ty)| {
            let null = if table.nullable.contains(column) {
                ""
            } else {
                " NOT NULL"
            };
            format!("{column} {}{null}", dialect.column_type(*ty))
        })
        .collect();
    let mut statements = vec![
        format!(
            "CREATE TABLE IF NOT EXISTS {name} ({}, PRIMARY KEY (source, external_id))",
            columns.join(", ")
        ),
        format!("CREATE UNIQUE INDEX IF NOT EXISTS {name}_seq ON {name} (seq)"),
    ];
    statements.extend(table.indexes.iter().map(|index| {
        format!(
            "CREATE {}INDEX IF NOT EXISTS {name}_{} ON {name} ({})",
            if index.unique { "UNIQUE " } else { "" },
            index.suffix,
            index.columns.join(", ")
        )
    }));
    statements
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
    let source = row.text("source")?;
    let resource = row.text("resource")?;
    let id = format!("{source}/{resource}");
    let ts = |col: &str| -> Result<Option<Timestamp>> {
        row.opt_int(col)
            .map(|us| from_micros(us, KIND, &id))
            .transpose()
    };
    let unsigned = |col: &str| -> Result<u64> {
        u64::try_from(row.int(col)?).map_err(|e| corrupt(KIND, &id, e))
    };
    Ok(SyncState {
        source: SourceId::parse(&source).map_err(|e| corrupt(KIND, &id, e))?,
        resource,
        watermark: ts("watermark_us")?,
        cursor: row.opt_text("cursor"),
        last_attempt_at: ts("last_attempt_at_us")?,
        last_success_at: ts("last_success_at_us")?,
        last_error: row.opt_text("last_error"),
        last_error_at: ts("last_error_at_us")?,
        consecutive_failures: u32::try_from(unsigned("consecutive_failures")?)
            .map_err(|e| corrupt(KIND, &id, e))?,
        requests: unsigned("requests")?,
        errors: unsigned("errors")?,
        rate_limit_waits: unsigned("rate_limit_waits")?,
        records_synced: unsigned("records_synced")?,
        running_since: ts("running_since_us")?,
        records_refused: unsigned("records_refused")?,
        needs_attention: row.bool("needs_attention")?,
    })
}

/// The columns [`GET_SYNC_STATE`] and [`ALL_SYNC_STATES`] return.
pub(crate) const SYNC_COLS: [crate::db::Col; 16] = {
    use crate::db::Col::{Bool, Int, Text};
    [
        Text, Text, Int, Text, Int, Int, Text, Int, Int, Int, Int, Int, Int, Int, Int, Bool,
    ]
};
