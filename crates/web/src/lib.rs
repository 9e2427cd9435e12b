//! The HTTP surface of opsdeck: the server-rendered dashboard, the JSON API
//! and its OpenAPI document.
//!
//! Handlers are thin: they parse the request into types, read the shared
//! projection (or the store, for what it alone keeps: sync states, alerts,
//! decisions, the audit log), hand it to `opsdeck-metrics` panel functions
//! with the injected clock, and render the result as HTML (minijinja
//! templates embedded in the binary) or JSON. No SQL and no business rule lives here, so the numbers on
//! the page and in the API are the same tested numbers.
//!
//! The server takes an already bound listener and a shutdown future
//! ([`serve`]), so tests run it on port 0 and stop it deterministically.
//!
//! # Layout
//! - [`error`]: the one [`Error`] every handler returns, and the status each
//!   variant maps to.
//! - `params`: query-string parsing that refuses unknown parameters.
//! - `cards`: gathers the order volume cards (the projection's sales
//!   rollups → metrics) and freshness of brands, shared by the page and the
//!   API.
//! - `pages`: `GET /` (the dashboard's tiles), `/fragments/{tile}`, the
//!   drill-downs (WISMO, inventory, alerts); `view`, the words and arrows;
//!   `charts`, the SVG components; `sse`, `GET /events` for live tiles.
//! - [`webhooks`]: `POST /webhooks/shopify`, verified and committed to the
//!   webhook inbox before it is answered.
//! - `api`: `/api/v1/*` — brands, order volume, sources, the OpenAPI document.
//! - [`ingest`]: `POST /api/v1/ingest/{kind}`, the push API for platforms
//!   without a connector (token-scoped, validated whole, committed whole).
//! - `health`: `GET /healthz` (liveness) and `GET /readyz` (every
//!   supervised task running, from the [`TaskBoard`]).
//! - [`observe`]: opsdeck's own observability: request latency (the
//!   Prometheus histogram and the `LatencyBook` behind
//!   `GET /api/v1/system/latency`), the `/metrics` listener, readiness.
//! - `assets`: the stylesheet, embedded.
//! - [`auth`]: sessions over HTTP: the session cookie, the guard every
//!   request passes (session, permission, CSRF), login and logout pages,
//!   the client's address; `auth::rules`, the `Routes` every module builds
//!   its router with, each route declaring who may use it. The policy
//!   behind each decision (passwords, login throttling, session lifetime,
//!   the permission matrix, the `[security]` settings) is
//!   `opsdeck-accounts`'. Amounts of money render only for roles with
//!   revenue permission (the guard scopes each request, see
//!   `opsdeck_metrics::money_json`).
//! - `incidents`: the incident pages, `POST /api/v1/incidents`, the
//!   public `GET /status.json`, and the incident-mode banner.
//! - [`approvals`]: `/approvals` (decide with a comment) and
//!   `/api/v1/approvals` (a custom platform asks before it acts).
//! - [`flags`]: freeze controls — the `/flags` page, its JSON API,
//!   storefront keys and the OFREP endpoints storefronts read.
//! - `privacy`: privacy requests (`/privacy`, `/api/v1/privacy/requests`):
//!   exports and erasures within 30 days, and the archive's download.
//! - `handover`: shift handover notes (`/handovers`, `/api/v1/handovers`)
//!   and the morning checklist (`/checklist`, `/api/v1/checklist`).
//! - `scheduled_reports`: the scheduled reports and digests, their next
//!   and last runs (`/reports`).
//! - `review_queue`: review queues against their SLAs (`/queues/review`,
//!   `/api/v1/queues/review`).
//! - `system_health`: system health checks (`/system`,
//!   `/api/v1/system/health-checks`) and the heartbeats and values
//!   platforms push to them.
//! - [`audit`]: the one path handlers write the audit log through, and the
//!   `/audit` page and CSV export.
//! - [`testing`] (feature `testing`, for tests only): helpers for tests in
//!   other crates (users, sessions, login).
//! - `security`: headers set on every response, and the request body
//!   limit of each route.
//! - `redirect`: the one check of a redirect target taken from the request.
//! - `templates`: the embedded template files (every file under
//!   `templates/`, listed by `build.rs`); `nav`, the nav bar's links
//!   for the logged-in role.

mod api;
pub mod approvals;
mod assets;
pub mod audit;
pub mod auth;
mod cards;
mod charts;
pub mod error;
pub mod flags;
mod handover;
mod health;
mod incidents;
pub mod ingest;
mod nav;
pub mod observe;
mod pages;
mod params;
mod privacy;
mod queues;
mod redirect;
mod review_queue;
mod scheduled_reports;
mod scope;
mod security;
mod sse;
mod system_health;
mod templates;
#[cfg(any(test, feature = "testing"))]
pub mod testing;
mod view;
pub mod webhooks;

pub use api::openapi::OPENAPI_DOCUMENT;
pub use error::Error;
pub use health::{TaskBoard, TaskState};
pub use webhooks::{GorgiasIntake, ShopWebhookSecrets, WebhookReceiver};

use axum::http::StatusCode;
use axum::Router;
use jiff::civil::Weekday;
use opsdeck_alerts::AlertRules;
use opsdeck_domain::{Brand, BrandId, SourceId, Timestamp};
use opsdeck_store::Store;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// How long one request may take before it is answered 503.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Everything a handler may need, cloned into each request (all fields are
/// cheap to clone).
#[derive(Clone)]
pub struct AppState {
    /// The system of record; the web never knows which backend it is.
    pub store: Arc<dyn Store>,
    /// Brands in configuration order, which is the order they are shown in.
    pub brands: Arc<Vec<Brand>>,
    /// Configured sources, so freshness can be attributed to brands and the
    /// sources endpoint can list sources that have never synced.
    pub sources: Arc<Vec<SourceInfo>>,
    /// First day of "this week" (Monday unless configured).
    pub week_start: Weekday,
    /// The clock every "now" comes from, injected so tests fix it.
    pub clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    /// When the process started, reported by `/healthz`.
    pub started_at: Timestamp,
    /// Shopify webhook intake (`POST /webhooks/shopify`); `None` answers 404.
    pub webhooks: Option<Arc<WebhookReceiver>>,
    /// Sessions, login limits and the security settings (`[security]`).
    pub auth: Arc<auth::Auth>,
    /// The in-memory analytic state every panel reads (one per process,
    /// shared with the alert runner and kept current from the change feed).
    pub projection: opsdeck_metrics::SharedProjection,
    /// What the panels read from configuration: week start, reporting
    /// currency and its conversion rates, thresholds.
    pub panel_config: Arc<opsdeck_metrics::panels::PanelConfig>,
    /// The ingest API's group commit: the queue to the writer the
    /// application started (`IngestCommits::start`).
    pub ingest: opsdeck_sync::group_commit::IngestCommits,
    /// Fired by the refresh button (`POST /refresh`): every source syncs
    /// now instead of at its next turn.
    pub sync_trigger: opsdeck_sync::SyncTrigger,
    /// Every configured alert rule (id and name): silences may name only
    /// these, and the silence form offers them.
    pub alert_rules: AlertRules,
    /// The state of every supervised background task (written by the
    /// binary's supervisor), for `/readyz`.
    pub tasks: TaskBoard,
    /// Incidents: their rules over the store, the severities' policies,
    /// the status page (`opsdeck_operations::incidents`).
    pub incidents: Arc<opsdeck_operations::incidents::IncidentService>,
    /// Approval requests and decisions (`/approvals`, `/api/v1/approvals`);
    /// `None` answers that approvals are not configured.
    pub approvals: Option<Arc<opsdeck_operations::approvals::Approvals>>,
    /// Freeze flags: their settings and the deliverer's wake-up.
    pub flags: flags::Flags,
    /// Shift handovers and the morning checklist; `None` answers that they
    /// are not configured.
    pub handovers: Option<Arc<opsdeck_operations::handover::Handovers>>,
    /// The refunds, returns and disputes queue (`/queues/refunds`); `None`
    /// answers that it is not configured.
    pub refunds_queue: Option<Arc<opsdeck_operations::queues::RefundQueue>>,
    /// Privacy requests (`/privacy`, `/api/v1/privacy/requests`); `None`
    /// answers that they are not configured.
    pub privacy: Option<Arc<opsdeck_operations::privacy::Privacy>>,
    /// System health checks (`/system`, `/api/v1/system/health-checks`,
    /// pushed heartbeats and values); `None` when none are configured.
    pub health_checks: Option<Arc<opsdeck_operations::health::HealthChecks>>,
    /// Scheduled reports (`/reports`); `None`: none are configured.
    pub reports: Option<Arc<opsdeck_reports::runner::ReportRunner>>,
    /// opsdeck's own request latency by route group over a sliding
    /// window, written by every request, read by the system health page
    /// and `GET /api/v1/system/latency`.
    pub latency: observe::LatencyBook,
}

impl AppState {
    pub(crate) fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The configured brand with this id, or the 400 that names it; a
    /// brand outside the person's scope (`scope`) is a 403 naming it and
    /// the brands they see. Every explicit brand a request names comes
    /// through here.
    pub(crate) fn brand(&self, id: &str) -> Result<&Brand, Error> {
        let brand = self
            .brands
            .iter()
            .find(|b| b.id.as_str() == id)
            .ok_or_else(|| Error::UnknownBrand(id.to_string()))?;
        if !scope::sees(id) {
            return Err(self.out_of_scope(&format!("brand {id:?}")));
        }
        Ok(brand)
    }

    /// The 403 for `what` (a brand or region) outside the person's scope,
    /// naming the brands they see.
    pub(crate) fn out_of_scope(&self, what: &str) -> Error {
        let seen: Vec<&str> = self
            .visible_brands()
            .iter()
            .map(|b| b.id.as_str())
            .collect();
        Error::Forbidden(if seen.is_empty() {
            format!("{what} is outside the brands your role sees (none)")
        } else {
            format!(
                "{what} is outside the brands your role sees: {}",
                seen.join(", ")
            )
        })
    }

    /// The configured brands the person sees, in configuration order:
    /// what a brand picker offers and what "every brand" means.
    pub(crate) fn visible_brands(&self) -> Vec<&Brand> {
        let scope = scope::current();
        self.brands
            .iter()
            .filter(|b| scope.sees(b.id.as_str()))
            .collect()
    }

    /// The configured regions the person sees: every one (a region
    /// without brands included) for a person who sees every brand, else
    /// those with a brand they see. What a region picker offers and what
    /// an unknown region's 400 lists.
    pub(crate) fn visible_regions(&self) -> Vec<&opsdeck_domain::Region> {
        let scope = scope::current();
        self.panel_config
            .regions
            .iter()
            .filter(|r| scope.is_every() || r.brands.iter().any(|b| scope.sees(b.as_str())))
            .collect()
    }

    /// The ids of the sources configured for `brand`.
    pub(crate) fn sources_of(&self, brand: &BrandId) -> Vec<SourceId> {
        self.sources
            .iter()
            .filter(|s| s.brand.as_ref() == Some(brand))
            .map(|s| s.id.clone())
            .collect()
    }
}

/// A configured source as the web shows it. Holds no credentials: the web
/// has no use for them, so they never reach it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceInfo {
    pub id: SourceId,
    /// The brand whose data the source brings; `None` for a source shared by
    /// all brands (one helpdesk account).
    pub brand: Option<BrandId>,
    /// The platform, e.g. "shopify", "gorgias", "ingest".
    pub platform: String,
    /// What it syncs, e.g. "orders", "products"; each has its own sync state.
    pub resources: Vec<String>,
}

/// The whole application: every route, the security headers, a request
/// timeout and request tracing.
pub fn router(state: AppState) -> Router {
    let routes = routes()
        .into_router()
        .fallback(error::not_found)
        // Session, permission and CSRF checks for every route but the
        // public ones (login, health, static files, ingest, webhooks). A
        // router layer runs after routing, so the guard sees the matched
        // route and looks up what it declared.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::guard::layer,
        ))
        // Before the guard: a body over its route's limit is refused
        // before anything reads it.
        .layer(axum::middleware::from_fn(security::limit_body))
        // A store that hangs must not pile up requests forever; the page is
        // reloadable, so giving up is the better answer.
        .layer(TimeoutLayer::with_status_code(
            StatusCode::SERVICE_UNAVAILABLE,
            REQUEST_TIMEOUT,
        ))
        // Outside the timeout: a request answered 503 for taking too long
        // is timed too. After routing, so it labels the route template.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            observe::record_request,
        ))
        // The span of each request, as tower-http's default (DEBUG,
        // method, URI, version) but with a privacy download token
        // redacted from the URI.
        .layer(
            TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                tracing::debug_span!(
                    "request",
                    method = %request.method(),
                    uri = %privacy::loggable(&request.uri().to_string()),
                    version = ?request.version(),
                )
            }),
        );
    security::with_headers(routes).with_state(state)
}

/// Every route of the application, each with the access it declared
/// (see [`auth::rules`]): the router serves these and the guard and the
/// nav read their declarations.
pub(crate) fn routes() -> auth::rules::Routes {
    pages::router()
        .merge(sse::router())
        .merge(api::router())
        .merge(auth::router())
        .merge(audit::router())
        .merge(incidents::router())
        .merge(approvals::router())
        .merge(webhooks::router())
        .merge(health::router())
        .merge(flags::router())
        .merge(handover::router())
        .merge(review_queue::router())
        .merge(queues::router())
        .merge(privacy::router())
        .merge(system_health::router())
        .merge(scheduled_reports::router())
        .merge(assets::router())
}

/// Serves the application on `listener` until `shutdown` completes, then
/// lets requests in flight finish.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "web server listening");
    }
    axum::serve(
        listener,
        router(state).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
