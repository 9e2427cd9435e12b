//! Order rows stored densely: fixed-size rows in pages of 65,536, found by
//! key through an open-addressing table of 4-byte row numbers.
//!
//! A `HashMap<u64, OrderRow>` held ~150 bytes per order at a million
//! orders: every bucket is key + row, and the table is a power of two at
//! most 7/8 full, so between 1.1 and 2.3 buckets per order. Here a bucket
//! is a `u32` (the row keeps its own key), and pages grow by a fixed step
//! instead of doubling. Orders are replaced, never deleted, so the table
//! needs no tombstones. Record keys are already 64-bit hashes, so their low
//! bits pick the bucket.

use super::orders::OrderRow;

const PAGE_BITS: u32 = 16;
const PAGE: usize = 1 << PAGE_BITS;
const EMPTY: u32 = u32::MAX;

#[derive(Debug, Clone, Default)]
pub struct OrderRows {
    pages: Vec<Vec<OrderRow>>,
    /// Row numbers by `key & mask`, linear probing; `EMPTY` is free.
    slots: Vec<u32>,
    len: usize,
}

impl OrderRows {
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    fn row(&self, ix: u32) -> &OrderRow {
        let ix = ix as usize;
        &self.pages[ix >> PAGE_BITS][ix & (PAGE - 1)]
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
                }
                self.pages[ix >> PAGE_BITS].push(row);
                self.slots[at] = u32::try_from(ix).expect("fewer than 4 billion orders");
                self.len += 1;
                None
            }
            ix => {
                let ix = ix as usize;
                let old = &mut self.pages[ix >> PAGE_BITS][ix & (PAGE - 1)];
                Some(std::mem::replace(old, row))
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
}

impl std::ops::Index<&u64> for OrderRows {
    type Output = OrderRow;

    fn index(&self, key: &u64) -> &OrderRow {
        self.get(key).expect("no order with this key")
    }
}

/// Equal when they hold the same rows, whatever order they arrived in.
impl PartialEq for OrderRows {
    fn eq(&self, o: &Self) -> bool {
        self.len == o.len && self.iter().all(|r| o.get(&r.key) == Some(r))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(key: u64, total: i64) -> OrderRow {
        OrderRow {
            key,
            created: 0,
            total,
            email: 0,
            number: 0,
            brand: 0,
            flags: 0,
            stage: 0,
            lines: Box::new([]),
            ships: Box::new([]),
        }
    }

    #[test]
    fn rows_are_found_replaced_and_compared_by_key() {
        let mut a = OrderRows::default();
        let mut b = OrderRows::default();
        // Keys that share low bits probe past each other.
        let keys: Vec<u64> = (0..5_000u64).map(|i| i << 20 | (i % 7)).collect();
        for k in &keys {
            assert_eq!(a.insert(row(*k, 1)), None);
        }
        for k in keys.iter().rev() {
            b.insert(row(*k, 1));
        }
        assert_eq!(a, b, "arrival order does not matter");
        assert_eq!(a.insert(row(keys[3], 2)), Some(row(keys[3], 1)));
        assert_eq!(a.len(), 5_000);
        assert_eq!(a[&keys[3]].total, 2);
        assert_ne!(a, b);
        assert!(a.get(&12345).is_none());
        assert_eq!(a.iter().count(), 5_000);
    }
}
