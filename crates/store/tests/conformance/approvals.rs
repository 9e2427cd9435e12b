//! Approval requests: each step a compare-and-set with its audit entry.
//! Expiry is enforced by the decision's own time in the store, of two
//! decisions at once exactly one is recorded, and a run is claimed once.

use crate::fixtures::*;
use opsdeck_domain::{Currency, Money};
use opsdeck_store::testing::TestStore;
use opsdeck_store::{
    ApprovalDecision, ApprovalKind, ApprovalState, AuditAction, AuditEntry, DecideOutcome,
    NewApproval, RequestedVia, RunOutcome,
};
use serde_json::json;

fn request(id: &str, expires_at: &str) -> NewApproval {
    NewApproval {
        id: id.into(),
        kind: ApprovalKind::Refund,
        brand: "lux".into(),
        summary: "Refund order 1042".into(),
        amount: Some(Money::new(75_000, Currency::parse("EUR").unwrap())),
        percent_bp: None,
        action: json!({"type": "callback", "url": "http://127.0.0.1:1/cb"}),
        target_version: Some("2026-06-10T09:00:00Z".into()),
        subject: None,
        requested_by: "platform:lux".into(),
        requested_via: RequestedVia::Api,
        requested_at: ts("2026-06-10T10:00:00Z"),
        expires_at: ts(expires_at),
        approver_role: "admin".into(),
        idempotency_key: format!("key-{id}"),
    }
}

fn audit(action: AuditAction, who: &str, id: &str, at: &str) -> AuditEntry {
    AuditEntry {
        at: ts(at),
        actor: who.into(),
        action,
        subject: format!("approval:{id}"),
        payload: json!({}),
        ip: None,
    }
}

fn decision(by: &str, at: &str) -> ApprovalDecision {
    ApprovalDecision {
        approve: true,
        by: by.into(),
        comment: "checked the order".into(),
        at: ts(at),
    }
}

async fn audit_actions(db: &TestStore, id: &str) -> Vec<String> {
    let mut actions: Vec<_> = db
        .store
        .audit_log(100)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.subject == format!("approval:{id}"))
        .map(|e| e.action.as_str().to_string())
        .collect();
    actions.reverse();
    actions
}

pub(crate) async fn approvals_round_trip_with_money_and_audit(db: &TestStore) {
    let s = &db.store;
    let new = request("apr_1", "2026-06-11T10:00:00Z");
    s.create_approval(
        &new,
        &[],
        &audit(
            AuditAction::ApprovalRequest,
            "platform:lux",
            "apr_1",
            "2026-06-10T10:00:00Z",
        ),
    )
    .await
    .unwrap();
    let got = s.approval("apr_1").await.unwrap().unwrap();
    assert_eq!(got.state, ApprovalState::Pending);
    assert_eq!(got.amount, new.amount);
    assert_eq!(got.action, new.action);
    assert_eq!(got.target_version, new.target_version);
    assert_eq!(got.idempotency_key, "key-apr_1");
    assert_eq!(
        s.pending_approval_count(ts("2026-06-10T12:00:00Z"))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        s.pending_approval_count(ts("2026-06-11T10:00:00Z"))
            .await
            .unwrap(),
        0,
        "an expired request is not pending"
    );
    assert_eq!(
        s.approvals(Some(ApprovalState::Pending), 10)
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(audit_actions(db, "apr_1").await, ["approval.request"]);
}

pub(crate) async fn approval_expiry_is_enforced_at_decision_time(db: &TestStore) {
    let s = &db.store;
    s.create_approval(
        &request("apr_late", "2026-06-10T11:00:00Z"),
        &[],
        &audit(
            AuditAction::ApprovalRequest,
            "platform:lux",
            "apr_late",
            "2026-06-10T10:00:00Z",
        ),
    )
    .await
    .unwrap();
    // Exactly at the expiry instant is too late.
    let outcome = s
        .decide_approval(
            "apr_late",
            &decision("anna", "2026-06-10T11:00:00Z"),
            &audit(
                AuditAction::ApprovalApprove,
                "anna",
                "apr_late",
                "2026-06-10T11:00:00Z",
            ),
            &audit(
                AuditAction::ApprovalExpire,
                "anna",
                "apr_late",
                "2026-06-10T11:00:00Z",
            ),
        )
        .await
        .unwrap();
    assert_eq!(outcome, DecideOutcome::Expired);
    let got = s.approval("apr_late").await.unwrap().unwrap();
    assert_eq!(got.state, ApprovalState::Expired);
    assert_eq!(got.decided_by, None, "the late decision is not kept");
    assert_eq!(
        audit_actions(db, "apr_late").await,
        ["approval.request", "approval.expire"]
    );
    assert!(
        s.claim_approval_run(
            "apr_late",
            ts("2026-06-10T11:00:01Z"),
            ts("2026-06-10T11:05:00Z"),
            &audit(
                AuditAction::ApprovalRunStart,
                "opsdeck",
                "apr_late",
                "2026-06-10T11:00:01Z"
            )
        )
        .await
        .unwrap()
        .is_none(),
        "an expired request never runs"
    );

    // The sweep expires what nobody decided.
    s.create_approval(
        &request("apr_swept", "2026-06-10T11:00:00Z"),
        &[],
        &audit(
            AuditAction::ApprovalRequest,
            "platform:lux",
            "apr_swept",
            "2026-06-10T10:00:00Z",
        ),
    )
    .await
    .unwrap();
    assert!(s
        .expire_due_approvals(ts("2026-06-10T10:59:59Z"), "opsdeck")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        s.expire_due_approvals(ts("2026-06-10T11:00:00Z"), "opsdeck")
            .await
            .unwrap(),
        ["apr_swept"]
    );
}

pub(crate) async fn concurrent_approval_decisions_record_exactly_one(db: &TestStore) {
    let s = &db.store;
    s.create_approval(
        &request("apr_race", "2026-06-11T10:00:00Z"),
        &[],
        &audit(
            AuditAction::ApprovalRequest,
            "platform:lux",
            "apr_race",
            "2026-06-10T10:00:00Z",
        ),
    )
    .await
    .unwrap();
    let attempts: Vec<_> = (0..8)
        .map(|i| {
            let s = s.clone();
            let who = format!("approver{i}");
            tokio::spawn(async move {
                let d = ApprovalDecision {
                    approve: i % 2 == 0,
                    ..decision(&who, "2026-06-10T10:30:00Z")
                };
                s.decide_approval(
                    "apr_race",
                    &d,
                    &audit(
                        AuditAction::ApprovalApprove,
                        &who,
                        "apr_race",
                        "2026-06-10T10:30:00Z",
                    ),
                    &audit(
                        AuditAction::ApprovalExpire,
                        &who,
                        "apr_race",
                        "2026-06-10T10:30:00Z",
                    ),
                )
                .await
                .unwrap()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for attempt in attempts {
        outcomes.push(attempt.await.unwrap());
    }
    let won: Vec<_> = outcomes
        .iter()
        .filter(|o| matches!(o, DecideOutcome::Recorded(_)))
        .collect();
    assert_eq!(won.len(), 1, "{outcomes:?}");
    assert!(outcomes.iter().all(|o| matches!(
        o,
        DecideOutcome::Recorded(_) | DecideOutcome::AlreadyDecided { by: Some(_), .. }
    )));
    assert_eq!(
        audit_actions(db, "apr_race").await.len(),
        2,
        "one request entry and one decision entry"
    );
}

pub(crate) async fn approval_runs_are_claimed_once_and_finished_once(db: &TestStore) {
    let s = &db.store;
    s.create_approval(
        &request("apr_run", "2026-06-11T10:00:00Z"),
        &[],
        &audit(
            AuditAction::ApprovalRequest,
            "platform:lux",
            "apr_run",
            "2026-06-10T10:00:00Z",
        ),
    )
    .await
    .unwrap();
    let start = |at: &str| audit(AuditAction::ApprovalRunStart, "opsdeck", "apr_run", at);
    assert!(
        s.claim_approval_run(
            "apr_run",
            ts("2026-06-10T10:01:00Z"),
            ts("2026-06-10T10:06:00Z"),
            &start("2026-06-10T10:01:00Z")
        )
        .await
        .unwrap()
        .is_none(),
        "a pending request cannot run"
    );
    s.decide_approval(
        "apr_run",
        &decision("anna", "2026-06-10T10:02:00Z"),
        &audit(
            AuditAction::ApprovalApprove,
            "anna",
            "apr_run",
            "2026-06-10T10:02:00Z",
        ),
        &audit(
            AuditAction::ApprovalExpire,
            "anna",
            "apr_run",
            "2026-06-10T10:02:00Z",
        ),
    )
    .await
    .unwrap();
    let claimed = s
        .claim_approval_run(
            "apr_run",
            ts("2026-06-10T10:03:00Z"),
            ts("2026-06-10T10:08:00Z"),
            &start("2026-06-10T10:03:00Z"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.state, ApprovalState::Executing);
    assert_eq!(claimed.attempts, 1);
    assert!(
        s.claim_approval_run(
            "apr_run",
            ts("2026-06-10T10:04:00Z"),
            ts("2026-06-10T10:09:00Z"),
            &start("2026-06-10T10:04:00Z")
        )
        .await
        .unwrap()
        .is_none(),
        "a run under way is not claimed twice"
    );
    // A crashed run's lease ends: the run is claimed again (same key).
    let again = s
        .claim_approval_run(
            "apr_run",
            ts("2026-06-10T10:08:00Z"),
            ts("2026-06-10T10:13:00Z"),
            &start("2026-06-10T10:08:00Z"),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (again.attempts, again.idempotency_key.as_str()),
        (2, "key-apr_run")
    );
    let done = RunOutcome::Executed {
        note: "HTTP 200".into(),
    };
    let fin = audit(
        AuditAction::ApprovalExecuted,
        "opsdeck",
        "apr_run",
        "2026-06-10T10:09:00Z",
    );
    assert!(s
        .finish_approval_run("apr_run", &done, ts("2026-06-10T10:09:00Z"), &fin)
        .await
        .unwrap());
    assert!(!s
        .finish_approval_run("apr_run", &done, ts("2026-06-10T10:09:00Z"), &fin)
        .await
        .unwrap());
    let got = s.approval("apr_run").await.unwrap().unwrap();
    assert_eq!(got.state, ApprovalState::Executed);
    assert_eq!(got.outcome_note.as_deref(), Some("HTTP 200"));
    assert!(
        s.claim_approval_run(
            "apr_run",
            ts("2026-06-10T11:00:00Z"),
            ts("2026-06-10T11:05:00Z"),
            &start("2026-06-10T11:00:00Z")
        )
        .await
        .unwrap()
        .is_none(),
        "an executed request never runs again"
    );
    assert_eq!(
        audit_actions(db, "apr_run").await,
        [
            "approval.request",
            "approval.approve",
            "approval.run_start",
            "approval.run_start",
            "approval.executed"
        ]
    );
}

/// A request is found by its subject, exactly: `…/ret-1` does not find the
/// request about `…/ret-10`, nor one about nothing.
pub(crate) async fn approvals_are_found_by_their_exact_subject(db: &TestStore) {
    let s = &db.store;
    for (id, subject, at) in [
        (
            "apr_a",
            Some("refunds_queue:shop/ret-10"),
            "2026-06-10T10:00:00Z",
        ),
        (
            "apr_b",
            Some("refunds_queue:shop/ret-1"),
            "2026-06-10T10:00:00Z",
        ),
        (
            "apr_c",
            Some("refunds_queue:shop/ret-1"),
            "2026-06-10T11:00:00Z",
        ),
        ("apr_d", None, "2026-06-10T10:00:00Z"),
    ] {
        let mut new = request(id, "2026-06-11T10:00:00Z");
        new.subject = subject.map(str::to_string);
        new.requested_at = ts(at);
        s.create_approval(
            &new,
            &[],
            &audit(AuditAction::ApprovalRequest, "platform:lux", id, at),
        )
        .await
        .unwrap();
    }
    let ids = |list: Vec<opsdeck_store::Approval>| -> Vec<String> {
        list.into_iter().map(|a| a.id).collect()
    };
    assert_eq!(
        ids(s.approvals_about("refunds_queue:shop/ret-1").await.unwrap()),
        ["apr_c", "apr_b"],
        "newest first, and not the request about ret-10"
    );
    assert_eq!(
        ids(s
            .approvals_about("refunds_queue:shop/ret-10")
            .await
            .unwrap()),
        ["apr_a"]
    );
    assert!(s
        .approvals_about("refunds_queue:shop/ret")
        .await
        .unwrap()
        .is_empty());
    let got = s.approval("apr_b").await.unwrap().unwrap();
    assert_eq!(got.subject.as_deref(), Some("refunds_queue:shop/ret-1"));
    assert_eq!(s.approval("apr_d").await.unwrap().unwrap().subject, None);
}
