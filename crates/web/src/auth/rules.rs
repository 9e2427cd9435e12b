//! Who may use each route, declared where the route is defined.
//!
//! Every router of the application is a [`Routes`], whose only ways to add
//! a route take the route's [`Access`]: a route without a declaration does
//! not compile, and a module cannot add one behind the table's back
//! because [`crate::routes`] merges only `Routes`. The guard looks the
//! request's matched route (axum's `MatchedPath`) up in the [`RouteTable`]
//! built from the same declarations, and so does the nav.
//!
//! A request that matches no declared method of a route (a 404 or 405 to
//! be) needs `ViewDashboard` to read and `ChangeSettings` to write, so it
//! tells an anonymous caller nothing about which paths exist.
//!
//! Public (no session): the login page, `/favicon.ico`, `/healthz`,
//! `/readyz`, static
//! files, the OpenAPI document, the ingest API and `POST
//! /api/v1/incidents` (bearer tokens, checked there), `/webhooks/*` (HMAC,
//! checked there) and the status page `/status.json`.

use super::Permission;
use crate::AppState;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;
use axum::Router;
use std::sync::LazyLock;

/// Who may use a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// No session needed (the route checks its own credentials, if any).
    Public,
    /// A logged-in role with this permission.
    Require(Permission),
}

impl From<Permission> for Access {
    fn from(p: Permission) -> Self {
        Access::Require(p)
    }
}

/// One declared route: method, path as routed (`/alerts/{id}`), access.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Declared {
    pub method: Method,
    pub path: &'static str,
    pub access: Access,
}

/// Routes that each declare who may use them; see the module documentation.
#[derive(Default)]
pub(crate) struct Routes {
    /// Handlers by path, methods of one path merged.
    paths: Vec<(&'static str, MethodRouter<AppState>)>,
    table: Vec<Declared>,
}

impl Routes {
    pub(crate) fn new() -> Self {
        Routes::default()
    }

    /// `GET path` (and `HEAD`), open to `access`.
    pub(crate) fn get<H, T>(self, path: &'static str, access: impl Into<Access>, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(path, Method::GET, access, axum::routing::get(h))
    }

    /// `POST path`, open to `access`.
    pub(crate) fn post<H, T>(self, path: &'static str, access: impl Into<Access>, h: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        self.route(path, Method::POST, access, axum::routing::post(h))
    }

    /// `method path` served by `handler` (which may carry layers, e.g. a
    /// body limit), open to `access`. `handler` must serve `method` only.
    pub(crate) fn route(
        mut self,
        path: &'static str,
        method: Method,
        access: impl Into<Access>,
        handler: MethodRouter<AppState>,
    ) -> Self {
        self.table.push(Declared {
            method,
            path,
            access: access.into(),
        });
        match self.paths.iter_mut().find(|(p, _)| *p == path) {
            Some((_, existing)) => {
                let merged = std::mem::replace(existing, MethodRouter::new()).merge(handler);
                *existing = merged;
            }
            None => self.paths.push((path, handler)),
        }
        self
    }

    /// Both sets of routes.
    pub(crate) fn merge(mut self, other: Routes) -> Self {
        for (path, handler) in other.paths {
            match self.paths.iter_mut().find(|(p, _)| *p == path) {
                Some((_, existing)) => {
                    let merged = std::mem::replace(existing, MethodRouter::new()).merge(handler);
                    *existing = merged;
                }
                None => self.paths.push((path, handler)),
            }
        }
        self.table.extend(other.table);
        self
    }

    /// Every declaration, in the order made.
    pub(crate) fn declared(&self) -> &[Declared] {
        &self.table
    }

    /// The axum router serving these routes.
    pub(crate) fn into_router(self) -> Router<AppState> {
        self.paths
            .into_iter()
            .fold(Router::new(), |router, (path, handler)| {
                router.route(path, handler)
            })
    }
}

/// Every declaration of the application, looked up by the guard and the nav.
pub(crate) struct RouteTable(Vec<Declared>);

static TABLE: LazyLock<RouteTable> =
    LazyLock::new(|| RouteTable(crate::routes().declared().to_vec()));

/// The application's route table.
pub(crate) fn table() -> &'static RouteTable {
    &TABLE
}

impl RouteTable {
    /// The declared access of `method` on the routed path `path` (`HEAD`
    /// as `GET`); `None` when that method of that path is not declared.
    pub(crate) fn declared(&self, method: &Method, path: &str) -> Option<Access> {
        let method = if method == Method::HEAD {
            &Method::GET
        } else {
            method
        };
        self.0
            .iter()
            .find(|d| d.path == path && d.method == method)
            .map(|d| d.access)
    }

    /// What a request needs: its route's declaration, or for a path or
    /// method no route declares, a session (reads) or an admin (writes).
    pub(crate) fn access(&self, method: &Method, matched: Option<&str>) -> Access {
        matched
            .and_then(|path| self.declared(method, path))
            .unwrap_or(if is_unsafe(method) {
                Access::Require(Permission::ChangeSettings)
            } else {
                Access::Require(Permission::ViewDashboard)
            })
    }

    /// Every declared route (the tests' per-route checks list them).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn all(&self) -> &[Declared] {
        &self.0
    }
}

/// Whether the method changes state (and so needs a CSRF token).
pub(crate) fn is_unsafe(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Permission::*;

    fn at(method: Method, path: &str) -> Access {
        table().access(&method, Some(path))
    }

    #[test]
    fn routes_map_to_their_declared_permission() {
        use Access::Public;
        let get = |p| at(Method::GET, p);
        let post = |p| at(Method::POST, p);
        assert_eq!(get("/login"), Public);
        assert_eq!(post("/login"), Public);
        assert_eq!(get("/healthz"), Public);
        // Browsers fetch it unasked; a redirect to /login would reset the
        // login form's CSRF cookie under the person typing.
        assert_eq!(get("/favicon.ico"), Public);
        assert_eq!(get("/static/app.css"), Public);
        assert_eq!(post("/webhooks/shopify"), Public);
        assert_eq!(post("/api/v1/ingest/orders"), Public);
        assert_eq!(get("/api/v1/openapi.json"), Public);
        assert_eq!(get("/"), ViewDashboard.into());
        assert_eq!(at(Method::HEAD, "/"), ViewDashboard.into());
        assert_eq!(get("/api/v1/order-volume"), ViewRevenue.into());
        assert_eq!(get("/api/v1/alerts"), ViewDashboard.into());
        assert_eq!(post("/api/v1/alerts/{id}/ack"), ActOnAlerts.into());
        assert_eq!(post("/alerts/{id}/resolve"), ActOnAlerts.into());
        assert_eq!(post("/api/v1/alerts/silences"), ActOnAlerts.into());
        assert_eq!(post("/pulse/{brand}/decision"), RecordDecisions.into());
        assert_eq!(post("/refresh"), RefreshSync.into());
        assert_eq!(get("/audit"), ViewAudit.into());
        assert_eq!(get("/audit.csv"), ExportAudit.into());
        assert_eq!(post("/logout"), ViewDashboard.into());
        assert_eq!(get("/incidents"), ViewDashboard.into());
        assert_eq!(get("/incidents/{id}"), ViewDashboard.into());
        assert_eq!(post("/incidents"), ManageIncidents.into());
        assert_eq!(post("/incidents/{id}/transition"), ManageIncidents.into());
        assert_eq!(post("/incidents/components"), ManageIncidents.into());
        // A platform's ingest token, checked in the handler; the status
        // page is for anyone.
        assert_eq!(post("/api/v1/incidents"), Public);
        assert_eq!(get("/status.json"), Public);
    }

    #[test]
    fn what_no_route_declares_needs_a_session_or_an_admin() {
        let t = table();
        assert_eq!(t.access(&Method::GET, None), ViewDashboard.into());
        assert_eq!(t.access(&Method::DELETE, None), ChangeSettings.into());
        // A method the route does not serve (a 405 to be).
        assert_eq!(
            t.access(&Method::POST, Some("/wismo")),
            ChangeSettings.into()
        );
    }

    #[test]
    fn each_method_of_each_path_is_declared_once() {
        let all = table().all();
        for (i, d) in all.iter().enumerate() {
            assert!(
                !all[..i]
                    .iter()
                    .any(|e| e.path == d.path && e.method == d.method),
                "{} {} declared twice",
                d.method,
                d.path
            );
        }
        assert!(all.len() > 40, "{} routes", all.len());
    }
}
