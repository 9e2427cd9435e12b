//! Customer risk flags on the pages that show them: the order timeline,
//! the urgent queue on /tickets, and an approval request that names an
//! order — with the evidence for a person with revenue permission, and
//! the flag without its amount for a viewer.
//!
//! On top of the shared fixture, Rita (rita@example.com) at Mavena (USD,
//! the reporting currency), through the ingest source `ingest-mavena`:
//! - #7001 $3,000.00; #7002 $2,500.00 refunded $100.00; #7003 $50.00,
//!   charged back on 2026-06-01 (New York);
//! - lifetime spend $3,000 + $2,400 + $50 = **$5,450.00** > $5,000.00;
//! - 1 of 3 orders refunded = 33.3 % > 30 %;
//! - an open Twitter ticket from her (urgent: social channel).

use crate::common::{body_text, order, ts, Fixture, NOW};
use crate::ingest::token;
use crate::pulse::get_as;
use opsdeck_domain::support::Party;
use opsdeck_domain::*;
use opsdeck_store::{AnyRecord, Role, TokenKinds};
use opsdeck_web::testing::user_session;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

const SPEND: &str = "lifetime spend $5,450.00 &gt; $5,000.00";
const RETURNS: &str = "1 of 3 orders returned or refunded = 33.3 % &gt; 30 %";
const DISPUTES: &str = "1 chargeback (order #7003, 2026-06-01)";
const HIDDEN: &str = "lifetime spend above the high-value threshold";

/// Approvals whose platform `ingest-mavena` is called back on a local
/// server (its URL returned).
async fn approvals_with_platform(fx: &mut Fixture) -> String {
    use opsdeck_alerts::notify::http_client;
    use opsdeck_operations::approvals::{
        ApprovalPolicy, Approvals, CallbackPlatform, Executor, Retry,
    };
    let app = axum::Router::new().route("/cb", axum::routing::post(|| async { "ok" }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let executor = Executor::new(
        http_client(Duration::from_secs(5)),
        Retry {
            attempts: 1,
            first_wait: Duration::ZERO,
        },
    )
    .with_platform(
        "ingest-mavena",
        CallbackPlatform {
            secret: Secret::new("s3cret"),
            url_prefix: format!("{base}/"),
        },
    );
    let clock = fx.state.clock.clone();
    fx.state.approvals = Some(Arc::new(
        Approvals::new(
            fx.state.store.clone(),
            ApprovalPolicy::playbook(),
            Arc::new(executor),
        )
        .with_clock(clock),
    ));
    base
}

async fn ask(fx: &Fixture, token: &str, body: Value) -> (u16, Value) {
    let request = axum::http::Request::post("/api/v1/approvals")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(axum::body::Body::from(body.to_string()))
        .unwrap();
    let response = fx.router().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&body_text(response).await).unwrap(),
    )
}

fn rita() -> Vec<AnyRecord> {
    let usd = |cents| Money::new(cents, Currency::USD);
    let o = |id: &str, cents: i64| {
        let mut o = order(
            "ingest-mavena",
            "mavena",
            id,
            "2026-05-20T15:00:00Z",
            usd(cents),
        );
        o.email = Some("rita@example.com".into());
        o
    };
    let mut refunded = o("7002", 2_500_00);
    refunded.refunds.push(Refund {
        external_id: "r7002".into(),
        created_at: ts("2026-05-25T15:00:00Z"),
        amount: usd(100_00),
        line_items: vec![],
        note: None,
    });
    let chargeback = PaymentEvent {
        source: SourceId::parse("ingest-mavena").unwrap(),
        external_id: "cb-7003".into(),
        brand: BrandId::parse("mavena").unwrap(),
        order_id: Some("7003".into()),
        kind: PaymentEventKind::Chargeback,
        amount: Some(usd(50_00)),
        reason: None,
        gateway: None,
        occurred_at: ts("2026-06-01T15:00:00Z"),
        updated_at: ts("2026-06-01T15:00:00Z"),
        dispute: None,
    };
    let ticket = Ticket {
        source: SourceId::parse("gorgias").unwrap(),
        external_id: "t-rita".into(),
        brand: Some(BrandId::parse("mavena").unwrap()),
        status: TicketStatus::Open,
        channel: Channel::Twitter,
        subject: Some("Still waiting".into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: vec![],
        customer: Some(Party {
            external_id: None,
            email: Some("Rita@Example.com".into()),
            name: Some("Rita".into()),
        }),
        assignee: None,
        created_at: ts("2026-06-10T12:00:00Z"),
        opened_at: None,
        updated_at: ts("2026-06-10T12:00:00Z"),
        last_received_message_at: None,
        closed_at: None,
        snooze_until: None,
        trashed_at: None,
    };
    vec![
        AnyRecord::Order(o("7001", 3_000_00)),
        AnyRecord::Order(refunded),
        AnyRecord::Order(o("7003", 50_00)),
        AnyRecord::PaymentEvent(chargeback),
        AnyRecord::Ticket(ticket),
    ]
}

async fn fixture() -> Fixture {
    let fx = Fixture::new().await;
    fx.state.store.upsert(&rita(), None).await.unwrap();
    fx.build_projection().await;
    fx
}

/// `html` shows all three flags, with the amount or without it.
fn assert_flags(html: &str, with_money: bool) {
    for shown in [
        "high value",
        "frequent returns",
        "dispute history",
        RETURNS,
        DISPUTES,
    ] {
        assert!(html.contains(shown), "{shown} missing: {html}");
    }
    if with_money {
        assert!(html.contains(SPEND), "{SPEND} missing: {html}");
    } else {
        assert!(html.contains(HIDDEN), "{HIDDEN} missing: {html}");
        for amount in ["5,450", "5,000", "$3,000", "2,400"] {
            assert!(!html.contains(amount), "{amount} shown to a viewer: {html}");
        }
    }
}

#[tokio::test]
async fn the_order_timeline_shows_the_customers_flags_and_a_viewer_no_amount() {
    let fx = fixture().await;
    let viewer = user_session(fx.state.store.as_ref(), "vera", Role::Viewer, ts(NOW)).await;
    for uri in [
        "/orders/ingest-mavena/7003",
        "/orders/by-number/mavena/7001",
    ] {
        let (status, html) = get_as(&fx, &fx.session, uri).await;
        assert_eq!(status, 200, "{uri}: {html}");
        assert!(html.contains(r#"id="customer-risk""#), "{html}");
        assert_flags(&html, true);
        assert!(html.contains("lifetime spend $5,450.00."), "{html}");
        let (status, html) = get_as(&fx, &viewer, uri).await;
        assert_eq!(status, 200, "{uri}: {html}");
        assert_flags(&html, false);
    }
    // An order whose customer has no flag says so.
    let (_, html) = get_as(&fx, &fx.session, "/orders/shopify-mavena/1001").await;
    assert!(html.contains("No risk flag"), "{html}");
}

#[tokio::test]
async fn urgent_tickets_show_customer_risk_apart_from_their_own_flags() {
    let fx = fixture().await;
    let (status, html) = get_as(&fx, &fx.session, "/tickets?brand=mavena").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<th scope=\"col\">Customer risk</th>"),
        "{html}"
    );
    // The ticket's own flag, and the customer's three.
    assert!(html.contains("<strong>social channel</strong>"), "{html}");
    assert_flags(&html, true);
    let viewer = user_session(fx.state.store.as_ref(), "vera", Role::Viewer, ts(NOW)).await;
    let (status, html) = get_as(&fx, &viewer, "/tickets?brand=mavena").await;
    assert_eq!(status, 200);
    assert_flags(&html, false);
    // The dashboard's feed of the top urgent tickets too.
    let feed = "<strong>dispute history</strong> (1 chargeback (order #7003, 2026-06-01))";
    let (_, html) = get_as(&fx, &fx.session, "/").await;
    assert!(html.contains(feed), "{html}");
    assert!(html.contains(SPEND), "{html}");
    let (_, html) = get_as(&fx, &viewer, "/").await;
    assert!(html.contains(feed) && html.contains(HIDDEN), "{html}");
    assert!(!html.contains("5,450"), "{html}");
    // The JSON API carries them too.
    let (status, body) = fx.get_json("/api/v1/urgent-tickets?brand=mavena").await;
    assert_eq!(status, 200, "{body}");
    let ticket = &body["brands"][0]["tickets"][0];
    assert_eq!(ticket["ticket_id"], "t-rita", "{body}");
    assert_eq!(
        ticket["customer_risk"][0],
        json!({"kind": "high_value", "label": "high value",
               "evidence": "lifetime spend $5,450.00 > $5,000.00"}),
        "{body}"
    );
}

#[tokio::test]
async fn an_approval_naming_an_order_shows_its_customers_flags() {
    let mut fx = fixture().await;
    let base = approvals_with_platform(&mut fx).await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let ask_for = |payload: Value| {
        json!({
            "kind": "refund", "summary": "Refund order 7002", "amount_minor": 900_00,
            "currency": "USD", "callback_url": format!("{base}/cb"), "payload": payload
        })
    };
    let (status, body) = ask(&fx, &t, ask_for(json!({"order_id": "7002"}))).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();
    let (status, html) = get_as(&fx, &fx.session, &format!("/approvals/{id}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains(r#"id="customer-risk""#), "{html}");
    assert_flags(&html, true);
    let viewer = user_session(fx.state.store.as_ref(), "vera", Role::Viewer, ts(NOW)).await;
    let (status, html) = get_as(&fx, &viewer, &format!("/approvals/{id}")).await;
    assert_eq!(status, 200, "{html}");
    assert_flags(&html, false);
    // A request that names no order has no customer section.
    let (status, body) = ask(&fx, &t, ask_for(json!({"note": "x"}))).await;
    assert_eq!(status, 201, "{body}");
    let other = body["id"].as_str().unwrap();
    let (_, html) = get_as(&fx, &fx.session, &format!("/approvals/{other}")).await;
    assert!(!html.contains(r#"id="customer-risk""#), "{html}");
}
