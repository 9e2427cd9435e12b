//! The Shopify Admin REST connector: a client that fetches pages politely
//! and reliably, the platform's JSON shapes, and their mapping to the domain.
//!
//! REST is "legacy" at Shopify since 2024-10 but still served to custom
//! apps, and it is what the first merchant's stores answer today; the
//! GraphQL Admin connector ([`graphql`]) sits beside it and reuses its
//! normalization rules. What needs the store (sync runs, the webhook
//! inbox) is in `opsdeck-sync`.

pub mod client;
pub mod compliance;
pub mod graphql;
mod headers;
pub mod normalize;
pub mod webhook_records;
pub mod webhooks;
mod wire;

pub use client::{
    CallStats, Page, ShopifyClient, ShopifyError, ShopifySettings, DEFAULT_API_VERSION,
};
pub use headers::VersionReport;
pub use normalize::{NormalizeContext, NormalizeError};
pub use webhooks::WebhookTopic;
