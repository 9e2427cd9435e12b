//! Where-is-my-order: inquiries (tickets whose text or tags say order
//! status, tracking, delivery or refund) linked to orders, their rate,
//! types, repeats and when they arrive.

use super::urgent::linked_order;
use super::{ratio, Range, Window};
use crate::projection::{BrandIx, Projection};
use opsdeck_domain::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Wismo {
    pub window: Window,
    pub inquiries: i64,
    pub orders: i64,
    pub inquiry_rate: Option<f64>,
    pub linked: i64,
    pub repeat_inquiries: i64,
    pub repeat_rate: Option<f64>,
    pub types: BTreeMap<&'static str, i64>,
    /// `heatmap[weekday][hour]`, weekday 0 = Monday, local time.
    pub heatmap: Vec<Vec<i64>>,
    pub peak: Option<(String, i8)>,
}

/// How far before the window an earlier inquiry about the same order still
/// makes one a repeat.
pub const REPEAT_LOOKBACK_DAYS: i32 = 90;

pub fn wismo(p: &Projection, b: BrandIx, range: Range, now: Timestamp) -> Wismo {
    let brand = p.brand(b);
    let w = Window::resolve(range, brand, now);
    let orders = p.orders.sales[usize::from(b)]
        .sum(w.start.as_second(), w.end.as_second())
        .orders;
    let mut seen: HashMap<u64, ()> = HashMap::new();
    let mut out = Wismo {
        window: w,
        inquiries: 0,
        orders,
        inquiry_rate: None,
        linked: 0,
        repeat_inquiries: 0,
        repeat_rate: None,
        types: BTreeMap::new(),
        heatmap: vec![vec![0; 24]; 7],
        peak: None,
    };
    let from = w.first_day - REPEAT_LOOKBACK_DAYS;
    // The set is ordered by day then key; order within a day by creation.
    let mut list: Vec<(i64, u64, i32)> = p
        .support
        .inquiries
        .range((b, from, 0)..=(b, w.last_day, u64::MAX))
        .filter_map(|(_, d, k)| p.support.tickets.get(k).map(|t| (t.created, *k, *d)))
        .collect();
    list.sort_unstable();
    for (created, key, day) in list {
        let t = &p.support.tickets[&key];
        let link = linked_order(p, b, t);
        let in_window = day >= w.first_day && created < w.end.as_second();
        if in_window {
            out.inquiries += 1;
            *out.types.entry(t.words().inquiry_type()).or_default() += 1;
            let z = Timestamp::from_second(created)
                .unwrap_or(Timestamp::UNIX_EPOCH)
                .to_zoned(brand.time_zone.clone());
            out.heatmap[usize::from(z.weekday().to_monday_zero_offset() as u8)]
                [z.hour() as usize] += 1;
            if link.is_some() {
                out.linked += 1;
            }
        }
        if let Some(o) = link {
            if seen.insert(o, ()).is_some() && in_window {
                out.repeat_inquiries += 1;
            }
        }
    }
    out.inquiry_rate = ratio(out.inquiries, out.orders);
    out.repeat_rate = ratio(out.repeat_inquiries, out.inquiries);
    let days = [
        "Monday",
        "Tuesday",
        "Wednesday",
        "Thursday",
        "Friday",
        "Saturday",
        "Sunday",
    ];
    let mut best = (0, 0usize, 0usize);
    for (d, row) in out.heatmap.iter().enumerate() {
        for (h, n) in row.iter().enumerate() {
            if *n > best.0 {
                best = (*n, d, h);
            }
        }
    }
    if best.0 > 0 {
        out.peak = Some((days[best.1].to_string(), best.2 as i8));
    }
    out
}
