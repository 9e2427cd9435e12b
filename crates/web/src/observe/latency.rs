//! opsdeck's own request latency over a sliding window, p50 and p99 by
//! route group: what the system health page shows beside the checks
//! (issue 16, point 4). The Prometheus histogram (`/metrics`) keeps every
//! request since start for a scraper to rate; this book answers "how fast
//! is opsdeck now" without one.
//!
//! Each group keeps the durations of its requests in the last
//! [`WINDOW`], at most [`MAX_SAMPLES`] of them (the oldest go first), so
//! memory is bounded whatever the traffic. Percentiles are the nearest
//! rank of the sorted window, computed when asked (the page asks rarely;
//! every request only appends).

use serde::Serialize;
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How far back the percentiles look.
pub const WINDOW: Duration = Duration::from_secs(5 * 60);

/// The most durations one group keeps: past it the oldest are dropped,
/// so a burst shortens the window instead of growing memory.
pub const MAX_SAMPLES: usize = 10_000;

/// What a request was for, as the health page groups latency. Server-sent
/// events (held open by design), the probes and static files belong to no
/// group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RouteGroup {
    /// Dashboard pages and their fragments, login.
    Pages,
    /// The JSON API (`/api/…`), OFREP and the public status document.
    Api,
    /// Platforms' webhooks (`/webhooks/…`).
    Webhooks,
    /// The ingest API (`/api/v1/ingest/…`).
    Ingest,
}

impl RouteGroup {
    pub const ALL: [RouteGroup; 4] = [
        RouteGroup::Pages,
        RouteGroup::Api,
        RouteGroup::Webhooks,
        RouteGroup::Ingest,
    ];

    /// The group of a matched route template (`/api/v1/brands/{id}`), or
    /// `None` for one outside every group.
    pub fn of(route: &str) -> Option<RouteGroup> {
        if route.starts_with("/api/v1/ingest/") {
            Some(RouteGroup::Ingest)
        } else if route.starts_with("/webhooks/") {
            Some(RouteGroup::Webhooks)
        } else if route.starts_with("/api/")
            || route.starts_with("/ofrep/")
            || route == "/status.json"
        {
            Some(RouteGroup::Api)
        } else if route == "/events"
            || route == "/healthz"
            || route == "/readyz"
            || route.starts_with("/static/")
            || !route.starts_with('/')
        {
            None
        } else {
            Some(RouteGroup::Pages)
        }
    }

    /// How the group is named on the page and in the API.
    pub fn label(self) -> &'static str {
        match self {
            RouteGroup::Pages => "Dashboard pages",
            RouteGroup::Api => "JSON API",
            RouteGroup::Webhooks => "Webhooks",
            RouteGroup::Ingest => "Ingest API",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// One group's requests in the window: when each was answered and how long
/// it took, oldest first.
type Window = VecDeque<(Instant, Duration)>;

/// The sliding window of every group. Cheap to clone (one shared book):
/// the request middleware writes it, the health page and
/// `GET /api/v1/system/latency` read it.
#[derive(Debug, Clone, Default)]
pub struct LatencyBook(Arc<Mutex<[Window; 4]>>);

/// The latency of one group over the window.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GroupLatency {
    pub group: RouteGroup,
    /// How the page names it.
    pub label: &'static str,
    /// Requests answered in the window.
    pub requests: usize,
    /// Median time to answer, in milliseconds; `None` without requests.
    pub p50_ms: Option<f64>,
    /// The 99th percentile, in milliseconds; `None` without requests.
    pub p99_ms: Option<f64>,
}

/// Every group's latency over the window, in [`RouteGroup::ALL`] order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencySnapshot {
    pub window_seconds: u64,
    pub groups: Vec<GroupLatency>,
}

impl LatencyBook {
    /// Notes that a request of `group` finished at `at` after `took`.
    pub fn record(&self, group: RouteGroup, at: Instant, took: Duration) {
        let mut groups = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let samples = &mut groups[group.index()];
        if samples.len() == MAX_SAMPLES {
            samples.pop_front();
        }
        samples.push_back((at, took));
    }

    /// The percentiles of the requests that finished in the [`WINDOW`]
    /// before `now`; older ones are forgotten.
    pub fn snapshot_at(&self, now: Instant) -> LatencySnapshot {
        let mut groups = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let since = now.checked_sub(WINDOW);
        let groups = RouteGroup::ALL
            .into_iter()
            .map(|group| {
                let samples = &mut groups[group.index()];
                while samples
                    .front()
                    .is_some_and(|(at, _)| since.is_some_and(|since| *at < since))
                {
                    samples.pop_front();
                }
                let mut took: Vec<Duration> = samples.iter().map(|(_, d)| *d).collect();
                took.sort_unstable();
                GroupLatency {
                    group,
                    label: group.label(),
                    requests: took.len(),
                    p50_ms: nearest_rank(&took, 50).map(millis),
                    p99_ms: nearest_rank(&took, 99).map(millis),
                }
            })
            .collect();
        LatencySnapshot {
            window_seconds: WINDOW.as_secs(),
            groups,
        }
    }

    /// [`LatencyBook::snapshot_at`] now.
    pub fn snapshot(&self) -> LatencySnapshot {
        self.snapshot_at(Instant::now())
    }
}

/// The `percent`th percentile of `sorted` by nearest rank: the smallest
/// value at or below which `percent` % of the values lie.
fn nearest_rank(sorted: &[Duration], percent: usize) -> Option<Duration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (percent * sorted.len()).div_ceil(100).max(1);
    sorted.get(rank - 1).copied()
}

/// Milliseconds with one decimal: what a person reads.
fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 10_000.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn percentiles_are_the_nearest_rank_of_the_window_by_group() {
        let book = LatencyBook::default();
        let start = Instant::now();
        // 1..=100 ms for pages: p50 is 50 ms, p99 is 99 ms.
        for n in 1..=100 {
            book.record(RouteGroup::Pages, start, ms(n));
        }
        book.record(RouteGroup::Webhooks, start, ms(7));
        let snap = book.snapshot_at(start);
        assert_eq!(snap.window_seconds, 300);
        let pages = &snap.groups[0];
        assert_eq!(
            (pages.group, pages.requests, pages.p50_ms, pages.p99_ms),
            (RouteGroup::Pages, 100, Some(50.0), Some(99.0))
        );
        let hooks = &snap.groups[2];
        assert_eq!(
            (hooks.requests, hooks.p50_ms, hooks.p99_ms),
            (1, Some(7.0), Some(7.0))
        );
        let api = &snap.groups[1];
        assert_eq!((api.requests, api.p50_ms, api.p99_ms), (0, None, None));
    }

    #[test]
    fn requests_older_than_the_window_are_forgotten() {
        let book = LatencyBook::default();
        let start = Instant::now();
        book.record(RouteGroup::Api, start, ms(900));
        let later = start + WINDOW + Duration::from_secs(1);
        book.record(RouteGroup::Api, later, ms(3));
        let api = &book.snapshot_at(later).groups[1];
        assert_eq!(
            (api.requests, api.p50_ms, api.p99_ms),
            (1, Some(3.0), Some(3.0))
        );
    }

    #[test]
    fn a_burst_keeps_only_the_newest_samples() {
        let book = LatencyBook::default();
        let start = Instant::now();
        for n in 0..(MAX_SAMPLES + 10) {
            book.record(RouteGroup::Ingest, start, ms(n as u64));
        }
        let ingest = &book.snapshot_at(start).groups[3];
        assert_eq!(ingest.requests, MAX_SAMPLES);
        // The ten fastest (oldest) were dropped.
        assert_eq!(
            ingest.p50_ms,
            Some((10 + MAX_SAMPLES as u64 / 2 - 1) as f64)
        );
    }

    #[test]
    fn route_templates_fall_in_their_group() {
        for (route, group) in [
            ("/", Some(RouteGroup::Pages)),
            ("/fragments/{tile}", Some(RouteGroup::Pages)),
            ("/api/v1/brands", Some(RouteGroup::Api)),
            ("/status.json", Some(RouteGroup::Api)),
            ("/ofrep/v1/evaluate/flags/{key}", Some(RouteGroup::Api)),
            ("/api/v1/ingest/orders", Some(RouteGroup::Ingest)),
            ("/webhooks/shopify", Some(RouteGroup::Webhooks)),
            ("/events", None),
            ("/healthz", None),
            ("/static/app.css", None),
            ("unmatched", None),
        ] {
            assert_eq!(RouteGroup::of(route), group, "{route}");
        }
    }
}
