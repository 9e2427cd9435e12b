//! The nav bar links only to pages the logged-in role may open: every
//! link a viewer or a support user is shown answers them without 403, on
//! pages they may open and on the 403 page itself; an admin sees them all.

use crate::pulse::{fixture, get_as, session};
use opsdeck_store::Role;

/// Every page the nav can link to.
const ALL_LINKS: &[&str] = &[
    "/",
    "/wismo",
    "/funnel",
    "/pulse",
    "/inventory",
    "/catalog",
    "/tickets",
    "/queues/review",
    "/queues/refunds",
    "/alerts",
    "/incidents",
    "/approvals",
    "/flags",
    "/handovers",
    "/sources",
    "/system",
    "/audit",
    "/privacy",
    "/reports",
    "/logout",
];

/// The hrefs inside the page's `<nav>`.
fn nav_links(html: &str) -> Vec<String> {
    let html = html.replace("&#x2f;", "/");
    let start = html.find("<nav class=\"nav\"").expect("the page has a nav");
    let nav = &html[start..start + html[start..].find("</nav>").unwrap()];
    nav.split("href=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_string())
        .collect()
}

#[tokio::test]
async fn nav_links_only_to_pages_the_role_may_open() {
    let fx = fixture().await;
    for (name, role, refused) in [
        ("val", Role::Viewer, &["/pulse", "/audit"][..]),
        ("sam", Role::Support, &["/pulse", "/audit"][..]),
    ] {
        let user = session(&fx, name, role).await;
        // Every page its nav offers, and one it may not open (the 403 page).
        let (_, home) = get_as(&fx, &user, "/").await;
        let mut pages = nav_links(&home);
        pages.push(refused[0].to_string());
        for page in &pages {
            let (_, html) = get_as(&fx, &user, page).await;
            let links = nav_links(&html);
            assert!(
                links.contains(&"/".to_string()),
                "{role:?} {page}: {links:?}"
            );
            for r in refused {
                assert!(!links.iter().any(|l| l == r), "{role:?} {page}: {links:?}");
            }
            for link in &links {
                let (status, _) = get_as(&fx, &user, link).await;
                assert_ne!(status, 403, "{role:?} is shown {link} on {page}");
            }
        }
        for r in refused {
            let (status, _) = get_as(&fx, &user, r).await;
            assert_eq!(status, 403, "{role:?} {r}: the test's premise");
        }
    }
    let (status, html) = get_as(&fx, &fx.session, "/alerts").await;
    assert_eq!(status, 200);
    assert_eq!(nav_links(&html), ALL_LINKS, "an admin sees every page");
}
