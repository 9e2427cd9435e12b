//! `GET /api/v1/sources`: sync health of every configured source and
//! resource — when it last succeeded, whether it is failing and why, and
//! how far behind it is. Push sources (the ingest API, one per token
//! source) are listed after the configured ones, with one resource per kind
//! they have sent. Holds no credentials (the web never has them) and no
//! resume cursors (internal to the sync).

use super::ApiRoute;
use crate::params::{NoParams, Params};
use crate::{AppState, Error, SourceInfo};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_domain::{BrandId, SourceId, Timestamp};
use opsdeck_metrics::lag;
use opsdeck_store::{ApiToken, SyncState};
use serde::Serialize;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/sources",
        method: "get",
        handler: get(list_sources),
    }
}

#[derive(Serialize)]
struct SourceList {
    sources: Vec<SourceHealth>,
}

#[derive(Serialize)]
struct SourceHealth {
    id: SourceId,
    brand: Option<BrandId>,
    platform: String,
    resources: Vec<ResourceHealth>,
}

/// One (source, resource) sync. All fields but `resource` are empty for a
/// resource that has never been attempted.
#[derive(Serialize)]
struct ResourceHealth {
    resource: String,
    last_attempt_at: Option<Timestamp>,
    last_success_at: Option<Timestamp>,
    last_error: Option<String>,
    last_error_at: Option<Timestamp>,
    /// Failed attempts since the last success; 0 when healthy.
    consecutive_failures: u32,
    /// Highest platform `updated_at` fully stored.
    watermark: Option<Timestamp>,
    records_synced: u64,
    requests: u64,
    errors: u64,
    rate_limit_waits: u64,
    /// now − last_success_at, in seconds.
    success_lag_seconds: Option<i64>,
    /// now − watermark, in seconds.
    watermark_lag_seconds: Option<i64>,
    /// Its last success is older than 2 × its configured sync cadence
    /// (the rule the tiles and the "source stale" alert apply).
    stale: bool,
}

impl ResourceHealth {
    fn from_state(
        resource: &str,
        state: Option<&SyncState>,
        cadence: Option<std::time::Duration>,
        now: Timestamp,
    ) -> Self {
        let lag = state.map(|s| lag(s, now));
        let last_success = state.and_then(|s| s.last_success_at);
        ResourceHealth {
            stale: opsdeck_metrics::staleness(
                last_success,
                cadence,
                opsdeck_metrics::STALE_AFTER_CADENCES,
                now,
            )
            .is_stale(),
            success_lag_seconds: lag.and_then(|l| l.success_seconds),
            watermark_lag_seconds: lag.and_then(|l| l.watermark_seconds),
            resource: resource.to_string(),
            last_attempt_at: state.and_then(|s| s.last_attempt_at),
            last_success_at: state.and_then(|s| s.last_success_at),
            last_error: state.and_then(|s| s.last_error.clone()),
            last_error_at: state.and_then(|s| s.last_error_at),
            consecutive_failures: state.map_or(0, |s| s.consecutive_failures),
            watermark: state.and_then(|s| s.watermark),
            records_synced: state.map_or(0, |s| s.records_synced),
            requests: state.map_or(0, |s| s.requests),
            errors: state.map_or(0, |s| s.errors),
            rate_limit_waits: state.map_or(0, |s| s.rate_limit_waits),
        }
    }
}

/// Configured resources first, in configuration order, then any resource
/// the store has a state for that configuration no longer names.
fn source_health(
    source: &SourceInfo,
    states: &[SyncState],
    cadences: &opsdeck_metrics::Cadences,
    now: Timestamp,
) -> SourceHealth {
    let own: Vec<&SyncState> = states.iter().filter(|s| s.source == source.id).collect();
    let cadence = |r: &str| cadences.of(&source.id, r);
    let mut resources: Vec<ResourceHealth> = source
        .resources
        .iter()
        .map(|r| {
            let state = own.iter().copied().find(|s| &s.resource == r);
            ResourceHealth::from_state(r, state, cadence(r), now)
        })
        .collect();
    for state in own {
        if !source.resources.contains(&state.resource) {
            resources.push(ResourceHealth::from_state(
                &state.resource,
                Some(state),
                cadence(&state.resource),
                now,
            ));
        }
    }
    SourceHealth {
        id: source.id.clone(),
        brand: source.brand.clone(),
        platform: source.platform.clone(),
        resources,
    }
}

async fn list_sources(
    State(state): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<SourceList>, Error> {
    let states = state.store.all_sync_states().await?;
    let tokens = state.store.list_api_tokens().await?;
    let now = state.now();
    let configured = state.sources.iter();
    let pushed = push_sources(&state.sources, &tokens);
    Ok(Json(SourceList {
        sources: configured
            .chain(pushed.iter())
            .map(|s| source_health(s, &states, &state.panel_config.cadences, now))
            .collect(),
    }))
}

/// The ingest sources API tokens write to, other than configured ones: one
/// per token source (tokens of one brand share it), revoked tokens
/// included, since their data is still there. Their resources are the kinds
/// they have sent, found in the sync state.
fn push_sources(configured: &[SourceInfo], tokens: &[ApiToken]) -> Vec<SourceInfo> {
    let mut out: Vec<SourceInfo> = Vec::new();
    for token in tokens {
        if configured
            .iter()
            .chain(out.iter())
            .any(|s| s.id == token.source)
        {
            continue;
        }
        out.push(SourceInfo {
            id: token.source.clone(),
            brand: Some(token.brand.clone()),
            platform: "ingest".to_string(),
            resources: Vec::new(),
        });
    }
    out
}
