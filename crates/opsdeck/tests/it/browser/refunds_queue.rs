//! The refunds queue in the browser (issue 15): a custom platform's refund
//! request three days old is breached and at the top of /queues/refunds;
//! a Shopify return synced from the simulator is approved from the queue
//! (the returns mutation reaches the simulator, the return is OPEN there,
//! the item leaves the queue) and the audit log names who approved it.

use super::app::{TestApp, NOW, USERNAME};
use super::webdriver::{missing_browser, Browser};
use opsdeck_domain::{BrandId, Currency, Money, ReturnKind, ReturnRequest, ReturnStatus, SourceId};
use opsdeck_store::AnyRecord;
use serde_json::Value;
use std::time::{Duration, Instant};

const REFUND: &str = "rr-breached-1";

/// The queue's items once a Shopify return that can be approved and the
/// breached refund are both in it.
async fn queue_with_a_return(app: &TestApp) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let q = app.json("/api/v1/queues/refunds").await;
        let items = q["items"].as_array().cloned().unwrap_or_default();
        let has_return = items
            .iter()
            .any(|i| i["origin"] == "shopify" && i["kind"] == "return" && i["decidable"] == true);
        let has_refund = items.iter().any(|i| i["external_id"] == REFUND);
        if has_return && has_refund {
            return items;
        }
        assert!(
            Instant::now() < deadline,
            "no Shopify return reached the queue: {q:#}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_breached_refund_is_at_the_top_and_a_return_is_approved_from_the_queue() {
    if let Some(why) = missing_browser() {
        if std::env::var_os("CI").is_some() {
            panic!("CI is set and the browser is missing: {why}");
        }
        eprintln!("browser tests skipped: {why}");
        return;
    }
    let app = TestApp::start(0.2, "refunds-queue").await;
    let brand = app.simulator.shops()[0].brand_id.to_string();
    let requested: jiff::Timestamp = "2026-06-07T18:05:00Z".parse().unwrap();
    assert!(requested < NOW.parse().unwrap());
    app.running
        .store
        .upsert(
            &[AnyRecord::ReturnRequest(ReturnRequest {
                source: SourceId::parse("lux-platform").unwrap(),
                external_id: REFUND.into(),
                brand: BrandId::parse(&brand).unwrap(),
                order_id: None,
                kind: ReturnKind::Refund,
                status: ReturnStatus::Requested,
                amount: Some(Money::new(4_500, Currency::USD)),
                reason: Some("damaged in transit".into()),
                requested_at: requested,
                resolved_at: None,
                updated_at: requested,
                status_history: Vec::new(),
            })],
            None,
        )
        .await
        .unwrap();
    let items = queue_with_a_return(&app).await;
    let target = items
        .iter()
        .find(|i| i["origin"] == "shopify" && i["kind"] == "return" && i["decidable"] == true)
        .unwrap();
    let return_id = target["external_id"].as_str().unwrap().to_string();
    let slug = app
        .simulator
        .shops()
        .into_iter()
        .find(|s| format!("shopify-{}", s.brand_id) == target["source"].as_str().unwrap())
        .unwrap()
        .slug;

    let b = Browser::start().await;
    let shots = super::screenshot_dir();
    let url = |path: &str| format!("{}{path}", app.base);
    b.goto(&url("/login")).await;
    let (name, value) = app.api.cookie.split_once('=').unwrap();
    b.set_cookie(name, value).await;
    b.goto(&url("/queues/refunds")).await;
    assert_eq!(b.text_of("h1").await, "Refunds, returns and disputes");
    // The breached refund is the first row: the most overdue.
    let first = b
        .eval(
            "const r = document.querySelector('#queue-table tbody tr'); \
             return [r.dataset.id, r.dataset.sla, r.querySelector('.sla').textContent.trim()];",
            vec![],
        )
        .await;
    assert_eq!(first[0], REFUND, "{first}");
    assert_eq!(first[1], "breached");
    assert_eq!(first[2], "breached");
    b.screenshot(&shots.join("refunds-queue.png")).await;

    // Approve the Shopify return from its row.
    b.click_to_next_page(&b.find(&format!("#approve-{return_id}")).await)
        .await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if b.try_find(&format!("#approve-{return_id}")).await.is_none() {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the approved return stayed in the queue"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
        b.goto(&url("/queues/refunds")).await;
    }
    b.screenshot(&shots.join("refunds-queue-approved.png"))
        .await;
    let gid = format!("gid://shopify/Return/{return_id}");
    let status = app
        .simulator
        .graphql_nodes(&slug, "orders")
        .into_iter()
        .flat_map(|o| {
            o.pointer("/returns/__nodes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .find(|r| r["id"] == gid.as_str())
        .map(|r| r["status"].clone());
    assert_eq!(status, Some(Value::from("OPEN")));
    let audit = app
        .running
        .store
        .search_audit(&opsdeck_store::AuditFilter {
            limit: 50,
            ..Default::default()
        })
        .await
        .unwrap();
    let approved = audit
        .iter()
        .find(|e| e.action.as_str() == "queue.approve")
        .expect("the approval is audited");
    assert_eq!(approved.actor, USERNAME);
    assert!(
        approved.subject.ends_with(&return_id),
        "{}",
        approved.subject
    );
    drop(b);
    app.stop().await;
}
