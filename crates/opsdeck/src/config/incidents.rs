//! `[incidents]`: the public status page's name, and what each severity
//! means. Every key is optional; a severity's keys replace the playbook's
//! default for that key only, and an `escalation` list replaces the
//! default steps whole.
//!
//! ```toml
//! [incidents]
//! status_page_name = "Mavena status"
//!
//! [incidents.severity.high]
//! response_target = "15m"          # "0s": respond immediately
//! notify = ["regional lead"]       # who hears of a declaration
//! channels = ["slack", "telegram"] # slack, telegram, email, webhook
//! incident_mode = true             # banner on every page, pinned on the dashboard
//!
//! [[incidents.severity.high.escalation]]
//! after = "0s"        # after the response target passed unacknowledged
//! notify = ["all leads"]
//! channels = ["telegram", "slack"]
//! repeats = 2         # further notices until acknowledged
//! every = "15m"
//! ```

use super::walk::Section;
use jiff::SignedDuration;
use opsdeck_operations::incidents::{EscalationStep, Severity, SeverityPolicies, SeverityPolicy};
use opsdeck_store::alerts::Channel;

/// `[incidents]`.
#[derive(Debug, Clone, PartialEq)]
pub struct IncidentsConfig {
    pub status_page_name: String,
    pub severities: SeverityPolicies,
}

impl Default for IncidentsConfig {
    fn default() -> Self {
        IncidentsConfig {
            status_page_name: "Status".into(),
            severities: SeverityPolicies::default(),
        }
    }
}

/// A duration of zero or more ("0s", "15m", "4h"); at most a week.
fn span(s: &Section<'_, '_>, key: &'static str) -> Option<SignedDuration> {
    let v = s.opt_str(key)?;
    match v.parse::<SignedDuration>() {
        Ok(d) if !d.is_negative() && d <= SignedDuration::from_hours(24 * 7) => Some(d),
        _ => {
            s.problem(
                key,
                format!("{v:?} is not a duration between \"0s\" and \"168h\" (like \"15m\")"),
            );
            None
        }
    }
}

fn names(s: &Section<'_, '_>, key: &'static str) -> Option<Vec<String>> {
    let list = s.opt_str_list(key)?;
    let list: Vec<String> = list
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    if list.is_empty() {
        s.problem(key, "must name at least one");
        return None;
    }
    Some(list)
}

fn channels(s: &Section<'_, '_>, key: &'static str) -> Option<Vec<Channel>> {
    let list = s.opt_str_list(key)?;
    let mut out = Vec::new();
    for name in list {
        match Channel::parse(name.trim()) {
            Channel::Other(other) => {
                s.problem(
                    key,
                    format!("unknown channel {other:?}: use slack, telegram, email or webhook"),
                );
                return None;
            }
            c if !out.contains(&c) => out.push(c),
            _ => {}
        }
    }
    if out.is_empty() {
        s.problem(key, "must name at least one channel");
        return None;
    }
    Some(out)
}

fn step(s: &Section<'_, '_>) -> Option<EscalationStep> {
    let after = span(s, "after").unwrap_or(SignedDuration::ZERO);
    let notify = names(s, "notify");
    let channels = channels(s, "channels");
    let repeats = s.opt_u32("repeats").unwrap_or(0);
    let every = span(s, "every").unwrap_or(SignedDuration::ZERO);
    if notify.is_none() && !s.has_key("notify") {
        s.section_problem("notify", "is required");
    }
    if channels.is_none() && !s.has_key("channels") {
        s.section_problem("channels", "is required");
    }
    s.finish();
    Some(EscalationStep {
        after,
        notify: notify?,
        channels: channels?,
        repeats,
        every,
    })
}

fn severity(s: &Section<'_, '_>, default: &SeverityPolicy) -> SeverityPolicy {
    let mut p = default.clone();
    if let Some(d) = span(s, "response_target") {
        p.response_target = d;
    }
    if let Some(n) = names(s, "notify") {
        p.notify = n;
    }
    if let Some(c) = channels(s, "channels") {
        p.channels = c;
    }
    if let Some(m) = s.opt_bool("incident_mode") {
        p.incident_mode = m;
    }
    if s.has_key("escalation") {
        p.escalation = s
            .array_of_tables("escalation")
            .iter()
            .filter_map(step)
            .collect();
    }
    s.finish();
    p
}

pub(super) fn parse_incidents(root: &Section<'_, '_>) -> IncidentsConfig {
    let mut config = IncidentsConfig::default();
    let Some(s) = root.opt_table("incidents") else {
        return config;
    };
    if let Some(name) = s.opt_str("status_page_name") {
        if name.trim().is_empty() || name.chars().count() > 100 {
            s.problem("status_page_name", "between 1 and 100 characters");
        } else {
            config.status_page_name = name.trim().to_string();
        }
    }
    if let Some(table) = s.opt_table("severity") {
        let policies: Vec<SeverityPolicy> = Severity::ALL
            .into_iter()
            .map(|sev| {
                let default = config.severities.get(sev);
                match table.opt_table(sev.as_str()) {
                    Some(section) => severity(&section, default),
                    None => default.clone(),
                }
            })
            .collect();
        table.finish();
        match SeverityPolicies::new(policies) {
            Ok(p) => config.severities = p,
            Err(problems) => {
                for problem in problems {
                    table.section_problem("severity", problem);
                }
            }
        }
    }
    s.finish();
    config
}
