//! What every stored record has in common: where it came from, its id there,
//! and when the platform last changed it; and [`AnyRecord`], a record of any
//! kind. The store keys records by (kind, source, external id) and ignores an
//! update older than what it holds.

use crate::checkout::AbandonedCheckout;
use crate::customer::CustomerSummary;
use crate::{
    Bounded, BrandId, FieldBound, HealthCheck, InventoryBatch, InventoryLevel, Order, PaymentEvent,
    Product, ReturnRequest, ReviewItem, SatisfactionSurvey, SourceId, Ticket, TicketMessage,
    Timestamp, TrackingEvent,
};
use serde::{Deserialize, Serialize};

/// Declares [`RecordKind`] with its spelling and [`RecordKind::ALL`] from one
/// list, so no kind can be left out of `ALL`.
macro_rules! record_kinds {
    ($($(#[$doc:meta])* $kind:ident = $text:literal,)+) => {
        /// The kinds of record the store keeps; each has its own table.
        ///
        /// A closed enum: the kinds are opsdeck's own, not a platform's, so
        /// there is no `Other`. Every `match` over it (the store's table of
        /// each kind, the projection) is exhaustive, so a new kind does not
        /// compile until each of them says what to do with it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum RecordKind {
            $($(#[$doc])* $kind,)+
        }

        impl RecordKind {
            /// Every kind, in declaration order: `ALL[k.index()] == k`.
            pub const ALL: [RecordKind; [$(RecordKind::$kind),+].len()] = [$(RecordKind::$kind),+];

            /// How many kinds there are.
            pub const COUNT: usize = RecordKind::ALL.len();

            /// The kind's name as the change feed, errors and the ingest
            /// results spell it (`order`).
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(RecordKind::$kind => $text,)+
                }
            }
        }
    };
}

record_kinds! {
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
    /// A customer's lifetime order count and spend (Shopify GraphQL).
    CustomerSummary = "customer_summary",
    /// A checkout left before payment (Shopify GraphQL and webhooks).
    AbandonedCheckout = "abandoned_checkout",
}

impl RecordKind {
    /// The kind spelled `s`, if there is one.
    pub fn parse(s: &str) -> Option<RecordKind> {
        RecordKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind's position in [`RecordKind::ALL`], for tables keyed by kind.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for RecordKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for RecordKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RecordKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str> as Deserialize>::deserialize(d)?;
        RecordKind::parse(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("unknown record kind {s:?}")))
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

/// A record of any kind, so one batch (an ingest request, a sync page with
/// products and their stock, a webhook inbox step) is one value: the
/// connectors build it, the store commits it in one transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", content = "record", rename_all = "snake_case")]
pub enum AnyRecord {
    Order(Order),
    Product(Product),
    InventoryLevel(InventoryLevel),
    Ticket(Ticket),
    TicketMessage(TicketMessage),
    SatisfactionSurvey(SatisfactionSurvey),
    TrackingEvent(TrackingEvent),
    InventoryBatch(InventoryBatch),
    ReturnRequest(ReturnRequest),
    ReviewItem(ReviewItem),
    PaymentEvent(PaymentEvent),
    HealthCheck(HealthCheck),
    CustomerSummary(CustomerSummary),
    AbandonedCheckout(AbandonedCheckout),
}

/// `$e` with `$r` bound to the record inside any [`AnyRecord`]: the one
/// list of its variants that code generic over the kind goes through (the
/// methods below, and the store's columns and JSON body of a record).
#[macro_export]
macro_rules! dispatch_any_record {
    ($self:expr, $r:ident => $e:expr) => {
        match $self {
            $crate::AnyRecord::Order($r) => $e,
            $crate::AnyRecord::Product($r) => $e,
            $crate::AnyRecord::InventoryLevel($r) => $e,
            $crate::AnyRecord::Ticket($r) => $e,
            $crate::AnyRecord::TicketMessage($r) => $e,
            $crate::AnyRecord::SatisfactionSurvey($r) => $e,
            $crate::AnyRecord::TrackingEvent($r) => $e,
            $crate::AnyRecord::InventoryBatch($r) => $e,
            $crate::AnyRecord::ReturnRequest($r) => $e,
            $crate::AnyRecord::ReviewItem($r) => $e,
            $crate::AnyRecord::PaymentEvent($r) => $e,
            $crate::AnyRecord::HealthCheck($r) => $e,
            $crate::AnyRecord::CustomerSummary($r) => $e,
            $crate::AnyRecord::AbandonedCheckout($r) => $e,
        }
    };
}
use dispatch_any_record as dispatch;

impl AnyRecord {
    pub fn kind(&self) -> RecordKind {
        fn kind_of<R: Record>(_: &R) -> RecordKind {
            R::KIND
        }
        dispatch!(self, r => kind_of(r))
    }

    pub fn key(&self) -> RecordKey {
        dispatch!(self, r => r.key())
    }

    pub fn source(&self) -> &SourceId {
        dispatch!(self, r => r.source())
    }

    pub fn external_id(&self) -> &str {
        dispatch!(self, r => r.external_id())
    }

    pub fn brand(&self) -> Option<&BrandId> {
        dispatch!(self, r => r.brand())
    }

    pub fn updated_at(&self) -> Timestamp {
        dispatch!(self, r => r.updated_at())
    }

    /// Every field outside its bound ([`crate::bounds`]), whatever the kind.
    pub fn check(&self) -> Vec<FieldBound> {
        dispatch!(self, r => r.check())
    }
}

#[cfg(test)]
mod tests {
    use super::RecordKind;

    #[test]
    fn every_kind_sits_at_its_index_and_round_trips_its_name() {
        for (i, kind) in RecordKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.index(), i);
            assert_eq!(RecordKind::parse(kind.as_str()), Some(kind));
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(serde_json::from_str::<RecordKind>(&json).unwrap(), kind);
        }
        assert_eq!(RecordKind::parse("nonsense"), None);
    }
}
