//! Abandoned checkouts: carts that reached checkout and were left. One in
//! four orders has an abandoned checkout shortly before it (the customer's
//! earlier attempt, some later recovered by the order itself), so checkouts
//! follow the shop's rhythm and customers without anything stored: each is
//! derived from its order's plan and a hash of (seed, shop, position).

use crate::orders::{OrderBook, NEVER};
use crate::rhythm::mix;

/// Every `EVERY`-th order has an abandoned checkout before it.
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
    /// Set when the buyer came back and paid (the order): Shopify then
    /// stops listing it as abandoned only in the admin, the API keeps it.
    pub completed_at: Option<i64>,
    /// How many of the order's line items were in the cart (at least one).
    pub items: usize,
}

/// The checkout at `position`, if its order exists.
pub(crate) fn checkout(book: &OrderBook, seed: u64, salt: u64, position: u32) -> Option<Checkout> {
    let order_index = position.checked_mul(EVERY)?;
    let order = book.orders.get(order_index as usize)?;
    let h = mix(mix(seed ^ salt.wrapping_mul(0x51_7CC1_B727_220A)) ^ position as u64);
    let before = HOUR + (h % (47 * HOUR as u64)) as i64;
    let created_at = order.created_at - before;
    let touched = ((h >> 20) % 1800) as i64;
    let recovered = (h >> 40).is_multiple_of(10) && order.cancel_at == NEVER;
    let items = book.items(order).len();
    Some(Checkout {
        position,
        order: order_index,
        created_at,
        updated_at: created_at + touched,
        completed_at: recovered.then_some(order.created_at),
        items: 1 + ((h >> 50) as usize % items.max(1)),
    })
}

/// How many checkouts the shop has (existing at the world's clock or not:
/// orders are placed only up to the clock, checkouts a little before them).
pub(crate) fn count(book: &OrderBook) -> u32 {
    (book.orders.len() as u32).div_ceil(EVERY)
}
