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
//! - [`approvals`]: approval requests (playbook thresholds, four eyes,
//!   expiry) and the one run of an approved action.
//! - [`flags`]: freeze flags, the sales pause and the maintenance banner,
//!   and what a change owes (webhooks, shop metafields).
//! - [`handover`]: shift handover notes (pre-filled from live state,
//!   submitted, acknowledged, the lead notified when late) and the
//!   morning checklist.
//! - [`queues`]: the refunds, returns and disputes queue with its 24 h
//!   SLA: its rows, and approving or declining a return or refund from it.
//! - [`health`]: system health checks at work: HTTP probes, pushed
//!   heartbeats and values, every check's state recorded with its changes.
//! - [`privacy`]: privacy requests (issue 15): exports and erasures within
//!   30 days, worked in the background.

pub mod approvals;
pub mod flags;
pub mod handover;
pub mod health;
pub mod incidents;
pub mod privacy;
pub mod queues;
