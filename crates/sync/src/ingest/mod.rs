//! Pushed records into the store: the store-bound half of the ingest API
//! (validation is `opsdeck_sources::ingest`, pure; HTTP is the web's).
//!
//! - [`plan()`]: partial updates (order status changes, fulfillments)
//!   applied to the newest copy of their order, under a lock held until the
//!   batch is committed.
//! - [`funnel`]: storefront funnel events counted into session-days
//!   (never stored as records).
//!
//! The group commit of planned batches is [`crate::group_commit::IngestCommits`].

pub mod funnel;
pub mod plan;

pub use plan::{plan, PlanError, Planned, Slot};
