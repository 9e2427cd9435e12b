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
use std::sync::Arc;

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

/// One row read back: its values in the order of the columns asked for,
/// and the columns' names as the statement gave them.
///
/// A decoder reads a column by its name (`row.int("seq")`), never by its
/// position: the decoding then says which column it means and does not
/// break when a statement's select list is reordered or grows. A statement
/// whose select list holds an expression or two columns of the same name
/// (a join) names them with `AS`.
#[derive(Debug)]
pub(crate) struct Row {
    pub(crate) names: Arc<[Arc<str>]>,
    pub(crate) values: Vec<Value>,
}

impl Row {
    fn get(&self, col: &str) -> Option<&Value> {
        let i = self.names.iter().position(|n| &**n == col)?;
        self.values.get(i)
    }

    pub(crate) fn opt_int(&self, col: &str) -> Option<i64> {
        match self.get(col) {
            Some(Value::Int(v)) => *v,
            _ => None,
        }
    }

    pub(crate) fn opt_text(&self, col: &str) -> Option<String> {
        match self.get(col) {
            Some(Value::Text(v)) => v.clone(),
            _ => None,
        }
    }

    pub(crate) fn int(&self, col: &str) -> Result<i64> {
        self.opt_int(col).ok_or_else(|| unexpected_null(col))
    }

    pub(crate) fn text(&self, col: &str) -> Result<String> {
        self.opt_text(col).ok_or_else(|| unexpected_null(col))
    }

    pub(crate) fn bool(&self, col: &str) -> Result<bool> {
        match self.get(col) {
            Some(Value::Bool(v)) => Ok(*v),
            _ => Err(unexpected_null(col)),
        }
    }
}

/// A column that is NULL where the schema says it cannot be, or that the
/// statement does not return.
fn unexpected_null(col: &str) -> StoreError {
    StoreError::Database(sqlx::Error::ColumnDecode {
        index: col.to_string(),
        source: "unexpected NULL or missing column".into(),
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
