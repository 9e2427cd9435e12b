//! The JSON shape of an amount of money: `{"minor": 1234567, "currency":
//! "USD", "display": "$12,345.67"}`.
//!
//! `minor` is exact (integer minor units, never a float) for clients that
//! compute; `display` is the form a person reads, formatted once here so every
//! client shows the same text. Used through `#[serde(serialize_with)]` so the
//! Rust types keep a real [`Money`].

use opsdeck_domain::{Currency, Money};
use serde::{Serialize, Serializer};

#[derive(Serialize)]
struct MoneyJson {
    minor: i64,
    currency: Currency,
    display: String,
}

impl From<&Money> for MoneyJson {
    fn from(m: &Money) -> Self {
        MoneyJson {
            minor: m.minor,
            currency: m.currency,
            display: m.display(),
        }
    }
}

/// Serializes a [`Money`] as `{minor, currency, display}`.
pub fn serialize<S: Serializer>(money: &Money, s: S) -> Result<S::Ok, S::Error> {
    MoneyJson::from(money).serialize(s)
}

/// Serializes an `Option<Money>` as `{minor, currency, display}` or `null`.
pub fn serialize_option<S: Serializer>(money: &Option<Money>, s: S) -> Result<S::Ok, S::Error> {
    money.as_ref().map(MoneyJson::from).serialize(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Card {
        #[serde(serialize_with = "serialize")]
        revenue: Money,
        #[serde(serialize_with = "serialize_option")]
        aov: Option<Money>,
    }

    #[test]
    fn money_carries_exact_and_display_forms() {
        let card = Card {
            revenue: Money::new(1_234_567, Currency::USD),
            aov: None,
        };
        assert_eq!(
            serde_json::to_value(&card).unwrap(),
            serde_json::json!({
                "revenue": {"minor": 1234567, "currency": "USD", "display": "$12,345.67"},
                "aov": null
            })
        );
    }
}
