//! Sales pulse: today so far against the mean of the 7 previous local days
//! up to the same local time of day; top SKUs with stock cover; open
//! fulfillment blockers.

use super::{major_to_minor, wall_time, PanelConfig};
use crate::projection::keys::KeyMap;
use crate::projection::orders::{OrderRow, FOREIGN};
use crate::projection::series::{Sales, SalesSeries};
use crate::projection::{day_start, local_day, BrandIx, Projection};
use crate::sums::Summed;
use crate::variance::{orders_evidence, revenue_evidence, Evidence, MIN_BASELINE_ORDERS};
use jiff::tz::TimeZone;
use opsdeck_domain::{Currency, Money, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PulseState {
    Normal,
    Warning,
    Critical,
    /// The variance is past ±15 % but the baseline is too small for it to
    /// mean anything ([`crate::variance`]): not a warning, not critical.
    TooEarly,
    /// No baseline (nothing sold on the 7 previous days by this time).
    NoBaseline,
}

impl PulseState {
    /// The state of a revenue variance and its evidence: within ±15 % is
    /// normal; beyond, warning (±15 %) or critical (±30 %) only when
    /// [`Evidence::significant`], else too early to tell. The one rule for
    /// the badge, the insight and (through [`crate::variance`]) the alert.
    pub fn of(evidence: Option<&Evidence>) -> PulseState {
        match evidence {
            None => PulseState::NoBaseline,
            Some(e) if e.variance.abs() < 0.15 - 1e-12 => PulseState::Normal,
            Some(e) if !e.significant => PulseState::TooEarly,
            Some(e) if e.variance.abs() >= 0.30 - 1e-12 => PulseState::Critical,
            Some(_) => PulseState::Warning,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopSku {
    pub sku: String,
    pub units: i64,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub revenue: Money,
    /// Units available over the brand's tracked variants with this SKU.
    pub stock: Option<i64>,
    /// Units per week over 28 days, net of refunds.
    pub velocity_per_week: f64,
    pub days_of_cover: Option<f64>,
    pub out_of_stock: bool,
    pub low_cover: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Blocker {
    pub order: String,
    pub created_at: Timestamp,
    pub age_hours: i64,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub value: Money,
    pub high_value: bool,
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Pulse {
    pub orders_today: i64,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub revenue_today: Money,
    pub baseline_orders: f64,
    pub baseline_revenue_minor: f64,
    pub revenue_variance: Option<f64>,
    pub orders_variance: Option<f64>,
    /// The test behind [`Pulse::state`]: how likely today's revenue is
    /// under the baseline (`None` without a baseline).
    pub revenue_evidence: Option<Evidence>,
    pub state: PulseState,
    /// Orders ≥ +25 % over the baseline, with the same evidence as the state.
    pub order_spike: bool,
    pub top_skus_today: Vec<TopSku>,
    pub top_skus_7d: Vec<TopSku>,
    /// The oldest [`BLOCKERS_SHOWN`] blockers.
    pub blockers: Vec<Blocker>,
    /// All blockers, not only those listed.
    pub blocker_count: usize,
    /// Value of all blockers in the brand's currency.
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub blocker_value: Money,
    /// Blockers worth more than the configured value (500 by default), all
    /// of them, and their value.
    pub high_value_blocker_count: usize,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub high_value_blocker_value: Money,
    /// The configured value above which a blocker is flagged.
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub high_value_threshold: Money,
    /// Blockers priced in another currency than the brand's: counted in
    /// `blocker_count`, left out of both values (no rate applies).
    pub foreign_currency_blockers: usize,
    /// A value sum (revenue today or a blocker value) was beyond what an
    /// amount holds: the amount shown is held at that bound.
    pub value_beyond_range: bool,
}

const TOP: usize = 10;
/// Blockers listed (the counts and values cover all of them).
pub const BLOCKERS_SHOWN: usize = 50;

pub fn pulse(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Pulse {
    let brand = p.brand(b);
    let tz = &brand.time_zone;
    let now_s = now.as_second();
    let today = local_day(now_s, tz);
    let sold = units_28d(p, b, today);
    let stock = stock_by_sku(p, b);
    let SoFar {
        today: cur,
        baseline_orders: bo,
        baseline_revenue: br,
    } = so_far(&p.orders.sales[usize::from(b)], tz, now_s);
    let evidence = revenue_evidence(cur.revenue as f64, br, bo, MIN_BASELINE_ORDERS);
    let orders = orders_evidence(cur.orders, bo, MIN_BASELINE_ORDERS);
    let threshold = major_to_minor(cfg.blocker_value, brand.currency);
    let blockers = blockers(p, b, now_s, threshold);
    let revenue_today = Summed::new(cur.revenue, brand.currency);
    let c = brand.currency;
    Pulse {
        orders_today: cur.orders,
        revenue_today: revenue_today.money,
        baseline_orders: bo,
        baseline_revenue_minor: br,
        revenue_variance: evidence.map(|e| e.variance),
        orders_variance: orders.map(|e| e.variance),
        revenue_evidence: evidence,
        state: PulseState::of(evidence.as_ref()),
        order_spike: orders.is_some_and(|e| e.variance >= 0.25 - 1e-12 && e.significant),
        top_skus_today: top_skus(p, b, today, today, &sold, &stock),
        top_skus_7d: top_skus(p, b, today - 6, today, &sold, &stock),
        blocker_count: blockers.count,
        blocker_value: Summed::new(blockers.value, c).money,
        high_value_blocker_count: blockers.high_count,
        high_value_blocker_value: Summed::new(blockers.high_value, c).money,
        high_value_threshold: Money::new(threshold, c),
        foreign_currency_blockers: blockers.foreign,
        value_beyond_range: revenue_today.beyond_range
            || Summed::new(blockers.value, c).beyond_range,
        blockers: blockers.listed,
    }
}

/// Today so far and the baseline so far (METRICS.md, sales pulse).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SoFar {
    /// Sales from local midnight to now.
    pub today: Sales,
    /// Mean over the 7 previous local days of the orders from their local
    /// midnight to the same local time of day.
    pub baseline_orders: f64,
    /// The same mean of revenue, in minor units.
    pub baseline_revenue: f64,
}

/// Today so far against the 7 previous local days up to the same local
/// time, from a brand's sales rollup: the one computation of the baseline,
/// for the pulse and the revenue-anomaly alert.
pub fn so_far(sales: &SalesSeries, tz: &TimeZone, now_s: i64) -> SoFar {
    let today = local_day(now_s, tz);
    let elapsed = now_s - day_start(today, tz);
    let (mut orders, mut revenue) = (0i64, 0i128);
    for d in today - 7..today {
        let x = sales.sum(
            day_start(d, tz),
            wall_time(d, elapsed, tz).min(day_start(d + 1, tz)),
        );
        orders += x.orders;
        revenue += x.revenue;
    }
    SoFar {
        today: sales.sum(day_start(today, tz), now_s),
        baseline_orders: orders as f64 / 7.0,
        baseline_revenue: revenue as f64 / 7.0,
    }
}

/// Open fulfillment blockers: unfulfilled or partial, non-cancelled orders
/// created more than 24 h before `now_s`, oldest first.
struct Blockers {
    listed: Vec<Blocker>,
    count: usize,
    value: i128,
    high_count: usize,
    high_value: i128,
    foreign: usize,
}

/// Walks every blocker of brand `b` (open orders are few next to all
/// orders) for the counts and values, listing the oldest
/// [`BLOCKERS_SHOWN`].
fn blockers(p: &Projection, b: BrandIx, now_s: i64, threshold: i64) -> Blockers {
    let currency = p.brand(b).currency;
    let mut out = Blockers {
        listed: Vec::with_capacity(BLOCKERS_SHOWN),
        count: 0,
        value: 0,
        high_count: 0,
        high_value: 0,
        foreign: 0,
    };
    for r in open_blockers(p, b, now_s) {
        out.count += 1;
        let foreign = r.is(FOREIGN);
        if foreign {
            out.foreign += 1;
        } else {
            out.value += i128::from(r.total);
        }
        if high_value(r, threshold) {
            out.high_count += 1;
            out.high_value += i128::from(r.total);
        }
        if out.listed.len() < BLOCKERS_SHOWN {
            out.listed.push(blocker(r, currency, now_s, threshold));
        }
    }
    out
}

/// Every open fulfillment blocker of brand `b`, oldest first: all the rows
/// the pulse counts, of which it lists the first [`BLOCKERS_SHOWN`] (for
/// the fulfillment-blocker alert, which must cover every one).
pub fn all_blockers(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Vec<Blocker> {
    let currency = p.brand(b).currency;
    let threshold = major_to_minor(cfg.blocker_value, currency);
    let now_s = now.as_second();
    open_blockers(p, b, now_s)
        .map(|r| blocker(r, currency, now_s, threshold))
        .collect()
}

/// The one blocker rule: unfulfilled or partial, non-cancelled orders of
/// brand `b` created more than 24 h before `now_s`, oldest first.
fn open_blockers(p: &Projection, b: BrandIx, now_s: i64) -> impl Iterator<Item = &OrderRow> {
    p.orders
        .open
        .range((b, i64::MIN, 0)..(b, now_s - 86_400, 0))
        .filter_map(|(_, _, k)| p.orders.rows.get(k))
}

/// A blocker is of high value when it is worth more than `threshold` in the
/// brand's currency (a foreign-currency order has no comparable value).
fn high_value(r: &OrderRow, threshold: i64) -> bool {
    !r.is(FOREIGN) && r.total > threshold
}

fn blocker(r: &OrderRow, currency: Currency, now_s: i64, threshold: i64) -> Blocker {
    Blocker {
        order: format!("#{}", r.number),
        created_at: Timestamp::from_second(r.created).unwrap_or(Timestamp::UNIX_EPOCH),
        age_hours: (now_s - r.created) / 3600,
        value: Money::new(r.total, currency),
        high_value: high_value(r, threshold),
        partial: r.stage() == crate::projection::Stage::Partial,
    }
}

/// Units sold per SKU over the 28 local days ending today, net of refunds.
pub fn units_28d(p: &Projection, b: BrandIx, today: i32) -> KeyMap<u32, i64> {
    let mut m = KeyMap::default();
    for ((_, _, sku), v) in p
        .orders
        .skus
        .range((b, today - 27, 0)..=(b, today, u32::MAX))
    {
        *m.entry(*sku).or_default() += v.units;
    }
    m
}

/// Stock per SKU over the brand's tracked variants of products on sale
/// (the variants inventory counts: a draft's stock is not for sale).
pub fn stock_by_sku(p: &Projection, b: BrandIx) -> KeyMap<u32, i64> {
    let mut m = KeyMap::default();
    for prod in p.catalog.products_of(b).filter(|x| x.status.is_on_sale()) {
        for v in prod.variants.iter().filter(|v| v.tracked && v.sku != 0) {
            if let Some(q) = p.catalog.quantity(b, v) {
                *m.entry(v.sku).or_default() += q;
            }
        }
    }
    m
}

/// The top SKUs by revenue over local days `from..=to`, with the 28-day
/// units sold and the stock (computed once per pulse for both lists).
fn top_skus(
    p: &Projection,
    b: BrandIx,
    from: i32,
    to: i32,
    sold: &KeyMap<u32, i64>,
    stock: &KeyMap<u32, i64>,
) -> Vec<TopSku> {
    let brand = p.brand(b);
    let mut agg: KeyMap<u32, (i64, i128)> = KeyMap::default();
    for ((_, _, sku), v) in p.orders.skus.range((b, from, 0)..=(b, to, u32::MAX)) {
        let e = agg.entry(*sku).or_default();
        e.0 += v.units;
        e.1 += v.revenue;
    }
    // Revenue descending, then SKU text (looked up once per SKU).
    let mut v: Vec<_> = agg
        .into_iter()
        .map(|(sku, (units, revenue))| (std::cmp::Reverse(revenue), p.syms.text(sku), sku, units))
        .collect();
    v.sort_unstable();
    v.truncate(TOP);
    v.into_iter()
        .map(|(std::cmp::Reverse(revenue), _, sku, units)| {
            let velocity = sold.get(&sku).copied().unwrap_or(0) as f64 / 4.0;
            let st = stock.get(&sku).copied();
            let cover = st.and_then(|q| (velocity > 0.0).then(|| q as f64 / (velocity / 7.0)));
            TopSku {
                sku: p.syms.text(sku).to_string(),
                units,
                revenue: crate::sums::money(revenue, brand.currency),
                stock: st,
                velocity_per_week: velocity,
                days_of_cover: cover,
                // The one stock rule (threshold irrelevant to "out").
                out_of_stock: st.is_some_and(|q| {
                    super::inventory::stock_state(q, 0) == super::inventory::StockState::OutOfStock
                }),
                low_cover: cover.is_some_and(|c| c < 3.0),
            }
        })
        .collect()
}
