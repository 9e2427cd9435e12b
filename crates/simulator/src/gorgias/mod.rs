//! The synthetic helpdesk: the merchant's one Gorgias account, shared by the
//! brands, served at `/gorgias/api/...`.
//!
//! Every ticket is a plan drawn once from the seed: when it is created, how
//! its conversation goes (customer message, rule auto-reply, internal note,
//! agent replies, failed sends), whether and when it closes, snoozes, is
//! trashed or marked spam, and its satisfaction survey. Plans reach past the
//! start clock, so [`crate::Simulator::advance_to`] only moves the clock:
//! tickets appear, get answered and closed, surveys get scored, and each
//! ticket's `updated_datetime` follows what happened to it by then.
//!
//! Shaped like the merchant's helpdesk: about 3,800 open tickets at scale
//! 1.0, resolution times of weeks, CSAT around 2.5/5, Mavena's top issue
//! "website defaults to size 5.5" (~30 % of its tickets, tagged `size-5.5`),
//! Plentum's subscription management (~25 %, tagged), PawFully untagged,
//! where-is-my-order questions quoting real order names of the simulated
//! shops, and a few tickets that carry nothing to tell their brand.

pub(crate) mod hooks;
pub(crate) mod limit;
pub(crate) mod plan;
pub(crate) mod server;
pub(crate) mod wire;

pub(crate) use plan::Helpdesk;

/// The Basic-auth user of the simulated account.
pub(crate) const USER: &str = "ops@acme-brands.example";
/// Shared inbox of the parent company: tickets written there name no brand.
pub(crate) const SHARED_ADDRESS: &str = "help@acme-brands.example";

/// The channels tickets come in on, with their share.
pub(crate) const CHANNELS: [(&str, f64); 7] = [
    ("email", 0.42),
    ("chat", 0.18),
    ("contact_form", 0.14),
    ("instagram-direct-message", 0.08),
    ("instagram-comment", 0.06),
    ("facebook", 0.05),
    ("facebook-messenger", 0.07),
];

/// Each launched brand's helpdesk face: address and ticket share.
pub(crate) struct BrandDesk {
    pub shop: usize,
    pub brand_id: &'static str,
    pub address: &'static str,
    /// Share of all tickets.
    pub share: f64,
    /// The brand's top issue: (tag, share of its tickets); PawFully has none.
    pub top_issue: Option<(&'static str, f64)>,
}

pub(crate) const DESKS: [BrandDesk; 3] = [
    BrandDesk {
        shop: 0,
        brand_id: "plentum",
        address: "support@plentum.example",
        share: 0.24,
        top_issue: Some(("subscription-management", 0.25)),
    },
    BrandDesk {
        shop: 1,
        brand_id: "mavena",
        address: "support@mavena.example",
        share: 0.56,
        top_issue: Some(("size-5.5", 0.30)),
    },
    BrandDesk {
        shop: 2,
        brand_id: "pawfully",
        address: "hello@pawfully.example",
        share: 0.16,
        top_issue: None,
    },
];

/// The integration id of a brand's channel (its inbox, chat, social page).
pub(crate) fn integration_id(desk: usize, channel: usize) -> u64 {
    9000 + desk as u64 * 100 + channel as u64
}
