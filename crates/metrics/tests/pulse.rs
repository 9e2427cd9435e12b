//! The sales pulse's evidence rule (issue 10.B6), its blocker totals (10.B11)
//! and sums that cannot wrap (11.5), on hand-built projections with a fixed
//! clock.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts are written as units_cents (100_00 is $100.00)"
)]

#[path = "support/gen.rs"]
mod gen;

use gen::{brand, order, ts, Rng};
use opsdeck_domain::*;
use opsdeck_metrics::order_volume::order_volume_from_sales;
use opsdeck_metrics::panels::pulse::{pulse, PulseState, BLOCKERS_SHOWN};
use opsdeck_metrics::panels::{self, PanelConfig, Range};
use opsdeck_metrics::projection::{Projection, SubscriptionRules};
use opsdeck_store::{AnyRecord, Change};

fn t(s: &str) -> i64 {
    s.parse::<Timestamp>().unwrap().as_second()
}

/// Wednesday 2026-06-10 in New York (EDT, UTC−4).
fn mavena() -> Projection {
    let b = brand("mavena", "America/New_York", BrandKind::Standard, true);
    Projection::new(vec![b], SubscriptionRules::default())
}

/// Adds a shipped (not open) order of `cents` created at `at`.
fn sold(p: &mut Projection, rng: &mut Rng, i: u64, at: i64, cents: i64) {
    let b = BrandId::parse("mavena").unwrap();
    let mut o = order(rng, &b, i, at, at + 86_400 * 40);
    o.total_price = Money::new(cents, Currency::USD);
    o.cancelled_at = None;
    o.test = false;
    p.apply(&Change {
        seq: i,
        record: AnyRecord::Order(o),
    });
}

/// Adds an unfulfilled order of `cents` created at `at`.
fn open(p: &mut Projection, rng: &mut Rng, i: u64, at: i64, cents: i64) {
    let b = BrandId::parse("mavena").unwrap();
    let mut o = order(rng, &b, i, at, at);
    o.total_price = Money::new(cents, Currency::USD);
    o.cancelled_at = None;
    o.test = false;
    o.fulfillments.clear();
    o.fulfillment_status = OrderFulfillmentStatus::Unfulfilled;
    p.apply(&Change {
        seq: i,
        record: AnyRecord::Order(o),
    });
}

/// The pulse's revenue insights for the brand as of `now`.
fn revenue_insights(p: &Projection, now: i64) -> usize {
    panels::brand_insights(p, &PanelConfig::default(), Some(&[0]), ts(now))
        .iter()
        .filter(|i| i.finding.contains("revenue so far today"))
        .count()
}

/// Now: 03:00 local. Each of the 7 previous days had one $40 order before
/// 03:00 on two of them and some later: a baseline of 2/7 orders (0.29), as
/// a quiet store at night. Today nothing yet: −100 %.
#[test]
fn three_am_on_a_third_of_an_order_is_too_early_to_tell() {
    let mut p = mavena();
    let mut rng = Rng::new(1);
    let now = t("2026-06-10T07:00:00Z");
    sold(&mut p, &mut rng, 1, t("2026-06-08T05:30:00Z"), 40_00); // 01:30 local
    sold(&mut p, &mut rng, 2, t("2026-06-05T06:10:00Z"), 40_00); // 02:10 local
    for d in 3..=9 {
        sold(
            &mut p,
            &mut rng,
            10 + d,
            t(&format!("2026-06-{d:02}T16:00:00Z")),
            40_00,
        );
    }
    let pu = pulse(&p, &PanelConfig::default(), 0, ts(now));
    assert!((pu.baseline_orders - 2.0 / 7.0).abs() < 1e-12);
    assert_eq!(pu.revenue_variance, Some(-1.0));
    assert_eq!(pu.state, PulseState::TooEarly, "not critical: {pu:?}");
    let e = pu.revenue_evidence.unwrap();
    assert!(!e.significant && e.p_value > 0.7, "{e:?}");
    assert_eq!(revenue_insights(&p, now), 0, "no insight without evidence");
}

/// A busy afternoon: 20 orders of $50 by 14:05 on each of the 7 days
/// before; today only 4 (−80 %): unlikely by chance (P(X ≤ 4 | 20) ≈ 1.7e-5).
#[test]
fn a_drop_the_baseline_makes_unlikely_is_critical_with_an_insight() {
    let mut p = mavena();
    let mut rng = Rng::new(2);
    let now = t("2026-06-10T18:05:00Z");
    let mut i = 0;
    for d in 3..=9 {
        for k in 0..20 {
            i += 1;
            let at = t(&format!("2026-06-{d:02}T13:00:00Z")) + k * 600;
            sold(&mut p, &mut rng, i, at, 50_00);
        }
    }
    for k in 0..4 {
        i += 1;
        sold(
            &mut p,
            &mut rng,
            i,
            t("2026-06-10T13:00:00Z") + k * 600,
            50_00,
        );
    }
    let pu = pulse(&p, &PanelConfig::default(), 0, ts(now));
    assert_eq!(pu.baseline_orders, 20.0);
    assert!((pu.revenue_variance.unwrap() + 0.8).abs() < 1e-12);
    assert_eq!(pu.state, PulseState::Critical);
    assert!(pu.revenue_evidence.unwrap().p_value < 1e-4);
    assert_eq!(revenue_insights(&p, now), 1);

    // 16 of 20 (−20 %) is within chance on 20 orders (P ≈ 0.22): no warning.
    for k in 0..12 {
        i += 1;
        sold(
            &mut p,
            &mut rng,
            i,
            t("2026-06-10T15:00:00Z") + k * 60,
            50_00,
        );
    }
    let pu = pulse(&p, &PanelConfig::default(), 0, ts(now));
    assert!((pu.revenue_variance.unwrap() + 0.2).abs() < 1e-12);
    assert_eq!(pu.state, PulseState::TooEarly);
    assert_eq!(revenue_insights(&p, now), 0);
}

/// 60 open orders older than 24 h: the 50 oldest are listed, while the
/// counts and values cover all 60 — including the blockers over $500
/// among the 10 not listed (issue 10.B11).
#[test]
fn blocker_totals_cover_every_blocker_not_only_those_listed() {
    let mut p = mavena();
    let mut rng = Rng::new(3);
    let now = t("2026-06-10T18:05:00Z");
    let (mut value, mut high, mut high_value) = (0i64, 0usize, 0i64);
    for i in 0..60u64 {
        // Oldest first: i = 0 is 100 h old; the last 10 are the newest.
        let at = now - 100 * 3600 + i as i64 * 3600;
        let cents = if i >= 50 {
            600_00 + i as i64
        } else if i % 10 == 0 {
            700_00
        } else {
            20_00
        };
        open(&mut p, &mut rng, i + 1, at, cents);
        value += cents;
        if cents > 500_00 {
            high += 1;
            high_value += cents;
        }
    }
    // A recent open order (under 24 h) is no blocker.
    open(&mut p, &mut rng, 99, now - 3600, 900_00);
    let pu = pulse(&p, &PanelConfig::default(), 0, ts(now));
    assert_eq!(pu.blockers.len(), BLOCKERS_SHOWN);
    assert_eq!(pu.blocker_count, 60);
    assert_eq!(pu.blocker_value.minor, value);
    assert_eq!((high, pu.high_value_blocker_count), (15, 15));
    assert_eq!(pu.high_value_blocker_value.minor, high_value);
    assert_eq!(pu.high_value_threshold.minor, 500_00);
    assert_eq!(pu.blockers.iter().filter(|b| b.high_value).count(), 5);
}

/// One order of 92,233,720,368,547,758.07 (`i64::MAX` minor units) beside
/// ordinary ones: no sum wraps negative (issue 11.5).
#[test]
fn an_order_of_the_largest_amount_never_wraps_a_sum() {
    let mut p = mavena();
    let mut rng = Rng::new(4);
    let now = t("2026-06-10T18:05:00Z");
    sold(&mut p, &mut rng, 1, t("2026-06-10T13:00:00Z"), i64::MAX);
    sold(&mut p, &mut rng, 2, t("2026-06-10T13:00:00Z"), 124_89);
    sold(&mut p, &mut rng, 3, t("2026-06-10T14:00:00Z"), 100_00);
    for d in 3..=9 {
        sold(
            &mut p,
            &mut rng,
            10 + d,
            t(&format!("2026-06-{d:02}T13:00:00Z")),
            i64::MAX,
        );
        sold(
            &mut p,
            &mut rng,
            20 + d,
            t(&format!("2026-06-{d:02}T13:00:01Z")),
            i64::MAX,
        );
    }
    let s = panels::sales::brand_sales(&p, 0, Range::Today, ts(now));
    assert_eq!(
        s.gross_revenue.minor,
        i64::MAX,
        "held at the bound, not wrapped"
    );
    assert!(s.revenue_beyond_range);
    // The exact sum over 3 orders, rounded half away from zero.
    let exact = (2 * (i128::from(i64::MAX) + 224_89) + 3) / 6;
    assert_eq!(
        i128::from(s.aov.unwrap().minor),
        exact,
        "AOV from the exact sum"
    );
    assert!(
        s.revenue_delta.unwrap() < 0.0,
        "today is below 2 × i64::MAX yesterday"
    );
    let pu = pulse(&p, &PanelConfig::default(), 0, ts(now));
    assert!(
        pu.baseline_revenue_minor > 1.8e19,
        "{}",
        pu.baseline_revenue_minor
    );
    assert_eq!(pu.revenue_today.minor, i64::MAX);
    assert!(pu.value_beyond_range);
    let all = panels::sales::sales(&p, &PanelConfig::default(), None, Range::Today, ts(now));
    assert_eq!(all.total.gross_revenue.minor, i64::MAX);
    assert!(all.total.revenue_beyond_range);
    let brand = p.brand(0).clone();
    let cards = order_volume_from_sales(
        &brand,
        &p.orders.sales[0],
        ts(now),
        jiff::civil::Weekday::Monday,
    )
    .unwrap();
    for card in cards.periods() {
        assert!(
            card.gross_revenue.minor > 0 && card.aov.unwrap().minor > 0,
            "{card:?}"
        );
        assert!(card.revenue_beyond_range);
    }
    let f = panels::fulfillment::fulfillment(&p, 0, ts(now));
    assert!(f.amounts_beyond_range);
    assert!(f.one_time_revenue.minor > 0 && f.recurring_revenue.minor >= 0);
}
