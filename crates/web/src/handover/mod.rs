//! Shift handovers and the morning checklist over HTTP (issue 14 point 4).
//! The rules are `opsdeck_operations::handover`'s (lifecycle, four eyes,
//! pre-fill, the local day); this module extracts, calls and renders.
//!
//! - `pages`: `GET /handovers` (regions, their current shift, recent
//!   notes, start a note), `GET /handovers/{id}` (the note; edit and submit
//!   for its author, acknowledge for the incoming person), the forms they
//!   post, `GET /checklist?region=ID` and its "checked" buttons.
//! - `api`: the same under `/api/v1/handovers` and `/api/v1/checklist`.
//!
//! Reading needs `ViewHandover`; every change needs `WriteHandover`. No
//! amount of money is on these pages (the notes copy no amounts).
//!
//! A note and a checklist speak of every brand of their region, so a
//! person whose role is limited to some brands sees a region's notes and
//! checklist only when they see all of its brands ([`sees_region`]):
//! another region named is a 403, another region's note by id a 404, and
//! the lists leave them out.

mod api;
mod pages;

use crate::auth::rules::Routes;
use crate::auth::{CurrentUser, Permission};
use crate::{AppState, Error};
use opsdeck_domain::Region;
use opsdeck_operations::handover::{HandoverError, HandoverNote, Handovers};
use opsdeck_operations::incidents::Actor;
use serde::Serialize;
use std::sync::Arc;

pub(crate) fn router() -> Routes {
    use Permission::*;
    Routes::new()
        .get("/handovers", ViewHandover, pages::list)
        .post("/handovers", WriteHandover, pages::start)
        .get("/handovers/{id}", ViewHandover, pages::detail)
        .post("/handovers/{id}/edit", WriteHandover, pages::edit)
        .post("/handovers/{id}/submit", WriteHandover, pages::submit)
        .post(
            "/handovers/{id}/acknowledge",
            WriteHandover,
            pages::acknowledge,
        )
        .get("/checklist", ViewHandover, pages::checklist)
        .post("/checklist/{region}/{item}", WriteHandover, pages::check)
        .get("/api/v1/handovers", ViewHandover, api::list)
        .post("/api/v1/handovers", WriteHandover, api::start)
        .get("/api/v1/handovers/{id}", ViewHandover, api::one)
        .post("/api/v1/handovers/{id}/edit", WriteHandover, api::edit)
        .post("/api/v1/handovers/{id}/submit", WriteHandover, api::submit)
        .post(
            "/api/v1/handovers/{id}/acknowledge",
            WriteHandover,
            api::acknowledge,
        )
        .get("/api/v1/checklist", ViewHandover, api::checklist)
        .post(
            "/api/v1/checklist/{region}/{item}",
            WriteHandover,
            api::check,
        )
}

fn service(state: &AppState) -> Result<&Arc<Handovers>, Error> {
    state
        .handovers
        .as_ref()
        .ok_or_else(|| Error::BadRequest("handovers are not configured".into()))
}

/// Whether the request's person sees every brand of `region`.
fn sees_region(region: &Region) -> bool {
    let scope = crate::scope::current();
    scope.is_every() || region.brands.iter().all(|b| scope.sees(b.as_str()))
}

/// The regions the person sees whole, in configured order.
fn visible_regions(svc: &Handovers) -> Vec<&Region> {
    svc.regions().iter().filter(|r| sees_region(r)).collect()
}

/// `id` when it names a region the person sees: an unknown one is the
/// service's 400 (listing them), another region's a 403 naming it.
fn region_in_scope(state: &AppState, svc: &Handovers, id: &str) -> Result<(), Error> {
    match sees_region(svc.region(id)?) {
        true => Ok(()),
        false => Err(state.out_of_scope(&format!("region {id:?}"))),
    }
}

/// The region asked for, or the first the person sees; a 403 when they
/// see none whole.
fn chosen_region(state: &AppState, svc: &Handovers, asked: Option<&str>) -> Result<String, Error> {
    match asked.filter(|r| !r.is_empty()) {
        Some(id) => region_in_scope(state, svc, id).map(|()| id.to_string()),
        None => visible_regions(svc)
            .first()
            .map(|r| r.id.to_string())
            .ok_or_else(|| state.out_of_scope("every region")),
    }
}

/// Note `id` when its region is one the person sees; another region's
/// note is not found, as another brand's alert is.
async fn note_in_scope(svc: &Handovers, id: i64) -> Result<HandoverNote, Error> {
    let note = svc.get(id).await?;
    match svc.region(&note.region).is_ok_and(sees_region) {
        true => Ok(note),
        false => Err(Error::NotFound),
    }
}

/// The notes of the regions the person sees.
fn notes_in_scope(svc: &Handovers, notes: Vec<HandoverNote>) -> Vec<HandoverNote> {
    notes
        .into_iter()
        .filter(|n| svc.region(&n.region).is_ok_and(sees_region))
        .collect()
}

fn actor(user: &CurrentUser) -> Actor {
    Actor {
        name: user.username.clone(),
        ip: user.ip.map(|ip| ip.to_string()),
    }
}

/// A refused step 409 (or 403 when it is someone else's to take), bad
/// input 400, unknown note 404, the store's failure 500.
impl From<HandoverError> for Error {
    fn from(e: HandoverError) -> Self {
        match e {
            HandoverError::Store(e) => Error::Store(e),
            HandoverError::Corrupt(id, reason) => {
                Error::Store(opsdeck_store::StoreError::Corrupt {
                    kind: "handover",
                    external_id: id.to_string(),
                    reason,
                })
            }
            HandoverError::Live(reason) => Error::Store(opsdeck_store::StoreError::Corrupt {
                kind: "live state",
                external_id: String::new(),
                reason,
            }),
            HandoverError::NotFound(_) => Error::NotFound,
            e @ (HandoverError::NotAuthor { .. } | HandoverError::OwnHandover) => {
                Error::Forbidden(e.to_string())
            }
            e @ (HandoverError::Transition { .. }
            | HandoverError::NotEditable(_)
            | HandoverError::Conflict(_)) => Error::Conflict(e.to_string()),
            e @ (HandoverError::UnknownRegion(..)
            | HandoverError::UnknownItem(..)
            | HandoverError::Invalid(_)) => Error::BadRequest(e.to_string()),
        }
    }
}

/// A note as pages and the API show it: the note, its times in the
/// region's zone, and what the viewer may do with it.
#[derive(Debug, Serialize)]
pub(crate) struct NoteView {
    #[serde(flatten)]
    note: HandoverNote,
    shift_local: String,
    ack_due: Option<jiff::Timestamp>,
    overdue: bool,
    may_edit: bool,
    may_acknowledge: bool,
}

pub(crate) fn view(
    svc: &Handovers,
    note: HandoverNote,
    user: &CurrentUser,
    now: jiff::Timestamp,
) -> NoteView {
    let tz = svc
        .region(&note.region)
        .map(|r| r.time_zone.clone())
        .unwrap_or(jiff::tz::TimeZone::UTC);
    let local = |t: jiff::Timestamp| {
        t.to_zoned(tz.clone())
            .strftime("%Y-%m-%d %H:%M %Z")
            .to_string()
    };
    let writes = user.can(Permission::WriteHandover);
    use opsdeck_operations::handover::HandoverState::*;
    NoteView {
        shift_local: format!("{} – {}", local(note.shift.start), local(note.shift.end)),
        ack_due: note.ack_due(svc.policy()),
        overdue: note.is_overdue(svc.policy(), now),
        may_edit: writes && note.state == Draft && note.created_by == user.username,
        may_acknowledge: writes
            && note.state == Submitted
            && note.submitted_by.as_deref() != Some(user.username.as_str()),
        note,
    }
}
