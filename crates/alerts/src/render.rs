//! Turning a [`Notification`] into what each channel is sent.
//!
//! The rendered payload is what the outbox stores: everything but the
//! destination (webhook URL, bot token, chat id), which the notifier adds
//! from configuration at send time, so no secret reaches the database.
//! Every interpolated string is escaped for its channel: Slack mrkdwn and
//! Telegram HTML both treat `<`, `>` and `&` as markup.

use crate::evaluate::{Alert, NoticeKind, Notification};
use crate::notify::Channel;
use crate::payloads::{
    InlineButton, InlineKeyboard, SlackBlock, SlackButton, SlackMessage, SlackText, TelegramMessage,
};
use crate::rules::Severity;
use serde_json::{json, Value};

/// At most this many alerts are listed in one message; the rest are
/// summarised ("and 3 more"), keeping Slack under 50 blocks.
pub const MAX_LISTED: usize = 10;

/// Telegram refuses a text longer than this ("message is too long"),
/// counted in UTF-16 code units after the HTML is parsed; alerts that would
/// pass it are summarised instead of listed.
pub const TELEGRAM_MAX_TEXT: usize = 4096;
/// Block Kit refuses a section text over 3000 characters and a field over
/// 2000 (`invalid_blocks`); longer texts are cut with an ellipsis.
const SLACK_SECTION_MAX: usize = 3000;
const SLACK_FIELD_MAX: usize = 2000;

/// Where links point: the dashboard's public base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderConfig {
    pub dashboard_url: String,
}

impl RenderConfig {
    fn link(&self, path: &str) -> String {
        format!("{}{}", self.dashboard_url.trim_end_matches('/'), path)
    }
}

/// The payload for a channel of kind `kind`; `None` for a channel this
/// version cannot render (`Other`).
pub fn render(kind: &Channel, n: &Notification, cfg: &RenderConfig) -> Option<Value> {
    Some(match kind {
        Channel::Slack => slack(n, cfg),
        Channel::Telegram => telegram(n, cfg),
        Channel::Email => email(n, cfg),
        Channel::Webhook => webhook(n, cfg),
        Channel::Other(_) => return None,
    })
}

fn headline(n: &Notification) -> String {
    let severity = n
        .alerts
        .iter()
        .map(|a| &a.severity)
        .max()
        .cloned()
        .unwrap_or(Severity::Warning);
    // Alerts of one rule read as a group reads on /alerts: "Unfulfilled
    // order stale · 14 orders".
    let what = match n.alerts.as_slice() {
        [one] => one.rule_name.clone(),
        [first, ..] if n.alerts.iter().all(|a| a.rule == first.rule) => format!(
            "{} · {}",
            first.rule_name,
            crate::actions::members_in_words(&first.subject, n.alerts.len())
        ),
        many => format!("{} alerts", many.len()),
    };
    let kind = match n.kind {
        NoticeKind::Firing => "",
        NoticeKind::Repeat => " (still firing)",
        NoticeKind::Escalated => " (escalated: not acknowledged)",
        NoticeKind::Resolved => " resolved",
    };
    let level = match (n.kind, severity) {
        (NoticeKind::Resolved, _) => "RESOLVED",
        (_, Severity::Critical) => "CRITICAL",
        // An alert never has an unknown severity unless a newer version
        // stored it; it reads as a warning.
        (_, Severity::Warning | Severity::Other(_)) => "WARNING",
    };
    format!("{level} · {}: {what}{kind}", n.brand)
}

fn figure(f: &Option<crate::observation::Figure>) -> String {
    f.as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_else(|| "—".into())
}

/// The alerts a grouped message lists (at most [`MAX_LISTED`]) and how many
/// it leaves out. Each rule's first alert comes before any rule's second,
/// so 25 low-stock variants cannot hide the one stale order grouped with
/// them; within that, the group's own order is kept.
fn listed(n: &Notification) -> (Vec<&Alert>, usize) {
    let mut seen_rules: Vec<&str> = Vec::new();
    let (mut firsts, mut rest): (Vec<&Alert>, Vec<&Alert>) = (Vec::new(), Vec::new());
    for a in &n.alerts {
        if seen_rules.contains(&a.rule.as_str()) {
            rest.push(a);
        } else {
            seen_rules.push(&a.rule);
            firsts.push(a);
        }
    }
    let mut shown: Vec<&Alert> = firsts.into_iter().chain(rest).collect();
    shown.truncate(MAX_LISTED);
    let more = n.alerts.len() - shown.len();
    (shown, more)
}

/// Escapes text for Slack mrkdwn (`&`, `<`, `>`).
pub fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Escapes text for Telegram's HTML parse mode: `&`, `<`, `>`, and `"`
/// for the text that goes inside an `href="…"`.
pub fn html_escape(s: &str) -> String {
    slack_escape(s).replace('"', "&quot;")
}

/// `s` cut to `max` characters, the last being `…`, when longer.
fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Escaped text cut to `max` characters like [`clip`], never inside an
/// entity (`&am…` would be refused or shown raw).
fn clip_escaped(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    if let Some(amp) = out.rfind('&') {
        if !out[amp..].contains(';') {
            out.truncate(amp);
        }
    }
    out.push('…');
    out
}

/// The length Telegram counts for a text in its HTML mode: UTF-16 code
/// units of what is shown, tags left out and each entity one character.
pub fn telegram_visible_len(html: &str) -> usize {
    let mut len = 0;
    let mut chars = html.chars();
    while let Some(c) = chars.next() {
        match c {
            '<' => {
                for t in chars.by_ref() {
                    if t == '>' {
                        break;
                    }
                }
            }
            '&' => {
                for t in chars.by_ref() {
                    if t == ';' {
                        break;
                    }
                }
                len += 1;
            }
            c => len += c.len_utf16(),
        }
    }
    len
}

fn slack(n: &Notification, cfg: &RenderConfig) -> Value {
    let title = headline(n);
    let mut header = clip(&title, 150);
    if header.is_empty() {
        header.push('-');
    }
    let mut blocks = vec![SlackBlock::Header {
        text: SlackText::PlainText {
            text: header,
            emoji: Some(true),
        },
    }];
    let (shown, more) = listed(n);
    for a in &shown {
        blocks.push(SlackBlock::Section {
            text: SlackText::Mrkdwn {
                text: clip_escaped(
                    &format!(
                        "*{}* — {}\n{}",
                        slack_escape(&a.rule_name),
                        slack_escape(&a.subject),
                        slack_escape(&a.why)
                    ),
                    SLACK_SECTION_MAX,
                ),
            },
            fields: vec![
                slack_field("Value", &figure(&a.value)),
                slack_field("Baseline", &figure(&a.baseline)),
                slack_field("Threshold", &figure(&a.threshold)),
                slack_field("Severity", a.severity.as_str()),
            ],
        });
    }
    if more > 0 {
        blocks.push(SlackBlock::Context {
            elements: vec![SlackText::Mrkdwn {
                text: format!("and {more} more"),
            }],
        });
    }
    let path = n
        .alerts
        .first()
        .map(|a| a.dashboard_path.as_str())
        .unwrap_or("/");
    blocks.push(SlackBlock::Actions {
        elements: vec![SlackButton {
            text: SlackText::PlainText {
                text: "Open dashboard".into(),
                emoji: None,
            },
            url: cfg.link(path),
            action_id: "open_dashboard".into(),
        }],
    });
    let fallback = match n.alerts.as_slice() {
        [one] => format!("{title}: {}", one.why),
        _ => title,
    };
    payload(&SlackMessage {
        text: fallback,
        blocks,
    })
}

/// A typed message as the JSON the outbox stores.
fn payload(message: &impl serde::Serialize) -> Value {
    serde_json::to_value(message).expect("rendered messages serialize")
}

/// One Block Kit field, `*Name*` over its value, within the field limit.
fn slack_field(name: &str, value: &str) -> SlackText {
    SlackText::Mrkdwn {
        text: clip_escaped(
            &format!("*{name}*\n{}", slack_escape(value)),
            SLACK_FIELD_MAX,
        ),
    }
}

/// One alert's part of a Telegram message, its texts cut so that any one
/// alert fits a message with room to spare.
fn telegram_alert(a: &Alert, cfg: &RenderConfig) -> String {
    format!(
        "\n<b>{}</b> — {}\n{}\nValue: {} · Baseline: {} · Threshold: {}\n<a href=\"{}\">Open dashboard</a>\n",
        html_escape(&clip(&a.rule_name, 200)),
        html_escape(&clip(&a.subject, 300)),
        html_escape(&clip(&a.why, 1500)),
        html_escape(&clip(&figure(&a.value), 100)),
        html_escape(&clip(&figure(&a.baseline), 100)),
        html_escape(&clip(&figure(&a.threshold), 100)),
        html_escape(&cfg.link(&a.dashboard_path)),
    )
}

fn telegram(n: &Notification, cfg: &RenderConfig) -> Value {
    let mut text = format!("<b>{}</b>\n", html_escape(&clip(&headline(n), 300)));
    let (mut shown, mut more) = listed(n);
    let summary = |more: usize| {
        if more > 0 {
            format!("\nand {more} more\n")
        } else {
            String::new()
        }
    };
    // List alerts while the text, with its "and N more", fits Telegram's
    // limit; the first always fits (its texts are cut above).
    let mut listed_count = 0;
    for a in &shown {
        let part = telegram_alert(a, cfg);
        let rest = more + shown.len() - listed_count - 1;
        let candidate = format!("{text}{part}");
        if listed_count > 0
            && telegram_visible_len(&candidate) + telegram_visible_len(&summary(rest))
                > TELEGRAM_MAX_TEXT
        {
            break;
        }
        text = candidate;
        listed_count += 1;
    }
    more += shown.len() - listed_count;
    shown.truncate(listed_count);
    text.push_str(&summary(more));
    let mut message = TelegramMessage {
        text,
        parse_mode: "HTML".into(),
        reply_markup: None,
    };
    if n.kind != NoticeKind::Resolved {
        let buttons: Vec<Vec<InlineButton>> = shown
            .iter()
            .filter_map(|a| a.episode_id.as_ref().map(|id| (a, id)))
            .map(|(a, id)| {
                let label = if shown.len() == 1 {
                    "Acknowledge".to_string()
                } else {
                    format!("Acknowledge {}", clip(&a.subject, 60))
                };
                vec![InlineButton {
                    text: label,
                    callback_data: format!("ack:{id}"),
                }]
            })
            .collect();
        if !buttons.is_empty() {
            message.reply_markup = Some(InlineKeyboard {
                inline_keyboard: buttons,
            });
        }
    }
    payload(&message)
}

fn email(n: &Notification, cfg: &RenderConfig) -> Value {
    let mut body = format!("{}\n", headline(n));
    for a in &n.alerts {
        body.push_str(&format!(
            "\n{} — {}\n{}\nValue: {}  Baseline: {}  Threshold: {}\n{}\n",
            a.rule_name,
            a.subject,
            a.why,
            figure(&a.value),
            figure(&a.baseline),
            figure(&a.threshold),
            cfg.link(&a.dashboard_path)
        ));
    }
    json!({"subject": headline(n), "text": body})
}

fn webhook(n: &Notification, cfg: &RenderConfig) -> Value {
    let alerts: Vec<Value> = n
        .alerts
        .iter()
        .map(|a| {
            json!({
                "episode_id": a.episode_id,
                "rule": a.rule,
                "rule_name": a.rule_name,
                "brand": a.brand,
                "subject": a.subject,
                "severity": a.severity,
                "state": a.phase,
                "value": a.value,
                "baseline": a.baseline,
                "threshold": a.threshold,
                "why": a.why,
                "dashboard_url": cfg.link(&a.dashboard_path),
            })
        })
        .collect();
    json!({
        "notification_id": n.id,
        "kind": n.kind,
        "brand": n.brand,
        "tier": n.tier,
        "title": headline(n),
        "alerts": alerts,
    })
}

#[cfg(test)]
#[path = "render_tests.rs"]
mod tests;
