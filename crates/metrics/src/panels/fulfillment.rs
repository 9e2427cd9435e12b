//! Fulfillment pipeline: where the last 30 local days' non-cancelled orders
//! are, how old the open ones are (all of them, whatever their age), which
//! are stale, the subscription split, time to ship, and per-carrier delivery.

use super::ratio;
use crate::projection::orders::{CarrierDay, OrderDay};
use crate::projection::series::Counter;
use crate::projection::{local_day, BrandIx, Projection, Stage};
use crate::sums::Summed;
use opsdeck_domain::{Money, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StageCount {
    pub stage: Stage,
    pub orders: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AgeBucket {
    pub label: &'static str,
    pub orders: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StaleOrder {
    pub order: String,
    pub created_at: Timestamp,
    pub age_hours: i64,
    pub partial: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Carrier {
    pub carrier: String,
    pub shipments: i64,
    pub delivered: i64,
    pub mean_delivery_hours: Option<f64>,
    pub on_time_rate: Option<f64>,
    pub exception_rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Fulfillment {
    pub stages: Vec<StageCount>,
    pub age_buckets: Vec<AgeBucket>,
    pub stale_after_days: u32,
    pub stale_count: usize,
    pub stale: Vec<StaleOrder>,
    pub recurring_orders: i64,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub recurring_revenue: Money,
    pub one_time_orders: i64,
    #[serde(serialize_with = "crate::money_json::serialize")]
    pub one_time_revenue: Money,
    /// The recurring or one-time split summed beyond what an amount holds:
    /// the amount shown is held at that bound ([`crate::sums`]). (Named
    /// without "revenue": roles without revenue get this panel.)
    pub amounts_beyond_range: bool,
    pub mean_time_to_ship_hours: Option<f64>,
    pub carriers: Vec<Carrier>,
    pub exception_rate: Option<f64>,
    pub on_time_rate: Option<f64>,
}

/// Upper bounds (exclusive, hours) of the age buckets.
pub const AGE_BUCKETS: [(&str, i64); 4] =
    [("0-1d", 48), ("2-3d", 96), ("4-7d", 192), ("7d+", i64::MAX)];

/// Open orders of brand `b` per age bucket, and how many are older than
/// `limit` seconds. Only the open orders younger than the last bucket
/// boundary (or the limit) are walked; the older ones are the brand's open
/// count minus those, so a backlog of stuck orders costs nothing.
pub fn open_ages(p: &Projection, b: BrandIx, now_s: i64, limit: i64) -> ([i64; 4], usize) {
    // Age in whole hours < h ⇔ created > now − h·3600: each bucket edge and
    // the stale limit is a count of the open orders created since then.
    let total = p.orders.open_count.get(&b).copied().unwrap_or(0);
    let since = |from: i64| p.orders.open_since(b, from);
    let younger = |hours: i64| since(now_s - hours * 3600 + 1);
    let (h48, h96, h192) = (younger(48), younger(96), younger(192));
    let buckets = [h48, h96 - h48, h192 - h96, total - h192];
    let fresh = since(now_s - limit);
    (buckets, usize::try_from(total - fresh).unwrap_or(0))
}

/// How many stale orders the panel lists; `stale_count` counts them all.
pub const STALE_SHOWN: usize = 50;

/// Every stale open order of brand `b` at `now` (open longer than the
/// brand's `stale_after_days`), oldest first: the one stale rule, for the
/// panel's list (its first [`STALE_SHOWN`]) and the unfulfilled-stale alert
/// (all of them).
pub fn stale_orders(
    p: &Projection,
    b: BrandIx,
    now: Timestamp,
) -> impl Iterator<Item = StaleOrder> + '_ {
    let now_s = now.as_second();
    let limit = i64::from(p.brand(b).thresholds.stale_after_days) * 86_400;
    p.orders
        .open
        .range((b, i64::MIN, 0)..(b, now_s - limit, 0))
        .filter_map(|(_, _, key)| p.orders.rows.get(key))
        .map(move |r| StaleOrder {
            order: format!("#{}", r.number),
            created_at: Timestamp::from_second(r.created).unwrap_or(Timestamp::UNIX_EPOCH),
            age_hours: (now_s - r.created).div_euclid(3600),
            partial: r.stage() == Stage::Partial,
        })
}

pub fn fulfillment(p: &Projection, b: BrandIx, now: Timestamp) -> Fulfillment {
    let brand = p.brand(b);
    let now_s = now.as_second();
    let today = local_day(now_s, &brand.time_zone);
    let mut day = OrderDay::default();
    for (_, d) in p.orders.days.range((b, today - 29)..=(b, today)) {
        day.add(d, 1);
    }
    let mut carriers: BTreeMap<u32, CarrierDay> = BTreeMap::new();
    for ((_, _, c), v) in p
        .orders
        .carriers
        .range((b, today - 29, 0)..=(b, today, u32::MAX))
    {
        carriers.entry(*c).or_default().add(v, 1);
    }
    let mut all = CarrierDay::default();
    for c in carriers.values() {
        all.add(c, 1);
    }
    let limit = i64::from(brand.thresholds.stale_after_days) * 86_400;
    let (buckets, stale_count) = open_ages(p, b, now_s, limit);
    let stale: Vec<StaleOrder> = stale_orders(p, b, now).take(STALE_SHOWN).collect();
    let c = brand.currency;
    let recurring_revenue = Summed::new(day.recurring_revenue, c);
    let one_time_revenue = Summed::new(day.one_time_revenue, c);
    Fulfillment {
        stages: Stage::ALL
            .iter()
            .map(|s| StageCount {
                stage: *s,
                orders: day.stages[*s as usize],
            })
            .collect(),
        age_buckets: AGE_BUCKETS
            .iter()
            .zip(buckets)
            .map(|((label, _), orders)| AgeBucket { label, orders })
            .collect(),
        stale_after_days: brand.thresholds.stale_after_days,
        stale_count,
        stale,
        recurring_orders: day.recurring,
        recurring_revenue: recurring_revenue.money,
        one_time_orders: day.one_time,
        one_time_revenue: one_time_revenue.money,
        amounts_beyond_range: recurring_revenue.beyond_range || one_time_revenue.beyond_range,
        mean_time_to_ship_hours: ratio(day.ship_secs, day.shipped).map(|h| h / 3600.0),
        carriers: carriers
            .iter()
            .map(|(sym, v)| Carrier {
                carrier: p.syms.text(*sym).to_string(),
                shipments: v.shipments,
                delivered: v.delivered,
                mean_delivery_hours: ratio(v.delivery_secs, v.delivered).map(|h| h / 3600.0),
                on_time_rate: ratio(v.on_time, v.judged),
                exception_rate: ratio(v.exceptions, v.shipments),
            })
            .collect(),
        // Plus orders a carrier reported an exception for (see `operations`).
        exception_rate: ratio(
            all.exceptions + super::operations::tracking_exception_orders(p, b, today - 29, today),
            all.shipments,
        ),
        on_time_rate: ratio(all.on_time, all.judged),
    }
}
