//! Sending a rendered payload to one channel.
//!
//! Each notifier knows its platform's contract (APIS.md) and says how an
//! attempt ended: delivered, worth retrying (with the receiver's own wait
//! when it gives one: Slack's `Retry-After`, Telegram's
//! `parameters.retry_after`), or refused for good (a 4xx that retrying will
//! not fix). Base URLs are configuration, so tests and the demo point them
//! at the fake receivers in [`crate::testing`].
//!
//! Secrets (webhook URLs, bot tokens, SMTP passwords, signing keys) live in
//! the notifier only; error texts never contain them (reqwest errors are
//! stripped of their URL).

pub mod email;
pub mod slack;
pub mod telegram;
pub mod webhook;

use async_trait::async_trait;
/// The channel a notification goes to; its home is the store, which keeps
/// it as an outbox row's column.
pub use opsdeck_store::alerts::Channel;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// How one send attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    Delivered,
    /// Try again; after `after` when the receiver said how long to wait.
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// The receiver refused the message; retrying will not help.
    Refused {
        error: String,
    },
}

/// One configured channel.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// The channel whose payloads it sends.
    fn kind(&self) -> Channel;
    async fn send(&self, payload: &Value) -> SendOutcome;
}

/// The configured channels' notifiers.
#[derive(Clone, Default)]
pub struct Notifiers {
    by_channel: HashMap<Channel, Arc<dyn Notifier>>,
}

impl Notifiers {
    pub fn new() -> Self {
        Notifiers::default()
    }

    pub fn with(mut self, channel: Channel, notifier: Arc<dyn Notifier>) -> Self {
        self.by_channel.insert(channel, notifier);
        self
    }

    pub fn get(&self, channel: &Channel) -> Option<&Arc<dyn Notifier>> {
        self.by_channel.get(channel)
    }

    pub fn channels(&self) -> impl Iterator<Item = (&Channel, &Arc<dyn Notifier>)> {
        self.by_channel.iter()
    }
}

/// A shared HTTP client with a per-request timeout: a hung receiver costs
/// one attempt, never the sender.
pub fn http_client(timeout: Duration) -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .expect("reqwest client with rustls builds")
}

/// The outcome for an HTTP status, with `Retry-After` seconds when given.
pub(crate) fn outcome_for_status(
    status: reqwest::StatusCode,
    retry_after: Option<Duration>,
    what: &str,
) -> SendOutcome {
    if status.is_success() {
        SendOutcome::Delivered
    } else if status.as_u16() == 429 || status.is_server_error() || status.as_u16() == 408 {
        SendOutcome::Retry {
            after: retry_after,
            error: format!("{what}: HTTP {status}"),
        }
    } else {
        SendOutcome::Refused {
            error: format!("{what}: HTTP {status}"),
        }
    }
}

/// `Retry-After` in seconds, the form Slack sends ("30"); a fractional
/// one ("1.5") is taken too. An HTTP date or nonsense gives `None`, and the
/// outbox's own backoff applies.
pub(crate) fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    let secs: f64 = headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// A transport error, without the URL (it may hold a token).
pub(crate) fn transport_error(what: &str, e: reqwest::Error) -> SendOutcome {
    let e = e.without_url();
    SendOutcome::Retry {
        after: None,
        error: format!("{what}: {e}"),
    }
}
