//! Shift handovers and the morning checklist: one note per region and
//! shift, updates by version, the "not acknowledged" notice queued once
//! with its outbox rows, and a checklist item checked once per local day.

use crate::fixtures::*;
use opsdeck_store::alerts::{Channel, NewNotification};
use opsdeck_store::handover::{ChecklistCheck, HandoverRow};
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AuditAction, AuditEntry};
use serde_json::json;

fn row(region: &str, shift_start: &str) -> HandoverRow {
    HandoverRow {
        id: 0,
        region: region.into(),
        shift_start: ts(shift_start),
        shift_end: ts("2026-06-10T13:00:00Z"),
        state: "draft".into(),
        created_by: "ana".into(),
        created_at: ts("2026-06-10T12:40:00Z"),
        submitted_by: None,
        submitted_at: None,
        acknowledged_by: None,
        acknowledged_at: None,
        notified_at: None,
        version: 1,
        body: json!({ "sections": { "open_issues": "- Incident #1" } }),
    }
}

fn audit(action: AuditAction, subject: &str) -> AuditEntry {
    AuditEntry {
        at: ts("2026-06-10T12:40:00Z"),
        actor: "ana".into(),
        action,
        subject: subject.into(),
        payload: json!({}),
        ip: None,
    }
}

async fn audit_actions(db: &TestStore) -> Vec<String> {
    db.store
        .audit_log(100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| format!("{} {}", e.action.as_str(), e.subject))
        .collect()
}

pub(crate) async fn handovers_are_one_per_shift_and_change_by_version(db: &TestStore) {
    let s = &db.store;
    let first = row("eu", "2026-06-10T05:00:00Z");
    let id = s
        .handover_insert(&first, &audit(AuditAction::HandoverStart, ""))
        .await
        .unwrap()
        .expect("the shift's first note is stored");
    assert_eq!(
        s.handover_insert(&first, &audit(AuditAction::HandoverStart, ""))
            .await
            .unwrap(),
        None,
        "a second note for the same region and shift is refused"
    );
    let other = s
        .handover_insert(
            &row("uk", "2026-06-10T05:00:00Z"),
            &audit(AuditAction::HandoverStart, ""),
        )
        .await
        .unwrap();
    assert!(other.is_some(), "another region's shift has its own note");
    assert_eq!(
        audit_actions(db).await,
        [
            format!("handover.start handover:{}", other.unwrap()),
            format!("handover.start handover:{id}")
        ],
        "one audit entry per stored note, none for the refused one"
    );
    let mut stored = s.handover(id).await.unwrap().unwrap();
    assert_eq!(stored.version, 1);
    assert_eq!(stored.body["sections"]["open_issues"], "- Incident #1");
    assert_eq!(
        s.handover_of_shift("eu", ts("2026-06-10T05:00:00Z"))
            .await
            .unwrap()
            .map(|r| r.id),
        Some(id)
    );
    stored.state = "submitted".into();
    stored.submitted_by = Some("ana".into());
    stored.submitted_at = Some(ts("2026-06-10T12:55:00Z"));
    let submit = audit(AuditAction::HandoverSubmit, &format!("handover:{id}"));
    assert!(s
        .handover_update(&stored, std::slice::from_ref(&submit))
        .await
        .unwrap());
    assert!(
        !s.handover_update(&stored, &[submit]).await.unwrap(),
        "an update naming an old version is refused"
    );
    let read = s.handover(id).await.unwrap().unwrap();
    assert_eq!((read.state.as_str(), read.version), ("submitted", 2));
    assert_eq!(read.submitted_at, Some(ts("2026-06-10T12:55:00Z")));
    assert_eq!(
        audit_actions(db)
            .await
            .iter()
            .filter(|a| a.starts_with("handover.submit"))
            .count(),
        1,
        "the refused update wrote no audit entry"
    );
    let eu: Vec<i64> = s
        .handovers(Some("eu"), 10)
        .await
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(eu, [id]);
    assert_eq!(s.handovers(None, 10).await.unwrap().len(), 2);
}

pub(crate) async fn an_unacknowledged_handover_is_notified_once_with_its_outbox_rows(
    db: &TestStore,
) {
    let s = &db.store;
    let mut r = row("eu", "2026-06-10T05:00:00Z");
    r.state = "submitted".into();
    r.submitted_by = Some("ana".into());
    r.submitted_at = Some(ts("2026-06-10T13:00:00Z"));
    let id = s
        .handover_insert(&r, &audit(AuditAction::HandoverStart, ""))
        .await
        .unwrap()
        .unwrap();
    assert!(
        s.handovers_unacknowledged(ts("2026-06-10T12:59:00Z"))
            .await
            .unwrap()
            .is_empty(),
        "submitted after the cut-off"
    );
    let due = s
        .handovers_unacknowledged(ts("2026-06-10T13:00:00Z"))
        .await
        .unwrap();
    assert_eq!(due.iter().map(|r| r.id).collect::<Vec<_>>(), [id]);
    let note = NewNotification {
        id: format!("handover-{id}-unacknowledged-telegram"),
        channel: Channel::Telegram,
        payload: json!({ "text": "not acknowledged" }),
        episode_ids: vec![],
        created_at: ts("2026-06-10T13:31:00Z"),
        expires_at: ts("2026-06-11T13:31:00Z"),
    };
    let entry = audit(AuditAction::HandoverNotify, &format!("handover:{id}"));
    assert!(s
        .handover_notify(
            id,
            ts("2026-06-10T13:31:00Z"),
            std::slice::from_ref(&note),
            &entry
        )
        .await
        .unwrap());
    assert!(
        !s.handover_notify(id, ts("2026-06-10T13:32:00Z"), &[note], &entry)
            .await
            .unwrap(),
        "a second notice of the same note is refused"
    );
    let outbox = s.outbox_list(None, 10).await.unwrap();
    assert_eq!(outbox.len(), 1, "{outbox:?}");
    assert_eq!(
        outbox[0].id,
        format!("handover-{id}-unacknowledged-telegram")
    );
    assert_eq!(
        s.handover(id).await.unwrap().unwrap().notified_at,
        Some(ts("2026-06-10T13:31:00Z"))
    );
    assert!(s
        .handovers_unacknowledged(ts("2026-06-10T14:00:00Z"))
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        audit_actions(db)
            .await
            .iter()
            .filter(|a| a.starts_with("handover.notify"))
            .count(),
        1
    );
}

pub(crate) async fn a_checklist_item_is_checked_once_per_local_day(db: &TestStore) {
    let s = &db.store;
    let check = |day: &str, by: &str, at: &str| ChecklistCheck {
        region: "eu".into(),
        local_day: day.into(),
        item: "overnight_orders".into(),
        checked_by: by.into(),
        checked_at: ts(at),
    };
    let entry = audit(AuditAction::ChecklistCheck, "checklist:eu:overnight_orders");
    assert!(s
        .checklist_check(&check("2026-06-10", "ana", "2026-06-10T06:00:00Z"), &entry)
        .await
        .unwrap());
    assert!(!s
        .checklist_check(&check("2026-06-10", "ben", "2026-06-10T07:00:00Z"), &entry)
        .await
        .unwrap());
    assert!(s
        .checklist_check(&check("2026-06-11", "ben", "2026-06-11T06:00:00Z"), &entry)
        .await
        .unwrap());
    let today = s.checklist_checks("eu", "2026-06-10").await.unwrap();
    assert_eq!(
        today,
        [check("2026-06-10", "ana", "2026-06-10T06:00:00Z")],
        "the first check stands"
    );
    assert!(s
        .checklist_checks("uk", "2026-06-10")
        .await
        .unwrap()
        .is_empty());
    assert_eq!(
        audit_actions(db)
            .await
            .iter()
            .filter(|a| a.starts_with("checklist.check"))
            .count(),
        2
    );
}
