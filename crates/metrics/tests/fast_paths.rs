//! The shortcuts the panels take for speed give exactly what the plain
//! definitions give: where-is-my-order's repeat lookback (only inquiries
//! that can be about the window's orders are linked), open-order age
//! buckets, stale and blocker counts (open count minus the recent ones),
//! and the dashboard's insights (from the panels already computed).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, ticket, ts, world, Rng};
use opsdeck_domain::*;
use opsdeck_metrics::panels::{self, fulfillment::AGE_BUCKETS, urgent::linked_order};
use opsdeck_metrics::panels::{PanelConfig, Range, Window};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::AnyRecord;
use std::collections::{BTreeMap, HashSet};

const NOW: i64 = 1_780_000_000;

fn brands() -> Vec<Brand> {
    vec![
        brand("mavena", "America/New_York", BrandKind::Standard, true),
        brand("pawly", "Europe/London", BrandKind::Dropship, true),
    ]
}

/// Orders over 200 days (old ones mostly shipped, some stuck), tickets that
/// quote their numbers or come from their customers, some in reply to
/// earlier ones about the same order.
fn projection(seed: u64) -> Projection {
    let mut p = Projection::new(brands(), SubscriptionRules::default());
    let orders = 3_000;
    for r in world(seed, &brands(), orders, 0, 200, NOW) {
        p.apply_record(&r);
    }
    let mut rng = Rng::new(seed + 1);
    for i in 0..2_000 {
        let b = &brands()[rng.below(2) as usize].id;
        let created = NOW - rng.below(200 * 86_400) as i64;
        for r in ticket(&mut rng, b, i, created, NOW, orders) {
            p.apply_record(&r);
        }
    }
    // A few follow-ups an hour to 100 days after an earlier ticket, same text and customer.
    let mut rng = Rng::new(seed + 2);
    for i in 0..300 {
        let b = &brands()[rng.below(2) as usize].id;
        let created = NOW - rng.below(200 * 86_400) as i64;
        let first = ticket(&mut rng, b, 10_000 + i, created, NOW, orders);
        let later = (created + 3600 * (1 + rng.below(2400)) as i64).min(NOW - 1);
        for mut r in first.clone() {
            p.apply_record(&r);
            match &mut r {
                AnyRecord::Ticket(t) => {
                    t.external_id = format!("f{i}");
                    t.created_at = ts(later);
                }
                AnyRecord::TicketMessage(m) => {
                    m.external_id = format!("f{i}-{}", m.external_id);
                    m.ticket_id = format!("f{i}");
                    m.created_at = ts(later);
                }
                _ => continue,
            }
            p.apply_record(&r);
        }
    }
    p
}

/// Where-is-my-order's repeat count as defined: every inquiry from the
/// lookback to the window's end linked, in order of creation.
fn plain_repeats(p: &Projection, b: u8, range: Range, now: Timestamp) -> (i64, i64, i64) {
    let w = Window::resolve(range, p.brand(b), now);
    let from = w.first_day - panels::wismo::REPEAT_LOOKBACK_DAYS;
    let mut list: Vec<(i64, u64, i32)> = p
        .support
        .inquiries
        .range((b, from, 0)..=(b, w.last_day, u64::MAX))
        .map(|((_, d, k), _)| (p.support.tickets[k].created, *k, *d))
        .collect();
    list.sort_unstable();
    let (mut inquiries, mut linked, mut repeats) = (0, 0, 0);
    let mut seen = HashSet::new();
    for (created, key, day) in list {
        let link = linked_order(p, b, &p.support.tickets[&key]);
        let in_window = day >= w.first_day && created < w.end.as_second();
        if in_window {
            inquiries += 1;
            linked += i64::from(link.is_some());
        }
        if let Some(o) = link {
            if !seen.insert(o) && in_window {
                repeats += 1;
            }
        }
    }
    (inquiries, linked, repeats)
}

#[test]
fn wismo_repeats_equal_linking_every_lookback_inquiry() {
    let mut some_repeats = 0;
    for seed in [1, 2] {
        let p = projection(seed);
        for days in [1, 7, 30, 90] {
            for back in [0, 40] {
                let now = ts(NOW - back * 86_400);
                let range = Range::Days { days };
                for b in 0..2 {
                    let w = panels::wismo::wismo(&p, b, range, now);
                    let plain = plain_repeats(&p, b, range, now);
                    assert_eq!((w.inquiries, w.linked, w.repeat_inquiries), plain);
                    some_repeats += w.repeat_inquiries;
                }
            }
        }
    }
    assert!(some_repeats > 0, "the data set has repeats to get right");
}

#[test]
fn open_order_ages_equal_walking_every_open_order() {
    let mut p = projection(3);
    let mut stuck_seen = false;
    for step in 0..3 {
        for b in 0..2u8 {
            for back_h in [0, 30, 24 * 9] {
                let now = NOW - back_h * 3600;
                for limit_days in [3, 5, 12] {
                    let limit = limit_days * 86_400;
                    let mut buckets = [0i64; 4];
                    let mut stale = 0;
                    let mut blockers = 0;
                    for (_, created, _) in p
                        .orders
                        .open
                        .range((b, i64::MIN, 0)..=(b, i64::MAX, u64::MAX))
                    {
                        let hours = (now - created).div_euclid(3600);
                        buckets[AGE_BUCKETS
                            .iter()
                            .position(|(_, h)| hours < *h)
                            .unwrap_or(3)] += 1;
                        stale += usize::from(now - created > limit);
                        blockers += usize::from(*created < now - 86_400);
                    }
                    stuck_seen |= buckets[3] > 0;
                    assert_eq!(
                        panels::fulfillment::open_ages(&p, b, now, limit),
                        (buckets, stale)
                    );
                    if limit_days == 3 {
                        let pu = panels::pulse::pulse(&p, &PanelConfig::default(), b, ts(now));
                        assert_eq!(pu.blocker_count, blockers);
                    }
                }
            }
        }
        // Ship some open orders: the per-brand open count follows.
        let keys: Vec<u64> = p
            .orders
            .open
            .iter()
            .step_by(3)
            .map(|(_, _, k)| *k)
            .collect();
        let recs = world(3, &brands(), 3_000, 0, 200, NOW);
        for r in recs {
            if let AnyRecord::Order(mut o) = r {
                let key = opsdeck_metrics::projection::keys::record_key(
                    o.source.as_str(),
                    &o.external_id,
                );
                if keys.contains(&key) {
                    o.fulfillment_status = OrderFulfillmentStatus::Fulfilled;
                    o.updated_at = ts(NOW - step);
                    p.apply_record(&AnyRecord::Order(o));
                }
            }
        }
        let counted: BTreeMap<u8, i64> =
            p.orders
                .open
                .iter()
                .fold(BTreeMap::new(), |mut m, (b, _, _)| {
                    *m.entry(*b).or_default() += 1;
                    m
                });
        assert_eq!(p.orders.open_count, counted);
    }
    assert!(stuck_seen, "some orders are open for over 7 days");
}

#[test]
fn dashboard_insights_equal_insights_computed_on_their_own() {
    let p = projection(4);
    let cfg = PanelConfig::default();
    for range in [
        Range::Today,
        Range::Days { days: 7 },
        Range::Days { days: 90 },
    ] {
        let d = panels::dashboard(&p, &cfg, range, ts(NOW));
        assert_eq!(d.insights, panels::brand_insights(&p, &cfg, None, ts(NOW)));
    }
}

#[test]
fn linking_by_email_equals_the_latest_order_before_the_ticket() {
    let p = projection(5);
    let mut linked = 0;
    for t in p.support.tickets.values().filter(|t| t.known) {
        for b in 0..2u8 {
            // As defined, from every row: the brand's (non-test) order with
            // the quoted number (the latest placed if several share it),
            // else the brand's orders of this customer, the latest placed
            // by the ticket's creation, else the latest.
            let brand_rows = || {
                p.orders
                    .rows
                    .iter()
                    .filter(|r| r.brand == b && !r.is_test())
            };
            let number = t.words().order_number;
            let mut expected = brand_rows()
                .filter(|r| number != 0 && r.number == number)
                .map(|r| (r.created, r.key))
                .max()
                .map(|(_, k)| k);
            if expected.is_none() && t.email != 0 {
                let rows: Vec<(i64, u64)> = brand_rows()
                    .filter(|r| r.email == t.email)
                    .map(|r| (r.created, r.key))
                    .collect();
                let before = rows.iter().filter(|(c, _)| *c <= t.created).max();
                expected = before.or(rows.iter().max()).map(|(_, k)| *k);
            }
            assert_eq!(linked_order(&p, b, t), expected);
            linked += usize::from(expected.is_some());
        }
    }
    assert!(linked > 100);
}

#[test]
fn response_time_medians_equal_sorting_every_value() {
    use opsdeck_metrics::projection::series::median_mean;
    let p = projection(6);
    let mut checked = 0;
    for days in [1, 7, 30, 90, 200] {
        for b in 0..2u8 {
            let range = Range::Days { days };
            let t = panels::support::times(&p, b, range, ts(NOW));
            let w = Window::resolve(range, p.brand(b), ts(NOW));
            let plain =
                |m: &BTreeMap<(u8, i32), opsdeck_metrics::projection::series::Durations>| {
                    let mut all = vec![];
                    let mut trend = vec![];
                    for (_, v) in m.range((b, w.first_day)..=(b, w.last_day)) {
                        all.extend_from_slice(v.values());
                        if let (Some(med), _) = median_mean(v.values().to_vec()) {
                            trend.push(med / 3600.0);
                        }
                    }
                    let n = all.len();
                    let (med, mean) = median_mean(all);
                    (n, med.map(|v| v / 3600.0), mean.map(|v| v / 3600.0), trend)
                };
            let value = |pts: &[panels::Point]| pts.iter().map(|x| x.value).collect::<Vec<_>>();
            let (n, med, mean, trend) = plain(&p.support.first_response);
            assert_eq!(
                (
                    t.first_response_tickets,
                    t.first_response_median_hours,
                    t.first_response_mean_hours
                ),
                (n, med, mean)
            );
            assert_eq!(value(&t.first_response_trend), trend);
            let (n, med, mean, trend) = plain(&p.support.resolution);
            assert_eq!(
                (
                    t.resolved_tickets,
                    t.resolution_median_hours,
                    t.resolution_mean_hours
                ),
                (n, med, mean)
            );
            assert_eq!(value(&t.resolution_trend), trend);
            checked += n;
        }
    }
    assert!(checked > 1_000);
}
