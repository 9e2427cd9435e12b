//! Reporting windows in a brand's time zone.
//!
//! "Today", "this week" and "this month" start at local midnight in the
//! brand's IANA zone. A comparison with the prior period is period-to-date
//! against the same elapsed span of the prior period, measured on the wall
//! clock: today until 14:05 against yesterday until 14:05, even when a DST
//! change makes one of the two days 23 or 25 hours long. When the prior
//! period is shorter (March 31 against February), the prior span ends with
//! the prior period.

use crate::Timestamp;
use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::ToSpan;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    Today,
    ThisWeek,
    ThisMonth,
}

impl Period {
    pub const ALL: [Period; 3] = [Period::Today, Period::ThisWeek, Period::ThisMonth];

    pub fn label(&self) -> &'static str {
        match self {
            Period::Today => "Today",
            Period::ThisWeek => "This week",
            Period::ThisMonth => "This month",
        }
    }

    /// The words for the prior period, e.g. "vs yesterday".
    pub fn prior_label(&self) -> &'static str {
        match self {
            Period::Today => "yesterday",
            Period::ThisWeek => "last week",
            Period::ThisMonth => "last month",
        }
    }
}

/// A period to date and the matching span of the prior period, as UTC
/// instants. Each span is half-open: `start <= t < end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PeriodWindow {
    pub start: Timestamp,
    pub end: Timestamp,
    pub prior_start: Timestamp,
    pub prior_end: Timestamp,
}

impl PeriodWindow {
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    pub fn prior_contains(&self, t: Timestamp) -> bool {
        self.prior_start <= t && t < self.prior_end
    }

    /// Computes the window for `period` as of `now` in `tz`, with weeks
    /// starting on `week_start`. `end` is `now` itself, so an order placed at
    /// exactly `now` is not yet counted; the dashboard passes the request time.
    pub fn compute(period: Period, now: Timestamp, tz: &TimeZone, week_start: Weekday) -> Self {
        let local = now.to_zoned(tz.clone());
        let today = local.date();
        let (start_date, prior_start_date) = match period {
            Period::Today => (today, today.yesterday().expect("date in range")),
            Period::ThisWeek => {
                let back = i64::from(today.weekday().since(week_start));
                let start = today.checked_sub(back.days()).expect("date in range");
                (start, start.checked_sub(7.days()).expect("date in range"))
            }
            Period::ThisMonth => {
                let start = today.first_of_month();
                let prior = start
                    .checked_sub(1.month())
                    .expect("date in range")
                    .first_of_month();
                (start, prior)
            }
        };
        let start = local_midnight(start_date, tz);
        let prior_start = local_midnight(prior_start_date, tz);

        let elapsed_days = (today - start_date).get_days();
        let prior_end_date = prior_start_date
            .checked_add(i64::from(elapsed_days).days())
            .expect("date in range");
        let prior_end = if prior_end_date >= start_date {
            start
        } else {
            let wall = prior_end_date.to_datetime(local.time());
            let t = tz
                .to_ambiguous_zoned(wall)
                .compatible()
                .expect("time in range")
                .timestamp();
            t.min(start)
        };
        PeriodWindow {
            start,
            end: now,
            prior_start,
            prior_end,
        }
    }
}

/// The first instant of `date` in `tz` (00:00, or later when a DST gap
/// swallows midnight).
pub fn local_midnight(date: Date, tz: &TimeZone) -> Timestamp {
    date.to_zoned(tz.clone())
        .and_then(|z| z.start_of_day())
        .expect("date in range")
        .timestamp()
}

/// The percent change from `prior` to `current`; `None` when there is no
/// prior to compare with (a change from nothing has no meaningful ratio).
/// Takes 128-bit values so revenue sums beyond 64 bits and the difference
/// of any two 64-bit amounts never wrap.
pub fn delta_ratio(current: impl Into<i128>, prior: impl Into<i128>) -> Option<f64> {
    let (current, prior) = (current.into(), prior.into());
    if prior == 0 {
        None
    } else {
        Some((current - prior) as f64 / prior as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ny() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    #[test]
    fn today_against_yesterday_same_wall_clock() {
        // 14:05 in New York on 2026-06-10 (EDT, UTC-4).
        let w = PeriodWindow::compute(
            Period::Today,
            ts("2026-06-10T18:05:00Z"),
            &ny(),
            Weekday::Monday,
        );
        assert_eq!(w.start, ts("2026-06-10T04:00:00Z"));
        assert_eq!(w.end, ts("2026-06-10T18:05:00Z"));
        assert_eq!(w.prior_start, ts("2026-06-09T04:00:00Z"));
        assert_eq!(w.prior_end, ts("2026-06-09T18:05:00Z"));
    }

    #[test]
    fn just_after_local_midnight_is_a_new_day() {
        // 00:30 local on June 11 = 04:30Z; 23:59 local on June 10 = 03:59Z next day.
        let w = PeriodWindow::compute(
            Period::Today,
            ts("2026-06-11T04:30:00Z"),
            &ny(),
            Weekday::Monday,
        );
        assert_eq!(w.start, ts("2026-06-11T04:00:00Z"));
        assert!(!w.contains(ts("2026-06-11T03:59:00Z")));
        assert!(w.prior_contains(ts("2026-06-10T04:15:00Z")));
        assert!(!w.prior_contains(ts("2026-06-10T04:45:00Z")));
    }

    #[test]
    fn spring_forward_day_is_23_hours() {
        // DST starts 2026-03-08 in New York: 02:00 EST -> 03:00 EDT.
        // 10:00 EDT on March 8 = 14:00Z. Yesterday 10:00 EST = 15:00Z.
        let w = PeriodWindow::compute(
            Period::Today,
            ts("2026-03-08T14:00:00Z"),
            &ny(),
            Weekday::Monday,
        );
        assert_eq!(w.start, ts("2026-03-08T05:00:00Z"));
        assert_eq!(w.prior_start, ts("2026-03-07T05:00:00Z"));
        assert_eq!(w.prior_end, ts("2026-03-07T15:00:00Z"));
        // Today so far is 9 real hours, yesterday's span 10: wall clock wins.
        assert_eq!(w.end.duration_since(w.start).as_secs(), 9 * 3600);
        assert_eq!(
            w.prior_end.duration_since(w.prior_start).as_secs(),
            10 * 3600
        );
    }

    #[test]
    fn fall_back_day_and_following_week() {
        // DST ends 2026-11-01 in New York. Monday Nov 2, 09:00 EST = 14:00Z.
        let now = ts("2026-11-02T14:00:00Z");
        let w = PeriodWindow::compute(Period::Today, now, &ny(), Weekday::Monday);
        // Yesterday (Sunday, the 25-hour day) started at 00:00 EDT = 04:00Z.
        assert_eq!(w.prior_start, ts("2026-11-01T04:00:00Z"));
        assert_eq!(w.prior_end, ts("2026-11-01T14:00:00Z"));
        let week = PeriodWindow::compute(Period::ThisWeek, now, &ny(), Weekday::Monday);
        assert_eq!(week.start, ts("2026-11-02T05:00:00Z"));
        assert_eq!(week.prior_start, ts("2026-10-26T04:00:00Z"));
        assert_eq!(week.prior_end, ts("2026-10-26T13:00:00Z"));
    }

    #[test]
    fn week_starts_on_configured_day() {
        // Wednesday 2026-06-10 14:05 local.
        let now = ts("2026-06-10T18:05:00Z");
        let monday = PeriodWindow::compute(Period::ThisWeek, now, &ny(), Weekday::Monday);
        assert_eq!(monday.start, ts("2026-06-08T04:00:00Z"));
        assert_eq!(monday.prior_start, ts("2026-06-01T04:00:00Z"));
        assert_eq!(monday.prior_end, ts("2026-06-03T18:05:00Z"));
        let sunday = PeriodWindow::compute(Period::ThisWeek, now, &ny(), Weekday::Sunday);
        assert_eq!(sunday.start, ts("2026-06-07T04:00:00Z"));
    }

    #[test]
    fn month_to_date_clamps_to_shorter_prior_month() {
        // March 31 12:00 UTC in UTC: prior span is all of February.
        let w = PeriodWindow::compute(
            Period::ThisMonth,
            ts("2026-03-31T12:00:00Z"),
            &TimeZone::UTC,
            Weekday::Monday,
        );
        assert_eq!(w.start, ts("2026-03-01T00:00:00Z"));
        assert_eq!(w.prior_start, ts("2026-02-01T00:00:00Z"));
        assert_eq!(w.prior_end, ts("2026-03-01T00:00:00Z"));
        // January 1st: prior month is December of the year before.
        let jan = PeriodWindow::compute(
            Period::ThisMonth,
            ts("2026-01-01T06:00:00Z"),
            &TimeZone::UTC,
            Weekday::Monday,
        );
        assert_eq!(jan.prior_start, ts("2025-12-01T00:00:00Z"));
        assert_eq!(jan.prior_end, ts("2025-12-01T06:00:00Z"));
    }

    #[test]
    fn midnight_in_a_dst_gap() {
        // America/Santiago skips 00:00-01:00 on 2026-09-06.
        let tz = TimeZone::get("America/Santiago").unwrap();
        let date = jiff::civil::date(2026, 9, 6);
        let t = local_midnight(date, &tz);
        assert_eq!(t.to_zoned(tz).time(), jiff::civil::time(1, 0, 0, 0));
    }

    #[test]
    fn delta_needs_a_prior() {
        assert_eq!(delta_ratio(15, 10), Some(0.5));
        assert_eq!(delta_ratio(5, 10), Some(-0.5));
        assert_eq!(delta_ratio(5, 0), None);
    }
}
