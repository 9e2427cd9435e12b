//! The SQLite backend: one file (or `sqlite::memory:`), WAL mode.
//!
//! Durability: `journal_mode=WAL` with `synchronous=FULL`, so every commit
//! fsyncs the WAL before `upsert` returns. WAL with `synchronous=NORMAL`
//! would already survive a killed process; FULL also survives power loss
//! and OS crashes, which matters for ingest-API pushes that the sender
//! considers delivered and will not send again. The cost is one fsync per
//! batch, small next to a batch of a few hundred records.

use crate::db::{Col, Db, DbTx, Dialect, Row, Value};
use crate::engine::SqlStore;
use crate::{Backend, Result};
use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteArguments, SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Executor, Sqlite, SqlitePool, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another connection's write lock before
/// failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

pub(crate) type SqliteStore = SqlStore<SqliteDb>;

pub(crate) struct SqliteDb {
    pool: SqlitePool,
}

impl SqlStore<SqliteDb> {
    /// Opens `sqlite:PATH`, `sqlite://PATH` or `sqlite::memory:`, creating
    /// the file if missing. Does not migrate.
    pub(crate) async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let pool = if in_memory {
            // Each connection to `:memory:` is its own empty database: keep
            // exactly one, forever.
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            // Readers run alongside the one writer (WAL); writers queue on
            // the write lock for up to BUSY_TIMEOUT.
            SqlitePoolOptions::new().max_connections(4)
        }
        .connect_with(options)
        .await?;
        Ok(SqlStore {
            db: SqliteDb { pool },
        })
    }
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>>,
    params: &'q [Value],
) -> sqlx::query::Query<'q, Sqlite, SqliteArguments<'q>> {
    for param in params {
        query = match param {
            Value::Int(v) => query.bind(*v),
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Bool(v) => query.bind(*v),
        };
    }
    query
}

fn decode(row: &SqliteRow, cols: &[Col]) -> Result<Row> {
    use sqlx::Row as _;
    let values = cols
        .iter()
        .enumerate()
        .map(|(i, col)| {
            Ok(match col {
                Col::Int => Value::Int(row.try_get(i)?),
                Col::Text => Value::Text(row.try_get(i)?),
            })
        })
        .collect::<Result<_>>()?;
    Ok(Row(values))
}

async fn fetch<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    sql: &str,
    params: &[Value],
    cols: &[Col],
) -> Result<Vec<Row>> {
    let rows = bind(sqlx::query(sql), params).fetch_all(executor).await?;
    rows.iter().map(|row| decode(row, cols)).collect()
}

async fn execute<'e>(
    executor: impl Executor<'e, Database = Sqlite>,
    sql: &str,
    params: &[Value],
) -> Result<u64> {
    let done = bind(sqlx::query(sql), params).execute(executor).await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl Db for SqliteDb {
    type Tx = Transaction<'static, Sqlite>;

    fn backend(&self) -> Backend {
        Backend::Sqlite
    }

    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    async fn migrate(&self) -> Result<()> {
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn fetch(&self, sql: &str, params: &[Value], cols: &[Col]) -> Result<Vec<Row>> {
        fetch(&self.pool, sql, params, cols).await
    }

    async fn execute(&self, sql: &str, params: &[Value]) -> Result<u64> {
        execute(&self.pool, sql, params).await
    }

    async fn begin(&self) -> Result<Self::Tx> {
        Ok(self.pool.begin().await?)
    }
}

#[async_trait]
impl DbTx for Transaction<'static, Sqlite> {
    async fn fetch(&mut self, sql: &str, params: &[Value], cols: &[Col]) -> Result<Vec<Row>> {
        fetch(&mut **self, sql, params, cols).await
    }

    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64> {
        execute(&mut **self, sql, params).await
    }

    async fn commit(self) -> Result<()> {
        Transaction::commit(self).await?;
        Ok(())
    }
}
