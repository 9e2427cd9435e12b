//! `[review_queues.NAME]`: the SLA of each review queue a platform pushes
//! items into (issue 15, point 3). An item waiting longer than its queue's
//! `sla` is breached (urgent: the dashboard's urgent list and the
//! `review_sla_breached` alert); at risk from 75 % of it (the one SLA
//! clock, `opsdeck_domain::sla`).
//!
//! ```toml
//! [review_queues.prescriptions]
//! sla = "1h"      # the playbook's: a prescription pending over 1 h is urgent
//!
//! [review_queues.age_checks]
//! sla = "4h"
//! ```
//!
//! Without the section: `prescriptions` has 1 h, and a queue no section
//! names has no deadline (its page says so).

use super::walk::Section;
use jiff::SignedDuration;
use opsdeck_metrics::panels::review_queues::ReviewSlas;

/// The longest SLA a queue may have: a window past a month is no
/// deadline anyone watches, more likely a typo ("720h" meant as minutes).
const MAX_SLA: SignedDuration = SignedDuration::from_hours(30 * 24);

/// The longest queue name, as a review item's `queue` is bounded.
const MAX_QUEUE_NAME: usize = 200;

pub(super) fn parse_review_queues(root: &Section<'_, '_>) -> ReviewSlas {
    let Some(s) = root.opt_table("review_queues") else {
        return ReviewSlas::playbook();
    };
    let mut configured = Vec::new();
    for (name, item) in s.entries() {
        let Some(q) = s.entry_table(name, item) else {
            continue;
        };
        if name.trim().is_empty() || name.chars().count() > MAX_QUEUE_NAME {
            s.problem(
                name,
                format!("a queue name has 1 to {MAX_QUEUE_NAME} characters"),
            );
        }
        if let Some(window) = q
            .req_str("sla")
            .and_then(|v| super::parse::duration_up_to(&q, "sla", v, MAX_SLA))
        {
            configured.push((name.to_string(), window));
        }
        q.finish();
    }
    ReviewSlas::with(configured)
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_section as parse;
    use jiff::SignedDuration;

    #[test]
    fn queues_take_their_sla_and_prescriptions_default_to_one_hour() {
        let c = parse("").unwrap();
        assert_eq!(
            c.review_queues.of("prescriptions"),
            Some(SignedDuration::from_hours(1))
        );
        assert_eq!(c.review_queues.of("age_checks"), None);
        let c = parse(
            "[review_queues.prescriptions]\nsla = \"30m\"\n[review_queues.age_checks]\nsla = \"4h\"\n",
        )
        .unwrap();
        assert_eq!(
            c.review_queues.of("prescriptions"),
            Some(SignedDuration::from_mins(30))
        );
        assert_eq!(
            c.review_queues.of("age_checks"),
            Some(SignedDuration::from_hours(4))
        );
    }

    #[test]
    fn bad_slas_are_named_with_their_bound() {
        for (section, key, words) in [
            (
                "[review_queues.rx]\nsla = \"soon\"",
                "review_queues.rx.sla",
                "positive duration",
            ),
            (
                "[review_queues.rx]\nsla = \"-1h\"",
                "review_queues.rx.sla",
                "720h",
            ),
            (
                "[review_queues.rx]\nsla = \"721h\"",
                "review_queues.rx.sla",
                "720h",
            ),
            (
                "[review_queues.rx]\nwindow = \"1h\"",
                "review_queues.rx.sla",
                "is required",
            ),
            (
                "[review_queues.rx]\nsla = \"1h\"\nwindow = \"1h\"",
                "review_queues.rx.window",
                "unknown key",
            ),
            ("[review_queues]\nrx = \"1h\"", "review_queues.rx", "table"),
        ] {
            let problems = parse(&format!("{section}\n")).unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| p.key == key && p.message.contains(words)),
                "{section}: {problems:?}"
            );
        }
    }
}
