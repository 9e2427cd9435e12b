//! Erasure that stays erased: once an erasure has remembered whom it
//! erased, every later upsert (sync page, webhook, ingest push, import:
//! they all take the one upsert path) stores that person's records erased,
//! and after `shop/redact` every record of the shop; everyone else's are
//! stored as they came. Only keyed hashes are kept, never the email.

use crate::fixtures::*;
use opsdeck_domain::erasure::{email_key, id_key, shop_key};
use opsdeck_domain::privacy::{DataSubject, PrivacyRequestKind, PrivacyVia, TOMBSTONE};
use opsdeck_domain::{AnyRecord, CustomerRef, Order};
use opsdeck_store::privacy::{ErasedCount, Erasure, PrivacyRequest};
use opsdeck_store::testing::TestStore;
use opsdeck_store::{AuditAction, AuditEntry, UpsertOutcome};

const AT: &str = "2026-06-01T10:00:00Z";

fn person(id: &str, src: &str, email: &str, customer: &str, name: &str) -> Order {
    let mut o = order(id, AT);
    o.source = source(src);
    o.email = Some(email.into());
    o.customer = Some(CustomerRef {
        external_id: customer.into(),
        email: Some(email.into()),
        name: Some(name.into()),
    });
    o.refunds[0].note = Some(format!("{name} called"));
    o
}

fn audit() -> AuditEntry {
    AuditEntry {
        at: ts(AT),
        actor: "opsdeck".into(),
        action: AuditAction::PrivacyComplete,
        subject: String::new(),
        payload: serde_json::json!({}),
        ip: None,
    }
}

/// Stores a completed erasure that remembers `keys` (and rewrites no
/// record: what it remembers is the point here).
async fn erase(db: &TestStore, key: &str, kind: PrivacyRequestKind, keys: Vec<String>) {
    let mut request = PrivacyRequest::received(
        "shopify-mavena",
        key,
        kind,
        PrivacyVia::ShopifyWebhook,
        Some(brand("mavena")),
        DataSubject::default(),
        ts(AT),
        "test",
    );
    request.id = db
        .store
        .privacy_request_insert(&request, &audit())
        .await
        .unwrap()
        .unwrap();
    db.store
        .privacy_erase(&Erasure {
            records: vec![],
            needles: vec![],
            erased_keys: keys,
            purge_source_bodies: None,
            request,
            audit: audit(),
        })
        .await
        .unwrap();
}

async fn stored(db: &TestStore, src: &str, id: &str) -> Order {
    db.store.get_order(&source(src), id).await.unwrap().unwrap()
}

pub async fn an_erased_person_is_stored_erased_whoever_brings_them_back(db: &TestStore) {
    let mavena = brand("mavena");
    let shop = source("shopify-mavena");
    erase(
        db,
        "ana",
        PrivacyRequestKind::Erasure,
        [
            email_key("Ana.Lima@example.com", Some(&mavena)),
            id_key("customer", &shop, "111").into_iter().collect(),
        ]
        .concat(),
    )
    .await;

    let by_email = person(
        "A1",
        "shopify-mavena",
        " ana.lima@EXAMPLE.com",
        "999",
        "Ana Lima",
    );
    let by_customer = person(
        "A2",
        "shopify-mavena",
        "ana.new@example.com",
        "111",
        "Ana L.",
    );
    let bob = person(
        "B1",
        "shopify-mavena",
        "bob@example.com",
        "222",
        "Bob Stone",
    );
    // The same customer id in another shop is another person.
    let other_shop = person(
        "C1",
        "shopify-lunara",
        "carla@example.com",
        "111",
        "Carla M",
    );
    let report = db
        .store
        .upsert(
            &[
                AnyRecord::Order(by_email.clone()),
                AnyRecord::Order(by_customer.clone()),
                AnyRecord::Order(bob.clone()),
                AnyRecord::Order(other_shop.clone()),
            ],
            None,
        )
        .await
        .unwrap();
    assert!(report
        .outcomes
        .iter()
        .all(|o| matches!(o, UpsertOutcome::Inserted { .. })));

    for (id, was) in [("A1", &by_email), ("A2", &by_customer)] {
        let o = stored(db, "shopify-mavena", id).await;
        assert_eq!(o.email.as_deref(), Some(TOMBSTONE), "{id}");
        let c = o.customer.clone().unwrap();
        assert_eq!(
            (c.email.as_deref(), c.name.as_deref()),
            (Some(TOMBSTONE), Some(TOMBSTONE)),
            "{id}"
        );
        assert_eq!(o.refunds[0].note.as_deref(), Some(TOMBSTONE), "{id}");
        // It still counts: amounts, lines, the customer's pseudonymous id.
        assert_eq!(
            (&o.total_price, &o.line_items, &c.external_id),
            (
                &was.total_price,
                &was.line_items,
                &was.customer.as_ref().unwrap().external_id
            ),
            "{id}"
        );
    }
    assert_eq!(stored(db, "shopify-mavena", "B1").await, bob);
    assert_eq!(stored(db, "shopify-lunara", "C1").await, other_shop);

    // A newer version (a webhook's orders/updated) is stored erased too,
    // and an unchanged one stays unchanged.
    let mut newer = by_email.clone();
    newer.updated_at = ts("2026-06-05T10:00:00Z");
    let again = db
        .store
        .upsert(
            &[AnyRecord::Order(newer), AnyRecord::Order(by_customer)],
            None,
        )
        .await
        .unwrap();
    assert!(matches!(again.outcomes[0], UpsertOutcome::Updated { .. }));
    assert_eq!(again.outcomes[1], UpsertOutcome::Unchanged);
    let o = stored(db, "shopify-mavena", "A1").await;
    assert_eq!(
        (o.email.as_deref(), o.updated_at),
        (Some(TOMBSTONE), ts("2026-06-05T10:00:00Z"))
    );

    let counts = db.store.privacy_erased_counts().await.unwrap();
    assert_eq!(
        counts,
        vec![
            ErasedCount {
                kind: "customer".into(),
                keys: 1,
                hits: 2,
            },
            ErasedCount {
                kind: "email".into(),
                keys: 2,
                hits: 2,
            },
        ],
        "A1 by its email twice, A2 by its customer id twice"
    );
}

pub async fn after_shop_redact_the_shops_records_are_stored_erased(db: &TestStore) {
    erase(
        db,
        "shop",
        PrivacyRequestKind::ShopErasure,
        vec![shop_key(&source("shopify-mavena"))],
    )
    .await;
    let late = person("D1", "shopify-mavena", "dan@example.com", "444", "Dan Roe");
    let elsewhere = person(
        "C1",
        "shopify-lunara",
        "carla@example.com",
        "333",
        "Carla M",
    );
    db.store
        .upsert(
            &[
                AnyRecord::Order(late.clone()),
                AnyRecord::Order(elsewhere.clone()),
            ],
            None,
        )
        .await
        .unwrap();
    let o = stored(db, "shopify-mavena", "D1").await;
    assert_eq!(o.email.as_deref(), Some(TOMBSTONE));
    assert_eq!(o.total_price, late.total_price);
    assert_eq!(stored(db, "shopify-lunara", "C1").await, elsewhere);
    assert_eq!(
        db.store.privacy_erased_counts().await.unwrap(),
        vec![ErasedCount {
            kind: "shop".into(),
            keys: 1,
            hits: 1,
        }]
    );
}
