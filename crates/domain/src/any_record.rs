//! [`AnyRecord`]: a record of any kind, so one batch (an ingest request, a
//! sync page with products and their stock, a webhook inbox step) is one
//! value. Pure: the connectors build it, the store commits it.

use crate::{
    Bounded, BrandId, FieldBound, HealthCheck, InventoryBatch, InventoryLevel, Order, PaymentEvent,
    Product, Record, RecordKey, RecordKind, ReturnRequest, ReviewItem, SatisfactionSurvey,
    SourceId, Ticket, TicketMessage, Timestamp, TrackingEvent,
};
use serde::{Deserialize, Serialize};

/// A record of any kind, so one batch (an ingest request, a sync page with
/// products and their stock) can commit in one transaction.
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
}

macro_rules! dispatch {
    ($self:expr, $r:ident => $e:expr) => {
        match $self {
            AnyRecord::Order($r) => $e,
            AnyRecord::Product($r) => $e,
            AnyRecord::InventoryLevel($r) => $e,
            AnyRecord::Ticket($r) => $e,
            AnyRecord::TicketMessage($r) => $e,
            AnyRecord::SatisfactionSurvey($r) => $e,
            AnyRecord::TrackingEvent($r) => $e,
            AnyRecord::InventoryBatch($r) => $e,
            AnyRecord::ReturnRequest($r) => $e,
            AnyRecord::ReviewItem($r) => $e,
            AnyRecord::PaymentEvent($r) => $e,
            AnyRecord::HealthCheck($r) => $e,
        }
    };
}

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
