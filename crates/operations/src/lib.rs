//! The operations day (issue 14): what an on-call team does with what the
//! dashboard shows — incidents, approvals, freeze flags, shift handovers —
//! as rules over the store, with no HTTP. The web crate serves them; the
//! alerts crate notifies for them.
//!
//! Each capability is one module with its rules in one place: the states
//! and the transitions between them, who may take each, and what each
//! records in the audit log.
//!
//! # Layout
//! - [`incidents`]: severities, the incident lifecycle, escalation,
//!   incident mode and the public status page.

pub mod incidents;
