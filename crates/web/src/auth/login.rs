//! `GET /login`, `POST /login`, `POST /logout`.
//!
//! The login form is protected against login CSRF with a double-submit
//! token (a cookie and a hidden field that must match), since no session
//! exists yet. Every refused login — unknown user, wrong password, disabled
//! account, throttled — answers the same words; failures are written to
//! the audit log with the real reason for the admins, collapsed into
//! counts (see `opsdeck_accounts::limiter`), with every field bounded.
//!
//! Whether an attempt is throttled, refused or accepted is decided by
//! `opsdeck_accounts::login` (this handler reads the form, calls it,
//! audits and answers): an address over its attempt rate, or a (username,
//! address) pair still waiting after repeated failures, is answered 429
//! with `Retry-After` and the password is not checked. A correct password
//! from an address without failures is never held up.
//! When one account collects many failures it is audited as
//! `login.under_attack`, and its owner's next successful login shows a
//! notice of how many failed attempts, from how many addresses, came
//! since their last login.

use super::rules::{Access, Routes};
use super::session::{cookie, set_cookie, LOGIN_CSRF_COOKIE, SESSION_COOKIE};
use super::Permission;
use super::{ClientInfo, CurrentUser};
use crate::error::PageError;
use crate::{audit, templates, AppState, Error};
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::{Extension, Form};
use opsdeck_accounts::limiter::{AttackReport, FailureNote, RetryAfter};
use opsdeck_accounts::login::{Attempt, LoginOutcome};
use opsdeck_accounts::session;
use opsdeck_store::{normalize_username, AuditAction};
use serde::Deserialize;
use serde_json::json;
use subtle::ConstantTimeEq;

/// Characters of a typed username shown back in the form and the logs
/// (an account's name is at most 64).
const USERNAME_SHOWN: usize = 64;

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
    /// The brand ids the role sees; absent when it sees every brand.
    #[serde(skip_serializing_if = "Option::is_none")]
    brands: Option<Vec<String>>,
}

/// `GET /session`: who is logged in, the CSRF token for script, and what
/// the role may do (so page script can hide what would be refused).
async fn who_am_i(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    user: CurrentUser,
) -> axum::Json<SessionInfo> {
    let brands = (!crate::scope::current().is_every()).then(|| {
        state
            .visible_brands()
            .iter()
            .map(|b| b.id.to_string())
            .collect()
    });
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
        brands,
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
    let secure = state.auth.config.secure_cookies.applies(client.https);
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
        &crate::redirect::target_or_root(q.next.as_deref()),
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

/// The address a login is counted under (an IPv6 host by its /64);
/// router tests run without one.
fn address_key(client: &ClientInfo) -> String {
    client.rate_key().unwrap_or_else(|| "(unknown)".into())
}

/// The refused form, answered 429 with `Retry-After`: the address is over
/// its attempt rate, or this username from this address must still wait.
/// The password was not checked, and the words are those of any refusal.
fn throttled(
    state: &AppState,
    client: &ClientInfo,
    headers: &HeaderMap,
    next: &str,
    username: &str,
    retry: RetryAfter,
) -> Result<Response, PageError> {
    let mut response = form(
        state,
        client,
        headers,
        StatusCode::TOO_MANY_REQUESTS,
        next,
        username,
        Some(LOGIN_REFUSED),
    )?;
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry.seconds()));
    Ok(response)
}

/// Writes what one failed login adds to the audit log: the failure,
/// collapsed (the first of this name from this address, then at 2, 4, 8,
/// … with the count so far), and once per window the attack on the
/// account — only for a name an account could have, so a flood of
/// garbage names is one counter, not an account under attack.
async fn audit_failure(
    state: &AppState,
    actor: &str,
    ip: Option<String>,
    reason: &str,
    note: &FailureNote,
    valid_name: bool,
) -> Result<(), Error> {
    let subject = format!("user:{actor}");
    if note.audit {
        let payload = json!({ "reason": reason, "failures": note.pair_failures });
        audit::record(
            state,
            actor,
            ip.clone(),
            AuditAction::LoginFailure,
            &subject,
            payload,
        )
        .await?;
    }
    if note.attack && valid_name {
        let minutes = state.auth.config.login_limits.lockout.as_secs() / 60;
        tracing::warn!(user = %actor, failures = note.user_failures, addresses = note.addresses, "login: account under attack");
        let payload = json!({
            "failures": note.user_failures,
            "addresses": note.addresses,
            "window_minutes": minutes,
        });
        audit::record(
            state,
            actor,
            ip,
            AuditAction::LoginUnderAttack,
            &subject,
            payload,
        )
        .await?;
    }
    Ok(())
}

/// The page a logged-in owner sees before going on to `next` when their
/// account had failed logins worth telling about.
fn attack_notice(username: &str, next: &str, a: &AttackReport) -> Result<Response, Error> {
    let utc = |t: opsdeck_domain::Timestamp| {
        t.to_zoned(jiff::tz::TimeZone::UTC)
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string()
    };
    let html = templates::render(
        "login_notice.html",
        minijinja::context! {
            username, next,
            failures => a.failures,
            addresses => a.addresses,
            first => utc(a.first_at),
            last => utc(a.last_at),
        },
    )?;
    Ok(Html(html).into_response())
}

async fn submit(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    let next = crate::redirect::target_or_root(f.next.as_deref());
    let cookie_token = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or("");
    if cookie_token.is_empty()
        || !bool::from(cookie_token.as_bytes().ct_eq(f.csrf_token.as_bytes()))
    {
        return Err(PageError(Error::Forbidden(
            "the login form expired: reload the page and try again".into(),
        )));
    }
    let username = normalize_username(&f.username);
    // Shown back in the form and written to the log: bounded.
    let shown_name = audit::bounded(&username, USERNAME_SHOWN);
    let ip = client.ip_text();
    let address = address_key(&client);
    let attempt = Attempt {
        username: &username,
        password: &f.password,
        address: &address,
        ip: ip.as_deref(),
        now: state.now(),
    };
    let outcome = state
        .auth
        .logins
        .attempt(state.store.as_ref(), &attempt)
        .await
        .map_err(Error::from)?;
    let (created, attacked) = match outcome {
        LoginOutcome::Throttled(retry) => {
            tracing::debug!(user = %shown_name, %address, retry_s = retry.seconds(), "login throttled");
            return throttled(&state, &client, &headers, &next, &shown_name, retry);
        }
        LoginOutcome::Refused {
            refusal,
            note,
            valid_name,
        } => {
            let actor = if username.is_empty() {
                "(none)".to_string()
            } else {
                shown_name.clone()
            };
            let reason = refusal.as_str();
            audit_failure(&state, &actor, ip, reason, &note, valid_name).await?;
            tracing::info!(user = %actor, reason, failures = note.pair_failures, "login refused");
            return form(
                &state,
                &client,
                &headers,
                StatusCode::UNAUTHORIZED,
                &next,
                &shown_name,
                Some(LOGIN_REFUSED),
            );
        }
        LoginOutcome::Accepted { session, attacked } => (session, attacked),
    };
    let payload = match &attacked {
        Some(a) => json!({ "failed_logins_before": a.failures, "from_addresses": a.addresses }),
        None => json!({}),
    };
    audit::record(
        &state,
        &username,
        ip,
        AuditAction::LoginSuccess,
        &format!("user:{username}"),
        payload,
    )
    .await?;
    let secure = state.auth.config.secure_cookies.applies(client.https);
    let mut response = match attacked.filter(|a| a.worth_telling) {
        // The owner hears what happened before going on.
        Some(a) => attack_notice(&username, &next, &a)?,
        None => Redirect::to(&next).into_response(),
    };
    let h = response.headers_mut();
    h.append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, &created.id, None, secure),
    );
    h.append(
        header::SET_COOKIE,
        set_cookie(LOGIN_CSRF_COOKIE, "", Some(0), secure),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
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
        AuditAction::Logout,
        &format!("user:{}", user.username),
        json!({}),
    )
    .await?;
    let secure = state.auth.config.secure_cookies.applies(client.https);
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", Some(0), secure),
    );
    Ok(response)
}
