//! The sales pulse's "orders by time of day": cumulative orders at the end
//! of each local hour, today up to now against the mean of the 7 previous
//! local days over the whole day (the same baseline days as
//! [`super::pulse`]).
//!
//! Hours are wall-clock hours of the brand's zone: on a day when the clocks
//! change, the hour that does not exist ends where the next one starts (so
//! the cumulative count simply holds), and the day still ends at the next
//! local midnight.

use super::wall_time;
use crate::projection::{day_start, local_day, BrandIx, Projection};
use opsdeck_domain::Timestamp;
use serde::Serialize;

/// One local hour of the day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HourPoint {
    /// The local hour the point ends at, 1..=24 (24 = the next midnight).
    pub hour: u8,
    /// Orders (cancelled included, as the order counts everywhere) from
    /// today's local midnight to the end of this hour or now, whichever is
    /// first; `None` for an hour that has not started yet.
    pub today: Option<i64>,
    /// Mean over the 7 previous local days of the orders from their
    /// midnight to the end of this hour.
    pub baseline: f64,
}

/// The 24 hours of brand `b`'s local day as of `now`.
pub fn orders_by_hour(p: &Projection, b: BrandIx, now: Timestamp) -> Vec<HourPoint> {
    let tz = &p.brand(b).time_zone;
    let now_s = now.as_second();
    let today = local_day(now_s, tz);
    let sales = &p.orders.sales[usize::from(b)];
    let hour_end = |d: i32, h: i64| {
        if h >= 24 {
            day_start(d + 1, tz)
        } else {
            wall_time(d, h * 3600, tz).min(day_start(d + 1, tz))
        }
    };
    (1..=24)
        .map(|h| {
            let baseline = (today - 7..today)
                .map(|d| sales.sum(day_start(d, tz), hour_end(d, h)).orders)
                .sum::<i64>() as f64
                / 7.0;
            let started = hour_end(today, h - 1) < now_s;
            let today = started.then(|| {
                sales
                    .sum(day_start(today, tz), hour_end(today, h).min(now_s))
                    .orders
            });
            HourPoint {
                hour: h as u8,
                today,
                baseline,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::projection::series::Sales;
    use crate::SubscriptionRules;
    use jiff::tz::TimeZone;
    use opsdeck_domain::{Brand, BrandId, BrandKind, Currency, Thresholds};

    fn new_york() -> Projection {
        let kind = BrandKind::Standard;
        let brand = Brand {
            id: BrandId::parse("mavena").unwrap(),
            name: "Mavena".into(),
            thresholds: Thresholds::defaults_for(&kind),
            kind,
            time_zone: TimeZone::get("America/New_York").unwrap(),
            currency: Currency::USD,
            launched: true,
        };
        Projection::new(vec![brand], SubscriptionRules::default())
    }

    /// One order created at `at` (UTC).
    fn order_at(p: &mut Projection, at: &str) {
        let at: Timestamp = at.parse().unwrap();
        let one = Sales {
            orders: 1,
            paid_orders: 1,
            revenue: 10_00,
            foreign: 0,
        };
        p.orders.sales[0].add(at.as_second(), &one, 1);
    }

    #[test]
    fn today_to_now_against_the_mean_of_the_seven_days_before() {
        let mut p = new_york();
        // Today, Wednesday 2026-06-10 (EDT, UTC-4), now 14:05 local.
        order_at(&mut p, "2026-06-10T04:30:00Z"); // 00:30
        order_at(&mut p, "2026-06-10T17:59:00Z"); // 13:59
        order_at(&mut p, "2026-06-10T18:10:00Z"); // 14:10, after now: not yet
                                                  // Each of the 7 days before at 09:15 local, and one more on the
                                                  // day before at 23:30; the 8th day before is not in the baseline.
        for day in 3..=9 {
            order_at(&mut p, &format!("2026-06-{day:02}T13:15:00Z"));
        }
        order_at(&mut p, "2026-06-10T03:30:00Z"); // 23:30 on the 9th
        order_at(&mut p, "2026-06-02T13:15:00Z");
        let hours = orders_by_hour(&p, 0, "2026-06-10T18:05:00Z".parse().unwrap());

        assert_eq!(hours.len(), 24);
        assert_eq!(
            hours.iter().map(|h| h.hour).collect::<Vec<_>>(),
            (1..=24).collect::<Vec<u8>>()
        );
        let today: Vec<Option<i64>> = hours.iter().map(|h| h.today).collect();
        let mut expected = vec![Some(1); 13]; // ends 01:00 … 13:00
        expected.push(Some(2)); // ends 14:00: the 13:59 order
        expected.push(Some(2)); // 14:00–now; the 14:10 order is later
        expected.extend([None; 9]);
        assert_eq!(today, expected);

        let baseline: Vec<f64> = hours.iter().map(|h| h.baseline).collect();
        assert_eq!(baseline[8], 0.0, "ends 09:00, before the 09:15 orders");
        assert_eq!(baseline[9], 1.0, "ends 10:00: one order on each day");
        assert_eq!(baseline[22], 1.0, "ends 23:00");
        assert_eq!(baseline[23], 8.0 / 7.0, "the whole day: the 23:30 one too");
    }

    #[test]
    fn the_hour_skipped_by_daylight_saving_holds_the_count() {
        let mut p = new_york();
        // Sunday 2026-03-08: 02:00 EST jumps to 03:00 EDT.
        order_at(&mut p, "2026-03-08T06:30:00Z"); // 01:30 EST
        order_at(&mut p, "2026-03-08T07:30:00Z"); // 03:30 EDT
        let hours = orders_by_hour(&p, 0, "2026-03-08T16:00:00Z".parse().unwrap());
        let today: Vec<Option<i64>> = hours.iter().take(5).map(|h| h.today).collect();
        // Ends 01:00, 02:00, 03:00 (= 02:00, skipped), 04:00, 05:00.
        assert_eq!(today, [Some(0), Some(1), Some(1), Some(2), Some(2)]);
    }
}
