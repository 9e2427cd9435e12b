//! The PostgreSQL backend: a connection pool, JSONB bodies.
//!
//! Several opsdeck instances may write to one database; the upsert's lock
//! on the `change_counter` row (see [`crate::engine`]) serializes their
//! batches so the change feed never skips a sequence value.

use crate::db::Dialect;
use crate::engine::SqlStore;
use crate::sqlx_db::sqlx_db;
use crate::{Backend, Result, StoreError};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool, Postgres};
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
    PgConnectOptions::from_str(url)
        .map(|o| o.log_slow_statements(log::LevelFilter::Warn, Duration::from_secs(5)))
        .map_err(|e| StoreError::InvalidUrl(e.to_string()))
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
            journal: None,
        })
    }
}

sqlx_db!(PostgresDb, Postgres, Backend::Postgres, Dialect::Postgres);
