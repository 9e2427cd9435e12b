//! Rendered payloads stay within what Slack and Telegram accept: Telegram
//! refuses a text over 4096 characters ("message is too long"), Block Kit a
//! section over 3000 and a field over 2000 (`invalid_blocks`); a refused
//! alert is never delivered, so the renderer must cut, not the platform.

use super::*;
use crate::evaluate::Phase;
use crate::notify::Channel;
use crate::observation::Figure;
use crate::rules::{Tier, Timing};

fn alert(i: usize, subject: &str, why: &str) -> Alert {
    let at: jiff::Timestamp = "2026-03-01T12:00:00Z".parse().unwrap();
    Alert {
        key: format!("inventory_critical|mavena|{i}"),
        rule: format!("rule_{}", i % 3),
        rule_name: "Inventory critical".into(),
        brand: "mavena".into(),
        subject: subject.into(),
        severity: Severity::Critical,
        phase: Phase::Firing,
        episode_id: Some(format!("Aabc-{i}")),
        pending_since: at,
        fired_at: Some(at),
        inactive_since: None,
        last_notified_at: None,
        notifications: 0,
        tier: Tier::Slack,
        escalated_at: None,
        ack: None,
        resolved_at: None,
        silenced_by: None,
        value: Some(Figure::new(2.0, "2 units")),
        baseline: None,
        threshold: Some(Figure::new(3.0, "&".repeat(3000))),
        why: why.into(),
        why_without_money: None,
        dashboard_path: "/?brand=mavena&tab=stock#inventory".into(),
        timing: Timing::default(),
    }
}

fn notification(alerts: Vec<Alert>) -> Notification {
    Notification {
        id: "N1".into(),
        kind: NoticeKind::Firing,
        tier: Tier::Slack,
        channels: vec![Channel::Other("ops".into())],
        brand: "mavena".into(),
        alerts,
    }
}

fn cfg() -> RenderConfig {
    RenderConfig {
        dashboard_url: "http://ops.example.com".into(),
    }
}

#[test]
fn visible_length_counts_what_telegram_counts() {
    assert_eq!(telegram_visible_len("<b>a&amp;b</b>"), 3);
    assert_eq!(
        telegram_visible_len("<a href=\"http://x/?a=1&amp;b=2\">go</a>"),
        2
    );
    // Outside the Basic Multilingual Plane a character is two UTF-16 units.
    assert_eq!(telegram_visible_len("😀é"), 3);
}

#[test]
fn a_long_telegram_message_is_cut_to_the_limit_and_summarised() {
    let alerts: Vec<Alert> = (0..12)
        .map(|i| {
            alert(
                i,
                &format!("sku:<{i}>{}", "x".repeat(500)),
                &"&".repeat(4000),
            )
        })
        .collect();
    let payload = render(&Channel::Telegram, &notification(alerts), &cfg()).unwrap();
    let text = payload["text"].as_str().unwrap();
    assert!(
        telegram_visible_len(text) <= TELEGRAM_MAX_TEXT,
        "{} characters",
        telegram_visible_len(text)
    );
    let listed = text.matches("Open dashboard").count();
    assert!(listed >= 1, "at least one alert is listed");
    let more = 12 - listed;
    assert!(text.ends_with(&format!("and {more} more\n")), "{text}");
    let buttons = payload["reply_markup"]["inline_keyboard"]
        .as_array()
        .unwrap();
    assert_eq!(buttons.len(), listed, "a button per listed alert only");
    // Cut texts keep whole entities: every '&' starts one.
    for (i, _) in text.match_indices('&') {
        let rest = &text[i..];
        assert!(
            ["&amp;", "&lt;", "&gt;", "&quot;"]
                .iter()
                .any(|e| rest.starts_with(e)),
            "broken entity at {:?}",
            &rest[..rest.len().min(8)]
        );
    }
}

#[test]
fn a_quote_in_the_dashboard_url_cannot_end_the_href() {
    let cfg = RenderConfig {
        dashboard_url: "http://ops.example.com/\"onclick".into(),
    };
    let payload = render(
        &Channel::Telegram,
        &notification(vec![alert(1, "sku:A", "why")]),
        &cfg,
    )
    .unwrap();
    let text = payload["text"].as_str().unwrap();
    assert!(
        text.contains("<a href=\"http://ops.example.com/&quot;onclick/?brand=mavena&amp;tab=stock#inventory\">"),
        "{text}"
    );
}

#[test]
fn slack_sections_and_fields_stay_within_block_kit_limits() {
    let payload = render(
        &Channel::Slack,
        &notification(vec![alert(1, "sku:A", &"<&>".repeat(2000))]),
        &cfg(),
    )
    .unwrap();
    let section = &payload["blocks"][1];
    let text = section["text"]["text"].as_str().unwrap();
    assert!(text.chars().count() <= 3000, "{}", text.chars().count());
    assert!(text.ends_with('…'));
    let before_ellipsis = text.trim_end_matches('…');
    assert!(
        before_ellipsis.ends_with(';'),
        "cut inside an entity: {:?}",
        &before_ellipsis[before_ellipsis.len() - 8..]
    );
    for field in section["fields"].as_array().unwrap() {
        let f = field["text"].as_str().unwrap();
        assert!(f.chars().count() <= 2000, "{}", f.chars().count());
    }
}

/// Issue 10.D2: a message of one rule's alerts says what /alerts says of
/// the group ("Inventory critical · 3 SKUs"); mixed rules stay "N alerts".
#[test]
fn one_rules_alerts_are_headlined_as_their_group() {
    let same: Vec<Alert> = (0..3)
        .map(|i| {
            let mut a = alert(i, &format!("sku:S{i}"), "low");
            a.rule = "inventory_critical".into();
            a
        })
        .collect();
    let payload = render(&Channel::Slack, &notification(same), &cfg()).unwrap();
    assert_eq!(
        payload["blocks"][0]["text"]["text"],
        "CRITICAL · mavena: Inventory critical · 3 SKUs"
    );
    let mixed: Vec<Alert> = (0..3).map(|i| alert(i, "sku:S", "low")).collect();
    let payload = render(&Channel::Slack, &notification(mixed), &cfg()).unwrap();
    assert_eq!(
        payload["blocks"][0]["text"]["text"],
        "CRITICAL · mavena: 3 alerts"
    );
}

/// The Slack and Telegram payloads are their types' JSON: read back as
/// the type and written again, nothing is lost or added.
#[test]
fn slack_and_telegram_payloads_read_back_as_their_types() {
    use crate::payloads::{SlackMessage, TelegramMessage};
    let alerts: Vec<Alert> = (0..12)
        .map(|i| alert(i, &format!("sku:{i}"), "why"))
        .collect();
    let slack_payload = render(&Channel::Slack, &notification(alerts.clone()), &cfg()).unwrap();
    let slack: SlackMessage = serde_json::from_value(slack_payload.clone()).unwrap();
    assert_eq!(serde_json::to_value(&slack).unwrap(), slack_payload);
    assert_eq!(
        slack.header(),
        slack_payload["blocks"][0]["text"]["text"].as_str()
    );
    let telegram_payload = render(&Channel::Telegram, &notification(alerts), &cfg()).unwrap();
    let telegram: TelegramMessage = serde_json::from_value(telegram_payload.clone()).unwrap();
    assert_eq!(serde_json::to_value(&telegram).unwrap(), telegram_payload);
    assert!(telegram.buttons().count() >= 1);
    assert!(telegram
        .buttons()
        .all(|b| b.callback_data.starts_with("ack:")));
}
