//! Observability of opsdeck itself (issue 16, point 5): what an operator's
//! Prometheus scrapes, whether an instance is ready for traffic, and how
//! fast it answers.
//!
//! Every request passes [`record_request`] (a router layer, so it sees
//! the matched route template, never the raw path: tokens and ids in a
//! path never become labels). It records the request in the Prometheus
//! histogram `opsdeck_http_request_duration_seconds{route, status}` and
//! in the [`LatencyBook`] the system health page reads.
//!
//! The other families are recorded where their event happens, each with
//! one line: sync runs (`opsdeck_sync`'s worker), webhook deliveries
//! (`crate::webhooks`), ingest batches (`crate::ingest`), alert
//! evaluations and notification outcomes (`opsdeck_alerts`). The queue
//! depth of the webhook inbox and the projection's lag behind the change
//! feed are read from the store when scraped ([`prometheus`]).
//!
//! # Layout
//! - [`latency`]: the sliding window of request durations by route group
//!   ([`LatencyBook`], its [`LatencySnapshot`]).
//! - [`prometheus`]: the recorder (installed once per process) and the
//!   `/metrics` listener, apart from the public port.
//! - [`readiness`]: the store reachable and the projection caught up, for
//!   `/readyz` and the lag gauge.
//! - `api`: `GET /api/v1/system/latency`; the template include
//!   `system_latency.html` renders the same snapshot on a page.

pub(crate) mod api;
pub mod latency;
pub mod prometheus;
pub mod readiness;

pub use latency::{GroupLatency, LatencyBook, LatencySnapshot, RouteGroup};
pub use prometheus::{serve_metrics, MetricsEndpoint};

use crate::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use std::time::Instant;

/// The request latency histogram's name.
pub const REQUEST_SECONDS: &str = "opsdeck_http_request_duration_seconds";

/// The route label of a request no route matched (a 404): one label for
/// every unknown path, so scanners cannot grow the series.
pub const UNMATCHED: &str = "unmatched";

/// Times every request: Prometheus' histogram by route template and
/// status class, and the latency book by route group.
pub(crate) async fn record_request(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let started = Instant::now();
    let response = next.run(request).await;
    let took = started.elapsed();
    let route = route.unwrap_or_else(|| UNMATCHED.to_string());
    if let Some(group) = RouteGroup::of(&route) {
        state.latency.record(group, Instant::now(), took);
    }
    metrics::histogram!(REQUEST_SECONDS, "route" => route, "status" => status_class(response.status()))
        .record(took.as_secs_f64());
    response
}

/// `2xx`, `4xx`…: the status label (the exact code would multiply the
/// series for little).
fn status_class(status: StatusCode) -> &'static str {
    match status.as_u16() {
        100..=199 => "1xx",
        200..=299 => "2xx",
        300..=399 => "3xx",
        400..=499 => "4xx",
        _ => "5xx",
    }
}
