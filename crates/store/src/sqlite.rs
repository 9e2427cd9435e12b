//! The SQLite backend: one file (or `sqlite::memory:`), WAL mode.
//!
//! Durability: `journal_mode=WAL` with `synchronous=FULL`, so every commit
//! fsyncs the WAL before `upsert` returns. WAL with `synchronous=NORMAL`
//! would already survive a killed process; FULL also survives power loss
//! and OS crashes, which matters for ingest-API pushes that the sender
//! considers delivered and will not send again. The cost is one fsync per
//! batch, small next to a batch of a few hundred records.

use crate::db::Dialect;
use crate::engine::SqlStore;
use crate::journal::Journal;
use crate::sqlx_db::sqlx_db;
use crate::{Backend, Result};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{ConnectOptions, Sqlite, SqlitePool};
use std::str::FromStr;
use std::time::Duration;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// How long a writer waits for another connection's write lock before
/// failing with "database is locked".
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// A statement slower than this is logged (with its SQL) as a warning.
/// sqlx's default of 1 s fires whenever a statement waits its turn for the
/// one SQLite writer during a backfill, which is normal, not a problem.
const SLOW_STATEMENT: Duration = Duration::from_secs(5);

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
            .foreign_keys(true)
            // Deleted and overwritten content is zeroed in its page, so an
            // erasure needs no `VACUUM` (which rewrites the whole file) to
            // take the person's old text off the disk: a WAL checkpoint
            // does (`PrivacyStore::privacy_purge_copies`).
            .pragma("secure_delete", "ON")
            .log_slow_statements(log::LevelFilter::Warn, SLOW_STATEMENT);
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
        .connect_with(options.clone())
        .await?;
        // Webhook events wait in a journal beside the database file (see
        // `crate::journal`); an in-memory database keeps them in its table.
        let journal = (!in_memory).then(|| {
            let mut dir = options.get_filename().as_os_str().to_owned();
            dir.push("-webhooks");
            Journal::new(dir.into())
        });
        Ok(SqlStore {
            db: SqliteDb { pool },
            journal,
        })
    }
}

sqlx_db!(SqliteDb, Sqlite, Backend::Sqlite, Dialect::Sqlite);
