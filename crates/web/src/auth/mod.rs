//! Accounts and security: who may do what, and the session every page and
//! API call (except the machine-facing ones) runs under.
//!
//! - Passwords are argon2id hashes ([`password`]); the store never sees a
//!   password and the cookie's session id is stored only as its SHA-256.
//! - A request passes through [`guard::layer`] once: it finds the session,
//!   ends it when idle or too old, refuses what the role may not do, checks
//!   the CSRF token of every state-changing browser request, and hands the
//!   handler a [`CurrentUser`].
//! - `POST /login` is throttled per (username, address) pair with growing
//!   delays and rate limited per address ([`limiter`]), so an attacker is
//!   slowed without locking the real owner out; every refusal reads the
//!   same, so it tells an attacker nothing about which usernames exist.
//!
//! # Permission matrix
//!
//! | permission | admin | ops | support | finance | viewer |
//! |---|---|---|---|---|---|
//! | view the dashboard and panels (no money) | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | view revenue (order volume, sales, sales pulse, combined dashboard API) | ✓ | ✓ | | ✓ | |
//! | acknowledge / resolve / silence alerts | ✓ | ✓ | | | |
//! | record sales-pulse decisions | ✓ | ✓ | | | |
//! | trigger a sync refresh | ✓ | ✓ | ✓ | | |
//! | manage users | ✓ | | | | |
//! | manage API tokens | ✓ | | | | |
//! | view and export the audit log | ✓ | | | | |
//! | any other change (settings; writes not listed in `rules`) | ✓ | | | | |
//!
//! Revenue: roles without it get **403** on the revenue-only routes (which
//! declare `ViewRevenue`, see [`rules`]); every other route gives them its
//! answer without amounts: the guard runs each handler with money shown or
//! hidden by the role (`opsdeck_metrics::money_json`), and amounts in view
//! models are types that render only where shown. Ops see revenue because
//! the sales pulse they act on is a revenue signal.

pub(crate) mod client;
pub(crate) mod guard;
pub(crate) mod limiter;
mod login;
pub mod password;
pub(crate) mod rules;
pub(crate) mod session;

pub use client::ClientInfo;
pub use limiter::{LoginLimits, RateLimits};
pub use opsdeck_store::Role;
pub use password::PasswordHasher;
pub use session::{SecureCookies, SESSION_COOKIE};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// What a role may do. See the matrix in the module documentation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ViewDashboard,
    ViewRevenue,
    ActOnAlerts,
    RecordDecisions,
    RefreshSync,
    ManageUsers,
    ManageTokens,
    ViewAudit,
    ExportAudit,
    /// Every change not given a narrower permission: admins only, so a new
    /// write route is closed until someone decides who may use it.
    ChangeSettings,
}

impl Permission {
    pub const ALL: [Permission; 10] = [
        Permission::ViewDashboard,
        Permission::ViewRevenue,
        Permission::ActOnAlerts,
        Permission::RecordDecisions,
        Permission::RefreshSync,
        Permission::ManageUsers,
        Permission::ManageTokens,
        Permission::ViewAudit,
        Permission::ExportAudit,
        Permission::ChangeSettings,
    ];
}

/// The permission matrix, as code: whether `role` has `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::Ops => matches!(
            permission,
            ViewDashboard | ViewRevenue | ActOnAlerts | RecordDecisions | RefreshSync
        ),
        Role::Support => matches!(permission, ViewDashboard | RefreshSync),
        Role::Finance => matches!(permission, ViewDashboard | ViewRevenue),
        Role::Viewer => matches!(permission, ViewDashboard),
    }
}

/// The security settings (`[security]` in the configuration).
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// A session unused this long ends (default 30 min).
    pub idle_timeout: Duration,
    /// A session ends this long after login, used or not (default 12 h).
    pub max_age: Duration,
    pub secure_cookies: SecureCookies,
    /// Proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed.
    pub trusted_proxies: Vec<IpAddr>,
    pub login_limits: LoginLimits,
    /// Ingest request rates and live streams per session.
    pub rate_limits: RateLimits,
    /// Used to hash a dummy password when the username is unknown, so a
    /// refusal takes as long as a wrong password.
    pub hasher: PasswordHasher,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            idle_timeout: Duration::from_secs(30 * 60),
            max_age: Duration::from_secs(12 * 3600),
            secure_cookies: SecureCookies::Auto,
            trusted_proxies: Vec::new(),
            login_limits: LoginLimits::default(),
            rate_limits: RateLimits::default(),
            hasher: PasswordHasher::default(),
        }
    }
}

/// The security settings and the login limiter's state, shared by every
/// request (`AppState::auth`).
pub struct Auth {
    pub config: AuthConfig,
    pub(crate) limiter: Arc<limiter::Limiter>,
    /// A hash of a random password, verified against when the username is
    /// unknown (timing equalisation).
    dummy_hash: String,
}

impl Auth {
    pub fn new(config: AuthConfig) -> Arc<Auth> {
        let dummy_hash = config
            .hasher
            .hash(&session::random_token())
            .expect("hashing a random password cannot fail");
        Arc::new(Auth {
            limiter: Arc::new(limiter::Limiter::new(
                config.login_limits,
                config.rate_limits,
            )),
            config,
            dummy_hash,
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
}

impl CurrentUser {
    pub fn can(&self, permission: Permission) -> bool {
        allows(self.role, permission)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_rows_match_the_documented_table() {
        let who = |p: Permission| -> Vec<&str> {
            Role::ALL
                .into_iter()
                .filter(|r| allows(*r, p))
                .map(Role::as_str)
                .collect()
        };
        use Permission::*;
        assert_eq!(
            who(ViewDashboard),
            ["admin", "ops", "support", "finance", "viewer"]
        );
        assert_eq!(who(ViewRevenue), ["admin", "ops", "finance"]);
        assert_eq!(who(ActOnAlerts), ["admin", "ops"]);
        assert_eq!(who(RecordDecisions), ["admin", "ops"]);
        assert_eq!(who(RefreshSync), ["admin", "ops", "support"]);
        for p in [
            ManageUsers,
            ManageTokens,
            ViewAudit,
            ExportAudit,
            ChangeSettings,
        ] {
            assert_eq!(who(p), ["admin"], "{p:?}");
        }
    }
}
