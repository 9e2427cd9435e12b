use super::*;

fn note() -> HandoverNote {
    let t: Timestamp = "2026-06-10T05:00:00Z".parse().unwrap();
    HandoverNote {
        id: 1,
        region: "eu".into(),
        shift: Shift { start: t, end: t },
        state: HandoverState::Draft,
        created_by: "ana".into(),
        created_at: t,
        submitted_by: None,
        submitted_at: None,
        acknowledged_by: None,
        acknowledged_at: None,
        notified_at: None,
        version: 1,
        sections: Sections::default(),
        live: LiveState::default(),
    }
}

#[test]
fn only_draft_submitted_acknowledged_in_that_order() {
    let now: Timestamp = "2026-06-10T06:00:00Z".parse().unwrap();
    let mut n = note();
    let err = n.acknowledge("ben", now).unwrap_err();
    assert!(matches!(
        err,
        HandoverError::Transition {
            from: HandoverState::Draft,
            to: HandoverState::Acknowledged
        }
    ));
    assert!(err.to_string().contains("only go to submitted"), "{err}");
    assert!(matches!(
        n.submit("ben", now),
        Err(HandoverError::NotAuthor { .. })
    ));
    n.submit("ana", now).unwrap();
    assert!(matches!(
        n.edit(Sections::default(), "ana"),
        Err(HandoverError::NotEditable(HandoverState::Submitted))
    ));
    assert!(matches!(
        n.submit("ana", now),
        Err(HandoverError::Transition { .. })
    ));
    assert!(matches!(
        n.acknowledge("ana", now),
        Err(HandoverError::OwnHandover)
    ));
    n.acknowledge("ben", now).unwrap();
    assert_eq!(n.state, HandoverState::Acknowledged);
    assert_eq!(n.acknowledged_by.as_deref(), Some("ben"));
    let err = n.acknowledge("cy", now).unwrap_err();
    assert!(err.to_string().contains("final"), "{err}");
}

#[test]
fn a_section_over_its_bound_is_refused_naming_it() {
    let mut n = note();
    let sections = Sections {
        customer_escalations: "x".repeat(live::MAX_SECTION_CHARS + 1),
        ..Sections::default()
    };
    let err = n.edit(sections, "ana").unwrap_err().to_string();
    assert!(
        err.contains("customer_escalations") && err.contains("at most 5000"),
        "{err}"
    );
    assert!(matches!(
        n.edit(Sections::default(), "ben"),
        Err(HandoverError::NotAuthor { .. })
    ));
}

#[test]
fn the_prefill_puts_each_live_thing_in_its_section() {
    let t: Timestamp = "2026-06-10T05:00:00Z".parse().unwrap();
    let live = LiveState {
        at: Some(t),
        incidents: vec![live::LiveIncident {
            id: 4,
            title: "Checkout down".into(),
            severity: "high".into(),
            state: "triage".into(),
            brand: Some("mavena".into()),
        }],
        approvals: vec![live::LiveApproval {
            id: "apr_1".into(),
            kind: "refund".into(),
            brand: "mavena".into(),
            summary: "Refund order 1001".into(),
            requested_by: "ana".into(),
            expires_at: t,
        }],
        breached_queues: vec![live::BreachedQueue {
            brand: "mavena".into(),
            queue: "urgent tickets".into(),
            flagged: 3,
            link: "/tickets".into(),
        }],
        ..LiveState::default()
    };
    let s = live::prefill(&live);
    assert!(
        s.open_issues
            .contains("Incident #4 (high, triage): Checkout down"),
        "{}",
        s.open_issues
    );
    assert!(s.pending_actions.contains("apr_1") && s.pending_actions.contains("Refund order 1001"));
    assert!(s
        .customer_escalations
        .contains("urgent tickets [mavena]: 3 flagged"));
    assert!(s.next_shift_notes.is_empty());
}

#[test]
fn a_long_prefill_stays_within_its_share_and_counts_the_rest() {
    let t: Timestamp = "2026-06-10T05:00:00Z".parse().unwrap();
    let alert = |i: usize| live::LiveAlert {
        id: format!("E{i}"),
        rule: "unfulfilled_orders".into(),
        brand: "mavena".into(),
        subject: format!("order #{i} unfulfilled for 3 days"),
        severity: "warning".into(),
        state: "firing".into(),
        opened_at: t,
    };
    let live = LiveState {
        alerts: (0..500).map(alert).collect(),
        ..LiveState::default()
    };
    let s = live::prefill(&live);
    let n = s.open_issues.chars().count();
    assert!(n <= live::PREFILL_CHARS, "{n}");
    assert!(s.open_issues.contains("order #0 "));
    assert!(
        s.open_issues.ends_with("more: see /incidents and /alerts"),
        "{}",
        &s.open_issues[n - 80..]
    );
    assert!(s.validate().is_ok());
}
