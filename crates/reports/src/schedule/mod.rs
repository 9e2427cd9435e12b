//! When a subscription runs: daily, weekly, monthly or a cron expression,
//! in the subscription's own IANA time zone.
//!
//! A schedule is a rule on the wall clock ("07:00 in Berlin"), so it is
//! worked out in civil time and only then placed in the zone. The civil
//! candidates come from `jiff-cron` iterating in UTC, where no clock ever
//! jumps; each candidate is then placed in the subscription's zone by one
//! rule, the same for every kind of schedule:
//!
//! - **A time the clock skips** (spring forward: 02:30 on the last Sunday
//!   of March in Berlin does not exist) runs once, as far after the jump as
//!   it was into the gap: 02:30 runs at 03:30 local. A report is never
//!   silently dropped for a day.
//! - **A time the clock repeats** (fall back: 02:30 on the last Sunday of
//!   October happens twice) runs once, at its first occurrence (the
//!   summer-time one). A report is never sent twice.
//!
//! Both are jiff's `compatible` disambiguation (RFC 5545's rule, which
//! calendars also follow); a run time is kept only when it is later than
//! the previous run, which drops the repeated one.
//!
//! Spelling (`[reports.NAME] schedule`):
//! - `daily HH:MM`
//! - `weekly DAY HH:MM` (`mon` … `sun`)
//! - `monthly D HH:MM` (day 1 to 28, so every month has it)
//! - `cron MIN HOUR DOM MON DOW` (five fields, as crontab; names such as
//!   `mon-fri` and steps such as `*/15` are accepted)

use jiff::civil::{DateTime, Time};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use std::fmt;
use std::str::FromStr;

/// A parsed `schedule` with its zone.
#[derive(Clone)]
pub struct Schedule {
    spelling: String,
    zone_name: String,
    zone: TimeZone,
    /// The civil rule, iterated in UTC.
    rule: jiff_cron::Schedule,
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({:?} in {})", self.spelling, self.zone_name)
    }
}

impl PartialEq for Schedule {
    fn eq(&self, other: &Self) -> bool {
        self.spelling == other.spelling && self.zone_name == other.zone_name
    }
}

/// A schedule that could not be read, saying what was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error("unknown time zone {0:?} (an IANA name such as \"Europe/Berlin\")")]
    Zone(String),
    #[error(
        "schedule {0:?}: expected \"daily HH:MM\", \"weekly DAY HH:MM\", \"monthly D HH:MM\" or \"cron MIN HOUR DOM MON DOW\""
    )]
    Form(String),
    #[error("schedule {0:?}: the time must be HH:MM between 00:00 and 23:59")]
    Time(String),
    #[error("schedule {0:?}: the day must be mon, tue, wed, thu, fri, sat or sun")]
    Weekday(String),
    #[error("schedule {0:?}: the day of the month must be between 1 and 28")]
    MonthDay(String),
    #[error("schedule {spelling:?}: not a five-field cron expression: {error}")]
    Cron { spelling: String, error: String },
}

fn time_of(spelling: &str, hhmm: &str) -> Result<Time, ScheduleError> {
    let bad = || ScheduleError::Time(spelling.to_string());
    let (h, m) = hhmm.split_once(':').ok_or_else(bad)?;
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if !(0..=23).contains(&h) || !(0..=59).contains(&m) || hhmm.len() != 5 {
        return Err(bad());
    }
    Time::new(h, m, 0, 0).map_err(|_| bad())
}

impl Schedule {
    /// Reads `spelling` (see the module docs) for the IANA zone `zone`.
    pub fn parse(spelling: &str, zone: &str) -> Result<Schedule, ScheduleError> {
        let tz = TimeZone::get(zone).map_err(|_| ScheduleError::Zone(zone.to_string()))?;
        let spelling = spelling.split_whitespace().collect::<Vec<_>>().join(" ");
        let words: Vec<&str> = spelling.split(' ').collect();
        let form = || ScheduleError::Form(spelling.clone());
        // jiff-cron's fields: sec min hour dom month dow.
        let expression = match words.as_slice() {
            ["daily", at] => {
                let t = time_of(&spelling, at)?;
                format!("0 {} {} * * *", t.minute(), t.hour())
            }
            ["weekly", day, at] => {
                let t = time_of(&spelling, at)?;
                let day = day.to_ascii_lowercase();
                if !["mon", "tue", "wed", "thu", "fri", "sat", "sun"].contains(&day.as_str()) {
                    return Err(ScheduleError::Weekday(spelling.clone()));
                }
                format!("0 {} {} * * {day}", t.minute(), t.hour())
            }
            ["monthly", day, at] => {
                let t = time_of(&spelling, at)?;
                let day: u8 = day
                    .parse()
                    .map_err(|_| ScheduleError::MonthDay(spelling.clone()))?;
                if !(1..=28).contains(&day) {
                    return Err(ScheduleError::MonthDay(spelling.clone()));
                }
                format!("0 {} {} {day} * *", t.minute(), t.hour())
            }
            ["cron", fields @ ..] if fields.len() == 5 => format!("0 {}", fields.join(" ")),
            ["cron", ..] => {
                return Err(ScheduleError::Cron {
                    spelling: spelling.clone(),
                    error: format!("{} fields", words.len() - 1),
                })
            }
            _ => return Err(form()),
        };
        let rule = jiff_cron::Schedule::from_str(&expression).map_err(|e| ScheduleError::Cron {
            spelling: spelling.clone(),
            error: e.to_string(),
        })?;
        Ok(Schedule {
            spelling,
            zone_name: zone.to_string(),
            zone: tz,
            rule,
        })
    }

    /// As written (normalised spaces).
    pub fn spelling(&self) -> &str {
        &self.spelling
    }

    /// The IANA zone's name.
    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    /// The first run strictly after `after`, or `None` when the rule has no
    /// further time (a cron expression naming a date that never comes).
    pub fn next_after(&self, after: Timestamp) -> Option<Timestamp> {
        let local = after.to_zoned(self.zone.clone()).datetime();
        // A civil time in a gap just behind `after` may still run after it
        // (02:30 runs at 03:30): start a few hours back in civil time.
        let start = local.checked_sub(4.hours()).ok()?;
        let start = start.to_zoned(TimeZone::UTC).ok()?;
        self.rule
            .after(start)
            // A bound, so a rule that can never run again ends the search.
            .take(10_000)
            .filter_map(|civil| self.place(civil.datetime()))
            .find(|&t| t > after)
    }

    /// A civil time placed in the zone: skipped times move forward by the
    /// gap, repeated ones take their first occurrence (jiff's
    /// `compatible`).
    fn place(&self, civil: DateTime) -> Option<Timestamp> {
        self.zone.to_ambiguous_timestamp(civil).compatible().ok()
    }
}

#[cfg(test)]
mod tests;
