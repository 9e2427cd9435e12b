//! The PostgreSQL backend: a connection pool, JSONB bodies.
//!
//! Several opsdeck instances may write to one database; the upsert's lock
//! on the `change_counter` row (see [`crate::engine`]) serializes their
//! batches so the change feed never skips a sequence value.

use crate::db::{Col, Db, DbTx, Dialect, Row, Value};
use crate::engine::SqlStore;
use crate::{Backend, Result, StoreError};
use async_trait::async_trait;
use sqlx::postgres::{PgArguments, PgConnectOptions, PgPoolOptions, PgRow};
use sqlx::{Executor, PgPool, Postgres, Transaction};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub(crate) type PostgresStore = SqlStore<PostgresDb>;

pub(crate) struct PostgresDb {
    pool: PgPool,
}

/// Parses a `postgres://` URL without ever echoing it: it may carry a
/// password. sqlx's parse errors describe the problem, not the input.
pub(crate) fn connect_options(url: &str) -> Result<PgConnectOptions> {
    PgConnectOptions::from_str(url).map_err(|e| StoreError::InvalidUrl(e.to_string()))
}

impl SqlStore<PostgresDb> {
    /// Connects a pool to a `postgres://` or `postgresql://` URL. Does not
    /// migrate.
    pub(crate) async fn connect(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(10)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(connect_options(url)?)
            .await?;
        Ok(SqlStore {
            db: PostgresDb { pool },
        })
    }
}

fn bind<'q>(
    mut query: sqlx::query::Query<'q, Postgres, PgArguments>,
    params: &'q [Value],
) -> sqlx::query::Query<'q, Postgres, PgArguments> {
    for param in params {
        query = match param {
            Value::Int(v) => query.bind(*v),
            Value::Text(v) => query.bind(v.as_deref()),
            Value::Bool(v) => query.bind(*v),
        };
    }
    query
}

fn decode(row: &PgRow, cols: &[Col]) -> Result<Row> {
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
    executor: impl Executor<'e, Database = Postgres>,
    sql: &str,
    params: &[Value],
    cols: &[Col],
) -> Result<Vec<Row>> {
    let rows = bind(sqlx::query(sql), params).fetch_all(executor).await?;
    rows.iter().map(|row| decode(row, cols)).collect()
}

async fn execute<'e>(
    executor: impl Executor<'e, Database = Postgres>,
    sql: &str,
    params: &[Value],
) -> Result<u64> {
    let done = bind(sqlx::query(sql), params).execute(executor).await?;
    Ok(done.rows_affected())
}

#[async_trait]
impl Db for PostgresDb {
    type Tx = Transaction<'static, Postgres>;

    fn backend(&self) -> Backend {
        Backend::Postgres
    }

    fn dialect(&self) -> Dialect {
        Dialect::Postgres
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
impl DbTx for Transaction<'static, Postgres> {
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
