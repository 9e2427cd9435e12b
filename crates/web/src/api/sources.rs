//! `GET /api/v1/sources`: sync health of every configured source and
//! resource — when it last succeeded, whether it is failing and why, and
//! how far behind it is. Push sources (the ingest API, one per token
//! source) are listed after the configured ones, with one resource per kind
//! they have sent. Holds no credentials (the web never has them) and no
//! resume cursors (internal to the sync).
//!
//! The page (`/sources`) reads the same things through the same functions
//! here: [`health_word`] (one resource's health in one word) and
//! [`failed_webhooks`] (the webhook events given up on, per source).

use super::ApiRoute;
use crate::params::{NoParams, Params};
use crate::{AppState, Error, SourceInfo};
use axum::extract::State;
use axum::routing::get;
use axum::Json;
use opsdeck_domain::{BrandId, SourceId, Timestamp};
use opsdeck_metrics::lag;
use opsdeck_store::{ApiToken, StoredWebhook, SyncState};
use serde::Serialize;

pub(super) fn route() -> ApiRoute {
    ApiRoute {
        path: "/api/v1/sources",
        method: "get",
        access: crate::auth::Permission::ViewDashboard.into(),
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
    /// Webhook events of this source given up on, newest first.
    failed_webhooks: Vec<FailedWebhook>,
}

/// How many failed webhook events are read for the health view: the
/// newest are what a person acts on, and the page stays small.
pub(crate) const FAILED_WEBHOOKS_SHOWN: u32 = 50;

/// The longest webhook id shown (a hostile header is not echoed whole).
const SHOWN_ID_CHARS: usize = 80;

/// One webhook event that could not be applied and was given up on.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct FailedWebhook {
    pub topic: String,
    pub webhook_id: String,
    pub reason: String,
    pub attempts: u32,
    pub received_at: Timestamp,
}

impl FailedWebhook {
    fn from_stored(w: &StoredWebhook) -> Self {
        FailedWebhook {
            topic: w.event.topic.clone(),
            webhook_id: w.event.webhook_id.chars().take(SHOWN_ID_CHARS).collect(),
            reason: w.last_error.clone().unwrap_or_else(|| "unknown".into()),
            attempts: w.attempts,
            received_at: w.event.received_at,
        }
    }
}

/// The newest failed webhook events of every source, newest first.
pub(crate) async fn failed_webhooks(
    state: &AppState,
) -> Result<Vec<(SourceId, FailedWebhook)>, Error> {
    let failed = state
        .store
        .recent_failed_webhooks(FAILED_WEBHOOKS_SHOWN)
        .await?;
    Ok(failed
        .iter()
        .map(|w| (w.event.source.clone(), FailedWebhook::from_stored(w)))
        .collect())
}

/// One resource's health in one word: `never synced`, `failing` (the
/// latest runs failed, or could not see everything: a missing scope, a
/// shop in another currency, webhooks given up on; this wins, a run in
/// progress does not hide it), `running` (a run is in progress: its numbers
/// are not yet final), `stale` (its last success is older than 2 × its
/// `cadence`: [`opsdeck_metrics::staleness`], the rule the tiles and the
/// "source stale" alert apply), or `ok`.
pub(crate) fn health_word(
    s: Option<&SyncState>,
    cadence: Option<std::time::Duration>,
    now: Timestamp,
) -> &'static str {
    match s {
        None => "never synced",
        Some(s) if s.consecutive_failures > 0 => "failing",
        Some(s) if s.running_since.is_some() => "running",
        Some(s) if s.last_success_at.is_none() => "never synced",
        Some(s) if is_stale(s, cadence, now) => "stale",
        Some(_) => "ok",
    }
}

/// The one staleness rule for one resource.
fn is_stale(s: &SyncState, cadence: Option<std::time::Duration>, now: Timestamp) -> bool {
    opsdeck_metrics::staleness(
        s.last_success_at,
        cadence,
        opsdeck_metrics::STALE_AFTER_CADENCES,
        now,
    )
    .is_stale()
}

/// One (source, resource) sync. All fields but `resource` are empty for a
/// resource that has never been attempted.
#[derive(Serialize)]
struct ResourceHealth {
    resource: String,
    /// `ok`, `running`, `stale`, `failing` or `never synced` ([`health_word`]).
    health: &'static str,
    /// When the run in progress started; null between runs.
    running_since: Option<Timestamp>,
    last_attempt_at: Option<Timestamp>,
    last_success_at: Option<Timestamp>,
    last_error: Option<String>,
    last_error_at: Option<Timestamp>,
    /// Failed attempts since the last success; 0 when healthy.
    consecutive_failures: u32,
    /// Highest platform `updated_at` fully stored.
    watermark: Option<Timestamp>,
    records_synced: u64,
    /// Records the latest run refused (reasons in `last_error`).
    records_refused: u64,
    /// The latest run failed for a cause retrying will not fix (a missing
    /// scope, a shop in another currency, a rejected token): a person must
    /// act, and the "source stale" alert fires on the first such run.
    needs_attention: bool,
    requests: u64,
    errors: u64,
    rate_limit_waits: u64,
    /// now − `last_success_at`, in seconds.
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
        ResourceHealth {
            stale: state.is_some_and(|s| is_stale(s, cadence, now)),
            success_lag_seconds: lag.and_then(|l| l.success_seconds),
            watermark_lag_seconds: lag.and_then(|l| l.watermark_seconds),
            resource: resource.to_string(),
            health: health_word(state, cadence, now),
            running_since: state.and_then(|s| s.running_since),
            last_attempt_at: state.and_then(|s| s.last_attempt_at),
            last_success_at: state.and_then(|s| s.last_success_at),
            last_error: state.and_then(|s| s.last_error.clone()),
            last_error_at: state.and_then(|s| s.last_error_at),
            consecutive_failures: state.map_or(0, |s| s.consecutive_failures),
            watermark: state.and_then(|s| s.watermark),
            records_synced: state.map_or(0, |s| s.records_synced),
            records_refused: state.map_or(0, |s| s.records_refused),
            needs_attention: state.is_some_and(|s| s.needs_attention),
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
    failed: &[(SourceId, FailedWebhook)],
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
        failed_webhooks: failed
            .iter()
            .filter(|(s, _)| *s == source.id)
            .map(|(_, w)| w.clone())
            .collect(),
    }
}

async fn list_sources(
    State(state): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<SourceList>, Error> {
    let states = state.store.all_sync_states().await?;
    let tokens = state.store.list_api_tokens().await?;
    let failed = failed_webhooks(&state).await?;
    let now = state.now();
    let configured = state.sources.iter();
    let pushed = push_sources(&state.sources, &tokens);
    Ok(Json(SourceList {
        sources: configured
            .chain(pushed.iter())
            .filter(|s| in_scope(s))
            .map(|s| source_health(s, &states, &state.panel_config.cadences, &failed, now))
            .collect(),
    }))
}

/// Whether the person sees `source`: one shared by every brand (the
/// helpdesk) or one of a brand they see (`crate::scope`). The one rule
/// for `/sources` and `/api/v1/sources`.
pub(crate) fn in_scope(source: &SourceInfo) -> bool {
    source
        .brand
        .as_ref()
        .is_none_or(|b| crate::scope::sees(b.as_str()))
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
