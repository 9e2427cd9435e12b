//! Shopify's JSON shapes, exactly as far as opsdeck reads them.
//!
//! Private to the connector: nothing outside [`super::normalize`] sees these.
//! They are deliberately tolerant — every field the platform may omit or send
//! as `null` is an `Option` or defaults to empty — because the payloads differ
//! between API versions (the fixtures are from 2014-era versions) and a new
//! or missing field must never fail a sync. Money and timestamps stay strings
//! here: parsing them is normalization's job, so its error can name the
//! record and the field.

use serde::{Deserialize, Deserializer};
use std::fmt;

/// A Shopify id. Ids are 64-bit and some exceed 2^53, so they are never
/// floats; accepted as a JSON number or, defensively, as a string of digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) struct WireId(pub u64);

impl fmt::Display for WireId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl<'de> Deserialize<'de> for WireId {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = WireId;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a non-negative integer id")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<WireId, E> {
                Ok(WireId(v))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<WireId, E> {
                u64::try_from(v)
                    .map(WireId)
                    .map_err(|_| E::custom(format!("negative id {v}")))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<WireId, E> {
                v.trim()
                    .parse()
                    .map(WireId)
                    .map_err(|_| E::custom(format!("id {v:?} is not an integer")))
            }
        }
        d.deserialize_any(Visitor)
    }
}

/// Treats an explicit `null` like an absent field (serde's `default` alone
/// only covers absence, and Shopify sends `"refunds": null` in places).
fn null_as_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireOrder {
    pub id: WireId,
    #[serde(default)]
    pub name: Option<String>,
    /// The number customers see (1001); `number` is the shop-internal
    /// sequence (1) and only a fallback.
    #[serde(default)]
    pub order_number: Option<i64>,
    #[serde(default)]
    pub number: Option<i64>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default)]
    pub processed_at: Option<String>,
    #[serde(default)]
    pub cancelled_at: Option<String>,
    #[serde(default)]
    pub cancel_reason: Option<String>,
    #[serde(default)]
    pub closed_at: Option<String>,
    #[serde(default)]
    pub currency: Option<String>,
    #[serde(default)]
    pub total_price: Option<String>,
    /// The total in the shop's and in the customer's (presentment)
    /// currency; their ratio converts refund transactions, which are in
    /// the presentment currency.
    #[serde(default)]
    pub total_price_set: Option<WireMoneySet>,
    #[serde(default)]
    pub subtotal_price: Option<String>,
    #[serde(default)]
    pub subtotal_price_set: Option<WireMoneySet>,
    #[serde(default)]
    pub total_discounts: Option<String>,
    #[serde(default)]
    pub total_discounts_set: Option<WireMoneySet>,
    #[serde(default)]
    pub total_tax: Option<String>,
    #[serde(default)]
    pub total_tax_set: Option<WireMoneySet>,
    #[serde(default)]
    pub financial_status: Option<String>,
    #[serde(default)]
    pub fulfillment_status: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub source_name: Option<String>,
    #[serde(default)]
    pub test: Option<bool>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub customer: Option<WireCustomer>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<WireLineItem>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub fulfillments: Vec<WireFulfillment>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub refunds: Vec<WireRefund>,
}

/// An amount in the shop's and the presentment currency (`*_set` fields).
#[derive(Debug, Deserialize)]
pub(crate) struct WireMoneySet {
    #[serde(default)]
    pub shop_money: Option<WireMoney>,
    #[serde(default)]
    pub presentment_money: Option<WireMoney>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireMoney {
    #[serde(default)]
    pub amount: Option<String>,
    #[serde(default)]
    pub currency_code: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireCustomer {
    pub id: WireId,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireLineItem {
    pub id: WireId,
    /// Null for custom items and for products deleted since.
    #[serde(default)]
    pub product_id: Option<WireId>,
    #[serde(default)]
    pub variant_id: Option<WireId>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub variant_title: Option<String>,
    #[serde(default)]
    pub quantity: Option<i64>,
    #[serde(default)]
    pub price: Option<String>,
    /// The unit price in both currencies, for an order whose currency is
    /// not its brand's.
    #[serde(default)]
    pub price_set: Option<WireMoneySet>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireFulfillment {
    pub id: WireId,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub shipment_status: Option<String>,
    #[serde(default)]
    pub tracking_company: Option<String>,
    #[serde(default)]
    pub tracking_number: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tracking_numbers: Vec<String>,
    #[serde(default)]
    pub tracking_url: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub tracking_urls: Vec<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Not in Shopify's REST fulfillment, but some shapes (fulfillment events
    /// merged in, the simulator) carry it; preferred over `updated_at`.
    #[serde(default)]
    pub delivered_at: Option<String>,
    #[serde(default)]
    pub estimated_delivery_at: Option<String>,
    /// The units shipped, per line item; gives each line's fulfilled quantity.
    #[serde(default, deserialize_with = "null_as_default")]
    pub line_items: Vec<WireFulfilledLine>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireFulfilledLine {
    pub id: WireId,
    #[serde(default)]
    pub quantity: Option<i64>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireRefund {
    pub id: WireId,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub note: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub refund_line_items: Vec<WireRefundLine>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub transactions: Vec<WireTransaction>,
    /// Shipping refunds and refund discrepancies, in both currencies.
    #[serde(default, deserialize_with = "null_as_default")]
    pub order_adjustments: Vec<WireOrderAdjustment>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireRefundLine {
    pub line_item_id: WireId,
    #[serde(default)]
    pub quantity: Option<i64>,
    /// The refunded units' price and tax in the shop's and the presentment
    /// currency (Shopify converted them at the order's rate).
    #[serde(default)]
    pub subtotal_set: Option<WireMoneySet>,
    #[serde(default)]
    pub total_tax_set: Option<WireMoneySet>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireOrderAdjustment {
    #[serde(default)]
    pub amount_set: Option<WireMoneySet>,
    #[serde(default)]
    pub tax_amount_set: Option<WireMoneySet>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireTransaction {
    #[serde(default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub amount: Option<String>,
    /// The presentment currency on a multi-currency order, which may differ
    /// from the order's (shop) `currency`.
    #[serde(default)]
    pub currency: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireProduct {
    pub id: WireId,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub handle: Option<String>,
    /// Absent before API 2019-10; then `published_at` tells active from draft.
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub published_at: Option<String>,
    #[serde(default)]
    pub body_html: Option<String>,
    #[serde(default)]
    pub vendor: Option<String>,
    #[serde(default)]
    pub product_type: Option<String>,
    #[serde(default)]
    pub tags: Option<String>,
    #[serde(default)]
    pub created_at: Option<String>,
    #[serde(default)]
    pub updated_at: Option<String>,
    #[serde(default, deserialize_with = "null_as_default")]
    pub variants: Vec<WireVariant>,
    /// Only counted: a product without images is a catalog gap.
    #[serde(default, deserialize_with = "null_as_default")]
    pub images: Vec<serde::de::IgnoredAny>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireVariant {
    pub id: WireId,
    #[serde(default)]
    pub title: Option<String>,
    #[serde(default)]
    pub sku: Option<String>,
    #[serde(default)]
    pub price: Option<String>,
    #[serde(default)]
    pub inventory_item_id: Option<WireId>,
    #[serde(default)]
    pub inventory_quantity: Option<i64>,
    /// `"shopify"` when Shopify tracks stock; null (or an app's name) otherwise.
    #[serde(default)]
    pub inventory_management: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct WireInventoryLevel {
    pub inventory_item_id: WireId,
    pub location_id: WireId,
    /// Null when the item is not tracked at this location.
    #[serde(default)]
    pub available: Option<i64>,
    #[serde(default)]
    pub updated_at: Option<String>,
}
