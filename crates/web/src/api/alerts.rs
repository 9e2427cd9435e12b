//! The alerts API: episodes with their history and delivery status, the
//! "urgent attention" list, acknowledge, resolve and silences.
//!
//! - `GET  /api/v1/alerts[?state=open|all&brand=ID&region=ID&limit=N]`
//! - `GET  /api/v1/alerts/urgent[?limit=N]`: open episodes, most severe
//!   first, firing before acknowledged, oldest first
//! - `GET  /api/v1/alerts/groups[?brand=ID&region=ID]`: open episodes
//!   grouped by rule and brand, as /alerts shows them
//!
//! Every read and action sees only the brands of the person's role
//! (`crate::scope`): the lists through `params::chosen_brands` and
//! `pages::alerts::episodes_of`, one episode through
//! `pages::alerts::episode_in_scope` (another brand's is a 404).
//! - `POST /api/v1/alerts/groups/ack`, body `{"rule": …, "brand": …}`:
//!   acknowledge every firing member of a group (one audit entry)
//! - `GET  /api/v1/alerts/{id}`: one episode, its events and notifications
//! - `POST /api/v1/alerts/{id}/ack` and `/resolve`, body `{}` or empty: the
//!   logged-in user acts (ops and admin only)
//! - `GET  /api/v1/alerts/silences`, `POST /api/v1/alerts/silences`
//! - `POST /api/v1/alerts/silences/{id}/end`: end a silence (or an
//!   incident's mute) now; one not started yet is cancelled
//!
//! Changes go through `opsdeck_alerts::actions` — the same path Telegram's
//! button takes — and into the audit log with the session's user and the
//! client address, never a name the caller typed.

use super::ApiRoute;
use crate::auth::{CurrentUser, Permission};
use crate::pages::alerts::{
    episode_in_scope, episodes_of, may_end_silence, silence_brands, silences_in_scope,
};
use crate::params::{chosen_brands, Params};
use crate::view::{self, ShownFigure};
use crate::{AppState, Error};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Json;
use opsdeck_alerts::actions::{self, AckOutcome, Actor, EndSilenceOutcome};
use opsdeck_alerts::episode;
use opsdeck_alerts::evaluate::Ack;
use opsdeck_alerts::silence::{Matchers, Silence};
use opsdeck_alerts::{EpisodeState, Severity, Tier, Via};
use opsdeck_domain::Timestamp;
use opsdeck_store::alerts::{EventRow, OutboxRow, SilenceRow};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicU64, Ordering};

/// Makes silence ids unique within a process (with the clock, across them).
static SILENCES: AtomicU64 = AtomicU64::new(1);

pub(super) fn routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            path: "/api/v1/alerts",
            method: "get",
            access: Permission::ViewDashboard.into(),
            handler: get(list),
        },
        ApiRoute {
            path: "/api/v1/alerts/urgent",
            method: "get",
            access: Permission::ViewDashboard.into(),
            handler: get(urgent),
        },
        ApiRoute {
            path: "/api/v1/alerts/groups",
            method: "get",
            access: Permission::ViewDashboard.into(),
            handler: get(list_groups),
        },
        ApiRoute {
            path: "/api/v1/alerts/groups/ack",
            method: "post",
            access: Permission::ActOnAlerts.into(),
            handler: post(ack_group),
        },
        ApiRoute {
            path: "/api/v1/alerts/silences",
            method: "get",
            access: Permission::ViewDashboard.into(),
            handler: get(list_silences),
        },
        ApiRoute {
            path: "/api/v1/alerts/silences",
            method: "post",
            access: Permission::ActOnAlerts.into(),
            handler: post(create_silence),
        },
        ApiRoute {
            path: "/api/v1/alerts/silences/{id}/end",
            method: "post",
            access: Permission::ActOnAlerts.into(),
            handler: post(end_silence),
        },
        ApiRoute {
            path: "/api/v1/alerts/{id}",
            method: "get",
            access: Permission::ViewDashboard.into(),
            handler: get(one),
        },
        ApiRoute {
            path: "/api/v1/alerts/{id}/ack",
            method: "post",
            access: Permission::ActOnAlerts.into(),
            handler: post(ack),
        },
        ApiRoute {
            path: "/api/v1/alerts/{id}/resolve",
            method: "post",
            access: Permission::ActOnAlerts.into(),
            handler: post(resolve),
        },
    ]
}

/// One episode as the API shows it: amounts only for roles that may see
/// money.
#[derive(Serialize)]
struct Episode {
    id: String,
    rule: String,
    brand: String,
    severity: Severity,
    state: EpisodeState,
    opened_at: Timestamp,
    updated_at: Timestamp,
    subject: String,
    rule_name: String,
    value: Option<ShownFigure>,
    baseline: Option<ShownFigure>,
    threshold: Option<ShownFigure>,
    why: String,
    dashboard_path: String,
    tier: Tier,
    notifications: u32,
    acknowledged: Option<Ack>,
    resolved_at: Option<Timestamp>,
    silenced_by: Option<String>,
}

impl From<episode::Episode> for Episode {
    fn from(e: episode::Episode) -> Self {
        let a = e.alert;
        Episode {
            why: view::alert_why(&a),
            value: view::figure_as_shown(a.value.as_ref()),
            baseline: view::figure_as_shown(a.baseline.as_ref()),
            threshold: view::figure_as_shown(a.threshold.as_ref()),
            subject: a.subject,
            rule_name: a.rule_name,
            dashboard_path: a.dashboard_path,
            tier: a.tier,
            notifications: a.notifications,
            acknowledged: a.ack,
            resolved_at: a.resolved_at,
            silenced_by: a.silenced_by,
            id: e.id,
            rule: e.rule,
            brand: e.brand,
            severity: e.severity,
            state: e.state,
            opened_at: e.opened_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    /// `open` (default) or `all`.
    state: Option<String>,
    brand: Option<String>,
    /// A region id: its brands' alerts (see `params::chosen_brands`).
    region: Option<String>,
    /// 1..=500, default 100.
    limit: Option<u32>,
}

fn limit(l: Option<u32>, default: u32) -> Result<u32, Error> {
    match l.unwrap_or(default) {
        n @ 1..=500 => Ok(n),
        n => Err(Error::BadRequest(format!(
            "limit must be 1 to 500, not {n}"
        ))),
    }
}

#[derive(Serialize)]
struct EpisodeList {
    alerts: Vec<Episode>,
    /// Set when some or all alerts reach no channel (no `[notifiers.*]`):
    /// they open and show, and nobody is told.
    delivery_warning: Option<String>,
}

async fn list(
    State(state): State<AppState>,
    Params(q): Params<ListQuery>,
) -> Result<Json<EpisodeList>, Error> {
    let open_only = match q.state.as_deref().unwrap_or("open") {
        "open" => true,
        "all" => false,
        other => {
            return Err(Error::BadRequest(format!(
                "state must be open or all, not {other:?}"
            )))
        }
    };
    let chosen = chosen_brands(&state, q.brand.as_deref(), q.region.as_deref())?;
    let rows = episodes_of(&state, chosen.as_deref(), open_only, limit(q.limit, 100)?).await?;
    Ok(Json(EpisodeList {
        alerts: rows.into_iter().map(Episode::from).collect(),
        delivery_warning: state.alert_rules.delivery_warning(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupsQuery {
    brand: Option<String>,
    /// A region id: its brands' groups (see `params::chosen_brands`).
    region: Option<String>,
}

/// One rule's open episodes on one brand ([`actions::group_episodes`]).
#[derive(Serialize)]
struct Group {
    rule: String,
    brand: String,
    /// The most severe member's.
    severity: Severity,
    count: usize,
    firing: usize,
    acknowledged: usize,
    first_opened_at: Timestamp,
    /// Oldest first.
    members: Vec<Episode>,
}

#[derive(Serialize)]
struct GroupList {
    groups: Vec<Group>,
    delivery_warning: Option<String>,
}

/// The most open episodes the grouped view reads.
const GROUPED_MAX: u32 = 5_000;

async fn list_groups(
    State(state): State<AppState>,
    Params(q): Params<GroupsQuery>,
) -> Result<Json<GroupList>, Error> {
    let chosen = chosen_brands(&state, q.brand.as_deref(), q.region.as_deref())?;
    let rows = episodes_of(&state, chosen.as_deref(), true, GROUPED_MAX).await?;
    let groups = actions::group_episodes(rows)
        .into_iter()
        .map(|g| Group {
            count: g.members.len(),
            firing: g.firing(),
            acknowledged: g.members.len() - g.firing(),
            first_opened_at: g.first_opened_at(),
            rule: g.rule,
            brand: g.brand,
            severity: g.severity,
            members: g.members.into_iter().map(Episode::from).collect(),
        })
        .collect();
    Ok(Json(GroupList {
        groups,
        delivery_warning: state.alert_rules.delivery_warning(),
    }))
}

/// Which group to act on.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupBody {
    rule: String,
    brand: String,
}

async fn ack_group(
    State(state): State<AppState>,
    user: CurrentUser,
    Params(NoQuery {}): Params<NoQuery>,
    raw: Bytes,
) -> Result<Json<actions::GroupAck>, Error> {
    let g: GroupBody = body(&raw)?;
    state.brand(&g.brand)?;
    let outcome = actions::acknowledge_group(
        state.store.as_ref(),
        &g.rule,
        &g.brand,
        &actor(&user),
        state.now(),
    )
    .await
    .map_err(Error::from)?;
    Ok(Json(outcome))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct UrgentQuery {
    /// 1..=500, default 10.
    limit: Option<u32>,
}

async fn urgent(
    State(state): State<AppState>,
    Params(q): Params<UrgentQuery>,
) -> Result<Json<EpisodeList>, Error> {
    let n = limit(q.limit, 10)? as usize;
    // Every brand the person sees.
    let chosen = chosen_brands(&state, None, None)?;
    let mut rows = episodes_of(&state, chosen.as_deref(), true, 10_000).await?;
    let rank = |r: &episode::Episode| {
        (
            r.severity != Severity::Critical,
            r.state != EpisodeState::Firing,
            r.opened_at,
            r.id.clone(),
        )
    };
    rows.sort_by_key(rank);
    rows.truncate(n);
    Ok(Json(EpisodeList {
        alerts: rows.into_iter().map(Episode::from).collect(),
        delivery_warning: state.alert_rules.delivery_warning(),
    }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NoQuery {}

#[derive(Serialize)]
struct EpisodeDetail {
    alert: Episode,
    /// Every state change, notification and acknowledgement, oldest first.
    events: Vec<EventRow>,
    /// Each message sent (or being sent) for it, with delivery status.
    notifications: Vec<Notification>,
}

/// A notification's delivery status (the payload is not repeated).
#[derive(Serialize)]
struct Notification {
    id: String,
    channel: opsdeck_store::alerts::Channel,
    status: opsdeck_store::alerts::OutboxStatus,
    attempts: u32,
    created_at: Timestamp,
    next_attempt_at: Timestamp,
    expires_at: Timestamp,
    last_error: Option<String>,
    delivered_at: Option<Timestamp>,
}

impl From<OutboxRow> for Notification {
    fn from(r: OutboxRow) -> Self {
        Notification {
            id: r.id,
            channel: r.channel,
            status: r.status,
            attempts: r.attempts,
            created_at: r.created_at,
            next_attempt_at: r.next_attempt_at,
            expires_at: r.expires_at,
            last_error: r.last_error,
            delivered_at: r.delivered_at,
        }
    }
}

async fn one(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Params(NoQuery {}): Params<NoQuery>,
) -> Result<Json<EpisodeDetail>, Error> {
    let row = episode_in_scope(&state, &id).await?;
    let events = state.store.alert_events(&id).await?;
    let sent = state.store.outbox_list(Some(&id), 100).await?;
    Ok(Json(EpisodeDetail {
        alert: row.into(),
        events: events
            .into_iter()
            .map(|mut e| {
                e.body = view::alert_body_as_shown(&e.body);
                e
            })
            .collect(),
        notifications: sent.into_iter().map(Notification::from).collect(),
    }))
}

/// A JSON body, refused with a 400 naming the problem.
fn body<T: DeserializeOwned>(bytes: &Bytes) -> Result<T, Error> {
    serde_json::from_slice(bytes).map_err(|e| Error::BadRequest(format!("request body: {e}")))
}

/// An ack/resolve body: empty or `{}` (who acts is the session's user).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct EmptyBody {}

fn no_body(raw: &Bytes) -> Result<(), Error> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(());
    }
    body::<EmptyBody>(raw).map(|_| ())
}

/// The session's user, acting through the API.
fn actor(user: &CurrentUser) -> Actor {
    let mut a = user.actor();
    a.via = Via::Api;
    a
}

#[derive(Serialize)]
struct ActionResult {
    id: String,
    /// `acknowledged`, `already_acknowledged` or `resolved`.
    outcome: &'static str,
    /// Who acknowledged first, for `already_acknowledged`.
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<String>,
}

async fn ack(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Params(NoQuery {}): Params<NoQuery>,
    raw: Bytes,
) -> Result<Json<ActionResult>, Error> {
    no_body(&raw)?;
    episode_in_scope(&state, &id).await?;
    let who = actor(&user);
    let outcome = actions::acknowledge(state.store.as_ref(), &id, &who, state.now())
        .await
        .map_err(Error::from)?;
    let (outcome, by) = match outcome {
        AckOutcome::Acknowledged => ("acknowledged", None),
        AckOutcome::AlreadyAcknowledged { by } => ("already_acknowledged", Some(by)),
    };
    Ok(Json(ActionResult { id, outcome, by }))
}

async fn resolve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Params(NoQuery {}): Params<NoQuery>,
    raw: Bytes,
) -> Result<Json<ActionResult>, Error> {
    no_body(&raw)?;
    episode_in_scope(&state, &id).await?;
    let who = actor(&user);
    actions::resolve(state.store.as_ref(), &id, &who, state.now())
        .await
        .map_err(Error::from)?;
    Ok(Json(ActionResult {
        id,
        outcome: "resolved",
        by: None,
    }))
}

#[derive(Serialize)]
struct SilenceList {
    silences: Vec<SilenceRow>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct SilenceQuery {
    /// `active` (default) or `all`.
    state: Option<String>,
}

async fn list_silences(
    State(state): State<AppState>,
    Params(q): Params<SilenceQuery>,
) -> Result<Json<SilenceList>, Error> {
    let at = match q.state.as_deref().unwrap_or("active") {
        "active" => Some(state.now()),
        "all" => None,
        other => {
            return Err(Error::BadRequest(format!(
                "state must be active or all, not {other:?}"
            )))
        }
    };
    // Only what the person's scope lets them see (`silences_in_scope`).
    let every = crate::scope::current().is_every();
    let silences = state
        .store
        .alert_silences(at)
        .await?
        .into_iter()
        .filter_map(|mut row| {
            if every {
                return Some(row);
            }
            let silence = serde_json::from_value::<Silence>(row.body.clone()).ok()?;
            let seen = silences_in_scope(vec![silence]).pop()?;
            row.body = serde_json::to_value(seen).ok()?;
            Some(row)
        })
        .collect();
    Ok(Json(SilenceList { silences }))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSilence {
    #[serde(default)]
    rules: Vec<String>,
    #[serde(default)]
    brands: Vec<String>,
    #[serde(default)]
    labels: Vec<String>,
    /// Default: now.
    starts_at: Option<Timestamp>,
    ends_at: Timestamp,
    reason: String,
    /// Set when a declared incident mutes these rules (its title).
    incident: Option<String>,
}

async fn create_silence(
    State(state): State<AppState>,
    user: CurrentUser,
    Params(NoQuery {}): Params<NoQuery>,
    raw: Bytes,
) -> Result<(StatusCode, Json<Silence>), Error> {
    let new: NewSilence = body(&raw)?;
    state.alert_rules.check(&new.rules)?;
    let brands = silence_brands(&state, new.brands)?;
    let now = state.now();
    let silence = Silence {
        id: format!(
            "S{}-{}",
            now.as_microsecond(),
            SILENCES.fetch_add(1, Ordering::Relaxed)
        ),
        matchers: Matchers {
            rules: new.rules,
            brands,
            labels: new.labels,
        },
        starts_at: new.starts_at.unwrap_or(now),
        ends_at: new.ends_at,
        reason: new.reason,
        author: user.username.clone(),
        incident: new.incident,
    };
    let who = actor(&user);
    actions::silence(state.store.as_ref(), &silence, &who, now)
        .await
        .map_err(Error::from)?;
    Ok((StatusCode::CREATED, Json(silence)))
}

#[derive(Serialize)]
struct SilenceEnded {
    id: String,
    /// `ended`, or `already_ended` (nothing changed).
    outcome: &'static str,
    /// When it ended (now, when ended by this request).
    ended_at: Timestamp,
}

async fn end_silence(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Params(NoQuery {}): Params<NoQuery>,
    raw: Bytes,
) -> Result<Json<SilenceEnded>, Error> {
    no_body(&raw)?;
    may_end_silence(&state, &id).await?;
    let now = state.now();
    let outcome = actions::end_silence(state.store.as_ref(), &id, &actor(&user), now)
        .await
        .map_err(Error::from)?;
    let (outcome, ended_at) = match outcome {
        EndSilenceOutcome::Ended => ("ended", now),
        EndSilenceOutcome::AlreadyEnded { at } => ("already_ended", at),
    };
    Ok(Json(SilenceEnded {
        id,
        outcome,
        ended_at,
    }))
}
