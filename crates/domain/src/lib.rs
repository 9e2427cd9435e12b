//! The merchant's world as types: what an order, a product, a ticket and an
//! amount of money *are*, independent of any platform, database or web crate.
//!
//! Everything that comes from outside (a Shopify payload, a Gorgias ticket, an
//! ingest batch, a CSV row) is parsed into these types at the edge; past that
//! point the code never re-validates. Platform enums that may grow (a new
//! `financial_status`, a new shipment status) keep unknown values as
//! `Other(String)` instead of failing.
//!
//! # Layout
//! - [`bounds`]: how long, large, early or deep any value from outside may be;
//!   [`bounds::Bounded`] walks a record's fields.
//! - [`money`]: [`Money`] and [`Currency`], integer minor units, exact decimal parsing.
//! - [`ids`]: [`BrandId`] and [`SourceId`], validated identifiers.
//! - [`brand`]: a [`Brand`], its kind, time zone and thresholds.
//! - [`order`]: orders, line items, fulfillments and refunds.
//! - [`catalog`]: products, variants and inventory levels.
//! - [`customer`]: a customer's lifetime order count and spend.
//! - [`checkout`]: abandoned checkouts.
//! - [`funnel`]: storefront funnel events (web pixels' standard events) and
//!   the steps a session reached.
//! - [`dispute`]: where a card dispute stands, beside its payment event.
//! - [`support`]: helpdesk tickets, messages and satisfaction surveys.
//! - [`health`]: system health checks (HTTP, heartbeat, threshold, success
//!   ratio), their results and the one rule that gives a check's state.
//! - [`operations`]: what the ingest API brings beyond those: tracking events,
//!   inventory batches, return requests, review-queue items, payment events,
//!   health checks, and partial updates of an order.
//! - [`region`]: a [`Region`]: brands and countries grouped under one
//!   currency, time zone and leads.
//! - [`period`]: today / this week / this month windows in a brand's time zone,
//!   and the same elapsed span of the prior period.
//! - [`privacy`]: privacy requests (export, erasure) and their 30-day
//!   deadline.
//! - [`erasure`]: which fields of a record an erasure replaces, and the
//!   keys that remember an erased person so their data does not come back.
//! - [`secret`]: [`Secret`], a value that never prints.
//! - [`shopify_api`]: [`ShopifyApi`], REST or GraphQL.
//! - [`sla`]: the deadline clock of a queued item: at risk at 75 % of its
//!   window, breached after it.
//! - [`record`]: the identity every stored record shares (source, external id)
//!   and [`RecordKind`], the closed list of kinds the store keeps, and
//!   [`AnyRecord`], a record of any kind.

#[macro_use]
mod open_enum;

pub mod bounds;
pub mod brand;
pub mod catalog;
pub mod checkout;
pub mod customer;
pub mod dispute;
pub mod erasure;
pub mod funnel;
pub mod health;
pub mod ids;
pub mod money;
pub mod operations;
pub mod order;
pub mod period;
pub mod privacy;
pub mod record;
pub mod region;
pub mod secret;
pub mod shopify_api;
pub mod sla;
pub mod support;

pub use bounds::{BoundError, Bounded, FieldBound};
pub use brand::{Brand, BrandKind, Thresholds};
pub use catalog::{InventoryLevel, Product, ProductStatus, Variant};
pub use checkout::AbandonedCheckout;
pub use customer::CustomerSummary;
pub use ids::{BrandId, IdError, RegionId, SourceId};
pub use money::{Currency, Money, MoneyError};
pub use operations::{
    Applied, FulfillmentUpdate, HealthCheck, HealthStatus, InventoryBatch, OrderStatusChange,
    PaymentEvent, PaymentEventKind, ReturnKind, ReturnRequest, ReturnStatus, ReturnStatusChange,
    ReviewItem, ReviewStatus, TrackingEvent, TrackingStatus,
};
pub use operations::{OcrState, ReviewEvent, ReviewEventKind, ReviewEventSeen};
pub use order::{
    CustomerRef, FinancialStatus, Fulfillment, FulfillmentState, LineItem, Order,
    OrderFulfillmentStatus, Refund, RefundLineItem, ShipmentStatus, ShippedUnits,
};
pub use period::{Period, PeriodWindow};
pub use record::{AnyRecord, Record, RecordKey, RecordKind};
pub use region::Region;
pub use secret::Secret;
pub use shopify_api::ShopifyApi;
pub use support::{Channel, SatisfactionSurvey, Ticket, TicketMessage, TicketStatus};

/// An instant in UTC. Storage and computation always use this; only the
/// screen converts to a brand's time zone.
pub type Timestamp = jiff::Timestamp;
