//! Money as an integer number of minor units plus an ISO 4217 currency.
//!
//! Never a float: platform amounts arrive as decimal strings ("409.94") and
//! are parsed exactly, with the currency's exponent (USD 2, JPY 0, KWD 3).

use serde::{Deserialize, Serialize};
use std::fmt;

/// Why an amount or currency could not be parsed. Each variant names the
/// offending input so the caller's error message can point at it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("currency code {0:?} is not three uppercase letters (ISO 4217)")]
    BadCurrency(String),
    #[error("amount {0:?} is not a decimal number")]
    NotADecimal(String),
    #[error("amount {amount:?} has more decimal places than {currency} allows ({exponent})")]
    TooPrecise {
        amount: String,
        currency: Currency,
        exponent: u8,
    },
    #[error("amount {0:?} is too large")]
    Overflow(String),
    /// Beyond [`crate::bounds::MAX_AMOUNT_MINOR`]: no real order comes near.
    #[error("amount {0}")]
    OutOfBounds(crate::bounds::BoundError),
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
}

/// An ISO 4217 currency code, e.g. `USD`. Stored as three ASCII bytes so it
/// is `Copy` and compares cheaply.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency([u8; 3]);

/// Currencies whose minor unit is not 2 decimal places (ISO 4217 table).
const EXPONENT_EXCEPTIONS: &[(&str, u8)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLF", 4),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("UYI", 0),
    ("UYW", 4),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

impl Currency {
    pub const USD: Currency = Currency(*b"USD");
    pub const EUR: Currency = Currency(*b"EUR");
    pub const GBP: Currency = Currency(*b"GBP");
    pub const JPY: Currency = Currency(*b"JPY");
    pub const KWD: Currency = Currency(*b"KWD");

    /// Parses a three-letter code; lowercase input is accepted and upper-cased.
    pub fn parse(code: &str) -> Result<Self, MoneyError> {
        let bytes = code.trim().as_bytes();
        if bytes.len() != 3 || !bytes.iter().all(|b| b.is_ascii_alphabetic()) {
            return Err(MoneyError::BadCurrency(crate::bounds::excerpt(code)));
        }
        Ok(Currency([
            bytes[0].to_ascii_uppercase(),
            bytes[1].to_ascii_uppercase(),
            bytes[2].to_ascii_uppercase(),
        ]))
    }

    pub fn code(&self) -> &str {
        // Constructed only from ASCII letters.
        std::str::from_utf8(&self.0).expect("currency code is ASCII")
    }

    /// Number of decimal places of the minor unit.
    pub fn exponent(&self) -> u8 {
        EXPONENT_EXCEPTIONS
            .iter()
            .find(|(c, _)| c.as_bytes() == self.0)
            .map(|(_, e)| *e)
            .unwrap_or(2)
    }

    /// The symbol shown on screen before an amount, where one is customary.
    pub fn symbol(&self) -> Option<&'static str> {
        match self.code() {
            "USD" | "CAD" | "AUD" | "NZD" => Some("$"),
            "EUR" => Some("€"),
            "GBP" => Some("£"),
            "JPY" => Some("¥"),
            _ => None,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Currency({})", self.code())
    }
}

impl Serialize for Currency {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// An exact amount: `minor` units of `currency` (cents for USD, yen for JPY).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Money { minor, currency }
    }

    pub fn zero(currency: Currency) -> Self {
        Money { minor: 0, currency }
    }

    /// Parses a platform decimal string ("409.94", "-3.5", "1000") exactly.
    /// Extra decimal places are accepted only when they are zeros
    /// ("1000.00" in JPY); anything finer than the minor unit is an error,
    /// never silently rounded. No platform writes a leading `+` or spaces
    /// around an amount, so neither is accepted; nor is an amount beyond
    /// [`crate::bounds::MAX_AMOUNT_MINOR`] minor units.
    pub fn parse(amount: &str, currency: Currency) -> Result<Self, MoneyError> {
        let text = amount;
        let not_decimal = || MoneyError::NotADecimal(crate::bounds::excerpt(amount));
        if text.len() > crate::bounds::MAX_AMOUNT_CHARS {
            return Err(MoneyError::Overflow(crate::bounds::excerpt(amount)));
        }
        let (negative, digits) = match text.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (int_part, frac_part) = match digits.split_once('.') {
            Some((i, f)) => (i, f),
            None => (digits, ""),
        };
        if int_part.is_empty() && frac_part.is_empty() {
            return Err(not_decimal());
        }
        if !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(not_decimal());
        }
        let exponent = currency.exponent() as usize;
        let (kept, dropped) = frac_part.split_at(frac_part.len().min(exponent));
        if dropped.bytes().any(|b| b != b'0') {
            return Err(MoneyError::TooPrecise {
                amount: amount.to_string(),
                currency,
                exponent: exponent as u8,
            });
        }
        let overflow = || MoneyError::Overflow(amount.to_string());
        let mut minor: i64 = 0;
        for b in int_part.bytes().chain(kept.bytes()) {
            minor = minor
                .checked_mul(10)
                .and_then(|m| m.checked_add(i64::from(b - b'0')))
                .ok_or_else(overflow)?;
        }
        for _ in kept.len()..exponent {
            minor = minor.checked_mul(10).ok_or_else(overflow)?;
        }
        let money = Money {
            minor: if negative { -minor } else { minor },
            currency,
        };
        crate::bounds::amount(money).map_err(MoneyError::OutOfBounds)?;
        Ok(money)
    }

    /// The plain decimal form, e.g. "409.94", "1000", "1.250".
    pub fn to_decimal_string(&self) -> String {
        let exponent = self.currency.exponent() as u32;
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if exponent == 0 {
            return format!("{sign}{abs}");
        }
        let scale = 10u64.pow(exponent);
        format!(
            "{sign}{}.{:0width$}",
            abs / scale,
            abs % scale,
            width = exponent as usize
        )
    }

    /// The form a person reads: symbol where customary, thousands separators
    /// ("$12,345.67", "¥1,000", "1,250.500 KWD").
    pub fn display(&self) -> String {
        let plain = self.to_decimal_string();
        let (sign, unsigned) = match plain.strip_prefix('-') {
            Some(rest) => ("-", rest),
            None => ("", plain.as_str()),
        };
        let (int_part, frac) = match unsigned.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (unsigned, None),
        };
        let mut grouped = String::with_capacity(int_part.len() + int_part.len() / 3);
        for (i, ch) in int_part.chars().enumerate() {
            if i > 0 && (int_part.len() - i) % 3 == 0 {
                grouped.push(',');
            }
            grouped.push(ch);
        }
        let number = match frac {
            Some(f) => format!("{grouped}.{f}"),
            None => grouped,
        };
        match self.currency.symbol() {
            Some(symbol) => format!("{sign}{symbol}{number}"),
            None => format!("{sign}{number} {}", self.currency),
        }
    }

    /// Adds two amounts of the same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        let minor = self
            .minor
            .checked_add(other.minor)
            .ok_or_else(|| MoneyError::Overflow(format!("{} + {}", self, other)))?;
        Ok(Money::new(minor, self.currency))
    }

    /// The amount divided by `count`, rounded half away from zero to the
    /// minor unit; `None` when `count` is 0 (an average of nothing has no value).
    pub fn divide_rounded(self, count: u64) -> Option<Money> {
        if count == 0 {
            return None;
        }
        let n = i128::from(self.minor);
        let d = i128::from(count);
        let q = (2 * n.abs() + d) / (2 * d);
        let q = if n < 0 { -q } else { q };
        Some(Money::new(q as i64, self.currency))
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_decimal_string(), self.currency)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cur(code: &str) -> Currency {
        Currency::parse(code).unwrap()
    }

    #[test]
    fn parses_by_currency_exponent() {
        assert_eq!(Money::parse("409.94", Currency::USD).unwrap().minor, 40994);
        assert_eq!(Money::parse("10", Currency::USD).unwrap().minor, 1000);
        assert_eq!(Money::parse("0.5", Currency::USD).unwrap().minor, 50);
        assert_eq!(Money::parse("1000", Currency::JPY).unwrap().minor, 1000);
        assert_eq!(Money::parse("1000.00", Currency::JPY).unwrap().minor, 1000);
        assert_eq!(Money::parse("1.250", Currency::KWD).unwrap().minor, 1250);
        assert_eq!(Money::parse("1.25", Currency::KWD).unwrap().minor, 1250);
        assert_eq!(Money::parse("-3.5", Currency::EUR).unwrap().minor, -350);
        assert_eq!(Money::parse(".99", Currency::USD).unwrap().minor, 99);
    }

    #[test]
    fn refuses_what_is_not_exact() {
        assert!(matches!(
            Money::parse("1.005", Currency::USD),
            Err(MoneyError::TooPrecise { .. })
        ));
        assert!(matches!(
            Money::parse("1.5", Currency::JPY),
            Err(MoneyError::TooPrecise { .. })
        ));
        for bad in [
            "", "-", ".", "1,000.00", "abc", "1e3", "1.2.3", " ", " 12.50", "12.50 ", "+12.50",
            "--1", "-+1",
        ] {
            let err = Money::parse(bad, Currency::USD).unwrap_err();
            assert_eq!(err, MoneyError::NotADecimal(bad.to_string()), "{bad:?}");
        }
        assert!(matches!(
            Money::parse("99999999999999999999", Currency::USD),
            Err(MoneyError::Overflow(_))
        ));
        // The amount: i64::MAX minor units.
        let e = Money::parse("92233720368547758.07", Currency::USD).unwrap_err();
        assert!(matches!(e, MoneyError::OutOfBounds(_)), "{e}");
        assert_eq!(
            e.to_string(),
            "amount 92233720368547758.07 USD is beyond the limit of ±1000000000000.00 USD"
        );
        assert!(Money::parse("1000000000000.00", Currency::USD).is_ok());
        assert!(Money::parse("-1000000000000.01", Currency::USD).is_err());
        let e = Money::parse(&"9".repeat(10_000_000), Currency::USD).unwrap_err();
        assert!(e.to_string().len() < 100, "quotes an excerpt only");
    }

    #[test]
    fn formats_by_currency_exponent() {
        assert_eq!(
            Money::new(40994, Currency::USD).to_decimal_string(),
            "409.94"
        );
        assert_eq!(Money::new(-5, Currency::USD).to_decimal_string(), "-0.05");
        assert_eq!(Money::new(1000, Currency::JPY).to_decimal_string(), "1000");
        assert_eq!(Money::new(1250, Currency::KWD).to_decimal_string(), "1.250");
        assert_eq!(Money::new(1234567, Currency::USD).display(), "$12,345.67");
        assert_eq!(Money::new(1000, Currency::JPY).display(), "¥1,000");
        assert_eq!(
            Money::new(1250500, Currency::KWD).display(),
            "1,250.500 KWD"
        );
        assert_eq!(Money::new(-123456, Currency::EUR).display(), "-€1,234.56");
        assert_eq!(Money::new(99, Currency::GBP).display(), "£0.99");
    }

    #[test]
    fn round_trips_through_text() {
        for (minor, code) in [(0, "USD"), (1, "USD"), (-1, "KWD"), (123456789, "JPY")] {
            let m = Money::new(minor, cur(code));
            assert_eq!(Money::parse(&m.to_decimal_string(), m.currency).unwrap(), m);
        }
    }

    #[test]
    fn currency_codes_are_validated() {
        assert_eq!(cur("usd"), Currency::USD);
        assert!(Currency::parse("US").is_err());
        assert!(Currency::parse("US1").is_err());
        assert_eq!(Currency::USD.exponent(), 2);
        assert_eq!(Currency::JPY.exponent(), 0);
        assert_eq!(Currency::KWD.exponent(), 3);
    }

    #[test]
    fn arithmetic_keeps_currency() {
        let a = Money::new(100, Currency::USD);
        assert_eq!(a.checked_add(a).unwrap().minor, 200);
        assert!(a.checked_add(Money::new(1, Currency::EUR)).is_err());
        assert_eq!(
            Money::new(1000, Currency::USD)
                .divide_rounded(3)
                .unwrap()
                .minor,
            333
        );
        assert_eq!(
            Money::new(1001, Currency::USD)
                .divide_rounded(2)
                .unwrap()
                .minor,
            501
        );
        assert_eq!(
            Money::new(-1001, Currency::USD)
                .divide_rounded(2)
                .unwrap()
                .minor,
            -501
        );
        assert_eq!(Money::new(5, Currency::USD).divide_rounded(0), None);
    }
}
