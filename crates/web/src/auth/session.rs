//! Session cookies: a random 256-bit id in `opsdeck_session` (HttpOnly,
//! SameSite=Lax, Path=/, Secure when the browser reached us over TLS), kept
//! server-side as its SHA-256 with the user and a CSRF token.

use super::ClientInfo;
use axum::http::{header, HeaderMap, HeaderValue};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use opsdeck_domain::Timestamp;
use opsdeck_store::{NewSession, Store};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;

pub const SESSION_COOKIE: &str = "opsdeck_session";
/// The login form's own CSRF cookie (double submit), set before any
/// session exists.
pub(crate) const LOGIN_CSRF_COOKIE: &str = "opsdeck_login_csrf";

/// When the session cookie carries `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecureCookies {
    /// Always (the site is only reachable over TLS).
    Always,
    /// Never (plain HTTP on a trusted network, or local development).
    Never,
    /// When a trusted proxy says the browser used https (default).
    Auto,
}

impl SecureCookies {
    pub(crate) fn applies(self, client: &ClientInfo) -> bool {
        match self {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => client.https,
        }
    }
}

/// 32 random bytes from the OS-seeded generator, URL-safe base64.
pub(crate) fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// How the store keys a session: the hex SHA-256 of the cookie's id.
pub fn id_hash(id: &str) -> String {
    Sha256::digest(id.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The value of cookie `name` in the request, if any.
pub(crate) fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `Set-Cookie` value with the flags every opsdeck cookie has.
pub(crate) fn set_cookie(
    name: &str,
    value: &str,
    max_age: Option<u64>,
    secure: bool,
) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax");
    if let Some(age) = max_age {
        c.push_str(&format!("; Max-Age={age}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    HeaderValue::from_str(&c).expect("cookie values are base64url")
}

/// Writing `last_seen` at most this often keeps reading pages from being a
/// write per request.
const TOUCH_AT_MOST_EVERY: Duration = Duration::from_secs(60);

/// Whether a request at `now` should write the session's `last_seen`.
///
/// Idle time restarts on use, so the write must come often enough that a
/// session in use never looks idle: at least ten times per idle timeout,
/// and at most once a minute. With `idle_timeout = 1m` a session used
/// every 20 s is written every 6 s of use and never ends; with the default
/// 30 min it is written at most once a minute.
pub(crate) fn touch_due(last_seen: Timestamp, now: Timestamp, idle_timeout: Duration) -> bool {
    let every = TOUCH_AT_MOST_EVERY.min(idle_timeout / 10);
    let since = Duration::try_from(now.duration_since(last_seen)).unwrap_or_default();
    since >= every
}

/// A freshly created session: the cookie id (never stored) and its CSRF token.
pub struct CreatedSession {
    pub id: String,
    #[cfg_attr(
        not(any(test, feature = "testing")),
        expect(
            dead_code,
            reason = "the login page reads the token from the stored session; test helpers read it here"
        )
    )]
    pub csrf_token: String,
}

/// Stores a new session for `username` and returns its id and CSRF token.
pub async fn create(
    store: &dyn Store,
    username: &str,
    ip: Option<String>,
    now: Timestamp,
) -> Result<CreatedSession, opsdeck_store::StoreError> {
    let id = random_token();
    let csrf_token = random_token();
    store
        .create_session(&NewSession {
            id_sha256: id_hash(&id),
            username: username.to_string(),
            csrf_token: csrf_token.clone(),
            created_at: now,
            ip,
        })
        .await?;
    Ok(CreatedSession { id, csrf_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_256_bit_and_distinct() {
        let a = random_token();
        assert_eq!(URL_SAFE_NO_PAD.decode(&a).unwrap().len(), 32);
        assert_ne!(a, random_token());
        assert_eq!(id_hash(&a).len(), 64);
        assert!(!id_hash(&a).contains(&a));
    }

    #[test]
    fn touch_is_due_well_before_the_idle_timeout() {
        let t0: Timestamp = "2026-06-10T18:00:00Z".parse().unwrap();
        let at = |s: i64| t0 + jiff::SignedDuration::from_secs(s);
        let minute = Duration::from_secs(60);
        assert!(!touch_due(t0, at(5), minute));
        assert!(touch_due(t0, at(6), minute), "a tenth of a 1 min timeout");
        assert!(touch_due(t0, at(20), minute));
        let half_hour = Duration::from_secs(1800);
        assert!(!touch_due(t0, at(59), half_hour), "at most once a minute");
        assert!(touch_due(t0, at(60), half_hour));
    }

    #[test]
    fn cookies_parse_and_carry_the_flags() {
        let mut h = HeaderMap::new();
        h.insert(
            header::COOKIE,
            "a=1; opsdeck_session=xyz; b=2".parse().unwrap(),
        );
        assert_eq!(cookie(&h, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&h, "c"), None);
        let c = set_cookie(SESSION_COOKIE, "v", None, true);
        assert_eq!(
            c,
            "opsdeck_session=v; Path=/; HttpOnly; SameSite=Lax; Secure"
        );
        let c = set_cookie(SESSION_COOKIE, "", Some(0), false);
        assert_eq!(
            c,
            "opsdeck_session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0"
        );
    }
}
