//! `POST /webhooks/shopify`: Shopify's webhook deliveries, received
//! durably.
//!
//! The order of checks is the contract:
//! 1. the raw body is read whole (at most [`MAX_BODY`]; larger is 413);
//! 2. the shop (`X-Shopify-Shop-Domain`) must be configured and
//!    `X-Shopify-Hmac-Sha256` must be base64(HMAC-SHA256(secret, raw body))
//!    for its current or previous secret, compared in constant time
//!    ([`signature_matches`], the connector's) — before anything parses
//!    the body. Otherwise 401, nothing stored, and
//!    the log names the shop and the reason, never a secret or the body;
//! 3. the body must be a JSON object nested at most
//!    [`bounds::MAX_JSON_DEPTH`] deep, and the delivery must carry a topic
//!    and a webhook id, each header at most [`bounds::MAX_HEADER_BYTES`]
//!    long; otherwise 400 with the reason (naming the header and bound);
//! 4. a topic opsdeck does not handle (not a [`WebhookTopic`]) is answered
//!    200 and dropped (logged) — except a `returns/*` topic, which is
//!    stored and failed by the worker naming it
//!    ([`WebhookTopic::keeps_unknown`]):
//!    Shopify retries every non-2xx answer for hours and finally removes the
//!    subscription, and no retry can make an unknown topic useful;
//! 5. the raw event is committed to the store's webhook inbox, and only then
//!    answered 200 (a redelivery of a stored webhook id is 200 too, stored
//!    once). If the store fails, 503: Shopify will deliver it again.
//!
//! Processing into records happens after the answer, in a worker woken by
//! [`WebhookReceiver::notify`], so the answer stays fast (Shopify allows 5 s).
//!
//! Deliveries arriving together share one commit: handlers hand their event
//! to the inbox's group-commit writer ([`opsdeck_sync::group_commit::InboxCommits`],
//! started by the application). Each handler still answers only after the
//! commit holding its event returns.
//!
//! `POST /webhooks/gorgias` ([`gorgias`]) takes the helpdesk's events into
//! the same inbox through the same writer.

mod gorgias;

pub use gorgias::GorgiasIntake;

use crate::auth::rules::{Access, Routes};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Json;
use opsdeck_domain::{bounds, Secret, SourceId};
use opsdeck_sources::shopify::webhooks::{signature_matches, WebhookTopic};
use opsdeck_store::{InboxEvent, InsertOutcome};
use opsdeck_sync::group_commit::{InboxCommitError, InboxCommits};
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;
use tokio::sync::Notify;

/// Largest body accepted. Shopify's largest payloads (orders with hundreds
/// of lines) stay well below.
pub const MAX_BODY: usize = 5 * 1024 * 1024;

/// One shop's webhook secrets. Debug never prints them.
#[derive(Clone)]
pub struct ShopWebhookSecrets {
    /// Lowercase, e.g. `plentum.myshopify.com`.
    pub shop_domain: String,
    pub source: SourceId,
    /// The app's client secret that signs this shop's webhooks.
    pub secret: Secret,
    /// Still accepted for a while after a rotation.
    pub previous: Option<Secret>,
}

impl std::fmt::Debug for ShopWebhookSecrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShopWebhookSecrets")
            .field("shop_domain", &self.shop_domain)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The receiving end: the configured shops, the queue to the group-commit
/// writer, and the signal that wakes the inbox worker.
pub struct WebhookReceiver {
    shops: HashMap<String, ShopWebhookSecrets>,
    /// The helpdesk whose events `/webhooks/gorgias` accepts, if any.
    gorgias: Option<GorgiasIntake>,
    inbox: InboxCommits,
    notify: Arc<Notify>,
}

impl WebhookReceiver {
    /// The receiver to put in [`AppState::webhooks`]: deliveries of `shops`
    /// (and of the helpdesk, when `gorgias` is given) go to the inbox
    /// writer `inbox`, started with `notify` (signalled after each commit
    /// that stored something new).
    pub fn new(
        shops: Vec<ShopWebhookSecrets>,
        gorgias: Option<GorgiasIntake>,
        inbox: InboxCommits,
        notify: Arc<Notify>,
    ) -> Arc<Self> {
        let shops = shops
            .into_iter()
            .map(|s| (s.shop_domain.to_ascii_lowercase(), s))
            .collect();
        Arc::new(WebhookReceiver {
            shops,
            gorgias,
            inbox,
            notify,
        })
    }

    /// Signalled after new events are committed.
    pub fn notify(&self) -> Arc<Notify> {
        self.notify.clone()
    }
}

/// Checks that `text` is one JSON object without building it: the inbox
/// stores the raw text and the worker parses it once when it applies it, so
/// intake only validates (serde's `IgnoredAny` walks the syntax and
/// allocates nothing).
///
/// `IgnoredAny` has no depth limit of its own (`serde_json` skips values
/// without recursing), while the worker's parse stops at 128 levels: the
/// depth is bounded here so such a body is refused at the door, not
/// accepted and then failed.
fn check_json_object(text: &str) -> Result<(), String> {
    use serde::de::IgnoredAny;
    bounds::json_depth(text.as_bytes(), bounds::MAX_JSON_DEPTH).map_err(|e| format!("body {e}"))?;
    let mut de = serde_json::Deserializer::from_str(text);
    serde::Deserialize::deserialize(&mut de)
        .and_then(|IgnoredAny| de.end())
        .map_err(|e| format!("body is not valid JSON: {e}"))?;
    if text.trim_start().starts_with('{') {
        Ok(())
    } else {
        Err("body is JSON but not an object".into())
    }
}

/// Public: the HMAC signature (Shopify) or shared secret (Gorgias) is the
/// credential, checked by each handler.
pub(crate) fn router() -> Routes {
    Routes::new()
        .route(
            "/webhooks/shopify",
            Method::POST,
            Access::Public,
            post(receive).layer(DefaultBodyLimit::max(MAX_BODY)),
        )
        .merge(gorgias::router())
}

fn answer(status: StatusCode, key: &str, text: &str) -> Response {
    (status, Json(json!({ key: text }))).into_response()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The headers a stored delivery keeps, each bounded so a 60 KB header
/// cannot reach the inbox, the log or /sources.
const BOUNDED_HEADERS: &[&str] = &[
    "x-shopify-topic",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-api-version",
    "x-shopify-triggered-at",
];

/// The first kept header longer than [`bounds::MAX_HEADER_BYTES`], named
/// with its length and the bound.
fn oversized_header(headers: &HeaderMap) -> Option<String> {
    BOUNDED_HEADERS.iter().find_map(|name| {
        let len = headers.get(*name)?.len();
        (len > bounds::MAX_HEADER_BYTES).then(|| {
            format!(
                "header {name} is {len} bytes long; the limit is {} bytes",
                bounds::MAX_HEADER_BYTES
            )
        })
    })
}

/// Counts one delivery at `door` (`shopify`, `gorgias`) with its
/// `outcome` for `/metrics`: every answer a door gives passes here once.
pub(crate) fn count_delivery(door: &'static str, outcome: &'static str) {
    metrics::counter!("opsdeck_webhooks_total", "door" => door, "outcome" => outcome).increment(1);
}

fn unauthorized(shop: &str, why: &str) -> Response {
    count_delivery("shopify", "refused");
    tracing::warn!(shop, reason = why, "webhook refused");
    answer(
        StatusCode::UNAUTHORIZED,
        "error",
        "webhook signature not valid",
    )
}

fn bad_request(shop: &str, reason: String) -> Response {
    count_delivery("shopify", "refused");
    tracing::warn!(shop, %reason, "webhook rejected");
    answer(StatusCode::BAD_REQUEST, "error", &reason)
}

#[tracing::instrument(skip_all, fields(shop, topic, webhook_id))]
async fn receive(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(receiver) = state.webhooks.as_ref() else {
        return answer(
            StatusCode::NOT_FOUND,
            "error",
            "webhooks are not configured",
        );
    };
    let domain = header(&headers, "x-shopify-shop-domain")
        .unwrap_or_default()
        .to_ascii_lowercase();
    if domain.len() > bounds::MAX_HEADER_BYTES {
        // No configured shop has such a name; the log names it briefly.
        return unauthorized(
            &bounds::excerpt(&domain),
            "X-Shopify-Shop-Domain is longer than 255 bytes",
        );
    }
    tracing::Span::current().record("shop", domain.as_str());
    let Some(shop) = receiver.shops.get(&domain) else {
        return unauthorized(&domain, "unknown or missing X-Shopify-Shop-Domain");
    };
    let Some(signature) = header(&headers, "x-shopify-hmac-sha256") else {
        return unauthorized(&domain, "missing X-Shopify-Hmac-Sha256");
    };
    let valid = signature_matches(shop.secret.expose().as_bytes(), &body, signature)
        || shop
            .previous
            .as_ref()
            .is_some_and(|p| signature_matches(p.expose().as_bytes(), &body, signature));
    if !valid {
        return unauthorized(&domain, "signature does not match the shop's secrets");
    }

    // Authentic from here on: now the body may be looked at.
    let Ok(text) = std::str::from_utf8(&body) else {
        return bad_request(&domain, "body is not UTF-8 JSON".into());
    };
    if let Some(reason) = oversized_header(&headers) {
        return bad_request(&domain, reason);
    }
    if let Err(reason) = check_json_object(text) {
        return bad_request(&domain, reason);
    }
    let Some(topic) = header(&headers, "x-shopify-topic") else {
        return bad_request(&domain, "missing X-Shopify-Topic".into());
    };
    tracing::Span::current().record("topic", topic);
    let Some(webhook_id) = header(&headers, "x-shopify-webhook-id") else {
        return bad_request(&domain, "missing X-Shopify-Webhook-Id".into());
    };
    tracing::Span::current().record("webhook_id", webhook_id);
    let topic = match WebhookTopic::parse(topic) {
        Some(topic) => topic.as_str(),
        // Kept so the worker fails it visibly (see `keeps_unknown`).
        None if WebhookTopic::keeps_unknown(topic) => topic,
        None => {
            tracing::info!("webhook topic not handled: acknowledged and dropped");
            return answer(StatusCode::OK, "status", "ignored: topic not handled");
        }
    };
    let triggered_at =
        header(&headers, "x-shopify-triggered-at").and_then(|t| bounds::timestamp(t).ok());
    let event = InboxEvent {
        source: shop.source.clone(),
        shop_domain: domain.clone(),
        webhook_id: webhook_id.to_string(),
        event_id: header(&headers, "x-shopify-event-id").map(str::to_string),
        topic: topic.to_string(),
        api_version: header(&headers, "x-shopify-api-version").map(str::to_string),
        triggered_at,
        received_at: state.now(),
        body: text.to_string(),
    };
    receiver.journal(event, "webhook", "shopify").await
}

impl WebhookReceiver {
    /// Hands an authentic event to the group-commit writer and answers as
    /// the sender expects: 200 once it is durable (a redelivery too), 503
    /// when it could not be stored (the platform retries). One home for
    /// Shopify's and Gorgias's doors; `what` names the event in the answer,
    /// `door` in the count of deliveries.
    pub(crate) async fn journal(
        &self,
        event: InboxEvent,
        what: &str,
        door: &'static str,
    ) -> Response {
        let (outcome, response) = match self.inbox.commit(event).await {
            Ok(InsertOutcome::Inserted { .. }) => {
                ("accepted", answer(StatusCode::OK, "status", "accepted"))
            }
            Ok(InsertOutcome::Duplicate) => {
                tracing::debug!("{what} redelivered: already stored");
                ("duplicate", answer(StatusCode::OK, "status", "duplicate"))
            }
            Err(InboxCommitError::NotRunning) => (
                "unavailable",
                answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error",
                    "webhook inbox is not running",
                ),
            ),
            // Logged by the writer.
            Err(InboxCommitError::Failed(_)) => (
                "unavailable",
                answer(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "error",
                    &format!("could not store the {what}"),
                ),
            ),
        };
        count_delivery(door, outcome);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_whole_json_object_is_accepted() {
        assert!(check_json_object(r#" {"id": 1, "a": [1, {"b": null}]} "#).is_ok());
        let e = check_json_object(r#"{"id": 1"#).unwrap_err();
        assert!(e.starts_with("body is not valid JSON"), "{e}");
        let e = check_json_object(r#"{"id": 1} trailing"#).unwrap_err();
        assert!(e.starts_with("body is not valid JSON"), "{e}");
        let e = check_json_object("[1, 2]").unwrap_err();
        assert_eq!(e, "body is JSON but not an object");
        assert!(check_json_object("\"text\"").is_err());
        // Deeper than the worker could parse: refused at the door.
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(100_000), "]".repeat(100_000));
        let e = check_json_object(&deep).unwrap_err();
        assert_eq!(e, "body JSON nests deeper than 64 levels");
    }

    #[test]
    fn kept_headers_are_bounded() {
        let mut headers = HeaderMap::new();
        headers.insert("x-shopify-webhook-id", "b1c2".parse().unwrap());
        assert_eq!(oversized_header(&headers), None);
        headers.insert(
            "x-shopify-webhook-id",
            "w".repeat(60 * 1024).parse().unwrap(),
        );
        assert_eq!(
            oversized_header(&headers).as_deref(),
            Some("header x-shopify-webhook-id is 61440 bytes long; the limit is 255 bytes")
        );
    }

    #[test]
    fn debug_hides_secrets() {
        let s = ShopWebhookSecrets {
            shop_domain: "a.myshopify.com".into(),
            source: SourceId::parse("shopify-a").unwrap(),
            secret: Secret::new("hush-current"),
            previous: Some(Secret::new("hush-previous")),
        };
        let printed = format!("{s:?}");
        assert!(!printed.contains("hush"), "{printed}");
    }
}
