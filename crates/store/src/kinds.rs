//! Every record kind the store keeps, in one place: its count in
//! [`RecordCounts`], its table and the report columns copied out of its
//! JSON body ([`AnyRecord`] itself is the domain's).
//!
//! The mapping from [`RecordKind`] to its table is one exhaustive `match`
//! ([`describe`]) and the kind's columns sit next to the code that fills
//! them ([`Stored::COLUMNS`]), so a kind added to the domain does not
//! compile until it has a table here, and a column cannot be declared
//! without its value. The SQL (upsert, lookups, the change feed, counts) is
//! built from these tables in [`crate::schema`], once for every kind.
//!
//! A [`Stored`] impl declares its table whole (name, report columns with
//! their nullability, indexes): after the migrations,
//! [`crate::Store::migrate`] creates a kind's table from it where missing,
//! so a new kind needs no migration file. The conformance suite checks that
//! the descriptors and the migrated tables agree.
//!
//! Adding a kind: its domain type, [`RecordKind`] variant and [`AnyRecord`]
//! variant (`opsdeck_domain::record`), then here its [`RecordCounts`]
//! field, its [`Stored`] impl and its arm of [`describe`]
//! (docs/recipes/record-kind.md).

use crate::db::Value;
use crate::schema::{decode, micros, opt_micros, text, SqlType};
use crate::Result;
use opsdeck_domain::{
    AbandonedCheckout, CustomerSummary, HealthCheck, InventoryBatch, InventoryLevel, Order,
    PaymentEvent, Product, Record, RecordKind, ReturnRequest, ReviewItem, SatisfactionSurvey,
    Ticket, TicketMessage, TrackingEvent,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::LazyLock;
use SqlType::{BigInt, Bool, Text as Txt};

/// A record of any kind: the domain's (connectors build it too), with the
/// store's view of it in [`StoredRecord`].
pub use opsdeck_domain::AnyRecord;

/// What the store writes of any record: its report columns and its JSON
/// body, through the domain's one dispatch over [`AnyRecord`].
pub(crate) trait StoredRecord {
    /// The record's report columns, in its table's order (after the
    /// common ones).
    fn columns(&self) -> Vec<Value>;
    /// The record as its JSON body.
    fn body(&self) -> String;
}

impl StoredRecord for AnyRecord {
    fn columns(&self) -> Vec<Value> {
        fn values<T: Stored>(r: &T) -> Vec<Value> {
            T::COLUMNS.iter().map(|c| (c.value)(r)).collect()
        }
        opsdeck_domain::dispatch_any_record!(self, r => values(r))
    }

    fn body(&self) -> String {
        opsdeck_domain::dispatch_any_record!(self, r => to_json(r))
    }
}

/// Domain records are plain data (strings, integers, nested structs, enums
/// serialized as strings): serializing them to JSON cannot fail.
fn to_json<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("domain records always serialize to JSON")
}

/// Records stored, per kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RecordCounts {
    pub orders: u64,
    pub products: u64,
    pub inventory_levels: u64,
    pub tickets: u64,
    pub ticket_messages: u64,
    pub satisfaction_surveys: u64,
    pub tracking_events: u64,
    pub inventory_batches: u64,
    pub return_requests: u64,
    pub review_items: u64,
    pub payment_events: u64,
    pub health_checks: u64,
    pub customer_summaries: u64,
    pub abandoned_checkouts: u64,
}

impl RecordCounts {
    /// The count of `kind`.
    pub fn of_kind(&self, kind: RecordKind) -> u64 {
        *{ *self }.of_kind_mut(kind)
    }

    /// The count of `kind`, to set.
    pub fn of_kind_mut(&mut self, kind: RecordKind) -> &mut u64 {
        match kind {
            RecordKind::Order => &mut self.orders,
            RecordKind::Product => &mut self.products,
            RecordKind::InventoryLevel => &mut self.inventory_levels,
            RecordKind::Ticket => &mut self.tickets,
            RecordKind::TicketMessage => &mut self.ticket_messages,
            RecordKind::SatisfactionSurvey => &mut self.satisfaction_surveys,
            RecordKind::TrackingEvent => &mut self.tracking_events,
            RecordKind::InventoryBatch => &mut self.inventory_batches,
            RecordKind::ReturnRequest => &mut self.return_requests,
            RecordKind::ReviewItem => &mut self.review_items,
            RecordKind::PaymentEvent => &mut self.payment_events,
            RecordKind::HealthCheck => &mut self.health_checks,
            RecordKind::CustomerSummary => &mut self.customer_summaries,
            RecordKind::AbandonedCheckout => &mut self.abandoned_checkouts,
        }
    }

    /// Records of every kind together.
    pub fn total(&self) -> u64 {
        RecordKind::ALL.into_iter().map(|k| self.of_kind(k)).sum()
    }
}

/// A report column of kind `T`'s table: a copy of one field of the JSON
/// body that SQL reports filter on.
pub(crate) struct Column<T> {
    pub(crate) name: &'static str,
    pub(crate) ty: SqlType,
    /// Whether the column may be NULL (made by [`opt_col`]).
    pub(crate) nullable: bool,
    pub(crate) value: fn(&T) -> Value,
}

/// A `NOT NULL` report column.
const fn col<T>(name: &'static str, ty: SqlType, value: fn(&T) -> Value) -> Column<T> {
    Column {
        name,
        ty,
        nullable: false,
        value,
    }
}

/// A report column that may be NULL.
const fn opt_col<T>(name: &'static str, ty: SqlType, value: fn(&T) -> Value) -> Column<T> {
    Column {
        name,
        ty,
        nullable: true,
        value,
    }
}

/// An index of a kind's table besides its primary key `(source,
/// external_id)` and the unique index on `seq` every table has. Named
/// `{table}_{suffix}`.
#[derive(Debug)]
pub(crate) struct Index {
    pub(crate) suffix: &'static str,
    pub(crate) unique: bool,
    pub(crate) columns: &'static [&'static str],
}

/// A (non-unique) index `{table}_{suffix}` on `columns`.
const fn index(suffix: &'static str, columns: &'static [&'static str]) -> Index {
    Index {
        suffix,
        unique: false,
        columns,
    }
}

/// A domain record as the store keeps it: a row of its own table, keyed by
/// (source, external id), holding the JSON body and the report columns.
pub(crate) trait Stored: Record + Serialize + DeserializeOwned + 'static {
    /// The table's name.
    const TABLE: &'static str;
    /// The report columns after the common ones, in parameter order.
    const COLUMNS: &'static [Column<Self>];
    /// The table's indexes besides its primary key and `seq`.
    const INDEXES: &'static [Index];
    /// Whether `brand_id` may be NULL: the kind's [`Record::brand`] is
    /// optional (helpdesk records before an attribution rule claims them).
    const BRAND_OPTIONAL: bool = false;
    fn into_any(self) -> AnyRecord;
}

impl Stored for Order {
    const TABLE: &'static str = "orders";
    const COLUMNS: &'static [Column<Self>] = &[
        col("name", Txt, |o| text(&o.name)),
        col("created_at_us", BigInt, |o| {
            Value::Int(Some(micros(o.created_at)))
        }),
        opt_col("cancelled_at_us", BigInt, |o| opt_micros(o.cancelled_at)),
        col("test", Bool, |o| Value::Bool(o.test)),
        col("total_minor", BigInt, |o| {
            Value::Int(Some(o.total_price.minor))
        }),
        col("currency", Txt, |o| text(o.total_price.currency.code())),
        col("financial_status", Txt, |o| {
            text(o.financial_status.as_str())
        }),
        col("fulfillment_status", Txt, |o| {
            text(o.fulfillment_status.as_str())
        }),
    ];
    const INDEXES: &'static [Index] = &[index("brand_created", &["brand_id", "created_at_us"])];
    fn into_any(self) -> AnyRecord {
        AnyRecord::Order(self)
    }
}

impl Stored for Product {
    const TABLE: &'static str = "products";
    const COLUMNS: &'static [Column<Self>] = &[col("status", Txt, |p| text(p.status.as_str()))];
    const INDEXES: &'static [Index] = &[index("brand_status", &["brand_id", "status"])];
    fn into_any(self) -> AnyRecord {
        AnyRecord::Product(self)
    }
}

impl Stored for InventoryLevel {
    const TABLE: &'static str = "inventory_levels";
    const COLUMNS: &'static [Column<Self>] = &[
        col("inventory_item_id", Txt, |l| text(&l.inventory_item_id)),
        col("location_id", Txt, |l| text(&l.location_id)),
        opt_col("available", BigInt, |l| Value::Int(l.available)),
    ];
    const INDEXES: &'static [Index] = &[index("item", &["source", "inventory_item_id"])];
    fn into_any(self) -> AnyRecord {
        AnyRecord::InventoryLevel(self)
    }
}

impl Stored for Ticket {
    const TABLE: &'static str = "tickets";
    const COLUMNS: &'static [Column<Self>] = &[
        col("status", Txt, |t| text(t.status.as_str())),
        col("channel", Txt, |t| text(t.channel.as_str())),
        col("created_at_us", BigInt, |t| {
            Value::Int(Some(micros(t.created_at)))
        }),
        opt_col("closed_at_us", BigInt, |t| opt_micros(t.closed_at)),
    ];
    const INDEXES: &'static [Index] = &[index("brand_created", &["brand_id", "created_at_us"])];
    const BRAND_OPTIONAL: bool = true;
    fn into_any(self) -> AnyRecord {
        AnyRecord::Ticket(self)
    }
}

impl Stored for TicketMessage {
    const TABLE: &'static str = "ticket_messages";
    const COLUMNS: &'static [Column<Self>] = &[
        col("ticket_id", Txt, |m| text(&m.ticket_id)),
        col("created_at_us", BigInt, |m| {
            Value::Int(Some(micros(m.created_at)))
        }),
    ];
    const INDEXES: &'static [Index] = &[index("ticket", &["source", "ticket_id"])];
    const BRAND_OPTIONAL: bool = true;
    fn into_any(self) -> AnyRecord {
        AnyRecord::TicketMessage(self)
    }
}

impl Stored for SatisfactionSurvey {
    const TABLE: &'static str = "satisfaction_surveys";
    const COLUMNS: &'static [Column<Self>] = &[
        col("ticket_id", Txt, |s| text(&s.ticket_id)),
        opt_col("score", BigInt, |s| Value::Int(s.score.map(i64::from))),
        opt_col("scored_at_us", BigInt, |s| opt_micros(s.scored_at)),
    ];
    const INDEXES: &'static [Index] = &[index("ticket", &["source", "ticket_id"])];
    const BRAND_OPTIONAL: bool = true;
    fn into_any(self) -> AnyRecord {
        AnyRecord::SatisfactionSurvey(self)
    }
}

// The kinds the ingest API brings (migration 0002).

impl Stored for TrackingEvent {
    const TABLE: &'static str = "tracking_events";
    const COLUMNS: &'static [Column<Self>] = &[
        opt_col("order_id", Txt, |e| Value::Text(e.order_id.clone())),
        col("status", Txt, |e| text(e.status.as_str())),
        col("occurred_at_us", BigInt, |e| {
            Value::Int(Some(micros(e.occurred_at)))
        }),
    ];
    const INDEXES: &'static [Index] = &[
        index("brand_occurred", &["brand_id", "occurred_at_us"]),
        index("order", &["source", "order_id"]),
    ];
    fn into_any(self) -> AnyRecord {
        AnyRecord::TrackingEvent(self)
    }
}

impl Stored for InventoryBatch {
    const TABLE: &'static str = "inventory_batches";
    const COLUMNS: &'static [Column<Self>] = &[
        col("sku", Txt, |b| text(&b.sku)),
        col("quantity", BigInt, |b| Value::Int(Some(b.quantity))),
        opt_col("expires_on", Txt, |b| {
            Value::Text(b.expires_on.map(|d| d.to_string()))
        }),
    ];
    // expires_on is an ISO date (YYYY-MM-DD), which sorts as text.
    const INDEXES: &'static [Index] = &[index("brand_expires", &["brand_id", "expires_on"])];
    fn into_any(self) -> AnyRecord {
        AnyRecord::InventoryBatch(self)
    }
}

impl Stored for ReturnRequest {
    const TABLE: &'static str = "return_requests";
    const COLUMNS: &'static [Column<Self>] = &[
        opt_col("order_id", Txt, |r| Value::Text(r.order_id.clone())),
        col("kind", Txt, |r| text(r.kind.as_str())),
        col("status", Txt, |r| text(r.status.as_str())),
        col("requested_at_us", BigInt, |r| {
            Value::Int(Some(micros(r.requested_at)))
        }),
    ];
    const INDEXES: &'static [Index] = &[
        index("brand_requested", &["brand_id", "requested_at_us"]),
        index("brand_status", &["brand_id", "status"]),
    ];
    fn into_any(self) -> AnyRecord {
        AnyRecord::ReturnRequest(self)
    }
}

impl Stored for ReviewItem {
    const TABLE: &'static str = "review_items";
    const COLUMNS: &'static [Column<Self>] = &[
        col("queue", Txt, |r| text(&r.queue)),
        col("status", Txt, |r| text(r.status.as_str())),
        col("submitted_at_us", BigInt, |r| {
            Value::Int(Some(micros(r.submitted_at)))
        }),
    ];
    const INDEXES: &'static [Index] = &[index(
        "brand_status",
        &["brand_id", "status", "submitted_at_us"],
    )];
    fn into_any(self) -> AnyRecord {
        AnyRecord::ReviewItem(self)
    }
}

impl Stored for PaymentEvent {
    const TABLE: &'static str = "payment_events";
    const COLUMNS: &'static [Column<Self>] = &[
        opt_col("order_id", Txt, |e| Value::Text(e.order_id.clone())),
        col("kind", Txt, |e| text(e.kind.as_str())),
        col("occurred_at_us", BigInt, |e| {
            Value::Int(Some(micros(e.occurred_at)))
        }),
    ];
    const INDEXES: &'static [Index] = &[index("brand_occurred", &["brand_id", "occurred_at_us"])];
    fn into_any(self) -> AnyRecord {
        AnyRecord::PaymentEvent(self)
    }
}

impl Stored for HealthCheck {
    const TABLE: &'static str = "health_checks";
    const COLUMNS: &'static [Column<Self>] = &[
        col("dependency", Txt, |h| text(&h.dependency)),
        col("status", Txt, |h| text(h.status.as_str())),
        col("checked_at_us", BigInt, |h| {
            Value::Int(Some(micros(h.checked_at)))
        }),
    ];
    const INDEXES: &'static [Index] = &[index(
        "brand_dependency",
        &["brand_id", "dependency", "checked_at_us"],
    )];
    fn into_any(self) -> AnyRecord {
        AnyRecord::HealthCheck(self)
    }
}

// The kinds only Shopify's GraphQL Admin API reads (issue 13).

impl Stored for CustomerSummary {
    const TABLE: &'static str = "customer_summaries";
    const COLUMNS: &'static [Column<Self>] = &[
        col("order_count", BigInt, |c| {
            Value::Int(Some(i64::try_from(c.order_count).unwrap_or(i64::MAX)))
        }),
        col("lifetime_spend_minor", BigInt, |c| {
            Value::Int(Some(c.lifetime_spend.minor))
        }),
        col("created_at_us", BigInt, |c| {
            Value::Int(Some(micros(c.created_at)))
        }),
    ];
    // Risk flags (issue 15) rank a brand's customers by spend.
    const INDEXES: &'static [Index] =
        &[index("brand_spend", &["brand_id", "lifetime_spend_minor"])];
    fn into_any(self) -> AnyRecord {
        AnyRecord::CustomerSummary(self)
    }
}

impl Stored for AbandonedCheckout {
    const TABLE: &'static str = "abandoned_checkouts";
    const COLUMNS: &'static [Column<Self>] = &[
        opt_col("customer_id", Txt, |c| Value::Text(c.customer_id.clone())),
        opt_col("total_minor", BigInt, |c| {
            Value::Int(c.total.map(|m| m.minor))
        }),
        col("created_at_us", BigInt, |c| {
            Value::Int(Some(micros(c.created_at)))
        }),
        opt_col("completed_at_us", BigInt, |c| opt_micros(c.completed_at)),
    ];
    // The abandonment funnel counts a brand's checkouts by creation time.
    const INDEXES: &'static [Index] = &[index("brand_created", &["brand_id", "created_at_us"])];
    fn into_any(self) -> AnyRecord {
        AnyRecord::AbandonedCheckout(self)
    }
}

/// One record kind's table, as the SQL builder and the decoder need it.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) kind: RecordKind,
    pub(crate) name: &'static str,
    /// The report columns after the common ones, in parameter order.
    pub(crate) extra: Vec<(&'static str, SqlType)>,
    /// The columns that may be NULL (common or report); the rest are
    /// `NOT NULL`.
    pub(crate) nullable: Vec<&'static str>,
    /// The indexes besides the primary key and `seq`.
    pub(crate) indexes: &'static [Index],
    /// Decodes a stored body (with the row's external id, for the error)
    /// into the kind's variant of [`AnyRecord`].
    pub(crate) decode: fn(&str, &str) -> Result<AnyRecord>,
}

impl Table {
    fn of<T: Stored>() -> Table {
        Table {
            kind: T::KIND,
            name: T::TABLE,
            extra: T::COLUMNS.iter().map(|c| (c.name, c.ty)).collect(),
            nullable: T::BRAND_OPTIONAL
                .then_some("brand_id")
                .into_iter()
                .chain(T::COLUMNS.iter().filter(|c| c.nullable).map(|c| c.name))
                .collect(),
            indexes: T::INDEXES,
            decode: |id, body| decode::<T>(T::KIND, id, body).map(T::into_any),
        }
    }
}

/// The table of each kind. Exhaustive: a [`RecordKind`] without a table
/// does not compile.
fn describe(kind: RecordKind) -> Table {
    match kind {
        RecordKind::Order => Table::of::<Order>(),
        RecordKind::Product => Table::of::<Product>(),
        RecordKind::InventoryLevel => Table::of::<InventoryLevel>(),
        RecordKind::Ticket => Table::of::<Ticket>(),
        RecordKind::TicketMessage => Table::of::<TicketMessage>(),
        RecordKind::SatisfactionSurvey => Table::of::<SatisfactionSurvey>(),
        RecordKind::TrackingEvent => Table::of::<TrackingEvent>(),
        RecordKind::InventoryBatch => Table::of::<InventoryBatch>(),
        RecordKind::ReturnRequest => Table::of::<ReturnRequest>(),
        RecordKind::ReviewItem => Table::of::<ReviewItem>(),
        RecordKind::PaymentEvent => Table::of::<PaymentEvent>(),
        RecordKind::HealthCheck => Table::of::<HealthCheck>(),
        RecordKind::CustomerSummary => Table::of::<CustomerSummary>(),
        RecordKind::AbandonedCheckout => Table::of::<AbandonedCheckout>(),
    }
}

/// One value per record kind, looked up by kind (never by a number).
#[derive(Debug)]
pub(crate) struct PerKind<T>([T; RecordKind::COUNT]);

impl<T> PerKind<T> {
    pub(crate) fn new(f: impl FnMut(RecordKind) -> T) -> PerKind<T> {
        PerKind(RecordKind::ALL.map(f))
    }

    /// Each kind with its value, in [`RecordKind::ALL`] order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (RecordKind, &T)> {
        RecordKind::ALL.into_iter().zip(self.0.iter())
    }
}

impl<T> std::ops::Index<RecordKind> for PerKind<T> {
    type Output = T;
    fn index(&self, kind: RecordKind) -> &T {
        &self.0[kind.index()]
    }
}

impl<T> std::ops::IndexMut<RecordKind> for PerKind<T> {
    fn index_mut(&mut self, kind: RecordKind) -> &mut T {
        &mut self.0[kind.index()]
    }
}

static TABLES: LazyLock<PerKind<Table>> = LazyLock::new(|| PerKind::new(describe));

/// The table of `kind`.
pub(crate) fn table(kind: RecordKind) -> &'static Table {
    &TABLES[kind]
}

/// Every table, in [`RecordKind::ALL`] order.
pub(crate) fn tables() -> impl Iterator<Item = &'static Table> {
    TABLES.iter().map(|(_, t)| t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_maps_to_its_own_table() {
        let mut names = std::collections::HashSet::new();
        for kind in RecordKind::ALL {
            let t = table(kind);
            assert_eq!(t.kind, kind, "{kind} is mapped to the table of {}", t.kind);
            assert!(names.insert(t.name), "{} is the table of two kinds", t.name);
        }
    }

    #[test]
    fn counts_of_each_kind_are_their_own_field() {
        let mut counts = RecordCounts::default();
        for (n, kind) in RecordKind::ALL.into_iter().enumerate() {
            *counts.of_kind_mut(kind) = 1 << n;
        }
        assert_eq!(counts.total(), (1 << RecordKind::COUNT) - 1);
    }
}
