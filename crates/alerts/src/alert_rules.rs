//! The alert rules the application runs (defaults and `[[alerts.custom]]`),
//! by id and the merchant's name for each: what a silence may name and what
//! the silence form offers. The web pages and the API read it; it holds no
//! HTTP, so it lives with the rules.

use crate::evaluate::Delivery;
use crate::rules::Rule;
use crate::service::AlertError;
use std::sync::Arc;

/// Every configured alert rule as (id, name), in configuration order, and
/// where their messages can go. The default is the built-in rule set with
/// no channel, for an application without alert configuration (and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRules(Arc<Vec<(String, String)>>, Arc<Delivery>);

impl AlertRules {
    pub fn new(rules: impl IntoIterator<Item = (String, String)>) -> AlertRules {
        AlertRules(
            Arc::new(rules.into_iter().collect()),
            Arc::new(Delivery::default()),
        )
    }

    /// The same rules, delivered as `delivery` says.
    pub fn delivered_by(self, delivery: Delivery) -> AlertRules {
        AlertRules(self.0, Arc::new(delivery))
    }

    /// What the pages say about delivery: `None` when every tier reaches
    /// a channel, else the sentence that tells the person on duty that
    /// alerts will show here and reach no one (or only some of them).
    pub fn delivery_warning(&self) -> Option<String> {
        let d = &self.1;
        if d.channels.is_empty() {
            return Some(
                "No notification channel is configured ([notifiers.*]): alerts open and show here, \
                 but no channel will deliver them."
                    .to_string(),
            );
        }
        if d.unrouted.is_empty() {
            return None;
        }
        let tiers: Vec<&str> = d.unrouted.iter().map(|t| t.as_str()).collect();
        Some(format!(
            "Alerts of the {} tier have no configured channel: they show here and reach no one.",
            tiers.join(", ")
        ))
    }

    /// The rules of a configured rule set.
    pub fn of(rules: &[Rule]) -> AlertRules {
        AlertRules::new(rules.iter().map(|r| (r.id.clone(), r.name.clone())))
    }

    /// (id, name) of every rule.
    pub fn all(&self) -> &[(String, String)] {
        &self.0
    }

    /// The error naming the first of `ids` that is no configured rule: a
    /// silence of an unknown rule would silence nothing.
    pub fn check(&self, ids: &[String]) -> Result<(), AlertError> {
        match ids.iter().find(|id| !self.0.iter().any(|(r, _)| r == *id)) {
            Some(unknown) => Err(AlertError::UnknownRule(unknown.clone())),
            None => Ok(()),
        }
    }
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules::of(&crate::rules::default_rules())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_names_the_unknown_rule() {
        let rules = AlertRules::new([("inventory_low".into(), "Inventory low".into())]);
        assert!(rules.check(&[]).is_ok());
        assert!(rules.check(&["inventory_low".into()]).is_ok());
        let e = rules
            .check(&["inventory_low".into(), "nope".into()])
            .unwrap_err();
        assert_eq!(e.to_string(), "unknown alert rule \"nope\"");
        assert!(AlertRules::default()
            .all()
            .iter()
            .any(|(id, _)| id == "inventory_low"));
    }

    #[test]
    fn the_delivery_warning_names_what_reaches_no_one() {
        use crate::notify::Channel;
        use crate::Tier;
        let none = AlertRules::default().delivery_warning().unwrap();
        assert!(none.contains("no channel will deliver them"), "{none}");
        let slack_only = AlertRules::default().delivered_by(Delivery {
            channels: vec![Channel::Slack],
            unrouted: vec![Tier::Telegram],
        });
        let w = slack_only.delivery_warning().unwrap();
        assert!(w.contains("telegram tier"), "{w}");
        let all = AlertRules::default().delivered_by(Delivery {
            channels: vec![Channel::Slack, Channel::Telegram],
            unrouted: vec![],
        });
        assert_eq!(all.delivery_warning(), None);
    }
}
