//! A shift handover in the browser: the outgoing person (an admin) writes
//! this shift's note on /handovers — pre-filled, edited, submitted; the
//! incoming person (another account, role ops) opens it and acknowledges
//! it; the audit log then shows the start, the submission and the
//! acknowledgement with who did each. The morning checklist's "checked"
//! button records who checked an item.

use super::app::{TestApp, PASSWORD};
use super::webdriver::{missing_browser, Browser};
use opsdeck_web::auth::Role;
use std::time::Duration;

const NOTE: &str = "Courier pickup moved to 10:00 (browser test)";
const INCOMING: &str = "riley";

fn state_is(state: &str) -> String {
    format!(
        "const s = document.querySelector('#handover-state'); \
         return s !== null && s.textContent === {state:?};"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handover_submitted_by_one_person_is_acknowledged_by_another() {
    if let Some(why) = missing_browser() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser is missing: {why}");
        }
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let app = TestApp::start(0.2, "handover").await;
    opsdeck_web::testing::create_user(app.running.store.as_ref(), INCOMING, Role::Ops, PASSWORD)
        .await;
    let incoming = opsdeck_web::testing::login(&app.base, INCOMING, PASSWORD)
        .await
        .expect("the incoming person logs in");
    let b = Browser::start().await;
    let shots = super::screenshot_dir();
    let url = |path: &str| format!("{}{path}", app.base);
    let as_user = |cookie: &str| {
        let (name, value) = cookie.split_once('=').unwrap();
        (name.to_string(), value.to_string())
    };

    // The outgoing person: the admin session opened over HTTP.
    b.goto(&url("/login")).await;
    let (name, value) = as_user(&app.api.cookie);
    b.set_cookie(&name, &value).await;
    b.goto(&url("/handovers")).await;
    assert_eq!(b.text_of("h1").await, "Shift handovers");
    b.click(&b.find("#start-all button[type=submit]").await)
        .await;
    b.wait_until(
        "the draft opens",
        Duration::from_secs(10),
        &state_is("draft"),
        vec![],
    )
    .await;
    let note_url = b.current_url().await;
    b.type_into(&b.find("#next-shift-notes").await, NOTE).await;
    b.click_to_next_page(&b.find("#edit-form button[type=submit]").await)
        .await;
    b.wait_until(
        "the draft is saved",
        Duration::from_secs(10),
        &format!(
            "const t = document.querySelector('#next-shift-notes'); \
             return t !== null && t.value.includes({NOTE:?});"
        ),
        vec![],
    )
    .await;
    b.click(&b.find("#submit-form button[type=submit]").await)
        .await;
    b.wait_until(
        "the note is submitted",
        Duration::from_secs(10),
        &state_is("submitted"),
        vec![],
    )
    .await;
    assert!(
        b.try_find("#acknowledge-form").await.is_none(),
        "the author is not offered to acknowledge their own handover"
    );
    b.screenshot(&shots.join("handover-submitted.png")).await;

    // The incoming person.
    let (name, value) = as_user(&incoming.cookie);
    b.set_cookie(&name, &value).await;
    b.goto(&note_url).await;
    let section = b.text_of("#section-next-shift-notes").await;
    assert!(section.contains(NOTE), "{section}");
    b.click(&b.find("#acknowledge-form button[type=submit]").await)
        .await;
    b.wait_until(
        "the note is acknowledged",
        Duration::from_secs(10),
        &state_is("acknowledged"),
        vec![],
    )
    .await;
    assert_eq!(b.text_of("#handover-acknowledged-by").await, INCOMING);
    b.screenshot(&shots.join("handover-acknowledged.png")).await;

    // The morning checklist: one item checked, by whom.
    b.goto(&url("/checklist?region=all")).await;
    b.click(&b.find("#item-handover_notes button[type=submit]").await)
        .await;
    b.wait_until(
        "the item shows who checked it",
        Duration::from_secs(10),
        &format!(
            "const i = document.querySelector('#item-handover_notes .checked'); \
             return i !== null && i.textContent.includes({INCOMING:?});"
        ),
        vec![],
    )
    .await;

    // The audit log (the admin reads it): who started, submitted and
    // acknowledged the note, and who checked the item.
    let (name, value) = as_user(&app.api.cookie);
    b.set_cookie(&name, &value).await;
    let id = note_url.rsplit('/').next().unwrap().to_string();
    b.goto(&url("/audit")).await;
    let log = b.text_of("table").await;
    let subject = format!("handover:{id}");
    for (action, actor) in [
        ("handover.start", "morgan"),
        ("handover.edit", "morgan"),
        ("handover.submit", "morgan"),
        ("handover.acknowledge", INCOMING),
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains(action) && l.contains(actor) && l.contains(&subject)),
            "{action} by {actor} on {subject} is not in the audit log:\n{log}"
        );
    }
    assert!(
        log.contains("checklist:all:handover_notes") && log.contains(INCOMING),
        "{log}"
    );
    b.screenshot(&shots.join("handover-audit.png")).await;
    drop(b);
    app.stop().await;
}
