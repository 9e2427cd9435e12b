//! Connectors that bring platform data into the store.
//!
//! Shopify and the Gorgias helpdesk. Shopify's Admin REST API is read page by page, each page
//! is normalized into the domain model and committed to the store together
//! with the sync checkpoint, so a crash or restart resumes from the last
//! committed page and never stores a record half-mapped. A worker loop runs
//! each (shop, resource) sync on its own cadence and records its health
//! (last success, last error, request and rate-limit counts) in the store for
//! the source-health panel.
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
//!   - [`shopify::graphql`]: the GraphQL Admin connector (cost-based
//!     throttling, cursor pages, bulk operations and their JSONL files,
//!     returns, disputes, customers, abandoned checkouts); no store.
//! - [`gorgias`]: the helpdesk connector: [`GorgiasClient`] (HTTP Basic,
//!   cursor pages, `X-Gorgias-Account-Api-Call-Limit` pacing), tickets,
//!   messages and surveys normalized, brand attribution rules, and
//!   [`sync_gorgias`] (newest-first walk down to the watermark).
//! - `http` (private): what both clients share — the retry loop (429
//!   `Retry-After`, 5xx, timeouts, bodies cut short; capped backoff with
//!   jitter), the pacer, and the sorting of an answer by status.
//! - [`sync`]: [`sync_once`], one incremental run of one resource (the step
//!   tests drive), and [`run_sync_loop`], the background worker around it.

pub mod gorgias;
mod http;
pub use http::{TransferLimits, DEFAULT_MAX_BODY_BYTES};
pub mod shopify;
pub mod sync;

pub use gorgias::{
    sync_gorgias, sync_gorgias_notifying, AttributionRule, GorgiasClient, GorgiasConnector,
    GorgiasError, GorgiasResource, GorgiasRun, GorgiasSettings, GorgiasSyncError,
};
pub use shopify::{
    CallStats, NormalizeError, ShopifyClient, ShopifyError, ShopifySettings, DEFAULT_API_VERSION,
};
pub use sync::{
    run_sync_loop, run_sync_loop_notifying, run_sync_loop_with_trigger, sync_once,
    sync_once_notifying, GorgiasJob, ShopifyResource, SyncError, SyncJob, SyncRun, SyncTrigger,
    WorkerJob,
};
