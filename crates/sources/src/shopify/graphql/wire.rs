//! The GraphQL Admin API's JSON shapes, as far as opsdeck reads them.
//!
//! Tolerant like the REST shapes: whatever Shopify may omit or send as
//! `null` is an `Option` or defaults to empty, and a connection is read
//! from `nodes`, from `edges[].node`, or from a plain list (how a bulk
//! file's children come back once regrouped). Money, times and enums stay
//! text here; normalization parses them so its errors name the field.

use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// The numeric tail of a GraphQL id: `gid://shopify/Order/123` → `123`,
/// `gid://shopify/InventoryLevel/9?inventory_item_id=30` → `9`. It is the
/// id the REST API and webhooks use, so both paths key the same records.
/// A bare id (a webhook's, or an already numeric one) is returned as is.
pub fn legacy_id(gid: &str) -> &str {
    let gid = gid.trim();
    let without_query = gid.split('?').next().unwrap_or(gid);
    match without_query.strip_prefix("gid://") {
        Some(rest) => rest.rsplit('/').next().unwrap_or(rest),
        None => without_query,
    }
}

/// The connection forms a list of nodes arrives in.
#[derive(Debug, Clone, PartialEq)]
pub struct Nodes<T>(pub Vec<T>);

impl<T> Default for Nodes<T> {
    fn default() -> Self {
        Nodes(Vec::new())
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for Nodes<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let list = match Value::deserialize(d)? {
            Value::Null => return Ok(Nodes(Vec::new())),
            Value::Array(list) => list,
            Value::Object(mut connection) => {
                match (connection.remove("nodes"), connection.remove("edges")) {
                    (Some(Value::Array(nodes)), _) => nodes,
                    (_, Some(Value::Array(edges))) => edges
                        .into_iter()
                        .map(|mut edge| {
                            edge.get_mut("node").map(Value::take).unwrap_or(Value::Null)
                        })
                        .collect(),
                    _ => {
                        return Err(serde::de::Error::custom(
                            "a connection without `nodes` or `edges`",
                        ))
                    }
                }
            }
            other => {
                return Err(serde::de::Error::custom(format!(
                    "{other} is not a list of nodes"
                )))
            }
        };
        // Each node on its own, so the error says which one and why.
        list.into_iter()
            .enumerate()
            .map(|(i, node)| {
                serde_json::from_value(node)
                    .map_err(|e| serde::de::Error::custom(format!("node {i}: {e}")))
            })
            .collect::<Result<_, _>>()
            .map(Nodes)
    }
}

/// `null` read like an absent field.
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `MoneyV2`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlMoney {
    pub amount: Option<String>,
    pub currency_code: Option<String>,
}

/// `MoneyBag`: an amount in the shop's and the customer's currency.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlMoneyBag {
    #[serde(default)]
    pub shop_money: Option<GqlMoney>,
    #[serde(default)]
    pub presentment_money: Option<GqlMoney>,
}

/// Any object named only by its id (`order { id }`, `variant { id }`).
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GqlRef {
    pub id: String,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlOrder {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub processed_at: Option<String>,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    /// `OrderCancelReason`: CUSTOMER, DECLINED, FRAUD, INVENTORY, OTHER, STAFF.
    #[serde(default)]
    pub cancel_reason: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
    /// The shop's currency.
    #[serde(default)]
    pub currency_code: Option<String>,
    #[serde(default)]
    pub total_price_set: Option<GqlMoneyBag>,
    #[serde(default)]
    pub subtotal_price_set: Option<GqlMoneyBag>,
    #[serde(default)]
    pub total_discounts_set: Option<GqlMoneyBag>,
    #[serde(default)]
    pub total_tax_set: Option<GqlMoneyBag>,
    /// `OrderDisplayFinancialStatus`: `PAID`, `PARTIALLY_REFUNDED`, …
    #[serde(default)]
    pub display_financial_status: Option<String>,
    /// `OrderDisplayFulfillmentStatus`: `UNFULFILLED`, `PARTIALLY_FULFILLED`, …
    #[serde(default)]
    pub display_fulfillment_status: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub source_name: Option<String>,
    #[serde(default)]
    pub test: Option<bool>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub customer: Option<GqlOrderCustomer>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Nodes<GqlLineItem>,
    /// A list, not a connection, in the API.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fulfillments: Nodes<GqlFulfillment>,
    /// A list, not a connection, in the API.
    #[serde(default, deserialize_with = "null_as_default")]
    pub refunds: Nodes<GqlRefund>,
    /// A connection: what says per line how many units shipped. A bulk
    /// file of orders has their ids only (their lines are a third level
    /// of connections); a backfill joins in their lines from a bulk file
    /// of fulfillment orders.
    #[serde(default, deserialize_with = "null_as_default")]
    pub fulfillment_orders: Nodes<GqlFulfillmentOrder>,
}

/// `FulfillmentOrder`: the work of shipping some of an order's lines from
/// one location.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlFulfillmentOrder {
    pub id: String,
    /// The order's id (`gid://shopify/Order/…`), on a fulfillment order
    /// read on its own.
    #[serde(default)]
    pub order_id: Option<String>,
    /// `FulfillmentOrderStatus`: `OPEN`, `IN_PROGRESS`, `CLOSED`, `CANCELLED`, …
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Nodes<GqlFulfillmentOrderLine>,
}

/// `FulfillmentOrderLineItem`: units of one order line this fulfillment
/// order is to ship, and how many of them are still to ship.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlFulfillmentOrderLine {
    #[serde(default)]
    pub total_quantity: Option<i64>,
    #[serde(default)]
    pub remaining_quantity: Option<i64>,
    pub line_item: GqlRef,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlOrderCustomer {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlLineItem {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub variant_title: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub quantity: Option<i64>,
    /// Units ordered less those refunded and removed.
    #[serde(default)]
    pub current_quantity: Option<i64>,
    /// Units not yet fulfilled (Shopify counts it from `currentQuantity`,
    /// so it goes negative when refunded units had shipped).
    #[serde(default)]
    pub unfulfilled_quantity: Option<i64>,
    /// Units that can still be refunded.
    #[serde(default)]
    pub refundable_quantity: Option<i64>,
    /// Null for custom items and deleted products.
    #[serde(default)]
    pub product: Option<GqlRef>,
    #[serde(default)]
    pub variant: Option<GqlRef>,
    /// The unit price before discounts, in both currencies.
    #[serde(default)]
    pub original_unit_price_set: Option<GqlMoneyBag>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlFulfillment {
    pub id: String,
    /// `FulfillmentStatus`: SUCCESS, CANCELLED, ERROR, FAILURE, OPEN, PENDING.
    #[serde(default)]
    pub status: Option<String>,
    /// `FulfillmentDisplayStatus`: `IN_TRANSIT`, `DELIVERED`, …
    #[serde(default)]
    pub display_status: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub delivered_at: Option<String>,
    #[serde(default)]
    pub estimated_delivery_at: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tracking_info: Vec<GqlTracking>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub fulfillment_line_items: Nodes<GqlFulfillmentLine>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GqlTracking {
    #[serde(default)]
    pub company: Option<String>,
    #[serde(default)]
    pub number: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlFulfillmentLine {
    #[serde(default)]
    pub quantity: Option<i64>,
    pub line_item: GqlRef,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlRefund {
    pub id: String,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default)]
    pub total_refunded_set: Option<GqlMoneyBag>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub refund_line_items: Nodes<GqlRefundLine>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub transactions: Nodes<GqlTransaction>,
    /// Shipping refunds and refund discrepancies.
    #[serde(default, deserialize_with = "null_as_default")]
    pub order_adjustments: Nodes<GqlOrderAdjustment>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlRefundLine {
    #[serde(default)]
    pub quantity: Option<i64>,
    pub line_item: GqlRef,
    #[serde(default)]
    pub subtotal_set: Option<GqlMoneyBag>,
    #[serde(default)]
    pub total_tax_set: Option<GqlMoneyBag>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlOrderAdjustment {
    #[serde(default)]
    pub amount_set: Option<GqlMoneyBag>,
    #[serde(default)]
    pub tax_amount_set: Option<GqlMoneyBag>,
}

/// `OrderTransaction`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlTransaction {
    #[serde(default)]
    pub id: Option<String>,
    /// `OrderTransactionKind`: SALE, CAPTURE, AUTHORIZATION, REFUND, …
    #[serde(default)]
    pub kind: Option<String>,
    /// `OrderTransactionStatus`: SUCCESS, FAILURE, PENDING, …
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub amount_set: Option<GqlMoneyBag>,
    #[serde(default)]
    pub gateway: Option<String>,
    #[serde(default)]
    pub processed_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlProduct {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub handle: Option<String>,
    /// `ProductStatus`: ACTIVE, ARCHIVED, DRAFT.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub description_html: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    /// Only whether there is one: a product without images is a catalog gap.
    #[serde(default)]
    pub featured_image: Option<Value>,
    /// `{ count }`: how many media the product has, which REST gives as
    /// its `images`; without it only whether there is a featured image.
    #[serde(default)]
    pub media_count: Option<Value>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub variants: Nodes<GqlVariant>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlVariant {
    pub id: String,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    /// `Money` scalar: a decimal string in the shop's currency.
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub inventory_quantity: Option<i64>,
    #[serde(default)]
    pub inventory_item: Option<GqlInventoryItem>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlInventoryItem {
    pub id: String,
    /// Whether Shopify tracks the item's stock.
    #[serde(default)]
    pub tracked: Option<bool>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub inventory_levels: Nodes<GqlInventoryLevel>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlInventoryLevel {
    /// `gid://shopify/InventoryLevel/{level}?inventory_item_id={item}`.
    pub id: String,
    /// `quantities(names: [...])`: the `available` field is gone since 2023.
    #[serde(default, deserialize_with = "null_as_default")]
    pub quantities: Vec<GqlQuantity>,
    #[serde(default)]
    pub item: Option<GqlRef>,
    #[serde(default)]
    pub location: Option<GqlRef>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

impl GqlInventoryLevel {
    /// The quantity named `name` (`available`, `on_hand`, …), if asked for.
    pub fn quantity(&self, name: &str) -> Option<i64> {
        self.quantities
            .iter()
            .find(|q| q.name == name)
            .and_then(|q| q.quantity)
    }

    /// The inventory item: `item { id }`, else the id's `inventory_item_id`.
    pub fn item_id(&self) -> Option<String> {
        if let Some(item) = &self.item {
            return Some(legacy_id(&item.id).to_string());
        }
        let (_, query) = self.id.split_once('?')?;
        query
            .split('&')
            .find_map(|pair| pair.strip_prefix("inventory_item_id="))
            .map(str::to_string)
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GqlQuantity {
    pub name: String,
    #[serde(default)]
    pub quantity: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlCustomer {
    pub id: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    /// `UnsignedInt64`: a JSON string.
    #[serde(default)]
    pub number_of_orders: Option<Value>,
    #[serde(default)]
    pub amount_spent: Option<GqlMoney>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tags: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReturn {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// `ReturnStatus`: REQUESTED, OPEN, CLOSED, DECLINED, CANCELED.
    pub status: String,
    #[serde(default)]
    pub created_at: Option<String>,
    /// When the request was approved (in 2026-01; absent from older
    /// versions, where the history then lacks the approval).
    #[serde(default)]
    pub request_approved_at: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
    #[serde(default)]
    pub order: Option<GqlRef>,
    #[serde(default)]
    pub decline: Option<GqlReturnDecline>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub return_line_items: Nodes<GqlReturnLine>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReturnDecline {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReturnLine {
    pub id: String,
    #[serde(default)]
    pub quantity: Option<i64>,
    /// `ReturnReason` (deprecated for `returnReasonDefinition` in 2025+).
    #[serde(default)]
    pub return_reason: Option<String>,
    #[serde(default)]
    pub return_reason_definition: Option<GqlReasonDefinition>,
    #[serde(default)]
    pub return_reason_note: Option<String>,
    #[serde(default)]
    pub customer_note: Option<String>,
    #[serde(default)]
    pub fulfillment_line_item: Option<GqlReturnedLine>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GqlReasonDefinition {
    #[serde(default)]
    pub handle: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlReturnedLine {
    #[serde(default)]
    pub line_item: Option<GqlRef>,
}

/// `ShopifyPaymentsDispute`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlDispute {
    pub id: String,
    pub amount: GqlMoney,
    /// `DisputeStatus`: `NEEDS_RESPONSE`, `UNDER_REVIEW`, `ACCEPTED`, `WON`, `LOST`, …
    pub status: String,
    /// `DisputeType`: CHARGEBACK or INQUIRY.
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub evidence_due_by: Option<String>,
    #[serde(default)]
    pub evidence_sent_on: Option<String>,
    #[serde(default)]
    pub finalized_on: Option<String>,
    pub initiated_at: String,
    #[serde(default)]
    pub reason_details: Option<GqlDisputeReason>,
    #[serde(default)]
    pub order: Option<GqlRef>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlDisputeReason {
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub network_reason_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GqlAbandonedCheckout {
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub completed_at: Option<String>,
    #[serde(default)]
    pub customer: Option<GqlCheckoutCustomer>,
    #[serde(default)]
    pub total_price_set: Option<GqlMoneyBag>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Nodes<GqlCheckoutLine>,
}

/// A checkout's buyer: the id may not have been asked for.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GqlCheckoutCustomer {
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct GqlCheckoutLine {
    #[serde(default)]
    pub quantity: Option<i64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graphql_ids_become_the_rest_ids() {
        assert_eq!(legacy_id("gid://shopify/Order/148977776"), "148977776");
        assert_eq!(
            legacy_id("gid://shopify/InventoryLevel/523463154?inventory_item_id=30322695"),
            "523463154"
        );
        assert_eq!(legacy_id("450789469"), "450789469");
        assert_eq!(
            legacy_id("gid://shopify/AbandonedCheckoutLineItem/27de62d4?checkout=d1"),
            "27de62d4"
        );
    }

    #[test]
    fn connections_come_as_nodes_edges_or_lists() {
        let nodes: Nodes<GqlRef> = serde_json::from_str(r#"{"nodes":[{"id":"a"}]}"#).unwrap();
        let edges: Nodes<GqlRef> =
            serde_json::from_str(r#"{"edges":[{"cursor":"c","node":{"id":"a"}}]}"#).unwrap();
        let list: Nodes<GqlRef> = serde_json::from_str(r#"[{"id":"a"}]"#).unwrap();
        assert_eq!(nodes, edges);
        assert_eq!(edges, list);
        assert_eq!(list.0[0].id, "a");
    }
}
