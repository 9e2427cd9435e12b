//! `[customers]`: the customer risk flags' high-value threshold (issue 15,
//! point 2; METRICS.md "Customers").
//!
//! ```toml
//! [customers]
//! high_value_spend = 5000   # lifetime spend above this, in the reporting currency, is "high value"
//! ```
//!
//! Without the section: the playbook's 5,000. The other two flags'
//! thresholds (30 % of at least 3 orders; any dispute) are the metric's
//! definition, not settings.

use super::walk::Section;
use opsdeck_domain::bounds::MAX_AMOUNT_MINOR;
use opsdeck_metrics::customers::RiskRules;

/// The largest threshold: the largest amount opsdeck accepts, in major
/// units of a currency with three decimals.
const MAX_HIGH_VALUE_SPEND: i64 = MAX_AMOUNT_MINOR / 1_000;

pub(super) fn parse_customers(root: &Section<'_, '_>) -> RiskRules {
    let mut rules = RiskRules::default();
    let Some(s) = root.opt_table("customers") else {
        return rules;
    };
    if let Some(v) = s.opt_int("high_value_spend") {
        if (1..=MAX_HIGH_VALUE_SPEND).contains(&v) {
            rules.high_value_spend = v;
        } else {
            s.problem(
                "high_value_spend",
                format!(
                    "{v} is out of range: a whole amount of the reporting currency from 1 to {MAX_HIGH_VALUE_SPEND}"
                ),
            );
        }
    }
    s.finish();
    rules
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_section as parse;

    #[test]
    fn the_threshold_is_read_and_defaults_to_the_playbook() {
        assert_eq!(parse("").unwrap().customers.high_value_spend, 5_000);
        let c = parse("[customers]\nhigh_value_spend = 12000\n").unwrap();
        assert_eq!(c.customers.high_value_spend, 12_000);
        assert_eq!(
            crate::app::panel_config(&c).customer_risk.high_value_spend,
            12_000
        );
    }

    #[test]
    fn bad_thresholds_are_named_with_their_bound() {
        for (section, key, words) in [
            ("high_value_spend = 0", "high_value_spend", "from 1 to"),
            ("high_value_spend = -5", "high_value_spend", "from 1 to"),
            ("high_value_spend = \"5000\"", "high_value_spend", "integer"),
            ("high_value = 5000", "high_value", ""),
        ] {
            let problems = parse(&format!("[customers]\n{section}\n")).unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| p.key.ends_with(key) && p.message.contains(words)),
                "{section}: {problems:?}"
            );
        }
    }
}
