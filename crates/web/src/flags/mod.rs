//! Freeze controls over HTTP (issue 14, point 2): the `/flags` page and
//! its form, the JSON API, storefront keys, and the OFREP endpoints a
//! storefront reads ([`ofrep`]). Handlers extract, call
//! `opsdeck_operations::flags` and render; the rules are there.
//!
//! - `GET /flags` (anyone who sees the dashboard): every flag, whether it
//!   is on now, who set it, why, until when, whether it needs approval,
//!   its recent trail, and the state of its deliveries;
//! - `POST /flags/{key}` (form) and `POST /api/v1/flags/{key}` (JSON):
//!   change a flag (`ChangeFlags`); switching on a flag that needs
//!   approval files an approval request instead (the form goes to the
//!   request's page, the API answers 202 with its id), which a second
//!   person decides on `/approvals`;
//! - `GET /api/v1/flags`: the same state as JSON;
//! - `GET/POST /api/v1/storefront-keys`, `POST
//!   /api/v1/storefront-keys/{id}/revoke` (`ManageTokens`): keys for the
//!   OFREP endpoints, the whole key shown once at creation.

pub mod ofrep;

use crate::auth::rules::{Access, Routes};
use crate::auth::{CurrentUser, Permission};
use crate::error::PageError;
use crate::{templates, AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Form, Json};
use jiff::Timestamp;
use opsdeck_operations::flags::approval::request_switch_on;
use opsdeck_operations::flags::{
    change_flag, is_live, parse_key, Actor, Authority, FlagChange, FlagError, FlagKey, FlagRecord,
    FlagSettings,
};
use opsdeck_store::flags::NewStorefrontKey;
use opsdeck_store::{Approval, AuditAction, AuditEntry, RequestedVia};
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::sync::Notify;

/// The flag service's configuration and the bell that wakes its deliverer
/// the moment a change is committed (so a webhook receiver hears of it in
/// well under a second, not at the next poll).
#[derive(Clone, Default)]
pub struct Flags {
    pub settings: Arc<FlagSettings>,
    pub changed: Arc<Notify>,
}

/// Audit entries shown per flag on the page.
const TRAIL: u32 = 5;

pub(crate) fn router() -> Routes {
    use Permission::*;
    Routes::new()
        .get("/flags", ViewDashboard, page)
        .post("/flags/{key}", ChangeFlags, change_form)
        .get("/api/v1/flags", ViewDashboard, list_api)
        .post("/api/v1/flags/{key}", ChangeFlags, change_api)
        .get("/api/v1/storefront-keys", ManageTokens, list_keys)
        .post("/api/v1/storefront-keys", ManageTokens, create_key)
        .post(
            "/api/v1/storefront-keys/{id}/revoke",
            ManageTokens,
            revoke_key,
        )
        .post(
            "/ofrep/v1/evaluate/flags",
            Access::Public,
            ofrep::evaluate_bulk,
        )
        .post(
            "/ofrep/v1/evaluate/flags/{key}",
            Access::Public,
            ofrep::evaluate_one,
        )
        .get(
            "/ofrep/v1/configuration",
            Access::Public,
            ofrep::configuration,
        )
}

impl From<FlagError> for Error {
    fn from(e: FlagError) -> Self {
        match e {
            FlagError::Store(e) => Error::Store(e),
            FlagError::NeedsApproval(_) | FlagError::Conflict(_) => Error::Conflict(e.to_string()),
            FlagError::UnknownFlag(_) | FlagError::Invalid(_) => Error::BadRequest(e.to_string()),
        }
    }
}

fn actor(user: &CurrentUser) -> Actor {
    Actor {
        name: user.username.clone(),
        ip: user.ip.map(|ip| ip.to_string()),
    }
}

/// What a change did: made at once, or filed for approval.
enum Applied {
    Changed(FlagRecord),
    Requested(Box<Approval>),
}

/// Makes a change and rings the deliverer, or, for a switch-on that needs
/// a second person, files it for approval.
async fn apply(
    state: &AppState,
    user: &CurrentUser,
    change: &FlagChange,
) -> Result<Applied, Error> {
    in_scope(state, change).await?;
    if let (true, true, Some(approvals)) = (
        change.on,
        state.flags.settings.requires_approval(&change.key),
        state.approvals.as_ref(),
    ) {
        let approval =
            request_switch_on(approvals, change, &actor(user), RequestedVia::Dashboard).await?;
        tracing::info!(user = %user.username, flag = %change.key, approval = %approval.id, "flag switch-on sent for approval");
        return Ok(Applied::Requested(Box::new(approval)));
    }
    let flag = change_flag(
        state.store.as_ref(),
        &state.flags.settings,
        change,
        &actor(user),
        &Authority::Direct,
        state.now(),
    )
    .await?;
    state.flags.changed.notify_one();
    tracing::info!(user = %user.username, flag = %flag.key, on = flag.on, version = flag.version, "flag changed");
    Ok(Applied::Changed(flag))
}

/// A person who sees only some brands (`crate::scope`) may pause sales
/// in their own regions (a region all of whose brands they see, or one of
/// its countries) and change nothing that reaches other brands: not the
/// freezes or the banner (every brand's), and not a sales pause whose
/// places, as asked or as it stands (one flag holds every place), include
/// another's. 403 naming what was refused.
async fn in_scope(state: &AppState, change: &FlagChange) -> Result<(), Error> {
    let scope = crate::scope::current();
    if scope.is_every() {
        return Ok(());
    }
    if change.key != FlagKey::SalesPause {
        return Err(state.out_of_scope(&format!(
            "the {} flag, which applies to every brand,",
            change.key.as_str()
        )));
    }
    let own: Vec<_> = state
        .panel_config
        .regions
        .iter()
        .filter(|r| !r.brands.is_empty() && r.brands.iter().all(|b| scope.sees(b.as_str())))
        .collect();
    let ours = |t: &str| {
        own.iter().any(|r| {
            r.id.as_str().eq_ignore_ascii_case(t)
                || r.countries.iter().any(|c| c.eq_ignore_ascii_case(t))
        })
    };
    let standing: Vec<String> = state
        .store
        .flags()
        .await?
        .into_iter()
        .filter(|f| f.key == FlagKey::SalesPause && is_live(f, state.now()))
        .flat_map(|f| f.targets)
        .collect();
    for t in change.targets.iter().chain(&standing) {
        if !ours(t) {
            return Err(state.out_of_scope(&format!("a sales pause in {t:?}")));
        }
    }
    Ok(())
}

/// One flag as the page and the API show it.
fn view(
    settings: &FlagSettings,
    key: &FlagKey,
    flag: Option<&FlagRecord>,
    now: Timestamp,
) -> Value {
    json!({
        "key": key.as_str(),
        "label": key.label(),
        "live": flag.is_some_and(|f| is_live(f, now)),
        "on": flag.is_some_and(|f| f.on),
        "targets": flag.map(|f| f.targets.clone()).unwrap_or_default(),
        "text": flag.and_then(|f| f.text.clone()),
        "reason": flag.map(|f| f.reason.clone()),
        "set_by": flag.map(|f| f.set_by.clone()),
        "set_at": flag.map(|f| f.set_at.to_string()),
        "ends_at": flag.and_then(|f| f.ends_at).map(|t| t.to_string()),
        "version": flag.map_or(0, |f| f.version),
        "requires_approval": settings.requires_approval(key),
        "mirrored": settings.mirrored_flags.contains(key) && !settings.mirror_brands.is_empty(),
        "takes_targets": *key == FlagKey::SalesPause,
        "takes_text": *key == FlagKey::MaintenanceBanner,
    })
}

async fn views(state: &AppState) -> Result<Vec<Value>, Error> {
    let flags = state.store.flags().await?;
    let now = state.now();
    Ok(FlagKey::ALL
        .iter()
        .map(|k| {
            view(
                &state.flags.settings,
                k,
                flags.iter().find(|f| &f.key == k),
                now,
            )
        })
        .collect())
}

async fn page(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, PageError> {
    let mut flags = views(&state).await?;
    for flag in &mut flags {
        let key = FlagKey::parse(flag["key"].as_str().unwrap_or_default());
        let trail: Vec<Value> = state
            .store
            .flag_audit(&key, TRAIL)
            .await
            .map_err(Error::from)?
            .iter()
            .map(|e| json!({ "at": e.at.to_string(), "actor": e.actor, "action": e.action.as_str(), "reason": e.payload.get("reason") }))
            .collect();
        flag["trail"] = Value::Array(trail);
    }
    let deliveries: Vec<Value> = state
        .store
        .flag_target_health()
        .await
        .map_err(Error::from)?
        .iter()
        .map(|h| {
            json!({
                "target": h.target.to_string(), "pending": h.pending, "failed": h.failed,
                "last_delivered_at": h.last_delivered_at.map(|t| t.to_string()),
                "last_error": h.last_error, "last_error_at": h.last_error_at.map(|t| t.to_string()),
            })
        })
        .collect();
    let html = templates::render(
        "flags.html",
        minijinja::context! {
            flags => flags,
            deliveries => deliveries,
            can_change => user.can(Permission::ChangeFlags),
            csrf_token => user.csrf_token,
            now => state.now().to_string(),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// The form's fields (the CSRF token was checked by the guard).
#[derive(Debug, Deserialize)]
struct ChangeForm {
    /// `on` or `off`.
    state: String,
    #[serde(default)]
    reason: String,
    /// Comma- or space-separated countries or regions (sales pause).
    #[serde(default)]
    targets: String,
    #[serde(default)]
    text: String,
    /// Minutes until the automatic end; empty for none.
    #[serde(default)]
    ends_in_minutes: String,
}

async fn change_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(key): Path<String>,
    form: Result<Form<ChangeForm>, axum::extract::rejection::FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) =
        form.map_err(|e| Error::BadRequest(format!("flag form: {}", e.body_text())))?;
    let key = parse_key(&key).map_err(Error::from)?;
    let on = match form.state.as_str() {
        "on" => true,
        "off" => false,
        other => {
            return Err(Error::BadRequest(format!("state: {other:?} is not on or off")).into())
        }
    };
    let ends_at = match form.ends_in_minutes.trim() {
        "" => None,
        m => {
            let minutes: i64 = m.parse().map_err(|_| {
                Error::BadRequest(format!(
                    "ends_in_minutes: {m:?} is not a whole number of minutes"
                ))
            })?;
            if !(1..=opsdeck_operations::flags::MAX_DURATION_DAYS * 24 * 60).contains(&minutes) {
                return Err(Error::BadRequest(format!(
                    "ends_in_minutes: between 1 and {} (90 days)",
                    opsdeck_operations::flags::MAX_DURATION_DAYS * 24 * 60
                ))
                .into());
            }
            let end = state
                .now()
                .checked_add(jiff::SignedDuration::from_mins(minutes))
                .map_err(|e| Error::BadRequest(format!("ends_in_minutes: {e}")))?;
            Some(end)
        }
    };
    let change = FlagChange {
        key: key.clone(),
        on,
        targets: form
            .targets
            .split(|c: char| c == ',' || c.is_whitespace())
            .filter(|t| !t.is_empty())
            .map(String::from)
            .collect(),
        text: Some(form.text).filter(|t| !t.trim().is_empty()),
        reason: form.reason,
        ends_at,
    };
    match apply(&state, &user, &change).await? {
        Applied::Changed(_) => Ok(Redirect::to(&format!("/flags#flag-{key}"))),
        Applied::Requested(a) => Ok(Redirect::to(&format!("/approvals/{}", a.id))),
    }
}

async fn list_api(State(state): State<AppState>) -> Result<Json<Value>, Error> {
    Ok(Json(json!({ "flags": views(&state).await? })))
}

/// The JSON body of a change.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ChangeBody {
    on: bool,
    reason: String,
    #[serde(default)]
    targets: Vec<String>,
    #[serde(default)]
    text: Option<String>,
    /// RFC 3339, e.g. `2026-12-07T18:00:00Z`.
    #[serde(default)]
    ends_at: Option<String>,
}

async fn change_api(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(key): Path<String>,
    body: Result<Json<ChangeBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Error> {
    let Json(body) =
        body.map_err(|e| Error::BadRequest(format!("flag change: {}", e.body_text())))?;
    let key = parse_key(&key)?;
    let ends_at = body
        .ends_at
        .as_deref()
        .map(|s| {
            s.parse::<Timestamp>().map_err(|_| {
                Error::BadRequest(format!(
                    "ends_at: {s:?} is not an RFC 3339 time like 2026-12-07T18:00:00Z"
                ))
            })
        })
        .transpose()?;
    let change = FlagChange {
        key: key.clone(),
        on: body.on,
        targets: body.targets,
        text: body.text,
        reason: body.reason,
        ends_at,
    };
    match apply(&state, &user, &change).await? {
        Applied::Changed(flag) => {
            Ok(Json(view(&state.flags.settings, &key, Some(&flag), state.now())).into_response())
        }
        Applied::Requested(a) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({
                "status": "pending_approval",
                "approval": a.id,
                "approver_role": a.approver_role,
                "expires_at": a.expires_at,
            })),
        )
            .into_response()),
    }
}

async fn list_keys(State(state): State<AppState>) -> Result<Json<Value>, Error> {
    Ok(Json(
        json!({ "keys": state.store.list_storefront_keys().await? }),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewKeyBody {
    name: String,
}

async fn create_key(
    State(state): State<AppState>,
    user: CurrentUser,
    body: Result<Json<NewKeyBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, Error> {
    let Json(body) =
        body.map_err(|e| Error::BadRequest(format!("storefront key: {}", e.body_text())))?;
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(Error::BadRequest("name: 1 to 100 characters".into()));
    }
    let now = state.now();
    let new = NewStorefrontKey::generate(name, &user.username, now);
    let audit = AuditEntry {
        at: now,
        actor: user.username.clone(),
        action: AuditAction::StorefrontKeyCreate,
        subject: format!("storefront_key:{}", new.key.id),
        payload: json!({ "name": name }),
        ip: user.ip.map(|ip| ip.to_string()),
    };
    state.store.create_storefront_key(&new, &audit).await?;
    Ok((
        StatusCode::CREATED,
        Json(
            json!({ "id": new.key.id, "name": name, "key": new.plaintext.expose(),
                     "note": "shown once: store it in the storefront's configuration" }),
        ),
    )
        .into_response())
}

async fn revoke_key(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, Error> {
    let now = state.now();
    let audit = AuditEntry {
        at: now,
        actor: user.username.clone(),
        action: AuditAction::StorefrontKeyRevoke,
        subject: format!("storefront_key:{id}"),
        payload: json!({}),
        ip: user.ip.map(|ip| ip.to_string()),
    };
    if state.store.revoke_storefront_key(&id, now, &audit).await? {
        Ok(Json(json!({ "revoked": id })))
    } else {
        Err(Error::NotFound)
    }
}
