//! Abuse limits kept in memory: login throttling, request rates (login
//! per address, ingest per token and per address) and live SSE streams
//! per session.
//!
//! # Login: slow the attacker, never lock the owner out
//! A lock per username let anyone lock the admin out with five anonymous
//! wrong passwords, and a lock per address locked out an office behind one
//! NAT. So failures are counted per **(username, address) pair**: after
//! [`LoginLimits::max_failures`] failures that pair must wait before its
//! next attempt — 1 s, then 2 s, 4 s, … doubling up to
//! [`LoginLimits::lockout`] — and an attempt before then is refused (429
//! with `Retry-After`) without checking the password, so the pair cannot
//! guess faster. The same username from an address with no failures (the
//! real admin at their desk) is not slowed at all. Failures for one
//! username from all addresses are counted too, only to tell the account's
//! owner and the admins that it is under attack ([`FailureNote`]).
//!
//! Every login attempt from one address also draws on a token bucket
//! ([`LoginLimits::attempts_per_minute_per_ip`]): password spraying across
//! many usernames is bounded to that rate, and the 429 it answers lasts
//! seconds, not minutes.
//!
//! Counted with the injected clock (tests move time instead of sleeping).
//! With several instances behind a load balancer each counts separately, so
//! the effective limits are at most instances × the configured ones; still
//! a bound, and it needs no write per failed login. Maps are swept of
//! expired entries once they pass `SWEEP_ABOVE` (10,000) keys (and then
//! only when they have doubled since the last sweep, so a flood of live
//! keys cannot make every request walk the whole map), so a flood of
//! random usernames or addresses cannot grow memory without bound.

use opsdeck_domain::Timestamp;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::Duration;

/// Login throttling (`[security]` `login_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LoginLimits {
    /// Failures of one username from one address before that pair waits
    /// between attempts; also the failures of one username (from anywhere)
    /// that count as an attack to report (default 5).
    pub max_failures: u32,
    /// The longest wait of a pair (default 15 min). Failures are
    /// forgotten after twice this without a new one, so an attacker who
    /// waits out every delay stays at one guess per `lockout`.
    pub lockout: Duration,
    /// Login attempts per minute from one address, with a burst of as many
    /// (default 20).
    pub attempts_per_minute_per_ip: u32,
}

impl Default for LoginLimits {
    fn default() -> Self {
        LoginLimits {
            max_failures: 5,
            lockout: Duration::from_secs(15 * 60),
            attempts_per_minute_per_ip: 20,
        }
    }
}

/// Request rates and stream counts for the machine-facing and live routes
/// (`[security]` `ingest_*`, `sse_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Ingest requests per minute per API token, with a burst of as many
    /// (default 600: ten a second sustained).
    pub ingest_per_minute_per_token: u32,
    /// Ingest requests per minute from one address, whatever the token,
    /// so a caller guessing tokens is slowed too (default 1,200).
    pub ingest_per_minute_per_ip: u32,
    /// Live-update streams (`GET /events`) open at once per session
    /// (default 8: tabs of one person).
    pub sse_streams_per_session: u32,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            ingest_per_minute_per_token: 600,
            ingest_per_minute_per_ip: 1_200,
            sse_streams_per_session: 8,
        }
    }
}

/// The key an address is counted under: an IPv4 address whole, an IPv6
/// address by its /64 network (one host usually holds a whole /64, and
/// would otherwise get a fresh budget with every address it picks from
/// it).
pub fn address_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Entries beyond this many are swept of expired ones.
const SWEEP_ABOVE: usize = 10_000;

/// Whether a map of `len` keys, `floor` keys after its last sweep, is due a
/// sweep: past [`SWEEP_ABOVE`] and twice its last size, so sweeping costs
/// amortised O(1) per insert however many keys stay live.
fn sweep_due(len: usize, floor: usize) -> bool {
    len > SWEEP_ABOVE.max(floor.saturating_mul(2))
}
/// Addresses remembered per attacked username (for the report).
const ADDRESSES_KEPT: usize = 32;

/// Refused for now; try again after this long (the `Retry-After`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryAfter(pub Duration);

impl RetryAfter {
    /// Whole seconds, rounded up, at least 1 (the header's unit).
    pub fn seconds(self) -> u64 {
        let d = self.0;
        (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1)
    }
}

#[derive(Debug, Clone, Copy)]
struct PairFailures {
    count: u32,
    last_at: Timestamp,
}

#[derive(Debug, Clone)]
struct UserFailures {
    count: u32,
    first_at: Timestamp,
    last_at: Timestamp,
    addresses: BTreeSet<String>,
    reported: bool,
}

/// What one failed login added up to, for the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailureNote {
    /// Failures of this username from this address, in the window.
    pub pair_failures: u32,
    /// Failures of this username from every address, in the window.
    pub user_failures: u32,
    /// How many addresses they came from (at most `ADDRESSES_KEPT`, 32).
    pub addresses: usize,
    /// Write this failure to the audit log: the first of a pair and then
    /// at 2, 4, 8, … failures (each entry carries the count), so a
    /// thousand guesses are ten entries, not a thousand.
    pub audit: bool,
    /// This failure made the username's count reach the attack threshold
    /// (once per window): tell the admins.
    pub attack: bool,
}

/// Failures of an account since its last successful login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackReport {
    pub failures: u32,
    pub addresses: usize,
    pub first_at: Timestamp,
    pub last_at: Timestamp,
    /// Whether its owner should be told at login: as many failures as
    /// count as an attack, or any from another address than this login's
    /// (one mistyped password at one's own desk is not news).
    pub worth_telling: bool,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Timestamp,
}

#[derive(Default)]
struct State {
    pairs: HashMap<(String, String), PairFailures>,
    users: HashMap<String, UserFailures>,
    buckets: HashMap<String, Bucket>,
    streams: HashMap<String, u32>,
    /// Sizes after each map's last sweep (pairs, users, buckets).
    swept: [usize; 3],
}

/// The shared abuse-limit state: one per process (the web holds it in
/// `AppState::auth`), so every request counts against the same limits.
pub struct Limiter {
    login: LoginLimits,
    rates: RateLimits,
    state: Mutex<State>,
}

fn since(now: Timestamp, then: Timestamp) -> Duration {
    Duration::try_from(now.duration_since(then)).unwrap_or_default()
}

impl Limiter {
    pub fn new(login: LoginLimits, rates: RateLimits) -> Limiter {
        Limiter {
            login,
            rates,
            state: Mutex::new(State::default()),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub fn rates(&self) -> RateLimits {
        self.rates
    }

    /// How long a pair with `failures` failures waits after its last one.
    fn delay(&self, failures: u32) -> Duration {
        let over = failures.saturating_sub(self.login.max_failures.saturating_sub(1));
        if over == 0 {
            return Duration::ZERO;
        }
        let doubled = Duration::from_secs(1).saturating_mul(1u32 << (over - 1).min(20));
        doubled.min(self.login.lockout)
    }

    /// Whether (`username`, `ip`) must still wait before its next attempt.
    pub fn login_wait(&self, username: &str, ip: &str, now: Timestamp) -> Option<RetryAfter> {
        let state = self.state();
        let pair = state.pairs.get(&(username.to_string(), ip.to_string()))?;
        let waited = since(now, pair.last_at);
        let delay = self.delay(pair.count);
        (waited < delay).then(|| RetryAfter(delay - waited))
    }

    /// How long failures are remembered after the last one: longer than
    /// the longest wait, or waiting it out would start the count over.
    fn memory(&self) -> Duration {
        self.login.lockout.saturating_mul(2)
    }

    /// Counts a failed login of `username` from `ip`.
    pub fn login_failed(&self, username: &str, ip: &str, now: Timestamp) -> FailureNote {
        let window = self.memory();
        let mut state = self.state();
        if sweep_due(state.pairs.len(), state.swept[0]) {
            state.pairs.retain(|_, p| since(now, p.last_at) < window);
            state.swept[0] = state.pairs.len();
        }
        if sweep_due(state.users.len(), state.swept[1]) {
            state.users.retain(|_, u| since(now, u.last_at) < window);
            state.swept[1] = state.users.len();
        }
        let pair = state
            .pairs
            .entry((username.to_string(), ip.to_string()))
            .or_insert(PairFailures {
                count: 0,
                last_at: now,
            });
        if since(now, pair.last_at) >= window {
            pair.count = 0;
        }
        pair.count = pair.count.saturating_add(1);
        pair.last_at = now;
        let pair_failures = pair.count;
        let user = state
            .users
            .entry(username.to_string())
            .or_insert_with(|| UserFailures {
                count: 0,
                first_at: now,
                last_at: now,
                addresses: BTreeSet::new(),
                reported: false,
            });
        if since(now, user.last_at) >= window {
            *user = UserFailures {
                count: 0,
                first_at: now,
                last_at: now,
                addresses: BTreeSet::new(),
                reported: false,
            };
        }
        user.count = user.count.saturating_add(1);
        user.last_at = now;
        if user.addresses.len() < ADDRESSES_KEPT {
            user.addresses.insert(ip.to_string());
        }
        let attack = !user.reported && user.count >= self.login.max_failures;
        user.reported |= attack;
        FailureNote {
            pair_failures,
            user_failures: user.count,
            addresses: user.addresses.len(),
            audit: pair_failures.is_power_of_two(),
            attack,
        }
    }

    /// A successful login of `username` from `ip`: that pair starts over,
    /// and what the account went through since its last login is handed
    /// back (once) to be shown to its owner.
    pub fn login_succeeded(&self, username: &str, ip: &str) -> Option<AttackReport> {
        let mut state = self.state();
        state.pairs.remove(&(username.to_string(), ip.to_string()));
        let user = state.users.remove(username)?;
        let elsewhere = user.addresses.iter().any(|a| a != ip);
        Some(AttackReport {
            failures: user.count,
            addresses: user.addresses.len(),
            first_at: user.first_at,
            last_at: user.last_at,
            worth_telling: elsewhere || user.count >= self.login.max_failures,
        })
    }

    /// Takes one request from the bucket `key`, which holds `per_minute`
    /// and refills at that rate; `Err` says when one is next available.
    pub fn take(&self, key: &str, per_minute: u32, now: Timestamp) -> Result<(), RetryAfter> {
        let capacity = f64::from(per_minute.max(1));
        let per_second = capacity / 60.0;
        let mut state = self.state();
        if sweep_due(state.buckets.len(), state.swept[2]) {
            // A bucket idle for a minute is full again: forget it.
            state
                .buckets
                .retain(|_, b| since(now, b.at) < Duration::from_secs(60));
            state.swept[2] = state.buckets.len();
        }
        let bucket = state.buckets.entry(key.to_string()).or_insert(Bucket {
            tokens: capacity,
            at: now,
        });
        let elapsed = since(now, bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * per_second).min(capacity);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Ok(())
        } else {
            let missing = 1.0 - bucket.tokens;
            Err(RetryAfter(Duration::from_secs_f64(missing / per_second)))
        }
    }

    /// One login attempt from address `ip`.
    pub fn login_attempt(&self, ip: &str, now: Timestamp) -> Result<(), RetryAfter> {
        self.take(
            &format!("login:{ip}"),
            self.login.attempts_per_minute_per_ip,
            now,
        )
    }

    /// Opens one live stream for `session`, if it has room; the stream
    /// gives it back when dropped.
    pub fn open_stream(self: &std::sync::Arc<Self>, session: &str) -> Option<StreamSlot> {
        let mut state = self.state();
        let open = state.streams.entry(session.to_string()).or_insert(0);
        if *open >= self.rates.sse_streams_per_session {
            return None;
        }
        *open += 1;
        Some(StreamSlot {
            limiter: self.clone(),
            session: session.to_string(),
        })
    }
}

/// One open live stream of a session; closing the stream drops it.
pub struct StreamSlot {
    limiter: std::sync::Arc<Limiter>,
    session: String,
}

impl Drop for StreamSlot {
    fn drop(&mut self) {
        let mut state = self.limiter.state();
        if let Some(open) = state.streams.get_mut(&self.session) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                state.streams.remove(&self.session);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn at(s: i64) -> Timestamp {
        Timestamp::UNIX_EPOCH + jiff::SignedDuration::from_secs(s)
    }

    fn limiter() -> Limiter {
        Limiter::new(LoginLimits::default(), RateLimits::default())
    }

    #[test]
    fn a_pair_waits_longer_after_each_failure_past_the_free_ones() {
        let l = limiter();
        for i in 0..4 {
            l.login_failed("admin", "192.0.2.1", at(i));
            assert_eq!(l.login_wait("admin", "192.0.2.1", at(i)), None, "{i}");
        }
        l.login_failed("admin", "192.0.2.1", at(4));
        assert_eq!(
            l.login_wait("admin", "192.0.2.1", at(4)),
            Some(RetryAfter(Duration::from_secs(1)))
        );
        assert_eq!(l.login_wait("admin", "192.0.2.1", at(5)), None);
        l.login_failed("admin", "192.0.2.1", at(5));
        assert_eq!(
            l.login_wait("admin", "192.0.2.1", at(6))
                .map(RetryAfter::seconds),
            Some(1)
        );
        let mut t = 7;
        for _ in 0..20 {
            l.login_failed("admin", "192.0.2.1", at(t));
            t += 1;
        }
        assert_eq!(
            l.login_wait("admin", "192.0.2.1", at(t))
                .map(RetryAfter::seconds),
            Some(15 * 60 - 1),
            "capped at the lockout"
        );
        assert_eq!(
            l.login_wait("admin", "198.51.100.7", at(t)),
            None,
            "another address is not slowed"
        );
        assert_eq!(l.login_wait("admin", "192.0.2.1", at(t + 15 * 60)), None);
        // Waiting out the longest delay does not start the count over: the
        // next failure waits the longest again.
        l.login_failed("admin", "192.0.2.1", at(t + 15 * 60));
        assert_eq!(
            l.login_wait("admin", "192.0.2.1", at(t + 15 * 60))
                .map(RetryAfter::seconds),
            Some(15 * 60)
        );
        // Forgotten after twice the longest wait without a failure.
        l.login_failed("admin", "192.0.2.1", at(t + 15 * 60 + 30 * 60));
        assert_eq!(
            l.login_wait("admin", "192.0.2.1", at(t + 15 * 60 + 30 * 60)),
            None
        );
    }

    #[test]
    fn a_day_of_one_guess_a_second_checks_few_passwords_and_writes_few_rows() {
        let l = limiter();
        let (mut checked, mut audited, mut reported) = (0, 0, 0);
        for t in 0..86_400 {
            if l.login_attempt("203.0.113.1", at(t)).is_err()
                || l.login_wait("admin", "203.0.113.1", at(t)).is_some()
            {
                continue;
            }
            checked += 1;
            let note = l.login_failed("admin", "203.0.113.1", at(t));
            audited += u32::from(note.audit);
            reported += u32::from(note.attack);
        }
        // 5 at once, then waits of 1 s … 512 s (10), then one per 15 min (94).
        assert_eq!(checked, 109, "passwords checked in 24 h");
        assert_eq!(audited, 7, "audit rows: the 1st, 2nd, 4th, … 64th");
        assert_eq!(reported, 1, "one attack report");
    }

    #[test]
    fn failures_are_audited_in_powers_of_two_and_an_attack_is_reported_once() {
        let l = limiter();
        let notes: Vec<FailureNote> = (0..20)
            .map(|i| l.login_failed("admin", &format!("192.0.2.{}", i % 4), at(i)))
            .collect();
        let audited: Vec<u32> = notes
            .iter()
            .filter(|n| n.audit)
            .map(|n| n.pair_failures)
            .collect();
        assert_eq!(audited, [1, 1, 1, 1, 2, 2, 2, 2, 4, 4, 4, 4]);
        let attacks: Vec<u32> = notes
            .iter()
            .filter(|n| n.attack)
            .map(|n| n.user_failures)
            .collect();
        assert_eq!(attacks, [5], "once, at the threshold");
        assert_eq!(notes[19].addresses, 4);
        let report = l.login_succeeded("admin", "203.0.113.5").unwrap();
        assert_eq!((report.failures, report.addresses), (20, 4));
        assert!(report.worth_telling);
        assert_eq!(l.login_succeeded("admin", "203.0.113.5"), None, "told once");
        l.login_failed("anna", "192.0.2.1", at(30));
        let typo = l.login_succeeded("anna", "192.0.2.1").unwrap();
        assert!(!typo.worth_telling, "one typo at one's own address");
        l.login_failed("anna", "192.0.2.66", at(31));
        assert!(
            l.login_succeeded("anna", "192.0.2.1")
                .unwrap()
                .worth_telling
        );
    }

    #[test]
    fn sweeps_forget_expired_keys_and_stay_rare_while_keys_are_live() {
        let l = limiter();
        for i in 0..=SWEEP_ABOVE {
            l.login_attempt(&format!("10.0.{}.{}", i / 256, i % 256), at(0))
                .unwrap();
        }
        // A minute later every bucket is full again: the next new key
        // sweeps them all away.
        l.login_attempt("192.0.2.1", at(61)).unwrap();
        assert_eq!(l.state().buckets.len(), 1);
        assert!(!sweep_due(SWEEP_ABOVE, 0));
        assert!(sweep_due(SWEEP_ABOVE + 1, 0));
        assert!(!sweep_due(15_000, 10_000), "live keys: wait until doubled");
        assert!(sweep_due(20_001, 10_000));
    }

    #[test]
    fn buckets_refill_at_their_rate() {
        let l = limiter();
        for _ in 0..20 {
            assert!(l.login_attempt("192.0.2.1", at(0)).is_ok());
        }
        let refused = l.login_attempt("192.0.2.1", at(0)).unwrap_err();
        assert_eq!(refused.seconds(), 3, "20 a minute: one every 3 s");
        assert!(
            l.login_attempt("198.51.100.7", at(0)).is_ok(),
            "per address"
        );
        assert!(l.login_attempt("192.0.2.1", at(3)).is_ok());
        assert!(l.login_attempt("192.0.2.1", at(3)).is_err());
    }

    #[test]
    fn streams_per_session_are_bounded_and_given_back() {
        let l = Arc::new(Limiter::new(
            LoginLimits::default(),
            RateLimits {
                sse_streams_per_session: 2,
                ..RateLimits::default()
            },
        ));
        let a = l.open_stream("s1").unwrap();
        let _b = l.open_stream("s1").unwrap();
        assert!(l.open_stream("s1").is_none());
        assert!(l.open_stream("s2").is_some(), "per session");
        drop(a);
        assert!(l.open_stream("s1").is_some());
    }
}
