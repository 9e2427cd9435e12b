//! The application under test: the simulator's four shops synced by opsdeck
//! (started as `main` starts it, on port 0) into a fresh SQLite file, with
//! alerts on, a known user, and a clock that starts at a fixed instant.

use jiff::Timestamp;
use opsdeck::app;
use opsdeck::demo::demo_config;
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_web::auth::Role;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// Wednesday 2026-06-10, 14:05 in New York: the data set's "now".
pub const NOW: &str = "2026-06-10T18:05:00Z";
pub const USERNAME: &str = "morgan";
pub const PASSWORD: &str = "correct horse battery staple";
/// The orders sync cadence (catalog and inventory: six times it). Long, so
/// that after the first sync at start a source syncs only when asked (the
/// refresh button): a sync seen during the test is one the test caused.
const SYNC_TICK: Duration = Duration::from_secs(600);

pub struct TestApp {
    pub base: String,
    pub running: app::Running,
    /// An HTTP session of the same user, for reading the JSON API.
    pub api: opsdeck_web::testing::TestSession,
    pub http: reqwest::Client,
    /// The simulated shops, to see the requests opsdeck makes to them.
    pub simulator: Simulator,
    sim_task: tokio::task::JoinHandle<std::io::Result<()>>,
    dir: std::path::PathBuf,
}

impl TestApp {
    /// Starts simulator and app at `scale`, waits until every shop's
    /// orders have synced once, and creates the admin user.
    pub async fn start(scale: f64, label: &str) -> TestApp {
        TestApp::start_with(scale, label, |_| {}).await
    }

    /// As [`TestApp::start`], with `configure` changing the configuration
    /// first (e.g. a flag that needs approval).
    pub async fn start_with(
        scale: f64,
        label: &str,
        configure: impl FnOnce(&mut opsdeck::config::Config),
    ) -> TestApp {
        let start: Timestamp = NOW.parse().unwrap();
        let simulator = Simulator::new(SimConfig {
            seed: 11,
            now: start,
            scale,
        });
        // These tests are about pages, not the API budget (the throttles
        // have their own tests): a shop's jobs run one after another, and
        // with the Standard-plan budget one shop's abandoned checkouts page
        // for over a minute, which held back that shop's next round (the
        // "Refresh now" check) once orders went by GraphQL too.
        simulator.set_rate_limit(false);
        let sim_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sim_addr = sim_listener.local_addr().unwrap();
        let sim_task = tokio::spawn({
            let simulator = simulator.clone();
            async move { simulator.serve(sim_listener, std::future::pending()).await }
        });
        let dir =
            std::env::temp_dir().join(format!("opsdeck-browser-{label}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let mut config = demo_config(
            &simulator.shops(),
            sim_addr,
            "127.0.0.1:0".parse().unwrap(),
            format!("sqlite://{}", dir.join("opsdeck.db").display()),
            SYNC_TICK,
        )
        .unwrap();
        // Alerts (on by default) fire as soon as their condition holds (the
        // simulated shops have stale unfulfilled orders), evaluated every second.
        config.alerts.every = Duration::from_secs(1);
        let rules: Vec<opsdeck_alerts::Rule> = config.alerts.rules.all().to_vec();
        for mut rule in rules {
            rule.timing.pending_for = jiff::SignedDuration::ZERO;
            config.alerts.rules.upsert(rule);
        }
        configure(&mut config);
        // The data set is fixed at NOW; the clock starts there and moves on
        // in real time, so sessions and alert timers behave as in life.
        let started = Instant::now();
        let clock = Arc::new(move || {
            start
                .checked_add(jiff::SignedDuration::try_from(started.elapsed()).unwrap())
                .unwrap()
        });
        let running = crate::helpers::start(&config, clock).await;
        let base = format!("http://{}", running.addr);
        opsdeck_web::testing::create_user(running.store.as_ref(), USERNAME, Role::Admin, PASSWORD)
            .await;
        let api = opsdeck_web::testing::login(&base, USERNAME, PASSWORD)
            .await
            .expect("log in over HTTP");
        let app = TestApp {
            base,
            running,
            api,
            http: reqwest::Client::new(),
            simulator,
            sim_task,
            dir,
        };
        app.wait_for_sync().await;
        app
    }

    /// Waits until every resource the dashboard reads has synced once. The
    /// resources only GraphQL lists (returns, disputes, customers,
    /// abandoned checkouts) are left out: no panel these tests load reads
    /// them yet, and paging a shop's checkouts at the simulator's real
    /// Standard-plan budget takes longer than the wait.
    async fn wait_for_sync(&self) {
        let graphql_only: Vec<&str> = opsdeck_sync::ShopifyResource::GRAPHQL_ONLY
            .iter()
            .map(|r| r.as_str())
            .collect();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let sources = self.json("/api/v1/sources").await;
            let synced = sources["sources"].as_array().unwrap().iter().all(|s| {
                s["resources"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|r| !graphql_only.contains(&r["resource"].as_str().unwrap_or("")))
                    .all(|r| !r["last_success_at"].is_null())
            });
            if synced {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "sync did not finish: {sources:#}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// GET `path` with the API session; panics unless 200.
    pub async fn get(&self, path: &str) -> reqwest::Response {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.api.cookie)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "GET {path}");
        response
    }

    pub async fn json(&self, path: &str) -> Value {
        self.get(path).await.json().await.unwrap()
    }

    pub async fn stop(self) {
        self.running.stop().await.unwrap();
        self.sim_task.abort();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
