//! `Customer` (with `amountSpent` and `numberOfOrders`),
//! `ShopifyPaymentsDispute`, `AbandonedCheckout` and `Shop`.

use serde::Serialize;
use serde_json::Value;

use super::{datetime, gid, money, money_bag, reference, typed, with, Nodes};
use crate::aftersale::{dispute_status, DisputePlan};
use crate::catalog::{CUSTOM_ITEMS, DELETED_ITEMS};
use crate::checkouts::Checkout;
use crate::ids;
use crate::orders::ItemRef;
use crate::wire::timestamp;
use crate::world::Shop;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CustomerWire {
    id: String,
    legacy_resource_id: String,
    first_name: &'static str,
    last_name: &'static str,
    display_name: String,
    email: String,
    phone: String,
    state: &'static str,
    verified_email: bool,
    tags: Vec<&'static str>,
    created_at: String,
    updated_at: String,
    amount_spent: Value,
    /// `UnsignedInt64`: a string in JSON.
    number_of_orders: String,
    last_order: Option<Value>,
    note: Option<String>,
    valid_email_address: bool,
    can_delete: bool,
    lifetime_duration: String,
    image: Value,
    default_email_address: Value,
    default_address: Value,
    addresses: Vec<Value>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct EmailWire {
    email_address: String,
    marketing_state: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AddressWire {
    id: String,
    first_name: &'static str,
    last_name: &'static str,
    name: String,
    address1: String,
    address2: Option<String>,
    city: &'static str,
    province: &'static str,
    province_code: &'static str,
    zip: &'static str,
    country: &'static str,
    country_code_v2: &'static str,
    phone: String,
    formatted_area: String,
}

/// Customer `index`'s address as a `MailingAddress`; `None` for an order
/// without a customer.
pub(crate) fn mailing_address(shop: &Shop, index: u32) -> Option<Value> {
    let c = shop.book.customers.get(index as usize)?;
    let id = ids::customer(shop.profile.id_salt, index);
    let (city, province, province_code, zip, _) = c.city();
    Some(typed(
        "MailingAddress",
        AddressWire {
            id: format!(
                "gid://shopify/MailingAddress/{}?model_name=CustomerAddress",
                id + 500
            ),
            first_name: c.first_name(),
            last_name: c.last_name(),
            name: format!("{} {}", c.first_name(), c.last_name()),
            address1: format!("{} Main Street", 10 + index % 980),
            address2: None,
            city,
            province,
            province_code,
            zip,
            country: "United States",
            country_code_v2: "US",
            phone: c.phone(index),
            formatted_area: format!("{city} {province_code}, United States"),
        },
    ))
}

/// "about 2 months", as Shopify words a customer's age.
fn lifetime(seconds: i64) -> String {
    let days = seconds / 86_400;
    match days {
        ..=0 => "less than a day".to_string(),
        1 => "1 day".to_string(),
        2..=30 => format!("{days} days"),
        31..=59 => "about 1 month".to_string(),
        60..=364 => format!("about {} months", days / 30),
        _ => format!("about {} years", days / 365),
    }
}

/// Customer `index` of the shop, with the statistics of its orders at the
/// world's clock (cancelled orders count in `numberOfOrders`, not in
/// `amountSpent`, and refunds are taken off, as the REST resource has them).
pub(crate) fn customer(shop: &Shop, index: u32, now: i64) -> Value {
    let c = &shop.book.customers[index as usize];
    let id = ids::customer(shop.profile.id_salt, index);
    let currency = shop.info.currency.as_str();
    typed(
        "Customer",
        CustomerWire {
            id: gid("Customer", id),
            legacy_resource_id: id.to_string(),
            first_name: c.first_name(),
            last_name: c.last_name(),
            display_name: format!("{} {}", c.first_name(), c.last_name()),
            email: c.email(index),
            phone: c.phone(index),
            state: if c.orders_count > 1 {
                "ENABLED"
            } else {
                "DISABLED"
            },
            verified_email: true,
            tags: c.tags(),
            created_at: datetime(c.created_at),
            updated_at: datetime(c.updated_at),
            amount_spent: money(c.total_spent_cents, currency),
            number_of_orders: c.orders_count.to_string(),
            note: None,
            valid_email_address: true,
            can_delete: c.orders_count == 0,
            lifetime_duration: lifetime(now - c.created_at),
            image: with(
                serde_json::json!({ "__typename": "Image" }),
                [(
                    "src",
                    Value::String(format!(
                        "https://cdn.shopify.com/proxy/avatar/{}.png",
                        crate::rhythm::mix(id) % 1_000_000
                    )),
                )],
            ),
            last_order: (c.last_order != u32::MAX).then(|| {
                let mut order = reference("Order", ids::order(shop.profile.id_salt, c.last_order));
                if let Value::Object(map) = &mut order {
                    map.insert(
                        "name".into(),
                        Value::String(format!("#{}", 1001 + c.last_order)),
                    );
                }
                order
            }),
            default_email_address: typed(
                "CustomerEmailAddress",
                EmailWire {
                    email_address: c.email(index),
                    marketing_state: if c.accepts_marketing {
                        "SUBSCRIBED"
                    } else {
                        "NOT_SUBSCRIBED"
                    },
                },
            ),
            default_address: mailing_address(shop, index).unwrap_or(Value::Null),
            addresses: mailing_address(shop, index).into_iter().collect(),
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct DisputeWire {
    id: String,
    legacy_resource_id: String,
    status: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
    amount: Value,
    initiated_at: String,
    /// Shopify renders these three with the shop's UTC offset.
    evidence_due_by: Option<String>,
    evidence_sent_on: Option<String>,
    finalized_on: Option<String>,
    reason_details: Value,
    order: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ReasonWire {
    reason: &'static str,
    network_reason_code: &'static str,
}

/// The dispute on order `index`, as it stands at `now` (`None` before it opened).
pub(crate) fn dispute(shop: &Shop, index: u32, plan: &DisputePlan, now: i64) -> Option<Value> {
    let status = dispute_status(plan, now)?;
    let salt = shop.profile.id_salt;
    let id = ids::dispute(salt, index);
    let order = &shop.book.orders[index as usize];
    let total = crate::lifecycle::total_cents(order, shop.book.items(order));
    let mut order_ref = reference("Order", ids::order(salt, index));
    if let Value::Object(map) = &mut order_ref {
        map.insert("name".into(), Value::String(format!("#{}", 1001 + index)));
    }
    Some(typed(
        "ShopifyPaymentsDispute",
        DisputeWire {
            id: gid("ShopifyPaymentsDispute", id),
            legacy_resource_id: id.to_string(),
            status,
            kind: if plan.chargeback {
                "CHARGEBACK"
            } else {
                "INQUIRY"
            },
            amount: money(total, &shop.info.currency),
            initiated_at: datetime(plan.initiated_at),
            evidence_due_by: Some(timestamp(plan.evidence_due_by, &shop.tz)),
            evidence_sent_on: (plan.responded_at <= now)
                .then(|| timestamp(plan.responded_at, &shop.tz)),
            finalized_on: (plan.finalized_at <= now)
                .then(|| timestamp(plan.finalized_at, &shop.tz)),
            reason_details: typed(
                "ShopifyPaymentsDisputeReasonDetails",
                ReasonWire {
                    reason: plan.reason,
                    network_reason_code: plan.network_reason_code,
                },
            ),
            order: order_ref,
        },
    ))
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutWire {
    id: String,
    name: String,
    created_at: String,
    updated_at: String,
    completed_at: Option<String>,
    abandoned_checkout_url: String,
    subtotal_price_set: Value,
    total_price_set: Value,
    customer: Option<Value>,
    billing_address: Option<Value>,
    shipping_address: Option<Value>,
    line_items: Nodes,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct CheckoutLineWire {
    id: String,
    title: String,
    sku: Option<String>,
    quantity: u16,
    original_unit_price_set: Value,
    variant: Option<Value>,
}

/// An abandoned checkout: the first line items of its order, as the cart held them.
pub(crate) fn abandoned_checkout(shop: &Shop, checkout: &Checkout) -> Value {
    let salt = shop.profile.id_salt;
    let id = ids::checkout(salt, checkout.position);
    let order = &shop.book.orders[checkout.order as usize];
    let items = &shop.book.items(order)[..checkout.items];
    let currency = shop.info.currency.as_str();
    let subtotal: i64 = items
        .iter()
        .map(|i| i.unit_price_cents as i64 * i.quantity as i64)
        .sum();
    let lines = items
        .iter()
        .enumerate()
        .map(|(k, item)| {
            let (title, sku, variant) = match item.item {
                ItemRef::Variant { product, variant } => {
                    let p = &shop.catalog.products[product as usize];
                    let v = &p.variants[variant as usize];
                    (
                        p.title.clone(),
                        Some(v.sku.clone()),
                        Some(reference("ProductVariant", v.id)),
                    )
                }
                ItemRef::Deleted(which) => {
                    let (title, sku, _) = DELETED_ITEMS[which as usize];
                    (title.to_string(), Some(sku.to_string()), None)
                }
                ItemRef::Custom(which) => (CUSTOM_ITEMS[which as usize].0.to_string(), None, None),
            };
            typed(
                "AbandonedCheckoutLineItem",
                CheckoutLineWire {
                    id: gid(
                        "AbandonedCheckoutLineItem",
                        ids::checkout_line_item(salt, checkout.position, k),
                    ),
                    title,
                    sku,
                    quantity: item.quantity,
                    original_unit_price_set: money_bag(item.unit_price_cents as i64, currency),
                    variant,
                },
            )
        })
        .collect();
    let token = format!("{:032x}", crate::rhythm::mix(id));
    typed(
        "AbandonedCheckout",
        CheckoutWire {
            id: gid("AbandonedCheckout", id),
            name: format!("#{}", id % 100_000_000),
            created_at: datetime(checkout.created_at),
            updated_at: datetime(checkout.updated_at),
            completed_at: checkout.completed_at.map(datetime),
            abandoned_checkout_url: format!(
                "https://{}/{}/checkouts/{}/recover?key={}",
                shop.info.shop_domain,
                salt,
                token,
                &token[..16]
            ),
            subtotal_price_set: money_bag(subtotal, currency),
            total_price_set: money_bag(subtotal, currency),
            customer: (order.customer != crate::customers::NO_CUSTOMER)
                .then(|| customer(shop, order.customer, checkout.updated_at)),
            billing_address: mailing_address(shop, order.customer),
            shipping_address: mailing_address(shop, order.customer),
            line_items: Nodes { nodes: lines },
        },
    )
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ShopWire {
    id: String,
    name: String,
    email: String,
    myshopify_domain: String,
    url: String,
    currency_code: String,
    iana_timezone: String,
    plan: Value,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PlanWire {
    display_name: &'static str,
    partner_development: bool,
    shopify_plus: bool,
}

pub(crate) fn shop(shop: &Shop) -> Value {
    typed(
        "Shop",
        ShopWire {
            id: gid("Shop", 70_000_000 + shop.profile.id_salt),
            name: shop.info.name.clone(),
            email: format!("ops@{}.example", shop.info.slug),
            myshopify_domain: shop.info.shop_domain.clone(),
            url: format!("https://{}", shop.info.shop_domain),
            currency_code: shop.info.currency.clone(),
            iana_timezone: shop.info.time_zone.clone(),
            plan: typed(
                "ShopPlan",
                PlanWire {
                    display_name: "Basic",
                    partner_development: false,
                    shopify_plus: false,
                },
            ),
        },
    )
}
