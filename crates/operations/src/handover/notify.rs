//! The "handover not acknowledged" notice as each channel is sent it, in
//! the alert messages' own payload shapes (like an incident notice): it is
//! queued in the alert outbox and the configured notifiers deliver it. It
//! names the region's leads it is for, the shift and who submitted it; it
//! carries no money and none of the note's text.

use super::{HandoverNote, ShiftPolicy};
use jiff::Timestamp;
use opsdeck_alerts::payloads::{SlackBlock, SlackButton, SlackMessage, SlackText, TelegramMessage};
use opsdeck_alerts::render::{html_escape, slack_escape};
use opsdeck_store::alerts::Channel;
use serde_json::{json, Value};

/// The payload for `channel`; `None` for a channel this version cannot
/// render (`Other`).
pub(super) fn render(
    channel: &Channel,
    note: &HandoverNote,
    leads: &[String],
    policy: &ShiftPolicy,
    dashboard_url: &str,
    now: Timestamp,
) -> Option<Value> {
    let link = format!(
        "{}/handovers/{}",
        dashboard_url.trim_end_matches('/'),
        note.id
    );
    let title = format!(
        "Handover #{} for region {} NOT ACKNOWLEDGED",
        note.id, note.region
    );
    let for_whom = if leads.is_empty() {
        "the region has no lead configured".to_string()
    } else {
        leads.join(", ")
    };
    let late = note
        .ack_due(policy)
        .map(|due| now.duration_since(due).as_secs() / 60)
        .unwrap_or(0);
    let body = format!(
        "For: {for_whom}\nSubmitted by {} at {}; acknowledgement was due {} min ago.",
        note.submitted_by.as_deref().unwrap_or("?"),
        note.submitted_at
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string())
            .unwrap_or_default(),
        late
    );
    Some(match channel {
        Channel::Slack => {
            let message = SlackMessage {
                text: title.clone(),
                blocks: vec![
                    SlackBlock::Header {
                        text: SlackText::PlainText {
                            text: title.chars().take(150).collect(),
                            emoji: Some(true),
                        },
                    },
                    SlackBlock::Section {
                        text: SlackText::Mrkdwn {
                            text: slack_escape(&body),
                        },
                        fields: vec![],
                    },
                    SlackBlock::Actions {
                        elements: vec![SlackButton {
                            text: SlackText::PlainText {
                                text: "Open handover".into(),
                                emoji: None,
                            },
                            url: link,
                            action_id: "open_handover".into(),
                        }],
                    },
                ],
            };
            serde_json::to_value(message).ok()?
        }
        Channel::Telegram => {
            let message = TelegramMessage {
                text: format!(
                    "<b>{}</b>\n{}\n<a href=\"{}\">Open handover</a>",
                    html_escape(&title),
                    html_escape(&body),
                    html_escape(&link)
                ),
                parse_mode: "HTML".into(),
                reply_markup: None,
            };
            serde_json::to_value(message).ok()?
        }
        Channel::Email => {
            json!({ "subject": title, "text": format!("{title}\n\n{body}\n\n{link}\n") })
        }
        Channel::Webhook => json!({
            "event": "handover.unacknowledged",
            "handover": {
                "id": note.id,
                "region": note.region,
                "shift_start": note.shift.start,
                "shift_end": note.shift.end,
                "submitted_by": note.submitted_by,
                "submitted_at": note.submitted_at,
                "url": link,
            },
            "notify": leads,
        }),
        Channel::Other(_) => return None,
    })
}
