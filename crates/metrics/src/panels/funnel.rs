//! The storefront funnel (issue 15 point 5): per brand and local day,
//! sessions, sessions with a completed order, conversion, checkouts
//! started and completed, cart abandonment, and for Shopify brands the
//! abandoned checkouts the platform reports; with the playbook's
//! thresholds and the volume floor that keeps a quiet day from paging
//! anyone. A pure function of the store's day counts
//! (`opsdeck_store::FunnelStore`), which the page and the alert rules
//! both read, so they cannot disagree.
//!
//! Definitions (docs/metrics.md "Funnel"):
//! - a session is one session id (a web pixel's `clientId`) on one local
//!   day of the brand: a visit that spans midnight counts on both days;
//! - conversion = sessions that completed a checkout ÷ sessions;
//! - checkouts started / completed count sessions that reached the step
//!   (a completed checkout counts as started even when its
//!   `checkout_started` event was lost), so completed ≤ started;
//! - cart abandonment = 1 − completed ÷ started;
//! - abandoned checkouts (Shopify): checkouts the platform lists as
//!   abandoned, by the local day they were created; "recovered" ones were
//!   paid later. A different source from the events: the page shows both,
//!   each labelled with what it is based on.

use super::ratio;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use opsdeck_store::funnel::{AbandonedAt, FunnelDayCounts};
use serde::Serialize;
use std::collections::BTreeMap;

/// The playbook's conversion target: below 2.5 % is a problem.
pub const PLAYBOOK_CONVERSION_BELOW: f64 = 0.025;
/// The playbook's abandonment limit: above 70 % is a problem.
pub const PLAYBOOK_ABANDONMENT_ABOVE: f64 = 0.70;
/// Sessions a day needs before its conversion is judged: at 2.5 %, 200
/// sessions should bring 5 orders, enough for a shortfall to mean
/// something; 3 sessions and no order mean nothing.
pub const MIN_SESSIONS: i64 = 200;
/// Checkouts started a day needs before its abandonment is judged.
pub const MIN_CHECKOUTS: i64 = 20;

/// One local day (or a range's total) of the funnel.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FunnelDay {
    pub day: Date,
    pub sessions: i64,
    pub added_to_cart: i64,
    pub checkout_started: i64,
    /// Sessions that completed a checkout: the conversions.
    pub checkout_completed: i64,
    pub conversion: Option<f64>,
    pub abandonment: Option<f64>,
    /// Shopify's abandoned checkouts created that day, not recovered;
    /// `None` for a brand without a Shopify source.
    pub abandoned_checkouts: Option<i64>,
    /// Of Shopify's abandoned checkouts created that day, those paid later.
    pub recovered_checkouts: Option<i64>,
}

impl FunnelDay {
    fn new(day: Date, c: &Counts, shopify: Option<(i64, i64)>) -> FunnelDay {
        FunnelDay {
            day,
            sessions: c.sessions,
            added_to_cart: c.added_to_cart,
            checkout_started: c.checkout_started,
            checkout_completed: c.checkout_completed,
            conversion: ratio(c.checkout_completed, c.sessions),
            abandonment: ratio(c.checkout_completed, c.checkout_started).map(|r| 1.0 - r),
            abandoned_checkouts: shopify.map(|s| s.0),
            recovered_checkouts: shopify.map(|s| s.1),
        }
    }
}

#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    sessions: i64,
    added_to_cart: i64,
    checkout_started: i64,
    checkout_completed: i64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.sessions += o.sessions;
        self.added_to_cart += o.added_to_cart;
        self.checkout_started += o.checkout_started;
        self.checkout_completed += o.checkout_completed;
    }
}

/// The funnel over a range of local days.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Funnel {
    /// Every day of the range, oldest first (days without events are 0).
    pub days: Vec<FunnelDay>,
    /// The whole range (dated its last day).
    pub total: FunnelDay,
}

/// The funnel of days `first..=last` from the store's day counts, and for
/// a Shopify brand its abandoned checkouts (created within the range),
/// bucketed by their local day in `tz`.
pub fn funnel(
    first: Date,
    last: Date,
    counts: &[FunnelDayCounts],
    abandoned: Option<&[AbandonedAt]>,
    tz: &TimeZone,
) -> Funnel {
    let by_day: BTreeMap<&str, &FunnelDayCounts> =
        counts.iter().map(|c| (c.day.as_str(), c)).collect();
    let mut shopify: BTreeMap<Date, (i64, i64)> = BTreeMap::new();
    for a in abandoned.unwrap_or(&[]) {
        let e = shopify
            .entry(a.created_at.to_zoned(tz.clone()).date())
            .or_default();
        if a.completed_at.is_some() {
            e.1 += 1;
        } else {
            e.0 += 1;
        }
    }
    let mut days = Vec::new();
    let mut total = Counts::default();
    let mut shopify_total = (0, 0);
    let mut day = first;
    while day <= last {
        let c = by_day
            .get(day.to_string().as_str())
            .map(|c| Counts {
                sessions: c.sessions,
                added_to_cart: c.added_to_cart,
                checkout_started: c.checkout_started,
                checkout_completed: c.checkout_completed,
            })
            .unwrap_or_default();
        total.add(&c);
        let s = abandoned.map(|_| shopify.get(&day).copied().unwrap_or_default());
        if let Some(s) = s {
            shopify_total.0 += s.0;
            shopify_total.1 += s.1;
        }
        days.push(FunnelDay::new(day, &c, s));
        match day.tomorrow() {
            Ok(next) => day = next,
            Err(_) => break,
        }
    }
    Funnel {
        days,
        total: FunnelDay::new(last, &total, abandoned.map(|_| shopify_total)),
    }
}

/// A day's number against a threshold, with its volume floor.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Fewer sessions (or checkouts) than the floor: not judged.
    TooLittleVolume {
        seen: i64,
        floor: i64,
    },
    /// On the wrong side of the threshold.
    Breached {
        value: f64,
    },
    Fine {
        value: f64,
    },
}

impl Verdict {
    pub fn is_breached(self) -> bool {
        matches!(self, Verdict::Breached { .. })
    }
}

/// Conversion judged against `below`, when the day has `min_sessions`.
pub fn conversion_verdict(day: &FunnelDay, below: f64, min_sessions: i64) -> Verdict {
    match day.conversion {
        Some(value) if day.sessions >= min_sessions.max(1) => {
            if value < below {
                Verdict::Breached { value }
            } else {
                Verdict::Fine { value }
            }
        }
        _ => Verdict::TooLittleVolume {
            seen: day.sessions,
            floor: min_sessions,
        },
    }
}

/// Abandonment judged against `above`, when the day has `min_checkouts`
/// checkouts started.
pub fn abandonment_verdict(day: &FunnelDay, above: f64, min_checkouts: i64) -> Verdict {
    match day.abandonment {
        Some(value) if day.checkout_started >= min_checkouts.max(1) => {
            if value > above {
                Verdict::Breached { value }
            } else {
                Verdict::Fine { value }
            }
        }
        _ => Verdict::TooLittleVolume {
            seen: day.checkout_started,
            floor: min_checkouts,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    fn counts(day: &str, s: i64, cart: i64, started: i64, completed: i64) -> FunnelDayCounts {
        FunnelDayCounts {
            day: day.into(),
            sessions: s,
            added_to_cart: cart,
            checkout_started: started,
            checkout_completed: completed,
        }
    }

    #[test]
    fn days_without_events_are_zero_and_totals_add_up() {
        let tz = TimeZone::get("Europe/Berlin").unwrap();
        let c = [
            counts("2026-03-01", 400, 40, 20, 8),
            counts("2026-03-03", 100, 10, 5, 5),
        ];
        let f = funnel(date(2026, 3, 1), date(2026, 3, 3), &c, None, &tz);
        assert_eq!(f.days.len(), 3);
        assert_eq!(f.days[1].sessions, 0);
        assert_eq!(f.days[1].conversion, None);
        assert_eq!(f.days[0].conversion, Some(0.02));
        assert_eq!(f.days[0].abandonment, Some(1.0 - 8.0 / 20.0));
        assert_eq!(f.days[2].abandonment, Some(0.0));
        assert_eq!(f.total.sessions, 500);
        assert_eq!(f.total.checkout_completed, 13);
        assert_eq!(f.total.conversion, Some(13.0 / 500.0));
        assert_eq!(f.total.abandoned_checkouts, None);
    }

    #[test]
    fn shopify_abandoned_checkouts_count_on_their_local_day() {
        let tz = TimeZone::get("America/New_York").unwrap();
        let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
        let a = [
            // 23:30 in New York on Mar 1 (04:30 UTC Mar 2).
            AbandonedAt {
                created_at: at("2026-03-02T04:30:00Z"),
                completed_at: None,
            },
            AbandonedAt {
                created_at: at("2026-03-02T15:00:00Z"),
                completed_at: Some(at("2026-03-03T10:00:00Z")),
            },
        ];
        let f = funnel(date(2026, 3, 1), date(2026, 3, 2), &[], Some(&a), &tz);
        assert_eq!(f.days[0].abandoned_checkouts, Some(1));
        assert_eq!(f.days[1].abandoned_checkouts, Some(0));
        assert_eq!(f.days[1].recovered_checkouts, Some(1));
        assert_eq!(f.total.abandoned_checkouts, Some(1));
        assert_eq!(f.total.recovered_checkouts, Some(1));
    }

    #[test]
    fn thresholds_and_their_volume_floor() {
        let tz = TimeZone::UTC;
        let day = |s, started, completed| {
            funnel(
                date(2026, 3, 1),
                date(2026, 3, 1),
                &[counts("2026-03-01", s, 0, started, completed)],
                None,
                &tz,
            )
            .total
        };
        let (below, floor) = (PLAYBOOK_CONVERSION_BELOW, MIN_SESSIONS);
        // 4 of 200 = 2.0 %: below 2.5 % with enough sessions.
        assert!(conversion_verdict(&day(200, 10, 4), below, floor).is_breached());
        // 5 of 200 = 2.5 %: not below.
        assert_eq!(
            conversion_verdict(&day(200, 10, 5), below, floor),
            Verdict::Fine { value: 0.025 }
        );
        // 3 sessions and no order: nobody is paged.
        assert_eq!(
            conversion_verdict(&day(3, 0, 0), below, floor),
            Verdict::TooLittleVolume {
                seen: 3,
                floor: 200
            }
        );
        let (above, floor) = (PLAYBOOK_ABANDONMENT_ABOVE, MIN_CHECKOUTS);
        // 5 of 20 completed: 75 % abandoned.
        assert!(abandonment_verdict(&day(300, 20, 5), above, floor).is_breached());
        // 6 of 20: 70 % is not above 70 %.
        assert!(!abandonment_verdict(&day(300, 20, 6), above, floor).is_breached());
        // 19 checkouts: below the floor.
        assert_eq!(
            abandonment_verdict(&day(300, 19, 0), above, floor),
            Verdict::TooLittleVolume {
                seen: 19,
                floor: 20
            }
        );
    }
}
