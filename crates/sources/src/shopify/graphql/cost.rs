//! Shopify's calculated-query-cost rate limit, kept on our side.
//!
//! Shopify meters the GraphQL Admin API per app and store with a leaky
//! bucket of *points*: a query may start only when the bucket holds its
//! requested cost, is refunded the difference to its actual cost after it
//! ran, and the bucket refills at `restoreRate` points a second up to
//! `maximumAvailable`. Every answer reports the bucket
//! (`extensions.cost.throttleStatus`), so the plan's size and rate are
//! *read*, never configured: the only numbers written here are the
//! conservative first guess used before the first answer, and the
//! single-query cap of 1,000 points that holds on every plan.
//!
//! One [`CostBucket`] per shop is shared (behind an `Arc`, handed out by
//! [`CostBuckets`]) by every client and job of that shop, so a bulk poll and
//! an incremental sync running together draw from one budget and do not
//! throttle each other. A query *reserves* its cost before it is sent
//! (waiting until the bucket holds it), and the reservation stays "in
//! flight" until its answer arrives; an answer's `currentlyAvailable`, less
//! what is still in flight (sent, maybe not yet counted by Shopify), becomes
//! the new level. Reservations taken while the bucket is short push the
//! level below zero, so the next caller waits for them too: two callers
//! never both go on the strength of the same future points.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::time::Instant;

/// Shopify refuses any single query whose requested cost is above this,
/// whatever the plan (`MAX_COST_EXCEEDED`); such a query is refused here
/// before it is sent.
pub const SINGLE_QUERY_MAX_COST: u32 = 1_000;

/// What the bucket is assumed to be before any answer said: the smallest
/// bucket Shopify has published (1,000 points restoring 50 a second, the
/// former Standard plan). Every plan today is at least this, so the guess
/// can only make the first queries slower than needed, never throttled.
pub const FIRST_GUESS: ThrottleStatus = ThrottleStatus {
    maximum_available: 1_000.0,
    currently_available: 1_000.0,
    restore_rate: 50.0,
};

/// `extensions.cost.throttleStatus` of one answer: the bucket as Shopify
/// saw it after the query.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThrottleStatus {
    pub maximum_available: f64,
    pub currently_available: f64,
    /// Points restored per second.
    pub restore_rate: f64,
}

/// `extensions.cost` of one answer.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct QueryCost {
    /// What Shopify computed from the query before running it.
    pub requested_query_cost: f64,
    /// What it cost once run (null on a throttled answer, which did not run).
    pub actual_query_cost: Option<f64>,
    /// Absent on some answers (Shopify's own bulk examples show none).
    pub throttle_status: Option<ThrottleStatus>,
}

/// How long a throttled query must wait before its cost is back in the
/// bucket, as Shopify documents it: `(cost − available) ÷ restoreRate`,
/// rounded up to the millisecond; zero when the points are already there.
pub fn throttle_wait(cost: f64, status: &ThrottleStatus) -> Duration {
    let missing = cost - status.currently_available;
    if missing <= 0.0 || !missing.is_finite() {
        return Duration::ZERO;
    }
    let secs = missing / restore_rate(status);
    Duration::from_millis((secs * 1000.0).ceil() as u64)
}

/// A rate of at least one point a second, so a nonsense `restoreRate` (0,
/// negative) can neither divide by zero nor wait forever.
fn restore_rate(status: &ThrottleStatus) -> f64 {
    if status.restore_rate.is_finite() && status.restore_rate >= 1.0 {
        status.restore_rate
    } else {
        1.0
    }
}

/// The bucket's level as last known, and what is in flight against it.
#[derive(Debug, Clone)]
struct Level {
    status: ThrottleStatus,
    /// When `status.currently_available` was true; it restores from here.
    at: Instant,
    /// Points reserved by queries sent and not yet answered.
    in_flight: f64,
    /// Whether any answer has reported the bucket yet.
    observed: bool,
}

impl Level {
    fn available_at(&self, now: Instant) -> f64 {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        (self.status.currently_available + elapsed * restore_rate(&self.status))
            .min(self.status.maximum_available)
    }
}

/// One shop's point budget, shared by every client of that shop.
#[derive(Debug)]
pub struct CostBucket {
    level: Mutex<Level>,
}

impl Default for CostBucket {
    fn default() -> Self {
        CostBucket::new()
    }
}

impl CostBucket {
    /// A bucket at [`FIRST_GUESS`] until an answer reports the real one.
    pub fn new() -> Self {
        CostBucket {
            level: Mutex::new(Level {
                status: FIRST_GUESS,
                at: Instant::now(),
                in_flight: 0.0,
                observed: false,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Level> {
        self.level.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The bucket as last reported (or guessed), without restoring.
    pub fn last_status(&self) -> ThrottleStatus {
        self.lock().status
    }

    /// Whether an answer has reported the bucket (else it is the guess).
    pub fn observed(&self) -> bool {
        self.lock().observed
    }

    /// Points available at `now`, restoring since the last answer.
    pub fn available_at(&self, now: Instant) -> f64 {
        self.lock().available_at(now)
    }

    /// Takes `cost` points at `now` and answers how long to wait before
    /// sending: zero when the bucket holds them, else the time to restore
    /// what is missing. The points count as in flight until
    /// [`CostBucket::settle`].
    pub fn reserve_at(&self, cost: f64, now: Instant) -> Duration {
        let mut level = self.lock();
        let available = level.available_at(now);
        level.status.currently_available = available - cost;
        level.at = now;
        level.in_flight += cost;
        if available >= cost {
            Duration::ZERO
        } else {
            let secs = (cost - available) / restore_rate(&level.status);
            Duration::from_millis((secs * 1000.0).ceil() as u64)
        }
    }

    /// A reservation's answer arrived (or it failed): its points are no
    /// longer in flight. When the answer reported the bucket, that report,
    /// less what others still have in flight, is the new level.
    pub fn settle(&self, cost: f64, reported: Option<&ThrottleStatus>, now: Instant) {
        let mut level = self.lock();
        level.in_flight = (level.in_flight - cost).max(0.0);
        if let Some(status) = reported {
            level.status = ThrottleStatus {
                currently_available: status.currently_available - level.in_flight,
                ..*status
            };
            level.at = now;
            level.observed = true;
        }
    }

    /// Waits until `cost` points are in the bucket and holds them until the
    /// returned reservation is settled (or dropped).
    pub async fn acquire(self: &Arc<Self>, cost: f64) -> Reservation {
        let wait = self.reserve_at(cost, Instant::now());
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
        Reservation {
            bucket: Arc::clone(self),
            cost,
            waited: wait,
            settled: false,
        }
    }
}

/// Points held for one query in flight. Settled with the answer's bucket
/// report; dropped unsettled (a transport failure), it just stops counting.
#[derive(Debug)]
pub struct Reservation {
    bucket: Arc<CostBucket>,
    cost: f64,
    /// How long acquiring it waited for the bucket.
    pub waited: Duration,
    settled: bool,
}

impl Reservation {
    pub fn settle(mut self, reported: Option<&ThrottleStatus>) {
        self.bucket.settle(self.cost, reported, Instant::now());
        self.settled = true;
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if !self.settled {
            self.bucket.settle(self.cost, None, Instant::now());
        }
    }
}

/// One [`CostBucket`] per shop, for everything in the process that talks to
/// that shop: Shopify meters per app *and store*, so two jobs of one store
/// must share, two stores must not.
#[derive(Debug, Default)]
pub struct CostBuckets {
    by_shop: Mutex<HashMap<String, Arc<CostBucket>>>,
}

impl CostBuckets {
    pub fn new() -> Self {
        CostBuckets::default()
    }

    /// The bucket of the shop at `shop_url` (its origin and path, e.g.
    /// `https://plentum.myshopify.com`), created at the first guess on
    /// first use.
    pub fn for_shop(&self, shop_url: &url::Url) -> Arc<CostBucket> {
        let key = format!(
            "{}{}",
            shop_url.origin().ascii_serialization(),
            shop_url.path().trim_end_matches('/')
        );
        let mut by_shop = self.by_shop.lock().unwrap_or_else(|p| p.into_inner());
        Arc::clone(by_shop.entry(key).or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(max: f64, available: f64, rate: f64) -> ThrottleStatus {
        ThrottleStatus {
            maximum_available: max,
            currently_available: available,
            restore_rate: rate,
        }
    }

    #[test]
    fn the_throttle_wait_is_the_missing_points_over_the_restore_rate() {
        // Shopify's recorded answer: cost 862, 572 available, 200/s.
        assert_eq!(
            throttle_wait(862.0, &status(4000.0, 572.0, 200.0)),
            Duration::from_millis(1450)
        );
        assert_eq!(
            throttle_wait(100.0, &status(1000.0, 954.0, 50.0)),
            Duration::ZERO
        );
        // A zero restore rate is read as 1/s rather than dividing by zero.
        assert_eq!(
            throttle_wait(10.0, &status(1000.0, 0.0, 0.0)),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn reservations_queue_behind_each_other_instead_of_sharing_points() {
        let bucket = CostBucket::new();
        let t0 = Instant::now();
        bucket.settle(0.0, Some(&status(100.0, 100.0, 10.0)), t0);
        assert_eq!(bucket.reserve_at(60.0, t0), Duration::ZERO);
        // 40 left: the next 60 waits for 20 points, 2 s at 10/s…
        assert_eq!(bucket.reserve_at(60.0, t0), Duration::from_secs(2));
        // …and the one after waits for those too: 80 missing, 8 s.
        assert_eq!(bucket.reserve_at(60.0, t0), Duration::from_secs(8));
    }

    #[test]
    fn the_level_restores_over_time_up_to_the_maximum() {
        let bucket = CostBucket::new();
        let t0 = Instant::now();
        bucket.settle(0.0, Some(&status(100.0, 10.0, 10.0)), t0);
        assert_eq!(bucket.available_at(t0 + Duration::from_secs(3)), 40.0);
        assert_eq!(bucket.available_at(t0 + Duration::from_secs(60)), 100.0);
    }

    #[test]
    fn an_answer_sets_the_level_less_what_is_still_in_flight() {
        let bucket = CostBucket::new();
        let t0 = Instant::now();
        assert!(!bucket.observed());
        bucket.reserve_at(30.0, t0);
        bucket.reserve_at(20.0, t0);
        // The first query's answer: Shopify saw 900 left, but the second
        // query (20) may not have reached it yet.
        bucket.settle(30.0, Some(&status(2000.0, 900.0, 100.0)), t0);
        assert!(bucket.observed());
        assert_eq!(bucket.available_at(t0), 880.0);
        assert_eq!(bucket.last_status().maximum_available, 2000.0);
        // The second settles without a report (it failed): no longer in
        // flight, the level is left as it was.
        bucket.settle(20.0, None, t0);
        assert_eq!(bucket.available_at(t0), 880.0);
    }

    #[test]
    fn one_bucket_per_shop() {
        let buckets = CostBuckets::new();
        let a = url::Url::parse("https://a.myshopify.com/").unwrap();
        let a2 = url::Url::parse("https://a.myshopify.com").unwrap();
        let b = url::Url::parse("https://b.myshopify.com/").unwrap();
        assert!(Arc::ptr_eq(&buckets.for_shop(&a), &buckets.for_shop(&a2)));
        assert!(!Arc::ptr_eq(&buckets.for_shop(&a), &buckets.for_shop(&b)));
    }
}
