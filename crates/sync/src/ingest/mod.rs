//! Pushed records into the store: the store-bound half of the ingest API
//! (validation is `opsdeck_sources::ingest`, pure; HTTP is the web's).
//!
//! - [`plan`]: partial updates (order status changes, fulfillments)
//!   applied to the newest copy of their order, under a lock held until the
//!   batch is committed.
//! - [`commits`]: [`IngestCommits`], the group-commit writer: many requests,
//!   one transaction, one fsync.

pub mod commits;
pub mod plan;

pub use commits::IngestCommits;
pub use plan::{plan, PlanError, Planned, Slot};
