//! The demo's alert flow: the simulated shops synced into a fresh store,
//! alerts sent to the fake Slack and Telegram receivers `opsdeck demo`
//! runs; the simulated stores have unfulfilled orders of every age, so
//! "Unfulfilled order stale" reaches both at once; pressing its Telegram
//! button acknowledges it, and the acknowledgement is in the audit log.

use crate::helpers;
use jiff::Timestamp;
use opsdeck::{alerts_app, app, demo};
use opsdeck_simulator::{SimConfig, Simulator};
use std::time::Duration;
use tokio::net::TcpListener;

#[tokio::test]
async fn demo_alerts_reach_the_fake_receivers_and_ack_from_telegram() {
    let dir = helpers::temp_dir("demo-alerts");
    let simulator = Simulator::new(SimConfig {
        seed: 7,
        now: Timestamp::now(),
        scale: 0.2,
    });
    let sim_listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let sim_addr = sim_listener.local_addr().unwrap();
    let sim = simulator.clone();
    let sim_server =
        tokio::spawn(async move { sim.serve(sim_listener, std::future::pending()).await });
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let mut config = demo::demo_config(
        &simulator.shops(),
        sim_addr,
        listener.local_addr().unwrap(),
        format!("sqlite://{}", dir.join("demo.db").display()),
        Duration::from_secs(2),
    )
    .unwrap();
    config.alerts.every = Duration::from_secs(1);
    let receivers = alerts_app::demo_receivers(&mut config).await.unwrap();
    let fake = &receivers.http;
    let running = helpers::start_on(&config, listener, app::system_clock()).await;

    // Wait for a Telegram message about stale orders (others may come first).
    let deadline = std::time::Instant::now() + Duration::from_secs(25);
    let stale = loop {
        let found = fake
            .received("telegram")
            .into_iter()
            .find(|r| r.raw.contains("Unfulfilled order stale"));
        if let Some(r) = found {
            break r;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no stale-order alert on Telegram"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        fake.received("slack")
            .iter()
            .any(|r| r.raw.contains("Unfulfilled order stale")),
        "critical stale orders go to Telegram and Slack"
    );
    // ... and, being the top tier, to the owner's mailbox.
    let mailed = loop {
        let mails = receivers.smtp.received();
        if let Some(m) = mails
            .iter()
            .find(|m| m.data.contains("Unfulfilled order stale"))
        {
            break m.clone();
        }
        assert!(std::time::Instant::now() < deadline, "no stale-order email");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(
        mailed.subject().starts_with("CRITICAL"),
        "{}",
        mailed.subject()
    );
    let button = stale.body["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .expect("an Acknowledge button")
        .to_string();
    fake.press_button(&button, "demo_owner");
    let answers = fake
        .wait_for("telegram_answer", 1, Duration::from_secs(10))
        .await;
    assert_eq!(answers.len(), 1, "the press was answered");
    assert_eq!(
        answers[0].body["text"], "Acknowledged",
        "{:?}",
        answers[0].body
    );

    let episode = button.trim_start_matches("ack:");
    let audit = running.store.audit_log(100).await.unwrap();
    let entry = audit
        .iter()
        .find(|e| {
            e.action == opsdeck_store::AuditAction::AlertAcknowledge && e.subject.ends_with(episode)
        })
        .expect("the acknowledgement is in the audit log");
    // Telegram users are recorded by their @handle.
    assert_eq!(entry.actor, "@demo_owner");

    receivers.printer.abort();
    running.stop().await.unwrap();
    sim_server.abort();
    let _ = std::fs::remove_dir_all(&dir);
}
