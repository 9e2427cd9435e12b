//! An incident notice as each channel is sent it. The payload shapes are
//! the alert messages' own ([`opsdeck_alerts::payloads`]): the payload is
//! queued in the alert outbox and the configured notifiers send it as they
//! send an alert (the notifier adds the destination; no secret is stored).
//! No amount of money is ever part of an incident notice.

use super::escalation::{Notice, NoticeKind};
use super::lifecycle::Incident;
use super::severity::{duration_in_words, SeverityPolicy};
use jiff::Timestamp;
use opsdeck_alerts::payloads::{SlackBlock, SlackButton, SlackMessage, SlackText, TelegramMessage};
use opsdeck_alerts::render::{html_escape, slack_escape};
use opsdeck_store::alerts::Channel;
use serde_json::{json, Value};

/// "CRITICAL incident #4: Checkout down (triage)" and what it asks.
fn headline(incident: &Incident, notice: &Notice) -> String {
    let what = match notice.kind {
        NoticeKind::Declared => "declared",
        NoticeKind::Escalation { .. } => "NOT ACKNOWLEDGED",
    };
    format!(
        "{} incident #{} {what}: {}",
        incident.severity.as_str().to_uppercase(),
        incident.id,
        incident.title
    )
}

fn detail(incident: &Incident, notice: &Notice, policy: &SeverityPolicy, now: Timestamp) -> String {
    let target = policy.target_in_words();
    let mut lines = vec![
        format!("For: {}", notice.notify.join(", ")),
        format!("Status: {} · response target: {target}", incident.state),
    ];
    if let Some(brand) = &incident.brand {
        lines.push(format!("Brand: {brand}"));
    }
    if let NoticeKind::Escalation { step, repeat } = notice.kind {
        let late = now.duration_since(incident.response_due(policy));
        lines.push(format!(
            "Escalation step {} (notice {}): response target passed {} ago",
            step + 1,
            repeat + 1,
            duration_in_words(late, "just now")
        ));
    }
    lines.join("\n")
}

/// The payload for `channel`; `None` for a channel this version cannot
/// render (`Other`).
pub fn render(
    channel: &Channel,
    incident: &Incident,
    notice: &Notice,
    policy: &SeverityPolicy,
    dashboard_url: &str,
    now: Timestamp,
) -> Option<Value> {
    let link = format!(
        "{}/incidents/{}",
        dashboard_url.trim_end_matches('/'),
        incident.id
    );
    let title = headline(incident, notice);
    let body = detail(incident, notice, policy, now);
    Some(match channel {
        Channel::Slack => {
            let mut header: String = title.chars().take(150).collect();
            if header.is_empty() {
                header.push('-');
            }
            let message = SlackMessage {
                text: title.clone(),
                blocks: vec![
                    SlackBlock::Header {
                        text: SlackText::PlainText {
                            text: header,
                            emoji: Some(true),
                        },
                    },
                    SlackBlock::Section {
                        text: SlackText::Mrkdwn {
                            text: slack_escape(&body).chars().take(2900).collect(),
                        },
                        fields: vec![],
                    },
                    SlackBlock::Actions {
                        elements: vec![SlackButton {
                            text: SlackText::PlainText {
                                text: "Open incident".into(),
                                emoji: None,
                            },
                            url: link,
                            action_id: "open_incident".into(),
                        }],
                    },
                ],
            };
            serde_json::to_value(message).expect("a Slack message serializes")
        }
        Channel::Telegram => {
            let message = TelegramMessage {
                text: format!(
                    "<b>{}</b>\n{}\n<a href=\"{}\">Open incident</a>",
                    html_escape(&title),
                    html_escape(&body),
                    html_escape(&link)
                ),
                parse_mode: "HTML".into(),
                reply_markup: None,
            };
            serde_json::to_value(message).expect("a Telegram message serializes")
        }
        Channel::Email => {
            json!({ "subject": title, "text": format!("{title}\n\n{body}\n\n{link}\n") })
        }
        Channel::Webhook => json!({
            "event": "incident.notice",
            "notice": notice.key,
            "incident": {
                "id": incident.id,
                "title": incident.title,
                "severity": incident.severity,
                "state": incident.state,
                "brand": incident.brand,
                "declared_at": incident.declared_at,
                "url": link,
            },
            "notify": notice.notify,
        }),
        Channel::Other(_) => return None,
    })
}
