//! The Shopify Admin REST client: one GET of one page, done properly.
//!
//! Every request has a timeout; transient failures (5xx, timeouts, dropped
//! connections, bodies cut short or not JSON) are retried with exponential
//! backoff and jitter; a 429 waits as long as `Retry-After` says; and the
//! client slows down on its own when the shop's leaky bucket is nearly full,
//! so syncs of several resources sharing one bucket rarely see a 429 at all.
//! Authentication and permission failures are not retried: waiting will not
//! fix a revoked token. The access token goes into one header and nowhere
//! else — errors carry the URL path only, never the token or the query.

use super::headers::{self, CallLimit};
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use rand::Rng;
use reqwest::header::{HeaderValue, ACCEPT, LINK, RETRY_AFTER};
use reqwest::StatusCode;
use serde_json::Value;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;
use url::Url;

/// The API version asked for unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "2025-07";

const TOKEN_HEADER: &str = "X-Shopify-Access-Token";
const CALL_LIMIT_HEADER: &str = "X-Shopify-Shop-Api-Call-Limit";
const API_VERSION_HEADER: &str = "X-Shopify-API-Version";
/// Above this fill of the bucket the client paces itself.
const BUCKET_THRESHOLD: f64 = 0.8;
/// 429s tolerated for one page before giving up. Separate from
/// `max_retries` because a 429 is the platform asking us to wait, not a fault.
const MAX_RATE_LIMIT_WAITS: u32 = 30;
/// Upper bound of one backoff sleep.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// How to reach one shop. Built from configuration; the token never prints.
#[derive(Debug, Clone)]
pub struct ShopifySettings {
    /// The configured connection, e.g. `shopify-plentum`; stamped on every record.
    pub source: SourceId,
    pub brand: BrandId,
    /// The shop's currency, for payloads that do not name one (products).
    pub currency: Currency,
    /// `https://{shop_domain}` in production; tests and the demo point it at
    /// the simulator, e.g. `http://127.0.0.1:PORT/shops/plentum`.
    pub base_url: Url,
    /// e.g. `2025-07`; the version that actually answers is logged once.
    pub api_version: String,
    pub access_token: Secret,
    /// Records per page, at most 250.
    pub page_size: u32,
    /// Whole-request timeout, body included.
    pub request_timeout: Duration,
    /// Retries of one page after transient failures (429s are counted apart).
    pub max_retries: u32,
    /// How far before the watermark an incremental sync starts, to catch
    /// records whose `updated_at` landed just before a previous run's end.
    pub overlap: Duration,
    /// The first retry waits about this long; each further one doubles it.
    pub backoff_base: Duration,
}

impl ShopifySettings {
    /// Settings for `https://{shop_domain}` with the defaults: 250 per page,
    /// 30 s timeout, 5 retries, 5 minutes of overlap.
    pub fn new(
        source: SourceId,
        brand: BrandId,
        currency: Currency,
        shop_domain: &str,
        access_token: Secret,
    ) -> Result<Self, ShopifyError> {
        let base_url = Url::parse(&format!("https://{}", shop_domain.trim()))
            .map_err(|e| ShopifyError::Settings(format!("shop domain {shop_domain:?}: {e}")))?;
        Ok(ShopifySettings {
            source,
            brand,
            currency,
            base_url,
            api_version: DEFAULT_API_VERSION.to_string(),
            access_token,
            page_size: 250,
            request_timeout: Duration::from_secs(30),
            max_retries: 5,
            overlap: Duration::from_secs(5 * 60),
            backoff_base: Duration::from_millis(500),
        })
    }
}

/// Why a request failed. Built from the HTTP status where there is one;
/// `path` is the URL path only (no query, no host credentials, no token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShopifyError {
    #[error("invalid shopify settings: {0}")]
    Settings(String),
    #[error("shopify rejected the access token (401) for {path}")]
    Unauthorized { path: String },
    #[error("shopify denied access (403) to {path}: the app may lack a scope")]
    Forbidden { path: String },
    #[error("shopify has no {path} (404): check the shop domain and API version")]
    NotFound { path: String },
    #[error("shopify refused {path} with status {status}")]
    Rejected { status: u16, path: String },
    #[error("shopify answered {status} for {path} ({attempts} attempts)")]
    Server {
        status: u16,
        path: String,
        attempts: u32,
    },
    #[error("shopify kept rate limiting {path} ({attempts} waits)")]
    RateLimited { path: String, attempts: u32 },
    #[error("request for {path} timed out ({attempts} attempts)")]
    Timeout { path: String, attempts: u32 },
    #[error("could not reach shopify for {path}: {reason} ({attempts} attempts)")]
    Connection {
        path: String,
        reason: String,
        attempts: u32,
    },
    #[error("shopify sent an unreadable body for {path}: {reason} ({attempts} attempts)")]
    MalformedBody {
        path: String,
        reason: String,
        attempts: u32,
    },
    #[error("shopify's next-page link is unusable: {0}")]
    BadNextLink(String),
}

impl ShopifyError {
    /// The HTTP status behind the error, where there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            ShopifyError::Unauthorized { .. } => Some(401),
            ShopifyError::Forbidden { .. } => Some(403),
            ShopifyError::NotFound { .. } => Some(404),
            ShopifyError::RateLimited { .. } => Some(429),
            ShopifyError::Rejected { status, .. } | ShopifyError::Server { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// Failures that need a person (a new token, a scope, a config fix)
    /// rather than another try.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            ShopifyError::Settings(_)
                | ShopifyError::Unauthorized { .. }
                | ShopifyError::Forbidden { .. }
                | ShopifyError::NotFound { .. }
        )
    }

    fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            ShopifyError::Server { attempts, .. }
            | ShopifyError::RateLimited { attempts, .. }
            | ShopifyError::Timeout { attempts, .. }
            | ShopifyError::Connection { attempts, .. }
            | ShopifyError::MalformedBody { attempts, .. } => *attempts = n,
            _ => {}
        }
        self
    }
}

/// What one run's calls cost, kept by the caller so concurrent runs sharing
/// a client count separately; feeds the SyncState counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// HTTP requests sent, retries included.
    pub requests: u64,
    /// Failed attempts (retried or not), 429s excluded.
    pub errors: u64,
    /// 429 answers waited out.
    pub rate_limit_waits: u64,
    /// Pauses taken because the bucket was nearly full.
    pub throttle_waits: u64,
}

/// One page of a listing: the records still as raw JSON (normalization
/// decodes each alone, so one bad record does not sink its page) and the
/// next page's URL exactly as Shopify gave it.
#[derive(Debug, Clone)]
pub struct Page {
    pub records: Vec<Value>,
    pub next: Option<Url>,
}

/// A client for one shop. Cheap to share behind an `Arc`: the resources of
/// one shop share it, and with it the pacing of the shop's bucket.
#[derive(Debug)]
pub struct ShopifyClient {
    settings: ShopifySettings,
    http: reqwest::Client,
    token: HeaderValue,
    /// Earliest moment the next request may go out (bucket pacing and
    /// Retry-After), shared by every caller of this client.
    not_before: Mutex<Option<Instant>>,
    version_logged: AtomicBool,
}

/// One attempt's result, before the retry policy looks at it.
enum Attempt {
    Done(Page),
    RateLimited(Option<Duration>),
    Retry(ShopifyError),
    Fatal(ShopifyError),
}

impl ShopifyClient {
    pub fn new(settings: ShopifySettings) -> Result<Self, ShopifyError> {
        if settings.page_size == 0 || settings.page_size > 250 {
            return Err(ShopifyError::Settings(format!(
                "page_size {} must be 1-250",
                settings.page_size
            )));
        }
        if settings.base_url.cannot_be_a_base() || !settings.base_url.scheme().starts_with("http") {
            return Err(ShopifyError::Settings(format!(
                "base_url {} is not an http(s) URL",
                settings.base_url
            )));
        }
        let mut token = HeaderValue::from_str(settings.access_token.expose()).map_err(|_| {
            ShopifyError::Settings("access token has characters not allowed in a header".into())
        })?;
        token.set_sensitive(true);
        let http = reqwest::Client::builder()
            .timeout(settings.request_timeout)
            .connect_timeout(settings.request_timeout.min(Duration::from_secs(10)))
            .user_agent(concat!("opsdeck/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ShopifyError::Settings(format!("http client: {e}")))?;
        Ok(ShopifyClient {
            settings,
            http,
            token,
            not_before: Mutex::new(None),
            version_logged: AtomicBool::new(false),
        })
    }

    pub fn settings(&self) -> &ShopifySettings {
        &self.settings
    }

    pub fn source(&self) -> &SourceId {
        &self.settings.source
    }

    /// `{base_url}/admin/api/{version}/{resource}.json?{query}`.
    pub fn resource_url(&self, resource: &str, query: &[(&str, String)]) -> Url {
        let mut url = self.settings.base_url.clone();
        let base_path = url.path().trim_end_matches('/').to_string();
        url.set_path(&format!(
            "{base_path}/admin/api/{}/{resource}.json",
            self.settings.api_version
        ));
        url.set_query(None);
        if !query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        url
    }

    /// GETs one page of a listing whose records sit under `key` (`orders`,
    /// `products`, `inventory_levels`), retrying what is worth retrying.
    pub async fn get_page(
        &self,
        url: &Url,
        key: &str,
        stats: &mut CallStats,
    ) -> Result<Page, ShopifyError> {
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
            match self.attempt(url, key).await {
                Attempt::Done(page) => return Ok(page),
                Attempt::Fatal(e) => {
                    stats.errors += 1;
                    return Err(e.with_attempts(attempts));
                }
                Attempt::RateLimited(retry_after) => {
                    stats.rate_limit_waits += 1;
                    waits += 1;
                    if waits > MAX_RATE_LIMIT_WAITS {
                        return Err(ShopifyError::RateLimited {
                            path: url.path().to_string(),
                            attempts: waits,
                        });
                    }
                    let pause = retry_after.unwrap_or_else(|| self.backoff(waits));
                    tracing::debug!(
                        path = url.path(),
                        pause_ms = pause.as_millis() as u64,
                        "429: waiting"
                    );
                    self.pace_for(pause);
                    after_429 = true;
                }
                Attempt::Retry(e) => {
                    stats.errors += 1;
                    failures += 1;
                    if failures > self.settings.max_retries {
                        return Err(e.with_attempts(attempts));
                    }
                    let pause = self.backoff(failures);
                    tracing::debug!(error = %e, retry = failures, pause_ms = pause.as_millis() as u64, "retrying");
                    tokio::time::sleep(pause).await;
                }
            }
        }
    }

    /// One call outside listings (e.g. webhook subscriptions): `method` on
    /// `{resource}.json` with an optional JSON body, answering the JSON body.
    /// Same rules as [`ShopifyClient::get_page`]: pacing, 429 waits,
    /// retries of 5xx and transport failures, no retry of 4xx.
    pub async fn call_json(
        &self,
        method: reqwest::Method,
        resource: &str,
        body: Option<&Value>,
        stats: &mut CallStats,
    ) -> Result<Value, ShopifyError> {
        let url = self.resource_url(resource, &[]);
        let path = url.path().to_string();
        let mut failures = 0u32;
        let mut waits = 0u32;
        loop {
            self.wait_for_pace().await;
            stats.requests += 1;
            let mut request = self
                .http
                .request(method.clone(), url.clone())
                .header(TOKEN_HEADER, self.token.clone())
                .header(ACCEPT, "application/json");
            if let Some(body) = body {
                request = request.json(body);
            }
            let error = match request.send().await {
                Err(e) => transport_error(&e, path.clone()),
                Ok(response) => {
                    let status = response.status();
                    let headers = response.headers().clone();
                    self.log_version_once(&headers);
                    if let Some(limit) =
                        header_str(&headers, CALL_LIMIT_HEADER).and_then(CallLimit::parse)
                    {
                        self.pace_for(limit.pause(BUCKET_THRESHOLD));
                    }
                    match status {
                        StatusCode::TOO_MANY_REQUESTS => {
                            stats.rate_limit_waits += 1;
                            waits += 1;
                            if waits > MAX_RATE_LIMIT_WAITS {
                                return Err(ShopifyError::RateLimited {
                                    path,
                                    attempts: waits,
                                });
                            }
                            let after = header_str(&headers, RETRY_AFTER.as_str())
                                .and_then(headers::retry_after);
                            self.pace_for(after.unwrap_or_else(|| self.backoff(waits)));
                            continue;
                        }
                        StatusCode::UNAUTHORIZED => {
                            stats.errors += 1;
                            return Err(ShopifyError::Unauthorized { path });
                        }
                        StatusCode::FORBIDDEN => {
                            stats.errors += 1;
                            return Err(ShopifyError::Forbidden { path });
                        }
                        StatusCode::NOT_FOUND => {
                            stats.errors += 1;
                            return Err(ShopifyError::NotFound { path });
                        }
                        s if s.is_server_error() => ShopifyError::Server {
                            status: s.as_u16(),
                            path: path.clone(),
                            attempts: 0,
                        },
                        s if !s.is_success() => {
                            stats.errors += 1;
                            return Err(ShopifyError::Rejected {
                                status: s.as_u16(),
                                path,
                            });
                        }
                        _ => match response.bytes().await {
                            Err(e) => transport_error(&e, path.clone()),
                            Ok(bytes) if bytes.iter().all(u8::is_ascii_whitespace) => {
                                return Ok(Value::Null)
                            }
                            Ok(bytes) => match serde_json::from_slice(&bytes) {
                                Ok(value) => return Ok(value),
                                Err(e) => ShopifyError::MalformedBody {
                                    path: path.clone(),
                                    reason: e.to_string(),
                                    attempts: 0,
                                },
                            },
                        },
                    }
                }
            };
            stats.errors += 1;
            failures += 1;
            if failures > self.settings.max_retries {
                return Err(error.with_attempts(failures + waits));
            }
            tokio::time::sleep(self.backoff(failures)).await;
        }
    }

    async fn attempt(&self, url: &Url, key: &str) -> Attempt {
        let path = url.path().to_string();
        let sent = self
            .http
            .get(url.clone())
            .header(TOKEN_HEADER, self.token.clone())
            .header(ACCEPT, "application/json")
            .send()
            .await;
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Attempt::Retry(transport_error(&e, path)),
        };
        let status = response.status();
        let headers = response.headers().clone();
        self.log_version_once(&headers);
        if let Some(limit) = header_str(&headers, CALL_LIMIT_HEADER).and_then(CallLimit::parse) {
            self.pace_for(limit.pause(BUCKET_THRESHOLD));
        }
        match status {
            StatusCode::TOO_MANY_REQUESTS => {
                let after =
                    header_str(&headers, RETRY_AFTER.as_str()).and_then(headers::retry_after);
                return Attempt::RateLimited(after);
            }
            StatusCode::UNAUTHORIZED => return Attempt::Fatal(ShopifyError::Unauthorized { path }),
            StatusCode::FORBIDDEN => return Attempt::Fatal(ShopifyError::Forbidden { path }),
            StatusCode::NOT_FOUND => return Attempt::Fatal(ShopifyError::NotFound { path }),
            s if s.is_server_error() => {
                return Attempt::Retry(ShopifyError::Server {
                    status: s.as_u16(),
                    path,
                    attempts: 0,
                })
            }
            s if !s.is_success() => {
                return Attempt::Fatal(ShopifyError::Rejected {
                    status: s.as_u16(),
                    path,
                })
            }
            _ => {}
        }
        // Read the whole body first, then parse: a connection dropped
        // mid-body and a body cut short both surface here and are retried.
        let body = match response.bytes().await {
            Ok(b) => b,
            Err(e) => return Attempt::Retry(transport_error(&e, path)),
        };
        let mut value: Value = match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return Attempt::Retry(ShopifyError::MalformedBody {
                    path,
                    reason: e.to_string(),
                    attempts: 0,
                })
            }
        };
        let records = match value.get_mut(key).map(Value::take) {
            Some(Value::Array(records)) => records,
            _ => {
                return Attempt::Retry(ShopifyError::MalformedBody {
                    path,
                    reason: format!("no `{key}` list in the body"),
                    attempts: 0,
                })
            }
        };
        let next = match header_str(&headers, LINK.as_str()).and_then(headers::next_link) {
            None => None,
            Some(link) => match self.checked_next(&link) {
                Ok(url) => Some(url),
                Err(e) => return Attempt::Fatal(e),
            },
        };
        Attempt::Done(Page { records, next })
    }

    /// Parses the next-page link and makes sure it points at the same shop:
    /// the token goes wherever the link says, so a link to another host is
    /// refused rather than followed.
    fn checked_next(&self, link: &str) -> Result<Url, ShopifyError> {
        let url = Url::parse(link).map_err(|e| ShopifyError::BadNextLink(e.to_string()))?;
        if url.origin() != self.settings.base_url.origin() {
            return Err(ShopifyError::BadNextLink(format!(
                "points to another host ({})",
                url.host_str().unwrap_or("?")
            )));
        }
        Ok(url)
    }

    /// Exponential backoff with jitter: about `base * 2^(n-1)`, uniformly
    /// between half and all of it, so retrying workers do not stampede.
    fn backoff(&self, n: u32) -> Duration {
        let exp = self
            .settings
            .backoff_base
            .saturating_mul(1u32 << n.saturating_sub(1).min(16))
            .min(MAX_BACKOFF);
        let jitter: f64 = rand::thread_rng().gen_range(0.5..=1.0);
        exp.mul_f64(jitter)
    }

    /// Pushes the earliest next request at least `pause` into the future.
    fn pace_for(&self, pause: Duration) {
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

    fn log_version_once(&self, headers: &reqwest::header::HeaderMap) {
        let Some(answered) = header_str(headers, API_VERSION_HEADER) else {
            return;
        };
        if self.version_logged.swap(true, Ordering::Relaxed) {
            return;
        }
        let requested = self.settings.api_version.as_str();
        if answered == requested {
            tracing::info!(source = %self.settings.source, api_version = answered, "shopify api version");
        } else {
            tracing::warn!(
                source = %self.settings.source,
                requested,
                answered,
                "shopify answered with another api version than requested"
            );
        }
    }
}

fn header_str<'a>(headers: &'a reqwest::header::HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Classifies a transport failure. The reason is the error's cause chain
/// without the URL; nothing in it comes from our request headers.
fn transport_error(e: &reqwest::Error, path: String) -> ShopifyError {
    if e.is_timeout() {
        return ShopifyError::Timeout { path, attempts: 0 };
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
    ShopifyError::Connection {
        path,
        reason,
        attempts: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn settings(base: &str) -> ShopifySettings {
        let mut s = ShopifySettings::new(
            SourceId::parse("shopify-test").unwrap(),
            BrandId::parse("test").unwrap(),
            Currency::USD,
            "example.myshopify.com",
            Secret::new("shpat_secret"),
        )
        .unwrap();
        s.base_url = Url::parse(base).unwrap();
        s
    }

    #[test]
    fn builds_resource_urls_under_the_base_path() {
        let client = ShopifyClient::new(settings("http://127.0.0.1:9/shops/plentum")).unwrap();
        let url = client.resource_url(
            "orders",
            &[("status", "any".into()), ("limit", "50".into())],
        );
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/shops/plentum/admin/api/2025-07/orders.json?status=any&limit=50"
        );
        let client = ShopifyClient::new(settings("https://x.myshopify.com/")).unwrap();
        assert_eq!(
            client.resource_url("products", &[]).as_str(),
            "https://x.myshopify.com/admin/api/2025-07/products.json"
        );
    }

    #[test]
    fn refuses_next_links_to_other_hosts() {
        let client = ShopifyClient::new(settings("http://127.0.0.1:9/shops/a")).unwrap();
        assert!(client
            .checked_next("http://127.0.0.1:9/shops/a/x.json?page_info=1")
            .is_ok());
        assert!(matches!(
            client.checked_next("http://evil.example/x.json"),
            Err(ShopifyError::BadNextLink(_))
        ));
    }

    #[test]
    fn settings_never_print_the_token() {
        let s = settings("http://127.0.0.1:9/");
        assert!(!format!("{s:?}").contains("shpat_secret"));
        let mut bad = s.clone();
        bad.page_size = 251;
        assert!(ShopifyClient::new(bad).is_err());
    }

    #[test]
    fn backoff_grows_with_jitter() {
        let client = ShopifyClient::new(settings("http://127.0.0.1:9/")).unwrap();
        for _ in 0..20 {
            let first = client.backoff(1);
            assert!(first >= Duration::from_millis(250) && first <= Duration::from_millis(500));
            let third = client.backoff(3);
            assert!(third >= Duration::from_millis(1000) && third <= Duration::from_millis(2000));
        }
        assert!(client.backoff(40) <= MAX_BACKOFF);
    }
}
