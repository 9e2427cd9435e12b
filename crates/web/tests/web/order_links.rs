//! Every order a page names links to its timeline
//! (`/orders/by-number/{brand}/{number}`): the pulse page's open
//! fulfillment blockers, the pipeline tile's stale orders, and the order an
//! urgent ticket is about on the ticket queue and the dashboard's feed.
//!
//! On top of the shared fixture: Mavena's order #1500, placed 2026-06-01
//! (nine days before the clock, past the 3-day stale limit) and not
//! shipped, and an open ticket from Twitter (urgent: a social channel)
//! asking about it.

use crate::common::{order, ts, Fixture};
use crate::pulse::get_as;
use opsdeck_domain::support::Party;
use opsdeck_domain::{BrandId, Channel, Currency, Money, SourceId, Ticket, TicketStatus};
use opsdeck_store::AnyRecord;

const LINK: &str = "href=\"/orders/by-number/mavena/1500\"";

fn ticket_about_1500() -> AnyRecord {
    AnyRecord::Ticket(Ticket {
        source: SourceId::parse("gorgias").unwrap(),
        external_id: "t1".into(),
        brand: Some(BrandId::parse("mavena").unwrap()),
        status: TicketStatus::Open,
        channel: Channel::Twitter,
        subject: Some("Where is my order #1500".into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: vec![],
        customer: Some(Party {
            external_id: None,
            email: Some("ann@example.com".into()),
            name: None,
        }),
        assignee: None,
        created_at: ts("2026-06-10T12:00:00Z"),
        opened_at: None,
        updated_at: ts("2026-06-10T12:00:00Z"),
        last_received_message_at: None,
        closed_at: None,
        snooze_until: None,
        trashed_at: None,
    })
}

async fn fixture() -> Fixture {
    let fx = Fixture::new().await;
    let mut stuck = order(
        "shopify-mavena",
        "mavena",
        "7777",
        "2026-06-01T15:00:00Z",
        Money::new(45_00, Currency::USD),
    );
    stuck.name = "#1500".into();
    stuck.number = Some(1500);
    fx.state
        .store
        .upsert(&[AnyRecord::Order(stuck), ticket_about_1500()], None)
        .await
        .unwrap();
    fx.build_projection().await;
    fx
}

#[tokio::test]
async fn orders_on_pages_link_to_their_timeline() {
    let fx = fixture().await;
    let s = &fx.session;
    for (page, what) in [
        ("/pulse?brand=mavena", "open fulfillment blocker"),
        ("/", "stale order in the pipeline tile"),
        ("/fragments/pipeline?brand=mavena", "pipeline fragment"),
        ("/tickets?brand=mavena", "urgent ticket's order"),
        ("/fragments/feed", "urgent ticket in the feed"),
    ] {
        let (status, html) = get_as(&fx, s, page).await;
        assert_eq!(status, 200, "{page}: {html}");
        // Templates escape the slashes of attributes; a browser reads them back.
        let html = html.replace("&#x2f;", "/");
        assert!(
            html.contains(&format!("<a {LINK}>#1500</a>")),
            "{what} on {page} is not linked: {html}"
        );
    }

    let (status, html) = get_as(&fx, s, "/orders/by-number/mavena/1500").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Order #1500"), "{html}");
    assert!(html.contains("<strong>placed</strong>"), "{html}");
    assert!(
        html.contains("customer asked"),
        "the ticket is on the order's timeline: {html}"
    );
}

/// The order page showed its times in UTC and its brand by id; every other
/// page shows the brand's name and its local time.
#[tokio::test]
async fn order_page_shows_brand_name_and_local_times() {
    let fx = fixture().await;
    let (status, html) = get_as(&fx, &fx.session, "/orders/by-number/mavena/1500").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Order #1500 · Mavena"), "{html}");
    // Placed 2026-06-01T15:00:00Z; Mavena counts days in New York.
    assert!(html.contains("2026-06-01 11:00 EDT"), "{html}");
    assert!(!html.contains(" UTC"), "{html}");
}

#[tokio::test]
async fn an_order_number_that_is_not_an_order_is_refused() {
    let fx = fixture().await;
    let s = &fx.session;
    for (uri, status) in [
        ("/orders/by-number/mavena/1499", 404),
        ("/orders/by-number/kumo/1500", 404),
        ("/orders/by-number/nosuch/1500", 400),
        ("/orders/by-number/mavena/abc", 400),
        ("/orders/by-number/mavena/1500?x=1", 400),
    ] {
        let (got, html) = get_as(&fx, s, uri).await;
        assert_eq!(got, status, "{uri}: {html}");
    }
    let viewer = crate::pulse::session(&fx, "val", opsdeck_store::Role::Viewer).await;
    let (status, _) = get_as(&fx, &viewer, "/orders/by-number/mavena/1500").await;
    assert_eq!(status, 200, "viewers see order timelines");
}
