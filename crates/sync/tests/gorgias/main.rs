//! The Gorgias sync: syncs over real HTTP against the simulated helpdesk
//! leave the store holding exactly its tickets, messages and surveys —
//! after a backfill, an incremental run, injected faults, and a crash
//! mid-run — with brands attributed by the configured rules.
//!
//! - `desk`: the simulated helpdesk on port 0 with a fresh store, and the
//!   check that the store holds exactly what it serves.
//! - `runs`: backfill, incremental, faults, a crash mid-walk, a wrong key,
//!   and the wake of the change follower after each committed page.
//! - `attribution`: the merchant's rules over HTTP against the helpdesk's truth.
//! - `listing`: a listing not sorted as asked, against the connector tests'
//!   scripted server (`script`, included from `opsdeck-sources`' tests).
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod attribution;
mod desk;
mod listing;
mod runs;
#[path = "../../../sources/tests/gorgias/script.rs"]
mod script;
