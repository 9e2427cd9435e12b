//! Orders as compact plans: what was bought, for how much, and when each later
//! event (shipment, tracking update, cancellation, refund, archiving) happens.
//! The state at any `now` is derived from the plan (see `lifecycle`), so moving
//! the clock forward is enough to make the world progress.

use rand::Rng;

use crate::brands::Profile;
use crate::catalog::{Catalog, CUSTOM_ITEMS, DELETED_ITEMS};
use crate::customers::{Customer, CITIES, NO_CUSTOMER};
use crate::rhythm::log_normal;

/// A plan offset that never happens.
pub(crate) const NEVER: u32 = u32::MAX;
const HOUR: f64 = 3600.0;
const DAY: f64 = 86_400.0;

#[derive(Clone, Copy)]
pub(crate) enum ItemRef {
    Variant {
        product: u32,
        variant: u16,
    },
    /// The product was deleted since: ids are null, title and sku remain.
    Deleted(u8),
    /// A custom item added by staff: no product, variant or sku.
    Custom(u8),
}

#[derive(Clone, Copy)]
pub(crate) struct LineItem {
    pub item: ItemRef,
    pub quantity: u16,
    pub unit_price_cents: u32,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Exception {
    None,
    Failure,
    AttemptedDelivery,
    Delayed,
}

/// One planned shipment. Offsets of tracking events count from `created`.
#[derive(Clone, Copy)]
pub(crate) struct Shipment {
    /// Seconds after the order; `NEVER` keeps its items unfulfilled.
    pub created: u32,
    pub in_transit: u32,
    pub out_for_delivery: u32,
    pub delivered: u32,
    pub exception_at: u32,
    pub exception: Exception,
    /// Bit i set: line item i ships (in full) in this shipment.
    pub items: u8,
    /// Index into `CARRIERS`; `NO_TRACKING` for shipments without tracking.
    pub carrier: u8,
}

pub(crate) const NO_TRACKING: u8 = u8::MAX;

/// (`tracking_company`, tracking url prefix, tracking number prefix)
pub(crate) const CARRIERS: [(&str, &str, &str); 4] = [
    (
        "USPS",
        "https://tools.usps.com/go/TrackConfirmAction?tLabels=",
        "9400111",
    ),
    ("UPS", "https://www.ups.com/track?tracknum=", "1Z999AA1"),
    ("FedEx", "https://www.fedex.com/fedextrack/?trknbr=", "7712"),
    (
        "YunExpress",
        "https://www.yuntrack.com/parcelTracking?id=",
        "YT2",
    ),
];

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum OrderKind {
    OneTime,
    SubscriptionFirst,
    SubscriptionRecurring,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Payment {
    Paid,
    Pending,
    Authorized,
}

pub(crate) const SOURCES: [&str; 5] = [
    "web",
    "shopify_draft_order",
    "580111",
    "pos",
    "subscription_contract",
];
pub(crate) const CANCEL_REASONS: [&str; 5] =
    ["customer", "fraud", "inventory", "declined", "other"];
pub(crate) const DISCOUNT_CODES: [(&str, u32); 3] =
    [("", 0), ("WELCOME10", 10), ("SUBSCRIBE15", 15)];

/// An order's tags, in the one order both faces give them: sorted, as
/// Shopify keeps them (GraphQL lists them, REST joins them with ", ").
pub(crate) fn order_tags(kind: OrderKind) -> &'static [&'static str] {
    match kind {
        OrderKind::SubscriptionRecurring => &["Recurring Order", "Subscription"],
        OrderKind::SubscriptionFirst => &["Subscription First Order"],
        OrderKind::OneTime => &[],
    }
}

pub(crate) const CANCELLED: u8 = 1;
pub(crate) const CLOSED: u8 = 2;

pub(crate) struct Order {
    pub created_at: i64,
    /// Cached from the plan at the world's `now` (see `World::refresh`).
    pub updated_at: i64,
    /// Cached like `updated_at`: `CANCELLED` and `CLOSED` bits, for the `status` filter.
    pub status_flags: u8,
    pub customer: u32,
    pub items_start: u32,
    pub items_len: u8,
    pub shipments_start: u32,
    pub shipments_len: u8,
    pub cancel_at: u32,
    pub cancel_reason: u8,
    pub refund_at: u32,
    pub refund_item: u8,
    pub refund_quantity: u16,
    /// Seconds after the order is fully fulfilled until it is archived (`closed_at`).
    pub close_after: u32,
    pub discount_code: u8,
    pub discount_cents: u32,
    pub shipping_cents: u32,
    pub tax_rate_bp: u32,
    pub tax_cents: u32,
    pub kind: OrderKind,
    pub payment: Payment,
    pub source: u8,
    pub test: bool,
}

impl Order {
    pub fn line_total_cents(&self, items: &[LineItem]) -> i64 {
        items
            .iter()
            .map(|i| i.unit_price_cents as i64 * i.quantity as i64)
            .sum()
    }
}

/// Everything the orders of one shop are stored in: arenas keep per-order memory small.
#[derive(Default)]
pub(crate) struct OrderBook {
    pub orders: Vec<Order>,
    pub line_items: Vec<LineItem>,
    pub shipments: Vec<Shipment>,
    pub customers: Vec<Customer>,
    pub subscribers: Vec<u32>,
    /// Returns decided through the GraphQL returns mutations, by order
    /// index: they replace the plan's own decision
    /// ([`crate::aftersale::return_plan`]).
    pub return_decisions: std::collections::HashMap<u32, crate::aftersale::ReturnDecision>,
    /// What waits for the merchant when the world starts
    /// ([`crate::aftersale::plan_backlog`]).
    pub backlog: crate::aftersale::Backlog,
}

impl OrderBook {
    pub fn items(&self, order: &Order) -> &[LineItem] {
        let start = order.items_start as usize;
        &self.line_items[start..start + order.items_len as usize]
    }

    pub fn shipments(&self, order: &Order) -> &[Shipment] {
        let start = order.shipments_start as usize;
        &self.shipments[start..start + order.shipments_len as usize]
    }

    /// Plans one order placed at `created_at` and appends it; returns its index.
    pub fn place(
        &mut self,
        profile: &Profile,
        catalog: &Catalog,
        rng: &mut impl Rng,
        created_at: i64,
    ) -> u32 {
        let index = self.orders.len() as u32;
        let kind = self.choose_kind(profile, rng);
        let customer = self.choose_customer(profile, kind, rng, created_at);

        // Line items: distinct variants, mostly single units.
        let items_start = self.line_items.len() as u32;
        let wanted = match (profile.kind, kind) {
            ("subscription", _) => 1 + rng.gen_bool(0.2) as usize,
            ("dropship", _) => 1 + rng.gen_bool(0.35) as usize + rng.gen_bool(0.1) as usize,
            _ => rng.gen_range(1..=3) + rng.gen_bool(0.1) as usize,
        };
        let mut picked: Vec<(u32, u16)> = Vec::with_capacity(wanted);
        for _ in 0..wanted * 3 {
            if picked.len() == wanted {
                break;
            }
            if let Some(pair) = catalog.pick(rng) {
                if !picked.contains(&pair) {
                    picked.push(pair);
                }
            }
        }
        for &(product, variant) in &picked {
            let quantity = if rng.gen_bool(0.82) {
                1
            } else {
                rng.gen_range(2..=3)
            };
            let unit_price_cents = catalog.variant(product, variant).price_cents;
            self.line_items.push(LineItem {
                item: ItemRef::Variant { product, variant },
                quantity,
                unit_price_cents,
            });
        }
        if rng.gen_bool(0.012) || index % 331 == 17 {
            let which = rng.gen_range(0..DELETED_ITEMS.len());
            let price = DELETED_ITEMS[which].2;
            self.line_items.push(LineItem {
                item: ItemRef::Deleted(which as u8),
                quantity: 1,
                unit_price_cents: price,
            });
        }
        if rng.gen_bool(0.015) || index % 257 == 31 {
            let which = rng.gen_range(0..CUSTOM_ITEMS.len());
            let price = CUSTOM_ITEMS[which].1;
            self.line_items.push(LineItem {
                item: ItemRef::Custom(which as u8),
                quantity: 1,
                unit_price_cents: price,
            });
        }
        let items_len = (self.line_items.len() as u32 - items_start) as u8;
        let items = &self.line_items[items_start as usize..];
        let line_total: i64 = items
            .iter()
            .map(|i| i.unit_price_cents as i64 * i.quantity as i64)
            .sum();

        let discount_code = match kind {
            OrderKind::SubscriptionRecurring => 2,
            OrderKind::SubscriptionFirst if rng.gen_bool(0.5) => 1,
            OrderKind::OneTime if rng.gen_bool(0.12) => 1,
            _ => 0,
        };
        let discount_cents =
            (line_total * DISCOUNT_CODES[discount_code as usize].1 as i64 / 100) as u32;
        let subtotal = line_total - discount_cents as i64;
        let shipping_cents = if subtotal >= 5000 {
            0
        } else if profile.kind == "dropship" {
            795
        } else {
            595
        };
        let city = match customer {
            NO_CUSTOMER => 0,
            c => self.customers[c as usize].city as usize % CITIES.len(),
        };
        let tax_rate_bp = CITIES[city].4;
        let tax_cents = (subtotal * tax_rate_bp as i64 + 5_000) / 10_000;

        let payment = match rng.gen::<f64>() {
            x if x < 0.015 => Payment::Pending,
            x if x < 0.025 => Payment::Authorized,
            _ => Payment::Paid,
        };
        let test = rng.gen_bool(0.004) || index % 211 == 103;

        // Cancellation, or shipments.
        let cancel_wanted = rng.gen_bool(0.018)
            || (payment != Payment::Paid && rng.gen_bool(0.4))
            || index % 149 == 60;
        let (cancel_at, cancel_reason) = if cancel_wanted {
            (
                rng.gen_range(0.3 * HOUR..72.0 * HOUR) as u32,
                rng.gen_range(0..CANCEL_REASONS.len()) as u8,
            )
        } else {
            (NEVER, 0)
        };
        let shipments_start = self.shipments.len() as u32;
        if !cancel_wanted {
            self.plan_shipments(profile, rng, items_len, index);
        }
        let shipments_len = (self.shipments.len() as u32 - shipments_start) as u8;

        let refund_wanted = !cancel_wanted && (rng.gen_bool(0.025) || index % 97 == 41);
        let (refund_at, refund_item, refund_quantity) = if refund_wanted {
            let item = rng.gen_range(0..items_len);
            let quantity =
                rng.gen_range(1..=self.line_items[(items_start + item as u32) as usize].quantity);
            (rng.gen_range(2.0 * DAY..20.0 * DAY) as u32, item, quantity)
        } else {
            (NEVER, 0, 0)
        };
        let close_after = if profile.auto_archive {
            0
        } else if rng.gen_bool(0.6) {
            rng.gen_range(5.0 * DAY..15.0 * DAY) as u32
        } else {
            NEVER
        };
        let source = match kind {
            OrderKind::SubscriptionRecurring => 4,
            _ => match rng.gen::<f64>() {
                x if x < 0.85 => 0,
                x if x < 0.89 => 1,
                x if x < 0.97 => 2,
                _ if profile.brand_id == "pawfully" => 3,
                _ => 0,
            },
        };
        self.orders.push(Order {
            created_at,
            updated_at: created_at,
            status_flags: 0,
            customer,
            items_start,
            items_len,
            shipments_start,
            shipments_len,
            cancel_at,
            cancel_reason,
            refund_at,
            refund_item,
            refund_quantity,
            close_after,
            discount_code,
            discount_cents,
            shipping_cents,
            tax_rate_bp,
            tax_cents: tax_cents as u32,
            kind,
            payment,
            source,
            test,
        });
        index
    }

    fn choose_kind(&self, profile: &Profile, rng: &mut impl Rng) -> OrderKind {
        if profile.kind != "subscription" {
            return OrderKind::OneTime;
        }
        let mature = (self.subscribers.len() as f64 / 60.0).min(1.0);
        match rng.gen::<f64>() {
            x if !self.subscribers.is_empty() && x < 0.6 * mature => {
                OrderKind::SubscriptionRecurring
            }
            x if x < 0.6 * mature + 0.3 => OrderKind::SubscriptionFirst,
            _ => OrderKind::OneTime,
        }
    }

    fn choose_customer(
        &mut self,
        profile: &Profile,
        kind: OrderKind,
        rng: &mut impl Rng,
        at: i64,
    ) -> u32 {
        match kind {
            OrderKind::SubscriptionRecurring => {
                return self.subscribers[rng.gen_range(0..self.subscribers.len())];
            }
            OrderKind::OneTime if rng.gen_bool(0.01) => return NO_CUSTOMER,
            OrderKind::OneTime
                if !self.customers.is_empty() && rng.gen_bool(profile.returning_share) =>
            {
                return rng.gen_range(0..self.customers.len()) as u32;
            }
            _ => {}
        }
        let index = self.customers.len() as u32;
        let subscriber = kind == OrderKind::SubscriptionFirst;
        self.customers.push(Customer {
            created_at: at,
            first_name: rng.gen(),
            last_name: rng.gen(),
            city: rng.gen(),
            accepts_marketing: rng.gen_bool(0.45),
            subscriber,
            orders_count: 0,
            total_spent_cents: 0,
            last_order: u32::MAX,
            updated_at: at,
        });
        if subscriber {
            self.subscribers.push(index);
        }
        index
    }

    fn plan_shipments(&mut self, profile: &Profile, rng: &mut impl Rng, items_len: u8, index: u32) {
        let all: u8 = if items_len >= 8 {
            u8::MAX
        } else {
            (1u8 << items_len) - 1
        };
        let stuck = rng.gen_bool(profile.stuck_share) || index % 113 == 57;
        let first_at = if stuck {
            rng.gen_range(8.0 * DAY..25.0 * DAY)
        } else {
            log_normal(
                rng,
                profile.fulfil_median_hours * HOUR,
                profile.fulfil_spread,
            )
            .clamp(0.5 * HOUR, 30.0 * DAY)
        };
        let split = items_len >= 2 && (rng.gen_bool(profile.split_share) || index % 89 == 13);
        if split {
            let first_items = all & !(1u8 << (items_len - 1));
            let second_at = if rng.gen_bool(0.25) {
                f64::MAX
            } else {
                first_at + rng.gen_range(1.0 * DAY..6.0 * DAY)
            };
            self.shipments
                .push(Self::shipment(profile, rng, first_at, first_items));
            self.shipments
                .push(Self::shipment(profile, rng, second_at, all & !first_items));
        } else {
            self.shipments
                .push(Self::shipment(profile, rng, first_at, all));
        }
    }

    fn shipment(profile: &Profile, rng: &mut impl Rng, at: f64, items: u8) -> Shipment {
        let dropship = profile.kind == "dropship";
        let created = if at >= u32::MAX as f64 {
            NEVER
        } else {
            at as u32
        };
        let no_tracking = rng.gen_bool(if dropship { 0.05 } else { 0.01 });
        let carrier = if no_tracking {
            NO_TRACKING
        } else if dropship && rng.gen_bool(0.6) {
            3
        } else {
            rng.gen_range(0..3)
        };
        let in_transit = rng.gen_range(4.0 * HOUR..30.0 * HOUR) as u32;
        let transit_days = if dropship {
            rng.gen_range(5.0..12.0)
        } else {
            rng.gen_range(2.0..6.0)
        };
        let mut delivered = in_transit + (transit_days * DAY) as u32;
        let mut out_for_delivery = delivered - rng.gen_range(2.0 * HOUR..9.0 * HOUR) as u32;
        let (exception, exception_at) = if !no_tracking && rng.gen_bool(0.05) {
            let kind = match rng.gen_range(0..3) {
                0 => Exception::Failure,
                1 => Exception::AttemptedDelivery,
                _ => Exception::Delayed,
            };
            let at = in_transit + rng.gen_range(1.0 * DAY..3.0 * DAY) as u32;
            if kind == Exception::Failure || rng.gen_bool(0.4) {
                delivered = NEVER;
                out_for_delivery = NEVER;
            } else {
                delivered = at + rng.gen_range(1.0 * DAY..4.0 * DAY) as u32;
                out_for_delivery = delivered - 3 * 3600;
            }
            (kind, at)
        } else {
            (Exception::None, NEVER)
        };
        if no_tracking {
            return Shipment {
                created,
                in_transit: NEVER,
                out_for_delivery: NEVER,
                delivered: NEVER,
                exception_at: NEVER,
                exception: Exception::None,
                items,
                carrier,
            };
        }
        Shipment {
            created,
            in_transit,
            out_for_delivery,
            delivered,
            exception_at,
            exception,
            items,
            carrier,
        }
    }
}
