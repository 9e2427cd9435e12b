//! The domain's parsers of outside text (amounts, currencies, timestamps,
//! JSON depth) under generated hostile input: never a panic; what is
//! accepted is within its bound; what is refused says why, briefly.
//!
//! 256 cases per property by default; a deeper run:
//! `PROPTEST_CASES=100000 cargo test -p opsdeck-domain --test hostile_values`.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use opsdeck_domain::bounds::{self, MAX_AMOUNT_MINOR};
use opsdeck_domain::{Currency, Money};
use proptest::prelude::*;

fn config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var("PROPTEST_CASES").is_err() {
        config.cases = 256;
    }
    config.failure_persistence = None;
    config
}

fn currency() -> impl Strategy<Value = Currency> {
    prop_oneof![
        Just(Currency::USD),
        Just(Currency::JPY),
        Just(Currency::KWD),
        Just(Currency::parse("CLF").unwrap()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn amounts_parse_exactly_within_bounds_or_say_why(
        text in prop_oneof![
            "[ +\\-]{0,2}[0-9]{0,25}(\\.[0-9]{0,6})?[ ]?",
            any::<String>(),
        ],
        currency in currency(),
    ) {
        match Money::parse(&text, currency) {
            Ok(m) => {
                prop_assert!(m.minor.unsigned_abs() <= MAX_AMOUNT_MINOR.unsigned_abs());
                prop_assert_eq!(text.trim(), text.as_str(), "no surrounding spaces");
                prop_assert!(!text.starts_with('+'));
                // Exact: the amount reads back to the same number.
                let again = Money::parse(&m.to_decimal_string(), currency).unwrap();
                prop_assert_eq!(again, m);
            }
            Err(e) => prop_assert!(e.to_string().len() < 200, "{e}"),
        }
    }

    #[test]
    fn any_amount_within_the_bound_round_trips(
        minor in -MAX_AMOUNT_MINOR..=MAX_AMOUNT_MINOR,
        currency in currency(),
    ) {
        let m = Money::new(minor, currency);
        prop_assert_eq!(Money::parse(&m.to_decimal_string(), currency), Ok(m));
    }

    #[test]
    fn timestamps_are_accepted_only_with_a_real_offset_in_the_window(
        text in prop_oneof![
            "[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{1,9})?(Z|[+-][0-9]{2}:[0-9]{2})?",
            any::<String>(),
        ],
    ) {
        match bounds::timestamp(&text) {
            Ok(at) => {
                prop_assert!(bounds::instant(at).is_ok());
                let offset_ok = text.ends_with('Z') || {
                    let tail = &text[text.len() - 6..];
                    let sign = if tail.starts_with('-') { -1 } else { 1 };
                    let h: i32 = tail[1..3].parse().unwrap();
                    let m: i32 = tail[4..6].parse().unwrap();
                    let secs = sign * (h * 3600 + m * 60);
                    (-12 * 3600..=14 * 3600).contains(&secs)
                };
                prop_assert!(offset_ok, "{text}");
            }
            Err(e) => prop_assert!(e.to_string().len() < 200, "{e}"),
        }
    }

    #[test]
    fn json_depth_never_panics_and_agrees_with_serde(
        depth in 0usize..100,
        noise in "[\\[\\]{}\"\\\\a:,0-9 ]{0,64}",
    ) {
        let deep = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        prop_assert_eq!(bounds::json_depth(deep.as_bytes(), 64).is_ok(), depth <= 64);
        let _ = bounds::json_depth(noise.as_bytes(), 64);
    }

    #[test]
    fn currency_codes_never_panic(code in any::<String>()) {
        match Currency::parse(&code) {
            Ok(c) => prop_assert_eq!(c.code().len(), 3),
            Err(e) => prop_assert!(e.to_string().len() < 200),
        }
    }
}
