//! What the binary's tests share: starting the application on port 0 (with
//! the test's logs on demand), secrets for `parse_config`, a logged-in
//! client, the simulator on a loopback port and a scratch directory.
//!
//! `TEST_LOG=1 cargo test -p opsdeck --test it NAME -- --nocapture` shows
//! the test's logs (`TEST_LOG=opsdeck_alerts=trace` picks what to show, as
//! `OPSDECK_LOG` does for `opsdeck serve`): see
//! [`opsdeck_store::testing::init_test_log`].

use opsdeck::app;
use opsdeck::config::{Config, SecretSource};
use opsdeck_simulator::Simulator;
use opsdeck_store::Role;
use std::path::{Path, PathBuf};
use tokio::net::TcpListener;

/// The password of every user the helpers create.
pub const PASSWORD: &str = "correct horse battery";

/// Starts the application on `listener`, as `main` starts it.
pub async fn start_on(config: &Config, listener: TcpListener, clock: app::Clock) -> app::Running {
    opsdeck_store::testing::init_test_log();
    app::start(config, listener, clock)
        .await
        .expect("the application starts")
}

/// Starts the application on a loopback port of its own.
pub async fn start(config: &Config, clock: app::Clock) -> app::Running {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    start_on(config, listener, clock).await
}

/// `http://ADDR` of a running application.
pub fn base(running: &app::Running) -> String {
    format!("http://{}", running.addr)
}

/// Creates `username` with `role` and [`PASSWORD`], and logs in over HTTP.
pub async fn log_in(
    running: &app::Running,
    username: &str,
    role: Role,
) -> opsdeck_web::testing::TestSession {
    opsdeck_web::testing::create_user(running.store.as_ref(), username, role, PASSWORD).await;
    opsdeck_web::testing::login(&base(running), username, PASSWORD)
        .await
        .unwrap()
}

/// A client that sends the session cookie of a new `username` with `role`
/// on every request, the way a browser does.
pub async fn logged_in_client(
    running: &app::Running,
    username: &str,
    role: Role,
) -> reqwest::Client {
    let session = log_in(running, username, role).await;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("cookie", session.cookie.parse().unwrap());
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Serves `simulator` on a loopback port until the test ends.
pub async fn serve_simulator(simulator: &Simulator) -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let simulator = simulator.clone();
    tokio::spawn(async move {
        simulator
            .serve(listener, std::future::pending::<()>())
            .await
    });
    addr
}

/// A fresh directory `opsdeck-NAME-PID` under the system's temporary one
/// (the tests share one process: names must differ).
pub fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("opsdeck-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Secrets for `parse_config`: the listed environment variables (or any
/// variable, with [`Secrets::any`]), and no files.
pub struct Secrets {
    env: &'static [(&'static str, &'static str)],
    any: Option<&'static str>,
}

impl Secrets {
    /// No variable is set.
    pub const NONE: Secrets = Secrets::only(&[]);

    /// Only these variables are set.
    pub const fn only(env: &'static [(&'static str, &'static str)]) -> Secrets {
        Secrets { env, any: None }
    }

    /// Every variable is set to `value`.
    pub const fn any(value: &'static str) -> Secrets {
        Secrets {
            env: &[],
            any: Some(value),
        }
    }
}

impl SecretSource for Secrets {
    fn env(&self, name: &str) -> Option<String> {
        self.env
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
            .or(self.any.map(str::to_string))
    }
    fn file(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no files here",
        ))
    }
}

/// An opsdeck only webhooks can feed, for the webhook convergence tests:
/// the simulator (`seed`, `faults`, its world at `at`), opsdeck's API
/// base URLs pointing at a dead address, and the shops' webhooks
/// registered to it (`registered`, the first registration's reports).
pub struct WebhookOnly {
    pub simulator: Simulator,
    pub running: app::Running,
    /// The configuration that reaches the simulator's API (to register).
    pub real: Config,
    /// Where the webhooks are registered to.
    pub address: url::Url,
    pub registered: Vec<opsdeck::shopify_cli::Registration>,
    _dir: opsdeck_store::testing::TempGuard,
}

pub async fn webhook_only(
    faults: opsdeck_simulator::Faults,
    seed: u64,
    at: jiff::Timestamp,
    db: &str,
) -> WebhookOnly {
    let simulator = Simulator::new(opsdeck_simulator::SimConfig {
        seed,
        now: at,
        scale: 0.1,
    });
    simulator.set_faults(faults);
    let sim_addr = serve_simulator(&simulator).await;
    let dir = opsdeck_store::testing::sqlite_temp().await.1;
    let real = opsdeck::demo::demo_config(
        &simulator.shops(),
        sim_addr,
        "127.0.0.1:0".parse().unwrap(),
        format!("sqlite:{}", dir.dir().join(db).display()),
        std::time::Duration::from_secs(3600),
    )
    .unwrap();
    // opsdeck itself cannot reach the API: only webhooks bring data.
    let mut config = real.clone();
    for (source, shop) in config.shopify.iter_mut().zip(simulator.shops()) {
        source.base_url = url::Url::parse("http://127.0.0.1:9/").unwrap();
        source.webhook_secret = simulator
            .webhook_secret(&shop.slug)
            .map(opsdeck_domain::Secret::new);
    }
    let running = start(&config, app::system_clock()).await;
    let address = url::Url::parse(&format!("http://{}/webhooks/shopify", running.addr)).unwrap();
    let registered = opsdeck::shopify_cli::register_all(&real, &address)
        .await
        .unwrap();
    WebhookOnly {
        simulator,
        running,
        real,
        address,
        registered,
        _dir: dir,
    }
}
