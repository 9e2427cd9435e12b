//! The storefront funnel's session-days (migration 0021): steps merge by a
//! bitwise OR, a repeat is "unchanged", days group per brand; and the
//! abandoned checkouts' creation times by brand and window.

use crate::fixtures::*;
use opsdeck_domain::{AbandonedCheckout, AnyRecord};
use opsdeck_store::funnel::{AbandonedAt, FunnelDayCounts, FunnelWrite, SessionDay};
use opsdeck_store::testing::TestStore;

fn row(brand_id: &str, day: &str, key: i64, steps: u8) -> SessionDay {
    SessionDay {
        brand: brand(brand_id),
        day: day.into(),
        session_key: key,
        steps,
    }
}

pub(crate) async fn funnel_steps_are_ored_per_session_day(db: &TestStore) {
    let s = &db.store;
    let w = s
        .funnel_add(&[
            row("mavena", "2026-03-08", 1, 1 | 4 | 8),
            row("mavena", "2026-03-08", 2, 1 | 4),
            row("mavena", "2026-03-07", 3, 1),
            row("kumo", "2026-03-08", 1, 1),
        ])
        .await
        .unwrap();
    assert_eq!(
        w,
        FunnelWrite {
            changed: 4,
            unchanged: 0
        }
    );
    // Session 1 adds its cart (new bit), session 2 repeats what it had.
    let w = s
        .funnel_add(&[
            row("mavena", "2026-03-08", 1, 1 | 2),
            row("mavena", "2026-03-08", 2, 1 | 4),
        ])
        .await
        .unwrap();
    assert_eq!(
        w,
        FunnelWrite {
            changed: 1,
            unchanged: 1
        }
    );
    let days = s
        .funnel_days(&brand("mavena"), "2026-03-01", "2026-03-31")
        .await
        .unwrap();
    let day = |d: &str, sessions, cart, started, completed| FunnelDayCounts {
        day: String::from(d),
        sessions,
        added_to_cart: cart,
        checkout_started: started,
        checkout_completed: completed,
    };
    assert_eq!(
        days,
        vec![day("2026-03-07", 1, 0, 0, 0), day("2026-03-08", 2, 1, 2, 1)]
    );
    let only_8th = s
        .funnel_days(&brand("mavena"), "2026-03-08", "2026-03-08")
        .await
        .unwrap();
    assert_eq!(only_8th, vec![day("2026-03-08", 2, 1, 2, 1)]);
}

pub(crate) async fn abandoned_checkouts_are_read_by_brand_and_creation(db: &TestStore) {
    let s = &db.store;
    let checkout = |id: &str, brand_id: &str, created: &str, completed: Option<&str>| {
        AnyRecord::AbandonedCheckout(AbandonedCheckout {
            source: source("shopify-mavena"),
            external_id: id.into(),
            brand: brand(brand_id),
            name: None,
            customer_id: None,
            email: None,
            total: None,
            quantity: None,
            created_at: ts(created),
            updated_at: ts(created),
            completed_at: completed.map(ts),
        })
    };
    s.upsert(
        &[
            checkout("c1", "mavena", "2026-03-08T10:00:00Z", None),
            checkout(
                "c2",
                "mavena",
                "2026-03-08T11:00:00Z",
                Some("2026-03-09T10:00:00Z"),
            ),
            checkout("c3", "mavena", "2026-03-10T00:00:00Z", None),
            checkout("c4", "kumo", "2026-03-08T10:00:00Z", None),
        ],
        None,
    )
    .await
    .unwrap();
    let got = s
        .abandoned_checkouts_created(
            &brand("mavena"),
            ts("2026-03-08T00:00:00Z"),
            ts("2026-03-10T00:00:00Z"),
        )
        .await
        .unwrap();
    assert_eq!(
        got,
        vec![
            AbandonedAt {
                created_at: ts("2026-03-08T10:00:00Z"),
                completed_at: None
            },
            AbandonedAt {
                created_at: ts("2026-03-08T11:00:00Z"),
                completed_at: Some(ts("2026-03-09T10:00:00Z"))
            },
        ]
    );
}
