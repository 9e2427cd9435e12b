//! The order volume cards against hand-computed fixtures, with a fixed clock
//! in a non-UTC zone. Each order's comment says where it must (and must not)
//! count, so a failing assertion points at the rule that broke.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]
// Amounts are written as units_cents (100_00 is $100.00), which reads better
// here than clippy's groups of three.
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts are written as units_cents (100_00 is $100.00)"
)]

use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use opsdeck_domain::{Brand, BrandId, BrandKind, Currency, Money, Period, Thresholds, Timestamp};
use opsdeck_metrics::{facts_window_start, order_volume, BrandVolume, LeftOut, PeriodVolume};
use opsdeck_store::OrderFact;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn brand(id: &str, zone: &str, currency: Currency, launched: bool) -> Brand {
    Brand {
        id: BrandId::parse(id).unwrap(),
        name: id.to_string(),
        kind: BrandKind::Standard,
        time_zone: TimeZone::get(zone).unwrap(),
        currency,
        launched,
        thresholds: Thresholds::defaults_for(&BrandKind::Standard),
    }
}

fn usd(at: &str, cents: i64) -> OrderFact {
    OrderFact {
        created_at: ts(at),
        total_price: Money::new(cents, Currency::USD),
        cancelled: false,
    }
}

fn cancelled(mut fact: OrderFact) -> OrderFact {
    fact.cancelled = true;
    fact
}

fn cards(volume: &BrandVolume) -> (&PeriodVolume, &PeriodVolume, &PeriodVolume) {
    match volume.periods() {
        [today, week, month] => (today, week, month),
        other => panic!("expected three cards, got {}", other.len()),
    }
}

fn minor(m: Option<Money>) -> Option<i64> {
    m.map(|m| m.minor)
}

fn close(actual: Option<f64>, expected: f64) {
    let a = actual.expect("a delta");
    assert!((a - expected).abs() < 1e-9, "{a} != {expected}");
}

/// Wednesday 2026-06-10, 14:05 in New York (EDT, UTC-4).
const NOW: &str = "2026-06-10T18:05:00Z";

fn mavena() -> Brand {
    brand("mavena", "America/New_York", Currency::USD, true)
}

/// Local times are New York (EDT). Windows as of NOW:
/// today [06-10 00:00, 14:05), yesterday's span [06-09 00:00, 14:05);
/// this week from Monday 06-08 00:00, last week's span [06-01 00:00, 06-03 14:05);
/// this month from 06-01 00:00, last month's span [05-01 00:00, 05-10 14:05).
fn fixture() -> Vec<OrderFact> {
    vec![
        // A: 00:01 today, just after local midnight: today, week, month.
        usd("2026-06-10T04:01:00Z", 100_00),
        // B: 23:59 yesterday, just before local midnight: week, month; not
        // today, and not yesterday's span (after 14:05).
        usd("2026-06-10T03:59:00Z", 50_00),
        // C: 10:00 today, cancelled: counts as an order, not in revenue/AOV.
        cancelled(usd("2026-06-10T14:00:00Z", 30_00)),
        // D: exactly now: windows are half-open, not counted anywhere.
        usd("2026-06-10T18:05:00Z", 999_00),
        // E: 09:00 yesterday: yesterday's span, week, month.
        usd("2026-06-09T13:00:00Z", 80_00),
        // G: 14:06 yesterday, one minute past the elapsed cutoff: week and
        // month, but NOT yesterday's span.
        usd("2026-06-09T18:06:00Z", 20_00),
        // H: Sunday 06-07 23:30: month only (before this week's Monday, after
        // last week's span).
        usd("2026-06-08T03:30:00Z", 40_00),
        // I: Monday 06-08 00:00 exactly: the week's first instant.
        usd("2026-06-08T04:00:00Z", 10_00),
        // J: Tuesday 06-02 12:00: last week's span, month.
        usd("2026-06-02T16:00:00Z", 60_00),
        // K: Wednesday 06-03 15:00, after last week's cutoff: month only.
        usd("2026-06-03T19:00:00Z", 25_00),
        // O: Monday 06-01 00:00: first instant of the month and of last week.
        usd("2026-06-01T04:00:00Z", 15_00),
        // L: 05-31 23:00, just before the month: nowhere (last month's span
        // ends 05-10 14:05).
        usd("2026-06-01T03:00:00Z", 200_00),
        // M: 05-10 14:00, inside last month's span.
        usd("2026-05-10T18:00:00Z", 70_00),
        // N: 05-01 00:00, cancelled: last month's orders, not its revenue.
        cancelled(usd("2026-05-01T04:00:00Z", 30_00)),
        // P: 05-10 14:05, exactly the cutoff: not in last month's span.
        usd("2026-05-10T18:05:00Z", 1_00),
    ]
}

#[test]
fn today_counts_from_local_midnight_against_yesterday_until_now() {
    let volume = order_volume(&mavena(), &fixture(), ts(NOW), Weekday::Monday);
    let (today, _, _) = cards(&volume);
    assert_eq!(today.period, Period::Today);
    assert_eq!(today.window.start, ts("2026-06-10T04:00:00Z"));
    assert_eq!(today.window.prior_end, ts("2026-06-09T18:05:00Z"));
    // A and C; yesterday only E (B and G are after 14:05).
    assert_eq!((today.orders, today.prior_orders), (2, 1));
    close(today.orders_delta, 1.0);
    assert_eq!(today.gross_revenue, Money::new(100_00, Currency::USD));
    assert_eq!(today.prior_gross_revenue.minor, 80_00);
    close(today.revenue_delta, 0.25);
    // C is cancelled: AOV is 100.00 over one order, not 130.00 over two.
    assert_eq!(minor(today.aov), Some(100_00));
    assert_eq!(minor(today.prior_aov), Some(80_00));
    close(today.aov_delta, 0.25);
}

#[test]
fn week_starts_monday_and_compares_the_same_elapsed_span() {
    let volume = order_volume(&mavena(), &fixture(), ts(NOW), Weekday::Monday);
    let (_, week, _) = cards(&volume);
    assert_eq!(week.window.start, ts("2026-06-08T04:00:00Z"));
    assert_eq!(week.window.prior_start, ts("2026-06-01T04:00:00Z"));
    assert_eq!(week.window.prior_end, ts("2026-06-03T18:05:00Z"));
    // I, E, G, B, A, C this week; O, J last week (K after the cutoff, H on Sunday).
    assert_eq!((week.orders, week.prior_orders), (6, 2));
    close(week.orders_delta, 2.0);
    assert_eq!(week.gross_revenue.minor, 260_00);
    assert_eq!(week.prior_gross_revenue.minor, 75_00);
    close(week.revenue_delta, (260.0 - 75.0) / 75.0);
    assert_eq!(minor(week.aov), Some(52_00));
    assert_eq!(minor(week.prior_aov), Some(37_50));
    close(week.aov_delta, (52.0 - 37.5) / 37.5);
}

#[test]
fn month_starts_on_the_first_local_day() {
    let volume = order_volume(&mavena(), &fixture(), ts(NOW), Weekday::Monday);
    let (_, _, month) = cards(&volume);
    assert_eq!(month.window.start, ts("2026-06-01T04:00:00Z"));
    assert_eq!(month.window.prior_start, ts("2026-05-01T04:00:00Z"));
    assert_eq!(month.window.prior_end, ts("2026-05-10T18:05:00Z"));
    // O J K H I E G B A C this month (L is May 31 local); M and N last month.
    assert_eq!((month.orders, month.prior_orders), (10, 2));
    close(month.orders_delta, 4.0);
    assert_eq!(month.gross_revenue.minor, 400_00);
    assert_eq!(month.prior_gross_revenue.minor, 70_00);
    close(month.revenue_delta, (400.0 - 70.0) / 70.0);
    // 400.00 / 9 = 44.444… → 44.44.
    assert_eq!(minor(month.aov), Some(44_44));
    assert_eq!(minor(month.prior_aov), Some(70_00));
    // From the unrounded AOV (400.00 / 9 = 44.444…), not the rounded
    // 44.44 (issue 10.B12: rounding first moved the delta by 0.006 points).
    close(month.aov_delta, (400.0 / 9.0 - 70.0) / 70.0);
}

#[test]
fn facts_window_reaches_back_to_last_months_start() {
    assert_eq!(
        facts_window_start(&mavena(), ts(NOW), Weekday::Monday),
        ts("2026-05-01T04:00:00Z")
    );
    // On the 1st the earliest prior is still last month's first day, local.
    assert_eq!(
        facts_window_start(&mavena(), ts("2026-03-01T15:00:00Z"), Weekday::Monday),
        ts("2026-02-01T05:00:00Z")
    );
}

#[test]
fn dst_change_day_compares_wall_clock_spans() {
    // Sunday 2026-03-08, 10:00 EDT (14:00Z); clocks jumped 02:00 EST → 03:00 EDT.
    // Today so far is 9 real hours; yesterday's span is 00:00-10:00 EST
    // (05:00Z-15:00Z), 10 real hours.
    let facts = vec![
        usd("2026-03-08T06:30:00Z", 10_00), // 01:30 EST today
        usd("2026-03-08T07:30:00Z", 20_00), // 03:30 EDT today
        usd("2026-03-07T14:30:00Z", 40_00), // 09:30 EST yesterday: prior
        usd("2026-03-07T15:30:00Z", 80_00), // 10:30 EST yesterday: after cutoff
        usd("2026-03-08T04:59:00Z", 5_00),  // 23:59 EST Saturday: yesterday, after cutoff
    ];
    let volume = order_volume(
        &mavena(),
        &facts,
        ts("2026-03-08T14:00:00Z"),
        Weekday::Monday,
    );
    let (today, week, _) = cards(&volume);
    assert_eq!(today.window.start, ts("2026-03-08T05:00:00Z"));
    assert_eq!(today.window.prior_end, ts("2026-03-07T15:00:00Z"));
    assert_eq!((today.orders, today.prior_orders), (2, 1));
    assert_eq!(today.gross_revenue.minor, 30_00);
    assert_eq!(today.prior_gross_revenue.minor, 40_00);
    close(today.revenue_delta, -0.25);
    // The week began Monday 03-02 00:00 EST; everything above is in it.
    assert_eq!(week.window.start, ts("2026-03-02T05:00:00Z"));
    assert_eq!(week.orders, 5);
}

#[test]
fn a_brand_with_no_orders_has_no_aov_and_no_deltas() {
    let volume = order_volume(&mavena(), &[], ts(NOW), Weekday::Monday);
    assert!(volume.is_launched());
    for card in volume.periods() {
        assert_eq!((card.orders, card.prior_orders), (0, 0));
        assert_eq!(card.gross_revenue, Money::zero(Currency::USD));
        assert_eq!(card.aov, None);
        assert_eq!(card.prior_aov, None);
        assert_eq!(card.orders_delta, None);
        assert_eq!(card.revenue_delta, None);
        assert_eq!(card.aov_delta, None);
    }
}

#[test]
fn only_cancelled_orders_give_orders_but_no_aov() {
    let facts = vec![cancelled(usd("2026-06-10T15:00:00Z", 10_00))];
    let volume = order_volume(&mavena(), &facts, ts(NOW), Weekday::Monday);
    let (today, _, _) = cards(&volume);
    assert_eq!(today.orders, 1);
    assert_eq!(today.gross_revenue.minor, 0);
    assert_eq!(today.aov, None);
}

#[test]
fn a_brand_not_launched_has_no_numbers() {
    let retromedy = brand("retromedy", "America/New_York", Currency::USD, false);
    let volume = order_volume(&retromedy, &fixture(), ts(NOW), Weekday::Monday);
    assert_eq!(volume, BrandVolume::NotLaunched);
    assert!(volume.periods().is_empty());
    assert_eq!(
        serde_json::to_value(&volume).unwrap(),
        serde_json::json!({"status": "not_launched"})
    );
}

#[test]
fn yen_brand_sums_whole_yen_in_its_own_zone() {
    // Tokyo (UTC+9): 2026-06-10 09:00 JST = 00:00Z.
    let brand = brand("kumo", "Asia/Tokyo", Currency::JPY, true);
    let yen = |at: &str, amount: i64| OrderFact {
        created_at: ts(at),
        total_price: Money::new(amount, Currency::JPY),
        cancelled: false,
    };
    let facts = vec![
        yen("2026-06-09T15:00:00Z", 1_000), // 00:00 JST today
        yen("2026-06-09T16:00:00Z", 1_000),
        yen("2026-06-09T17:00:00Z", 1_001),
        yen("2026-06-09T14:59:00Z", 5_000), // 23:59 JST yesterday, after 09:00: not prior
        yen("2026-06-08T23:00:00Z", 2_000), // 08:00 JST yesterday: prior
    ];
    let volume = order_volume(&brand, &facts, ts("2026-06-10T00:00:00Z"), Weekday::Monday);
    let (today, _, _) = cards(&volume);
    assert_eq!((today.orders, today.prior_orders), (3, 1));
    assert_eq!(today.gross_revenue, Money::new(3_001, Currency::JPY));
    // 3001 / 3 = 1000.33 → ¥1,000 (no fractional yen).
    assert_eq!(today.aov, Some(Money::new(1_000, Currency::JPY)));
    // As a role that may see revenue reads it (elsewhere amounts are null).
    let json =
        opsdeck_metrics::money_json::with_shown(true, || serde_json::to_value(today)).unwrap();
    assert_eq!(
        json["gross_revenue"],
        serde_json::json!({"minor": 3001, "currency": "JPY", "display": "¥3,001"})
    );
    assert_eq!(json["period"], "today");
    assert_eq!(json["window"]["start"], "2026-06-09T15:00:00Z");
    close(today.revenue_delta, (3001.0 - 2000.0) / 2000.0);
}

/// Issue 11.1: one order in a foreign currency made the cards an error,
/// and so the dashboard a 500 for every brand. It is counted as an order,
/// left out of revenue and AOV, and named on the card.
#[test]
fn an_order_in_another_currency_is_left_out_and_named_not_an_error() {
    let mut facts = fixture();
    let euro = OrderFact {
        created_at: ts("2026-06-10T15:00:00Z"),
        total_price: Money::new(10_00, Currency::EUR),
        cancelled: false,
    };
    let without = order_volume(&mavena(), &facts, ts(NOW), Weekday::Monday);
    facts.push(euro);
    facts.push(euro);
    let with = order_volume(&mavena(), &facts, ts(NOW), Weekday::Monday);
    let ((t0, _, _), (t1, w1, m1)) = (cards(&without), cards(&with));
    assert_eq!(t1.orders, t0.orders + 2, "still counted as orders");
    assert_eq!(t1.gross_revenue, t0.gross_revenue, "left out of revenue");
    assert_eq!(t1.aov, t0.aov, "and of AOV");
    let expected = vec![LeftOut {
        orders: 2,
        currency: Currency::EUR,
        brand_currency: Currency::USD,
    }];
    assert_eq!(t1.left_out, expected);
    assert_eq!(w1.left_out, expected);
    assert_eq!(m1.left_out, expected);
    assert_eq!(
        t1.left_out[0].to_string(),
        "2 orders left out: currency EUR, brand currency USD"
    );
    let json = serde_json::to_value(t1).unwrap();
    assert_eq!(
        json["left_out"],
        serde_json::json!([{"orders": 2, "currency": "EUR", "brand_currency": "USD"}])
    );
    assert!(t0.left_out.is_empty());
}
