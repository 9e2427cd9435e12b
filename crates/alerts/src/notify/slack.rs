//! Slack incoming webhooks: POST the Block Kit payload as JSON; 200 with
//! body `ok` is delivered; 429 carries `Retry-After`; other 4xx (such as
//! `invalid_blocks`, `no_service`) are refused.

use super::{outcome_for_status, retry_after, transport_error, Channel, Notifier, SendOutcome};
use async_trait::async_trait;
use opsdeck_domain::Secret;
use serde_json::Value;

pub struct SlackNotifier {
    client: reqwest::Client,
    /// The webhook URL is the credential: kept as a secret.
    webhook_url: Secret,
}

impl SlackNotifier {
    pub fn new(client: reqwest::Client, webhook_url: Secret) -> Self {
        SlackNotifier {
            client,
            webhook_url,
        }
    }
}

#[async_trait]
impl Notifier for SlackNotifier {
    fn kind(&self) -> Channel {
        Channel::Slack
    }

    #[tracing::instrument(name = "slack_send", skip_all)]
    async fn send(&self, payload: &Value) -> SendOutcome {
        let response = match self
            .client
            .post(self.webhook_url.expose())
            .json(payload)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return transport_error("Slack", e),
        };
        let status = response.status();
        let wait = retry_after(response.headers());
        let body = response.text().await.unwrap_or_default();
        match outcome_for_status(status, wait, "Slack") {
            SendOutcome::Delivered if body.trim() != "ok" => SendOutcome::Refused {
                error: format!("Slack: unexpected answer {:?}", truncate(&body)),
            },
            SendOutcome::Refused { error } => SendOutcome::Refused {
                error: format!("{error} {}", truncate(&body)),
            },
            other => other,
        }
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(200).collect()
}
