//! Money sums that cannot wrap, and the averages and changes computed from
//! them (issue 11.5 and METRICS.md "Orders and revenue").
//!
//! An order's amount is a 64-bit count of minor units, so the sum of two
//! orders may not fit 64 bits: one order of 92,233,720,368,547,758.07 plus
//! any other used to wrap the dashboard's revenue negative. Every rollup
//! sums revenue in 128 bits (no sum of fewer than 2^64 amounts of 64 bits
//! can wrap it); a sum becomes [`Money`] only to be shown, through
//! [`Summed::new`], which says when the sum was too large for
//! [`Money`] instead of showing a wrong amount.

use opsdeck_domain::{Currency, Money};

/// A 128-bit sum of minor units as an amount to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Summed {
    /// The sum, or the largest (smallest) amount [`Money`] holds when the
    /// sum is beyond it.
    pub money: Money,
    /// The sum did not fit [`Money`]: the amount shown is a floor (ceiling),
    /// and the panel says so rather than show a wrapped figure.
    pub beyond_range: bool,
}

impl Summed {
    pub fn new(minor: i128, currency: Currency) -> Summed {
        let clamped = minor.clamp(i128::from(i64::MIN), i128::from(i64::MAX));
        Summed {
            money: Money::new(clamped as i64, currency),
            beyond_range: clamped != minor,
        }
    }
}

/// The sum as [`Money`], held at the bound [`Money`] can hold when beyond it
/// (callers that show the amount also show [`Summed::beyond_range`]).
pub fn money(minor: i128, currency: Currency) -> Money {
    Summed::new(minor, currency).money
}

/// Average order value: `revenue ÷ orders` rounded half away from zero to
/// the minor unit, for display; `None` for no orders. An average of 64-bit
/// amounts always fits 64 bits.
pub fn aov(revenue: i128, orders: i64, currency: Currency) -> Option<Money> {
    if orders <= 0 {
        return None;
    }
    let d = i128::from(orders);
    let q = (2 * revenue.abs() + d) / (2 * d);
    Some(money(if revenue < 0 { -q } else { q }, currency))
}

/// The change of AOV from the prior span to the current one, computed from
/// the unrounded averages (METRICS.md: "round only for display"):
/// `(r/n) ÷ (r₀/n₀) − 1 = (r·n₀ − r₀·n) ÷ (r₀·n)`, exactly in 128 bits up to
/// the last division. `None` when either side has no order, or the prior
/// AOV is 0.
pub fn aov_delta(
    revenue: i128,
    orders: i64,
    prior_revenue: i128,
    prior_orders: i64,
) -> Option<f64> {
    if orders <= 0 || prior_orders <= 0 || prior_revenue == 0 {
        return None;
    }
    let (n, n0) = (i128::from(orders), i128::from(prior_orders));
    // |r| < 2^64·n, so r·n₀ stays far inside 128 bits for any real count.
    let num = revenue
        .checked_mul(n0)?
        .checked_sub(prior_revenue.checked_mul(n)?)?;
    let den = prior_revenue.checked_mul(n)?;
    Some(num as f64 / den as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sum_beyond_money_is_held_at_the_bound_and_says_so() {
        let max = i128::from(i64::MAX);
        let s = Summed::new(max + 12_489, Currency::USD);
        assert_eq!(s.money.minor, i64::MAX);
        assert!(s.beyond_range);
        let s = Summed::new(max, Currency::USD);
        assert!(!s.beyond_range);
        assert_eq!(
            Summed::new(i128::from(i64::MIN) - 1, Currency::USD)
                .money
                .minor,
            i64::MIN
        );
    }

    #[test]
    fn aov_of_a_sum_beyond_64_bits_is_exact() {
        let max = i128::from(i64::MAX);
        // (2^63 − 1 + 12,490) / 2 ends in .5: rounded away from zero.
        let a = aov(max + 12_490, 2, Currency::USD).unwrap();
        assert_eq!(i128::from(a.minor), (max + 12_490 + 1) / 2);
        assert_eq!(aov(1000, 3, Currency::USD).unwrap().minor, 333);
        assert_eq!(aov(1001, 2, Currency::USD).unwrap().minor, 501);
        assert_eq!(aov(5, 0, Currency::USD), None);
    }

    #[test]
    fn aov_delta_uses_the_unrounded_averages() {
        // $10.00 / 3 = 333.33… against $10.00 / 3 … and $6.67 / 2 = 333.5:
        // rounded AOVs 333 and 334 would give +0.30 %; unrounded, +0.05 %.
        let d = aov_delta(667, 2, 1000, 3).unwrap();
        assert!((d - (333.5 / (1000.0 / 3.0) - 1.0)).abs() < 1e-12, "{d}");
        assert_eq!(aov_delta(667, 0, 1000, 3), None);
        assert_eq!(aov_delta(667, 2, 0, 3), None);
        assert_eq!(aov_delta(667, 2, 1000, 0), None);
    }
}
