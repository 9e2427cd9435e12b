//! How to reach one shop: built from configuration, checked by
//! [`super::ShopifyClient::new`]; the access token never prints.

use super::ShopifyError;
use crate::http::RetryPolicy;
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

    pub(crate) fn retry_policy(&self) -> RetryPolicy {
        RetryPolicy {
            max_retries: self.max_retries,
            backoff_base: self.backoff_base,
            max_retry_after: MAX_RETRY_AFTER,
        }
    }
}
