//! What an erasure's disk purge costs on a realistic SQLite file: 100,000
//! orders (about the size of a year of a mid-sized shop), then one
//! erasure's `privacy_purge_copies` timed. Run by hand, it prints the
//! figures:
//! `cargo test -p opsdeck-store --test erasure_cost -- --ignored --nocapture`.
//!
//! Measured (debug build, 2 shared cores, a 212 MB file): a `VACUUM` per
//! erasure took 3,054 ms and grows with the file; with `secure_delete` on
//! every connection and a WAL checkpoint instead, 31 ms (loading the
//! 100,000 orders took 21–26 s either way).
#![expect(
    clippy::unwrap_used,
    reason = "a measurement: a failed unwrap is a failed run"
)]

#[path = "fixtures/mod.rs"]
mod fixtures;

use fixtures::*;
use opsdeck_domain::{AnyRecord, CustomerRef};
use std::time::Instant;

#[tokio::test]
#[ignore = "a measurement of a 100k-order file; run by hand"]
async fn purge_cost_at_100k_orders() {
    let db = opsdeck_store::testing::sqlite_store().await;
    let store = db.store.clone();
    let n: usize = std::env::var("ERASURE_COST_ORDERS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let started = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(500) {
        let batch: Vec<AnyRecord> = chunk
            .iter()
            .map(|i| {
                let mut o = order(&format!("o-{i}"), "2026-06-01T10:00:00Z");
                o.email = Some(format!("person{i}@example.com"));
                o.customer = Some(CustomerRef {
                    external_id: format!("c-{i}"),
                    email: o.email.clone(),
                    name: Some(format!("Person {i}")),
                });
                AnyRecord::Order(o)
            })
            .collect();
        store.upsert(&batch, None).await.unwrap();
    }
    let size = |p: &str| {
        std::fs::metadata(db.guard.as_ref().unwrap().dir().join(p))
            .map(|m| m.len())
            .unwrap_or(0)
    };
    eprintln!(
        "loaded {n} orders in {:?}; file {} bytes",
        started.elapsed(),
        size("opsdeck.db")
    );
    for compact in [false, true] {
        let t = Instant::now();
        let report = store
            .privacy_purge_copies(&["person7@example.com".to_string()], compact)
            .await
            .unwrap();
        eprintln!(
            "privacy_purge_copies(compact = {compact}): {} ms ({report:?})",
            t.elapsed().as_millis()
        );
    }
}
