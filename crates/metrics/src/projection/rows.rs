//! Order rows stored densely: fixed-size rows in pages of 4,096, found by
//! key through an open-addressing table of 4-byte row numbers, and the
//! indexes that find them by order number and by customer.
//!
//! A `HashMap<u64, OrderRow>` held ~150 bytes per order at a million
//! orders: every bucket is key + row, and the table is a power of two at
//! most 7/8 full, so between 1.1 and 2.3 buckets per order. Here a bucket
//! is a `u32` (the row keeps its own key), and pages grow by a fixed step
//! instead of doubling. Orders are replaced, never deleted, so the key
//! table needs no tombstones. Record keys are already 64-bit hashes, so
//! their low bits pick the bucket.
//!
//! The number index is a [`RowTable`] of every row under its (brand,
//! number); the customer index a [`RowTable`] of one row per e-mail, the
//! head of a chain through `next_of_customer` (a `u32` per row) — ~12
//! bytes per order where maps of keys and per-customer vectors took ~70.
//! Test orders are in neither (as no panel counts them).

use super::orders::{OrderRow, TEST};
use super::row_table::RowTable;
use super::BrandIx;

const PAGE_BITS: u32 = 12;
const PAGE: usize = 1 << PAGE_BITS;
const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
pub struct OrderRows {
    pages: Vec<Vec<OrderRow>>,
    /// Row numbers by `key & mask`, linear probing; `EMPTY` is free.
    slots: Vec<u32>,
    len: usize,
    /// Rows by [`number_hash`] of their (brand, number).
    numbers: RowTable,
    /// The first row of each customer's chain, by e-mail key.
    customers: RowTable,
    /// Per row (paged as `pages`): the next row of the same customer, or `EMPTY`.
    next_of_customer: Vec<Vec<u32>>,
}

fn number_hash(brand: BrandIx, number: u32) -> u64 {
    u64::from(brand) << 32 | u64::from(number)
}

/// Where a row is in the number index (test orders and orders without a number: nowhere).
fn number_entry(row: &OrderRow) -> Option<(BrandIx, u32)> {
    (!row.is(TEST) && row.number != 0).then_some((row.brand, row.number))
}

/// Whose chain a row is in (test orders and orders without an e-mail: none).
fn customer_entry(row: &OrderRow) -> Option<u64> {
    (!row.is(TEST) && row.email != 0).then_some(row.email)
}

fn row_in(pages: &[Vec<OrderRow>], ix: u32) -> &OrderRow {
    let ix = ix as usize;
    &pages[ix >> PAGE_BITS][ix & (PAGE - 1)]
}

impl OrderRows {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn row(&self, ix: u32) -> &OrderRow {
        row_in(&self.pages, ix)
    }

    fn next(&self, ix: u32) -> u32 {
        let ix = ix as usize;
        self.next_of_customer[ix >> PAGE_BITS][ix & (PAGE - 1)]
    }

    fn set_next(&mut self, ix: u32, next: u32) {
        let ix = ix as usize;
        self.next_of_customer[ix >> PAGE_BITS][ix & (PAGE - 1)] = next;
    }

    /// The slot holding `key`, or the free slot where it would go.
    fn slot(&self, key: u64) -> usize {
        let mask = self.slots.len() - 1;
        let mut at = (key as usize) & mask;
        loop {
            let ix = self.slots[at];
            if ix == EMPTY || self.row(ix).key == key {
                return at;
            }
            at = (at + 1) & mask;
        }
    }

    pub fn get(&self, key: &u64) -> Option<&OrderRow> {
        if self.slots.is_empty() {
            return None;
        }
        match self.slots[self.slot(*key)] {
            EMPTY => None,
            ix => Some(self.row(ix)),
        }
    }

    /// Puts `row` (its `key` says where), returning the row it replaces.
    pub fn insert(&mut self, row: OrderRow) -> Option<OrderRow> {
        if (self.len + 1) * 8 > self.slots.len() * 7 {
            self.grow();
        }
        let at = self.slot(row.key);
        match self.slots[at] {
            EMPTY => {
                let ix = self.len;
                if ix.is_multiple_of(PAGE) {
                    self.pages.push(Vec::with_capacity(PAGE));
                    self.next_of_customer.push(Vec::with_capacity(PAGE));
                }
                self.pages[ix >> PAGE_BITS].push(row);
                self.next_of_customer[ix >> PAGE_BITS].push(EMPTY);
                let ix = u32::try_from(ix).expect("fewer than 4 billion orders");
                self.slots[at] = ix;
                self.len += 1;
                self.index_number(ix);
                self.link_customer(ix);
                None
            }
            ix => {
                let old = self.row(ix);
                let renumber = number_entry(old) != number_entry(&row);
                let recustomer = customer_entry(old) != customer_entry(&row);
                if renumber {
                    self.unindex_number(ix);
                }
                if recustomer {
                    self.unlink_customer(ix);
                }
                let i = ix as usize;
                let old = std::mem::replace(&mut self.pages[i >> PAGE_BITS][i & (PAGE - 1)], row);
                if renumber {
                    self.index_number(ix);
                }
                if recustomer {
                    self.link_customer(ix);
                }
                Some(old)
            }
        }
    }

    fn grow(&mut self) {
        let size = (self.slots.len() * 2).max(1024);
        self.slots = vec![EMPTY; size];
        let mask = size - 1;
        for ix in 0..self.len {
            let mut at = (self.row(ix as u32).key as usize) & mask;
            while self.slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = ix as u32;
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = &OrderRow> {
        self.pages.iter().flatten()
    }

    /// The order of brand `b` with this number; when several orders share
    /// it, the one placed last (then the greatest key), whatever order
    /// they arrived in.
    pub fn by_number(&self, b: BrandIx, number: u32) -> Option<&OrderRow> {
        self.numbers
            .candidates(number_hash(b, number))
            .map(|ix| self.row(ix))
            .filter(|r| r.brand == b && r.number == number)
            .max_by_key(|r| (r.created, r.key))
    }

    /// The orders placed with this e-mail key (all brands, test orders
    /// left out), in no particular order.
    pub fn of_customer(&self, email: u64) -> impl Iterator<Item = &OrderRow> + '_ {
        let head = if email == 0 {
            None
        } else {
            self.customers.find(email, |ix| self.row(ix).email == email)
        };
        std::iter::successors(head, |ix| Some(self.next(*ix)).filter(|n| *n != EMPTY))
            .map(|ix| self.row(ix))
    }

    fn index_number(&mut self, ix: u32) {
        if let Some((b, n)) = number_entry(self.row(ix)) {
            let pages = &self.pages;
            self.numbers.insert(number_hash(b, n), ix, |i| {
                let r = row_in(pages, i);
                number_hash(r.brand, r.number)
            });
        }
    }

    fn unindex_number(&mut self, ix: u32) {
        if let Some((b, n)) = number_entry(self.row(ix)) {
            self.numbers.remove(number_hash(b, n), ix);
        }
    }

    /// Puts row `ix` first in its customer's chain.
    fn link_customer(&mut self, ix: u32) {
        let Some(email) = customer_entry(self.row(ix)) else {
            return;
        };
        let pages = &self.pages;
        let head = self
            .customers
            .find(email, |h| row_in(pages, h).email == email);
        self.set_next(ix, head.unwrap_or(EMPTY));
        let pages = &self.pages;
        match head {
            Some(head) => self.customers.replace(email, head, ix),
            None => self.customers.insert(email, ix, |h| row_in(pages, h).email),
        }
    }

    /// Takes row `ix` (as it still is) out of its customer's chain.
    fn unlink_customer(&mut self, ix: u32) {
        let Some(email) = customer_entry(self.row(ix)) else {
            return;
        };
        let pages = &self.pages;
        let Some(head) = self
            .customers
            .find(email, |h| row_in(pages, h).email == email)
        else {
            return;
        };
        let after = self.next(ix);
        if head == ix {
            if after == EMPTY {
                self.customers.remove(email, ix);
            } else {
                self.customers.replace(email, ix, after);
            }
        } else {
            let mut before = head;
            while self.next(before) != ix {
                before = self.next(before);
                if before == EMPTY {
                    return;
                }
            }
            self.set_next(before, after);
        }
        self.set_next(ix, EMPTY);
    }
}

impl std::ops::Index<&u64> for OrderRows {
    type Output = OrderRow;

    fn index(&self, key: &u64) -> &OrderRow {
        self.get(key).expect("no order with this key")
    }
}

/// Equal when they hold the same rows, whatever order they arrived in
/// (the indexes are derived from the rows).
impl PartialEq for OrderRows {
    fn eq(&self, o: &Self) -> bool {
        self.len == o.len && self.iter().all(|r| o.get(&r.key) == Some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::super::orders::{Line, Ship, Stage, CANCELLED};
    use super::*;

    /// A row with one shipment and one line; `flags` may hold `TEST`.
    fn row(key: u64, total: i64, (brand, number, email, flags): (u8, u32, u64, u8)) -> OrderRow {
        let ship = Ship {
            carrier: 7,
            created: 60,
            delivered: super::super::orders::NONE,
            estimated: -5,
            tracked: true,
            exception: false,
        };
        let line = Line {
            sku: 9,
            variant: 11,
            qty: -2,
            price: -(1 << 40),
        };
        let head = (key, key as i64 % 1000, total, email, number, brand);
        OrderRow::new(head, flags, Stage::Partial, &[ship], &[line])
    }

    #[test]
    fn rows_are_found_replaced_and_compared_by_key() {
        let mut a = OrderRows::default();
        let mut b = OrderRows::default();
        // Keys that share low bits probe past each other.
        let keys: Vec<u64> = (0..5_000u64).map(|i| i << 20 | (i % 7)).collect();
        let r = |k: u64, total| row(k, total, (0, 0, 0, 0));
        for k in &keys {
            assert_eq!(a.insert(r(*k, 1)), None);
        }
        for k in keys.iter().rev() {
            b.insert(r(*k, 1));
        }
        assert_eq!(a, b, "arrival order does not matter");
        assert_eq!(a.insert(r(keys[3], 2)), Some(r(keys[3], 1)));
        assert_eq!(a.len(), 5_000);
        assert_eq!(a[&keys[3]].total, 2);
        assert_ne!(a, b);
        assert!(a.get(&12345).is_none());
        assert_eq!(a.iter().count(), 5_000);
        let got = &a[&keys[3]];
        assert_eq!(got.stage(), Stage::Partial);
        assert_eq!(
            got.ships().next().map(|s| (s.estimated, s.tracked)),
            Some((-5, true))
        );
        assert_eq!(
            got.lines().next().map(|l| (l.qty, l.price)),
            Some((-2, -(1 << 40)))
        );
    }

    /// The number and customer indexes, after orders arrive and change
    /// brand, number, e-mail and test flag (numbers and e-mails shared by
    /// several orders), give what a scan of every row gives.
    #[test]
    fn number_and_customer_indexes_equal_scanning_the_rows() {
        let mut rows = OrderRows::default();
        let mut seed = 1u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
            (seed >> 33) % n
        };
        for step in 0..30_000u64 {
            let key = next(6_000) + 1;
            let brand = next(2) as u8;
            let number = next(4_000) as u32;
            let email = next(2_500);
            let flags = if next(20) == 0 { TEST } else { CANCELLED };
            rows.insert(row(
                key * 1_000 + step % 3,
                0,
                (brand, number, email, flags),
            ));
        }
        let plain = |keep: &dyn Fn(&OrderRow) -> bool| -> Vec<u64> {
            let mut v: Vec<u64> = rows
                .iter()
                .filter(|r| !r.is(TEST) && keep(r))
                .map(|r| r.key)
                .collect();
            v.sort_unstable();
            v
        };
        let mut shared = 0;
        for email in 0..2_500u64 {
            let mut got: Vec<u64> = rows.of_customer(email).map(|r| r.key).collect();
            got.sort_unstable();
            let want = if email == 0 {
                vec![]
            } else {
                plain(&|r| r.email == email)
            };
            shared += usize::from(want.len() > 1);
            assert_eq!(got, want, "customer {email}");
        }
        assert!(shared > 500, "customers with several orders: {shared}");
        for b in 0..2u8 {
            for number in 0..4_000u32 {
                let want = rows
                    .iter()
                    .filter(|r| !r.is(TEST) && r.brand == b && r.number == number && number != 0)
                    .max_by_key(|r| (r.created, r.key))
                    .map(|r| r.key);
                assert_eq!(rows.by_number(b, number).map(|r| r.key), want, "#{number}");
            }
        }
    }
}
