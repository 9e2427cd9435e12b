//! Turning a [`Notification`] into what each channel is sent.
//!
//! The rendered payload is what the outbox stores: everything but the
//! destination (webhook URL, bot token, chat id), which the notifier adds
//! from configuration at send time, so no secret reaches the database.
//! Every interpolated string is escaped for its channel: Slack mrkdwn and
//! Telegram HTML both treat `<`, `>` and `&` as markup.

use crate::evaluate::{Alert, NoticeKind, Notification};
use crate::rules::Severity;
use serde_json::{json, Value};

/// At most this many alerts are listed in one message; the rest are
/// summarised ("and 3 more"), keeping Slack under 50 blocks and Telegram
/// under 4096 characters.
pub const MAX_LISTED: usize = 10;

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

/// The payload for a channel kind (`slack`, `telegram`, `email`,
/// `webhook`); `None` for an unknown kind.
pub fn render(kind: &str, n: &Notification, cfg: &RenderConfig) -> Option<Value> {
    Some(match kind {
        "slack" => slack(n, cfg),
        "telegram" => telegram(n, cfg),
        "email" => email(n, cfg),
        "webhook" => webhook(n, cfg),
        _ => return None,
    })
}

fn headline(n: &Notification) -> String {
    let severity = n
        .alerts
        .iter()
        .map(|a| a.severity)
        .max()
        .unwrap_or(Severity::Warning);
    let what = match n.alerts.as_slice() {
        [one] => one.rule_name.clone(),
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
        (_, Severity::Warning) => "WARNING",
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

/// Escapes text for Telegram's HTML parse mode.
pub fn html_escape(s: &str) -> String {
    slack_escape(s)
}

fn slack(n: &Notification, cfg: &RenderConfig) -> Value {
    let title = headline(n);
    let mut header: String = title.chars().take(150).collect();
    if header.is_empty() {
        header.push('-');
    }
    let mut blocks = vec![json!({
        "type": "header",
        "text": {"type": "plain_text", "text": header, "emoji": true}
    })];
    let (shown, more) = listed(n);
    for a in &shown {
        blocks.push(json!({
            "type": "section",
            "text": {"type": "mrkdwn", "text": format!(
                "*{}* — {}\n{}",
                slack_escape(&a.rule_name),
                slack_escape(&a.subject),
                slack_escape(&a.why)
            )},
            "fields": [
                {"type": "mrkdwn", "text": format!("*Value*\n{}", slack_escape(&figure(&a.value)))},
                {"type": "mrkdwn", "text": format!("*Baseline*\n{}", slack_escape(&figure(&a.baseline)))},
                {"type": "mrkdwn", "text": format!("*Threshold*\n{}", slack_escape(&figure(&a.threshold)))},
                {"type": "mrkdwn", "text": format!("*Severity*\n{}", a.severity.as_str())},
            ]
        }));
    }
    if more > 0 {
        blocks.push(json!({
            "type": "context",
            "elements": [{"type": "mrkdwn", "text": format!("and {more} more")}]
        }));
    }
    let path = n
        .alerts
        .first()
        .map(|a| a.dashboard_path.as_str())
        .unwrap_or("/");
    blocks.push(json!({
        "type": "actions",
        "elements": [{
            "type": "button",
            "text": {"type": "plain_text", "text": "Open dashboard"},
            "url": cfg.link(path),
            "action_id": "open_dashboard"
        }]
    }));
    let fallback = match n.alerts.as_slice() {
        [one] => format!("{title}: {}", one.why),
        _ => title,
    };
    json!({"text": fallback, "blocks": blocks})
}

fn telegram(n: &Notification, cfg: &RenderConfig) -> Value {
    let mut text = format!("<b>{}</b>\n", html_escape(&headline(n)));
    let (shown, more) = listed(n);
    for a in &shown {
        text.push_str(&format!(
            "\n<b>{}</b> — {}\n{}\nValue: {} · Baseline: {} · Threshold: {}\n<a href=\"{}\">Open dashboard</a>\n",
            html_escape(&a.rule_name),
            html_escape(&a.subject),
            html_escape(&a.why),
            html_escape(&figure(&a.value)),
            html_escape(&figure(&a.baseline)),
            html_escape(&figure(&a.threshold)),
            html_escape(&cfg.link(&a.dashboard_path)),
        ));
    }
    if more > 0 {
        text.push_str(&format!("\nand {more} more\n"));
    }
    let mut payload = json!({"text": text, "parse_mode": "HTML"});
    if n.kind != NoticeKind::Resolved {
        let buttons: Vec<Value> = shown
            .iter()
            .filter_map(|a| a.episode_id.as_ref().map(|id| (a, id)))
            .map(|(a, id)| {
                let label = if shown.len() == 1 {
                    "Acknowledge".to_string()
                } else {
                    format!("Acknowledge {}", a.subject)
                };
                json!([{"text": label, "callback_data": format!("ack:{id}")}])
            })
            .collect();
        if !buttons.is_empty() {
            payload["reply_markup"] = json!({"inline_keyboard": buttons});
        }
    }
    payload
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
