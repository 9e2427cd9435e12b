//! Orders in the projection: a compact row per order (what panels need and
//! nothing else) and the rollups each row contributes to.
//!
//! A row's whole contribution is computed by one function, [`OrderState::account`],
//! called with +1 when a row arrives and −1 with the old row when an update
//! replaces it, so an update can never leave a stale trace behind.

use super::keys::{email_key, order_number, record_key, KeyMap, Symbols};
use super::rows::OrderRows;
use super::series::{update, Counter, Sales, SalesSeries};
use super::{local_day, BrandIx, Context};
use opsdeck_domain::{FulfillmentState, Order, OrderFulfillmentStatus};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// Where an order is between checkout and the customer's door
/// (METRICS.md, fulfillment pipeline). Order of checks: unfulfilled,
/// partial, exception, delivered, in transit, shipped untracked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Unfulfilled = 0,
    Partial = 1,
    InTransit = 2,
    Delivered = 3,
    Exception = 4,
    ShippedUntracked = 5,
}

impl Stage {
    pub const ALL: [Stage; 6] = [
        Stage::Unfulfilled,
        Stage::Partial,
        Stage::InTransit,
        Stage::Delivered,
        Stage::Exception,
        Stage::ShippedUntracked,
    ];

    fn from_u8(v: u8) -> Stage {
        Stage::ALL[usize::from(v).min(5)]
    }

    /// Still waiting to leave the warehouse (counts for age buckets and stale flags).
    pub fn is_open(self) -> bool {
        matches!(self, Stage::Unfulfilled | Stage::Partial)
    }
}

pub(crate) const CANCELLED: u8 = 1;
pub(crate) const TEST: u8 = 2;
pub(crate) const RECURRING: u8 = 4;
pub(crate) const FOREIGN: u8 = 8;
/// Some line has refunded units (see [`OrderState::refunded_units`]).
pub(crate) const REFUNDED: u8 = 16;

/// One line with a SKU or a variant: their symbols (0 for none), units
/// bought, unit price in minor units (units refunded, rare, are kept aside
/// in [`OrderState::refunded_units`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line {
    pub sku: u32,
    /// The platform's variant id: stock velocity is counted per variant,
    /// so a variant without a SKU sells too.
    pub variant: u32,
    pub qty: i32,
    pub price: i64,
}

/// One shipment: carrier symbol, offsets in seconds from the order's
/// creation (`i32::MIN` = unknown), whether it has tracking, is an exception.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ship {
    pub carrier: u32,
    pub created: i32,
    pub delivered: i32,
    pub estimated: i32,
    pub tracked: bool,
    pub exception: bool,
}

pub const NONE: i32 = i32::MIN;

/// 4-byte words a shipment is stored in (see [`OrderRow::items`]).
const SHIP_WORDS: usize = 5;
/// 4-byte words a line is stored in.
const LINE_WORDS: usize = 5;

impl Ship {
    fn words(&self) -> [u32; SHIP_WORDS] {
        [
            self.carrier,
            self.created as u32,
            self.delivered as u32,
            self.estimated as u32,
            u32::from(self.tracked) | u32::from(self.exception) << 1,
        ]
    }

    fn from_words(w: &[u32]) -> Ship {
        Ship {
            carrier: w[0],
            created: w[1] as i32,
            delivered: w[2] as i32,
            estimated: w[3] as i32,
            tracked: w[4] & 1 != 0,
            exception: w[4] & 2 != 0,
        }
    }
}

impl Line {
    fn words(&self) -> [u32; LINE_WORDS] {
        let price = self.price as u64;
        [
            self.sku,
            self.variant,
            self.qty as u32,
            price as u32,
            (price >> 32) as u32,
        ]
    }

    fn from_words(w: &[u32]) -> Line {
        Line {
            sku: w[0],
            variant: w[1],
            qty: w[2] as i32,
            price: (u64::from(w[3]) | u64::from(w[4]) << 32) as i64,
        }
    }
}

/// The compact copy of an order: 40 bytes and one allocation for its
/// shipments and lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// The record key (see `keys::record_key`): rows are stored by it.
    pub key: u64,
    pub created: i64,
    pub total: i64,
    pub email: u64,
    pub number: u32,
    pub brand: BrandIx,
    /// [`CANCELLED`] … [`REFUNDED`] in the low bits, the [`Stage`] above them.
    pub(crate) flags: u8,
    /// How many shipments lead `items` (an order keeps at most 65,535;
    /// platforms allow a few hundred).
    pub(crate) ships: u16,
    /// The shipments (5 words each), then the lines (5 words each): one
    /// allocation instead of two boxed slices (16 bytes per row, and an
    /// allocation, saved), 4-byte aligned so a shipment takes 20 bytes.
    pub(crate) items: Box<[u32]>,
}

const STAGE_SHIFT: u32 = 5;

impl OrderRow {
    /// A row from its parts (`flags` without the stage).
    pub(crate) fn new(
        head: (u64, i64, i64, u64, u32, BrandIx),
        flags: u8,
        stage: Stage,
        ships: &[Ship],
        lines: &[Line],
    ) -> OrderRow {
        let (key, created, total, email, number, brand) = head;
        let ships = &ships[..ships.len().min(usize::from(u16::MAX))];
        let mut items = Vec::with_capacity(ships.len() * SHIP_WORDS + lines.len() * LINE_WORDS);
        for s in ships {
            items.extend_from_slice(&s.words());
        }
        for l in lines {
            items.extend_from_slice(&l.words());
        }
        OrderRow {
            key,
            created,
            total,
            email,
            number,
            brand,
            flags: flags | (stage as u8) << STAGE_SHIFT,
            ships: ships.len() as u16,
            items: items.into_boxed_slice(),
        }
    }

    pub fn stage(&self) -> Stage {
        Stage::from_u8(self.flags >> STAGE_SHIFT)
    }
    pub fn is(&self, flag: u8) -> bool {
        self.flags & flag != 0
    }
    /// A test order: counted nowhere, in no index.
    pub fn is_test(&self) -> bool {
        self.is(TEST)
    }

    /// Non-cancelled shipments.
    pub fn ships(&self) -> impl ExactSizeIterator<Item = Ship> + '_ {
        self.items[..usize::from(self.ships) * SHIP_WORDS]
            .chunks_exact(SHIP_WORDS)
            .map(Ship::from_words)
    }

    /// Lines with a SKU or a variant.
    pub fn lines(&self) -> impl ExactSizeIterator<Item = Line> + '_ {
        self.items[usize::from(self.ships) * SHIP_WORDS..]
            .chunks_exact(LINE_WORDS)
            .map(Line::from_words)
    }

    /// Time to ship, seconds: first non-cancelled shipment − order creation.
    pub fn time_to_ship(&self) -> Option<i64> {
        self.ships().map(|s| i64::from(s.created)).min()
    }

    /// Whether a ticket's link to this order, or the urgent facts read
    /// from it (total, stage, creation, the customer's order count), could
    /// differ between this version and `new`.
    fn links_differently(&self, new: &OrderRow) -> bool {
        self.brand != new.brand
            || self.number != new.number
            || self.email != new.email
            || self.created != new.created
            || self.total != new.total
            || self.stage() != new.stage()
            || self.is(TEST) != new.is(TEST)
    }

    /// The row of an order, and the units refunded per line when any are.
    fn from_order(
        key: u64,
        o: &Order,
        brand: BrandIx,
        ctx: &Context,
        syms: &mut Symbols,
    ) -> (OrderRow, Option<Box<[i32]>>) {
        let created = o.created_at.as_second();
        let off =
            |t: jiff::Timestamp| -> i32 { i32::try_from(t.as_second() - created).unwrap_or(NONE) };
        let mut flags = 0;
        if o.is_cancelled() {
            flags |= CANCELLED;
        }
        if o.test {
            flags |= TEST;
        }
        if ctx
            .subscription
            .is_recurring(&o.tags, o.source_name.as_deref())
        {
            flags |= RECURRING;
        }
        if o.total_price.currency != ctx.brands[usize::from(brand)].currency {
            flags |= FOREIGN;
        }
        // Lines with neither a SKU nor a variant (a tip, a custom item)
        // count nowhere, so they are not kept.
        let present = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.is_empty());
        let with_sku = || {
            o.line_items
                .iter()
                .filter(|l| present(&l.sku) || present(&l.variant_id))
        };
        // Most orders have no refund: no map, no allocation for them.
        let units_refunded = (!o.refunds.is_empty())
            .then(|| {
                let mut refunded: HashMap<&str, i64> = HashMap::new();
                for r in &o.refunds {
                    for l in &r.line_items {
                        let n = refunded.entry(l.line_item_id.as_str()).or_default();
                        *n = n.saturating_add(l.quantity);
                    }
                }
                with_sku()
                    .map(|l| {
                        let units = refunded.get(l.external_id.as_str()).copied();
                        i32::try_from(units.unwrap_or(0)).unwrap_or(i32::MAX)
                    })
                    .collect::<Box<[i32]>>()
            })
            .filter(|units| units.iter().any(|u| *u != 0));
        if units_refunded.is_some() {
            flags |= REFUNDED;
        }
        let live = || {
            o.fulfillments
                .iter()
                .filter(|f| f.status != FulfillmentState::Cancelled)
        };
        let all_lines_shipped = o
            .line_items
            .iter()
            .all(|l| l.fulfilled_quantity.is_none_or(|q| q >= l.quantity));
        let exception = |f: &opsdeck_domain::Fulfillment| {
            f.shipment_status.as_ref().is_some_and(|s| s.is_exception())
        };
        let shipped = live().next().is_some();
        let stage = if !shipped && o.fulfillment_status != OrderFulfillmentStatus::Fulfilled {
            Stage::Unfulfilled
        } else if o.fulfillment_status == OrderFulfillmentStatus::Partial || !all_lines_shipped {
            Stage::Partial
        } else if live().any(exception) {
            Stage::Exception
        } else if shipped && live().all(|f| f.is_delivered()) {
            Stage::Delivered
        } else if live().any(|f| f.has_tracking()) {
            Stage::InTransit
        } else {
            Stage::ShippedUntracked
        };
        let email = email_key(
            o.email
                .as_deref()
                .or(o.customer.as_ref().and_then(|c| c.email.as_deref())),
        );
        let number = order_number(&o.name, o.number);
        let head = (key, created, o.total_price.minor, email, number, brand);
        let mut row = OrderRow::new(head, flags, stage, &[], &[]);
        let mut items =
            Vec::with_capacity(live().count() * SHIP_WORDS + with_sku().count() * LINE_WORDS);
        for f in live().take(usize::from(u16::MAX)) {
            let ship = Ship {
                carrier: syms.intern(f.tracking_company.as_deref().unwrap_or("unknown")),
                created: off(f.created_at),
                delivered: f
                    .delivered_at
                    .filter(|_| f.is_delivered())
                    .map_or(NONE, off),
                estimated: f.estimated_delivery_at.map_or(NONE, off),
                tracked: f.has_tracking(),
                exception: exception(f),
            };
            items.extend_from_slice(&ship.words());
            row.ships += 1;
        }
        for l in with_sku() {
            let mut symbol = |s: &Option<String>| {
                s.as_deref()
                    .filter(|s| !s.is_empty())
                    .map_or(0, |s| syms.intern(s))
            };
            let line = Line {
                sku: symbol(&l.sku),
                variant: symbol(&l.variant_id),
                qty: i32::try_from(l.quantity).unwrap_or(i32::MAX),
                price: l.price.minor,
            };
            items.extend_from_slice(&line.words());
        }
        row.items = items.into_boxed_slice();
        (row, units_refunded)
    }
}

/// Per (brand, local day of creation) figures of non-test orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct OrderDay {
    /// Non-cancelled orders by [`Stage`].
    pub stages: [i64; 6],
    pub recurring: i64,
    /// Minor units, 128 bits wide so no sum of orders can wrap (issue 11.5).
    pub recurring_revenue: i128,
    pub one_time: i64,
    pub one_time_revenue: i128,
    /// Non-cancelled orders with a shipment, and the sum of their time to ship.
    pub shipped: i64,
    pub ship_secs: i64,
}

impl Counter for OrderDay {
    fn add(&mut self, o: &Self, sign: i64) {
        for (a, b) in self.stages.iter_mut().zip(o.stages) {
            *a += b * sign;
        }
        self.recurring += o.recurring * sign;
        self.recurring_revenue += o.recurring_revenue * i128::from(sign);
        self.one_time += o.one_time * sign;
        self.one_time_revenue += o.one_time_revenue * i128::from(sign);
        self.shipped += o.shipped * sign;
        self.ship_secs += o.ship_secs * sign;
    }
}

/// Per (brand, local day of the order, carrier) shipment figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CarrierDay {
    pub shipments: i64,
    pub exceptions: i64,
    pub delivered: i64,
    pub delivery_secs: i64,
    /// Delivered shipments judged on time / judged at all.
    pub on_time: i64,
    pub judged: i64,
}

impl Counter for CarrierDay {
    fn add(&mut self, o: &Self, sign: i64) {
        self.shipments += o.shipments * sign;
        self.exceptions += o.exceptions * sign;
        self.delivered += o.delivered * sign;
        self.delivery_secs += o.delivery_secs * sign;
        self.on_time += o.on_time * sign;
        self.judged += o.judged * sign;
    }
}

/// Per (brand, local day of the order, SKU): units sold net of refunds and revenue.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkuDay {
    pub units: i64,
    /// Minor units; units × price of a line alone can pass 64 bits.
    pub revenue: i128,
}

impl Counter for SkuDay {
    fn add(&mut self, o: &Self, sign: i64) {
        self.units += o.units * sign;
        self.revenue += o.revenue * i128::from(sign);
    }
}

/// Everything the projection knows about orders.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OrderState {
    pub rows: OrderRows,
    pub sales: Vec<SalesSeries>,
    pub days: BTreeMap<(BrandIx, i32), OrderDay>,
    pub carriers: BTreeMap<(BrandIx, i32, u32), CarrierDay>,
    pub skus: BTreeMap<(BrandIx, i32, u32), SkuDay>,
    /// Units sold net of refunds per (brand, local day of the order,
    /// [`VariantKey`]) of non-cancelled orders: what stock velocity reads.
    pub variant_units: BTreeMap<(BrandIx, i32, u64), i64>,
    /// Open (unfulfilled or partial), non-cancelled orders, oldest first.
    pub open: BTreeSet<(BrandIx, i64, u64)>,
    /// How many of `open` each brand has, so panels count old open orders
    /// as "all minus the recent ones" and only walk the recent ones.
    pub open_count: BTreeMap<BrandIx, i64>,
    /// `open` counted per (brand, UTC hour of creation), so "open orders
    /// created since t" reads one entry per hour and walks one partial hour.
    pub open_hours: BTreeMap<(BrandIx, i64), i64>,
    /// Units refunded per line (as `OrderRow::lines`) of the orders with
    /// any refunded: few orders, so not a field of every line.
    pub refunded_units: KeyMap<u64, Box<[i32]>>,
}

impl OrderState {
    pub fn new(brands: usize) -> Self {
        OrderState {
            sales: vec![SalesSeries::default(); brands],
            ..Default::default()
        }
    }

    /// Applies an order's latest version. Returns the (brand, number,
    /// e-mail) of its old and new version when tickets may link to it
    /// differently now (all zero when nothing a link depends on changed).
    pub fn apply(
        &mut self,
        o: &Order,
        brand: BrandIx,
        ctx: &Context,
        syms: &mut Symbols,
    ) -> [(BrandIx, u32, u64); 2] {
        let key = record_key(o.source.as_str(), &o.external_id);
        let (row, units_refunded) = OrderRow::from_order(key, o, brand, ctx, syms);
        // The rows are set aside while the rollups change, so a row can be
        // read from them while `self` is updated.
        let mut rows = std::mem::take(&mut self.rows);
        let old = rows.insert(row);
        let row = &rows[&key];
        let touched = match &old {
            Some(old) if !old.links_differently(row) => [(0, 0, 0); 2],
            Some(old) => [
                (old.brand, old.number, old.email),
                (row.brand, row.number, row.email),
            ],
            None => [(row.brand, row.number, row.email), (0, 0, 0)],
        };
        // What did not change is left alone: the sales series (most
        // updates change a status, not the time, total or currency). The
        // number and customer indexes are kept by `rows` itself.
        let parts = match &old {
            Some(old) => Parts {
                sales: sales_entry(old) != sales_entry(row),
            },
            None => Parts { sales: true },
        };
        let had_refunds = old.as_ref().is_some_and(|o| o.is(REFUNDED));
        if let Some(old) = old {
            self.account(key, &old, ctx, parts, -1);
        }
        // Between the two: the old row's refunds were read, the new one's
        // are read next (the map is not looked up for the ~95 % of orders
        // that have none, before or after).
        match units_refunded {
            Some(units) => {
                self.refunded_units.insert(key, units);
            }
            None if had_refunds => {
                self.refunded_units.remove(&key);
            }
            None => {}
        }
        self.account(key, row, ctx, parts, 1);
        self.rows = rows;
        touched
    }

    fn account(&mut self, key: u64, row: &OrderRow, ctx: &Context, parts: Parts, sign: i64) {
        if row.is(TEST) {
            return;
        }
        let b = row.brand;
        let brand = &ctx.brands[usize::from(b)];
        let cancelled = row.is(CANCELLED);
        let foreign = row.is(FOREIGN);
        if let (true, Some((_, created, sales))) = (parts.sales, sales_entry(row)) {
            self.sales[usize::from(b)].add(created, &sales, sign);
        }
        let day = local_day(row.created, &brand.time_zone);
        if cancelled {
            return;
        }
        let stage = row.stage();
        let mut d = OrderDay::default();
        d.stages[stage as usize] = 1;
        let revenue = if foreign { 0 } else { i128::from(row.total) };
        if row.is(RECURRING) {
            d.recurring = 1;
            d.recurring_revenue = revenue;
        } else {
            d.one_time = 1;
            d.one_time_revenue = revenue;
        }
        if let Some(t) = row.time_to_ship() {
            d.shipped = 1;
            d.ship_secs = t;
        }
        update(&mut self.days, (b, day), &d, sign);
        if stage.is_open() {
            super::series::bump_count(&mut self.open_count, b, sign);
            super::series::bump_count(
                &mut self.open_hours,
                (b, row.created.div_euclid(3600)),
                sign,
            );
            if sign > 0 {
                self.open.insert((b, row.created, key));
            } else {
                self.open.remove(&(b, row.created, key));
            }
        }
        let sla = i64::from(brand.thresholds.delivery_sla_days) * 86_400;
        for s in row.ships() {
            let mut c = CarrierDay {
                shipments: 1,
                exceptions: i64::from(s.exception),
                ..Default::default()
            };
            if s.delivered != NONE && s.created != NONE {
                c.delivered = 1;
                c.delivery_secs = i64::from(s.delivered) - i64::from(s.created);
                c.judged = 1;
                c.on_time = i64::from(if s.estimated != NONE {
                    // Delivered by the estimated date: any time on that day counts.
                    s.delivered <= s.estimated || same_local_day(row.created, &s, brand)
                } else {
                    c.delivery_secs <= sla
                });
            }
            update(&mut self.carriers, (b, day, s.carrier), &c, sign);
        }
        let refunded = if row.is(REFUNDED) {
            self.refunded_units.get(&key).map(|r| &r[..])
        } else {
            None
        };
        for (i, l) in row.lines().enumerate() {
            let back = refunded.and_then(|r| r.get(i)).copied().unwrap_or(0);
            let units = i64::from(l.qty) - i64::from(back);
            let v = SkuDay {
                units,
                revenue: if foreign {
                    0
                } else {
                    i128::from(l.price) * i128::from(l.qty)
                },
            };
            if l.sku != 0 {
                update(&mut self.skus, (b, day, l.sku), &v, sign);
            }
            if let Some(k) = VariantKey::of_line(&l) {
                bump_units(&mut self.variant_units, (b, day, k.0), units * sign);
            }
        }
    }
}

/// What a line's units are counted under for stock velocity: its variant
/// id, or its SKU for a line that names no variant (a custom platform's).
/// The two live in separate halves of the key, so a SKU whose text equals
/// some variant id never mixes with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VariantKey(pub u64);

impl VariantKey {
    const BY_SKU: u64 = 1 << 32;

    pub fn variant(symbol: u32) -> VariantKey {
        VariantKey(u64::from(symbol))
    }

    pub fn sku(symbol: u32) -> VariantKey {
        VariantKey(Self::BY_SKU | u64::from(symbol))
    }

    fn of_line(l: &Line) -> Option<VariantKey> {
        match (l.variant, l.sku) {
            (0, 0) => None,
            (0, sku) => Some(VariantKey::sku(sku)),
            (v, _) => Some(VariantKey::variant(v)),
        }
    }
}

fn bump_units(map: &mut BTreeMap<(BrandIx, i32, u64), i64>, k: (BrandIx, i32, u64), n: i64) {
    let e = map.entry(k).or_default();
    *e += n;
    if *e == 0 {
        map.remove(&k);
    }
}

/// Which parts of an order's contribution an update changes.
#[derive(Debug, Clone, Copy)]
struct Parts {
    sales: bool,
}

/// What an order adds to its brand's sales series (test orders: nothing).
fn sales_entry(row: &OrderRow) -> Option<(BrandIx, i64, Sales)> {
    if row.is(TEST) {
        return None;
    }
    let cancelled = row.is(CANCELLED);
    let foreign = row.is(FOREIGN);
    let paid = !cancelled && !foreign;
    let sales = Sales {
        orders: 1,
        paid_orders: i64::from(paid),
        revenue: if paid { i128::from(row.total) } else { 0 },
        foreign: i64::from(!cancelled && foreign),
    };
    Some((row.brand, row.created, sales))
}

impl OrderState {
    /// Open orders of brand `b` created at or after `from` (unix seconds):
    /// the orders of `from`'s hour walked, the later hours counted.
    pub fn open_since(&self, b: BrandIx, from: i64) -> i64 {
        let hour = from.div_euclid(3600);
        let next = (hour + 1) * 3600;
        let partial = self.open.range((b, from, 0)..(b, next, 0)).count();
        let later: i64 = self
            .open_hours
            .range((b, hour + 1)..=(b, i64::MAX))
            .map(|(_, n)| n)
            .sum();
        i64::try_from(partial).unwrap_or(i64::MAX) + later
    }
}

/// "By the estimated delivery date": a delivery later in the same local
/// day as the estimate is still on time.
fn same_local_day(created: i64, s: &Ship, brand: &opsdeck_domain::Brand) -> bool {
    let at = |off: i32| local_day(created + i64::from(off), &brand.time_zone);
    at(s.delivered) <= at(s.estimated)
}
