//! The Gorgias connector: the merchant's one helpdesk, shared by all brands.
//!
//! - [`client`]: [`GorgiasClient`]: HTTP Basic, timeouts, retries with
//!   backoff and jitter, 429 `Retry-after`, pacing from
//!   `X-Gorgias-Account-Api-Call-Limit`, cursor pages, a typed
//!   [`GorgiasError`] that never carries the API key.
//! - [`normalize`]: tickets, messages and satisfaction surveys from the API's
//!   JSON to the domain, both timestamp forms, bad records rejected alone.
//! - [`attribution`]: which brand a ticket belongs to (configured rules;
//!   unclaimed tickets stay visible as "unattributed").
//! - [`events`]: the HTTP-integration events Gorgias POSTs (ticket created
//!   or updated, message created), checked before they are stored.
//!
//! The store-bound side (the sync runs, the connector that remembers the
//! stored tickets, applying inbox events) is in `opsdeck-sync`.

pub mod attribution;
pub mod client;
pub mod events;
pub mod normalize;

pub use attribution::{AttributionRule, Attributor, OrderIndex, TicketClues};
pub use client::{GorgiasClient, GorgiasError, GorgiasSettings, ListPage};
pub use events::{parse_event, GorgiasEvent, GorgiasEventKind};
pub use normalize::{GorgiasRecordError, MessageRouting};
