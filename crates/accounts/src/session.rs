//! Session rules: a session id is 256 random bits the browser holds and the
//! store never sees (it keeps the id's SHA-256 with the user and a CSRF
//! token); a session ends when unused for the idle timeout or past its
//! absolute lifetime, and its `last_seen` is written often enough that a
//! session in use never looks idle.
//!
//! How the id travels (the cookie and its flags) is the web's business.

use crate::AuthConfig;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use opsdeck_domain::Timestamp;
use opsdeck_store::{NewSession, Store};
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// 32 random bytes from the OS-seeded generator, URL-safe base64: session
/// ids and CSRF tokens.
pub fn random_token() -> String {
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
pub fn touch_due(last_seen: Timestamp, now: Timestamp, idle_timeout: Duration) -> bool {
    let every = TOUCH_AT_MOST_EVERY.min(idle_timeout / 10);
    let since = Duration::try_from(now.duration_since(last_seen)).unwrap_or_default();
    since >= every
}

/// `span` before `at`, or the earliest time when that is before it.
fn before(at: Timestamp, span: Duration) -> Timestamp {
    let span = jiff::SignedDuration::try_from(span).unwrap_or(jiff::SignedDuration::MAX);
    at.checked_sub(span).unwrap_or(Timestamp::MIN)
}

/// When sessions alive at one moment must have been last seen and created:
/// the one rule behind ending a session at its next request and deleting
/// ended ones in bulk (`Store::prune_sessions`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCutoffs {
    /// A session last seen before this is idle.
    pub idle_before: Timestamp,
    /// A session created before this is past its absolute lifetime.
    pub created_before: Timestamp,
}

impl SessionCutoffs {
    /// The cutoffs at `now` under `config`'s idle timeout and maximum age.
    pub fn at(now: Timestamp, config: &AuthConfig) -> SessionCutoffs {
        SessionCutoffs {
            idle_before: before(now, config.idle_timeout),
            created_before: before(now, config.max_age),
        }
    }

    /// Whether a session last seen at `last_seen_at` is idle.
    pub fn idle(&self, last_seen_at: Timestamp) -> bool {
        last_seen_at < self.idle_before
    }

    /// Whether a session created at `created_at` is past its lifetime.
    pub fn too_old(&self, created_at: Timestamp) -> bool {
        created_at < self.created_before
    }
}

/// A freshly created session: the cookie id (never stored) and its CSRF token.
pub struct CreatedSession {
    pub id: String,
    pub csrf_token: String,
}

impl std::fmt::Debug for CreatedSession {
    /// Neither the id nor the token: both are secrets of the browser.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CreatedSession { .. }")
    }
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
    fn a_session_ends_after_its_idle_timeout_or_its_lifetime_not_at_them() {
        let now: Timestamp = "2026-06-10T18:00:00Z".parse().unwrap();
        let ago = |s: i64| now - jiff::SignedDuration::from_secs(s);
        let cut = SessionCutoffs::at(now, &AuthConfig::default());
        assert!(!cut.idle(ago(30 * 60)), "exactly the idle timeout");
        assert!(cut.idle(ago(30 * 60 + 1)));
        assert!(!cut.too_old(ago(12 * 3600)), "exactly the lifetime");
        assert!(cut.too_old(ago(12 * 3600 + 1)));
        assert!(!cut.idle(now + jiff::SignedDuration::from_secs(5)));
        let forever = AuthConfig {
            idle_timeout: Duration::MAX,
            max_age: Duration::MAX,
            ..AuthConfig::default()
        };
        let cut = SessionCutoffs::at(now, &forever);
        assert!(!cut.idle(Timestamp::MIN) && !cut.too_old(Timestamp::MIN));
    }
}
