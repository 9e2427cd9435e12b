//! Reading ticket text without a model: a fixed keyword/stem table, so the
//! same words always land in the same group and a merchant can read the
//! rules (docs/metrics.md lists them).
//!
//! - **clusters** name what an untagged ticket is about ("size",
//!   "subscription", "tracking", …) from the first stem that matches a
//!   word of its subject (words are lowercased; a stem matches a word that
//!   starts with it, so "siz" catches size, sizes, sizing);
//! - a **detail** is the cluster word followed by a token with a digit
//!   ("size 5.5"), which insights quote;
//! - **words** are the flags the urgent queue and where-is-my-order use;
//! - an **order number** is `#` followed by digits, or "order" then digits.

use super::keys::Symbols;

/// (cluster name, stems). Order matters: the first cluster with a matching
/// word wins. Index + 1 is the cluster id; 0 is "other".
pub const CLUSTERS: &[(&str, &[&str])] = &[
    (
        "tracking",
        &[
            "track", "wismo", "shipping", "shipped", "deliver", "arriv", "package", "parcel",
            "lost",
        ],
    ),
    (
        "subscription",
        &["subscri", "renew", "recurring", "skip", "unsubscri"],
    ),
    ("size", &["siz", "fit", "small", "large", "tight", "loose"]),
    ("refund", &["refund", "return", "exchang", "money"]),
    ("damaged", &["damag", "broke", "defect", "leak", "missing"]),
    (
        "payment",
        &["charg", "payment", "card", "billing", "invoice"],
    ),
    ("discount", &["discount", "coupon", "promo", "code"]),
    ("account", &["login", "password", "account", "log"]),
    (
        "product question",
        &["ingredient", "dosage", "how", "allerg", "question"],
    ),
];

pub fn cluster_name(id: u8) -> &'static str {
    match id {
        0 => "other",
        n => CLUSTERS.get(usize::from(n) - 1).map_or("other", |c| c.0),
    }
}

pub const CHARGEBACK: u8 = 1;
pub const ORDER_STATUS: u8 = 2;
pub const TRACKING: u8 = 4;
pub const DELIVERY: u8 = 8;
pub const REFUND: u8 = 16;

/// The stems that raise the chargeback flag; [`Classified::chargeback_word`]
/// is the index + 1 of the first one found (the urgent queue's evidence).
pub const CHARGEBACK_STEMS: &[&str] = &["refund", "dispute", "bank", "chargeback"];

/// (flag, stems) for the word flags.
const WORDS: &[(u8, &[&str])] = &[
    (CHARGEBACK, CHARGEBACK_STEMS),
    (TRACKING, &["track"]),
    (DELIVERY, &["deliver", "arriv", "package", "parcel"]),
    (REFUND, &["refund"]),
    (ORDER_STATUS, &["wismo", "status"]),
];

/// The inquiry types of where-is-my-order, in the order one is chosen.
pub const INQUIRY_TYPES: [(u8, &str); 4] = [
    (ORDER_STATUS, "order status"),
    (TRACKING, "tracking"),
    (DELIVERY, "delivery"),
    (REFUND, "refund"),
];

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Classified {
    pub cluster: u8,
    pub detail: u32,
    pub words: u8,
    pub order_number: u32,
    /// Which chargeback stem matched first: index + 1 in
    /// [`CHARGEBACK_STEMS`], 0 for none.
    pub chargeback_word: u8,
}

impl Classified {
    pub fn is_inquiry(&self) -> bool {
        self.words & (ORDER_STATUS | TRACKING | DELIVERY | REFUND) != 0
    }

    pub fn inquiry_type(&self) -> &'static str {
        INQUIRY_TYPES
            .iter()
            .find(|(f, _)| self.words & f != 0)
            .map_or("order status", |(_, n)| n)
    }
}

/// Classifies `text` (subject, excerpt or body).
pub fn classify(text: &str, syms: &mut Symbols) -> Classified {
    let lower = text.to_lowercase();
    let tokens: Vec<&str> = lower
        .split(|c: char| !(c.is_alphanumeric() || c == '.' || c == '#'))
        .map(|t| t.trim_matches('.'))
        .filter(|t| !t.is_empty())
        .collect();
    let mut out = Classified::default();
    if lower.contains("where is my order") || lower.contains("where's my order") {
        out.words |= ORDER_STATUS;
    }
    for (i, tok) in tokens.iter().enumerate() {
        let word = tok.trim_start_matches('#');
        for (flag, stems) in WORDS {
            if stems.iter().any(|s| word.starts_with(s)) {
                out.words |= flag;
            }
        }
        if out.chargeback_word == 0 {
            if let Some(i) = CHARGEBACK_STEMS.iter().position(|s| word.starts_with(s)) {
                out.chargeback_word = i as u8 + 1;
            }
        }
        if out.cluster == 0 {
            if let Some(c) = CLUSTERS
                .iter()
                .position(|(_, stems)| stems.iter().any(|s| word.starts_with(s)))
            {
                out.cluster = (c + 1) as u8;
                if let Some(next) = tokens
                    .get(i + 1)
                    .filter(|n| n.chars().any(|c| c.is_ascii_digit()) && !n.starts_with('#'))
                {
                    out.detail = syms.intern(&format!("{word} {next}"));
                }
            }
        }
        if out.order_number == 0 {
            let number = if let Some(d) = tok.strip_prefix('#') {
                Some(d)
            } else if *tok == "order" {
                tokens.get(i + 1).map(|n| n.trim_start_matches('#'))
            } else {
                None
            };
            if let Some(n) =
                number.filter(|n| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()))
            {
                out.order_number = n.parse().unwrap_or(0);
            }
        }
    }
    out
}

/// The chargeback stem a [`Classified::chargeback_word`] names.
pub fn chargeback_word(index: u8) -> Option<&'static str> {
    usize::from(index)
        .checked_sub(1)
        .and_then(|i| CHARGEBACK_STEMS.get(i).copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters_details_words_and_numbers() {
        let mut s = Symbols::default();
        let c = classify("Wrong size 5.5 sent", &mut s);
        assert_eq!(cluster_name(c.cluster), "size");
        assert_eq!(s.text(c.detail), "size 5.5");
        let c = classify("Where is my order #1042?", &mut s);
        assert!(c.is_inquiry());
        assert_eq!(c.order_number, 1042);
        assert_eq!(c.inquiry_type(), "order status");
        let c = classify("I will call my bank", &mut s);
        assert_eq!(c.words & CHARGEBACK, CHARGEBACK);
        assert_eq!(chargeback_word(c.chargeback_word), Some("bank"));
        assert!(!c.is_inquiry());
        assert_eq!(
            cluster_name(classify("Hello there", &mut s).cluster),
            "other"
        );
        assert_eq!(classify("about order 77", &mut s).order_number, 77);
    }
}
