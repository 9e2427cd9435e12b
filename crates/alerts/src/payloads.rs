//! The Slack and Telegram messages [`crate::render`] builds, as types.
//!
//! The outbox stores a rendered payload as JSON and the notifiers post it
//! as it is (Telegram's adds the chat), so these types serialize to exactly
//! the JSON Slack's Block Kit and Telegram's `sendMessage` take. Whoever
//! reads a message back (the demo printing what the fake receivers got)
//! deserializes it into the same type instead of walking it by key.

use serde::{Deserialize, Serialize};

/// A Slack incoming-webhook message: the notification text (what a phone
/// shows) and the blocks the channel shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlackMessage {
    pub text: String,
    pub blocks: Vec<SlackBlock>,
}

impl SlackMessage {
    /// The header block's text: the message's headline.
    pub fn header(&self) -> Option<&str> {
        self.blocks.iter().find_map(|b| match b {
            SlackBlock::Header { text } => Some(text.text()),
            _ => None,
        })
    }
}

/// The Block Kit blocks a message uses.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SlackBlock {
    /// The headline, in plain text.
    Header { text: SlackText },
    /// One alert: what and why, and its figures as fields.
    Section {
        text: SlackText,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        fields: Vec<SlackText>,
    },
    /// A note under the list ("and 3 more").
    Context { elements: Vec<SlackText> },
    /// The link buttons.
    Actions { elements: Vec<SlackButton> },
}

/// A Block Kit text object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum SlackText {
    PlainText {
        text: String,
        /// Shows `:emoji:` codes as emoji (headers ask for it).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        emoji: Option<bool>,
    },
    /// Slack's markup: `*bold*`, `<`, `>` and `&` escaped.
    Mrkdwn { text: String },
}

impl SlackText {
    pub fn text(&self) -> &str {
        match self {
            SlackText::PlainText { text, .. } | SlackText::Mrkdwn { text } => text,
        }
    }
}

/// A Block Kit button that opens a link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename = "button")]
pub struct SlackButton {
    pub text: SlackText,
    pub url: String,
    pub action_id: String,
}

/// A Telegram `sendMessage` request but its chat, which the notifier adds
/// from configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TelegramMessage {
    /// HTML: the headline in bold, then each listed alert.
    pub text: String,
    /// `HTML`.
    #[serde(default)]
    pub parse_mode: String,
    /// An Acknowledge button per listed alert; none on a resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_markup: Option<InlineKeyboard>,
}

impl TelegramMessage {
    /// Every button, row by row.
    pub fn buttons(&self) -> impl Iterator<Item = &InlineButton> {
        self.reply_markup
            .iter()
            .flat_map(|k| k.inline_keyboard.iter().flatten())
    }
}

/// Buttons under a Telegram message, in rows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineKeyboard {
    pub inline_keyboard: Vec<Vec<InlineButton>>,
}

/// A button whose press sends `callback_data` back (`ack:<episode id>`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InlineButton {
    pub text: String,
    pub callback_data: String,
}
