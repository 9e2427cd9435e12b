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

use opsdeck_domain::{SourceId, Timestamp};
use opsdeck_store::SyncState;
use serde::Serialize;

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
