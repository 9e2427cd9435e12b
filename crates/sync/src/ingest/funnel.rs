//! Storefront funnel events into the store: each event becomes the steps
//! its session reached on the brand's local day of `occurred_at`, merged
//! within the batch and merged by a bitwise OR into the stored session-day
//! ([`opsdeck_store::FunnelStore::funnel_add`]), in one transaction.
//!
//! The local day comes from the event's own time in the brand's zone, so
//! an event that arrives a day late, or before an earlier one, lands on
//! the day it happened; across a DST change the day boundary is the
//! zone's midnight, whatever the offset.

use jiff::{SignedDuration, Timestamp};
use opsdeck_domain::funnel::FunnelEvent;
use opsdeck_domain::Brand;
use opsdeck_sources::ingest::RecordError;
use opsdeck_store::funnel::{FunnelWrite, SessionDay};
use opsdeck_store::{Store, StoreError};
use std::collections::BTreeMap;

/// How far ahead of opsdeck's clock an event may be stamped (a storefront
/// clock that runs fast). Later is refused: a day that has not happened
/// cannot have sessions.
pub const MAX_CLOCK_SKEW: SignedDuration = SignedDuration::from_hours(1);

/// Why a batch of funnel events was not counted.
#[derive(Debug, thiserror::Error)]
pub enum FunnelError {
    /// Events stamped in the future: every one named; nothing counted.
    #[error("{message}")]
    Invalid {
        message: String,
        errors: Vec<RecordError>,
    },
    #[error("writing funnel sessions failed: {0}")]
    Store(#[from] StoreError),
}

/// The session-days of `events` (all of `brand`), merged by (day, session),
/// or every event stamped more than [`MAX_CLOCK_SKEW`] after `now`.
pub fn session_days(
    events: &[FunnelEvent],
    brand: &Brand,
    now: Timestamp,
) -> Result<Vec<SessionDay>, FunnelError> {
    let latest = now.saturating_add(MAX_CLOCK_SKEW).unwrap_or(now);
    let errors: Vec<RecordError> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e.occurred_at > latest)
        .map(|(index, e)| RecordError {
            index,
            field: format!("records[{index}].occurred_at"),
            reason: format!(
                "{} is in the future: events may be stamped at most {} after the server's \
                 clock ({now})",
                e.occurred_at,
                opsdeck_domain::sla::human_duration(MAX_CLOCK_SKEW)
            ),
        })
        .collect();
    if !errors.is_empty() {
        return Err(FunnelError::Invalid {
            message: format!(
                "{} of {} events are stamped in the future; nothing was counted",
                errors.len(),
                events.len()
            ),
            errors,
        });
    }
    let mut merged: BTreeMap<(String, i64), u8> = BTreeMap::new();
    for e in events {
        let day = e.occurred_at.to_zoned(brand.time_zone.clone()).date();
        *merged
            .entry((day.to_string(), e.session_key()))
            .or_default() |= e.name.steps().0;
    }
    Ok(merged
        .into_iter()
        .map(|((day, session_key), steps)| SessionDay {
            brand: brand.id.clone(),
            day,
            session_key,
            steps,
        })
        .collect())
}

/// Counts `events` of `brand` into the store at `now`.
pub async fn count(
    store: &dyn Store,
    events: &[FunnelEvent],
    brand: &Brand,
    now: Timestamp,
) -> Result<FunnelWrite, FunnelError> {
    let rows = session_days(events, brand, now)?;
    Ok(store.funnel_add(&rows).await?)
}
