//! Support panels: the ticket queue, CSAT, first response and resolution
//! times, and top issues (tags, and clusters of untagged subjects).
//!
//! Each takes a brand index: a brand's, [`UNATTRIBUTED`] (tickets no
//! attribution rule claimed) or [`ALL_BRANDS`] (the account-wide view,
//! whose totals equal the helpdesk's own); the last two read the account's
//! zone. [`support_views`] lists them in the order pages show them.

use super::{point, ratio, Point, Range, Window};
use crate::projection::series::{median_mean, Counter, Durations};
use crate::projection::support::{Scores, TicketDay};
pub use crate::projection::support::{ALL_BRANDS, UNATTRIBUTED};
use crate::projection::text::cluster_name;
use crate::projection::{day_start, local_day, BrandIx, Projection};
use opsdeck_domain::period::PeriodWindow;
use opsdeck_domain::{Period, Timestamp};
use serde::Serialize;
use std::collections::HashMap;

/// One support view: a brand, the unattributed tickets or all of them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SupportView<T> {
    /// The brand id, `unattributed` or `all`.
    pub view: String,
    /// What a page calls it: the brand's name, "Unattributed", "All brands".
    pub name: String,
    #[serde(flatten)]
    pub panel: T,
}

/// The support views beyond the brands, in the order pages list them after
/// the brands: unattributed tickets, then all brands together.
pub fn account_views() -> [(BrandIx, &'static str, &'static str); 2] {
    [
        (UNATTRIBUTED, "unattributed", "Unattributed"),
        (ALL_BRANDS, "all", "All brands"),
    ]
}

/// The brand index of a support view's id: a configured brand's id,
/// `unattributed` or `all`.
pub fn view_ix(p: &Projection, view: &str) -> Option<BrandIx> {
    account_views()
        .iter()
        .find(|(_, id, _)| *id == view)
        .map(|(b, _, _)| *b)
        .or_else(|| {
            p.ctx
                .brands
                .iter()
                .position(|b| b.id.as_str() == view)
                .and_then(|i| BrandIx::try_from(i).ok())
        })
}

/// `f` for the unattributed tickets and for all brands together.
pub fn support_views<T>(mut f: impl FnMut(BrandIx) -> T) -> Vec<SupportView<T>> {
    account_views()
        .into_iter()
        .map(|(b, id, name)| SupportView {
            view: id.into(),
            name: name.into(),
            panel: f(b),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Queue {
    pub open: i64,
    pub pending: i64,
    pub resolved_this_week: i64,
    pub created_today: i64,
    pub resolved_today: i64,
    /// Last 7 local days including today.
    pub created_series: Vec<Point>,
    pub resolved_series: Vec<Point>,
}

pub fn queue(
    p: &Projection,
    b: BrandIx,
    week_start: jiff::civil::Weekday,
    now: Timestamp,
) -> Queue {
    let tz = p.ctx.zone(b);
    let now_s = now.as_second();
    let today = local_day(now_s, tz);
    let s = &p.support;
    let total_open: i64 = s
        .snoozes
        .range((b, i64::MIN)..=(b, i64::MAX))
        .map(|(_, n)| n)
        .sum();
    let pending: i64 = s
        .snoozes
        .range((b, now_s + 1)..=(b, i64::MAX))
        .map(|(_, n)| n)
        .sum();
    let week = PeriodWindow::compute(Period::ThisWeek, now, tz, week_start);
    let week_first = local_day(week.start.as_second(), tz);
    let day = |d: i32| s.days.get(&(b, d)).copied().unwrap_or_default();
    let mut resolved_week = 0;
    for d in week_first..=today {
        resolved_week += day(d).resolved;
    }
    Queue {
        open: total_open - pending,
        pending,
        resolved_this_week: resolved_week,
        created_today: day(today).created,
        resolved_today: day(today).resolved,
        created_series: (today - 6..=today)
            .map(|d| point(day_start(d, tz), day(d).created as f64))
            .collect(),
        resolved_series: (today - 6..=today)
            .map(|d| point(day_start(d, tz), day(d).resolved as f64))
            .collect(),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Zone {
    Red,
    Yellow,
    Green,
}

pub fn zone(mean: f64) -> Zone {
    if mean < 3.0 {
        Zone::Red
    } else if mean < 4.0 {
        Zone::Yellow
    } else {
        Zone::Green
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Csat {
    pub window: Window,
    pub surveys: i64,
    pub mean: Option<f64>,
    pub share_4_5: Option<f64>,
    pub zone: Option<Zone>,
    /// One point per local day of the last 30: the mean of the 7 days ending that day.
    pub trend: Vec<Point>,
    /// Daily mean (no smoothing) over the last 30 days.
    pub daily: Vec<Point>,
}

fn score_sum(s: &Scores) -> (i64, i64, i64) {
    let n: i64 = s.0.iter().sum();
    let total: i64 =
        s.0.iter()
            .enumerate()
            .map(|(i, c)| (i as i64 + 1) * c)
            .sum();
    (n, total, s.0[3] + s.0[4])
}

pub fn csat(p: &Projection, b: BrandIx, range: Range, now: Timestamp) -> Csat {
    let tz = p.ctx.zone(b);
    let w = Window::resolve_in(range, tz, now);
    let today = local_day(now.as_second(), tz);
    let sum_days = |from: i32, to: i32| {
        let mut s = Scores::default();
        for (_, v) in p.support.scores.range((b, from)..=(b, to)) {
            s.add(v, 1);
        }
        score_sum(&s)
    };
    let (n, total, good) = sum_days(w.first_day, w.last_day);
    let mean = ratio(total, n);
    let mut trend = vec![];
    let mut daily = vec![];
    for d in today - 29..=today {
        let (n7, t7, _) = sum_days(d - 6, d);
        if let Some(m) = ratio(t7, n7) {
            trend.push(point(day_start(d, tz), m));
        }
        let (n1, t1, _) = sum_days(d, d);
        if let Some(m) = ratio(t1, n1) {
            daily.push(point(day_start(d, tz), m));
        }
    }
    Csat {
        window: w,
        surveys: n,
        mean,
        share_4_5: ratio(good, n),
        zone: mean.map(zone),
        trend,
        daily,
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Times {
    pub window: Window,
    pub first_response_tickets: usize,
    pub first_response_median_hours: Option<f64>,
    pub first_response_mean_hours: Option<f64>,
    pub resolved_tickets: usize,
    pub resolution_median_hours: Option<f64>,
    pub resolution_mean_hours: Option<f64>,
    /// Daily median first response (hours) by local day created.
    pub first_response_trend: Vec<Point>,
    /// Daily median resolution (hours) by local day closed.
    pub resolution_trend: Vec<Point>,
}

pub fn times(p: &Projection, b: BrandIx, range: Range, now: Timestamp) -> Times {
    let tz = p.ctx.zone(b);
    let w = Window::resolve_in(range, tz, now);
    // Each day's durations are kept sorted: a day's median is read off,
    // and the window's median is selected from the sorted days without
    // copying and sorting them all.
    type Days = std::collections::BTreeMap<(BrandIx, i32), Durations>;
    fn collect<'a>(
        m: &'a Days,
        b: BrandIx,
        w: &Window,
        tz: &jiff::tz::TimeZone,
    ) -> (Vec<&'a Durations>, Vec<Point>) {
        let mut days: Vec<&Durations> = vec![];
        let mut trend = vec![];
        for ((_, d), v) in m.range((b, w.first_day)..=(b, w.last_day)) {
            days.push(v);
            if let Some(med) = median_of_sorted(&[v.values()]) {
                trend.push(point(day_start(*d, tz), med / 3600.0));
            }
        }
        (days, trend)
    }
    let (fr, fr_trend) = collect(&p.support.first_response, b, &w, tz);
    let (rs, rs_trend) = collect(&p.support.resolution, b, &w, tz);
    let h = |x: Option<f64>| x.map(|v| v / 3600.0);
    let count = |days: &[&Durations]| days.iter().map(|d| d.values().len()).sum::<usize>();
    let (frn, rsn) = (count(&fr), count(&rs));
    let (fm, fa) = median_mean_of_days(&fr);
    let (rm, ra) = median_mean_of_days(&rs);
    Times {
        window: w,
        first_response_tickets: frn,
        first_response_median_hours: h(fm),
        first_response_mean_hours: h(fa),
        resolved_tickets: rsn,
        resolution_median_hours: h(rm),
        resolution_mean_hours: h(ra),
        first_response_trend: fr_trend,
        resolution_trend: rs_trend,
    }
}

/// [`median_mean`] of the durations of some days, their sums kept with
/// them (so the mean does not read every duration).
fn median_mean_of_days(days: &[&Durations]) -> (Option<f64>, Option<f64>) {
    let runs: Vec<&[i64]> = days.iter().map(|d| d.values()).collect();
    let sums = days
        .iter()
        .fold((0, 0), |(s, m), d| (s + d.sum(), m + d.magnitude()));
    median_mean_with_sums(&runs, sums)
}

/// [`median_mean`] of the values of sorted runs.
#[cfg(test)]
fn median_mean_of_sorted(runs: &[&[i64]]) -> (Option<f64>, Option<f64>) {
    median_mean_with_sums(runs, sums_of(runs))
}

/// The exact sum of the values of runs, and of their magnitudes.
#[cfg(test)]
fn sums_of(runs: &[&[i64]]) -> (i128, i128) {
    runs.iter()
        .flat_map(|r| r.iter())
        .fold((0, 0), |(s, m), v| {
            (s + i128::from(*v), m + i128::from(*v).abs())
        })
}

/// [`median_mean`] of sorted runs whose (sum, magnitude) is `sums`. Long
/// runs are not merged: see [`bisected`]; short ones (fewer than ~32
/// values each) sort faster.
fn median_mean_with_sums(runs: &[&[i64]], sums: (i128, i128)) -> (Option<f64>, Option<f64>) {
    let n: usize = runs.iter().map(|r| r.len()).sum();
    if n >= 32 * runs.len() {
        if let Some(found) = bisected_with_sums(runs, sums) {
            return found;
        }
    }
    median_mean(runs.iter().flat_map(|r| r.iter().copied()).collect())
}

/// [`median_mean`] of sorted runs without merging them: the median by
/// selection, the mean as the exact integer sum ÷ n, which equals the
/// sorted-order float sum while every partial sum is an integer a float
/// holds (< 2^53 in total magnitude); `None` beyond that.
#[cfg(test)]
fn bisected(runs: &[&[i64]]) -> Option<(Option<f64>, Option<f64>)> {
    bisected_with_sums(runs, sums_of(runs))
}

fn bisected_with_sums(
    runs: &[&[i64]],
    (total, magnitude): (i128, i128),
) -> Option<(Option<f64>, Option<f64>)> {
    let n: usize = runs.iter().map(|r| r.len()).sum();
    if n == 0 {
        return Some((None, None));
    }
    if magnitude >= 1i128 << 53 {
        return None;
    }
    Some((median_of_sorted(runs), Some(total as f64 / n as f64)))
}

/// The median of the values of sorted runs, as [`median_mean`] computes it.
fn median_of_sorted(runs: &[&[i64]]) -> Option<f64> {
    let n: usize = runs.iter().map(|r| r.len()).sum();
    if n == 0 {
        return None;
    }
    // One run (a day's trend point) is indexed directly.
    let kth = |k: usize| match runs {
        [run] => run[k] as f64,
        _ => kth_of_sorted(runs, k) as f64,
    };
    Some(if n % 2 == 1 {
        kth(n / 2)
    } else {
        (kth(n / 2 - 1) + kth(n / 2)) / 2.0
    })
}

/// The `k`-th smallest (from 0) of the values of sorted runs: the least
/// value with more than `k` values at or below it, found by bisecting the
/// value range (each step counts by binary search in every run).
fn kth_of_sorted(runs: &[&[i64]], k: usize) -> i64 {
    let at_most = |x: i64| -> usize { runs.iter().map(|r| r.partition_point(|v| *v <= x)).sum() };
    let mut lo = runs
        .iter()
        .filter_map(|r| r.first())
        .copied()
        .min()
        .unwrap_or(0);
    let mut hi = runs
        .iter()
        .filter_map(|r| r.last())
        .copied()
        .max()
        .unwrap_or(0);
    while lo < hi {
        let mid = (i128::from(lo) + i128::from(hi)).div_euclid(2) as i64;
        if at_most(mid) > k {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    lo
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Issue {
    pub name: String,
    pub tickets: i64,
    pub share: f64,
    /// The most common detail phrase in the group ("size 5.5"), with its count.
    pub top_detail: Option<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TopIssues {
    pub window: Window,
    pub tickets: i64,
    pub by_tag: Vec<Issue>,
    pub untagged_clusters: Vec<Issue>,
}

pub fn top_issues(p: &Projection, b: BrandIx, range: Range, now: Timestamp) -> TopIssues {
    let w = Window::resolve_in(range, p.ctx.zone(b), now);
    let s = &p.support;
    let mut tickets = TicketDay::default();
    for (_, d) in s.days.range((b, w.first_day)..=(b, w.last_day)) {
        tickets.add(d, 1);
    }
    let mut tags: HashMap<u32, i64> = HashMap::new();
    for ((_, _, t), n) in s
        .tags
        .range((b, w.first_day, 0)..=(b, w.last_day, u32::MAX))
    {
        *tags.entry(*t).or_default() += n;
    }
    let mut clusters: HashMap<u8, i64> = HashMap::new();
    for ((_, _, c), n) in s
        .clusters
        .range((b, w.first_day, 0)..=(b, w.last_day, u8::MAX))
    {
        *clusters.entry(*c).or_default() += n;
    }
    let mut details: HashMap<(u8, u32), i64> = HashMap::new();
    for ((_, _, c, d), n) in s
        .details
        .range((b, w.first_day, 0, 0)..=(b, w.last_day, u8::MAX, u32::MAX))
    {
        *details.entry((*c, *d)).or_default() += n;
    }
    let total = tickets.created;
    let share = |n: i64| {
        if total > 0 {
            n as f64 / total as f64
        } else {
            0.0
        }
    };
    let mut by_tag: Vec<Issue> = tags
        .into_iter()
        .map(|(t, n)| Issue {
            name: p.syms.text(t).to_string(),
            tickets: n,
            share: share(n),
            top_detail: None,
        })
        .collect();
    by_tag.sort_by(|a, b| b.tickets.cmp(&a.tickets).then(a.name.cmp(&b.name)));
    let mut untagged: Vec<Issue> = clusters
        .into_iter()
        .map(|(c, n)| {
            let top = details
                .iter()
                .filter(|((dc, _), _)| *dc == c)
                .map(|((_, d), k)| (p.syms.text(*d).to_string(), *k))
                .max_by(|a, b| a.1.cmp(&b.1).then(b.0.cmp(&a.0)));
            Issue {
                name: cluster_name(c).to_string(),
                tickets: n,
                share: share(n),
                top_detail: top,
            }
        })
        .collect();
    untagged.sort_by(|a, b| b.tickets.cmp(&a.tickets).then(a.name.cmp(&b.name)));
    TopIssues {
        window: w,
        tickets: total,
        by_tag,
        untagged_clusters: untagged,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn medians_of_sorted_runs_equal_sorting_them_all() {
        let mut seed = 7u64;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        let mut bisected_cases = 0;
        for case in 0..300 {
            // Small values, and some cases beyond 2^53 in total (no bisection).
            let scale = if case % 10 == 0 { 1i64 << 60 } else { 100_000 };
            let runs: Vec<Vec<i64>> = (0..next() % 6)
                .map(|_| {
                    let mut r: Vec<i64> = (0..next() % 9)
                        .map(|_| (next() as i64).rem_euclid(scale) - scale / 4)
                        .collect();
                    r.sort_unstable();
                    r
                })
                .collect();
            let slices: Vec<&[i64]> = runs.iter().map(|r| &r[..]).collect();
            let all: Vec<i64> = runs.iter().flatten().copied().collect();
            let plain = median_mean(all);
            assert_eq!(median_mean_of_sorted(&slices), plain, "{runs:?}");
            if let Some(b) = bisected(&slices) {
                assert_eq!(b, plain, "{runs:?}");
                bisected_cases += 1;
            }
        }
        assert!(bisected_cases > 200);
    }
}
