//! Shopify payloads → the domain model, as pure functions.
//!
//! Each function takes one record as raw JSON and returns either a whole
//! domain record or a [`NormalizeError`] naming the record and the field that
//! was wrong. Decoding starts from raw JSON (not from an already typed page)
//! so that one odd record is rejected alone, with its id, instead of failing
//! the page it came in; and nothing is ever stored half-normalized.

use super::wire::{
    WireFulfillment, WireId, WireInventoryLevel, WireLineItem, WireMoney, WireMoneySet, WireOrder,
    WireProduct, WireRefund, WireVariant,
};
use opsdeck_domain::bounds::{self, Bounded};
use opsdeck_domain::{
    BrandId, Currency, CustomerRef, FinancialStatus, Fulfillment, FulfillmentState, InventoryLevel,
    LineItem, Money, Order, OrderFulfillmentStatus, Product, ProductStatus, Refund, RefundLineItem,
    ShipmentStatus, SourceId, Timestamp, Variant,
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::HashMap;

/// Where records come from and what to assume when a payload is silent.
#[derive(Debug, Clone)]
pub struct NormalizeContext {
    pub source: SourceId,
    pub brand: BrandId,
    /// The brand's currency: every stored amount is in it. Used when an
    /// order carries no `currency`; an order in another currency is
    /// converted by its `*_set` amounts or refused (see [`BrandMoney`]).
    pub currency: Currency,
}

/// One record that could not be mapped. Carries enough to find it in
/// Shopify admin (kind and id) and to see what was wrong (field and reason);
/// never any request detail, so it is safe to log and store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("shopify {kind} {id}: field `{field}`: {reason}")]
pub struct NormalizeError {
    /// `order`, `product` or `inventory_level`.
    pub kind: &'static str,
    /// The platform id, or `?` when the record has none.
    pub id: String,
    /// Dotted path of the offending field, e.g. `line_items[2].price`.
    pub field: String,
    pub reason: String,
}

/// Collects errors for one record, so every helper can name the field
/// without repeating the record's kind and id.
struct Fields<'a> {
    kind: &'static str,
    id: &'a str,
}

impl Fields<'_> {
    fn error(&self, field: impl Into<String>, reason: impl Into<String>) -> NormalizeError {
        NormalizeError {
            kind: self.kind,
            id: bounds::excerpt(self.id),
            field: field.into(),
            reason: reason.into(),
        }
    }

    fn money(
        &self,
        field: &str,
        value: Option<&str>,
        currency: Currency,
    ) -> Result<Money, NormalizeError> {
        match value {
            None => Ok(Money::zero(currency)),
            Some(text) => {
                Money::parse(text, currency).map_err(|e| self.error(field, e.to_string()))
            }
        }
    }

    fn required_money(
        &self,
        field: &str,
        value: Option<&str>,
        currency: Currency,
    ) -> Result<Money, NormalizeError> {
        match value {
            None => Err(self.error(field, "missing")),
            Some(_) => self.money(field, value, currency),
        }
    }

    fn time(&self, field: &str, value: Option<&str>) -> Result<Option<Timestamp>, NormalizeError> {
        match value.map(str::trim) {
            None | Some("") => Ok(None),
            Some(text) => bounds::timestamp(text)
                .map(Some)
                .map_err(|e| self.error(field, e.to_string())),
        }
    }

    /// An order's amounts are never below zero (refunds are their own
    /// records): a negative total is refused, not summed.
    fn not_negative(&self, field: &str, money: Money) -> Result<Money, NormalizeError> {
        if money.minor < 0 {
            return Err(self.error(field, format!("must not be negative, got {money}")));
        }
        Ok(money)
    }

    /// The record's first field outside its bound (`opsdeck_domain::bounds`).
    fn within_bounds<T: Bounded>(&self, record: T) -> Result<T, NormalizeError> {
        match record.check().into_iter().next() {
            None => Ok(record),
            Some(outside) => Err(self.error(outside.field, outside.error.to_string())),
        }
    }

    fn required_time(&self, field: &str, value: Option<&str>) -> Result<Timestamp, NormalizeError> {
        self.time(field, value)?
            .ok_or_else(|| self.error(field, "missing"))
    }
}

/// Decodes one record into its wire struct, naming the failing field.
///
/// The plain decoder runs first, as it succeeds for nearly every record;
/// only a record it refuses is decoded again with each field's path
/// tracked, so the error names the field (tracking the path of every
/// field of every record was an eighth of a bulk backfill's CPU).
fn decode<T: DeserializeOwned>(
    kind: &'static str,
    id: &str,
    raw: &Value,
) -> Result<T, NormalizeError> {
    if let Ok(decoded) = T::deserialize(raw) {
        return Ok(decoded);
    }
    serde_path_to_error::deserialize(raw).map_err(|e| NormalizeError {
        kind,
        id: id.to_string(),
        field: e.path().to_string(),
        reason: bounds::clip(&e.inner().to_string()),
    })
}

/// The record's `id` as text, for error messages, before it is decoded.
fn raw_id(raw: &Value, key: &str) -> String {
    match raw.get(key) {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => bounds::excerpt(s),
        _ => "?".to_string(),
    }
}

/// Blank strings are absent values (Shopify sends `"sku": ""`).
fn non_blank(value: Option<String>) -> Option<String> {
    value.filter(|s| !s.trim().is_empty())
}

fn id_text(id: Option<WireId>) -> Option<String> {
    id.map(|id| id.to_string())
}

fn tags(value: Option<&str>) -> Vec<String> {
    value.map(Order::split_tags).unwrap_or_default()
}

pub fn order_from_json(ctx: &NormalizeContext, raw: &Value) -> Result<Order, NormalizeError> {
    let id = raw_id(raw, "id");
    let wire: WireOrder = decode("order", &id, raw)?;
    order_from_wire(ctx, wire)
}

/// [`order_from_json`] straight from a body's text: decodes the wire
/// struct without building a `serde_json::Value` tree first (building,
/// walking and dropping the tree was most of the webhook worker's CPU per
/// order). `None` when the text does not decode as an order; the caller
/// then goes through [`order_from_json`], whose errors name the field.
pub fn order_from_text(
    ctx: &NormalizeContext,
    text: &str,
) -> Option<Result<Order, NormalizeError>> {
    let mut de = serde_json::Deserializer::from_str(text);
    let wire = <WireOrder as serde::Deserialize>::deserialize(&mut de).ok()?;
    de.end().ok()?;
    Some(order_from_wire(ctx, wire))
}

fn order_from_wire(ctx: &NormalizeContext, w: WireOrder) -> Result<Order, NormalizeError> {
    let id = w.id.to_string();
    let f = Fields {
        kind: "order",
        id: &id,
    };
    let order_currency = match w.currency.as_deref().map(str::trim) {
        None | Some("") => ctx.currency,
        Some(code) => Currency::parse(code).map_err(|e| f.error("currency", e.to_string()))?,
    };
    let money =
        BrandMoney::for_order(&f, order_currency, ctx.currency, w.total_price_set.as_ref())?;
    let currency = ctx.currency;
    let created_at = f.required_time("created_at", w.created_at.as_deref())?;
    // An order that was never updated reports updated_at = created_at; an
    // absent one means the same.
    let updated_at = f
        .time("updated_at", w.updated_at.as_deref())?
        .unwrap_or(created_at);

    let fulfilled_by_line = fulfilled_quantities(&w.fulfillments);
    let line_items = w
        .line_items
        .into_iter()
        .enumerate()
        .map(|(i, line)| line_item(&f, i, line, &money, &fulfilled_by_line))
        .collect::<Result<Vec<_>, _>>()?;
    let fulfillments = w
        .fulfillments
        .into_iter()
        .enumerate()
        .map(|(i, ful)| fulfillment(&f, i, ful))
        .collect::<Result<Vec<_>, _>>()?;
    // Refund transactions in another currency than the brand's convert at
    // the order's rate into the brand's: the presentment rate, or, for an
    // order in another currency than its brand's, that order's rate.
    let rate = match money.rate {
        Some(_) => None,
        None => presentment_rate(w.total_price_set.as_ref(), currency),
    };
    let refund_rate = money.rate.as_ref().or(rate.as_ref());
    let refunds = w
        .refunds
        .into_iter()
        .enumerate()
        .map(|(i, r)| refund(&f, i, r, currency, refund_rate))
        .collect::<Result<Vec<_>, _>>()?;

    let customer = w.customer.map(|c| {
        let name = [c.first_name.as_deref(), c.last_name.as_deref()]
            .into_iter()
            .flatten()
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        CustomerRef {
            external_id: c.id.to_string(),
            email: non_blank(c.email),
            name: (!name.is_empty()).then_some(name),
        }
    });

    let amount = |field: &str, text: Option<String>, set: Option<WireMoneySet>| {
        let m = money
            .amount(&f, field, text.as_deref(), set.as_ref())?
            .unwrap_or(Money::zero(currency));
        f.not_negative(field, m)
    };
    let total_price = match w.total_price.as_deref() {
        None => return Err(f.error("total_price", "missing")),
        Some(_) => amount("total_price", w.total_price, w.total_price_set)?,
    };
    let order = Order {
        source: ctx.source.clone(),
        brand: ctx.brand.clone(),
        name: non_blank(w.name).unwrap_or_else(|| format!("#{id}")),
        number: w.order_number.or(w.number),
        created_at,
        updated_at,
        processed_at: f.time("processed_at", w.processed_at.as_deref())?,
        cancelled_at: f.time("cancelled_at", w.cancelled_at.as_deref())?,
        cancel_reason: non_blank(w.cancel_reason),
        closed_at: f.time("closed_at", w.closed_at.as_deref())?,
        currency,
        total_price,
        subtotal_price: amount("subtotal_price", w.subtotal_price, w.subtotal_price_set)?,
        total_discounts: amount("total_discounts", w.total_discounts, w.total_discounts_set)?,
        total_tax: amount("total_tax", w.total_tax, w.total_tax_set)?,
        financial_status: FinancialStatus::parse(
            w.financial_status.as_deref().unwrap_or("pending"),
        ),
        // Shopify reports an unfulfilled order as `null`.
        fulfillment_status: match w.fulfillment_status.as_deref() {
            None | Some("") => OrderFulfillmentStatus::Unfulfilled,
            Some(s) => OrderFulfillmentStatus::parse(s),
        },
        tags: tags(w.tags.as_deref()),
        source_name: non_blank(w.source_name),
        test: w.test.unwrap_or(false),
        email: non_blank(w.email),
        customer,
        line_items,
        fulfillments,
        refunds,
        external_id: id.clone(),
    };
    f.within_bounds(order)
}

/// How an order's amounts become its brand's currency, the only currency
/// opsdeck stores and sums for the brand.
///
/// An order in the brand's currency is read as it is. An order in another
/// currency (a shop whose currency differs from the brand's configured
/// one, or a presentment-currency payload) is converted as Shopify's
/// `*_set` fields allow: each amount's side in the brand's currency
/// (`shop_money` first, then `presentment_money`), and an amount without
/// such a side at the rate of the order's `total_price_set`. When the
/// order's `total_price_set` has no side in the brand's currency, the
/// order is refused naming its currency and the brand's: a record is
/// stored in the brand's currency or not at all, so no panel meets an
/// amount it cannot sum.
struct BrandMoney {
    order: Currency,
    brand: Currency,
    /// Order currency → brand currency, for an order in another currency
    /// with a non-zero total.
    rate: Option<PresentmentRate>,
    converting: bool,
}

impl BrandMoney {
    fn for_order(
        f: &Fields<'_>,
        order: Currency,
        brand: Currency,
        total_set: Option<&WireMoneySet>,
    ) -> Result<Self, NormalizeError> {
        if order == brand {
            return Ok(BrandMoney {
                order,
                brand,
                rate: None,
                converting: false,
            });
        }
        if total_set.and_then(|set| side_in(set, brand)).is_none() {
            return Err(f.error(
                "currency",
                format!(
                    "{order} differs from the brand's currency {brand}, and total_price_set gives no amount in {brand}"
                ),
            ));
        }
        Ok(BrandMoney {
            order,
            brand,
            rate: total_set.and_then(|set| rate_between(set, order, brand)),
            converting: true,
        })
    }

    /// The amount `field` (its text in the order's currency and its `*_set`)
    /// in the brand's currency; `None` when the payload has neither.
    fn amount(
        &self,
        f: &Fields<'_>,
        field: &str,
        text: Option<&str>,
        set: Option<&WireMoneySet>,
    ) -> Result<Option<Money>, NormalizeError> {
        if !self.converting {
            return text
                .map(|t| Money::parse(t, self.brand).map_err(|e| f.error(field, e.to_string())))
                .transpose();
        }
        if let Some(side) = set.and_then(|s| side_in(s, self.brand)) {
            let text = side.amount.as_deref().unwrap_or_default();
            return Money::parse(text, self.brand)
                .map(Some)
                .map_err(|e| f.error(format!("{field}_set"), e.to_string()));
        }
        let Some(text) = text else {
            return Ok(None);
        };
        let original = Money::parse(text, self.order).map_err(|e| f.error(field, e.to_string()))?;
        let minor = self
            .rate
            .as_ref()
            .and_then(|r| r.to_shop(original))
            .ok_or_else(|| {
                f.error(
                    field,
                    format!(
                        "is in {}, and the order gives no rate to the brand's {}",
                        self.order, self.brand
                    ),
                )
            })?;
        Ok(Some(Money::new(minor, self.brand)))
    }
}

/// The side of `set` in `currency`, shop money first.
fn side_in(set: &WireMoneySet, currency: Currency) -> Option<&WireMoney> {
    [set.shop_money.as_ref(), set.presentment_money.as_ref()]
        .into_iter()
        .flatten()
        .find(|m| {
            m.currency_code
                .as_deref()
                .and_then(|c| Currency::parse(c).ok())
                == Some(currency)
        })
}

/// The rate from `from` to `to` that `set` gives, when both sides are there
/// and the `from` side is not zero.
fn rate_between(set: &WireMoneySet, from: Currency, to: Currency) -> Option<PresentmentRate> {
    let from_minor = Money::parse(side_in(set, from)?.amount.as_deref()?, from)
        .ok()?
        .minor;
    let to_minor = Money::parse(side_in(set, to)?.amount.as_deref()?, to)
        .ok()?
        .minor;
    (from_minor != 0).then_some(PresentmentRate {
        currency: from,
        shop_minor: to_minor,
        presentment_minor: from_minor,
    })
}

/// Units shipped per line item id, over fulfillments that were not cancelled.
fn fulfilled_quantities(fulfillments: &[WireFulfillment]) -> HashMap<WireId, i64> {
    let mut shipped = HashMap::new();
    for ful in fulfillments {
        let state = ful.status.as_deref().map(FulfillmentState::parse);
        if matches!(
            state,
            Some(FulfillmentState::Cancelled | FulfillmentState::Error | FulfillmentState::Failure)
        ) {
            continue;
        }
        for line in &ful.line_items {
            // Saturating: hostile quantities must not overflow here; the
            // bounds refuse the order after.
            let units = shipped.entry(line.id).or_insert(0i64);
            *units = units.saturating_add(line.quantity.unwrap_or(0));
        }
    }
    shipped
}

fn line_item(
    f: &Fields<'_>,
    i: usize,
    w: WireLineItem,
    money: &BrandMoney,
    shipped: &HashMap<WireId, i64>,
) -> Result<LineItem, NormalizeError> {
    let field = |name: &str| format!("line_items[{i}].{name}");
    Ok(LineItem {
        external_id: w.id.to_string(),
        product_id: id_text(w.product_id),
        variant_id: id_text(w.variant_id),
        sku: non_blank(w.sku),
        title: w.title.unwrap_or_default(),
        variant_title: non_blank(w.variant_title),
        quantity: w
            .quantity
            .ok_or_else(|| f.error(field("quantity"), "missing"))?,
        price: match money.amount(f, &field("price"), w.price.as_deref(), w.price_set.as_ref())? {
            Some(price) => f.not_negative(&field("price"), price)?,
            None => return Err(f.error(field("price"), "missing")),
        },
        fulfilled_quantity: Some(shipped.get(&w.id).copied().unwrap_or(0)),
    })
}

fn fulfillment(
    f: &Fields<'_>,
    i: usize,
    w: WireFulfillment,
) -> Result<Fulfillment, NormalizeError> {
    let field = |name: &str| format!("fulfillments[{i}].{name}");
    let created_at = f.required_time(&field("created_at"), w.created_at.as_deref())?;
    let updated_at = f
        .time(&field("updated_at"), w.updated_at.as_deref())?
        .unwrap_or(created_at);
    let shipment_status = w
        .shipment_status
        .as_deref()
        .filter(|s| !s.is_empty())
        .map(ShipmentStatus::parse);
    // REST has no delivery time; the last update of a delivered fulfillment
    // is the carrier's delivery event, unless the payload says better.
    let delivered_at = match f.time(&field("delivered_at"), w.delivered_at.as_deref())? {
        Some(at) => Some(at),
        None if shipment_status == Some(ShipmentStatus::Delivered) => Some(updated_at),
        None => None,
    };
    let mut tracking_numbers = w.tracking_numbers;
    if tracking_numbers.is_empty() {
        tracking_numbers.extend(non_blank(w.tracking_number));
    }
    let mut tracking_urls = w.tracking_urls;
    if tracking_urls.is_empty() {
        tracking_urls.extend(non_blank(w.tracking_url));
    }
    Ok(Fulfillment {
        external_id: w.id.to_string(),
        status: FulfillmentState::parse(w.status.as_deref().unwrap_or("pending")),
        shipment_status,
        tracking_company: non_blank(w.tracking_company),
        tracking_numbers,
        tracking_urls,
        created_at,
        updated_at,
        delivered_at,
        estimated_delivery_at: f.time(
            &field("estimated_delivery_at"),
            w.estimated_delivery_at.as_deref(),
        )?,
    })
}

/// What one unit of an order's presentment currency is worth in its shop
/// currency, as minor units of each, from the order's `total_price_set`.
struct PresentmentRate {
    currency: Currency,
    shop_minor: i64,
    presentment_minor: i64,
}

impl PresentmentRate {
    /// `amount` (in the presentment currency) in the shop's minor units,
    /// rounded half away from zero.
    fn to_shop(&self, amount: Money) -> Option<i64> {
        let num = i128::from(amount.minor) * i128::from(self.shop_minor);
        let den = i128::from(self.presentment_minor);
        let rounded = (2 * num + den.signum() * num.signum() * den.abs()) / (2 * den);
        i64::try_from(rounded).ok()
    }
}

/// One `*_set` amount as its presentment currency and its minor units in the
/// shop's and in that currency, when the presentment currency is not the
/// shop's (and the shop side, where it names a currency, is the shop's).
fn set_amounts(set: &WireMoneySet, shop: Currency) -> Option<(Currency, i64, i64)> {
    let shop_money = set.shop_money.as_ref()?;
    let presentment = set.presentment_money.as_ref()?;
    let currency = Currency::parse(presentment.currency_code.as_deref()?).ok()?;
    if currency == shop {
        return None;
    }
    if let Some(code) = shop_money.currency_code.as_deref() {
        if Currency::parse(code).ok()? != shop {
            return None;
        }
    }
    let shop_minor = Money::parse(shop_money.amount.as_deref()?, shop)
        .ok()?
        .minor;
    let presentment_minor = Money::parse(presentment.amount.as_deref()?, currency)
        .ok()?
        .minor;
    Some((currency, shop_minor, presentment_minor))
}

/// The order's presentment rate, when its `total_price_set` names a
/// presentment currency other than the shop's and a non-zero total.
fn presentment_rate(set: Option<&WireMoneySet>, shop: Currency) -> Option<PresentmentRate> {
    let (currency, shop_minor, presentment_minor) = set_amounts(set?, shop)?;
    (presentment_minor != 0).then_some(PresentmentRate {
        currency,
        shop_minor,
        presentment_minor,
    })
}

/// The order's rate as a refund sent on its own carries it: Shopify gives
/// the refunded lines' subtotal and tax and the refund's order adjustments
/// (shipping, discrepancy) in both currencies, converted at the order's
/// rate; their sums (by size: adjustments are negative) give that rate.
/// `None` when the refund has no such amount, or names two presentment
/// currencies.
fn refund_rate(w: &WireRefund, shop: Currency) -> Option<PresentmentRate> {
    let lines = w
        .refund_line_items
        .iter()
        .flat_map(|l| [l.subtotal_set.as_ref(), l.total_tax_set.as_ref()]);
    let adjustments = w
        .order_adjustments
        .iter()
        .flat_map(|a| [a.amount_set.as_ref(), a.tax_amount_set.as_ref()]);
    let mut rate: Option<PresentmentRate> = None;
    for set in lines.chain(adjustments).flatten() {
        let Some((currency, shop_minor, presentment_minor)) = set_amounts(set, shop) else {
            continue;
        };
        let r = rate.get_or_insert(PresentmentRate {
            currency,
            shop_minor: 0,
            presentment_minor: 0,
        });
        if r.currency != currency {
            return None;
        }
        r.shop_minor = r.shop_minor.checked_add(shop_minor.checked_abs()?)?;
        r.presentment_minor = r
            .presentment_minor
            .checked_add(presentment_minor.checked_abs()?)?;
    }
    rate.filter(|r| r.presentment_minor != 0)
}

fn refund(
    f: &Fields<'_>,
    i: usize,
    w: WireRefund,
    currency: Currency,
    rate: Option<&PresentmentRate>,
) -> Result<Refund, NormalizeError> {
    let field = |name: &str| format!("refunds[{i}].{name}");
    let mut amount = Money::zero(currency);
    for (t, tx) in w.transactions.iter().enumerate() {
        // Only money that actually went back counts: failed or pending
        // attempts, and non-refund kinds, are left out.
        let is_refund = tx.kind.as_deref().is_none_or(|k| k == "refund");
        let succeeded = tx.status.as_deref().is_none_or(|s| s == "success");
        if !(is_refund && succeeded) {
            continue;
        }
        let name = field(&format!("transactions[{t}].amount"));
        // On a multi-currency order, refund transactions are in the
        // customer's (presentment) currency: converted at the order's rate.
        let tx_currency = match tx.currency.as_deref().map(str::trim) {
            None | Some("") => currency,
            Some(code) => Currency::parse(code).map_err(|e| {
                f.error(field(&format!("transactions[{t}].currency")), e.to_string())
            })?,
        };
        let tx_amount = if tx_currency == currency {
            f.required_money(&name, tx.amount.as_deref(), currency)?
        } else {
            let in_presentment = f.required_money(&name, tx.amount.as_deref(), tx_currency)?;
            let minor = rate
                .filter(|r| r.currency == tx_currency)
                .and_then(|r| r.to_shop(in_presentment))
                .ok_or_else(|| {
                    f.error(
                        field(&format!("transactions[{t}].currency")),
                        format!(
                            "{tx_currency} differs from the order's {currency} and the order gives no rate between them"
                        ),
                    )
                })?;
            Money::new(minor, currency)
        };
        amount = amount
            .checked_add(tx_amount)
            .map_err(|e| f.error(name, e.to_string()))?;
    }
    Ok(Refund {
        external_id: w.id.to_string(),
        created_at: f.required_time(&field("created_at"), w.created_at.as_deref())?,
        amount,
        line_items: w
            .refund_line_items
            .into_iter()
            .map(|l| RefundLineItem {
                line_item_id: l.line_item_id.to_string(),
                quantity: l.quantity.unwrap_or(0),
            })
            .collect(),
        note: non_blank(w.note),
    })
}

pub fn product_from_json(ctx: &NormalizeContext, raw: &Value) -> Result<Product, NormalizeError> {
    let id = raw_id(raw, "id");
    let wire: WireProduct = decode("product", &id, raw)?;
    product_from_wire(ctx, wire)
}

fn product_from_wire(ctx: &NormalizeContext, w: WireProduct) -> Result<Product, NormalizeError> {
    let id = w.id.to_string();
    let f = Fields {
        kind: "product",
        id: &id,
    };
    let created_at = f.required_time("created_at", w.created_at.as_deref())?;
    let updated_at = f
        .time("updated_at", w.updated_at.as_deref())?
        .unwrap_or(created_at);
    let status = match w.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => ProductStatus::parse(s),
        // Older versions: a published product is on sale.
        None if w.published_at.is_some() => ProductStatus::Active,
        None => ProductStatus::Draft,
    };
    let variants = w
        .variants
        .into_iter()
        .enumerate()
        .map(|(i, v)| variant(&f, i, v, ctx.currency))
        .collect::<Result<Vec<_>, _>>()?;
    f.within_bounds(Product {
        source: ctx.source.clone(),
        brand: ctx.brand.clone(),
        title: w.title.unwrap_or_default(),
        handle: non_blank(w.handle),
        status,
        // No description is `None` whichever face says it: REST sends
        // `null` or `""`, GraphQL's `descriptionHtml` is never null.
        body_html: w.body_html.filter(|html| !html.is_empty()),
        image_count: u32::try_from(w.images.len()).unwrap_or(u32::MAX),
        vendor: non_blank(w.vendor),
        product_type: non_blank(w.product_type),
        tags: tags(w.tags.as_deref()),
        created_at,
        updated_at,
        deleted_at: None,
        variants,
        external_id: id.clone(),
    })
}

fn variant(
    f: &Fields<'_>,
    i: usize,
    w: WireVariant,
    currency: Currency,
) -> Result<Variant, NormalizeError> {
    Ok(Variant {
        external_id: w.id.to_string(),
        title: w.title.unwrap_or_default(),
        sku: non_blank(w.sku),
        price: f.required_money(
            &format!("variants[{i}].price"),
            w.price.as_deref(),
            currency,
        )?,
        inventory_item_id: id_text(w.inventory_item_id),
        inventory_quantity: w.inventory_quantity,
        inventory_tracked: w.inventory_management.as_deref() == Some("shopify"),
    })
}

pub fn inventory_level_from_json(
    ctx: &NormalizeContext,
    raw: &Value,
) -> Result<InventoryLevel, NormalizeError> {
    let id = format!(
        "{}:{}",
        raw_id(raw, "inventory_item_id"),
        raw_id(raw, "location_id")
    );
    let w: WireInventoryLevel = decode("inventory_level", &id, raw)?;
    let f = Fields {
        kind: "inventory_level",
        id: &id,
    };
    let item = w.inventory_item_id.to_string();
    let location = w.location_id.to_string();
    f.within_bounds(InventoryLevel {
        source: ctx.source.clone(),
        external_id: InventoryLevel::external_id_for(&item, &location),
        brand: ctx.brand.clone(),
        inventory_item_id: item,
        location_id: location,
        available: w.available,
        updated_at: f.required_time("updated_at", w.updated_at.as_deref())?,
    })
}

/// A fulfillment sent on its own (the `fulfillments/create` and
/// `fulfillments/update` webhooks).
#[derive(Debug, Clone, PartialEq)]
pub struct StandaloneFulfillment {
    pub order_id: String,
    pub fulfillment: Fulfillment,
    /// Units it ships, per line item id.
    pub shipped: Vec<(String, i64)>,
}

/// Decodes a fulfillment sent on its own, naming the failing field.
pub fn fulfillment_from_json(raw: &Value) -> Result<StandaloneFulfillment, NormalizeError> {
    let id = raw_id(raw, "id");
    let f = Fields {
        kind: "fulfillment",
        id: &id,
    };
    let order_id = match raw_id(raw, "order_id") {
        o if o == "?" => return Err(f.error("order_id", "missing")),
        o => o,
    };
    let wire: WireFulfillment = decode("fulfillment", &id, raw)?;
    let lines = wire
        .line_items
        .iter()
        .map(|l| (l.id.to_string(), l.quantity.unwrap_or(0)))
        .collect();
    let fulfillment = f.within_bounds(fulfillment(&f, 0, wire)?)?;
    Ok(StandaloneFulfillment {
        order_id,
        fulfillment,
        shipped: lines,
    })
}

/// A refund sent on its own (the `refunds/create` webhook): the id of its
/// order and the refund, amounts in the order's `currency` (the stored
/// order's). Transactions in the customer's (presentment) currency are
/// converted at the order's rate as the refund's own two-currency amounts
/// give it (see [`refund_rate`]); with none, such a refund is refused
/// naming the transaction's currency field.
pub fn refund_from_json(
    currency: Currency,
    raw: &Value,
) -> Result<(String, Refund), NormalizeError> {
    let id = raw_id(raw, "id");
    let f = Fields {
        kind: "refund",
        id: &id,
    };
    let order_id = match raw_id(raw, "order_id") {
        o if o == "?" => return Err(f.error("order_id", "missing")),
        o => o,
    };
    let wire: WireRefund = decode("refund", &id, raw)?;
    let rate = refund_rate(&wire, currency);
    let refund = f.within_bounds(refund(&f, 0, wire, currency, rate.as_ref())?)?;
    Ok((order_id, refund))
}

#[cfg(test)]
#[path = "normalize_tests.rs"]
mod tests;
