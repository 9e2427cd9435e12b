//! The ticket → order links the projection keeps current
//! (`projection::links`): applying tickets and orders in any order, and
//! orders changing their number, customer, creation, total or stage after
//! the tickets about them arrived, gives the same projection as applying
//! only the latest versions; and the urgent queue and where-is-my-order
//! read from the kept facts exactly what the plain definitions compute.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ticket, ts, world, Rng};
use opsdeck_domain::*;
use opsdeck_metrics::panels::urgent::linked_order;
use opsdeck_metrics::panels::{self, major_to_minor, PanelConfig, Range, Window};
use opsdeck_metrics::projection::text::CHARGEBACK;
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::AnyRecord;
use std::collections::{BTreeMap, HashMap, HashSet};

const NOW: i64 = 1_780_000_000;
const ORDERS: u64 = 400;

fn brands() -> Vec<Brand> {
    vec![
        brand("mavena", "America/New_York", BrandKind::Standard, true),
        brand("pawly", "Europe/London", BrandKind::Dropship, true),
    ]
}

/// Orders and tickets over 60 days (tickets quote the orders' numbers and
/// come from their customers), then new versions of a third of the orders
/// that move what a ticket links to: another customer, a new number,
/// another creation time, another total, shipped or unshipped.
fn history(seed: u64) -> Vec<AnyRecord> {
    let mut rng = Rng::new(seed);
    let mut recs = world(seed, &brands(), ORDERS, 0, 60, NOW);
    for i in 0..600 {
        let b = &brands()[rng.below(2) as usize].id;
        let created = NOW - rng.below(60 * 86_400) as i64;
        recs.extend(ticket(&mut rng, b, i, created, NOW, ORDERS));
    }
    // Shuffle: orders may arrive after the tickets about them.
    for i in (1..recs.len()).rev() {
        recs.swap(i, rng.below(i as u64 + 1) as usize);
    }
    let orders: Vec<Order> = recs
        .iter()
        .filter_map(|r| match r {
            AnyRecord::Order(o) => Some(o.clone()),
            _ => None,
        })
        .collect();
    for (n, mut o) in orders.into_iter().enumerate() {
        if !rng.chance(33) {
            continue;
        }
        o.updated_at = ts(o.updated_at.as_second() + 100 + n as i64);
        match rng.below(5) {
            0 => o.email = Some(format!("c{}@example.com", rng.below(ORDERS / 3))),
            // Often another order's number: of orders sharing one, a
            // ticket quoting it is about the latest placed.
            1 => o.number = Some((1000 + rng.below(ORDERS + 50)) as i64),
            2 => o.created_at = ts(o.created_at.as_second() - rng.below(20 * 86_400) as i64),
            3 => o.total_price = Money::new(rng.below(60_000) as i64, Currency::USD),
            _ => {
                o.fulfillments.clear();
                o.fulfillment_status = OrderFulfillmentStatus::Unfulfilled;
                o.cancelled_at = None;
            }
        }
        let at = rng.below(recs.len() as u64 + 1) as usize;
        // After its first version, so versions stay in order.
        let first = recs
            .iter()
            .position(|r| matches!(r, AnyRecord::Order(x) if x.external_id == o.external_id))
            .unwrap();
        recs.insert(at.max(first + 1), AnyRecord::Order(o));
    }
    recs
}

/// The latest version of each record, tickets and messages first.
fn latest_tickets_first(recs: &[AnyRecord]) -> Vec<AnyRecord> {
    let mut last: HashMap<String, usize> = HashMap::new();
    for (i, r) in recs.iter().enumerate() {
        last.insert(format!("{:?}", r.key()), i);
    }
    let mut keep: Vec<usize> = last.into_values().collect();
    keep.sort_by_key(|i| (matches!(recs[*i], AnyRecord::Order(_)), *i));
    keep.into_iter().map(|i| recs[i].clone()).collect()
}

fn build(recs: &[AnyRecord]) -> Projection {
    let mut p = Projection::new(brands(), SubscriptionRules::default());
    for r in recs {
        p.apply_record(r);
    }
    p
}

#[test]
fn links_kept_incrementally_equal_links_of_the_latest_versions() {
    let mut relinked = 0;
    for seed in [1, 2, 3] {
        let recs = history(seed);
        let inc = build(&recs);
        let rebuilt = build(&latest_tickets_first(&recs));
        assert_eq!(inc.support, rebuilt.support, "seed {seed}");
        assert!(inc == rebuilt, "seed {seed}");
        // Every kept link is the link computed now from the orders.
        for ((b, _, key), q) in &inc.support.inquiries {
            let t = &inc.support.tickets[key];
            assert_eq!(q.link, linked_order(&inc, *b, t));
        }
        // The history did move links: some differ from a build without
        // the order updates.
        let first_versions: Vec<AnyRecord> = {
            let mut seen = HashSet::new();
            recs.iter()
                .filter(|r| seen.insert(format!("{:?}", r.key())))
                .cloned()
                .collect()
        };
        let before = build(&first_versions);
        relinked += inc
            .support
            .inquiries
            .iter()
            .filter(|(k, q)| before.support.inquiries.get(k).map(|o| o.link) != Some(q.link))
            .count();
    }
    assert!(relinked > 0, "order updates changed some links");
}

/// The urgent queue as defined: every open ticket, each linked and
/// flagged from the rows; returns (scanned, flagged, the flagged keys).
fn plain_urgent(p: &Projection, cfg: &PanelConfig, b: u8) -> (usize, usize, Vec<u64>) {
    let vip_value = major_to_minor(cfg.vip_order_value, p.brand(b).currency);
    let mut open: Vec<(i64, u64)> = p
        .support
        .tickets
        .iter()
        .filter(|(_, t)| t.known && !t.hidden && t.brand == b && t.open)
        .map(|(k, t)| (t.created, *k))
        .collect();
    open.sort_unstable();
    let (mut scanned, mut flagged, mut shown) = (0, 0, vec![]);
    for (_, key) in open.iter().rev() {
        scanned += 1;
        let t = &p.support.tickets[key];
        let order = linked_order(p, b, t).map(|k| &p.orders.rows[&k]);
        let vip = order.is_some_and(|o| o.total > vip_value)
            || (t.email != 0
                && p.orders
                    .rows
                    .iter()
                    .filter(|o| o.email == t.email && !o.is_test())
                    .count()
                    >= cfg.vip_order_count);
        let emergency = match (order, t.last_customer_message()) {
            (Some(o), Some(last)) => o.stage().is_open() && last - o.created >= 5 * 86_400,
            _ => false,
        };
        if vip || t.words().words & CHARGEBACK != 0 || emergency || t.social {
            flagged += 1;
            shown.push(*key);
        }
    }
    (scanned, flagged, shown)
}

#[test]
fn urgent_flags_from_kept_facts_equal_flagging_every_open_ticket() {
    let recs = history(4);
    let p = build(&recs);
    let mut flagged_any = 0;
    for (value, count) in [(200, 5), (0, 1_000), (1_000_000, 2), (150, 0)] {
        let cfg = PanelConfig {
            vip_order_value: value,
            vip_order_count: count,
            ..PanelConfig::default()
        };
        for b in 0..2u8 {
            let u = panels::urgent::urgent(&p, &cfg, b, ts(NOW));
            let (scanned, flagged, shown) = plain_urgent(&p, &cfg, b);
            assert_eq!((u.scanned, u.flagged), (scanned, flagged));
            // The page is the top of the ranked queue: every flagged ticket
            // is on it or scores no higher than its last row.
            assert_eq!(u.tickets.len(), flagged.min(panels::urgent::PER_PAGE));
            assert!(u.tickets.windows(2).all(|w| w[0].score >= w[1].score));
            let mut all = vec![];
            for page in 1..=u.pages {
                all.extend(panels::urgent::urgent_page(&p, &cfg, b, ts(NOW), page).tickets);
            }
            assert_eq!(all.len(), flagged, "every flagged ticket is behind the top");
            let mut got: Vec<String> = all.iter().map(|t| t.ticket_id.clone()).collect();
            let mut want: Vec<String> = shown
                .iter()
                .map(|k| {
                    p.support.tickets[k]
                        .text
                        .as_ref()
                        .unwrap()
                        .external_id
                        .to_string()
                })
                .collect();
            got.sort();
            want.sort();
            assert_eq!(got, want);
            assert!(all.windows(2).all(|w| w[0].score >= w[1].score));
            assert!(u.tickets.iter().all(|t| !t.flags.is_empty()));
            flagged_any += flagged;
        }
    }
    assert!(flagged_any > 0);
}

/// Where-is-my-order's types and heatmap as defined: every inquiry of the
/// window, its type from its words, its local weekday and hour.
fn plain_mix(
    p: &Projection,
    b: u8,
    range: Range,
    now: Timestamp,
) -> (BTreeMap<&'static str, i64>, Vec<Vec<i64>>) {
    let w = Window::resolve(range, p.brand(b), now);
    let mut types = BTreeMap::new();
    let mut heat = vec![vec![0; 24]; 7];
    for ((_, _, k), _) in p
        .support
        .inquiries
        .range((b, w.first_day, 0)..=(b, w.last_day, u64::MAX))
    {
        let t = &p.support.tickets[k];
        if t.created >= w.end.as_second() {
            continue;
        }
        *types.entry(t.words().inquiry_type()).or_default() += 1;
        let z = ts(t.created).to_zoned(p.brand(b).time_zone.clone());
        heat[z.weekday().to_monday_zero_offset() as usize][z.hour() as usize] += 1;
    }
    (types, heat)
}

#[test]
fn wismo_day_rollups_equal_counting_every_inquiry() {
    let p = build(&history(5));
    let mut counted = 0;
    for back in [0, 9] {
        let now = ts(NOW - back * 86_400 - 3_000);
        for range in [
            Range::Today,
            Range::Days { days: 7 },
            Range::Days { days: 30 },
            Range::Days { days: 90 },
        ] {
            for b in 0..2u8 {
                let w = panels::wismo::wismo(&p, b, range, now);
                let (types, heat) = plain_mix(&p, b, range, now);
                assert_eq!(w.types, types);
                assert_eq!(w.heatmap, heat);
                assert_eq!(w.inquiries, types.values().sum::<i64>());
                counted += w.inquiries;
            }
        }
    }
    assert!(counted > 100);
}
