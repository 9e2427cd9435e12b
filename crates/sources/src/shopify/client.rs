//! The Shopify Admin REST client: one GET of one page, done properly.
//!
//! Requests go through the shared retry loop ([`crate::http`]): a timeout on
//! each, transient failures (5xx, timeouts, dropped connections, bodies cut
//! short or not JSON) retried with capped exponential backoff and jitter, a
//! 429 waiting as long as `Retry-After` says, no retry of authentication and
//! permission failures (waiting will not fix a revoked token). What is
//! Shopify's own stays here: the client slows down when the shop's leaky
//! bucket (`X-Shopify-Shop-Api-Call-Limit`) is nearly full, so syncs of
//! several resources sharing one bucket rarely see a 429 at all; pages
//! follow the `Link` header; the answering API version is logged once, and a
//! deprecation notice (`X-Shopify-API-Deprecated-Reason`) is logged and kept
//! ([`ShopifyClient::deprecation_notice`]). The
//! access token goes into one header and nowhere else — errors carry the
//! URL path only, never the token or the query.
//!
//! - `settings`: [`ShopifySettings`] and [`DEFAULT_API_VERSION`].
//! - `error`: [`ShopifyError`].

mod error;
mod settings;

pub use self::error::ShopifyError;
pub use self::settings::{ShopifySettings, DEFAULT_API_VERSION};
pub use crate::http::CallStats;

use super::headers::{self, CallLimit, VersionNotes, VersionReport};
use crate::http::{
    build_http_client, check_base_url, header_str, url_under, Failure, PlatformError, RetryPacer,
    Setback,
};
use opsdeck_domain::SourceId;
use reqwest::header::{HeaderMap, HeaderValue, ACCEPT, LINK};
use serde_json::Value;
use url::Url;

pub(super) const TOKEN_HEADER: &str = "X-Shopify-Access-Token";
const CALL_LIMIT_HEADER: &str = "X-Shopify-Shop-Api-Call-Limit";
/// Above this fill of the bucket the client paces itself.
const BUCKET_THRESHOLD: f64 = 0.8;

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
    /// Retries, and the earliest moment the next request may go out (bucket
    /// pacing and Retry-After), shared by every caller of this client.
    pacer: RetryPacer,
    /// The answering `X-Shopify-API-Version` and the last
    /// `X-Shopify-API-Deprecated-Reason`, each logged when first seen.
    versions: VersionNotes,
}

impl ShopifyClient {
    pub fn new(settings: ShopifySettings) -> Result<Self, ShopifyError> {
        if settings.page_size == 0 || settings.page_size > 250 {
            return Err(ShopifyError::Settings(format!(
                "page_size {} must be 1-250",
                settings.page_size
            )));
        }
        check_base_url(&settings.base_url).map_err(ShopifyError::Settings)?;
        let mut token = HeaderValue::from_str(settings.access_token.expose()).map_err(|_| {
            ShopifyError::Settings("access token has characters not allowed in a header".into())
        })?;
        token.set_sensitive(true);
        let http = build_http_client(settings.request_timeout)
            .map_err(|e| ShopifyError::Settings(format!("http client: {e}")))?;
        Ok(ShopifyClient {
            pacer: RetryPacer::with_limits(settings.retry_policy(), settings.transfer_limits()),
            versions: VersionNotes::new(&settings.api_version),
            settings,
            http,
            token,
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
        let version = &self.settings.api_version;
        let suffix = format!("/admin/api/{version}/{resource}.json");
        url_under(&self.settings.base_url, &suffix, query)
    }

    /// GETs one page of a listing whose records sit under `key` (`orders`,
    /// `products`, `inventory_levels`), retrying what is worth retrying.
    pub async fn get_page(
        &self,
        url: &Url,
        key: &str,
        stats: &mut CallStats,
    ) -> Result<Page, ShopifyError> {
        let path = url.path();
        self.pacer
            .send(path, stats, || {
                let request = self.http.get(url.clone());
                self.exchange(request, path, |headers, body| {
                    self.read_page(headers, body, key, path)
                })
            })
            .await
    }

    /// `{base_url}/admin/oauth/access_scopes.json`: the scopes the token was
    /// granted. Unversioned, unlike every other path.
    pub fn access_scopes_url(&self) -> Url {
        url_under(
            &self.settings.base_url,
            "/admin/oauth/access_scopes.json",
            &[],
        )
    }

    /// GETs one JSON document at `url` (on this shop), same rules as
    /// [`ShopifyClient::get_page`].
    pub async fn get_json(&self, url: &Url, stats: &mut CallStats) -> Result<Value, ShopifyError> {
        let path = url.path();
        self.pacer
            .send(path, stats, || {
                let request = self.http.get(url.clone());
                self.exchange(request, path, |_, body| {
                    serde_json::from_slice(body).map_err(|e| malformed(path, e.to_string()))
                })
            })
            .await
    }

    /// One call outside listings (e.g. webhook subscriptions): `method` on
    /// `{resource}.json` with an optional JSON body, answering the JSON body
    /// (`null` for an empty one). Same rules as [`ShopifyClient::get_page`]:
    /// pacing, 429 waits, retries of 5xx and transport failures, no retry
    /// of 4xx.
    pub async fn call_json(
        &self,
        method: reqwest::Method,
        resource: &str,
        body: Option<&Value>,
        stats: &mut CallStats,
    ) -> Result<Value, ShopifyError> {
        let url = self.resource_url(resource, &[]);
        let path = url.path();
        self.pacer
            .send(path, stats, || {
                let mut request = self.http.request(method.clone(), url.clone());
                if let Some(body) = body {
                    request = request.json(body);
                }
                self.exchange(request, path, |_, body| {
                    if body.iter().all(u8::is_ascii_whitespace) {
                        return Ok(Value::Null);
                    }
                    serde_json::from_slice(body).map_err(|e| malformed(path, e.to_string()))
                })
            })
            .await
    }

    /// One attempt of `request` with the token, reading the answer with
    /// `read`; every answer's bucket fill paces the next request.
    async fn exchange<T>(
        &self,
        request: reqwest::RequestBuilder,
        path: &str,
        read: impl FnOnce(&HeaderMap, &[u8]) -> Result<T, Setback<ShopifyError>>,
    ) -> Result<T, Setback<ShopifyError>> {
        let request = request
            .header(TOKEN_HEADER, self.token.clone())
            .header(ACCEPT, "application/json");
        let on_headers = |headers: &HeaderMap| {
            self.versions.note(headers, &self.settings.source, "API");
            if let Some(limit) = header_str(headers, CALL_LIMIT_HEADER).and_then(CallLimit::parse) {
                self.pacer.pace_for(limit.pause(BUCKET_THRESHOLD));
            }
        };
        self.pacer.exchange(request, path, on_headers, read).await
    }

    /// A listing's records under `key` and its next page from `Link`.
    fn read_page(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        key: &str,
        path: &str,
    ) -> Result<Page, Setback<ShopifyError>> {
        let mut value: Value =
            serde_json::from_slice(body).map_err(|e| malformed(path, e.to_string()))?;
        let records = match value.get_mut(key).map(Value::take) {
            Some(Value::Array(records)) => records,
            _ => return Err(malformed(path, format!("no `{key}` list in the body"))),
        };
        let next = match header_str(headers, LINK.as_str()).and_then(headers::next_link) {
            None => None,
            Some(link) => Some(self.checked_next(&link).map_err(Setback::Fatal)?),
        };
        Ok(Page { records, next })
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

    /// The API version Shopify answered with (`X-Shopify-API-Version`),
    /// once an answer carried it. It differs from the configured one when
    /// that version is no longer supported: Shopify then serves the oldest
    /// supported version instead, which is logged as a warning.
    pub fn answered_api_version(&self) -> Option<String> {
        self.versions.answered()
    }

    /// The version asked for, the one that answered and the latest
    /// deprecation notice, for the sync run to record for /sources.
    pub fn version_report(&self) -> VersionReport {
        self.versions.report()
    }

    /// The last deprecation Shopify reported for this shop's calls (the
    /// `X-Shopify-API-Deprecated-Reason` header), for the operator to act on
    /// before the version or field is removed.
    pub fn deprecation_notice(&self) -> Option<String> {
        self.versions.deprecation()
    }
}

/// A body that is not what was asked for: retried, as a body cut short is.
fn malformed(path: &str, reason: String) -> Setback<ShopifyError> {
    Setback::Transient(ShopifyError::from_failure(
        Failure::MalformedBody(reason),
        path.to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::{BrandId, Currency, Secret};

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
}
