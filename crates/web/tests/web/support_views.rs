//! Support views and the urgent queue over HTTP (issue 10.A4, D1) and the
//! inventory and catalog filters (10.B2, B3): unattributed tickets have a
//! row wherever brands are listed and the account-wide view adds up to the
//! helpdesk; the urgent queue is ranked, shows what an agent acts on, links
//! to the helpdesk, and renders order values only for roles with revenue
//! permission.

use crate::common::{order, ts, Fixture};
use crate::pulse::{fixture, get_as, session};
use opsdeck_domain::support::Party;
use opsdeck_domain::*;
use opsdeck_store::{AnyRecord, Role};
use std::sync::Arc;

fn ticket(id: &str, brand: Option<&str>, subject: &str, at: &str, email: &str) -> AnyRecord {
    AnyRecord::Ticket(Ticket {
        source: SourceId::parse("gorgias").unwrap(),
        external_id: id.into(),
        brand: brand.map(|b| BrandId::parse(b).unwrap()),
        status: TicketStatus::Open,
        channel: Channel::Email,
        subject: Some(subject.into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: vec![],
        customer: Some(Party {
            external_id: None,
            email: Some(email.into()),
            name: None,
        }),
        assignee: None,
        created_at: ts(at),
        opened_at: None,
        updated_at: ts(at),
        last_received_message_at: None,
        closed_at: None,
        snooze_until: None,
        trashed_at: None,
    })
}

async fn helpdesk() -> Fixture {
    let mut fx = fixture().await;
    let mut vip = order(
        "shopify-mavena",
        "mavena",
        "1234",
        "2026-06-09T10:00:00Z",
        Money::new(41_200, Currency::USD),
    );
    vip.email = Some("bo@example.com".into());
    let records = vec![
        AnyRecord::Order(vip),
        ticket(
            "701",
            Some("mavena"),
            "I will dispute this",
            "2026-06-10T16:00:00Z",
            "ann@example.com",
        ),
        ticket(
            "702",
            Some("mavena"),
            "About order #1234",
            "2026-06-10T08:00:00Z",
            "bo@example.com",
        ),
        ticket(
            "703",
            None,
            "My bank refuses",
            "2026-06-10T12:00:00Z",
            "cy@example.com",
        ),
        ticket(
            "704",
            None,
            "Hello",
            "2026-06-10T13:00:00Z",
            "di@example.com",
        ),
        ticket(
            "705",
            Some("kumo"),
            "Hello",
            "2026-06-10T14:00:00Z",
            "ed@example.com",
        ),
    ];
    fx.state.store.upsert(&records, None).await.unwrap();
    fx.build_projection().await;
    let mut cfg = fx.state.panel_config.as_ref().clone();
    cfg.helpdesk_ticket_url = Some("https://acme.gorgias.com/app/ticket/".into());
    fx.state.panel_config = Arc::new(cfg);
    fx
}

#[tokio::test]
async fn support_apis_list_unattributed_and_all_brands_adding_up() {
    let fx = helpdesk().await;
    let (status, body) = fx.get_json("/api/v1/tickets").await;
    assert_eq!(status, 200, "{body}");
    let open_of = |v: &serde_json::Value| v["open"].as_i64().unwrap();
    let brands: i64 = body["brands"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|b| b["status"] == "live")
        .map(open_of)
        .sum();
    let views = body["views"].as_array().unwrap();
    assert_eq!(views[0]["view"], "unattributed");
    assert_eq!(views[0]["name"], "Unattributed");
    assert_eq!(open_of(&views[0]), 2);
    assert_eq!(views[1]["view"], "all");
    assert_eq!(open_of(&views[1]), 5, "the helpdesk's open tickets");
    assert_eq!(brands + open_of(&views[0]), open_of(&views[1]));

    // One view alone; a brand alone has no views.
    let (_, only) = fx
        .get_json("/api/v1/csat?brand=unattributed&range=7d")
        .await;
    assert_eq!(only["brands"].as_array().unwrap().len(), 0);
    assert_eq!(only["views"][0]["view"], "unattributed");
    let (_, one) = fx.get_json("/api/v1/top-issues?brand=mavena").await;
    assert!(one.get("views").is_none(), "{one}");
    let (status, _) = fx.get_json("/api/v1/response-times?brand=nosuch").await;
    assert_eq!(status, 400);

    // The urgent queue: ranked, with evidence and the helpdesk link, no money.
    let (status, urgent) = fx.get_json("/api/v1/urgent-tickets?brand=all").await;
    assert_eq!(status, 200, "{urgent}");
    let tickets = urgent["views"][0]["tickets"].as_array().unwrap();
    let ids: Vec<&str> = tickets
        .iter()
        .map(|t| t["ticket_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["702", "703", "701"]);
    assert_eq!(tickets[0]["flags"][0]["reason"], "order #1234");
    assert_eq!(
        tickets[0]["helpdesk_url"],
        "https://acme.gorgias.com/app/ticket/702"
    );
    assert_eq!(tickets[1]["brand"], "unattributed");
    assert!(!urgent.to_string().contains("412"), "{urgent}");
    let (status, _) = fx.get_json("/api/v1/urgent-tickets?page=0").await;
    assert_eq!(status, 400);
}

#[tokio::test]
async fn the_ticket_page_ranks_the_queue_and_shows_money_only_with_revenue_permission() {
    let fx = helpdesk().await;
    let (status, html) = get_as(&fx, &fx.session, "/tickets?brand=all").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Ticket queue — All brands"), "{html}");
    assert!(
        html.contains("<option value=\"unattributed\">Unattributed</option>"),
        "{html}"
    );
    let first = html.find("About order #1234").expect("the VIP ticket");
    let second = html
        .find("My bank refuses")
        .expect("the unattributed ticket");
    let third = html
        .find("I will dispute this")
        .expect("the chargeback ticket");
    assert!(first < second && second < third, "ranked by score");
    // Attribute values are escaped ("/" as &#x2f;); a browser reads them back.
    assert!(
        html.contains("href=\"https:&#x2f;&#x2f;acme.gorgias.com&#x2f;app&#x2f;ticket&#x2f;702\""),
        "{html}"
    );
    assert!(
        html.contains("chargeback words: &#x27;dispute&#x27;")
            || html.contains("chargeback words: 'dispute'"),
        "{html}"
    );
    assert!(html.contains("$412.00"), "admin sees the order value");

    let support = session(&fx, "sue", Role::Support).await;
    let (status, html) = get_as(&fx, &support, "/tickets?brand=mavena").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("About order #1234"), "{html}");
    assert!(
        !html.contains("412"),
        "no revenue permission, no order value: {html}"
    );

    let (status, html) = get_as(&fx, &fx.session, "/tickets?brand=unattributed&page=all").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("My bank refuses") && !html.contains("About order"),
        "{html}"
    );
    let (status, _) = get_as(&fx, &fx.session, "/tickets?page=x").await;
    assert_eq!(status, 400);

    // The dashboard's support tiles list the two views after the brands.
    let (_, tile) = get_as(&fx, &fx.session, "/fragments/queue").await;
    let (kumo, un, all) = (
        tile.find("Kumo").unwrap_or(0),
        tile.find("Unattributed").expect("an Unattributed row"),
        tile.find("All brands").expect("an All brands row"),
    );
    assert!(kumo < un && un < all, "{tile}");
    // The feed's urgent tickets: the ranked queue of every brand and the
    // unattributed tickets together.
    let (_, feed) = get_as(&fx, &fx.session, "/fragments/feed").await;
    let (vip, unattributed) = (
        feed.find("About order #1234")
            .expect("the VIP ticket in the feed"),
        feed.find("My bank refuses")
            .expect("the unattributed ticket in the feed"),
    );
    assert!(vip < unattributed, "{feed}");
}

fn product(id: &str, status: ProductStatus, images: u32, stock: i64) -> AnyRecord {
    AnyRecord::Product(Product {
        source: SourceId::parse("shopify-mavena").unwrap(),
        external_id: id.into(),
        brand: BrandId::parse("mavena").unwrap(),
        title: format!("Product {id}"),
        handle: None,
        status,
        body_html: Some("<p>Soft cotton</p>".into()),
        image_count: images,
        vendor: None,
        product_type: None,
        tags: vec![],
        created_at: ts("2026-06-01T00:00:00Z"),
        updated_at: ts("2026-06-01T00:00:00Z"),
        deleted_at: None,
        variants: vec![Variant {
            external_id: format!("{id}-v"),
            title: "Default".into(),
            sku: Some(format!("SKU-{id}")),
            price: Money::new(1500, Currency::USD),
            inventory_item_id: None,
            inventory_quantity: Some(stock),
            inventory_tracked: true,
        }],
    })
}

#[tokio::test]
async fn drafts_are_behind_the_inventory_filter_and_listed_apart_on_the_catalog() {
    let fx = fixture().await;
    let records = [
        product("live", ProductStatus::Active, 0, 0),
        product("draft", ProductStatus::Draft, 0, 0),
    ];
    fx.state.store.upsert(&records, None).await.unwrap();
    fx.build_projection().await;
    let (status, html) = get_as(&fx, &fx.session, "/inventory?brand=mavena").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Product live") && !html.contains("Product draft"),
        "{html}"
    );
    let (_, html) = get_as(&fx, &fx.session, "/inventory?brand=mavena&status=all").await;
    assert!(html.contains("Product draft"), "{html}");
    let (status, _) = get_as(&fx, &fx.session, "/inventory?brand=mavena&status=sometimes").await;
    assert_eq!(status, 400);
    let (_, body) = fx.get_json("/api/v1/inventory?brand=mavena").await;
    assert_eq!(
        body["brands"][0]["alerts"][0]["stock_state"],
        "out_of_stock"
    );
    assert_eq!(body["brands"][0]["alerts"][0]["alert"], "critical");
    assert_eq!(body["brands"][0]["tracked_variants"], 1);

    let (_, html) = get_as(&fx, &fx.session, "/catalog?brand=mavena").await;
    assert!(html.contains("<dt>No images</dt><dd>1</dd>"), "{html}");
    assert!(
        html.contains("Drafts and archived products with issues"),
        "{html}"
    );
}
