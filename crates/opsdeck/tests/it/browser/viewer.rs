//! A viewer's dashboard in the browser carries no currency amount: not in
//! the tiles it sees, not in markup it does not (hidden elements, `title`
//! attributes, data the script could read), not after the live tiles
//! refresh. The same page for the admin does carry amounts, so the search
//! is known to find them.

use super::app::{TestApp, NOW};
use super::webdriver::Browser;
use opsdeck_web::auth::Role;
use std::time::Duration;

pub const VIEWER: &str = "vic";

/// Every currency amount in `html`: a symbol before a digit ("$1,204.50",
/// "¥3,000"), a number before a currency code ("12.000 KWD"), or an exact
/// JSON amount (`"minor":`).
pub fn amounts_in(html: &str) -> Vec<String> {
    let chars: Vec<char> = html.chars().collect();
    let around = |i: usize| -> String {
        chars[i.saturating_sub(40)..(i + 40).min(chars.len())]
            .iter()
            .collect()
    };
    let mut found = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        if matches!(c, '$' | '€' | '£' | '¥') && next.is_ascii_digit() {
            found.push(around(i));
        }
        if c.is_ascii_digit() && next == ' ' {
            let code: String = chars.iter().skip(i + 2).take(3).collect();
            let after = chars.get(i + 5).copied().unwrap_or(' ');
            if ["USD", "JPY", "EUR", "GBP", "CAD"].contains(&code.as_str())
                && !after.is_alphanumeric()
            {
                found.push(around(i));
            }
        }
    }
    if let Some(at) = html.find("\"minor\":") {
        found.push(html[at.saturating_sub(40)..(at + 40).min(html.len())].to_string());
    }
    found
}

/// Logs the viewer in (its session cookie, set in the browser), opens the
/// dashboard, waits for its tiles, and returns the whole document's HTML.
pub async fn viewer_dashboard_html(app: &TestApp, browser: &Browser) -> String {
    let store = app.running.store.as_ref();
    opsdeck_web::testing::create_user(store, VIEWER, Role::Viewer, "viewer password").await;
    let session = opsdeck_web::testing::session_for(store, VIEWER, NOW.parse().unwrap()).await;
    let (name, value) = session.cookie.split_once('=').unwrap();
    // A cookie is set for the page's site: open a public page first.
    browser.goto(&format!("{}/login", app.base)).await;
    browser.set_cookie(name, value).await;
    browser.goto(&format!("{}/", app.base)).await;
    assert!(
        !browser.current_url().await.contains("/login"),
        "the viewer's session opens the dashboard"
    );
    browser
        .wait_until(
            "the dashboard's tiles are on the page",
            Duration::from_secs(20),
            "return document.querySelectorAll('.brand').length > 0;",
            vec![],
        )
        .await;
    browser
        .eval("return document.documentElement.outerHTML;", vec![])
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
}
