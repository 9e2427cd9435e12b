//! Privacy requests on a hand-built data set, on every available backend:
//! an erasure leaves no trace of the person in the database (SQLite: the
//! file's bytes after the erasure's compaction; PostgreSQL: every text
//! column of every table) while the figures the dashboard counts stay the
//! same; `customers/redact` reaches one customer and `shop/redact` one
//! shop; an export's archive holds exactly the person's data; its link
//! expires.
//!
//! The people: Ana (brand mavena: two orders, a ticket with a message
//! and a survey, a lifetime summary, an audit entry naming her), Bob (the
//! same shop: an order and a ticket), Carla (another brand's shop).

#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

#[path = "../../store/tests/fixtures/mod.rs"]
mod fixtures;

use fixtures::*;
use jiff::SignedDuration;
use opsdeck_domain::privacy::{
    DataSubject, PrivacyRequestKind, PrivacyStatus, PrivacyVia, TOMBSTONE,
};
use opsdeck_domain::support::Party;
use opsdeck_domain::{AnyRecord, CustomerRef, CustomerSummary, Order};
use opsdeck_operations::incidents::Actor;
use opsdeck_operations::privacy::{Privacy, PrivacyError, PrivacySettings};
use opsdeck_store::privacy::{PrivacyRequest, RecordScope};
use opsdeck_store::testing::{each_backend, TestStore};
use opsdeck_store::{AuditAction, AuditEntry, Store};
use std::io::Read;
use std::sync::Arc;

const ANA_EMAIL: &str = "ana.lima@example.com";
const ANA_NAME: &str = "Ana Lima";
const AT: &str = "2026-06-01T10:00:00Z";

fn person_order(
    id: &str,
    src: &str,
    brand_id: &str,
    email: &str,
    customer: &str,
    name: &str,
) -> Order {
    let mut o = order(id, AT);
    o.source = source(src);
    o.brand = brand(brand_id);
    o.email = Some(email.into());
    o.customer = Some(CustomerRef {
        external_id: customer.into(),
        email: Some(email.into()),
        name: Some(name.into()),
    });
    o.refunds[0].note = Some(format!("{name} said it arrived damaged"));
    o
}

fn data_set() -> Vec<AnyRecord> {
    let a1 = person_order("A1", "shopify-mavena", "mavena", ANA_EMAIL, "111", ANA_NAME);
    let mut a2 = person_order("A2", "shopify-mavena", "mavena", ANA_EMAIL, "111", ANA_NAME);
    a2.total_price = usd(12_000);
    let b1 = person_order(
        "B1",
        "shopify-mavena",
        "mavena",
        "bob@example.com",
        "222",
        "Bob Stone",
    );
    let c1 = person_order(
        "C1",
        "shopify-lunara",
        "lunara",
        "carla@example.com",
        "333",
        "Carla Mendes",
    );
    let mut t1 = ticket("T1", AT);
    t1.customer = Some(Party {
        external_id: Some("g-ana".into()),
        email: Some(ANA_EMAIL.to_uppercase()),
        name: Some(ANA_NAME.into()),
    });
    t1.subject = Some(format!("Where is my order? — {ANA_NAME}"));
    let mut m1 = ticket_message("M1", AT);
    m1.ticket_id = "T1".into();
    m1.body_text = Some(format!("Hi, {ANA_NAME} here ({ANA_EMAIL}), Rua Augusta 12"));
    let mut s1 = survey("S1", AT);
    s1.ticket_id = "T1".into();
    s1.body_text = Some("Thanks, Ana Lima".into());
    let mut t2 = ticket("T2", AT);
    t2.customer = Some(Party {
        external_id: Some("g-bob".into()),
        email: Some("bob@example.com".into()),
        name: Some("Bob Stone".into()),
    });
    let mut m2 = ticket_message("M2", AT);
    m2.ticket_id = "T2".into();
    m2.body_text = Some("Bob Stone asks about his parcel".into());
    let summary = CustomerSummary {
        source: source("shopify-mavena"),
        external_id: "111".into(),
        brand: brand("mavena"),
        email: Some(ANA_EMAIL.into()),
        name: Some(ANA_NAME.into()),
        order_count: 2,
        lifetime_spend: usd(16_999),
        tags: vec![],
        created_at: ts(AT),
        updated_at: ts(AT),
    };
    vec![
        AnyRecord::Order(a1),
        AnyRecord::Order(a2),
        AnyRecord::Order(b1),
        AnyRecord::Order(c1),
        AnyRecord::Ticket(t1),
        AnyRecord::TicketMessage(m1),
        AnyRecord::SatisfactionSurvey(s1),
        AnyRecord::Ticket(t2),
        AnyRecord::TicketMessage(m2),
        AnyRecord::CustomerSummary(summary),
        AnyRecord::Product(product("p-1", AT)),
    ]
}

async fn seeded(backend: &TestStore) -> Arc<Privacy> {
    let store = backend.store.clone();
    store.upsert(&data_set(), None).await.unwrap();
    store
        .privacy_audit(&AuditEntry {
            at: ts(AT),
            actor: "anna".into(),
            action: AuditAction::Other("note".into()),
            subject: "order:A1".into(),
            payload: serde_json::json!({"note": format!("called {ANA_EMAIL} about A1")}),
            ip: None,
        })
        .await
        .unwrap();
    Arc::new(Privacy::new(store, PrivacySettings::default()))
}

async fn file(
    store: &dyn Store,
    kind: PrivacyRequestKind,
    src: &str,
    brand_id: &str,
    subject: DataSubject,
) -> i64 {
    let request = PrivacyRequest::received(
        src,
        &format!("webhook:{}", kind.as_str()),
        kind,
        PrivacyVia::ShopifyWebhook,
        Some(brand(brand_id)),
        subject,
        ts(AT),
        "shopify:mavena.myshopify.com",
    );
    let audit = AuditEntry {
        at: ts(AT),
        actor: "shopify".into(),
        action: AuditAction::PrivacyRequest,
        subject: String::new(),
        payload: serde_json::json!({}),
        ip: None,
    };
    store
        .privacy_request_insert(&request, &audit)
        .await
        .unwrap()
        .unwrap()
}

fn ana() -> DataSubject {
    DataSubject {
        customer_id: Some("111".into()),
        email: Some(ANA_EMAIL.into()),
        phone: None,
        name: None,
        order_ids: vec!["A1".into()],
    }
}

/// Everything stored, by (kind, source, id).
async fn all(store: &dyn Store) -> std::collections::BTreeMap<String, AnyRecord> {
    store
        .privacy_records(&RecordScope::default())
        .await
        .unwrap()
        .into_iter()
        .map(|r| {
            (
                format!("{}/{}/{}", r.kind().as_str(), r.source(), r.external_id()),
                r,
            )
        })
        .collect()
}

/// What the dashboard counts: orders and revenue per source, tickets,
/// messages, survey scores.
fn figures(records: &std::collections::BTreeMap<String, AnyRecord>) -> Vec<(String, i64)> {
    let mut out = std::collections::BTreeMap::<String, i64>::new();
    for r in records.values() {
        *out.entry(format!("count {}", r.kind().as_str()))
            .or_default() += 1;
        match r {
            AnyRecord::Order(o) => {
                *out.entry(format!("revenue {}", o.source)).or_default() += o.total_price.minor;
                *out.entry(format!("refunded {}", o.source)).or_default() +=
                    o.refunds.iter().map(|r| r.amount.minor).sum::<i64>();
                *out.entry(format!("units {}", o.source)).or_default() +=
                    o.line_items.iter().map(|l| l.quantity).sum::<i64>();
            }
            AnyRecord::SatisfactionSurvey(s) => {
                *out.entry("csat points".into()).or_default() += i64::from(s.score.unwrap_or(0));
            }
            _ => {}
        }
    }
    out.into_iter().collect()
}

/// Hits of `needle` (without case) anywhere the backend keeps data.
async fn traces(backend: &TestStore, needle: &str) -> Vec<String> {
    let needle = needle.to_lowercase();
    match &backend.guard {
        Some(guard) => {
            let mut hits = Vec::new();
            for entry in walk(guard.dir()) {
                let bytes = std::fs::read(&entry).unwrap_or_default();
                let text = String::from_utf8_lossy(&bytes).to_lowercase();
                let n = text.matches(&needle).count();
                if n > 0 {
                    hits.push(format!("{} ({n})", entry.display()));
                }
            }
            hits
        }
        None => postgres_traces(&backend.url, &needle).await,
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Every text-like column of every table of the test database, searched.
async fn postgres_traces(url: &str, needle: &str) -> Vec<String> {
    use sqlx::{Connection, Row};
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let columns = sqlx::query(
        "SELECT table_name::text, column_name::text FROM information_schema.columns \
         WHERE table_schema = 'public' AND data_type IN ('text', 'jsonb', 'json', 'character varying')",
    )
    .fetch_all(&mut conn)
    .await
    .unwrap();
    assert!(
        columns.len() > 20,
        "every table's text columns: {}",
        columns.len()
    );
    let mut hits = Vec::new();
    for c in columns {
        let (table, column): (String, String) = (c.get(0), c.get(1));
        let n: i64 = sqlx::query_scalar(&format!(
            "SELECT count(*) FROM \"{table}\" WHERE lower(\"{column}\"::text) LIKE $1"
        ))
        .bind(format!("%{needle}%"))
        .fetch_one(&mut conn)
        .await
        .unwrap();
        if n > 0 {
            hits.push(format!("{table}.{column} ({n})"));
        }
    }
    hits
}

#[tokio::test]
async fn customers_redact_leaves_no_trace_of_the_person_and_every_figure_unchanged() {
    for backend in each_backend().await {
        let label = backend.label;
        let privacy = seeded(&backend).await;
        let store = backend.store.as_ref();
        let before = all(store).await;
        // The search can fail: before the erasure the person is found.
        assert!(!traces(&backend, ANA_EMAIL).await.is_empty(), "{label}");
        assert!(!traces(&backend, ANA_NAME).await.is_empty(), "{label}");
        let seq = store.latest_seq().await.unwrap();

        let id = file(
            store,
            PrivacyRequestKind::Erasure,
            "shopify-mavena",
            "mavena",
            ana(),
        )
        .await;
        let step = privacy.work_once(ts("2026-06-02T00:00:00Z")).await.unwrap();
        assert_eq!(step.completed, 1, "{label}: {step:?}");
        let request = privacy.get(id).await.unwrap();
        assert_eq!(request.status, PrivacyStatus::Completed, "{label}");
        assert_eq!(request.subject.email.as_deref(), Some(TOMBSTONE));
        let outcome = request.outcome.clone().unwrap();
        assert_eq!(outcome["records_erased"]["order"], 2, "{label}: {outcome}");
        assert!(
            outcome["kept"].to_string().contains("tax"),
            "{label}: the reason is noted"
        );

        assert_eq!(
            traces(&backend, ANA_EMAIL).await,
            Vec::<String>::new(),
            "{label}"
        );
        assert_eq!(
            traces(&backend, ANA_NAME).await,
            Vec::<String>::new(),
            "{label}"
        );
        assert_eq!(
            traces(&backend, "Rua Augusta").await,
            Vec::<String>::new(),
            "{label}"
        );

        let after = all(store).await;
        assert_eq!(
            figures(&before),
            figures(&after),
            "{label}: the figures stay"
        );
        // Bob, of the same shop, and Carla, of another, are untouched.
        for (key, record) in &before {
            if key.contains("/B1")
                || key.contains("/C1")
                || key.contains("/T2")
                || key.contains("/M2")
                || key.contains("product/")
            {
                assert_eq!(Some(record), after.get(key), "{label}: {key} untouched");
            }
        }
        let AnyRecord::Order(a1) = &after["order/shopify-mavena/A1"] else {
            panic!()
        };
        let AnyRecord::Order(a1_before) = &before["order/shopify-mavena/A1"] else {
            panic!()
        };
        assert_eq!(a1.email.as_deref(), Some(TOMBSTONE));
        assert_eq!(a1.refunds[0].note.as_deref(), Some(TOMBSTONE));
        assert_eq!(
            (
                &a1.total_price,
                &a1.total_tax,
                &a1.line_items,
                a1.created_at
            ),
            (
                &a1_before.total_price,
                &a1_before.total_tax,
                &a1_before.line_items,
                a1_before.created_at
            )
        );
        let AnyRecord::TicketMessage(m1) = &after["ticket_message/gorgias/M1"] else {
            panic!()
        };
        assert_eq!(m1.body_text.as_deref(), Some(TOMBSTONE));
        // The rewritten records went through the change feed.
        let changed: Vec<String> = store
            .changes_since(seq, 100)
            .await
            .unwrap()
            .iter()
            .map(|c| c.record.external_id().to_string())
            .collect();
        for id in ["A1", "A2", "T1", "M1", "S1", "111"] {
            assert!(
                changed.contains(&id.to_string()),
                "{label}: {id} in {changed:?}"
            );
        }
        // Worked once: nothing is due any more.
        assert_eq!(
            privacy
                .work_once(ts("2026-06-03T00:00:00Z"))
                .await
                .unwrap()
                .completed,
            0
        );
    }
}

#[tokio::test]
async fn shop_redact_erases_that_shops_customers_and_nothing_else() {
    for backend in each_backend().await {
        let label = backend.label;
        let privacy = seeded(&backend).await;
        let store = backend.store.as_ref();
        let before = all(store).await;
        file(
            store,
            PrivacyRequestKind::ShopErasure,
            "shopify-mavena",
            "mavena",
            DataSubject::default(),
        )
        .await;
        assert_eq!(
            privacy
                .work_once(ts("2026-06-02T00:00:00Z"))
                .await
                .unwrap()
                .completed,
            1
        );
        let after = all(store).await;
        assert_eq!(figures(&before), figures(&after), "{label}");
        for id in ["A1", "A2", "B1"] {
            let AnyRecord::Order(o) = &after[&format!("order/shopify-mavena/{id}")] else {
                panic!()
            };
            assert_eq!(o.email.as_deref(), Some(TOMBSTONE), "{label}: {id}");
        }
        // The other shop, and the helpdesk (not the shop's data), stay.
        for key in [
            "order/shopify-lunara/C1",
            "ticket/gorgias/T2",
            "ticket_message/gorgias/M2",
        ] {
            assert_eq!(before.get(key), after.get(key), "{label}: {key}");
        }
        assert!(
            !traces(&backend, "Bob Stone").await.is_empty(),
            "{label}: Bob's ticket keeps his name"
        );
        assert!(
            !traces(&backend, "carla@example.com").await.is_empty(),
            "{label}"
        );
    }
}

#[tokio::test]
async fn export_archive_holds_the_persons_data_and_its_link_expires() {
    for backend in each_backend().await {
        let label = backend.label;
        let privacy = seeded(&backend).await;
        let store = backend.store.as_ref();
        let before = all(store).await;
        let id = file(
            store,
            PrivacyRequestKind::Export,
            "shopify-mavena",
            "mavena",
            ana(),
        )
        .await;
        let admin = Actor::new("admin");
        // Not ready before its work.
        assert!(matches!(
            privacy.create_link(id, &admin, ts(AT)).await,
            Err(PrivacyError::NotReady { .. })
        ));
        let now = ts("2026-06-02T00:00:00Z");
        assert_eq!(
            privacy.work_once(now).await.unwrap().completed,
            1,
            "{label}"
        );
        assert_eq!(
            all(store).await,
            before,
            "{label}: an export changes nothing"
        );

        let request = privacy.get(id).await.unwrap();
        let files = privacy.archive_files(&request, now).await.unwrap();
        let json = |name: &str| -> serde_json::Value {
            serde_json::from_slice(
                files
                    .get(name)
                    .unwrap_or_else(|| panic!("{label}: {name} in {:?}", files.keys())),
            )
            .unwrap()
        };
        let ids = |name: &str| -> Vec<String> {
            let mut v: Vec<String> = json(name)
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["external_id"].as_str().unwrap().to_string())
                .collect();
            v.sort();
            v
        };
        assert_eq!(ids("order.json"), vec!["A1", "A2"], "{label}");
        assert_eq!(ids("ticket.json"), vec!["T1"], "{label}");
        assert_eq!(ids("ticket_message.json"), vec!["M1"], "{label}");
        assert_eq!(ids("satisfaction_survey.json"), vec!["S1"], "{label}");
        assert_eq!(ids("customer_summary.json"), vec!["111"], "{label}");
        assert!(
            !files.contains_key("product.json"),
            "{label}: a product names no one"
        );
        let orders_csv = String::from_utf8(files["order.csv"].clone()).unwrap();
        assert_eq!(
            orders_csv.lines().count(),
            3,
            "{label}: header and two orders"
        );
        assert!(orders_csv.lines().next().unwrap().contains("total_price"));
        let audit = json("audit_log.json");
        assert_eq!(audit.as_array().unwrap().len(), 1, "{label}: {audit}");
        assert_eq!(audit[0]["subject"], "order:A1");
        let timeline = json("timeline.json");
        assert!(
            timeline
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e["what"] == "order #A1 placed"),
            "{label}: {timeline}"
        );
        for (name, bytes) in &files {
            let text = String::from_utf8_lossy(bytes).to_lowercase();
            assert!(
                !text.contains("bob") && !text.contains("carla"),
                "{label}: {name} holds another person"
            );
        }

        let (token, expires) = privacy.create_link(id, &admin, now).await.unwrap();
        assert_eq!(expires, now + SignedDuration::from_hours(72));
        let archive = privacy
            .download(
                &token,
                &Actor::new("dpo"),
                now + SignedDuration::from_hours(1),
            )
            .await
            .unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive.bytes)).unwrap();
        let mut names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
        names.sort();
        assert_eq!(names, files.keys().cloned().collect::<Vec<_>>(), "{label}");
        let mut readme = String::new();
        zip.by_name("README.txt")
            .unwrap()
            .read_to_string(&mut readme)
            .unwrap();
        assert!(
            readme.contains(&format!("privacy request {id}")),
            "{readme}"
        );
        let delivered = store.audit_log(50).await.unwrap();
        let delivery = delivered
            .iter()
            .find(|e| e.action == AuditAction::PrivacyDownload)
            .expect("the delivery is audited");
        assert_eq!(
            (delivery.actor.as_str(), delivery.subject.clone()),
            ("dpo", format!("privacy:{id}"))
        );
        // The link ends at its expiry; a made-up one never worked.
        assert!(
            matches!(
                privacy.download(&token, &admin, expires).await,
                Err(PrivacyError::LinkExpired(_))
            ),
            "{label}"
        );
        assert!(matches!(
            privacy.download("0000", &admin, now).await,
            Err(PrivacyError::UnknownLink)
        ));
        // No erasure request has an archive.
        let erasure = file(
            store,
            PrivacyRequestKind::Erasure,
            "shopify-mavena",
            "mavena",
            ana(),
        )
        .await;
        assert!(matches!(
            privacy.create_link(erasure, &admin, now).await,
            Err(PrivacyError::NotExport(_))
        ));
    }
}

#[tokio::test]
async fn an_erased_person_does_not_come_back_with_a_later_sync_webhook_or_push() {
    for backend in each_backend().await {
        let label = backend.label;
        let privacy = seeded(&backend).await;
        let store = backend.store.as_ref();
        file(
            store,
            PrivacyRequestKind::Erasure,
            "shopify-mavena",
            "mavena",
            ana(),
        )
        .await;
        assert_eq!(
            privacy
                .work_once(ts("2026-06-02T00:00:00Z"))
                .await
                .unwrap()
                .completed,
            1
        );
        let erased = all(store).await;

        // A sync page carrying every record again, as the platform still
        // has them: nothing of Ana is written back, nothing moves.
        let report = store.upsert(&data_set(), None).await.unwrap();
        assert_eq!(report.inserted() + report.updated(), 0, "{label}");
        assert_eq!(all(store).await, erased, "{label}");

        // Later news of her: a webhook's newer version of her order, a new
        // order by her email, a new message on her ticket, a new summary;
        // and Bob's new order, which must arrive as it is.
        let mut a1 = person_order("A1", "shopify-mavena", "mavena", ANA_EMAIL, "111", ANA_NAME);
        a1.updated_at = ts("2026-06-10T10:00:00Z");
        let mut a3 = person_order(
            "A3",
            "shopify-mavena",
            "mavena",
            &ANA_EMAIL.to_uppercase(),
            "111",
            ANA_NAME,
        );
        a3.customer.as_mut().unwrap().external_id = "new-111".into();
        let mut m3 = ticket_message("M3", "2026-06-10T10:00:00Z");
        m3.ticket_id = "T1".into();
        m3.body_text = Some(format!("{ANA_NAME} again, Rua Augusta 12"));
        let b2 = person_order(
            "B2",
            "shopify-mavena",
            "mavena",
            "bob@example.com",
            "222",
            "Bob Stone",
        );
        store
            .upsert(
                &[
                    AnyRecord::Order(a1),
                    AnyRecord::Order(a3.clone()),
                    AnyRecord::TicketMessage(m3),
                    AnyRecord::Order(b2.clone()),
                ],
                None,
            )
            .await
            .unwrap();
        let now = all(store).await;
        let AnyRecord::Order(stored_a3) = &now["order/shopify-mavena/A3"] else {
            panic!()
        };
        assert_eq!(stored_a3.email.as_deref(), Some(TOMBSTONE), "{label}");
        assert_eq!(stored_a3.total_price, a3.total_price, "{label}: it counts");
        assert_eq!(
            now["order/shopify-mavena/B2"],
            AnyRecord::Order(b2),
            "{label}: Bob's order arrives as it is"
        );
        let AnyRecord::TicketMessage(m3) = &now["ticket_message/gorgias/M3"] else {
            panic!()
        };
        assert_eq!(m3.body_text.as_deref(), Some(TOMBSTONE), "{label}");

        for needle in [ANA_EMAIL, ANA_NAME, "Rua Augusta"] {
            assert_eq!(
                traces(&backend, needle).await,
                Vec::<String>::new(),
                "{label}: {needle}"
            );
        }
        // The block list holds hashes only, and counted what it stopped.
        let counts = store.privacy_erased_counts().await.unwrap();
        assert!(
            counts.iter().any(|c| c.kind == "email" && c.hits > 0),
            "{label}: {counts:?}"
        );
        assert!(!traces(&backend, "bob@example.com").await.is_empty());
    }
}

/// Every file of an archive as text, lowercased.
fn archive_text(files: &opsdeck_operations::privacy::export::ArchiveFiles) -> String {
    files
        .iter()
        .map(|(name, bytes)| format!("== {name}\n{}", String::from_utf8_lossy(bytes)))
        .collect::<String>()
        .to_lowercase()
}

#[tokio::test]
async fn an_export_after_erasure_and_an_old_link_hold_nothing_of_the_person() {
    for backend in each_backend().await {
        let label = backend.label;
        let privacy = seeded(&backend).await;
        let store = backend.store.as_ref();
        let admin = Actor::new("admin");
        let now = ts("2026-06-02T00:00:00Z");
        let export = file(
            store,
            PrivacyRequestKind::Export,
            "shopify-mavena",
            "mavena",
            ana(),
        )
        .await;
        assert_eq!(privacy.work_once(now).await.unwrap().completed, 1);
        let (token, _) = privacy.create_link(export, &admin, now).await.unwrap();
        // Before the erasure the link serves her data: the check can fail.
        let request = privacy.get(export).await.unwrap();
        let text = archive_text(&privacy.archive_files(&request, now).await.unwrap());
        assert!(text.contains(ANA_EMAIL), "{label}");

        file(
            store,
            PrivacyRequestKind::Erasure,
            "shopify-mavena",
            "mavena",
            ana(),
        )
        .await;
        assert_eq!(privacy.work_once(now).await.unwrap().completed, 1);

        // The link made before: the archive is built when downloaded, from
        // what is stored now, so it holds her records erased (the figures
        // the law keeps) and nothing that names her.
        let later = now + SignedDuration::from_hours(1);
        let archive = privacy.download(&token, &admin, later).await.unwrap();
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(archive.bytes)).unwrap();
        let mut old_link = String::new();
        for i in 0..zip.len() {
            let mut f = zip.by_index(i).unwrap();
            f.read_to_string(&mut old_link).unwrap();
        }
        let old_link = old_link.to_lowercase();
        assert!(
            old_link.contains("total_price"),
            "{label}: the archive has its files"
        );
        // An export asked after the erasure, by her email and customer id.
        let after = file_keyed(store, "export-after", ana()).await;
        assert_eq!(privacy.work_once(later).await.unwrap().completed, 1);
        let request = privacy.get(after).await.unwrap();
        let files = privacy.archive_files(&request, later).await.unwrap();
        assert!(
            files.keys().any(|n| n.ends_with(".json")) && files.keys().any(|n| n.ends_with(".csv")),
            "{label}: {:?}",
            files.keys()
        );
        let new_export = archive_text(&files);
        for needle in [ANA_EMAIL, ANA_NAME, "rua augusta"] {
            let needle = needle.to_lowercase();
            assert!(
                !old_link.contains(&needle),
                "{label}: {needle} in the old link's archive"
            );
            assert!(
                !new_export.contains(&needle),
                "{label}: {needle} in a later export"
            );
        }
    }
}

/// An export filed under its own key (a second request of the same kind).
async fn file_keyed(store: &dyn Store, key: &str, subject: DataSubject) -> i64 {
    let request = PrivacyRequest::received(
        "shopify-mavena",
        key,
        PrivacyRequestKind::Export,
        PrivacyVia::ShopifyWebhook,
        Some(brand("mavena")),
        subject,
        ts(AT),
        "shopify:mavena.myshopify.com",
    );
    let audit = AuditEntry {
        at: ts(AT),
        actor: "shopify".into(),
        action: AuditAction::PrivacyRequest,
        subject: String::new(),
        payload: serde_json::json!({}),
        ip: None,
    };
    store
        .privacy_request_insert(&request, &audit)
        .await
        .unwrap()
        .unwrap()
}
