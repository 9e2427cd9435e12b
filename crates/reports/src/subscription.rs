//! A subscription: which report, when, to whom and through which channels.
//!
//! Subscriptions come from the configuration (`[reports.NAME]`, read by the
//! binary's config module into [`Subscription`]s). Each is written for one
//! audience, a role: money is in its reports only when that role has
//! `ViewRevenue` ([`Subscription::sees_revenue`], resolved once when the
//! configuration is read), so a report never shows an amount the people it
//! goes to could not see on the dashboard. A subscription without an
//! audience is for admins.

use crate::playbook::Cadence;
use crate::schedule::Schedule;
use opsdeck_domain::BrandId;
use opsdeck_store::alerts::Channel;

/// Which document a subscription sends: `report = "daily_digest"`,
/// `"daily"`, `"weekly"` or `"monthly"` (the playbook's lists).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// Open incidents, SLA breaches, privacy requests due, yesterday's
    /// orders ([`crate::digest`]).
    DailyDigest,
    /// One of the playbook's reports ([`crate::playbook`]).
    Playbook(Cadence),
}

impl ReportKind {
    pub fn parse(s: &str) -> Option<ReportKind> {
        match s {
            "daily_digest" => Some(ReportKind::DailyDigest),
            "daily" => Some(ReportKind::Playbook(Cadence::Daily)),
            "weekly" => Some(ReportKind::Playbook(Cadence::Weekly)),
            "monthly" => Some(ReportKind::Playbook(Cadence::Monthly)),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::DailyDigest => "daily_digest",
            ReportKind::Playbook(Cadence::Daily) => "daily",
            ReportKind::Playbook(Cadence::Weekly) => "weekly",
            ReportKind::Playbook(Cadence::Monthly) => "monthly",
        }
    }

    /// Its section ids (what `sections` may name).
    pub fn sections(self) -> &'static [&'static str] {
        match self {
            ReportKind::DailyDigest => &crate::digest::SECTIONS,
            ReportKind::Playbook(cadence) => cadence.sections(),
        }
    }

    /// The schedule a subscription gets when it names none: the playbook's
    /// for its reports, 07:00 every day for the digest.
    pub fn default_schedule(self) -> &'static str {
        match self {
            ReportKind::DailyDigest => "daily 07:00",
            ReportKind::Playbook(cadence) => cadence.default_schedule(),
        }
    }
}

/// Who is told when a run fails, and how.
#[derive(Debug, Clone, PartialEq)]
pub struct Owner {
    /// A login name, shown on `/reports`.
    pub name: String,
    /// The alerts notifier the owner chose (`slack`, `telegram`, `email`).
    pub channel: Channel,
    /// For `email`: the owner's address (the alert recipients otherwise).
    pub email: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// `[reports.NAME]`: the key its runs are stored under.
    pub name: String,
    pub report: ReportKind,
    /// When it runs, in its own zone (also the zone its times are shown in).
    pub schedule: Schedule,
    /// Where it goes: `email` (the file attached), `slack`, `telegram` (a
    /// summary and a link).
    pub channels: Vec<Channel>,
    /// Email addresses, for the `email` channel.
    pub recipients: Vec<String>,
    /// Only these brands; `None`: every brand.
    pub brands: Option<Vec<BrandId>>,
    /// Only these sections (by id); `None`: all of the report's sections.
    pub sections: Option<Vec<String>>,
    /// Send nothing when every section is empty.
    pub skip_when_empty: bool,
    /// The role it is written for (`None`: admins).
    pub audience: Option<String>,
    /// Whether that role may see revenue: amounts are left out otherwise.
    pub sees_revenue: bool,
    pub owner: Option<Owner>,
}
