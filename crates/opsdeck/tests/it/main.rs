//! The binary's tests, in one test binary (each former `tests/*.rs` file is
//! a module here, so the workspace links one executable for them instead
//! of a dozen), sharing [`helpers`].
//!
//! Run one module or test by name: `cargo test -p opsdeck --test it
//! webhooks::`. `TEST_LOG=1` shows a test's logs (see [`helpers`]).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod helpers;

mod alerts;
mod browser;
mod cli;
mod custom_rule_silence;
mod demo_alerts;
mod demo_queue;
mod end_to_end;
mod flags;
mod gorgias_events;
mod graphql_backfill;
mod hostile_input;
mod observability;
mod shopify_webhooks_cli;
mod source_health;
mod supervision;
mod sync_and_webhooks;
mod topics_webhooks;
mod webhooks;
