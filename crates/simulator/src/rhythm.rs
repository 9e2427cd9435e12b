//! When orders arrive: the daily and weekly rhythm, growth over the months and
//! day-to-day noise, as an intensity per hour that both the history and
//! `advance_to` sample from.

use jiff::tz::TimeZone;
use jiff::Timestamp;
use rand::Rng;

use crate::brands::Profile;

/// Relative order intensity per local hour of day: quiet nights, a lunch bump
/// and the evening peak around 20:00.
const DAILY: [f64; 24] = [
    0.30, 0.18, 0.11, 0.08, 0.08, 0.12, 0.25, 0.45, 0.62, 0.75, 0.85, 0.92, 1.0, 0.97, 0.92, 0.9,
    0.95, 1.05, 1.2, 1.4, 1.55, 1.4, 1.0, 0.6,
];

/// A well-spread 64-bit hash (splitmix64), for values that must not depend on rng state.
pub(crate) fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Uniform in [0, 1) from a hash.
fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// The order intensity of one brand over time.
pub(crate) struct Rhythm {
    pub tz: TimeZone,
    pub seed: u64,
    pub history_start: i64,
    pub history_end: i64,
    pub growth: f64,
    pub weekly: [f64; 7],
}

impl Rhythm {
    pub fn new(profile: &Profile, tz: TimeZone, seed: u64, start: i64, end: i64) -> Rhythm {
        Rhythm {
            tz,
            seed: mix(seed ^ profile.id_salt),
            history_start: start,
            history_end: end,
            growth: profile.growth,
            weekly: profile.weekly,
        }
    }

    /// Intensity at `at` (seconds since the epoch); after the history, growth continues.
    pub fn weight(&self, at: i64) -> f64 {
        let zoned = Timestamp::from_second(at)
            .unwrap_or(Timestamp::UNIX_EPOCH)
            .to_zoned(self.tz.clone());
        let hour = zoned.hour() as usize;
        let weekday = zoned.weekday().to_monday_zero_offset() as usize;
        let span = (self.history_end - self.history_start).max(1) as f64;
        let progress = (at - self.history_start) as f64 / span;
        let growth = self.growth.powf(progress);
        let day = at.div_euclid(86_400) as u64;
        let h = mix(self.seed ^ day.wrapping_mul(0x1000_0001));
        // Most days vary by ±25 %; about one day in fifty is a promotion.
        let mut noise = 0.75 + 0.5 * unit(h);
        if unit(mix(h)) < 0.02 {
            noise *= 2.2;
        }
        DAILY[hour] * self.weekly[weekday] * growth * noise
    }

    /// Hour-long bins from `start` to `end` with their weights (the last bin may be shorter).
    pub fn bins(&self, start: i64, end: i64) -> Vec<(i64, i64, f64)> {
        let mut bins = Vec::new();
        let mut at = start;
        while at < end {
            let next = ((at.div_euclid(3600)) + 1) * 3600;
            let stop = next.min(end);
            let weight = self.weight(at) * (stop - at) as f64 / 3600.0;
            bins.push((at, stop, weight));
            at = stop;
        }
        bins
    }

    /// Exactly `count` arrival times over [start, end), distributed per the rhythm, sorted.
    pub fn sample_times(&self, rng: &mut impl Rng, start: i64, end: i64, count: usize) -> Vec<i64> {
        let bins = self.bins(start, end);
        let mut cumulative = Vec::with_capacity(bins.len());
        let mut total = 0.0;
        for (_, _, w) in &bins {
            total += w;
            cumulative.push(total);
        }
        let mut times = Vec::with_capacity(count);
        if bins.is_empty() || total <= 0.0 {
            return times;
        }
        for _ in 0..count {
            let u = rng.gen::<f64>() * total;
            let i = cumulative.partition_point(|&c| c <= u).min(bins.len() - 1);
            let (from, to, _) = bins[i];
            times.push(rng.gen_range(from..to));
        }
        times.sort_unstable();
        times
    }

    /// Total weight over [start, end): orders per unit of weight calibrate `advance_to`.
    pub fn total_weight(&self, start: i64, end: i64) -> f64 {
        self.bins(start, end).iter().map(|b| b.2).sum()
    }
}

/// A Poisson draw (Knuth for small means, a rounded normal for large ones).
pub(crate) fn poisson(rng: &mut impl Rng, mean: f64) -> usize {
    if mean <= 0.0 {
        return 0;
    }
    if mean > 40.0 {
        let u1: f64 = rng.gen::<f64>().max(1e-12);
        let u2: f64 = rng.gen();
        let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
        return (mean + normal * mean.sqrt()).round().max(0.0) as usize;
    }
    let limit = (-mean).exp();
    let mut product = rng.gen::<f64>();
    let mut count = 0;
    while product > limit {
        product *= rng.gen::<f64>();
        count += 1;
    }
    count
}

/// A log-normal draw around `median` with `spread` (sigma of the log).
pub(crate) fn log_normal(rng: &mut impl Rng, median: f64, spread: f64) -> f64 {
    let u1: f64 = rng.gen::<f64>().max(1e-12);
    let u2: f64 = rng.gen();
    let normal = (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos();
    median * (spread * normal).exp()
}
