//! The flag rules over a real store, on SQLite and (when configured)
//! PostgreSQL: a change with its audit entry and owed deliveries, the
//! approval gate, a conflicting change, and the automatic end with a
//! fixed clock.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use jiff::Timestamp;
use opsdeck_domain::BrandId;
use opsdeck_operations::flags::*;
use opsdeck_store::flags::{DeliveryStatus, DeliveryTarget};
use opsdeck_store::testing::TestStore;
use opsdeck_store::AuditAction;

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

fn settings() -> FlagSettings {
    FlagSettings {
        requires_approval: vec![FlagKey::FreezeRefunds],
        webhooks: vec!["storefront-cache".into()],
        mirror_brands: vec![BrandId::parse("mavena").unwrap()],
        mirrored_flags: vec![FlagKey::FreezeCheckout],
        polling_interval_seconds: 30,
    }
}

fn anna() -> Actor {
    Actor {
        name: "anna".into(),
        ip: Some("192.0.2.7".into()),
    }
}

fn freeze(key: FlagKey, ends_at: Option<&str>) -> FlagChange {
    FlagChange {
        key,
        on: true,
        targets: Vec::new(),
        text: None,
        reason: "payment provider outage".into(),
        ends_at: ends_at.map(ts),
    }
}

async fn a_change_is_stored_audited_and_owed_to_every_receiver(db: &TestStore) {
    let s = db.store.as_ref();
    let now = ts("2026-12-07T10:00:00Z");
    let set = change_flag(
        s,
        &settings(),
        &freeze(FlagKey::FreezeCheckout, None),
        &anna(),
        &Authority::Direct,
        now,
    )
    .await
    .unwrap();
    assert_eq!(set.version, 1);
    let stored = s.flags().await.unwrap();
    assert_eq!(stored, std::slice::from_ref(&set), "{}", db.label);
    let trail = s.flag_audit(&FlagKey::FreezeCheckout, 10).await.unwrap();
    assert_eq!(trail.len(), 1);
    assert_eq!(trail[0].action, AuditAction::FlagSet);
    assert_eq!(trail[0].actor, "anna");
    assert_eq!(trail[0].at, now);
    assert_eq!(trail[0].payload["reason"], "payment provider outage");
    let owed = s.pending_flag_deliveries(10).await.unwrap();
    let targets: Vec<_> = owed.iter().map(|d| d.target.clone()).collect();
    assert_eq!(
        targets,
        [
            DeliveryTarget::Webhook("storefront-cache".into()),
            DeliveryTarget::ShopifyMetafield(BrandId::parse("mavena").unwrap())
        ]
    );
    assert_eq!(owed[0].payload["flag"]["key"], "freeze-checkout");
    assert_eq!(owed[1].payload["value"], "true");
    assert!(owed.iter().all(|d| d.status == DeliveryStatus::Pending));

    // Switching off: version 2, a clear in the trail, owed again.
    let mut off = freeze(FlagKey::FreezeCheckout, None);
    off.on = false;
    off.reason = "provider back".into();
    let cleared = change_flag(
        s,
        &settings(),
        &off,
        &anna(),
        &Authority::Direct,
        ts("2026-12-07T11:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(cleared.version, 2);
    let trail = s.flag_audit(&FlagKey::FreezeCheckout, 10).await.unwrap();
    assert_eq!(trail[0].action, AuditAction::FlagClear);
    assert_eq!(s.pending_flag_deliveries(10).await.unwrap().len(), 4);
}

async fn a_flag_that_needs_approval_refuses_the_direct_switch_on(db: &TestStore) {
    let s = db.store.as_ref();
    let now = ts("2026-12-07T10:00:00Z");
    let err = change_flag(
        s,
        &settings(),
        &freeze(FlagKey::FreezeRefunds, None),
        &anna(),
        &Authority::Direct,
        now,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, FlagError::NeedsApproval(FlagKey::FreezeRefunds)),
        "{err}"
    );
    assert!(err.to_string().contains("needs approval"), "{err}");
    assert!(
        s.flags().await.unwrap().is_empty(),
        "nothing of it is stored"
    );
    let trail = s.flag_audit(&FlagKey::FreezeRefunds, 10).await.unwrap();
    assert_eq!(trail[0].action, AuditAction::FlagRefused);
    // The same change as an approval's action is made, and says so.
    let approved = Authority::Approved {
        approval: "apr-7".into(),
        approver: "omar".into(),
    };
    let set = change_flag(
        s,
        &settings(),
        &freeze(FlagKey::FreezeRefunds, None),
        &anna(),
        &approved,
        now,
    )
    .await
    .unwrap();
    assert!(set.on);
    let trail = s.flag_audit(&FlagKey::FreezeRefunds, 10).await.unwrap();
    assert_eq!(trail[0].payload["approved_by"], "omar");
}

async fn a_change_from_a_stale_version_is_refused(db: &TestStore) {
    let s = db.store.as_ref();
    let now = ts("2026-12-07T10:00:00Z");
    let first = change_flag(
        s,
        &settings(),
        &freeze(FlagKey::FreezePrices, None),
        &anna(),
        &Authority::Direct,
        now,
    )
    .await
    .unwrap();
    // Someone read version 1 and writes version 2 after another did.
    let mut second = first.clone();
    second.version = 2;
    let audit = opsdeck_store::AuditEntry {
        at: now,
        actor: "omar".into(),
        action: AuditAction::FlagSet,
        subject: "flag:freeze-prices".into(),
        payload: serde_json::json!({}),
        ip: None,
    };
    assert!(s.write_flag(&second, &[], &audit).await.unwrap());
    assert!(
        !s.write_flag(&second, &[], &audit).await.unwrap(),
        "version 2 is taken"
    );
    assert!(
        !s.write_flag(&first, &[], &audit).await.unwrap(),
        "version 1 exists"
    );
}

async fn the_automatic_end_is_recorded_by_the_background_step(db: &TestStore) {
    let s = db.store.as_ref();
    let set_at = ts("2026-12-07T10:00:00Z");
    change_flag(
        s,
        &settings(),
        &freeze(FlagKey::FreezeCheckout, Some("2026-12-07T12:00:00Z")),
        &anna(),
        &Authority::Direct,
        set_at,
    )
    .await
    .unwrap();
    assert!(
        end_expired_flags(s, &settings(), ts("2026-12-07T11:59:59Z"))
            .await
            .unwrap()
            .is_empty()
    );
    let flags = s.flags().await.unwrap();
    assert_eq!(live_flags(&flags, ts("2026-12-07T11:59:59Z")).len(), 1);
    assert!(
        live_flags(&flags, ts("2026-12-07T12:00:00Z")).is_empty(),
        "off at its end before the step runs"
    );
    let ended = end_expired_flags(s, &settings(), ts("2026-12-07T12:00:05Z"))
        .await
        .unwrap();
    assert_eq!(ended, [FlagKey::FreezeCheckout]);
    let flag = &s.flags().await.unwrap()[0];
    assert!(!flag.on);
    assert_eq!(flag.set_by, SYSTEM_ACTOR);
    let trail = s.flag_audit(&FlagKey::FreezeCheckout, 10).await.unwrap();
    assert_eq!(trail[0].action, AuditAction::FlagExpire);
    assert_eq!(trail[0].at, ts("2026-12-07T12:00:05Z"));
    assert_eq!(trail[0].payload["ended_at"], "2026-12-07T12:00:00Z");
    let owed = s.pending_flag_deliveries(10).await.unwrap();
    assert_eq!(
        owed.last().unwrap().payload["value"],
        "false",
        "the shop hears the end"
    );
    assert!(
        end_expired_flags(s, &settings(), ts("2026-12-07T13:00:00Z"))
            .await
            .unwrap()
            .is_empty(),
        "once"
    );
}

macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $name() {
                    let db = opsdeck_store::testing::sqlite_store().await;
                    super::$name(&db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $name() {
                    let Some(db) = opsdeck_store::testing::postgres_store().await else {
                        eprintln!("SKIPPED postgres::{}: set OPSDECK_TEST_POSTGRES_URL to run it", stringify!($name));
                        return;
                    };
                    super::$name(&db).await;
                }
            )*
        }
    };
}

both_backends!(
    a_change_is_stored_audited_and_owed_to_every_receiver,
    a_flag_that_needs_approval_refuses_the_direct_switch_on,
    a_change_from_a_stale_version_is_refused,
    the_automatic_end_is_recorded_by_the_background_step,
);
