//! Storefront funnel events (issue 15 point 5): what a storefront pushes
//! through `POST /api/v1/ingest/funnel-events`, named after the standard
//! events of Shopify's web pixels (`page_viewed`, `product_added_to_cart`,
//! `checkout_started`, `checkout_completed`, …), so a custom pixel forwards
//! them with their own names and ids.
//!
//! Not a stored record kind: sessions run ~50× orders and each session
//! sends several events, so opsdeck keeps one small row per *session-day*
//! (brand, the brand's local day, a hash of the session id) holding the
//! steps that session reached that day ([`Steps`]), not the events
//! themselves. Adding a step is a bitwise OR: idempotent, commutative and
//! associative, so an event sent twice, a retried batch and events that
//! arrive late or out of order all give the same row. That is how events
//! are deduplicated by id without keeping every id: an event can only ever
//! say "this session reached this step on this day", and saying it again
//! changes nothing.

use crate::bounds::{Checker, Text};
use crate::{Bounded, BrandId, Timestamp};
use serde::Serialize;

macro_rules! pixel_events {
    ($( $variant:ident = $name:literal => $steps:expr, )+) => {
        /// A standard event of Shopify's web pixels API. A closed list: an
        /// unknown name is refused with the list (a typo would otherwise
        /// count as a session silently).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        pub enum PixelEvent { $( $variant, )+ }

        impl PixelEvent {
            pub const ALL: &'static [PixelEvent] = &[$( PixelEvent::$variant, )+];

            /// The name on the wire, e.g. `checkout_started`.
            pub fn as_str(self) -> &'static str {
                match self { $( PixelEvent::$variant => $name, )+ }
            }

            /// The funnel steps the event proves its session reached.
            pub fn steps(self) -> Steps {
                match self { $( PixelEvent::$variant => $steps, )+ }
            }
        }
    };
}

pixel_events! {
    PageViewed = "page_viewed" => Steps::SESSION,
    ProductViewed = "product_viewed" => Steps::SESSION,
    CollectionViewed = "collection_viewed" => Steps::SESSION,
    SearchSubmitted = "search_submitted" => Steps::SESSION,
    CartViewed = "cart_viewed" => Steps::SESSION,
    ProductRemovedFromCart = "product_removed_from_cart" => Steps::SESSION,
    AlertDisplayed = "alert_displayed" => Steps::SESSION,
    UiExtensionErrored = "ui_extension_errored" => Steps::SESSION,
    ProductAddedToCart = "product_added_to_cart" => Steps::CART,
    CheckoutStarted = "checkout_started" => Steps::CHECKOUT,
    // The steps inside checkout prove it was started, should the
    // `checkout_started` event itself have been lost (ad blockers, a closed tab).
    CheckoutContactInfoSubmitted = "checkout_contact_info_submitted" => Steps::CHECKOUT,
    CheckoutAddressInfoSubmitted = "checkout_address_info_submitted" => Steps::CHECKOUT,
    CheckoutShippingInfoSubmitted = "checkout_shipping_info_submitted" => Steps::CHECKOUT,
    PaymentInfoSubmitted = "payment_info_submitted" => Steps::CHECKOUT,
    CheckoutCompleted = "checkout_completed" => Steps::COMPLETED,
}

impl PixelEvent {
    pub fn parse(name: &str) -> Option<PixelEvent> {
        PixelEvent::ALL.iter().copied().find(|e| e.as_str() == name)
    }

    /// Every accepted name, for the error that refuses another.
    pub fn names() -> Vec<&'static str> {
        PixelEvent::ALL.iter().map(|e| e.as_str()).collect()
    }
}

/// The funnel steps one session reached on one local day, as bits. Every
/// event sets [`Steps::SESSION`]; a later step implies the steps a buyer
/// cannot skip (a completed checkout was started), but not the cart: "buy
/// it now" goes from a product page straight to checkout.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Steps(pub u8);

impl Steps {
    /// The session was seen (any event).
    pub const SESSION: Steps = Steps(1);
    /// A product was added to the cart.
    pub const CART: Steps = Steps(1 | 2);
    /// A checkout was started.
    pub const CHECKOUT: Steps = Steps(1 | 4);
    /// A checkout was completed: an order.
    pub const COMPLETED: Steps = Steps(1 | 4 | 8);

    pub fn union(self, other: Steps) -> Steps {
        Steps(self.0 | other.0)
    }

    /// Whether every bit of `step` is set.
    pub fn reached(self, step: Steps) -> bool {
        self.0 & step.0 == step.0
    }
}

/// One storefront event, validated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FunnelEvent {
    /// The event's id (a web pixel event's `id`).
    pub id: String,
    pub brand: BrandId,
    pub name: PixelEvent,
    /// The storefront's session id, or a web pixel's `clientId`.
    pub session_id: String,
    pub occurred_at: Timestamp,
}

impl FunnelEvent {
    /// The stored key of the event's session: 63 bits of FNV-1a over the
    /// brand and the session id. Stable across builds (it is stored), and
    /// the session id itself is never kept. Two sessions of one brand
    /// share a key with a chance of about n² / 2⁶⁴: one in 10⁸ at 10⁵
    /// sessions a day.
    pub fn session_key(&self) -> i64 {
        session_key(&self.brand, &self.session_id)
    }
}

/// See [`FunnelEvent::session_key`].
pub fn session_key(brand: &BrandId, session_id: &str) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in brand.as_str().bytes().chain([0]).chain(session_id.bytes()) {
        h ^= u64::from(byte);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    // Positive in a signed BIGINT column.
    (h >> 1) as i64
}

impl Bounded for FunnelEvent {
    fn visit(&self, c: &mut Checker) {
        c.text("id", Text::Id, &self.id);
        c.text("session_id", Text::Id, &self.session_id);
        c.time("occurred_at", self.occurred_at);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_steps_imply_what_cannot_be_skipped() {
        for e in PixelEvent::ALL {
            assert_eq!(PixelEvent::parse(e.as_str()), Some(*e));
            assert!(e.steps().reached(Steps::SESSION));
        }
        assert_eq!(PixelEvent::parse("purchase"), None);
        let completed = PixelEvent::CheckoutCompleted.steps();
        assert!(completed.reached(Steps::CHECKOUT));
        assert!(!completed.reached(Steps::CART));
        let both = Steps::CART.union(Steps::COMPLETED);
        assert!(both.reached(Steps::CART) && both.reached(Steps::COMPLETED));
        // Idempotent: a repeat changes nothing.
        assert_eq!(both.union(Steps::CART), both);
    }

    #[test]
    fn session_keys_are_stable_and_per_brand() {
        let a = BrandId::parse("mavena").unwrap();
        let b = BrandId::parse("kumo").unwrap();
        // Stored values: a change of the hash would split every session.
        assert_eq!(session_key(&a, "c1"), session_key(&a, "c1"));
        assert_ne!(session_key(&a, "c1"), session_key(&b, "c1"));
        assert_ne!(session_key(&a, "c1"), session_key(&a, "c2"));
        assert!(session_key(&a, "c1") >= 0);
        assert_eq!(session_key(&a, ""), 0x52f3_b374_373d_75f8);
    }
}
