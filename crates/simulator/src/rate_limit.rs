//! Shopify's REST rate limit: a leaky bucket per app per shop, 40 requests,
//! leaking 2 per second, measured in real time.

use std::time::Instant;

pub(crate) const BUCKET_SIZE: u32 = 40;
const LEAK_PER_SECOND: f64 = 2.0;

#[derive(Default)]
pub(crate) struct LeakyBucket {
    level: f64,
    last: Option<Instant>,
}

impl LeakyBucket {
    fn leak(&mut self, now: Instant) {
        if let Some(last) = self.last {
            let elapsed = now.saturating_duration_since(last).as_secs_f64();
            self.level = (self.level - elapsed * LEAK_PER_SECOND).max(0.0);
        }
        self.last = Some(now);
    }

    /// Takes one slot: `Ok(used)` when the request may proceed, `Err(used)` when the bucket is full.
    pub fn acquire(&mut self, now: Instant) -> Result<u32, u32> {
        self.leak(now);
        if self.level + 1.0 > BUCKET_SIZE as f64 {
            return Err(BUCKET_SIZE);
        }
        self.level += 1.0;
        Ok(self.used())
    }

    /// The "used" part of `X-Shopify-Shop-Api-Call-Limit` without taking a slot.
    pub fn peek(&mut self, now: Instant) -> u32 {
        self.leak(now);
        self.used()
    }

    fn used(&self) -> u32 {
        (self.level.ceil() as u32).min(BUCKET_SIZE)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    #[test]
    fn fills_at_forty_and_leaks_two_per_second() {
        let mut bucket = super::LeakyBucket::default();
        let start = Instant::now();
        for expected in 1..=40 {
            assert_eq!(bucket.acquire(start), Ok(expected));
        }
        assert_eq!(bucket.acquire(start), Err(40));
        assert_eq!(bucket.acquire(start + Duration::from_millis(500)), Ok(40));
        assert_eq!(bucket.peek(start + Duration::from_millis(10_500)), 20);
    }
}
