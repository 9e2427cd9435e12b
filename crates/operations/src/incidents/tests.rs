use super::escalation::due_notices;
use super::*;
use jiff::{SignedDuration, Timestamp};

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn incident(severity: Severity) -> Incident {
    let mut i = Incident::declare(
        "Checkout down",
        severity,
        Some("mavena".into()),
        "anna",
        DeclaredVia::Dashboard,
        ts("2026-06-10T10:00:00Z"),
    )
    .unwrap();
    i.id = 7;
    i
}

/// Every pair the lifecycle refuses, named: each is refused with an error
/// that names both states and what is allowed instead.
#[test]
fn invalid_transitions_are_refused_each_named() {
    use IncidentState::*;
    let refused = [
        (Triage, Triage),
        (Triage, Closed),
        (Investigating, Triage),
        (Investigating, Closed),
        (Mitigated, Triage),
        (Mitigated, Closed),
        (Mitigated, Cancelled),
        (Resolved, Triage),
        (Resolved, Mitigated),
        (Resolved, Cancelled),
        (Resolved, Merged),
        (Closed, Investigating),
        (Closed, Resolved),
        (Cancelled, Investigating),
        (Cancelled, Triage),
        (Merged, Investigating),
        (Merged, Resolved),
    ];
    for (from, to) in refused {
        let err = from.check(to).unwrap_err().to_string();
        assert!(
            err.contains(&format!("from {from} to {to}")),
            "{from} → {to}: {err}"
        );
    }
    // The allowed pairs are exactly the lifecycle's 14 (none of them in
    // the refused list).
    let mut allowed = 0;
    for from in IncidentState::ALL {
        for to in IncidentState::ALL {
            if from.check(to).is_ok() {
                allowed += 1;
                assert!(!refused.contains(&(from, to)));
            }
        }
    }
    assert_eq!(allowed, 14);
    let err = Closed.check(Investigating).unwrap_err().to_string();
    assert!(err.contains("nothing (it is final)"), "{err}");
}

#[test]
fn the_full_lifecycle_records_a_time_at_each_state_and_the_figures() {
    let mut i = incident(Severity::High);
    let t = |m: i64| ts("2026-06-10T10:00:00Z") + SignedDuration::from_mins(m);
    i.transition(IncidentState::Investigating, "on it", None, "bo", t(20))
        .unwrap();
    i.transition(IncidentState::Mitigated, "rolled back", None, "bo", t(50))
        .unwrap();
    i.transition(IncidentState::Resolved, "", None, "bo", t(90))
        .unwrap();
    i.transition(IncidentState::Closed, "", None, "anna", t(200))
        .unwrap();
    let states: Vec<_> = i.reached.iter().map(|r| (r.state, r.at)).collect();
    assert_eq!(
        states,
        [
            (IncidentState::Triage, t(0)),
            (IncidentState::Investigating, t(20)),
            (IncidentState::Mitigated, t(50)),
            (IncidentState::Resolved, t(90)),
            (IncidentState::Closed, t(200)),
        ]
    );
    let times = i.times();
    assert_eq!(times.to_acknowledge, Some(SignedDuration::from_mins(20)));
    assert_eq!(times.to_mitigate, Some(SignedDuration::from_mins(50)));
    assert_eq!(times.to_resolve, Some(SignedDuration::from_mins(90)));
    let policies = SeverityPolicies::default();
    // High: 15 min target, acknowledged after 20: a breach.
    assert!(i.breached(policies.get(Severity::High), t(300)));
    assert!(!i.breached(policies.get(Severity::Medium), t(300)));
    let r = report(std::slice::from_ref(&i), &policies, t(300));
    assert_eq!(r[1].severity, Severity::High);
    assert_eq!((r[1].incidents, r[1].breaches), (1, 1));
    assert_eq!(r[1].mean_to_resolve_s, Some(90 * 60));
    assert_eq!((r[0].incidents, r[2].incidents, r[3].incidents), (0, 0, 0));
}

#[test]
fn merging_needs_a_target_other_than_itself() {
    let mut i = incident(Severity::Low);
    let now = ts("2026-06-10T10:05:00Z");
    let err = i
        .transition(IncidentState::Merged, "", None, "bo", now)
        .unwrap_err();
    assert!(err.to_string().contains("merged_into"), "{err}");
    let err = i
        .transition(IncidentState::Merged, "", Some(7), "bo", now)
        .unwrap_err();
    assert!(err.to_string().contains("itself"), "{err}");
    let err = i
        .transition(IncidentState::Resolved, "", Some(3), "bo", now)
        .unwrap_err();
    assert!(
        err.to_string().contains("only with the merged state"),
        "{err}"
    );
    i.transition(IncidentState::Merged, "dup", Some(3), "bo", now)
        .unwrap();
    assert_eq!(i.merged_into, Some(3));
    assert!(!i.is_live());
}

fn keys(i: &Incident, sent: &[String], at: &str) -> Vec<String> {
    let policies = SeverityPolicies::default();
    due_notices(i, policies.get(i.severity), sent, ts(at))
        .into_iter()
        .map(|n| n.key)
        .collect()
}

#[test]
fn escalation_steps_fall_due_after_the_missed_target_and_repeat() {
    // High: target 15 min; step 0 at once after it, 2 repeats 15 min
    // apart; step 1 30 min after it, once.
    let i = incident(Severity::High);
    let mut sent: Vec<String> = Vec::new();
    assert_eq!(keys(&i, &sent, "2026-06-10T10:00:00Z"), ["declared"]);
    sent.push("declared".into());
    assert!(keys(&i, &sent, "2026-06-10T10:14:59Z").is_empty());
    assert_eq!(keys(&i, &sent, "2026-06-10T10:15:00Z"), ["escalation:0:0"]);
    sent.push("escalation:0:0".into());
    assert!(keys(&i, &sent, "2026-06-10T10:29:59Z").is_empty());
    assert_eq!(keys(&i, &sent, "2026-06-10T10:30:00Z"), ["escalation:0:1"]);
    sent.push("escalation:0:1".into());
    assert_eq!(
        keys(&i, &sent, "2026-06-10T10:45:00Z"),
        ["escalation:0:2", "escalation:1:0"]
    );
    sent.extend(["escalation:0:2".into(), "escalation:1:0".into()]);
    assert!(
        keys(&i, &sent, "2026-06-10T13:00:00Z").is_empty(),
        "repeats spent"
    );
}

#[test]
fn a_late_pass_sends_only_the_newest_repeat_and_acknowledging_stops_it() {
    let mut i = incident(Severity::High);
    let sent = vec!["declared".to_string()];
    assert_eq!(
        keys(&i, &sent, "2026-06-10T10:44:00Z"),
        ["escalation:0:1"],
        "repeat 0 passed unsent: only the newest goes"
    );
    i.acknowledge("bo", ts("2026-06-10T10:44:30Z")).unwrap();
    assert!(keys(&i, &sent, "2026-06-10T11:00:00Z").is_empty());
    assert!(i.acknowledge("bo", ts("2026-06-10T10:45:00Z")).is_err());
}

#[test]
fn a_critical_incident_escalates_at_once_and_a_resolved_one_not_at_all() {
    let mut i = incident(Severity::Critical);
    let sent = vec!["declared".to_string()];
    // Critical: target 0, step 0 five minutes later.
    assert!(keys(&i, &sent, "2026-06-10T10:04:59Z").is_empty());
    assert_eq!(keys(&i, &sent, "2026-06-10T10:05:00Z"), ["escalation:0:0"]);
    i.transition(
        IncidentState::Cancelled,
        "false alarm",
        None,
        "bo",
        ts("2026-06-10T10:01:00Z"),
    )
    .unwrap();
    assert!(keys(&i, &sent, "2026-06-10T10:05:00Z").is_empty());
    assert!(keys(&i, &[], "2026-06-10T10:05:00Z").is_empty());
}

#[test]
fn the_status_page_shows_only_public_words() {
    let policies = SeverityPolicies::default();
    let mut high = incident(Severity::High);
    high.add_update(
        "internal: stripe key rotated",
        false,
        "bo",
        ts("2026-06-10T10:01:00Z"),
    )
    .unwrap();
    high.add_update(
        "Checkout errors for some customers",
        true,
        "bo",
        ts("2026-06-10T10:02:00Z"),
    )
    .unwrap();
    let mut low = incident(Severity::Low);
    low.id = 8;
    low.title = "Private low".into();
    let comps = status::components(&["mavena".to_string()], &[]);
    let page = status::status_page(
        "Mavena status",
        "https://ops.example.com/",
        &comps,
        &[high, low],
        &policies,
        ts("2026-06-10T10:03:00Z"),
    );
    let json = serde_json::to_string(&page).unwrap();
    assert!(!json.contains("internal"), "{json}");
    assert!(!json.contains("Private low"), "{json}");
    assert_eq!(page.incidents.len(), 1);
    assert_eq!(page.incidents[0].impact, "major");
    assert_eq!(page.incidents[0].status, "investigating");
    assert_eq!(page.incidents[0].incident_updates.len(), 1);
    assert_eq!(page.status.indicator, "major");
    assert_eq!(page.components.len(), 5);
    assert_eq!(page.components[0].id, "checkout:mavena");
}
