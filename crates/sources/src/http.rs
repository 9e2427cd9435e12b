//! What the Shopify and Gorgias clients share about sending a request
//! politely and reliably: one retry loop, one pacer, one way to sort an
//! answer. Each platform keeps its own specifics — its call-limit header and
//! when to slow down, its URLs and credentials, its body shapes, its typed
//! error — in its own module, and plugs them in through [`PlatformError`]
//! and the two closures of [`RetryPacer::exchange`].
//!
//! The rules, the same for both platforms:
//! - every attempt has a total deadline — connecting, the headers and the
//!   whole body — and a body size cap ([`TransferLimits`]): an upstream that
//!   hangs, before its headers or in the middle of its body, or that streams
//!   a body past the cap, fails the attempt when the deadline or the cap is
//!   reached, never later (the body is read chunk by chunk and dropped as
//!   soon as it is too long);
//! - 5xx answers, timeouts, dropped connections, bodies cut short, over the
//!   cap or unreadable are transient: retried up to `max_retries` times
//!   after a capped exponential backoff with jitter, so a run that keeps
//!   meeting them ends, and records its cause, within
//!   `(max_retries + 1) × deadline` plus the backoffs;
//! - a 429 waits as long as `Retry-After` says (seconds, fractional allowed;
//!   the header name is matched case-insensitively, so Gorgias's
//!   `Retry-after` is the same header), or a backoff when it says nothing
//!   usable; 429s are counted apart, up to [`MAX_RATE_LIMIT_WAITS`], since
//!   they are the platform asking us to wait, not a fault;
//! - 401, 403, 404 and other 4xx are not retried: waiting will not fix them;
//! - a redirect to another origin is not followed (its 3xx is a refusal), so
//!   a credential header never leaves the configured host.
//!
//! Errors carry the URL path only: never the query, the host's credentials
//! or a request header.

use rand::Rng;
use reqwest::header::{HeaderMap, RETRY_AFTER};
use reqwest::{RequestBuilder, StatusCode};
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// The body cap unless configured otherwise: a page of 250 Shopify orders
/// or 100 Gorgias messages is a few MB at most, so a body past 8 MiB is a
/// broken upstream, not a big page.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;

/// 429s tolerated for one request before giving up.
pub(crate) const MAX_RATE_LIMIT_WAITS: u32 = 30;
/// Upper bound of one backoff sleep.
pub(crate) const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What one run's calls cost, kept by the caller so concurrent runs sharing
/// a client count separately; feeds the `SyncState` counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Failed attempts (retried or not), 429s excluded.
    pub errors: u64,
    /// 429 answers waited out.
    pub rate_limit_waits: u64,
    /// Pauses taken because the platform's call limit was nearly reached.
    pub throttle_waits: u64,
}

/// How one client retries, taken from its settings.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RetryPolicy {
    /// Retries of one request after transient failures (429s counted apart).
    pub max_retries: u32,
    /// The first retry waits about this long; each further one doubles it,
    /// up to [`MAX_BACKOFF`].
    pub backoff_base: Duration,
    /// The longest `Retry-After` taken at its word; a longer one is cut to it.
    pub max_retry_after: Duration,
}

/// How long one attempt may take and how much it may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransferLimits {
    /// From sending the request to the last byte of the body.
    pub deadline: Duration,
    /// The longest body accepted, in bytes.
    pub max_body_bytes: u64,
}

impl TransferLimits {
    /// `deadline` per attempt and the default body cap.
    pub fn within(deadline: Duration) -> Self {
        TransferLimits {
            deadline,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// A request's failure before a platform names it in its own error type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    Unauthorized,
    Forbidden,
    NotFound,
    /// Another 4xx status.
    Rejected(u16),
    Server(u16),
    RateLimited,
    Timeout,
    /// The connection failed or dropped, or the body was cut short.
    Connection(String),
    MalformedBody(String),
}

/// Each client's typed error, built from a [`Failure`] at a URL path.
pub(crate) trait PlatformError: Sized + std::fmt::Display {
    /// The error for `failure` at `path`, with no attempt count yet.
    fn from_failure(failure: Failure, path: String) -> Self;
    /// Sets the number of attempts on the errors that report one.
    fn with_attempts(self, attempts: u32) -> Self;
}

/// Why one attempt gave no answer to use, which decides what comes next.
#[derive(Debug)]
pub(crate) enum Setback<E> {
    /// A 429: wait as long as `Retry-After` said (when it did), then again.
    RateLimited(Option<Duration>),
    /// Worth another try after a backoff.
    Transient(E),
    /// Not worth another try.
    Fatal(E),
}

/// Builds the HTTP client both platforms use: the whole-request timeout,
/// a connect timeout of at most 10 s, opsdeck's user agent, and redirects
/// followed only within one origin ([`same_origin_redirects`]).
pub(crate) fn build_http_client(
    request_timeout: Duration,
) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .timeout(request_timeout)
        .connect_timeout(request_timeout.min(Duration::from_secs(10)))
        .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
        .redirect(same_origin_redirects())
        .build()
}

/// Redirects that stay on the origin of the request are followed (up to
/// 10); one to another scheme, host or port is not, and its 3xx answer is
/// returned as a refusal. reqwest drops `Authorization` on such a hop but
/// not `X-Shopify-Access-Token`, which would otherwise go to wherever the
/// `Location` points (a shop's custom domain redirecting, a proxy).
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let same_origin = attempt
            .previous()
            .last()
            .is_some_and(|prev| prev.origin() == attempt.url().origin());
        if attempt.previous().len() > 10 || !same_origin {
            attempt.stop()
        } else {
            attempt.follow()
        }
    })
}

/// The retry policy of one client and the pacing it shares among all its
/// callers: one per client, so every sync of one shop (or of the helpdesk
/// account) slows down together.
#[derive(Debug)]
pub(crate) struct RetryPacer {
    policy: RetryPolicy,
    limits: TransferLimits,
    /// Earliest moment the next request may go out (call-limit pacing and
    /// `Retry-After`).
    not_before: Mutex<Option<Instant>>,
}

impl RetryPacer {
    pub fn with_limits(policy: RetryPolicy, limits: TransferLimits) -> Self {
        RetryPacer {
            policy,
            limits,
            not_before: Mutex::new(None),
        }
    }

    /// Runs `attempt` until it gives an answer, a fatal error, or the retry
    /// budget is spent; counts every request, failure and wait in `stats`.
    /// `path` names the request in the rate-limit error.
    pub async fn send<T, E, F, Fut>(
        &self,
        path: &str,
        stats: &mut CallStats,
        mut attempt: F,
    ) -> Result<T, E>
    where
        E: PlatformError,
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, Setback<E>>>,
    {
        let mut failures = 0u32;
        let mut waits = 0u32;
        let mut after_429 = false;
        loop {
            // A pause right after a 429 is that 429's wait, already counted.
            if self.wait_for_pace().await && !after_429 {
                stats.throttle_waits += 1;
            }
            after_429 = false;
            stats.requests += 1;
            let attempts = failures + waits + 1;
            let setback = match attempt().await {
                Ok(answer) => return Ok(answer),
                Err(setback) => setback,
            };
            match setback {
                Setback::Fatal(e) => {
                    stats.errors += 1;
                    return Err(e.with_attempts(attempts));
                }
                Setback::RateLimited(retry_after) => {
                    stats.rate_limit_waits += 1;
                    waits += 1;
                    if waits > MAX_RATE_LIMIT_WAITS {
                        let e = E::from_failure(Failure::RateLimited, path.to_string());
                        return Err(e.with_attempts(waits));
                    }
                    let pause = retry_after.unwrap_or_else(|| self.backoff(waits));
                    tracing::debug!(path, pause_ms = pause.as_millis() as u64, "429: waiting");
                    self.pace_for(pause);
                    after_429 = true;
                }
                Setback::Transient(e) => {
                    stats.errors += 1;
                    failures += 1;
                    if failures > self.policy.max_retries {
                        return Err(e.with_attempts(attempts));
                    }
                    let pause = self.backoff(failures);
                    tracing::debug!(error = %e, retry = failures, pause_ms = pause.as_millis() as u64, "retrying");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// One attempt: sends `request` (for `path`), shows every answer's
    /// headers to `on_headers` (call-limit pacing, version logging), sorts
    /// the status, reads the whole body of a success and hands it to
    /// `read`. The body is read before it is parsed, so a connection dropped
    /// mid-body and a body cut short both surface as transient here; so do
    /// an attempt past its deadline (whatever stage it hung in) and a body
    /// past the cap.
    pub async fn exchange<T, E: PlatformError>(
        &self,
        request: RequestBuilder,
        path: &str,
        on_headers: impl FnOnce(&HeaderMap),
        read: impl FnOnce(&HeaderMap, &[u8]) -> Result<T, Setback<E>>,
    ) -> Result<T, Setback<E>> {
        let fail = |failure| E::from_failure(failure, path.to_string());
        let attempt = async {
            let response = match request.send().await {
                Ok(response) => response,
                Err(e) => return Err(Setback::Transient(fail(transport_failure(&e)))),
            };
            let status = response.status();
            let headers = response.headers().clone();
            on_headers(&headers);
            match status {
                StatusCode::TOO_MANY_REQUESTS => {
                    let after = header_str(&headers, RETRY_AFTER.as_str())
                        .and_then(|h| retry_after(h, self.policy.max_retry_after));
                    return Err(Setback::RateLimited(after));
                }
                StatusCode::UNAUTHORIZED => {
                    return Err(Setback::Fatal(fail(Failure::Unauthorized)))
                }
                StatusCode::FORBIDDEN => return Err(Setback::Fatal(fail(Failure::Forbidden))),
                StatusCode::NOT_FOUND => return Err(Setback::Fatal(fail(Failure::NotFound))),
                s if s.is_server_error() => {
                    return Err(Setback::Transient(fail(Failure::Server(s.as_u16()))))
                }
                s if !s.is_success() => {
                    return Err(Setback::Fatal(fail(Failure::Rejected(s.as_u16()))))
                }
                _ => {}
            }
            match read_capped(response, self.limits.max_body_bytes).await {
                Ok(body) => read(&headers, &body),
                Err(failure) => Err(Setback::Transient(fail(failure))),
            }
        };
        match tokio::time::timeout(self.limits.deadline, attempt).await {
            Ok(outcome) => outcome,
            Err(_) => {
                tracing::debug!(
                    path,
                    deadline_ms = self.limits.deadline.as_millis() as u64,
                    "no complete answer within the deadline"
                );
                Err(Setback::Transient(fail(Failure::Timeout)))
            }
        }
    }

    /// Exponential backoff with jitter: about `base * 2^(n-1)` (at most
    /// [`MAX_BACKOFF`]), uniformly between half and all of it, so retrying
    /// workers do not stampede.
    pub fn backoff(&self, n: u32) -> Duration {
        let exp = self
            .policy
            .backoff_base
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(MAX_BACKOFF);
        let jitter: f64 = rand::thread_rng().gen_range(0.5..=1.0);
        exp.mul_f64(jitter)
    }

    /// Pushes the earliest next request at least `pause` into the future.
    pub fn pace_for(&self, pause: Duration) {
        if pause.is_zero() {
            return;
        }
        let until = Instant::now() + pause;
        let mut guard = self.not_before.lock().unwrap_or_else(|p| p.into_inner());
        if guard.is_none_or(|t| t < until) {
            *guard = Some(until);
        }
    }

    /// Sleeps until pacing allows the next request; true when it slept.
    async fn wait_for_pace(&self) -> bool {
        let until = *self.not_before.lock().unwrap_or_else(|p| p.into_inner());
        match until {
            Some(t) if t > Instant::now() => {
                tokio::time::sleep_until(t).await;
                true
            }
            _ => false,
        }
    }
}

/// Refuses a base URL a client cannot put paths under: not http(s), or
/// not hierarchical (`mailto:`, `data:`).
pub(crate) fn check_base_url(base: &Url) -> Result<(), String> {
    if base.cannot_be_a_base() || !base.scheme().starts_with("http") {
        return Err(format!("base_url {base} is not an http(s) URL"));
    }
    Ok(())
}

/// `base` with `suffix` appended to its path (so a base that is itself a
/// path, like the simulator's `/shops/plentum`, is kept) and `query` as its
/// whole query.
pub(crate) fn url_under(base: &Url, suffix: &str, query: &[(&str, String)]) -> Url {
    let mut url = base.clone();
    let base_path = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{base_path}{suffix}"));
    url.set_query(None);
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    url
}

/// A header's value when it is text.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Parses `Retry-After` as seconds, fractional allowed ("2.0", "0.5"), cut
/// to `max`. HTTP dates (the header's other form) are sent by neither
/// platform; they and any nonsense give `None`, and the backoff applies.
pub(crate) fn retry_after(header: &str, max: Duration) -> Option<Duration> {
    let secs: f64 = header.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(max.as_secs_f64())))
}

/// The body of `response`, read chunk by chunk and given up on as soon as
/// it passes `cap` bytes (or announces more in `Content-Length`): a huge or
/// endless body costs at most `cap` bytes of memory and never a whole read.
async fn read_capped(mut response: reqwest::Response, cap: u64) -> Result<Vec<u8>, Failure> {
    let too_large = || Failure::MalformedBody(format!("body over the {} cap", bytes_words(cap)));
    if response.content_length().is_some_and(|len| len > cap) {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| transport_failure(&e))? {
        if (body.len() + chunk.len()) as u64 > cap {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// "8 MiB" for a whole number of MiB, else "1500 bytes".
fn bytes_words(n: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if n >= MIB && n.is_multiple_of(MIB) {
        format!("{} MiB", n / MIB)
    } else {
        format!("{n} bytes")
    }
}

/// Classifies a transport failure. The reason is the error's cause chain
/// without the URL; nothing in it comes from the request's headers.
fn transport_failure(e: &reqwest::Error) -> Failure {
    if e.is_timeout() {
        return Failure::Timeout;
    }
    let mut reason = String::new();
    let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
    while let Some(c) = cause {
        if !reason.is_empty() {
            reason.push_str(": ");
        }
        reason.push_str(&c.to_string());
        cause = c.source();
    }
    if reason.is_empty() {
        reason = if e.is_body() {
            "body cut short".into()
        } else {
            "connection failed".into()
        };
    }
    Failure::Connection(reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pacer(backoff_base: Duration) -> RetryPacer {
        RetryPacer::with_limits(
            RetryPolicy {
                max_retries: 2,
                backoff_base,
                max_retry_after: Duration::from_secs(600),
            },
            TransferLimits::within(Duration::from_secs(5)),
        )
    }

    /// A stand-in platform error that shows what the loop gave up with.
    #[derive(Debug, PartialEq)]
    struct Gave(Failure, u32);

    impl std::fmt::Display for Gave {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "{:?} after {}", self.0, self.1)
        }
    }

    impl PlatformError for Gave {
        fn from_failure(failure: Failure, _path: String) -> Self {
            Gave(failure, 0)
        }
        fn with_attempts(self, attempts: u32) -> Self {
            Gave(self.0, attempts)
        }
    }

    #[test]
    fn backoff_grows_with_jitter_and_is_capped() {
        let pacer = pacer(Duration::from_millis(500));
        for _ in 0..20 {
            let first = pacer.backoff(1);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let third = pacer.backoff(3);
            assert!(third >= Duration::from_millis(1000) && third <= Duration::from_millis(2000));
        }
        assert!(pacer.backoff(40) <= MAX_BACKOFF);
    }

    #[test]
    fn retry_after_accepts_fractions_and_is_capped() {
        let max = Duration::from_secs(600);
        assert_eq!(retry_after("2.0", max), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(" 0.25 ", max), Some(Duration::from_millis(250)));
        assert_eq!(retry_after("2.5", max), Some(Duration::from_millis(2500)));
        assert_eq!(retry_after("3", max), Some(Duration::from_secs(3)));
        assert_eq!(retry_after("7200", max), Some(max));
        assert_eq!(retry_after("Wed, 21 Oct 2015 07:28:00 GMT", max), None);
        assert_eq!(retry_after("soon", max), None);
        assert_eq!(retry_after("-1", max), None);
    }

    #[tokio::test]
    async fn transient_failures_are_retried_until_the_budget_is_spent() {
        let pacer = pacer(Duration::from_millis(1));
        let mut stats = CallStats::default();
        let mut tries = 0;
        let outcome: Result<(), Gave> = pacer
            .send("/api/tickets", &mut stats, || {
                tries += 1;
                async { Err(Setback::Transient(Gave(Failure::Server(503), 0))) }
            })
            .await;
        assert_eq!(outcome, Err(Gave(Failure::Server(503), 3)));
        assert_eq!(tries, 3, "one try and max_retries (2) more");
        assert_eq!((stats.requests, stats.errors), (3, 3));
    }

    #[tokio::test]
    async fn a_429_waits_and_a_fatal_error_stops_at_once() {
        let pacer = pacer(Duration::from_millis(1));
        let mut stats = CallStats::default();
        let mut answers = vec![
            Err(Setback::Fatal(Gave(Failure::Unauthorized, 0))),
            Err(Setback::RateLimited(Some(Duration::from_millis(20)))),
        ];
        let started = Instant::now();
        let outcome: Result<(), Gave> = pacer
            .send("/x", &mut stats, || {
                let next = answers.pop().unwrap();
                async move { next }
            })
            .await;
        assert!(
            started.elapsed() >= Duration::from_millis(20),
            "Retry-After waited"
        );
        assert_eq!(outcome, Err(Gave(Failure::Unauthorized, 2)));
        assert_eq!(
            stats,
            CallStats {
                requests: 2,
                errors: 1,
                rate_limit_waits: 1,
                throttle_waits: 0,
            }
        );
    }
}
