//! Telling approvers, with buttons, through the alert outbox (so a
//! channel that is down is retried, as for an alert): a Slack message whose Approve and
//! Reject buttons open the request on the dashboard (where the comment is
//! typed), and a Telegram message whose inline buttons come back through
//! the alerts' one `getUpdates` loop ([`ApprovalButtons`] is its handler
//! for `apv:` presses: the same chat and user check as Acknowledge).
//!
//! Amounts are never in these messages: a channel's members are not known
//! to hold the revenue permission; the dashboard shows the amount to
//! those who do.

use super::{ApprovalError, Approvals, Decider};
use async_trait::async_trait;
use opsdeck_alerts::notify::telegram::{ButtonPress, PressHandler};
use opsdeck_alerts::notify::{Channel, Notifiers};
use opsdeck_alerts::payloads::{
    InlineButton, InlineKeyboard, SlackBlock, SlackButton, SlackMessage, SlackText, TelegramMessage,
};
use opsdeck_alerts::render::{html_escape, slack_escape};
use opsdeck_store::alerts::NewNotification;
use opsdeck_store::{Approval, AuditAction, AuditEntry, RunOutcome};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// The `callback_data` prefix of approval buttons: `apv:<id>:a` approves,
/// `apv:<id>:r` rejects (well under Telegram's 64 bytes).
pub const PRESS_PREFIX: &str = "apv:";

/// Where new requests are announced: the configured Slack and Telegram
/// channels. The notices are queued in the alert outbox with the request
/// (one transaction), and the alerts' sender delivers them, retrying a
/// channel that fails with its backoff until the request expires, as it
/// does an alert.
#[derive(Clone)]
pub struct ApprovalNotices {
    /// The channels configured (others are skipped).
    pub channels: Vec<Channel>,
    /// The dashboard's public URL, for the links.
    pub dashboard_url: String,
}

fn link(dashboard_url: &str, approval: &Approval, decision: Option<&str>) -> String {
    let base = format!(
        "{}/approvals/{}",
        dashboard_url.trim_end_matches('/'),
        approval.id
    );
    match decision {
        Some(d) => format!("{base}?decision={d}"),
        None => base,
    }
}

fn headline(a: &Approval) -> String {
    format!("Approval needed: {} for {}", a.kind.label(), a.brand)
}

/// The Slack message for a new request, with Approve and Reject buttons.
pub fn slack_message(a: &Approval, dashboard_url: &str) -> SlackMessage {
    let mrkdwn = |text: String| SlackText::Mrkdwn { text };
    let button = |label: &str, decision: &str| SlackButton {
        text: SlackText::PlainText {
            text: label.into(),
            emoji: None,
        },
        url: link(dashboard_url, a, Some(decision)),
        action_id: format!("approval_{decision}"),
    };
    SlackMessage {
        text: headline(a),
        blocks: vec![
            SlackBlock::Header {
                text: SlackText::PlainText {
                    text: headline(a),
                    emoji: Some(true),
                },
            },
            SlackBlock::Section {
                text: mrkdwn(slack_escape(&a.summary)),
                fields: vec![
                    mrkdwn(format!("*Requested by*\n{}", slack_escape(&a.requested_by))),
                    mrkdwn(format!("*Decides*\n{}", slack_escape(&a.approver_role))),
                    mrkdwn(format!(
                        "*Expires*\n{}",
                        a.expires_at.strftime("%Y-%m-%d %H:%M UTC")
                    )),
                ],
            },
            SlackBlock::Actions {
                elements: vec![button("Approve", "approve"), button("Reject", "reject")],
            },
        ],
    }
}

/// The Telegram message for a new request, with inline Approve and
/// Reject buttons.
pub fn telegram_message(a: &Approval, dashboard_url: &str) -> TelegramMessage {
    let text = format!(
        "<b>{}</b>\n{}\nRequested by {} · decides: {} · expires {}\n<a href=\"{}\">Open on the dashboard</a>",
        html_escape(&headline(a)),
        html_escape(&a.summary),
        html_escape(&a.requested_by),
        html_escape(&a.approver_role),
        a.expires_at.strftime("%Y-%m-%d %H:%M UTC"),
        html_escape(&link(dashboard_url, a, None)),
    );
    TelegramMessage {
        text,
        parse_mode: "HTML".into(),
        reply_markup: Some(InlineKeyboard {
            inline_keyboard: vec![vec![
                InlineButton {
                    text: "Approve".into(),
                    callback_data: format!("{PRESS_PREFIX}{}:a", a.id),
                },
                InlineButton {
                    text: "Reject".into(),
                    callback_data: format!("{PRESS_PREFIX}{}:r", a.id),
                },
            ]],
        }),
    }
}

impl ApprovalNotices {
    /// The configured channels of `notifiers` that carry approval notices.
    pub fn of(notifiers: &Notifiers, dashboard_url: impl Into<String>) -> Self {
        let mut channels: Vec<Channel> = notifiers
            .channels()
            .map(|(c, _)| c.clone())
            .filter(|c| matches!(c, Channel::Slack | Channel::Telegram))
            .collect();
        channels.sort_by_key(|c| c.as_str().to_string());
        ApprovalNotices {
            channels,
            dashboard_url: dashboard_url.into(),
        }
    }

    /// The outbox rows announcing `a` on each channel, each kept until the
    /// request expires (a notice after that asks for nothing).
    pub fn notices(&self, a: &Approval, now: opsdeck_domain::Timestamp) -> Vec<NewNotification> {
        self.channels
            .iter()
            .filter_map(|channel| {
                let payload = match channel {
                    Channel::Slack => serde_json::to_value(slack_message(a, &self.dashboard_url)),
                    Channel::Telegram => {
                        serde_json::to_value(telegram_message(a, &self.dashboard_url))
                    }
                    _ => return None,
                }
                .ok()?;
                Some(NewNotification {
                    id: format!("approval-{}-{}", a.id, channel.as_str()),
                    channel: channel.clone(),
                    payload,
                    episode_ids: Vec::new(),
                    created_at: now,
                    expires_at: a.expires_at,
                })
            })
            .collect()
    }
}

/// Handles Telegram presses of approval buttons. A press decides as the
/// opsdeck account linked to the presser's Telegram user id (configured),
/// with that account's role; the comment says it was the button.
pub struct ApprovalButtons {
    pub approvals: Arc<Approvals>,
    /// Telegram user id → opsdeck username.
    pub linked_users: HashMap<i64, String>,
}

impl ApprovalButtons {
    async fn refused(&self, id: &str, press: &ButtonPress, reason: &str) -> String {
        let audit = AuditEntry {
            at: self.approvals.now(),
            actor: press.by.clone(),
            action: AuditAction::ApprovalDecisionRefused,
            subject: format!("approval:{id}"),
            payload: json!({
                "reason": reason,
                "via": "telegram",
                "telegram_user_id": press.user_id,
                "telegram_chat_id": press.chat.as_ref().map(|c| c.id),
            }),
            ip: None,
        };
        if let Err(e) = self.approvals.store().record_audit(&audit).await {
            tracing::error!(error = %e, "could not audit a refused Telegram approval press");
        }
        reason.to_string()
    }
}

#[async_trait]
impl PressHandler for ApprovalButtons {
    fn prefix(&self) -> &'static str {
        PRESS_PREFIX
    }

    async fn handle(&self, press: &ButtonPress, refused: Option<&'static str>) -> String {
        let rest = press.data.strip_prefix(PRESS_PREFIX).unwrap_or_default();
        let (id, approve) = match rest.rsplit_once(':') {
            Some((id, "a")) => (id, true),
            Some((id, "r")) => (id, false),
            _ => return "Unknown button".into(),
        };
        if let Some(reason) = refused {
            return self.refused(id, press, reason).await;
        }
        let Some(username) = press.user_id.and_then(|u| self.linked_users.get(&u)) else {
            return self
                .refused(
                    id,
                    press,
                    "Refused: your Telegram account is not linked to an opsdeck user",
                )
                .await;
        };
        let user = match self.approvals.store().user_credentials(username).await {
            Ok(Some((user, _))) if user.disabled_at.is_none() => user,
            Ok(_) => {
                return self
                    .refused(
                        id,
                        press,
                        "Refused: your opsdeck account is disabled or gone",
                    )
                    .await
            }
            Err(e) => {
                tracing::error!(error = %e, "user lookup for a Telegram approval press failed");
                return "Could not decide; try again".into();
            }
        };
        let decider = Decider {
            username: user.username.clone(),
            role: user.role,
            via: "telegram",
            ip: None,
        };
        let comment = format!(
            "{} with the Telegram button by {}",
            if approve { "Approved" } else { "Rejected" },
            press.by
        );
        match self.approvals.decide(id, &decider, approve, &comment).await {
            Ok(decided) => match decided.run {
                Some(RunOutcome::Executed { .. }) => "Approved and done".into(),
                Some(RunOutcome::Failed { reason }) => {
                    format!("Approved, but the action failed: {reason}")
                }
                None if approve => "Approved".into(),
                None => "Rejected".into(),
            },
            Err(ApprovalError::Store(e)) => {
                tracing::error!(error = %e, "approval from Telegram failed");
                "Could not decide; try again".into()
            }
            Err(e) => format!("Refused: {e}"),
        }
    }
}
