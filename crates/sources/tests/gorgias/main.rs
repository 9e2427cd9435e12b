//! The Gorgias connector without a store: documented payloads parse (both
//! timestamp forms), and the client talks to a scripted server exactly as
//! Gorgias documents. The syncs against the simulated helpdesk are in
//! `opsdeck-sync`'s tests.
//!
//! - `payloads`: documented payloads and bad records, without a server.
//! - `contract`: the client against a scripted server answering exactly as
//!   Gorgias documents (Basic auth, cursor pages, call limit, 429).
//! - `script`: that scripted server (shared with `opsdeck-sync`'s tests).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod contract;
mod payloads;
mod script;
