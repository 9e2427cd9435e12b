//! The Gorgias connector: documented payloads parse (both timestamp forms),
//! and syncs over real HTTP against the simulated helpdesk leave the store
//! holding exactly its tickets, messages and surveys — after a backfill, an
//! incremental run, injected faults, and a crash mid-run — with brands
//! attributed by the configured rules.
//!
//! - `desk`: the simulated helpdesk on port 0 with a fresh store, and the
//!   check that the store holds exactly what it serves.
//! - `payloads`: documented payloads and bad records, without a server.
//! - `runs`: backfill, incremental, faults, a crash mid-walk, a wrong key,
//!   and the wake of the change follower after each committed page.
//! - `attribution`: the merchant's rules over HTTP against the helpdesk's truth.
//! - `contract`: the client against a scripted server answering exactly as
//!   Gorgias documents (Basic auth, cursor pages, call limit, 429).

mod attribution;
mod contract;
mod desk;
mod payloads;
mod runs;
