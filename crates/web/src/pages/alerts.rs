//! `GET /alerts`: open alerts with acknowledge and resolve forms, and the
//! recent history. The forms post to `/alerts/{id}/ack|resolve` and
//! redirect back (post/redirect/get), so they work without script; the
//! change goes through `opsdeck_alerts::actions`, the same path as the API
//! and Telegram, which writes the audit log in the same transaction.

use crate::error::PageError;
use crate::params::{NoParams, Params};
use crate::view::age;
use crate::{templates, AppState, Error};
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::Form;
use opsdeck_alerts::actions::{self, Actor};
use opsdeck_alerts::AlertError;
use opsdeck_store::alerts::{EpisodeFilter, EpisodeRow};
use serde::Deserialize;

fn row(e: &EpisodeRow, now: opsdeck_domain::Timestamp) -> serde_json::Value {
    serde_json::json!({
        "id": e.id, "rule": e.rule, "brand": e.brand, "severity": e.severity,
        "state": e.state, "opened": age(e.opened_at, now), "updated": age(e.updated_at, now),
        "summary": e.body.get("summary").and_then(|s| s.as_str()).unwrap_or(""),
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    params: Result<Params<NoParams>, Error>,
) -> Result<Html<String>, PageError> {
    params?;
    let now = state.now();
    let open = state
        .store
        .alert_episodes(&EpisodeFilter {
            open_only: true,
            brand: None,
            limit: 200,
        })
        .await
        .map_err(Error::from)?;
    let all = state
        .store
        .alert_episodes(&EpisodeFilter {
            open_only: false,
            brand: None,
            limit: 50,
        })
        .await
        .map_err(Error::from)?;
    let history: Vec<_> = all
        .iter()
        .filter(|e| e.state == "resolved")
        .map(|e| row(e, now))
        .collect();
    let html = templates::render(
        "alerts.html",
        minijinja::context! {
            open => open.iter().map(|e| row(e, now)).collect::<Vec<_>>(),
            history => history,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// The form's fields. Unknown fields are allowed: the form also carries
/// the anti-forgery token, which a layer before this handler checks.
#[derive(Debug, Deserialize)]
pub(crate) struct ActionForm {
    #[serde(default)]
    note: Option<String>,
}

fn actor() -> Actor {
    Actor::new("dashboard", "web")
}

fn alert_error(e: AlertError) -> Error {
    match e {
        AlertError::Store(e) => Error::Store(e),
        AlertError::NoSuchEpisode(_) => Error::NotFound,
        other => Error::BadRequest(other.to_string()),
    }
}

pub(crate) async fn ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(_form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    actions::acknowledge(state.store.as_ref(), &id, &actor(), state.now())
        .await
        .map_err(alert_error)?;
    Ok(Redirect::to("/alerts"))
}

pub(crate) async fn resolve(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<ActionForm>,
) -> Result<Redirect, PageError> {
    let _ = form.note;
    actions::resolve(state.store.as_ref(), &id, &actor(), state.now())
        .await
        .map_err(alert_error)?;
    Ok(Redirect::to("/alerts"))
}
