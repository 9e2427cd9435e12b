//! `/api/v1/handovers` and `/api/v1/checklist`: the pages' reads and
//! changes as JSON (a person's session; writes carry the CSRF header).

use super::{
    actor, chosen_region, note_in_scope, notes_in_scope, region_in_scope, service, view, NoteView,
};
use crate::auth::CurrentUser;
use crate::params::Params;
use crate::{AppState, Error};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use opsdeck_operations::handover::{Checklist, Sections};
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ListQuery {
    region: Option<String>,
}

pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
    Params(q): Params<ListQuery>,
) -> Result<Json<Value>, Error> {
    let svc = service(&state)?;
    let now = state.now();
    let region = q.region.as_deref().filter(|r| !r.is_empty());
    if let Some(id) = region {
        region_in_scope(&state, svc, id)?;
    }
    let notes: Vec<NoteView> = notes_in_scope(svc, svc.list(region).await?)
        .into_iter()
        .map(|n| view(svc, n, &user, now))
        .collect();
    Ok(Json(json!({ "handovers": notes })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct StartBody {
    region: String,
}

fn body<T>(b: Result<Json<T>, axum::extract::rejection::JsonRejection>) -> Result<T, Error> {
    b.map(|Json(t)| t)
        .map_err(|e| Error::BadRequest(format!("body: {}", e.body_text())))
}

pub(crate) async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    b: Result<Json<StartBody>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<NoteView>), Error> {
    let b = body(b)?;
    let svc = service(&state)?;
    region_in_scope(&state, svc, &b.region)?;
    let note = svc.start(&b.region, &actor(&user)).await?;
    Ok((
        StatusCode::CREATED,
        Json(view(svc, note, &user, state.now())),
    ))
}

pub(crate) async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<NoteView>, Error> {
    let svc = service(&state)?;
    let note = note_in_scope(svc, id).await?;
    Ok(Json(view(svc, note, &user, state.now())))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EditBody {
    open_issues: String,
    pending_actions: String,
    customer_escalations: String,
    next_shift_notes: String,
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    b: Result<Json<EditBody>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<NoteView>, Error> {
    let b = body(b)?;
    let svc = service(&state)?;
    let sections = Sections {
        open_issues: b.open_issues,
        pending_actions: b.pending_actions,
        customer_escalations: b.customer_escalations,
        next_shift_notes: b.next_shift_notes,
    };
    note_in_scope(svc, id).await?;
    let note = svc.edit(id, sections, &actor(&user)).await?;
    Ok(Json(view(svc, note, &user, state.now())))
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<NoteView>, Error> {
    let svc = service(&state)?;
    note_in_scope(svc, id).await?;
    let note = svc.submit(id, &actor(&user)).await?;
    Ok(Json(view(svc, note, &user, state.now())))
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Json<NoteView>, Error> {
    let svc = service(&state)?;
    note_in_scope(svc, id).await?;
    let note = svc.acknowledge(id, &actor(&user)).await?;
    Ok(Json(view(svc, note, &user, state.now())))
}

pub(crate) async fn checklist(
    State(state): State<AppState>,
    Params(q): Params<ListQuery>,
) -> Result<Json<Checklist>, Error> {
    let svc = service(&state)?;
    let region = chosen_region(&state, svc, q.region.as_deref())?;
    Ok(Json(svc.checklist(&region).await?))
}

pub(crate) async fn check(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((region, item)): Path<(String, String)>,
) -> Result<Json<Checklist>, Error> {
    let svc = service(&state)?;
    region_in_scope(&state, svc, &region)?;
    Ok(Json(svc.check(&region, &item, &actor(&user)).await?))
}
