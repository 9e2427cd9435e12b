//! Where-is-my-order: inquiries (tickets whose text or tags say order
//! status, tracking, delivery or refund) linked to orders, their rate,
//! types, repeats and when they arrive.

use super::urgent::linked_order;
use super::{ratio, Range, Window};
use crate::projection::{BrandIx, Projection};
use opsdeck_domain::Timestamp;
use serde::Serialize;
use std::collections::{BTreeMap, HashSet};

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
    let from = w.first_day - REPEAT_LOOKBACK_DAYS;
    let end = w.end.as_second();
    // Inquiries in the window, in order of creation, with their orders.
    let mut list: Vec<(i64, u64, Option<u64>)> = p
        .support
        .inquiries
        .range((b, w.first_day, 0)..=(b, w.last_day, u64::MAX))
        .filter(|(_, q)| q.created < end)
        .filter_map(|((_, _, k), q)| {
            let t = p.support.tickets.get(k)?;
            Some((q.created, *k, linked_order(p, b, t)))
        })
        .collect();
    list.sort_unstable();
    // An earlier inquiry (up to the lookback) makes one a repeat only when
    // it is about one of these orders: only an inquiry quoting one of their
    // numbers or sent from one of their customers' addresses can be, so
    // only those are linked.
    let mut numbers = HashSet::new();
    let mut emails = HashSet::new();
    for o in list.iter().filter_map(|(_, _, l)| *l) {
        if let Some(r) = p.orders.rows.get(&o) {
            numbers.insert(r.number);
            emails.insert(r.email);
        }
    }
    let mut seen: HashSet<u64> = HashSet::new();
    if !numbers.is_empty() {
        for ((_, _, k), q) in p.support.inquiries.range((b, from, 0)..(b, w.first_day, 0)) {
            let candidate = (q.order_number != 0 && numbers.contains(&q.order_number))
                || (q.email != 0 && emails.contains(&q.email));
            if let Some(o) = candidate
                .then(|| p.support.tickets.get(k))
                .flatten()
                .and_then(|t| linked_order(p, b, t))
            {
                seen.insert(o);
            }
        }
    }
    for (created, key, link) in list {
        let t = &p.support.tickets[&key];
        out.inquiries += 1;
        *out.types.entry(t.words().inquiry_type()).or_default() += 1;
        let z = Timestamp::from_second(created)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(brand.time_zone.clone());
        out.heatmap[usize::from(z.weekday().to_monday_zero_offset() as u8)][z.hour() as usize] += 1;
        if let Some(o) = link {
            out.linked += 1;
            if !seen.insert(o) {
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
