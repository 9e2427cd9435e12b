//! `[alerts]` and `[notifiers.*]`: alert rules, their per-brand numbers,
//! business hours, and where messages go.
//!
//! ```toml
//! [alerts]
//! every = "5s"                 # evaluation interval
//! lease = "30s"                # leader lease (takeover time when a process dies)
//! [[alerts.rules]]             # change a default rule for every brand
//! rule = "zero_orders"
//! hours = 4
//! pending = "5m"
//! [[alerts.overrides]]         # ... or for one brand
//! brand = "plentum"
//! rule = "zero_orders"
//! tier = "slack"
//! [[alerts.custom]]            # the merchant's own rule
//! id = "orders_drop"
//! name = "Orders dropping"
//! metric = "orders_today"
//! direction = "below"
//! change_percent = 30
//! min_volume = 10
//! [[alerts.business_hours]]
//! brand = "mavena"
//! open = "08:00"
//! close = "22:00"
//! days = ["mon", "tue", "wed", "thu", "fri", "sat"]
//! [notifiers.slack]
//! webhook_url_env = "OPSDECK_SLACK_WEBHOOK_URL"
//! [notifiers.telegram]
//! bot_token_env = "OPSDECK_TELEGRAM_BOT_TOKEN"
//! chat_id = "-1001234567890"
//! ```
//!
//! `[notifiers.*]` is read by `notifiers.rs`.

use super::exposure::{checked_secret, SecretOrigin};
pub use super::notifiers::{EmailConfig, SlackConfig, TelegramConfig, WebhookConfig};
use super::walk::Section;
use super::SecretSource;
use opsdeck_alerts::hours::BusinessHours;
use opsdeck_alerts::rules::{
    Condition, CustomCondition, CustomTest, Direction, Rule, RuleOverride, RuleSet, SeriesUnit,
    Severity, Tier, Timing,
};
use opsdeck_domain::{Brand, Secret};
use std::collections::BTreeMap;
use std::time::Duration;

/// The alerts part of the configuration.
#[derive(Debug, Clone)]
pub struct AlertsConfig {
    pub every: Duration,
    pub lease: Duration,
    pub rules: RuleSet,
    /// Per brand id; brands not listed are open around the clock.
    pub business_hours: BTreeMap<String, BusinessHours>,
    pub slack: Option<SlackConfig>,
    pub telegram: Option<TelegramConfig>,
    pub webhook: Option<WebhookConfig>,
    pub email: Option<EmailConfig>,
}

impl Default for AlertsConfig {
    fn default() -> Self {
        AlertsConfig {
            every: Duration::from_secs(5),
            lease: Duration::from_secs(30),
            rules: RuleSet::defaults(),
            business_hours: BTreeMap::new(),
            slack: None,
            telegram: None,
            webhook: None,
            email: None,
        }
    }
}

/// A secret named by `{base}_env` or `{base}_file`; a literal `{base}` is
/// refused (secrets do not belong in the file).
pub(super) fn secret(
    s: &Section<'_, '_>,
    secrets: &dyn SecretSource,
    base: &'static str,
    env_key: &'static str,
    file_key: &'static str,
) -> Option<Secret> {
    if s.has_key(base) {
        let _ = s.opt_str(base);
        s.problem(base, format!("secrets do not belong in the config file: name an environment variable with {env_key} (or a file with {file_key})"));
        return None;
    }
    match (s.opt_str(env_key), s.opt_str(file_key)) {
        (Some(_), Some(_)) => {
            s.problem(
                env_key,
                format!("give only one of {env_key} and {file_key}"),
            );
            None
        }
        (Some(var), None) => match secrets.env(var) {
            Some(v) => checked_secret(s, env_key, SecretOrigin::Env(var), &v),
            None => {
                s.problem(env_key, format!("environment variable {var} is not set"));
                None
            }
        },
        (None, Some(path)) => match secrets.secret_file(std::path::Path::new(path)) {
            Ok(v) => checked_secret(s, file_key, SecretOrigin::File(path), &v),
            Err(e) => {
                s.problem(file_key, format!("cannot read {path}: {e}"));
                None
            }
        },
        (None, None) => {
            s.section_problem(env_key, format!("is required (or {file_key})"));
            None
        }
    }
}

pub(super) fn duration(s: &Section<'_, '_>, key: &'static str) -> Option<jiff::SignedDuration> {
    let v = s.opt_str(key)?;
    match parse_duration(v) {
        Some(d) => Some(d),
        None => {
            s.problem(
                key,
                format!("{v:?} is not a duration like \"30s\", \"5m\", \"4h\""),
            );
            None
        }
    }
}

/// `"30s"`, `"5m"`, `"4h"`, `"2d"`.
fn parse_duration(v: &str) -> Option<jiff::SignedDuration> {
    let v = v.trim();
    let split = v.find(|c: char| !c.is_ascii_digit())?;
    let n: i64 = v[..split].parse().ok()?;
    let secs = match &v[split..] {
        "s" => n,
        "m" => n.checked_mul(60)?,
        "h" => n.checked_mul(3600)?,
        "d" => n.checked_mul(86_400)?,
        _ => return None,
    };
    Some(jiff::SignedDuration::from_secs(secs))
}

fn timing(s: &Section<'_, '_>, base: Timing) -> Timing {
    Timing {
        pending_for: duration(s, "pending").unwrap_or(base.pending_for),
        keep_firing_for: duration(s, "keep_firing").unwrap_or(base.keep_firing_for),
        repeat_every: duration(s, "repeat").unwrap_or(base.repeat_every),
        escalate_after: duration(s, "escalate_after").unwrap_or(base.escalate_after),
    }
}

/// A rule's number: hours, days, ratios and floors are never negative (a
/// negative one would make a rule fire always or never, silently).
fn number(s: &Section<'_, '_>, key: &'static str, current: f64) -> f64 {
    match s.opt_f64(key) {
        Some(v) if v.is_finite() && v >= 0.0 => v,
        Some(v) => {
            s.problem(key, format!("must be a number of 0 or more, found {v}"));
            current
        }
        None => current,
    }
}

/// The condition's numbers, each replaceable by a key of the same name.
fn condition_numbers(s: &Section<'_, '_>, c: &Condition) -> Condition {
    use Condition::*;
    match c.clone() {
        CsatDrop { drop } => CsatDrop {
            drop: number(s, "drop", drop),
        },
        CsatBelowTarget { below, days } => CsatBelowTarget {
            below: number(s, "below", below),
            days: s.opt_u32("days").unwrap_or(days),
        },
        TicketBacklogSpike { floor, factor } => TicketBacklogSpike {
            floor: number(s, "floor", floor),
            factor: number(s, "factor", factor),
        },
        ResolutionTimeSpike { hours } => ResolutionTimeSpike {
            hours: number(s, "hours", hours),
        },
        ChargebackRisk { hours } => ChargebackRisk {
            hours: number(s, "hours", hours),
        },
        RevenueAnomaly { ratio, min_orders } => RevenueAnomaly {
            ratio: number(s, "ratio", ratio),
            min_orders: s.opt_u32("min_orders").map(u64::from).unwrap_or(min_orders),
        },
        ZeroOrders { hours } => ZeroOrders {
            hours: number(s, "hours", hours),
        },
        FulfillmentBlocker {
            hours,
            escalate_value_minor,
        } => FulfillmentBlocker {
            hours: number(s, "hours", hours),
            escalate_value_minor: s
                .opt_int("escalate_value_minor")
                .unwrap_or(escalate_value_minor),
        },
        TopSkuCover { days } => TopSkuCover {
            days: number(s, "days", days),
        },
        SourceStale {
            cadence_factor,
            failures,
        } => SourceStale {
            cadence_factor: number(s, "cadence_factor", cadence_factor),
            failures: s.opt_u32("failures").unwrap_or(failures),
        },
        AccountUnderAttack { hours } => AccountUnderAttack {
            hours: number(s, "hours", hours),
        },
        ConversionLow {
            below,
            min_sessions,
        } => ConversionLow {
            below: number(s, "below", below),
            min_sessions: s
                .opt_u32("min_sessions")
                .map(u64::from)
                .unwrap_or(min_sessions),
        },
        CartAbandonmentHigh {
            above,
            min_checkouts,
        } => CartAbandonmentHigh {
            above: number(s, "above", above),
            min_checkouts: s
                .opt_u32("min_checkouts")
                .map(u64::from)
                .unwrap_or(min_checkouts),
        },
        PrivacyRequestDue { days } => PrivacyRequestDue {
            days: number(s, "days", days),
        },
        other => other,
    }
}

fn severity_tier(s: &Section<'_, '_>) -> (Option<Severity>, Option<Tier>) {
    let severity = s.opt_str("severity").and_then(|v| {
        Severity::known(v).or_else(|| {
            s.problem(
                "severity",
                format!("{v:?} is not a severity: use warning or critical"),
            );
            None
        })
    });
    let tier = s.opt_str("tier").and_then(|v| {
        Tier::parse(v).or_else(|| {
            s.problem(
                "tier",
                format!("{v:?} is not a tier: use slack, telegram or telegram_and_slack"),
            );
            None
        })
    });
    (severity, tier)
}

fn rule_of<'r>(s: &Section<'_, '_>, rules: &'r RuleSet) -> Option<&'r Rule> {
    let id = s.req_str("rule")?;
    let found = rules.get(id);
    if found.is_none() {
        let known: Vec<&str> = rules.all().iter().map(|r| r.id.as_str()).collect();
        s.problem(
            "rule",
            format!("unknown rule {id:?}: use one of {}", known.join(", ")),
        );
    }
    found
}

fn custom(s: &Section<'_, '_>) -> Option<Rule> {
    let id = s.req_str("id");
    let name = s.req_str("name");
    let metric = s.req_str("metric");
    let direction = s.req_str("direction").and_then(|d| match d {
        "below" => Some(Direction::Below),
        "above" => Some(Direction::Above),
        other => {
            s.problem(
                "direction",
                format!("{other:?} is not a direction: use below or above"),
            );
            None
        }
    });
    let test = match (s.opt_f64("threshold"), s.opt_f64("change_percent")) {
        (Some(value), None) => Some(CustomTest::Threshold { value }),
        (None, Some(percent)) => Some(CustomTest::ChangeVsBaseline {
            percent,
            min_volume: s.opt_f64("min_volume").unwrap_or(0.0),
        }),
        _ => {
            s.section_problem(
                "threshold",
                "give exactly one of threshold and change_percent",
            );
            None
        }
    };
    let per = match s.opt_str("per").unwrap_or("days") {
        "days" => Some(SeriesUnit::Days),
        "hours" => Some(SeriesUnit::Hours),
        other => {
            s.problem("per", format!("{other:?} is not a step: use days or hours"));
            None
        }
    };
    let consecutive = s.opt_u32("for").unwrap_or(1).max(1);
    let (severity, tier) = severity_tier(s);
    let timing = timing(s, Timing::default());
    Some(Rule {
        id: id?.to_string(),
        name: name?.to_string(),
        severity: severity.unwrap_or(Severity::Warning),
        tier: tier.unwrap_or(Tier::Slack),
        condition: Condition::Custom(CustomCondition {
            metric: metric?.to_string(),
            direction: direction?,
            test: test?,
            consecutive,
            per: per?,
        }),
        timing,
        enabled: s.opt_bool("enabled").unwrap_or(true),
    })
}

/// Reads `[alerts]` and `[notifiers]` from the root table.
pub(super) fn parse_alerts(
    root: &Section<'_, '_>,
    secrets: &dyn SecretSource,
    brands: &[Brand],
) -> AlertsConfig {
    // Every default rule is on with no `[alerts]` at all (METRICS.md:
    // "alerts are on by default"); the sections only change them.
    let mut cfg = AlertsConfig::default();
    if let Some(a) = root.opt_table("alerts") {
        let to_std = |d: jiff::SignedDuration| Duration::try_from(d).ok();
        for (key, slot) in [("every", &mut cfg.every), ("lease", &mut cfg.lease)] {
            match duration(&a, key) {
                Some(d) if d.is_positive() => *slot = to_std(d).unwrap_or(*slot),
                Some(_) => a.problem(
                    key,
                    "must be a positive duration like \"5s\" (0 would evaluate without pause or never lead)",
                ),
                None => {}
            }
        }
        for s in a.array_of_tables("rules") {
            if let Some(rule) = rule_of(&s, &cfg.rules).cloned() {
                let (severity, tier) = severity_tier(&s);
                let changed = Rule {
                    condition: condition_numbers(&s, &rule.condition),
                    timing: timing(&s, rule.timing),
                    severity: severity.unwrap_or(rule.severity),
                    tier: tier.unwrap_or(rule.tier),
                    enabled: s.opt_bool("enabled").unwrap_or(rule.enabled),
                    ..rule
                };
                cfg.rules.upsert(changed);
            }
            s.finish();
        }
        for s in a.array_of_tables("custom") {
            if let Some(rule) = custom(&s) {
                if cfg.rules.get(&rule.id).is_some() {
                    s.problem("id", format!("rule id {:?} is already taken", rule.id));
                } else {
                    cfg.rules.upsert(rule);
                }
            }
            s.finish();
        }
        let brand_of = |s: &Section<'_, '_>| {
            let id = s.req_str("brand")?;
            let b = brands.iter().find(|b| b.id.as_str() == id);
            if b.is_none() {
                s.problem(
                    "brand",
                    format!("unknown brand {id:?}: it must be one of [[brands]]"),
                );
            }
            b
        };
        let mut overrides = Vec::new();
        for s in a.array_of_tables("overrides") {
            let (brand, rule) = (brand_of(&s), rule_of(&s, &cfg.rules).cloned());
            // Read every key even when the brand is wrong, so the one
            // mistake is reported rather than its neighbours as unknown.
            let (severity, tier) = severity_tier(&s);
            let enabled = s.opt_bool("enabled");
            if let Some(rule) = rule {
                let o = RuleOverride {
                    enabled,
                    severity,
                    tier,
                    condition: Some(condition_numbers(&s, &rule.condition)),
                    timing: Some(timing(&s, rule.timing)),
                };
                if let Some(brand) = brand {
                    overrides.push((brand.id.to_string(), rule.id, o));
                }
            }
            s.finish();
        }
        for (brand, rule, o) in overrides {
            cfg.rules.set_override(&brand, &rule, o);
        }
        for s in a.array_of_tables("business_hours") {
            let brand = brand_of(&s);
            let (open, close) = (s.req_str("open"), s.req_str("close"));
            let days = s
                .opt_str_list("days")
                .unwrap_or_else(|| vec!["mon", "tue", "wed", "thu", "fri", "sat", "sun"]);
            if let (Some(brand), Some(open), Some(close)) = (brand, open, close) {
                match BusinessHours::parse(brand.time_zone.clone(), open, close, &days) {
                    Ok(h) => {
                        cfg.business_hours.insert(brand.id.to_string(), h);
                    }
                    Err(e) => s.problem("open", e.to_string()),
                }
            }
            s.finish();
        }
        a.finish();
    }
    super::notifiers::parse_notifiers(root, secrets, &mut cfg);
    cfg
}

#[cfg(test)]
mod tests {
    use super::super::{parse_config, ConfigProblem, SecretSource};
    use opsdeck_alerts::rules::{Condition, Tier};
    use std::path::Path;

    struct Env;

    impl SecretSource for Env {
        fn env(&self, name: &str) -> Option<String> {
            match name {
                "SLACK_URL" => Some("https://hooks.slack.com/services/T/B/secret".into()),
                "TG_TOKEN" => Some("123:secret".into()),
                _ => None,
            }
        }
        fn file(&self, _: &Path) -> std::io::Result<String> {
            Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such file",
            ))
        }
    }

    const BRANDS: &str = r#"
[[brands]]
id = "mavena"
name = "Mavena"
kind = "subscription"
time_zone = "America/New_York"
currency = "USD"
"#;

    fn parse(alerts: &str) -> Result<super::super::Config, Vec<ConfigProblem>> {
        parse_config(&format!("{BRANDS}{alerts}"), &Env)
    }

    #[test]
    fn rules_overrides_custom_hours_and_notifiers() {
        let c = parse(
            r#"
[alerts]
every = "10s"
lease = "45s"
[[alerts.rules]]
rule = "zero_orders"
hours = 4
pending = "5m"
[[alerts.overrides]]
brand = "mavena"
rule = "revenue_anomaly"
tier = "telegram_and_slack"
ratio = 0.4
[[alerts.custom]]
id = "orders_drop"
name = "Orders dropping"
metric = "orders_today"
direction = "below"
change_percent = 30
min_volume = 10
[[alerts.business_hours]]
brand = "mavena"
open = "08:00"
close = "22:00"
days = ["mon", "tue"]
[notifiers.slack]
webhook_url_env = "SLACK_URL"
[notifiers.telegram]
bot_token_env = "TG_TOKEN"
chat_id = "-100123"
message_thread_id = 7
allowed_user_ids = [42, 43]
"#,
        )
        .unwrap();
        let a = &c.alerts;
        let bare = parse("").unwrap().alerts;
        assert_eq!(bare.rules.all().len(), a.rules.all().len() - 1);
        assert_eq!(a.every.as_secs(), 10);
        assert_eq!(a.lease.as_secs(), 45);
        let zero = a.rules.get("zero_orders").unwrap();
        assert_eq!(zero.condition, Condition::ZeroOrders { hours: 4.0 });
        assert_eq!(zero.timing.pending_for.as_secs(), 300);
        let rev = a.rules.for_brand("revenue_anomaly", "mavena").unwrap();
        assert_eq!(rev.tier, Tier::TelegramAndSlack);
        assert_eq!(
            rev.condition,
            Condition::RevenueAnomaly {
                ratio: 0.4,
                min_orders: u64::from(opsdeck_metrics::variance::MIN_BASELINE_ORDER_COUNT)
            }
        );
        assert!(a.rules.get("orders_drop").is_some());
        assert!(a.business_hours.contains_key("mavena"));
        assert_eq!(a.telegram.as_ref().unwrap().message_thread_id, Some(7));
        assert_eq!(a.telegram.as_ref().unwrap().allowed_user_ids, [42, 43]);
        assert_eq!(
            a.telegram.as_ref().unwrap().base_url,
            "https://api.telegram.org"
        );
        assert!(a.slack.is_some());
        // Secrets never show in Debug output.
        assert!(!format!("{a:?}").contains("secret"));
    }

    #[test]
    fn funnel_rules_are_on_by_default_and_take_per_brand_numbers() {
        let bare = parse("").unwrap().alerts;
        let conversion = bare.rules.get("conversion_low").unwrap();
        assert!(conversion.enabled);
        assert_eq!(
            conversion.condition,
            Condition::ConversionLow {
                below: 0.025,
                min_sessions: 200
            }
        );
        let c = parse(
            r#"
[[alerts.overrides]]
brand = "mavena"
rule = "conversion_low"
below = 0.02
min_sessions = 500
[[alerts.overrides]]
brand = "mavena"
rule = "cart_abandonment_high"
above = 0.8
min_checkouts = 50
"#,
        )
        .unwrap();
        let rules = &c.alerts.rules;
        assert_eq!(
            rules
                .for_brand("conversion_low", "mavena")
                .unwrap()
                .condition,
            Condition::ConversionLow {
                below: 0.02,
                min_sessions: 500
            }
        );
        assert_eq!(
            rules
                .for_brand("cart_abandonment_high", "mavena")
                .unwrap()
                .condition,
            Condition::CartAbandonmentHigh {
                above: 0.8,
                min_checkouts: 50
            }
        );
        // Another brand keeps the playbook's.
        assert_eq!(
            rules.for_brand("conversion_low", "kumo").unwrap().condition,
            conversion.condition
        );
    }

    #[test]
    fn account_under_attack_is_on_by_default_and_takes_its_window_and_tier() {
        let bare = parse("").unwrap().alerts;
        let rule = bare.rules.get("account_under_attack").unwrap();
        assert!(rule.enabled);
        assert_eq!(rule.condition, Condition::AccountUnderAttack { hours: 1.0 });
        let c = parse(
            r#"
[[alerts.rules]]
rule = "account_under_attack"
hours = 3
severity = "critical"
tier = "telegram"
"#,
        )
        .unwrap();
        let rule = c.alerts.rules.get("account_under_attack").unwrap();
        assert_eq!(rule.condition, Condition::AccountUnderAttack { hours: 3.0 });
        assert_eq!(rule.tier, Tier::Telegram);
    }

    #[test]
    fn every_problem_is_reported_with_line_and_key() {
        let problems = parse(
            r#"
[alerts]
every = "soon"
[[alerts.rules]]
rule = "zero_order"
[[alerts.overrides]]
brand = "nosuch"
rule = "zero_orders"
tier = "pager"
[[alerts.custom]]
id = "x"
name = "X"
metric = "orders_today"
direction = "sideways"
threshold = 1
change_percent = 2
[notifiers.slack]
webhook_url = "https://hooks.slack.com/services/T/B/secret"
[notifiers.telegram]
bot_token_env = "TG_TOKEN"
chat_id = "-100"
allowed_user_ids = [42, -7]
"#,
        )
        .unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let has = |needle: &str| {
            assert!(
                shown.iter().any(|p| p.contains(needle)),
                "{needle} not in {shown:#?}"
            )
        };
        has("line 10: alerts.every: \"soon\" is not a duration");
        has("line 12: alerts.rules[0].rule: unknown rule \"zero_order\"");
        has("line 14: alerts.overrides[0].brand: unknown brand \"nosuch\"");
        has("line 16: alerts.overrides[0].tier: \"pager\" is not a tier");
        has("alerts.custom[0].direction: \"sideways\" is not a direction");
        has("give exactly one of threshold and change_percent");
        has("notifiers.slack.webhook_url: secrets do not belong in the config file");
        has("notifiers.telegram.allowed_user_ids: -7 is not a Telegram user id");
        assert!(
            shown.iter().all(|p| !p.contains("hooks.slack.com")),
            "{shown:#?}"
        );
    }
}
