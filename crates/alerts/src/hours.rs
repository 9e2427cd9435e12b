//! A brand's business hours, in its own time zone.
//!
//! "No order for 6 h" only means something while the brand expects orders:
//! six quiet hours overnight are normal. Hours are wall-clock times on
//! chosen weekdays in the brand's IANA zone, and elapsed business time is
//! summed over real instants, so a day on which clocks spring forward has
//! one business hour less and the day they fall back one more (jiff
//! resolves the wall-clock bounds with the usual "compatible" rule: a time
//! in the gap moves forward, a repeated time takes its first occurrence).

use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// When a brand is open: `[open, close)` local time on `days`. `close`
/// at or before `open` means the hours run past midnight.
#[derive(Debug, Clone, PartialEq)]
pub struct BusinessHours {
    pub time_zone: TimeZone,
    pub open: Time,
    pub close: Time,
    pub days: Vec<Weekday>,
}

/// Why a business-hours setting was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error("{0:?} is not a time of day (use HH:MM)")]
    BadTime(String),
    #[error("{0:?} is not a weekday (use mon, tue, wed, thu, fri, sat, sun)")]
    BadDay(String),
}

impl BusinessHours {
    /// Every hour of every day: a brand that sells around the clock.
    pub fn always(time_zone: TimeZone) -> Self {
        BusinessHours {
            time_zone,
            open: Time::midnight(),
            close: Time::midnight(),
            days: ALL_DAYS.to_vec(),
        }
    }

    /// Parses `"09:00"`, `"21:00"` and day names like `["mon", "tue"]`.
    pub fn parse(
        time_zone: TimeZone,
        open: &str,
        close: &str,
        days: &[&str],
    ) -> Result<Self, HoursError> {
        let time =
            |s: &str| Time::strptime("%H:%M", s).map_err(|_| HoursError::BadTime(s.to_string()));
        let days = days
            .iter()
            .map(|d| parse_day(d).ok_or_else(|| HoursError::BadDay(d.to_string())))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BusinessHours {
            time_zone,
            open: time(open)?,
            close: time(close)?,
            days,
        })
    }

    /// The business hours of the local day `date` (starting that day) as
    /// UTC instants.
    fn span_of(&self, date: Date) -> Option<(Timestamp, Timestamp)> {
        if !self.days.contains(&date.weekday()) {
            return None;
        }
        let start = date
            .to_datetime(self.open)
            .to_zoned(self.time_zone.clone())
            .ok()?;
        let end_date = if self.close <= self.open {
            date.tomorrow().ok()?
        } else {
            date
        };
        let end = end_date
            .to_datetime(self.close)
            .to_zoned(self.time_zone.clone())
            .ok()?;
        Some((start.timestamp(), end.timestamp()))
    }

    /// Business time elapsed in `[from, to)`.
    pub fn open_time_between(&self, from: Timestamp, to: Timestamp) -> SignedDuration {
        if to <= from {
            return SignedDuration::ZERO;
        }
        // Start a day early: yesterday's hours may run past midnight.
        let first = from.to_zoned(self.time_zone.clone()).date().yesterday();
        let last = to.to_zoned(self.time_zone.clone()).date();
        let (Ok(mut day), mut total) = (first, SignedDuration::ZERO) else {
            return SignedDuration::ZERO;
        };
        while day <= last {
            if let Some((start, end)) = self.span_of(day) {
                let (s, e) = (start.max(from), end.min(to));
                if e > s {
                    total += e.duration_since(s);
                }
            }
            match day.tomorrow() {
                Ok(next) => day = next,
                Err(_) => break,
            }
        }
        total
    }

    /// Whether `at` falls inside business hours.
    pub fn is_open(&self, at: Timestamp) -> bool {
        let end = at.checked_add(SignedDuration::from_secs(1)).unwrap_or(at);
        self.open_time_between(at, end) > SignedDuration::ZERO
    }
}

const ALL_DAYS: [Weekday; 7] = [
    Weekday::Monday,
    Weekday::Tuesday,
    Weekday::Wednesday,
    Weekday::Thursday,
    Weekday::Friday,
    Weekday::Saturday,
    Weekday::Sunday,
];

fn parse_day(s: &str) -> Option<Weekday> {
    Some(match s.to_ascii_lowercase().as_str() {
        "mon" | "monday" => Weekday::Monday,
        "tue" | "tuesday" => Weekday::Tuesday,
        "wed" | "wednesday" => Weekday::Wednesday,
        "thu" | "thursday" => Weekday::Thursday,
        "fri" | "friday" => Weekday::Friday,
        "sat" | "saturday" => Weekday::Saturday,
        "sun" | "sunday" => Weekday::Sunday,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn ny() -> TimeZone {
        TimeZone::get("America/New_York").unwrap()
    }

    #[test]
    fn nine_to_five_on_weekdays_only() {
        let h = BusinessHours::parse(ny(), "09:00", "17:00", &["mon", "tue", "wed", "thu", "fri"])
            .unwrap();
        // Fri 2026-01-09 16:00 EST → Mon 2026-01-12 10:00 EST: 1 h + 1 h.
        let d = h.open_time_between(t("2026-01-09T21:00:00Z"), t("2026-01-12T15:00:00Z"));
        assert_eq!(d, SignedDuration::from_hours(2));
        assert!(!h.is_open(t("2026-01-10T15:00:00Z")), "Saturday");
        assert!(h.is_open(t("2026-01-12T14:00:00Z")), "Monday 09:00 EST");
    }

    #[test]
    fn spring_forward_day_has_an_hour_less() {
        // 2026-03-08: New York clocks jump 02:00 → 03:00.
        let h = BusinessHours::parse(ny(), "00:00", "06:00", &["sun"]).unwrap();
        let d = h.open_time_between(t("2026-03-08T00:00:00Z"), t("2026-03-09T00:00:00Z"));
        assert_eq!(d, SignedDuration::from_hours(5));
        // Opening hours 08:00–20:00 local map to 12:00–24:00 UTC after the change.
        let h = BusinessHours::parse(ny(), "08:00", "20:00", &["sun", "mon"]).unwrap();
        assert!(h.is_open(t("2026-03-08T12:00:00Z")));
        assert!(!h.is_open(t("2026-03-08T11:59:00Z")));
    }

    #[test]
    fn fall_back_day_has_an_hour_more_and_overnight_hours_wrap() {
        // 2026-11-01: New York clocks fall back 02:00 → 01:00.
        let h = BusinessHours::parse(ny(), "00:00", "06:00", &["sun"]).unwrap();
        let d = h.open_time_between(t("2026-11-01T00:00:00Z"), t("2026-11-02T00:00:00Z"));
        assert_eq!(d, SignedDuration::from_hours(7));
        let night = BusinessHours::parse(ny(), "22:00", "02:00", &["sat"]).unwrap();
        let d = night.open_time_between(t("2026-01-10T00:00:00Z"), t("2026-01-12T00:00:00Z"));
        assert_eq!(d, SignedDuration::from_hours(4));
    }

    #[test]
    fn bad_input_is_named() {
        assert_eq!(
            BusinessHours::parse(ny(), "9am", "17:00", &[])
                .unwrap_err()
                .to_string(),
            "\"9am\" is not a time of day (use HH:MM)"
        );
        assert!(matches!(
            BusinessHours::parse(ny(), "09:00", "17:00", &["funday"]),
            Err(HoursError::BadDay(_))
        ));
    }
}
