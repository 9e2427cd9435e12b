//! A generic webhook: POST the JSON payload, signed with HMAC-SHA256.
//!
//! Headers (documented for receivers):
//! - `X-Opsdeck-Timestamp`: Unix seconds when the request was signed;
//! - `X-Opsdeck-Signature`: `sha256=` + lowercase hex of
//!   HMAC-SHA256(secret, `"{timestamp}.{body}"`).
//!
//! A receiver recomputes the signature over the raw body, compares in
//! constant time and rejects timestamps more than 5 minutes old (replays).
//! 2xx is delivered, 408/429/5xx are retried (429 honours `Retry-After`),
//! other statuses are refused.

use super::{outcome_for_status, retry_after, transport_error, Channel, Notifier, SendOutcome};
use async_trait::async_trait;
use hmac::{Hmac, Mac};
use opsdeck_domain::Secret;
use serde_json::Value;
use sha2::Sha256;

pub const TIMESTAMP_HEADER: &str = "X-Opsdeck-Timestamp";
pub const SIGNATURE_HEADER: &str = "X-Opsdeck-Signature";

pub struct WebhookNotifier {
    client: reqwest::Client,
    url: Secret,
    secret: Secret,
}

impl WebhookNotifier {
    pub fn new(client: reqwest::Client, url: Secret, secret: Secret) -> Self {
        WebhookNotifier {
            client,
            url,
            secret,
        }
    }
}

/// The `X-Opsdeck-Signature` value for `body` signed at `timestamp`.
pub fn signature(secret: &str, timestamp: i64, body: &[u8]) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes keys of any length");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

#[async_trait]
impl Notifier for WebhookNotifier {
    fn kind(&self) -> Channel {
        Channel::Webhook
    }

    #[tracing::instrument(name = "webhook_send", skip_all)]
    async fn send(&self, payload: &Value) -> SendOutcome {
        let body = payload.to_string().into_bytes();
        let ts = jiff::Timestamp::now().as_second();
        let response = match self
            .client
            .post(self.url.expose())
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header(TIMESTAMP_HEADER, ts.to_string())
            .header(SIGNATURE_HEADER, signature(self.secret.expose(), ts, &body))
            .body(body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return transport_error("webhook", e),
        };
        outcome_for_status(
            response.status(),
            retry_after(response.headers()),
            "webhook",
        )
    }
}
