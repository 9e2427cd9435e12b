//! Privacy requests over HTTP: Shopify's three compliance webhooks are
//! refused with a bad signature (401, nothing stored) and each files one
//! request with a good one; a `customers/redact` worked to its end leaves
//! no trace of the person in the SQLite file, the webhook journal or the
//! logs, while the figures stay; `/privacy` is for admins only.

use crate::common::*;
use crate::pulse::{get_as, session};
use crate::webhooks::{hook, signed, SECRET};
use opsdeck_domain::privacy::{PrivacyRequestKind, PrivacyStatus};
use opsdeck_domain::support::Party;
use opsdeck_domain::{AnyRecord, BrandId, Currency, SourceId};
use opsdeck_operations::privacy::{Privacy, PrivacySettings};
use opsdeck_sources::shopify::NormalizeContext;
use opsdeck_store::{Role, Store};
use opsdeck_sync::inbox::{process_inbox_once, InboxSettings, WebhookShops};
use std::io::Write;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;

const TOPICS: [(&str, &str, PrivacyRequestKind); 3] = [
    (
        "customers/data_request",
        "customers_data_request.json",
        PrivacyRequestKind::Export,
    ),
    (
        "customers/redact",
        "customers_redact.json",
        PrivacyRequestKind::Erasure,
    ),
    (
        "shop/redact",
        "shop_redact.json",
        PrivacyRequestKind::ShopErasure,
    ),
];

/// A compliance payload from `fixtures/shopify/webhooks/`, for the test shop.
fn fixture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/shopify/webhooks/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(path)
        .unwrap()
        .replace("{shop}", "mavena")
        .into_bytes()
}

fn shops() -> WebhookShops {
    WebhookShops::new([NormalizeContext {
        source: SourceId::parse("shopify-mavena").unwrap(),
        brand: BrandId::parse("mavena").unwrap(),
        currency: Currency::parse("USD").unwrap(),
    }])
}

async fn apply_inbox(store: &dyn Store) -> usize {
    let step = process_inbox_once(
        store,
        &shops(),
        &InboxSettings::default(),
        ts("2026-06-10T18:10:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(step.failed + step.retrying, 0, "{step:?}");
    step.processed
}

#[tokio::test]
async fn compliance_webhooks_need_a_good_signature_and_each_files_one_request() {
    let h = hook().await;
    for (i, (topic, file, _)) in TOPICS.iter().enumerate() {
        let body = fixture(file);
        let (status, _) = h
            .send(signed(&body, "not-the-secret", topic, &format!("bad-{i}")))
            .await;
        assert_eq!(status, 401, "{topic}: a wrong signature");
        assert_eq!(
            h.stored().await.len(),
            i,
            "{topic}: nothing stored when refused"
        );
        let (status, json) = h
            .send(signed(&body, SECRET, topic, &format!("wh-{i}")))
            .await;
        assert_eq!(status, 200, "{topic}: {json}");
        // Delivered again: acknowledged, filed once.
        let (status, _) = h
            .send(signed(&body, SECRET, topic, &format!("wh-{i}")))
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(apply_inbox(h.store.as_ref()).await, 3);
    let mut requests = h.store.privacy_requests(10).await.unwrap();
    requests.sort_by_key(|r| r.id);
    let kinds: Vec<_> = requests.iter().map(|r| r.kind).collect();
    assert_eq!(kinds, TOPICS.map(|(_, _, k)| k).to_vec());
    for r in &requests {
        assert_eq!(r.status, PrivacyStatus::Received);
        assert_eq!(r.brand.as_ref().map(|b| b.as_str()), Some("mavena"));
        assert_eq!(
            r.due_at,
            r.received_at + jiff::SignedDuration::from_hours(30 * 24)
        );
    }
    let export = &requests[0];
    assert_eq!(export.request_key, "data_request:9999");
    assert_eq!(export.subject.email.as_deref(), Some("john@example.com"));
    assert_eq!(export.subject.order_ids, vec!["299938", "280263", "220458"]);
    assert!(requests[2].subject.is_empty(), "shop/redact names no one");
}

/// Every log line of the test, at every level.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// John's order (the Shopify library's sample order, made his): what
/// `orders/create` delivers.
fn johns_order() -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/shopify/order_official_python_lib.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(path).unwrap();
    let mut order: serde_json::Value = serde_json::from_str(&text).unwrap();
    let order = order["order"].take();
    let text = order
        .to_string()
        .replace("bob.norman@hostmail.com", "john@example.com")
        .replace("\"Bob\"", "\"John\"")
        .replace("\"Norman\"", "\"Smith\"")
        .replace("Bob Norman", "John Smith")
        .replace("450789469", "299938")
        .replace("207119551", "191167");
    text.into_bytes()
}

fn bobs_order() -> Vec<u8> {
    let path = format!(
        "{}/../../fixtures/shopify/order_official_python_lib.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let order: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    order["order"].to_string().into_bytes()
}

async fn figures(store: &dyn Store) -> (usize, i64, u64, u64) {
    let orders = store
        .list_orders(&SourceId::parse("shopify-mavena").unwrap())
        .await
        .unwrap();
    let counts = store.record_counts().await.unwrap();
    (
        orders.len(),
        orders.iter().map(|o| o.total_price.minor).sum(),
        counts.tickets,
        counts.ticket_messages,
    )
}

fn hits(dir: &std::path::Path, needle: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut dirs = vec![dir.to_path_buf()];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
                continue;
            }
            let text =
                String::from_utf8_lossy(&std::fs::read(&p).unwrap_or_default()).to_lowercase();
            if text.contains(&needle.to_lowercase()) {
                out.push(p.display().to_string());
            }
        }
    }
    out
}

/// Every log line of the web tests from here on, at every level: one
/// global subscriber (the test binary's other threads log too, and a
/// callsite first reached under another thread's default would stay silent
/// here). Each test that reads it looks for its own needles.
fn captured_logs() -> Logs {
    static LOGS: std::sync::OnceLock<Logs> = std::sync::OnceLock::new();
    LOGS.get_or_init(|| {
        let logs = Logs::default();
        let subscriber = tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer({
                let logs = logs.clone();
                move || logs.clone()
            })
            .finish();
        tracing::subscriber::set_global_default(subscriber)
            .expect("the only global subscriber of the web tests");
        logs
    })
    .clone()
}

#[tokio::test]
async fn customers_redact_leaves_no_trace_in_the_database_file_journal_or_logs() {
    // No other test names John.
    let logs = captured_logs();

    let h = hook().await;
    let store = h.store.clone();
    for (i, body) in [johns_order(), bobs_order()].iter().enumerate() {
        let (status, _) = h
            .send(signed(body, SECRET, "orders/create", &format!("order-{i}")))
            .await;
        assert_eq!(status, 200);
    }
    assert_eq!(apply_inbox(store.as_ref()).await, 2);
    // His ticket, as the helpdesk sync stores it.
    let mut ticket = fixture_ticket("T-9");
    ticket.customer = Some(Party {
        external_id: Some("g-9".into()),
        email: Some("john@example.com".into()),
        name: Some("John Smith".into()),
    });
    let mut message = fixture_message("M-9", "T-9");
    message.body_text = Some("Hello, John Smith here, my parcel never came".into());
    store
        .upsert(
            &[AnyRecord::Ticket(ticket), AnyRecord::TicketMessage(message)],
            None,
        )
        .await
        .unwrap();
    let before = figures(store.as_ref()).await;
    let bob_before = store
        .get_order(&SourceId::parse("shopify-mavena").unwrap(), "450789469")
        .await
        .unwrap();
    assert!(
        !hits(h._guard.dir(), "john@example.com").is_empty(),
        "the search can find him"
    );

    let (status, _) = h
        .send(signed(
            &fixture("customers_redact.json"),
            SECRET,
            "customers/redact",
            "redact-1",
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(apply_inbox(store.as_ref()).await, 1);
    let privacy = Privacy::new(store.clone(), PrivacySettings::default());
    let step = privacy.work_once(ts("2026-06-10T19:00:00Z")).await.unwrap();
    assert_eq!(step.completed, 1, "{step:?}");

    // Shopify delivers his order again afterwards (an `orders/updated`
    // sent before the redact, retried late): it is stored erased.
    let (status, _) = h
        .send(signed(
            &johns_order(),
            SECRET,
            "orders/updated",
            "order-late",
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(apply_inbox(store.as_ref()).await, 1);

    assert_eq!(
        figures(store.as_ref()).await,
        before,
        "orders, revenue and tickets stay"
    );
    let bob_after = store
        .get_order(&SourceId::parse("shopify-mavena").unwrap(), "450789469")
        .await
        .unwrap();
    assert_eq!(bob_before, bob_after, "another customer is untouched");
    for needle in ["john@example.com", "John Smith", "555-625-1199"] {
        assert_eq!(
            hits(h._guard.dir(), needle),
            Vec::<String>::new(),
            "{needle} on disk"
        );
        let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_lowercase();
        assert!(
            !text.contains(&needle.to_lowercase()),
            "{needle} in the logs"
        );
    }
    assert!(!logs.0.lock().unwrap().is_empty(), "the logs were captured");
}

fn fixture_ticket(id: &str) -> opsdeck_domain::Ticket {
    serde_json::from_value(serde_json::json!({
        "source": "gorgias", "external_id": id, "brand": "mavena", "status": "open",
        "channel": "email", "subject": "Where is my parcel?", "excerpt": null, "priority": null,
        "spam": false, "tags": [], "customer": null, "assignee": null,
        "created_at": "2026-06-09T10:00:00Z", "opened_at": null, "updated_at": "2026-06-09T10:00:00Z",
        "last_received_message_at": null, "closed_at": null, "snooze_until": null, "trashed_at": null
    }))
    .unwrap()
}

fn fixture_message(id: &str, ticket: &str) -> opsdeck_domain::TicketMessage {
    serde_json::from_value(serde_json::json!({
        "source": "gorgias", "external_id": id, "brand": "mavena", "ticket_id": ticket,
        "from_agent": false, "public": true, "rule_id": null, "channel": "email",
        "subject": null, "body_text": null, "intents": [],
        "created_at": "2026-06-09T10:00:00Z", "sent_at": null, "failed_at": null,
        "updated_at": "2026-06-09T10:00:00Z"
    }))
    .unwrap()
}

#[tokio::test]
async fn the_privacy_page_is_for_admins_only() {
    let fx = Fixture::new().await;
    let admin = session(&fx, "ada", Role::Admin).await;
    let viewer = session(&fx, "vera", Role::Viewer).await;
    let (status, body) = get_as(&fx, &admin, "/privacy").await;
    assert_eq!(status, 200, "{body}");
    assert!(body.to_string().contains("File a request"));
    let (status, _) = get_as(&fx, &viewer, "/privacy").await;
    assert_eq!(status, 403);
    let (status, _) = get_as(&fx, &viewer, "/api/v1/privacy/requests").await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn a_download_links_token_is_in_no_log_line() {
    let logs = captured_logs();
    let fx = Fixture::new().await;
    let admin = session(&fx, "ada", Role::Admin).await;
    let viewer = session(&fx, "vera", Role::Viewer).await;
    let token = "c0ffee5eed1d0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293";
    let path = format!("/privacy/download/{token}");
    // An admin (an unknown link), a viewer (refused, logged with the
    // path), and no one (sent to the login page with the path in `next`).
    let (status, _) = get_as(&fx, &admin, &path).await;
    assert_eq!(status, 404);
    let (status, _) = get_as(&fx, &viewer, &path).await;
    assert_eq!(status, 403);
    let response = fx
        .router()
        .oneshot(
            axum::http::Request::get(&path)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let next = response.headers()["location"].to_str().unwrap().to_string();
    assert!(next.contains(token), "{next}: the login page takes it back");
    let (status, _) = get_as(&fx, &viewer, &next).await;
    assert!(status < 500, "{status}");

    let text = String::from_utf8_lossy(&logs.0.lock().unwrap()).to_string();
    assert!(
        text.contains("/privacy/download/[redacted]"),
        "the requests were logged (at DEBUG), token redacted"
    );
    assert!(!text.contains(token), "the token in a log line");
    assert!(
        !text.contains(&token[..16]),
        "part of the token in a log line"
    );
}
