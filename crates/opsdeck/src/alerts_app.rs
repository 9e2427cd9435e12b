//! Starting alerts in a running opsdeck: notifiers from `[notifiers.*]`,
//! the evaluator and sender behind the leader lease, the Telegram
//! acknowledge loop, incident escalation (its notices go through the same
//! outbox and sender), all supervised (`alert-runner`, `telegram-acks`,
//! `incident-escalation`, see [`crate::supervise`]) and stopped by the
//! application's stop signal.

use crate::app::Clock;
use crate::config::{AlertsConfig, Config};
use crate::supervise::{Policy, Supervisor};
use anyhow::Context;
use jiff::SignedDuration;
use opsdeck_alerts::leader::{process_name, Leader};
use opsdeck_alerts::notify::email::{EmailNotifier, SmtpConfig};
use opsdeck_alerts::notify::slack::SlackNotifier;
use opsdeck_alerts::notify::telegram::{self, TelegramNotifier, TelegramUpdates};
use opsdeck_alerts::notify::webhook::WebhookNotifier;
use opsdeck_alerts::notify::{http_client, Channel, Notifiers};
use opsdeck_alerts::outbox::Sender;
use opsdeck_alerts::payloads::{SlackMessage, TelegramMessage};
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::runner::{BrandWatch, Runner, StoreObservations};
use opsdeck_alerts::{hours::BusinessHours, AlertService, Evaluator};
use opsdeck_metrics::{Projection, SharedProjection};
use opsdeck_store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

fn telegram_config(t: &crate::config::alerts::TelegramConfig) -> telegram::TelegramConfig {
    telegram::TelegramConfig {
        base_url: t.base_url.clone(),
        bot_token: t.bot_token.clone(),
        chat_id: t.chat_id.clone(),
        message_thread_id: t.message_thread_id,
        allowed_user_ids: t.allowed_user_ids.clone(),
    }
}

/// The configured channels' notifiers.
pub fn notifiers(cfg: &AlertsConfig) -> Notifiers {
    let client = http_client(Duration::from_secs(10));
    let mut n = Notifiers::new();
    if let Some(s) = &cfg.slack {
        n = n.with(
            Channel::Slack,
            Arc::new(SlackNotifier::new(client.clone(), s.webhook_url.clone())),
        );
    }
    if let Some(t) = &cfg.telegram {
        n = n.with(
            Channel::Telegram,
            Arc::new(TelegramNotifier::new(client.clone(), telegram_config(t))),
        );
    }
    if let Some(w) = &cfg.webhook {
        let url = opsdeck_domain::Secret::new(w.url.clone());
        n = n.with(
            Channel::Webhook,
            Arc::new(WebhookNotifier::new(client, url, w.secret.clone())),
        );
    }
    if let Some(email) = email_notifier(cfg) {
        n = n.with(Channel::Email, email);
    }
    n
}

/// The `[notifiers.email]` notifier, also for messages with attachments
/// (scheduled reports).
pub fn email_notifier(cfg: &AlertsConfig) -> Option<Arc<EmailNotifier>> {
    cfg.email.as_ref().map(|e| {
        Arc::new(EmailNotifier::new(SmtpConfig {
            host: e.host.clone(),
            port: e.port,
            from: e.from.clone(),
            to: e.to.clone(),
            auth: e.auth.clone(),
            timeout: e.timeout,
            security: e.security,
            extra_roots: e.extra_roots.clone(),
        }))
    })
}

/// Each tier's channels: the tier's own (Slack, Telegram) plus the webhook
/// and email channels configured for it.
fn add_extra_channels(evaluator: &mut Evaluator, cfg: &AlertsConfig) {
    let extra = [
        (Channel::Webhook, cfg.webhook.as_ref().map(|w| &w.tiers)),
        (Channel::Email, cfg.email.as_ref().map(|e| &e.tiers)),
    ];
    for (channel, tiers) in extra {
        for &tier in tiers.into_iter().flatten() {
            evaluator
                .tier_channels
                .entry(tier)
                .or_default()
                .push(channel.clone());
        }
    }
}

/// Where links in messages point: the public URL, else the listen address.
pub(crate) fn dashboard_url(config: &Config) -> String {
    config
        .public_url
        .as_ref()
        .map(|u| u.to_string())
        .unwrap_or_else(|| format!("http://{}", config.listen))
}

/// Incidents over `store` with the configured severities; their notices go
/// to the channels that have a notifier (the others are named on the
/// incident's timeline as not configured).
pub fn incident_service(
    config: &Config,
    store: Arc<dyn Store>,
    clock: Clock,
) -> Arc<opsdeck_operations::incidents::IncidentService> {
    let configured: Vec<Channel> = notifiers(&config.alerts)
        .channels()
        .map(|(c, _)| c.clone())
        .collect();
    let mut service = opsdeck_operations::incidents::IncidentService::new(
        store,
        config.incidents.severities.clone(),
        clock,
        configured,
        dashboard_url(config),
    );
    service.status_name = config.incidents.status_page_name.clone();
    Arc::new(service)
}

/// The evaluator of the configured rules, routing each tier only to
/// channels that are configured: with no notifier at all alerts still open
/// and show (the pages say nothing will deliver them), rather than queueing
/// messages that can only expire.
fn evaluator(cfg: &AlertsConfig) -> Evaluator {
    let mut evaluator = Evaluator::new(cfg.rules.clone());
    add_extra_channels(&mut evaluator, cfg);
    let configured: Vec<Channel> = notifiers(cfg).channels().map(|(c, _)| c.clone()).collect();
    evaluator.deliver_only_to(&configured);
    evaluator
}

/// Where alerts can go, for the pages: the configured channels and the
/// tiers left with none.
pub fn delivery(cfg: &AlertsConfig) -> opsdeck_alerts::evaluate::Delivery {
    evaluator(cfg).delivery()
}

/// What each brand's conditions watch.
fn watches(config: &Config) -> Vec<BrandWatch> {
    config
        .brands
        .iter()
        .map(|b| {
            let shops: Vec<_> = config.shopify.iter().filter(|s| s.brand == b.id).collect();
            BrandWatch {
                brand: b.clone(),
                hours: config
                    .alerts
                    .business_hours
                    .get(b.id.as_str())
                    .cloned()
                    .unwrap_or_else(|| BusinessHours::always(b.time_zone.clone())),
                sources: shops.iter().map(|s| s.source.clone()).collect(),
                // Each resource against its own cadence (orders every 15
                // min, products hourly), as the tiles and /sources judge.
                cadences: config.cadences(),
            }
        })
        .collect()
}

/// Starts the alert runner (and the Telegram acknowledge loop when Telegram
/// is configured). `projection` is the dashboard's shared projection; when
/// `None` the runner builds and follows its own so the panel-backed rules
/// work either way. `changes` is notified by whoever follows the change
/// feed after applying new changes (see
/// [`opsdeck_metrics::follow_changes_notifying`]): it wakes the runner, so
/// an alert is evaluated right after the change that causes it rather than
/// at the next `[alerts] every` tick.
#[expect(
    clippy::too_many_arguments,
    reason = "incidents and approvals joined the alert runner's inputs in one merge; \
              bundling the operations services is left to the handover work that reads them all"
)]
pub async fn start_alerts(
    config: &Config,
    store: Arc<dyn Store>,
    projection: Option<SharedProjection>,
    changes: Arc<Notify>,
    clock: Clock,
    incidents: Arc<opsdeck_operations::incidents::IncidentService>,
    tasks: &mut Supervisor,
    approvals: Option<Arc<opsdeck_operations::approvals::Approvals>>,
) -> anyhow::Result<()> {
    let cfg = &config.alerts;
    let stop = tasks.stop_signal();
    let projection = match projection {
        Some(p) => p,
        None => {
            let p = Projection::build(
                store.as_ref(),
                config.brands.clone(),
                crate::app::projection_rules(config),
            )
            .await
            .context("cannot build the projection for alerts")?;
            let shared: SharedProjection = Arc::new(std::sync::RwLock::new(p));
            tasks.spawn("alerts-projection-follower", Policy::RESTART, {
                let (shared, store, changes, stop) =
                    (shared.clone(), store.clone(), changes.clone(), stop.clone());
                let wake = Arc::new(Notify::new());
                move || {
                    let run = opsdeck_metrics::follow_changes_notifying(
                        shared.clone(),
                        store.clone(),
                        Duration::from_secs(2),
                        wake.clone(),
                        Some(changes.clone()),
                        stop.clone(),
                    );
                    async move {
                        run.await;
                        Ok(())
                    }
                }
            });
            shared
        }
    };
    let panel_config = crate::app::panel_config(config);
    let name = process_name();
    let evaluator = evaluator(cfg);
    let dashboard_url = dashboard_url(config);
    let service = Arc::new(
        AlertService::new(
            store.clone(),
            evaluator,
            RenderConfig { dashboard_url },
            Default::default(),
            &name,
        )
        .with_clock(clock.clone()),
    );
    let source = StoreObservations {
        store: store.clone(),
        brands: watches(config),
        rules: cfg.rules.clone(),
        projection: Some((projection, panel_config)),
    };
    let lease = SignedDuration::try_from(cfg.lease).unwrap_or(SignedDuration::from_secs(30));
    let runner = Runner::new(
        service.clone(),
        Arc::new(source),
        Sender::new(store.clone(), notifiers(cfg), name.clone()),
        Leader::new(store.clone(), name, lease),
        cfg.every,
    )
    .woken_by(changes);
    let leading = runner.leading();
    // Incident notices fall due with time: the leader queues them each
    // `[alerts] every`, and the runner's sender delivers them.
    tasks.spawn("incident-escalation", Policy::RESTART, {
        let (leading, stop, every, clock) =
            (leading.clone(), stop.clone(), cfg.every, clock.clone());
        move || {
            let (incidents, leading, mut stop, clock) = (
                incidents.clone(),
                leading.clone(),
                stop.clone(),
                clock.clone(),
            );
            async move {
                loop {
                    if *leading.borrow() {
                        let report = incidents.escalate_once(clock()).await?;
                        if report.notices > 0 {
                            tracing::info!(
                                notices = report.notices,
                                messages = report.messages,
                                "incident notices queued"
                            );
                        }
                    }
                    tokio::select! {
                        _ = stop.wait_for(|s| *s) => return Ok(()),
                        _ = tokio::time::sleep(every) => {}
                    }
                }
            }
        }
    });
    let runner = Arc::new(runner);
    tasks.spawn("alert-runner", Policy::RESTART, {
        let stop = stop.clone();
        move || {
            let (runner, mut stop) = (runner.clone(), stop.clone());
            async move {
                runner
                    .run(async move {
                        let _ = stop.wait_for(|s| *s).await;
                    })
                    .await;
                Ok(())
            }
        }
    });
    if let Some(t) = &cfg.telegram {
        let telegram = telegram_config(t);
        // Approve / Reject presses come through the same loop.
        let buttons = approvals.map(|approvals| {
            Arc::new(opsdeck_operations::approvals::ApprovalButtons {
                approvals,
                linked_users: config.approvals.telegram_users.clone(),
            })
        });
        tasks.spawn("telegram-acks", Policy::RESTART, move || {
            // Long polls must outlive the 25 s poll timeout.
            let mut updates =
                TelegramUpdates::new(http_client(Duration::from_secs(40)), telegram.clone());
            if let Some(buttons) = &buttons {
                updates = updates.with_handler(buttons.clone());
            }
            let (service, leading, mut stop) = (service.clone(), leading.clone(), stop.clone());
            async move {
                opsdeck_alerts::telegram_acks::run(
                    &service,
                    updates,
                    Duration::from_secs(25),
                    leading,
                    async move {
                        let _ = stop.wait_for(|s| *s).await;
                    },
                )
                .await;
                Ok(())
            }
        });
    }
    Ok(())
}

/// The demo's stand-ins for Slack, Telegram and an SMTP relay; dropping
/// it stops them.
pub struct DemoReceivers {
    pub http: opsdeck_alerts::testing::FakeReceivers,
    pub smtp: opsdeck_alerts::testing::FakeSmtp,
    /// Prints each message as it arrives.
    pub printer: JoinHandle<()>,
}

/// Points `config`'s notifiers at fake Slack and Telegram receivers and a
/// fake SMTP relay (mailed for the top tier, as a merchant would set it up),
/// shortens pending periods for a demo, and prints what arrives.
pub async fn demo_receivers(config: &mut Config) -> anyhow::Result<DemoReceivers> {
    use crate::config::alerts::{EmailConfig, SlackConfig, TelegramConfig};
    use opsdeck_alerts::notify::email::SmtpSecurity;
    let fake = opsdeck_alerts::testing::FakeReceivers::start()
        .await
        .context("cannot start the fake Slack/Telegram receivers")?;
    let smtp = opsdeck_alerts::testing::FakeSmtp::start()
        .await
        .context("cannot start the fake SMTP relay")?;
    let a = &mut config.alerts;
    // A demo is watched for a minute or two: alerts fire 10 s after their
    // condition holds instead of the production 2 minutes.
    let rules: Vec<opsdeck_alerts::Rule> = a.rules.all().to_vec();
    for mut rule in rules {
        rule.timing.pending_for = SignedDuration::from_secs(10);
        a.rules.upsert(rule);
    }
    a.slack = Some(SlackConfig {
        webhook_url: opsdeck_domain::Secret::new(fake.slack_url()),
    });
    a.telegram = Some(TelegramConfig {
        base_url: fake.telegram_base_url(),
        bot_token: opsdeck_domain::Secret::new("demo:token"),
        // Numeric, as Telegram's are: presses are accepted from this chat only.
        chat_id: "-1000000000001".into(),
        message_thread_id: None,
        allowed_user_ids: Vec::new(),
    });
    a.email = Some(EmailConfig {
        host: "127.0.0.1".into(),
        port: smtp.port,
        security: SmtpSecurity::None,
        from: "opsdeck-demo@example.com".into(),
        to: vec!["owner@example.com".into()],
        auth: None,
        extra_roots: Vec::new(),
        timeout: Duration::from_secs(10),
        tiers: vec![opsdeck_alerts::Tier::TelegramAndSlack],
    });
    let shared = fake.clone_handle();
    let press_url = fake.press_url();
    let mail = smtp.clone_handle();
    let printer = tokio::spawn(async move {
        let (mut seen, mut mailed) = (0, 0);
        loop {
            let all = shared.received_all();
            for r in all.iter().skip(seen) {
                let title = match Channel::parse(&r.channel) {
                    Channel::Slack => serde_json::from_value::<SlackMessage>(r.body.clone())
                        .ok()
                        .and_then(|m| m.header().map(str::to_string))
                        .unwrap_or_default(),
                    Channel::Telegram => telegram_message(&r.body)
                        .map(|m| {
                            let first = m.text.lines().next().unwrap_or("");
                            first.replace("<b>", "").replace("</b>", "")
                        })
                        .unwrap_or_default(),
                    other => other.to_string(),
                };
                println!("  [fake {}] {title}", r.channel);
                for (label, data) in telegram_buttons(&r.body) {
                    println!("    {label}: curl -X POST '{press_url}?data={data}'");
                }
            }
            seen = all.len();
            let messages = mail.received();
            for m in messages.iter().skip(mailed) {
                println!("  [fake email] {}", m.subject());
            }
            mailed = messages.len();
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
    Ok(DemoReceivers {
        http: fake,
        smtp,
        printer,
    })
}

/// The label and `callback_data` of each inline button of a Telegram
/// message (the demo prints how to press them; the bot's acknowledge loop
/// does the rest).
fn telegram_buttons(body: &serde_json::Value) -> Vec<(String, String)> {
    telegram_message(body)
        .iter()
        .flat_map(TelegramMessage::buttons)
        .map(|b| (b.text.clone(), b.callback_data.clone()))
        .collect()
}

/// A message the fake Telegram received, read as the renderer built it.
fn telegram_message(body: &serde_json::Value) -> Option<TelegramMessage> {
    serde_json::from_value(body.clone()).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_finds_every_button_of_a_telegram_message() {
        let body = serde_json::json!({"text": "x", "reply_markup": {"inline_keyboard": [
            [{"text": "Acknowledge #1", "callback_data": "ack:A1"}],
            [{"text": "Acknowledge #2", "callback_data": "ack:A2"}],
        ]}});
        let buttons = telegram_buttons(&body);
        assert_eq!(
            buttons[0],
            ("Acknowledge #1".to_string(), "ack:A1".to_string())
        );
        assert_eq!(buttons[1].1, "ack:A2");
        assert!(telegram_buttons(&serde_json::json!({"text": "resolved"})).is_empty());
    }
    use crate::config::{parse_config, SecretSource};
    use opsdeck_alerts::Tier;

    struct Env;

    impl SecretSource for Env {
        fn env(&self, name: &str) -> Option<String> {
            (name == "HOOK_KEY").then(|| "k".to_string())
        }
        fn file(&self, _: &std::path::Path) -> std::io::Result<String> {
            Err(std::io::Error::other("no files"))
        }
    }

    #[test]
    fn webhook_and_email_join_only_the_tiers_they_list() {
        let config = parse_config(
            r#"
[[brands]]
id = "mavena"
name = "Mavena"
kind = "standard"
time_zone = "America/New_York"
currency = "USD"
[notifiers.webhook]
url = "https://example.com/hook"
secret_env = "HOOK_KEY"
[notifiers.email]
host = "smtp.example.com"
from = "a@example.com"
to = ["b@example.com"]
tiers = ["telegram_and_slack"]
"#,
            &Env,
        )
        .unwrap();
        let mut evaluator = Evaluator::new(config.alerts.rules.clone());
        add_extra_channels(&mut evaluator, &config.alerts);
        assert_eq!(
            evaluator.tier_channels[&Tier::Slack],
            [Channel::Slack, Channel::Webhook]
        );
        assert_eq!(
            evaluator.tier_channels[&Tier::Telegram],
            [Channel::Telegram, Channel::Webhook]
        );
        assert_eq!(
            evaluator.tier_channels[&Tier::TelegramAndSlack],
            [
                Channel::Telegram,
                Channel::Slack,
                Channel::Webhook,
                Channel::Email
            ]
        );
        let channels: Vec<Channel> = notifiers(&config.alerts)
            .channels()
            .map(|(c, _)| c.clone())
            .collect();
        assert!(channels.contains(&Channel::Email), "{channels:?}");
    }
}
