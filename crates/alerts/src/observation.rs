//! The seam between metrics and alerting: what a condition saw.
//!
//! A condition (see [`crate::conditions`]) reads metrics and returns one
//! [`Observation`] per thing it checked — a brand, an order, a SKU, a
//! source — saying whether the rule's condition holds for it right now, the
//! numbers behind that, and why in plain words. The state machine never
//! reads metrics itself, so it is tested with hand-made observations.

use opsdeck_domain::Money;
use serde::{Deserialize, Serialize};

/// A number with how to show it ("$1,204.50", "7.2 h", "3 units").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Figure {
    pub value: f64,
    pub text: String,
    /// An amount of money: pages and the API show it only to roles that
    /// may see revenue.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub money: bool,
}

impl Figure {
    pub fn new(value: f64, text: impl Into<String>) -> Self {
        Figure {
            value,
            text: text.into(),
            money: false,
        }
    }

    /// An amount of money (`value` in minor units), shown as `money` is.
    pub fn amount(value: f64, money: Money) -> Self {
        Figure {
            value,
            text: money.display(),
            money: true,
        }
    }

    /// A count shown as a whole number with a unit ("12 orders").
    pub fn count(n: f64, unit: &str) -> Self {
        Figure::new(n, format!("{} {unit}", n.round() as i64))
    }
}

/// One checked thing, for one rule, at one instant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Observation {
    /// The rule id, e.g. `zero_orders`.
    pub rule: String,
    /// The brand id.
    pub brand: String,
    /// What the alert is about within the brand: `brand`, `order:#1042`,
    /// `sku:MAV-30`, `source:shopify-mavena`.
    pub subject: String,
    pub value: Option<Figure>,
    pub baseline: Option<Figure>,
    pub threshold: Option<Figure>,
    /// Whether the rule's condition holds now.
    pub active: bool,
    /// Why, in the merchant's words, with the numbers.
    pub why: String,
    /// `why` worded without any amount of money, for roles that may not see
    /// revenue; `None` when `why` names no amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub why_without_money: Option<String>,
    /// Where on the dashboard to look, e.g. `/?brand=mavena#orders`.
    pub dashboard_path: String,
}

impl Observation {
    /// The dedup key: `rule|brand|subject`.
    pub fn key(&self) -> String {
        format!("{}|{}|{}", self.rule, self.brand, self.subject)
    }
}
