//! Sales pulse: today so far against the mean of the 7 previous local days
//! up to the same local time of day; top SKUs with stock cover; open
//! fulfillment blockers.

use super::{major_to_minor, wall_time, PanelConfig};
use crate::projection::keys::KeyMap;
use crate::projection::{day_start, local_day, BrandIx, Projection};
use opsdeck_domain::{Money, Timestamp};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PulseState {
    Normal,
    Warning,
    Critical,
    /// No baseline (nothing sold on the 7 previous days by this time).
    NoBaseline,
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
    pub state: PulseState,
    pub order_spike: bool,
    pub top_skus_today: Vec<TopSku>,
    pub top_skus_7d: Vec<TopSku>,
    pub blockers: Vec<Blocker>,
    pub blocker_count: usize,
}

const TOP: usize = 10;
const BLOCKERS_SHOWN: usize = 50;

pub fn pulse(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Pulse {
    let brand = p.brand(b);
    let tz = &brand.time_zone;
    let now_s = now.as_second();
    let today = local_day(now_s, tz);
    let sold = units_28d(p, b, today);
    let stock = stock_by_sku(p, b);
    let elapsed = now_s - day_start(today, tz);
    let s = &p.orders.sales[usize::from(b)];
    let cur = s.sum(day_start(today, tz), now_s);
    let (mut bo, mut br) = (0i64, 0i64);
    for d in today - 7..today {
        let x = s.sum(
            day_start(d, tz),
            wall_time(d, elapsed, tz).min(day_start(d + 1, tz)),
        );
        bo += x.orders;
        br += x.revenue;
    }
    let (bo, br) = (bo as f64 / 7.0, br as f64 / 7.0);
    let var = |c: i64, base: f64| (base > 0.0).then(|| (c as f64 - base) / base);
    let rv = var(cur.revenue, br);
    let ov = var(cur.orders, bo);
    let state = match rv {
        None => PulseState::NoBaseline,
        Some(v) if v.abs() >= 0.30 - 1e-12 => PulseState::Critical,
        Some(v) if v.abs() >= 0.15 - 1e-12 => PulseState::Warning,
        Some(_) => PulseState::Normal,
    };
    let threshold = major_to_minor(cfg.blocker_value, brand.currency);
    let open = p
        .orders
        .open
        .range((b, i64::MIN, 0)..(b, now_s - 86_400, 0));
    // All open orders minus those of the last 24 h (counted per hour).
    let recent = p.orders.open_since(b, now_s - 86_400);
    let total = p.orders.open_count.get(&b).copied().unwrap_or(0);
    let blocker_count = usize::try_from(total - recent).unwrap_or(0);
    let blockers: Vec<Blocker> = open
        .take(BLOCKERS_SHOWN)
        .filter_map(|(_, _, k)| p.orders.rows.get(k))
        .map(|r| Blocker {
            order: format!("#{}", r.number),
            created_at: Timestamp::from_second(r.created).unwrap_or(Timestamp::UNIX_EPOCH),
            age_hours: (now_s - r.created) / 3600,
            value: Money::new(r.total, brand.currency),
            high_value: r.total > threshold,
            partial: r.stage() == crate::projection::Stage::Partial,
        })
        .collect();
    Pulse {
        orders_today: cur.orders,
        revenue_today: Money::new(cur.revenue, brand.currency),
        baseline_orders: bo,
        baseline_revenue_minor: br,
        revenue_variance: rv,
        orders_variance: ov,
        state,
        order_spike: ov.is_some_and(|v| v >= 0.25 - 1e-12),
        top_skus_today: top_skus(p, b, today, today, &sold, &stock),
        top_skus_7d: top_skus(p, b, today - 6, today, &sold, &stock),
        blockers,
        blocker_count,
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
    let mut agg: KeyMap<u32, (i64, i64)> = KeyMap::default();
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
                revenue: Money::new(revenue, brand.currency),
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
