//! One module per dashboard panel. Each is a pure function of
//! (projection, [`PanelConfig`], [`Range`], now) returning serializable
//! values whose time series are `[{t, value}]` (t = the local midnight or
//! hour the point covers, as a UTC instant), ready for a chart.
//!
//! Every panel answers per brand; a brand that has not launched answers
//! [`BrandPanel::NotLaunched`] with no numbers.

pub mod catalog;
pub mod fulfillment;
pub mod funnel;
pub mod insights;
pub mod inventory;
pub mod operations;
pub mod pulse;
pub mod pulse_hours;
pub mod refunds_queue;
pub mod review_queues;
pub mod sales;
pub mod satisfaction;
pub mod support;
pub mod timeline;
pub mod urgent;
pub mod wismo;

use crate::projection::{day_start, local_day, BrandIx, Projection};
use jiff::civil::{Date, Weekday};
use opsdeck_domain::{Brand, Currency, Money, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// Settings the panels read (every number has a documented default).
#[derive(Debug, Clone, PartialEq)]
pub struct PanelConfig {
    pub week_start: Weekday,
    /// Currency of all-brand totals.
    pub reporting_currency: Currency,
    /// Units of the reporting currency per unit of another currency, in
    /// millionths (1.08 USD per EUR = `1_080_000`). Without a rate, a brand's
    /// money is left out of totals and the total says so.
    pub rates: BTreeMap<Currency, i64>,
    /// Per-variant low-stock thresholds by SKU (they win over the brand's).
    pub low_stock_overrides: BTreeMap<String, i64>,
    /// Dropship brands' stock alerts: shown one severity lower, or not at all.
    pub dropship_stock_alerts: DropshipAlerts,
    /// A linked order worth more than this (major units of the brand's
    /// currency) makes a ticket VIP.
    pub vip_order_value: i64,
    pub vip_order_count: usize,
    /// An open order worth more than this (major units) is flagged as a blocker.
    pub blocker_value: i64,
    /// Each source's configured sync cadence, for the staleness rule
    /// ([`crate::freshness::staleness`]) the tiles and /sources show.
    pub cadences: crate::freshness::Cadences,
    /// The helpdesk's ticket address up to the id
    /// (`https://{subdomain}.gorgias.com/app/ticket/`): the urgent queue
    /// links each ticket there. `None` without a helpdesk configured.
    pub helpdesk_ticket_url: Option<String>,
    /// `[regions.ID]`: what a `?region=` filter stands for (its brands).
    pub regions: Vec<opsdeck_domain::Region>,
    /// The refunds queue's windows and Shopify admin addresses
    /// (`[queues.refunds]`).
    pub sla_queue: refunds_queue::SlaQueueConfig,
    /// `[customers]`: the customer risk flags' high-value threshold.
    pub customer_risk: crate::customers::RiskRules,
    /// `[review_queues.NAME] sla`: each review queue's deadline.
    pub review_slas: review_queues::ReviewSlas,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DropshipAlerts {
    Lower,
    Off,
}

impl Default for PanelConfig {
    fn default() -> Self {
        PanelConfig {
            week_start: Weekday::Monday,
            reporting_currency: Currency::USD,
            rates: BTreeMap::new(),
            low_stock_overrides: BTreeMap::new(),
            dropship_stock_alerts: DropshipAlerts::Lower,
            vip_order_value: 200,
            vip_order_count: 5,
            blocker_value: 500,
            cadences: crate::freshness::Cadences::default(),
            helpdesk_ticket_url: None,
            regions: Vec::new(),
            sla_queue: refunds_queue::SlaQueueConfig::default(),
            customer_risk: crate::customers::RiskRules::default(),
            review_slas: review_queues::ReviewSlas::playbook(),
        }
    }
}

impl PanelConfig {
    /// `money` in the reporting currency, rounded half away from zero;
    /// `None` without a rate.
    pub fn to_reporting(&self, money: Money) -> Option<Money> {
        let to = self.reporting_currency;
        if money.currency == to {
            return Some(money);
        }
        let rate = *self.rates.get(&money.currency)?;
        let exp = i32::from(to.exponent()) - i32::from(money.currency.exponent());
        let mut num = i128::from(money.minor) * i128::from(rate);
        let mut den: i128 = 1_000_000;
        if exp >= 0 {
            num *= 10i128.pow(exp as u32);
        } else {
            den *= 10i128.pow((-exp) as u32);
        }
        let q = (2 * num.abs() + den) / (2 * den);
        let q = if num < 0 { -q } else { q };
        i64::try_from(q).ok().map(|m| Money::new(m, to))
    }
}

/// The span a panel covers: `today`, the last 7/30/90 local days including
/// today, or whole local days `from..=to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Range {
    Today,
    Days { days: u16 },
    Custom { from: Date, to: Date },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    #[error("range must be today, 7d, 30d, 90d or custom, not {0:?}")]
    Unknown(String),
    #[error("range=custom needs both from and to (YYYY-MM-DD)")]
    MissingDates,
    #[error("from and to are only allowed with range=custom")]
    DatesWithoutCustom,
    /// The parameter and the value given (not the parser's wording, which
    /// names library types).
    #[error("{0} is not a date (YYYY-MM-DD, like 2026-06-01): {1:?}")]
    BadDate(&'static str, String),
    #[error("from ({0}) is after to ({1})")]
    Reversed(Date, Date),
    #[error("a custom range may span at most 400 days")]
    TooLong,
}

impl Range {
    /// Parses the API's `range`, `from` and `to` parameters.
    pub fn parse(
        range: Option<&str>,
        from: Option<&str>,
        to: Option<&str>,
    ) -> Result<Range, RangeError> {
        let date = |name: &'static str, v: &str| {
            v.parse::<Date>()
                .map_err(|_| RangeError::BadDate(name, v.to_string()))
        };
        match range.unwrap_or("today") {
            "custom" => {
                let (Some(f), Some(t)) = (from, to) else {
                    return Err(RangeError::MissingDates);
                };
                let (f, t) = (date("from", f)?, date("to", t)?);
                if f > t {
                    return Err(RangeError::Reversed(f, t));
                }
                if (t - f).get_days() > 400 {
                    return Err(RangeError::TooLong);
                }
                Ok(Range::Custom { from: f, to: t })
            }
            _ if from.is_some() || to.is_some() => Err(RangeError::DatesWithoutCustom),
            "today" => Ok(Range::Today),
            "7d" => Ok(Range::Days { days: 7 }),
            "30d" => Ok(Range::Days { days: 30 }),
            "90d" => Ok(Range::Days { days: 90 }),
            other => Err(RangeError::Unknown(other.to_string())),
        }
    }
}

/// A range resolved in one brand's zone: `[start, end)` and the prior span
/// of the same length (to date: the same elapsed wall-clock time), plus the
/// local days covered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
    pub prior_start: Timestamp,
    pub prior_end: Timestamp,
    #[serde(skip)]
    pub first_day: i32,
    #[serde(skip)]
    pub last_day: i32,
}

impl Window {
    pub fn resolve(range: Range, brand: &Brand, now: Timestamp) -> Window {
        Window::resolve_in(range, &brand.time_zone, now)
    }

    /// [`Window::resolve`] in a zone (the account's, for the account-wide
    /// support view).
    pub fn resolve_in(range: Range, tz: &jiff::tz::TimeZone, now: Timestamp) -> Window {
        let now_s = now.as_second();
        let today = local_day(now_s, tz);
        let (first, last) = match range {
            Range::Today => (today, today),
            Range::Days { days } => (today - i32::from(days) + 1, today),
            Range::Custom { from, to } => (day_of(from), day_of(to)),
        };
        let n = last - first + 1;
        let start = day_start(first, tz);
        let end = if last >= today {
            now_s
        } else {
            day_start(last + 1, tz)
        };
        let prior_start = day_start(first - n, tz);
        // Same elapsed wall-clock span: the prior period's day for today,
        // at the same local time of day.
        let prior_end = if last >= today {
            let elapsed = now_s - day_start(today, tz);
            let prior_today = today - n;
            wall_time(prior_today, elapsed, tz).min(start)
        } else {
            start
        };
        let t = |s: i64| Timestamp::from_second(s).unwrap_or(Timestamp::UNIX_EPOCH);
        Window {
            start: t(start),
            end: t(end.max(start)),
            prior_start: t(prior_start),
            prior_end: t(prior_end),
            first_day: first,
            last_day: last.min(today),
        }
    }

    pub fn days(&self) -> std::ops::RangeInclusive<i32> {
        self.first_day..=self.last_day
    }
}

/// The instant at the same local time of day as `elapsed` seconds after
/// midnight of `today` — computed on the wall clock so a DST day compares
/// 14:05 with 14:05.
pub fn wall_time(day: i32, elapsed: i64, tz: &jiff::tz::TimeZone) -> i64 {
    let start = day_start(day, tz);
    let date = crate::projection::day_date(day);
    let h = elapsed / 3600;
    let m = (elapsed % 3600) / 60;
    let s = elapsed % 60;
    let wall = date.at(h.clamp(0, 23) as i8, m as i8, s as i8, 0);
    tz.to_ambiguous_zoned(wall)
        .compatible()
        .map(|z| z.timestamp().as_second())
        .unwrap_or(start + elapsed)
}

pub fn day_of(d: Date) -> i32 {
    (d - jiff::civil::date(1970, 1, 1)).get_days()
}

/// A chart point: the instant the bucket starts and its value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Point {
    pub t: Timestamp,
    pub value: f64,
}

pub fn point(t: i64, value: f64) -> Point {
    Point {
        t: Timestamp::from_second(t).unwrap_or(Timestamp::UNIX_EPOCH),
        value,
    }
}

/// A panel's answer for one brand.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum BrandPanel<T> {
    NotLaunched {
        brand: String,
    },
    Live {
        brand: String,
        #[serde(flatten)]
        panel: T,
    },
}

/// Runs `f` for every brand (or the one given), not-launched ones answered as such.
pub fn per_brand<T>(
    p: &Projection,
    only: Option<&[BrandIx]>,
    mut f: impl FnMut(BrandIx, &Brand) -> T,
) -> Vec<BrandPanel<T>> {
    (0..p.ctx.brands.len())
        .map(|i| i as BrandIx)
        .filter(|i| only.is_none_or(|o| o.contains(i)))
        .map(|i| {
            let b = p.brand(i);
            if b.launched {
                BrandPanel::Live {
                    brand: b.id.to_string(),
                    panel: f(i, b),
                }
            } else {
                BrandPanel::NotLaunched {
                    brand: b.id.to_string(),
                }
            }
        })
        .collect()
}

/// Ratio a ÷ b; `None` when b is 0.
pub fn ratio(a: i64, b: i64) -> Option<f64> {
    (b != 0).then(|| a as f64 / b as f64)
}

/// Major units → minor units of a currency.
pub fn major_to_minor(major: i64, c: Currency) -> i64 {
    major.saturating_mul(10i64.pow(u32::from(c.exponent())))
}

/// Every panel of one brand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BrandDashboard {
    pub sales: sales::SalesPanel,
    pub pulse: pulse::Pulse,
    pub fulfillment: fulfillment::Fulfillment,
    pub inventory: inventory::Inventory,
    pub catalog: catalog::Catalog,
    pub queue: support::Queue,
    pub csat: support::Csat,
    pub times: support::Times,
    pub top_issues: support::TopIssues,
    pub urgent: urgent::Urgent,
    pub wismo: wismo::Wismo,
}

/// The whole dashboard: every panel of every brand, and the insights.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dashboard {
    pub generated_at: Timestamp,
    pub brands: Vec<BrandPanel<BrandDashboard>>,
    pub insights: Vec<insights::Insight>,
}

pub fn brand_dashboard(
    p: &Projection,
    cfg: &PanelConfig,
    b: BrandIx,
    range: Range,
    now: Timestamp,
) -> BrandDashboard {
    BrandDashboard {
        sales: sales::brand_sales(p, b, range, now),
        pulse: pulse::pulse(p, cfg, b, now),
        fulfillment: fulfillment::fulfillment(p, b, now),
        inventory: inventory::inventory(p, cfg, b, now),
        catalog: catalog::catalog(p, b),
        queue: support::queue(p, b, cfg.week_start, now),
        csat: support::csat(p, b, range, now),
        times: support::times(p, b, range, now),
        top_issues: support::top_issues(p, b, range, now),
        urgent: urgent::urgent(p, cfg, b, now),
        wismo: wismo::wismo(p, b, range, now),
    }
}

/// Insights of the brands (or the one given), from their 7-day numbers.
pub fn brand_insights(
    p: &Projection,
    cfg: &PanelConfig,
    only: Option<&[BrandIx]>,
    now: Timestamp,
) -> Vec<insights::Insight> {
    let week = Range::Days { days: 7 };
    let parts: Vec<_> = (0..p.ctx.brands.len() as BrandIx)
        .filter(|b| only.is_none_or(|o| o.contains(b)) && p.brand(*b).launched)
        .map(|b| {
            (
                p.brand(b).name.clone(),
                pulse::pulse(p, cfg, b, now),
                fulfillment::fulfillment(p, b, now),
                support::top_issues(p, b, week, now),
                support::csat(p, b, week, now),
                wismo::wismo(p, b, week, now),
            )
        })
        .collect();
    let numbers: Vec<_> = parts
        .iter()
        .map(|(name, pu, f, i, c, w)| insights::BrandNumbers {
            brand: name,
            pulse: pu,
            fulfillment: f,
            issues_7d: i,
            csat_7d: c,
            wismo_7d: w,
        })
        .collect();
    insights::insights(&numbers)
}

/// Every panel of every brand, and the insights — computed from the
/// panels just computed (pulse and fulfillment do not depend on the range;
/// the 7-day support numbers are reused when the range is 7 days) rather
/// than a second time.
pub fn dashboard(p: &Projection, cfg: &PanelConfig, range: Range, now: Timestamp) -> Dashboard {
    let week = Range::Days { days: 7 };
    let brands = per_brand(p, None, |b, _| brand_dashboard(p, cfg, b, range, now));
    let weekly: Vec<_> = brands
        .iter()
        .enumerate()
        .filter_map(|(b, bp)| match bp {
            BrandPanel::Live { panel, .. } => Some((b as BrandIx, panel)),
            BrandPanel::NotLaunched { .. } => None,
        })
        .map(|(b, d)| {
            let own = (range != week).then(|| {
                (
                    support::top_issues(p, b, week, now),
                    support::csat(p, b, week, now),
                    wismo::wismo(p, b, week, now),
                )
            });
            (p.brand(b).name.as_str(), d, own)
        })
        .collect();
    let numbers: Vec<_> = weekly
        .iter()
        .map(|(name, d, own)| insights::BrandNumbers {
            brand: name,
            pulse: &d.pulse,
            fulfillment: &d.fulfillment,
            issues_7d: own.as_ref().map_or(&d.top_issues, |o| &o.0),
            csat_7d: own.as_ref().map_or(&d.csat, |o| &o.1),
            wismo_7d: own.as_ref().map_or(&d.wismo, |o| &o.2),
        })
        .collect();
    let insights = insights::insights(&numbers);
    Dashboard {
        generated_at: now,
        brands,
        insights,
    }
}
