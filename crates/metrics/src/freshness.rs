//! How recent a brand's numbers are.
//!
//! The cards are only as good as the last sync: a merchant looking at "0
//! orders today" must be able to tell a quiet morning from a broken
//! connection. A brand's freshness is read from the sync state of the
//! sources configured for it (a shared helpdesk belongs to no brand and is
//! not counted here).
//!
//! [`lag`] says how far behind one (source, resource) is, for the source
//! health endpoint and the stale-source alert.
//!
//! [`staleness`] is the one rule for "stale" (METRICS.md: a source has not
//! synced for 2 × its cadence): the dashboard tiles, /sources and the
//! "source stale" alert all call it, with each resource's configured
//! cadence from [`Cadences`].

use opsdeck_domain::{SourceId, Timestamp};
use opsdeck_store::SyncState;
use serde::Serialize;
use std::collections::BTreeMap;
use std::time::Duration;

/// How many cadences a resource may go without a successful sync before
/// it is stale (the "source stale" rule can change it with
/// `cadence_factor`).
pub const STALE_AFTER_CADENCES: f64 = 2.0;

/// How often each (source, resource) is synced, as configured: what
/// staleness is measured against. A resource with no cadence (a push
/// source: the ingest API) is never stale by the clock.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Cadences {
    /// For any resource not listed.
    every: Option<Duration>,
    by_resource: BTreeMap<(SourceId, String), Duration>,
}

impl Cadences {
    /// Every resource of every source synced every `every` (tests, and a
    /// fallback).
    pub fn every(every: Duration) -> Cadences {
        Cadences {
            every: Some(every),
            by_resource: BTreeMap::new(),
        }
    }

    /// `source`'s `resource` is synced every `every`.
    pub fn set(&mut self, source: &SourceId, resource: &str, every: Duration) {
        self.by_resource
            .insert((source.clone(), resource.to_string()), every);
    }

    /// The cadence of `source`'s `resource`, if it has one.
    pub fn of(&self, source: &SourceId, resource: &str) -> Option<Duration> {
        self.by_resource
            .get(&(source.clone(), resource.to_string()))
            .copied()
            .or(self.every)
    }
}

/// Whether one resource is keeping up with its cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Staleness {
    /// No successful sync yet.
    NeverSynced,
    /// Synced within its limit (`factor` × cadence), or it has no cadence.
    Fresh { age_seconds: i64 },
    /// Its last success is older than the limit.
    Stale {
        age_seconds: i64,
        limit_seconds: i64,
    },
}

impl Staleness {
    pub fn is_stale(self) -> bool {
        matches!(self, Staleness::Stale { .. })
    }

    /// How far through its limit it is (0 = just synced, above 1 = stale);
    /// the worst resource of a source is the one with the highest.
    fn load(self) -> f64 {
        match self {
            Staleness::NeverSynced => f64::INFINITY,
            Staleness::Fresh { .. } => 0.0,
            Staleness::Stale {
                age_seconds,
                limit_seconds,
            } => age_seconds as f64 / limit_seconds.max(1) as f64,
        }
    }
}

/// The staleness rule: stale when the last success is more than `factor`
/// × `cadence` before `now` (a success in the future, clock skew, is no
/// age). Without a cadence nothing is expected, so nothing is late.
pub fn staleness(
    last_success: Option<Timestamp>,
    cadence: Option<Duration>,
    factor: f64,
    now: Timestamp,
) -> Staleness {
    let Some(at) = last_success else {
        return Staleness::NeverSynced;
    };
    let age_seconds = (now.as_second() - at.as_second()).max(0);
    match cadence {
        Some(c) => {
            let limit_seconds = (c.as_secs_f64() * factor).round() as i64;
            if age_seconds > limit_seconds {
                Staleness::Stale {
                    age_seconds,
                    limit_seconds,
                }
            } else {
                Staleness::Fresh { age_seconds }
            }
        }
        None => Staleness::Fresh { age_seconds },
    }
}

/// A source's staleness: that of its worst resource among `states` (each
/// against its own cadence), or `None` when it has no sync state at all.
/// A resource never synced counts only when no other resource has synced
/// either (a first sync in progress is not "stale").
pub fn source_staleness(
    source: &SourceId,
    states: &[SyncState],
    cadences: &Cadences,
    factor: f64,
    now: Timestamp,
) -> Option<Staleness> {
    let of_source: Vec<Staleness> = states
        .iter()
        .filter(|s| &s.source == source)
        .map(|s| {
            staleness(
                s.last_success_at,
                cadences.of(source, &s.resource),
                factor,
                now,
            )
        })
        .collect();
    let synced = of_source
        .iter()
        .copied()
        .filter(|s| *s != Staleness::NeverSynced);
    match synced.max_by(|a, b| a.load().total_cmp(&b.load())) {
        Some(worst) => Some(worst),
        None if of_source.is_empty() => None,
        None => Some(Staleness::NeverSynced),
    }
}

/// What the freshness line of a brand says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Freshness {
    /// No resource of the brand's sources has completed a sync: the cards are
    /// empty because nothing was fetched, not because nothing was sold.
    NeverSynced,
    /// Every resource's latest attempt succeeded; `at` is the newest success.
    Synced { at: Timestamp },
    /// The latest attempt of at least one resource failed. Failure wins over
    /// an older success because the numbers may be stale; `error` is the most
    /// recent failure's message (the store keeps it free of secrets).
    Failing {
        error: String,
        failed_at: Option<Timestamp>,
        last_success_at: Option<Timestamp>,
    },
}

impl Freshness {
    /// The newest successful sync, whatever happened since.
    pub fn last_success_at(&self) -> Option<Timestamp> {
        match self {
            Freshness::NeverSynced => None,
            Freshness::Synced { at } => Some(*at),
            Freshness::Failing {
                last_success_at, ..
            } => *last_success_at,
        }
    }
}

/// The freshness of a brand whose sources are `brand_sources`, from the sync
/// state of every (source, resource); states of other sources are ignored.
pub fn brand_freshness(brand_sources: &[SourceId], states: &[SyncState]) -> Freshness {
    let own: Vec<&SyncState> = states
        .iter()
        .filter(|s| brand_sources.contains(&s.source))
        .collect();
    let last_success_at = own.iter().filter_map(|s| s.last_success_at).max();
    let latest_failure = own
        .iter()
        .filter(|s| s.consecutive_failures > 0)
        .max_by_key(|s| s.last_error_at.or(s.last_attempt_at));
    match (latest_failure, last_success_at) {
        (Some(failed), _) => Freshness::Failing {
            error: failed
                .last_error
                .clone()
                .unwrap_or_else(|| "unknown error".to_string()),
            failed_at: failed.last_error_at.or(failed.last_attempt_at),
            last_success_at,
        },
        (None, Some(at)) => Freshness::Synced { at },
        (None, None) => Freshness::NeverSynced,
    }
}

/// How far behind one (source, resource) is at `now`, in whole seconds.
/// `None` when the moment it is measured from never happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lag {
    /// now − last successful sync (for a push source: last stored batch).
    /// How long since the source last delivered anything.
    pub success_seconds: Option<i64>,
    /// now − watermark (the newest platform `updated_at` stored). How old
    /// the newest data is, which can be far more than the success lag when
    /// a sync succeeds but brings nothing new.
    pub watermark_seconds: Option<i64>,
}

/// The lag of one sync state; a time in the future (clock skew between the
/// platform and this machine) counts as no lag rather than a negative one.
pub fn lag(state: &SyncState, now: Timestamp) -> Lag {
    let since = |at: Option<Timestamp>| at.map(|at| (now.as_second() - at.as_second()).max(0));
    Lag {
        success_seconds: since(state.last_success_at),
        watermark_seconds: since(state.watermark),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_after_twice_each_resources_own_cadence() {
        let now = ts("2026-06-10T18:00:00Z");
        let quarter = Some(Duration::from_secs(15 * 60));
        let at = |s: &str| Some(ts(s));
        assert_eq!(
            staleness(at("2026-06-10T17:31:00Z"), quarter, 2.0, now),
            Staleness::Fresh { age_seconds: 1740 }
        );
        assert_eq!(
            staleness(at("2026-06-10T17:29:00Z"), quarter, 2.0, now),
            Staleness::Stale {
                age_seconds: 1860,
                limit_seconds: 1800
            }
        );
        assert_eq!(staleness(None, quarter, 2.0, now), Staleness::NeverSynced);
        assert!(!staleness(at("2026-06-01T00:00:00Z"), None, 2.0, now).is_stale());
        // Orders every 15 min, products every hour: products synced 50 min
        // ago are fresh (a 5-minute rule called them stale), orders synced
        // 40 min ago are not.
        let mut cadences = Cadences::default();
        let shop = source("shopify-mavena");
        cadences.set(&shop, "orders", Duration::from_secs(15 * 60));
        cadences.set(&shop, "products", Duration::from_secs(3600));
        let products = synced("shopify-mavena", "products", "2026-06-10T17:10:00Z");
        let mut orders = synced("shopify-mavena", "orders", "2026-06-10T17:55:00Z");
        let states = vec![products.clone(), orders.clone()];
        assert!(!source_staleness(&shop, &states, &cadences, 2.0, now)
            .unwrap()
            .is_stale());
        orders.last_success_at = Some(ts("2026-06-10T17:20:00Z"));
        let states = vec![products, orders];
        assert_eq!(
            source_staleness(&shop, &states, &cadences, 2.0, now),
            Some(Staleness::Stale {
                age_seconds: 2400,
                limit_seconds: 1800
            })
        );
        assert_eq!(
            source_staleness(&source("gorgias"), &states, &cadences, 2.0, now),
            None
        );
    }

    #[test]
    fn lag_from_success_and_watermark() {
        let mut s = synced("ingest-pharma", "orders", "2026-06-10T18:00:00Z");
        s.watermark = Some(ts("2026-06-10T16:00:00Z"));
        let now = ts("2026-06-10T18:05:30Z");
        assert_eq!(
            lag(&s, now),
            Lag {
                success_seconds: Some(330),
                watermark_seconds: Some(7530)
            }
        );
        s.watermark = Some(ts("2026-06-10T18:06:00Z"));
        assert_eq!(lag(&s, now).watermark_seconds, Some(0), "future is no lag");
        let never = SyncState::new(source("gorgias"), "tickets");
        assert_eq!(
            lag(&never, now),
            Lag {
                success_seconds: None,
                watermark_seconds: None
            }
        );
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn source(id: &str) -> SourceId {
        SourceId::parse(id).unwrap()
    }

    fn synced(src: &str, resource: &str, at: &str) -> SyncState {
        let mut s = SyncState::new(source(src), resource);
        s.last_attempt_at = Some(ts(at));
        s.last_success_at = Some(ts(at));
        s
    }

    #[test]
    fn newest_success_of_the_brands_own_sources() {
        let states = vec![
            synced("shopify-mavena", "orders", "2026-06-10T18:00:00Z"),
            synced("shopify-mavena", "products", "2026-06-10T17:00:00Z"),
            synced("shopify-plentum", "orders", "2026-06-10T18:04:00Z"),
        ];
        assert_eq!(
            brand_freshness(&[source("shopify-mavena")], &states),
            Freshness::Synced {
                at: ts("2026-06-10T18:00:00Z")
            }
        );
    }

    #[test]
    fn a_failing_resource_wins_over_success() {
        let mut failing = synced("shopify-mavena", "products", "2026-06-10T17:00:00Z");
        failing.consecutive_failures = 2;
        failing.last_error = Some("HTTP 401 from Shopify".into());
        failing.last_error_at = Some(ts("2026-06-10T18:01:00Z"));
        let states = vec![
            synced("shopify-mavena", "orders", "2026-06-10T18:00:00Z"),
            failing,
        ];
        let f = brand_freshness(&[source("shopify-mavena")], &states);
        assert_eq!(
            f,
            Freshness::Failing {
                error: "HTTP 401 from Shopify".into(),
                failed_at: Some(ts("2026-06-10T18:01:00Z")),
                last_success_at: Some(ts("2026-06-10T18:00:00Z")),
            }
        );
        assert_eq!(f.last_success_at(), Some(ts("2026-06-10T18:00:00Z")));
    }

    #[test]
    fn nothing_synced_yet() {
        let states = vec![SyncState::new(source("shopify-mavena"), "orders")];
        assert_eq!(
            brand_freshness(&[source("shopify-mavena")], &states),
            Freshness::NeverSynced
        );
        assert_eq!(brand_freshness(&[], &states), Freshness::NeverSynced);
    }
}
