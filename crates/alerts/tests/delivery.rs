//! From an observation to what the fake receivers get: exact payloads,
//! retries on 429 and 5xx, a sender that dies between commit and send,
//! acknowledging from Telegram, the signed webhook and SMTP.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::notify::email::{EmailNotifier, SmtpConfig, SmtpSecurity};
use opsdeck_alerts::notify::slack::SlackNotifier;
use opsdeck_alerts::notify::telegram::{TelegramConfig, TelegramNotifier, TelegramUpdates};
use opsdeck_alerts::notify::webhook::{
    signature, WebhookNotifier, SIGNATURE_HEADER, TIMESTAMP_HEADER,
};
use opsdeck_alerts::notify::{http_client, Channel, Notifier, Notifiers, SendOutcome};
use opsdeck_alerts::outbox::Sender;
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::testing::{FakeReceivers, FakeSmtp, Fault};
use opsdeck_alerts::*;
use opsdeck_domain::Secret;
use opsdeck_store::alerts::OutboxStatus;
use opsdeck_store::testing::{sqlite_store, TestStore};
use opsdeck_store::Store;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn t0() -> Timestamp {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

fn evaluator() -> Evaluator {
    let mut rules = RuleSet::defaults();
    for r in rules::default_rules() {
        let mut r = r;
        r.timing.pending_for = SignedDuration::ZERO;
        rules.upsert(r);
    }
    let mut e = Evaluator::new(rules);
    e.tier_channels
        .get_mut(&Tier::TelegramAndSlack)
        .unwrap()
        .push(Channel::Webhook);
    e
}

fn telegram_config(fake: &FakeReceivers) -> TelegramConfig {
    TelegramConfig {
        base_url: fake.telegram_base_url(),
        bot_token: Secret::new("123456:TEST-token"),
        chat_id: "-1001234".into(),
        message_thread_id: Some(7),
        allowed_user_ids: Vec::new(),
    }
}

struct Rig {
    db: TestStore,
    fake: FakeReceivers,
    service: AlertService,
    notifiers: Notifiers,
}

impl Rig {
    async fn new() -> Rig {
        let db = sqlite_store().await;
        let fake = FakeReceivers::start().await.unwrap();
        let client = http_client(Duration::from_secs(5));
        let notifiers = Notifiers::new()
            .with(
                Channel::Slack,
                Arc::new(SlackNotifier::new(
                    client.clone(),
                    Secret::new(fake.slack_url()),
                )),
            )
            .with(
                Channel::Telegram,
                Arc::new(TelegramNotifier::new(
                    client.clone(),
                    telegram_config(&fake),
                )),
            )
            .with(
                Channel::Webhook,
                Arc::new(WebhookNotifier::new(
                    client,
                    Secret::new(fake.webhook_url()),
                    Secret::new("whsec"),
                )),
            );
        let service = AlertService::new(
            db.store.clone(),
            evaluator(),
            RenderConfig {
                dashboard_url: "http://ops.example.com".into(),
            },
            BTreeMap::new(),
            "t",
        );
        Rig {
            db,
            fake,
            service,
            notifiers,
        }
    }

    fn sender(&self, store: Arc<dyn Store>, holder: &str) -> Sender {
        Sender::new(store, self.notifiers.clone(), holder)
    }
}

fn inventory(subject: &str, active: bool) -> Observation {
    Observation {
        rule: "inventory_critical".into(),
        brand: "mavena".into(),
        subject: subject.into(),
        value: Some(Figure::new(2.0, "2 units")),
        baseline: Some(Figure::new(40.0, "40 units/week")),
        threshold: Some(Figure::new(3.0, "≤ 3 units")),
        active,
        why: "\"Tom & Jerry <XL>\" has 2 units left; critical at 3 & below".into(),
        why_without_money: None,
        dashboard_path: "/?brand=mavena#inventory".into(),
    }
}

fn zero_orders(active: bool) -> Observation {
    Observation {
        rule: "zero_orders".into(),
        brand: "mavena".into(),
        subject: "brand".into(),
        value: Some(Figure::new(6.5, "6.5 h")),
        baseline: None,
        threshold: Some(Figure::new(6.0, "6 h")),
        active,
        why: "No order since 09:00".into(),
        why_without_money: None,
        dashboard_path: "/?brand=mavena#orders".into(),
    }
}

/// Every `<` of Telegram HTML opens one of the tags the message uses.
fn assert_only_known_tags(html: &str) {
    for (i, _) in html.match_indices('<') {
        let rest = &html[i..];
        assert!(
            ["<b>", "</b>", "<a href=\"", "</a>"]
                .iter()
                .any(|t| rest.starts_with(t)),
            "unescaped '<' in {rest:?}"
        );
    }
}

#[tokio::test]
async fn slack_and_telegram_get_exact_payloads_with_escaping() {
    let rig = Rig::new().await;
    let step = rig
        .service
        .step(&[inventory("sku:Tom & Jerry <XL>", true)], at(0))
        .await
        .unwrap();
    let episode = step.changed[0].episode_id.clone().unwrap();
    let report = rig
        .sender(rig.db.store.clone(), "s")
        .deliver_once(at(0))
        .await
        .unwrap();
    assert_eq!(report.delivered, 3, "{report:?}");

    let slack = rig.fake.received("slack");
    assert_eq!(slack.len(), 1);
    let body = &slack[0].body;
    let blocks = body["blocks"].as_array().unwrap();
    assert_eq!(blocks[0]["type"], "header");
    assert_eq!(blocks[0]["text"]["type"], "plain_text");
    assert_eq!(
        blocks[0]["text"]["text"],
        "CRITICAL · mavena: Inventory critical"
    );
    assert_eq!(blocks[1]["type"], "section");
    assert_eq!(
        blocks[1]["text"]["text"],
        "*Inventory critical* — sku:Tom &amp; Jerry &lt;XL&gt;\n\"Tom &amp; Jerry &lt;XL&gt;\" has 2 units left; critical at 3 &amp; below"
    );
    let fields: Vec<&str> = blocks[1]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["text"].as_str().unwrap())
        .collect();
    assert_eq!(
        fields,
        [
            "*Value*\n2 units",
            "*Baseline*\n40 units/week",
            "*Threshold*\n≤ 3 units",
            "*Severity*\ncritical"
        ]
    );
    assert_eq!(blocks[2]["type"], "actions");
    assert_eq!(blocks[2]["elements"][0]["type"], "button");
    assert_eq!(
        blocks[2]["elements"][0]["url"],
        "http://ops.example.com/?brand=mavena#inventory"
    );
    // Block Kit limits: header ≤ 150 chars, ≤ 50 blocks, ≤ 10 fields.
    assert!(blocks.len() <= 50);
    assert!(body["text"]
        .as_str()
        .unwrap()
        .starts_with("CRITICAL · mavena: Inventory critical: "));

    let tg = rig.fake.received("telegram");
    assert_eq!(tg.len(), 1);
    assert_eq!(tg[0].path, "/telegram/bot123456:TEST-token/sendMessage");
    let m = &tg[0].body;
    assert_eq!(m["chat_id"], "-1001234");
    assert_eq!(m["message_thread_id"], 7);
    assert_eq!(m["parse_mode"], "HTML");
    let text = m["text"].as_str().unwrap();
    assert!(text.contains("sku:Tom &amp; Jerry &lt;XL&gt;"), "{text}");
    assert!(text.contains("critical at 3 &amp; below"));
    assert!(text.contains("Threshold: ≤ 3 units"));
    assert!(!text.contains("<XL>"));
    assert_only_known_tags(text);
    assert_eq!(
        m["reply_markup"],
        json!({"inline_keyboard": [[{"text": "Acknowledge", "callback_data": format!("ack:{episode}")}]]})
    );
    assert!(
        format!("ack:{episode}").len() <= 64,
        "Telegram limits callback_data to 64 bytes"
    );
}

#[tokio::test]
async fn webhook_is_signed_with_hmac_sha256() {
    let rig = Rig::new().await;
    rig.service
        .step(&[inventory("sku:A", true)], at(0))
        .await
        .unwrap();
    rig.sender(rig.db.store.clone(), "s")
        .deliver_once(at(0))
        .await
        .unwrap();
    let got = rig.fake.received("webhook");
    assert_eq!(got.len(), 1);
    let header = |name: &str| {
        got[0]
            .headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.clone())
            .unwrap()
    };
    let ts: i64 = header(TIMESTAMP_HEADER).parse().unwrap();
    assert_eq!(
        header(SIGNATURE_HEADER),
        signature("whsec", ts, got[0].raw.as_bytes())
    );
    assert_ne!(
        header(SIGNATURE_HEADER),
        signature("other", ts, got[0].raw.as_bytes())
    );
    assert_eq!(got[0].body["alerts"][0]["rule"], "inventory_critical");
    assert_eq!(got[0].body["alerts"][0]["value"]["value"], 2.0);
}

#[tokio::test]
async fn rate_limits_and_server_errors_are_retried_until_delivered() {
    let rig = Rig::new().await;
    rig.fake.fail_next(
        "slack",
        &[
            Fault::TooManyRequests { retry_after: 7 },
            Fault::ServerError,
        ],
    );
    rig.fake
        .fail_next("telegram", &[Fault::TooManyRequests { retry_after: 3 }]);
    rig.service
        .step(&[inventory("sku:A", true)], at(0))
        .await
        .unwrap();
    let sender = rig.sender(rig.db.store.clone(), "s");
    let r = sender.deliver_once(at(0)).await.unwrap();
    assert_eq!((r.delivered, r.retrying), (1, 2), "webhook went through");
    // Telegram's retry_after (3 s) and Slack's Retry-After (7 s) are honoured.
    assert_eq!(sender.deliver_once(at(2)).await.unwrap().delivered, 0);
    assert_eq!(sender.deliver_once(at(3)).await.unwrap().delivered, 1);
    assert_eq!(
        sender.deliver_once(at(6)).await.unwrap(),
        Default::default()
    );
    let r = sender.deliver_once(at(7)).await.unwrap();
    assert_eq!(r.retrying, 1, "then a 500: backoff 2 × 2^1 = 4 s");
    assert_eq!(
        sender.deliver_once(at(10)).await.unwrap(),
        Default::default()
    );
    assert_eq!(sender.deliver_once(at(11)).await.unwrap().delivered, 1);
    assert_eq!(rig.fake.received("slack").len(), 3);
    assert_eq!(rig.fake.received("telegram").len(), 2);
    let rows = rig.db.store.outbox_list(None, 10).await.unwrap();
    assert!(
        rows.iter().all(|r| r.status == OutboxStatus::Delivered),
        "{rows:?}"
    );
    let slack = rows.iter().find(|r| r.channel == Channel::Slack).unwrap();
    assert_eq!(slack.attempts, 3);
    assert_eq!(
        slack.last_error.as_deref(),
        Some("Slack: HTTP 500 Internal Server Error")
    );
}

#[tokio::test]
async fn refused_or_unconfigured_notifications_expire_visibly() {
    let rig = Rig::new().await;
    let mut rig_service_channels = BTreeMap::new();
    rig_service_channels.insert(Channel::Other("pager".into()), Channel::Slack);
    rig.service.step(&[zero_orders(true)], at(0)).await.unwrap();
    let sender = Sender::new(rig.db.store.clone(), Notifiers::new(), "s");
    let r = sender.deliver_once(at(0)).await.unwrap();
    assert_eq!(r.expired, 1);
    let row = &rig.db.store.outbox_list(None, 1).await.unwrap()[0];
    assert_eq!(row.status, OutboxStatus::Expired);
    assert_eq!(
        row.last_error.as_deref(),
        Some("channel \"telegram\" is not configured")
    );
}

#[tokio::test]
async fn a_sender_killed_between_commit_and_send_delivers_once_after_restart() {
    let rig = Rig::new().await;
    rig.service.step(&[zero_orders(true)], at(0)).await.unwrap();
    // The first process claims the row and dies before sending.
    let claimed = rig
        .db
        .store
        .outbox_claim("dead", at(0), SignedDuration::from_secs(60), 10)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    drop(claimed);
    // A new process opens the same database.
    let reopened = opsdeck_store::connect(&rig.db.url).await.unwrap();
    reopened.migrate().await.unwrap();
    let sender = rig.sender(reopened.clone(), "fresh");
    assert_eq!(
        sender.deliver_once(at(30)).await.unwrap(),
        Default::default(),
        "lease still held"
    );
    assert_eq!(sender.deliver_once(at(60)).await.unwrap().delivered, 1);
    assert_eq!(
        sender.deliver_once(at(600)).await.unwrap(),
        Default::default()
    );
    assert_eq!(rig.fake.received("telegram").len(), 1, "sent exactly once");
    // Later messages of the episode go through the reopened store as usual.
    rig.service
        .step(&[zero_orders(false)], at(1000))
        .await
        .unwrap();
    rig.service
        .step(&[zero_orders(false)], at(1700))
        .await
        .unwrap();
    assert_eq!(sender.deliver_once(at(1700)).await.unwrap().delivered, 1);
    let texts: Vec<String> = rig
        .fake
        .received("telegram")
        .iter()
        .map(|r| r.body["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts[1].contains("RESOLVED"));
}

#[tokio::test]
async fn the_telegram_button_acknowledges_through_the_same_path() {
    let rig = Rig::new().await;
    let step = rig.service.step(&[zero_orders(true)], at(0)).await.unwrap();
    let episode = step.changed[0].episode_id.clone().unwrap();
    rig.sender(rig.db.store.clone(), "s")
        .deliver_once(at(0))
        .await
        .unwrap();
    let client = http_client(Duration::from_secs(10));
    let mut updates = TelegramUpdates::new(client, telegram_config(&rig.fake));
    rig.fake.press_button(&format!("ack:{episode}"), "owner");
    let n = opsdeck_alerts::telegram_acks::poll_once(
        &rig.service,
        &mut updates,
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(n, 1);
    let row = rig.db.store.alert_episode(&episode).await.unwrap().unwrap();
    assert_eq!(row.state.as_str(), "acknowledged");
    let events = rig.db.store.alert_events(&episode).await.unwrap();
    let last = events.last().unwrap();
    assert_eq!(last.kind.as_str(), "acknowledged");
    assert_eq!(last.body["by"], "@owner");
    assert_eq!(last.body["via"], "telegram");
    let answers = rig.fake.received("telegram_answer");
    assert_eq!(
        answers[0].body,
        json!({"callback_query_id": "cq1", "text": "Acknowledged"})
    );
    // The offset moved past the press: the next poll does not see it again.
    assert_eq!(
        opsdeck_alerts::telegram_acks::poll_once(&rig.service, &mut updates, Duration::ZERO)
            .await
            .unwrap(),
        0
    );
    rig.fake.press_button(&format!("ack:{episode}"), "manager");
    opsdeck_alerts::telegram_acks::poll_once(&rig.service, &mut updates, Duration::from_secs(1))
        .await
        .unwrap();
    let answers = rig.fake.received("telegram_answer");
    assert_eq!(answers[1].body["text"], "Already acknowledged by @owner");
    // Acknowledged: no repeat, no escalation, even hours later.
    let later = rig
        .service
        .step(&[zero_orders(true)], at(6 * 3600))
        .await
        .unwrap();
    assert!(later.notifications.is_empty());
}

/// Issue 11.10: a press from another chat (a forwarded button) or, when
/// `allowed_user_ids` is set, from an unlisted user is answered as refused,
/// acknowledges nothing, and is audited with the presser's ids; a press
/// from the configured chat by a listed user acknowledges.
#[tokio::test]
async fn telegram_presses_count_only_from_the_configured_chat_and_users() {
    let rig = Rig::new().await;
    let step = rig.service.step(&[zero_orders(true)], at(0)).await.unwrap();
    let episode = step.changed[0].episode_id.clone().unwrap();
    let mut config = telegram_config(&rig.fake);
    config.allowed_user_ids = vec![42];
    let client = http_client(Duration::from_secs(10));
    let mut updates = TelegramUpdates::new(client, config);
    let ack = format!("ack:{episode}");
    // mallory, in her own chat, presses a forwarded button.
    rig.fake.press_button_in(&ack, "mallory", 666, -200);
    // mallory, a member of the alerts chat, is not on the list.
    rig.fake.press_button_in(&ack, "mallory", 666, -1001234);
    let n = opsdeck_alerts::telegram_acks::poll_once(
        &rig.service,
        &mut updates,
        Duration::from_secs(1),
    )
    .await
    .unwrap();
    assert_eq!(n, 2);
    let row = rig.db.store.alert_episode(&episode).await.unwrap().unwrap();
    assert_eq!(
        row.state.as_str(),
        "firing",
        "a refused press acknowledges nothing"
    );
    let answers: Vec<String> = rig
        .fake
        .received("telegram_answer")
        .iter()
        .map(|a| a.body["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        answers,
        [
            "Refused: buttons work only in the alerts chat",
            "Refused: you are not allowed to acknowledge alerts"
        ]
    );
    // The owner (user 42) in the alerts chat acknowledges.
    rig.fake.press_button_in(&ack, "owner", 42, -1001234);
    opsdeck_alerts::telegram_acks::poll_once(&rig.service, &mut updates, Duration::from_secs(1))
        .await
        .unwrap();
    let row = rig.db.store.alert_episode(&episode).await.unwrap().unwrap();
    assert_eq!(row.state.as_str(), "acknowledged");
    let audit = rig.db.store.audit_log(10).await.unwrap();
    let seen: Vec<(&str, &str, &serde_json::Value)> = audit
        .iter()
        .rev()
        .map(|a| (a.actor.as_str(), a.action.as_str(), &a.payload["context"]))
        .collect();
    let origin = |user: i64, chat: i64| json!({"telegram_user_id": user, "telegram_chat_id": chat});
    assert_eq!(
        seen,
        [
            ("@mallory", "alert.acknowledge.refused", &origin(666, -200)),
            (
                "@mallory",
                "alert.acknowledge.refused",
                &origin(666, -1001234)
            ),
            ("@owner", "alert.acknowledge", &origin(42, -1001234)),
        ]
    );
    assert_eq!(
        audit[2].payload["reason"],
        "Refused: buttons work only in the alerts chat"
    );
}

#[tokio::test]
async fn each_episode_keeps_its_whole_history() {
    let rig = Rig::new().await;
    let step = rig.service.step(&[zero_orders(true)], at(0)).await.unwrap();
    let episode = step.changed[0].episode_id.clone().unwrap();
    let sender = rig.sender(rig.db.store.clone(), "s");
    sender.deliver_once(at(0)).await.unwrap();
    rig.service
        .acknowledge(&episode, &Actor::new("ops@example.com", Via::Api), at(60))
        .await
        .unwrap();
    rig.service
        .resolve(&episode, &Actor::new("ops@example.com", Via::Api), at(120))
        .await
        .unwrap();
    let kinds: Vec<String> = rig
        .db
        .store
        .alert_events(&episode)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.to_string())
        .collect();
    assert_eq!(
        kinds,
        ["firing", "notification", "acknowledged", "resolved"]
    );
    let audit: Vec<(String, String)> = rig
        .db
        .store
        .audit_log(10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.actor, a.action.to_string()))
        .collect();
    assert_eq!(
        audit,
        [
            ("ops@example.com".to_string(), "alert.resolve".to_string()),
            (
                "ops@example.com".to_string(),
                "alert.acknowledge".to_string()
            )
        ]
    );
    let row = rig.db.store.alert_episode(&episode).await.unwrap().unwrap();
    assert_eq!(row.state.as_str(), "resolved");
    assert_eq!(row.body["value"]["text"], "6.5 h");
    assert_eq!(row.body["threshold"]["text"], "6 h");
    assert_eq!(row.body["why"], "No order since 09:00");
    let sent = rig.db.store.outbox_list(Some(&episode), 10).await.unwrap();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].status, OutboxStatus::Delivered);
    assert!(matches!(
        rig.service
            .acknowledge(&episode, &Actor::new("x", Via::Api), at(130))
            .await,
        Err(AlertError::NotOpen { .. })
    ));
    // Still active after a manual resolve: a new episode starts.
    let again = rig
        .service
        .step(&[zero_orders(true)], at(200))
        .await
        .unwrap();
    assert_ne!(
        again.changed[0].episode_id.as_deref(),
        Some(episode.as_str())
    );
}

#[tokio::test]
async fn email_goes_over_smtp_with_retry_on_4xx() {
    let smtp = FakeSmtp::start().await.unwrap();
    let notifier = EmailNotifier::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp.port,
        from: "alerts@example.com".into(),
        to: vec!["owner@example.com".into()],
        auth: Some(("alerts".into(), Secret::new("pw"))),
        timeout: Duration::from_secs(5),
        security: SmtpSecurity::None,
        extra_roots: vec![],
    });
    let payload =
        json!({"subject": "CRITICAL · mavena: Zero orders ✓", "text": "line one\n.dot line\nend"});
    smtp.reject_next_mail(451);
    assert!(matches!(
        notifier.send(&payload).await,
        SendOutcome::Retry { .. }
    ));
    smtp.reject_next_mail(550);
    assert!(matches!(
        notifier.send(&payload).await,
        SendOutcome::Refused { .. }
    ));
    assert_eq!(notifier.send(&payload).await, SendOutcome::Delivered);
    let msgs = smtp.messages();
    assert_eq!(msgs.len(), 1);
    let subject_line = msgs[0]
        .split("\r\n")
        .find(|l| l.starts_with("Subject: "))
        .unwrap();
    assert!(
        subject_line.to_ascii_lowercase().contains("=?utf-8?b?"),
        "{subject_line}"
    );
    assert_eq!(
        smtp.received()[0].subject(),
        "CRITICAL · mavena: Zero orders ✓"
    );
    assert!(
        msgs[0].contains("\r\n\r\nline one\r\n..dot line\r\nend\r\n"),
        "{}",
        msgs[0]
    );
    assert!(msgs[0].contains("To: owner@example.com\r\n"));
}
