//! The ingest kinds and their wire format: one JSON object per record, in
//! the merchant's field names, read into domain records.
//!
//! Shared rules (documented in docs/openapi.json): money is
//! `{"amount": "12.50", "currency": "USD"}` with a decimal *string*;
//! timestamps are RFC 3339 with an offset; `brand` may be left out (the
//! token's brand is used); `updated_at` may be left out (the record's main
//! timestamp is used); enum-like statuses accept values opsdeck does not know
//! yet and keep them; unknown fields are an error.

use super::reader::Obj;
use opsdeck_domain::dispute::{DisputeState, DisputeStatus};
use opsdeck_domain::funnel::{FunnelEvent, PixelEvent};
use opsdeck_domain::order::{CustomerRef, Fulfillment, LineItem, Refund, RefundLineItem};
use opsdeck_domain::support::Party;
use opsdeck_domain::AnyRecord;
use opsdeck_domain::{
    Bounded, Brand, BrandId, Currency, FulfillmentUpdate, HealthCheck, InventoryBatch,
    InventoryLevel, Money, Order, OrderStatusChange, PaymentEvent, Product, ReturnRequest,
    ReviewEvent, ReviewEventKind, ReviewItem, SatisfactionSurvey, SourceId, Ticket, TicketMessage,
    TrackingEvent, Variant,
};

macro_rules! kinds {
    ($( $variant:ident = $path:literal ),+ $(,)?) => {
        /// What an ingest request carries; one route per kind.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum IngestKind { $( $variant, )+ }

        impl IngestKind {
            pub const ALL: &'static [IngestKind] = &[$( IngestKind::$variant, )+];

            /// The name in the URL, in tokens and in the CLI, e.g. `tracking-events`.
            pub fn api_name(self) -> &'static str {
                match self { $( IngestKind::$variant => $path, )+ }
            }

            /// The route, e.g. `/api/v1/ingest/tracking-events`.
            pub fn route(self) -> &'static str {
                match self { $( IngestKind::$variant => concat!("/api/v1/ingest/", $path), )+ }
            }
        }
    };
}

kinds! {
    Orders = "orders",
    OrderStatusChanges = "order-status-changes",
    Fulfillments = "fulfillments",
    TrackingEvents = "tracking-events",
    Products = "products",
    InventoryLevels = "inventory-levels",
    InventoryBatches = "inventory-batches",
    Tickets = "tickets",
    TicketMessages = "ticket-messages",
    SatisfactionScores = "satisfaction-scores",
    ReturnRequests = "return-requests",
    ReviewItems = "review-items",
    ReviewEvents = "review-events",
    PaymentEvents = "payment-events",
    HealthChecks = "health-checks",
    FunnelEvents = "funnel-events",
}

impl IngestKind {
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|k| k.api_name() == name)
    }
}

/// One valid record: a whole record to upsert, or a partial update of an
/// order of the same source.
#[derive(Debug, Clone, PartialEq)]
#[expect(
    clippy::large_enum_variant,
    reason = "most are records; boxing would not save anything"
)]
pub enum Parsed {
    Record(AnyRecord),
    StatusChange(OrderStatusChange),
    Fulfillment(FulfillmentUpdate),
    /// An event of a review item, applied to the stored item
    /// ([`opsdeck_domain::ReviewEvent::apply_to`]).
    ReviewEvent(ReviewEvent),
    /// A storefront event: counted into its session-day, not stored as a
    /// record (see `opsdeck_domain::funnel`).
    FunnelEvent(FunnelEvent),
}

/// What every record of a request shares.
pub struct RecordContext<'a> {
    pub source: &'a SourceId,
    /// The token's brand: the brand every record gets.
    pub brand: &'a Brand,
}

/// Reads one record of `kind`. Returns `None` when there was any problem
/// (all of them recorded in `obj`'s problems), including a field outside
/// its bound (`opsdeck_domain::bounds`), so a record is stored whole and
/// within bounds or not at all, whether it came by the API or a CSV file.
pub fn read_record(kind: IngestKind, obj: &Obj, cx: &RecordContext) -> Option<Parsed> {
    let parsed = read_fields(kind, obj, cx)?;
    let outside = match &parsed {
        Parsed::Record(record) => record.check(),
        Parsed::StatusChange(change) => change.check(),
        Parsed::Fulfillment(update) => update.check(),
        Parsed::ReviewEvent(event) => event.check(),
        Parsed::FunnelEvent(event) => event.check(),
    };
    if outside.is_empty() {
        return Some(parsed);
    }
    for problem in outside {
        obj.problem(&problem.field, problem.error.to_string());
    }
    None
}

fn read_fields(kind: IngestKind, obj: &Obj, cx: &RecordContext) -> Option<Parsed> {
    // `brand` was checked against the token before (see [`super::validate`]).
    obj.raw("brand");
    let parsed = match kind {
        IngestKind::Orders => order(obj, cx).map(AnyRecord::Order).map(Parsed::Record),
        IngestKind::OrderStatusChanges => status_change(obj).map(Parsed::StatusChange),
        IngestKind::Fulfillments => {
            let order_id = obj.string("order_id");
            let fulfillment = fulfillment(obj);
            let shipped = shipped_units(obj);
            Some(Parsed::Fulfillment(FulfillmentUpdate {
                order_id: order_id?,
                fulfillment: fulfillment?,
                shipped,
            }))
        }
        IngestKind::TrackingEvents => tracking_event(obj, cx).map(wrap(AnyRecord::TrackingEvent)),
        IngestKind::Products => product(obj, cx).map(wrap(AnyRecord::Product)),
        IngestKind::InventoryLevels => {
            inventory_level(obj, cx).map(wrap(AnyRecord::InventoryLevel))
        }
        IngestKind::InventoryBatches => {
            inventory_batch(obj, cx).map(wrap(AnyRecord::InventoryBatch))
        }
        IngestKind::Tickets => ticket(obj, cx).map(wrap(AnyRecord::Ticket)),
        IngestKind::TicketMessages => ticket_message(obj, cx).map(wrap(AnyRecord::TicketMessage)),
        IngestKind::SatisfactionScores => survey(obj, cx).map(wrap(AnyRecord::SatisfactionSurvey)),
        IngestKind::ReturnRequests => return_request(obj, cx).map(wrap(AnyRecord::ReturnRequest)),
        IngestKind::ReviewItems => review_item(obj, cx).map(wrap(AnyRecord::ReviewItem)),
        IngestKind::ReviewEvents => review_event(obj, cx).map(Parsed::ReviewEvent),
        IngestKind::PaymentEvents => payment_event(obj, cx).map(wrap(AnyRecord::PaymentEvent)),
        IngestKind::HealthChecks => health_check(obj, cx).map(wrap(AnyRecord::HealthCheck)),
        IngestKind::FunnelEvents => funnel_event(obj, cx).map(Parsed::FunnelEvent),
    };
    obj.finish();
    parsed
}

/// An order's amounts are never below zero (refunds are their own records).
fn not_negative(o: &Obj, key: &str, money: Option<Money>) -> Option<Money> {
    match money {
        Some(m) if m.minor < 0 => {
            o.problem(key, format!("must not be negative, got {}", m.display()));
            None
        }
        other => other,
    }
}

/// A number of units: 0 or more.
fn count(o: &Obj, key: &str, n: Option<i64>) -> Option<i64> {
    match n {
        Some(q) if q < 0 => {
            o.problem(key, format!("must be 0 or more, got {q}"));
            None
        }
        other => other,
    }
}

fn wrap<T>(f: fn(T) -> AnyRecord) -> impl Fn(T) -> Parsed {
    move |r| Parsed::Record(f(r))
}

fn brand(cx: &RecordContext) -> BrandId {
    cx.brand.id.clone()
}

/// Every getter runs (so every problem is reported) before `?` bails out:
/// fields are read into locals first, then assembled.
fn order(o: &Obj, cx: &RecordContext) -> Option<Order> {
    let cur: Currency = cx.brand.currency;
    let external_id = o.string("external_id");
    let name = o.string("name");
    let number = o.opt_int("number");
    let created_at = o.timestamp("created_at");
    let updated_at = o.opt_timestamp("updated_at");
    let processed_at = o.opt_timestamp("processed_at");
    let cancelled_at = o.opt_timestamp("cancelled_at");
    let cancel_reason = o.opt_string("cancel_reason");
    let closed_at = o.opt_timestamp("closed_at");
    let total_price = not_negative(o, "total_price", o.money("total_price", Some(cur)));
    let subtotal_price = not_negative(
        o,
        "subtotal_price",
        o.opt_money("subtotal_price", Some(cur)),
    );
    let total_discounts = not_negative(
        o,
        "total_discounts",
        o.opt_money("total_discounts", Some(cur)),
    );
    let total_tax = not_negative(o, "total_tax", o.opt_money("total_tax", Some(cur)));
    let financial_status = o.open_enum("financial_status");
    let fulfillment_status = o.open_enum_or("fulfillment_status", "unfulfilled".parse().ok()?);
    let tags = o.strings("tags");
    let source_name = o.opt_string("source_name");
    let test = o.bool_or("test", false);
    let email = o.opt_string("email");
    let customer = o.opt_obj("customer").and_then(|c| {
        let r = (
            c.string("external_id"),
            c.opt_string("email"),
            c.opt_string("name"),
        );
        c.finish();
        Some(CustomerRef {
            external_id: r.0?,
            email: r.1,
            name: r.2,
        })
    });
    let line_items = o.list("line_items", |l| {
        let r = (
            l.string("external_id"),
            l.opt_string("product_id"),
            l.opt_string("variant_id"),
            l.opt_string("sku"),
            l.string("title"),
            l.opt_string("variant_title"),
            count(l, "quantity", l.int("quantity")),
            not_negative(l, "price", l.money("price", Some(cur))),
            count(l, "fulfilled_quantity", l.opt_int("fulfilled_quantity")),
        );
        Some(LineItem {
            external_id: r.0?,
            product_id: r.1,
            variant_id: r.2,
            sku: r.3,
            title: r.4?,
            variant_title: r.5,
            quantity: r.6?,
            price: r.7?,
            fulfilled_quantity: r.8,
        })
    });
    let fulfillments = o.list("fulfillments", fulfillment);
    let refunds = o.list("refunds", |r| {
        let v = (
            r.string("external_id"),
            r.timestamp("created_at"),
            r.money("amount", Some(cur)),
            r.list("line_items", |l| {
                let v = (l.string("line_item_id"), l.int("quantity"));
                Some(RefundLineItem {
                    line_item_id: v.0?,
                    quantity: v.1?,
                })
            }),
            r.opt_string("note"),
        );
        Some(Refund {
            external_id: v.0?,
            created_at: v.1?,
            amount: v.2?,
            line_items: v.3,
            note: v.4,
        })
    });
    let total_price = total_price?;
    let created_at = created_at?;
    Some(Order {
        source: cx.source.clone(),
        external_id: external_id?,
        brand: brand(cx),
        name: name?,
        number,
        created_at,
        updated_at: updated_at.unwrap_or(created_at),
        processed_at,
        cancelled_at,
        cancel_reason,
        closed_at,
        currency: cur,
        total_price,
        subtotal_price: subtotal_price.unwrap_or(total_price),
        total_discounts: total_discounts.unwrap_or(opsdeck_domain::Money::zero(cur)),
        total_tax: total_tax.unwrap_or(opsdeck_domain::Money::zero(cur)),
        financial_status: financial_status?,
        fulfillment_status,
        tags,
        source_name,
        test,
        email,
        customer,
        line_items,
        fulfillments,
        refunds,
    })
}

fn fulfillment(f: &Obj) -> Option<Fulfillment> {
    let v = (
        f.string("external_id"),
        f.open_enum("status"),
        f.opt_open_enum("shipment_status"),
        f.opt_string("tracking_company"),
        f.strings("tracking_numbers"),
        f.strings("tracking_urls"),
        f.timestamp("created_at"),
        f.opt_timestamp("updated_at"),
        f.opt_timestamp("delivered_at"),
        f.opt_timestamp("estimated_delivery_at"),
    );
    let created_at = v.6?;
    Some(Fulfillment {
        external_id: v.0?,
        status: v.1?,
        shipment_status: v.2,
        tracking_company: v.3,
        tracking_numbers: v.4,
        tracking_urls: v.5,
        created_at,
        updated_at: v.7.unwrap_or(created_at),
        delivered_at: v.8,
        estimated_delivery_at: v.9,
    })
}

/// The optional `line_items` of a fulfillment: `[{"line_item_id", "quantity"}]`,
/// the units it ships per line, which the order's line quantities follow as
/// with a Shopify fulfillment ([`opsdeck_domain::Order::merge_fulfillment`]).
fn shipped_units(f: &Obj) -> Vec<(String, i64)> {
    f.list("line_items", |l| {
        let (id, quantity) = (l.string("line_item_id"), l.int("quantity"));
        if quantity.is_some_and(|q| q < 0) {
            l.problem("quantity", "must be 0 or more");
            return None;
        }
        Some((id?, quantity?))
    })
}

fn status_change(o: &Obj) -> Option<OrderStatusChange> {
    let change = OrderStatusChange {
        order_id: o.string("order_id").unwrap_or_default(),
        occurred_at: o
            .timestamp("occurred_at")
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        financial_status: o.opt_open_enum("financial_status"),
        fulfillment_status: o.opt_open_enum("fulfillment_status"),
        cancelled_at: o.opt_timestamp("cancelled_at"),
        cancel_reason: o.opt_string("cancel_reason"),
        closed_at: o.opt_timestamp("closed_at"),
    };
    if change.financial_status.is_none()
        && change.fulfillment_status.is_none()
        && change.cancelled_at.is_none()
        && change.cancel_reason.is_none()
        && change.closed_at.is_none()
    {
        o.problem(
            "",
            "a status change needs at least one of financial_status, fulfillment_status, \
             cancelled_at, cancel_reason, closed_at",
        );
    }
    // Missing required fields were recorded above; the caller discards the
    // record when any problem was found.
    Some(change)
}

fn tracking_event(o: &Obj, cx: &RecordContext) -> Option<TrackingEvent> {
    let v = (
        o.string("external_id"),
        o.opt_string("order_id"),
        o.opt_string("fulfillment_id"),
        o.opt_string("tracking_number"),
        o.opt_string("carrier"),
        o.open_enum("status"),
        o.opt_string("description"),
        o.opt_string("location"),
        o.timestamp("occurred_at"),
        o.opt_timestamp("updated_at"),
    );
    let occurred_at = v.8?;
    Some(TrackingEvent {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: brand(cx),
        order_id: v.1,
        fulfillment_id: v.2,
        tracking_number: v.3,
        carrier: v.4,
        status: v.5?,
        description: v.6,
        location: v.7,
        occurred_at,
        updated_at: v.9.unwrap_or(occurred_at),
    })
}

fn product(o: &Obj, cx: &RecordContext) -> Option<Product> {
    let image_count = o.opt_int("image_count").unwrap_or(0);
    if !(0..=i64::from(u32::MAX)).contains(&image_count) {
        o.problem(
            "image_count",
            format!("{image_count} is not a count of images"),
        );
    }
    let v = (
        o.string("external_id"),
        o.string("title"),
        o.opt_string("handle"),
        o.open_enum_or("status", opsdeck_domain::ProductStatus::Active),
        o.opt_string("body_html"),
        o.opt_string("vendor"),
        o.opt_string("product_type"),
        o.strings("tags"),
        o.timestamp("created_at"),
        o.opt_timestamp("updated_at"),
        o.opt_timestamp("deleted_at"),
        o.list("variants", |va| {
            let v = (
                va.string("external_id"),
                va.string("title"),
                va.opt_string("sku"),
                va.money("price", Some(cx.brand.currency)),
                va.opt_string("inventory_item_id"),
                va.opt_int("inventory_quantity"),
                va.bool_or("inventory_tracked", false),
            );
            Some(Variant {
                external_id: v.0?,
                title: v.1?,
                sku: v.2,
                price: v.3?,
                inventory_item_id: v.4,
                inventory_quantity: v.5,
                inventory_tracked: v.6,
            })
        }),
    );
    let created_at = v.8?;
    Some(Product {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: brand(cx),
        title: v.1?,
        handle: v.2,
        status: v.3,
        body_html: v.4,
        image_count: u32::try_from(image_count).ok()?,
        vendor: v.5,
        product_type: v.6,
        tags: v.7,
        created_at,
        updated_at: v.9.unwrap_or(created_at),
        deleted_at: v.10,
        variants: v.11,
    })
}

fn inventory_level(o: &Obj, cx: &RecordContext) -> Option<InventoryLevel> {
    let v = (
        o.opt_string("external_id"),
        o.string("inventory_item_id"),
        o.string("location_id"),
        o.opt_int("available"),
        o.timestamp("updated_at"),
    );
    let (item, location) = (v.1?, v.2?);
    Some(InventoryLevel {
        source: cx.source.clone(),
        external_id: v
            .0
            .unwrap_or_else(|| InventoryLevel::external_id_for(&item, &location)),
        brand: brand(cx),
        inventory_item_id: item,
        location_id: location,
        available: v.3,
        updated_at: v.4?,
    })
}

fn inventory_batch(o: &Obj, cx: &RecordContext) -> Option<InventoryBatch> {
    let v = (
        o.string("external_id"),
        o.string("sku"),
        o.opt_string("variant_id"),
        o.string("lot"),
        o.opt_string("location_id"),
        o.int("quantity"),
        o.opt_date("expires_on"),
        o.timestamp("updated_at"),
    );
    Some(InventoryBatch {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: brand(cx),
        sku: v.1?,
        variant_id: v.2,
        lot: v.3?,
        location_id: v.4,
        quantity: v.5?,
        expires_on: v.6,
        updated_at: v.7?,
    })
}

fn party(o: &Obj, key: &'static str) -> Option<Party> {
    let p = o.opt_obj(key)?;
    let v = (
        p.opt_string("external_id"),
        p.opt_string("email"),
        p.opt_string("name"),
    );
    p.finish();
    Some(Party {
        external_id: v.0,
        email: v.1,
        name: v.2,
    })
}

fn ticket(o: &Obj, cx: &RecordContext) -> Option<Ticket> {
    let v = (
        o.string("external_id"),
        o.open_enum("status"),
        o.open_enum("channel"),
        o.opt_string("subject"),
        o.opt_string("excerpt"),
        o.opt_string("priority"),
        o.bool_or("spam", false),
        o.strings("tags"),
        party(o, "customer"),
        party(o, "assignee"),
        o.timestamp("created_at"),
        o.opt_timestamp("opened_at"),
        o.opt_timestamp("updated_at"),
        o.opt_timestamp("last_received_message_at"),
        o.opt_timestamp("closed_at"),
        o.opt_timestamp("snooze_until"),
        o.opt_timestamp("trashed_at"),
    );
    let created_at = v.10?;
    Some(Ticket {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: Some(brand(cx)),
        status: v.1?,
        channel: v.2?,
        subject: v.3,
        excerpt: v.4,
        priority: v.5,
        spam: v.6,
        tags: v.7,
        customer: v.8,
        assignee: v.9,
        created_at,
        opened_at: v.11,
        updated_at: v.12.unwrap_or(created_at),
        last_received_message_at: v.13,
        closed_at: v.14,
        snooze_until: v.15,
        trashed_at: v.16,
    })
}

fn ticket_message(o: &Obj, cx: &RecordContext) -> Option<TicketMessage> {
    let from_agent = match o.raw("from_agent") {
        Some(serde_json::Value::Bool(b)) => Some(*b),
        Some(other) => {
            o.problem(
                "from_agent",
                format!(
                    "expected true or false, got {}",
                    super::reader::type_name(other)
                ),
            );
            None
        }
        None => {
            o.problem("from_agent", "missing (required)");
            None
        }
    };
    let v = (
        o.string("external_id"),
        o.string("ticket_id"),
        o.bool_or("public", true),
        o.opt_string("rule_id"),
        o.opt_open_enum("channel"),
        o.opt_string("subject"),
        o.opt_string("body_text"),
        o.strings("intents"),
        o.timestamp("created_at"),
        o.opt_timestamp("sent_at"),
        o.opt_timestamp("failed_at"),
        o.opt_timestamp("updated_at"),
    );
    let created_at = v.8?;
    Some(TicketMessage {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: Some(brand(cx)),
        ticket_id: v.1?,
        from_agent: from_agent?,
        public: v.2,
        rule_id: v.3,
        channel: v.4,
        subject: v.5,
        body_text: v.6,
        intents: v.7,
        created_at,
        sent_at: v.9,
        failed_at: v.10,
        updated_at: v.11.unwrap_or(created_at),
    })
}

fn survey(o: &Obj, cx: &RecordContext) -> Option<SatisfactionSurvey> {
    let score = o.opt_int("score");
    let score = match score {
        Some(s @ 1..=5) => Some(u8::try_from(s).ok()?),
        Some(s) => {
            o.problem("score", format!("{s} is not a score from 1 to 5"));
            return None;
        }
        None => None,
    };
    let v = (
        o.string("external_id"),
        o.string("ticket_id"),
        o.opt_string("customer_id"),
        o.opt_string("body_text"),
        o.opt_timestamp("sent_at"),
        o.opt_timestamp("scored_at"),
        o.opt_timestamp("updated_at"),
    );
    let updated_at = v.6.or(v.5).or(v.4);
    if updated_at.is_none() {
        o.problem(
            "updated_at",
            "missing (required when neither scored_at nor sent_at is given)",
        );
    }
    Some(SatisfactionSurvey {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: Some(brand(cx)),
        ticket_id: v.1?,
        customer_id: v.2,
        score,
        body_text: v.3,
        sent_at: v.4,
        scored_at: v.5,
        updated_at: updated_at?,
    })
}

fn return_request(o: &Obj, cx: &RecordContext) -> Option<ReturnRequest> {
    let v = (
        o.string("external_id"),
        o.opt_string("order_id"),
        o.open_enum("kind"),
        o.open_enum("status"),
        o.opt_money("amount", None),
        o.opt_string("reason"),
        o.timestamp("requested_at"),
        o.opt_timestamp("resolved_at"),
        o.opt_timestamp("updated_at"),
    );
    let requested_at = v.6?;
    Some(ReturnRequest {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: brand(cx),
        order_id: v.1,
        kind: v.2?,
        status: v.3?,
        amount: v.4,
        reason: v.5,
        requested_at,
        resolved_at: v.7,
        updated_at: v.8.unwrap_or(requested_at),
        status_history: Vec::new(),
    })
}

fn review_item(o: &Obj, cx: &RecordContext) -> Option<ReviewItem> {
    let v = (
        o.string("external_id"),
        o.string("queue"),
        o.open_enum("status"),
        o.opt_string("order_id"),
        o.opt_string("subject"),
        o.timestamp("submitted_at"),
        o.opt_timestamp("decided_at"),
        o.opt_timestamp("updated_at"),
        o.opt_open_enum("ocr_state"),
    );
    let submitted_at = v.5?;
    Some(ReviewItem {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: brand(cx),
        queue: v.1?,
        status: v.2?,
        order_id: v.3,
        subject: v.4,
        submitted_at,
        decided_at: v.6,
        updated_at: v.7.unwrap_or(v.6.unwrap_or(submitted_at).max(submitted_at)),
        ocr_state: v.8,
        events: Vec::new(),
    })
}

/// The event names a review event may carry, as the platform spells them.
const REVIEW_EVENT_NAMES: [&str; 3] = [
    ReviewEventKind::RxUploaded.as_str(),
    ReviewEventKind::RxApproved.as_str(),
    ReviewEventKind::RxRejected.as_str(),
];

/// One review event (`RX_UPLOADED`, `RX_APPROVED`, `RX_REJECTED`): the
/// item's id, the event, when it happened; optionally the queue (a new
/// item's; `prescriptions` when left out), the OCR state, the order and a
/// short subject.
fn review_event(o: &Obj, cx: &RecordContext) -> Option<ReviewEvent> {
    let v = (
        o.string("external_id"),
        o.one_of("event", &REVIEW_EVENT_NAMES),
        o.timestamp("occurred_at"),
        o.opt_string("queue"),
        o.opt_open_enum("ocr_state"),
        o.opt_string("order_id"),
        o.opt_string("subject"),
    );
    Some(ReviewEvent {
        source: cx.source.clone(),
        brand: brand(cx),
        external_id: v.0?,
        event: ReviewEventKind::parse(&v.1?)?,
        occurred_at: v.2?,
        queue: v
            .3
            .unwrap_or_else(|| ReviewEventKind::DEFAULT_QUEUE.to_string()),
        ocr_state: v.4,
        order_id: v.5,
        subject: v.6,
    })
}

fn payment_event(o: &Obj, cx: &RecordContext) -> Option<PaymentEvent> {
    let v = (
        o.string("external_id"),
        o.opt_string("order_id"),
        o.open_enum("kind"),
        o.opt_money("amount", None),
        o.opt_string("reason"),
        o.opt_string("gateway"),
        o.timestamp("occurred_at"),
        o.opt_timestamp("updated_at"),
    );
    // A dispute's state, where the platform tells it: the refunds and
    // disputes queue keeps one that needs a response until its deadline.
    let dispute_status: Option<DisputeStatus> = o.opt_open_enum("dispute_status");
    let evidence_due_by = o.opt_timestamp("evidence_due_by");
    let occurred_at = v.6?;
    let dispute = match (dispute_status, evidence_due_by) {
        (None, None) => None,
        (status, evidence_due_by) => Some(DisputeState {
            status: status.unwrap_or(DisputeStatus::NeedsResponse),
            evidence_due_by,
            evidence_sent_on: None,
            finalized_on: None,
        }),
    };
    Some(PaymentEvent {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: brand(cx),
        order_id: v.1,
        kind: v.2?,
        amount: v.3,
        reason: v.4,
        gateway: v.5,
        occurred_at,
        updated_at: v.7.unwrap_or(occurred_at),
        dispute,
    })
}

/// A storefront event, in web pixels' terms: `id` (the event's), `name`
/// (a standard event), `session_id` (the pixel's `clientId` or the
/// storefront's session), `occurred_at` (the pixel's `timestamp`).
fn funnel_event(o: &Obj, cx: &RecordContext) -> Option<FunnelEvent> {
    let id = o.string("id");
    let name = o.string("name").and_then(|n| {
        let event = PixelEvent::parse(&n);
        if event.is_none() {
            o.problem(
                "name",
                format!(
                    "{:?} is not a web pixels standard event; one of {}",
                    opsdeck_domain::bounds::excerpt(&n),
                    PixelEvent::names().join(", ")
                ),
            );
        }
        event
    });
    let session_id = o.string("session_id");
    let occurred_at = o.timestamp("occurred_at");
    Some(FunnelEvent {
        id: id?,
        brand: brand(cx),
        name: name?,
        session_id: session_id?,
        occurred_at: occurred_at?,
    })
}

fn health_check(o: &Obj, cx: &RecordContext) -> Option<HealthCheck> {
    let latency = o.opt_int("latency_ms");
    if latency.is_some_and(|l| l < 0) {
        o.problem("latency_ms", "must not be negative");
    }
    let v = (
        o.string("external_id"),
        o.string("dependency"),
        o.one_of("status", &["ok", "failed"]),
        o.opt_string("detail"),
        o.timestamp("checked_at"),
        o.opt_timestamp("updated_at"),
    );
    let checked_at = v.4?;
    Some(HealthCheck {
        source: cx.source.clone(),
        external_id: v.0?,
        brand: brand(cx),
        dependency: v.1?,
        status: v.2?.parse().ok()?,
        latency_ms: latency.and_then(|l| u64::try_from(l).ok()),
        detail: v.3,
        checked_at,
        updated_at: v.5.unwrap_or(checked_at),
    })
}
