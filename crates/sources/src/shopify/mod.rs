//! The Shopify Admin REST connector: a client that fetches pages politely
//! and reliably, the platform's JSON shapes, and their mapping to the domain.
//!
//! REST is "legacy" at Shopify since 2024-10 but still served to custom
//! apps, and it is what the first merchant's stores answer today; a GraphQL
//! client would slot in beside this one behind the same sync module
//! (`opsdeck-sync`, which holds everything here that needs the store).

pub mod client;
mod headers;
pub mod normalize;
pub mod webhooks;
mod wire;

pub use client::{
    CallStats, Page, ShopifyClient, ShopifyError, ShopifySettings, DEFAULT_API_VERSION,
};
pub use normalize::{NormalizeContext, NormalizeError};
pub use webhooks::WebhookTopic;
