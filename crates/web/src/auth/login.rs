//! `GET /login`, `POST /login`, `POST /logout`.
//!
//! The login form is protected against login CSRF with a double-submit
//! token (a cookie and a hidden field that must match), since no session
//! exists yet. Every refused login — unknown user, wrong password, disabled
//! account, locked — answers the same words, and is written to the audit
//! log with the real reason for the admins.

use super::guard::safe_next;
use super::rules::{Access, Routes};
use super::session::{self, cookie, set_cookie, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use super::Permission;
use super::{ClientInfo, CurrentUser};
use crate::error::PageError;
use crate::{audit, templates, AppState, Error};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

/// What every refused login says.
pub const LOGIN_REFUSED: &str =
    "Wrong username or password, or too many attempts. Wait a few minutes and try again.";

pub(super) fn router() -> Routes {
    Routes::new()
        .get("/login", Access::Public, page)
        .post("/login", Access::Public, submit)
        .get("/logout", Permission::ViewDashboard, logout_page)
        .post("/logout", Permission::ViewDashboard, logout)
        .get("/session", Permission::ViewDashboard, who_am_i)
}

#[derive(serde::Serialize)]
struct SessionInfo {
    username: String,
    role: super::Role,
    /// Sent back in `X-CSRF-Token` by page script making JSON writes.
    csrf_token: String,
    /// What the role may do, by name (`ViewRevenue`, `ActOnAlerts`, …).
    permissions: Vec<String>,
}

/// `GET /session`: who is logged in, the CSRF token for script, and what
/// the role may do (so page script can hide what would be refused).
async fn who_am_i(user: CurrentUser) -> axum::Json<SessionInfo> {
    let permissions = super::Permission::ALL
        .into_iter()
        .filter(|p| user.can(*p))
        .map(|p| format!("{p:?}"))
        .collect();
    let info = SessionInfo {
        username: user.username,
        role: user.role,
        csrf_token: user.csrf_token,
        permissions,
    };
    axum::Json(info)
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    next: Option<String>,
}

/// Renders the form with the login CSRF token in cookie and field. A
/// well-formed token the browser already holds is kept: the browser may
/// load the login page more than once (a second tab, a redirected
/// sub-resource request), and minting a new cookie each time would make
/// the form already open in another load fail as "expired".
fn form(
    state: &AppState,
    client: &ClientInfo,
    headers: &HeaderMap,
    status: StatusCode,
    next: &str,
    username: &str,
    error: Option<&str>,
) -> Result<Response, PageError> {
    let token = cookie(headers, LOGIN_CSRF_COOKIE)
        .filter(|t| {
            t.len() == 43
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_string)
        .unwrap_or_else(session::random_token);
    let html = templates::render(
        "login.html",
        minijinja::context! { csrf_token => token, next, username, error },
    )
    .map_err(Error::from)?;
    let secure = state.auth.config.secure_cookies.applies(client);
    let mut response = (status, Html(html)).into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, &token, Some(3600), secure),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, "no-store".parse().expect("static"));
    Ok(response)
}

fn next_or_root(next: Option<&str>) -> &str {
    next.filter(|n| safe_next(n)).unwrap_or("/")
}

async fn page(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Query(q): Query<PageQuery>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    form(
        &state,
        &client,
        &headers,
        StatusCode::OK,
        next_or_root(q.next.as_deref()),
        "",
        None,
    )
}

#[derive(Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    csrf_token: String,
    #[serde(default)]
    next: Option<String>,
}

async fn submit(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = next_or_root(f.next.as_deref()).to_string();
    let cookie_token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie_token.is_empty()
        || !bool::from(cookie_token.as_bytes().ct_eq(f.csrf_token.as_bytes()))
    {
        return Err(PageError(Error::Forbidden(
            "the login form expired: reload the page and try again".into(),
        )));
    }
    let username = f.username.trim().to_lowercase();
    let now = state.now();
    let ip = client.ip_text();
    let user_key = format!("user:{username}");
    let ip_key = ip.as_ref().map(|ip| format!("ip:{ip}"));
    let limiter = &state.auth.limiter;
    let locked = limiter.is_locked(&user_key, now)
        || ip_key.as_ref().is_some_and(|k| limiter.is_locked(k, now));

    let creds = state
        .store
        .user_credentials(&username)
        .await
        .map_err(Error::from)?;
    // Always run one argon2 verification, so the time taken does not say
    // whether the username exists.
    let (hash, enabled) = match &creds {
        Some((user, hash)) => (hash.as_str(), user.disabled_at.is_none()),
        None => (state.auth.dummy_hash.as_str(), false),
    };
    let password_ok = state.auth.config.hasher.verify(&f.password, hash);
    let reason = match (&creds, locked, enabled, password_ok) {
        (_, true, _, _) => Some("locked"),
        (None, ..) => Some("unknown_user"),
        (Some(_), _, false, _) => Some("disabled"),
        (Some(_), _, true, false) => Some("wrong_password"),
        (Some(_), _, true, true) => None,
    };
    let actor = if username.is_empty() {
        "(none)".to_string()
    } else {
        username.clone()
    };
    if let Some(reason) = reason {
        audit::record(
            &state,
            &actor,
            ip.clone(),
            "login.failure",
            &format!("user:{actor}"),
            json!({ "reason": reason }),
        )
        .await?;
        if !locked {
            let limits = limiter.limits();
            if limiter.fail(&user_key, limits.max_failures, now) {
                audit::record(&state, &actor, ip.clone(), "login.lockout", &format!("user:{actor}"),
                    json!({ "failures": limits.max_failures, "minutes": limits.lockout.as_secs() / 60 })).await?;
            }
            if let Some(k) = &ip_key {
                if limiter.fail(k, limits.max_failures_per_ip, now) {
                    audit::record(&state, &actor, ip.clone(), "login.lockout", k,
                        json!({ "failures": limits.max_failures_per_ip, "minutes": limits.lockout.as_secs() / 60 })).await?;
                }
            }
        }
        tracing::info!(user = %actor, reason, "login refused");
        return form(
            &state,
            &client,
            &headers,
            StatusCode::UNAUTHORIZED,
            &next,
            &username,
            Some(LOGIN_REFUSED),
        );
    }
    limiter.clear(&user_key);
    let created = session::create(state.store.as_ref(), &username, ip.clone(), now)
        .await
        .map_err(Error::from)?;
    audit::record(
        &state,
        &username,
        ip,
        "login.success",
        &format!("user:{username}"),
        json!({}),
    )
    .await?;
    let secure = state.auth.config.secure_cookies.applies(&client);
    let mut response = Redirect::to(&next).into_response();
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &created.id, None, secure),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, "", Some(0), secure),
    );
    Ok(response)
}

/// `GET /logout`: the nav's "Log out" link lands on a one-button form
/// (logging out is a POST with the session's CSRF token).
async fn logout_page(user: CurrentUser) -> Result<Html<String>, PageError> {
    let html = templates::render(
        "logout.html",
        minijinja::context! { username => user.username, csrf_token => user.csrf_token },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

async fn logout(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    user: CurrentUser,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(id) = cookie(&headers, SESSION_COOKIE) {
        state
            .store
            .delete_session(&session::id_hash(id))
            .await
            .map_err(Error::from)?;
    }
    audit::record_for(
        &state,
        &user,
        "logout",
        &format!("user:{}", user.username),
        json!({}),
    )
    .await?;
    let secure = state.auth.config.secure_cookies.applies(&client);
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), secure),
    );
    Ok(response)
}
