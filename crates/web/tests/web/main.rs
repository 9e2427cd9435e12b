//! The web crate from the outside: the router driven with `oneshot`, and the
//! real server on port 0 over HTTP, against a fresh SQLite store holding a
//! small hand-computed data set and a fixed clock.
//!
//! One test binary (not one per file) so the shared fixture compiles and
//! links once.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]
#![expect(
    clippy::inconsistent_digit_grouping,
    reason = "amounts are written as units_cents (100_00 is $100.00)"
)]

mod alerts;
mod alerts_brand;
mod api;
mod approvals;
mod auth;
mod common;
mod customer_risk;
mod dashboard;
mod foreign_currency;
mod fulfillment_merge;
mod funnel;
mod handover;
mod hostile;
mod http;
mod incidents;
mod ingest;
mod money_roles;
mod nav;
mod observe;
mod order_links;
mod pages;
mod panels;
mod privacy;
mod pulse;
mod refunds_queue;
mod review_queues;
mod role_scope;
mod roles_regions;
mod scheduled_reports;
mod security;
mod silence_rules;
mod stored_alerts;
mod support_views;
mod system_health;
mod timeline;
mod webhooks;
