//! The conditions: from metrics to [`Observation`]s.
//!
//! `observe(rule, brand, snapshot, now)` is a pure function of the
//! snapshot the caller assembled (order facts and sync states from the
//! store today; the projection's panels as they land). Implemented now,
//! from what the metrics crate and the store already offer:
//! - `revenue_anomaly`: revenue so far today vs the mean of the same
//!   local time span on each of the 7 previous days (DST-correct wall-clock
//!   spans), only when that baseline averages at least `min_orders` orders;
//! - `zero_orders`: no order for N hours of the brand's business hours;
//! - `source_stale`: a source not synced for `cadence_factor` × its
//!   cadence, or failing `failures` times in a row;
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
//! ticket backlog spike, resolution time spike, chargeback risk. They read
//! [`BrandInputs::panels`]; without panels (no projection given) they
//! observe nothing, so they can neither fire nor resolve wrongly.

use crate::hours::BusinessHours;
use crate::observation::{Figure, Observation};
use crate::rules::{Condition, CustomCondition, CustomTest, Direction, Rule, RuleSet, SeriesUnit};
use jiff::{SignedDuration, Timestamp, ToSpan};
use opsdeck_domain::{Brand, Money, SourceId};
use opsdeck_metrics::panels::BrandDashboard;
use opsdeck_metrics::Staleness;
use opsdeck_store::{OrderFact, SyncState};
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
    /// Non-test orders created in `[facts_from, now)`; `facts_from` must be
    /// at least 8 local days back (see [`facts_from`]).
    pub order_facts: Vec<OrderFact>,
    pub facts_from: Timestamp,
    /// The brand's panels (`brand_dashboard(.., Range::Days { days: 7 }, now)`)
    /// for the panel-backed rules; `None` leaves those rules silent.
    pub panels: Option<BrandDashboard>,
}

/// Everything the conditions read in one cycle.
#[derive(Debug, Clone, Default)]
pub struct MetricsSnapshot {
    pub brands: Vec<BrandInputs>,
    pub sync_states: Vec<SyncState>,
}

/// The earliest instant the conditions need order facts from: local
/// midnight 8 days before `now` in the brand's zone.
pub fn facts_from(brand: &Brand, now: Timestamp) -> Timestamp {
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
        dashboard_path: format!("/?brand={}{path}", inputs.brand.id.as_str()),
    };
    if reads_orders(&rule.condition) {
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

fn money(minor: i64, brand: &Brand) -> Money {
    Money::new(minor, brand.currency)
}

/// (revenue minor units, orders) of facts created in `[from, to)`; cancelled
/// orders count as orders but not revenue, other currencies are skipped.
fn tally(inputs: &BrandInputs, from: Timestamp, to: Timestamp) -> (i64, u64) {
    let mut revenue = 0i64;
    let mut orders = 0u64;
    for f in inputs
        .order_facts
        .iter()
        .filter(|f| f.created_at >= from && f.created_at < to)
    {
        orders += 1;
        if !f.cancelled && f.total_price.currency == inputs.brand.currency {
            revenue = revenue.saturating_add(f.total_price.minor);
        }
    }
    (revenue, orders)
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
    let Some((start, end)) = same_span(brand, now, 0) else {
        return obs;
    };
    let (revenue, orders) = tally(inputs, start, end);
    let days: Vec<(i64, u64)> = (1..=7)
        .filter_map(|k| same_span(brand, now, k))
        .map(|(s, e)| tally(inputs, s, e))
        .collect();
    let n = days.len().max(1) as f64;
    let base_revenue = days.iter().map(|d| d.0 as f64).sum::<f64>() / n;
    let base_orders = days.iter().map(|d| d.1 as f64).sum::<f64>() / n;
    let threshold = (base_revenue * ratio).round() as i64;
    obs.value = Some(Figure::new(revenue as f64, money(revenue, brand).display()));
    obs.baseline = Some(Figure::new(
        base_revenue,
        money(base_revenue.round() as i64, brand).display(),
    ));
    obs.threshold = Some(Figure::new(
        threshold as f64,
        money(threshold, brand).display(),
    ));
    let until = end.to_zoned(brand.time_zone.clone()).strftime("%H:%M");
    if base_orders < min_orders as f64 {
        obs.why = format!(
            "Too few orders to judge: the 7-day baseline until {until} averages {base_orders:.1} orders, below the floor of {min_orders}."
        );
        return obs;
    }
    obs.active = (revenue as f64) < base_revenue * ratio;
    obs.why = format!(
        "Revenue today until {until} is {} from {orders} orders, {:.0} % of the usual {} (7-day average for the same hours); alert below {:.0} %.",
        money(revenue, brand).display(),
        if base_revenue > 0.0 { revenue as f64 / base_revenue * 100.0 } else { 0.0 },
        money(base_revenue.round() as i64, brand).display(),
        ratio * 100.0
    );
    obs
}

fn zero_orders(
    inputs: &BrandInputs,
    now: Timestamp,
    hours: f64,
    mut obs: Observation,
) -> Observation {
    let last = inputs
        .order_facts
        .iter()
        .map(|f| f.created_at)
        .filter(|t| *t <= now)
        .max();
    let since = last.unwrap_or(inputs.facts_from);
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

#[allow(clippy::too_many_arguments)]
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
    // resource against its own cadence.
    let staleness = opsdeck_metrics::source_staleness(
        source,
        &snapshot.sync_states,
        &inputs.cadences,
        factor,
        now,
    );
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
    obs.active = stale || failing;
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
        }
    }
    Some(obs)
}
