//! "Account under attack": a dashboard account the login throttle reported
//! (`login.under_attack` in the audit log, written by the web crate's
//! login limiter) within the rule's window.
//!
//! Accounts are not a brand's, but every alert lives on a brand (grouping,
//! filters, silences and group acks are per brand): these alerts are filed
//! under the first configured brand. One alert per account, subject
//! `account:NAME`; it names the counts of the newest report (failures and
//! addresses), never a password or an address.

use crate::observation::{Figure, Observation};
use crate::rules::{Condition, RuleSet};
use crate::service::AlertError;
use jiff::{SignedDuration, Timestamp};
use opsdeck_store::{AuditAction, LoginAttack, Store};

/// Every enabled "account under attack" rule's observations at `now`,
/// reading the store's recent attack reports; nothing without a brand.
pub async fn observe_accounts(
    rules: &RuleSet,
    store: &dyn Store,
    brand: Option<&str>,
    now: Timestamp,
) -> Result<Vec<Observation>, AlertError> {
    let Some(brand) = brand else {
        return Ok(Vec::new());
    };
    let windows = windows(rules, brand);
    let Some(longest) = windows.iter().map(|(_, w)| *w).max() else {
        return Ok(Vec::new());
    };
    let attacks = store.login_attacks_since(now - longest).await?;
    Ok(windows
        .iter()
        .flat_map(|(rule, window)| observe(rule, brand, &attacks, now - *window))
        .collect())
}

/// (rule id, window) of each enabled account rule as it applies to `brand`.
fn windows(rules: &RuleSet, brand: &str) -> Vec<(String, SignedDuration)> {
    rules
        .all()
        .iter()
        .filter_map(|r| rules.for_brand(&r.id, brand))
        .filter(|r| r.enabled)
        .filter_map(|r| match r.condition {
            Condition::AccountUnderAttack { hours } => {
                let window = SignedDuration::try_from_secs_f64(hours * 3600.0).ok()?;
                Some((r.id, window))
            }
            _ => None,
        })
        .collect()
}

/// One active observation per account with a report after `since` (the
/// window is `(now - hours, now]`: an hour after the last report, none
/// was in the last hour and the alert resolves).
pub fn observe(
    rule: &str,
    brand: &str,
    attacks: &[LoginAttack],
    since: Timestamp,
) -> Vec<Observation> {
    attacks
        .iter()
        .filter(|a| a.last_at > since)
        .map(|a| {
            let at = a
                .last_at
                .to_zoned(jiff::tz::TimeZone::UTC)
                .strftime("%Y-%m-%d %H:%M UTC");
            let s = |n: u64| if n == 1 { "" } else { "es" };
            let why = format!(
                "Account {} is under attack: {} failed logins from {} address{} \
                 (reported at {at}). Check the audit log; the owner should change \
                 the password if the attempts were not theirs.",
                a.username,
                a.failures,
                a.addresses,
                s(a.addresses),
            );
            Observation {
                rule: rule.to_string(),
                brand: brand.to_string(),
                subject: format!("account:{}", a.username),
                value: Some(Figure::count(a.failures as f64, "failed logins")),
                baseline: None,
                threshold: None,
                active: true,
                // Names no amount; said outright, because "40 UTC" reads
                // like an amount in a currency to the pages' money guard.
                why_without_money: Some(why.clone()),
                why,
                dashboard_path: format!(
                    "/audit?action={}&actor={}",
                    AuditAction::LoginUnderAttack,
                    a.username
                ),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attack(name: &str, at: &str, failures: u64, addresses: u64) -> LoginAttack {
        LoginAttack {
            username: name.into(),
            last_at: at.parse().unwrap(),
            reports: 1,
            failures,
            addresses,
        }
    }

    #[test]
    fn one_alert_per_account_reported_in_the_window() {
        let attacks = [
            attack("admin", "2026-06-10T08:40:00Z", 7, 3),
            attack("anna", "2026-06-10T07:00:00Z", 5, 1),
        ];
        let got = observe(
            "account_under_attack",
            "mavena",
            &attacks,
            "2026-06-10T08:00:00Z".parse().unwrap(),
        );
        assert_eq!(got.len(), 1, "anna's report is older than the window");
        let o = &got[0];
        assert_eq!(o.key(), "account_under_attack|mavena|account:admin");
        assert!(o.active);
        assert!(
            o.why
                .starts_with("Account admin is under attack: 7 failed logins from 3 addresses"),
            "{}",
            o.why
        );
        assert_eq!(o.value.as_ref().unwrap().text, "7 failed logins");
    }

    #[test]
    fn the_default_rule_watches_the_last_hour() {
        let rules = RuleSet::defaults();
        assert_eq!(
            windows(&rules, "mavena"),
            [(
                "account_under_attack".to_string(),
                SignedDuration::from_hours(1)
            )]
        );
    }
}
