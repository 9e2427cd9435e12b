//! The pieces of an order payload: line items, fulfillments, refunds with
//! their transactions, addresses, and the rendering context they share.

use serde::Serialize;
use serde_json::Value;

use super::{gid, money, money_set, timestamp, MoneySet};
use crate::catalog::{CUSTOM_ITEMS, DELETED_ITEMS};
use crate::ids;
use crate::orders::{ItemRef, LineItem, Order};
use crate::world::Shop;

#[derive(Serialize)]
pub(super) struct NameValue {
    pub(super) name: String,
    pub(super) value: String,
}

#[derive(Serialize)]
pub(super) struct DiscountCode {
    pub(super) code: &'static str,
    pub(super) amount: String,
    #[serde(rename = "type")]
    pub(super) kind: &'static str,
}

#[derive(Serialize)]
pub(super) struct TaxLine {
    pub(super) price: String,
    pub(super) rate: f64,
    pub(super) title: &'static str,
    pub(super) price_set: MoneySet,
}

#[derive(Serialize)]
pub(super) struct ShippingLine {
    pub(super) id: u64,
    pub(super) code: &'static str,
    pub(super) price: String,
    pub(super) source: &'static str,
    pub(super) title: &'static str,
    pub(super) price_set: MoneySet,
}

#[derive(Serialize)]
pub(super) struct Address {
    pub(super) first_name: &'static str,
    pub(super) last_name: &'static str,
    pub(super) name: String,
    pub(super) address1: String,
    pub(super) address2: &'static str,
    pub(super) city: &'static str,
    pub(super) company: Option<String>,
    pub(super) province: &'static str,
    pub(super) province_code: &'static str,
    pub(super) country: &'static str,
    pub(super) country_code: &'static str,
    pub(super) zip: &'static str,
    pub(super) phone: String,
    pub(super) latitude: Option<f64>,
    pub(super) longitude: Option<f64>,
}

#[derive(Serialize)]
pub(super) struct ClientDetails {
    pub(super) accept_language: Option<&'static str>,
    pub(super) browser_height: Option<u32>,
    pub(super) browser_ip: Option<&'static str>,
    pub(super) browser_width: Option<u32>,
    pub(super) session_hash: Option<String>,
    pub(super) user_agent: Option<&'static str>,
}

#[derive(Serialize)]
pub(super) struct LineItemWire {
    pub(super) id: u64,
    pub(super) admin_graphql_api_id: String,
    pub(super) fulfillable_quantity: u16,
    pub(super) fulfillment_service: &'static str,
    pub(super) fulfillment_status: Option<&'static str>,
    pub(super) gift_card: bool,
    pub(super) grams: u32,
    pub(super) name: String,
    pub(super) price: String,
    pub(super) price_set: MoneySet,
    pub(super) product_exists: bool,
    pub(super) product_id: Option<u64>,
    pub(super) properties: Vec<NameValue>,
    pub(super) quantity: u16,
    pub(super) requires_shipping: bool,
    pub(super) sku: Option<String>,
    pub(super) taxable: bool,
    pub(super) title: String,
    pub(super) total_discount: String,
    pub(super) total_discount_set: MoneySet,
    pub(super) variant_id: Option<u64>,
    pub(super) variant_inventory_management: Option<&'static str>,
    pub(super) variant_title: Option<String>,
    pub(super) vendor: Option<String>,
    pub(super) tax_lines: Vec<TaxLine>,
}

#[derive(Serialize)]
pub(super) struct FulfillmentWire {
    pub(super) id: u64,
    pub(super) admin_graphql_api_id: String,
    pub(super) created_at: String,
    pub(super) location_id: u64,
    pub(super) name: String,
    pub(super) order_id: u64,
    pub(super) receipt: serde_json::Map<String, Value>,
    pub(super) service: &'static str,
    pub(super) shipment_status: Option<&'static str>,
    pub(super) status: &'static str,
    pub(super) tracking_company: Option<&'static str>,
    pub(super) tracking_number: Option<String>,
    pub(super) tracking_numbers: Vec<String>,
    pub(super) tracking_url: Option<String>,
    pub(super) tracking_urls: Vec<String>,
    pub(super) updated_at: String,
    pub(super) line_items: Vec<LineItemWire>,
}

#[derive(Serialize)]
pub(super) struct TransactionWire {
    pub(super) id: u64,
    pub(super) admin_graphql_api_id: String,
    pub(super) amount: String,
    pub(super) authorization: Option<String>,
    pub(super) created_at: String,
    pub(super) currency: String,
    pub(super) gateway: &'static str,
    pub(super) kind: &'static str,
    pub(super) message: Option<&'static str>,
    pub(super) order_id: u64,
    pub(super) parent_id: Option<u64>,
    pub(super) processed_at: String,
    pub(super) status: &'static str,
    pub(super) test: bool,
}

#[derive(Serialize)]
pub(super) struct RefundLineItemWire {
    pub(super) id: u64,
    pub(super) line_item_id: u64,
    pub(super) location_id: Option<u64>,
    pub(super) quantity: u16,
    pub(super) restock_type: &'static str,
    pub(super) subtotal: String,
    pub(super) subtotal_set: MoneySet,
    pub(super) total_tax: String,
    pub(super) total_tax_set: MoneySet,
    pub(super) line_item: LineItemWire,
}

#[derive(Serialize)]
pub(super) struct RefundWire {
    pub(super) id: u64,
    pub(super) admin_graphql_api_id: String,
    pub(super) created_at: String,
    pub(super) note: Option<&'static str>,
    pub(super) order_id: u64,
    pub(super) processed_at: String,
    pub(super) restock: bool,
    pub(super) user_id: Option<u64>,
    pub(super) order_adjustments: Vec<Value>,
    pub(super) refund_line_items: Vec<RefundLineItemWire>,
    pub(super) transactions: Vec<TransactionWire>,
    pub(super) duties: Vec<Value>,
}

/// What rendering one order needs.
pub(super) struct Ctx<'a> {
    pub(super) shop: &'a Shop,
    pub(super) index: u32,
    pub(super) order: &'a Order,
    pub(super) items: &'a [LineItem],
}

impl Ctx<'_> {
    pub(super) fn currency(&self) -> &str {
        &self.shop.info.currency
    }

    pub(super) fn ts(&self, at: i64) -> String {
        timestamp(at, &self.shop.tz)
    }

    pub(super) fn line_item(
        &self,
        position: usize,
        quantity: u16,
        fulfillment_status: Option<&'static str>,
        fulfillable: u16,
    ) -> LineItemWire {
        let item = &self.items[position];
        let salt = self.shop.profile.id_salt;
        let id = ids::line_item(salt, self.index, position);
        let (title, variant_title, sku, product_id, variant_id, grams, tracked, vendor, exists) =
            match item.item {
                ItemRef::Variant { product, variant } => {
                    let p = &self.shop.catalog.products[product as usize];
                    let v = &p.variants[variant as usize];
                    let variant_title = (v.title != "Default Title").then(|| v.title.clone());
                    (
                        p.title.clone(),
                        variant_title,
                        Some(v.sku.clone()),
                        Some(p.id),
                        Some(v.id),
                        v.grams,
                        v.tracked,
                        Some(p.vendor.clone()),
                        true,
                    )
                }
                ItemRef::Deleted(which) => {
                    let (title, sku, _) = DELETED_ITEMS[which as usize];
                    (
                        title.to_string(),
                        None,
                        Some(sku.to_string()),
                        None,
                        None,
                        300,
                        false,
                        Some(self.shop.info.name.clone()),
                        false,
                    )
                }
                ItemRef::Custom(which) => (
                    CUSTOM_ITEMS[which as usize].0.to_string(),
                    None,
                    None,
                    None,
                    None,
                    0,
                    false,
                    None,
                    false,
                ),
            };
        let name = match &variant_title {
            Some(v) => format!("{title} - {v}"),
            None => title.clone(),
        };
        let currency = self.currency().to_string();
        LineItemWire {
            id,
            admin_graphql_api_id: gid("LineItem", id),
            fulfillable_quantity: fulfillable,
            fulfillment_service: "manual",
            fulfillment_status,
            gift_card: false,
            grams,
            name,
            price: money(item.unit_price_cents as i64),
            price_set: money_set(item.unit_price_cents as i64, &currency),
            product_exists: exists,
            product_id,
            properties: Vec::new(),
            quantity,
            requires_shipping: !matches!(item.item, ItemRef::Custom(_)),
            sku,
            taxable: true,
            title,
            total_discount: "0.00".into(),
            total_discount_set: money_set(0, &currency),
            variant_id,
            variant_inventory_management: tracked.then_some("shopify"),
            variant_title,
            vendor,
            tax_lines: Vec::new(),
        }
    }

    pub(super) fn address(&self) -> Option<Address> {
        let customers = &self.shop.book.customers;
        let customer = customers.get(self.order.customer as usize)?;
        let (city, province, province_code, zip, _) = customer.city();
        Some(Address {
            first_name: customer.first_name(),
            last_name: customer.last_name(),
            name: format!("{} {}", customer.first_name(), customer.last_name()),
            address1: format!("{} Main Street", 10 + self.order.customer % 980),
            address2: "",
            city,
            company: None,
            province,
            province_code,
            country: "United States",
            country_code: "US",
            zip,
            phone: customer.phone(self.order.customer),
            latitude: None,
            longitude: None,
        })
    }
}
