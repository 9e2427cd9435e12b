//! `GET /sources`: sync health per source and resource — whether a run is
//! in progress, last success (stamped when a run finished) and how long
//! ago, lag behind the platform, error and rate-limit counts, records the
//! latest run refused, the last error (a missing scope, a shop whose
//! currency or time zone is not the brand's, a timeout or oversized body
//! and its cause) — the webhook events given up on (topic, webhook id,
//! reason), for a Shopify source the API version each API asked for and
//! the one that answered (highlighted when they differ) and any
//! deprecation notice with when it was first seen, the state of each
//! supervised background task (as `/readyz`
//! has it, with its restarts), and the refresh button. The health word and
//! the failed webhooks come from the same functions as `/api/v1/sources`.
//!
//! `POST /refresh`: fires the sync worker's trigger so every source syncs
//! now instead of at its next turn, audits who asked, and redirects back
//! to the page the button was on (post/redirect/get; works without
//! script). The form carries the session's CSRF token like every form.

use crate::api::sources::{failed_webhooks, health_word, in_scope};
use crate::auth::{CurrentUser, Permission};
use crate::error::PageError;
use crate::params::{NoParams, Params};
use crate::view::{age, NO_VALUE};
use crate::{audit, templates, AppState, Error, TaskState};
use axum::extract::rejection::FormRejection;
use axum::extract::State;
use axum::response::{Html, Redirect};
use axum::Form;
use opsdeck_domain::Timestamp;
use opsdeck_metrics::lag;
use opsdeck_store::{ApiVersionNote, SyncState};
use serde::Deserialize;
use serde_json::{json, Value};

/// "12 min" / "3.5 h" for a lag in seconds; a dash for none.
fn lag_words(seconds: Option<i64>) -> String {
    super::format::hours(seconds.map(|s| s as f64 / 3600.0))
}

/// One resource's row; `cadence` is how often it is configured to sync
/// (stale after [`opsdeck_metrics::STALE_AFTER_CADENCES`] of them, the
/// rule the tiles and the "source stale" alert apply).
fn resource_row(
    resource: &str,
    s: Option<&SyncState>,
    cadence: Option<std::time::Duration>,
    now: Timestamp,
) -> Value {
    let l = s.map(|s| lag(s, now));
    let ago = |t: Option<Timestamp>| t.map_or_else(|| "never".to_string(), |t| age(t, now));
    json!({
        "resource": resource,
        "health": health_word(s, cadence, now),
        "running_since": s.and_then(|s| s.running_since).map(|t| t.to_string()),
        "running_for": s.and_then(|s| s.running_since).map(|t| age(t, now)),
        "refused": s.map_or(0, |s| s.records_refused),
        "needs_attention": s.is_some_and(|s| s.needs_attention),
        "last_success": ago(s.and_then(|s| s.last_success_at)),
        "last_success_at": s.and_then(|s| s.last_success_at).map(|t| t.to_string()),
        "last_attempt": ago(s.and_then(|s| s.last_attempt_at)),
        "lag": lag_words(l.and_then(|l| l.watermark_seconds)),
        "failures": s.map_or(0, |s| s.consecutive_failures),
        "errors": s.map_or(0, |s| s.errors),
        "requests": s.map_or(0, |s| s.requests),
        "rate_limit_waits": s.map_or(0, |s| s.rate_limit_waits),
        "records": s.map_or(0, |s| s.records_synced),
        "last_error": s.and_then(|s| s.last_error.clone()).unwrap_or_else(|| NO_VALUE.to_string()),
        "last_error_when": s.and_then(|s| s.last_error_at).map(|t| age(t, now)),
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Result<Params<NoParams>, Error>,
) -> Result<Html<String>, PageError> {
    params?;
    let now = state.now();
    let states = state.store.all_sync_states().await.map_err(Error::from)?;
    let failed = failed_webhooks(&state).await?;
    let versions = state.store.api_versions().await.map_err(Error::from)?;
    let brand_name = |id: &opsdeck_domain::BrandId| {
        state
            .brands
            .iter()
            .find(|b| &b.id == id)
            .map_or_else(|| id.to_string(), |b| b.name.clone())
    };
    let cadences = &state.panel_config.cadences;
    let mut rows = Vec::new();
    for source in state.sources.iter().filter(|s| in_scope(s)) {
        let own: Vec<&SyncState> = states.iter().filter(|s| s.source == source.id).collect();
        let mut resources: Vec<Value> = source
            .resources
            .iter()
            .map(|r| {
                let s = own.iter().copied().find(|s| &s.resource == r);
                resource_row(r, s, cadences.of(&source.id, r), now)
            })
            .collect();
        for s in own
            .iter()
            .filter(|s| !source.resources.contains(&s.resource))
        {
            let cadence = cadences.of(&source.id, &s.resource);
            resources.push(resource_row(&s.resource, Some(s), cadence, now));
        }
        rows.push(json!({
            "id": source.id.to_string(),
            "platform": source.platform,
            "brand": source.brand.as_ref().map_or_else(|| "all brands".to_string(), brand_name),
            "resources": resources,
            "api_versions": versions
                .iter()
                .filter(|v| v.source == source.id)
                .map(|v| api_version_row(v, now))
                .collect::<Vec<_>>(),
            "failed_webhooks": failed
                .iter()
                .filter(|(s, _)| *s == source.id)
                .map(|(_, w)| json!({
                    "topic": w.topic,
                    "webhook_id": w.webhook_id,
                    "reason": w.reason,
                    "attempts": w.attempts,
                    "received": age(w.received_at, now),
                    "received_at": w.received_at.to_string(),
                }))
                .collect::<Vec<_>>(),
        }));
    }
    // Flag changes owed to shops and webhook receivers: a mirroring that
    // fails is a shop that no longer shows the freeze, so it shows here.
    let flag_deliveries: Vec<Value> = state
        .store
        .flag_target_health()
        .await
        .map_err(Error::from)?
        .iter()
        // A shop's mirror only for a person who sees its brand.
        .filter(|h| match &h.target {
            opsdeck_store::flags::DeliveryTarget::Webhook(_) => true,
            opsdeck_store::flags::DeliveryTarget::ShopifyMetafield(b) => {
                crate::scope::sees(b.as_str())
            }
        })
        .map(|h| {
            json!({
                "target": h.target.to_string(),
                "kind": match h.target {
                    opsdeck_store::flags::DeliveryTarget::Webhook(_) => "webhook",
                    opsdeck_store::flags::DeliveryTarget::ShopifyMetafield(_) => "shop metafield",
                },
                "failing": h.failed > 0 || h.last_error.as_ref().is_some_and(|_| h.pending > 0),
                "pending": h.pending, "failed": h.failed,
                "last_delivered_at": h.last_delivered_at.map(|t| t.to_string()),
                "last_error": h.last_error,
                "last_error_at": h.last_error_at.map(|t| t.to_string()),
            })
        })
        .collect();
    let html = templates::render(
        "sources.html",
        minijinja::context! {
            flag_deliveries => flag_deliveries,
            sources => rows,
            tasks => state
                .tasks
                .tasks()
                .into_iter()
                .map(|(name, task)| task_row(&name, &task, now))
                .collect::<Vec<_>>(),
            can_refresh => user.can(Permission::RefreshSync),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// What one API's answers said about its version: the version asked for
/// and the one that answered (flagged when Shopify fell forward), and the
/// latest deprecation notice with when it was first seen.
fn api_version_row(v: &ApiVersionNote, now: Timestamp) -> Value {
    json!({
        "api": v.api.label(),
        "requested": v.requested,
        "answered": v.answered.as_deref().unwrap_or(NO_VALUE),
        "fell_forward": v.fell_forward(),
        "deprecation": v.deprecation,
        "deprecation_since": v.deprecation_since.map(|t| t.to_string()),
        "deprecation_age": v.deprecation_since.map(|t| age(t, now)),
    })
}

/// One supervised task as the page shows it: state, since when, restarts,
/// and why it stopped.
fn task_row(name: &str, task: &TaskState, now: opsdeck_domain::Timestamp) -> Value {
    let (word, since, restarts, reason) = match task {
        TaskState::Running { since, restarts } => ("running", since, Some(restarts), None),
        TaskState::Restarting { since, restarts } => ("restarting", since, Some(restarts), None),
        TaskState::Stopped { since, reason } => ("stopped", since, None, Some(reason)),
    };
    json!({
        "name": name,
        "state": word,
        "since": age(*since, now),
        "since_at": since.to_string(),
        "restarts": restarts.map_or_else(|| NO_VALUE.to_string(), |r| r.to_string()),
        "reason": reason.map_or(NO_VALUE, |r| r.as_str()),
    })
}

/// The refresh form: the CSRF token (checked by the guard) and the page to
/// go back to.
#[derive(Debug, Deserialize)]
pub(crate) struct RefreshForm {
    #[serde(default)]
    back: Option<String>,
}

pub(crate) async fn refresh(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<RefreshForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) =
        form.map_err(|e| Error::BadRequest(format!("refresh form: {}", e.body_text())))?;
    state.sync_trigger.fire();
    audit::record_for(
        &state,
        &user,
        opsdeck_store::AuditAction::SyncRefresh,
        "sources",
        json!({}),
    )
    .await?;
    tracing::info!(user = %user.username, "sync refresh requested");
    // Back where the button was, but only to a path on this site.
    let back = crate::redirect::target_or_root(form.back.as_deref());
    Ok(Redirect::to(&back))
}
