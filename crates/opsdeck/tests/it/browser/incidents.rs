//! Incident mode in the browser: an admin declares a high incident on
//! /incidents; every page (the incident's, the dashboard, WISMO) then shows
//! the banner naming it and its status, the dashboard pins it; once it is
//! resolved, the banner is gone.

use super::app::TestApp;
use super::webdriver::Browser;
use std::path::Path;
use std::time::Duration;

const TITLE: &str = "Checkout failing in the EU (browser test)";

fn has_banner(title: &str) -> String {
    format!(
        "const b = document.querySelector('#incident-banner'); \
         return b !== null && b.textContent.includes({title:?});"
    )
}

pub async fn banner_follows_the_incident(app: &TestApp, b: &Browser, shots: &Path) {
    let url = |path: &str| format!("{}{path}", app.base);
    // The browser takes the admin session opened over HTTP.
    b.goto(&url("/login")).await;
    let (name, value) = app.api.cookie.split_once('=').unwrap();
    b.set_cookie(name, value).await;
    b.goto(&url("/incidents")).await;
    assert_eq!(b.text_of("h1").await, "Incidents");
    assert!(
        b.try_find("#incident-banner").await.is_none(),
        "no banner before an incident"
    );
    b.type_into(&b.find("#incident-title").await, TITLE).await;
    b.eval(
        "document.querySelector('#incident-severity').value = 'high'; \
         document.querySelector('#incident-summary').value = 'Payments refused at checkout'; \
         return true;",
        vec![],
    )
    .await;
    b.click(&b.find("#declare-form button[type=submit]").await)
        .await;
    b.wait_until(
        "the incident page shows the banner",
        Duration::from_secs(10),
        &format!(
            "return document.querySelector('#incident-state') !== null && (function() {{ {} }})();",
            has_banner(TITLE)
        ),
        vec![],
    )
    .await;
    let banner = b.text_of("#incident-banner").await;
    assert!(banner.contains(TITLE), "{banner}");
    assert!(banner.contains("HIGH incident"), "{banner}");
    assert!(
        banner.contains("triage"),
        "the banner shows the status: {banner}"
    );
    b.screenshot(&shots.join("incident-banner.png")).await;
    let incident_url = b.current_url().await;
    for page in ["/", "/wismo", "/alerts"] {
        b.goto(&url(page)).await;
        let banner = b.text_of("#incident-banner").await;
        assert!(banner.contains(TITLE), "{page}: {banner}");
    }
    b.goto(&url("/")).await;
    let pinned = b.text_of("#pinned-incidents").await;
    assert!(pinned.contains(TITLE), "the dashboard pins it: {pinned}");
    // Investigating: the banner follows the status.
    b.goto(&incident_url).await;
    b.click(
        &b.find("form[action$='/transition']:has(input[value=investigating]) button")
            .await,
    )
    .await;
    b.wait_until(
        "the state is investigating",
        Duration::from_secs(10),
        "const s = document.querySelector('#incident-state'); \
         return s !== null && s.textContent === 'investigating';",
        vec![],
    )
    .await;
    let banner = b.text_of("#incident-banner").await;
    assert!(banner.contains("investigating"), "{banner}");
    // Resolved: gone from every page.
    b.click(
        &b.find("form[action$='/transition']:has(input[value=resolved]) button")
            .await,
    )
    .await;
    b.wait_until(
        "the state is resolved",
        Duration::from_secs(10),
        "const s = document.querySelector('#incident-state'); \
         return s !== null && s.textContent === 'resolved';",
        vec![],
    )
    .await;
    for page in ["/", "/wismo"] {
        b.goto(&url(page)).await;
        assert!(
            b.try_find("#incident-banner").await.is_none(),
            "{page} still shows the banner after the incident was resolved"
        );
    }
    b.screenshot(&shots.join("incident-resolved.png")).await;
}
