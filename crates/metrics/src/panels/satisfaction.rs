//! What drives satisfaction (issue 15 point 6; the WISMO plan asks to
//! correlate satisfaction with resolution time): CSAT by first-response
//! and by resolution-time bucket, each with the surveys behind it, the rank
//! correlation of score with each time, and first-contact resolution.
//!
//! Definitions (docs/metrics.md "What drives satisfaction"):
//! - the surveys are CSAT's: answered surveys scored in the window (the
//!   brand's local days), each read against *its ticket's* first response
//!   time (the one definition, `TicketRow::first_response`) and resolution
//!   time (`TicketRow::resolution`) as the ticket stands now. A survey
//!   whose ticket has no such time (not synced, never answered, reopened)
//!   is counted apart, never guessed into a bucket;
//! - buckets ([`BUCKETS`]): under 1 h, 1–4 h, 4–24 h, over 24 h, each
//!   including its lower bound (exactly 1 h is "1–4 h");
//! - correlation: Spearman's rank correlation (ties get their mean rank)
//!   between the time and the score, with n, the pairs behind it. Ranks,
//!   not Pearson on raw hours: scores are 5 ordered steps and times are
//!   heavily skewed (one 9-day ticket would dominate a Pearson
//!   coefficient). `None` under [`MIN_CORRELATION_PAIRS`] pairs or when
//!   either side does not vary. Negative means slower answers, lower scores;
//! - first-contact resolution: tickets closed in the window after exactly
//!   one agent reply ÷ tickets closed in the window;
//! - the insight: slow answers *visibly* cost satisfaction when, of the
//!   buckets with at least [`INSIGHT_MIN_SURVEYS`] surveys, the slowest
//!   one's mean CSAT is at least [`INSIGHT_MIN_GAP`] below the fastest
//!   one's.

use super::{ratio, Range, Window};
use crate::projection::support::TicketRow;
use crate::projection::{BrandIx, Projection};
use jiff::Timestamp;
use serde::Serialize;

/// A time bucket: its label and its upper bound in seconds (exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub label: &'static str,
    #[serde(skip)]
    pub below_secs: i64,
}

/// The buckets both times are cut into.
pub const BUCKETS: [Bucket; 4] = [
    Bucket {
        label: "< 1 h",
        below_secs: 3_600,
    },
    Bucket {
        label: "1–4 h",
        below_secs: 4 * 3_600,
    },
    Bucket {
        label: "4–24 h",
        below_secs: 24 * 3_600,
    },
    Bucket {
        label: "> 24 h",
        below_secs: i64::MAX,
    },
];

/// Fewer pairs than this give no correlation (three points always fit
/// some line; the number would mean nothing).
pub const MIN_CORRELATION_PAIRS: usize = 10;
/// Surveys a bucket needs before the insight compares it.
pub const INSIGHT_MIN_SURVEYS: i64 = 20;
/// How far (in CSAT points, 1–5) the slowest bucket must fall below the
/// fastest for the insight to speak.
pub const INSIGHT_MIN_GAP: f64 = 0.5;

/// The index in [`BUCKETS`] of a duration in seconds.
pub fn bucket_of(secs: i64) -> usize {
    BUCKETS
        .iter()
        .position(|b| secs < b.below_secs)
        .unwrap_or(BUCKETS.len() - 1)
}

/// CSAT of the surveys of one bucket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BucketCsat {
    pub bucket: &'static str,
    pub surveys: i64,
    pub mean: Option<f64>,
}

/// Spearman's rank correlation and the pairs behind it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Correlation {
    /// Pairs (survey score, ticket time) it is computed from.
    pub n: usize,
    /// −1..=1; `None` below [`MIN_CORRELATION_PAIRS`] or without variation.
    pub rho: Option<f64>,
}

/// CSAT against one of the two times.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ByTime {
    pub buckets: Vec<BucketCsat>,
    pub correlation: Correlation,
    /// Surveys whose ticket has no such time (not answered yet, still
    /// open, or not synced): left out of the buckets, counted here.
    pub without_time: i64,
    /// The sentence when slow answers visibly cost satisfaction.
    pub insight: Option<String>,
}

/// First-contact resolution over the tickets closed in the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstContact {
    pub closed: i64,
    pub at_first_contact: i64,
    pub rate: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Satisfaction {
    pub window: Window,
    /// Answered surveys scored in the window (CSAT's count).
    pub surveys: i64,
    pub by_first_response: ByTime,
    pub by_resolution: ByTime,
    pub first_contact: FirstContact,
}

/// Satisfaction drivers of brand (or support view) `b` over `range`.
pub fn satisfaction(p: &Projection, b: BrandIx, range: Range, now: Timestamp) -> Satisfaction {
    let tz = p.ctx.zone(b);
    let w = Window::resolve_in(range, tz, now);
    let mut first_response = Vec::new();
    let mut resolution = Vec::new();
    let mut surveys = 0;
    let (mut no_first_response, mut no_resolution) = (0, 0);
    let from = (b, w.first_day, 0u64);
    let to = (b, w.last_day, u64::MAX);
    for (_, _, key) in p.support.scored_surveys.range(from..=to) {
        let Some(survey) = p.support.surveys.get(key) else {
            continue;
        };
        surveys += 1;
        let score = i64::from(survey.score);
        let ticket: Option<&TicketRow> = p.support.tickets.get(&survey.ticket).filter(|t| t.known);
        match ticket.and_then(TicketRow::first_response) {
            Some(secs) => first_response.push((secs, score)),
            None => no_first_response += 1,
        }
        match ticket.and_then(TicketRow::resolution) {
            Some(secs) => resolution.push((secs, score)),
            None => no_resolution += 1,
        }
    }
    let (mut closed, mut at_first_contact) = (0, 0);
    for (_, day) in p.support.days.range((b, w.first_day)..=(b, w.last_day)) {
        closed += day.resolved;
        at_first_contact += day.first_contact;
    }
    Satisfaction {
        window: w,
        surveys,
        by_first_response: by_time(&first_response, no_first_response, "first responses"),
        by_resolution: by_time(&resolution, no_resolution, "resolutions"),
        first_contact: FirstContact {
            closed,
            at_first_contact,
            rate: ratio(at_first_contact, closed),
        },
    }
}

/// Buckets, correlation and insight of (seconds, score) pairs.
pub fn by_time(pairs: &[(i64, i64)], without_time: i64, what: &str) -> ByTime {
    let mut sums = [(0i64, 0i64); BUCKETS.len()];
    for &(secs, score) in pairs {
        let s = &mut sums[bucket_of(secs)];
        s.0 += 1;
        s.1 += score;
    }
    let buckets: Vec<BucketCsat> = BUCKETS
        .iter()
        .zip(sums)
        .map(|(b, (n, total))| BucketCsat {
            bucket: b.label,
            surveys: n,
            mean: ratio(total, n),
        })
        .collect();
    let insight = insight(&buckets, what);
    ByTime {
        correlation: spearman(pairs),
        buckets,
        without_time,
        insight,
    }
}

/// The insight sentence, when the slowest bucket with enough surveys is
/// at least [`INSIGHT_MIN_GAP`] below the fastest one.
fn insight(buckets: &[BucketCsat], what: &str) -> Option<String> {
    let mut enough = buckets
        .iter()
        .filter(|b| b.surveys >= INSIGHT_MIN_SURVEYS)
        .filter_map(|b| b.mean.map(|m| (b, m)));
    let (fast, fast_mean) = enough.next()?;
    let (slow, slow_mean) = enough.next_back()?;
    let gap = fast_mean - slow_mean;
    (gap >= INSIGHT_MIN_GAP).then(|| {
        format!(
            "Slow answers cost satisfaction: CSAT after {what} {} is {slow_mean:.2} \
             ({} surveys), {gap:.2} below {fast_mean:.2} after {what} {} ({} surveys). \
             Answering sooner is worth more than it costs.",
            slow.bucket, slow.surveys, fast.bucket, fast.surveys
        )
    })
}

/// Spearman's rank correlation of (time, score) pairs: Pearson's
/// coefficient of their ranks, ties sharing their mean rank.
pub fn spearman(pairs: &[(i64, i64)]) -> Correlation {
    let n = pairs.len();
    if n < MIN_CORRELATION_PAIRS {
        return Correlation { n, rho: None };
    }
    let xs = ranks(pairs.iter().map(|p| p.0));
    let ys = ranks(pairs.iter().map(|p| p.1));
    Correlation {
        n,
        rho: pearson(&xs, &ys),
    }
}

/// 1-based ranks of `values`, ties given the mean of the ranks they span.
fn ranks(values: impl Iterator<Item = i64>) -> Vec<f64> {
    let mut indexed: Vec<(i64, usize)> = values.enumerate().map(|(i, v)| (v, i)).collect();
    indexed.sort_unstable();
    let mut out = vec![0.0; indexed.len()];
    let mut start = 0;
    while start < indexed.len() {
        let mut end = start + 1;
        while end < indexed.len() && indexed[end].0 == indexed[start].0 {
            end += 1;
        }
        // Ranks start+1 ..= end share their mean.
        let mean = (start + 1 + end) as f64 / 2.0;
        for &(_, i) in &indexed[start..end] {
            out[i] = mean;
        }
        start = end;
    }
    out
}

/// Pearson's coefficient; `None` when either side does not vary.
fn pearson(xs: &[f64], ys: &[f64]) -> Option<f64> {
    let n = xs.len() as f64;
    let mx = xs.iter().sum::<f64>() / n;
    let my = ys.iter().sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, y) in xs.iter().zip(ys) {
        sxy += (x - mx) * (y - my);
        sxx += (x - mx) * (x - mx);
        syy += (y - my) * (y - my);
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_include_their_lower_bound() {
        assert_eq!(bucket_of(0), 0);
        assert_eq!(bucket_of(3_599), 0);
        assert_eq!(bucket_of(3_600), 1);
        assert_eq!(bucket_of(4 * 3_600 - 1), 1);
        assert_eq!(bucket_of(4 * 3_600), 2);
        assert_eq!(bucket_of(24 * 3_600), 3);
        assert_eq!(bucket_of(30 * 86_400), 3);
    }

    #[test]
    fn ranks_share_ties() {
        assert_eq!(ranks([10, 20, 20, 5].into_iter()), vec![2.0, 3.5, 3.5, 1.0]);
    }

    #[test]
    fn spearman_by_hand() {
        // Perfectly opposite order: rho = -1.
        let pairs: Vec<(i64, i64)> = (0..10).map(|i| (i * 100, 10 - i)).collect();
        let c = spearman(&pairs);
        assert_eq!(c.n, 10);
        assert!((c.rho.unwrap() + 1.0).abs() < 1e-12);
        // Too few pairs, or a score that never varies: no coefficient.
        assert_eq!(spearman(&pairs[..9]).rho, None);
        let flat: Vec<(i64, i64)> = (0..12).map(|i| (i, 5)).collect();
        assert_eq!(spearman(&flat).rho, None);
        // With ties, checked against the textbook formula on ranks:
        // times 1..=10 with scores [5,5,4,4,4,3,3,2,1,1].
        let scores = [5, 5, 4, 4, 4, 3, 3, 2, 1, 1];
        let pairs: Vec<(i64, i64)> = (0..10).map(|i| (i as i64 + 1, scores[i])).collect();
        // Score ranks: 1,1 → 1.5; 2 → 3; 3,3 → 4.5; 4,4,4 → 7; 5,5 → 9.5.
        let ys = [9.5, 9.5, 7.0, 7.0, 7.0, 4.5, 4.5, 3.0, 1.5, 1.5];
        let xs: Vec<f64> = (1..=10).map(f64::from).collect();
        let expected = pearson(&xs, &ys).unwrap();
        let rho = spearman(&pairs).rho.unwrap();
        assert!((rho - expected).abs() < 1e-12);
        assert!(rho < -0.95, "{rho}");
    }

    #[test]
    fn the_insight_needs_enough_surveys_and_a_visible_gap() {
        let b = |bucket, surveys, mean: f64| BucketCsat {
            bucket,
            surveys,
            mean: Some(mean),
        };
        let seen = [
            b("< 1 h", 20, 4.6),
            b("1–4 h", 5, 1.0),
            b("4–24 h", 30, 4.2),
            b("> 24 h", 20, 4.1),
        ];
        let text = insight(&seen, "first responses").unwrap();
        assert!(text.contains("> 24 h is 4.10 (20 surveys)"), "{text}");
        assert!(text.contains("0.50 below 4.60"), "{text}");
        // 0.49 apart: not visible.
        let close = [b("< 1 h", 20, 4.59), b("> 24 h", 20, 4.1)];
        assert_eq!(insight(&close, "x"), None);
        // A slow bucket of 19 surveys is not compared; the 4–24 h one is,
        // and it is close.
        let thin = [
            b("< 1 h", 20, 4.6),
            b("4–24 h", 25, 4.3),
            b("> 24 h", 19, 2.0),
        ];
        assert_eq!(insight(&thin, "x"), None);
        // One bucket alone compares with nothing.
        assert_eq!(insight(&[b("< 1 h", 50, 4.0)], "x"), None);
    }
}
