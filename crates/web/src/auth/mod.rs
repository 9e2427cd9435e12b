//! Sessions over HTTP: the cookie every page and API call (except the
//! machine-facing ones) runs under, and the checks each request passes.
//! Every decision is account policy from `opsdeck-accounts` (passwords,
//! throttling, session lifetime, the permission matrix); this module
//! carries it over HTTP.
//!
//! - Passwords are argon2id hashes (`opsdeck_accounts::password`); the
//!   store never sees a password and the cookie's session id is stored
//!   only as its SHA-256.
//! - A request passes through [`guard::layer`] once: it finds the session,
//!   ends it when idle or too old, refuses what the role may not do, checks
//!   the CSRF token of every state-changing browser request, and hands the
//!   handler a [`CurrentUser`].
//! - `POST /login` is throttled per (username, address) pair with growing
//!   delays and rate limited per address (`opsdeck_accounts::limiter`), so
//!   an attacker is slowed without locking the real owner out; every
//!   refusal reads the same, so it tells an attacker nothing about which
//!   usernames exist.
//!
//! # Permissions
//!
//! Who may do what is the configured matrix (`opsdeck_accounts::Roles`,
//! `[roles.NAME]` over the built-in roles), in `AuthConfig::roles`.
//! Revenue: roles without it get **403** on the revenue-only routes (which
//! declare `ViewRevenue`, see [`rules`]); every other route gives them its
//! answer without amounts: the guard runs each handler with money shown or
//! hidden by the role (`opsdeck_metrics::money_json`), and amounts in view
//! models are types that render only where shown.

pub(crate) mod client;
pub(crate) mod guard;
mod login;
pub(crate) mod rules;
pub(crate) mod session;

pub use client::ClientInfo;
pub use opsdeck_accounts::{Permission, Roles};
pub use opsdeck_store::Role;
pub use session::SESSION_COOKIE;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use opsdeck_accounts::{AuthConfig, Limiter, Logins};
use std::net::IpAddr;
use std::sync::Arc;

/// The security settings and the login limiter's state, shared by every
/// request (`AppState::auth`).
pub struct Auth {
    pub config: AuthConfig,
    pub(crate) limiter: Arc<Limiter>,
    /// Decides login attempts, counting with `limiter`.
    pub(crate) logins: Logins,
}

impl Auth {
    pub fn new(config: AuthConfig) -> Arc<Auth> {
        let limiter = Arc::new(Limiter::new(config.login_limits, config.rate_limits));
        Arc::new(Auth {
            logins: Logins::new(limiter.clone(), config.hasher.clone()),
            limiter,
            config,
        })
    }
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("config", &self.config)
            .finish()
    }
}

/// The logged-in person a request runs as, put there by the guard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CurrentUser {
    pub username: String,
    pub role: Role,
    /// The session's CSRF token, for the hidden field of every form.
    pub csrf_token: String,
    /// Where the request came from (socket, or a trusted proxy's header).
    pub ip: Option<IpAddr>,
    /// What `role` may do, read from the configured matrix
    /// (`AuthConfig::roles`) when the request arrived.
    pub(crate) permissions: Vec<Permission>,
}

impl CurrentUser {
    pub fn can(&self, permission: Permission) -> bool {
        self.permissions.contains(&permission)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentUser {
    type Rejection = crate::Error;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .ok_or_else(|| crate::Error::Unauthorized("login required".into()))
    }
}

/// `GET/POST /login`, `POST /logout`.
pub(crate) fn router() -> rules::Routes {
    login::router()
}
