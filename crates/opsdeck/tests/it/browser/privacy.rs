//! A privacy request filed by hand in the browser: an admin opens
//! /privacy, files an erasure for a person's email, and finds it listed
//! with its status and its due date, 30 days after it was received.

use super::app::TestApp;
use super::webdriver::{missing_browser, Browser};
use std::time::Duration;

const EMAIL: &str = "browser.person@example.com";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_files_an_erasure_and_sees_it_listed_with_its_due_date() {
    if let Some(why) = missing_browser() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser is missing: {why}");
        }
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let app = TestApp::start(0.2, "privacy").await;
    let b = Browser::start().await;
    let url = |path: &str| format!("{}{path}", app.base);
    b.goto(&url("/login")).await;
    let (name, value) = app.api.cookie.split_once('=').unwrap();
    b.set_cookie(name, value).await;
    b.goto(&url("/privacy")).await;
    assert_eq!(b.text_of("#privacy-file").await, "File a request");

    b.eval(
        "document.querySelector('#privacy-form select[name=kind]').value = 'erasure';",
        vec![],
    )
    .await;
    b.type_into(&b.find("#privacy-form input[name=email]").await, EMAIL)
        .await;
    b.click_to_next_page(&b.find("#privacy-form button[type=submit]").await)
        .await;
    b.wait_until(
        "the request is listed",
        Duration::from_secs(10),
        "return document.querySelector('#privacy-list tbody tr') !== null;",
        vec![],
    )
    .await;
    // The row's cells: #, kind, brand, person, via, status, received, due.
    let cells = b
        .eval(
            "return [...document.querySelectorAll('#privacy-list tbody tr')[0].cells]\
             .map(c => c.textContent.trim());",
            vec![],
        )
        .await;
    let cells: Vec<String> = cells
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(cells[1], "Erasure", "{cells:?}");
    assert_eq!(cells[4], "dashboard", "{cells:?}");
    assert!(
        ["received", "in_progress", "completed"]
            .iter()
            .any(|s| cells[5].starts_with(s)),
        "a status: {cells:?}"
    );
    let day = |s: &str| {
        jiff::civil::DateTime::strptime("%Y-%m-%d %H:%M UTC", s)
            .unwrap_or_else(|e| panic!("{s:?}: {e}"))
    };
    let (received, due) = (day(&cells[6]), day(&cells[7]));
    assert_eq!(
        due,
        received.checked_add(jiff::Span::new().days(30)).unwrap(),
        "due 30 days after receipt: {cells:?}"
    );
    // Until the erasure is worked the person shows as filed; once worked,
    // as erased: never anyone else.
    assert!(
        cells[3].contains(EMAIL) || cells[3].contains("[erased]"),
        "{cells:?}"
    );
    app.stop().await;
}
