//! The handover and checklist pages and the forms they post. Each form
//! handler parses the form, calls one `Handovers` method (which validates,
//! stores and audits) and redirects back.

use super::{
    actor, chosen_region, note_in_scope, notes_in_scope, region_in_scope, service, view,
    visible_regions,
};
use crate::auth::{CurrentUser, Permission};
use crate::error::PageError;
use crate::params::Params;
use crate::{templates, AppState, Error};
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::Form;
use opsdeck_operations::handover::Sections;
use serde::Deserialize;
use serde_json::{json, Value};

fn form<T>(what: &str, f: Result<Form<T>, FormRejection>) -> Result<T, Error> {
    f.map(|Form(t)| t)
        .map_err(|e| Error::BadRequest(format!("{what} form: {}", e.body_text())))
}

pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, PageError> {
    let svc = service(&state)?;
    let now = state.now();
    let regions: Vec<Value> = visible_regions(svc)
        .into_iter()
        .map(|r| {
            let shift = svc.current_shift(r);
            let local = |t: jiff::Timestamp| {
                t.to_zoned(r.time_zone.clone())
                    .strftime("%H:%M")
                    .to_string()
            };
            json!({
                "id": r.id.as_str(),
                "name": r.name,
                "time_zone": r.time_zone_name(),
                "shift": format!("{} – {}", local(shift.start), local(shift.end)),
                "leads": r.leads.join(", "),
            })
        })
        .collect();
    let notes: Vec<_> = notes_in_scope(svc, svc.list(None).await.map_err(Error::from)?)
        .into_iter()
        .map(|n| view(svc, n, &user, now))
        .collect();
    let html = templates::render(
        "handovers.html",
        minijinja::context! {
            regions => regions,
            notes => notes,
            ack_within => format!("{:#}", svc.policy().ack_within),
            can_write => user.can(Permission::WriteHandover),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

#[derive(Debug, Deserialize)]
pub(crate) struct StartForm {
    region: String,
}

pub(crate) async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    f: Result<Form<StartForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let f = form("handover", f)?;
    let svc = service(&state)?;
    region_in_scope(&state, svc, &f.region)?;
    let note = svc
        .start(&f.region, &actor(&user))
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to(&format!("/handovers/{}", note.id)))
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let svc = service(&state)?;
    let note = note_in_scope(svc, id).await?;
    let html = templates::render(
        "handover.html",
        minijinja::context! {
            n => view(svc, note, &user, state.now()),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

#[derive(Debug, Deserialize)]
pub(crate) struct EditForm {
    open_issues: String,
    pending_actions: String,
    customer_escalations: String,
    next_shift_notes: String,
}

pub(crate) async fn edit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    f: Result<Form<EditForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let f = form("handover", f)?;
    let sections = Sections {
        open_issues: f.open_issues,
        pending_actions: f.pending_actions,
        customer_escalations: f.customer_escalations,
        next_shift_notes: f.next_shift_notes,
    };
    let svc = service(&state)?;
    note_in_scope(svc, id).await?;
    svc.edit(id, sections, &actor(&user))
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to(&format!("/handovers/{id}")))
}

pub(crate) async fn submit(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, PageError> {
    let svc = service(&state)?;
    note_in_scope(svc, id).await?;
    svc.submit(id, &actor(&user)).await.map_err(Error::from)?;
    Ok(Redirect::to(&format!("/handovers/{id}")))
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, PageError> {
    let svc = service(&state)?;
    note_in_scope(svc, id).await?;
    svc.acknowledge(id, &actor(&user))
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to(&format!("/handovers/{id}")))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChecklistQuery {
    region: Option<String>,
}

pub(crate) async fn checklist(
    State(state): State<AppState>,
    user: CurrentUser,
    Params(q): Params<ChecklistQuery>,
) -> Result<Html<String>, PageError> {
    let svc = service(&state)?;
    let region = chosen_region(&state, svc, q.region.as_deref())?;
    let checklist = svc.checklist(&region).await.map_err(Error::from)?;
    let regions: Vec<Value> = visible_regions(svc)
        .into_iter()
        .map(|r| json!({ "id": r.id.as_str(), "name": r.name }))
        .collect();
    let tz = svc
        .region(&region)
        .map(|r| r.time_zone.clone())
        .map_err(Error::from)?;
    let checked_local: Vec<Option<String>> = checklist
        .rows
        .iter()
        .map(|r| {
            r.checked_at
                .map(|t| t.to_zoned(tz.clone()).strftime("%H:%M %Z").to_string())
        })
        .collect();
    let html = templates::render(
        "checklist.html",
        minijinja::context! {
            c => checklist,
            checked_local => checked_local,
            regions => regions,
            can_write => user.can(Permission::WriteHandover),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

pub(crate) async fn check(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((region, item)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let svc = service(&state)?;
    region_in_scope(&state, svc, &region)?;
    svc.check(&region, &item, &actor(&user))
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to(&format!("/checklist?region={region}")))
}
