//! The Gorgias REST client: one GET of one page of a cursor-paginated list.
//!
//! Same manners as the Shopify client, from the same retry loop
//! ([`crate::http`]): a timeout on every request; transient failures (5xx,
//! timeouts, dropped connections, bodies cut short or not JSON) retried with
//! exponential backoff and jitter; a 429 waits as long as `Retry-after`
//! says. Gorgias's own: the client paces itself once
//! `X-Gorgias-Account-Api-Call-Limit` (`used/limit`, 40 per 20 s for API-key
//! integrations) shows the window nearly used, so the ticket and survey syncs
//! sharing one account rarely meet a 429. Authentication failures are not
//! retried. The API key goes into the Basic `Authorization` header only,
//! marked sensitive; errors carry the URL path, never the key or the query.

use crate::http::{
    build_http_client, check_base_url, header_str, url_under, Failure, PlatformError, RetryPacer,
    RetryPolicy, Setback, TransferLimits,
};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use opsdeck_domain::{Secret, SourceId};
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, AUTHORIZATION};
use serde_json::Value;
use std::time::Duration;
use url::Url;

pub use crate::http::CallStats;

const CALL_LIMIT_HEADER: &str = "X-Gorgias-Account-Api-Call-Limit";
/// Gorgias counts calls in a window of this length (API-key integrations;
/// Enterprise accounts have 10 s).
pub const WINDOW: Duration = Duration::from_secs(20);
/// Above this share of the window's calls the client paces itself.
const PACE_THRESHOLD: f64 = 0.8;
/// The longest `Retry-after` Gorgias is taken at its word for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(600);
/// How far back a surveys run reads again by default (see
/// [`GorgiasSettings::survey_lookback`]).
pub const DEFAULT_SURVEY_LOOKBACK: Duration = Duration::from_secs(7 * 24 * 3600);
/// Gorgias' largest page.
pub const MAX_PAGE_SIZE: u32 = 100;

/// How to reach the helpdesk. The API key never prints.
#[derive(Debug, Clone)]
pub struct GorgiasSettings {
    /// Stamped on every record, e.g. `gorgias`.
    pub source: SourceId,
    /// `https://{subdomain}.gorgias.com` in production; the simulator's
    /// `http://{addr}/gorgias` in tests and the demo.
    pub base_url: Url,
    /// The email of the Gorgias user the API key belongs to.
    pub user: String,
    pub api_key: Secret,
    /// Records per page, 1-100.
    pub page_size: u32,
    pub request_timeout: Duration,
    /// Retries of one page after transient failures (429s are counted apart).
    pub max_retries: u32,
    /// How far below the watermark an incremental run keeps reading, to
    /// catch changes stamped just before the previous run's newest one.
    pub overlap: Duration,
    pub backoff_base: Duration,
    /// The window the account's call limit drains over (the limit itself
    /// comes from `X-Gorgias-Account-Api-Call-Limit`): 20 s, 10 s for
    /// Enterprise accounts; tests shorten it with the simulator's clock.
    pub rate_window: Duration,
    /// How far below the newest survey each surveys run reads again, so a
    /// survey answered after it was sent is seen: the list is ordered by
    /// creation only, and a survey is created when it is sent.
    pub survey_lookback: Duration,
}

impl GorgiasSettings {
    /// Settings for `https://{subdomain}.gorgias.com` with the defaults: 100
    /// per page, 30 s timeout, 5 retries, 5 minutes of overlap, a 20 s
    /// call-limit window, surveys re-read 7 days back.
    pub fn new(
        source: SourceId,
        subdomain: &str,
        user: impl Into<String>,
        api_key: Secret,
    ) -> Result<Self, GorgiasError> {
        let base_url = Url::parse(&format!("https://{}.gorgias.com", subdomain.trim()))
            .map_err(|e| GorgiasError::Settings(format!("subdomain {subdomain:?}: {e}")))?;
        Ok(GorgiasSettings {
            source,
            base_url,
            user: user.into(),
            api_key,
            page_size: MAX_PAGE_SIZE,
            request_timeout: Duration::from_secs(30),
            max_retries: 5,
            overlap: Duration::from_secs(5 * 60),
            backoff_base: Duration::from_millis(500),
            rate_window: WINDOW,
            survey_lookback: DEFAULT_SURVEY_LOOKBACK,
        })
    }

    fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            backoff_base: self.backoff_base,
            max_retry_after: MAX_RETRY_AFTER,
        }
    }
}

/// Why a request failed; `path` is the URL path only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GorgiasError {
    #[error("invalid gorgias settings: {0}")]
    Settings(String),
    #[error("gorgias rejected the user or API key (401) for {path}")]
    Unauthorized { path: String },
    #[error("gorgias denied access (403) to {path}: the user may lack a permission")]
    Forbidden { path: String },
    #[error("gorgias has no {path} (404): check the subdomain or base_url")]
    NotFound { path: String },
    #[error("gorgias refused {path} with status {status}")]
    Rejected { status: u16, path: String },
    #[error("gorgias answered {status} for {path} ({attempts} attempts)")]
    Server {
        status: u16,
        path: String,
        attempts: u32,
    },
    #[error("gorgias kept rate limiting {path} ({attempts} waits)")]
    RateLimited { path: String, attempts: u32 },
    #[error("request for {path} timed out ({attempts} attempts)")]
    Timeout { path: String, attempts: u32 },
    #[error("could not reach gorgias for {path}: {reason} ({attempts} attempts)")]
    Connection {
        path: String,
        reason: String,
        attempts: u32,
    },
    #[error("gorgias sent an unreadable body for {path}: {reason} ({attempts} attempts)")]
    MalformedBody {
        path: String,
        reason: String,
        attempts: u32,
    },
}

impl GorgiasError {
    /// Failures that need a person rather than another try.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            GorgiasError::Settings(_)
                | GorgiasError::Unauthorized { .. }
                | GorgiasError::Forbidden { .. }
                | GorgiasError::NotFound { .. }
        )
    }
}

impl PlatformError for GorgiasError {
    fn from_failure(failure: Failure, path: String) -> Self {
        match failure {
            Failure::Unauthorized => GorgiasError::Unauthorized { path },
            Failure::Forbidden => GorgiasError::Forbidden { path },
            Failure::NotFound => GorgiasError::NotFound { path },
            Failure::Rejected(status) => GorgiasError::Rejected { status, path },
            Failure::Server(status) => GorgiasError::Server {
                status,
                path,
                attempts: 0,
            },
            Failure::RateLimited => GorgiasError::RateLimited { path, attempts: 0 },
            Failure::Timeout => GorgiasError::Timeout { path, attempts: 0 },
            Failure::Connection(reason) => GorgiasError::Connection {
                path,
                reason,
                attempts: 0,
            },
            Failure::MalformedBody(reason) => GorgiasError::MalformedBody {
                path,
                reason,
                attempts: 0,
            },
        }
    }

    fn with_attempts(mut self, n: u32) -> Self {
        match &mut self {
            GorgiasError::Server { attempts, .. }
            | GorgiasError::RateLimited { attempts, .. }
            | GorgiasError::Timeout { attempts, .. }
            | GorgiasError::Connection { attempts, .. }
            | GorgiasError::MalformedBody { attempts, .. } => *attempts = n,
            _ => {}
        }
        self
    }
}

/// One page of a list: raw records (each normalized alone) and the cursor of
/// the next page, `None` on the last.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub records: Vec<Value>,
    pub next_cursor: Option<String>,
}

/// A client for one Gorgias account; share it behind an `Arc` so every sync
/// of the account shares its pacing.
#[derive(Debug)]
pub struct GorgiasClient {
    settings: GorgiasSettings,
    http: reqwest::Client,
    auth: HeaderValue,
    /// Retries, and the earliest moment the next request may go out (window
    /// pacing and Retry-after), shared by every sync of the account.
    pacer: RetryPacer,
}

impl GorgiasClient {
    pub fn new(settings: GorgiasSettings) -> Result<Self, GorgiasError> {
        if settings.page_size == 0 || settings.page_size > MAX_PAGE_SIZE {
            return Err(GorgiasError::Settings(format!(
                "page_size {} must be 1-{MAX_PAGE_SIZE}",
                settings.page_size
            )));
        }
        check_base_url(&settings.base_url).map_err(GorgiasError::Settings)?;
        if settings.user.trim().is_empty() {
            return Err(GorgiasError::Settings("user (an email) is empty".into()));
        }
        let credentials = STANDARD.encode(format!(
            "{}:{}",
            settings.user.trim(),
            settings.api_key.expose()
        ));
        let mut auth = HeaderValue::from_str(&format!("Basic {credentials}"))
            .map_err(|_| GorgiasError::Settings("credentials not allowed in a header".into()))?;
        auth.set_sensitive(true);
        let http = build_http_client(settings.request_timeout)
            .map_err(|e| GorgiasError::Settings(format!("http client: {e}")))?;
        Ok(GorgiasClient {
            pacer: RetryPacer::with_limits(
                settings.retry_policy(),
                TransferLimits::within(settings.request_timeout),
            ),
            settings,
            http,
            auth,
        })
    }

    pub fn settings(&self) -> &GorgiasSettings {
        &self.settings
    }

    pub fn source(&self) -> &SourceId {
        &self.settings.source
    }

    /// `{base_url}/api/{resource}?{query}`.
    pub fn resource_url(&self, resource: &str, query: &[(&str, String)]) -> Url {
        url_under(&self.settings.base_url, &format!("/api/{resource}"), query)
    }

    /// GETs one page of `resource` (`tickets`, `messages`,
    /// `satisfaction-surveys`) with `query` plus `limit` and, when given,
    /// `cursor`.
    pub async fn list(
        &self,
        resource: &str,
        query: &[(&str, String)],
        cursor: Option<&str>,
        stats: &mut CallStats,
    ) -> Result<ListPage, GorgiasError> {
        let mut full: Vec<(&str, String)> = query.to_vec();
        full.push(("limit", self.settings.page_size.to_string()));
        if let Some(cursor) = cursor {
            full.push(("cursor", cursor.to_string()));
        }
        let url = self.resource_url(resource, &full);
        self.get_page(&url, stats).await
    }

    async fn get_page(&self, url: &Url, stats: &mut CallStats) -> Result<ListPage, GorgiasError> {
        let path = url.path();
        self.pacer
            .send(path, stats, || {
                let request = self
                    .http
                    .get(url.clone())
                    .header(AUTHORIZATION, self.auth.clone())
                    .header(ACCEPT, "application/json");
                let on_headers = |headers: &HeaderMap| {
                    if let Some((used, limit)) =
                        header_str(headers, CALL_LIMIT_HEADER).and_then(call_limit)
                    {
                        let window = self.settings.rate_window;
                        self.pacer.pace_for(pause_for(used, limit, window));
                    }
                };
                self.pacer.exchange(request, path, on_headers, |_, body| {
                    parse_list(body).map_err(|reason| {
                        let failure = Failure::MalformedBody(reason);
                        Setback::Transient(GorgiasError::from_failure(failure, path.into()))
                    })
                })
            })
            .await
    }
}

/// `{"object":"list","data":[…],"meta":{"next_cursor":…}}` into a page.
pub(crate) fn parse_list(body: &[u8]) -> Result<ListPage, String> {
    let mut value: Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    let records = match value.get_mut("data").map(Value::take) {
        Some(Value::Array(records)) => records,
        _ => return Err("no `data` list in the body".into()),
    };
    let next_cursor = match value.pointer("/meta/next_cursor") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) if s.is_empty() => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => return Err(format!("meta.next_cursor is not a string: {other}")),
    };
    Ok(ListPage {
        records,
        next_cursor,
    })
}

/// Parses `"12/40"` into (used, limit).
pub(crate) fn call_limit(header: &str) -> Option<(u32, u32)> {
    let (used, limit) = header.trim().split_once('/')?;
    let used: u32 = used.trim().parse().ok()?;
    let limit: u32 = limit.trim().parse().ok()?;
    (limit > 0).then_some((used, limit))
}

/// Zero while under the threshold; past it, one call's share of the window
/// (0.5 s for 40 per 20 s), so the window never fills.
pub(crate) fn pause_for(used: u32, limit: u32, window: Duration) -> Duration {
    if f64::from(used) < f64::from(limit) * PACE_THRESHOLD {
        return Duration::ZERO;
    }
    window / limit
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(base: &str) -> GorgiasSettings {
        let mut s = GorgiasSettings::new(
            SourceId::parse("gorgias").unwrap(),
            "acme",
            "ops@example.com",
            Secret::new("gorgias-key-123"),
        )
        .unwrap();
        s.base_url = Url::parse(base).unwrap();
        s
    }

    #[test]
    fn urls_sit_under_the_base_path() {
        let client = GorgiasClient::new(settings("http://127.0.0.1:9/gorgias")).unwrap();
        let url = client.resource_url("tickets", &[("order_by", "updated_datetime:desc".into())]);
        assert_eq!(
            url.as_str(),
            "http://127.0.0.1:9/gorgias/api/tickets?order_by=updated_datetime%3Adesc"
        );
        let default = GorgiasSettings::new(
            SourceId::parse("gorgias").unwrap(),
            "acme",
            "a@b.c",
            Secret::new("k"),
        )
        .unwrap();
        assert_eq!(default.base_url.as_str(), "https://acme.gorgias.com/");
    }

    #[test]
    fn lists_and_headers_parse() {
        let page = parse_list(
            br#"{"object":"list","data":[{"id":1}],"meta":{"prev_cursor":null,"next_cursor":"abc"}}"#,
        )
        .unwrap();
        assert_eq!(page.records.len(), 1);
        assert_eq!(page.next_cursor.as_deref(), Some("abc"));
        let last =
            parse_list(br#"{"object":"list","data":[],"meta":{"next_cursor":null}}"#).unwrap();
        assert_eq!(last.next_cursor, None);
        assert!(parse_list(br#"{"object":"list","data":[{"id":1}"#).is_err());
        assert!(parse_list(br#"{"object":"ticket"}"#).is_err());
        assert_eq!(call_limit("12/40"), Some((12, 40)));
        assert_eq!(call_limit("x/40"), None);
        assert_eq!(pause_for(10, 40, WINDOW), Duration::ZERO);
        assert_eq!(pause_for(32, 40, WINDOW), Duration::from_millis(500));
    }

    #[test]
    fn settings_never_print_the_key() {
        let s = settings("http://127.0.0.1:9/");
        assert!(!format!("{s:?}").contains("gorgias-key-123"));
        let client = GorgiasClient::new(s.clone()).unwrap();
        assert!(!format!("{client:?}").contains("gorgias-key-123"));
        let mut bad = s;
        bad.page_size = 101;
        assert!(GorgiasClient::new(bad).is_err());
    }
}
