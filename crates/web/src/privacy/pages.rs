//! The `/privacy` page, its forms and the archive download.

use super::{actor, service};
use crate::auth::CurrentUser;
use crate::error::PageError;
use crate::{templates, AppState, Error};
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::Form;
use opsdeck_domain::privacy::{DataSubject, PrivacyRequestKind, PrivacyVia};
use opsdeck_operations::privacy::{NewPrivacyRequest, RequestView};
use serde::Deserialize;

fn form<T>(what: &str, f: Result<Form<T>, FormRejection>) -> Result<T, Error> {
    f.map(|Form(t)| t)
        .map_err(|e| Error::BadRequest(format!("{what} form: {}", e.body_text())))
}

fn utc(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%d %H:%M UTC").to_string()
}

pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, PageError> {
    let svc = service(&state)?;
    let now = state.now();
    let requests: Vec<serde_json::Value> = svc
        .list(500)
        .await
        .map_err(Error::from)?
        .iter()
        .map(|r| {
            let v = RequestView::of(r, now);
            let mut j = serde_json::to_value(&v).unwrap_or_default();
            j["received_utc"] = utc(v.received_at).into();
            j["due_utc"] = utc(v.due_at).into();
            j["status_str"] = v.status.as_str().into();
            j["via_str"] = v.via.as_str().into();
            j["sla_str"] = v.sla.as_str().into();
            j["is_export"] = (v.kind == PrivacyRequestKind::Export).into();
            j["completed"] = (!v.status.is_open()).into();
            j
        })
        .collect();
    let brands: Vec<&str> = state
        .visible_brands()
        .iter()
        .map(|b| b.id.as_str())
        .collect();
    let html = templates::render(
        "privacy.html",
        minijinja::context! {
            requests => requests,
            brands => brands,
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

#[derive(Debug, Deserialize)]
pub(crate) struct FileForm {
    kind: String,
    brand: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    customer_id: String,
    /// Order ids, separated by commas or spaces.
    #[serde(default)]
    orders: String,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty()).then(|| s.to_string())
}

pub(crate) async fn file(
    State(state): State<AppState>,
    user: CurrentUser,
    f: Result<Form<FileForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let f = form("privacy request", f)?;
    let svc = service(&state)?;
    let brand = state.brand(&f.brand)?.id.clone();
    let kind = match f.kind.as_str() {
        "export" => PrivacyRequestKind::Export,
        "erasure" => PrivacyRequestKind::Erasure,
        other => {
            return Err(Error::BadRequest(format!(
                "kind {other:?}: use export or erasure (a shop's erasure comes from Shopify)"
            ))
            .into())
        }
    };
    let new = NewPrivacyRequest {
        kind,
        via: PrivacyVia::Dashboard,
        brand,
        subject: DataSubject {
            customer_id: opt(&f.customer_id),
            email: opt(&f.email),
            phone: opt(&f.phone),
            name: opt(&f.name),
            order_ids: f
                .orders
                .split(|c: char| c == ',' || c.is_whitespace())
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        },
        source: "dashboard".into(),
        request_key: None,
    };
    svc.file(new, &actor(&user), state.now())
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to("/privacy"))
}

pub(crate) async fn link(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    let svc = service(&state)?;
    let (token, expires_at) = svc
        .create_link(id, &actor(&user), state.now())
        .await
        .map_err(Error::from)?;
    let html = templates::render(
        "privacy_link.html",
        minijinja::context! {
            id => id,
            href => format!("/privacy/download/{token}"),
            expires => utc(expires_at),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

pub(crate) async fn download(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(token): Path<String>,
) -> Result<Response, PageError> {
    let svc = service(&state)?;
    let archive = svc
        .download(&token, &actor(&user), state.now())
        .await
        .map_err(Error::from)?;
    Ok((
        [
            (header::CONTENT_TYPE, "application/zip".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{}\"", archive.file_name),
            ),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
        archive.bytes,
    )
        .into_response())
}
