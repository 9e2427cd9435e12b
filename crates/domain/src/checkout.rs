//! A checkout the buyer left before paying: the numerator of cart
//! abandonment (issue 15's funnel) and a list to recover sales from.
//!
//! A stored record kind (`abandoned_checkout`): the GraphQL sync and the
//! `checkouts/*` webhooks keep it. The platform's recovery link is
//! deliberately not kept: it carries a secret key that lets anyone resume
//! the buyer's checkout.

use crate::record::{impl_record, RecordKind};
use crate::{BrandId, Money, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

/// One abandoned checkout as the platform reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbandonedCheckout {
    pub source: SourceId,
    pub external_id: String,
    pub brand: BrandId,
    /// The merchant-facing name, e.g. `#C1001`.
    pub name: Option<String>,
    /// The customer's platform id, when the buyer was known.
    pub customer_id: Option<String>,
    pub email: Option<String>,
    /// What the cart was worth, in the brand's currency, where reported.
    pub total: Option<Money>,
    /// Units in the cart, where reported.
    pub quantity: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Set when the buyer came back and paid: a recovered checkout.
    pub completed_at: Option<Timestamp>,
}

impl_record!(AbandonedCheckout, RecordKind::AbandonedCheckout, brand: required);

impl AbandonedCheckout {
    pub fn is_recovered(&self) -> bool {
        self.completed_at.is_some()
    }
}
