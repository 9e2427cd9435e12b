//! Issue 14, points 5 and 7 through the router: a configured role gets
//! exactly its permissions on every kind of route (the built-in roles are
//! the auth tests' business, unchanged), a user whose role is not
//! configured gets nothing, and a region filters the dashboard page and
//! the API as the brands it stands for, with money across currencies
//! totalled by the reporting-currency rule.

use crate::common::{body_text, send_as, ts, Fixture, NOW};
use axum::body::Body;
use axum::http::Request;
use jiff::tz::TimeZone;
use opsdeck_accounts::{AuthConfig, PasswordHasher, Permission, RoleGrant, Roles};
use opsdeck_domain::{BrandId, Currency, Region, RegionId};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_store::Role;
use opsdeck_web::auth::Auth;
use opsdeck_web::testing::user_session;
use std::sync::Arc;

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_json(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn with_roles(fx: &mut Fixture, roles: Roles) {
    fx.state.auth = Auth::new(AuthConfig {
        hasher: PasswordHasher::insecure_fast_for_tests(),
        roles,
        ..AuthConfig::default()
    });
}

#[tokio::test]
async fn a_configured_role_has_exactly_its_permissions_over_http() {
    let mut fx = Fixture::new().await;
    let night = Role::parse("night_desk").unwrap();
    let mut roles = Roles::default();
    roles
        .set(
            night,
            RoleGrant::of([Permission::ViewDashboard, Permission::ActOnAlerts]),
        )
        .unwrap();
    // A built-in role redefined: viewers may see revenue here.
    roles
        .set(
            Role::Viewer,
            RoleGrant::of([Permission::ViewDashboard, Permission::ViewRevenue]),
        )
        .unwrap();
    with_roles(&mut fx, roles);
    let store = fx.state.store.clone();
    let nina = user_session(store.as_ref(), "nina", night, ts(NOW)).await;
    let vera = user_session(store.as_ref(), "vera", Role::Viewer, ts(NOW)).await;
    let status = |s: &opsdeck_web::testing::TestSession, r: Request<Body>| {
        let router = fx.router();
        let s = s.clone();
        async move { send_as(router, &s, r).await.status().as_u16() }
    };
    // night_desk: dashboard and alert actions, no money, no audit, no users.
    assert_eq!(status(&nina, get("/api/v1/alerts")).await, 200);
    assert_eq!(status(&nina, get("/")).await, 200);
    let ack = status(&nina, post_json("/api/v1/alerts/E1/ack", "{}")).await;
    assert!(ack != 401 && ack != 403, "ack: {ack}");
    assert_eq!(status(&nina, get("/api/v1/dashboard")).await, 403);
    assert_eq!(status(&nina, get("/pulse")).await, 403);
    assert_eq!(status(&nina, get("/audit")).await, 403);
    assert_eq!(status(&nina, post_json("/refresh", "{}")).await, 403);
    assert_eq!(status(&nina, post_json("/settings", "{}")).await, 403);
    // What the session says the role may do is the same matrix.
    let r = send_as(fx.router(), &nina, get("/session")).await;
    let info: serde_json::Value = serde_json::from_str(&body_text(r).await).unwrap();
    assert_eq!(info["role"], "night_desk");
    assert_eq!(
        info["permissions"],
        serde_json::json!(["ViewDashboard", "ActOnAlerts"])
    );
    // The nav offers what the role may open, and no more.
    let html = body_text(send_as(fx.router(), &nina, get("/")).await).await;
    assert!(html.contains("href=\"/alerts\""), "{html}");
    assert!(!html.contains("href=\"/pulse\""), "{html}");
    // The redefined viewer sees revenue.
    assert_eq!(status(&vera, get("/api/v1/dashboard")).await, 200);
    assert_eq!(
        status(&vera, post_json("/api/v1/alerts/E1/ack", "{}")).await,
        403
    );
}

#[tokio::test]
async fn a_user_whose_role_is_not_configured_may_do_nothing() {
    let fx = Fixture::new().await;
    let ghost = Role::parse("night_desk").unwrap();
    let s = user_session(fx.state.store.as_ref(), "gus", ghost, ts(NOW)).await;
    for uri in ["/", "/api/v1/alerts", "/api/v1/brands"] {
        let status = send_as(fx.router(), &s, get(uri)).await.status();
        assert_eq!(status, 403, "{uri}");
    }
}

fn region(id: &str, brands: &[&str], currency: Currency) -> Region {
    Region {
        id: RegionId::parse(id).unwrap(),
        name: id.to_uppercase(),
        currency,
        time_zone: TimeZone::UTC,
        brands: brands.iter().map(|b| BrandId::parse(b).unwrap()).collect(),
        countries: vec![],
        leads: vec![],
    }
}

/// The fixture (Mavena in USD, Kumo in JPY, RetroMedy not launched) with
/// regions `us` (Mavena, RetroMedy) and `jp` (Kumo), and a yen rate.
async fn regional() -> Fixture {
    let mut fx = Fixture::with_projection().await;
    fx.state.panel_config = Arc::new(PanelConfig {
        reporting_currency: Currency::USD,
        // 0.0065 USD per JPY.
        rates: [(Currency::JPY, 6_500)].into_iter().collect(),
        regions: vec![
            region("us", &["mavena", "retromedy"], Currency::USD),
            region("jp", &["kumo"], Currency::JPY),
            // No brands yet: still a region, offered and named.
            region("uae", &[], Currency::USD),
        ],
        ..PanelConfig::default()
    });
    fx
}

fn brand_ids(json: &serde_json::Value) -> Vec<String> {
    json["brands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["brand"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_region_filters_the_api_as_its_brands() {
    let fx = regional().await;
    let (status, all) = fx.get_json("/api/v1/dashboard").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(brand_ids(&all), ["mavena", "kumo", "retromedy"]);

    let (status, us) = fx.get_json("/api/v1/dashboard?region=us").await;
    assert_eq!(status, 200, "{us}");
    assert_eq!(brand_ids(&us), ["mavena", "retromedy"]);
    let (_, mavena) = fx.get_json("/api/v1/dashboard?brand=mavena").await;
    assert_eq!(us["sales_total"], mavena["sales_total"]);

    // Kumo's yen, in the reporting currency by the one rate rule:
    // ¥1,500 × 0.0065 = $9.75.
    let (_, jp) = fx.get_json("/api/v1/dashboard?region=jp").await;
    assert_eq!(brand_ids(&jp), ["kumo"]);
    let total = &jp["sales_total"];
    assert_eq!(total["gross_revenue"]["minor"], 975, "{total}");
    assert_eq!(total["gross_revenue"]["currency"], "USD", "{total}");
    assert_eq!(total["brands_without_rate"], serde_json::json!([]));
    // All brands = the two regions together.
    let minor =
        |v: &serde_json::Value| v["sales_total"]["gross_revenue"]["minor"].as_i64().unwrap();
    assert_eq!(minor(&all), minor(&us) + minor(&jp));

    // A brand outside the region is excluded; inside, it is chosen.
    let (status, none) = fx
        .get_json("/api/v1/dashboard?region=jp&brand=mavena")
        .await;
    assert_eq!(status, 200, "{none}");
    assert_eq!(brand_ids(&none), Vec::<String>::new());
    assert_eq!(none["sales_total"]["orders"], 0);
    let (_, one) = fx
        .get_json("/api/v1/dashboard?region=us&brand=mavena")
        .await;
    assert_eq!(brand_ids(&one), ["mavena"]);

    // The panels without a range and the support panels take it too.
    let (status, f) = fx.get_json("/api/v1/fulfillment?region=jp").await;
    assert_eq!(status, 200, "{f}");
    assert_eq!(brand_ids(&f), ["kumo"]);
    let (status, t) = fx.get_json("/api/v1/tickets?region=us").await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(brand_ids(&t), ["mavena", "retromedy"]);
    assert!(t.get("views").is_none(), "no helpdesk-wide views: {t}");

    // An unknown region is a 400 naming it and the regions there are.
    let (status, err) = fx.get_json("/api/v1/dashboard?region=mars").await;
    assert_eq!(status, 400);
    let message = err.to_string();
    assert!(
        message.contains("mars") && message.contains("us, jp"),
        "{message}"
    );
}

#[tokio::test]
async fn a_region_filters_the_dashboard_page() {
    let fx = regional().await;
    let html = body_text(fx.get("/?region=jp").await).await;
    assert!(html.contains("id=\"brand-kumo\""), "{html}");
    assert!(!html.contains("id=\"brand-mavena\""), "{html}");
    // The filter offers the regions and keeps the one chosen; the live
    // tiles re-fetch with it.
    assert!(
        html.contains("<option value=\"jp\" selected>JP</option>"),
        "{html}"
    );
    assert!(
        html.contains("data-src=\"&#x2f;fragments&#x2f;volume?region=jp\""),
        "{html}"
    );
    let html = body_text(fx.get("/?region=us").await).await;
    assert!(html.contains("id=\"brand-mavena\""), "{html}");
    assert!(!html.contains("id=\"brand-kumo\""), "{html}");
    let fragment = body_text(fx.get("/fragments/volume?region=jp").await).await;
    assert!(
        fragment.contains("Kumo") && !fragment.contains("Mavena"),
        "{fragment}"
    );
    assert_eq!(fx.get("/?region=mars").await.status(), 400);
}

/// Every route that takes `?brand=` takes `?region=` through the one
/// reading (`params::chosen_brands`): the alerts API and page narrow to
/// the region's brands, the single-brand pages offer and show the region's
/// brands, and an unknown region is a 400 naming the regions there are.
#[tokio::test]
async fn a_region_narrows_every_brand_filtered_route() {
    let fx = regional().await;
    let fired = crate::role_scope::fire_alerts(&fx).await;
    assert_eq!(fired.len(), 3);
    let alert_brands = |json: &serde_json::Value, key: &str| -> Vec<String> {
        json[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["brand"].as_str().unwrap().to_string())
            .collect()
    };
    let (status, all) = fx.get_json("/api/v1/alerts").await;
    assert_eq!(status, 200, "{all}");
    assert_eq!(alert_brands(&all, "alerts").len(), 3, "{all}");
    let (_, jp) = fx.get_json("/api/v1/alerts?region=jp").await;
    assert_eq!(alert_brands(&jp, "alerts"), ["kumo", "kumo"], "{jp}");
    let (_, us) = fx.get_json("/api/v1/alerts?region=us&state=all").await;
    assert_eq!(alert_brands(&us, "alerts"), ["mavena"], "{us}");
    let (_, none) = fx.get_json("/api/v1/alerts?region=jp&brand=mavena").await;
    assert_eq!(alert_brands(&none, "alerts"), Vec::<String>::new());
    let (_, groups) = fx.get_json("/api/v1/alerts/groups?region=jp").await;
    assert_eq!(
        alert_brands(&groups, "groups"),
        ["kumo", "kumo"],
        "{groups}"
    );

    let html = body_text(fx.get("/alerts?region=jp").await).await;
    assert!(
        html.contains("Kumo order #2001") && !html.contains("Mavena order #1001"),
        "{html}"
    );
    assert!(
        html.contains("<option value=\"jp\" selected>JP</option>"),
        "{html}"
    );
    let html = body_text(fx.get("/alerts?region=us").await).await;
    assert!(
        !html.contains("Kumo order #2001") && html.contains("Mavena order #1001"),
        "{html}"
    );

    // The single-brand pages: the region's brands in the picker, its
    // first launched brand shown; a brand outside it gives way to it.
    for page in ["/wismo", "/inventory", "/catalog", "/tickets", "/pulse"] {
        let response = fx.get(&format!("{page}?region=jp")).await;
        assert_eq!(response.status(), 200, "{page}");
        let html = body_text(response).await;
        assert!(html.contains("— Kumo</h1>"), "{page}: {html}");
        assert!(!html.contains("<option value=\"mavena\""), "{page}: {html}");
        assert!(
            html.contains("<option value=\"jp\" selected>JP</option>"),
            "{page}: the region picker keeps the choice"
        );
        let html = body_text(fx.get(&format!("{page}?region=us&brand=kumo")).await).await;
        assert!(html.contains("— Mavena</h1>"), "{page}: {html}");
        let html = body_text(fx.get(&format!("{page}?region=us&brand=mavena")).await).await;
        assert!(html.contains("— Mavena</h1>"), "{page}: {html}");
    }

    // An unknown region, everywhere: 400 naming it and the regions.
    for route in [
        "/api/v1/alerts",
        "/api/v1/alerts/groups",
        "/alerts",
        "/wismo",
        "/inventory",
        "/catalog",
        "/tickets",
        "/pulse",
        "/",
        "/api/v1/inventory",
        "/api/v1/urgent-tickets",
        "/api/v1/order-volume",
    ] {
        let response = fx.get(&format!("{route}?region=mars")).await;
        assert_eq!(response.status(), 400, "{route}");
        let body = body_text(response).await;
        assert!(
            body.contains("mars") && body.contains("us, jp, uae"),
            "{route}: {body}"
        );
    }
}

/// Point 3: every role the approval policy names as an approver holds
/// `decide_approvals` by default, and so do the leads the playbook names
/// (finance: prices and refunds; regional: discounts; product: new
/// products; content: content updates), each of whom may also ask.
#[test]
fn every_approver_role_holds_decide_approvals() {
    use opsdeck_accounts::roles::builtin::*;
    use opsdeck_operations::approvals::ApprovalPolicy;
    use opsdeck_store::ApprovalKind;
    let roles = Roles::default();
    let policy = ApprovalPolicy::playbook();
    for &kind in ApprovalKind::ALL {
        let approver = policy.rule(kind).approver_role;
        assert!(
            roles.allows(approver, Permission::DecideApprovals),
            "{kind}: its approver {approver} may not decide"
        );
    }
    for lead in [FINANCE_LEAD, REGIONAL_LEAD, PRODUCT_LEAD, CONTENT_LEAD] {
        assert!(roles.allows(lead, Permission::DecideApprovals), "{lead}");
        assert!(roles.allows(lead, Permission::RequestApprovals), "{lead}");
    }
    assert!(roles.allows(REGIONAL_LEAD, Permission::ManageIncidents));
    assert!(roles.allows(REGIONAL_LEAD, Permission::ChangeFlags));
    assert!(roles.allows(FINANCE_LEAD, Permission::ViewRevenue));
    for no_money in [PRODUCT_LEAD, CONTENT_LEAD, REVIEWER] {
        assert!(
            !roles.allows(no_money, Permission::ViewRevenue),
            "{no_money}"
        );
    }
}
