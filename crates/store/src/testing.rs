//! Fresh, migrated stores for tests — this crate's conformance suite and
//! other crates' tests alike.
//!
//! SQLite always runs: each store gets its own file in its own temporary
//! directory. PostgreSQL runs when `OPSDECK_TEST_POSTGRES_URL` names a
//! server the tests may create databases on; each store gets a new database
//! (`opsdeck_test_<unique>`), left behind for the throwaway CI cluster to
//! discard. CI sets `OPSDECK_REQUIRE_POSTGRES=1` so a missing URL fails
//! loudly instead of silently testing one backend.
//!
//! `TEST_LOG=1` shows a test's logs ([`init_test_log`]): every store made
//! here turns them on, so nearly every test that touches a store can show
//! them (`cargo test ... NAME -- --nocapture`, or with a failure).

use crate::{connect, Store};
use sqlx::Connection;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Once};
use std::time::{SystemTime, UNIX_EPOCH};

/// The server tests create their PostgreSQL databases on.
pub const POSTGRES_URL_VAR: &str = "OPSDECK_TEST_POSTGRES_URL";
/// Set to `1` (CI does) to make a missing [`POSTGRES_URL_VAR`] a failure.
pub const REQUIRE_POSTGRES_VAR: &str = "OPSDECK_REQUIRE_POSTGRES";

/// Deletes a test store's temporary directory when dropped; keep it alive
/// as long as the store is used.
#[derive(Debug)]
pub struct TempGuard {
    dir: PathBuf,
}

impl TempGuard {
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A fresh migrated store on one backend, with what a test needs to reach
/// the same database directly (to reopen it, or to break it on purpose).
pub struct TestStore {
    /// `"sqlite"` or `"postgres"`, for assertion messages.
    pub label: &'static str,
    pub store: Arc<dyn Store>,
    /// The URL of this store's own database. For PostgreSQL it carries the
    /// test server's credentials: do not print it.
    pub url: String,
    /// Present for SQLite: the directory holding the file.
    pub guard: Option<TempGuard>,
}

/// A name no other test in any process will pick: pid, a per-process
/// counter and the clock.
fn unique_suffix() -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0);
    format!("{}_{n}_{nanos}", std::process::id())
}

/// The variable that turns a test's logs on: `1` for debug logs of
/// everything but the database and HTTP libraries, or a filter in
/// `OPSDECK_LOG`'s syntax (`TEST_LOG=opsdeck_alerts=trace`).
pub const TEST_LOG_VAR: &str = "TEST_LOG";

/// Installs a subscriber that writes through the test harness (so each
/// test's lines are captured with it, shown on failure or with
/// `--nocapture`) when [`TEST_LOG_VAR`] is set; does nothing otherwise or
/// when one is already installed. The stores made here call it; spawn
/// helpers of other crates' tests do too.
pub fn init_test_log() {
    let Ok(filter) = std::env::var(TEST_LOG_VAR) else {
        return;
    };
    let filter = match filter.as_str() {
        "" | "1" | "true" => "debug,sqlx=warn,hyper=warn,hyper_util=warn,reqwest=warn,h2=warn",
        other => other,
    };
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_test_writer()
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout()))
        .try_init();
}

/// A migrated SQLite store on a new file in a new temporary directory.
pub async fn sqlite_store() -> TestStore {
    init_test_log();
    let dir = std::env::temp_dir().join(format!("opsdeck-store-test-{}", unique_suffix()));
    std::fs::create_dir_all(&dir).expect("create temp dir for test store");
    let guard = TempGuard { dir };
    let url = format!("sqlite://{}", guard.dir.join("opsdeck.db").display());
    let store = connect(&url).await.expect("open test SQLite store");
    store.migrate().await.expect("migrate test SQLite store");
    TestStore {
        label: "sqlite",
        store,
        url,
        guard: Some(guard),
    }
}

/// A migrated SQLite store; the guard deletes its directory when dropped.
pub async fn sqlite_temp() -> (Arc<dyn Store>, TempGuard) {
    let test = sqlite_store().await;
    let guard = test.guard.expect("sqlite test stores have a guard");
    (test.store, guard)
}

/// A migrated store on a new PostgreSQL database, or `None` when no test
/// server is configured (see the module doc).
pub async fn postgres_store() -> Option<TestStore> {
    init_test_log();
    let Ok(admin_url) = std::env::var(POSTGRES_URL_VAR) else {
        if std::env::var(REQUIRE_POSTGRES_VAR).as_deref() == Ok("1") {
            panic!("{REQUIRE_POSTGRES_VAR}=1 but {POSTGRES_URL_VAR} is not set");
        }
        static SKIP_NOTICE: Once = Once::new();
        SKIP_NOTICE.call_once(|| {
            eprintln!("postgres tests skipped: set {POSTGRES_URL_VAR} to run them");
        });
        return None;
    };
    let name = format!("opsdeck_test_{}", unique_suffix());
    // Errors below are sqlx's and never contain the URL.
    let options = crate::postgres::connect_options(&admin_url)
        .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR}: {e}"));
    let mut admin = sqlx::PgConnection::connect_with(&options)
        .await
        .unwrap_or_else(|e| panic!("connect to {POSTGRES_URL_VAR}: {e}"));
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|e| panic!("create test database {name}: {e}"));
    let _ = admin.close().await;
    let mut url = url::Url::parse(&admin_url)
        .unwrap_or_else(|e| panic!("{POSTGRES_URL_VAR} is not a URL: {e}"));
    url.set_path(&name);
    let url = url.to_string();
    let store = connect(&url).await.expect("open test PostgreSQL store");
    store
        .migrate()
        .await
        .expect("migrate test PostgreSQL store");
    Some(TestStore {
        label: "postgres",
        store,
        url,
        guard: None,
    })
}

/// A migrated store on a new PostgreSQL database, or `None` (with a notice
/// on stderr) when `OPSDECK_TEST_POSTGRES_URL` is unset.
pub async fn postgres_fresh() -> Option<Arc<dyn Store>> {
    postgres_store().await.map(|test| test.store)
}

/// A fresh store on every available backend, so one test body can run on
/// each: SQLite always, PostgreSQL when configured.
pub async fn each_backend() -> Vec<TestStore> {
    let mut stores = vec![sqlite_store().await];
    stores.extend(postgres_store().await);
    stores
}

/// A SQLite store on `url` whose webhook journal begins a new segment
/// beyond `segment` bytes (default 64 MiB) and refuses deliveries while
/// more than `backlog` body bytes are pending (default 512 MiB), to test
/// rotation and back-pressure. Migrated.
pub async fn sqlite_with_journal_limits(
    url: &str,
    segment: u64,
    backlog: u64,
) -> crate::Result<Arc<dyn Store>> {
    let mut store = crate::sqlite::SqliteStore::connect(url).await?;
    if let Some(journal) = store.journal.as_mut() {
        journal.set_segment_bytes(segment);
        journal.set_backlog_bytes(backlog);
    }
    store.migrate().await?;
    Ok(Arc::new(store))
}
