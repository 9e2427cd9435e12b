//! `GET /` and the stylesheet through the router.

use crate::common::{assert_security_headers, body_text, Fixture};

/// The HTML of one brand's card, from its opening tag to the next card.
fn card<'a>(html: &'a str, id: &str) -> &'a str {
    let id_at = html
        .find(&format!("id=\"brand-{id}\""))
        .unwrap_or_else(|| panic!("no card for {id}"));
    let start = html[..id_at].rfind("<article").unwrap();
    let rest = &html[start..];
    let end = rest.find("</article>").unwrap();
    &rest[..end]
}

#[tokio::test]
async fn dashboard_shows_every_brand_with_its_cards() {
    let fx = Fixture::with_projection().await;
    let response = fx.get("/").await;
    assert_eq!(response.status(), 200);
    assert_security_headers(&response);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    let html = body_text(response).await;
    assert!(html.contains("opsdeck"));
    assert!(html.contains("Order volume"));
    // Script only from our own files (CSP forbids inline script); the page
    // is complete without it.
    for (i, _) in html.match_indices("<script") {
        assert!(
            html[i..].starts_with("<script src=\"/static/"),
            "inline script"
        );
    }

    let mavena = card(&html, "mavena");
    assert!(mavena.contains("Mavena"));
    for label in ["Today", "This week", "This month"] {
        assert!(mavena.contains(label), "{label}");
    }
    assert!(mavena.contains("$100.00"));
    assert!(mavena.contains("↑ 25 % vs yesterday"));
    assert!(mavena.contains("↑ 100 % vs yesterday"), "orders 2 vs 1");
    assert!(
        mavena.contains("title=\"yesterday: $80.00\""),
        "prior on hover"
    );
    assert!(mavena.contains("$200.00"));
    assert!(mavena.contains("$66.67"));
    // No prior week or month: a dash, not "0 %".
    assert!(mavena.contains("—"));
    assert!(mavena.contains("14:05 EDT"), "the brand's local time");

    let kumo = card(&html, "kumo");
    assert!(kumo.contains("¥1,500"));
}

#[tokio::test]
async fn not_launched_brand_is_greyed_with_no_numbers() {
    let fx = Fixture::with_projection().await;
    let html = body_text(fx.get("/").await).await;
    let retromedy = card(&html, "retromedy");
    assert!(retromedy.contains("brand--not-launched"));
    assert!(retromedy.contains("RetroMedy"));
    assert!(retromedy.contains("Not launched"));
    assert!(!retromedy.contains('$'), "no money: {retromedy}");
    assert!(!retromedy.contains("Orders"), "no cards: {retromedy}");
    assert!(!retromedy.contains("synced"));
}

#[tokio::test]
async fn freshness_line_per_brand_in_its_time_zone() {
    let fx = Fixture::new().await;
    let html = body_text(fx.get("/").await).await;
    assert!(card(&html, "mavena").contains("synced 2 min ago (14:03 EDT)"));
    assert!(card(&html, "kumo").contains("last sync failed: HTTP 401 from Shopify (03:04 JST)"));
    assert!(card(&html, "kumo").contains("freshness--failing"));
}

#[tokio::test]
async fn never_synced_brand_says_so() {
    use opsdeck_store::testing::sqlite_temp;
    let (store, _guard) = sqlite_temp().await;
    let viewer = opsdeck_web::testing::user_session(
        store.as_ref(),
        "viewer",
        opsdeck_web::auth::Role::Viewer,
        crate::common::ts(crate::common::NOW),
    )
    .await;
    let request = axum::http::Request::get("/")
        .body(axum::body::Body::empty())
        .unwrap();
    let html = body_text(
        crate::common::send_as(
            opsdeck_web::router(crate::common::state(store)),
            &viewer,
            request,
        )
        .await,
    )
    .await;
    assert!(card(&html, "mavena").contains("never synced"));
    // With no orders at all: counts of 0, and (a viewer) no money.
    assert!(card(&html, "mavena").contains("Orders"));
    assert!(!card(&html, "mavena").contains("$0.00"));
}

/// The README's promise: roles without revenue see the tiles without money,
/// on the page and in the fragment the live script fetches.
#[tokio::test]
async fn viewer_sees_order_counts_but_no_money() {
    let fx = Fixture::with_projection().await;
    let viewer = opsdeck_web::testing::user_session(
        fx.state.store.as_ref(),
        "viewer",
        opsdeck_web::auth::Role::Viewer,
        crate::common::ts(crate::common::NOW),
    )
    .await;
    for uri in ["/", "/fragments/volume", "/?brand=kumo"] {
        let request = axum::http::Request::get(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = crate::common::send_as(fx.router(), &viewer, request).await;
        assert_eq!(response.status(), 200, "{uri}");
        let html = body_text(response).await;
        assert!(html.contains("Orders"), "{uri}: counts stay");
        for money in ["$", "¥", "Gross revenue", "AOV"] {
            assert!(!html.contains(money), "{uri} shows {money:?} to a viewer");
        }
        if uri.starts_with("/fragments") {
            assert!(
                !html.contains("href=\"/pulse"),
                "a link the viewer may not follow"
            );
        }
    }
    // The admin still sees it.
    let html = body_text(fx.get("/fragments/volume").await).await;
    assert!(html.contains("Gross revenue") && html.contains("$100.00"));
}

#[tokio::test]
async fn stylesheet_is_served_with_headers() {
    let fx = Fixture::new().await;
    let response = fx.get("/static/app.css").await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/css; charset=utf-8"
    );
    assert_security_headers(&response);
    assert!(body_text(response).await.contains(".brand"));
}

#[tokio::test]
async fn page_errors_are_pages() {
    let fx = Fixture::new().await;
    let response = fx.get("/?brnad=mavena").await;
    assert_eq!(response.status(), 400);
    assert_security_headers(&response);
    let html = body_text(response).await;
    assert!(html.contains("<html"));
    assert!(html.contains("unknown field"));

    let response = fx.get("/no-such-page").await;
    assert_eq!(response.status(), 404);
    assert!(body_text(response).await.contains("404 Not Found"));
}

/// The stage bars count the last 30 days and the age buckets every open
/// order (docs/metrics.md), so "Unfulfilled 6" sat beside "12 past 3 days"
/// with nothing saying why; each part now says what it counts.
#[tokio::test]
async fn pipeline_tile_says_what_each_part_counts() {
    let fx = Fixture::with_projection().await;
    let html = body_text(fx.get("/fragments/pipeline?brand=mavena").await).await;
    assert!(
        html.contains("Orders of the last 30 days, by stage"),
        "{html}"
    );
    assert!(html.contains("Open orders of any age, by age"), "{html}");
    assert!(html.contains("Mavena: orders of the last 30 days by fulfillment stage"));
}

/// Issue 10.B7: a tile is stale by the one rule (2 × each resource's
/// configured cadence), the same /sources and the "source stale" alert
/// apply — not a fixed 5 minutes. Mavena's orders synced 2 min ago: fresh
/// at a 15-minute cadence, stale at a 30-second one (the old 5-minute rule
/// called it fresh either way).
#[tokio::test]
async fn tiles_and_sources_are_stale_after_twice_the_configured_cadence() {
    use opsdeck_domain::SourceId;
    use std::time::Duration;
    let mut fx = Fixture::with_projection().await;
    let with_cadence = |every: Duration| {
        let mut cadences = opsdeck_metrics::Cadences::default();
        let shop = SourceId::parse("shopify-mavena").unwrap();
        cadences.set(&shop, "orders", every);
        std::sync::Arc::new(opsdeck_metrics::panels::PanelConfig {
            cadences,
            ..Default::default()
        })
    };
    fx.state.panel_config = with_cadence(Duration::from_secs(15 * 60));
    let tile = body_text(fx.get("/fragments/pipeline?brand=mavena").await).await;
    assert!(!tile.contains("tile--stale"), "{tile}");
    assert!(tile.contains("synced 2 min ago"), "{tile}");
    let (_, sources) = fx.get_json("/api/v1/sources").await;
    assert_eq!(sources["sources"][0]["resources"][0]["resource"], "orders");
    assert_eq!(sources["sources"][0]["resources"][0]["stale"], false);

    fx.state.panel_config = with_cadence(Duration::from_secs(30));
    let tile = body_text(fx.get("/fragments/pipeline?brand=mavena").await).await;
    assert!(tile.contains("tile--stale"), "{tile}");
    assert!(tile.contains("stale: synced 2 min ago"), "{tile}");
    let (_, sources) = fx.get_json("/api/v1/sources").await;
    assert_eq!(sources["sources"][0]["resources"][0]["stale"], true);
    let page = body_text(fx.get("/sources").await).await;
    assert!(page.contains("<td>orders</td><td>stale</td>"), "{page}");
}

/// One order of 92,233,720,368,547,758.07 (`i64::MAX` cents) beside the
/// fixture's $100.00 today: the card never shows a wrapped negative revenue
/// or AOV, it shows the bound with "≥" and says so; the API flags it and
/// gives the exact AOV (issue 11.5).
#[tokio::test]
async fn an_order_of_the_largest_amount_never_shows_negative_revenue() {
    let fx = Fixture::new().await;
    let huge = crate::common::order(
        "shopify-mavena",
        "mavena",
        "1999",
        "2026-06-10T12:00:00Z",
        opsdeck_domain::Money::new(i64::MAX, opsdeck_domain::Currency::USD),
    );
    fx.state
        .store
        .upsert(&[opsdeck_store::AnyRecord::Order(huge)], None)
        .await
        .unwrap();
    fx.build_projection().await;
    let html = body_text(fx.get("/").await).await;
    let mavena = card(&html, "mavena");
    assert!(mavena.contains("≥ $92,233,720,368,547,758.07"), "{mavena}");
    assert!(mavena.contains("revenue-beyond-range"), "{mavena}");
    assert!(!mavena.contains("-$"), "no negative amount: {mavena}");
    assert!(
        html.contains("<strong>≥ $92,233,720,368,547,758.07</strong> (USD)"),
        "the all-brand total too: {html}"
    );
    let (status, body) = fx.get_json("/api/v1/order-volume?brand=mavena").await;
    assert_eq!(status, 200, "{body}");
    let today = &body["brands"][0]["periods"][0];
    assert_eq!(today["revenue_beyond_range"], true, "{today}");
    // (2^63 − 1 + 10,000) / 2, half away from zero.
    let exact = (i128::from(i64::MAX) + 100_00 + 1) / 2;
    assert_eq!(
        today["aov"]["minor"].as_i64().map(i128::from),
        Some(exact),
        "{today}"
    );
}
