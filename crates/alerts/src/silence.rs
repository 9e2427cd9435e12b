//! Silences and declared incidents.
//!
//! A silence keeps matching alerts quiet for a window: they still change
//! state and keep their history (so the record is complete), but nothing is
//! sent. A declared incident is a silence of chosen rules for as long as
//! the incident is open: the team already knows, further pings only add
//! noise. Both carry who set them and why.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// What a silence matches. Every non-empty list must contain the alert's
/// value; an empty list matches anything. A silence with all lists empty is
/// refused ([`Silence::validate`]): silencing everything is not a silence.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Matchers {
    #[serde(default)]
    pub rules: Vec<String>,
    #[serde(default)]
    pub brands: Vec<String>,
    /// Labels such as `severity=warning` or `subject=sku:MAV-30`.
    #[serde(default)]
    pub labels: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Silence {
    pub id: String,
    pub matchers: Matchers,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub reason: String,
    pub author: String,
    /// Set when the silence is a declared incident's mute (its title).
    #[serde(default)]
    pub incident: Option<String>,
}

/// Why a silence was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SilenceError {
    #[error("a silence must name at least one rule, brand or label")]
    MatchesEverything,
    #[error("a silence must end after it starts")]
    EmptyWindow,
    #[error("a silence needs a reason")]
    NoReason,
    #[error("a silence needs an author")]
    NoAuthor,
    #[error("label {0:?} is not name=value")]
    BadLabel(String),
}

impl Silence {
    pub fn validate(&self) -> Result<(), SilenceError> {
        let m = &self.matchers;
        if m.rules.is_empty() && m.brands.is_empty() && m.labels.is_empty() {
            return Err(SilenceError::MatchesEverything);
        }
        if self.ends_at <= self.starts_at {
            return Err(SilenceError::EmptyWindow);
        }
        if self.reason.trim().is_empty() {
            return Err(SilenceError::NoReason);
        }
        if self.author.trim().is_empty() {
            return Err(SilenceError::NoAuthor);
        }
        if let Some(bad) = m.labels.iter().find(|l| !l.contains('=')) {
            return Err(SilenceError::BadLabel(bad.clone()));
        }
        Ok(())
    }

    pub fn is_active(&self, now: Timestamp) -> bool {
        self.starts_at <= now && now < self.ends_at
    }

    /// Whether this silence covers an alert with these labels at `now`.
    pub fn covers(&self, labels: &AlertLabels<'_>, now: Timestamp) -> bool {
        let m = &self.matchers;
        self.is_active(now)
            && (m.rules.is_empty() || m.rules.iter().any(|r| r == labels.rule))
            && (m.brands.is_empty() || m.brands.iter().any(|b| b == labels.brand))
            && m.labels.iter().all(|l| labels.has(l))
    }
}

/// The labels of one alert a silence can match on.
#[derive(Debug, Clone, Copy)]
pub struct AlertLabels<'a> {
    pub rule: &'a str,
    pub brand: &'a str,
    pub subject: &'a str,
    pub severity: &'a str,
}

impl AlertLabels<'_> {
    fn has(&self, label: &str) -> bool {
        let Some((name, value)) = label.split_once('=') else {
            return false;
        };
        match name.trim() {
            "rule" => self.rule == value.trim(),
            "brand" => self.brand == value.trim(),
            "subject" => self.subject == value.trim(),
            "severity" => self.severity == value.trim(),
            _ => false,
        }
    }
}
