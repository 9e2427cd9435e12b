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
//! - Sums are 128-bit ([`crate::sums`]): no accepted amount can wrap them.
//!
//! Test orders never reach this module: [`OrderFact`]s come from the store
//! with test orders already excluded.

use crate::projection::series::{Counter, Sales, SalesSeries};
use crate::sums::{self, Summed};
use jiff::civil::Weekday;
use opsdeck_domain::period::delta_ratio;
use opsdeck_domain::{Brand, Currency, Money, Period, PeriodWindow, Timestamp};
use opsdeck_store::OrderFact;
use serde::Serialize;

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
    /// (orders − `prior_orders`) ÷ `prior_orders`; `None` when `prior_orders` is 0.
    pub orders_delta: Option<f64>,
    /// Sum of non-cancelled orders' `total_price`, in the brand's currency.
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub gross_revenue: Money,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub prior_gross_revenue: Money,
    /// A revenue sum was beyond what an amount holds (over
    /// 92,233,720,368,547,758.07 in a 2-decimal currency): the amount shown
    /// is held at that bound, never wrapped (the sums themselves are exact).
    pub revenue_beyond_range: bool,
    /// Change of gross revenue; `None` when the prior revenue is 0.
    pub revenue_delta: Option<f64>,
    /// Average order value, rounded half away from zero to the minor unit;
    /// `None` when no non-cancelled order was placed.
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub aov: Option<Money>,
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub prior_aov: Option<Money>,
    /// Change of AOV, from the unrounded AOVs ([`sums::aov_delta`]); `None`
    /// when either side has no AOV or the prior AOV is 0.
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
) -> BrandVolume {
    if !brand.launched {
        return BrandVolume::NotLaunched;
    }
    BrandVolume::Live(
        Period::ALL
            .iter()
            .map(|period| {
                let window = PeriodWindow::compute(*period, now, &brand.time_zone, week_start);
                period_volume(brand, *period, window, facts)
            })
            .collect(),
    )
}

/// One card over an already computed window (also the building block for a
/// custom date range).
pub fn period_volume(
    brand: &Brand,
    period: Period,
    window: PeriodWindow,
    facts: &[OrderFact],
) -> PeriodVolume {
    let (current, left_out) = tally(brand, facts, |t| window.contains(t));
    let (prior, _) = tally(brand, facts, |t| window.prior_contains(t));
    card(brand, period, window, &current, &prior, left_out)
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
            Some(card(brand, *period, window, &current, &prior, Vec::new()))
        })
        .collect::<Option<Vec<_>>>()
        .map(BrandVolume::Live)
}

/// One card from the sums of its two spans (no foreign-currency orders in
/// either): the one place the card's rules are written, for the rollup and
/// for the facts alike.
fn card(
    brand: &Brand,
    period: Period,
    window: PeriodWindow,
    current: &Sales,
    prior: &Sales,
    left_out: Vec<LeftOut>,
) -> PeriodVolume {
    let orders = |s: &Sales| u64::try_from(s.orders).unwrap_or(0);
    let c = brand.currency;
    let (revenue, prior_revenue) = (
        Summed::new(current.revenue, c),
        Summed::new(prior.revenue, c),
    );
    PeriodVolume {
        period,
        window,
        orders: orders(current),
        prior_orders: orders(prior),
        orders_delta: delta_ratio(current.orders, prior.orders),
        gross_revenue: revenue.money,
        prior_gross_revenue: prior_revenue.money,
        revenue_beyond_range: revenue.beyond_range || prior_revenue.beyond_range,
        revenue_delta: delta_ratio(current.revenue, prior.revenue),
        aov: sums::aov(current.revenue, current.paid_orders, c),
        prior_aov: sums::aov(prior.revenue, prior.paid_orders, c),
        aov_delta: sums::aov_delta(
            current.revenue,
            current.paid_orders,
            prior.revenue,
            prior.paid_orders,
        ),
        left_out,
    }
}

/// The sums of the facts created in a span, as the rollup keeps them, and
/// the non-cancelled orders in another currency, left out of revenue and
/// named per currency.
fn tally(
    brand: &Brand,
    facts: &[OrderFact],
    in_span: impl Fn(Timestamp) -> bool,
) -> (Sales, Vec<LeftOut>) {
    let mut tally = Sales::default();
    let mut left_out: Vec<LeftOut> = Vec::new();
    for fact in facts.iter().filter(|f| in_span(f.created_at)) {
        tally.add(&fact_sales(fact, brand.currency), 1);
        let currency = fact.total_price.currency;
        if fact.cancelled || currency == brand.currency {
            continue;
        }
        match left_out.iter_mut().find(|l| l.currency == currency) {
            Some(l) => l.orders += 1,
            None => left_out.push(LeftOut {
                orders: 1,
                currency,
                brand_currency: brand.currency,
            }),
        }
    }
    (tally, left_out)
}

/// What one order fact adds to a sales rollup, as the projection counts an
/// order: an order always; revenue when not cancelled and in `currency`;
/// a foreign-currency order when not cancelled and in another currency.
pub fn fact_sales(fact: &OrderFact, currency: Currency) -> Sales {
    let foreign = fact.total_price.currency != currency;
    let paid = !fact.cancelled && !foreign;
    Sales {
        orders: 1,
        paid_orders: i64::from(paid),
        revenue: if paid {
            i128::from(fact.total_price.minor)
        } else {
            0
        },
        foreign: i64::from(!fact.cancelled && foreign),
    }
}

/// A sales rollup of order facts (benchmarks and tests that start from
/// facts; the projection builds its own from the orders).
pub fn sales_series(facts: &[OrderFact], currency: Currency) -> SalesSeries {
    let mut series = SalesSeries::default();
    for fact in facts {
        series.add(fact.created_at.as_second(), &fact_sales(fact, currency), 1);
    }
    series
}
