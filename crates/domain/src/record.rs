//! What every stored record has in common: where it came from, its id there,
//! and when the platform last changed it. The store keys records by
//! (kind, source, external id) and ignores an update older than what it holds.

use crate::{BrandId, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

open_enum! {
    /// The kinds of record the store keeps; each has its own table.
    pub enum RecordKind {
        Order = "order",
        Product = "product",
        InventoryLevel = "inventory_level",
        Ticket = "ticket",
        TicketMessage = "ticket_message",
        SatisfactionSurvey = "satisfaction_survey",
        TrackingEvent = "tracking_event",
        InventoryBatch = "inventory_batch",
        ReturnRequest = "return_request",
        ReviewItem = "review_item",
        PaymentEvent = "payment_event",
        HealthCheck = "health_check",
    }
}

/// The identity of a record across all sources.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RecordKey {
    pub kind: RecordKind,
    pub source: SourceId,
    pub external_id: String,
}

/// Implemented by every domain record the store keeps.
pub trait Record {
    const KIND: RecordKind;
    fn source(&self) -> &SourceId;
    fn external_id(&self) -> &str;
    /// The brand the record belongs to; `None` for helpdesk records that no
    /// attribution rule has claimed yet (the visible "unattributed" bucket).
    fn brand(&self) -> Option<&BrandId>;
    /// When the platform last changed the record; newer wins in the store.
    fn updated_at(&self) -> Timestamp;

    fn key(&self) -> RecordKey {
        RecordKey {
            kind: Self::KIND,
            source: self.source().clone(),
            external_id: self.external_id().to_string(),
        }
    }
}

/// Implements [`Record`] for a struct with `source`, `external_id`, `brand`
/// and `updated_at` fields.
macro_rules! impl_record {
    ($ty:ty, $kind:expr, brand: required) => {
        impl $crate::record::Record for $ty {
            const KIND: $crate::record::RecordKind = $kind;
            fn source(&self) -> &$crate::SourceId {
                &self.source
            }
            fn external_id(&self) -> &str {
                &self.external_id
            }
            fn brand(&self) -> Option<&$crate::BrandId> {
                Some(&self.brand)
            }
            fn updated_at(&self) -> $crate::Timestamp {
                self.updated_at
            }
        }
    };
    ($ty:ty, $kind:expr, brand: optional) => {
        impl $crate::record::Record for $ty {
            const KIND: $crate::record::RecordKind = $kind;
            fn source(&self) -> &$crate::SourceId {
                &self.source
            }
            fn external_id(&self) -> &str {
                &self.external_id
            }
            fn brand(&self) -> Option<&$crate::BrandId> {
                self.brand.as_ref()
            }
            fn updated_at(&self) -> $crate::Timestamp {
                self.updated_at
            }
        }
    };
}
pub(crate) use impl_record;
