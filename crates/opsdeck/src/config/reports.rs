//! `[reports.NAME]`: scheduled reports and digests (issue 16 point 3),
//! each a subscription run by the `reports` task.
//!
//! ```toml
//! [reports.morning]
//! report = "daily_digest"          # or the playbook's "daily", "weekly", "monthly"
//! schedule = "daily 07:00"         # or "weekly mon 07:00", "monthly 1 07:00",
//!                                  # "cron 0 7 * * mon-fri"; default: the
//!                                  # playbook's (daily 07:00, Mondays 07:00,
//!                                  # the 1st at 07:00)
//! time_zone = "Europe/Berlin"      # the schedule's and the report's zone
//! channels = ["email", "slack"]    # email (CSV attached), slack, telegram
//! recipients = ["ops@example.com"] # for email
//! brands = ["mavena"]              # optional: only these brands
//! sections = ["sla_breaches"]      # optional: only these sections
//! skip_when_empty = true           # default true
//! audience = "ops"                 # the role it is written for (default admin):
//!                                  # amounts only when it has ViewRevenue
//! owner = "admin"                  # told when a run fails…
//! owner_channel = "telegram"       # …through this notifier
//! owner_email = "lead@example.com" # for owner_channel = "email"
//! ```
//!
//! The channels are sent through the `[notifiers.*]` of the same name; a
//! run on a channel without one fails and says so (and its owner is told).

use super::walk::Section;
use opsdeck_accounts::permission::Permission;
use opsdeck_accounts::roles::Roles;
use opsdeck_domain::{Brand, BrandId};
use opsdeck_reports::schedule::Schedule;
use opsdeck_reports::subscription::{Owner, ReportKind, Subscription};
use opsdeck_store::alerts::Channel;
use opsdeck_store::Role;

/// The longest subscription name (it keys stored runs).
const MAX_NAME: usize = 64;

/// Channels a report can go to.
const REPORT_CHANNELS: [Channel; 3] = [Channel::Email, Channel::Slack, Channel::Telegram];

fn channel(s: &Section<'_, '_>, key: &'static str, name: &str) -> Option<Channel> {
    let c = Channel::parse(name.trim());
    if REPORT_CHANNELS.contains(&c) {
        Some(c)
    } else {
        s.problem(
            key,
            format!("unknown channel {name:?}: use email, slack or telegram"),
        );
        None
    }
}

pub(super) fn parse_reports(
    root: &Section<'_, '_>,
    brands: &[Brand],
    roles: &Roles,
) -> Vec<Subscription> {
    let Some(s) = root.opt_table("reports") else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (name, item) in s.entries() {
        let Some(r) = s.entry_table(name, item) else {
            continue;
        };
        if name.is_empty()
            || name.len() > MAX_NAME
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            s.problem(
                name,
                format!("a report name has 1 to {MAX_NAME} letters, digits, '_' or '-'"),
            );
        }
        let report = r
            .opt_str("report")
            .map(|v| match ReportKind::parse(v) {
                Some(kind) => Some(kind),
                None => {
                    r.problem(
                        "report",
                        format!("unknown report {v:?}: use daily_digest, daily, weekly or monthly"),
                    );
                    None
                }
            })
            .unwrap_or(Some(ReportKind::DailyDigest));
        let zone = r.req_str("time_zone");
        let spelling = r
            .opt_str("schedule")
            .or_else(|| report.map(ReportKind::default_schedule));
        let schedule = match (spelling, zone) {
            (Some(spelling), Some(zone)) => match Schedule::parse(spelling, zone) {
                Ok(schedule) => Some(schedule),
                Err(e) => {
                    let key = if matches!(e, opsdeck_reports::schedule::ScheduleError::Zone(_)) {
                        "time_zone"
                    } else {
                        "schedule"
                    };
                    r.problem(key, e.to_string());
                    None
                }
            },
            _ => None,
        };
        let mut channels = Vec::new();
        for c in r.opt_str_list("channels").unwrap_or_default() {
            if let Some(c) = channel(&r, "channels", c) {
                if !channels.contains(&c) {
                    channels.push(c);
                }
            }
        }
        if channels.is_empty() && !r.has_key("channels") {
            r.problem("channels", "name at least one of email, slack, telegram");
        }
        let recipients: Vec<String> = r
            .opt_str_list("recipients")
            .unwrap_or_default()
            .into_iter()
            .map(|a| a.trim().to_string())
            .collect();
        for address in &recipients {
            if !address.contains('@') || address.contains(char::is_whitespace) {
                r.problem("recipients", format!("{address:?} is not an email address"));
            }
        }
        if channels.contains(&Channel::Email) && recipients.is_empty() {
            r.problem(
                "recipients",
                "the email channel needs at least one recipient",
            );
        }
        let only_brands = r.opt_str_list("brands").map(|list| {
            list.into_iter()
                .filter_map(|b| match BrandId::parse(b) {
                    Ok(id) if brands.iter().any(|known| known.id == id) => Some(id),
                    _ => {
                        r.problem("brands", format!("{b:?} is not a configured brand id"));
                        None
                    }
                })
                .collect::<Vec<_>>()
        });
        let known_sections = report.map_or(&[][..], ReportKind::sections);
        let sections = r.opt_str_list("sections").map(|list| {
            list.into_iter()
                .filter(|id| {
                    let known = known_sections.contains(id);
                    if !known {
                        r.problem(
                            "sections",
                            format!("unknown section {id:?}: use {}", known_sections.join(", ")),
                        );
                    }
                    known
                })
                .map(str::to_string)
                .collect::<Vec<_>>()
        });
        let audience = r.opt_str("audience").and_then(|a| {
            match Role::parse(a).and_then(|role| roles.check_role(role).map(|()| role)) {
                Ok(role) => Some(role),
                Err(e) => {
                    r.problem("audience", e);
                    None
                }
            }
        });
        let sees_revenue = match &audience {
            Some(role) => roles.allows(*role, Permission::ViewRevenue),
            None => true,
        };
        let owner = r.opt_str("owner").map(|name| Owner {
            name: name.to_string(),
            channel: r
                .opt_str("owner_channel")
                .and_then(|c| channel(&r, "owner_channel", c))
                .unwrap_or(Channel::Email),
            email: r.opt_str("owner_email").map(str::to_string),
        });
        let skip_when_empty = r.opt_bool("skip_when_empty").unwrap_or(true);
        r.finish();
        if let (Some(report), Some(schedule)) = (report, schedule) {
            out.push(Subscription {
                name: name.to_string(),
                report,
                schedule,
                channels,
                recipients,
                brands: only_brands,
                sections,
                skip_when_empty,
                audience: audience.map(|r| r.as_str().to_string()),
                sees_revenue,
                owner,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests;
