//! What can fire: the default rules of METRICS.md's alert table, per-brand
//! overrides of their numbers, and the merchant's own rules over any named
//! metric.
//!
//! A rule says *when* (its condition and numbers), *how bad* (severity) and
//! *who hears it* (the channel tier), plus the timing that keeps alerts calm:
//! how long a condition must hold before it fires (pending), how long it
//! keeps firing after it clears (against flapping), how often it repeats
//! while nobody acknowledges it, and after how long an unacknowledged
//! critical alert escalates to the next tier.

use crate::notify::Channel;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How bad it is; orders the urgent-attention list. Its home is the
/// store, which keeps it as an episode's column.
pub use opsdeck_store::alerts::Severity;

/// Who hears an alert, as the merchant put it: Slack only (team
/// visibility), Telegram (the owner must see it now), Telegram + Slack
/// (everyone acts). Ordered: escalation moves one step up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    Slack,
    Telegram,
    TelegramAndSlack,
}

impl Tier {
    /// The next tier up, or `None` at the top.
    pub fn next(self) -> Option<Tier> {
        match self {
            Tier::Slack => Some(Tier::Telegram),
            Tier::Telegram => Some(Tier::TelegramAndSlack),
            Tier::TelegramAndSlack => None,
        }
    }

    /// The channels of a tier when the configuration adds none.
    pub fn default_channels(self) -> Vec<Channel> {
        match self {
            Tier::Slack => vec![Channel::Slack],
            Tier::Telegram => vec![Channel::Telegram],
            Tier::TelegramAndSlack => vec![Channel::Telegram, Channel::Slack],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Slack => "slack",
            Tier::Telegram => "telegram",
            Tier::TelegramAndSlack => "telegram_and_slack",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "slack" => Some(Tier::Slack),
            "telegram" => Some(Tier::Telegram),
            "telegram_and_slack" | "telegram+slack" => Some(Tier::TelegramAndSlack),
            _ => None,
        }
    }
}

/// Which way a threshold is crossed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Fires when the value is below the threshold (or fell by the %).
    Below,
    /// Fires when the value is above the threshold (or rose by the %).
    Above,
}

/// What a rule checks. The built-in kinds are METRICS.md's table; `Custom`
/// is the merchant's own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// An unfulfilled order older than the brand's stale limit.
    UnfulfilledStale,
    /// Rolling 7-day CSAT fell by more than `drop` vs 7 days earlier.
    CsatDrop { drop: f64 },
    /// Daily CSAT below `below` for `days` days in a row.
    CsatBelowTarget { below: f64, days: u32 },
    /// A tracked variant at or below the brand's critical level.
    InventoryCritical,
    /// A tracked variant at or below the brand's low level.
    InventoryLow,
    /// New tickets today > max(`floor`, `factor` × the 7-day mean).
    TicketBacklogSpike { floor: f64, factor: f64 },
    /// Mean resolution time over 7 days above `hours`.
    ResolutionTimeSpike { hours: f64 },
    /// A chargeback-flagged ticket unresolved for more than `hours`.
    ChargebackRisk { hours: f64 },
    /// An item of the refunds, returns and disputes queue past its
    /// deadline (the queue's own clock: its window per kind, a dispute's
    /// evidence date). One episode per item, so each resolves when its
    /// item leaves the queue; notices group per brand.
    RefundQueueBreach,
    /// Revenue so far today below `ratio` × the baseline so far, when the
    /// baseline has at least `min_orders` orders (by default the pulse's
    /// floor, [`opsdeck_metrics::variance::MIN_BASELINE_ORDER_COUNT`]) and
    /// the pulse's evidence test finds the drop unlikely by chance.
    RevenueAnomaly { ratio: f64, min_orders: u64 },
    /// No order for `hours` of the brand's business hours.
    ZeroOrders { hours: f64 },
    /// An order unfulfilled for more than `hours` (a second person is told
    /// when its value exceeds `escalate_value_minor`).
    FulfillmentBlocker {
        hours: f64,
        escalate_value_minor: i64,
    },
    /// A top SKU out of stock or with less than `days` of cover.
    TopSkuCover { days: f64 },
    /// A source has not synced for `cadence_factor` × its cadence, or has
    /// failed `failures` times in a row.
    SourceStale { cadence_factor: f64, failures: u32 },
    /// The login throttle reported an attack on a dashboard account
    /// (`login.under_attack` in the audit log) within the last `hours`.
    AccountUnderAttack { hours: f64 },
    /// A review-queue item (a prescription waiting for a pharmacist) past
    /// its queue's SLA (`[review_queues.NAME] sla`, by the one SLA clock):
    /// one alert per brand and queue, with the count and the oldest.
    ReviewSlaBreached,
    /// Yesterday's storefront conversion (the brand's last whole local
    /// day) below `below`, judged only with at least `min_sessions`
    /// sessions ([`opsdeck_metrics::panels::funnel`]).
    ConversionLow { below: f64, min_sessions: u64 },
    /// Yesterday's cart abandonment above `above`, judged only with at
    /// least `min_checkouts` checkouts started.
    CartAbandonmentHigh { above: f64, min_checkouts: u64 },
    /// A privacy request (export or erasure) open within `days` of its
    /// 30-day deadline, overdue, or failed.
    PrivacyRequestDue { days: f64 },
    /// A system health check recorded as down
    /// (`opsdeck_domain::health`): one alert per check.
    HealthCheckDown,
    /// A system health check recorded as degraded (slow, partly failing).
    HealthCheckDegraded,
    /// The merchant's own rule over a named metric.
    Custom(CustomCondition),
}

/// A custom rule: a threshold or a % change vs baseline on a named metric.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomCondition {
    /// A name from [`crate::conditions::METRIC_NAMES`] (or one a later
    /// panel provides), e.g. `orders_today`.
    pub metric: String,
    pub direction: Direction,
    pub test: CustomTest,
    /// The condition must hold for this many consecutive days or hours of
    /// the metric's series (1 = just now).
    pub consecutive: u32,
    pub per: SeriesUnit,
}

/// How a custom rule compares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "test", rename_all = "snake_case")]
pub enum CustomTest {
    /// value below/above `value`.
    Threshold { value: f64 },
    /// value changed by more than `percent` % vs its baseline, only when the
    /// baseline volume is at least `min_volume` (no alarm on 1 vs 2 orders).
    ChangeVsBaseline { percent: f64, min_volume: f64 },
}

/// The step of a "for N consecutive ..." series.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SeriesUnit {
    Days,
    Hours,
}

/// Timing that keeps an alert calm.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// The condition must hold this long before the alert fires.
    pub pending_for: SignedDuration,
    /// After the condition clears, the alert stays firing this long; if it
    /// comes back meanwhile, nothing new is sent.
    pub keep_firing_for: SignedDuration,
    /// Repeat the notification this often while nobody acknowledges it.
    pub repeat_every: SignedDuration,
    /// An unacknowledged critical alert moves to the next tier after this.
    pub escalate_after: SignedDuration,
}

impl Default for Timing {
    fn default() -> Self {
        Timing {
            pending_for: SignedDuration::from_mins(2),
            keep_firing_for: SignedDuration::from_mins(10),
            repeat_every: SignedDuration::from_hours(4),
            escalate_after: SignedDuration::from_mins(30),
        }
    }
}

/// One rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id, e.g. `zero_orders`; also the config key.
    pub id: String,
    /// The merchant's words, e.g. "Zero orders".
    pub name: String,
    pub severity: Severity,
    pub tier: Tier,
    pub condition: Condition,
    pub timing: Timing,
    pub enabled: bool,
}

/// Every default alert of METRICS.md, with its default numbers.
pub fn default_rules() -> Vec<Rule> {
    use Condition::*;
    use Severity::*;
    use Tier::*;
    let rule = |id: &str, name: &str, severity, tier, condition| Rule {
        id: id.into(),
        name: name.into(),
        severity,
        tier,
        condition,
        timing: Timing::default(),
        enabled: true,
    };
    vec![
        rule(
            "unfulfilled_stale",
            "Unfulfilled order stale",
            Critical,
            TelegramAndSlack,
            UnfulfilledStale,
        ),
        rule(
            "csat_drop",
            "CSAT drop",
            Critical,
            Telegram,
            CsatDrop { drop: 0.3 },
        ),
        rule(
            "csat_below_target",
            "CSAT below target",
            Warning,
            Slack,
            CsatBelowTarget {
                below: 3.0,
                days: 3,
            },
        ),
        rule(
            "inventory_critical",
            "Inventory critical",
            Critical,
            TelegramAndSlack,
            InventoryCritical,
        ),
        rule(
            "inventory_low",
            "Inventory low",
            Warning,
            Slack,
            InventoryLow,
        ),
        rule(
            "ticket_backlog_spike",
            "Ticket backlog spike",
            Warning,
            Slack,
            TicketBacklogSpike {
                floor: 100.0,
                factor: 2.0,
            },
        ),
        rule(
            "resolution_time_spike",
            "Resolution time spike",
            Warning,
            Slack,
            ResolutionTimeSpike { hours: 72.0 },
        ),
        rule(
            "chargeback_risk",
            "Chargeback risk",
            Critical,
            Telegram,
            ChargebackRisk { hours: 24.0 },
        ),
        rule(
            "refund_queue_breach",
            "Refunds queue SLA breached",
            Critical,
            Telegram,
            RefundQueueBreach,
        ),
        rule(
            "revenue_anomaly",
            "Revenue anomaly",
            Critical,
            Telegram,
            RevenueAnomaly {
                ratio: 0.5,
                // The pulse's floor: badge and alert judge alike.
                min_orders: u64::from(opsdeck_metrics::variance::MIN_BASELINE_ORDER_COUNT),
            },
        ),
        rule(
            "zero_orders",
            "Zero orders",
            Critical,
            Telegram,
            ZeroOrders { hours: 6.0 },
        ),
        rule(
            "fulfillment_blocker",
            "Fulfillment blocker",
            Warning,
            Slack,
            FulfillmentBlocker {
                hours: 24.0,
                escalate_value_minor: 50_000,
            },
        ),
        rule(
            "top_sku_cover",
            "Top SKU cover",
            Warning,
            Slack,
            TopSkuCover { days: 3.0 },
        ),
        rule(
            "source_stale",
            "Source stale",
            Warning,
            Slack,
            SourceStale {
                cadence_factor: 2.0,
                failures: 3,
            },
        ),
        rule(
            "conversion_low",
            "Conversion below target",
            Warning,
            Slack,
            ConversionLow {
                below: opsdeck_metrics::panels::funnel::PLAYBOOK_CONVERSION_BELOW,
                min_sessions: opsdeck_metrics::panels::funnel::MIN_SESSIONS.unsigned_abs(),
            },
        ),
        rule(
            "cart_abandonment_high",
            "Cart abandonment high",
            Warning,
            Slack,
            CartAbandonmentHigh {
                above: opsdeck_metrics::panels::funnel::PLAYBOOK_ABANDONMENT_ABOVE,
                min_checkouts: opsdeck_metrics::panels::funnel::MIN_CHECKOUTS.unsigned_abs(),
            },
        ),
        Rule {
            // Fires at the first evaluation after a report and resolves as
            // soon as the window has passed without one: the window is
            // already the calm-down period.
            timing: Timing {
                pending_for: SignedDuration::ZERO,
                keep_firing_for: SignedDuration::ZERO,
                ..Timing::default()
            },
            ..rule(
                "account_under_attack",
                "Account under attack",
                Warning,
                Slack,
                AccountUnderAttack { hours: 1.0 },
            )
        },
        Rule {
            // The deadline is already the grace period, and a breached
            // item stays breached until someone decides it: the alert
            // fires at the first evaluation past the deadline and
            // resolves at the first one with no breach left.
            timing: Timing {
                pending_for: SignedDuration::ZERO,
                keep_firing_for: SignedDuration::ZERO,
                ..Timing::default()
            },
            ..rule(
                "review_sla_breached",
                "Review past its SLA",
                Critical,
                Telegram,
                ReviewSlaBreached,
            )
        },
        Rule {
            // The deadline is days away: fire at the first evaluation.
            timing: Timing {
                pending_for: SignedDuration::ZERO,
                keep_firing_for: SignedDuration::ZERO,
                ..Timing::default()
            },
            ..rule(
                "privacy_request_due",
                "Privacy request due",
                Warning,
                Slack,
                PrivacyRequestDue {
                    days: opsdeck_domain::privacy::PRIVACY_ALERT_DAYS_BEFORE as f64,
                },
            )
        },
        Rule {
            // The check's own rule ("down after N failures in M minutes")
            // is the grace period: fire at the first evaluation that reads
            // it down, resolve at the first that reads it back.
            timing: Timing {
                pending_for: SignedDuration::ZERO,
                keep_firing_for: SignedDuration::ZERO,
                ..Timing::default()
            },
            ..rule(
                "health_check_down",
                "Health check down",
                Critical,
                Telegram,
                HealthCheckDown,
            )
        },
        Rule {
            timing: Timing {
                pending_for: SignedDuration::ZERO,
                keep_firing_for: SignedDuration::ZERO,
                ..Timing::default()
            },
            ..rule(
                "health_check_degraded",
                "Health check degraded",
                Warning,
                Slack,
                HealthCheckDegraded,
            )
        },
    ]
}

/// Changes one brand makes to a rule; `None` keeps the rule's own value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleOverride {
    pub enabled: Option<bool>,
    pub severity: Option<Severity>,
    pub tier: Option<Tier>,
    /// Replaces the condition's numbers (same kind as the rule).
    pub condition: Option<Condition>,
    pub timing: Option<Timing>,
}

/// The rules in force: the defaults (possibly changed globally), the
/// merchant's custom rules, and per-brand overrides.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RuleSet {
    rules: Vec<Rule>,
    /// (brand, rule id) → override.
    overrides: BTreeMap<(String, String), RuleOverride>,
}

impl RuleSet {
    /// The default rules and nothing else.
    pub fn defaults() -> Self {
        RuleSet {
            rules: default_rules(),
            overrides: BTreeMap::new(),
        }
    }

    pub fn new(rules: Vec<Rule>) -> Self {
        RuleSet {
            rules,
            overrides: BTreeMap::new(),
        }
    }

    /// Adds a rule, replacing one with the same id.
    pub fn upsert(&mut self, rule: Rule) {
        match self.rules.iter_mut().find(|r| r.id == rule.id) {
            Some(existing) => *existing = rule,
            None => self.rules.push(rule),
        }
    }

    pub fn set_override(&mut self, brand: &str, rule: &str, o: RuleOverride) {
        self.overrides.insert((brand.into(), rule.into()), o);
    }

    pub fn get(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    pub fn all(&self) -> &[Rule] {
        &self.rules
    }

    /// The rule as it applies to `brand`, with the brand's override.
    pub fn for_brand(&self, id: &str, brand: &str) -> Option<Rule> {
        let mut rule = self.get(id)?.clone();
        if let Some(o) = self.overrides.get(&(brand.to_string(), id.to_string())) {
            if let Some(v) = o.enabled {
                rule.enabled = v;
            }
            if let Some(v) = &o.severity {
                rule.severity = v.clone();
            }
            if let Some(v) = o.tier {
                rule.tier = v;
            }
            if let Some(v) = &o.condition {
                rule.condition = v.clone();
            }
            if let Some(v) = o.timing {
                rule.timing = v;
            }
        }
        Some(rule)
    }
}
