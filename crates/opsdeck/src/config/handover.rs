//! `[handover]`: when shifts change and how long the incoming person has to
//! acknowledge a handover note (issue 14, point 4).
//!
//! ```toml
//! [handover]
//! shifts = ["07:00", "15:00", "23:00"]  # shift starts, in each region's own time zone
//! ack_within = "30m"                     # then the region's leads are notified (once)
//! ```
//!
//! Without the section: the playbook's three shifts and 30 minutes.

use super::walk::Section;
use jiff::civil::Time;
use jiff::SignedDuration;
use opsdeck_operations::handover::ShiftPolicy;

/// The parsed `[handover]` section (the playbook when absent).
#[derive(Debug, Clone)]
pub struct HandoverConfig {
    pub policy: ShiftPolicy,
}

impl Default for HandoverConfig {
    fn default() -> Self {
        HandoverConfig {
            policy: ShiftPolicy::playbook(),
        }
    }
}

/// `HH:MM` on a 24-hour clock.
fn shift_start(s: &Section<'_, '_>, value: &str) -> Option<Time> {
    let parsed = value
        .split_once(':')
        .filter(|(h, m)| h.len() == 2 && m.len() == 2)
        .and_then(|(h, m)| Some((h.parse::<i8>().ok()?, m.parse::<i8>().ok()?)))
        .and_then(|(h, m)| Time::new(h, m, 0, 0).ok());
    if parsed.is_none() {
        s.problem(
            "shifts",
            format!("{value:?} is not a time of day like \"07:00\" (00:00 to 23:59)"),
        );
    }
    parsed
}

pub(super) fn parse_handover(root: &Section<'_, '_>) -> HandoverConfig {
    let mut config = HandoverConfig::default();
    let Some(s) = root.opt_table("handover") else {
        return config;
    };
    let playbook = ShiftPolicy::playbook();
    let mut ok = true;
    let boundaries = match s.opt_str_list("shifts") {
        Some(list) => {
            let parsed: Vec<Option<Time>> = list.iter().map(|v| shift_start(&s, v)).collect();
            ok &= parsed.iter().all(Option::is_some);
            parsed.into_iter().flatten().collect()
        }
        None => playbook.boundaries().to_vec(),
    };
    let mut ack_within = playbook.ack_within;
    if let Some(v) = s.opt_str("ack_within") {
        match super::parse::duration(&s, "ack_within", v)
            .and_then(|d| SignedDuration::try_from(d).ok())
        {
            Some(d) => ack_within = d,
            None => ok = false,
        }
    }
    if ok {
        match ShiftPolicy::new(boundaries, ack_within) {
            Ok(policy) => config.policy = policy,
            Err(e) => {
                let key = if e.starts_with("ack_within") {
                    "ack_within"
                } else {
                    "shifts"
                };
                s.problem(key, e);
            }
        }
    }
    s.finish();
    config
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_section as parse;

    #[test]
    fn shifts_and_deadline_are_read_and_default_to_the_playbook() {
        let c = parse("").unwrap();
        assert_eq!(
            c.handover.policy,
            opsdeck_operations::handover::ShiftPolicy::playbook()
        );
        let c =
            parse("[handover]\nshifts = [\"19:00\", \"07:00\"]\nack_within = \"45m\"\n").unwrap();
        let starts: Vec<String> = c
            .handover
            .policy
            .boundaries()
            .iter()
            .map(|t| t.strftime("%H:%M").to_string())
            .collect();
        assert_eq!(starts, ["07:00", "19:00"]);
        assert_eq!(
            c.handover.policy.ack_within,
            jiff::SignedDuration::from_mins(45)
        );
    }

    #[test]
    fn bad_shifts_and_deadlines_are_named_with_their_bound() {
        for (section, key, words) in [
            ("shifts = [\"7am\"]", "shifts", "not a time of day"),
            ("shifts = [\"24:00\"]", "shifts", "00:00 to 23:59"),
            ("shifts = []", "shifts", "at least one"),
            ("shifts = [\"07:00\", \"07:00\"]", "shifts", "named twice"),
            ("ack_within = \"25h\"", "ack_within", "24 hours"),
            ("ack_within = \"soon\"", "ack_within", "positive duration"),
            ("every = \"1h\"", "every", ""),
        ] {
            let problems = parse(&format!("[handover]\n{section}\n")).unwrap_err();
            assert!(
                problems
                    .iter()
                    .any(|p| p.key.ends_with(key) && p.message.contains(words)),
                "{section}: {problems:?}"
            );
        }
    }
}
