//! Which permission each route needs, in one table, so a route added by
//! anyone is covered: reads need `ViewDashboard` unless listed, changes
//! need `ChangeSettings` (admins) unless listed.
//!
//! Public (no session): the login page, `/favicon.ico`, `/healthz`, static files, the
//! OpenAPI document, the ingest API (bearer tokens, checked there) and
//! `/webhooks/*` (HMAC, checked there).

use super::Permission;
use axum::http::Method;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rule {
    Public,
    Require(Permission),
}

/// Whether the method changes state (and so needs a CSRF token).
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Paths whose JSON carries money: roles without `ViewRevenue` get 403.
const REVENUE_PATHS: &[&str] = &[
    "/api/v1/order-volume",
    "/api/v1/sales",
    "/api/v1/pulse",
    "/api/v1/dashboard",
    "/pulse",
    "/sales",
];

fn under(path: &str, prefix: &str) -> bool {
    path == prefix
        || path.strip_prefix(prefix).is_some_and(|rest| {
            rest.starts_with('/') || rest.starts_with('?') || rest.starts_with('.')
        })
}

pub(crate) fn rule(method: &Method, path: &str) -> Rule {
    use Permission::*;
    if path == "/login"
        || path == "/favicon.ico"
        || path == "/healthz"
        || path == "/api/v1/openapi.json"
        || under(path, "/static")
        || under(path, "/webhooks")
        || under(path, "/api/v1/ingest")
    {
        return Rule::Public;
    }
    let unsafe_method = is_unsafe(method);
    if under(path, "/audit") || under(path, "/api/v1/audit") {
        return Rule::Require(if path.ends_with(".csv") {
            ExportAudit
        } else {
            ViewAudit
        });
    }
    if path == "/audit.csv" {
        return Rule::Require(ExportAudit);
    }
    if under(path, "/users") || under(path, "/api/v1/users") {
        return Rule::Require(ManageUsers);
    }
    if under(path, "/tokens") || under(path, "/api/v1/tokens") {
        return Rule::Require(ManageTokens);
    }
    if !unsafe_method {
        if REVENUE_PATHS.iter().any(|p| under(path, p)) {
            return Rule::Require(ViewRevenue);
        }
        return Rule::Require(ViewDashboard);
    }
    if path == "/logout" {
        return Rule::Require(ViewDashboard);
    }
    if under(path, "/alerts") || under(path, "/api/v1/alerts") {
        return Rule::Require(ActOnAlerts);
    }
    if path.contains("/decision") {
        return Rule::Require(RecordDecisions);
    }
    if path.ends_with("/refresh") || under(path, "/refresh") || under(path, "/api/v1/refresh") {
        return Rule::Require(RefreshSync);
    }
    Rule::Require(ChangeSettings)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    #[test]
    fn routes_map_to_their_permission() {
        let get = |p| rule(&Method::GET, p);
        let post = |p| rule(&Method::POST, p);
        assert_eq!(get("/login"), Rule::Public);
        assert_eq!(post("/login"), Rule::Public);
        assert_eq!(get("/healthz"), Rule::Public);
        // Browsers fetch it unasked; a redirect to /login would reset the
        // login form's CSRF cookie under the person typing.
        assert_eq!(get("/favicon.ico"), Rule::Public);
        assert_eq!(get("/static/app.css"), Rule::Public);
        assert_eq!(post("/webhooks/shopify"), Rule::Public);
        assert_eq!(post("/api/v1/ingest/orders"), Rule::Public);
        assert_eq!(get("/api/v1/openapi.json"), Rule::Public);
        assert_eq!(get("/"), Rule::Require(ViewDashboard));
        assert_eq!(get("/loginx"), Rule::Require(ViewDashboard));
        assert_eq!(get("/api/v1/order-volume"), Rule::Require(ViewRevenue));
        assert_eq!(get("/api/v1/order-volumes"), Rule::Require(ViewDashboard));
        assert_eq!(get("/api/v1/alerts"), Rule::Require(ViewDashboard));
        assert_eq!(post("/api/v1/alerts/E1/ack"), Rule::Require(ActOnAlerts));
        assert_eq!(post("/alerts/E1/resolve"), Rule::Require(ActOnAlerts));
        assert_eq!(post("/api/v1/alerts/silences"), Rule::Require(ActOnAlerts));
        assert_eq!(
            post("/pulse/mavena/decision"),
            Rule::Require(RecordDecisions)
        );
        assert_eq!(post("/api/v1/sources/refresh"), Rule::Require(RefreshSync));
        assert_eq!(get("/audit"), Rule::Require(ViewAudit));
        assert_eq!(get("/audit.csv"), Rule::Require(ExportAudit));
        assert_eq!(post("/users"), Rule::Require(ManageUsers));
        assert_eq!(post("/logout"), Rule::Require(ViewDashboard));
        assert_eq!(post("/settings"), Rule::Require(ChangeSettings));
        assert_eq!(
            rule(&Method::DELETE, "/api/v1/anything"),
            Rule::Require(ChangeSettings)
        );
    }
}
