//! Where a card dispute stands. A dispute is stored as a
//! [`crate::PaymentEvent`] of kind `chargeback` (or `inquiry`, before the
//! bank turns it into one), the kind the operations pages already count;
//! what a payment event has no field for — the dispute's state and the
//! deadline for evidence, which the refunds-and-disputes queue of issue 15
//! runs on — travels beside it as [`DisputeState`].

use crate::Timestamp;
use serde::{Deserialize, Serialize};

open_enum! {
    /// Shopify Payments `DisputeStatus`.
    pub enum DisputeStatus {
        NeedsResponse = "needs_response",
        UnderReview = "under_review",
        ChargeRefunded = "charge_refunded",
        Accepted = "accepted",
        Won = "won",
        Lost = "lost",
        Prevented = "prevented",
    }
}

impl DisputeStatus {
    /// Whether the merchant still has something to do or wait for.
    pub fn is_open(&self) -> bool {
        matches!(
            self,
            DisputeStatus::NeedsResponse | DisputeStatus::UnderReview
        )
    }
}

/// A dispute's state beside its payment event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DisputeState {
    pub status: DisputeStatus,
    /// When the evidence must be in; `None` for an inquiry without one.
    pub evidence_due_by: Option<Timestamp>,
    pub evidence_sent_on: Option<Timestamp>,
    pub finalized_on: Option<Timestamp>,
}
