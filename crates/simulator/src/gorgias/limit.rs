//! Gorgias's call limit for API-key integrations: a leaky bucket of 40
//! calls that empties over a 20 s window (2 calls a second, 40 at once at
//! most), reported as `X-Gorgias-Account-Api-Call-Limit: used/40`; a call
//! over it gets 429 with `Retry-after` in seconds.
//!
//! It is on by default, in tests and in the demo alike: a helpdesk without
//! it hid that the connector once spent an hour of calls on a first sync.
//! Tests may shorten the window (the same 40 calls over, say, 200 ms: a
//! faster clock, not a looser limit), so a sync that takes minutes against
//! Gorgias takes a second while every call still counts against the bucket.

use std::time::{Duration, Instant};

/// Calls the bucket holds.
pub(crate) const CAPACITY: u32 = 40;
/// Gorgias's window for API-key integrations.
pub(crate) const WINDOW: Duration = Duration::from_secs(20);

pub(crate) struct CallLimit {
    pub enabled: bool,
    /// Time for a full bucket to drain: [`WINDOW`], or shorter in tests.
    pub window: Duration,
    level: f64,
    last: Option<Instant>,
    /// Calls refused with 429.
    pub refused: u64,
}

impl Default for CallLimit {
    fn default() -> Self {
        CallLimit {
            enabled: true,
            window: WINDOW,
            level: 0.0,
            last: None,
            refused: 0,
        }
    }
}

impl CallLimit {
    fn per_second(&self) -> f64 {
        f64::from(CAPACITY) / self.window.as_secs_f64().max(1e-6)
    }

    fn leak(&mut self, now: Instant) {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.level = (self.level - elapsed * self.per_second()).max(0.0);
        }
        self.last = Some(now);
    }

    fn used(&self) -> u32 {
        (self.level.ceil() as u32).min(CAPACITY)
    }

    /// Takes one call: `Ok(used)` when it may proceed, `Err(wait)` (until
    /// one call has leaked out) when the bucket is full. Disabled, every
    /// call proceeds and `used` still reports the level.
    pub fn acquire(&mut self, now: Instant) -> Result<u32, Duration> {
        self.leak(now);
        if self.level + 1.0 > f64::from(CAPACITY) {
            if self.enabled {
                self.refused += 1;
                let wait = (self.level + 1.0 - f64::from(CAPACITY)) / self.per_second();
                return Err(Duration::from_secs_f64(wait));
            }
            return Ok(CAPACITY);
        }
        self.level += 1.0;
        Ok(self.used())
    }

    /// `Retry-after` for a wait: whole seconds, rounded up, as Gorgias sends
    /// it; a shortened window (tests) gets fractions, so that its faster
    /// clock holds for the wait too.
    pub fn retry_after(&self, wait: Duration) -> String {
        if self.window >= WINDOW {
            format!("{}", wait.as_secs_f64().ceil().max(1.0) as u64)
        } else {
            format!("{:.3}", wait.as_secs_f64().max(0.001))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forty_at_once_then_two_a_second() {
        let mut limit = CallLimit::default();
        let start = Instant::now();
        for expected in 1..=40 {
            assert_eq!(limit.acquire(start), Ok(expected));
        }
        let wait = limit.acquire(start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(500));
        assert_eq!(limit.retry_after(wait), "1");
        assert_eq!(limit.refused, 1);
        assert_eq!(limit.acquire(start + Duration::from_millis(500)), Ok(40));
        // 10 s later 20 calls have leaked out.
        assert_eq!(limit.acquire(start + Duration::from_millis(10_500)), Ok(21));
    }

    #[test]
    fn a_short_window_is_a_faster_clock_with_the_same_forty() {
        let mut limit = CallLimit {
            window: Duration::from_millis(200),
            ..CallLimit::default()
        };
        let start = Instant::now();
        for _ in 0..40 {
            limit.acquire(start).unwrap();
        }
        let wait = limit.acquire(start).unwrap_err();
        assert_eq!(wait, Duration::from_millis(5));
        assert_eq!(limit.retry_after(wait), "0.005");
        let mut off = CallLimit {
            enabled: false,
            ..CallLimit::default()
        };
        for _ in 0..50 {
            assert!(off.acquire(start).is_ok());
        }
        assert_eq!(off.refused, 0);
    }
}
