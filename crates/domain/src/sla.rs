//! The clock of an item waiting in a queue with a deadline (METRICS.md,
//! "Queues with deadlines"): a return or refund request, a dispute, a
//! review item, a privacy request. One home for the rule, so every queue,
//! alert, digest and page agrees on when an item is at risk or breached.
//!
//! - The clock starts when the item does (return requested, refund
//!   requested, dispute initiated, review item created, request received)
//!   and ends at its deadline: start + the kind's window, or an earlier
//!   deadline the item carries itself ([`SlaClock::no_later_than`]: a
//!   dispute's evidence due date).
//! - **At risk** from 75 % of the window (start + ¾ × (deadline − start));
//!   **breached** once the deadline has passed (strictly after it).
//! - Clocks run in real (UTC) time: a 24 h window across a DST change is
//!   24 hours, not "the same wall-clock time tomorrow". Only the display
//!   turns the instants into the brand's local time.

use crate::Timestamp;
use jiff::SignedDuration;
use serde::{Deserialize, Serialize};

/// Share of the window after which an item is at risk (METRICS.md: 75 %).
pub const AT_RISK_SHARE_PERCENT: i64 = 75;

/// Where an item stands against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlaState {
    /// Less than 75 % of the window has gone.
    OnTrack,
    /// 75 % or more of the window has gone; the deadline has not passed.
    AtRisk,
    /// The deadline has passed.
    Breached,
}

impl SlaState {
    pub fn as_str(&self) -> &'static str {
        match self {
            SlaState::OnTrack => "on_track",
            SlaState::AtRisk => "at_risk",
            SlaState::Breached => "breached",
        }
    }
}

/// An item's deadline clock: when it started and when it is due.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlaClock {
    pub started_at: Timestamp,
    pub deadline: Timestamp,
}

impl SlaClock {
    /// A clock of `window` from `started_at`. A window that does not fit
    /// the timestamp range ends at the range's end (never panics).
    pub fn new(started_at: Timestamp, window: SignedDuration) -> SlaClock {
        let deadline = started_at
            .checked_add(window.max(SignedDuration::ZERO))
            .unwrap_or(Timestamp::MAX);
        SlaClock {
            started_at,
            deadline,
        }
    }

    /// The same clock, due at `other` instead when that is sooner (a
    /// dispute: the sooner of its window and its evidence due date). A
    /// deadline before the start leaves a clock that is breached at once.
    pub fn no_later_than(self, other: Option<Timestamp>) -> SlaClock {
        match other {
            Some(due) if due < self.deadline => SlaClock {
                started_at: self.started_at,
                deadline: due.max(self.started_at),
            },
            _ => self,
        }
    }

    /// The window the item has: deadline − start.
    pub fn window(&self) -> SignedDuration {
        self.deadline.duration_since(self.started_at)
    }

    /// The moment the item becomes at risk (75 % of its window).
    pub fn at_risk_from(&self) -> Timestamp {
        let window = self.window();
        let share = SignedDuration::from_nanos(
            i64::try_from(window.as_nanos() * i128::from(AT_RISK_SHARE_PERCENT) / 100)
                .unwrap_or(i64::MAX),
        );
        self.started_at
            .checked_add(share)
            .unwrap_or(self.deadline)
            .min(self.deadline)
    }

    /// Where the item stands at `now`.
    pub fn state_at(&self, now: Timestamp) -> SlaState {
        if now > self.deadline {
            SlaState::Breached
        } else if now >= self.at_risk_from() {
            SlaState::AtRisk
        } else {
            SlaState::OnTrack
        }
    }

    /// How long the item has waited at `now` (zero before it started).
    pub fn age_at(&self, now: Timestamp) -> SignedDuration {
        now.duration_since(self.started_at)
            .max(SignedDuration::ZERO)
    }

    /// Time left until the deadline at `now`; negative once breached (by
    /// how much it is overdue).
    pub fn time_left_at(&self, now: Timestamp) -> SignedDuration {
        self.deadline.duration_since(now)
    }

    /// The next moment the state changes after `now`, if any: when an
    /// on-track item becomes at risk, when an at-risk one is breached.
    /// Schedulers sleep until it instead of polling.
    pub fn next_change_after(&self, now: Timestamp) -> Option<Timestamp> {
        match self.state_at(now) {
            SlaState::OnTrack => Some(self.at_risk_from()),
            SlaState::AtRisk => self
                .deadline
                .checked_add(SignedDuration::from_nanos(1))
                .ok(),
            SlaState::Breached => None,
        }
    }
}

/// "3 h 05 min", "2 d 4 h", "45 min", "less than a minute": a duration as a
/// person reads it on a queue row; negative durations read as their size
/// (the caller says "overdue").
pub fn human_duration(d: SignedDuration) -> String {
    let secs = d.as_secs().unsigned_abs();
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (days, hours, minutes) {
        (0, 0, 0) => "less than a minute".to_string(),
        (0, 0, m) => format!("{m} min"),
        (0, h, m) => format!("{h} h {m:02} min"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn a_24_hour_window_is_at_risk_at_18_hours_and_breached_after_24() {
        let clock = SlaClock::new(at("2026-03-10T08:00:00Z"), SignedDuration::from_hours(24));
        assert_eq!(clock.deadline, at("2026-03-11T08:00:00Z"));
        assert_eq!(clock.at_risk_from(), at("2026-03-11T02:00:00Z"));
        assert_eq!(
            clock.state_at(at("2026-03-11T01:59:59Z")),
            SlaState::OnTrack
        );
        assert_eq!(clock.state_at(at("2026-03-11T02:00:00Z")), SlaState::AtRisk);
        assert_eq!(clock.state_at(at("2026-03-11T08:00:00Z")), SlaState::AtRisk);
        assert_eq!(
            clock.state_at(at("2026-03-11T08:00:01Z")),
            SlaState::Breached
        );
        assert_eq!(
            clock.time_left_at(at("2026-03-11T09:30:00Z")),
            SignedDuration::from_mins(-90)
        );
        assert_eq!(
            clock.age_at(at("2026-03-10T07:00:00Z")),
            SignedDuration::ZERO,
            "no negative age before the start"
        );
    }

    /// Europe/Berlin moves its clocks forward on 2026-03-29 at 02:00 local
    /// (01:00 UTC): a request made at 20:00 local the evening before is due
    /// 24 real hours later, which reads 21:00 local, not 20:00.
    #[test]
    fn a_window_across_a_dst_change_is_real_hours_not_wall_clock() {
        let zone = jiff::tz::TimeZone::get("Europe/Berlin").unwrap();
        let start = jiff::civil::datetime(2026, 3, 28, 20, 0, 0, 0)
            .to_zoned(zone.clone())
            .unwrap()
            .timestamp();
        let clock = SlaClock::new(start, SignedDuration::from_hours(24));
        let due_local = clock.deadline.to_zoned(zone.clone()).datetime();
        assert_eq!(due_local, jiff::civil::datetime(2026, 3, 29, 21, 0, 0, 0));
        // And back in autumn (2026-10-25, 03:00 → 02:00): 24 h reads 19:00.
        let start = jiff::civil::datetime(2026, 10, 24, 20, 0, 0, 0)
            .to_zoned(zone.clone())
            .unwrap()
            .timestamp();
        let due_local = SlaClock::new(start, SignedDuration::from_hours(24))
            .deadline
            .to_zoned(zone)
            .datetime();
        assert_eq!(due_local, jiff::civil::datetime(2026, 10, 25, 19, 0, 0, 0));
    }

    #[test]
    fn a_dispute_is_due_at_the_sooner_of_its_window_and_its_evidence_date() {
        let start = at("2026-05-01T00:00:00Z");
        let window = SignedDuration::from_hours(24);
        let sooner = SlaClock::new(start, window).no_later_than(Some(at("2026-05-01T10:00:00Z")));
        assert_eq!(sooner.deadline, at("2026-05-01T10:00:00Z"));
        assert_eq!(sooner.at_risk_from(), at("2026-05-01T07:30:00Z"));
        let later = SlaClock::new(start, window).no_later_than(Some(at("2026-05-20T00:00:00Z")));
        assert_eq!(later.deadline, at("2026-05-02T00:00:00Z"));
        let none = SlaClock::new(start, window).no_later_than(None);
        assert_eq!(none, later);
        let past = SlaClock::new(start, window).no_later_than(Some(at("2026-04-01T00:00:00Z")));
        assert_eq!(
            past.state_at(at("2026-05-01T00:00:01Z")),
            SlaState::Breached
        );
    }

    #[test]
    fn the_next_change_is_at_risk_then_breach_then_none() {
        let clock = SlaClock::new(at("2026-01-01T00:00:00Z"), SignedDuration::from_hours(1));
        let t = at("2026-01-01T00:10:00Z");
        let risk = clock.next_change_after(t).unwrap();
        assert_eq!(risk, at("2026-01-01T00:45:00Z"));
        let breach = clock.next_change_after(risk).unwrap();
        assert_eq!(clock.state_at(breach), SlaState::Breached);
        assert_eq!(clock.next_change_after(breach), None);
    }

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(
            human_duration(SignedDuration::from_secs(20)),
            "less than a minute"
        );
        assert_eq!(human_duration(SignedDuration::from_mins(45)), "45 min");
        assert_eq!(human_duration(SignedDuration::from_mins(185)), "3 h 05 min");
        assert_eq!(human_duration(SignedDuration::from_hours(-52)), "2 d 4 h");
    }
}
