//! `[approvals]`: which changes wait for a second person, who decides,
//! how long they wait, and how custom platforms are called back.
//!
//! ```toml
//! [approvals]
//! expires_after = "24h"          # a request nobody decided by then expires
//! discount_over_percent = 20     # a discount over this needs approval
//! refund_over = 500              # a refund over this, in its currency's whole units
//!
//! # Who decides each kind: a role name, checked against the known roles.
//! # The playbook's leads (finance_lead, regional_lead, product_lead,
//! # content_lead) become roles with issue 14 point 7; until then every
//! # kind defaults to admin, the only role holding the approval permissions.
//! [approvals.approvers]
//! price_change = "admin"         # finance_lead
//! discount = "admin"             # regional_lead
//! refund = "admin"               # finance_lead
//! new_product = "admin"          # product_lead
//! content_update = "admin"       # content_lead
//! flag_change = "admin"          # a freeze switch-on of a flag in [flags] requires_approval
//!
//! # A custom platform that asks before it acts (its ingest token's source).
//! [[approvals.platforms]]
//! source = "lux-ingest"
//! callback_url_prefix = "https://lux.example.com/opsdeck/"
//! callback_secret_env = "LUX_APPROVAL_SECRET"   # signs the callback (HMAC-SHA256)
//!
//! # Telegram users whose Approve / Reject presses decide, as which account.
//! [approvals.telegram_users]
//! "123456789" = "bob"
//! ```

use super::exposure::{checked_secret, SecretOrigin};
use super::walk::Section;
use super::SecretSource;
use jiff::SignedDuration;
use opsdeck_domain::Secret;
use opsdeck_operations::approvals::{ApprovalPolicy, KindPolicy, Threshold};
use opsdeck_store::{ApprovalKind, Role};
use std::collections::HashMap;

/// One custom platform's callback settings.
#[derive(Debug, Clone)]
pub struct PlatformConfig {
    pub source: String,
    pub callback_url_prefix: String,
    pub secret: Secret,
}

/// The parsed `[approvals]` section (the playbook when absent).
#[derive(Debug, Clone)]
pub struct ApprovalsConfig {
    pub policy: ApprovalPolicy,
    pub platforms: Vec<PlatformConfig>,
    /// Telegram user id → opsdeck username.
    pub telegram_users: HashMap<i64, String>,
}

impl Default for ApprovalsConfig {
    fn default() -> Self {
        ApprovalsConfig {
            policy: ApprovalPolicy::playbook(),
            platforms: Vec::new(),
            telegram_users: HashMap::new(),
        }
    }
}

pub(super) fn parse_approvals(
    root: &Section<'_, '_>,
    secrets: &dyn SecretSource,
    known_roles: &opsdeck_accounts::Roles,
) -> ApprovalsConfig {
    let mut config = ApprovalsConfig::default();
    let Some(s) = root.opt_table("approvals") else {
        return config;
    };
    let playbook = ApprovalPolicy::playbook();
    let mut expires_after = playbook.rule(ApprovalKind::Refund).expires_after;
    if let Some(v) = s.opt_str("expires_after") {
        if let Some(d) = super::parse::duration(&s, "expires_after", v) {
            match SignedDuration::try_from(d) {
                Ok(d) => expires_after = d,
                Err(_) => s.problem("expires_after", "is too long"),
            }
        }
    }
    let mut thresholds: HashMap<ApprovalKind, Threshold> = ApprovalKind::ALL
        .iter()
        .map(|k| (*k, playbook.rule(*k).threshold))
        .collect();
    if let Some(v) = s.opt_int("discount_over_percent") {
        if (0..=100).contains(&v) {
            thresholds.insert(
                ApprovalKind::Discount,
                Threshold::PercentOver {
                    basis_points: v * 100,
                },
            );
        } else {
            s.problem(
                "discount_over_percent",
                format!("{v} is not between 0 and 100"),
            );
        }
    }
    if let Some(v) = s.opt_int("refund_over") {
        if v >= 0 {
            thresholds.insert(
                ApprovalKind::Refund,
                Threshold::AmountOver { major_units: v },
            );
        } else {
            s.problem("refund_over", format!("{v} is negative"));
        }
    }
    let mut roles: HashMap<ApprovalKind, Role> = ApprovalKind::ALL
        .iter()
        .map(|k| (*k, playbook.rule(*k).approver_role))
        .collect();
    if let Some(a) = s.opt_table("approvers") {
        for (key, item) in a.entries() {
            let Ok(kind) = ApprovalKind::parse(key) else {
                a.problem(key, format!("{key:?} is not an approval kind; use one of price_change, discount, refund, new_product, content_update, flag_change"));
                continue;
            };
            let Some(name) = item.as_str() else {
                a.problem(key, "expected a role name, e.g. \"admin\"");
                continue;
            };
            // A name, and one of the configured roles (`[roles.NAME]`
            // or built in): an approver role nobody can hold would leave
            // its requests to expire undecided.
            match Role::parse(name).and_then(|role| known_roles.check_role(role).map(|()| role)) {
                Ok(role) => {
                    roles.insert(kind, role);
                }
                Err(e) => a.problem(key, e),
            }
        }
    }
    for kind in ApprovalKind::ALL {
        config.policy = config.policy.with(
            *kind,
            KindPolicy {
                threshold: thresholds[kind],
                approver_role: roles[kind],
                expires_after,
            },
        );
    }
    for p in s.array_of_tables("platforms") {
        let source = p.req_str("source");
        let prefix = p.req_str("callback_url_prefix");
        if let Some(prefix) = prefix {
            if let Ok(url) = url::Url::parse(prefix) {
                super::exposure::refuse_clear_text(&p, "callback_url_prefix", &url);
            } else {
                p.problem("callback_url_prefix", format!("{prefix:?} is not a URL"));
            }
        }
        let secret = match p.req_str("callback_secret_env") {
            Some(name) => match secrets.env(name) {
                Some(value) => {
                    checked_secret(&p, "callback_secret_env", SecretOrigin::Env(name), &value)
                }
                None => {
                    p.problem(
                        "callback_secret_env",
                        format!("environment variable {name} is not set (it should hold the callback signing secret)"),
                    );
                    None
                }
            },
            None => None,
        };
        p.finish();
        if let (Some(source), Some(prefix), Some(secret)) = (source, prefix, secret) {
            config.platforms.push(PlatformConfig {
                source: source.to_string(),
                callback_url_prefix: prefix.to_string(),
                secret,
            });
        }
    }
    if let Some(t) = s.opt_table("telegram_users") {
        for (key, item) in t.entries() {
            let Ok(id) = key.parse::<i64>() else {
                t.problem(key, format!("{key:?} is not a numeric Telegram user id"));
                continue;
            };
            let Some(user) = item.as_str() else {
                t.problem(key, "expected an opsdeck username");
                continue;
            };
            config.telegram_users.insert(id, user.to_string());
        }
    }
    s.finish();
    config
}
