//! Connectors: how opsdeck talks to the platforms it reads, with no store.
//!
//! Shopify and the Gorgias helpdesk (and records pushed by platforms
//! without a connector): clients that fetch pages politely and
//! reliably, the platforms' JSON shapes, and pure functions from those
//! shapes to the domain model. Nothing here reads or writes the store: the
//! runs that commit pages with their checkpoints, the worker loop and the
//! webhook inbox are in `opsdeck-sync`, the stage after the store, so the
//! dependency graph follows the data (sources → store → sync).
//!
//! # Layout
//! - [`shopify`]: the connector.
//!   - [`shopify::client`]: [`ShopifyClient`] and [`ShopifySettings`]: timeouts,
//!     retries with backoff and jitter, 429 and bucket pacing, `Link`
//!     pagination, a typed [`ShopifyError`] that never carries the token.
//!   - `shopify::wire` (private): Shopify's JSON shapes, tolerant of missing
//!     and unknown fields.
//!   - [`shopify::normalize`]: pure functions from those shapes to
//!     [`opsdeck_domain::Order`], [`opsdeck_domain::Product`] and
//!     [`opsdeck_domain::InventoryLevel`], with a [`NormalizeError`] naming
//!     record and field.
//!   - [`shopify::webhooks`]: the handled topics ([`shopify::WebhookTopic`])
//!     and the HMAC check of a delivery.
//!   - [`shopify::graphql`]: the GraphQL Admin connector (cost-based
//!     throttling, cursor pages, bulk operations and their JSONL files,
//!     returns, disputes, customers, abandoned checkouts); no store.
//! - [`gorgias`]: the helpdesk connector: [`GorgiasClient`] (HTTP Basic,
//!   cursor pages, `X-Gorgias-Account-Api-Call-Limit` pacing), tickets,
//!   messages and surveys normalized, brand attribution rules, and the
//!   check of the events it POSTs ([`gorgias::events`]).
//! - [`ingest`]: the wire format of pushed records (the ingest API and the
//!   CSV import): [`ingest::IngestKind`], [`ingest::read_record`] and
//!   [`ingest::validate`], every problem named by its field.
//! - `http` (private): what both clients share — the retry loop (429
//!   `Retry-After`, 5xx, timeouts, bodies cut short; capped backoff with
//!   jitter), the pacer, and the sorting of an answer by status.

pub mod gorgias;
mod http;
pub mod ingest;
pub use http::{TransferLimits, DEFAULT_MAX_BODY_BYTES};
pub mod shopify;

pub use gorgias::{AttributionRule, GorgiasClient, GorgiasError, GorgiasSettings};
pub use shopify::{
    CallStats, NormalizeError, ShopifyClient, ShopifyError, ShopifySettings, DEFAULT_API_VERSION,
};
