//! The one layer every request passes: session, permission, CSRF.
//!
//! It runs after routing, so it knows the matched route and the access
//! that route declared ([`super::rules`]).
//!
//! Order: work out the client (socket or trusted proxy); let public routes
//! through; find the session (ending it when idle or past its absolute
//! lifetime, or when its user is disabled); without one, send a browser
//! asking for a page to `/login?next=…` and answer anything else 401;
//! refuse what the role may not do (403); for state-changing requests check
//! the session's CSRF token, from the `X-CSRF-Token` header or the form's
//! `csrf_token` field (403); then run the handler with a [`CurrentUser`],
//! with the nav set for the role, the incident banner loaded for a page,
//! the brands its role sees (`crate::scope`), and amounts of money shown only if the
//! role may see revenue (`opsdeck_metrics::money_json`: every page, JSON
//! body and export rendered while the handler runs follows it).

use super::rules::{is_unsafe, table, Access};
use super::session::{cookie, set_cookie, SESSION_COOKIE};
use super::{ClientInfo, CurrentUser, Permission};
use crate::error::PageError;
use crate::{AppState, Error};
use axum::body::{to_bytes, Body};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{header, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use opsdeck_accounts::session::{id_hash, touch_due, SessionCutoffs};
use opsdeck_store::SessionRecord;
use subtle::ConstantTimeEq;

/// The largest form body read for its CSRF field.
const FORM_LIMIT: usize = 1 << 20;

/// The header browsers' JSON writes carry the CSRF token in.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The hidden form field every form carries.
pub const CSRF_FIELD: &str = "csrf_token";

fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

/// 401/403 as JSON for the API, as a page elsewhere.
fn refuse(path: &str, error: Error) -> Response {
    if is_api(path) {
        error.into_response()
    } else {
        PageError(error).into_response()
    }
}

pub(crate) async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (mut parts, body) = request.into_parts();
    let client = ClientInfo::of(&parts, &state.auth.config.trusted_proxies);
    parts.extensions.insert(client);
    let path = parts.uri.path().to_string();
    let matched = parts
        .extensions
        .get::<MatchedPath>()
        .map(MatchedPath::as_str);
    let needed = match table().access(&parts.method, matched) {
        // Public routes show no money: none of them has any to show.
        // Their brand scope is every brand: they show none's data, and
        // those that take a brand (ingest) check their own token's.
        Access::Public => {
            let work = next.run(Request::from_parts(parts, body));
            let work = crate::scope::within(opsdeck_accounts::BrandScope::Every, work);
            return opsdeck_metrics::money_json::shown_while(false, work).await;
        }
        Access::Require(p) => p,
    };
    let session_id = cookie(&parts.headers, SESSION_COOKIE).map(str::to_string);
    let session = match &session_id {
        Some(id) => match live_session(&state, id).await {
            Ok(s) => s,
            Err(e) => return refuse(&path, e),
        },
        None => None,
    };
    let Some((id_sha, session)) = session else {
        let mut response = if !is_api(&path) && matches!(parts.method, Method::GET | Method::HEAD) {
            let next_url = parts
                .uri
                .path_and_query()
                .map(|p| p.as_str())
                .unwrap_or("/");
            Redirect::to(&format!("/login?next={}", encode(next_url))).into_response()
        } else {
            refuse(&path, Error::Unauthorized("login required".into()))
        };
        if session_id.is_some() {
            // A stale cookie: tell the browser to drop it.
            let secure = state.auth.config.secure_cookies.applies(client.https);
            response.headers_mut().append(
                header::SET_COOKIE,
                set_cookie(SESSION_COOKIE, "", Some(0), secure),
            );
        }
        return response;
    };
    let roles = &state.auth.config.roles;
    let role = session.user.role;
    let viewer = crate::nav::Viewer::of(roles, role);
    if !roles.allows(role, needed) {
        tracing::info!(user = %session.user.username, role = %session.user.role, ?needed, path = %crate::privacy::loggable(&path), "permission denied");
        return crate::nav::for_role_sync(viewer, || {
            refuse(
                &path,
                Error::Forbidden(format!("the {role} role may not do this")),
            )
        });
    }
    let body = if is_unsafe(&parts.method) {
        match check_csrf(&parts.headers, body, &session.csrf_token).await {
            Ok(body) => body,
            Err(e) => {
                tracing::warn!(user = %session.user.username, path = %crate::privacy::loggable(&path), "CSRF check failed");
                return refuse(&path, e);
            }
        }
    } else {
        body
    };
    let now = state.now();
    if touch_due(session.last_seen_at, now, state.auth.config.idle_timeout) {
        if let Err(e) = state.store.touch_session(&id_sha, now).await {
            return refuse(&path, e.into());
        }
    }
    // Pages render their nav for this role (see `nav`), and amounts of
    // money only for a role that may see revenue.
    let shows_money = roles.allows(role, Permission::ViewRevenue);
    let banner = crate::incidents::shows_banner(&parts.method, &path);
    let username = session.user.username.clone();
    parts.extensions.insert(CurrentUser {
        username: session.user.username,
        role,
        csrf_token: session.csrf_token,
        ip: client.ip,
        permissions: Permission::ALL
            .into_iter()
            .filter(|p| roles.allows(role, *p))
            .collect(),
    });
    let work = next.run(Request::from_parts(parts, body));
    let work = opsdeck_metrics::money_json::shown_while(shows_money, work);
    // Pages show the incident-mode banner (`incidents`).
    let work = crate::incidents::banner_scope(&state, banner, work);
    // And the nav's count of approvals this person may decide.
    let decides = roles
        .allows(role, Permission::DecideApprovals)
        .then_some((username.as_str(), role));
    let work = crate::approvals::badge_scope(&state, banner, decides, work);
    // Every read, the banner's included, sees only the brands of the
    // role's scope (`crate::scope`).
    let work = crate::scope::within(roles.scope(role), work);
    crate::nav::for_role(viewer, work).await
}

/// The session behind cookie id `id`, if it is still alive; an expired one
/// is deleted.
async fn live_session(
    state: &AppState,
    id: &str,
) -> Result<Option<(String, SessionRecord)>, Error> {
    let sha = id_hash(id);
    let Some(s) = state.store.session(&sha).await? else {
        return Ok(None);
    };
    let ended = SessionCutoffs::at(state.now(), &state.auth.config);
    let idle = ended.idle(s.last_seen_at);
    let old = ended.too_old(s.created_at);
    if idle || old || s.user.disabled_at.is_some() {
        state.store.delete_session(&sha).await?;
        tracing::info!(user = %s.user.username, idle, old, "session ended");
        return Ok(None);
    }
    Ok(Some((sha, s)))
}

fn csrf_error() -> Error {
    Error::Forbidden("missing or wrong CSRF token: reload the page and try again".into())
}

fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Checks the CSRF token of a state-changing request: the header, or the
/// `csrf_token` field of a form body (which is read and handed on intact).
async fn check_csrf(
    headers: &axum::http::HeaderMap,
    body: Body,
    expected: &str,
) -> Result<Body, Error> {
    if let Some(token) = headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok()) {
        return if same(token, expected) {
            Ok(body)
        } else {
            Err(csrf_error())
        };
    }
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/x-www-form-urlencoded"));
    if !is_form {
        return Err(csrf_error());
    }
    let bytes = to_bytes(body, FORM_LIMIT)
        .await
        .map_err(|_| Error::BadRequest("form body too large".into()))?;
    let token = form_urlencoded::parse(&bytes)
        .find(|(k, _)| k == CSRF_FIELD)
        .map(|(_, v)| v.into_owned());
    match token {
        Some(t) if same(&t, expected) => Ok(Body::from(bytes)),
        _ => Err(csrf_error()),
    }
}

/// Percent-encodes a path for the `next` parameter.
fn encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
