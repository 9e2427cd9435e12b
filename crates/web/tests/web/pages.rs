//! The drill-down pages and their forms through the router: alerts (ack,
//! resolve, silence, one episode's history) acting as the session user with
//! CSRF, source health and the refresh button, catalog issues, the ticket
//! queue with urgent reasons, an order's timeline, and the links to them.

use crate::common::{ts, Fixture, NOW};
use crate::pulse::{fixture, get_as, post_form, session};
use jiff::SignedDuration;
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::{rules, AlertService, Evaluator, Figure, Observation, RuleSet};
use opsdeck_store::{AuditFilter, Role};

/// Fires `inventory_low` for Mavena; returns the episode id.
async fn fire(fx: &Fixture) -> String {
    let mut set = RuleSet::defaults();
    for mut r in rules::default_rules() {
        r.timing.pending_for = SignedDuration::ZERO;
        set.upsert(r);
    }
    let service = AlertService::new(
        fx.state.store.clone(),
        Evaluator::new(set),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "w",
    );
    let obs = Observation {
        rule: "inventory_low".into(),
        brand: "mavena".into(),
        subject: "sku:A".into(),
        value: Some(Figure::new(2.0, "2 units")),
        baseline: None,
        threshold: Some(Figure::new(3.0, "≤ 3 units")),
        active: true,
        why: "sku:A is low".into(),
        why_without_money: None,
        dashboard_path: "/".into(),
    };
    let step = service
        .step(&[obs], ts(NOW) - SignedDuration::from_mins(1))
        .await
        .unwrap();
    step.changed[0].episode_id.clone().unwrap()
}

async fn audit_actions(fx: &Fixture, action: &str) -> Vec<opsdeck_store::AuditEntry> {
    fx.state
        .store
        .search_audit(&AuditFilter {
            action: Some(opsdeck_store::AuditAction::parse(action)),
            limit: 50,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn alert_forms_carry_csrf_and_act_as_the_logged_in_user() {
    let fx = fixture().await;
    let id = fire(&fx).await;
    let ops = session(&fx, "olga", Role::Ops).await;
    let (status, html) = get_as(&fx, &ops, "/alerts").await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("action=\"/alerts/{id}/ack\"")),
        "{html}"
    );
    assert!(html.contains("action=\"/alerts/silences\""));
    // The rule's name, not its config id, on the list, the silence form
    // (which still posts the id) and the dashboard's feed.
    // Grouped by rule and brand (one SKU here), the member behind it.
    assert!(
        html.contains(&format!("<a href=\"/alerts/{id}\">sku:A is low</a>")),
        "{html}"
    );
    assert!(html.contains("<option value=\"inventory_low\">Inventory low</option>"));
    assert!(
        html.contains("<strong>Inventory low</strong> · Mavena · 1 SKU (2 units)"),
        "the brand's name, not its id: {html}"
    );
    assert!(!html.contains(">inventory_low<"), "{html}");
    let (_, feed) = get_as(&fx, &ops, "/fragments/feed").await;
    assert!(feed.contains("<strong>Inventory low</strong>"), "{feed}");
    assert_eq!(
        opsdeck_web::testing::hidden_field(&html, "csrf_token").as_deref(),
        Some(ops.csrf_token.as_str())
    );
    let ack = format!("/alerts/{id}/ack");
    let (status, _, _) = post_form(fx.router(), &ops, &ack, "").await;
    assert_eq!(status, 403, "no CSRF token");
    let (status, _, _) = post_form(fx.router(), &ops, &ack, "csrf_token=nope").await;
    assert_eq!(status, 403, "wrong CSRF token");
    let viewer = session(&fx, "val", Role::Viewer).await;
    let (_, html) = get_as(&fx, &viewer, "/alerts").await;
    assert!(
        !html.contains("/ack\""),
        "no forms for a role that may not act"
    );
    let body = format!("csrf_token={}", viewer.csrf_token);
    let (status, _, _) = post_form(fx.router(), &viewer, &ack, &body).await;
    assert_eq!(status, 403);

    let body = format!("csrf_token={}&back=episode", ops.csrf_token);
    let (status, location, _) = post_form(fx.router(), &ops, &ack, &body).await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/alerts/{id}").as_str())
    );
    let audit = audit_actions(&fx, "alert.acknowledge").await;
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(
        audit[0].actor, "olga",
        "the session user, not a placeholder"
    );

    let (status, html) = get_as(&fx, &ops, &format!("/alerts/{id}")).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<title>Alert Inventory low"), "{html}");
    assert!(html.contains("acknowledged by olga"), "{html}");
    assert!(html.contains("sku:A is low"));
    let (status, _) = get_as(&fx, &ops, "/alerts/nosuch").await;
    assert_eq!(status, 404);

    let body = format!("csrf_token={}", ops.csrf_token);
    let (status, location, _) =
        post_form(fx.router(), &ops, &format!("/alerts/{id}/resolve"), &body).await;
    assert_eq!((status, location.as_str()), (303, "/alerts"));
    let (_, html) = get_as(&fx, &ops, "/alerts").await;
    assert!(html.contains("Recently resolved"));
    assert!(html.contains(&format!("href=\"/alerts/{id}\"")));
}

#[tokio::test]
async fn an_open_alert_under_an_active_silence_is_shown_silenced() {
    let fx = fixture().await;
    let id = fire(&fx).await;
    let ops = session(&fx, "olga", Role::Ops).await;
    let t = &ops.csrf_token;
    let silenced = |html: &str| html.contains("class=\"silenced\"");
    let (_, html) = get_as(&fx, &ops, "/alerts").await;
    assert!(!silenced(&html), "{html}");

    // Another brand's silence does not cover Mavena's alert.
    let body = format!("csrf_token={t}&rule=inventory_low&brand=kumo&hours=2&reason=kumo+restock");
    let (status, _, _) = post_form(fx.router(), &ops, "/alerts/silences", &body).await;
    assert_eq!(status, 303);
    let (_, html) = get_as(&fx, &ops, "/alerts").await;
    assert!(!silenced(&html), "{html}");

    let body = format!("csrf_token={t}&brand=mavena&hours=2&reason=restock+due");
    let (status, _, _) = post_form(fx.router(), &ops, "/alerts/silences", &body).await;
    assert_eq!(status, 303);
    let (_, html) = get_as(&fx, &ops, "/alerts").await;
    assert!(
        html.contains("title=\"silenced by olga: restock due\">silenced</span>"),
        "{html}"
    );
    let (_, html) = get_as(&fx, &ops, &format!("/alerts/{id}")).await;
    assert!(html.contains("Silenced by olga: restock due"), "{html}");
}

#[tokio::test]
async fn silence_form_validates_and_records_the_author() {
    let fx = fixture().await;
    let ops = session(&fx, "olga", Role::Ops).await;
    let t = &ops.csrf_token;
    let cases = [
        (
            format!("csrf_token={t}&rule=inventory_low&hours=5&reason=x"),
            "duration must be one of",
        ),
        (
            format!("csrf_token={t}&rule=inventory_low&hours=2&reason=+"),
            "needs a reason",
        ),
        (
            format!("csrf_token={t}&brand=nosuch&hours=2&reason=x"),
            "nosuch",
        ),
        (
            format!("csrf_token={t}&hours=2&reason=x"),
            "at least one rule, brand or label",
        ),
    ];
    for (body, expected) in cases {
        let (status, _, html) = post_form(fx.router(), &ops, "/alerts/silences", &body).await;
        assert_eq!(status, 400, "{body}: {html}");
        assert!(html.contains(expected), "{body}: {html}");
    }
    assert!(fx
        .state
        .store
        .alert_silences(None)
        .await
        .unwrap()
        .is_empty());
    let (status, _, _) = post_form(
        fx.router(),
        &ops,
        "/alerts/silences",
        "rule=inventory_low&hours=2&reason=restock+due",
    )
    .await;
    assert_eq!(status, 403, "no CSRF token");
    let body = format!("csrf_token={t}&rule=inventory_low&brand=mavena&hours=2&reason=restock+due");
    let (status, location, _) = post_form(fx.router(), &ops, "/alerts/silences", &body).await;
    assert_eq!((status, location.as_str()), (303, "/alerts#silences"));
    let silences = fx.state.store.alert_silences(Some(ts(NOW))).await.unwrap();
    assert_eq!(silences.len(), 1);
    assert_eq!(silences[0].ends_at, ts(NOW) + SignedDuration::from_hours(2));
    assert_eq!(silences[0].body["author"], "olga");
    let (_, html) = get_as(&fx, &ops, "/alerts").await;
    assert!(html.contains("by olga: restock due"), "{html}");
    assert!(
        html.contains("Inventory low · Mavena — until"),
        "the silence names the rule and brand: {html}"
    );
    assert!(
        html.contains("until <time datetime=\"2026-06-10T20:05:00Z\">2026-06-10 20:05 UTC</time>"),
        "{html}"
    );
    assert_eq!(audit_actions(&fx, "alert.silence").await[0].actor, "olga");

    // "End now" ends it: gone from the active list, audited as olga.
    let end = format!("/alerts/silences/{}/end", silences[0].id);
    assert!(html.contains(&format!("action=\"{end}\"")), "{html}");
    let body = format!("csrf_token={t}");
    let (status, location, _) = post_form(fx.router(), &ops, &end, &body).await;
    assert_eq!((status, location.as_str()), (303, "/alerts#silences"));
    assert!(fx
        .state
        .store
        .alert_silences(Some(ts(NOW)))
        .await
        .unwrap()
        .is_empty());
    let (_, html) = get_as(&fx, &ops, "/alerts").await;
    assert!(html.contains("No active silences."), "{html}");
    assert_eq!(
        audit_actions(&fx, "alert.silence_end").await[0].actor,
        "olga"
    );
    let (status, _, _) = post_form(fx.router(), &ops, "/alerts/silences/nope/end", &body).await;
    assert_eq!(status, 404);
    let viewer = session(&fx, "vic", Role::Viewer).await;
    let body = format!("csrf_token={}", viewer.csrf_token);
    let (status, _, _) = post_form(fx.router(), &viewer, &end, &body).await;
    assert_eq!(status, 403, "viewers cannot end silences");
}

#[tokio::test]
async fn source_health_and_refresh() {
    let fx = fixture().await;
    let (status, html) = get_as(&fx, &fx.session, "/sources").await;
    assert_eq!(status, 200, "{html}");
    // The fixture's Kumo orders fail with 401 three times in a row.
    assert!(html.contains("HTTP 401 from Shopify"), "{html}");
    assert!(html.contains("<td>failing</td>"), "{html}");
    assert!(html.contains("id=\"source-gorgias\""));
    assert!(
        html.contains("never synced"),
        "gorgias tickets never synced: {html}"
    );
    assert!(html.contains("action=\"/refresh\""));

    let viewer = session(&fx, "val", Role::Viewer).await;
    let (status, html) = get_as(&fx, &viewer, "/sources").await;
    assert_eq!(status, 200);
    assert!(!html.contains("action=\"/refresh\""));
    let body = format!("csrf_token={}", viewer.csrf_token);
    let (status, _, _) = post_form(fx.router(), &viewer, "/refresh", &body).await;
    assert_eq!(status, 403, "viewers may not refresh");

    let ops = session(&fx, "olga", Role::Ops).await;
    let (status, _, _) = post_form(fx.router(), &ops, "/refresh", "back=/sources").await;
    assert_eq!(status, 403, "no CSRF token");
    let body = format!("csrf_token={}&back=%2Fsources", ops.csrf_token);
    let (status, location, _) = post_form(fx.router(), &ops, "/refresh", &body).await;
    assert_eq!((status, location.as_str()), (303, "/sources"));
    let body = format!("csrf_token={}&back=%2F%2Fevil.example", ops.csrf_token);
    let (status, location, _) = post_form(fx.router(), &ops, "/refresh", &body).await;
    assert_eq!((status, location.as_str()), (303, "/"), "never off-site");
    let audit = audit_actions(&fx, "sync.refresh").await;
    assert_eq!(audit.len(), 2);
    assert_eq!(audit[0].actor, "olga");
}

#[tokio::test]
async fn source_health_shows_running_runs_refusals_and_failed_webhooks() {
    let fx = fixture().await;
    crate::common::source_health_extras(fx.state.store.as_ref()).await;
    let (status, html) = get_as(&fx, &fx.session, "/sources").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<td>running <small>since <time datetime=\"2026-06-10T18:04:00Z\">"),
        "{html}"
    );
    assert!(html.contains("<td>3</td>"), "refused records: {html}");
    assert!(
        html.contains("needs a person"),
        "a missing scope is marked as needing a person: {html}"
    );
    assert!(
        html.contains("missing access scope read_all_orders"),
        "{html}"
    );
    assert!(html.contains("Webhooks given up on"), "{html}");
    assert!(
        html.contains("<td>orders&#x2f;updated</td><td>wh-deep-1</td><td>recursion limit exceeded at line 1</td>"),
        "{html}"
    );
}

#[tokio::test]
async fn catalog_tickets_and_order_timeline_pages() {
    let fx = fixture().await;
    let (status, html) = get_as(&fx, &fx.session, "/catalog?brand=mavena").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Catalog issues — Mavena"));
    assert!(
        html.contains("No product on sale has an issue."),
        "the fixture has no products"
    );
    let (status, html) = get_as(&fx, &fx.session, "/tickets?brand=kumo").await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("Ticket queue — Kumo"));
    assert!(html.contains("Urgent queue (0 flagged"), "{html}");
    assert!(html.contains("tickets created and resolved per day"));
    for bad in [
        "/catalog?brand=nosuch",
        "/tickets?brand=nosuch",
        "/tickets?x=1",
    ] {
        let (status, _) = get_as(&fx, &fx.session, bad).await;
        assert_eq!(status, 400, "{bad}");
    }
    let viewer = session(&fx, "val", Role::Viewer).await;
    for page in ["/catalog", "/tickets", "/sources", "/alerts"] {
        let (status, _) = get_as(&fx, &viewer, page).await;
        assert_eq!(status, 200, "viewers see {page}");
    }

    let (status, html) = get_as(&fx, &fx.session, "/orders/shopify-mavena/1001").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("Order #1001 · mavena") || html.contains("Order #1001"),
        "{html}"
    );
    assert!(html.contains("<strong>placed</strong>"), "{html}");
    let (status, _) = get_as(&fx, &fx.session, "/orders/shopify-mavena/nosuch").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn pages_need_a_login_and_are_linked_from_nav_and_tiles() {
    let fx = fixture().await;
    for page in [
        "/pulse",
        "/catalog",
        "/tickets",
        "/sources",
        "/alerts",
        "/orders/shopify-mavena/1001",
    ] {
        let response = fx.router().oneshot_get(page).await;
        assert_eq!(response.0, 303, "{page} without a session");
        assert!(
            response.1.starts_with("/login?next="),
            "{page}: {}",
            response.1
        );
    }
    let (status, html) = get_as(&fx, &fx.session, "/").await;
    assert_eq!(status, 200);
    // minijinja writes `/` in attributes as `&#x2f;`, which browsers read as `/`.
    let html = html.replace("&#x2f;", "/");
    for link in [
        "href=\"/pulse\"",
        "href=\"/catalog\"",
        "href=\"/tickets\"",
        "href=\"/sources\"",
    ] {
        assert!(
            html.matches(link).count() >= 2,
            "{link} in the nav and on a tile"
        );
    }
    assert!(html.contains("action=\"/refresh\""), "the refresh button");
    let (status, html) = get_as(&fx, &fx.session, "/?brand=kumo").await;
    assert_eq!(status, 200, "{html}");
    let html = html.replace("&#x2f;", "/");
    assert!(
        html.contains("href=\"/tickets?brand=kumo\""),
        "tile links keep the brand: {html}"
    );
    assert!(html.contains("name=\"back\" value=\"/?brand=kumo\""));
}

trait GetAnon {
    async fn oneshot_get(self, uri: &str) -> (u16, String);
}

impl GetAnon for axum::Router {
    async fn oneshot_get(self, uri: &str) -> (u16, String) {
        use tower::ServiceExt;
        let request = axum::http::Request::get(uri)
            .body(axum::body::Body::empty())
            .unwrap();
        let response = self.oneshot(request).await.unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|v| v.to_str().unwrap().to_string())
            .unwrap_or_default();
        (response.status().as_u16(), location)
    }
}

/// Chart hover texts said the day or hour twice ("Created · Jun 4: Jun 4:
/// 0 created", "Today · 08:00: 08:00: 1 orders today"): the chart already
/// puts the label before the text.
#[tokio::test]
async fn chart_hover_texts_name_their_point_once() {
    let fx = fixture().await;
    for page in ["/tickets?brand=mavena", "/pulse?brand=mavena"] {
        let (status, html) = get_as(&fx, &fx.session, page).await;
        assert_eq!(status, 200, "{page}");
        let mut titles = 0;
        for part in html.split("<title>").skip(1) {
            let title = part.split("</title>").next().unwrap();
            let Some((_, point)) = title.split_once(" · ") else {
                continue;
            };
            let Some((label, rest)) = point.split_once(": ") else {
                continue;
            };
            titles += 1;
            assert!(!rest.starts_with(&format!("{label}:")), "{page}: {title}");
        }
        assert!(titles > 0, "{page} has chart points");
    }
}

/// Unlisted products (sold by link, hidden from search) are counted on
/// their own on the catalog page and tile, not lost among "other".
#[tokio::test]
async fn unlisted_products_are_counted_on_the_catalog_page_and_tile() {
    use opsdeck_domain::*;
    let fx = fixture().await;
    let product = |id: &str, status: ProductStatus| {
        opsdeck_store::AnyRecord::Product(Product {
            source: SourceId::parse("shopify-mavena").unwrap(),
            external_id: id.into(),
            brand: BrandId::parse("mavena").unwrap(),
            title: format!("Product {id}"),
            handle: None,
            status,
            body_html: Some("<p>Soft cotton</p>".into()),
            image_count: 1,
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
                inventory_quantity: Some(40),
                inventory_tracked: true,
            }],
        })
    };
    let records = [
        product("p1", ProductStatus::Active),
        product("p2", ProductStatus::Unlisted),
        product("p3", ProductStatus::Unlisted),
    ];
    fx.state.store.upsert(&records, None).await.unwrap();
    fx.build_projection().await;
    let (status, html) = get_as(&fx, &fx.session, "/catalog?brand=mavena").await;
    assert_eq!(status, 200, "{html}");
    assert!(
        html.contains("<dt>Active</dt><dd>1</dd><dt>Unlisted</dt><dd>2</dd>"),
        "{html}"
    );
    let (_, tile) = get_as(&fx, &fx.session, "/fragments/catalog?brand=mavena").await;
    assert!(tile.contains("1 active · 2 unlisted · 0 draft"), "{tile}");
}

/// Fires each (rule, brand, subjects) in one step (values 4, 5, … days).
async fn fire_many(fx: &Fixture, fired: &[(&str, &str, Vec<String>)]) {
    let mut set = RuleSet::defaults();
    for mut r in rules::default_rules() {
        r.timing.pending_for = SignedDuration::ZERO;
        set.upsert(r);
    }
    let service = AlertService::new(
        fx.state.store.clone(),
        Evaluator::new(set),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "w",
    );
    let obs: Vec<Observation> = fired
        .iter()
        .flat_map(|(rule, brand, subjects)| {
            subjects
                .iter()
                .enumerate()
                .map(move |(i, s)| (*rule, *brand, i, s))
        })
        .map(|(rule, brand, i, subject)| Observation {
            rule: rule.into(),
            brand: brand.into(),
            subject: subject.clone(),
            value: Some(Figure::new(i as f64 + 4.0, format!("{}.0 days", i + 4))),
            baseline: None,
            threshold: Some(Figure::new(3.0, "3 days")),
            active: true,
            why: format!("{subject} waited"),
            why_without_money: None,
            dashboard_path: "/".into(),
        })
        .collect();
    let step = service
        .step(&obs, ts(NOW) - SignedDuration::from_mins(1))
        .await
        .unwrap();
    assert_eq!(step.changed.len(), obs.len());
}

/// Issue 10.D2: /alerts groups open alerts by rule and brand (14 stale
/// orders of Mavena are one line, expandable without script), and
/// acknowledge and silence act on the whole group, audited once with the
/// member count; the API offers the same groups.
#[tokio::test]
async fn open_alerts_are_grouped_by_rule_and_brand_and_acted_on_together() {
    let fx = fixture().await;
    let orders: Vec<String> = (0..14).map(|i| format!("order:#{}", 1100 + i)).collect();
    let skus: Vec<String> = ["A", "B"].iter().map(|s| format!("sku:{s}")).collect();
    fire_many(
        &fx,
        &[
            ("unfulfilled_stale", "mavena", orders),
            ("unfulfilled_stale", "kumo", vec!["order:#2001".to_string()]),
            ("inventory_low", "mavena", skus),
        ],
    )
    .await;
    let ops = session(&fx, "olga", Role::Ops).await;
    let (status, html) = get_as(&fx, &ops, "/alerts").await;
    assert_eq!(status, 200);
    assert!(html.contains("17 open alerts in 3 groups"), "{html}");
    assert_eq!(html.matches("<details>").count(), 3, "{html}");
    assert!(
        html.contains(
            "<strong>Unfulfilled order stale</strong> · Mavena · 14 orders (4.0 days to 17.0 days)"
        ),
        "{html}"
    );
    assert!(html.contains("<strong>Unfulfilled order stale</strong> · Kumo · 1 order"));
    assert!(html.contains("<strong>Inventory low</strong> · Mavena · 2 SKUs"));
    assert!(html.contains("Acknowledge all 14"), "{html}");
    // Every member is behind its group's summary.
    assert_eq!(html.matches("class=\"alert\" id=\"alert-").count(), 17);
    // The dashboard's feed lists the same groups.
    let (_, feed) = get_as(&fx, &ops, "/fragments/feed").await;
    assert!(
        feed.contains("alerts#group-unfulfilled_stale-mavena\"><strong>Unfulfilled order stale</strong></a> · Mavena · 14 orders"),
        "{feed}"
    );
    assert_eq!(feed.matches("<span class=\"sev").count(), 3, "{feed}");

    let t = &ops.csrf_token;
    let body = format!("csrf_token={t}&rule=unfulfilled_stale&brand=mavena");
    let (status, location, _) = post_form(fx.router(), &ops, "/alerts/groups/ack", &body).await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/alerts#group-unfulfilled_stale-mavena")
    );
    let open = fx
        .state
        .store
        .alert_episodes(&opsdeck_store::alerts::EpisodeFilter {
            open_only: true,
            brand: None,
            limit: 100,
        })
        .await
        .unwrap();
    let state_of = |rule: &str, brand: &str| -> Vec<String> {
        open.iter()
            .filter(|e| e.rule == rule && e.brand == brand)
            .map(|e| e.state.to_string())
            .collect()
    };
    assert_eq!(
        state_of("unfulfilled_stale", "mavena"),
        vec!["acknowledged"; 14]
    );
    assert_eq!(
        state_of("unfulfilled_stale", "kumo"),
        ["firing"],
        "another brand's group is left alone"
    );
    assert_eq!(state_of("inventory_low", "mavena"), ["firing", "firing"]);
    let audit = audit_actions(&fx, "alert.acknowledge_group").await;
    assert_eq!(audit.len(), 1, "one entry for the group: {audit:?}");
    assert_eq!(audit[0].actor, "olga");
    assert_eq!(audit[0].payload["members"], 14);
    assert_eq!(audit[0].payload["acknowledged"], 14);
    assert!(audit_actions(&fx, "alert.acknowledge").await.is_empty());
    let (_, html) = get_as(&fx, &ops, "/alerts").await;
    assert!(
        html.contains("14 orders (4.0 days to 17.0 days), first opened"),
        "{html}"
    );
    assert!(html.contains("· 14 acknowledged"), "{html}");
    assert!(!html.contains("Acknowledge all 14"));

    let body = format!("csrf_token={t}&rule=inventory_low&brand=mavena&hours=4&reason=restock+due");
    let (status, _, _) = post_form(fx.router(), &ops, "/alerts/groups/silence", &body).await;
    assert_eq!(status, 303);
    let audit = audit_actions(&fx, "alert.silence").await;
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].payload["context"]["group_members"], 2);
    assert_eq!(audit[0].payload["matchers"]["rules"][0], "inventory_low");
    assert_eq!(audit[0].payload["matchers"]["brands"][0], "mavena");
    let (_, html) = get_as(&fx, &ops, "/alerts").await;
    assert!(
        html.contains("2 SKUs (4.0 days to 5.0 days), first opened"),
        "{html}"
    );
    assert!(html.contains("· 2 silenced"), "{html}");

    // The API: the same groups, and the group acknowledgement.
    let (status, api) = fx.get_json("/api/v1/alerts/groups?brand=mavena").await;
    assert_eq!(status, 200, "{api}");
    let groups = api["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{api}");
    let stale = groups
        .iter()
        .find(|g| g["rule"] == "unfulfilled_stale")
        .unwrap();
    assert_eq!(
        (stale["count"].as_u64(), stale["acknowledged"].as_u64()),
        (Some(14), Some(14))
    );
    assert_eq!(stale["members"].as_array().unwrap().len(), 14);
    let request = axum::http::Request::post("/api/v1/alerts/groups/ack")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            r#"{"rule":"inventory_low","brand":"mavena"}"#,
        ))
        .unwrap();
    let response = fx.send(request).await;
    assert_eq!(response.status(), 200);
    let done: serde_json::Value =
        serde_json::from_str(&crate::common::body_text(response).await).unwrap();
    assert_eq!(done, serde_json::json!({"acknowledged": 2, "already": 0}));
    let request = axum::http::Request::post("/api/v1/alerts/groups/ack")
        .header("content-type", "application/json")
        .body(axum::body::Body::from(
            r#"{"rule":"zero_orders","brand":"mavena"}"#,
        ))
        .unwrap();
    assert_eq!(fx.send(request).await.status(), 404, "no such group");
}
