//! What an erasure replaces and keeps. Which fields are personal is one
//! rule, [`erase_record`] (in `opsdeck_domain::erasure`, so the store
//! tombstones a record of an erased person that arrives later the same
//! way); what is kept and why is written on the request's outcome
//! ([`KEPT`]).

/// The field rule itself lives beside the records it reads
/// ([`opsdeck_domain::erasure`]), so the store applies the same rule to a
/// record of an erased person that arrives later.
pub use opsdeck_domain::erasure::erase_record;

/// What an erasure keeps and the reason, as the request's outcome says.
pub const KEPT: &[(&str, &str)] = &[
    (
        "orders: amounts, taxes, discounts, currency, dates, statuses and line items",
        "tax and accounting records must be kept (GDPR art. 17(3)(b): a legal obligation); \
         they name no one once the email, name and notes are erased",
    ),
    (
        "the platform's customer and order ids",
        "pseudonymous keys that tie the kept figures together (orders per customer, \
         refunds per order); without the email and name they identify no one here",
    ),
    (
        "ticket and survey timings, statuses, channels and scores",
        "support figures (first response, resolution time, CSAT) count them; \
         the subject, excerpt and every message body are erased",
    ),
];
