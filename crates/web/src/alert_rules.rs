//! The alert rules the application runs (defaults and `[[alerts.custom]]`),
//! by id and the merchant's name for each: what a silence may name and what
//! the silence form offers.

use crate::Error;
use std::sync::Arc;

/// Every configured alert rule as (id, name), in configuration order.
/// The default is the built-in rule set, for an application without
/// alert configuration (and tests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertRules(Arc<Vec<(String, String)>>);

impl AlertRules {
    pub fn new(rules: impl IntoIterator<Item = (String, String)>) -> AlertRules {
        AlertRules(Arc::new(rules.into_iter().collect()))
    }

    /// The rules of a configured rule set.
    pub fn of(rules: &[opsdeck_alerts::Rule]) -> AlertRules {
        AlertRules::new(rules.iter().map(|r| (r.id.clone(), r.name.clone())))
    }

    /// (id, name) of every rule.
    pub fn all(&self) -> &[(String, String)] {
        &self.0
    }

    /// The 400 naming the first of `ids` that is no configured rule: a
    /// silence of an unknown rule would silence nothing.
    pub(crate) fn check(&self, ids: &[String]) -> Result<(), Error> {
        match ids.iter().find(|id| !self.0.iter().any(|(r, _)| r == *id)) {
            Some(unknown) => Err(Error::BadRequest(format!("unknown alert rule {unknown:?}"))),
            None => Ok(()),
        }
    }
}

impl Default for AlertRules {
    fn default() -> Self {
        AlertRules::of(&opsdeck_alerts::rules::default_rules())
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
}
