//! "Health check down" and "health check degraded": a system health check
//! (issue 16 point 4, `opsdeck_domain::health`) whose recorded state is
//! down (critical) or degraded (a warning). One alert per check, subject
//! `health:NAME`, on the first configured brand (the checks watch the
//! whole installation, not one brand). The state comes from the store,
//! where the health checks' worker records each change, so the alert, the
//! page and the API agree; a check in maintenance, pending or up is not
//! active, so maintenance suppresses the alert and a check that comes back
//! resolves it.

use crate::observation::Observation;
use crate::rules::{Condition, RuleSet};
use crate::service::AlertError;
use opsdeck_domain::health::HealthState;
use opsdeck_store::health_checks::StoredHealthState;
use opsdeck_store::Store;

/// Every enabled health-check rule's observations at `now`.
pub async fn observe_health(
    rules: &RuleSet,
    store: &dyn Store,
    first_brand: Option<&str>,
) -> Result<Vec<Observation>, AlertError> {
    let Some(brand) = first_brand else {
        return Ok(Vec::new());
    };
    let watched: Vec<(String, HealthState)> = rules
        .all()
        .iter()
        .filter_map(|r| {
            let state = match r.condition {
                Condition::HealthCheckDown => HealthState::Down,
                Condition::HealthCheckDegraded => HealthState::Degraded,
                _ => return None,
            };
            let rule = rules.for_brand(&r.id, brand).filter(|r| r.enabled)?;
            Some((rule.id, state))
        })
        .collect();
    if watched.is_empty() {
        return Ok(Vec::new());
    }
    let states = store.health_states().await?;
    Ok(watched
        .iter()
        .flat_map(|(rule, state)| states.iter().map(|s| observe(rule, brand, s, *state)))
        .collect())
}

/// The observation of one check's stored state for a rule watching
/// `watched` (down or degraded).
pub fn observe(
    rule: &str,
    brand: &str,
    check: &StoredHealthState,
    watched: HealthState,
) -> Observation {
    let why = format!(
        "Health check {} is {} since {}: {}",
        check.check,
        check.state.as_str(),
        check.since,
        check.reason
    );
    Observation {
        rule: rule.to_string(),
        brand: brand.to_string(),
        subject: format!("health:{}", check.check),
        value: None,
        baseline: None,
        threshold: None,
        active: check.state == watched,
        why,
        why_without_money: None,
        dashboard_path: "/system".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::Timestamp;

    fn stored(state: HealthState) -> StoredHealthState {
        StoredHealthState {
            check: "payment_gateway".into(),
            state,
            since: Timestamp::from_second(1_800_000_000).unwrap(),
            reason: "3 failures in the last 15m".into(),
            evaluated_at: Timestamp::from_second(1_800_000_000).unwrap(),
        }
    }

    #[test]
    fn only_the_watched_state_is_active_and_maintenance_never_is() {
        let down = observe(
            "health_check_down",
            "shop",
            &stored(HealthState::Down),
            HealthState::Down,
        );
        assert!(down.active);
        assert_eq!(down.subject, "health:payment_gateway");
        assert!(down.why.contains("3 failures"), "{}", down.why);
        for s in [
            HealthState::Up,
            HealthState::Pending,
            HealthState::Maintenance,
            HealthState::Degraded,
        ] {
            assert!(!observe("health_check_down", "shop", &stored(s), HealthState::Down).active);
        }
        assert!(
            observe(
                "health_check_degraded",
                "shop",
                &stored(HealthState::Degraded),
                HealthState::Degraded
            )
            .active
        );
    }
}
