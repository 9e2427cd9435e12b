//! The Prometheus recorder and the `/metrics` listener.
//!
//! `metrics`' macros record into one recorder per process, installed by
//! [`install`] (the binary calls it when `[observability] metrics_listen`
//! is set; without it every recording is a no-op). The exposition is
//! `metrics-exporter-prometheus`' own; axum serves it on a listener of its
//! own ([`serve_metrics`]), never on the public port, because the figures
//! describe the installation to whoever can read them.
//!
//! Gauges that are a state of the store rather than an event — the
//! webhook inbox's depth and the projection's lag — are read when
//! scraped, so they are as fresh as the scrape.

use super::readiness::{projection_lag, STORE_CHECK_TIMEOUT};
use super::REQUEST_SECONDS;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use opsdeck_metrics::SharedProjection;
use opsdeck_store::Store;
use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Buckets of the request latency histogram, in seconds: a page answers
/// in milliseconds; the request timeout is 30 s.
const LATENCY_BUCKETS: [f64; 14] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How often histogram samples are folded into their buckets between
/// scrapes, which bounds the memory they hold.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

static RECORDER: OnceLock<Result<PrometheusHandle, String>> = OnceLock::new();

/// Installs the process' Prometheus recorder the first time, and returns
/// the handle that renders it (the same handle on every call, so several
/// applications in one process — the tests — share one recorder). An
/// error when another recorder was installed first.
pub fn install() -> Result<PrometheusHandle, String> {
    RECORDER
        .get_or_init(|| {
            let recorder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Full(REQUEST_SECONDS.into()), &LATENCY_BUCKETS)
                .map_err(|e| e.to_string())?
                .build_recorder();
            let handle = recorder.handle();
            metrics::set_global_recorder(recorder)
                .map_err(|e| format!("another metrics recorder is installed: {e}"))?;
            describe();
            Ok(handle)
        })
        .clone()
}

/// The help text of each family, as Prometheus shows it.
fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_histogram!(
        REQUEST_SECONDS,
        Unit::Seconds,
        "Time to answer an HTTP request, by route template and status class."
    );
    describe_counter!(
        "opsdeck_sync_runs_total",
        "Sync runs by source, resource and outcome (ok, failed)."
    );
    describe_counter!(
        "opsdeck_webhooks_total",
        "Webhook deliveries by door (shopify, gorgias) and outcome (accepted, duplicate, refused, unavailable)."
    );
    describe_counter!(
        "opsdeck_ingest_batches_total",
        "Ingest API batches by kind and outcome (accepted, refused, failed)."
    );
    describe_counter!(
        "opsdeck_alert_evaluations_total",
        "Alert evaluation steps committed."
    );
    describe_counter!(
        "opsdeck_notifications_total",
        "Notification delivery attempts by channel and outcome (delivered, retry, expired)."
    );
    describe_gauge!(
        "opsdeck_webhook_inbox_pending",
        "Webhook events stored but not yet applied."
    );
    describe_gauge!(
        "opsdeck_projection_lag_changes",
        "Changes of the feed the in-memory projection has not applied yet."
    );
    describe_gauge!(
        "opsdeck_store_up",
        "1 when the store answered the scrape's query in time, else 0."
    );
}

/// What the `/metrics` listener reads: the rendering handle, and the
/// store and projection whose state the gauges report.
#[derive(Clone)]
pub struct MetricsEndpoint {
    pub handle: PrometheusHandle,
    pub store: Arc<dyn Store>,
    pub projection: SharedProjection,
}

/// The metrics listener's only route: `GET /metrics`; anything else 404.
pub fn metrics_router(endpoint: MetricsEndpoint) -> Router {
    Router::new()
        .route("/metrics", get(scrape))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(endpoint)
}

/// Serves `/metrics` on `listener` until `shutdown` completes, folding
/// histogram samples every [`UPKEEP_EVERY`] meanwhile.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    endpoint: MetricsEndpoint,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(%addr, "metrics listening");
    }
    let handle = endpoint.handle.clone();
    let upkeep = async move {
        loop {
            tokio::time::sleep(UPKEEP_EVERY).await;
            handle.run_upkeep();
        }
    };
    let server = std::future::IntoFuture::into_future(
        axum::serve(listener, metrics_router(endpoint)).with_graceful_shutdown(shutdown),
    );
    tokio::select! {
        served = server => served,
        () = upkeep => Ok(()),
    }
}

async fn scrape(State(endpoint): State<MetricsEndpoint>) -> Response {
    let store = endpoint.store.as_ref();
    let lag = projection_lag(store, &endpoint.projection).await;
    metrics::gauge!("opsdeck_store_up").set(if lag.is_ok() { 1.0 } else { 0.0 });
    if let Ok(lag) = lag {
        metrics::gauge!("opsdeck_projection_lag_changes").set(lag as f64);
        if let Ok(Ok(stats)) =
            tokio::time::timeout(STORE_CHECK_TIMEOUT, store.webhook_stats()).await
        {
            metrics::gauge!("opsdeck_webhook_inbox_pending").set(stats.pending as f64);
        }
    }
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        endpoint.handle.render(),
    )
        .into_response()
}
