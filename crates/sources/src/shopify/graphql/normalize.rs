//! GraphQL records → the domain model, as pure functions.
//!
//! Orders, products and inventory levels are the records the REST path
//! already stores, and their rules (amounts in the brand's currency or
//! refused, presentment amounts converted at the order's rate, fulfilled
//! quantities from fulfillments, refunds counting only successful refund
//! transactions, bounds) have one home: [`crate::shopify::normalize`].
//! So a GraphQL record is first restated in the REST shape — ids reduced
//! to the numeric ids REST uses (`gid://shopify/Order/123` → `123`, so both
//! paths key the same record), enums to REST's spelling, money bags to
//! `*_set` — and then normalized by the REST functions.
//!
//! What REST never had maps here: returns to [`ReturnRequest`], disputes to
//! a [`PaymentEvent`] with its [`DisputeState`], customers to
//! [`CustomerSummary`], abandoned checkouts to [`AbandonedCheckout`].
//! Platform enums this version does not know are kept (`Other`), never a
//! failure.

use super::bulk::unsigned;
use super::wire::{
    legacy_id, GqlAbandonedCheckout, GqlCustomer, GqlDispute, GqlFulfillment, GqlInventoryLevel,
    GqlLineItem, GqlMoney, GqlMoneyBag, GqlOrder, GqlProduct, GqlRefund, GqlReturn,
};
use crate::shopify::normalize::{
    inventory_level_from_json, order_from_json, product_from_json, NormalizeContext, NormalizeError,
};
use opsdeck_domain::checkout::AbandonedCheckout;
use opsdeck_domain::customer::CustomerSummary;
use opsdeck_domain::dispute::{DisputeState, DisputeStatus};
use opsdeck_domain::{
    bounds, Currency, InventoryLevel, Money, Order, PaymentEvent, PaymentEventKind, Product,
    ReturnKind, ReturnRequest, ReturnStatus, ReturnStatusChange, Timestamp,
};
use serde::de::DeserializeOwned;
use serde_json::{json, Map, Value};

/// A return, with what it asks back line by line.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopifyReturn {
    pub request: ReturnRequest,
    pub lines: Vec<ReturnLine>,
}

/// One line of a return.
#[derive(Debug, Clone, PartialEq)]
pub struct ReturnLine {
    pub external_id: String,
    /// The order's line item it returns, where the query asked for it.
    pub line_item_id: Option<String>,
    pub quantity: i64,
    /// The reason's handle (`too-small`) or, on older versions, the
    /// `ReturnReason` enum in lower case.
    pub reason: Option<String>,
    pub note: Option<String>,
}

/// A Shopify Payments dispute: the payment event the operations pages
/// count, and the state the disputes queue works from.
#[derive(Debug, Clone, PartialEq)]
pub struct ShopifyDispute {
    pub event: PaymentEvent,
    pub state: DisputeState,
}

/// One record of `kind` that could not be read, naming the field.
fn error(kind: &'static str, id: &str, field: &str, reason: impl Into<String>) -> NormalizeError {
    NormalizeError {
        kind,
        id: bounds::excerpt(id),
        field: field.to_string(),
        reason: reason.into(),
    }
}

/// `raw` as `T`: the plain decoder first, and only for a record it
/// refuses the one that tracks paths, so the error names the field (as the
/// REST rules' own decoding does, for speed).
fn decode<T: DeserializeOwned>(kind: &'static str, raw: &Value) -> Result<T, NormalizeError> {
    if let Ok(decoded) = T::deserialize(raw) {
        return Ok(decoded);
    }
    let id = raw
        .get("id")
        .and_then(Value::as_str)
        .map_or("?", legacy_id)
        .to_string();
    serde_path_to_error::deserialize(raw).map_err(|e| NormalizeError {
        kind,
        id: bounds::excerpt(&id),
        field: e.path().to_string(),
        reason: bounds::clip(&e.inner().to_string()),
    })
}

/// `ENUM_VALUE` → `enum_value`: REST's spelling of the same values.
fn rest_enum(value: Option<&str>) -> Value {
    match value.map(str::trim).filter(|s| !s.is_empty()) {
        Some(v) => Value::from(v.to_ascii_lowercase()),
        None => Value::Null,
    }
}

fn money(m: &GqlMoney) -> Value {
    json!({"amount": m.amount, "currency_code": m.currency_code})
}

/// A money bag as REST's `*_set`.
fn money_set(bag: Option<&GqlMoneyBag>) -> Value {
    match bag {
        None => Value::Null,
        Some(bag) => json!({
            "shop_money": bag.shop_money.as_ref().map(money),
            "presentment_money": bag.presentment_money.as_ref().map(money),
        }),
    }
}

/// The shop-currency amount of a bag, as REST's plain amount field.
fn shop_amount(bag: Option<&GqlMoneyBag>) -> Value {
    bag.and_then(|b| b.shop_money.as_ref())
        .and_then(|m| m.amount.clone())
        .map_or(Value::Null, Value::from)
}

fn id_of(gid: Option<&str>) -> Value {
    gid.map_or(Value::Null, |g| Value::from(legacy_id(g)))
}

/// `OrderDisplayFulfillmentStatus` → REST `fulfillment_status` (where
/// `null` is unfulfilled); statuses REST never had are kept in lower case.
fn order_fulfillment_status(status: Option<&str>) -> Value {
    match status {
        None | Some("UNFULFILLED") => Value::Null,
        Some("PARTIALLY_FULFILLED") => Value::from("partial"),
        other => rest_enum(other),
    }
}

/// `FulfillmentDisplayStatus` → REST `shipment_status`. The display status
/// also says things that are not where the parcel is (fulfilled, marked
/// as fulfilled, submitted, canceled): REST leaves those `null`.
fn shipment_status(display: Option<&str>) -> Value {
    match display {
        None | Some("FULFILLED" | "MARKED_AS_FULFILLED" | "SUBMITTED" | "CANCELED") => Value::Null,
        other => rest_enum(other),
    }
}

fn line_item(line: &GqlLineItem) -> Value {
    json!({
        "id": legacy_id(&line.id),
        "product_id": id_of(line.product.as_ref().map(|p| p.id.as_str())),
        "variant_id": id_of(line.variant.as_ref().map(|v| v.id.as_str())),
        "sku": line.sku,
        "title": line.title.as_ref().or(line.name.as_ref()),
        "variant_title": line.variant_title,
        "quantity": line.quantity,
        "price": shop_amount(line.original_unit_price_set.as_ref()),
        "price_set": money_set(line.original_unit_price_set.as_ref()),
    })
}

fn fulfillment(f: &GqlFulfillment) -> Value {
    json!({
        "id": legacy_id(&f.id),
        "status": rest_enum(f.status.as_deref()),
        "shipment_status": shipment_status(f.display_status.as_deref()),
        "tracking_company": f.tracking_info.iter().find_map(|t| t.company.clone()),
        "tracking_numbers": f.tracking_info.iter().filter_map(|t| t.number.clone()).collect::<Vec<_>>(),
        "tracking_urls": f.tracking_info.iter().filter_map(|t| t.url.clone()).collect::<Vec<_>>(),
        "created_at": f.created_at,
        "updated_at": f.updated_at,
        "delivered_at": f.delivered_at,
        "estimated_delivery_at": f.estimated_delivery_at,
        "line_items": f.fulfillment_line_items.0.iter().map(|l| json!({
            "id": legacy_id(&l.line_item.id),
            "quantity": l.quantity,
        })).collect::<Vec<_>>(),
    })
}

fn refund(r: &GqlRefund) -> Value {
    json!({
        "id": legacy_id(&r.id),
        "created_at": r.created_at,
        "note": r.note,
        "refund_line_items": r.refund_line_items.0.iter().map(|l| json!({
            "line_item_id": legacy_id(&l.line_item.id),
            "quantity": l.quantity,
            "subtotal_set": money_set(l.subtotal_set.as_ref()),
            "total_tax_set": money_set(l.total_tax_set.as_ref()),
        })).collect::<Vec<_>>(),
        // REST gives a refund transaction's amount in the customer's
        // (presentment) currency; the REST rules convert it.
        "transactions": r.transactions.0.iter().map(|t| {
            let side = t.amount_set.as_ref().and_then(|b| b.presentment_money.as_ref().or(b.shop_money.as_ref()));
            json!({
                "kind": rest_enum(t.kind.as_deref()),
                "status": rest_enum(t.status.as_deref()),
                "amount": side.and_then(|m| m.amount.clone()),
                "currency": side.and_then(|m| m.currency_code.clone()),
            })
        }).collect::<Vec<_>>(),
        "order_adjustments": r.order_adjustments.0.iter().map(|a| json!({
            "amount_set": money_set(a.amount_set.as_ref()),
            "tax_amount_set": money_set(a.tax_amount_set.as_ref()),
        })).collect::<Vec<_>>(),
    })
}

/// The order number inside an order's name: `#1001` → 1001, and with a
/// shop's prefix or suffix (`EU-1001-B`) the digits between them, which is
/// what REST reports as `order_number`. A name with no digits, or digits
/// in more than one run, names no number.
fn order_number_from_name(name: &str) -> Option<i64> {
    let mut runs = name
        .split(|c: char| !c.is_ascii_digit())
        .filter(|run| !run.is_empty());
    let number = runs.next()?;
    match runs.next() {
        Some(_) => None,
        None => number.parse().ok(),
    }
}

/// A GraphQL order restated in the REST shape.
fn order_as_rest(o: &GqlOrder) -> Value {
    let mut rest = Map::new();
    let mut put = |key: &str, value: Value| {
        rest.insert(key.to_string(), value);
    };
    put("id", Value::from(legacy_id(&o.id)));
    put("name", json!(o.name));
    // REST's `order_number`; GraphQL has only the name it is shown in.
    put(
        "order_number",
        json!(o.name.as_deref().and_then(order_number_from_name)),
    );
    put("created_at", json!(o.created_at));
    put("updated_at", json!(o.updated_at));
    put("processed_at", json!(o.processed_at));
    put("cancelled_at", json!(o.cancelled_at));
    put("cancel_reason", rest_enum(o.cancel_reason.as_deref()));
    put("closed_at", json!(o.closed_at));
    // The shop's currency: `currencyCode`, else the one the shop side of
    // the total is in (a query may not ask for `currencyCode`; reading the
    // amounts as the brand's then would be wrong, not just vague).
    let currency = o.currency_code.clone().or_else(|| {
        o.total_price_set
            .as_ref()
            .and_then(|b| b.shop_money.as_ref())
            .and_then(|m| m.currency_code.clone())
    });
    put("currency", json!(currency));
    for (plain, bag) in [
        ("total_price", &o.total_price_set),
        ("subtotal_price", &o.subtotal_price_set),
        ("total_discounts", &o.total_discounts_set),
        ("total_tax", &o.total_tax_set),
    ] {
        put(plain, shop_amount(bag.as_ref()));
        put(&format!("{plain}_set"), money_set(bag.as_ref()));
    }
    put(
        "financial_status",
        rest_enum(o.display_financial_status.as_deref()),
    );
    put(
        "fulfillment_status",
        order_fulfillment_status(o.display_fulfillment_status.as_deref()),
    );
    put("tags", Value::from(o.tags.join(", ")));
    put("source_name", json!(o.source_name));
    put("test", json!(o.test));
    put("email", json!(o.email));
    put(
        "customer",
        o.customer.as_ref().map_or(Value::Null, |c| {
            json!({
                "id": legacy_id(&c.id),
                "email": c.email,
                "first_name": c.first_name,
                "last_name": c.last_name,
            })
        }),
    );
    put(
        "line_items",
        Value::from(o.line_items.0.iter().map(line_item).collect::<Vec<_>>()),
    );
    put(
        "fulfillments",
        Value::from(o.fulfillments.0.iter().map(fulfillment).collect::<Vec<_>>()),
    );
    put(
        "refunds",
        Value::from(o.refunds.0.iter().map(refund).collect::<Vec<_>>()),
    );
    Value::Object(rest)
}

/// An order node (with its line items, fulfillments and refunds).
pub fn order_from_graphql(ctx: &NormalizeContext, raw: &Value) -> Result<Order, NormalizeError> {
    let order: GqlOrder = decode("order", raw)?;
    order_from_json(ctx, &order_as_rest(&order))
}

/// The lists of an order from a bulk file that must be read again with
/// their lines (by `documents::order_refunds` and
/// `documents::order_fulfillments`), or that were.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BulkGaps {
    pub refunds: bool,
    pub fulfillments: bool,
}

impl BulkGaps {
    pub fn any(self) -> bool {
        self.refunds || self.fulfillments
    }
}

/// An order read from a bulk file: whole, or what must be followed up
/// before it can be.
#[derive(Debug, Clone, PartialEq)]
pub enum BulkOrder {
    Whole(Box<Order>),
    FollowUp(BulkGaps),
}

/// An order node from a bulk file (`documents::order_bulk_selection`),
/// whose fulfillments and refunds came without their lines (bulk
/// operations refuse a connection inside a list), `followed` naming the
/// lists that were since replaced by the full ones of the paged queries.
/// The one home of how the stored numbers stay those of the REST rules:
///
/// - A refund's amount is its `totalRefundedSet`, read by the REST rule as
///   one successful refund transaction of that amount in the shop's
///   currency (Shopify's sum of the refund's transactions, converted as
///   the order's are).
/// - Refunded units per line: `quantity − refundableQuantity` (units not
///   refundable any more). With exactly one refund they are that refund's
///   lines; with two or more the split between them is unknown: follow up.
/// - Fulfilled units per line (what the REST rule sums over fulfillments
///   that ship units): 0 for every line when no fulfillment ships units;
///   else what the order's fulfillment orders shipped of it (`totalQuantity
///   − remainingQuantity`, summed), where the order carries their lines
///   (joined in from a bulk file of fulfillment orders); else
///   `quantity − unfulfilledQuantity` for a line none of whose units
///   were refunded or removed (`currentQuantity == quantity`; Shopify
///   counts `unfulfilledQuantity` from the current quantity, so for any
///   other line it does not give the units shipped): a shipping order with
///   such a line is followed up.
///
/// A quantity missing, or out of `0..=quantity`, is followed up rather
/// than guessed.
pub fn order_from_bulk(
    ctx: &NormalizeContext,
    raw: &Value,
    followed: BulkGaps,
) -> Result<BulkOrder, NormalizeError> {
    let order: GqlOrder = decode("order", raw)?;
    let mut rest = order_as_rest(&order);
    let mut gaps = BulkGaps::default();
    if !followed.refunds {
        match refunds_from_quantities(&order) {
            Some(refunds) => rest["refunds"] = refunds,
            None => gaps.refunds = true,
        }
    }
    let mut normalized = order_from_json(ctx, &rest)?;
    if !followed.fulfillments && normalized.fulfillments.iter().any(|f| f.ships_units()) {
        let fulfilled =
            fulfilled_from_fulfillment_orders(&order).or_else(|| fulfilled_from_quantities(&order));
        match fulfilled {
            Some(fulfilled) => {
                for (line, units) in normalized.line_items.iter_mut().zip(fulfilled) {
                    line.fulfilled_quantity = Some(units);
                }
            }
            None => gaps.fulfillments = true,
        }
    }
    Ok(if gaps.any() {
        BulkOrder::FollowUp(gaps)
    } else {
        BulkOrder::Whole(Box::new(normalized))
    })
}

/// A line's units counted down from its quantity by one of its quantities
/// (`quantity − refundableQuantity`, `quantity − unfulfilledQuantity`),
/// when both are given and the difference is a count of its units.
fn units_below(quantity: Option<i64>, other: Option<i64>) -> Option<i64> {
    let quantity = quantity?;
    let units = quantity.checked_sub(other?)?;
    (0..=quantity).contains(&units).then_some(units)
}

/// The order's refunds in the REST shape, their lines from the line items'
/// quantities: `None` when they cannot be known that way.
fn refunds_from_quantities(order: &GqlOrder) -> Option<Value> {
    let refund = match order.refunds.0.as_slice() {
        [] => return Some(json!([])),
        [one] => one,
        _ => return None,
    };
    let mut lines = Vec::new();
    for line in &order.line_items.0 {
        let units = units_below(line.quantity, line.refundable_quantity)?;
        if units > 0 {
            lines.push(json!({"line_item_id": legacy_id(&line.id), "quantity": units}));
        }
    }
    let total = refund.total_refunded_set.as_ref()?.shop_money.as_ref()?;
    Some(json!([{
        "id": legacy_id(&refund.id),
        "created_at": refund.created_at,
        "note": refund.note,
        "refund_line_items": lines,
        "transactions": [{
            "kind": "refund",
            "status": "success",
            "amount": total.amount,
            "currency": total.currency_code.clone().or_else(|| order.currency_code.clone()),
        }],
    }]))
}

/// Units fulfilled per line item, in order, from the order's fulfillment
/// orders: per line, the sum over them of `totalQuantity −
/// remainingQuantity` (a line in none shipped nothing). `None` when no
/// fulfillment order has lines (a bulk file of orders names them only),
/// when one's quantities are not `0 ≤ remaining ≤ total`, when a line's
/// sum is beyond its quantity, or when they say nothing shipped (asked
/// only for an order whose fulfillments ship units): the caller then
/// tries the line items' own quantities, else follows the order up.
fn fulfilled_from_fulfillment_orders(order: &GqlOrder) -> Option<Vec<i64>> {
    let lines = || {
        order
            .fulfillment_orders
            .0
            .iter()
            .flat_map(|fo| fo.line_items.0.iter())
    };
    lines().next()?;
    let mut shipped_any = false;
    let fulfilled = order
        .line_items
        .0
        .iter()
        .map(|line| {
            let mut units: i64 = 0;
            for fo_line in lines().filter(|l| l.line_item.id == line.id) {
                let total = fo_line.total_quantity?;
                let remaining = fo_line.remaining_quantity?;
                if !(0..=total).contains(&remaining) {
                    return None;
                }
                units = units.checked_add(total - remaining)?;
            }
            shipped_any |= units > 0;
            (units <= line.quantity?).then_some(units)
        })
        .collect::<Option<Vec<_>>>()?;
    shipped_any.then_some(fulfilled)
}

/// Units fulfilled per line item, in order, from the line items'
/// quantities: `None` when a line's cannot be known that way.
fn fulfilled_from_quantities(order: &GqlOrder) -> Option<Vec<i64>> {
    order
        .line_items
        .0
        .iter()
        .map(|line| {
            (line.current_quantity? == line.quantity?)
                .then(|| units_below(line.quantity, line.unfulfilled_quantity))
                .flatten()
        })
        .collect()
}

/// A product node with its variants. Variant prices are in the shop's
/// currency, which the REST rule takes as the brand's.
pub fn product_from_graphql(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<Product, NormalizeError> {
    let p: GqlProduct = decode("product", raw)?;
    let rest = json!({
        "id": legacy_id(&p.id),
        "title": p.title,
        "handle": p.handle,
        "status": rest_enum(p.status.as_deref()),
        "published_at": p.published_at,
        "body_html": p.description_html,
        "vendor": p.vendor,
        "product_type": p.product_type,
        "tags": p.tags.join(", "),
        "created_at": p.created_at,
        "updated_at": p.updated_at,
        "images": p.featured_image.iter().filter(|i| !i.is_null()).collect::<Vec<_>>(),
        "variants": p.variants.0.iter().map(|v| json!({
            "id": legacy_id(&v.id),
            "title": v.title,
            "sku": v.sku,
            "price": v.price,
            "inventory_item_id": id_of(v.inventory_item.as_ref().map(|i| i.id.as_str())),
            "inventory_quantity": v.inventory_quantity,
            "inventory_management": v.inventory_item.as_ref().and_then(|i| i.tracked).filter(|t| *t).map(|_| "shopify"),
        })).collect::<Vec<_>>(),
    });
    let mut product = product_from_json(ctx, &rest)?;
    // The image count REST gives, where the query asked `mediaCount`.
    if let Some(count) = p
        .media_count
        .as_ref()
        .and_then(|m| m.get("count"))
        .and_then(Value::as_u64)
    {
        product.image_count = u32::try_from(count).unwrap_or(u32::MAX);
    }
    Ok(product)
}

/// An inventory level node: its `available` quantity at its location.
/// `updated_at` is the level's own, else `fallback` (a level nested under a
/// variant is often asked without it: the caller passes its product's).
pub fn inventory_level_from_graphql(
    ctx: &NormalizeContext,
    raw: &Value,
    fallback: Option<&str>,
) -> Result<InventoryLevel, NormalizeError> {
    let level: GqlInventoryLevel = decode("inventory_level", raw)?;
    let item = level
        .item_id()
        .ok_or_else(|| error("inventory_level", &level.id, "item", "missing"))?;
    let location = level
        .location
        .as_ref()
        .map(|l| legacy_id(&l.id).to_string())
        .ok_or_else(|| error("inventory_level", &level.id, "location", "missing"))?;
    let rest = json!({
        "inventory_item_id": item,
        "location_id": location,
        "available": level.quantity("available"),
        "updated_at": level.updated_at.as_deref().or(fallback),
    });
    inventory_level_from_json(ctx, &rest)
}

/// Fields of one record, so helpers name the field without repeating the
/// record's kind and id.
struct Fields<'a> {
    kind: &'static str,
    id: &'a str,
}

impl Fields<'_> {
    fn error(&self, field: &str, reason: impl Into<String>) -> NormalizeError {
        error(self.kind, self.id, field, reason)
    }

    fn time(&self, field: &str, value: Option<&str>) -> Result<Option<Timestamp>, NormalizeError> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => bounds::timestamp(text)
                .map(Some)
                .map_err(|e| self.error(field, e.to_string())),
        }
    }

    fn required_time(&self, field: &str, value: Option<&str>) -> Result<Timestamp, NormalizeError> {
        self.time(field, value)?
            .ok_or_else(|| self.error(field, "missing"))
    }

    /// A `MoneyV2` in the brand's currency. Amounts are stored in the
    /// brand's currency or not at all (the REST rule); a single amount has
    /// no rate to convert by, so one in another currency is refused.
    fn money(&self, field: &str, m: &GqlMoney, brand: Currency) -> Result<Money, NormalizeError> {
        let code = m.currency_code.as_deref().unwrap_or(brand.code());
        let currency = Currency::parse(code).map_err(|e| self.error(field, e.to_string()))?;
        if currency != brand {
            return Err(self.error(
                field,
                format!("{currency} differs from the brand's currency {brand}"),
            ));
        }
        let amount = m
            .amount
            .as_deref()
            .ok_or_else(|| self.error(field, "missing"))?;
        Money::parse(amount, brand).map_err(|e| self.error(field, e.to_string()))
    }
}

/// `ReturnStatus` → where the return request stands: REQUESTED waits for
/// the merchant, OPEN is approved and under way, CLOSED is done (every
/// item received and dealt with), DECLINED and CANCELED end it.
pub(crate) fn return_status(status: &str) -> ReturnStatus {
    match status {
        "REQUESTED" => ReturnStatus::Requested,
        "OPEN" => ReturnStatus::Approved,
        "CLOSED" => ReturnStatus::Received,
        "DECLINED" => ReturnStatus::Rejected,
        "CANCELED" => ReturnStatus::Cancelled,
        other => ReturnStatus::Other(other.to_ascii_lowercase()),
    }
}

/// A return with its lines. It has no amount: the money moves in the
/// order's refunds.
pub fn return_from_graphql(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<ShopifyReturn, NormalizeError> {
    let r: GqlReturn = decode("return", raw)?;
    let id = legacy_id(&r.id).to_string();
    let f = Fields {
        kind: "return",
        id: &id,
    };
    let requested_at = f.required_time("createdAt", r.created_at.as_deref())?;
    let resolved_at = f.time("closedAt", r.closed_at.as_deref())?;
    let lines: Vec<ReturnLine> = r
        .return_line_items
        .0
        .iter()
        .map(|l| ReturnLine {
            external_id: legacy_id(&l.id).to_string(),
            line_item_id: l
                .fulfillment_line_item
                .as_ref()
                .and_then(|f| f.line_item.as_ref())
                .map(|li| legacy_id(&li.id).to_string()),
            quantity: l.quantity.unwrap_or(0),
            reason: l
                .return_reason_definition
                .as_ref()
                .and_then(|d| d.handle.clone())
                .or_else(|| l.return_reason.as_ref().map(|r| r.to_ascii_lowercase())),
            note: l
                .return_reason_note
                .clone()
                .or_else(|| l.customer_note.clone())
                .filter(|n| !n.trim().is_empty()),
        })
        .collect();
    let reason = match &r.decline {
        Some(decline) => decline.reason.as_ref().map(|r| r.to_ascii_lowercase()),
        None => lines.iter().find_map(|l| l.reason.clone()),
    };
    let approved_at = f.time("requestApprovedAt", r.request_approved_at.as_deref())?;
    let status = return_status(&r.status);
    // The moments the return tells: requested, approved, and its end (a
    // closed, declined or canceled return's `closedAt`). The same history
    // the `returns/*` webhooks build from their trigger times.
    let mut status_history = vec![ReturnStatusChange {
        status: ReturnStatus::Requested,
        at: requested_at,
    }];
    if let Some(at) = approved_at {
        status_history.push(ReturnStatusChange {
            status: ReturnStatus::Approved,
            at,
        });
    }
    if let Some(at) = resolved_at.filter(|_| status.is_final()) {
        status_history.push(ReturnStatusChange {
            status: status.clone(),
            at,
        });
    }
    status_history.sort_by_key(|c| c.at);
    let request = ReturnRequest {
        source: ctx.source.clone(),
        external_id: id.clone(),
        brand: ctx.brand.clone(),
        order_id: r.order.as_ref().map(|o| legacy_id(&o.id).to_string()),
        kind: ReturnKind::Return,
        status,
        amount: None,
        reason,
        requested_at,
        resolved_at,
        // A return carries no update time: its latest known event.
        updated_at: status_history
            .iter()
            .map(|c| c.at)
            .chain(resolved_at)
            .max()
            .unwrap_or(requested_at),
        status_history,
    };
    Ok(ShopifyReturn { request, lines })
}

/// A dispute as a payment event (`chargeback`, or `inquiry` before the
/// bank turns it into one) with its state. Shopify's `Date`-only fields
/// (`evidenceSentOn`, `finalizedOn` in older versions) are read as midnight
/// UTC.
pub fn dispute_from_graphql(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<ShopifyDispute, NormalizeError> {
    let d: GqlDispute = decode("dispute", raw)?;
    let id = legacy_id(&d.id).to_string();
    let f = Fields {
        kind: "dispute",
        id: &id,
    };
    let time = |field: &str, value: Option<&str>| match value {
        Some(date) if date.len() == 10 => f.time(field, Some(&format!("{date}T00:00:00Z"))),
        other => f.time(field, other),
    };
    let initiated_at = f.required_time("initiatedAt", Some(&d.initiated_at))?;
    let state = DisputeState {
        status: DisputeStatus::parse(&d.status.to_ascii_lowercase()),
        evidence_due_by: time("evidenceDueBy", d.evidence_due_by.as_deref())?,
        evidence_sent_on: time("evidenceSentOn", d.evidence_sent_on.as_deref())?,
        finalized_on: time("finalizedOn", d.finalized_on.as_deref())?,
    };
    let updated_at = [state.finalized_on, state.evidence_sent_on]
        .into_iter()
        .flatten()
        .fold(initiated_at, Timestamp::max);
    let event = PaymentEvent {
        source: ctx.source.clone(),
        external_id: id.clone(),
        brand: ctx.brand.clone(),
        order_id: d.order.as_ref().map(|o| legacy_id(&o.id).to_string()),
        kind: PaymentEventKind::parse(&d.kind.to_ascii_lowercase()),
        amount: Some(f.money("amount", &d.amount, ctx.currency)?),
        reason: d
            .reason_details
            .as_ref()
            .and_then(|r| r.reason.as_ref())
            .map(|r| r.to_ascii_lowercase()),
        gateway: Some("shopify_payments".into()),
        occurred_at: initiated_at,
        updated_at,
        dispute: Some(state.clone()),
    };
    Ok(ShopifyDispute { event, state })
}

/// A customer's lifetime order count and spend.
pub fn customer_from_graphql(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<CustomerSummary, NormalizeError> {
    let c: GqlCustomer = decode("customer", raw)?;
    let id = legacy_id(&c.id).to_string();
    let f = Fields {
        kind: "customer",
        id: &id,
    };
    let created_at = f.required_time("createdAt", c.created_at.as_deref())?;
    let order_count = unsigned(c.number_of_orders.as_ref())
        .map_err(|reason| f.error("numberOfOrders", reason))?
        .unwrap_or(0);
    let lifetime_spend = match &c.amount_spent {
        Some(m) => f.money("amountSpent", m, ctx.currency)?,
        None => Money::zero(ctx.currency),
    };
    let name = [c.first_name.as_deref(), c.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    Ok(CustomerSummary {
        source: ctx.source.clone(),
        external_id: id.clone(),
        brand: ctx.brand.clone(),
        email: c.email.filter(|e| !e.trim().is_empty()),
        name: (!name.is_empty()).then_some(name),
        order_count,
        lifetime_spend,
        tags: c.tags,
        updated_at: f
            .time("updatedAt", c.updated_at.as_deref())?
            .unwrap_or(created_at),
        created_at,
    })
}

/// An abandoned checkout. Its recovery link is not kept (it is a secret
/// that resumes the buyer's checkout).
pub fn abandoned_checkout_from_graphql(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<AbandonedCheckout, NormalizeError> {
    let c: GqlAbandonedCheckout = decode("abandoned_checkout", raw)?;
    let id = legacy_id(&c.id).to_string();
    let f = Fields {
        kind: "abandoned_checkout",
        id: &id,
    };
    let created_at = f.required_time("createdAt", c.created_at.as_deref())?;
    let total = c
        .total_price_set
        .as_ref()
        .and_then(|bag| bag.shop_money.as_ref())
        .map(|m| f.money("totalPriceSet.shopMoney", m, ctx.currency))
        .transpose()?;
    let quantity = (!c.line_items.0.is_empty())
        .then(|| c.line_items.0.iter().filter_map(|l| l.quantity).sum());
    Ok(AbandonedCheckout {
        source: ctx.source.clone(),
        external_id: id.clone(),
        brand: ctx.brand.clone(),
        name: c.name.filter(|n| !n.trim().is_empty()),
        customer_id: c
            .customer
            .as_ref()
            .and_then(|c| c.id.as_deref())
            .map(|id| legacy_id(id).to_string()),
        email: c.customer.and_then(|c| c.email),
        total,
        quantity,
        updated_at: f
            .time("updatedAt", c.updated_at.as_deref())?
            .unwrap_or(created_at),
        completed_at: f.time("completedAt", c.completed_at.as_deref())?,
        created_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::{BrandId, SourceId};

    fn ctx() -> NormalizeContext {
        NormalizeContext {
            source: SourceId::parse("shopify-test").unwrap(),
            brand: BrandId::parse("test").unwrap(),
            currency: Currency::USD,
        }
    }

    fn bag(amount: &str) -> Value {
        json!({"shopMoney": {"amount": amount, "currencyCode": "USD"},
               "presentmentMoney": {"amount": amount, "currencyCode": "USD"}})
    }

    /// A line of `quantity` units as a bulk file has it, with its
    /// current, unfulfilled and refundable quantities.
    fn line(n: u32, quantity: i64, current: i64, unfulfilled: i64, refundable: i64) -> Value {
        json!({"id": format!("gid://shopify/LineItem/{n}"), "title": "Mug", "quantity": quantity,
               "currentQuantity": current, "unfulfilledQuantity": unfulfilled,
               "refundableQuantity": refundable, "originalUnitPriceSet": bag("10.00")})
    }

    fn bulk_order(lines: Vec<Value>, fulfillments: Value, refunds: Value) -> Value {
        json!({"id": "gid://shopify/Order/1", "name": "#1001", "currencyCode": "USD",
               "createdAt": "2026-03-01T10:00:00Z", "updatedAt": "2026-03-05T10:00:00Z",
               "totalPriceSet": bag("50.00"), "subtotalPriceSet": bag("50.00"),
               "totalDiscountsSet": bag("0.00"), "totalTaxSet": bag("0.00"),
               "lineItems": lines, "fulfillments": fulfillments, "refunds": refunds})
    }

    fn shipped(status: &str) -> Value {
        json!([{"id": "gid://shopify/Fulfillment/7", "status": status,
                "createdAt": "2026-03-02T10:00:00Z", "trackingInfo": []}])
    }

    fn refund(n: u32, amount: &str) -> Value {
        json!({"id": format!("gid://shopify/Refund/{n}"), "createdAt": "2026-03-04T10:00:00Z",
               "note": null, "totalRefundedSet": bag(amount)})
    }

    fn whole(raw: &Value) -> Order {
        match order_from_bulk(&ctx(), raw, BulkGaps::default()).unwrap() {
            BulkOrder::Whole(order) => *order,
            BulkOrder::FollowUp(gaps) => panic!("followed up: {gaps:?}"),
        }
    }

    fn gaps(raw: &Value) -> BulkGaps {
        match order_from_bulk(&ctx(), raw, BulkGaps::default()).unwrap() {
            BulkOrder::Whole(_) => BulkGaps::default(),
            BulkOrder::FollowUp(gaps) => gaps,
        }
    }

    #[test]
    fn a_bulk_orders_fulfilled_units_come_from_its_quantities() {
        // Line 1 shipped (2 of 2), line 2 not yet (0 of 3).
        let order = whole(&bulk_order(
            vec![line(1, 2, 2, 0, 2), line(2, 3, 3, 3, 3)],
            shipped("SUCCESS"),
            json!([]),
        ));
        let fulfilled: Vec<_> = order
            .line_items
            .iter()
            .map(|l| l.fulfilled_quantity)
            .collect();
        assert_eq!(fulfilled, [Some(2), Some(0)]);
        assert!(order.refunds.is_empty());
        // A cancelled fulfillment ships nothing, whatever the quantities.
        let order = whole(&bulk_order(
            vec![line(1, 2, 0, 0, 2)],
            shipped("CANCELLED"),
            json!([]),
        ));
        assert_eq!(order.line_items[0].fulfilled_quantity, Some(0));
    }

    #[test]
    fn one_refunds_lines_and_amount_come_from_the_quantities_and_its_total() {
        // One unit of line 2 refunded, before anything shipped.
        let order = whole(&bulk_order(
            vec![line(1, 2, 2, 2, 2), line(2, 3, 2, 2, 2)],
            json!([]),
            json!([refund(9, "10.80")]),
        ));
        let refund = &order.refunds[0];
        assert_eq!(refund.external_id, "9");
        assert_eq!(refund.amount, Money::new(1_080, Currency::USD));
        let lines: Vec<_> = refund
            .line_items
            .iter()
            .map(|l| (l.line_item_id.as_str(), l.quantity))
            .collect();
        assert_eq!(lines, [("2", 1)]);
    }

    #[test]
    fn what_the_quantities_cannot_say_is_followed_up() {
        // Two refunds: the split of the refunded units is unknown.
        let two = bulk_order(
            vec![line(1, 2, 0, 0, 0)],
            json!([]),
            json!([refund(8, "10.00"), refund(9, "10.00")]),
        );
        assert_eq!(
            gaps(&two),
            BulkGaps {
                refunds: true,
                fulfillments: false
            }
        );
        // A refunded line that had shipped: its fulfilled units are unknown.
        let refunded_after_shipping = bulk_order(
            vec![line(1, 2, 1, -1, 1)],
            shipped("SUCCESS"),
            json!([refund(9, "10.00")]),
        );
        assert_eq!(
            gaps(&refunded_after_shipping),
            BulkGaps {
                refunds: false,
                fulfillments: true
            }
        );
        // A quantity out of its line's bounds is not guessed at.
        let hostile = bulk_order(vec![line(1, 2, 2, 5, 2)], shipped("SUCCESS"), json!([]));
        assert!(gaps(&hostile).fulfillments);
        // Once followed up, the full lists' lines are read as REST's are.
        let mut followed = refunded_after_shipping.clone();
        followed["fulfillments"][0]["fulfillmentLineItems"] = json!({"nodes": [
            {"quantity": 2, "lineItem": {"id": "gid://shopify/LineItem/1"}}]});
        let order = match order_from_bulk(
            &ctx(),
            &followed,
            BulkGaps {
                refunds: false,
                fulfillments: true,
            },
        )
        .unwrap()
        {
            BulkOrder::Whole(order) => order,
            BulkOrder::FollowUp(gaps) => panic!("{gaps:?}"),
        };
        assert_eq!(order.line_items[0].fulfilled_quantity, Some(2));
        assert_eq!(order.refunds[0].line_items[0].quantity, 1);
    }

    #[test]
    fn fulfillment_orders_lines_give_the_units_shipped_where_quantities_cannot() {
        // Line 1: 2 shipped, then 1 refunded (its quantities cannot say).
        let mut raw = bulk_order(
            vec![line(1, 2, 1, -1, 1), line(2, 3, 3, 3, 3)],
            shipped("SUCCESS"),
            json!([refund(9, "10.00")]),
        );
        assert!(gaps(&raw).fulfillments);
        let fo_line = |n: u32, total: i64, remaining: i64| {
            json!({"id": format!("gid://shopify/FulfillmentOrderLineItem/{n}"),
                   "totalQuantity": total, "remainingQuantity": remaining,
                   "lineItem": {"id": format!("gid://shopify/LineItem/{n}")}})
        };
        raw["fulfillmentOrders"] = json!([{"id": "gid://shopify/FulfillmentOrder/5",
            "lineItems": [fo_line(1, 2, 0), fo_line(2, 3, 3)]}]);
        let order = whole(&raw);
        let fulfilled: Vec<_> = order
            .line_items
            .iter()
            .map(|l| l.fulfilled_quantity)
            .collect();
        assert_eq!(fulfilled, [Some(2), Some(0)]);
        // Ids only (the orders' own file), or lines that do not add up:
        // not guessed.
        raw["fulfillmentOrders"] = json!([{"id": "gid://shopify/FulfillmentOrder/5"}]);
        assert!(gaps(&raw).fulfillments);
        raw["fulfillmentOrders"] = json!([{"id": "gid://shopify/FulfillmentOrder/5",
            "lineItems": [fo_line(1, 2, 3)]}]);
        assert!(gaps(&raw).fulfillments);
        raw["fulfillmentOrders"] = json!([{"id": "gid://shopify/FulfillmentOrder/5",
            "lineItems": [fo_line(1, 9, 0)]}]);
        assert!(gaps(&raw).fulfillments);
    }

    #[test]
    fn statuses_take_rests_spelling_and_unknown_ones_are_kept() {
        assert_eq!(order_fulfillment_status(Some("UNFULFILLED")), Value::Null);
        assert_eq!(
            order_fulfillment_status(Some("PARTIALLY_FULFILLED")),
            "partial"
        );
        assert_eq!(order_fulfillment_status(Some("ON_HOLD")), "on_hold");
        assert_eq!(shipment_status(Some("IN_TRANSIT")), "in_transit");
        assert_eq!(shipment_status(Some("FULFILLED")), Value::Null);
        assert_eq!(return_status("OPEN"), ReturnStatus::Approved);
        assert_eq!(
            return_status("IN_TRANSIT"),
            ReturnStatus::Other("in_transit".into())
        );
    }

    #[test]
    fn the_order_number_is_read_from_the_name_as_rest_reports_it() {
        assert_eq!(order_number_from_name("#1001"), Some(1001));
        assert_eq!(order_number_from_name("EU-1042-B"), Some(1042));
        assert_eq!(order_number_from_name("#"), None);
        assert_eq!(order_number_from_name("#12-34"), None);
    }
}
