//! Keeping the store in step with the platforms: everything that joins a
//! connector (`opsdeck-sources`, pure) to the store.
//!
//! Shopify's Admin REST API is read page by page, each page is normalized
//! into the domain model and committed to the store together with the sync
//! checkpoint, so a crash or restart resumes from the last committed page
//! and never stores a record half-mapped. A worker loop runs each (shop,
//! resource) sync on its own cadence and records its health (last success,
//! last error, request and rate-limit counts) in the store for the
//! source-health panel. Webhook deliveries, once in the store's inbox, are
//! applied to records here too.
//!
//! # Layout
//! - [`shopify`]: [`sync_once`], one incremental run of one Shopify resource
//!   (the step tests drive), with its preflight (scopes, the shop's currency
//!   and time zone); [`sync_once_graphql`], the same run reading by the
//!   GraphQL Admin API (`shopify/graphql_sync.rs`: `updated_at` search and
//!   cursor pages, orders' nested line items, fulfillments and refunds
//!   followed up past one page) through the same preflight and page
//!   commits; [`shopify::bulk`]: the orders, products and inventory
//!   backfill by GraphQL bulk operation ([`shopify::bulk::backfill`]),
//!   resumable mid-file, woken by the `bulk_operations/finish` webhook
//!   through [`shopify::bulk_finish::BulkFinishes`]; each run records the
//!   API version Shopify answered and its deprecation notices
//!   (`shopify/api_versions.rs`).
//! - [`worker`] runs a GraphQL shop's first run of a resource as a bulk
//!   backfill ([`BulkJob`]), then incrementally.
//! - [`gorgias`]: [`sync_gorgias`] (newest-first walk down to the
//!   watermark) and the [`GorgiasConnector`] that attributes tickets as it
//!   remembers the stored ones.
//! - `checkpoints` (private): a page's records committed with the advanced
//!   checkpoint and the run's health, one store call.
//! - [`worker`]: [`run_sync_loop`], the background worker around the runs,
//!   and the [`SyncTrigger`] the refresh button fires.
//! - [`inbox`]: the webhook inbox worker: [`process_inbox_once`] (one step)
//!   and [`run_inbox_loop`], applying Shopify's and Gorgias's stored events.
//! - [`ingest`]: records pushed to the ingest API (validated by
//!   `opsdeck_sources::ingest`) planned against the stored orders
//!   ([`ingest::plan()`]).
//! - [`group_commit`]: the writers that commit many concurrent requests in
//!   one transaction: [`group_commit::IngestCommits`] (ingest API) and
//!   [`group_commit::InboxCommits`] (webhook deliveries), each started
//!   explicitly with the task it spawned.

mod checkpoints;
pub mod gorgias;
pub mod group_commit;
pub mod inbox;
pub mod ingest;
pub mod shopify;
pub mod worker;

pub use gorgias::{
    sync_gorgias, sync_gorgias_notifying, GorgiasConnector, GorgiasResource, GorgiasRun,
    GorgiasSyncError,
};
pub use inbox::{
    process_inbox_once, run_inbox_loop, run_inbox_loop_notifying, InboxSettings, InboxStep,
    WebhookShops,
};
pub use shopify::{
    sync_once, sync_once_graphql, sync_once_graphql_notifying, sync_once_notifying, ShopifyApi,
    ShopifyResource, SyncError, SyncRun,
};
pub use worker::{
    run_sync_loop, run_sync_loop_notifying, run_sync_loop_with_trigger, BulkJob, GorgiasJob,
    SyncJob, SyncTrigger, WorkerJob,
};
