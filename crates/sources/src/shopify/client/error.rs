//! [`ShopifyError`]: why a Shopify request failed, built from the HTTP
//! status where there is one, naming the URL path and never the token.

use crate::http::{Failure, PlatformError};

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

    /// Failures that need a person (a new token, a scope, a config fix, a
    /// shop to unfreeze) rather than another try. Shopify answers 402
    /// Payment Required for a frozen shop (unpaid plan) and 423 Locked for a
    /// locked one; both stay so until the merchant acts.
    pub fn needs_attention(&self) -> bool {
        matches!(
            self,
            ShopifyError::Settings(_)
                | ShopifyError::Unauthorized { .. }
                | ShopifyError::Forbidden { .. }
                | ShopifyError::NotFound { .. }
                | ShopifyError::Rejected {
                    status: 402 | 423,
                    ..
                }
        )
    }
}

impl PlatformError for ShopifyError {
    fn from_failure(failure: Failure, path: String) -> Self {
        match failure {
            Failure::Unauthorized => ShopifyError::Unauthorized { path },
            Failure::Forbidden => ShopifyError::Forbidden { path },
            Failure::NotFound => ShopifyError::NotFound { path },
            Failure::Rejected(status) => ShopifyError::Rejected { status, path },
            Failure::Server(status) => ShopifyError::Server {
                status,
                path,
                attempts: 0,
            },
            Failure::RateLimited => ShopifyError::RateLimited { path, attempts: 0 },
            Failure::Timeout => ShopifyError::Timeout { path, attempts: 0 },
            Failure::Connection(reason) => ShopifyError::Connection {
                path,
                reason,
                attempts: 0,
            },
            Failure::MalformedBody(reason) => ShopifyError::MalformedBody {
                path,
                reason,
                attempts: 0,
            },
        }
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
