//! Abandoned checkouts: carts that reached checkout and were left. One in
//! four orders is followed, an hour to two days later, by an abandoned
//! checkout of the same customer with some of the same items (a second
//! purchase started and not finished; one in ten is completed later by the
//! buyer, whose resulting order is not simulated), so checkouts follow the
//! shop's rhythm and customers without anything stored: each is derived
//! from its order's plan and a hash of (seed, shop, position). A checkout
//! exists once the clock passes its last change (`updated_at`), so none
//! appears in the past of a sync that already looked.

use crate::orders::OrderBook;
use crate::rhythm::mix;

/// Every `EVERY`-th order is followed by an abandoned checkout.
pub(crate) const EVERY: u32 = 4;
const HOUR: i64 = 3600;

/// One abandoned checkout, derived from order `order`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Checkout {
    /// Position among the shop's checkouts (the id derives from it).
    pub position: u32,
    pub order: u32,
    pub created_at: i64,
    /// The last time the buyer touched it.
    pub updated_at: i64,
    /// Set when the buyer came back and paid; the API keeps listing it.
    pub completed_at: Option<i64>,
    /// How many of the order's line items were in the cart (at least one).
    pub items: usize,
}

/// The checkout at `position`, if its order exists.
pub(crate) fn checkout(book: &OrderBook, seed: u64, salt: u64, position: u32) -> Option<Checkout> {
    let order_index = position.checked_mul(EVERY)?;
    let order = book.orders.get(order_index as usize)?;
    let h = mix(mix(seed ^ salt.wrapping_mul(0x51_7CC1_B727_220A)) ^ position as u64);
    let after = HOUR + (h % (47 * HOUR as u64)) as i64;
    let created_at = order.created_at + after;
    let touched = ((h >> 20) % 1800) as i64;
    let recovered = (h >> 40).is_multiple_of(10);
    let items = book.items(order).len();
    let left_at = created_at + touched;
    let completed_at = recovered.then_some(left_at + 3 * HOUR);
    Some(Checkout {
        position,
        order: order_index,
        created_at,
        updated_at: completed_at.unwrap_or(left_at),
        completed_at,
        items: 1 + ((h >> 50) as usize % items.max(1)),
    })
}

/// How many checkout positions the shop has (each exists once the clock
/// passes its `updated_at`).
pub(crate) fn count(book: &OrderBook) -> u32 {
    (book.orders.len() as u32).div_ceil(EVERY)
}
