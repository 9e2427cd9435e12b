//! The opsdeck application: configuration, start-up wiring and the demo.
//! `main.rs` only parses the command line and calls into here, so tests can
//! start the whole application on port 0.
//!
//! # Layout
//! - [`config`]: the TOML configuration, checked with every problem reported.
//! - [`alerts_app`]: alerts in a running opsdeck (runner, notifiers, Telegram acks).
//! - [`app`]: from a configuration to a running store, sync workers and web server.
//! - [`supervise`]: every background task spawned with a name and a
//!   policy (restart with backoff, or stop the process), its state on `/readyz`.
//! - [`flags_app`]: flag changes delivered (signed webhooks, shop
//!   metafields) and automatic ends recorded.
//! - [`handover_app`]: the handover service and its late-acknowledgement
//!   notifier.
//! - [`logging`]: log lines as text or JSON (`[logging] format`).
//! - [`observe`]: the `/metrics` listener's wiring (`[observability]`).
//! - [`housekeeping`]: hourly audit retention and expired sessions.
//! - [`reports_app`]: scheduled reports and digests (`[reports.NAME]`) and
//!   the `reports` task that sends them when due.
//! - [`demo`]: the simulated merchant and opsdeck in one process.
//! - [`shopify_cli`]: `opsdeck shopify webhooks register|list`.
//! - [`tokens_cli`]: `opsdeck token create|list|revoke`, ingest API tokens.
//! - [`import`]: `opsdeck import orders|products|inventory FILE`, CSV files
//!   validated like the ingest API.

pub mod alerts_app;
pub mod app;
pub mod approvals_app;
pub mod config;
pub mod demo;
pub mod flags_app;
pub mod handover_app;
pub mod housekeeping;
pub mod import;
pub mod logging;
pub mod observe;
pub mod queues_app;
pub mod reports_app;
pub mod shopify_cli;
pub mod supervise;
pub mod tokens_cli;
pub mod users_cli;
