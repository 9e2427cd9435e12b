//! Sales-pulse decisions: stored with their audit entry in one
//! transaction, read back newest first per brand with the pulse snapshot.

use crate::fixtures::*;
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AuditEntry, AuditFilter, DecisionKind, NewDecision};
use serde_json::json;

fn decision(at: &str, brand: &str, kind: DecisionKind, notes: &str) -> NewDecision {
    NewDecision {
        at: ts(at),
        username: "anna".into(),
        brand: brand.into(),
        kind,
        notes: notes.into(),
        pulse: json!({ "orders_today": 12, "revenue_variance": -0.31, "state": "critical" }),
    }
}

fn audit_of(d: &NewDecision) -> AuditEntry {
    AuditEntry {
        at: d.at,
        actor: d.username.clone(),
        action: opsdeck_store::AuditAction::PulseDecision,
        subject: format!("brand:{}", d.brand),
        payload: json!({ "kind": d.kind.as_str(), "notes": d.notes }),
        ip: Some("192.0.2.7".into()),
    }
}

pub(crate) async fn decisions_are_stored_with_their_audit_entry(db: &TestStore) {
    let s = &db.store;
    let first = decision(
        "2026-06-10T10:00:00Z",
        "mavena",
        DecisionKind::FollowUp,
        "check ads",
    );
    let second = decision(
        "2026-06-10T11:00:00Z",
        "mavena",
        DecisionKind::Escalate,
        "checkout down?",
    );
    let other = decision("2026-06-10T10:30:00Z", "kumo", DecisionKind::FollowUp, "");
    for d in [&first, &second, &other] {
        s.record_decision(d, &audit_of(d)).await.unwrap();
    }
    let mavena = s.decisions(Some("mavena"), 10).await.unwrap();
    let got: Vec<_> = mavena.iter().map(|d| (d.kind, d.notes.as_str())).collect();
    assert_eq!(
        got,
        [
            (DecisionKind::Escalate, "checkout down?"),
            (DecisionKind::FollowUp, "check ads")
        ],
        "newest first, only the brand's"
    );
    assert_eq!(mavena[0].username, "anna");
    assert_eq!(mavena[0].at, ts("2026-06-10T11:00:00Z"));
    assert_eq!(mavena[0].pulse["revenue_variance"], json!(-0.31));
    assert_eq!(
        s.decisions(None, 2).await.unwrap().len(),
        2,
        "limit applies"
    );
    assert_eq!(s.decisions(None, 10).await.unwrap().len(), 3);
    assert!(s.decisions(Some("nosuch"), 10).await.unwrap().is_empty());

    let audited = s
        .search_audit(&AuditFilter {
            action: Some(opsdeck_store::AuditAction::PulseDecision),
            limit: 10,
            ..AuditFilter::default()
        })
        .await
        .unwrap();
    assert_eq!(audited.len(), 3, "one audit entry per decision");
    assert_eq!(audited[0].subject, "brand:mavena");
    assert_eq!(audited[0].payload["kind"], "escalate");
}

pub(crate) async fn failed_decision_audit_leaves_no_decision(db: &TestStore) {
    let s = &db.store;
    crate::raw_execute(db, "DROP TABLE audit_log").await;
    let d = decision(
        "2026-06-10T10:00:00Z",
        "mavena",
        DecisionKind::FollowUp,
        "x",
    );
    assert!(s.record_decision(&d, &audit_of(&d)).await.is_err());
    assert!(
        s.decisions(None, 10).await.unwrap().is_empty(),
        "the decision rolled back with its audit entry"
    );
}
