//! The GraphQL rate limit: a leaky bucket of cost points per app and shop,
//! restoring continuously at the plan's rate (Standard: 100 points/s) up to
//! its size. Shopify's documentation gives only the rates; its responses
//! report `maximumAvailable` as 20 seconds of restore (2,000 on Standard),
//! which is what the bucket holds here. A query runs only when its
//! requested cost is available; afterwards the difference between requested
//! and actual cost is given back.
//!
//! The bucket and the bulk operations run on the [`ApiClock`]: real time
//! by default (the demo keeps the real limits), or a clock that only the
//! tests move, so a test can empty the bucket and watch it restore without
//! sleeping.

use std::time::{Duration, Instant};

/// Standard plan: points restored per second.
pub(crate) const STANDARD_RESTORE_RATE: f64 = 100.0;
/// How many seconds of restore the bucket holds.
const BUCKET_SECONDS: f64 = 20.0;

/// Time as the GraphQL face sees it.
#[derive(Clone, Debug)]
pub(crate) struct ApiClock {
    start: Instant,
    /// `Some` when the clock moves only when told (tests).
    manual: Option<Duration>,
}

impl Default for ApiClock {
    fn default() -> Self {
        ApiClock {
            start: Instant::now(),
            manual: None,
        }
    }
}

impl ApiClock {
    /// Seconds since the clock started.
    pub fn seconds(&self) -> f64 {
        match self.manual {
            Some(elapsed) => elapsed.as_secs_f64(),
            None => self.start.elapsed().as_secs_f64(),
        }
    }

    /// Stops following real time, at the current reading.
    pub fn make_manual(&mut self) {
        if self.manual.is_none() {
            self.manual = Some(self.start.elapsed());
        }
    }

    pub fn is_manual(&self) -> bool {
        self.manual.is_some()
    }

    /// Moves a manual clock forward (a real one moves by itself).
    pub fn advance(&mut self, by: Duration) {
        if let Some(elapsed) = &mut self.manual {
            *elapsed += by;
        }
    }
}

/// What every answer reports in `extensions.cost.throttleStatus`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    pub restore_rate: f64,
}

#[derive(Clone, Debug)]
pub(crate) struct CostBucket {
    restore_rate: f64,
    available: f64,
    /// The clock reading `available` was computed at.
    at: f64,
}

impl Default for CostBucket {
    fn default() -> Self {
        CostBucket::with_rate(STANDARD_RESTORE_RATE)
    }
}

impl CostBucket {
    pub fn with_rate(restore_rate: f64) -> CostBucket {
        CostBucket {
            restore_rate,
            available: restore_rate * BUCKET_SECONDS,
            at: 0.0,
        }
    }

    fn maximum(&self) -> f64 {
        self.restore_rate * BUCKET_SECONDS
    }

    fn restore(&mut self, now: f64) {
        if now > self.at {
            self.available =
                (self.available + (now - self.at) * self.restore_rate).min(self.maximum());
            self.at = now;
        }
    }

    /// Takes `cost` points if they are there: `false` means throttled.
    pub fn take(&mut self, cost: u64, now: f64) -> bool {
        self.restore(now);
        if cost as f64 > self.available {
            return false;
        }
        self.available -= cost as f64;
        true
    }

    /// Gives back what a query requested but did not use.
    pub fn refund(&mut self, points: u64) {
        self.available = (self.available + points as f64).min(self.maximum());
    }

    pub fn status(&mut self, now: f64) -> ThrottleStatus {
        self.restore(now);
        ThrottleStatus {
            maximum_available: self.maximum(),
            // Shopify reports whole points.
            currently_available: self.available.floor(),
            restore_rate: self.restore_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empties_refunds_and_restores_at_the_rate() {
        let mut bucket = CostBucket::default();
        assert_eq!(bucket.status(0.0).maximum_available, 2000.0);
        assert!(bucket.take(1000, 0.0));
        assert!(bucket.take(1000, 0.0));
        assert!(!bucket.take(1, 0.0));
        bucket.refund(50);
        assert_eq!(bucket.status(0.0).currently_available, 50.0);
        assert!(!bucket.take(101, 0.5));
        assert!(bucket.take(100, 0.5));
        assert_eq!(bucket.status(100.0).currently_available, 2000.0);
    }
}
