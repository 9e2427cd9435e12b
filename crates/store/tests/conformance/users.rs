//! Accounts, sessions and the audit log queries: users created once,
//! password changes and disabling end sessions and are audited in the same
//! transaction, sessions read back with their user, the audit log filtered
//! and pruned.

use crate::fixtures::*;
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AuditAction, AuditEntry, AuditFilter, NewSession, NewUser, Role};

fn audit(at: &str, actor: &str, action: AuditAction, subject: &str) -> AuditEntry {
    AuditEntry {
        at: ts(at),
        actor: actor.into(),
        action,
        subject: subject.into(),
        payload: serde_json::json!({ "n": 1 }),
        ip: Some("192.0.2.7".into()),
    }
}

fn new_user(name: &str, role: Role) -> NewUser {
    NewUser {
        username: name.into(),
        role,
        password_hash: format!("$argon2id$fake${name}"),
        at: ts("2026-06-01T00:00:00Z"),
    }
}

fn session(id: &str, user: &str, at: &str) -> NewSession {
    NewSession {
        id_sha256: id.into(),
        username: user.into(),
        csrf_token: format!("csrf-{id}"),
        created_at: ts(at),
        ip: Some("192.0.2.7".into()),
    }
}

/// Roles are configuration: a role the store has never heard of (the
/// playbook's, or one of a `[roles.NAME]` section) is kept by name and read
/// back with its user and session.
pub(crate) async fn a_configured_role_name_is_stored_as_is(db: &TestStore) {
    let s = &db.store;
    let a = audit(
        "2026-06-01T00:00:00Z",
        "cli:root",
        AuditAction::UserCreate,
        "user:lena",
    );
    let lead = Role::parse("regional_lead").unwrap();
    let night = Role::parse("night_desk_2").unwrap();
    s.create_user(&new_user("lena", lead), &a).await.unwrap();
    s.create_user(&new_user("nina", night), &a).await.unwrap();
    let (user, _) = s.user_credentials("lena").await.unwrap().unwrap();
    assert_eq!(user.role, lead);
    assert_eq!(user.role.as_str(), "regional_lead");
    let roles: Vec<_> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| (u.username, u.role.to_string()))
        .collect();
    assert_eq!(
        roles,
        [
            ("lena".to_string(), "regional_lead".to_string()),
            ("nina".to_string(), "night_desk_2".to_string())
        ]
    );
    s.create_session(&session("n1", "nina", "2026-06-01T00:00:00Z"))
        .await
        .unwrap();
    let back = s.session("n1").await.unwrap().unwrap();
    assert_eq!(back.user.role, night);
}

pub(crate) async fn users_are_created_once_and_audited(db: &TestStore) {
    let s = &db.store;
    let a = audit(
        "2026-06-01T00:00:00Z",
        "cli:root",
        AuditAction::UserCreate,
        "user:anna",
    );
    assert!(s
        .create_user(&new_user("anna", Role::Ops), &a)
        .await
        .unwrap());
    let again = audit(
        "2026-06-01T00:00:01Z",
        "cli:root",
        AuditAction::UserCreate,
        "user:anna",
    );
    assert!(!s
        .create_user(&new_user("anna", Role::Admin), &again)
        .await
        .unwrap());
    let (user, hash) = s.user_credentials("anna").await.unwrap().unwrap();
    assert_eq!(user.role, Role::Ops, "the second create changed nothing");
    assert_eq!(hash, "$argon2id$fake$anna");
    assert_eq!(user.disabled_at, None);
    assert!(s.user_credentials("nobody").await.unwrap().is_none());
    s.create_user(&new_user("bob", Role::Viewer), &a)
        .await
        .unwrap();
    let names: Vec<_> = s
        .list_users()
        .await
        .unwrap()
        .into_iter()
        .map(|u| u.username)
        .collect();
    assert_eq!(names, ["anna", "bob"]);
    let log = s.audit_log(10).await.unwrap();
    assert_eq!(
        log.len(),
        2,
        "one entry per user created, none for the refusal"
    );
}

pub(crate) async fn sessions_read_back_touch_and_end(db: &TestStore) {
    let s = &db.store;
    let a = audit(
        "2026-06-01T00:00:00Z",
        "cli:root",
        AuditAction::UserCreate,
        "user:anna",
    );
    s.create_user(&new_user("anna", Role::Finance), &a)
        .await
        .unwrap();
    s.create_session(&session("h1", "anna", "2026-06-10T10:00:00Z"))
        .await
        .unwrap();
    let got = s.session("h1").await.unwrap().unwrap();
    assert_eq!(got.user.username, "anna");
    assert_eq!(got.user.role, Role::Finance);
    assert_eq!(got.csrf_token, "csrf-h1");
    assert_eq!(got.last_seen_at, ts("2026-06-10T10:00:00Z"));
    s.touch_session("h1", ts("2026-06-10T10:20:00Z"))
        .await
        .unwrap();
    s.touch_session("h1", ts("2026-06-10T10:05:00Z"))
        .await
        .unwrap();
    let got = s.session("h1").await.unwrap().unwrap();
    assert_eq!(
        got.last_seen_at,
        ts("2026-06-10T10:20:00Z"),
        "never moves back"
    );
    assert!(s.session("h2").await.unwrap().is_none());
    assert!(s.delete_session("h1").await.unwrap());
    assert!(!s.delete_session("h1").await.unwrap());
    assert!(s.session("h1").await.unwrap().is_none());

    // Pruning: idle or too old.
    s.create_session(&session("old", "anna", "2026-06-01T00:00:00Z"))
        .await
        .unwrap();
    s.create_session(&session("idle", "anna", "2026-06-10T09:00:00Z"))
        .await
        .unwrap();
    s.create_session(&session("live", "anna", "2026-06-10T09:00:00Z"))
        .await
        .unwrap();
    s.touch_session("old", ts("2026-06-10T10:00:00Z"))
        .await
        .unwrap();
    s.touch_session("live", ts("2026-06-10T10:00:00Z"))
        .await
        .unwrap();
    let pruned = s
        .prune_sessions(ts("2026-06-10T09:30:00Z"), ts("2026-06-09T00:00:00Z"))
        .await
        .unwrap();
    assert_eq!(pruned, 2);
    assert!(s.session("live").await.unwrap().is_some());
}

pub(crate) async fn password_change_and_disable_end_sessions_with_audit(db: &TestStore) {
    let s = &db.store;
    let a = audit(
        "2026-06-01T00:00:00Z",
        "cli:root",
        AuditAction::UserCreate,
        "user:anna",
    );
    s.create_user(&new_user("anna", Role::Ops), &a)
        .await
        .unwrap();
    s.create_session(&session("h1", "anna", "2026-06-10T10:00:00Z"))
        .await
        .unwrap();
    let reset = audit(
        "2026-06-10T11:00:00Z",
        "cli:root",
        AuditAction::UserPasswordReset,
        "user:anna",
    );
    assert!(s
        .set_user_password("anna", "$argon2id$new", ts("2026-06-10T11:00:00Z"), &reset)
        .await
        .unwrap());
    assert!(
        s.session("h1").await.unwrap().is_none(),
        "reset ends sessions"
    );
    let (user, hash) = s.user_credentials("anna").await.unwrap().unwrap();
    assert_eq!(hash, "$argon2id$new");
    assert_eq!(user.password_changed_at, ts("2026-06-10T11:00:00Z"));
    assert!(!s
        .set_user_password("ghost", "x", ts("2026-06-10T11:00:00Z"), &reset)
        .await
        .unwrap());

    s.create_session(&session("h2", "anna", "2026-06-10T12:00:00Z"))
        .await
        .unwrap();
    let off = audit(
        "2026-06-10T12:30:00Z",
        "cli:root",
        AuditAction::UserDisable,
        "user:anna",
    );
    assert!(s
        .disable_user("anna", ts("2026-06-10T12:30:00Z"), &off)
        .await
        .unwrap());
    assert!(
        !s.disable_user("anna", ts("2026-06-10T12:31:00Z"), &off)
            .await
            .unwrap(),
        "already disabled: nothing written"
    );
    assert!(s.session("h2").await.unwrap().is_none());
    let (user, _) = s.user_credentials("anna").await.unwrap().unwrap();
    assert_eq!(user.disabled_at, Some(ts("2026-06-10T12:30:00Z")));
    let actions: Vec<_> = s
        .audit_log(10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action.as_str().to_string())
        .collect();
    assert_eq!(
        actions,
        ["user.disable", "user.password_reset", "user.create"]
    );
}

pub(crate) async fn audit_search_filters_and_prune_deletes_old(db: &TestStore) {
    let s = &db.store;
    for e in [
        audit(
            "2026-03-01T00:00:00Z",
            "anna",
            AuditAction::LoginSuccess,
            "session",
        ),
        audit(
            "2026-06-09T08:00:00Z",
            "anna",
            AuditAction::AlertAcknowledge,
            "alert:E1",
        ),
        audit(
            "2026-06-10T08:00:00Z",
            "bob",
            AuditAction::AlertAcknowledge,
            "alert:E2",
        ),
        audit(
            "2026-06-10T09:00:00Z",
            "anna",
            AuditAction::Logout,
            "session",
        ),
    ] {
        s.record_audit(&e).await.unwrap();
    }
    let subjects = |v: Vec<opsdeck_store::AuditEntry>| -> Vec<String> {
        v.into_iter().map(|e| e.subject).collect()
    };
    let all = AuditFilter {
        limit: 100,
        ..Default::default()
    };
    assert_eq!(
        subjects(s.search_audit(&all).await.unwrap()),
        ["session", "alert:E2", "alert:E1", "session"],
        "newest first"
    );
    let anna_acks = AuditFilter {
        actor: Some("anna".into()),
        action: Some(AuditAction::AlertAcknowledge),
        ..all.clone()
    };
    assert_eq!(
        subjects(s.search_audit(&anna_acks).await.unwrap()),
        ["alert:E1"]
    );
    let window = AuditFilter {
        from: Some(ts("2026-06-09T08:00:00Z")),
        to: Some(ts("2026-06-10T09:00:00Z")),
        ..all.clone()
    };
    assert_eq!(
        subjects(s.search_audit(&window).await.unwrap()),
        ["alert:E2", "alert:E1"],
        "[from, to)"
    );
    let one = AuditFilter {
        limit: 1,
        ..all.clone()
    };
    assert_eq!(s.search_audit(&one).await.unwrap().len(), 1);
    // Pages of one: every entry once, newest first, and the cursor
    // survives a round trip through its text form (the page's link).
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = s
            .search_audit_page(&AuditFilter {
                before,
                ..one.clone()
            })
            .await
            .unwrap();
        paged.extend(subjects(page.entries));
        let Some(next) = page.next else { break };
        before = Some(next.to_string().parse().unwrap());
    }
    assert_eq!(paged, ["session", "alert:E2", "alert:E1", "session"]);
    let whole = s.search_audit_page(&all).await.unwrap();
    assert_eq!((whole.entries.len(), whole.next), (4, None));
    assert!("12.x".parse::<opsdeck_store::AuditCursor>().is_err());
    let got = &s.search_audit(&anna_acks).await.unwrap()[0];
    assert_eq!(got.ip.as_deref(), Some("192.0.2.7"));
    assert_eq!(got.payload, serde_json::json!({ "n": 1 }));

    assert_eq!(s.prune_audit(ts("2026-03-12T00:00:00Z")).await.unwrap(), 1);
    assert_eq!(s.search_audit(&all).await.unwrap().len(), 3);

    // Whoever writes an entry, the store keeps it bounded.
    let huge = AuditEntry {
        at: ts("2026-06-10T10:00:00Z"),
        actor: "x".repeat(1 << 20),
        action: AuditAction::LoginFailure,
        subject: "user:x".into(),
        payload: serde_json::json!({ "note": "y".repeat(1 << 20) }),
        ip: None,
    };
    s.record_audit(&huge).await.unwrap();
    let failures = AuditFilter {
        action: Some(AuditAction::LoginFailure),
        ..all.clone()
    };
    let stored = &s.search_audit(&failures).await.unwrap()[0];
    assert!(stored.actor.len() < 250, "{}", stored.actor.len());
    assert!(stored.actor.ends_with("more characters]"));
    assert!(stored.payload.to_string().len() < 1_100);
}

pub(crate) async fn login_attacks_group_recent_reports_by_account(db: &TestStore) {
    let s = &db.store;
    let report = |at: &str, actor: &str, failures: u64, addresses: u64| AuditEntry {
        payload: serde_json::json!({
            "failures": failures, "addresses": addresses, "window_minutes": 15,
        }),
        ..audit(
            at,
            actor,
            AuditAction::LoginUnderAttack,
            &format!("user:{actor}"),
        )
    };
    for e in [
        report("2026-06-10T07:59:59Z", "anna", 50, 9), // before the window
        report("2026-06-10T08:10:00Z", "admin", 5, 1),
        report("2026-06-10T08:20:00Z", "anna", 5, 2),
        report("2026-06-10T08:40:00Z", "admin", 7, 3),
        audit(
            "2026-06-10T08:50:00Z",
            "bob",
            AuditAction::LoginFailure,
            "user:bob",
        ),
    ] {
        s.record_audit(&e).await.unwrap();
    }
    let got = s
        .login_attacks_since(ts("2026-06-10T08:00:00Z"))
        .await
        .unwrap();
    let summary: Vec<_> = got
        .iter()
        .map(|a| (a.username.as_str(), a.reports, a.failures, a.addresses))
        .collect();
    assert_eq!(
        summary,
        [("admin", 2, 7, 3), ("anna", 1, 5, 2)],
        "newest attack first, with its newest report's figures"
    );
    assert_eq!(got[0].last_at, ts("2026-06-10T08:40:00Z"));
    assert!(s
        .login_attacks_since(ts("2026-06-10T08:40:01Z"))
        .await
        .unwrap()
        .is_empty());

    // A report whose payload lost its counts is named, not skipped.
    let broken = AuditEntry {
        payload: serde_json::json!({ "note": "no counts" }),
        ..audit(
            "2026-06-10T09:00:00Z",
            "carol",
            AuditAction::LoginUnderAttack,
            "user:carol",
        )
    };
    s.record_audit(&broken).await.unwrap();
    let err = s
        .login_attacks_since(ts("2026-06-10T08:00:00Z"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("user:carol") && err.contains("failures"),
        "{err}"
    );
}
