//! Telegram Bot API: `sendMessage` for alerts, and `getUpdates` long
//! polling for the "Acknowledge" button (no public URL needed).
//!
//! The payload already holds `text`, `parse_mode` and `reply_markup`; the
//! notifier adds `chat_id` and the optional `message_thread_id`. Answers
//! are `{"ok": true, ...}`, or `{"ok": false, "error_code": 429,
//! "parameters": {"retry_after": N}}` when rate limited.

use super::{transport_error, Channel, Notifier, SendOutcome};
use async_trait::async_trait;
use opsdeck_domain::Secret;
use serde_json::{json, Value};
use std::time::Duration;

/// Where and as whom to talk to Telegram.
#[derive(Clone)]
pub struct TelegramConfig {
    /// `https://api.telegram.org` in production; a fake in tests.
    pub base_url: String,
    pub bot_token: Secret,
    /// Where alerts are sent: a numeric chat id or a public `@channel`.
    /// Button presses are accepted from this chat only.
    pub chat_id: String,
    pub message_thread_id: Option<i64>,
    /// When not empty, only these Telegram users may press buttons (a
    /// group's every member can otherwise).
    pub allowed_user_ids: Vec<i64>,
}

impl TelegramConfig {
    /// Why `press` may not act, or `None` when it may: it must come from
    /// the configured chat and, when a list is configured, from an allowed
    /// user. Anyone who can reach the bot can press a forwarded button;
    /// only the configured chat's members (or listed users) may act.
    pub fn refuses(&self, press: &ButtonPress) -> Option<&'static str> {
        let configured = self.chat_id.trim();
        let same_chat = match (configured.parse::<i64>(), &press.chat) {
            (Ok(id), Some(chat)) => chat.id == id,
            (Err(_), Some(chat)) => configured.strip_prefix('@').is_some_and(|name| {
                chat.username
                    .as_deref()
                    .is_some_and(|u| u.eq_ignore_ascii_case(name))
            }),
            (_, None) => false,
        };
        if !same_chat {
            return Some("Refused: buttons work only in the alerts chat");
        }
        if !self.allowed_user_ids.is_empty()
            && !press
                .user_id
                .is_some_and(|u| self.allowed_user_ids.contains(&u))
        {
            return Some("Refused: you are not allowed to acknowledge alerts");
        }
        None
    }

    fn method_url(&self, method: &str) -> String {
        format!(
            "{}/bot{}/{method}",
            self.base_url.trim_end_matches('/'),
            self.bot_token.expose()
        )
    }
}

pub struct TelegramNotifier {
    client: reqwest::Client,
    config: TelegramConfig,
}

impl TelegramNotifier {
    pub fn new(client: reqwest::Client, config: TelegramConfig) -> Self {
        TelegramNotifier { client, config }
    }
}

/// Reads a Bot API answer into an outcome.
fn bot_outcome(status: reqwest::StatusCode, body: &Value) -> SendOutcome {
    if body["ok"] == json!(true) {
        return SendOutcome::Delivered;
    }
    let code = body["error_code"]
        .as_u64()
        .unwrap_or(u64::from(status.as_u16()));
    let description = body["description"].as_str().unwrap_or("no description");
    let mut error = format!("Telegram: error {code}: {description}");
    // A group upgraded to a supergroup has a new id; messages to the old
    // one fail until the configuration says the new one.
    if let Some(new_id) = body["parameters"]["migrate_to_chat_id"].as_i64() {
        error.push_str(&format!(" (the chat moved: set chat_id to {new_id})"));
    }
    let retry_after = body["parameters"]["retry_after"].as_u64();
    if code == 429 || code >= 500 || retry_after.is_some() {
        SendOutcome::Retry {
            after: retry_after.map(Duration::from_secs),
            error,
        }
    } else {
        SendOutcome::Refused { error }
    }
}

#[async_trait]
impl Notifier for TelegramNotifier {
    fn kind(&self) -> Channel {
        Channel::Telegram
    }

    #[tracing::instrument(name = "telegram_send", skip_all)]
    async fn send(&self, payload: &Value) -> SendOutcome {
        let mut body = payload.clone();
        body["chat_id"] = json!(self.config.chat_id);
        if let Some(thread) = self.config.message_thread_id {
            body["message_thread_id"] = json!(thread);
        }
        let outcome = self.send_message(&body).await;
        // Telegram refuses HTML it cannot parse ("can't parse entities") for
        // good; the alert still goes out, as plain text.
        let unparsable = matches!(&outcome, SendOutcome::Refused { error }
            if error.to_ascii_lowercase().contains("can't parse entities"));
        if unparsable && body.get("parse_mode").is_some() {
            tracing::warn!("Telegram could not parse the HTML; sending as plain text");
            if let Some(map) = body.as_object_mut() {
                map.remove("parse_mode");
            }
            let plain = body["text"].as_str().map(plain_text).unwrap_or_default();
            body["text"] = json!(plain);
            return self.send_message(&body).await;
        }
        outcome
    }
}

/// The text of an HTML-mode message as Telegram would show it: tags left
/// out, the entities it knows turned back into characters.
fn plain_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

impl TelegramNotifier {
    /// One `sendMessage` call with `body` as it is.
    async fn send_message(&self, body: &Value) -> SendOutcome {
        let response = match self
            .client
            .post(self.config.method_url("sendMessage"))
            .json(body)
            .send()
            .await
        {
            Ok(r) => r,
            Err(e) => return transport_error("Telegram", e),
        };
        let status = response.status();
        match response.json::<Value>().await {
            Ok(answer) => bot_outcome(status, &answer),
            Err(_) if status.is_server_error() => SendOutcome::Retry {
                after: None,
                error: format!("Telegram: HTTP {status}"),
            },
            Err(_) => SendOutcome::Refused {
                error: format!("Telegram: HTTP {status} with an unreadable answer"),
            },
        }
    }
}

/// A press of an inline button.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ButtonPress {
    pub callback_query_id: String,
    /// The `callback_data`, e.g. `ack:A…`.
    pub data: String,
    /// `@username`, else the first name, else the numeric user id.
    pub by: String,
    /// The presser's Telegram user id (`from.id`).
    pub user_id: Option<i64>,
    /// The chat of the message whose button was pressed (`message.chat`);
    /// `None` for a message Telegram does not send back (inline mode).
    pub chat: Option<PressChat>,
}

/// The chat a button was pressed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PressChat {
    pub id: i64,
    /// A public chat's `@name`, without the `@`.
    pub username: Option<String>,
}

/// Why a poll failed (the caller waits and polls again).
#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("Telegram getUpdates: {0}")]
    Transport(String),
    #[error("Telegram getUpdates: {0}")]
    Refused(String),
    /// Telegram said how long to wait (`parameters.retry_after`).
    #[error("Telegram getUpdates: {description} (retry after {} s)", after.as_secs())]
    RateLimited {
        after: Duration,
        description: String,
    },
}

impl PollError {
    /// How long Telegram asked to wait before the next call, if it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            PollError::RateLimited { after, .. } => Some(*after),
            _ => None,
        }
    }

    /// The error for an answer that is not `ok`: a 429's `retry_after`, or
    /// the description (a 409 "Conflict: terminated by other getUpdates
    /// request" when another process polls the same bot).
    fn from_answer(answer: &Value) -> PollError {
        let description = answer["description"]
            .as_str()
            .unwrap_or("not ok")
            .to_string();
        match answer["parameters"]["retry_after"].as_u64() {
            Some(secs) => PollError::RateLimited {
                after: Duration::from_secs(secs),
                description,
            },
            None => PollError::Refused(description),
        }
    }
}

/// Answers the presses of buttons other than Acknowledge (an approval's
/// Approve and Reject): the one polling loop, the one chat and user check,
/// and the one `answerCallbackQuery` serve every button, so a second bot
/// loop (which Telegram would refuse with 409) is never needed.
#[async_trait]
pub trait PressHandler: Send + Sync {
    /// The start of the `callback_data` it answers (e.g. `apv:`); the
    /// alerts' own `ack:` is not for a handler.
    fn prefix(&self) -> &'static str;

    /// Acts on `press` and answers what the presser sees. `refused` is why
    /// the configured chat and users do not allow the press: the handler
    /// answers it and audits it in its own terms, and must not act.
    async fn handle(&self, press: &ButtonPress, refused: Option<&'static str>) -> String;
}

/// The `getUpdates` long-polling loop's state: the next update offset.
pub struct TelegramUpdates {
    client: reqwest::Client,
    config: TelegramConfig,
    /// Handlers of other buttons, by `callback_data` prefix.
    handlers: Vec<std::sync::Arc<dyn PressHandler>>,
    /// One more than the highest update id seen: asking from here confirms
    /// (and makes Telegram forget) everything before it.
    pub offset: i64,
}

impl TelegramUpdates {
    /// `client` must allow requests longer than the poll timeout.
    pub fn new(client: reqwest::Client, config: TelegramConfig) -> Self {
        TelegramUpdates {
            client,
            config,
            handlers: Vec::new(),
            offset: 0,
        }
    }

    /// Sends presses whose data starts with `handler.prefix()` to it.
    pub fn with_handler(mut self, handler: std::sync::Arc<dyn PressHandler>) -> Self {
        self.handlers.push(handler);
        self
    }

    /// The handler for `press`, when one answers its prefix.
    pub fn handler_for(&self, press: &ButtonPress) -> Option<&std::sync::Arc<dyn PressHandler>> {
        self.handlers
            .iter()
            .find(|h| press.data.starts_with(h.prefix()))
    }

    /// The bot's configuration (whose chat and users may press).
    pub fn config(&self) -> &TelegramConfig {
        &self.config
    }

    /// One long poll (waits up to `timeout` for updates); returns the
    /// button presses, advancing the offset past every update seen.
    pub async fn poll(&mut self, timeout: Duration) -> Result<Vec<ButtonPress>, PollError> {
        let body = json!({
            "offset": self.offset,
            "timeout": timeout.as_secs(),
            "allowed_updates": ["callback_query"],
        });
        let answer: Value = self
            .client
            .post(self.config.method_url("getUpdates"))
            .json(&body)
            .send()
            .await
            .map_err(|e| PollError::Transport(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| PollError::Transport(e.without_url().to_string()))?;
        if answer["ok"] != json!(true) {
            return Err(PollError::from_answer(&answer));
        }
        let mut presses = Vec::new();
        for update in answer["result"].as_array().into_iter().flatten() {
            if let Some(id) = update["update_id"].as_i64() {
                self.offset = self.offset.max(id + 1);
            }
            let q = &update["callback_query"];
            let (Some(qid), Some(data)) = (q["id"].as_str(), q["data"].as_str()) else {
                continue;
            };
            let from = &q["from"];
            let by = from["username"]
                .as_str()
                .map(|u| format!("@{u}"))
                .or_else(|| from["first_name"].as_str().map(str::to_string))
                .or_else(|| from["id"].as_i64().map(|i| i.to_string()))
                .unwrap_or_else(|| "someone on Telegram".into());
            let chat = &q["message"]["chat"];
            presses.push(ButtonPress {
                callback_query_id: qid.to_string(),
                data: data.to_string(),
                by,
                user_id: from["id"].as_i64(),
                chat: chat["id"].as_i64().map(|id| PressChat {
                    id,
                    username: chat["username"].as_str().map(str::to_string),
                }),
            });
        }
        Ok(presses)
    }

    /// Answers a button press (stops the client's spinner, shows `text`).
    pub async fn answer(&self, callback_query_id: &str, text: &str) -> Result<(), PollError> {
        let body = json!({"callback_query_id": callback_query_id, "text": text});
        let answer: Value = self
            .client
            .post(self.config.method_url("answerCallbackQuery"))
            .json(&body)
            .send()
            .await
            .map_err(|e| PollError::Transport(e.without_url().to_string()))?
            .json()
            .await
            .map_err(|e| PollError::Transport(e.without_url().to_string()))?;
        if answer["ok"] == json!(true) {
            Ok(())
        } else {
            Err(PollError::from_answer(&answer))
        }
    }
}
