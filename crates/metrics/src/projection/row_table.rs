//! An open-addressing table of 4-byte row numbers, found by a 64-bit hash
//! of something the row holds (its order number, its customer's e-mail).
//!
//! The indexes of orders by number and by customer were hash maps of keys
//! (and, per customer, a vector of entries): 36 and 37 bytes per order at a
//! million orders. A slot here is a `u32` row number; the row itself holds
//! what it is found by, so the caller's `is` closure decides whether a slot
//! is the one sought. Entries can be removed (an order's number or e-mail
//! changes), which leaves a tombstone until the next rebuild.

const EMPTY: u32 = u32::MAX;
const GONE: u32 = u32::MAX - 1;

#[derive(Debug, Clone, Default)]
pub struct RowTable {
    slots: Vec<u32>,
    /// Slots holding a row number.
    live: usize,
    /// Slots holding a row number or a tombstone.
    used: usize,
}

/// The slot a hash starts probing at (the high bits of a multiplied hash:
/// order numbers are small consecutive integers).
fn home(hash: u64, mask: usize) -> usize {
    (hash.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 32) as usize & mask
}

impl RowTable {
    pub fn len(&self) -> usize {
        self.live
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    /// The rows along `hash`'s probe sequence, up to the first free slot:
    /// every row stored under `hash` is among them.
    pub fn candidates(&self, hash: u64) -> impl Iterator<Item = u32> + '_ {
        let mask = self.slots.len().wrapping_sub(1);
        let start = if self.slots.is_empty() {
            0
        } else {
            home(hash, mask)
        };
        (0..self.slots.len())
            .map(move |i| self.slots[(start + i) & mask])
            .take_while(|ix| *ix != EMPTY)
            .filter(|ix| *ix != GONE)
    }

    /// The first row stored under `hash` for which `is` holds.
    pub fn find(&self, hash: u64, mut is: impl FnMut(u32) -> bool) -> Option<u32> {
        self.candidates(hash).find(|ix| is(*ix))
    }

    /// Stores `row` under `hash`; `hash_of` gives the hash of a stored row
    /// when the table grows.
    pub fn insert(&mut self, hash: u64, row: u32, hash_of: impl Fn(u32) -> u64) {
        if (self.used + 1) * 4 > self.slots.len() * 3 {
            self.rebuild(hash_of);
        }
        let mask = self.slots.len() - 1;
        let mut at = home(hash, mask);
        while self.slots[at] != EMPTY && self.slots[at] != GONE {
            at = (at + 1) & mask;
        }
        if self.slots[at] == EMPTY {
            self.used += 1;
        }
        self.slots[at] = row;
        self.live += 1;
    }

    /// Puts `new` where `old` is stored under `hash` (both found by the same hash).
    pub fn replace(&mut self, hash: u64, old: u32, new: u32) {
        if let Some(at) = self.slot_of(hash, old) {
            self.slots[at] = new;
        }
    }

    /// Removes `row` stored under `hash`.
    pub fn remove(&mut self, hash: u64, row: u32) {
        if let Some(at) = self.slot_of(hash, row) {
            self.slots[at] = GONE;
            self.live -= 1;
        }
    }

    fn slot_of(&self, hash: u64, row: u32) -> Option<usize> {
        if self.slots.is_empty() {
            return None;
        }
        let mask = self.slots.len() - 1;
        let mut at = home(hash, mask);
        loop {
            match self.slots[at] {
                EMPTY => return None,
                ix if ix == row => return Some(at),
                _ => at = (at + 1) & mask,
            }
        }
    }

    /// Rehashes into a table at most half full (the same size when mostly
    /// tombstones were the reason).
    fn rebuild(&mut self, hash_of: impl Fn(u32) -> u64) {
        let mut size = self.slots.len().max(1024);
        while (self.live + 1) * 2 > size {
            size *= 2;
        }
        let old = std::mem::replace(&mut self.slots, vec![EMPTY; size]);
        let mask = size - 1;
        for ix in old.into_iter().filter(|ix| *ix != EMPTY && *ix != GONE) {
            let mut at = home(hash_of(ix), mask);
            while self.slots[at] != EMPTY {
                at = (at + 1) & mask;
            }
            self.slots[at] = ix;
        }
        self.used = self.live;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_found_under_their_hash_after_removals_and_growth() {
        // Row i is stored under hash i % 500: many rows share a hash.
        let hash_of = |ix: u32| u64::from(ix % 500);
        let mut t = RowTable::default();
        for ix in 0..5_000u32 {
            t.insert(hash_of(ix), ix, hash_of);
        }
        assert_eq!(t.len(), 5_000);
        for ix in (0..5_000u32).step_by(3) {
            t.remove(hash_of(ix), ix);
        }
        t.replace(hash_of(4), 4, 504);
        for h in [0u64, 4, 7, 499] {
            let mut got: Vec<u32> = t.candidates(h).filter(|ix| ix % 500 == h as u32).collect();
            got.sort_unstable();
            let mut want: Vec<u32> = (0..5_000u32)
                .filter(|ix| u64::from(ix % 500) == h && ix % 3 != 0)
                .map(|ix| if ix == 4 { 504 } else { ix })
                .collect();
            want.sort_unstable();
            assert_eq!(got, want, "hash {h}");
        }
        assert_eq!(t.find(7, |ix| ix == 7), Some(7));
        assert_eq!(t.find(6, |ix| ix == 6), None, "removed");
        // Removing and adding many times rebuilds in place, never losing rows.
        for round in 0..20u32 {
            for ix in 0..1_000u32 {
                let row = 10_000 + round * 1_000 + ix;
                t.insert(hash_of(row), row, hash_of);
                t.remove(hash_of(row), row);
            }
        }
        assert_eq!(t.len(), 5_000 - 1_667);
        assert_eq!(t.find(4, |ix| ix == 504), Some(504));
        assert!(t.slots.len() <= 16_384, "tombstones do not grow the table");
    }
}
