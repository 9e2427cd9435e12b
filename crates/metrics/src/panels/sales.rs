//! Orders and revenue over any range against the prior period of the same
//! length to date, with a daily series, per brand and in total.

use super::{per_brand, point, BrandPanel, PanelConfig, Point, Range, Window};
use crate::projection::{day_start, BrandIx, Projection};
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
    let aov = |x: &crate::projection::series::Sales| {
        Money::new(x.revenue, c).divide_rounded(x.paid_orders as u64)
    };
    let (a, pa) = (aov(&cur), aov(&pri));
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
        gross_revenue: Money::new(cur.revenue, c),
        prior_gross_revenue: Money::new(pri.revenue, c),
        revenue_delta: delta_ratio(cur.revenue, pri.revenue),
        aov_delta: match (a, pa) {
            (Some(x), Some(y)) => delta_ratio(x.minor, y.minor),
            _ => None,
        },
        aov: a,
        prior_aov: pa,
        foreign_currency_orders: cur.foreign,
        orders_series,
        revenue_series,
    }
}

pub fn sales(
    p: &Projection,
    cfg: &PanelConfig,
    only: Option<BrandIx>,
    range: Range,
    now: Timestamp,
) -> Sales {
    let brands = per_brand(p, only, |b, _| brand_sales(p, b, range, now));
    let rc = cfg.reporting_currency;
    let mut total = SalesTotal {
        orders: 0,
        prior_orders: 0,
        gross_revenue: Money::zero(rc),
        prior_gross_revenue: Money::zero(rc),
        revenue_delta: None,
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
                    total.gross_revenue.minor += a.minor;
                    total.prior_gross_revenue.minor += b.minor;
                }
                _ => total.brands_without_rate.push(brand.clone()),
            }
        }
    }
    total.revenue_delta = delta_ratio(total.gross_revenue.minor, total.prior_gross_revenue.minor);
    Sales { brands, total }
}
