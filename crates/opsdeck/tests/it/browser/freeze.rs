//! A freeze switched on with a second person's approval, in the browser:
//! one admin switches on "freeze checkout" on /flags, which needs
//! approval, and lands on the request (they cannot decide it); a second
//! admin sees the nav badge, opens the request from /approvals and
//! approves it with a comment; the flag is then live for a storefront
//! (OFREP) and the steps are in the audit log.

use super::app::{TestApp, PASSWORD};
use super::webdriver::Browser;
use opsdeck_operations::flags::FlagKey;
use opsdeck_store::AuditAction;
use opsdeck_web::auth::Role;
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

const REASON: &str = "Payment provider outage (browser test)";

/// The configuration: switching checkout's freeze on needs approval.
pub fn needs_approval(config: &mut opsdeck::config::Config) {
    config.flags.settings.requires_approval = vec![FlagKey::FreezeCheckout];
}

/// What OFREP answers a storefront for `freeze-checkout`.
async fn storefront_sees(app: &TestApp, key: &str) -> Value {
    let r = app
        .http
        .post(format!(
            "{}/ofrep/v1/evaluate/flags/freeze-checkout",
            app.base
        ))
        .bearer_auth(key)
        .json(&json!({ "context": { "targetingKey": "browser-test" } }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["value"].clone()
}

pub async fn approved_by_a_second_person(app: &TestApp, b: &Browser, shots: &Path) {
    let url = |path: &str| format!("{}{path}", app.base);
    let created = app
        .http
        .post(url("/api/v1/storefront-keys"))
        .header("cookie", &app.api.cookie)
        .header("x-csrf-token", &app.api.csrf_token)
        .json(&json!({ "name": "browser storefront" }))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let key = created.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(storefront_sees(app, &key).await, false);

    // The first admin asks, from the flags page.
    b.goto(&url("/login")).await;
    let (name, value) = app.api.cookie.split_once('=').unwrap();
    b.set_cookie(name, value).await;
    b.goto(&url("/flags")).await;
    let title = b.text_of("#flag-freeze-checkout-title").await;
    assert!(title.contains("needs a second person"), "{title}");
    b.type_into(&b.find("#reason-freeze-checkout").await, REASON)
        .await;
    b.click(&b.find("#flag-freeze-checkout button[value=on]").await)
        .await;
    b.wait_until(
        "the request's page shows it pending",
        Duration::from_secs(10),
        "const s = document.querySelector('#approval-state'); \
         return s !== null && s.textContent === 'pending';",
        vec![],
    )
    .await;
    let request_url = b.current_url().await;
    let id = request_url
        .rsplit_once("/approvals/")
        .map(|(_, id)| id.to_string())
        .unwrap();
    let page = b.text_of("main").await;
    assert!(page.contains(REASON), "{page}");
    assert!(page.contains("You asked for this change"), "{page}");
    assert!(
        b.try_find("form[action$='/decision']").await.is_none(),
        "the requester is offered no decision"
    );
    assert!(
        b.try_find("#approvals-badge").await.is_none(),
        "their own request is not counted for them"
    );
    b.screenshot(&shots.join("freeze-requested.png")).await;
    assert_eq!(
        storefront_sees(app, &key).await,
        false,
        "not live while it waits"
    );

    // A second admin approves it from the approvals page.
    opsdeck_web::testing::create_user(app.running.store.as_ref(), "deputy", Role::Admin, PASSWORD)
        .await;
    let deputy = opsdeck_web::testing::login(&app.base, "deputy", PASSWORD)
        .await
        .unwrap();
    let (name, value) = deputy.cookie.split_once('=').unwrap();
    b.set_cookie(name, value).await;
    b.goto(&url("/approvals")).await;
    assert_eq!(b.text_of("#approvals-badge").await, "1");
    b.click(&b.find(&format!("a[href='/approvals/{id}']")).await)
        .await;
    b.wait_until(
        "the request's page offers the decision",
        Duration::from_secs(10),
        "return document.querySelector(\"form[action$='/decision']\") !== null;",
        vec![],
    )
    .await;
    b.type_into(
        &b.find("textarea[name=comment]").await,
        "Confirmed with the PSP",
    )
    .await;
    b.click(&b.find("input[name=decision][value=approve]").await)
        .await;
    b.click(
        &b.find("form[action$='/decision'] button[type=submit]")
            .await,
    )
    .await;
    b.wait_until(
        "the request is approved and executed",
        Duration::from_secs(10),
        "const s = document.querySelector('#approval-state'); \
         return s !== null && s.textContent === 'executed';",
        vec![],
    )
    .await;
    b.screenshot(&shots.join("freeze-approved.png")).await;

    // Live for a storefront, on the flags page, and in the audit log.
    assert_eq!(storefront_sees(app, &key).await, true);
    b.goto(&url("/flags")).await;
    assert!(
        b.try_find("#flag-freeze-checkout [data-flag-state=on]")
            .await
            .is_some(),
        "the flags page shows it on"
    );
    b.goto(&url("/audit")).await;
    let audit = b.text_of("main").await;
    for step in ["approval.request", "approval.approve", "flag.set"] {
        assert!(
            audit.contains(step),
            "{step} missing from the audit log: {audit}"
        );
    }
    let trail = app
        .running
        .store
        .flag_audit(&FlagKey::FreezeCheckout, 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1, "switched on once: {trail:?}");
    assert_eq!(trail[0].action, AuditAction::FlagSet);
    assert_eq!(trail[0].actor, super::app::USERNAME);
    assert_eq!(trail[0].payload["approval"], id.as_str());
    assert_eq!(trail[0].payload["approved_by"], "deputy");
}
