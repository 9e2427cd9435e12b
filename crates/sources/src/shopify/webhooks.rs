//! Shopify webhooks, the platform's side: which topics opsdeck handles
//! ([`WebhookTopic`]) and how a delivery proves it came from Shopify
//! ([`signature_matches`]). Pure; the web receives deliveries, the inbox
//! worker in `opsdeck-sync` applies them.
//!
//! Adding a topic: one line in the `topics!` list here (variant and
//! Shopify's name), then its arm in the inbox worker's `match`
//! (`opsdeck_sync::inbox`), which does not compile until it handles every
//! variant. The
//! receiver accepts it and `opsdeck shopify webhooks register` subscribes
//! to it from [`WebhookTopic::ALL`].

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Declares [`WebhookTopic`] from one list of (variant, Shopify's name), so
/// [`WebhookTopic::ALL`] and [`WebhookTopic::as_str`] cannot miss a variant.
macro_rules! topics {
    ($( $variant:ident = $name:literal ),+ $(,)?) => {
        /// A topic opsdeck subscribes to and processes, as Shopify names it in
        /// `X-Shopify-Topic`. A delivery of any other topic is acknowledged and
        /// dropped by the receiver ([`WebhookTopic::parse`] gives `None`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum WebhookTopic { $( $variant, )+ }

        impl WebhookTopic {
            /// Every handled topic: what `opsdeck shopify webhooks register`
            /// subscribes to.
            pub const ALL: &'static [WebhookTopic] = &[$( WebhookTopic::$variant, )+];

            /// Shopify's name, e.g. `orders/create`.
            pub fn as_str(self) -> &'static str {
                match self { $( WebhookTopic::$variant => $name, )+ }
            }
        }
    };
}

topics! {
    OrdersCreate = "orders/create",
    OrdersUpdated = "orders/updated",
    OrdersCancelled = "orders/cancelled",
    OrdersFulfilled = "orders/fulfilled",
    OrdersPartiallyFulfilled = "orders/partially_fulfilled",
    FulfillmentsCreate = "fulfillments/create",
    FulfillmentsUpdate = "fulfillments/update",
    RefundsCreate = "refunds/create",
    ProductsCreate = "products/create",
    ProductsUpdate = "products/update",
    ProductsDelete = "products/delete",
    InventoryLevelsUpdate = "inventory_levels/update",
    AppUninstalled = "app/uninstalled",
    BulkOperationsFinish = "bulk_operations/finish",
    // The resources only GraphQL lists (their payloads are REST-shaped).
    ReturnsRequest = "returns/request",
    ReturnsApprove = "returns/approve",
    ReturnsDecline = "returns/decline",
    ReturnsCancel = "returns/cancel",
    ReturnsClose = "returns/close",
    ReturnsReopen = "returns/reopen",
    ReturnsProcess = "returns/process",
    ReturnsUpdate = "returns/update",
    DisputesCreate = "disputes/create",
    DisputesUpdate = "disputes/update",
    CustomersUpdate = "customers/update",
    CheckoutsCreate = "checkouts/create",
    CheckoutsUpdate = "checkouts/update",
    CheckoutsDelete = "checkouts/delete",
    // Shopify's mandatory compliance webhooks (privacy requests).
    CustomersDataRequest = "customers/data_request",
    CustomersRedact = "customers/redact",
    ShopRedact = "shop/redact",
}

impl WebhookTopic {
    /// The handled topic named `name` exactly; `None` for any other.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|t| t.as_str() == name)
    }

    /// Whether a delivery of `name`, a topic that is not a
    /// [`WebhookTopic`], is still kept in the inbox rather than dropped:
    /// a `returns/*` topic Shopify added after this list was written
    /// changes a return opsdeck stores, so it is kept, and the inbox
    /// worker fails it naming the topic (logged, counted among the
    /// source's failed webhooks on /sources) instead of it vanishing.
    pub fn keeps_unknown(name: &str) -> bool {
        name.strip_prefix("returns/")
            .is_some_and(|rest| !rest.is_empty())
    }

    /// Shopify's mandatory compliance topics: an app does not subscribe to
    /// them through the API (they are set once in the app's configuration,
    /// pointing at the same address), so `opsdeck shopify webhooks
    /// register` leaves them out ([`WebhookTopic::subscribable`]).
    pub fn is_compliance(self) -> bool {
        matches!(
            self,
            WebhookTopic::CustomersDataRequest
                | WebhookTopic::CustomersRedact
                | WebhookTopic::ShopRedact
        )
    }

    /// The topics subscribed to through the API: every handled topic but
    /// the compliance ones.
    pub fn subscribable() -> impl Iterator<Item = WebhookTopic> {
        Self::ALL.iter().copied().filter(|t| !t.is_compliance())
    }

    /// True for the topics whose body is a whole order.
    pub fn carries_order(self) -> bool {
        matches!(
            self,
            WebhookTopic::OrdersCreate
                | WebhookTopic::OrdersUpdated
                | WebhookTopic::OrdersCancelled
                | WebhookTopic::OrdersFulfilled
                | WebhookTopic::OrdersPartiallyFulfilled
        )
    }
}

impl std::fmt::Display for WebhookTopic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True when `header` (`X-Shopify-Hmac-Sha256`) is
/// base64(HMAC-SHA256(`secret`, `body`)). The MAC comparison is
/// constant-time (`hmac`'s `verify_slice`).
pub fn signature_matches(secret: &[u8], body: &[u8], header: &str) -> bool {
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(header.trim()) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// base64(HMAC-SHA256(`secret`, `body`)), as Shopify signs (for senders
/// and tests).
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shopify_test_vector_verifies() {
        // fixtures/README.md, from Shopify/shopify-api-js.
        let body = br#"{"foo": "bar"}"#;
        assert_eq!(body.len(), 14);
        let expected = "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g=";
        assert!(signature_matches(b"test_secret_key", body, expected));
        assert_eq!(sign(b"test_secret_key", body), expected);
        assert!(!signature_matches(
            b"test_secret_key",
            br#"{"foo":"bar"}"#,
            expected
        ));
        assert!(!signature_matches(b"other_secret", body, expected));
        assert!(!signature_matches(b"test_secret_key", body, "not base64!"));
        assert!(!signature_matches(b"test_secret_key", body, ""));
    }

    #[test]
    fn topics_round_trip_and_unknown_ones_are_not_handled() {
        for &topic in WebhookTopic::ALL {
            assert_eq!(WebhookTopic::parse(topic.as_str()), Some(topic));
        }
        assert_eq!(WebhookTopic::parse("customers/create"), None);
        assert_eq!(WebhookTopic::parse("Orders/Create"), None);
        assert!(WebhookTopic::OrdersCreate.carries_order());
        assert!(!WebhookTopic::RefundsCreate.carries_order());
    }
}
