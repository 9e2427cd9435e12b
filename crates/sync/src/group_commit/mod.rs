//! Group commit into the store: one home for the writers that turn many
//! concurrent requests into one transaction (one fsync) each, and answer
//! every request only after the commit holding it returned.
//!
//! - [`ingest`]: [`IngestCommits`], records pushed to the ingest API.
//! - [`inbox`]: [`InboxCommits`], webhook deliveries into the inbox.
//!
//! Both are started explicitly ([`IngestCommits::start`],
//! [`InboxCommits::start`]), returning the queue and the writer's task, so
//! the application owns and watches the task instead of a request spawning
//! it.
//!
//! They are two writers, not one generic one, because their groups are
//! shaped differently: an ingest request carries up to 1,000 records and
//! is committed as soon as the writer is free (a group is capped by
//! records, and a failed group is retried request by request, so one batch
//! the database refuses cannot fail the others); a webhook delivery is one
//! small event arriving in steady streams, so its writer lingers a moment
//! for the senders it just answered (a group is capped by events) and a
//! failed group fails all of it (the platform redelivers each one).

pub mod inbox;
pub mod ingest;

pub use inbox::{InboxCommitError, InboxCommits};
pub use ingest::IngestCommits;
