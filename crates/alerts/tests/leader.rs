//! Several processes on one database: exactly one evaluates and sends, and
//! another takes over when it dies. Runs on SQLite and, when
//! `OPSDECK_TEST_POSTGRES_URL` is set, on PostgreSQL.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::leader::Leader;
use opsdeck_alerts::notify::slack::SlackNotifier;
use opsdeck_alerts::notify::telegram::{TelegramConfig, TelegramNotifier};
use opsdeck_alerts::notify::{http_client, Channel, Notifiers};
use opsdeck_alerts::outbox::Sender;
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::runner::{Cycle, ObservationSource, Runner};
use opsdeck_alerts::testing::FakeReceivers;
use opsdeck_alerts::*;
use opsdeck_domain::Secret;
use opsdeck_store::alerts::AlertBatch;
use opsdeck_store::alerts::NewNotification;
use opsdeck_store::testing::each_backend;
use opsdeck_store::Store;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn t0() -> Timestamp {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

/// Observations a test can change between cycles.
#[derive(Default)]
struct Scripted(Mutex<Vec<Observation>>);

#[async_trait]
impl ObservationSource for Scripted {
    async fn observe(&self, _now: Timestamp) -> Result<Vec<Observation>, AlertError> {
        Ok(self.0.lock().unwrap().clone())
    }
}

fn zero_orders(brand: &str) -> Observation {
    Observation {
        rule: "zero_orders".into(),
        brand: brand.into(),
        subject: "brand".into(),
        value: None,
        baseline: None,
        threshold: None,
        active: true,
        why: format!("{brand}: no order for 6 h"),
        why_without_money: None,
        dashboard_path: "/".into(),
    }
}

fn notifiers(fake: &FakeReceivers) -> Notifiers {
    let client = http_client(Duration::from_secs(5));
    let tg = TelegramConfig {
        base_url: fake.telegram_base_url(),
        bot_token: Secret::new("1:t"),
        chat_id: "1".into(),
        message_thread_id: None,
        allowed_user_ids: Vec::new(),
    };
    Notifiers::new()
        .with(
            Channel::Telegram,
            Arc::new(TelegramNotifier::new(client.clone(), tg)),
        )
        .with(
            Channel::Slack,
            Arc::new(SlackNotifier::new(client, Secret::new(fake.slack_url()))),
        )
}

fn process(
    store: Arc<dyn Store>,
    fake: &FakeReceivers,
    source: Arc<Scripted>,
    name: &str,
) -> Runner {
    let mut rules = RuleSet::defaults();
    let mut r = rules.get("zero_orders").unwrap().clone();
    r.timing.pending_for = SignedDuration::ZERO;
    rules.upsert(r);
    let service = AlertService::new(
        store.clone(),
        Evaluator::new(rules),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        BTreeMap::new(),
        name,
    );
    Runner::new(
        Arc::new(service),
        source,
        Sender::new(store.clone(), notifiers(fake), name),
        Leader::new(store, name, SignedDuration::from_secs(30)),
        Duration::from_secs(5),
    )
}

#[tokio::test]
async fn one_leader_sends_and_another_takes_over_when_it_dies() {
    for db in each_backend().await {
        let fake = FakeReceivers::start().await.unwrap();
        let source = Arc::new(Scripted::default());
        source.0.lock().unwrap().push(zero_orders("mavena"));
        // Two processes, each with its own connection pool to the database.
        let store_b = opsdeck_store::connect(&db.url).await.unwrap();
        let a = process(db.store.clone(), &fake, source.clone(), "a");
        let b = process(store_b, &fake, source.clone(), "b");
        let mut led = Vec::new();
        for secs in (0..60).step_by(5) {
            let (ra, rb) = tokio::join!(a.cycle(at(secs)), b.cycle(at(secs)));
            led.push((
                ra.unwrap() != Cycle::Follower,
                rb.unwrap() != Cycle::Follower,
            ));
        }
        assert!(
            led.iter().all(|(a, b)| a ^ b),
            "{}: exactly one leads each cycle: {led:?}",
            db.label
        );
        assert_eq!(
            fake.received("telegram").len(),
            1,
            "{}: one notification per episode",
            db.label
        );

        // The leader dies (stops cycling). Within the 30 s lease the other
        // takes over; it knows the open episode from the store and does not
        // announce it again, but does announce a new one.
        let leader = if led[0].0 { &b } else { &a };
        source.0.lock().unwrap().push(zero_orders("plentum"));
        let mut took_over_at = None;
        for secs in (60..120).step_by(5) {
            if leader.cycle(at(secs)).await.unwrap() != Cycle::Follower {
                took_over_at = Some(secs);
                break;
            }
        }
        let took_over_at = took_over_at.expect("the survivor takes over");
        assert!(
            took_over_at <= 55 + 30 + 5,
            "{}: took over at {took_over_at}",
            db.label
        );
        let texts: Vec<String> = fake
            .received("telegram")
            .iter()
            .map(|r| r.body["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts.len(), 2, "{}: {texts:?}", db.label);
        assert!(texts[1].contains("plentum"));
    }
}

#[tokio::test]
async fn two_senders_on_one_database_send_each_notification_once() {
    for db in each_backend().await {
        let fake = FakeReceivers::start().await.unwrap();
        let notifications: Vec<NewNotification> = (0..40)
            .map(|i| NewNotification {
                id: format!("n{i}"),
                channel: Channel::Slack,
                payload: json!({"text": format!("message {i}"), "blocks": []}),
                episode_ids: vec![],
                created_at: at(0),
                expires_at: at(3600),
            })
            .collect();
        let batch = AlertBatch {
            notifications,
            ..Default::default()
        };
        db.store.alert_commit(&batch).await.unwrap();
        let store_b = opsdeck_store::connect(&db.url).await.unwrap();
        let mut a = Sender::new(db.store.clone(), notifiers(&fake), "a");
        let mut b = Sender::new(store_b, notifiers(&fake), "b");
        a.batch = 5;
        b.batch = 5;
        for _ in 0..8 {
            let (ra, rb) = tokio::join!(a.deliver_once(at(1)), b.deliver_once(at(1)));
            ra.unwrap();
            rb.unwrap();
        }
        let mut texts: Vec<String> = fake
            .received("slack")
            .iter()
            .map(|r| r.body["text"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts.len(), 40, "{}", db.label);
        texts.sort();
        texts.dedup();
        assert_eq!(texts.len(), 40, "{}: no message sent twice", db.label);
    }
}

/// Telegram answers a second `getUpdates` poller with 409 Conflict, so only
/// the process holding the lease polls; a button press still acknowledges.
#[tokio::test]
async fn only_the_leader_polls_telegram() {
    use opsdeck_alerts::notify::telegram::TelegramUpdates;
    let db = opsdeck_store::testing::sqlite_store().await;
    let fake = FakeReceivers::start().await.unwrap();
    let source = Arc::new(Scripted::default());
    source.0.lock().unwrap().push(zero_orders("mavena"));
    let store_b = opsdeck_store::connect(&db.url).await.unwrap();
    let a = process(db.store.clone(), &fake, source.clone(), "a");
    let b = process(store_b, &fake, source.clone(), "b");
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut loops = Vec::new();
    for runner in [&a, &b] {
        let service = runner.service.clone();
        let leading = runner.leading();
        let updates = TelegramUpdates::new(
            http_client(Duration::from_secs(5)),
            TelegramConfig {
                base_url: fake.telegram_base_url(),
                bot_token: Secret::new("1:t"),
                chat_id: "1".into(),
                message_thread_id: None,
                allowed_user_ids: Vec::new(),
            },
        );
        let mut stop = stop_rx.clone();
        loops.push(tokio::spawn(async move {
            opsdeck_alerts::telegram_acks::run(
                &service,
                updates,
                Duration::from_secs(1),
                leading,
                async move {
                    let _ = stop.wait_for(|s| *s).await;
                },
            )
            .await
        }));
    }
    // Cycle both with real time so the episode's ack time is after it fired.
    for _ in 0..3 {
        let now = Timestamp::now();
        let (ra, rb) = tokio::join!(a.cycle(now), b.cycle(now));
        ra.unwrap();
        rb.unwrap();
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    let sent = fake.wait_for("telegram", 1, Duration::from_secs(5)).await;
    let episode = sent[0].body["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
        .as_str()
        .expect("an Acknowledge button")
        .to_string();
    fake.press_button(&episode, "owner");
    let answers = fake
        .wait_for("telegram_answer", 1, Duration::from_secs(5))
        .await;
    assert_eq!(answers.len(), 1, "the press was handled once");
    assert_eq!(answers[0].body["text"], "Acknowledged");
    let (polls, conflicts) = fake.polls();
    assert!(polls >= 1, "the leader polls");
    assert_eq!(conflicts, 0, "no second poller got 409");
    let _ = stop_tx.send(true);
    for l in loops {
        l.await.unwrap();
    }
}

/// `run` cycles at the service's clock, not the machine's: an app with a
/// fixed or simulated clock gets episodes opened at its own time (and a
/// "source stale" age measured from it).
#[tokio::test]
async fn run_cycles_at_the_services_clock() {
    let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
    let fake = FakeReceivers::start().await.unwrap();
    let source = Arc::new(Scripted::default());
    source.0.lock().unwrap().push(zero_orders("mavena"));
    let mut runner = process(store.clone(), &fake, source, "solo");
    let fixed = at(0);
    let service = Arc::try_unwrap(runner.service).ok().expect("one owner");
    runner.service = Arc::new(service.with_clock(Arc::new(move || fixed)));
    let stop = async {
        while fake.received("telegram").is_empty() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), runner.run(stop))
        .await
        .expect("one cycle fires zero orders");
    let open = store
        .alert_episodes(&opsdeck_store::alerts::EpisodeFilter {
            open_only: true,
            brand: None,
            limit: 10,
        })
        .await
        .unwrap();
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].opened_at, fixed, "opened at the app's clock");
}
