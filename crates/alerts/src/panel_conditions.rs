//! The conditions that read the metrics crate's panels: unfulfilled stale,
//! fulfillment blocker, inventory critical / low, top SKU cover, CSAT drop /
//! below target, ticket backlog spike, resolution time spike, chargeback
//! risk, review SLA breached, refunds queue breach. Each is a pure function
//! of one brand's [`Panels`] (its
//! [`BrandDashboard`], and the whole lists behind the dashboard's first
//! pages, from the same functions), so what fires is exactly what the
//! dashboard counts.

use crate::observation::{Figure, Observation};
use crate::rules::Condition;
use opsdeck_domain::{Brand, Timestamp};
use opsdeck_metrics::panels::fulfillment::{stale_orders, StaleOrder};
use opsdeck_metrics::panels::inventory::{stock_alert, StockAlert};
use opsdeck_metrics::panels::pulse::{all_blockers, Blocker};
use opsdeck_metrics::panels::refunds_queue::{breaches, QueueItem};
use opsdeck_metrics::panels::review_queues::{review_queues, ReviewQueue};
use opsdeck_metrics::panels::urgent::{flagged_tickets, UrgentFlag, UrgentTicket};
use opsdeck_metrics::panels::{brand_dashboard, BrandDashboard, PanelConfig, Range};
use opsdeck_metrics::projection::{BrandIx, Projection};

/// What the panel rules read of one brand.
#[derive(Debug, Clone)]
pub struct Panels {
    /// The brand's dashboard over 7 days.
    pub dashboard: BrandDashboard,
    /// Every open fulfillment blocker, not only the
    /// [`BLOCKERS_SHOWN`](opsdeck_metrics::panels::pulse::BLOCKERS_SHOWN)
    /// the pulse lists.
    pub blockers: Vec<Blocker>,
    /// Every flagged open ticket, ranked, not only the queue's first page.
    pub flagged: Vec<UrgentTicket>,
    /// Every stale open order, oldest first, not only the
    /// [`STALE_SHOWN`](opsdeck_metrics::panels::fulfillment::STALE_SHOWN)
    /// the fulfillment panel lists.
    pub stale: Vec<StaleOrder>,
    /// The brand's review queues against their SLAs, as the review queue
    /// page shows them.
    pub review_queues: Vec<ReviewQueue>,
    /// Every breached item of the refunds queue, most overdue first.
    pub queue_breaches: Vec<QueueItem>,
}

impl Panels {
    /// The panels of brand index `b` as the dashboard computes them.
    pub fn read(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Panels {
        Panels {
            dashboard: brand_dashboard(p, cfg, b, Range::Days { days: 7 }, now),
            blockers: all_blockers(p, cfg, b, now),
            flagged: flagged_tickets(p, cfg, b, now),
            stale: stale_orders(p, b, now).collect(),
            review_queues: review_queues(p, &cfg.review_slas, b, now),
            queue_breaches: breaches(p, cfg, b, now),
        }
    }
}

/// Observations of a panel-backed condition; `None` for the other kinds.
/// `base` is an observation with rule, brand and path filled in.
pub fn observe_panels(
    condition: &Condition,
    brand: &Brand,
    panels: &Panels,
    base: &dyn Fn(&str, &str) -> Observation,
) -> Option<Vec<Observation>> {
    let d = &panels.dashboard;
    let mut out = Vec::new();
    match condition {
        Condition::UnfulfilledStale => {
            let limit = d.fulfillment.stale_after_days;
            for s in &panels.stale {
                let mut o = base(&format!("order:{}", s.order), "#fulfillment");
                o.active = true;
                o.value = Some(Figure::new(
                    s.age_hours as f64 / 24.0,
                    format!("{:.1} days", s.age_hours as f64 / 24.0),
                ));
                o.threshold = Some(Figure::new(f64::from(limit), format!("{limit} days")));
                o.why = format!(
                    "Order {} has waited {:.1} days unfulfilled{}; the limit for this brand is {limit} days.",
                    s.order,
                    s.age_hours as f64 / 24.0,
                    if s.partial { " (partly shipped)" } else { "" }
                );
                out.push(o);
            }
        }
        Condition::FulfillmentBlocker {
            hours,
            escalate_value_minor,
        } => {
            for b in panels
                .blockers
                .iter()
                .filter(|b| b.age_hours as f64 > *hours)
            {
                let mut o = base(&format!("order:{}", b.order), "#pulse");
                o.active = true;
                o.value = Some(Figure::new(
                    b.age_hours as f64,
                    format!("{} h", b.age_hours),
                ));
                o.threshold = Some(Figure::new(*hours, format!("{hours} h")));
                let high = b.value.minor > *escalate_value_minor || b.high_value;
                let high_note = if high {
                    " High value: tell the ops manager too."
                } else {
                    ""
                };
                o.why = format!(
                    "Order {} ({}) unfulfilled for {} h; blocker after {hours} h.{high_note}",
                    b.order,
                    b.value.display(),
                    b.age_hours,
                );
                o.why_without_money = Some(format!(
                    "Order {} unfulfilled for {} h; blocker after {hours} h.{high_note}",
                    b.order, b.age_hours,
                ));
                out.push(o);
            }
        }
        Condition::InventoryCritical | Condition::InventoryLow => {
            // Which alert a variant raises (dropship lowering included) is
            // decided once, by the inventory panel: see `stock_alert`.
            let want = match condition {
                Condition::InventoryCritical => StockAlert::Critical,
                _ => StockAlert::Low,
            };
            let critical = brand.thresholds.critical_stock;
            for line in d.inventory.alerts.iter().filter(|l| l.alert == Some(want)) {
                let name = line.sku.clone().unwrap_or_else(|| line.variant.clone());
                let mut o = base(&format!("sku:{name}"), "#inventory");
                // The level before any dropship lowering, for the words.
                let level = stock_alert(line.stock_state, line.quantity, critical, None);
                let at_critical = level == Some(StockAlert::Critical);
                let limit = if at_critical {
                    critical
                } else {
                    line.threshold
                };
                o.active = true;
                o.value = Some(Figure::count(line.quantity as f64, "units"));
                o.baseline = Some(Figure::new(
                    line.velocity_per_week,
                    format!("{:.1} units/week", line.velocity_per_week),
                ));
                o.threshold = Some(Figure::new(limit as f64, format!("≤ {limit} units")));
                let cover = line
                    .days_until_stockout
                    .map(|d| format!(", about {d:.1} days until it runs out"))
                    .unwrap_or_default();
                let lowered = if line.alert != level {
                    " (a dropship brand: alerted one tier lower)"
                } else {
                    ""
                };
                o.why = format!(
                    "{} ({}) has {} units left, {}{cover}; {} at {limit} or fewer{lowered}.",
                    line.product,
                    line.variant,
                    line.quantity,
                    line.stock_state.label(),
                    if at_critical { "critical" } else { "low" },
                );
                out.push(o);
            }
        }
        Condition::TopSkuCover { days } => {
            for s in &d.pulse.top_skus_today {
                let short = s.days_of_cover.is_some_and(|c| c < *days);
                if !(s.out_of_stock || short) {
                    continue;
                }
                let mut o = base(&format!("sku:{}", s.sku), "#pulse");
                o.active = true;
                o.value = s
                    .days_of_cover
                    .map(|c| Figure::new(c, format!("{c:.1} days")));
                o.threshold = Some(Figure::new(*days, format!("{days} days")));
                o.why = if s.out_of_stock {
                    format!(
                        "Top seller {} is out of stock ({} sold today).",
                        s.sku, s.units
                    )
                } else {
                    format!(
                        "Top seller {} has {:.1} days of cover at {:.1} units/week; alert under {days} days.",
                        s.sku,
                        s.days_of_cover.unwrap_or(0.0),
                        s.velocity_per_week
                    )
                };
                out.push(o);
            }
        }
        Condition::CsatDrop { drop } => {
            let t = &d.csat.trend;
            if t.len() >= 8 {
                let (now_v, then_v) = (t[t.len() - 1].value, t[t.len() - 8].value);
                if now_v.is_finite() && then_v.is_finite() {
                    let mut o = base("brand", "#csat");
                    o.active = then_v - now_v > *drop;
                    o.value = Some(Figure::new(now_v, format!("{now_v:.2}")));
                    o.baseline = Some(Figure::new(then_v, format!("{then_v:.2}")));
                    o.threshold = Some(Figure::new(*drop, format!("drop > {drop}")));
                    o.why = format!(
                        "7-day CSAT is {now_v:.2}, {then_v:.2} a week earlier (change {:+.2}); alert on a drop of more than {drop}.",
                        now_v - then_v
                    );
                    out.push(o);
                }
            }
        }
        Condition::CsatBelowTarget { below, days } => {
            let n = *days as usize;
            let daily = &d.csat.daily;
            if n > 0 && daily.len() >= n {
                let last: Vec<f64> = daily[daily.len() - n..].iter().map(|p| p.value).collect();
                let mut o = base("brand", "#csat");
                o.active = last.iter().all(|v| v.is_finite() && v < below);
                let latest = last[n - 1];
                o.value = Some(Figure::new(latest, format!("{latest:.2}")));
                o.threshold = Some(Figure::new(*below, format!("< {below} for {days} days")));
                let shown: Vec<String> = last.iter().map(|v| format!("{v:.2}")).collect();
                o.why = format!(
                    "Daily CSAT over the last {days} days: {}; alert when every day is below {below}.",
                    shown.join(", ")
                );
                out.push(o);
            }
        }
        Condition::TicketBacklogSpike { floor, factor } => {
            let q = &d.queue;
            let prior: Vec<f64> = q
                .created_series
                .iter()
                .rev()
                .skip(1)
                .take(7)
                .map(|p| p.value)
                .collect();
            let mean = if prior.is_empty() {
                0.0
            } else {
                prior.iter().sum::<f64>() / prior.len() as f64
            };
            let limit = floor.max(factor * mean);
            let mut o = base("brand", "#support");
            o.active = q.created_today as f64 > limit;
            o.value = Some(Figure::count(q.created_today as f64, "tickets"));
            o.baseline = Some(Figure::new(mean, format!("{mean:.1} tickets/day")));
            o.threshold = Some(Figure::new(limit, format!("> {limit:.0} tickets")));
            o.why = format!(
                "{} new tickets today; the 7-day mean is {mean:.1}/day, alert above max({floor}, {factor} × mean) = {limit:.0}.",
                q.created_today
            );
            out.push(o);
        }
        Condition::ResolutionTimeSpike { hours } => {
            if let Some(mean) = d.times.resolution_mean_hours {
                let mut o = base("brand", "#support");
                o.active = mean > *hours;
                o.value = Some(Figure::new(mean, format!("{mean:.1} h")));
                o.threshold = Some(Figure::new(*hours, format!("{hours} h")));
                o.why = format!(
                    "Tickets resolved over the last 7 days took {mean:.1} h on average ({} tickets); alert above {hours} h.",
                    d.times.resolved_tickets
                );
                out.push(o);
            }
        }
        Condition::ChargebackRisk { hours } => {
            for t in &panels.flagged {
                let Some(flag) = t
                    .flags
                    .iter()
                    .find(|f| f.flag == UrgentFlag::ChargebackRisk)
                else {
                    continue;
                };
                if (t.age_hours as f64) <= *hours {
                    continue;
                }
                let subject = match &t.linked_order {
                    Some(order) => format!("ticket:order {order}"),
                    None => format!("ticket:{}", t.ticket_created_at),
                };
                let mut o = base(&subject, "#urgent");
                o.active = true;
                o.value = Some(Figure::new(
                    t.age_hours as f64,
                    format!("{} h", t.age_hours),
                ));
                o.threshold = Some(Figure::new(*hours, format!("{hours} h")));
                o.why = format!(
                    "A ticket flagged for chargeback risk ({}) has been open {} h; alert after {hours} h.",
                    flag.reason, t.age_hours
                );
                out.push(o);
            }
        }
        Condition::ReviewSlaBreached => {
            for q in &panels.review_queues {
                let c = &q.counts;
                let Some(sla) = &c.sla else {
                    // No deadline configured: nothing can be late.
                    continue;
                };
                let mut o = base(&format!("queue:{}", c.queue), "#review-queues");
                o.dashboard_path = format!("/queues/review?brand={}", brand.id.as_str());
                o.active = c.breached > 0;
                o.value = Some(Figure::count(c.breached as f64, "breached"));
                o.threshold = Some(Figure::new(
                    c.sla_seconds.unwrap_or(0) as f64 / 3600.0,
                    sla.clone(),
                ));
                // The items are listed most overdue first.
                let oldest = q.items.first().filter(|_| c.breached > 0);
                o.why = match oldest {
                    Some(i) => format!(
                        "{} of {} waiting in {} are past their {sla} SLA; the oldest ({}) has waited {}, {}.",
                        c.breached,
                        c.pending,
                        c.queue,
                        i.external_id,
                        i.age,
                        i.time_left.as_deref().unwrap_or("overdue"),
                    ),
                    None => format!(
                        "None of the {} waiting in {} is past its {sla} SLA ({} at risk).",
                        c.pending, c.queue, c.at_risk
                    ),
                };
                out.push(o);
            }
        }
        Condition::RefundQueueBreach => {
            for item in &panels.queue_breaches {
                let subject = format!(
                    "{}:{}/{}",
                    item.kind.as_str(),
                    item.source,
                    item.external_id
                );
                let mut o = base(&subject, "");
                o.dashboard_path = format!("/queues/refunds?brand={}", item.brand);
                o.active = true;
                let window = (item.deadline.as_second() - item.started_at.as_second()) as f64;
                o.value = Some(Figure::new(
                    item.age_seconds as f64 / 3600.0,
                    item.age.clone(),
                ));
                o.threshold = Some(Figure::new(
                    window / 3600.0,
                    format!("{:.0} h", window / 3600.0),
                ));
                let order = item
                    .order
                    .as_ref()
                    .map(|o| format!(" (order {})", o.name))
                    .unwrap_or_default();
                o.why = format!(
                    "The {} {}{order} has waited {}: {} past its deadline.",
                    item.kind.label(),
                    item.external_id,
                    item.age,
                    item.time_left.trim_start_matches("overdue by "),
                );
                out.push(o);
            }
        }
        _ => return None,
    }
    Some(out)
}
