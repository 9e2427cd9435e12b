//! Shifts as configuration (`[handover]`): the boundaries of a region's
//! shifts in its own time zone, and how long the incoming person has to
//! acknowledge a note. The playbook's day is three shifts (07:00, 15:00,
//! 23:00) and 30 minutes to acknowledge.

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::Serialize;

/// The longest acknowledgement deadline accepted: a day (past it the next
/// shift's note is due already).
pub const MAX_ACK_WITHIN: SignedDuration = SignedDuration::from_hours(24);

/// When shifts change and how long an acknowledgement may take.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShiftPolicy {
    /// Local times a shift starts at, sorted, without repeats; the same in
    /// every region, each read in the region's own zone.
    boundaries: Vec<Time>,
    /// A submitted note not acknowledged this long after its submission
    /// notifies the region's leads (once).
    pub ack_within: SignedDuration,
}

/// One shift of one region: from one boundary to the next, in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Shift {
    pub start: Timestamp,
    pub end: Timestamp,
}

impl ShiftPolicy {
    /// The playbook's: 07:00, 15:00 and 23:00; 30 minutes to acknowledge.
    pub fn playbook() -> ShiftPolicy {
        ShiftPolicy {
            boundaries: vec![
                Time::constant(7, 0, 0, 0),
                Time::constant(15, 0, 0, 0),
                Time::constant(23, 0, 0, 0),
            ],
            ack_within: SignedDuration::from_mins(30),
        }
    }

    /// A policy from configuration; the error names what is wrong and its
    /// bound.
    pub fn new(
        mut boundaries: Vec<Time>,
        ack_within: SignedDuration,
    ) -> Result<ShiftPolicy, String> {
        if boundaries.is_empty() {
            return Err(
                "shifts: name at least one shift start (e.g. [\"07:00\", \"19:00\"])".into(),
            );
        }
        boundaries.sort();
        if let Some(w) = boundaries.windows(2).find(|w| w[0] == w[1]) {
            return Err(format!("shifts: {} is named twice", w[0].strftime("%H:%M")));
        }
        if ack_within <= SignedDuration::ZERO || ack_within > MAX_ACK_WITHIN {
            return Err(format!(
                "ack_within: {ack_within:#} is not between 1 second and 24 hours"
            ));
        }
        Ok(ShiftPolicy {
            boundaries,
            ack_within,
        })
    }

    pub fn boundaries(&self) -> &[Time] {
        &self.boundaries
    }

    /// Every shift start on the local days around `day`, in UTC, sorted. A
    /// boundary in a DST gap or fold is taken as jiff's compatible reading
    /// (the later time in a gap, the earlier in a fold).
    fn starts_around(&self, tz: &TimeZone, day: Date) -> Vec<Timestamp> {
        let mut out: Vec<Timestamp> = [-1i64, 0, 1]
            .iter()
            .filter_map(|d| day.checked_add(d.days()).ok())
            .flat_map(|d| self.boundaries.iter().map(move |t| d.to_datetime(*t)))
            .filter_map(|dt| tz.to_ambiguous_zoned(dt).compatible().ok())
            .map(|z| z.timestamp())
            .collect();
        out.sort();
        out.dedup();
        out
    }

    /// The shift `now` falls in, in zone `tz`.
    pub fn shift_at(&self, tz: &TimeZone, now: Timestamp) -> Shift {
        let day = now.to_zoned(tz.clone()).date();
        let starts = self.starts_around(tz, day);
        let start = starts.iter().rev().find(|t| **t <= now).copied();
        let end = starts.iter().find(|t| **t > now).copied();
        match (start, end) {
            (Some(start), Some(end)) => Shift { start, end },
            // Unreachable with one boundary a day on three days around
            // `now`; a day-long shift is the safe reading.
            _ => Shift {
                start: now,
                end: now
                    .saturating_add(SignedDuration::from_hours(24))
                    .unwrap_or(now),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_shift_follows_the_regions_zone_across_midnight_and_dst() {
        let p = ShiftPolicy::playbook();
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        // 01:30 in Berlin (CEST) is in the night shift that began 23:00
        // the day before and ends 07:00.
        let s = p.shift_at(&berlin, t("2026-06-09T23:30:00Z"));
        assert_eq!(s.start, t("2026-06-09T21:00:00Z"));
        assert_eq!(s.end, t("2026-06-10T05:00:00Z"));
        // The night DST ends (25 Oct 2026) is nine hours long.
        let s = p.shift_at(&berlin, t("2026-10-25T02:00:00Z"));
        assert_eq!(s.start, t("2026-10-24T21:00:00Z"));
        assert_eq!(s.end, t("2026-10-25T06:00:00Z"));
    }

    #[test]
    fn bad_policies_are_refused_naming_the_bound() {
        let seven = Time::constant(7, 0, 0, 0);
        assert!(ShiftPolicy::new(vec![], SignedDuration::from_mins(30))
            .unwrap_err()
            .contains("at least one"));
        assert!(
            ShiftPolicy::new(vec![seven, seven], SignedDuration::from_mins(30))
                .unwrap_err()
                .contains("07:00 is named twice")
        );
        let err = ShiftPolicy::new(vec![seven], SignedDuration::from_hours(25)).unwrap_err();
        assert!(err.contains("24 hours"), "{err}");
        assert!(ShiftPolicy::new(vec![seven], SignedDuration::ZERO).is_err());
    }
}
