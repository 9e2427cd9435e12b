//! What platforms without a connector push through the ingest API beyond
//! orders, the catalog and the helpdesk: carrier tracking events, stock
//! batches with expiry dates, refund and return requests, review-queue items
//! (a prescription waiting for a pharmacist), payment events and health
//! checks of the merchant's own dependencies.
//!
//! Each is its own record kind with the usual identity (source, external id,
//! brand, `updated_at`), so it is stored idempotently, newer wins, and it
//! travels on the change feed like every other record.
//!
//! # Partial updates of an order
//! A platform often reports "order 1042 was cancelled" or "order 1042 shipped
//! with this tracking number" without resending the whole order. Those arrive
//! as an [`OrderStatusChange`] or a [`FulfillmentUpdate`], are applied to the
//! stored order of the *same source* (by its external id), and the order is
//! written back as a whole — there is no separate table for them, so every
//! reader keeps seeing one complete order.
//!
//! - A status change carries `occurred_at`. It is applied only when it is not
//!   older than the order's `updated_at`, and the order's `updated_at` becomes
//!   `occurred_at`; an older change is reported stale and changes nothing.
//!   Re-sending the same change leaves the order unchanged (idempotent).
//! - A fulfillment is matched by its external id within the order: a new one
//!   is appended, a known one is replaced when the incoming `updated_at` is
//!   not older than the stored one's, otherwise it is stale. The order's
//!   `updated_at` becomes the later of the two.

use crate::order::{FinancialStatus, Fulfillment, Order, OrderFulfillmentStatus};
use crate::record::{impl_record, RecordKind};
use crate::{BrandId, Money, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

open_enum! {
    /// What the carrier said about a parcel. Includes the failures a
    /// merchant must act on: a courier failure and a non-delivery report.
    pub enum TrackingStatus {
        LabelCreated = "label_created",
        PickedUp = "picked_up",
        InTransit = "in_transit",
        OutForDelivery = "out_for_delivery",
        AttemptedDelivery = "attempted_delivery",
        ReadyForPickup = "ready_for_pickup",
        Delivered = "delivered",
        Delayed = "delayed",
        Exception = "exception",
        CourierFailure = "courier_failure",
        NonDeliveryReport = "non_delivery_report",
        ReturnedToSender = "returned_to_sender",
    }
}

impl TrackingStatus {
    /// A status that needs someone to look at the parcel.
    pub fn is_exception(&self) -> bool {
        matches!(
            self,
            TrackingStatus::AttemptedDelivery
                | TrackingStatus::Delayed
                | TrackingStatus::Exception
                | TrackingStatus::CourierFailure
                | TrackingStatus::NonDeliveryReport
                | TrackingStatus::ReturnedToSender
        )
    }
}

/// One scan or status report from a carrier.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrackingEvent {
    pub source: SourceId,
    pub external_id: String,
    pub brand: BrandId,
    /// External id of the order (same source) the parcel belongs to.
    pub order_id: Option<String>,
    pub fulfillment_id: Option<String>,
    pub tracking_number: Option<String>,
    pub carrier: Option<String>,
    pub status: TrackingStatus,
    /// The carrier's own words, e.g. "Addressee unknown".
    pub description: Option<String>,
    pub location: Option<String>,
    pub occurred_at: Timestamp,
    pub updated_at: Timestamp,
}

impl_record!(TrackingEvent, RecordKind::TrackingEvent, brand: required);

/// A lot of one SKU with its expiry date (medicines, supplements, food).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InventoryBatch {
    pub source: SourceId,
    pub external_id: String,
    pub brand: BrandId,
    pub sku: String,
    pub variant_id: Option<String>,
    pub lot: String,
    pub location_id: Option<String>,
    /// Units of this lot on hand.
    pub quantity: i64,
    /// Last day the lot may be sold; `None` for goods that do not expire.
    pub expires_on: Option<jiff::civil::Date>,
    pub updated_at: Timestamp,
}

impl_record!(InventoryBatch, RecordKind::InventoryBatch, brand: required);

impl InventoryBatch {
    /// True when the lot expires on or before `today + days` (already
    /// expired lots included).
    pub fn expires_within(&self, today: jiff::civil::Date, days: i32) -> bool {
        self.expires_on.is_some_and(|d| {
            today
                .checked_add(jiff::Span::new().days(days))
                .is_ok_and(|limit| d <= limit)
        })
    }
}

open_enum! {
    /// What the customer asks for.
    pub enum ReturnKind {
        Refund = "refund",
        Return = "return",
        Exchange = "exchange",
    }
}

open_enum! {
    /// Where a refund or return request stands.
    pub enum ReturnStatus {
        Requested = "requested",
        Approved = "approved",
        Rejected = "rejected",
        Received = "received",
        Refunded = "refunded",
        Cancelled = "cancelled",
    }
}

/// A refund or return request, before (or while) money moves.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReturnRequest {
    pub source: SourceId,
    pub external_id: String,
    pub brand: BrandId,
    pub order_id: Option<String>,
    pub kind: ReturnKind,
    pub status: ReturnStatus,
    /// Amount asked for or granted, where known.
    pub amount: Option<Money>,
    pub reason: Option<String>,
    pub requested_at: Timestamp,
    pub resolved_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// Each status the request reached and when, oldest first, where the
    /// source tells the moments (Shopify: the times on the return, or the
    /// trigger time of each `returns/*` webhook). Empty for sources that
    /// give only the status as it stands; not written then, so records
    /// stored before it existed read the same.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_history: Vec<ReturnStatusChange>,
}

impl_record!(ReturnRequest, RecordKind::ReturnRequest, brand: required);

/// One status a return request reached, at a moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReturnStatusChange {
    pub status: ReturnStatus,
    pub at: Timestamp,
}

impl ReturnRequest {
    /// Records that the request reached `status` at `at`: the history
    /// keeps one entry per (status, moment) in time order, so the same
    /// change seen twice (a webhook redelivered, the sync reading it
    /// again) is kept once. The current status is the latest change's;
    /// `updated_at` moves to it and never back; reaching an end state
    /// sets `resolved_at`, a reopened request clears it.
    pub fn record_status(&mut self, status: ReturnStatus, at: Timestamp) {
        let change = ReturnStatusChange { status, at };
        if !self.status_history.contains(&change) {
            let at_or_before = self.status_history.partition_point(|c| c.at <= at);
            self.status_history.insert(at_or_before, change);
        }
        let Some(latest) = self.status_history.last() else {
            return;
        };
        if latest.at >= self.updated_at {
            self.status = latest.status.clone();
            self.resolved_at = latest.status.is_final().then_some(latest.at);
        }
        self.updated_at = self.updated_at.max(latest.at);
    }
}

impl ReturnStatus {
    /// Whether the request is over: nothing more is expected of it unless
    /// it is reopened.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            ReturnStatus::Rejected
                | ReturnStatus::Received
                | ReturnStatus::Refunded
                | ReturnStatus::Cancelled
        )
    }
}

open_enum! {
    /// Where an item in a review queue stands.
    pub enum ReviewStatus {
        Open = "open",
        Approved = "approved",
        Rejected = "rejected",
    }
}

/// An item waiting in a manual review queue, e.g. a prescription a
/// pharmacist must approve before the order may ship.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub source: SourceId,
    pub external_id: String,
    pub brand: BrandId,
    /// The queue's name, e.g. "prescriptions".
    pub queue: String,
    pub status: ReviewStatus,
    pub order_id: Option<String>,
    /// A short, non-sensitive description for the screen.
    pub subject: Option<String>,
    pub submitted_at: Timestamp,
    pub decided_at: Option<Timestamp>,
    pub updated_at: Timestamp,
    /// Where the platform's reading of the uploaded document stands (a
    /// prescription's OCR), when it reports one: a failed or uncertain
    /// reading tells the reviewer to look closer. Not written when absent,
    /// so items stored before it existed read the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ocr_state: Option<OcrState>,
    /// The events the item has seen, oldest first, when it comes as
    /// events ([`ReviewEvent`]): what lets events that arrive out of order
    /// or twice give the same item. Empty for items pushed whole.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<ReviewEventSeen>,
}

impl_record!(ReviewItem, RecordKind::ReviewItem, brand: required);

open_enum! {
    /// What happened to a payment.
    pub enum PaymentEventKind {
        Authorized = "authorized",
        Captured = "captured",
        PaymentFailed = "payment_failed",
        Refunded = "refunded",
        Voided = "voided",
        Chargeback = "chargeback",
    }
}

impl PaymentEventKind {
    /// Events that mean money did not arrive or is being taken back.
    pub fn is_problem(&self) -> bool {
        matches!(
            self,
            PaymentEventKind::PaymentFailed | PaymentEventKind::Chargeback
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentEvent {
    pub source: SourceId,
    pub external_id: String,
    pub brand: BrandId,
    pub order_id: Option<String>,
    pub kind: PaymentEventKind,
    pub amount: Option<Money>,
    /// The gateway's reason, e.g. `card_declined`.
    pub reason: Option<String>,
    pub gateway: Option<String>,
    pub occurred_at: Timestamp,
    pub updated_at: Timestamp,
    /// A dispute's (chargeback's or inquiry's) state and evidence due date,
    /// where the source tells them (Shopify Payments disputes; an ingest
    /// event with `dispute_status`): the refunds-and-disputes queue keeps
    /// an open dispute until it is answered and runs its clock to the
    /// evidence date. Not written when absent, so events stored before it
    /// existed read the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dispute: Option<crate::dispute::DisputeState>,
}

impl PaymentEvent {
    /// Whether the event is a dispute waiting for the merchant's answer: a
    /// chargeback (or an inquiry) that needs a response, or a chargeback
    /// from a source that reports no state (nothing says it was answered).
    /// One under review has its evidence in: nothing is left to do but
    /// wait for the bank, so no deadline runs for the merchant.
    pub fn awaits_dispute_response(&self) -> bool {
        match &self.dispute {
            Some(state) => state.status == crate::dispute::DisputeStatus::NeedsResponse,
            None => self.kind == PaymentEventKind::Chargeback,
        }
    }
}

impl_record!(PaymentEvent, RecordKind::PaymentEvent, brand: required);

open_enum! {
    /// Result of one health check.
    pub enum HealthStatus {
        Ok = "ok",
        Failed = "failed",
    }
}

/// One check of an external dependency the merchant's platform relies on
/// (payment gateway, pharmacy system, warehouse API).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthCheck {
    pub source: SourceId,
    /// One id per check run; sending the dependency name as the id keeps
    /// only the latest result instead of a history.
    pub external_id: String,
    pub brand: BrandId,
    pub dependency: String,
    pub status: HealthStatus,
    pub latency_ms: Option<u64>,
    pub detail: Option<String>,
    pub checked_at: Timestamp,
    pub updated_at: Timestamp,
}

impl_record!(HealthCheck, RecordKind::HealthCheck, brand: required);

/// Whether a partial update changed the order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applied {
    /// The order now reflects the update (it may be identical to before,
    /// which the store then reports as unchanged).
    Applied,
    /// The update is older than what the order already holds; nothing changed.
    Stale,
}

/// A status change of an existing order (see the module doc for the rules).
/// Fields left `None` are not touched.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrderStatusChange {
    /// External id of the order, in the same source.
    pub order_id: String,
    pub occurred_at: Timestamp,
    pub financial_status: Option<FinancialStatus>,
    pub fulfillment_status: Option<OrderFulfillmentStatus>,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
    pub closed_at: Option<Timestamp>,
}

impl OrderStatusChange {
    pub fn apply_to(&self, order: &mut Order) -> Applied {
        if self.occurred_at < order.updated_at {
            return Applied::Stale;
        }
        if let Some(s) = &self.financial_status {
            order.financial_status = s.clone();
        }
        if let Some(s) = &self.fulfillment_status {
            order.fulfillment_status = s.clone();
        }
        if let Some(at) = self.cancelled_at {
            order.cancelled_at = Some(at);
        }
        if let Some(reason) = &self.cancel_reason {
            order.cancel_reason = Some(reason.clone());
        }
        if let Some(at) = self.closed_at {
            order.closed_at = Some(at);
        }
        order.updated_at = self.occurred_at;
        Applied::Applied
    }
}

/// A shipment created or changed for an existing order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FulfillmentUpdate {
    /// External id of the order, in the same source.
    pub order_id: String,
    pub fulfillment: Fulfillment,
    /// Units it ships per line item id, where the sender says; the order's
    /// line quantities follow them ([`Order::merge_fulfillment`]).
    #[serde(default)]
    pub shipped: Vec<(String, i64)>,
}

impl FulfillmentUpdate {
    /// [`Order::merge_fulfillment`], the one merge for every path.
    pub fn apply_to(&self, order: &mut Order) -> Applied {
        order.merge_fulfillment(self.fulfillment.clone(), &self.shipped)
    }
}

mod review;
pub use review::{OcrState, ReviewEvent, ReviewEventKind, ReviewEventSeen};

#[cfg(test)]
mod tests;
