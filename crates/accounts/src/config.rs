//! The security settings as types (`[security]` in the configuration; the
//! binary parses the section into them).

use crate::limiter::{LoginLimits, RateLimits};
use crate::password::PasswordHasher;
use std::net::IpAddr;
use std::time::Duration;

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
    /// Whether cookies set on a response carry `Secure`, for a browser that
    /// reached us over TLS (`https`, as a trusted proxy said) or not.
    pub fn applies(self, https: bool) -> bool {
        match self {
            SecureCookies::Always => true,
            SecureCookies::Never => false,
            SecureCookies::Auto => https,
        }
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
    /// What each role may do (`[roles.NAME]` over the built-in defaults).
    pub roles: crate::roles::Roles,
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
            roles: crate::roles::Roles::default(),
            hasher: PasswordHasher::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secure_cookies_follow_the_setting_and_auto_follows_tls() {
        assert!(SecureCookies::Always.applies(false));
        assert!(!SecureCookies::Never.applies(true));
        assert!(SecureCookies::Auto.applies(true));
        assert!(!SecureCookies::Auto.applies(false));
    }
}
