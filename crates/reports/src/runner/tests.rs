//! The run loop's one step with a fixed clock against a real store and
//! fake Slack, Telegram and SMTP receivers: the next run is scheduled in the
//! subscription's zone, a due run is sent once (email with the CSV
//! attached, Slack with the summary and a link), an empty digest is
//! skipped, and a failed send is recorded and told to the owner.

use super::*;
use crate::digest::DigestSources;
use crate::schedule::Schedule;
use crate::subscription::Owner;
use jiff::tz::TimeZone;
use opsdeck_alerts::notify::email::{SmtpConfig, SmtpSecurity};
use opsdeck_alerts::notify::slack::SlackNotifier;
use opsdeck_alerts::notify::telegram::{TelegramConfig, TelegramNotifier};
use opsdeck_alerts::notify::{http_client, Channel};
use opsdeck_alerts::testing::{FakeReceivers, FakeSmtp};
use opsdeck_domain::{
    Brand, BrandId, BrandKind, Currency, ReturnKind, ReturnRequest, ReturnStatus, Secret, SourceId,
    Thresholds,
};
use opsdeck_metrics::panels::review_queues::ReviewSlas;
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::{Projection, SubscriptionRules};
use opsdeck_operations::incidents::{IncidentService, SeverityPolicies};
use opsdeck_store::AnyRecord;
use std::sync::RwLock;
use std::time::Duration;

fn t(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn brand() -> Brand {
    Brand {
        id: BrandId::parse("mavena").unwrap(),
        name: "Mavena".into(),
        kind: BrandKind::Standard,
        time_zone: TimeZone::get("Europe/Berlin").unwrap(),
        currency: Currency::EUR,
        launched: true,
        thresholds: Thresholds::defaults_for(&BrandKind::Standard),
    }
}

fn a_requested_return() -> AnyRecord {
    AnyRecord::ReturnRequest(ReturnRequest {
        source: SourceId::parse("shopify-mavena").unwrap(),
        external_id: "17000000001".into(),
        brand: brand().id,
        order_id: Some("5001".into()),
        kind: ReturnKind::Return,
        status: ReturnStatus::Requested,
        amount: None,
        reason: None,
        requested_at: t("2026-03-27T08:00:00Z"),
        resolved_at: None,
        updated_at: t("2026-03-27T08:00:00Z"),
        status_history: Vec::new(),
    })
}

fn subscription() -> Subscription {
    Subscription {
        name: "morning".into(),
        report: ReportKind::DailyDigest,
        schedule: Schedule::parse("daily 07:00", "Europe/Berlin").unwrap(),
        channels: vec![Channel::Email, Channel::Slack],
        recipients: vec!["ops@example.com".into()],
        brands: None,
        sections: None,
        skip_when_empty: true,
        audience: Some("ops".into()),
        sees_revenue: true,
        owner: Some(Owner {
            name: "admin".into(),
            channel: Channel::Telegram,
            email: None,
        }),
    }
}

struct World {
    runner: ReportRunner,
    fake: FakeReceivers,
    smtp: FakeSmtp,
    _guard: opsdeck_store::testing::TempGuard,
}

async fn world(records: Vec<AnyRecord>) -> World {
    let (store, guard) = opsdeck_store::testing::sqlite_temp().await;
    store.upsert(&records, None).await.unwrap();
    let projection = Projection::build(store.as_ref(), vec![brand()], SubscriptionRules::default())
        .await
        .unwrap();
    let fake = FakeReceivers::start().await.unwrap();
    let smtp = FakeSmtp::start().await.unwrap();
    let client = http_client(Duration::from_secs(5));
    let email = Arc::new(EmailNotifier::new(SmtpConfig {
        host: "127.0.0.1".into(),
        port: smtp.port,
        from: "opsdeck@example.com".into(),
        to: vec!["alerts@example.com".into()],
        auth: None,
        timeout: Duration::from_secs(5),
        security: SmtpSecurity::None,
        extra_roots: vec![],
    }));
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
                client,
                TelegramConfig {
                    base_url: fake.telegram_base_url(),
                    bot_token: Secret::new("123456:TEST-token"),
                    chat_id: "-1001234".into(),
                    message_thread_id: None,
                    allowed_user_ids: Vec::new(),
                },
            )),
        );
    let digest = DigestSources {
        projection: Arc::new(RwLock::new(projection)),
        panel: PanelConfig::default(),
        review_slas: ReviewSlas::playbook(),
        store: store.clone(),
        incidents: Arc::new(IncidentService::new(
            store.clone(),
            SeverityPolicies::default(),
            Arc::new(Timestamp::now),
            vec![],
            "http://opsdeck.test",
        )),
        regions: vec![],
    };
    let runner = ReportRunner::new(
        store,
        vec![subscription()],
        digest,
        Delivery {
            email: Some(email),
            notifiers,
        },
        "http://opsdeck.test",
    );
    World {
        runner,
        fake,
        smtp,
        _guard: guard,
    }
}

#[tokio::test]
async fn a_due_digest_is_sent_once_by_email_with_its_file_and_by_slack() {
    let w = world(vec![a_requested_return()]).await;
    // 06:30 in Berlin on the day clocks go forward: the first step only
    // schedules 07:00 CEST (05:00 UTC).
    let first = w
        .runner
        .run_due_once(t("2026-03-29T04:30:00Z"))
        .await
        .unwrap();
    assert_eq!(first, RunSummary::default());
    let status = &w.runner.statuses().await.unwrap()[0];
    assert_eq!(status.next_run, Some(t("2026-03-29T05:00:00Z")));
    assert_eq!(status.last_run, None);
    // Not yet.
    let early = w
        .runner
        .run_due_once(t("2026-03-29T04:59:00Z"))
        .await
        .unwrap();
    assert_eq!(early, RunSummary::default());
    assert!(w.smtp.messages().is_empty());

    let due = w
        .runner
        .run_due_once(t("2026-03-29T05:00:30Z"))
        .await
        .unwrap();
    assert_eq!(due.sent, ["morning"]);
    let mails = w.smtp.messages();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].contains("filename=\"morning-2026-03-29.csv\""),
        "{}",
        mails[0]
    );
    assert!(mails[0].contains("To: ops@example.com"), "{}", mails[0]);
    let slack = w.fake.received("slack");
    assert_eq!(slack.len(), 1);
    let text = slack[0].body["text"].as_str().unwrap();
    assert!(text.contains("Refunds queue breached 1"), "{text}");
    assert!(text.ends_with("http://opsdeck.test/reports"), "{text}");

    // Sent once; the next run is 07:00 the next day.
    let again = w
        .runner
        .run_due_once(t("2026-03-29T05:01:00Z"))
        .await
        .unwrap();
    assert_eq!(again, RunSummary::default());
    assert_eq!(w.smtp.messages().len(), 1);
    let status = &w.runner.statuses().await.unwrap()[0];
    assert_eq!(status.next_run, Some(t("2026-03-30T05:00:00Z")));
    let last = status.last_run.as_ref().unwrap();
    assert_eq!(last.status, RunStatus::Sent);
    assert_eq!(last.detail.as_deref(), Some("sent by email, slack"));
}

#[tokio::test]
async fn an_empty_digest_is_skipped_when_the_subscription_says_so() {
    let w = world(vec![]).await;
    w.runner
        .run_due_once(t("2026-03-29T04:30:00Z"))
        .await
        .unwrap();
    let due = w
        .runner
        .run_due_once(t("2026-03-29T05:00:30Z"))
        .await
        .unwrap();
    assert_eq!(due.skipped, ["morning"]);
    assert!(w.smtp.messages().is_empty());
    assert!(w.fake.received("slack").is_empty());
    let status = &w.runner.statuses().await.unwrap()[0];
    assert_eq!(status.last_run.as_ref().unwrap().status, RunStatus::Skipped);
}

#[tokio::test]
async fn a_refused_email_fails_the_run_and_tells_the_owner_on_telegram() {
    let w = world(vec![a_requested_return()]).await;
    w.runner
        .run_due_once(t("2026-03-29T04:30:00Z"))
        .await
        .unwrap();
    w.smtp.reject_next_mail(550);
    let due = w
        .runner
        .run_due_once(t("2026-03-29T05:00:30Z"))
        .await
        .unwrap();
    assert_eq!(due.failed.len(), 1);
    assert!(
        due.failed[0].1.starts_with("email: SMTP"),
        "{:?}",
        due.failed
    );
    let told = w.fake.received("telegram");
    assert_eq!(told.len(), 1);
    let text = told[0].body["text"].as_str().unwrap();
    assert!(
        text.starts_with("Report \"morning\" failed: email: SMTP"),
        "{text}"
    );
    let status = &w.runner.statuses().await.unwrap()[0];
    assert_eq!(status.last_run.as_ref().unwrap().status, RunStatus::Failed);
    // The next run still comes at its time.
    assert_eq!(status.next_run, Some(t("2026-03-30T05:00:00Z")));
}

#[tokio::test]
async fn slack_failing_twice_fails_the_run_and_the_owner_hears_by_email() {
    let w = world(vec![a_requested_return()]).await;
    let mut subscription = subscription();
    subscription.channels = vec![Channel::Slack];
    subscription.owner = Some(Owner {
        name: "admin".into(),
        channel: Channel::Email,
        email: Some("owner@example.com".into()),
    });
    let runner = ReportRunner {
        subscriptions: vec![subscription],
        ..w.runner
    };
    runner
        .run_due_once(t("2026-03-29T04:30:00Z"))
        .await
        .unwrap();
    w.fake.fail_next(
        "slack",
        &[
            opsdeck_alerts::testing::Fault::ServerError,
            opsdeck_alerts::testing::Fault::ServerError,
        ],
    );
    let due = runner
        .run_due_once(t("2026-03-29T05:00:30Z"))
        .await
        .unwrap();
    assert_eq!(due.failed.len(), 1, "{due:?}");
    assert!(
        due.failed[0].1.contains("Slack: HTTP 500"),
        "{:?}",
        due.failed
    );
    let mails = w.smtp.received();
    assert_eq!(mails.len(), 1);
    assert!(
        mails[0].data.contains("To: owner@example.com"),
        "{}",
        mails[0].data
    );
    assert_eq!(mails[0].subject(), "Report \"morning\" failed");
}
