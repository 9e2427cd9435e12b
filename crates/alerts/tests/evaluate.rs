//! The state machine with a fixed clock and hand-made observations.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use jiff::{SignedDuration, Timestamp};
use opsdeck_alerts::evaluate::Ack;
use opsdeck_alerts::notify::Channel;
use opsdeck_alerts::*;

fn t0() -> Timestamp {
    "2026-03-01T10:00:00Z".parse().unwrap()
}

fn at(secs: i64) -> Timestamp {
    t0() + SignedDuration::from_secs(secs)
}

fn timing() -> Timing {
    Timing {
        pending_for: SignedDuration::from_secs(60),
        keep_firing_for: SignedDuration::from_secs(300),
        repeat_every: SignedDuration::from_secs(3600),
        escalate_after: SignedDuration::from_secs(1800),
    }
}

fn evaluator() -> Evaluator {
    let mut rules = RuleSet::defaults();
    for id in [
        "zero_orders",
        "inventory_low",
        "revenue_anomaly",
        "source_stale",
    ] {
        let mut r = rules.get(id).unwrap().clone();
        r.timing = timing();
        rules.upsert(r);
    }
    Evaluator::new(rules)
}

fn obs(rule: &str, brand: &str, subject: &str, active: bool) -> Observation {
    Observation {
        rule: rule.into(),
        brand: brand.into(),
        subject: subject.into(),
        value: Some(Figure::new(0.0, "0 orders")),
        baseline: None,
        threshold: Some(Figure::new(6.0, "6 h")),
        active,
        why: "No order for 6 h".into(),
        why_without_money: None,
        dashboard_path: "/?brand=mavena".into(),
    }
}

/// Runs one step per (second offset, active) pair; returns every step.
fn run(e: &Evaluator, s: &mut AlertState, script: &[(i64, bool)]) -> Vec<Step> {
    script
        .iter()
        .map(|(secs, active)| {
            let o = [obs("zero_orders", "mavena", "brand", *active)];
            e.evaluate_once(s, &o, &[], at(*secs))
        })
        .collect()
}

fn sent(steps: &[Step]) -> Vec<(NoticeKind, Tier)> {
    steps
        .iter()
        .flat_map(|s| s.notifications.iter().map(|n| (n.kind, n.tier)))
        .collect()
}

#[test]
fn pending_period_holds_back_a_blip() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    let steps = run(
        &e,
        &mut s,
        &[(0, true), (30, true), (45, false), (50, false)],
    );
    assert!(sent(&steps).is_empty());
    assert!(s.alerts.is_empty(), "a blip leaves nothing behind");
    let steps = run(&e, &mut s, &[(100, true), (130, true), (160, true)]);
    assert_eq!(sent(&steps), [(NoticeKind::Firing, Tier::Telegram)]);
    assert_eq!(steps[2].transitions[0].from, Phase::Pending);
    assert_eq!(steps[2].transitions[0].to, Phase::Firing);
    assert_eq!(steps[2].notifications[0].channels, [Channel::Telegram]);
}

#[test]
fn flapping_input_gives_one_notification() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    // Fires at 60 s, then flaps every 20 s for 10 minutes: each clear is
    // shorter than keep_firing_for (300 s).
    let mut script = vec![(0, true), (60, true)];
    for i in 0..30 {
        script.push((80 + i * 20, i % 2 == 0));
    }
    let steps = run(&e, &mut s, &script);
    assert_eq!(sent(&steps), [(NoticeKind::Firing, Tier::Telegram)]);
    let episodes: std::collections::BTreeSet<_> = steps
        .iter()
        .flat_map(|s| s.changed.iter().filter_map(|a| a.episode_id.clone()))
        .collect();
    assert_eq!(episodes.len(), 1, "one episode throughout");
}

#[test]
fn keep_firing_then_resolves_with_a_message() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    let steps = run(
        &e,
        &mut s,
        &[
            (0, true),
            (60, true),
            (100, false),
            (399, false),
            (400, false),
        ],
    );
    assert_eq!(
        sent(&steps),
        [
            (NoticeKind::Firing, Tier::Telegram),
            (NoticeKind::Resolved, Tier::Telegram)
        ]
    );
    assert_eq!(steps[4].resolved.len(), 1);
    assert_eq!(steps[4].resolved[0].phase, Phase::Resolved);
    assert!(s.alerts.is_empty());
    // Coming back later is a new episode.
    let steps = run(&e, &mut s, &[(500, true), (560, true)]);
    assert_eq!(sent(&steps), [(NoticeKind::Firing, Tier::Telegram)]);
}

#[test]
fn repeats_while_unacknowledged_and_escalates_critical() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    // Zero orders is critical on the Telegram tier; escalate_after 30 min.
    let steps = run(
        &e,
        &mut s,
        &[(0, true), (60, true), (60 + 1799, true), (60 + 1800, true)],
    );
    assert_eq!(
        sent(&steps),
        [
            (NoticeKind::Firing, Tier::Telegram),
            (NoticeKind::Escalated, Tier::TelegramAndSlack)
        ]
    );
    assert_eq!(
        steps[3].notifications[0].channels,
        [Channel::Telegram, Channel::Slack]
    );
    // At the top tier it repeats every hour instead.
    let steps = run(
        &e,
        &mut s,
        &[(60 + 1800 + 3599, true), (60 + 1800 + 3600, true)],
    );
    assert_eq!(sent(&steps), [(NoticeKind::Repeat, Tier::TelegramAndSlack)]);
}

#[test]
fn warnings_repeat_but_never_escalate() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    let o = |a| [obs("inventory_low", "mavena", "sku:MAV-30", a)];
    let mut kinds = Vec::new();
    for secs in [0, 60, 1900, 3659, 3660, 7260] {
        let step = e.evaluate_once(&mut s, &o(true), &[], at(secs));
        kinds.extend(step.notifications.iter().map(|n| (n.kind, n.tier)));
    }
    assert_eq!(
        kinds,
        [
            (NoticeKind::Firing, Tier::Slack),
            (NoticeKind::Repeat, Tier::Slack),
            (NoticeKind::Repeat, Tier::Slack)
        ]
    );
}

#[test]
fn acknowledged_stops_repeats_and_escalation() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    let steps = run(&e, &mut s, &[(0, true), (60, true)]);
    let id = steps[1].notifications[0].alerts[0]
        .episode_id
        .clone()
        .unwrap();
    let ack = Ack {
        by: "@owner".into(),
        via: Via::Telegram,
        at: at(70),
    };
    let t = s.acknowledge(&id, ack.clone()).unwrap();
    assert_eq!((t.from, t.to), (Phase::Firing, Phase::Acknowledged));
    assert!(s.acknowledge(&id, ack).is_none(), "twice is harmless");
    let steps = run(
        &e,
        &mut s,
        &[(4000, true), (8000, true), (9000, false), (9300, false)],
    );
    assert_eq!(sent(&steps), [(NoticeKind::Resolved, Tier::Telegram)]);
    assert_eq!(steps[3].resolved[0].ack.as_ref().unwrap().by, "@owner");
}

#[test]
fn alerts_that_fire_together_are_grouped_per_brand_and_tier() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    let batch = |a| {
        vec![
            obs("inventory_low", "mavena", "sku:A", a),
            obs("inventory_low", "mavena", "sku:B", a),
            obs("inventory_low", "plentum", "sku:C", a),
            obs("zero_orders", "mavena", "brand", a),
        ]
    };
    e.evaluate_once(&mut s, &batch(true), &[], at(0));
    let step = e.evaluate_once(&mut s, &batch(true), &[], at(60));
    let mut groups: Vec<(String, Tier, usize)> = step
        .notifications
        .iter()
        .map(|n| (n.brand.clone(), n.tier, n.alerts.len()))
        .collect();
    groups.sort();
    assert_eq!(
        groups,
        [
            ("mavena".to_string(), Tier::Slack, 2),
            ("mavena".to_string(), Tier::Telegram, 1),
            ("plentum".to_string(), Tier::Slack, 1),
        ]
    );
}

#[test]
fn silences_hold_messages_not_state_and_announce_after() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    let silence = Silence {
        id: "s1".into(),
        matchers: Matchers {
            rules: vec!["zero_orders".into()],
            brands: vec!["mavena".into()],
            labels: vec![],
        },
        starts_at: at(0),
        ends_at: at(600),
        reason: "store closed for stock-take".into(),
        author: "ops@example.com".into(),
        incident: None,
    };
    silence.validate().unwrap();
    let o = [obs("zero_orders", "mavena", "brand", true)];
    let sil = [silence];
    let mut all = Vec::new();
    for secs in [0, 60, 120, 599] {
        all.push(e.evaluate_once(&mut s, &o, &sil, at(secs)));
    }
    assert!(sent(&all).is_empty());
    assert_eq!(all[1].transitions[0].to, Phase::Firing, "state still moves");
    assert_eq!(all[1].suppressed.len(), 1, "recorded once");
    assert!(all[2].suppressed.is_empty());
    let after = e.evaluate_once(&mut s, &o, &sil, at(600));
    assert_eq!(sent(&[after]), [(NoticeKind::Firing, Tier::Telegram)]);
    // Another brand is not covered.
    let other = [obs("zero_orders", "plentum", "brand", true)];
    e.evaluate_once(&mut s, &other, &sil, at(0));
    let step = e.evaluate_once(&mut s, &other, &sil, at(60));
    assert_eq!(step.notifications.len(), 1);
}

#[test]
fn a_declared_incident_mutes_its_rules_only() {
    let e = evaluator();
    let mut s = AlertState::new("t");
    let incident = Silence {
        id: "inc-7".into(),
        matchers: Matchers {
            rules: vec!["source_stale".into(), "revenue_anomaly".into()],
            ..Default::default()
        },
        starts_at: at(0),
        ends_at: at(86_400),
        reason: "Shopify outage".into(),
        author: "lead@example.com".into(),
        incident: Some("Shopify API down".into()),
    };
    let o = [
        obs("source_stale", "mavena", "source:shopify-mavena", true),
        obs("revenue_anomaly", "mavena", "brand", true),
        obs("zero_orders", "mavena", "brand", true),
    ];
    let inc = [incident];
    e.evaluate_once(&mut s, &o, &inc, at(0));
    let step = e.evaluate_once(&mut s, &o, &inc, at(60));
    let rules: Vec<&str> = step
        .notifications
        .iter()
        .flat_map(|n| n.alerts.iter().map(|a| a.rule.as_str()))
        .collect();
    assert_eq!(rules, ["zero_orders"]);
    assert_eq!(step.suppressed.len(), 2);
}

#[test]
fn bad_silences_are_refused_with_the_reason() {
    let base = Silence {
        id: "x".into(),
        matchers: Matchers::default(),
        starts_at: at(0),
        ends_at: at(60),
        reason: "r".into(),
        author: "a".into(),
        incident: None,
    };
    assert_eq!(
        base.validate().unwrap_err().to_string(),
        "a silence must name at least one rule, brand or label"
    );
    let mut s = base.clone();
    s.matchers.labels = vec!["severity".into()];
    assert_eq!(
        s.validate().unwrap_err().to_string(),
        "label \"severity\" is not name=value"
    );
    let mut s = base.clone();
    s.matchers.brands = vec!["mavena".into()];
    s.ends_at = at(0);
    assert_eq!(
        s.validate().unwrap_err().to_string(),
        "a silence must end after it starts"
    );
}

#[test]
fn per_brand_override_changes_tier_and_can_disable() {
    let mut rules = RuleSet::defaults();
    let mut r = rules.get("zero_orders").unwrap().clone();
    r.timing = timing();
    rules.upsert(r);
    rules.set_override(
        "plentum",
        "zero_orders",
        rules::RuleOverride {
            tier: Some(Tier::Slack),
            ..Default::default()
        },
    );
    rules.set_override(
        "petsy",
        "zero_orders",
        rules::RuleOverride {
            enabled: Some(false),
            ..Default::default()
        },
    );
    let e = Evaluator::new(rules);
    let mut s = AlertState::new("t");
    let o: Vec<_> = ["mavena", "plentum", "petsy"]
        .iter()
        .map(|b| obs("zero_orders", b, "brand", true))
        .collect();
    e.evaluate_once(&mut s, &o, &[], at(0));
    let step = e.evaluate_once(&mut s, &o, &[], at(60));
    let mut got: Vec<(String, Tier)> = step
        .notifications
        .iter()
        .map(|n| (n.brand.clone(), n.tier))
        .collect();
    got.sort();
    assert_eq!(
        got,
        [
            ("mavena".into(), Tier::Telegram),
            ("plentum".into(), Tier::Slack)
        ]
    );
}

#[test]
fn every_default_alert_of_the_metrics_table_exists() {
    let rules = rules::default_rules();
    let ids: Vec<&str> = rules.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids.len(), 21);
    let check = |id: &str, sev: Severity, tier: Tier| {
        let r = rules.iter().find(|r| r.id == id).unwrap();
        assert_eq!((&r.severity, r.tier), (&sev, tier), "{id}");
    };
    check(
        "unfulfilled_stale",
        Severity::Critical,
        Tier::TelegramAndSlack,
    );
    check("csat_drop", Severity::Critical, Tier::Telegram);
    check("csat_below_target", Severity::Warning, Tier::Slack);
    check(
        "inventory_critical",
        Severity::Critical,
        Tier::TelegramAndSlack,
    );
    check("chargeback_risk", Severity::Critical, Tier::Telegram);
    check("revenue_anomaly", Severity::Critical, Tier::Telegram);
    check("zero_orders", Severity::Critical, Tier::Telegram);
    check("source_stale", Severity::Warning, Tier::Slack);
    check("account_under_attack", Severity::Warning, Tier::Slack);
    check("review_sla_breached", Severity::Critical, Tier::Telegram);
    check("conversion_low", Severity::Warning, Tier::Slack);
    check("cart_abandonment_high", Severity::Warning, Tier::Slack);
    // Issue 15: the refunds queue's 24 h SLA.
    check("refund_queue_breach", Severity::Critical, Tier::Telegram);
    check("privacy_request_due", Severity::Warning, Tier::Slack);
    // Issue 16: system health checks.
    check("health_check_down", Severity::Critical, Tier::Telegram);
    check("health_check_degraded", Severity::Warning, Tier::Slack);
}

/// Issue 10.A1: with no channel configured an alert still fires (and is
/// stored as an episode by the service), its message goes to no channel,
/// and `delivery` says every tier reaches no one; with Slack alone, the
/// Telegram tier is named as unrouted.
#[test]
fn alerts_fire_without_channels_and_delivery_names_what_reaches_no_one() {
    use opsdeck_alerts::evaluate::Delivery;
    let mut none = evaluator();
    none.deliver_only_to(&[]);
    let mut s = AlertState::default();
    let steps = run(&none, &mut s, &[(0, true), (60, true)]);
    assert_eq!(sent(&steps), [(NoticeKind::Firing, Tier::Telegram)]);
    assert!(steps[1].notifications[0].channels.is_empty());
    assert!(s.alerts.values().any(|a| a.phase == Phase::Firing));
    assert_eq!(
        none.delivery(),
        Delivery {
            channels: vec![],
            unrouted: vec![Tier::Slack, Tier::Telegram, Tier::TelegramAndSlack],
        }
    );
    let mut slack = evaluator();
    slack.deliver_only_to(&[Channel::Slack]);
    assert_eq!(
        slack.delivery(),
        Delivery {
            channels: vec![Channel::Slack],
            unrouted: vec![Tier::Telegram],
        }
    );
    assert_eq!(
        slack.tier_channels[&Tier::TelegramAndSlack],
        [Channel::Slack]
    );
}
