//! The bounds of every value that comes from outside: the one home of "how
//! long, how large, how early, how deep" for ingest, CSV import, the Shopify
//! and Gorgias normalizers and the webhook door.
//!
//! Each bound is set just past what a real platform can send (Shopify
//! titles are at most 255 characters, ids 64-bit, offsets −12:00..+14:00),
//! so no merchant's genuine record is refused, while a 10 MB name, an amount
//! of `i64::MAX` minor units, the year 0 or a +25:00 offset is: refused with
//! the field and the bound named, and nothing of the record stored.
//!
//! Two kinds of check live here:
//! - parsers for the edge ([`timestamp`], [`json_depth`], and the amount
//!   bound that [`crate::Money::parse`] applies), which see the raw text;
//! - [`Bounded`], implemented for every record the store keeps: one list
//!   per record of which field has which bound ([`Text`]), walked after a
//!   record is parsed, so every door checks the same fields the same way.

use crate::checkout::AbandonedCheckout;
use crate::customer::CustomerSummary;
use crate::order::{CustomerRef, Fulfillment, LineItem, Refund};
use crate::support::Party;
use crate::{
    FulfillmentUpdate, HealthCheck, InventoryBatch, InventoryLevel, Money, Order,
    OrderStatusChange, PaymentEvent, Product, ReturnRequest, ReturnStatusChange, ReviewEvent,
    ReviewEventSeen, ReviewItem, SatisfactionSurvey, Ticket, TicketMessage, Timestamp,
    TrackingEvent, Variant,
};
use std::fmt;

/// The largest amount, in minor units either side of zero: 10^14, i.e.
/// 1,000,000,000,000.00 USD or 100,000,000,000,000 JPY. No single order,
/// price or refund comes near it; 92,233 orders at the bound still sum
/// inside 64 bits.
pub const MAX_AMOUNT_MINOR: i64 = 100_000_000_000_000;

/// The largest count of units either side of zero (a line's quantity, stock
/// available, a lot's size, an order number): 10^9. Stock may be negative
/// (oversold); no line or shelf holds a billion units, and a product of
/// such a count and a bounded amount still fits in 128 bits.
pub const MAX_UNITS: i64 = 1_000_000_000;

/// The longest decimal text an amount may have (sign, 15 digits, point,
/// four decimals and room to spare): longer is refused before parsing.
pub const MAX_AMOUNT_CHARS: usize = 32;

/// The first year a record's time may fall in (stores older than online
/// commerce do not exist; the year 0 is a mistake, not a record).
pub const EARLIEST_YEAR: i16 = 2000;
/// The last year a record's time may fall in (a delivery estimate or a lot
/// expiry can lie years ahead; the year 2100 is not a plan but a typo).
pub const LATEST_YEAR: i16 = 2099;

/// UTC offsets in use on Earth run from −12:00 to +14:00.
pub const MIN_OFFSET_SECONDS: i32 = -12 * 3600;
pub const MAX_OFFSET_SECONDS: i32 = 14 * 3600;

/// JSON nesting deeper than this is refused before it is parsed. Shopify's
/// deepest payloads (refund → line item → line item → tax line → price set
/// → money) are about 8 deep; an ingest record about 5.
pub const MAX_JSON_DEPTH: usize = 64;

/// Items in any one list of a record (line items, variants, tags,
/// tracking numbers): Shopify allows 2,048 variants and 250 tags.
pub const MAX_LIST_ITEMS: usize = 5_000;

/// Bytes of a webhook header value (`X-Shopify-Webhook-Id`, topic, shop
/// domain, API version, event id): Shopify's are UUIDs and short names.
pub const MAX_HEADER_BYTES: usize = 255;

/// How much of a refused value an error message may quote.
const EXCERPT_CHARS: usize = 40;

/// The kinds of text a record carries, each with its bound in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Text {
    /// A platform's id for a record or a reference to one (Shopify ids are
    /// at most 20 digits; ingest ids are chosen by the merchant's system).
    Id,
    /// A name, title, SKU, tag, email, status or carrier: Shopify allows
    /// 255 characters for titles; room is left for 4-byte characters.
    Line,
    /// A URL (browsers and carriers keep them under 2 KB).
    Url,
    /// A note, reason, description or subject that may run over a line.
    Note,
    /// A product description or a message body (an email with its quoted
    /// thread); Shopify's description editor stops at 512 KB.
    Body,
}

impl Text {
    /// The bound in bytes of UTF-8.
    pub fn max_bytes(self) -> usize {
        match self {
            Text::Id => 255,
            Text::Line => 1_024,
            Text::Url => 2_048,
            Text::Note => 16_384,
            Text::Body => 1_048_576,
        }
    }
}

/// A value outside its bound. The message names the bound and never quotes
/// more than a short excerpt of the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BoundError {
    #[error("is {len} bytes long; the limit is {max} bytes")]
    TooLong { len: usize, max: usize },
    #[error("has {count} items; the limit is {max}")]
    TooMany { count: usize, max: usize },
    #[error("{excerpt:?} is not an RFC 3339 timestamp with an offset (e.g. 2026-06-01T10:00:00Z)")]
    NotATimestamp { excerpt: String },
    #[error("{excerpt:?} has the offset {offset}; offsets run from -12:00 to +14:00")]
    Offset { excerpt: String, offset: String },
    #[error("{at} is outside the accepted years {EARLIEST_YEAR}-{LATEST_YEAR}")]
    Year { at: String },
    #[error("{amount} is beyond the limit of ±{max}")]
    Amount { amount: String, max: String },
    #[error("{value} is beyond the limit of ±{max}")]
    Units { value: i64, max: i64 },
    #[error(
        "contains the NUL character (U+0000), which no platform sends and PostgreSQL cannot store"
    )]
    Nul,
    #[error("JSON nests deeper than {max} levels")]
    TooDeep { max: usize },
}

/// The first characters of `value`, for an error message.
pub fn excerpt(value: &str) -> String {
    match value.char_indices().nth(EXCERPT_CHARS) {
        None => value.to_string(),
        Some((end, _)) => format!("{}…", &value[..end]),
    }
}

/// A message built from outside text (a parser's error that quotes the
/// value), cut to 300 characters so it stays fit for a log line, an API
/// answer or /sources.
pub fn clip(message: &str) -> String {
    match message.char_indices().nth(300) {
        None => message.to_string(),
        Some((end, _)) => format!("{}…", &message[..end]),
    }
}

/// `value` within the bound of its kind, and free of NUL.
pub fn text(kind: Text, value: &str) -> Result<(), BoundError> {
    let max = kind.max_bytes();
    if value.len() > max {
        return Err(BoundError::TooLong {
            len: value.len(),
            max,
        });
    }
    // PostgreSQL refuses NUL in text and JSONB alike: stored, the one
    // record would fail its whole batch there while SQLite kept it.
    if value.contains('\0') {
        return Err(BoundError::Nul);
    }
    Ok(())
}

/// A list of `count` items within [`MAX_LIST_ITEMS`].
pub fn list(count: usize) -> Result<(), BoundError> {
    if count > MAX_LIST_ITEMS {
        return Err(BoundError::TooMany {
            count,
            max: MAX_LIST_ITEMS,
        });
    }
    Ok(())
}

/// An amount within [`MAX_AMOUNT_MINOR`].
pub fn amount(money: Money) -> Result<(), BoundError> {
    if money.minor.unsigned_abs() > MAX_AMOUNT_MINOR.unsigned_abs() {
        return Err(BoundError::Amount {
            amount: money.to_string(),
            max: Money::new(MAX_AMOUNT_MINOR, money.currency).to_string(),
        });
    }
    Ok(())
}

/// A count of units within [`MAX_UNITS`].
pub fn units(value: i64) -> Result<(), BoundError> {
    if value.unsigned_abs() > MAX_UNITS.unsigned_abs() {
        return Err(BoundError::Units {
            value,
            max: MAX_UNITS,
        });
    }
    Ok(())
}

/// An instant within the years [`EARLIEST_YEAR`]..=[`LATEST_YEAR`] (UTC).
pub fn instant(at: Timestamp) -> Result<(), BoundError> {
    let year = at.to_zoned(jiff::tz::TimeZone::UTC).year();
    if (EARLIEST_YEAR..=LATEST_YEAR).contains(&year) {
        Ok(())
    } else {
        Err(BoundError::Year { at: at.to_string() })
    }
}

/// A calendar date within the same years.
pub fn date(d: jiff::civil::Date) -> Result<(), BoundError> {
    if (EARLIEST_YEAR..=LATEST_YEAR).contains(&d.year()) {
        Ok(())
    } else {
        Err(BoundError::Year { at: d.to_string() })
    }
}

/// Parses an RFC 3339 timestamp that carries an offset (`Z` or ±HH:MM
/// within −12:00..+14:00) and falls within the accepted years. Every door
/// parses a platform's time through here.
pub fn timestamp(value: &str) -> Result<Timestamp, BoundError> {
    let not_a_timestamp = || BoundError::NotATimestamp {
        excerpt: excerpt(value),
    };
    if value.len() > 64 {
        return Err(not_a_timestamp());
    }
    let pieces = jiff::fmt::temporal::Pieces::parse(value).map_err(|_| not_a_timestamp())?;
    let seconds = match pieces.offset() {
        Some(jiff::fmt::temporal::PiecesOffset::Zulu) => 0,
        Some(jiff::fmt::temporal::PiecesOffset::Numeric(n)) => n.offset().seconds(),
        _ => return Err(not_a_timestamp()),
    };
    if !(MIN_OFFSET_SECONDS..=MAX_OFFSET_SECONDS).contains(&seconds) {
        return Err(BoundError::Offset {
            excerpt: excerpt(value),
            offset: format!(
                "{}{:02}:{:02}",
                if seconds < 0 { '-' } else { '+' },
                seconds.unsigned_abs() / 3600,
                seconds.unsigned_abs() % 3600 / 60
            ),
        });
    }
    let at: Timestamp = value.parse().map_err(|_| not_a_timestamp())?;
    instant(at)?;
    Ok(at)
}

/// Checks that the JSON text `bytes` nests no deeper than `max` arrays and
/// objects, without parsing it (strings are skipped, so brackets inside
/// them do not count). Run before a parser whose own depth limit is absent
/// or reports a less useful error.
pub fn json_depth(bytes: &[u8], max: usize) -> Result<(), BoundError> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(BoundError::TooDeep { max });
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// One field of a record outside its bound.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldBound {
    /// Path inside the record, e.g. `line_items[2].title`.
    pub field: String,
    pub error: BoundError,
}

impl fmt::Display for FieldBound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.field, self.error)
    }
}

/// A record whose every field has a bound. [`Bounded::check`] lists every
/// field outside its bound; empty means the record may be stored.
pub trait Bounded {
    fn visit(&self, c: &mut Checker);

    fn check(&self) -> Vec<FieldBound> {
        let mut c = Checker::default();
        self.visit(&mut c);
        c.problems
    }
}

/// Walks a record, collecting the fields outside their bounds with their
/// paths.
#[derive(Default)]
pub struct Checker {
    path: Vec<String>,
    problems: Vec<FieldBound>,
}

impl Checker {
    fn field(&self, key: &str) -> String {
        let mut p = self.path.join(".");
        if !key.is_empty() {
            if !p.is_empty() {
                p.push('.');
            }
            p.push_str(key);
        }
        p
    }

    fn add(&mut self, key: &str, result: Result<(), BoundError>) {
        if let Err(error) = result {
            self.problems.push(FieldBound {
                field: self.field(key),
                error,
            });
        }
    }

    pub fn text(&mut self, key: &str, kind: Text, value: &str) {
        self.add(key, text(kind, value));
    }

    pub fn opt_text(&mut self, key: &str, kind: Text, value: Option<&str>) {
        if let Some(v) = value {
            self.text(key, kind, v);
        }
    }

    pub fn texts(&mut self, key: &str, kind: Text, values: &[String]) {
        self.add(key, list(values.len()));
        for (i, v) in values.iter().enumerate() {
            self.add(&format!("{key}[{i}]"), text(kind, v));
        }
    }

    pub fn money(&mut self, key: &str, value: Money) {
        self.add(key, amount(value));
    }

    pub fn opt_money(&mut self, key: &str, value: Option<Money>) {
        if let Some(m) = value {
            self.money(key, m);
        }
    }

    pub fn units(&mut self, key: &str, value: i64) {
        self.add(key, units(value));
    }

    pub fn opt_units(&mut self, key: &str, value: Option<i64>) {
        if let Some(v) = value {
            self.units(key, v);
        }
    }

    pub fn time(&mut self, key: &str, value: Timestamp) {
        self.add(key, instant(value));
    }

    pub fn opt_time(&mut self, key: &str, value: Option<Timestamp>) {
        if let Some(t) = value {
            self.time(key, t);
        }
    }

    pub fn opt_date(&mut self, key: &str, value: Option<jiff::civil::Date>) {
        if let Some(d) = value {
            self.add(key, date(d));
        }
    }

    /// A nested record under `key`.
    pub fn nested<T: Bounded + ?Sized>(&mut self, key: &str, value: &T) {
        self.path.push(key.to_string());
        value.visit(self);
        self.path.pop();
    }

    pub fn opt_nested<T: Bounded>(&mut self, key: &str, value: Option<&T>) {
        if let Some(v) = value {
            self.nested(key, v);
        }
    }

    pub fn list<T: Bounded>(&mut self, key: &str, values: &[T]) {
        self.add(key, list(values.len()));
        for (i, v) in values.iter().enumerate() {
            self.nested(&format!("{key}[{i}]"), v);
        }
    }
}

impl Bounded for Order {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("name", Text::Line, &self.name);
        c.opt_units("number", self.number);
        c.time("created_at", self.created_at);
        c.time("updated_at", self.updated_at);
        c.opt_time("processed_at", self.processed_at);
        c.opt_time("cancelled_at", self.cancelled_at);
        c.opt_text("cancel_reason", Text::Line, self.cancel_reason.as_deref());
        c.opt_time("closed_at", self.closed_at);
        c.money("total_price", self.total_price);
        c.money("subtotal_price", self.subtotal_price);
        c.money("total_discounts", self.total_discounts);
        c.money("total_tax", self.total_tax);
        c.text(
            "financial_status",
            Text::Line,
            self.financial_status.as_str(),
        );
        c.text(
            "fulfillment_status",
            Text::Line,
            self.fulfillment_status.as_str(),
        );
        c.texts("tags", Text::Line, &self.tags);
        c.opt_text("source_name", Text::Line, self.source_name.as_deref());
        c.opt_text("email", Text::Line, self.email.as_deref());
        c.opt_nested("customer", self.customer.as_ref());
        c.list("line_items", &self.line_items);
        c.list("fulfillments", &self.fulfillments);
        c.list("refunds", &self.refunds);
    }
}

impl Bounded for CustomerRef {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.opt_text("email", Text::Line, self.email.as_deref());
        c.opt_text("name", Text::Line, self.name.as_deref());
    }
}

impl Bounded for LineItem {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.opt_text("product_id", Text::Id, self.product_id.as_deref());
        c.opt_text("variant_id", Text::Id, self.variant_id.as_deref());
        c.opt_text("sku", Text::Line, self.sku.as_deref());
        c.text("title", Text::Line, &self.title);
        c.opt_text("variant_title", Text::Line, self.variant_title.as_deref());
        c.units("quantity", self.quantity);
        c.money("price", self.price);
        c.opt_units("fulfilled_quantity", self.fulfilled_quantity);
    }
}

impl Bounded for Fulfillment {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("status", Text::Line, self.status.as_str());
        if let Some(s) = &self.shipment_status {
            c.text("shipment_status", Text::Line, s.as_str());
        }
        c.opt_text(
            "tracking_company",
            Text::Line,
            self.tracking_company.as_deref(),
        );
        c.texts("tracking_numbers", Text::Line, &self.tracking_numbers);
        c.texts("tracking_urls", Text::Url, &self.tracking_urls);
        c.time("created_at", self.created_at);
        c.time("updated_at", self.updated_at);
        c.opt_time("delivered_at", self.delivered_at);
        c.opt_time("estimated_delivery_at", self.estimated_delivery_at);
    }
}

impl Bounded for Refund {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.time("created_at", self.created_at);
        c.money("amount", self.amount);
        c.add("line_items", list(self.line_items.len()));
        for (i, l) in self.line_items.iter().enumerate() {
            c.text(
                &format!("line_items[{i}].line_item_id"),
                Text::Id,
                &l.line_item_id,
            );
            c.units(&format!("line_items[{i}].quantity"), l.quantity);
        }
        c.opt_text("note", Text::Note, self.note.as_deref());
    }
}

impl Bounded for Product {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("title", Text::Line, &self.title);
        c.opt_text("handle", Text::Line, self.handle.as_deref());
        c.text("status", Text::Line, self.status.as_str());
        c.opt_text("body_html", Text::Body, self.body_html.as_deref());
        c.opt_text("vendor", Text::Line, self.vendor.as_deref());
        c.opt_text("product_type", Text::Line, self.product_type.as_deref());
        c.texts("tags", Text::Line, &self.tags);
        c.time("created_at", self.created_at);
        c.time("updated_at", self.updated_at);
        c.opt_time("deleted_at", self.deleted_at);
        c.list("variants", &self.variants);
    }
}

impl Bounded for Variant {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("title", Text::Line, &self.title);
        c.opt_text("sku", Text::Line, self.sku.as_deref());
        c.money("price", self.price);
        c.opt_text(
            "inventory_item_id",
            Text::Id,
            self.inventory_item_id.as_deref(),
        );
        c.opt_units("inventory_quantity", self.inventory_quantity);
    }
}

impl Bounded for InventoryLevel {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("inventory_item_id", Text::Id, &self.inventory_item_id);
        c.text("location_id", Text::Id, &self.location_id);
        c.opt_units("available", self.available);
        c.time("updated_at", self.updated_at);
    }
}

impl Bounded for Party {
    fn visit(&self, c: &mut Checker) {
        c.opt_text("external_id", Text::Id, self.external_id.as_deref());
        c.opt_text("email", Text::Line, self.email.as_deref());
        c.opt_text("name", Text::Line, self.name.as_deref());
    }
}

impl Bounded for Ticket {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("status", Text::Line, self.status.as_str());
        c.text("channel", Text::Line, self.channel.as_str());
        c.opt_text("subject", Text::Note, self.subject.as_deref());
        c.opt_text("excerpt", Text::Note, self.excerpt.as_deref());
        c.opt_text("priority", Text::Line, self.priority.as_deref());
        c.texts("tags", Text::Line, &self.tags);
        c.opt_nested("customer", self.customer.as_ref());
        c.opt_nested("assignee", self.assignee.as_ref());
        c.time("created_at", self.created_at);
        c.opt_time("opened_at", self.opened_at);
        c.time("updated_at", self.updated_at);
        c.opt_time("last_received_message_at", self.last_received_message_at);
        c.opt_time("closed_at", self.closed_at);
        c.opt_time("snooze_until", self.snooze_until);
        c.opt_time("trashed_at", self.trashed_at);
    }
}

impl Bounded for TicketMessage {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("ticket_id", Text::Id, &self.ticket_id);
        c.opt_text("rule_id", Text::Id, self.rule_id.as_deref());
        if let Some(ch) = &self.channel {
            c.text("channel", Text::Line, ch.as_str());
        }
        c.opt_text("subject", Text::Note, self.subject.as_deref());
        c.opt_text("body_text", Text::Body, self.body_text.as_deref());
        c.texts("intents", Text::Line, &self.intents);
        c.time("created_at", self.created_at);
        c.opt_time("sent_at", self.sent_at);
        c.opt_time("failed_at", self.failed_at);
        c.time("updated_at", self.updated_at);
    }
}

impl Bounded for SatisfactionSurvey {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("ticket_id", Text::Id, &self.ticket_id);
        c.opt_text("customer_id", Text::Id, self.customer_id.as_deref());
        c.opt_text("body_text", Text::Note, self.body_text.as_deref());
        c.opt_time("sent_at", self.sent_at);
        c.opt_time("scored_at", self.scored_at);
        c.time("updated_at", self.updated_at);
    }
}

impl Bounded for TrackingEvent {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.opt_text("order_id", Text::Id, self.order_id.as_deref());
        c.opt_text("fulfillment_id", Text::Id, self.fulfillment_id.as_deref());
        c.opt_text(
            "tracking_number",
            Text::Line,
            self.tracking_number.as_deref(),
        );
        c.opt_text("carrier", Text::Line, self.carrier.as_deref());
        c.text("status", Text::Line, self.status.as_str());
        c.opt_text("description", Text::Note, self.description.as_deref());
        c.opt_text("location", Text::Line, self.location.as_deref());
        c.time("occurred_at", self.occurred_at);
        c.time("updated_at", self.updated_at);
    }
}

impl Bounded for InventoryBatch {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("sku", Text::Line, &self.sku);
        c.opt_text("variant_id", Text::Id, self.variant_id.as_deref());
        c.text("lot", Text::Line, &self.lot);
        c.opt_text("location_id", Text::Id, self.location_id.as_deref());
        c.units("quantity", self.quantity);
        c.opt_date("expires_on", self.expires_on);
        c.time("updated_at", self.updated_at);
    }
}

impl Bounded for ReturnRequest {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.opt_text("order_id", Text::Id, self.order_id.as_deref());
        c.text("kind", Text::Line, self.kind.as_str());
        c.text("status", Text::Line, self.status.as_str());
        c.opt_money("amount", self.amount);
        c.opt_text("reason", Text::Note, self.reason.as_deref());
        c.time("requested_at", self.requested_at);
        c.opt_time("resolved_at", self.resolved_at);
        c.time("updated_at", self.updated_at);
        c.list("status_history", &self.status_history);
    }
}

impl Bounded for ReturnStatusChange {
    fn visit(&self, c: &mut Checker) {
        c.text("status", Text::Line, self.status.as_str());
        c.time("at", self.at);
    }
}

impl Bounded for ReviewItem {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("queue", Text::Line, &self.queue);
        c.text("status", Text::Line, self.status.as_str());
        c.opt_text("order_id", Text::Id, self.order_id.as_deref());
        c.opt_text("subject", Text::Note, self.subject.as_deref());
        c.time("submitted_at", self.submitted_at);
        c.opt_time("decided_at", self.decided_at);
        c.time("updated_at", self.updated_at);
        c.opt_text(
            "ocr_state",
            Text::Line,
            self.ocr_state.as_ref().map(|o| o.as_str()),
        );
        c.list("events", &self.events);
    }
}

impl Bounded for ReviewEventSeen {
    fn visit(&self, c: &mut Checker) {
        c.time("at", self.at);
        c.opt_text(
            "ocr_state",
            Text::Line,
            self.ocr_state.as_ref().map(|o| o.as_str()),
        );
    }
}

impl Bounded for ReviewEvent {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("queue", Text::Line, &self.queue);
        c.time("occurred_at", self.occurred_at);
        c.opt_text(
            "ocr_state",
            Text::Line,
            self.ocr_state.as_ref().map(|o| o.as_str()),
        );
        c.opt_text("order_id", Text::Id, self.order_id.as_deref());
        c.opt_text("subject", Text::Note, self.subject.as_deref());
    }
}

impl Bounded for PaymentEvent {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.opt_text("order_id", Text::Id, self.order_id.as_deref());
        c.text("kind", Text::Line, self.kind.as_str());
        c.opt_money("amount", self.amount);
        c.opt_text("reason", Text::Note, self.reason.as_deref());
        c.opt_text("gateway", Text::Line, self.gateway.as_deref());
        c.time("occurred_at", self.occurred_at);
        c.time("updated_at", self.updated_at);
        if let Some(d) = &self.dispute {
            c.text("dispute_status", Text::Line, d.status.as_str());
            c.opt_time("evidence_due_by", d.evidence_due_by);
            c.opt_time("evidence_sent_on", d.evidence_sent_on);
            c.opt_time("finalized_on", d.finalized_on);
        }
    }
}

impl Bounded for HealthCheck {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.text("dependency", Text::Line, &self.dependency);
        c.opt_text("detail", Text::Note, self.detail.as_deref());
        c.time("checked_at", self.checked_at);
        c.time("updated_at", self.updated_at);
    }
}

impl Bounded for OrderStatusChange {
    fn visit(&self, c: &mut Checker) {
        c.text("order_id", Text::Id, &self.order_id);
        c.time("occurred_at", self.occurred_at);
        if let Some(s) = &self.financial_status {
            c.text("financial_status", Text::Line, s.as_str());
        }
        if let Some(s) = &self.fulfillment_status {
            c.text("fulfillment_status", Text::Line, s.as_str());
        }
        c.opt_time("cancelled_at", self.cancelled_at);
        c.opt_text("cancel_reason", Text::Line, self.cancel_reason.as_deref());
        c.opt_time("closed_at", self.closed_at);
    }
}

impl Bounded for CustomerSummary {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.opt_text("email", Text::Line, self.email.as_deref());
        c.opt_text("name", Text::Line, self.name.as_deref());
        // A count past i64 is as out of bounds as one just under it.
        c.units(
            "order_count",
            i64::try_from(self.order_count).unwrap_or(i64::MAX),
        );
        c.money("lifetime_spend", self.lifetime_spend);
        c.texts("tags", Text::Line, &self.tags);
        c.time("created_at", self.created_at);
        c.time("updated_at", self.updated_at);
    }
}

impl Bounded for AbandonedCheckout {
    fn visit(&self, c: &mut Checker) {
        c.text("external_id", Text::Id, &self.external_id);
        c.opt_text("name", Text::Line, self.name.as_deref());
        c.opt_text("customer_id", Text::Id, self.customer_id.as_deref());
        c.opt_text("email", Text::Line, self.email.as_deref());
        c.opt_money("total", self.total);
        c.opt_units("quantity", self.quantity);
        c.time("created_at", self.created_at);
        c.time("updated_at", self.updated_at);
        c.opt_time("completed_at", self.completed_at);
    }
}

impl Bounded for FulfillmentUpdate {
    fn visit(&self, c: &mut Checker) {
        c.text("order_id", Text::Id, &self.order_id);
        // The fulfillment's fields sit beside `order_id` on the wire.
        self.fulfillment.visit(c);
        c.add("line_items", list(self.shipped.len()));
        for (i, (line, units)) in self.shipped.iter().enumerate() {
            c.text(&format!("line_items[{i}].line_item_id"), Text::Id, line);
            c.units(&format!("line_items[{i}].quantity"), *units);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Currency;

    #[test]
    fn timestamps_need_a_real_offset_and_a_plausible_year() {
        assert!(timestamp("2026-06-01T10:00:00Z").is_ok());
        assert!(timestamp("2026-06-01T10:00:00+14:00").is_ok());
        assert!(timestamp("2026-06-01T10:00:00-12:00").is_ok());
        assert!(timestamp("2019-11-16T15:59:41.966927+00:00").is_ok());
        let e = timestamp("2026-06-01T10:00:00+25:00").unwrap_err();
        assert!(matches!(e, BoundError::Offset { .. }), "{e}");
        assert_eq!(
            e.to_string(),
            "\"2026-06-01T10:00:00+25:00\" has the offset +25:00; offsets run from -12:00 to +14:00"
        );
        assert!(timestamp("2026-06-01T10:00:00+14:30").is_err());
        assert!(timestamp("2026-06-01T10:00:00-12:30").is_err());
        for year in ["0000", "1999", "2100", "9999"] {
            let e = timestamp(&format!("{year}-06-01T10:00:00Z")).unwrap_err();
            assert!(matches!(e, BoundError::Year { .. }), "{year}: {e}");
            assert!(e.to_string().contains("2000-2099"), "{e}");
        }
        assert!(timestamp("2000-01-01T00:00:00Z").is_ok());
        assert!(timestamp("2099-12-31T23:59:59Z").is_ok());
        // Naive and date-only text has no offset.
        assert!(timestamp("2026-06-01T10:00:00").is_err());
        assert!(timestamp("2026-06-01").is_err());
        let long = "9".repeat(10_000);
        let e = timestamp(&long).unwrap_err().to_string();
        assert!(e.len() < 200, "the message quotes an excerpt only: {e}");
    }

    #[test]
    fn text_and_lists_are_bounded_by_kind() {
        assert!(text(Text::Line, &"a".repeat(1_024)).is_ok());
        let e = text(Text::Line, &"a".repeat(1_025)).unwrap_err();
        assert_eq!(e.to_string(), "is 1025 bytes long; the limit is 1024 bytes");
        assert!(text(Text::Id, &"1".repeat(256)).is_err());
        assert!(text(Text::Body, &"x".repeat(10 * 1024 * 1024)).is_err());
        assert_eq!(text(Text::Line, "a\0b"), Err(BoundError::Nul));
        assert!(list(MAX_LIST_ITEMS).is_ok());
        assert!(list(MAX_LIST_ITEMS + 1).is_err());
        assert!(units(-MAX_UNITS).is_ok());
        assert_eq!(
            units(i64::MAX).unwrap_err().to_string(),
            "9223372036854775807 is beyond the limit of ±1000000000"
        );
    }

    #[test]
    fn amounts_are_bounded() {
        assert!(amount(Money::new(MAX_AMOUNT_MINOR, Currency::USD)).is_ok());
        assert!(amount(Money::new(-MAX_AMOUNT_MINOR, Currency::USD)).is_ok());
        let e = amount(Money::new(i64::MAX, Currency::USD)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "92233720368547758.07 USD is beyond the limit of ±1000000000000.00 USD"
        );
        assert!(amount(Money::new(i64::MIN, Currency::USD)).is_err());
    }

    #[test]
    fn json_depth_counts_brackets_outside_strings() {
        assert!(json_depth(br#"{"a": [1, {"b": "[[[[["}]}"#, 3).is_ok());
        assert!(json_depth(br#"{"a": [1, {"b": [2]}]}"#, 3).is_err());
        assert!(json_depth(br#"{"a": "\"[[[["}"#, 1).is_ok());
        let deep = "[".repeat(100_000);
        assert_eq!(
            json_depth(deep.as_bytes(), MAX_JSON_DEPTH),
            Err(BoundError::TooDeep { max: 64 })
        );
    }

    #[test]
    fn excerpts_are_short_and_cut_on_characters() {
        assert_eq!(excerpt("short"), "short");
        let e = excerpt(&"é".repeat(1000));
        assert_eq!(e.chars().count(), EXCERPT_CHARS + 1);
    }
}
