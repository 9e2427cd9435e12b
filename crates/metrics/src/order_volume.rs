//! The order volume cards: for one brand and each of today / this week /
//! this month, how many orders came in, the gross revenue and the average
//! order value, each against the same elapsed span of the prior period.
//!
//! Definitions (METRICS.md, "Orders and revenue"):
//! - **orders**: orders created in the window, cancelled ones included (a
//!   cancelled order still happened; the merchant wants to see it arrive).
//! - **gross revenue**: the sum of `total_price` of the window's orders that
//!   are not cancelled, in the brand's currency.
//! - **AOV**: gross revenue ÷ the number of non-cancelled orders; no value
//!   (not zero) when there are none.
//! - **delta**: (current − prior) ÷ prior, where prior is the prior period
//!   over the same elapsed wall-clock span ([`PeriodWindow`]); no value when
//!   the prior is zero (or, for AOV, when either side has no AOV).
//! - A brand that has not launched has no numbers at all, not zeros.
//! - An order in another currency than its brand's (which the doors refuse
//!   or convert, but a store written before them may hold) is counted as an
//!   order and left out of revenue and AOV, and the card names it
//!   ([`LeftOut`]): one such record never takes the panel down.
//!
//! Test orders never reach this module: [`OrderFact`]s come from the store
//! with test orders already excluded.

use crate::projection::series::{Sales, SalesSeries};
use jiff::civil::Weekday;
use opsdeck_domain::period::delta_ratio;
use opsdeck_domain::{
    Brand, BrandId, Currency, Money, MoneyError, Period, PeriodWindow, Timestamp,
};
use opsdeck_store::OrderFact;
use serde::Serialize;

/// Why the cards of a brand could not be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VolumeError {
    /// The revenue of a window does not fit in 64-bit minor units.
    #[error("brand {brand}: revenue overflows: {source}")]
    Overflow { brand: BrandId, source: MoneyError },
}

/// The cards of one brand.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "status", content = "periods", rename_all = "snake_case")]
pub enum BrandVolume {
    /// The brand is configured but not selling yet: it is shown greyed with
    /// no numbers, because zeros would read as "sales stopped".
    NotLaunched,
    /// One card per [`Period::ALL`], in that order.
    Live(Vec<PeriodVolume>),
}

impl BrandVolume {
    /// The cards to show; empty for a brand that has not launched.
    pub fn periods(&self) -> &[PeriodVolume] {
        match self {
            BrandVolume::NotLaunched => &[],
            BrandVolume::Live(periods) => periods,
        }
    }

    pub fn is_launched(&self) -> bool {
        matches!(self, BrandVolume::Live(_))
    }
}

/// One card: a period to date against the same elapsed span of the prior
/// period. Field names are the JSON API's (`/api/v1/order-volume`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PeriodVolume {
    pub period: Period,
    /// The UTC instants counted, so a client (or a doubting merchant) can see
    /// exactly which orders fall in the card.
    pub window: PeriodWindow,
    /// Orders created in `[window.start, window.end)`, cancelled included.
    pub orders: u64,
    /// Orders created in `[window.prior_start, window.prior_end)`.
    pub prior_orders: u64,
    /// (orders − prior_orders) ÷ prior_orders; `None` when prior_orders is 0.
    pub orders_delta: Option<f64>,
    /// Sum of non-cancelled orders' `total_price`, in the brand's currency.
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub gross_revenue: Money,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub prior_gross_revenue: Money,
    /// Change of gross revenue; `None` when the prior revenue is 0.
    pub revenue_delta: Option<f64>,
    /// Average order value, rounded half away from zero to the minor unit;
    /// `None` when no non-cancelled order was placed.
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub aov: Option<Money>,
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub prior_aov: Option<Money>,
    /// Change of AOV (of the rounded values); `None` when either side has no AOV.
    pub aov_delta: Option<f64>,
    /// Orders of the window counted in `orders` but left out of revenue and
    /// AOV because they are in another currency than the brand's, one entry
    /// per currency; empty when none. (The prior span's are left out of
    /// the prior figures the same way.)
    pub left_out: Vec<LeftOut>,
}

/// Orders a card could not sum: `orders` non-cancelled orders in
/// `currency`, which is not the brand's `brand_currency`. Summing them
/// would need a rate opsdeck does not have, and guessing one would show a
/// wrong total; failing the card would hide every right one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeftOut {
    pub orders: u64,
    pub currency: Currency,
    pub brand_currency: Currency,
}

impl std::fmt::Display for LeftOut {
    /// "1 order left out: currency EUR, brand currency USD".
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let noun = if self.orders == 1 { "order" } else { "orders" };
        write!(
            f,
            "{} {noun} left out: currency {}, brand currency {}",
            self.orders, self.currency, self.brand_currency
        )
    }
}

/// The earliest instant any card of `brand` looks at as of `now`: the start
/// of the earliest prior period (in practice the first of last month, local
/// time). Fetch facts from here to `now` and pass them to [`order_volume`].
pub fn facts_window_start(brand: &Brand, now: Timestamp, week_start: Weekday) -> Timestamp {
    Period::ALL
        .iter()
        .map(|p| PeriodWindow::compute(*p, now, &brand.time_zone, week_start).prior_start)
        .min()
        .expect("Period::ALL is not empty")
}

/// The order volume cards of `brand` as of `now`, weeks starting on
/// `week_start`.
///
/// `facts` must hold every non-test order of the brand created in
/// `[facts_window_start(brand, now, week_start), now)`; facts outside that
/// range are ignored, in any order. A brand that has not launched gets
/// [`BrandVolume::NotLaunched`] whatever the facts say.
pub fn order_volume(
    brand: &Brand,
    facts: &[OrderFact],
    now: Timestamp,
    week_start: Weekday,
) -> Result<BrandVolume, VolumeError> {
    if !brand.launched {
        return Ok(BrandVolume::NotLaunched);
    }
    Period::ALL
        .iter()
        .map(|period| {
            let window = PeriodWindow::compute(*period, now, &brand.time_zone, week_start);
            period_volume(brand, *period, window, facts)
        })
        .collect::<Result<Vec<_>, _>>()
        .map(BrandVolume::Live)
}

/// One card over an already computed window (also the building block for a
/// custom date range).
pub fn period_volume(
    brand: &Brand,
    period: Period,
    window: PeriodWindow,
    facts: &[OrderFact],
) -> Result<PeriodVolume, VolumeError> {
    let current = Tally::over(brand, facts, |t| window.contains(t))?;
    let prior = Tally::over(brand, facts, |t| window.prior_contains(t))?;
    let (aov, prior_aov) = (current.aov(), prior.aov());
    Ok(PeriodVolume {
        period,
        window,
        orders: current.orders,
        prior_orders: prior.orders,
        orders_delta: delta_ratio(count(current.orders), count(prior.orders)),
        gross_revenue: current.revenue,
        prior_gross_revenue: prior.revenue,
        revenue_delta: delta_ratio(current.revenue.minor, prior.revenue.minor),
        aov_delta: match (aov, prior_aov) {
            (Some(a), Some(p)) => delta_ratio(a.minor, p.minor),
            _ => None,
        },
        aov,
        prior_aov,
        left_out: current.left_out,
    })
}

/// The order volume cards of `brand` as of `now` from its sales rollup in
/// the projection (`projection.orders.sales[ix]`) instead of its order
/// facts: the same numbers as [`order_volume`] over the same orders, in a
/// few hundred rollup steps per card instead of a month of facts.
///
/// The rollup keeps orders to the second, so a window ending at a
/// fractional `now` counts the orders of the whole seconds before it (an
/// order in the very second of `now` counts from the next second on).
///
/// `None` when a window holds a non-cancelled order in another currency
/// than the brand's: the rollup counts such orders but cannot say in which
/// currency, so the caller computes the cards from the facts, which name
/// them in [`PeriodVolume::left_out`].
pub fn order_volume_from_sales(
    brand: &Brand,
    sales: &SalesSeries,
    now: Timestamp,
    week_start: Weekday,
) -> Option<BrandVolume> {
    if !brand.launched {
        return Some(BrandVolume::NotLaunched);
    }
    Period::ALL
        .iter()
        .map(|period| {
            let window = PeriodWindow::compute(*period, now, &brand.time_zone, week_start);
            let current = sales.sum(window.start.as_second(), window.end.as_second());
            let prior = sales.sum(window.prior_start.as_second(), window.prior_end.as_second());
            if current.foreign != 0 || prior.foreign != 0 {
                return None;
            }
            Some(period_volume_from_sales(
                brand, *period, window, &current, &prior,
            ))
        })
        .collect::<Option<Vec<_>>>()
        .map(BrandVolume::Live)
}

/// One card from the rollup sums of its two spans (no foreign-currency
/// orders in either: see [`order_volume_from_sales`]).
fn period_volume_from_sales(
    brand: &Brand,
    period: Period,
    window: PeriodWindow,
    current: &Sales,
    prior: &Sales,
) -> PeriodVolume {
    let orders = |s: &Sales| u64::try_from(s.orders).unwrap_or(0);
    let revenue = |s: &Sales| Money::new(s.revenue, brand.currency);
    let aov = |s: &Sales| revenue(s).divide_rounded(u64::try_from(s.paid_orders).unwrap_or(0));
    let (aov, prior_aov) = (aov(current), aov(prior));
    PeriodVolume {
        period,
        window,
        orders: orders(current),
        prior_orders: orders(prior),
        orders_delta: delta_ratio(count(orders(current)), count(orders(prior))),
        gross_revenue: revenue(current),
        prior_gross_revenue: revenue(prior),
        revenue_delta: delta_ratio(current.revenue, prior.revenue),
        aov_delta: match (aov, prior_aov) {
            (Some(a), Some(p)) => delta_ratio(a.minor, p.minor),
            _ => None,
        },
        aov,
        prior_aov,
        left_out: Vec::new(),
    }
}

/// Order counts never come near `i64::MAX`; saturate rather than panic.
fn count(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The sums of one span.
struct Tally {
    orders: u64,
    paid_orders: u64,
    revenue: Money,
    left_out: Vec<LeftOut>,
}

impl Tally {
    fn over(
        brand: &Brand,
        facts: &[OrderFact],
        in_span: impl Fn(Timestamp) -> bool,
    ) -> Result<Tally, VolumeError> {
        let mut tally = Tally {
            orders: 0,
            paid_orders: 0,
            revenue: Money::zero(brand.currency),
            left_out: Vec::new(),
        };
        for fact in facts.iter().filter(|f| in_span(f.created_at)) {
            tally.orders += 1;
            if fact.cancelled {
                continue;
            }
            if fact.total_price.currency != brand.currency {
                tally.leave_out(fact.total_price.currency, brand.currency);
                continue;
            }
            tally.paid_orders += 1;
            tally.revenue = tally
                .revenue
                .checked_add(fact.total_price)
                .map_err(|source| VolumeError::Overflow {
                    brand: brand.id.clone(),
                    source,
                })?;
        }
        Ok(tally)
    }

    /// Counts one order in `currency` that the revenue cannot include.
    fn leave_out(&mut self, currency: Currency, brand_currency: Currency) {
        match self.left_out.iter_mut().find(|l| l.currency == currency) {
            Some(l) => l.orders += 1,
            None => self.left_out.push(LeftOut {
                orders: 1,
                currency,
                brand_currency,
            }),
        }
    }

    fn aov(&self) -> Option<Money> {
        self.revenue.divide_rounded(self.paid_orders)
    }
}
