//! The ingest API's part of the store: the six record kinds it adds (stored,
//! newer wins, on the change feed, counted), API tokens (hashed, verified,
//! revoked, audited in the same transaction) and ingest health counters.

use crate::fixtures::*;
use crate::seqs_of;
use opsdeck_domain::*;
use opsdeck_store::testing::TestStore;
use opsdeck_store::{
    AnyRecord, AuditAction, AuditEntry, IngestNote, IngestNoteFor, NewApiToken, TokenCheck,
    TokenKinds, UpsertOutcome,
};

fn ingest_source() -> SourceId {
    source("ingest-mavena")
}

/// One record of each ingest-only kind, every optional field set.
pub(crate) fn ingest_kinds(at: &str) -> Vec<AnyRecord> {
    let t = ts(at);
    let src = ingest_source();
    let b = brand("mavena");
    vec![
        AnyRecord::TrackingEvent(TrackingEvent {
            source: src.clone(),
            external_id: "te-1".into(),
            brand: b.clone(),
            order_id: Some("1001".into()),
            fulfillment_id: Some("f-1".into()),
            tracking_number: Some("JD014600003".into()),
            carrier: Some("DHL".into()),
            status: TrackingStatus::NonDeliveryReport,
            description: Some("Addressee unknown".into()),
            location: Some("Leipzig".into()),
            occurred_at: t,
            updated_at: t,
        }),
        AnyRecord::InventoryBatch(InventoryBatch {
            source: src.clone(),
            external_id: "lot-1".into(),
            brand: b.clone(),
            sku: "SKU-1".into(),
            variant_id: Some("v-1".into()),
            lot: "L2406".into(),
            location_id: Some("loc-1".into()),
            quantity: 120,
            expires_on: Some(jiff::civil::date(2026, 7, 1)),
            updated_at: t,
        }),
        AnyRecord::ReturnRequest(ReturnRequest {
            source: src.clone(),
            external_id: "rr-1".into(),
            brand: b.clone(),
            order_id: Some("1001".into()),
            kind: ReturnKind::Refund,
            status: ReturnStatus::Other("escalated".into()),
            amount: Some(usd(1_250)),
            reason: Some("damaged".into()),
            requested_at: t,
            resolved_at: Some(t),
            updated_at: t,
            status_history: Vec::new(),
        }),
        AnyRecord::ReviewItem(ReviewItem {
            source: src.clone(),
            external_id: "rx-1".into(),
            brand: b.clone(),
            queue: "prescriptions".into(),
            status: ReviewStatus::Open,
            order_id: Some("1001".into()),
            subject: Some("Rx for order #1001".into()),
            submitted_at: t,
            decided_at: Some(t),
            updated_at: t,
            ocr_state: Some(opsdeck_domain::OcrState::Other("manual_entry".into())),
            events: vec![opsdeck_domain::ReviewEventSeen {
                event: opsdeck_domain::ReviewEventKind::RxUploaded,
                at: t,
                ocr_state: Some(opsdeck_domain::OcrState::LowConfidence),
            }],
        }),
        AnyRecord::PaymentEvent(PaymentEvent {
            source: src.clone(),
            external_id: "pe-1".into(),
            brand: b.clone(),
            order_id: Some("1001".into()),
            kind: PaymentEventKind::PaymentFailed,
            amount: Some(usd(4_999)),
            reason: Some("card_declined".into()),
            gateway: Some("stripe".into()),
            occurred_at: t,
            updated_at: t,
            dispute: None,
        }),
        AnyRecord::HealthCheck(HealthCheck {
            source: src,
            external_id: "hc-1".into(),
            brand: b,
            dependency: "pharmacy-erp".into(),
            status: HealthStatus::Failed,
            latency_ms: Some(2_300),
            detail: Some("timeout".into()),
            checked_at: t,
            updated_at: t,
        }),
    ]
}

/// One record of each kind only Shopify's GraphQL Admin API gives (not
/// pushed through the ingest API), every optional field set.
pub(crate) fn graphql_kinds(at: &str) -> Vec<AnyRecord> {
    let t = ts(at);
    let src = source("shopify-mavena");
    let b = brand("mavena");
    vec![
        AnyRecord::CustomerSummary(CustomerSummary {
            source: src.clone(),
            external_id: "207119551".into(),
            brand: b.clone(),
            email: Some("bob.norman@mail.example.com".into()),
            name: Some("Bob Norman".into()),
            order_count: 12,
            lifetime_spend: usd(19_965),
            tags: vec!["vip".into()],
            created_at: t,
            updated_at: t,
        }),
        AnyRecord::AbandonedCheckout(AbandonedCheckout {
            source: src,
            external_id: "450789469".into(),
            brand: b,
            name: Some("#450789469".into()),
            customer_id: Some("207119551".into()),
            email: Some("bob.norman@mail.example.com".into()),
            total: Some(usd(39_800)),
            quantity: Some(2),
            created_at: t,
            updated_at: t,
            completed_at: Some(t),
        }),
    ]
}

pub(crate) async fn graphql_kinds_round_trip_counted_and_newer_wins(db: &TestStore) {
    let batch = graphql_kinds("2026-06-01T10:00:00Z");
    let report = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(seqs_of(&report.outcomes), vec![1, 2], "{}", db.label);
    let back: Vec<AnyRecord> = db
        .store
        .changes_since(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record)
        .collect();
    assert_eq!(back, batch, "{}", db.label);
    let counts = db.store.record_counts().await.unwrap();
    assert_eq!(
        (
            counts.customer_summaries,
            counts.abandoned_checkouts,
            counts.total()
        ),
        (1, 1, 2)
    );
    let older = db
        .store
        .upsert(&graphql_kinds("2026-06-01T09:00:00Z"), None)
        .await
        .unwrap();
    assert_eq!(
        older.outcomes,
        vec![UpsertOutcome::Stale; 2],
        "{}",
        db.label
    );
    let newer = db
        .store
        .upsert(&graphql_kinds("2026-06-01T11:00:00Z"), None)
        .await
        .unwrap();
    assert_eq!(seqs_of(&newer.outcomes), vec![3, 4], "{}", db.label);
}

pub(crate) async fn ingest_kinds_round_trip_on_the_feed(db: &TestStore) {
    let batch = ingest_kinds("2026-06-01T10:00:00Z");
    let report = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(
        seqs_of(&report.outcomes),
        vec![1, 2, 3, 4, 5, 6],
        "{}",
        db.label
    );
    let back: Vec<AnyRecord> = db
        .store
        .changes_since(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.record)
        .collect();
    assert_eq!(back, batch, "{}", db.label);
    let again = db.store.upsert(&batch, None).await.unwrap();
    assert_eq!(again.outcomes, vec![UpsertOutcome::Unchanged; 6]);
    let counts = db.store.record_counts().await.unwrap();
    assert_eq!(
        (
            counts.tracking_events,
            counts.inventory_batches,
            counts.return_requests,
            counts.review_items,
            counts.payment_events,
            counts.health_checks,
            counts.total()
        ),
        (1, 1, 1, 1, 1, 1, 6)
    );
}

pub(crate) async fn ingest_kinds_ignore_older_updates(db: &TestStore) {
    db.store
        .upsert(&ingest_kinds("2026-06-01T10:00:00Z"), None)
        .await
        .unwrap();
    let older = ingest_kinds("2026-06-01T09:00:00Z");
    let report = db.store.upsert(&older, None).await.unwrap();
    assert_eq!(
        report.outcomes,
        vec![UpsertOutcome::Stale; 6],
        "{}",
        db.label
    );
    let mut newer = ingest_kinds("2026-06-01T11:00:00Z");
    newer.truncate(1);
    let report = db.store.upsert(&newer, None).await.unwrap();
    assert_eq!(report.outcomes, vec![UpsertOutcome::Updated { seq: 7 }]);
}

fn audit(action: AuditAction, subject: &str) -> AuditEntry {
    AuditEntry {
        at: ts("2026-06-01T10:00:00Z"),
        actor: "ops".into(),
        action,
        subject: subject.into(),
        payload: serde_json::json!({ "brand": "mavena" }),
        ip: None,
    }
}

fn new_token(kinds: TokenKinds) -> NewApiToken {
    NewApiToken::generate(
        "pharmacy platform",
        brand("mavena"),
        ingest_source(),
        kinds,
        "ops",
        ts("2026-06-01T10:00:00Z"),
    )
}

pub(crate) async fn api_tokens_verify_revoke_and_audit(db: &TestStore) {
    let new = new_token(TokenKinds::Only(vec![
        "orders".into(),
        "tracking-events".into(),
    ]));
    let plain = new.plaintext.expose().to_string();
    let id = new.token.id.clone();
    db.store
        .create_api_token(&new, &audit(AuditAction::ApiTokenCreate, &id))
        .await
        .unwrap();
    let now = ts("2026-06-01T11:00:00Z");
    let TokenCheck::Valid(token) = db.store.verify_api_token(&plain, now).await.unwrap() else {
        panic!("{}: a fresh token verifies", db.label);
    };
    assert_eq!(token.brand, brand("mavena"));
    assert_eq!(token.source, ingest_source());
    assert!(token.kinds.allows("tracking-events") && !token.kinds.allows("products"));
    assert_eq!(token.last_used_at, Some(now));

    // Change the last character to one it is not, so the secret is wrong
    // whatever the random token ended with.
    let last = if plain.ends_with('x') { 'y' } else { 'x' };
    let wrong_secret = format!("{}{last}", &plain[..plain.len() - 1]);
    for bad in [wrong_secret.as_str(), "odk_nosuchid_secret", "Bearer", ""] {
        assert_eq!(
            db.store.verify_api_token(bad, now).await.unwrap(),
            TokenCheck::Invalid,
            "{bad:?}"
        );
    }
    let listed = db.store.list_api_tokens().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].last_used_at, Some(now));
    let secret = plain.rsplit('_').next().unwrap();
    assert!(!serde_json::to_string(&listed).unwrap().contains(secret));

    let revoked_at = ts("2026-06-02T00:00:00Z");
    assert!(db
        .store
        .revoke_api_token(&id, revoked_at, &audit(AuditAction::ApiTokenRevoke, &id))
        .await
        .unwrap());
    assert_eq!(
        db.store.verify_api_token(&plain, now).await.unwrap(),
        TokenCheck::Revoked
    );
    assert!(
        !db.store
            .revoke_api_token(&id, revoked_at, &audit(AuditAction::ApiTokenRevoke, &id))
            .await
            .unwrap(),
        "revoking twice changes nothing"
    );
    let log = db.store.audit_log(10).await.unwrap();
    let actions: Vec<&str> = log.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, vec!["api_token.revoke", "api_token.create"]);
    assert_eq!(log[1].payload["brand"], "mavena");
}

pub(crate) async fn failed_token_insert_writes_no_audit_entry(db: &TestStore) {
    let new = new_token(TokenKinds::All);
    let entry = audit(AuditAction::ApiTokenCreate, &new.token.id);
    db.store.create_api_token(&new, &entry).await.unwrap();
    assert!(db.store.create_api_token(&new, &entry).await.is_err());
    assert_eq!(
        db.store.audit_log(10).await.unwrap().len(),
        1,
        "{}",
        db.label
    );
    assert_eq!(db.store.list_api_tokens().await.unwrap().len(), 1);
}

pub(crate) async fn ingest_notes_count_requests_and_errors(db: &TestStore) {
    let src = ingest_source();
    let at = |s: &str| ts(s);
    let stored = |n, newest: &str| IngestNote::Stored {
        records: n,
        newest: Some(ts(newest)),
    };
    let s = &db.store;
    s.note_ingest(
        &src,
        "orders",
        at("2026-06-01T10:00:00Z"),
        &stored(3, "2026-06-01T09:59:00Z"),
    )
    .await
    .unwrap();
    let refused = IngestNote::Refused {
        error: "records[0].total_price: missing".into(),
    };
    s.note_ingest(&src, "orders", at("2026-06-01T10:01:00Z"), &refused)
        .await
        .unwrap();
    s.note_ingest(&src, "orders", at("2026-06-01T10:02:00Z"), &refused)
        .await
        .unwrap();
    let state = s.sync_state(&src, "orders").await.unwrap().unwrap();
    assert_eq!(
        (state.requests, state.errors, state.consecutive_failures),
        (3, 2, 2)
    );
    assert_eq!(state.records_synced, 3);
    assert_eq!(
        state.last_error.as_deref(),
        Some("records[0].total_price: missing")
    );
    assert_eq!(state.last_success_at, Some(at("2026-06-01T10:00:00Z")));
    // An older batch does not move the watermark back.
    s.note_ingest(
        &src,
        "orders",
        at("2026-06-01T10:03:00Z"),
        &stored(2, "2026-05-01T00:00:00Z"),
    )
    .await
    .unwrap();
    let state = s.sync_state(&src, "orders").await.unwrap().unwrap();
    assert_eq!(
        (
            state.requests,
            state.consecutive_failures,
            state.records_synced
        ),
        (4, 0, 5)
    );
    assert_eq!(
        state.watermark,
        Some(at("2026-06-01T09:59:00Z")),
        "{}",
        db.label
    );
    assert_eq!(state.last_success_at, Some(at("2026-06-01T10:03:00Z")));
}

/// The ingest API's group commit: records and the health counters of every
/// request in the group are one transaction, so an answered request has
/// always been counted.
pub(crate) async fn upsert_noting_ingest_counts_in_the_same_commit(db: &TestStore) {
    let src = ingest_source();
    let note = |n| IngestNoteFor {
        source: src.clone(),
        kind: "tracking-events".into(),
        at: ts("2026-06-01T10:00:00Z"),
        note: IngestNote::Stored {
            records: n,
            newest: Some(ts("2026-06-01T09:00:00Z")),
        },
    };
    let records = ingest_kinds("2026-06-01T09:00:00Z");
    let report = db
        .store
        .upsert_noting_ingest(&records, &[note(1), note(2)])
        .await
        .unwrap();
    assert_eq!(report.inserted(), records.len(), "{}", db.label);
    let state = db
        .store
        .sync_state(&src, "tracking-events")
        .await
        .unwrap()
        .expect("counted with the records");
    assert_eq!(
        (state.requests, state.records_synced, state.errors),
        (2, 3, 0),
        "{}",
        db.label
    );
}
