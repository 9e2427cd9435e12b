//! `[security]`: session limits, login throttling, request rates, when
//! cookies are `Secure`, which proxies' forwarded headers are believed, and
//! how long the audit log is kept. docs/security.md says what each defends.
//!
//! ```toml
//! [security]
//! session_idle_timeout = "30m"   # a session unused this long ends (use restarts it)
//! session_max_age = "12h"        # and ends this long after login anyway
//! login_max_failures = 5         # per (username, address), then waits 1 s, 2 s, 4 s, …
//! login_lockout = "15m"          # the longest wait; failures are forgotten after twice it
//! login_attempts_per_minute_per_ip = 20
//! ingest_requests_per_minute_per_token = 600
//! ingest_requests_per_minute_per_ip = 1200
//! sse_streams_per_session = 8
//! secure_cookies = "auto"        # auto (when a trusted proxy says https), always, never
//! trusted_proxies = ["127.0.0.1"]  # X-Forwarded-For / -Proto believed only from these
//! audit_retention_days = 90
//! ```
//!
//! `login_max_failures_per_ip` is refused with the reason: an address is
//! no longer locked after failures (that locked out everyone behind one
//! office NAT); `login_attempts_per_minute_per_ip` rate-limits it instead.

use super::walk::Section;
use opsdeck_accounts::{AuthConfig, LoginLimits, RateLimits, SecureCookies};
use std::net::IpAddr;
use std::time::Duration;

/// The parsed `[security]` section (defaults when absent).
#[derive(Debug, Clone)]
pub struct SecurityConfig {
    pub auth: AuthConfig,
    /// Audit entries older than this are pruned (default 90 days).
    pub audit_retention: Duration,
}

impl Default for SecurityConfig {
    fn default() -> Self {
        SecurityConfig {
            auth: AuthConfig::default(),
            audit_retention: Duration::from_secs(90 * 86_400),
        }
    }
}

fn positive(s: &Section<'_, '_>, key: &'static str) -> Option<u32> {
    let v = s.opt_u32(key)?;
    if v == 0 {
        s.problem(key, "must be at least 1");
        return None;
    }
    Some(v)
}

pub(super) fn parse_security(root: &Section<'_, '_>) -> SecurityConfig {
    let mut config = SecurityConfig::default();
    let Some(s) = root.opt_table("security") else {
        return config;
    };
    let auth = &mut config.auth;
    let duration = |key: &'static str| {
        s.opt_str(key)
            .and_then(|v| super::parse::duration(&s, key, v))
    };
    if let Some(d) = duration("session_idle_timeout") {
        auth.idle_timeout = d;
    }
    if let Some(d) = duration("session_max_age") {
        auth.max_age = d;
    }
    if let Some(d) = duration("login_lockout") {
        auth.login_limits.lockout = d;
    }
    let limits: &mut LoginLimits = &mut auth.login_limits;
    if let Some(n) = positive(&s, "login_max_failures") {
        limits.max_failures = n;
    }
    if s.opt_u32("login_max_failures_per_ip").is_some() {
        s.problem(
            "login_max_failures_per_ip",
            "no longer used: failures no longer lock an address out (that locked out \
             everyone behind one office address); set login_attempts_per_minute_per_ip \
             to rate-limit an address instead",
        );
    }
    if let Some(n) = positive(&s, "login_attempts_per_minute_per_ip") {
        limits.attempts_per_minute_per_ip = n;
    }
    let rates: &mut RateLimits = &mut auth.rate_limits;
    if let Some(n) = positive(&s, "ingest_requests_per_minute_per_token") {
        rates.ingest_per_minute_per_token = n;
    }
    if let Some(n) = positive(&s, "ingest_requests_per_minute_per_ip") {
        rates.ingest_per_minute_per_ip = n;
    }
    if let Some(n) = positive(&s, "sse_streams_per_session") {
        rates.sse_streams_per_session = n;
    }
    if let Some(v) = s.opt_str("secure_cookies") {
        match v {
            "auto" => auth.secure_cookies = SecureCookies::Auto,
            "always" => auth.secure_cookies = SecureCookies::Always,
            "never" => auth.secure_cookies = SecureCookies::Never,
            other => s.problem(
                "secure_cookies",
                format!("{other:?} is not one of \"auto\", \"always\", \"never\""),
            ),
        }
    }
    if let Some(list) = s.opt_str_list("trusted_proxies") {
        for p in list {
            match p.parse::<IpAddr>() {
                Ok(ip) => auth.trusted_proxies.push(ip),
                Err(_) => s.problem(
                    "trusted_proxies",
                    format!("{p:?} is not an IP address like \"10.0.0.1\""),
                ),
            }
        }
    }
    if let Some(days) = positive(&s, "audit_retention_days") {
        config.audit_retention = Duration::from_secs(u64::from(days) * 86_400);
    }
    s.finish();
    config
}
