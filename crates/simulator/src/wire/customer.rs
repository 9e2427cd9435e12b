//! `customer` payloads (full resource and the slimmer copy embedded in orders)
//! and `location` payloads.

use serde::Serialize;
use serde_json::Value;

use super::{gid, money, timestamp};
use crate::ids;
use crate::world::Shop;

#[derive(Serialize)]
struct DefaultAddress {
    id: u64,
    customer_id: u64,
    first_name: &'static str,
    last_name: &'static str,
    name: String,
    company: Option<String>,
    address1: String,
    address2: &'static str,
    city: &'static str,
    province: &'static str,
    country: &'static str,
    zip: &'static str,
    phone: String,
    province_code: &'static str,
    country_code: &'static str,
    country_name: &'static str,
    default: bool,
}

/// Fields common to both shapes; `orders_count`, `total_spent` and
/// `last_order_*` exist only on the customer resource since API 2022-04.
#[derive(Serialize)]
struct CustomerWire {
    id: u64,
    admin_graphql_api_id: String,
    email: String,
    accepts_marketing: bool,
    created_at: String,
    updated_at: String,
    first_name: &'static str,
    last_name: &'static str,
    state: &'static str,
    note: Option<String>,
    verified_email: bool,
    multipass_identifier: Option<String>,
    tax_exempt: bool,
    phone: Option<String>,
    tags: String,
    currency: String,
    default_address: DefaultAddress,
    #[serde(skip_serializing_if = "Option::is_none")]
    orders_count: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    total_spent: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_order_id: Option<Option<u64>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    last_order_name: Option<Option<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    addresses: Option<Vec<DefaultAddress>>,
}

fn wire(shop: &Shop, index: u32, full: bool) -> CustomerWire {
    let c = &shop.book.customers[index as usize];
    let id = ids::customer(shop.profile.id_salt, index);
    let (city, province, province_code, zip, _) = c.city();
    let address = || DefaultAddress {
        id: id + 500,
        customer_id: id,
        first_name: c.first_name(),
        last_name: c.last_name(),
        name: format!("{} {}", c.first_name(), c.last_name()),
        company: None,
        address1: format!("{} Main Street", 10 + index % 980),
        address2: "",
        city,
        province,
        country: "United States",
        zip,
        phone: c.phone(index),
        province_code,
        country_code: "US",
        country_name: "United States",
        default: true,
    };
    let last_order = (c.last_order != u32::MAX).then_some(c.last_order);
    CustomerWire {
        id,
        admin_graphql_api_id: gid("Customer", id),
        email: c.email(index),
        accepts_marketing: c.accepts_marketing,
        created_at: timestamp(c.created_at, &shop.tz),
        updated_at: timestamp(c.updated_at, &shop.tz),
        first_name: c.first_name(),
        last_name: c.last_name(),
        state: if c.orders_count > 1 {
            "enabled"
        } else {
            "disabled"
        },
        note: None,
        verified_email: true,
        multipass_identifier: None,
        tax_exempt: false,
        phone: Some(c.phone(index)),
        tags: c.tags().join(", "),
        currency: shop.info.currency.clone(),
        default_address: address(),
        orders_count: full.then_some(c.orders_count),
        total_spent: full.then(|| money(c.total_spent_cents)),
        last_order_id: full.then(|| last_order.map(|o| ids::order(shop.profile.id_salt, o))),
        last_order_name: full.then(|| last_order.map(|o| format!("#{}", 1001 + o))),
        addresses: full.then(|| vec![address()]),
    }
}

/// The customer resource, `GET customers/{id}.json`.
pub(crate) fn customer_json(shop: &Shop, index: u32) -> Value {
    serde_json::to_value(wire(shop, index, true)).unwrap_or(Value::Null)
}

/// The customer embedded in an order: no order statistics.
pub(super) fn embedded_customer_json(shop: &Shop, index: u32) -> Value {
    serde_json::to_value(wire(shop, index, false)).unwrap_or(Value::Null)
}

#[derive(Serialize)]
struct LocationWire {
    id: u64,
    admin_graphql_api_id: String,
    name: &'static str,
    address1: &'static str,
    address2: Option<String>,
    city: &'static str,
    zip: &'static str,
    province: &'static str,
    province_code: &'static str,
    country: &'static str,
    country_code: &'static str,
    country_name: &'static str,
    phone: &'static str,
    created_at: String,
    updated_at: String,
    legacy: bool,
    active: bool,
}

pub(crate) fn location_json(shop: &Shop, index: usize) -> Value {
    let l = &shop.catalog.locations[index];
    let since = timestamp(shop.rhythm.history_start - 200 * 86_400, &shop.tz);
    let wire = LocationWire {
        id: l.id,
        admin_graphql_api_id: gid("Location", l.id),
        name: l.name,
        address1: "100 Commerce Way",
        address2: None,
        city: l.city,
        zip: l.zip,
        province: l.province_code,
        province_code: l.province_code,
        country: "US",
        country_code: "US",
        country_name: "United States",
        phone: "",
        created_at: since.clone(),
        updated_at: since,
        legacy: false,
        active: true,
    };
    serde_json::to_value(wire).unwrap_or(Value::Null)
}
