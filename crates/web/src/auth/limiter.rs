//! Login rate limiting: after too many failed logins for one username, or
//! from one client address, further attempts are refused for a while —
//! even with the right password — with the same message as a wrong one.
//!
//! Counted in memory with the injected clock (tests move time instead of
//! sleeping). With several instances behind a load balancer each counts
//! separately, so the effective limit is at most instances × the configured
//! one; still a bound, and it needs no write per failed login.

use opsdeck_domain::Timestamp;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// When a login is refused for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failed logins for one username before it is locked (default 5).
    pub max_failures: u32,
    /// Failed logins from one client address before it is locked (default
    /// 20: an office behind one address holds several people).
    pub max_failures_per_ip: u32,
    /// How long a lock lasts, and the window failures are counted in
    /// (default 15 min).
    pub lockout: Duration,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            max_failures: 5,
            max_failures_per_ip: 20,
            lockout: Duration::from_secs(15 * 60),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    first_at: Timestamp,
    locked_until: Option<Timestamp>,
}

/// Failures per key (`user:NAME`, `ip:ADDR`).
pub(crate) struct Limiter {
    limits: LoginLimits,
    state: Mutex<HashMap<String, Failures>>,
}

/// Entries beyond this many are swept of expired ones, so a flood of
/// random usernames cannot grow memory without bound.
const SWEEP_ABOVE: usize = 10_000;

impl Limiter {
    pub(crate) fn new(limits: LoginLimits) -> Limiter {
        Limiter {
            limits,
            state: Mutex::new(HashMap::new()),
        }
    }

    fn lockout(&self) -> jiff::SignedDuration {
        jiff::SignedDuration::try_from(self.limits.lockout).unwrap_or(jiff::SignedDuration::MAX)
    }

    fn map(&self) -> std::sync::MutexGuard<'_, HashMap<String, Failures>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether `key` is locked at `now`.
    pub(crate) fn is_locked(&self, key: &str, now: Timestamp) -> bool {
        self.map()
            .get(key)
            .and_then(|f| f.locked_until)
            .is_some_and(|until| now < until)
    }

    /// Counts a failure for `key`; `true` when this failure locks it.
    pub(crate) fn fail(&self, key: &str, limit: u32, now: Timestamp) -> bool {
        let window = self.lockout();
        let mut map = self.map();
        if map.len() > SWEEP_ABOVE {
            map.retain(|_, f| f.locked_until.is_some_and(|u| now < u) || now < f.first_at + window);
        }
        let entry = map.entry(key.to_string()).or_insert(Failures {
            count: 0,
            first_at: now,
            locked_until: None,
        });
        let expired_lock = entry.locked_until.is_some_and(|u| now >= u);
        if expired_lock || (entry.locked_until.is_none() && now >= entry.first_at + window) {
            *entry = Failures {
                count: 0,
                first_at: now,
                locked_until: None,
            };
        }
        entry.count += 1;
        if entry.locked_until.is_none() && entry.count >= limit {
            entry.locked_until = Some(now + window);
            return true;
        }
        false
    }

    /// Forgets the failures of `key` (after a successful login).
    pub(crate) fn clear(&self, key: &str) {
        self.map().remove(key);
    }

    pub(crate) fn limits(&self) -> LoginLimits {
        self.limits
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(min: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_mins(min)
    }

    #[test]
    fn locks_after_the_limit_and_unlocks_after_the_lockout() {
        let l = Limiter::new(LoginLimits::default());
        for i in 0..4 {
            assert!(!l.fail("user:anna", 5, at(i)));
            assert!(!l.is_locked("user:anna", at(i)));
        }
        assert!(l.fail("user:anna", 5, at(4)), "the fifth failure locks");
        assert!(l.is_locked("user:anna", at(5)));
        assert!(l.is_locked("user:anna", at(18)));
        assert!(
            !l.is_locked("user:anna", at(19)),
            "15 minutes after the lock"
        );
        assert!(!l.fail("user:anna", 5, at(19)), "counting starts again");
        assert!(!l.is_locked("user:bob", at(5)), "per key");
    }

    #[test]
    fn old_failures_fall_out_of_the_window_and_success_clears() {
        let l = Limiter::new(LoginLimits::default());
        for i in 0..4 {
            l.fail("ip:192.0.2.1", 5, at(i));
        }
        assert!(!l.fail("ip:192.0.2.1", 5, at(20)), "window restarted");
        for i in 0..3 {
            l.fail("user:anna", 5, at(i));
        }
        l.clear("user:anna");
        for i in 3..7 {
            assert!(!l.fail("user:anna", 5, at(i)));
        }
    }
}
