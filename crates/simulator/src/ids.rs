//! Shopify-like ids: large, unique across shops, increasing with creation, and
//! derived from positions so that nothing but the position has to be stored.
//! Order ids cross 2^53 early in each shop's history and line item ids all lie
//! above it, so a client that parses ids as f64 loses precision visibly.

/// 2^53: the first integer an f64 cannot hold next to its neighbour.
const TWO_POW_53: u64 = 1 << 53;

/// Interleaves a shop-local position with the shop's salt (1..=4) so ids never collide.
fn global(position: u64, salt: u64) -> u64 {
    position * 8 + salt
}

pub(crate) fn product(salt: u64, index: usize) -> u64 {
    8_100_000_000_000 + global(index as u64, salt) * 1_000_003
}

pub(crate) fn variant(salt: u64, index: usize) -> u64 {
    45_000_000_000_000 + global(index as u64, salt) * 100_003
}

pub(crate) fn inventory_item(salt: u64, index: usize) -> u64 {
    47_000_000_000_000 + global(index as u64, salt) * 100_019
}

pub(crate) fn image(salt: u64, index: usize) -> u64 {
    36_000_000_000_000 + global(index as u64, salt) * 10_007
}

pub(crate) fn location(salt: u64, index: usize) -> u64 {
    61_000_000_000 + global(index as u64, salt) * 1_000_033
}

pub(crate) fn customer(salt: u64, index: u32) -> u64 {
    7_100_000_000_000 + global(index as u64, salt) * 1_009
}

/// Orders: the first 25 of each shop below 2^53, the rest above.
pub(crate) fn order(salt: u64, index: u32) -> u64 {
    TWO_POW_53 - 200_000
        + global(index as u64, salt) * 1_000
        + (crate::rhythm::mix(index as u64) % 997)
}

/// The inverse of [`order`], for `orders/{id}.json`.
pub(crate) fn order_index(salt: u64, id: u64) -> Option<u32> {
    let offset = id.checked_sub(TWO_POW_53 - 200_000)? / 1_000;
    if offset % 8 != salt {
        return None;
    }
    let index = u32::try_from(offset / 8).ok()?;
    (order(salt, index) == id).then_some(index)
}

pub(crate) fn customer_index(salt: u64, id: u64) -> Option<u32> {
    let offset = id.checked_sub(7_100_000_000_000)?;
    if offset % 1_009 != 0 || (offset / 1_009) % 8 != salt {
        return None;
    }
    u32::try_from(offset / 1_009 / 8).ok()
}

pub(crate) fn line_item(salt: u64, order: u32, position: usize) -> u64 {
    14_000_000_000_000_000 + global(order as u64, salt) * 16 + position as u64
}

pub(crate) fn fulfillment(salt: u64, order: u32, position: usize) -> u64 {
    4_600_000_000_000 + global(order as u64, salt) * 4 + position as u64
}

pub(crate) fn refund(salt: u64, order: u32) -> u64 {
    950_000_000_000 + global(order as u64, salt)
}

/// The inverse of [`fulfillment`]: the order's index and the position.
pub(crate) fn fulfillment_position(salt: u64, id: u64) -> Option<(u32, usize)> {
    let offset = id.checked_sub(4_600_000_000_000)?;
    let order = from_global(offset / 4, salt)?;
    Some((order, (offset % 4) as usize))
}

/// The inverse of [`refund`]: the order's index.
pub(crate) fn refund_order(salt: u64, id: u64) -> Option<u32> {
    from_global(id.checked_sub(950_000_000_000)?, salt)
}

fn from_global(global: u64, salt: u64) -> Option<u32> {
    (global % 8 == salt).then(|| u32::try_from(global / 8).ok())?
}

pub(crate) fn refund_line_item(salt: u64, order: u32, position: usize) -> u64 {
    520_000_000_000 + global(order as u64, salt) * 16 + position as u64
}

/// The one fulfillment order of order `order` (the simulator's shops ship
/// from one location, so each order has one).
pub(crate) fn fulfillment_order(salt: u64, order: u32) -> u64 {
    7_300_000_000_000 + global(order as u64, salt)
}

pub(crate) fn fulfillment_order_line_item(salt: u64, order: u32, position: usize) -> u64 {
    16_500_000_000_000 + global(order as u64, salt) * 16 + position as u64
}

pub(crate) fn transaction(salt: u64, order: u32, position: usize) -> u64 {
    6_100_000_000_000 + global(order as u64, salt) * 4 + position as u64
}

/// A return on order `order` (at most one per order).
pub(crate) fn return_id(salt: u64, order: u32) -> u64 {
    17_000_000_000 + global(order as u64, salt)
}

/// The inverse of [`return_id`]: the order index of a return.
pub(crate) fn return_order_index(salt: u64, id: u64) -> Option<u32> {
    let offset = id.checked_sub(17_000_000_000)?;
    if offset % 8 != salt {
        return None;
    }
    u32::try_from(offset / 8).ok()
}

pub(crate) fn return_line_item(salt: u64, order: u32) -> u64 {
    33_000_000_000 + global(order as u64, salt)
}

/// A dispute on order `order` (at most one per order).
pub(crate) fn dispute(salt: u64, order: u32) -> u64 {
    2_800_000_000 + global(order as u64, salt)
}

/// An abandoned checkout, by its position among the shop's checkouts.
pub(crate) fn checkout(salt: u64, position: u32) -> u64 {
    38_000_000_000_000 + global(position as u64, salt) * 101
}

pub(crate) fn checkout_line_item(salt: u64, position: u32, item: usize) -> u64 {
    39_000_000_000_000 + global(position as u64, salt) * 16 + item as u64
}

/// A bulk operation, by its sequence number in the world.
pub(crate) fn bulk_operation(sequence: u64) -> u64 {
    5_200_000_000_000 + sequence
}

#[cfg(test)]
mod tests {
    #[test]
    fn order_ids_round_trip_and_cross_two_pow_53() {
        for salt in 1..=4 {
            for index in [0u32, 1, 49, 50, 51, 1_000_000] {
                let id = super::order(salt, index);
                assert_eq!(super::order_index(salt, id), Some(index));
            }
        }
        assert!(super::order(1, 0) < 1 << 53);
        assert!(super::order(1, 60) > 1 << 53);
        let id = super::customer(3, 77);
        assert_eq!(super::customer_index(3, id), Some(77));
        assert_eq!(super::customer_index(2, id), None);
    }
}
