//! The small seam between the shared store logic and the two drivers.
//!
//! sqlx gives SQLite and PostgreSQL different row, argument and connection
//! types, and code generic over `sqlx::Database` drowns in trait bounds. The
//! store needs very little from a driver — run a statement with a few
//! integer, text or boolean parameters, read rows of such values back, and
//! group statements into a transaction — so each backend implements these
//! two traits and everything else (the upsert rules, the SQL, the decoding)
//! is written once in [`crate::engine`] and [`crate::schema`].

use crate::schema::SqlType;
use crate::{Backend, Result, StoreError};
use async_trait::async_trait;

/// A parameter or column value. Every column the store reads or writes is a
/// 64-bit integer, text (JSON bodies travel as text) or a boolean.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Int(Option<i64>),
    Text(Option<String>),
    Bool(bool),
}

/// The type a selected column is read as.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Col {
    Int,
    Text,
    Bool,
}

/// One row read back, in the order of the columns asked for.
#[derive(Debug)]
pub(crate) struct Row(pub(crate) Vec<Value>);

impl Row {
    pub(crate) fn opt_int(&self, i: usize) -> Option<i64> {
        match self.0.get(i) {
            Some(Value::Int(v)) => *v,
            _ => None,
        }
    }

    pub(crate) fn opt_text(&self, i: usize) -> Option<String> {
        match self.0.get(i) {
            Some(Value::Text(v)) => v.clone(),
            _ => None,
        }
    }

    pub(crate) fn int(&self, i: usize) -> Result<i64> {
        self.opt_int(i).ok_or_else(|| unexpected_null(i))
    }

    pub(crate) fn text(&self, i: usize) -> Result<String> {
        self.opt_text(i).ok_or_else(|| unexpected_null(i))
    }

    pub(crate) fn bool(&self, i: usize) -> Result<bool> {
        match self.0.get(i) {
            Some(Value::Bool(v)) => Ok(*v),
            _ => Err(unexpected_null(i)),
        }
    }
}

fn unexpected_null(i: usize) -> StoreError {
    StoreError::Database(sqlx::Error::ColumnDecode {
        index: i.to_string(),
        source: "unexpected NULL".into(),
    })
}

/// How the two SQL dialects differ in the statements the store uses: the
/// body column is JSONB in PostgreSQL (cast on the way in and out, so the
/// driver only ever sees text) and TEXT in SQLite, and a batch passed as one
/// JSON parameter is unpacked with `jsonb_array_elements` or `json_each`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    Sqlite,
    Postgres,
}

impl Dialect {
    /// A `FROM` item yielding one row `k` per element of the JSON array
    /// parameter `$n`: how a whole batch travels in one parameter.
    pub(crate) fn json_rows(self, n: usize) -> String {
        match self {
            Dialect::Sqlite => format!("json_each(${n}) AS k"),
            Dialect::Postgres => format!("jsonb_array_elements(${n}::jsonb) AS k"),
        }
    }

    /// Element `i` of the array row `k` (see [`Dialect::json_rows`]) as a
    /// value of type `ty`. SQLite's `json_extract` already yields integers
    /// as integers, strings as text and booleans as 0/1.
    pub(crate) fn json_element(self, i: usize, ty: SqlType) -> String {
        match self {
            Dialect::Sqlite => format!("json_extract(k.value, '$[{i}]')"),
            Dialect::Postgres => {
                let cast = match ty {
                    SqlType::Text => "",
                    SqlType::BigInt => "::bigint",
                    SqlType::Bool => "::boolean",
                    SqlType::Json => "::jsonb",
                };
                format!("(k->>{i}){cast}")
            }
        }
    }

    /// The select expression that reads the body column as text.
    pub(crate) fn body_column(self) -> &'static str {
        match self {
            Dialect::Sqlite => "body",
            Dialect::Postgres => "body::text",
        }
    }
}

/// A connected database: one pool of one backend.
#[async_trait]
pub(crate) trait Db: Send + Sync + 'static {
    type Tx: DbTx;

    fn backend(&self) -> Backend;
    fn dialect(&self) -> Dialect;
    async fn migrate(&self) -> Result<()>;
    async fn fetch(&self, sql: &str, params: &[Value], cols: &[Col]) -> Result<Vec<Row>>;
    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64>;
    async fn begin(&self) -> Result<Self::Tx>;
}

/// An open transaction. Dropping it without [`DbTx::commit`] rolls back,
/// which is how a failed batch leaves nothing behind.
#[async_trait]
pub(crate) trait DbTx: Send {
    async fn fetch(&mut self, sql: &str, params: &[Value], cols: &[Col]) -> Result<Vec<Row>>;
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64>;
    async fn commit(self) -> Result<()>;
}
