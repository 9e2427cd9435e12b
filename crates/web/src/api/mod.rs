//! The JSON API under `/api/v1`, described by `docs/openapi.json`.
//!
//! Every route is listed once in [`routes`], which both builds the router
//! and lets a test check that the OpenAPI document describes each of them.
//! Errors are `{"error": "..."}` with the status [`crate::Error`] documents.

mod alerts;
mod brands;
pub mod openapi;
mod operations;
mod order_volume;
pub(crate) mod sources;
// One file per dashboard panel (thin: parse, read-lock, compute, serialize).
mod catalog;
mod csat;
mod dashboard;
mod fulfillment;
mod insights;
mod inventory;
mod panel_query;
mod pulse;
mod response_times;
mod sales;
mod tickets;
mod timeline;
mod top_issues;
mod urgent;
mod wismo;

use crate::auth::rules::{Access, Routes};
use crate::AppState;
use axum::http::Method;
use axum::routing::MethodRouter;

pub(crate) use brands::BrandSummary;

/// One API route: path (as in the OpenAPI document), lowercase HTTP method,
/// handler.
pub(crate) struct ApiRoute {
    pub path: &'static str,
    // The declaration's method, and what the OpenAPI coverage test checks.
    pub method: &'static str,
    /// Who may call it (see [`crate::auth::rules`]).
    pub access: Access,
    pub handler: MethodRouter<AppState>,
}

/// Every `/api/v1` route.
pub(crate) fn routes() -> Vec<ApiRoute> {
    let mut routes = vec![
        brands::route(),
        order_volume::route(),
        sources::route(),
        openapi::route(),
    ];
    // Every dashboard panel, and all of them at once.
    routes.extend([
        sales::route(),
        pulse::route(),
        fulfillment::route(),
        inventory::route(),
        catalog::route(),
        tickets::route(),
        csat::route(),
        response_times::route(),
        top_issues::route(),
        urgent::route(),
        wismo::route(),
        insights::route(),
        dashboard::route(),
        timeline::route(),
        operations::route(),
    ]);
    // Alert episodes, urgent list, ack/resolve, silences.
    routes.extend(alerts::routes());
    // POST /api/v1/ingest/{kind}, one route per kind.
    routes.extend(crate::ingest::routes());
    routes.extend(crate::approvals::api_routes());
    // opsdeck's own request latency, for the system health page.
    routes.push(crate::observe::api::route());
    routes
}

pub(crate) fn router() -> Routes {
    routes().into_iter().fold(Routes::new(), |routes, r| {
        let method = Method::from_bytes(r.method.to_ascii_uppercase().as_bytes())
            .expect("API routes name HTTP methods");
        routes.route(r.path, method, r.access, r.handler)
    })
}
