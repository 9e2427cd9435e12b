//! The nav bar's links, cut to the pages the logged-in person may open.
//!
//! The guard runs each handler inside [`for_role`], so the role is known
//! wherever a page renders (handlers need not pass it); the base template
//! calls `nav_links()`. Whether a link shows is decided by the same route
//! declarations the guard enforces ([`crate::auth::rules`]), so a link
//! cannot promise a page that answers 403.

use crate::auth::rules::{table, Access};
use crate::auth::{allows, Role};
use axum::http::Method;
use serde::Serialize;
use std::future::Future;

/// Every page of the nav, in the order shown.
const PAGES: &[(&str, &str)] = &[
    ("/", "Dashboard"),
    ("/wismo", "WISMO"),
    ("/pulse", "Sales pulse"),
    ("/inventory", "Inventory"),
    ("/catalog", "Catalog"),
    ("/tickets", "Tickets"),
    ("/alerts", "Alerts"),
    ("/incidents", "Incidents"),
    ("/approvals", "Approvals"),
    ("/flags", "Freeze controls"),
    ("/sources", "Sources"),
    ("/audit", "Audit log"),
    ("/logout", "Log out"),
];

tokio::task_local! {
    static ROLE: Role;
}

/// One link of the nav bar.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Link {
    pub href: &'static str,
    pub label: &'static str,
}

/// Runs `work` (a handler) with `role` as the nav's viewer.
pub(crate) async fn for_role<F: Future>(role: Role, work: F) -> F::Output {
    ROLE.scope(role, work).await
}

/// Runs `work` (a synchronous render, e.g. a refusal page) with `role` as
/// the nav's viewer.
pub(crate) fn for_role_sync<R>(role: Role, work: impl FnOnce() -> R) -> R {
    ROLE.sync_scope(role, work)
}

fn may_open(role: Role, href: &str) -> bool {
    match table().declared(&Method::GET, href) {
        Some(Access::Public) => true,
        Some(Access::Require(p)) => allows(role, p),
        None => false,
    }
}

/// The links `role` may open; without a logged-in role, the links every
/// role may open.
pub(crate) fn links_for(role: Option<Role>) -> Vec<Link> {
    PAGES
        .iter()
        .filter(|(href, _)| match role {
            Some(r) => may_open(r, href),
            None => Role::ALL.into_iter().all(|r| may_open(r, href)),
        })
        .map(|&(href, label)| Link { href, label })
        .collect()
}

/// The links for the request being rendered (the template's `nav_links()`).
pub(crate) fn current_links() -> Vec<Link> {
    links_for(ROLE.try_with(|r| *r).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hrefs(role: Option<Role>) -> Vec<&'static str> {
        links_for(role).into_iter().map(|l| l.href).collect()
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
        let inside = for_role_sync(Role::Admin, current_links);
        assert_eq!(inside, links_for(Some(Role::Admin)));
    }
}
