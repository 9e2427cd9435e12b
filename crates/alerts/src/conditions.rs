//! The conditions: from metrics to [`Observation`]s.
//!
//! `observe(rule, brand, snapshot, now)` is a pure function of the
//! snapshot the caller assembled: the brand's sales rollup and panels from
//! the projection the dashboard reads (one path for order tallies: no
//! second query of the store), and the sync states. Implemented here:
//! - `revenue_anomaly`: revenue so far today vs the pulse's baseline so far
//!   ([`opsdeck_metrics::panels::pulse::so_far`]), active only with the
//!   pulse's evidence ([`opsdeck_metrics::variance`], the baseline floored
//!   at `min_orders` orders) and below `ratio` of the baseline;
//! - `zero_orders`: no order for N hours of the brand's business hours;
//! - `source_stale`: a source not synced for `cadence_factor` × its
//!   cadence, or failing `failures` times in a row, or at once when a run
//!   failed for a cause retrying will not fix (`SyncState::needs_attention`:
//!   a missing scope, a shop in another currency);
//! - custom rules over [`METRIC_NAMES`].
//!
//! The order-based ones (revenue anomaly, zero orders, custom) stay quiet
//! for a brand until each of its order sources has completed an `orders`
//! sync: before that the store holds only what webhooks brought, and a
//! freshly started opsdeck would report "zero orders" for every brand.
//!
//! Read from the metrics crate's panels ([`PANEL_RULES`], in
//! [`crate::panel_conditions`]): unfulfilled stale, fulfillment blocker,
//! inventory critical / low, top SKU cover, CSAT drop / below target,
//! ticket backlog spike, resolution time spike, chargeback risk, review
//! SLA breached, refunds queue breach. They read
//! [`BrandInputs::panels`]; without panels (no projection given) they
//! observe nothing, so they can neither fire nor resolve wrongly.

use crate::hours::BusinessHours;
use crate::observation::{Figure, Observation};
use crate::panel_conditions::Panels;
use crate::rules::{Condition, CustomCondition, CustomTest, Direction, Rule, RuleSet, SeriesUnit};
use jiff::{SignedDuration, Timestamp, ToSpan};
use opsdeck_domain::{Brand, SourceId};
use opsdeck_metrics::panels::pulse::so_far;
use opsdeck_metrics::projection::series::SalesSeries;
use opsdeck_metrics::sums;
use opsdeck_metrics::variance::revenue_evidence;
use opsdeck_metrics::Staleness;
use opsdeck_store::{SyncState, WEBHOOKS_RESOURCE};
use std::collections::BTreeMap;

/// Rules whose conditions read the metrics panels.
pub const PANEL_RULES: &[&str] = &[
    "unfulfilled_stale",
    "fulfillment_blocker",
    "inventory_critical",
    "inventory_low",
    "top_sku_cover",
    "csat_drop",
    "csat_below_target",
    "ticket_backlog_spike",
    "resolution_time_spike",
    "chargeback_risk",
    "review_sla_breached",
    "refund_queue_breach",
];

/// Metric names a custom rule may use today.
pub const METRIC_NAMES: &[&str] = &[
    "orders_today",
    "revenue_today",
    "orders_per_day",
    "orders_per_hour",
];

/// What the conditions of one brand read.
#[derive(Debug, Clone)]
pub struct BrandInputs {
    pub brand: Brand,
    pub hours: BusinessHours,
    pub sources: Vec<SourceId>,
    /// How often each of the brand's source resources is expected to sync.
    pub cadences: opsdeck_metrics::Cadences,
    /// The brand's sales rollup from the projection, covering at least
    /// `[orders_from, now)` ([`SalesSeries::window`]); `None` without a
    /// projection, which leaves the order rules silent.
    pub sales: Option<SalesSeries>,
    /// Where `sales` begins: 8 local days back (see [`orders_from`]).
    pub orders_from: Timestamp,
    /// The brand's panels ([`Panels::read`]) for the panel-backed rules;
    /// `None` leaves those rules silent.
    pub panels: Option<Panels>,
}

/// Everything the conditions read in one cycle.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    pub brands: Vec<BrandInputs>,
    pub sync_states: Vec<SyncState>,
}

/// The earliest instant the conditions need orders from: local midnight
/// 8 days before `now` in the brand's zone.
pub fn orders_from(brand: &Brand, now: Timestamp) -> Timestamp {
    let local = now.to_zoned(brand.time_zone.clone());
    let day = local.date().checked_sub(8.days()).unwrap_or(local.date());
    opsdeck_domain::period::local_midnight(day, &brand.time_zone)
}

/// Observations of every enabled rule for every brand.
pub fn observe_all(
    rules: &RuleSet,
    snapshot: &MetricsSnapshot,
    now: Timestamp,
) -> Vec<Observation> {
    let mut out = Vec::new();
    for inputs in &snapshot.brands {
        for rule in rules.all() {
            let Some(rule) = rules.for_brand(&rule.id, inputs.brand.id.as_str()) else {
                continue;
            };
            if rule.enabled {
                out.extend(observe(&rule, inputs, snapshot, now));
            }
        }
    }
    out
}

/// What one rule sees for one brand.
pub fn observe(
    rule: &Rule,
    inputs: &BrandInputs,
    snapshot: &MetricsSnapshot,
    now: Timestamp,
) -> Vec<Observation> {
    if !inputs.brand.launched {
        return Vec::new();
    }
    let base = |subject: &str, path: &str| Observation {
        rule: rule.id.clone(),
        brand: inputs.brand.id.as_str().to_string(),
        subject: subject.to_string(),
        value: None,
        baseline: None,
        threshold: None,
        active: false,
        why: String::new(),
        why_without_money: None,
        dashboard_path: format!("/?brand={}{path}", inputs.brand.id.as_str()),
    };
    if reads_orders(&rule.condition) {
        if inputs.sales.is_none() {
            // No projection: no orders to read, so nothing to say either way.
            return Vec::new();
        }
        if let Some(waiting) = orders_not_synced(inputs, snapshot) {
            // Before the first orders sync the store holds only what
            // webhooks brought: "no orders" would be a false alarm.
            let mut obs = base("brand", "#sources");
            obs.why = format!("Waiting for the first successful orders sync of {waiting}.");
            return vec![obs];
        }
    }
    match &rule.condition {
        Condition::RevenueAnomaly { ratio, min_orders } => {
            vec![revenue_anomaly(
                inputs,
                now,
                *ratio,
                *min_orders,
                base("brand", "#sales"),
            )]
        }
        Condition::ZeroOrders { hours } => {
            vec![zero_orders(inputs, now, *hours, base("brand", "#orders"))]
        }
        Condition::SourceStale {
            cadence_factor,
            failures,
        } => inputs
            .sources
            .iter()
            .map(|s| {
                let obs = base(&format!("source:{s}"), "#sources");
                source_stale(s, inputs, snapshot, now, *cadence_factor, *failures, obs)
            })
            .collect(),
        Condition::Custom(c) => custom(c, inputs, now, base("brand", "#orders"))
            .into_iter()
            .collect(),
        other => match &inputs.panels {
            Some(d) => crate::panel_conditions::observe_panels(other, &inputs.brand, d, &base)
                .unwrap_or_default(),
            None => Vec::new(),
        },
    }
}

/// Whether a condition reads the brand's order history (every custom
/// metric in [`METRIC_NAMES`] does).
fn reads_orders(c: &Condition) -> bool {
    matches!(
        c,
        Condition::RevenueAnomaly { .. } | Condition::ZeroOrders { .. } | Condition::Custom(_)
    )
}

/// The brand's order sources that have never completed an `orders` sync,
/// comma-separated; `None` when every one has (or the brand has none:
/// its orders come from ingest or import, with nothing to wait for).
pub fn orders_not_synced(inputs: &BrandInputs, snapshot: &MetricsSnapshot) -> Option<String> {
    let waiting: Vec<&str> = inputs
        .sources
        .iter()
        .filter(|source| {
            !snapshot.sync_states.iter().any(|s| {
                &s.source == *source && s.resource == "orders" && s.last_success_at.is_some()
            })
        })
        .map(|s| s.as_str())
        .collect();
    (!waiting.is_empty()).then(|| waiting.join(", "))
}

/// (revenue minor units, orders) of the orders created in `[from, to)`, as
/// the projection counts them (cancelled orders count as orders, not
/// revenue; other currencies are left out of revenue).
fn tally(inputs: &BrandInputs, from: Timestamp, to: Timestamp) -> (i128, u64) {
    let Some(sales) = &inputs.sales else {
        return (0, 0);
    };
    let x = sales.sum(from.as_second(), to.as_second());
    (x.revenue, u64::try_from(x.orders).unwrap_or(0))
}

/// The span `[local midnight, same wall-clock time)` of the day `days_back`
/// days before `now`'s local day.
fn same_span(brand: &Brand, now: Timestamp, days_back: i64) -> Option<(Timestamp, Timestamp)> {
    let local = now.to_zoned(brand.time_zone.clone());
    let day = local.date().checked_sub(days_back.days()).ok()?;
    let start = opsdeck_domain::period::local_midnight(day, &brand.time_zone);
    let end = day
        .to_datetime(local.time())
        .to_zoned(brand.time_zone.clone())
        .ok()?
        .timestamp();
    Some((start, end.max(start)))
}

fn revenue_anomaly(
    inputs: &BrandInputs,
    now: Timestamp,
    ratio: f64,
    min_orders: u64,
    mut obs: Observation,
) -> Observation {
    let brand = &inputs.brand;
    let Some(sales) = &inputs.sales else {
        return obs;
    };
    let now_s = now.as_second();
    let so_far = so_far(sales, &brand.time_zone, now_s);
    let revenue = so_far.today.revenue;
    let orders = so_far.today.orders;
    let base_revenue = so_far.baseline_revenue;
    let base_orders = so_far.baseline_orders;
    let threshold = (base_revenue * ratio).round() as i128;
    let amount = |minor: i128| sums::money(minor, brand.currency);
    let shown = |minor: i128| amount(minor).display();
    obs.value = Some(Figure::amount(revenue as f64, amount(revenue)));
    obs.baseline = Some(Figure::amount(
        base_revenue,
        amount(base_revenue.round() as i128),
    ));
    obs.threshold = Some(Figure::amount(threshold as f64, amount(threshold)));
    let until = now.to_zoned(brand.time_zone.clone()).strftime("%H:%M");
    if base_orders < min_orders as f64 {
        obs.why = format!(
            "Too few orders to judge: the 7-day baseline until {until} averages {base_orders:.1} orders, below the floor of {min_orders}."
        );
        return obs;
    }
    // The pulse's rule: a difference counts only when chance is unlikely
    // to give it (the evidence test), here with the rule's own floor.
    let evidence = revenue_evidence(revenue as f64, base_revenue, base_orders, min_orders as f64);
    let below = (revenue as f64) < base_revenue * ratio;
    obs.active = below && evidence.is_some_and(|e| e.significant);
    let share = if base_revenue > 0.0 {
        revenue as f64 / base_revenue * 100.0
    } else {
        0.0
    };
    obs.why = match evidence {
        Some(e) if below && !e.significant => format!(
            "Too early to tell: revenue today until {until} is {} from {orders} orders, {share:.0} % of the usual {}, which a baseline of {base_orders:.1} orders gives by chance (probability {:.3}; alert under {}).",
            shown(revenue),
            shown(base_revenue.round() as i128),
            e.p_value,
            opsdeck_metrics::variance::SIGNIFICANCE,
        ),
        _ => format!(
            "Revenue today until {until} is {} from {orders} orders, {share:.0} % of the usual {} (7-day average for the same hours); alert below {:.0} %.",
            shown(revenue),
            shown(base_revenue.round() as i128),
            ratio * 100.0
        ),
    };
    // The same reason for roles that may not see money.
    obs.why_without_money = Some(match evidence {
        Some(e) if below && !e.significant => format!(
            "Too early to tell: revenue today until {until} is {share:.0} % of the usual from {orders} orders, which a baseline of {base_orders:.1} orders gives by chance (probability {:.3}; alert under {}).",
            e.p_value,
            opsdeck_metrics::variance::SIGNIFICANCE,
        ),
        _ => format!(
            "Revenue today until {until} is {share:.0} % of the usual (7-day average for the same hours) from {orders} orders; alert below {:.0} %.",
            ratio * 100.0
        ),
    });
    obs
}

fn zero_orders(
    inputs: &BrandInputs,
    now: Timestamp,
    hours: f64,
    mut obs: Observation,
) -> Observation {
    let last = inputs
        .sales
        .as_ref()
        .and_then(|s| s.latest_order_at_or_before(now.as_second()))
        .and_then(|t| Timestamp::from_second(t).ok());
    let since = last.unwrap_or(inputs.orders_from);
    let quiet = inputs.hours.open_time_between(since, now);
    let limit = SignedDuration::from_secs_f64(hours * 3600.0);
    let quiet_h = quiet.as_secs_f64() / 3600.0;
    obs.value = Some(Figure::new(quiet_h, format!("{quiet_h:.1} h")));
    obs.threshold = Some(Figure::new(hours, format!("{hours} h")));
    obs.active = quiet >= limit;
    let tz = inputs.brand.time_zone.clone();
    obs.why = match last {
        Some(t) => format!(
            "No order since {} ({quiet_h:.1} business hours); alert after {hours} h of business hours without one.",
            t.to_zoned(tz).strftime("%a %H:%M %Z")
        ),
        None => format!("No order in the last 8 days ({quiet_h:.1} business hours)."),
    };
    obs
}

fn source_stale(
    source: &SourceId,
    inputs: &BrandInputs,
    snapshot: &MetricsSnapshot,
    now: Timestamp,
    factor: f64,
    failures: u32,
    mut obs: Observation,
) -> Observation {
    let states: Vec<&SyncState> = snapshot
        .sync_states
        .iter()
        .filter(|s| &s.source == source)
        .collect();
    if states.is_empty() {
        return obs;
    }
    // The one staleness rule (tiles and /sources call it too), each
    // resource against its own cadence. Pushed webhooks have a health
    // (failures count below) but no cadence.
    let polled: Vec<SyncState> = snapshot
        .sync_states
        .iter()
        .filter(|s| s.resource != WEBHOOKS_RESOURCE)
        .cloned()
        .collect();
    let staleness =
        opsdeck_metrics::source_staleness(source, &polled, &inputs.cadences, factor, now);
    let worst_failures = states
        .iter()
        .map(|s| s.consecutive_failures)
        .max()
        .unwrap_or(0);
    let (age, limit) = match staleness {
        Some(Staleness::Stale {
            age_seconds,
            limit_seconds,
        }) => (Some(age_seconds), Some(limit_seconds)),
        Some(Staleness::Fresh { age_seconds }) => (Some(age_seconds), None),
        _ => (None, None),
    };
    let stale = staleness.is_some_and(Staleness::is_stale);
    let failing = worst_failures >= failures;
    // A cause retrying will not fix (a missing scope, a shop in another
    // currency) alerts on the first run that finds it.
    let attention = states.iter().find(|s| s.needs_attention);
    obs.active = stale || failing || attention.is_some();
    let mins = |secs: i64| secs as f64 / 60.0;
    if let Some(l) = limit {
        obs.threshold = Some(Figure::new(mins(l), format!("{:.0} min", mins(l))));
    }
    if let Some(a) = age {
        obs.value = Some(Figure::new(mins(a), format!("{:.0} min", mins(a))));
    }
    let error = states
        .iter()
        .filter(|s| s.consecutive_failures > 0)
        .find_map(|s| s.last_error.clone());
    obs.why = match (age, failing) {
        _ if attention.is_some() && !failing => format!(
            "{source} needs attention ({}): {}.",
            attention.map_or("", |s| s.resource.as_str()),
            attention
                .and_then(|s| s.last_error.clone())
                .unwrap_or_else(|| "unknown".into())
        ),
        (_, true) => format!(
            "{source} failed {worst_failures} times in a row (alert at {failures}); last error: {}.",
            error.unwrap_or_else(|| "unknown".into())
        ),
        (Some(a), false) => match limit {
            Some(l) => format!(
                "{source} last synced {:.0} min ago; expected every {:.0} min, alert after {:.0} min.",
                mins(a),
                mins(l) / factor.max(f64::EPSILON),
                mins(l)
            ),
            None => format!("{source} last synced {:.0} min ago.", mins(a)),
        },
        (None, false) => format!("{source} has not completed a sync yet."),
    };
    obs
}

/// A named metric: its value now, what it is compared with, and a series
/// (oldest first) for "N consecutive" rules.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedMetric {
    pub value: f64,
    pub baseline: Option<f64>,
    /// The volume behind the baseline (orders), for the floor.
    pub volume: Option<f64>,
    pub series: Vec<f64>,
    pub series_unit: Option<SeriesUnit>,
}

/// The metrics a custom rule can name, for one brand.
pub fn named_metrics(inputs: &BrandInputs, now: Timestamp) -> BTreeMap<&'static str, NamedMetric> {
    let brand = &inputs.brand;
    let mut out = BTreeMap::new();
    let Some((start, end)) = same_span(brand, now, 0) else {
        return out;
    };
    let (revenue, orders) = tally(inputs, start, end);
    let prior = same_span(brand, now, 1).map(|(s, e)| tally(inputs, s, e));
    let exp = 10f64.powi(i32::from(brand.currency.exponent()));
    out.insert(
        "orders_today",
        NamedMetric {
            value: orders as f64,
            baseline: prior.map(|p| p.1 as f64),
            volume: prior.map(|p| p.1 as f64),
            series: vec![],
            series_unit: None,
        },
    );
    out.insert(
        "revenue_today",
        NamedMetric {
            value: revenue as f64 / exp,
            baseline: prior.map(|p| p.0 as f64 / exp),
            volume: prior.map(|p| p.1 as f64),
            series: vec![],
            series_unit: None,
        },
    );
    // Completed local days, oldest first.
    let daily: Vec<f64> = (1..=7)
        .rev()
        .filter_map(|k| {
            let local = now.to_zoned(brand.time_zone.clone());
            let day = local.date().checked_sub(k.days()).ok()?;
            let s = opsdeck_domain::period::local_midnight(day, &brand.time_zone);
            let e = opsdeck_domain::period::local_midnight(day.tomorrow().ok()?, &brand.time_zone);
            Some(tally(inputs, s, e).1 as f64)
        })
        .collect();
    out.insert(
        "orders_per_day",
        NamedMetric {
            value: daily.last().copied().unwrap_or(0.0),
            baseline: None,
            volume: None,
            series: daily,
            series_unit: Some(SeriesUnit::Days),
        },
    );
    // Completed hours, oldest first (the last 24).
    let hour_start = now
        .round(
            jiff::TimestampRound::new()
                .smallest(jiff::Unit::Hour)
                .mode(jiff::RoundMode::Trunc),
        )
        .unwrap_or(now);
    let hourly: Vec<f64> = (1..=24i64)
        .rev()
        .map(|k| {
            let s = hour_start - SignedDuration::from_hours(k);
            tally(inputs, s, s + SignedDuration::from_hours(1)).1 as f64
        })
        .collect();
    out.insert(
        "orders_per_hour",
        NamedMetric {
            value: hourly.last().copied().unwrap_or(0.0),
            baseline: None,
            volume: None,
            series: hourly,
            series_unit: Some(SeriesUnit::Hours),
        },
    );
    out
}

fn crosses(direction: Direction, value: f64, threshold: f64) -> bool {
    match direction {
        Direction::Below => value < threshold,
        Direction::Above => value > threshold,
    }
}

fn custom(
    c: &CustomCondition,
    inputs: &BrandInputs,
    now: Timestamp,
    mut obs: Observation,
) -> Option<Observation> {
    let metrics = named_metrics(inputs, now);
    let Some(m) = metrics.get(c.metric.as_str()) else {
        obs.why = format!("metric {:?} is not available", c.metric);
        return Some(obs);
    };
    let word = match c.direction {
        Direction::Below => "below",
        Direction::Above => "above",
    };
    match &c.test {
        CustomTest::Threshold { value } => {
            let n = c.consecutive.max(1) as usize;
            let values: Vec<f64> = if n > 1 {
                if m.series_unit != Some(c.per) || m.series.len() < n {
                    obs.why = format!("{} has no {n}-step series", c.metric);
                    return Some(obs);
                }
                m.series[m.series.len() - n..].to_vec()
            } else {
                vec![m.value]
            };
            obs.active = values.iter().all(|v| crosses(c.direction, *v, *value));
            obs.value = Some(Figure::new(m.value, format!("{}", m.value)));
            obs.threshold = Some(Figure::new(*value, format!("{value}")));
            let unit = match c.per {
                SeriesUnit::Days => "days",
                SeriesUnit::Hours => "hours",
            };
            obs.why = if n > 1 {
                format!("{} was {values:?} over the last {n} {unit}; alert when {word} {value} for all {n}.", c.metric)
            } else {
                format!("{} is {}; alert when {word} {value}.", c.metric, m.value)
            };
            if is_money(&c.metric) {
                let state = if obs.active { "is" } else { "is not" };
                obs.why_without_money =
                    Some(format!("{} {state} {word} the rule's threshold.", c.metric));
            }
        }
        CustomTest::ChangeVsBaseline {
            percent,
            min_volume,
        } => {
            let (Some(base), volume) = (m.baseline, m.volume.unwrap_or(0.0)) else {
                obs.why = format!("{} has no baseline", c.metric);
                return Some(obs);
            };
            obs.value = Some(Figure::new(m.value, format!("{}", m.value)));
            obs.baseline = Some(Figure::new(base, format!("{base}")));
            obs.threshold = Some(Figure::new(*percent, format!("{percent} %")));
            if volume < *min_volume || base == 0.0 {
                obs.why = format!(
                    "{}: baseline volume {volume} is under the floor of {min_volume}",
                    c.metric
                );
                mark_amounts(c, &mut obs);
                return Some(obs);
            }
            let change = (m.value - base) / base * 100.0;
            obs.active = match c.direction {
                Direction::Below => change < -percent,
                Direction::Above => change > *percent,
            };
            obs.why = format!(
                "{} is {} vs {base} at the same time yesterday ({change:+.0} %); alert when {word} by more than {percent} %.",
                c.metric, m.value
            );
            obs.why_without_money = is_money(&c.metric).then(|| {
                format!(
                    "{} is {change:+.0} % vs the same time yesterday; alert when {word} by more than {percent} %.",
                    c.metric
                )
            });
        }
    }
    mark_amounts(c, &mut obs);
    Some(obs)
}

/// Marks a money metric's figures as amounts (the threshold too, unless it
/// is a percentage).
fn mark_amounts(c: &CustomCondition, obs: &mut Observation) {
    if !is_money(&c.metric) {
        return;
    }
    for figure in [&mut obs.value, &mut obs.baseline].into_iter().flatten() {
        figure.money = true;
    }
    if matches!(c.test, CustomTest::Threshold { .. }) {
        if let Some(t) = &mut obs.threshold {
            t.money = true;
        }
    }
}

/// Whether a custom rule's metric is an amount of money (shown only to
/// roles that may see revenue).
fn is_money(metric: &str) -> bool {
    metric == "revenue_today"
}
