//! The projection: in-memory analytic state built from the store at start and
//! kept current from its change feed, so no panel ever scans all orders.
//!
//! - Built by reading the whole change feed (`changes_since(0)`, paged: it
//!   returns every record once, at its latest version) and kept current by
//!   reading `changes_since(last_seq)` ([`follow_changes`]).
//! - Each record becomes a compact row (an order is a few dozen bytes plus
//!   its lines and shipments; strings such as SKUs and carriers are
//!   interned) and contributes to rollups per brand and per local day, and
//!   per UTC hour/second for sales, so a range query touches at most one
//!   entry per hour or day in it.
//! - [`Projection::apply`] removes the old row's contribution and adds the
//!   new one, so applying changes one by one and rebuilding from the store
//!   give equal projections (`PartialEq`, tested with a property test).
//! - Records of a kind it does not know yet (new ingest kinds), or of a
//!   brand that is not configured, are counted and otherwise ignored.
//!
//! Layout: `keys` (hashing and interning), `series` (counters and the sales
//! time series), `text` (ticket keyword rules), `orders`, `rows` (dense
//! order rows and their number and customer indexes), `row_table` (the
//! table those indexes are made of), `support`, `links` (ticket → order links and what the
//! urgent queue and where-is-my-order derive from them), `catalog`,
//! `operations` (the other ingest kinds, order timeline extras), `queue`
//! (the requests and disputes waiting in the refunds queue),
//! `customers` (what the customer risk flags read beyond the order rows).

pub mod catalog;
pub mod customers;
pub mod keys;
pub mod links;
pub mod operations;
pub mod orders;
pub mod queue;
pub mod row_table;
pub mod rows;
pub mod series;
pub mod support;
pub mod text;

use jiff::tz::TimeZone;
use jiff::ToSpan;
use opsdeck_domain::{Brand, BrandId, Timestamp};
use opsdeck_store::{AnyRecord, Change, Store, StoreError};
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use catalog::CatalogState;
pub use keys::Symbols;
pub use orders::{OrderRow, OrderState, Stage};
pub use support::SupportState;

/// A brand's position in the configuration (brands are few).
pub type BrandIx = u8;

/// Which orders are subscription renewals: by tag or by the app that
/// created them (both compared case-insensitively).
#[derive(Debug, Clone, PartialEq)]
pub struct SubscriptionRules {
    pub tags: Vec<String>,
    pub source_names: Vec<String>,
}

impl Default for SubscriptionRules {
    /// Tags and source names the common subscription apps (Recharge, Skio,
    /// Appstle, Loop, Seal, Bold, Shopify Subscriptions) put on renewals.
    fn default() -> Self {
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect();
        SubscriptionRules {
            tags: s(&[
                "subscription recurring order",
                "recurring order",
                "subscription",
                "recurring",
                "appstle_subscription_recurring_order",
                "skio",
                "loop_subscription",
                "seal subscriptions",
                "bold subscriptions",
            ]),
            source_names: s(&[
                "subscription_contract",
                "recharge",
                "skio",
                "appstle",
                "loop",
                "seal",
                "bold",
            ]),
        }
    }
}

impl SubscriptionRules {
    pub fn is_recurring(&self, tags: &[String], source_name: Option<&str>) -> bool {
        tags.iter()
            .any(|t| self.tags.iter().any(|r| r.eq_ignore_ascii_case(t.trim())))
            || source_name
                .is_some_and(|s| self.source_names.iter().any(|r| r.eq_ignore_ascii_case(s)))
    }
}

/// The rules a projection is built with beyond the brands: subscription
/// renewals, the helpdesk's attribution tags and the account's time zone.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ProjectionRules {
    pub subscription: SubscriptionRules,
    /// Tags the helpdesk attribution rules read: they name a brand, not an
    /// issue, so top issues leave them out (compared without case).
    pub attribution_tags: Vec<String>,
    /// The zone of the account-wide and unattributed support views; the
    /// first brand's zone (else UTC) when `None`.
    pub account_zone: Option<TimeZone>,
}

impl From<SubscriptionRules> for ProjectionRules {
    fn from(subscription: SubscriptionRules) -> Self {
        ProjectionRules {
            subscription,
            ..Default::default()
        }
    }
}

/// What the projection is built for: the configured brands (their zones
/// decide which local day a record falls on) and the classification rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Context {
    pub brands: Vec<Brand>,
    pub subscription: SubscriptionRules,
    /// Ticket tags (interned, lowercase) that mark an order-status inquiry.
    pub inquiry_tags: Vec<u32>,
    /// Ticket tags (interned, lowercase) of the attribution rules: never
    /// counted as issues.
    pub attribution_tags: Vec<u32>,
    /// The zone of [`support::UNATTRIBUTED`] and [`support::ALL_BRANDS`].
    pub account_zone: TimeZone,
}

impl Context {
    /// The zone a brand index's local days are in: the brand's own, or the
    /// account's for the unattributed and account-wide support views.
    pub fn zone(&self, b: BrandIx) -> &TimeZone {
        self.brands
            .get(usize::from(b))
            .map_or(&self.account_zone, |brand| &brand.time_zone)
    }

    pub fn brand_ix(&self, id: &BrandId) -> Option<BrandIx> {
        self.brands
            .iter()
            .position(|b| &b.id == id)
            .and_then(|i| u8::try_from(i).ok())
    }
}

/// Default ticket tags meaning "where is my order".
pub const DEFAULT_INQUIRY_TAGS: &[&str] = &[
    "wismo",
    "order-status",
    "order status",
    "tracking",
    "where-is-my-order",
    "delivery",
];

/// The whole analytic state.
#[derive(Debug, Clone)]
pub struct Projection {
    pub ctx: Context,
    pub syms: Symbols,
    pub orders: OrderState,
    pub support: SupportState,
    pub catalog: CatalogState,
    /// Ingest kinds beyond orders/catalog/helpdesk, and order timeline extras.
    pub ops: operations::OperationsState,
    /// Lifetime figures, return requests and disputes by customer and order.
    pub customers: customers::CustomerState,
    /// Highest change sequence applied.
    pub last_seq: u64,
    /// Records skipped: unknown brand or a kind not projected yet.
    pub skipped: u64,
}

/// Equal when every row and rollup is. The symbol table is left out: it
/// is a cache of texts keyed by their hash, and keeps the texts of versions
/// an update replaced (a projection built change by change knows more
/// texts than one rebuilt, never different ones).
impl PartialEq for Projection {
    fn eq(&self, o: &Self) -> bool {
        self.ctx == o.ctx
            && self.orders == o.orders
            && self.support == o.support
            && self.catalog == o.catalog
            && self.ops == o.ops
            && self.customers == o.customers
            && self.last_seq == o.last_seq
            && self.skipped == o.skipped
    }
}

impl Projection {
    pub fn new(brands: Vec<Brand>, rules: impl Into<ProjectionRules>) -> Projection {
        let rules = rules.into();
        let mut syms = Symbols::default();
        let inquiry_tags = DEFAULT_INQUIRY_TAGS
            .iter()
            .map(|t| syms.intern(t))
            .collect();
        let mut attribution_tags: Vec<u32> = rules
            .attribution_tags
            .iter()
            .map(|t| t.trim().to_lowercase())
            .filter(|t| !t.is_empty())
            .map(|t| syms.intern(&t))
            .collect();
        attribution_tags.sort_unstable();
        attribution_tags.dedup();
        let account_zone = rules.account_zone.unwrap_or_else(|| {
            brands
                .first()
                .map_or(TimeZone::UTC, |b| b.time_zone.clone())
        });
        let n = brands.len();
        Projection {
            ctx: Context {
                brands,
                subscription: rules.subscription,
                inquiry_tags,
                attribution_tags,
                account_zone,
            },
            syms,
            orders: OrderState::new(n),
            support: SupportState::default(),
            catalog: CatalogState::default(),
            ops: operations::OperationsState::default(),
            customers: customers::CustomerState::default(),
            last_seq: 0,
            skipped: 0,
        }
    }

    /// Applies one change (the record as it now is).
    pub fn apply(&mut self, change: &Change) {
        self.apply_record(&change.record);
        self.last_seq = self.last_seq.max(change.seq);
    }

    /// Applies a record's latest version, replacing whatever it replaced.
    pub fn apply_record(&mut self, record: &AnyRecord) {
        let ctx = &self.ctx;
        let brand = record.brand().and_then(|b| ctx.brand_ix(b));
        // Exhaustive: a new record kind does not compile until the
        // projection says what it keeps of it (or that it keeps nothing).
        let syms = &mut self.syms;
        match (record, brand) {
            (AnyRecord::Order(o), Some(b)) => {
                self.ops.apply_order(o);
                self.customers
                    .apply_order(o, ctx.brands[usize::from(b)].currency);
                let touched = self.orders.apply(o, b, ctx, syms);
                self.support.refresh_links(&touched, ctx, &self.orders);
            }
            (AnyRecord::Product(p), Some(b)) => self.catalog.apply_product(p, b, syms),
            (AnyRecord::InventoryLevel(l), Some(b)) => self.catalog.apply_level(l, b, syms),
            // Helpdesk records may have no brand yet: they still link
            // messages to tickets, and count once attributed.
            (AnyRecord::Ticket(t), _) => self.support.apply_ticket(t, ctx, syms, &self.orders),
            (AnyRecord::TicketMessage(m), _) => {
                self.support.apply_message(m, ctx, syms, &self.orders)
            }
            (AnyRecord::SatisfactionSurvey(s), _) => self.support.apply_survey(s, ctx),
            (AnyRecord::TrackingEvent(e), Some(b)) => self.ops.apply_tracking(e, b, syms),
            (AnyRecord::InventoryBatch(x), Some(b)) => self.ops.apply_batch(x, b, syms),
            (AnyRecord::ReturnRequest(r), Some(b)) => {
                self.ops.apply_return(r, b);
                self.customers.apply_return(r);
            }
            (AnyRecord::PaymentEvent(e), Some(b)) => {
                self.ops.apply_payment(e, b);
                self.customers.apply_payment(e);
            }
            (AnyRecord::ReviewItem(r), Some(b)) => self.ops.apply_review(r, b, syms),
            (AnyRecord::HealthCheck(h), Some(b)) => self.ops.apply_health(h, b, syms),
            (AnyRecord::CustomerSummary(c), Some(b)) => self.customers.apply_summary(c, b),
            // Stored for what comes next (issue 15: the abandonment
            // funnel); no panel reads them yet, so the projection keeps
            // nothing of them: a kind not projected yet.
            (AnyRecord::AbandonedCheckout(_), _) => self.skipped += 1,
            // A brand that is not configured.
            (
                AnyRecord::Order(_)
                | AnyRecord::Product(_)
                | AnyRecord::InventoryLevel(_)
                | AnyRecord::TrackingEvent(_)
                | AnyRecord::InventoryBatch(_)
                | AnyRecord::ReturnRequest(_)
                | AnyRecord::PaymentEvent(_)
                | AnyRecord::ReviewItem(_)
                | AnyRecord::HealthCheck(_)
                | AnyRecord::CustomerSummary(_),
                None,
            ) => self.skipped += 1,
        }
    }

    /// Builds the projection from everything in the store.
    pub async fn build(
        store: &dyn Store,
        brands: Vec<Brand>,
        rules: impl Into<ProjectionRules>,
    ) -> Result<Projection, StoreError> {
        let mut p = Projection::new(brands, rules);
        p.catch_up(store).await?;
        Ok(p)
    }

    /// Applies every change after `last_seq`; returns how many.
    pub async fn catch_up(&mut self, store: &dyn Store) -> Result<usize, StoreError> {
        let mut n = 0;
        loop {
            let page = store.changes_since(self.last_seq, PAGE).await?;
            for c in &page {
                self.apply(c);
            }
            n += page.len();
            if page.len() < PAGE as usize {
                return Ok(n);
            }
        }
    }

    pub fn brand(&self, ix: BrandIx) -> &Brand {
        &self.ctx.brands[usize::from(ix)]
    }

    pub fn order_count(&self) -> usize {
        self.orders.rows.len()
    }
}

const PAGE: u32 = 2_000;

/// The projection shared between the refresher (the only writer) and
/// request handlers (readers). Writers hold the lock for one page of changes.
pub type SharedProjection = Arc<RwLock<Projection>>;

/// Keeps `shared` current: every `every` (or as soon as `wake` is
/// notified), reads new changes from the store without holding the lock and
/// applies them page by page under a short write lock. Returns when `stop`
/// turns true. A store error is logged and retried on the next tick.
pub async fn follow_changes(
    shared: SharedProjection,
    store: Arc<dyn Store>,
    every: Duration,
    wake: Arc<tokio::sync::Notify>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    follow_changes_notifying(shared, store, every, wake, None, stop).await
}

/// [`follow_changes`], notifying `applied` each time it has caught up
/// with new changes — so a reader that reacts to changes (the alert
/// evaluator) runs right after them instead of on its own timer.
pub async fn follow_changes_notifying(
    shared: SharedProjection,
    store: Arc<dyn Store>,
    every: Duration,
    wake: Arc<tokio::sync::Notify>,
    applied: Option<Arc<tokio::sync::Notify>>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    loop {
        if *stop.borrow() {
            return;
        }
        let after = shared
            .read()
            .map(|p| p.last_seq)
            .unwrap_or_else(|e| e.into_inner().last_seq);
        match store.changes_since(after, PAGE).await {
            Ok(page) if !page.is_empty() => {
                let full = page.len() == PAGE as usize;
                {
                    let mut p = shared.write().unwrap_or_else(|e| e.into_inner());
                    for c in &page {
                        p.apply(c);
                    }
                }
                tracing::debug!(changes = page.len(), "projection caught up");
                if full {
                    continue;
                }
                if let Some(applied) = &applied {
                    applied.notify_one();
                }
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "projection refresh failed; retrying"),
        }
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = wake.notified() => {}
            _ = stop.changed() => {}
        }
    }
}

/// The local calendar day (days since 1970-01-01) of a unix second in `tz`.
pub fn local_day(at: i64, tz: &TimeZone) -> i32 {
    let ts = Timestamp::from_second(at).unwrap_or(Timestamp::UNIX_EPOCH);
    let off = i64::from(tz.to_offset(ts).seconds());
    i32::try_from((at + off).div_euclid(86_400)).unwrap_or(0)
}

/// The civil date of a day index.
pub fn day_date(day: i32) -> jiff::civil::Date {
    jiff::civil::date(1970, 1, 1)
        .checked_add(i64::from(day).days())
        .unwrap_or(jiff::civil::date(1970, 1, 1))
}

/// The first instant (unix seconds) of a local day in `tz`.
pub fn day_start(day: i32, tz: &TimeZone) -> i64 {
    opsdeck_domain::period::local_midnight(day_date(day), tz).as_second()
}
