//! `order` payloads, with line items, fulfillments, refunds and the embedded customer.

use serde::Serialize;
use serde_json::Value;

use super::{gid, money, money_set, MoneySet};
use crate::customers::NO_CUSTOMER;
use crate::ids;
use crate::lifecycle::{order_state, refund_amounts, shipment_state};
use crate::orders::{ItemRef, CANCEL_REASONS, CARRIERS, DISCOUNT_CODES, NO_TRACKING, SOURCES};
use crate::world::Shop;

use super::order_parts::{
    Address, ClientDetails, Ctx, DiscountCode, FulfillmentWire, LineItemWire, NameValue,
    RefundLineItemWire, RefundWire, ShippingLine, TaxLine, TransactionWire,
};

#[derive(Serialize)]
struct OrderWire {
    id: u64,
    admin_graphql_api_id: String,
    app_id: Option<u64>,
    browser_ip: Option<&'static str>,
    buyer_accepts_marketing: bool,
    cancel_reason: Option<&'static str>,
    cancelled_at: Option<String>,
    cart_token: Option<String>,
    checkout_id: Option<u64>,
    checkout_token: Option<String>,
    client_details: ClientDetails,
    closed_at: Option<String>,
    confirmed: bool,
    contact_email: Option<String>,
    created_at: String,
    currency: String,
    current_subtotal_price: String,
    current_total_discounts: String,
    current_total_price: String,
    current_total_tax: String,
    customer_locale: Option<&'static str>,
    discount_codes: Vec<DiscountCode>,
    email: String,
    estimated_taxes: bool,
    financial_status: &'static str,
    fulfillment_status: Option<&'static str>,
    gateway: &'static str,
    landing_site: Option<&'static str>,
    landing_site_ref: Option<&'static str>,
    location_id: Option<u64>,
    name: String,
    note: Option<&'static str>,
    note_attributes: Vec<NameValue>,
    number: u32,
    order_number: u32,
    order_status_url: String,
    payment_gateway_names: Vec<&'static str>,
    phone: Option<String>,
    presentment_currency: String,
    processed_at: String,
    processing_method: &'static str,
    reference: Option<String>,
    referring_site: Option<&'static str>,
    source_identifier: Option<String>,
    source_name: &'static str,
    source_url: Option<String>,
    subtotal_price: String,
    subtotal_price_set: MoneySet,
    tags: String,
    tax_lines: Vec<TaxLine>,
    taxes_included: bool,
    test: bool,
    token: String,
    total_discounts: String,
    total_discounts_set: MoneySet,
    total_line_items_price: String,
    total_line_items_price_set: MoneySet,
    total_outstanding: String,
    total_price: String,
    total_price_set: MoneySet,
    total_tax: String,
    total_tax_set: MoneySet,
    total_tip_received: String,
    total_weight: u32,
    updated_at: String,
    user_id: Option<u64>,
    billing_address: Option<Address>,
    customer: Option<Value>,
    fulfillments: Vec<FulfillmentWire>,
    line_items: Vec<LineItemWire>,
    refunds: Vec<RefundWire>,
    shipping_address: Option<Address>,
    shipping_lines: Vec<ShippingLine>,
}

/// The order at index `index` of `shop`, as `GET orders/{id}.json` serves it at `now`.
pub(crate) fn order_json(shop: &Shop, index: u32, now: i64) -> Value {
    let book = &shop.book;
    let order = &book.orders[index as usize];
    let ctx = Ctx {
        shop,
        index,
        order,
        items: book.items(order),
    };
    let state = order_state(book, order, now);
    let salt = shop.profile.id_salt;
    let id = ids::order(salt, index);
    let currency = shop.info.currency.clone();
    let number = index + 1;
    let location_id = shop.catalog.locations[0].id;

    let mut fulfillments = Vec::new();
    for (position, shipment) in book.shipments(order).iter().enumerate() {
        let Some(shipped) = shipment_state(order.created_at, shipment, now) else {
            continue;
        };
        let fid = ids::fulfillment(salt, index, position);
        let line_items = (0..ctx.items.len())
            .filter(|i| shipment.items & (1 << i) != 0)
            .map(|i| ctx.line_item(i, ctx.items[i].quantity, Some("fulfilled"), 0))
            .collect();
        let (company, tracking, url) = if shipment.carrier == NO_TRACKING {
            (None, None, None)
        } else {
            let (company, prefix, stem) = CARRIERS[shipment.carrier as usize];
            let number = format!("{stem}{:012}", crate::rhythm::mix(fid) % 1_000_000_000_000);
            (
                Some(company),
                Some(number.clone()),
                Some(format!("{prefix}{number}")),
            )
        };
        fulfillments.push(FulfillmentWire {
            id: fid,
            admin_graphql_api_id: gid("Fulfillment", fid),
            created_at: ctx.ts(shipped.created_at),
            location_id,
            name: format!("#{}.{}", 1000 + number, position + 1),
            order_id: id,
            receipt: serde_json::Map::new(),
            service: "manual",
            shipment_status: shipped.shipment_status,
            status: "success",
            tracking_company: company,
            tracking_numbers: tracking.iter().cloned().collect(),
            tracking_number: tracking,
            tracking_urls: url.iter().cloned().collect(),
            tracking_url: url,
            updated_at: ctx.ts(shipped.updated_at),
            line_items,
        });
    }

    let mut refunds = Vec::new();
    let gateway = if order.test {
        "bogus"
    } else {
        "shopify_payments"
    };
    let refund = |at: i64, lines: Vec<(usize, u16, i64, i64)>, amount: i64, restock: bool| {
        let rid = ids::refund(salt, index);
        let tid = ids::transaction(salt, index, 1);
        RefundWire {
            id: rid,
            admin_graphql_api_id: gid("Refund", rid),
            created_at: ctx.ts(at),
            note: if restock {
                Some("Order cancelled")
            } else {
                Some("Damaged in transit")
            },
            order_id: id,
            processed_at: ctx.ts(at),
            restock,
            user_id: None,
            order_adjustments: Vec::new(),
            refund_line_items: lines
                .into_iter()
                .enumerate()
                .map(
                    |(k, (position, quantity, subtotal, tax))| RefundLineItemWire {
                        id: ids::refund_line_item(salt, index, k),
                        line_item_id: ids::line_item(salt, index, position),
                        location_id: restock.then_some(location_id),
                        quantity,
                        restock_type: if restock { "cancel" } else { "no_restock" },
                        subtotal: money(subtotal),
                        subtotal_set: money_set(subtotal, &currency),
                        total_tax: money(tax),
                        total_tax_set: money_set(tax, &currency),
                        line_item: ctx.line_item(position, ctx.items[position].quantity, None, 0),
                    },
                )
                .collect(),
            transactions: vec![TransactionWire {
                id: tid,
                admin_graphql_api_id: gid("OrderTransaction", tid),
                amount: money(amount),
                authorization: None,
                created_at: ctx.ts(at),
                currency: currency.clone(),
                gateway,
                kind: "refund",
                message: Some("Transaction approved"),
                order_id: id,
                parent_id: Some(ids::transaction(salt, index, 0)),
                processed_at: ctx.ts(at),
                status: "success",
                test: order.test,
            }],
            duties: Vec::new(),
        }
    };
    let line_total = order.line_total_cents(ctx.items);
    if let (Some(at), "refunded") = (state.cancelled_at, state.financial_status) {
        let lines = (0..ctx.items.len())
            .map(|i| {
                let gross = ctx.items[i].unit_price_cents as i64 * ctx.items[i].quantity as i64;
                let subtotal = gross - gross * order.discount_cents as i64 / line_total.max(1);
                (
                    i,
                    ctx.items[i].quantity,
                    subtotal,
                    (subtotal * order.tax_rate_bp as i64 + 5_000) / 10_000,
                )
            })
            .collect();
        refunds.push(refund(at, lines, state.total_cents, true));
    } else if let Some(at) = state.refunded_at {
        let (subtotal, tax) = refund_amounts(order, ctx.items);
        let lines = vec![(
            order.refund_item as usize,
            order.refund_quantity,
            subtotal,
            tax,
        )];
        refunds.push(refund(at, lines, state.refunded_cents, false));
    }

    let line_items = (0..ctx.items.len())
        .map(|i| {
            let done = state.fulfilled & (1 << i) != 0;
            let quantity = ctx.items[i].quantity;
            let open = if done || state.cancelled_at.is_some() {
                0
            } else {
                quantity
            };
            ctx.line_item(i, quantity, done.then_some("fulfilled"), open)
        })
        .collect();

    let customer = shop.book.customers.get(order.customer as usize);
    let email = customer
        .map(|c| c.email(order.customer))
        .unwrap_or_default();
    let subtotal = line_total - order.discount_cents as i64;
    let refunded = if state.cancelled_at.is_some() {
        state.total_cents
    } else {
        state.refunded_cents
    };
    let (refunded_subtotal, refunded_tax) = match (state.cancelled_at, state.refunded_at) {
        (Some(_), _) => (subtotal, order.tax_cents as i64),
        (None, Some(_)) => refund_amounts(order, ctx.items),
        _ => (0, 0),
    };
    let outstanding = match state.financial_status {
        "pending" | "authorized" => state.total_cents,
        _ => 0,
    };
    let discount = DISCOUNT_CODES[order.discount_code as usize];
    // REST joins the tags GraphQL lists, in the same order.
    let tags = crate::orders::order_tags(order.kind).join(", ");
    let token = format!("{:032x}", crate::rhythm::mix(id) as u128 * 0x1_0000_0001);
    let weight: u32 = ctx
        .items
        .iter()
        .map(|i| match i.item {
            ItemRef::Variant { product, variant } => {
                shop.catalog.variant(product, variant).grams * i.quantity as u32
            }
            _ => 0,
        })
        .sum();
    let wire = OrderWire {
        id,
        admin_graphql_api_id: gid("Order", id),
        app_id: Some(if order.source == 4 { 294_517 } else { 580_111 }),
        browser_ip: Some("203.0.113.24"),
        buyer_accepts_marketing: customer.is_some_and(|c| c.accepts_marketing),
        cancel_reason: state
            .cancelled_at
            .map(|_| CANCEL_REASONS[order.cancel_reason as usize]),
        cancelled_at: state.cancelled_at.map(|t| ctx.ts(t)),
        cart_token: (order.source == 0).then(|| token[..24].to_string()),
        checkout_id: Some(id / 3),
        checkout_token: (order.source == 0).then(|| token[8..].to_string()),
        client_details: ClientDetails {
            accept_language: Some("en-US"),
            browser_height: None,
            browser_ip: Some("203.0.113.24"),
            browser_width: None,
            session_hash: None,
            user_agent: Some("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)"),
        },
        closed_at: state.closed_at.map(|t| ctx.ts(t)),
        confirmed: true,
        contact_email: customer.map(|c| c.email(order.customer)),
        created_at: ctx.ts(order.created_at),
        currency: currency.clone(),
        current_subtotal_price: money(subtotal - refunded_subtotal),
        current_total_discounts: money(order.discount_cents as i64),
        current_total_price: money(state.total_cents - refunded),
        current_total_tax: money(order.tax_cents as i64 - refunded_tax),
        customer_locale: Some("en"),
        discount_codes: if order.discount_code == 0 {
            Vec::new()
        } else {
            vec![DiscountCode {
                code: discount.0,
                amount: money(order.discount_cents as i64),
                kind: "percentage",
            }]
        },
        email,
        estimated_taxes: false,
        financial_status: state.financial_status,
        fulfillment_status: state.fulfillment_status,
        gateway,
        landing_site: (order.source == 0).then_some("/products"),
        landing_site_ref: None,
        location_id: (order.source == 3).then_some(location_id),
        name: format!("#{}", 1000 + number),
        note: None,
        note_attributes: Vec::new(),
        number,
        order_number: 1000 + number,
        order_status_url: format!(
            "https://{}/{}/orders/{}/authenticate",
            shop.info.shop_domain, salt, token
        ),
        payment_gateway_names: vec![gateway],
        phone: None,
        presentment_currency: currency.clone(),
        processed_at: ctx.ts(order.created_at),
        processing_method: "direct",
        reference: None,
        referring_site: (order.source == 0).then_some("https://www.google.com/"),
        source_identifier: None,
        source_name: SOURCES[order.source as usize],
        source_url: None,
        subtotal_price: money(subtotal),
        subtotal_price_set: money_set(subtotal, &currency),
        tags,
        tax_lines: if order.tax_cents == 0 {
            Vec::new()
        } else {
            vec![TaxLine {
                price: money(order.tax_cents as i64),
                rate: order.tax_rate_bp as f64 / 10_000.0,
                title: "State Tax",
                price_set: money_set(order.tax_cents as i64, &currency),
            }]
        },
        taxes_included: false,
        test: order.test,
        token,
        total_discounts: money(order.discount_cents as i64),
        total_discounts_set: money_set(order.discount_cents as i64, &currency),
        total_line_items_price: money(line_total),
        total_line_items_price_set: money_set(line_total, &currency),
        total_outstanding: money(outstanding),
        total_price: money(state.total_cents),
        total_price_set: money_set(state.total_cents, &currency),
        total_tax: money(order.tax_cents as i64),
        total_tax_set: money_set(order.tax_cents as i64, &currency),
        total_tip_received: "0.00".into(),
        total_weight: weight,
        updated_at: ctx.ts(crate::aftersale::order_updated_at(
            book,
            shop.seed,
            salt,
            index,
            state.updated_at,
            now,
        )),
        user_id: None,
        billing_address: ctx.address(),
        customer: (order.customer != NO_CUSTOMER)
            .then(|| super::customer::embedded_customer_json(shop, order.customer)),
        fulfillments,
        line_items,
        refunds,
        shipping_address: ctx.address(),
        shipping_lines: vec![ShippingLine {
            id: id / 7,
            code: if order.shipping_cents == 0 {
                "Free Shipping"
            } else {
                "Standard"
            },
            price: money(order.shipping_cents as i64),
            source: "shopify",
            title: if order.shipping_cents == 0 {
                "Free Shipping"
            } else {
                "Standard Shipping"
            },
            price_set: money_set(order.shipping_cents as i64, &currency),
        }],
    };
    serde_json::to_value(wire).unwrap_or(Value::Null)
}
