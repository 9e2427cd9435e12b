//! Supervision in the running application: every background task is on
//! `/readyz`; a task that panics is restarted and its restart shows there
//! and on `/sources`;
//! one waiting to restart makes `/readyz` answer 503 naming it; and a task
//! whose policy is to stop the process ends `Running::until` (what
//! `app::run` waits on) with an error naming it, the others stopped.

use crate::helpers::{self, Secrets};
use opsdeck::app;
use opsdeck::config::parse_config;
use opsdeck::supervise::Policy;
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

async fn start(name: &str) -> (app::Running, std::path::PathBuf) {
    let dir = helpers::temp_dir(name);
    let text = format!(
        r#"
[database]
url = "sqlite://{db}"

[[brands]]
id = "mavena"
name = "Mavena"
kind = "subscription"
time_zone = "America/New_York"
currency = "USD"
[brands.shopify]
shop_domain = "mavena.myshopify.com"
access_token_env = "SHOP_TOKEN"
# Nothing listens there: the sync fails, records it and carries on.
base_url = "http://127.0.0.1:9"
"#,
        db = dir.join("opsdeck.db").display(),
    );
    let secrets = Secrets::only(&[("SHOP_TOKEN", "shpat_unused")]);
    let config = parse_config(&text, &secrets).unwrap();
    (helpers::start(&config, app::system_clock()).await, dir)
}

async fn readyz(base: &str) -> (u16, Value) {
    let response = reqwest::get(format!("{base}/readyz")).await.unwrap();
    (response.status().as_u16(), response.json().await.unwrap())
}

fn task<'a>(body: &'a Value, name: &str) -> Option<&'a Value> {
    body["tasks"].as_array()?.iter().find(|t| t["name"] == name)
}

/// Polls `/readyz` until `done` holds (at most 10 s).
async fn readyz_until(base: &str, done: impl Fn(u16, &Value) -> bool) -> (u16, Value) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = readyz(base).await;
        if done(status, &body) {
            return (status, body);
        }
        assert!(Instant::now() < deadline, "{status} {body:#}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn a_panicking_task_is_restarted_and_readyz_shows_it() {
    let (mut running, dir) = start("supervision-restart").await;
    let base = helpers::base(&running);
    let (status, body) = readyz(&base).await;
    assert_eq!(status, 200, "{body:#}");
    for name in [
        "sync:shopify-mavena",
        "projection-follower",
        "alert-runner",
        "housekeeping",
        "ingest-writer",
        "web",
    ] {
        let t = task(&body, name).unwrap_or_else(|| panic!("{name} missing: {body:#}"));
        assert_eq!(t["state"], "running", "{body:#}");
        assert_eq!(t["restarts"], 0, "{body:#}");
    }

    let runs = Arc::new(AtomicU32::new(0));
    let quick = Policy::Restart {
        first: Duration::from_millis(1),
        max: Duration::from_millis(10),
    };
    running.supervise("flaky", quick, {
        let (runs, stop) = (runs.clone(), running.stop_signal());
        move || {
            let first = runs.fetch_add(1, Ordering::SeqCst) == 0;
            let mut stop = stop.clone();
            async move {
                assert!(!first, "the first run breaks");
                let _ = stop.wait_for(|s| *s).await;
                Ok(())
            }
        }
    });
    let (status, body) = readyz_until(&base, |_, body| {
        task(body, "flaky").is_some_and(|t| t["state"] == "running" && t["restarts"] == 1)
    })
    .await;
    assert_eq!(status, 200, "restarted and running again: {body:#}");
    assert_eq!(body["status"], "ready");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    // /sources shows it too, to a logged-in user.
    let client = helpers::logged_in_client(&running, "ops", opsdeck_store::Role::Ops).await;
    let page = client
        .get(format!("{base}/sources"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let row = page
        .split("<tr")
        .find(|row| row.contains("<td>flaky</td>"))
        .unwrap_or_else(|| panic!("no flaky row: {page}"));
    assert!(
        row.contains("<td>running</td>") && row.contains("<td>1</td>"),
        "{row}"
    );

    // A task waiting (an hour) to be started again: not ready, named.
    let hour = Duration::from_secs(3600);
    running.supervise(
        "stuck",
        Policy::Restart {
            first: hour,
            max: hour,
        },
        || async { Err(anyhow::anyhow!("the database is gone")) },
    );
    let (status, body) = readyz_until(&base, |status, _| status == 503).await;
    assert_eq!(body["status"], "not ready", "{body:#}");
    assert_eq!(
        body["not_running"],
        serde_json::json!(["stuck"]),
        "{body:#}"
    );
    assert_eq!(task(&body, "stuck").unwrap()["state"], "restarting");
    assert_eq!(status, 503);

    running.stop().await.unwrap();
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_stop_policy_task_that_exits_stops_opsdeck_with_its_name() {
    let (mut running, dir) = start("supervision-stop").await;
    let addr = running.addr;
    running.supervise("essential", Policy::StopProcess, || async { Ok(()) });
    let error = tokio::time::timeout(
        Duration::from_secs(30),
        running.until(std::future::pending()),
    )
    .await
    .expect("until returns")
    .unwrap_err();
    assert_eq!(
        error.to_string(),
        "opsdeck stopped: the essential task exited"
    );
    // The other tasks were stopped with it: nothing serves any more.
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}
