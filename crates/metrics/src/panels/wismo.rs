//! Where-is-my-order: inquiries (tickets whose text or tags say order
//! status, tracking, delivery or refund) linked to orders, their rate,
//! types, repeats and when they arrive.

use super::{ratio, Range, Window};
use crate::projection::text::INQUIRY_TYPES;
use crate::projection::{day_date, BrandIx, Projection};
use opsdeck_domain::Timestamp;
use serde::Serialize;
use std::collections::BTreeMap;

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
    // An inquiry is a repeat when the previous inquiry about its order
    // (kept by `projection::links`) was created on or after `from`.
    let from = w.first_day - REPEAT_LOOKBACK_DAYS;
    let end = w.end.as_second();
    let mut types = [0i64; 4];
    // A window that starts after today has no inquiries yet.
    let last_day = w.last_day.max(w.first_day - 1);
    // Whole days before the last: their per-day rollups.
    for ((_, day), d) in p
        .support
        .wismo_days
        .range((b, w.first_day)..(b, last_day.max(w.first_day)))
    {
        out.inquiries += d.inquiries;
        out.linked += d.linked;
        out.repeat_inquiries += d.repeats_since(from);
        for (t, n) in types.iter_mut().zip(d.types) {
            *t += n;
        }
        let weekday = weekday_of(*day);
        for (cell, n) in out.heatmap[weekday].iter_mut().zip(d.hours) {
            *cell += n;
        }
    }
    // The last day (it may end at now): its inquiries one by one.
    let weekday = weekday_of(last_day);
    for (_, q) in p
        .support
        .inquiries
        .range((b, last_day, 0)..=(b, last_day, u64::MAX))
        .filter(|(_, q)| last_day >= w.first_day && q.created < end)
    {
        out.inquiries += 1;
        types[usize::from(q.kind)] += 1;
        out.heatmap[weekday][usize::from(q.hour)] += 1;
        if q.link.is_some() {
            out.linked += 1;
            if q.prev_day.is_some_and(|d| d >= from) {
                out.repeat_inquiries += 1;
            }
        }
    }
    for ((_, name), n) in INQUIRY_TYPES.iter().zip(types) {
        if n != 0 {
            out.types.insert(name, n);
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

/// Monday = 0 of a local day.
fn weekday_of(day: i32) -> usize {
    usize::from(day_date(day).weekday().to_monday_zero_offset() as u8)
}
