//! The dashboard in a real browser: Debian's Chromium, headless, driven
//! through chromedriver (W3C WebDriver) against opsdeck serving the
//! simulator's four shops. What a person does every morning and on a phone
//! at night: log in, read every brand's numbers (checked against the JSON
//! API), record a sales-pulse decision and find it in the audit log,
//! acknowledge an alert, silence it, narrow the dashboard to one brand,
//! force a sync from /sources, change the WISMO range, watch a tile update
//! live after a new order, and use the pages at 375 px.
//!
//! Accessibility of the main pages: every form control has a label, Tab
//! reaches every form's submit button; on the login and decision forms Tab
//! alone visits every field and the submit buttons in order. The palette's
//! contrast is checked by
//! the unit tests in `opsdeck-web` (`charts::palette::tests::
//! text_colours_meet_aa_on_every_background` and
//! `series_marks_are_distinct_from_the_card`).
//!
//! Screenshots of the main pages go to `target/browser-screenshots/` (the
//! test prints the folder). Without Chromium and chromedriver the browser
//! test prints "browser tests skipped: …"; with `CI` set a missing browser
//! is a failure. The page weight test needs no browser.

mod app;
mod freeze;
mod handover;
mod incidents;
mod operator;
mod privacy;
mod refunds_queue;
mod review_queue;
mod scenarios;
mod viewer;
mod webdriver;

use app::TestApp;
use std::path::PathBuf;
use webdriver::{missing_browser, Browser};

/// Where screenshots go: `$CARGO_TARGET_DIR/browser-screenshots` or the
/// workspace's `target/browser-screenshots`.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("browser-screenshots");
    std::fs::create_dir_all(&dir).unwrap();
    dir.canonicalize().unwrap_or(dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_in_a_real_browser() {
    if let Some(why) = missing_browser() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser is missing: {why}");
        }
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let app = TestApp::start(0.2, "scenarios").await;
    let browser = Browser::start().await;
    let shots = screenshot_dir();
    eprintln!("browser screenshots: {}", shots.display());
    let s = scenarios::Scenarios {
        app: &app,
        browser: &browser,
        shots: &shots,
        problems: Default::default(),
    };
    s.log_in().await;
    s.all_brands_with_the_api_numbers().await;
    s.record_a_pulse_decision().await;
    s.acknowledge_an_alert().await;
    s.silence_an_alert().await;
    s.brand_filter().await;
    s.refresh_syncs_now().await;
    s.wismo_range().await;
    s.tile_updates_live().await;
    s.forms_are_labelled_and_reachable_by_keyboard().await;
    s.phone_width().await;
    let problems = s.problems.into_inner();
    drop(browser);
    app.stop().await;
    assert!(
        problems.is_empty(),
        "problems found in the browser:\n- {}",
        problems.join("\n- ")
    );
}

/// Incident mode: declaring a high incident puts its banner on every page
/// and pins it on the dashboard; resolving it takes both away.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_banner_in_a_real_browser() {
    if let Some(why) = missing_browser() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser is missing: {why}");
        }
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let app = TestApp::start(0.2, "incidents").await;
    let browser = Browser::start().await;
    incidents::banner_follows_the_incident(&app, &browser, &screenshot_dir()).await;
    drop(browser);
    app.stop().await;
}

/// A freeze that needs a second person: one admin switches on "freeze
/// checkout", which is requested; another approves it from the approvals
/// page; the flag is then live on OFREP and in the audit log.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn freeze_switched_on_with_approval_in_a_real_browser() {
    if let Some(why) = missing_browser() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser is missing: {why}");
        }
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let app = TestApp::start_with(0.2, "freeze", freeze::needs_approval).await;
    let browser = Browser::start().await;
    freeze::approved_by_a_second_person(&app, &browser, &screenshot_dir()).await;
    drop(browser);
    app.stop().await;
}

/// A viewer may not see revenue: its dashboard, as the browser holds it
/// (every tile, attribute and hidden element), carries no currency amount,
/// while the admin's dashboard of the same shops does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_viewers_dashboard_carries_no_currency_amount() {
    if let Some(why) = missing_browser() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser is missing: {why}");
        }
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let app = TestApp::start(0.2, "viewer").await;
    let admin_html = app.get("/").await.text().await.unwrap();
    assert!(
        !viewer::amounts_in(&admin_html).is_empty(),
        "the admin's dashboard shows amounts, so the search finds them"
    );
    let browser = Browser::start().await;
    let html = viewer::viewer_dashboard_html(&app, &browser).await;
    browser
        .screenshot(&screenshot_dir().join("viewer-dashboard.png"))
        .await;
    drop(browser);
    app.stop().await;
    assert!(html.contains("Orders"), "the viewer sees the order counts");
    let found = viewer::amounts_in(&html);
    assert!(
        found.is_empty(),
        "the viewer's dashboard shows money: {found:#?}"
    );
}

/// The main dashboard with everything it loads (HTML, stylesheet, script)
/// weighs under 300 KB with the simulator's full-size data set.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_page_weighs_under_300_kb() {
    let app = TestApp::start(1.0, "weight").await;
    let html = app.get("/").await.text().await.unwrap();
    let mut total = html.len();
    let mut parts = vec![format!("HTML {} bytes", html.len())];
    let assets = asset_urls(&html);
    assert!(
        assets.iter().any(|a| a.ends_with(".css")) && assets.iter().any(|a| a.ends_with(".js")),
        "the page loads its stylesheet and script: {assets:?}"
    );
    for url in assets {
        let bytes = app.get(&url).await.bytes().await.unwrap().len();
        parts.push(format!("{url} {bytes} bytes"));
        total += bytes;
    }
    eprintln!(
        "dashboard page weight: {total} bytes ({})",
        parts.join(", ")
    );
    assert!(
        total < 300 * 1024,
        "the dashboard weighs {total} bytes: {}",
        parts.join(", ")
    );
    app.stop().await;
}

/// Same-site `src`/`href` of scripts and stylesheets in `html`.
fn asset_urls(html: &str) -> Vec<String> {
    let mut urls = Vec::new();
    for tag in html.split('<').skip(1) {
        let is_script = tag.starts_with("script");
        let is_style = tag.starts_with("link") && tag.contains("stylesheet");
        if !(is_script || is_style) {
            continue;
        }
        let attr = if is_script { "src=\"" } else { "href=\"" };
        if let Some(start) = tag.find(attr) {
            let rest = &tag[start + attr.len()..];
            if let Some(end) = rest.find('"') {
                urls.push(rest[..end].to_string());
            }
        }
    }
    urls
}
