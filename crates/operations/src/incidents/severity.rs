//! Severities as data: for each level, its response target, who hears of a
//! declaration and on which channels, how it escalates when the target
//! passes unacknowledged, and whether it puts the dashboard in incident
//! mode. The defaults are the playbook's; `[incidents.severity.*]` in the
//! configuration replaces any part of them ([`SeverityPolicies::check`]
//! names what is wrong with a configured set).

use jiff::SignedDuration;
use opsdeck_store::alerts::Channel;
use serde::{Deserialize, Serialize};

/// How bad an incident is. The four levels of the playbook; what each one
/// means (targets, people, channels) is configuration ([`SeverityPolicy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Critical,
    High,
    Medium,
    Low,
}

impl Severity {
    /// Most severe first: the order of lists and reports.
    pub const ALL: [Severity; 4] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Critical => "critical",
            Severity::High => "high",
            Severity::Medium => "medium",
            Severity::Low => "low",
        }
    }

    /// A stored or submitted name; the error names the valid ones.
    pub fn parse(s: &str) -> Result<Severity, String> {
        Severity::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| format!("unknown severity {s:?}: use critical, high, medium or low"))
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One escalation step: when the response target has passed by `after`
/// with nobody acknowledging, `notify` hears of it on `channels`, and
/// again every `every`, `repeats` more times, until someone acknowledges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EscalationStep {
    /// Counted from the moment the response target passed.
    pub after: SignedDuration,
    /// Who is called, in the playbook's words ("founder", "all leads").
    pub notify: Vec<String>,
    pub channels: Vec<Channel>,
    /// Further notices after the first (0: once).
    pub repeats: u32,
    /// Between two notices of this step; unused when `repeats` is 0.
    pub every: SignedDuration,
}

/// What one severity means.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeverityPolicy {
    pub severity: Severity,
    /// How soon someone must acknowledge (zero: at once). Missing it counts
    /// as a breach and starts the escalation.
    pub response_target: SignedDuration,
    /// Who hears of a declaration, in the playbook's words.
    pub notify: Vec<String>,
    pub channels: Vec<Channel>,
    pub escalation: Vec<EscalationStep>,
    /// While one of these is live, every page shows its banner and the
    /// dashboard pins it.
    pub incident_mode: bool,
}

impl SeverityPolicy {
    /// The response target in words: "respond immediately", "15 min".
    pub fn target_in_words(&self) -> String {
        duration_in_words(self.response_target, "respond immediately")
    }
}

/// `d` as "1 h", "15 min", "4 h 30 min"; `zero` when it is zero.
pub fn duration_in_words(d: SignedDuration, zero: &str) -> String {
    let mins = d.as_secs() / 60;
    let secs = d.as_secs() % 60;
    match (mins / 60, mins % 60) {
        (0, 0) if secs == 0 => zero.to_string(),
        (0, 0) => format!("{secs} s"),
        (0, m) => format!("{m} min"),
        (h, 0) => format!("{h} h"),
        (h, m) => format!("{h} h {m} min"),
    }
}

/// Every severity's policy; exactly one per level.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SeverityPolicies(Vec<SeverityPolicy>);

fn names(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

impl Default for SeverityPolicies {
    /// The playbook's: critical — respond immediately, founder and all
    /// leads; high — 15 min, regional lead; medium — 1 h, team lead; low —
    /// 4 h, standard queue.
    fn default() -> Self {
        let mins = SignedDuration::from_mins;
        SeverityPolicies(vec![
            SeverityPolicy {
                severity: Severity::Critical,
                response_target: SignedDuration::ZERO,
                notify: names(&["founder", "all leads"]),
                channels: vec![Channel::Telegram, Channel::Slack, Channel::Email],
                escalation: vec![EscalationStep {
                    after: mins(5),
                    notify: names(&["founder", "all leads"]),
                    channels: vec![Channel::Telegram, Channel::Slack],
                    repeats: 3,
                    every: mins(10),
                }],
                incident_mode: true,
            },
            SeverityPolicy {
                severity: Severity::High,
                response_target: mins(15),
                notify: names(&["regional lead"]),
                channels: vec![Channel::Slack, Channel::Telegram],
                escalation: vec![
                    EscalationStep {
                        after: SignedDuration::ZERO,
                        notify: names(&["all leads"]),
                        channels: vec![Channel::Telegram, Channel::Slack],
                        repeats: 2,
                        every: mins(15),
                    },
                    EscalationStep {
                        after: mins(30),
                        notify: names(&["founder"]),
                        channels: vec![Channel::Telegram],
                        repeats: 0,
                        every: SignedDuration::ZERO,
                    },
                ],
                incident_mode: true,
            },
            SeverityPolicy {
                severity: Severity::Medium,
                response_target: mins(60),
                notify: names(&["team lead"]),
                channels: vec![Channel::Slack],
                escalation: vec![EscalationStep {
                    after: SignedDuration::ZERO,
                    notify: names(&["regional lead"]),
                    channels: vec![Channel::Slack],
                    repeats: 1,
                    every: mins(60),
                }],
                incident_mode: false,
            },
            SeverityPolicy {
                severity: Severity::Low,
                response_target: mins(240),
                notify: names(&["standard queue"]),
                channels: vec![Channel::Slack],
                escalation: vec![EscalationStep {
                    after: SignedDuration::ZERO,
                    notify: names(&["team lead"]),
                    channels: vec![Channel::Slack],
                    repeats: 0,
                    every: SignedDuration::ZERO,
                }],
                incident_mode: false,
            },
        ])
    }
}

impl SeverityPolicies {
    /// A configured set, checked ([`SeverityPolicies::check`]).
    pub fn new(policies: Vec<SeverityPolicy>) -> Result<Self, Vec<String>> {
        let set = SeverityPolicies(policies);
        let problems = set.check();
        if problems.is_empty() {
            Ok(set)
        } else {
            Err(problems)
        }
    }

    /// Every problem of the set, each naming the severity, the field and
    /// its bound: one policy per level, targets of at most a week, someone
    /// to notify on some channel, repeats at most 100 and at least a
    /// minute apart.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        let week = SignedDuration::from_hours(24 * 7);
        for s in Severity::ALL {
            match self.0.iter().filter(|p| p.severity == s).count() {
                1 => {}
                0 => problems.push(format!("incidents.severity.{s}: missing")),
                n => problems.push(format!("incidents.severity.{s}: defined {n} times")),
            }
        }
        for p in &self.0 {
            let s = p.severity;
            if p.response_target.is_negative() || p.response_target > week {
                problems.push(format!(
                    "incidents.severity.{s}.response_target: must be between 0 and 7 days"
                ));
            }
            if p.notify.is_empty() || p.channels.is_empty() {
                problems.push(format!(
                    "incidents.severity.{s}: notify and channels must each name at least one"
                ));
            }
            for (i, step) in p.escalation.iter().enumerate() {
                let at = format!("incidents.severity.{s}.escalation[{i}]");
                if step.after.is_negative() || step.after > week {
                    problems.push(format!("{at}.after: must be between 0 and 7 days"));
                }
                if step.notify.is_empty() || step.channels.is_empty() {
                    problems.push(format!(
                        "{at}: notify and channels must each name at least one"
                    ));
                }
                if step.repeats > 100 {
                    problems.push(format!("{at}.repeats: at most 100, got {}", step.repeats));
                }
                if step.repeats > 0
                    && (step.every < SignedDuration::from_mins(1) || step.every > week)
                {
                    problems.push(format!(
                        "{at}.every: between 1 minute and 7 days when repeats > 0"
                    ));
                }
            }
        }
        problems
    }

    /// The policy of `severity`. Every level has one (checked on
    /// construction; the default has all four).
    pub fn get(&self, severity: Severity) -> &SeverityPolicy {
        self.0
            .iter()
            .find(|p| p.severity == severity)
            .expect("a checked set has a policy for every severity")
    }

    /// Most severe first.
    pub fn all(&self) -> impl Iterator<Item = &SeverityPolicy> {
        Severity::ALL.into_iter().map(|s| self.get(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_defaults_are_the_playbooks() {
        let p = SeverityPolicies::default();
        assert!(p.check().is_empty(), "{:?}", p.check());
        let critical = p.get(Severity::Critical);
        assert_eq!(critical.target_in_words(), "respond immediately");
        assert_eq!(critical.notify, ["founder", "all leads"]);
        assert_eq!(p.get(Severity::High).target_in_words(), "15 min");
        assert_eq!(p.get(Severity::High).notify, ["regional lead"]);
        assert_eq!(p.get(Severity::Medium).target_in_words(), "1 h");
        assert_eq!(p.get(Severity::Medium).notify, ["team lead"]);
        assert_eq!(p.get(Severity::Low).target_in_words(), "4 h");
        assert_eq!(p.get(Severity::Low).notify, ["standard queue"]);
        let modes: Vec<_> = p.all().map(|p| p.incident_mode).collect();
        assert_eq!(modes, [true, true, false, false]);
    }

    #[test]
    fn a_bad_set_names_each_problem_with_its_bound() {
        let mut policies = SeverityPolicies::default().0;
        policies.retain(|p| p.severity != Severity::Low);
        policies[0].response_target = SignedDuration::from_hours(24 * 8);
        policies[1].escalation[0].repeats = 101;
        policies[1].escalation[0].every = SignedDuration::from_secs(5);
        let problems = SeverityPolicies::new(policies).unwrap_err();
        assert_eq!(
            problems,
            [
                "incidents.severity.low: missing",
                "incidents.severity.critical.response_target: must be between 0 and 7 days",
                "incidents.severity.high.escalation[0].repeats: at most 100, got 101",
                "incidents.severity.high.escalation[0].every: between 1 minute and 7 days when repeats > 0",
            ]
        );
    }
}
