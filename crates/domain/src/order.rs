//! Orders and what happens to them after checkout: line items, fulfillments
//! (shipments with tracking) and refunds.

use crate::record::{impl_record, RecordKind};
use crate::{BrandId, Currency, Money, SourceId, Timestamp};
use serde::{Deserialize, Serialize};

open_enum! {
    /// Payment state of an order (Shopify `financial_status`).
    pub enum FinancialStatus {
        Pending = "pending",
        Authorized = "authorized",
        PartiallyPaid = "partially_paid",
        Paid = "paid",
        PartiallyRefunded = "partially_refunded",
        Refunded = "refunded",
        Voided = "voided",
    }
}

open_enum! {
    /// Fulfillment state of an order as the platform reports it
    /// (Shopify `fulfillment_status`, where `null` means unfulfilled).
    pub enum OrderFulfillmentStatus {
        Unfulfilled = "unfulfilled",
        Partial = "partial",
        Fulfilled = "fulfilled",
        Restocked = "restocked",
    }
}

open_enum! {
    /// State of one fulfillment (Shopify fulfillment `status`).
    pub enum FulfillmentState {
        Pending = "pending",
        Open = "open",
        Success = "success",
        Cancelled = "cancelled",
        Error = "error",
        Failure = "failure",
    }
}

open_enum! {
    /// Where the parcel is, as the carrier last reported
    /// (Shopify fulfillment `shipment_status`).
    pub enum ShipmentStatus {
        LabelPrinted = "label_printed",
        LabelPurchased = "label_purchased",
        Confirmed = "confirmed",
        CarrierPickedUp = "carrier_picked_up",
        InTransit = "in_transit",
        OutForDelivery = "out_for_delivery",
        AttemptedDelivery = "attempted_delivery",
        ReadyForPickup = "ready_for_pickup",
        PickedUp = "picked_up",
        Delivered = "delivered",
        Delayed = "delayed",
        Failure = "failure",
    }
}

impl ShipmentStatus {
    /// A status that needs someone to look: failed, attempted or delayed.
    pub fn is_exception(&self) -> bool {
        matches!(
            self,
            ShipmentStatus::Failure | ShipmentStatus::AttemptedDelivery | ShipmentStatus::Delayed
        )
    }
}

/// The customer as embedded in an order. Lifetime figures (orders count,
/// total spent) are not here: Shopify removed them from orders in 2022-04.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CustomerRef {
    pub external_id: String,
    pub email: Option<String>,
    pub name: Option<String>,
}

/// One line of an order. Product, variant and SKU are absent for custom items
/// and for products deleted since.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineItem {
    pub external_id: String,
    pub product_id: Option<String>,
    pub variant_id: Option<String>,
    pub sku: Option<String>,
    pub title: String,
    pub variant_title: Option<String>,
    pub quantity: i64,
    /// Unit price.
    pub price: Money,
    /// Units of this line already fulfilled, where the platform says.
    pub fulfilled_quantity: Option<i64>,
}

/// One shipment of some or all of an order's items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fulfillment {
    pub external_id: String,
    pub status: FulfillmentState,
    pub shipment_status: Option<ShipmentStatus>,
    pub tracking_company: Option<String>,
    pub tracking_numbers: Vec<String>,
    pub tracking_urls: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// When the carrier reported delivery, where known.
    pub delivered_at: Option<Timestamp>,
    /// The carrier's promised delivery date, where known.
    pub estimated_delivery_at: Option<Timestamp>,
}

impl Fulfillment {
    pub fn is_delivered(&self) -> bool {
        self.shipment_status == Some(ShipmentStatus::Delivered)
    }

    pub fn has_tracking(&self) -> bool {
        !self.tracking_numbers.is_empty()
    }

    /// Ships its units: not cancelled, and not an error or failure (a
    /// label that was never used ships nothing).
    pub fn ships_units(&self) -> bool {
        !matches!(
            self.status,
            FulfillmentState::Cancelled | FulfillmentState::Error | FulfillmentState::Failure
        )
    }
}

/// Units one fulfillment ships, per line item id, where the platform says
/// (Shopify's `line_items`, the ingest API's optional `line_items`).
pub type ShippedUnits = [(String, i64)];

/// Units of one line item returned in a refund.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefundLineItem {
    pub line_item_id: String,
    pub quantity: i64,
}

/// Money given back, with the units it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Refund {
    pub external_id: String,
    pub created_at: Timestamp,
    /// Sum of the refund's successful transactions.
    pub amount: Money,
    pub line_items: Vec<RefundLineItem>,
    pub note: Option<String>,
}

/// An order as opsdeck keeps it, whatever platform it came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Order {
    pub source: SourceId,
    pub external_id: String,
    pub brand: BrandId,
    /// The name customers see and quote in tickets, e.g. "#1001".
    pub name: String,
    pub number: Option<i64>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub processed_at: Option<Timestamp>,
    pub cancelled_at: Option<Timestamp>,
    pub cancel_reason: Option<String>,
    pub closed_at: Option<Timestamp>,
    pub currency: Currency,
    pub total_price: Money,
    pub subtotal_price: Money,
    pub total_discounts: Money,
    pub total_tax: Money,
    pub financial_status: FinancialStatus,
    pub fulfillment_status: OrderFulfillmentStatus,
    pub tags: Vec<String>,
    /// Sales channel or app that created the order (`web`, `pos`, a
    /// subscription app's name).
    pub source_name: Option<String>,
    /// Test orders are kept but excluded from every number.
    pub test: bool,
    pub email: Option<String>,
    pub customer: Option<CustomerRef>,
    pub line_items: Vec<LineItem>,
    pub fulfillments: Vec<Fulfillment>,
    pub refunds: Vec<Refund>,
}

impl_record!(Order, RecordKind::Order, brand: required);

impl Order {
    /// Keeps what only the stored copy knows: the merge rule for a record
    /// that arrives from a face of its platform that cannot see a field.
    /// Shopify's GraphQL Admin API gives a shipment's estimated delivery;
    /// its REST payloads (and so every webhook) have no such field. A
    /// shipment of `self` without an estimate therefore takes the one the
    /// stored copy of the same shipment holds, so a webhook after a GraphQL
    /// sync does not erase it. An estimate is only ever replaced by another,
    /// never withdrawn. Applied by the store's upsert to a record that
    /// passed the `updated_at` rule (newer, or as new), the one place both
    /// syncs and webhooks write through. Returns whether anything was kept.
    pub fn keep_what_only_the_stored_copy_knows(&mut self, stored: &Order) -> bool {
        let mut kept = false;
        for shipment in &mut self.fulfillments {
            if shipment.estimated_delivery_at.is_some() {
                continue;
            }
            let known = stored
                .fulfillments
                .iter()
                .find(|s| s.external_id == shipment.external_id)
                .and_then(|s| s.estimated_delivery_at);
            if known.is_some() {
                shipment.estimated_delivery_at = known;
                kept = true;
            }
        }
        kept
    }

    /// Whether [`Order::keep_what_only_the_stored_copy_knows`] could keep
    /// anything: a shipment without an estimate (cheap; the store reads the
    /// stored copy only then).
    pub fn may_lack_what_the_stored_copy_knows(&self) -> bool {
        self.fulfillments
            .iter()
            .any(|s| s.estimated_delivery_at.is_none())
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled_at.is_some()
    }

    /// Counts in revenue and AOV: not a test and not cancelled.
    pub fn counts_for_revenue(&self) -> bool {
        !self.test && !self.is_cancelled()
    }

    /// The first shipment's creation time (the start of "time to ship").
    pub fn first_fulfilled_at(&self) -> Option<Timestamp> {
        self.fulfillments
            .iter()
            .filter(|f| f.status != FulfillmentState::Cancelled)
            .map(|f| f.created_at)
            .min()
    }

    /// Merges one fulfillment, created or changed, into the order: the one
    /// rule for every path that brings a fulfillment on its own (Shopify's
    /// `fulfillments/create|update` webhooks and the ingest API), so the same
    /// event gives the same order whichever way it came (issue 10.B9).
    ///
    /// - A copy older than the stored fulfillment of the same id is stale:
    ///   nothing changes. One as new applies, as the store's newer-wins rule
    ///   ignores only what is older; re-applying the same copy changes
    ///   nothing, so a re-delivery is harmless.
    /// - Line quantities follow: when the fulfillment starts shipping units
    ///   ([`Fulfillment::ships_units`]) each line it names gains its units;
    ///   when it stops (cancelled, failed), they are taken back (never below 0).
    /// - The order's `updated_at` becomes the later of the two.
    pub fn merge_fulfillment(
        &mut self,
        incoming: Fulfillment,
        shipped: &ShippedUnits,
    ) -> crate::operations::Applied {
        use crate::operations::Applied;
        let existing = self
            .fulfillments
            .iter()
            .position(|f| f.external_id == incoming.external_id);
        let was_shipping = match existing.map(|i| &self.fulfillments[i]) {
            Some(stored) if stored.updated_at > incoming.updated_at => return Applied::Stale,
            Some(stored) => stored.ships_units(),
            None => false,
        };
        let delta = i64::from(incoming.ships_units()) - i64::from(was_shipping);
        if delta != 0 {
            for (line_id, units) in shipped {
                if let Some(line) = self
                    .line_items
                    .iter_mut()
                    .find(|l| &l.external_id == line_id)
                {
                    let now = line
                        .fulfilled_quantity
                        .unwrap_or(0)
                        .saturating_add(delta.saturating_mul(*units));
                    line.fulfilled_quantity = Some(now.max(0));
                }
            }
        }
        self.updated_at = self.updated_at.max(incoming.updated_at);
        match existing {
            Some(i) => self.fulfillments[i] = incoming,
            None => self.fulfillments.push(incoming),
        }
        Applied::Applied
    }

    /// Splits a platform's comma-separated tag string ("a, b,c") into tags.
    pub fn split_tags(tags: &str) -> Vec<String> {
        tags.split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_statuses_are_kept() {
        let s: ShipmentStatus = serde_json::from_str("\"teleported\"").unwrap();
        assert_eq!(s, ShipmentStatus::Other("teleported".into()));
        assert_eq!(serde_json::to_string(&s).unwrap(), "\"teleported\"");
        assert_eq!(ShipmentStatus::parse("delayed"), ShipmentStatus::Delayed);
        assert!(ShipmentStatus::Delayed.is_exception());
        assert_eq!(FinancialStatus::parse("paid").to_string(), "paid");
    }

    #[test]
    fn tags_split_on_commas() {
        assert_eq!(
            Order::split_tags("Subscription, Recurring Order ,,vip"),
            vec!["Subscription", "Recurring Order", "vip"]
        );
        assert!(Order::split_tags("").is_empty());
    }
}
