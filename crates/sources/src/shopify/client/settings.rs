//! How to reach one shop: built from configuration, checked by
//! [`super::ShopifyClient::new`]; the access token never prints.

use super::ShopifyError;
use crate::http::{RetryPolicy, TransferLimits};
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use std::time::Duration;
use url::Url;

/// The API version asked for unless configured otherwise.
pub const DEFAULT_API_VERSION: &str = "2025-07";

/// The longest `Retry-After` Shopify is taken at its word for.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// How to reach one shop. Built from configuration; the token never prints.
#[derive(Debug, Clone)]
pub struct ShopifySettings {
    /// The configured connection, e.g. `shopify-plentum`; stamped on every record.
    pub source: SourceId,
    pub brand: BrandId,
    /// The brand's configured currency: payloads that do not name one
    /// (products) are in it, and the shop's own (`shop.json`) is checked
    /// against it on every orders sync.
    pub currency: Currency,
    /// The brand's configured IANA time zone, checked against the shop's
    /// `iana_timezone` on every orders sync; `None` skips that check.
    pub time_zone: Option<String>,
    /// `https://{shop_domain}` in production; tests and the demo point it at
    /// the simulator, e.g. `http://127.0.0.1:PORT/shops/plentum`.
    pub base_url: Url,
    /// e.g. `2025-07`; the version that actually answers is logged once.
    pub api_version: String,
    pub access_token: Secret,
    /// Records per page, at most 250.
    pub page_size: u32,
    /// Deadline of one attempt, from connecting to the last byte of the
    /// body: an upstream that hangs (before its headers or in the middle of
    /// its body) fails the attempt after this long, and it is retried.
    pub request_timeout: Duration,
    /// The largest body one answer may have; a longer one fails the attempt
    /// as soon as the cap is passed (it is not read to its end), and it is
    /// retried like a body cut short.
    pub max_body_bytes: u64,
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
    /// 30 s deadline, an 8 MiB body cap, 5 retries, 5 minutes of overlap.
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
            time_zone: None,
            base_url,
            api_version: DEFAULT_API_VERSION.to_string(),
            access_token,
            page_size: 250,
            request_timeout: Duration::from_secs(30),
            max_body_bytes: crate::http::DEFAULT_MAX_BODY_BYTES,
            max_retries: 5,
            overlap: Duration::from_secs(5 * 60),
            backoff_base: Duration::from_millis(500),
        })
    }

    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            backoff_base: self.backoff_base,
            max_retry_after: MAX_RETRY_AFTER,
        }
    }

    pub(crate) fn transfer_limits(&self) -> TransferLimits {
        TransferLimits {
            deadline: self.request_timeout,
            max_body_bytes: self.max_body_bytes,
        }
    }
}
