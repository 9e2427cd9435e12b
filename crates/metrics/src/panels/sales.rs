//! Orders and revenue over any range against the prior period of the same
//! length to date, with a daily series, per brand and in total.

use super::{per_brand, point, BrandPanel, PanelConfig, Point, Range, Window};
use crate::projection::{day_start, BrandIx, Projection};
use crate::sums::{self, Summed};
use opsdeck_domain::period::delta_ratio;
use opsdeck_domain::{Money, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SalesPanel {
    pub window: Window,
    pub orders: i64,
    pub prior_orders: i64,
    pub orders_delta: Option<f64>,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub gross_revenue: Money,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub prior_gross_revenue: Money,
    pub revenue_delta: Option<f64>,
    /// A revenue sum was beyond what an amount holds: the amount shown is
    /// held at that bound ([`crate::sums`]).
    pub revenue_beyond_range: bool,
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub aov: Option<Money>,
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub prior_aov: Option<Money>,
    pub aov_delta: Option<f64>,
    /// Non-cancelled orders in another currency than the brand's, left out
    /// of revenue (no rate applies inside a brand).
    pub foreign_currency_orders: i64,
    /// Orders per local day.
    pub orders_series: Vec<Point>,
    /// Gross revenue per local day, in minor units.
    pub revenue_series: Vec<Point>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SalesTotal {
    pub orders: i64,
    pub prior_orders: i64,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub gross_revenue: Money,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub prior_gross_revenue: Money,
    pub revenue_delta: Option<f64>,
    /// The total (or a brand's revenue in it) was beyond what an amount
    /// holds: the amount shown is held at that bound.
    pub revenue_beyond_range: bool,
    /// Brands whose revenue is left out for want of a conversion rate.
    pub brands_without_rate: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Sales {
    pub brands: Vec<BrandPanel<SalesPanel>>,
    pub total: SalesTotal,
}

pub fn brand_sales(p: &Projection, b: BrandIx, range: Range, now: Timestamp) -> SalesPanel {
    let brand = p.brand(b);
    let w = Window::resolve(range, brand, now);
    let s = &p.orders.sales[usize::from(b)];
    let cur = s.sum(w.start.as_second(), w.end.as_second());
    let pri = s.sum(w.prior_start.as_second(), w.prior_end.as_second());
    let c = brand.currency;
    let (revenue, prior_revenue) = (Summed::new(cur.revenue, c), Summed::new(pri.revenue, c));
    let tz = &brand.time_zone;
    let mut orders_series = Vec::new();
    let mut revenue_series = Vec::new();
    for d in w.days() {
        let from = day_start(d, tz);
        let to = day_start(d + 1, tz).min(w.end.as_second());
        let x = s.sum(from, to);
        orders_series.push(point(from, x.orders as f64));
        revenue_series.push(point(from, x.revenue as f64));
    }
    SalesPanel {
        window: w,
        orders: cur.orders,
        prior_orders: pri.orders,
        orders_delta: delta_ratio(cur.orders, pri.orders),
        gross_revenue: revenue.money,
        prior_gross_revenue: prior_revenue.money,
        revenue_delta: delta_ratio(cur.revenue, pri.revenue),
        revenue_beyond_range: revenue.beyond_range || prior_revenue.beyond_range,
        aov: sums::aov(cur.revenue, cur.paid_orders, c),
        prior_aov: sums::aov(pri.revenue, pri.paid_orders, c),
        aov_delta: sums::aov_delta(cur.revenue, cur.paid_orders, pri.revenue, pri.paid_orders),
        foreign_currency_orders: cur.foreign,
        orders_series,
        revenue_series,
    }
}

pub fn sales(
    p: &Projection,
    cfg: &PanelConfig,
    only: Option<&[BrandIx]>,
    range: Range,
    now: Timestamp,
) -> Sales {
    let brands = per_brand(p, only, |b, _| brand_sales(p, b, range, now));
    let rc = cfg.reporting_currency;
    let (mut revenue, mut prior_revenue) = (0i128, 0i128);
    let mut total = SalesTotal {
        orders: 0,
        prior_orders: 0,
        gross_revenue: Money::zero(rc),
        prior_gross_revenue: Money::zero(rc),
        revenue_delta: None,
        revenue_beyond_range: false,
        brands_without_rate: vec![],
    };
    for bp in &brands {
        if let BrandPanel::Live { brand, panel } = bp {
            total.orders += panel.orders;
            total.prior_orders += panel.prior_orders;
            match (
                cfg.to_reporting(panel.gross_revenue),
                cfg.to_reporting(panel.prior_gross_revenue),
            ) {
                (Some(a), Some(b)) => {
                    revenue += i128::from(a.minor);
                    prior_revenue += i128::from(b.minor);
                    total.revenue_beyond_range |= panel.revenue_beyond_range;
                }
                _ => total.brands_without_rate.push(brand.clone()),
            }
        }
    }
    let (sum, prior_sum) = (Summed::new(revenue, rc), Summed::new(prior_revenue, rc));
    total.gross_revenue = sum.money;
    total.prior_gross_revenue = prior_sum.money;
    total.revenue_beyond_range |= sum.beyond_range || prior_sum.beyond_range;
    total.revenue_delta = delta_ratio(revenue, prior_revenue);
    Sales { brands, total }
}
