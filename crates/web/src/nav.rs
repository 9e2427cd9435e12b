//! The nav bar's links, cut to the pages the logged-in person may open.
//!
//! The guard runs each handler inside [`for_role`], so what the viewer's
//! role may do (as configured) is known
//! wherever a page renders (handlers need not pass it); the base template
//! calls `nav_links()`. Whether a link shows is decided by the same route
//! declarations the guard enforces ([`crate::auth::rules`]), so a link
//! cannot promise a page that answers 403.

use crate::auth::rules::{table, Access};
use crate::auth::{Permission, Role};
use axum::http::Method;
use opsdeck_accounts::{builtin_allows, Roles};
use serde::Serialize;
use std::future::Future;

/// Every page of the nav, in the order shown.
const PAGES: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/wismo", "WISMO"),
    ("/funnel", "Funnel"),
    ("/pulse", "Sales pulse"),
    ("/inventory", "Inventory"),
    ("/catalog", "Catalog"),
    ("/tickets", "Tickets"),
    ("/queues/review", "Review queues"),
    ("/queues/refunds", "Refunds queue"),
    ("/alerts", "Alerts"),
    ("/incidents", "Incidents"),
    ("/approvals", "Approvals"),
    ("/flags", "Freeze controls"),
    ("/handovers", "Handovers"),
    ("/sources", "Sources"),
    ("/system", "System health"),
    ("/audit", "Audit log"),
    ("/privacy", "Privacy"),
    ("/reports", "Scheduled reports"),
    ("/logout", "Log out"),
];

tokio::task_local! {
    static VIEWER: Viewer;
}

/// What the person a page renders for may do: their role's permissions,
/// read from the configured matrix once per request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Viewer {
    permissions: Vec<Permission>,
}

impl Viewer {
    pub(crate) fn of(roles: &Roles, role: Role) -> Viewer {
        Viewer {
            permissions: Permission::ALL
                .into_iter()
                .filter(|p| roles.allows(role, *p))
                .collect(),
        }
    }

    fn can(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }
}

/// One link of the nav bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Link {
    pub href: &'static str,
    pub label: &'static str,
}

/// Runs `work` (a handler) with `viewer` as the nav's viewer.
pub(crate) async fn for_role<F: Future>(viewer: Viewer, work: F) -> F::Output {
    VIEWER.scope(viewer, work).await
}

/// Runs `work` (a synchronous render, e.g. a refusal page) with `viewer`
/// as the nav's viewer.
pub(crate) fn for_role_sync<R>(viewer: Viewer, work: impl FnOnce() -> R) -> R {
    VIEWER.sync_scope(viewer, work)
}

fn may_open(can: impl Fn(Permission) -> bool, href: &str) -> bool {
    match table().declared(&Method::GET, href) {
        Some(Access::Public) => true,
        Some(Access::Require(p)) => can(p),
        None => false,
    }
}

/// The links `viewer` may open; without a logged-in viewer, the links
/// every built-in role may open.
pub(crate) fn links_for(viewer: Option<&Viewer>) -> Vec<Link> {
    PAGES
        .iter()
        .filter(|(href, _)| match viewer {
            Some(v) => may_open(|p| v.can(p), href),
            None => Role::ALL
                .into_iter()
                .all(|r| may_open(|p| builtin_allows(r, p), href)),
        })
        .map(|&(href, label)| Link { href, label })
        .collect()
}

/// The links for the request being rendered (the template's `nav_links()`).
pub(crate) fn current_links() -> Vec<Link> {
    VIEWER
        .try_with(|v| links_for(Some(v)))
        .unwrap_or_else(|_| links_for(None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hrefs(role: Option<Role>) -> Vec<&'static str> {
        let viewer = role.map(|r| Viewer::of(&Roles::default(), r));
        links_for(viewer.as_ref())
            .into_iter()
            .map(|l| l.href)
            .collect()
    }

    #[test]
    fn each_role_sees_only_pages_it_may_open() {
        let all: Vec<_> = PAGES.iter().map(|(h, _)| *h).collect();
        assert_eq!(hrefs(Some(Role::Admin)), all);
        assert!(!hrefs(Some(Role::Viewer)).contains(&"/pulse"));
        assert!(!hrefs(Some(Role::Viewer)).contains(&"/audit"));
        assert!(!hrefs(Some(Role::Support)).contains(&"/pulse"));
        assert!(hrefs(Some(Role::Finance)).contains(&"/pulse"));
        assert!(!hrefs(Some(Role::Ops)).contains(&"/audit"));
        assert_eq!(hrefs(None), hrefs(Some(Role::Viewer)));
    }

    #[test]
    fn the_scope_sets_the_links() {
        assert_eq!(current_links(), links_for(None));
        let admin = Viewer::of(&Roles::default(), Role::Admin);
        let inside = for_role_sync(admin.clone(), current_links);
        assert_eq!(inside, links_for(Some(&admin)));
    }
}
