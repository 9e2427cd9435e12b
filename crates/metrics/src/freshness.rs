//! How recent a brand's numbers are.
//!
//! The cards are only as good as the last sync: a merchant looking at "0
//! orders today" must be able to tell a quiet morning from a broken
//! connection. A brand's freshness is read from the sync state of the
//! sources configured for it (a shared helpdesk belongs to no brand and is
//! not counted here).

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

#[cfg(test)]
mod tests {
    use super::*;

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
