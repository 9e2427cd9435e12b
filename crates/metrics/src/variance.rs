//! Whether today's sales so far differ from the baseline so far by more than
//! chance: the one rule behind the sales pulse's state, its insight and the
//! revenue-anomaly alert (METRICS.md "Sales pulse"; docs/metrics.md).
//!
//! Orders arrive at random: a brand that averages 0.3 orders by 3 a.m. has
//! no order by then on three nights in four, and −100 % of a $40 baseline is
//! no news. So a variance only becomes a state (warning, critical, an alert)
//! with evidence:
//! - the baseline so far averages at least [`MIN_BASELINE_ORDERS`] orders
//!   (the alert's `min_orders` defaults to it; a configured one may ask for
//!   more), and
//! - what was seen is unlikely under the baseline: taking orders as a
//!   Poisson process with the baseline's mean, the one-sided probability of
//!   an order count at least as far from the mean as today's is below
//!   [`SIGNIFICANCE`]. For revenue the count is today's revenue in baseline
//!   orders (revenue ÷ the baseline's revenue per order, rounded towards the
//!   mean), so a drop in order value counts as well as a drop in orders.
//!
//! Otherwise the answer is "too early to tell".

/// The one-sided probability below which a difference is taken as real
/// (1 %: the pulse is recomputed all day, and a critical alert wakes people).
pub const SIGNIFICANCE: f64 = 0.01;

/// The fewest orders the baseline so far must average before any state:
/// the one volume floor of the pulse badge, its insight and the
/// revenue-anomaly alert (whose `min_orders` defaults to it).
pub const MIN_BASELINE_ORDER_COUNT: u32 = 3;

/// [`MIN_BASELINE_ORDER_COUNT`] as the mean it is compared with.
pub const MIN_BASELINE_ORDERS: f64 = MIN_BASELINE_ORDER_COUNT as f64;

/// What the test found for one variance.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Evidence {
    /// (today − baseline) ÷ baseline.
    pub variance: f64,
    /// The baseline so far, in orders (the Poisson mean).
    pub expected_orders: f64,
    /// Today so far in orders (for revenue: in baseline orders).
    pub observed_orders: f64,
    /// The one-sided probability of a count at least as far from the mean.
    pub p_value: f64,
    /// The baseline reaches the floor and `p_value` < [`SIGNIFICANCE`].
    pub significant: bool,
}

/// The evidence for today's revenue against the baseline so far; `None`
/// when the baseline has no revenue (no variance exists).
///
/// `floor` is the fewest baseline orders the caller accepts, at least
/// [`MIN_BASELINE_ORDERS`].
pub fn revenue_evidence(
    revenue: f64,
    baseline_revenue: f64,
    baseline_orders: f64,
    floor: f64,
) -> Option<Evidence> {
    if baseline_revenue <= 0.0 {
        return None;
    }
    let variance = (revenue - baseline_revenue) / baseline_revenue;
    Some(evidence(
        variance,
        baseline_orders * (1.0 + variance),
        baseline_orders,
        floor,
    ))
}

/// The evidence for today's order count against the baseline so far;
/// `None` when the baseline has no orders.
pub fn orders_evidence(orders: i64, baseline_orders: f64, floor: f64) -> Option<Evidence> {
    if baseline_orders <= 0.0 {
        return None;
    }
    let variance = (orders as f64 - baseline_orders) / baseline_orders;
    Some(evidence(variance, orders as f64, baseline_orders, floor))
}

fn evidence(variance: f64, observed: f64, expected: f64, floor: f64) -> Evidence {
    let p_value = if observed < expected {
        // At most this many: the count rounded up, towards the mean.
        poisson_cdf(observed.max(0.0).ceil() as u64, expected)
    } else {
        let k = observed.floor() as u64;
        if k == 0 {
            1.0
        } else {
            1.0 - poisson_cdf(k - 1, expected)
        }
    };
    let p_value = p_value.clamp(0.0, 1.0);
    Evidence {
        variance,
        expected_orders: expected,
        observed_orders: observed,
        p_value,
        significant: expected >= floor.max(MIN_BASELINE_ORDERS) && p_value < SIGNIFICANCE,
    }
}

/// P(X ≤ k) for X ~ Poisson(mean), summed in log space from `k` outwards
/// so a mean of thousands neither underflows nor takes thousands of terms
/// more than it needs.
pub fn poisson_cdf(k: u64, mean: f64) -> f64 {
    if mean <= 0.0 {
        return 1.0;
    }
    let ln_pmf = |j: u64| -mean + j as f64 * mean.ln() - ln_factorial(j);
    let tail = |from: u64, up: bool| {
        // Sums pmf(j) for j from `from` away from the mean until the terms
        // no longer matter (they shrink geometrically past the mean).
        let mut sum = 0.0;
        let mut j = from;
        loop {
            let term = ln_pmf(j).exp();
            sum += term;
            if (term <= sum * 1e-17 && (up && j as f64 > mean || !up && (j as f64) < mean))
                || (!up && j == 0)
            {
                return sum;
            }
            j = if up { j + 1 } else { j - 1 };
        }
    };
    if (k as f64) < mean {
        tail(k, false)
    } else {
        (1.0 - tail(k + 1, true)).max(0.0)
    }
}

/// ln(n!): exact below 20, Stirling's series beyond (error < 1e-13).
fn ln_factorial(n: u64) -> f64 {
    if n < 20 {
        return (2..=n).map(|i| (i as f64).ln()).sum();
    }
    let x = n as f64;
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x.powi(3))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9 * b.max(1e-300) + 1e-15
    }

    #[test]
    fn poisson_cdf_matches_known_values() {
        assert!(close(poisson_cdf(0, 0.3), (-0.3f64).exp()));
        // R: ppois(3, 10) = 0.01033605; ppois(14, 10) = 0.9165415
        assert!((poisson_cdf(3, 10.0) - 0.010_336_05).abs() < 1e-8);
        assert!((poisson_cdf(14, 10.0) - 0.916_541_5).abs() < 1e-7);
        // ppois(4800, 5000) = 0.002_363_… (normal approx. z = −2.82)
        let p = poisson_cdf(4800, 5000.0);
        assert!(p > 0.001 && p < 0.004, "{p}");
        assert!(close(poisson_cdf(100_000, 5000.0), 1.0));
    }

    #[test]
    fn three_am_on_a_baseline_of_a_third_of_an_order_is_too_early() {
        // −100 % of $40, the case of issue 10.B6.
        let e = revenue_evidence(0.0, 40_00.0, 0.3, 0.0).unwrap();
        assert_eq!(e.variance, -1.0);
        assert!(!e.significant);
        assert!(close(e.p_value, (-0.3f64).exp()));
    }

    #[test]
    fn a_drop_the_baseline_makes_unlikely_is_significant() {
        // 10 orders usual by now, 2 orders' worth today: P(X ≤ 2) ≈ 0.0028.
        let e = revenue_evidence(200.0, 1000.0, 10.0, 0.0).unwrap();
        assert!(e.significant, "{e:?}");
        // 7 orders' worth (−30 %) is within chance: P(X ≤ 7) ≈ 0.22.
        let e = revenue_evidence(700.0, 1000.0, 10.0, 0.0).unwrap();
        assert!(!e.significant, "{e:?}");
        // The same −30 % over a baseline of 200 orders is not chance.
        assert!(
            revenue_evidence(700.0, 1000.0, 200.0, 0.0)
                .unwrap()
                .significant
        );
    }

    #[test]
    fn the_floor_holds_even_when_the_count_is_unlikely() {
        // 2.9 usual, 0 today: P = e^−2.9 = 0.055 anyway; with 12 today
        // P(X ≥ 12) is tiny but 2.9 < the floor of 3.
        let e = orders_evidence(12, 2.9, 0.0).unwrap();
        assert!(e.p_value < SIGNIFICANCE);
        assert!(!e.significant);
        // A caller's higher floor (the alert's min_orders) wins.
        assert!(orders_evidence(0, 8.0, 0.0).unwrap().significant);
        assert!(!orders_evidence(0, 8.0, 10.0).unwrap().significant);
        assert_eq!(orders_evidence(3, 0.0, 0.0), None);
    }

    #[test]
    fn far_tails_end_quickly_and_stay_in_bounds() {
        // A count far above or below a large mean: the tail sums stop at
        // once on terms that underflow to zero instead of walking on.
        let e = orders_evidence(1_000_000, 10.0, 0.0).unwrap();
        assert!(e.significant && e.p_value == 0.0, "{e:?}");
        let e = orders_evidence(0, 1e7, 0.0).unwrap();
        assert!(e.significant && e.p_value == 0.0, "{e:?}");
        let e = revenue_evidence(f64::MAX / 2.0, 1.0, 5.0, 0.0).unwrap();
        assert!(e.significant, "{e:?}");
        assert_eq!(poisson_cdf(0, 0.0), 1.0);
    }
}
