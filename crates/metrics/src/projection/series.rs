//! The building blocks of every rollup: counters that are added to and
//! subtracted from symmetrically, and a per-brand time series exact to the
//! second that still answers a month-long range in a few hundred steps.
//!
//! Every map drops an entry the moment it returns to its empty value, so a
//! projection built change by change and one rebuilt from the store compare
//! equal field by field (`PartialEq`), not only in the numbers they show.

use std::collections::BTreeMap;

/// A value that can be added with a sign (+1 adds a record's contribution,
/// −1 removes it) and knows when it is empty.
pub trait Counter: Default + PartialEq {
    fn add(&mut self, other: &Self, sign: i64);
    fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

/// Adds `sign` to a plain count, removing the entry at zero.
pub fn bump_count<K: Ord>(map: &mut BTreeMap<K, i64>, key: K, sign: i64) {
    use std::collections::btree_map::Entry;
    match map.entry(key) {
        Entry::Occupied(mut e) => {
            *e.get_mut() += sign;
            if *e.get() == 0 {
                e.remove();
            }
        }
        Entry::Vacant(e) => {
            e.insert(sign);
        }
    }
}

impl Counter for i64 {
    fn add(&mut self, other: &Self, sign: i64) {
        *self += other * sign;
    }
}

impl Counter for i128 {
    fn add(&mut self, other: &Self, sign: i64) {
        *self += other * i128::from(sign);
    }
}

/// Orders placed and money taken in one span.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Sales {
    /// Orders created, cancelled included.
    pub orders: i64,
    /// Orders that count for revenue (not cancelled) in the brand's currency.
    pub paid_orders: i64,
    /// Sum of `total_price` of `paid_orders`, in minor units of the brand's
    /// currency: 128 bits, so no sum of 64-bit amounts can wrap (issue 11.5;
    /// [`crate::sums::money`] turns it into [`opsdeck_domain::Money`]).
    pub revenue: i128,
    /// Non-cancelled orders in another currency than the brand's: they are
    /// counted here, never summed into revenue without a rate.
    pub foreign: i64,
}

impl Counter for Sales {
    fn add(&mut self, o: &Self, sign: i64) {
        self.orders += o.orders * sign;
        self.paid_orders += o.paid_orders * sign;
        self.revenue += o.revenue * i128::from(sign);
        self.foreign += o.foreign * sign;
    }
}

/// Sales of one brand over time: per UTC hour, and per second inside each
/// hour for the two partial hours at the edges of a range. A range sum
/// touches at most one entry per hour inside it plus the orders of two hours.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SalesSeries {
    hours: BTreeMap<i64, Hour>,
}

/// One UTC hour: its total, and its seconds that hold orders, sorted — a
/// vector of 24-byte entries (a map entry per second cost ~60 bytes per
/// order; a vector keeps spare room so adding an order rarely reallocates).
#[derive(Debug, Clone, Default, PartialEq)]
struct Hour {
    total: Sales,
    seconds: Vec<Second>,
}

/// The sales of one second; counts fit 32 bits (orders in one second of
/// one brand); revenue is 128 bits because two orders of a 64-bit amount in
/// one second would wrap 64 (32 bytes a second instead of 24).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Second {
    revenue: i128,
    orders: i32,
    paid_orders: i32,
    foreign: i32,
    second: u16,
}

impl Second {
    fn sales(&self) -> Sales {
        Sales {
            orders: i64::from(self.orders),
            paid_orders: i64::from(self.paid_orders),
            revenue: self.revenue,
            foreign: i64::from(self.foreign),
        }
    }
}

fn narrow(v: i64) -> i32 {
    i32::try_from(v).expect("orders in one second fit 32 bits")
}

impl SalesSeries {
    pub fn add(&mut self, at: i64, sales: &Sales, sign: i64) {
        use std::collections::btree_map::Entry;
        let (h, second) = (at.div_euclid(3600), at.rem_euclid(3600) as u16);
        let hour = match self.hours.entry(h) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => e.insert(Hour::default()),
        };
        hour.total.add(sales, sign);
        let seconds = &mut hour.seconds;
        let at = seconds.partition_point(|s| s.second < second);
        if seconds.get(at).is_none_or(|s| s.second != second) {
            seconds.insert(
                at,
                Second {
                    revenue: 0,
                    orders: 0,
                    paid_orders: 0,
                    foreign: 0,
                    second,
                },
            );
        }
        let s = &mut seconds[at];
        s.revenue += sales.revenue * i128::from(sign);
        s.orders += narrow(sales.orders * sign);
        s.paid_orders += narrow(sales.paid_orders * sign);
        s.foreign += narrow(sales.foreign * sign);
        if s.sales().is_empty() {
            seconds.remove(at);
        }
        if hour.seconds.is_empty() && hour.total.is_empty() {
            self.hours.remove(&h);
        }
    }

    /// Sales of orders created in `[from, to)` (unix seconds).
    pub fn sum(&self, from: i64, to: i64) -> Sales {
        let mut total = Sales::default();
        if from >= to {
            return total;
        }
        let first_full = from.div_euclid(3600) + i64::from(from.rem_euclid(3600) != 0);
        let last_full = to.div_euclid(3600); // exclusive
        if first_full >= last_full {
            self.add_seconds(&mut total, from, to);
            return total;
        }
        self.add_seconds(&mut total, from, first_full * 3600);
        for (_, h) in self.hours.range(first_full..last_full) {
            total.add(&h.total, 1);
        }
        self.add_seconds(&mut total, last_full * 3600, to);
        total
    }

    /// Adds the per-second sales in `[from, to)`.
    fn add_seconds(&self, total: &mut Sales, from: i64, to: i64) {
        if from >= to {
            return;
        }
        for (h, hour) in self
            .hours
            .range(from.div_euclid(3600)..=(to - 1).div_euclid(3600))
        {
            for s in hour.seconds.iter() {
                let at = h * 3600 + i64::from(s.second);
                if (from..to).contains(&at) {
                    total.add(&s.sales(), 1);
                }
            }
        }
    }

    /// The orders created in `[from, to)` and any others of the UTC hours
    /// those instants fall in: a small copy that answers every sum inside
    /// `[from, to)` as the whole series does (the alert conditions read the
    /// last 8 days without holding the projection's lock).
    pub fn window(&self, from: i64, to: i64) -> SalesSeries {
        if from >= to {
            return SalesSeries::default();
        }
        SalesSeries {
            hours: self
                .hours
                .range(from.div_euclid(3600)..=(to - 1).div_euclid(3600))
                .map(|(h, hour)| (*h, hour.clone()))
                .collect(),
        }
    }

    /// The second of the latest order created at or before `at`.
    pub fn latest_order_at_or_before(&self, at: i64) -> Option<i64> {
        self.hours
            .range(..=at.div_euclid(3600))
            .rev()
            .find_map(|(h, hour)| {
                hour.seconds
                    .iter()
                    .rev()
                    .map(|s| (h * 3600 + i64::from(s.second), s.orders))
                    .find(|(t, orders)| *t <= at && *orders > 0)
                    .map(|(t, _)| t)
            })
    }

    /// Distinct seconds holding at least one order, plus hours (memory accounting).
    pub fn len(&self) -> usize {
        self.hours.values().map(|h| h.seconds.len()).sum::<usize>() + self.hours.len()
    }

    pub fn is_empty(&self) -> bool {
        self.hours.is_empty()
    }
}

/// `map[key] += value × sign`, dropping the entry at empty, in one lookup
/// for the common case.
pub fn update<K: Ord, V: Counter>(map: &mut BTreeMap<K, V>, key: K, value: &V, sign: i64) {
    use std::collections::btree_map::Entry;
    match map.entry(key) {
        Entry::Occupied(mut e) => {
            e.get_mut().add(value, sign);
            if e.get().is_empty() {
                e.remove();
            }
        }
        Entry::Vacant(e) => {
            let mut v = V::default();
            v.add(value, sign);
            if !v.is_empty() {
                e.insert(v);
            }
        }
    }
}

/// A multiset of durations (seconds), kept sorted so a median over many
/// days merges a few sorted runs instead of sorting everything, with their
/// sum and the sum of their magnitudes, so a 90-day mean reads 90 sums
/// instead of every duration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Durations {
    values: Vec<i64>,
    sum: i128,
    magnitude: i128,
}

impl Durations {
    pub fn insert(&mut self, v: i64) {
        let at = self.values.partition_point(|x| *x < v);
        self.values.insert(at, v);
        self.sum += i128::from(v);
        self.magnitude += i128::from(v).abs();
    }

    pub fn remove(&mut self, v: i64) {
        if let Ok(at) = self.values.binary_search(&v) {
            self.values.remove(at);
            self.sum -= i128::from(v);
            self.magnitude -= i128::from(v).abs();
        }
    }

    /// The durations, sorted.
    pub fn values(&self) -> &[i64] {
        &self.values
    }

    /// Their exact sum.
    pub fn sum(&self) -> i128 {
        self.sum
    }

    /// The sum of their absolute values.
    pub fn magnitude(&self) -> i128 {
        self.magnitude
    }
}

/// Median and mean of values, in seconds; `None` for none.
pub fn median_mean(mut values: Vec<i64>) -> (Option<f64>, Option<f64>) {
    if values.is_empty() {
        return (None, None);
    }
    values.sort_unstable();
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2] as f64
    } else {
        (values[n / 2 - 1] as f64 + values[n / 2] as f64) / 2.0
    };
    let mean = values.iter().map(|v| *v as f64).sum::<f64>() / n as f64;
    (Some(median), Some(mean))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_sum_is_exact_at_the_second_across_hour_edges() {
        let mut s = SalesSeries::default();
        let one = Sales {
            orders: 1,
            paid_orders: 1,
            revenue: 100,
            foreign: 0,
        };
        for at in [0, 3599, 3600, 7199, 7200, 10_000] {
            s.add(at, &one, 1);
        }
        assert_eq!(s.sum(0, 10_001).orders, 6);
        assert_eq!(s.sum(1, 7200).orders, 3);
        assert_eq!(s.sum(3600, 7200).orders, 2);
        assert_eq!(s.sum(3599, 3601).orders, 2);
        assert_eq!(s.sum(5, 5).orders, 0);
        s.add(3600, &one, -1);
        assert_eq!(s.sum(0, 10_001).orders, 5);
        for at in [0, 3599, 7199, 7200, 10_000] {
            s.add(at, &one, -1);
        }
        assert_eq!(s, SalesSeries::default(), "empty entries are dropped");
    }

    #[test]
    fn a_window_sums_as_the_whole_series_inside_it() {
        let mut s = SalesSeries::default();
        let one = Sales {
            orders: 1,
            paid_orders: 1,
            revenue: 100,
            foreign: 0,
        };
        for at in [0, 3599, 3600, 7199, 7200, 10_000, 20_000] {
            s.add(at, &one, 1);
        }
        let w = s.window(3599, 10_001);
        for (from, to) in [(3599, 10_001), (3600, 7200), (5000, 10_000), (3599, 3600)] {
            assert_eq!(w.sum(from, to), s.sum(from, to), "[{from}, {to})");
        }
        assert_eq!(w.sum(0, 30_000).orders, 6, "the hours touched, no more");
        assert_eq!(s.latest_order_at_or_before(9_999), Some(7200));
        assert_eq!(s.latest_order_at_or_before(7200), Some(7200));
        assert_eq!(s.latest_order_at_or_before(7199), Some(7199));
        assert_eq!(s.latest_order_at_or_before(-1), None);
        assert_eq!(s.latest_order_at_or_before(99_999), Some(20_000));
    }

    #[test]
    fn median_of_even_and_odd_counts() {
        assert_eq!(median_mean(vec![3, 1, 2]), (Some(2.0), Some(2.0)));
        assert_eq!(median_mean(vec![4, 1, 2, 3]), (Some(2.5), Some(2.5)));
        assert_eq!(median_mean(vec![]), (None, None));
    }
}
