//! Helpers for tests (here and in other crates) that call routes behind a
//! login: create users with cheap password hashes, open sessions directly
//! in the store, or log in over HTTP like a browser.
//!
//! Not a way around the checks: every helper creates a real user and a
//! real session, and requests still pass the guard, permissions and CSRF.

use crate::auth::{Auth, Role};
use opsdeck_accounts::{session, AuthConfig, PasswordHasher};
use opsdeck_domain::Timestamp;
use opsdeck_store::{AuditEntry, NewUser, Store};
use std::sync::Arc;

pub use crate::auth::guard::{CSRF_FIELD, CSRF_HEADER};
pub use crate::auth::rules::{Access, Declared};
pub use crate::auth::SESSION_COOKIE;
pub use crate::security::{CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY, REFERRER_POLICY};

/// Every route of the application with the access it declared, as the
/// router serves them: for tests that walk every route.
pub fn declared_routes() -> Vec<Declared> {
    crate::auth::rules::table().all().to_vec()
}

/// The dashboard's tiles, by the name `/fragments/{tile}` takes.
pub fn tile_names() -> Vec<&'static str> {
    crate::pages::tiles::Tile::ALL
        .iter()
        .map(|tile| tile.id())
        .collect()
}

/// Default security settings with a fast (insecure) password hasher.
pub fn auth_for_tests() -> Arc<Auth> {
    Auth::new(AuthConfig {
        hasher: PasswordHasher::insecure_fast_for_tests(),
        ..AuthConfig::default()
    })
}

/// Creates `username` with `role` and `password` (hashed with the fast
/// test parameters). Panics on failure: for tests only.
pub async fn create_user(store: &dyn Store, username: &str, role: Role, password: &str) {
    let hash = PasswordHasher::insecure_fast_for_tests()
        .hash(password)
        .expect("hash");
    let at = Timestamp::UNIX_EPOCH;
    let audit = AuditEntry {
        at,
        actor: "test".into(),
        action: opsdeck_store::AuditAction::UserCreate,
        subject: format!("user:{username}"),
        payload: serde_json::json!({ "role": role.as_str() }),
        ip: None,
    };
    let new = NewUser {
        username: username.into(),
        role,
        password_hash: hash,
        at,
    };
    assert!(
        store.create_user(&new, &audit).await.expect("create user"),
        "user {username} already exists"
    );
}

/// A logged-in browser as tests see it: the `Cookie` header value and the
/// CSRF token its forms and JSON writes must carry.
#[derive(Debug, Clone)]
pub struct TestSession {
    /// `opsdeck_session=…`, ready for a `Cookie` header.
    pub cookie: String,
    pub csrf_token: String,
}

/// Opens a session for an existing user directly in the store, as if it
/// had logged in at `now`.
pub async fn session_for(store: &dyn Store, username: &str, now: Timestamp) -> TestSession {
    let created = session::create(store, username, None, now)
        .await
        .expect("create session");
    TestSession {
        cookie: format!("{SESSION_COOKIE}={}", created.id),
        csrf_token: created.csrf_token,
    }
}

/// Creates a user with `role` (password `correct horse battery`) and opens
/// a session for it at `now`.
pub async fn user_session(
    store: &dyn Store,
    username: &str,
    role: Role,
    now: Timestamp,
) -> TestSession {
    create_user(store, username, role, "correct horse battery").await;
    session_for(store, username, now).await
}

/// Logs in over HTTP at `base` (e.g. `http://127.0.0.1:PORT`) the way a
/// browser does: fetch the form, post it with its CSRF cookie and field,
/// keep the session cookie. `Err` holds the status of a refused login.
pub async fn login(base: &str, username: &str, password: &str) -> Result<TestSession, String> {
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| e.to_string())?;
    let form = client
        .get(format!("{base}/login"))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let login_cookie = set_cookies(form.headers())
        .into_iter()
        .find(|c| c.starts_with("opsdeck_login_csrf="))
        .ok_or("no login CSRF cookie")?;
    let html = form.text().await.map_err(|e| e.to_string())?;
    let token = hidden_field(&html, CSRF_FIELD).ok_or("no csrf_token field on /login")?;
    let response = client
        .post(format!("{base}/login"))
        .header("cookie", login_cookie)
        .form(&[
            ("username", username),
            ("password", password),
            ("csrf_token", token.as_str()),
            ("next", "/"),
        ])
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if response.status() != reqwest::StatusCode::SEE_OTHER {
        return Err(format!("login refused: {}", response.status()));
    }
    let cookie = set_cookies(response.headers())
        .into_iter()
        .find(|c| c.starts_with(&format!("{SESSION_COOKIE}=")))
        .ok_or("no session cookie")?;
    // The new session's CSRF token, as the page script reads it.
    let page = client
        .get(format!("{base}/session"))
        .header("cookie", &cookie)
        .send()
        .await
        .map_err(|e| e.to_string())?;
    let who: serde_json::Value = page.json().await.map_err(|e| e.to_string())?;
    let csrf_token = who["csrf_token"]
        .as_str()
        .ok_or("no csrf_token in /session")?
        .to_string();
    Ok(TestSession { cookie, csrf_token })
}

/// The `name=value` part of each `Set-Cookie` header.
fn set_cookies(headers: &reqwest::header::HeaderMap) -> Vec<String> {
    headers
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .map(|s| s.trim().to_string())
        .collect()
}

/// The value of `<input type="hidden" name="NAME" value="…">` in `html`.
pub fn hidden_field(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_string())
}

/// Incidents with the playbook's severities over `store`, at `clock`'s
/// now, with no notifier configured (notices are noted, nothing queued):
/// the `AppState::incidents` of tests and benchmarks.
pub fn incident_service(
    store: std::sync::Arc<dyn opsdeck_store::Store>,
    clock: std::sync::Arc<dyn Fn() -> opsdeck_domain::Timestamp + Send + Sync>,
) -> std::sync::Arc<opsdeck_operations::incidents::IncidentService> {
    std::sync::Arc::new(opsdeck_operations::incidents::IncidentService::new(
        store,
        opsdeck_operations::incidents::SeverityPolicies::default(),
        clock,
        Vec::new(),
        "http://opsdeck.test",
    ))
}
