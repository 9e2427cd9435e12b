//! What a platform knows about a customer as a whole: how many orders and
//! how much money over their lifetime. Shopify's order payloads stopped
//! carrying these in 2022; its GraphQL `Customer` (`numberOfOrders`,
//! `amountSpent`) is where they come from now. The risk flags of issue 15
//! (high value, frequent returns) are computed from it.
//!
//! A stored record kind (`customer_summary`): the GraphQL sync, the bulk
//! backfill and the `customers/*` webhooks keep it.

use crate::record::{impl_record, RecordKind};
use crate::{BrandId, Money, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

/// One customer's lifetime figures, as the platform reports them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerSummary {
    pub source: SourceId,
    /// The platform's customer id, the same one orders name in
    /// [`crate::CustomerRef::external_id`].
    pub external_id: String,
    pub brand: BrandId,
    pub email: Option<String>,
    pub name: Option<String>,
    /// Orders placed over the customer's lifetime.
    pub order_count: u64,
    /// Money spent over the customer's lifetime, in the brand's currency.
    pub lifetime_spend: Money,
    pub tags: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl_record!(CustomerSummary, RecordKind::CustomerSummary, brand: required);
