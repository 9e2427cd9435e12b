//! The Shopify GraphQL Admin API connector: the platform's current API, and
//! the only one with returns, disputes, customers' lifetime figures,
//! abandoned checkouts and bulk operations.
//!
//! Pure connector code (no store): the sync that writes what it reads comes
//! with the store-bound sync crate.
//!
//! - [`client`]: [`GraphqlClient`], one POST to `graphql.json` through the
//!   shared retry layer, with cost-based throttling, typed errors and the
//!   answering version kept; the pinned [`GRAPHQL_API_VERSION`].
//! - [`cost`]: the shop's point budget ([`CostBucket`], one per shop via
//!   [`CostBuckets`]), the single-query cap, the throttle wait rule.
//! - [`query`]: [`GraphqlQuery`], cost estimates, cursor pages and the
//!   `updated_at` search filter.
//! - [`documents`]: the listings opsdeck sends, one per resource, with
//!   page sizes chosen from their cost.
//! - [`bulk`]: start, follow and cancel bulk queries.
//! - [`metafields`]: `metafieldsSet` on the shop (mirrored freeze flags).
//! - [`returns`]: approve or decline a return request (the refunds queue).
//! - [`jsonl`]: read a bulk result file line by line as it downloads, and
//!   put children back with their parents.
//! - [`wire`]: the GraphQL JSON shapes opsdeck reads, and [`wire::legacy_id`]
//!   (`gid://shopify/Order/123` → `123`, the REST id).
//! - [`normalize`]: those shapes → the domain: orders, products and
//!   inventory levels through the REST rules; returns, disputes, customers
//!   and abandoned checkouts.
//! - `error`: [`GraphqlError`].

pub mod bulk;
pub mod client;
pub mod cost;
pub mod documents;
mod error;
pub mod jsonl;
pub mod metafields;
pub mod normalize;
pub mod query;
pub mod returns;
pub mod wire;

pub use bulk::{BulkFinished, BulkOperation, BulkStatus};
pub use client::{Answer, GraphqlClient, GraphqlStats, GRAPHQL_API_VERSION};
pub use cost::{CostBucket, CostBuckets, QueryCost, ThrottleStatus, SINGLE_QUERY_MAX_COST};
pub use error::{GraphqlError, UserError};
pub use jsonl::{BulkGroups, BulkItem, BulkLine, ChunkSource, HttpChunks, JsonlReader};
pub use metafields::ShopMetafield;
pub use query::{
    connection_cost, updated_at_filter, ConnectionPage, GraphqlQuery, PageInfo, PagedQuery,
};
