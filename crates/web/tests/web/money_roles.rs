//! No amount of money reaches a role without revenue permission, on any
//! route: every route the router declares (enumerated from the router, not
//! listed here) is requested by every role, and each HTML, JSON, CSV and
//! event-stream answer is searched for currency amounts. The roles are
//! every built-in one (the original five and the playbook's) and a
//! configured one without revenue that may act on alerts, refresh and read
//! the audit log (`night_desk`), all through the configured matrix.
//!
//! On top of the shared fixture (whose orders are $100.00, $80.00, …):
//! - Mavena's order #4137 of **$4,137.93**, placed 2026-06-01 and not
//!   shipped (a stale order and a high-value fulfillment blocker), and an
//!   open Twitter ticket about it (urgent: VIP, over the $200 VIP value;
//!   the ticket page shows the order's value);
//! - Kumo's order #2718 of **¥271,828**, placed today;
//! - alert episodes naming amounts: a fulfillment blocker and a revenue
//!   anomaly worded with and without the amount, and one stored before
//!   amounts were kept apart (its reason names $4,137.93 and has no wording
//!   without it).

use crate::common::{concrete_uris, order, ts, walk_request, Fixture, NOW};
use axum::http::Method;
use jiff::SignedDuration;
use opsdeck_accounts::roles::builtin;
use opsdeck_accounts::{AuthConfig, PasswordHasher, Permission, RoleGrant, Roles};
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::{rules, AlertService, Evaluator, Figure, Observation, RuleSet};
use opsdeck_domain::support::Party;
use opsdeck_domain::{BrandId, Channel, Currency, Money, SourceId, Ticket, TicketStatus};
use opsdeck_store::{AnyRecord, Role};
use opsdeck_web::testing::{declared_routes, user_session, Access};
use std::collections::BTreeMap;

/// The fixture's distinctive amounts as pages and JSON write them.
const MAVENA_AMOUNT: &str = "4,137.93";
const MAVENA_MINOR: &str = "413793";
const KUMO_AMOUNT: &str = "271,828";
const KUMO_MINOR: &str = "271828";

fn ticket_about_4137() -> AnyRecord {
    AnyRecord::Ticket(Ticket {
        source: SourceId::parse("gorgias").unwrap(),
        external_id: "t4137".into(),
        brand: Some(BrandId::parse("mavena").unwrap()),
        status: TicketStatus::Open,
        channel: Channel::Twitter,
        subject: Some("Where is my order #4137".into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: vec![],
        customer: Some(Party {
            external_id: None,
            email: Some("bea@example.com".into()),
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

fn observation(rule: &str, brand: &str, subject: &str) -> Observation {
    Observation {
        rule: rule.into(),
        brand: brand.into(),
        subject: subject.into(),
        value: None,
        baseline: None,
        threshold: None,
        active: true,
        why: String::new(),
        why_without_money: None,
        dashboard_path: "/".into(),
    }
}

/// Alert episodes whose stored text names the fixture's amounts.
async fn fire_alerts(fx: &Fixture) -> Vec<String> {
    let mut rules = RuleSet::defaults();
    for mut r in rules::default_rules() {
        r.timing.pending_for = SignedDuration::ZERO;
        rules.upsert(r);
    }
    let service = AlertService::new(
        fx.state.store.clone(),
        Evaluator::new(rules),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "m",
    );
    let usd = |cents| Money::new(cents, Currency::USD);
    let mut blocker = observation("fulfillment_blocker", "mavena", "order:#4137");
    blocker.value = Some(Figure::new(219.0, "219 h"));
    blocker.why = "Order #4137 ($4,137.93) unfulfilled for 219 h; blocker after 48 h.".into();
    blocker.why_without_money =
        Some("Order #4137 unfulfilled for 219 h; blocker after 48 h.".into());
    let mut anomaly = observation("revenue_anomaly", "kumo", "brand");
    anomaly.value = Some(Figure::amount(
        271_828.0,
        Money::new(271_828, Currency::JPY),
    ));
    anomaly.baseline = Some(Figure::amount(413_793.0, usd(413_793)));
    anomaly.why =
        "Revenue today until 03:05 is ¥271,828 from 1 orders, 12 % of the usual ¥2,265,233.".into();
    anomaly.why_without_money =
        Some("Revenue today until 03:05 is 12 % of the usual from 1 orders.".into());
    // Stored before amounts were kept apart: no wording without money.
    let mut old = observation("unfulfilled_stale", "mavena", "order:#4137");
    old.value = Some(Figure::new(413_793.0, "$4,137.93"));
    old.why = "Order #4137 worth $4,137.93 has waited 9 days.".into();
    let now: jiff::Timestamp = NOW.parse().unwrap();
    let step = service
        .step(&[blocker, anomaly, old], now - SignedDuration::from_mins(1))
        .await
        .unwrap();
    step.changed
        .iter()
        .filter_map(|a| a.episode_id.clone())
        .collect()
}

/// The built-in roles and `night_desk`: what it may do, in every way
/// but money (a configured role, as `[roles.night_desk]` would make it).
fn configured_roles() -> (Roles, Role) {
    let night = Role::parse("night_desk").unwrap();
    let mut roles = Roles::default();
    let every_but_money = Permission::ALL
        .into_iter()
        .filter(|p| *p != Permission::ViewRevenue);
    roles.set(night, RoleGrant::of(every_but_money)).unwrap();
    (roles, night)
}

fn allows(role: Role, p: Permission) -> bool {
    configured_roles().0.allows(role, p)
}

async fn fixture() -> (Fixture, Vec<String>) {
    let mut fx = Fixture::new().await;
    fx.state.auth = opsdeck_web::auth::Auth::new(AuthConfig {
        hasher: PasswordHasher::insecure_fast_for_tests(),
        roles: configured_roles().0,
        ..AuthConfig::default()
    });
    let mut stuck = order(
        "shopify-mavena",
        "mavena",
        "4137",
        "2026-06-01T15:00:00Z",
        Money::new(4_137_93, Currency::USD),
    );
    stuck.name = "#4137".into();
    stuck.number = Some(4137);
    let mut kumo = order(
        "shopify-kumo",
        "kumo",
        "2718",
        "2026-06-10T16:30:00Z",
        Money::new(271_828, Currency::JPY),
    );
    kumo.name = "#2718".into();
    kumo.number = Some(2718);
    fx.state
        .store
        .upsert(
            &[
                AnyRecord::Order(stuck),
                AnyRecord::Order(kumo),
                ticket_about_4137(),
                refund_request(),
            ],
            None,
        )
        .await
        .unwrap();
    fx.build_projection().await;
    let episodes = fire_alerts(&fx).await;
    assert_eq!(episodes.len(), 3, "three episodes fired");
    (fx, episodes)
}

/// A custom platform's refund request of $123.45 on Mavena, an hour old
/// (on track: no breach alert), for the refunds queue's page and API.
fn refund_request() -> AnyRecord {
    AnyRecord::ReturnRequest(opsdeck_domain::ReturnRequest {
        source: opsdeck_domain::SourceId::parse("ingest-mavena").unwrap(),
        external_id: "rr-1".into(),
        brand: opsdeck_domain::BrandId::parse("mavena").unwrap(),
        order_id: Some("4137".into()),
        kind: opsdeck_domain::ReturnKind::Refund,
        status: opsdeck_domain::ReturnStatus::Requested,
        amount: Some(Money::new(12_345, Currency::USD)),
        reason: Some("damaged".into()),
        requested_at: ts("2026-06-10T17:05:00Z"),
        resolved_at: None,
        updated_at: ts("2026-06-10T17:05:00Z"),
        status_history: Vec::new(),
    })
}

/// Every currency amount in `text`: a symbol before a digit ("$4,137.93",
/// "¥271,828"), a number before a currency code ("1,500 KWD"), an exact
/// amount in JSON (`"minor": 413793`, `"revenue_minor": 2718.0`), or one of
/// the fixture's amounts in any form.
fn amounts_in(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut found = Vec::new();
    let around = |i: usize| -> String {
        chars[i.saturating_sub(30)..(i + 30).min(chars.len())]
            .iter()
            .collect()
    };
    for (i, c) in chars.iter().enumerate() {
        let next = chars.get(i + 1).copied().unwrap_or(' ');
        if matches!(c, '$' | '€' | '£' | '¥') && next.is_ascii_digit() {
            found.push(around(i));
        }
        if c.is_ascii_digit() && next == ' ' {
            let code: String = chars.iter().skip(i + 2).take(3).collect();
            let after = chars.get(i + 5).copied().unwrap_or(' ');
            if ["USD", "JPY", "EUR", "GBP"].contains(&code.as_str()) && !after.is_alphanumeric() {
                found.push(around(i));
            }
        }
    }
    for marker in [
        "\"minor\":",
        "_minor\":0",
        "_minor\":1",
        "_minor\":2",
        "_minor\":3",
        "_minor\":4",
        "_minor\":5",
        "_minor\":6",
        "_minor\":7",
        "_minor\":8",
        "_minor\":9",
        MAVENA_AMOUNT,
        MAVENA_MINOR,
        KUMO_AMOUNT,
        KUMO_MINOR,
    ] {
        if let Some(at) = text.find(marker) {
            found.push(text[at.saturating_sub(40)..(at + 40).min(text.len())].to_string());
        }
    }
    found
}

/// The values each path parameter takes: two coherent sets (Mavena's order
/// and the first episode, Kumo's order and another), every tile.
fn expand(path: &str, episodes: &[String]) -> Vec<String> {
    let sets: Vec<BTreeMap<&str, String>> = [
        ("shopify-mavena", "4137", "mavena", "4137", &episodes[0]),
        ("shopify-kumo", "2718", "kumo", "2718", &episodes[1]),
        ("shopify-mavena", "4137", "mavena", "4137", &episodes[2]),
    ]
    .into_iter()
    .map(|(source, external_id, brand, number, id)| {
        BTreeMap::from([
            ("{source}", source.to_string()),
            ("{external_id}", external_id.to_string()),
            ("{brand}", brand.to_string()),
            ("{number}", number.to_string()),
            ("{id}", id.clone()),
            // An incident's postmortem action item.
            ("{index}", "0".to_string()),
            ("{key}", "freeze-checkout".to_string()),
            // The one region of a configuration without regions, and a
            // morning checklist item.
            ("{region}", "all".to_string()),
            ("{item}", "overnight_orders".to_string()),
            // A privacy export's download link (unknown: 404).
            ("{token}", "0".repeat(64)),
        ])
    })
    .collect();
    concrete_uris(path, &sets)
}

#[tokio::test]
async fn no_route_shows_an_amount_to_a_role_without_revenue() {
    let (fx, episodes) = fixture().await;
    let mut routes = declared_routes();
    // Reads first, then writes; logging out last (it ends the session).
    routes.sort_by_key(|r| (r.method != Method::GET, r.path == "/logout"));
    let gets = routes.iter().filter(|r| r.method == Method::GET).count();
    assert!(gets > 35, "{gets} GET routes enumerated");
    let mut public_roles: Vec<(String, Role)> = builtin::ALL
        .into_iter()
        .map(|r| {
            let name = if r == Role::Admin {
                "admin2".to_string()
            } else {
                r.to_string().replace('_', "-")
            };
            (name, r)
        })
        .collect();
    public_roles.push(("night-desk".into(), configured_roles().1));
    let role_count = public_roles.len();
    let mut requests = 0;
    let mut sessions = Vec::new();
    for (name, role) in &public_roles {
        let session = user_session(fx.state.store.as_ref(), name, *role, ts(NOW)).await;
        sessions.push((name.as_str(), *role, session, String::new()));
    }
    // Every role reads before any role writes: an alert one role resolves
    // must not hide its amount from the roles after it.
    let (reads, writes): (Vec<_>, Vec<_>) = routes.iter().partition(|r| r.method == Method::GET);
    for phase in [reads, writes] {
        for (name, role, session, seen) in sessions.iter_mut() {
            let (name, role) = (*name, *role);
            let sees_money = allows(role, Permission::ViewRevenue);
            for route in &phase {
                for uri in expand(route.path, &episodes) {
                    let (status, body) = walk_request(&fx, session, &route.method, &uri).await;
                    requests += 1;
                    let what = format!("{name} ({role}) {} {uri} → {status}", route.method);
                    assert_ne!(status, 500, "{what}: {body}");
                    if let Access::Require(p) = route.access {
                        if !allows(role, p) {
                            assert_eq!(status, 403, "{what}: the route needs {p:?}");
                        }
                    }
                    // The OpenAPI document's examples ("$12,345.67") describe
                    // the API; they are the same text for everyone, anonymous
                    // callers included.
                    if !sees_money && uri != "/api/v1/openapi.json" {
                        let found = amounts_in(&body);
                        assert!(found.is_empty(), "{what} shows money: {found:#?}");
                    }
                    seen.push_str(&body);
                }
            }
        }
    }
    for (name, role, _, seen) in &sessions {
        if allows(*role, Permission::ViewRevenue) {
            for amount in [MAVENA_AMOUNT, MAVENA_MINOR, KUMO_AMOUNT, KUMO_MINOR] {
                assert!(seen.contains(amount), "{name} never sees {amount}");
            }
        }
    }
    eprintln!(
        "money_roles: {} declared routes, {requests} requests over {role_count} roles",
        routes.len()
    );
    assert!(role_count == 11, "{role_count} roles");
    assert!(requests > role_count * 50, "{requests} requests");
}

/// The routes the issue named, one by one: revenue roles see the amount,
/// the others the same answer without it.
#[tokio::test]
async fn revenue_roles_see_the_amounts_the_others_do_not() {
    let (fx, episodes) = fixture().await;
    let alert = &episodes[0];
    // (route, whether revenue roles see an amount there): the urgent
    // queue's API and the dashboard's feed carry no amount for anyone.
    let routes = [
        ("/orders/shopify-mavena/4137".to_string(), true),
        ("/orders/by-number/mavena/4137".to_string(), true),
        (
            "/api/v1/orders/shopify-mavena/4137/timeline".to_string(),
            true,
        ),
        ("/alerts".to_string(), true),
        (format!("/alerts/{alert}"), true),
        (format!("/api/v1/alerts/{alert}"), true),
        ("/api/v1/alerts".to_string(), true),
        ("/tickets?brand=mavena".to_string(), true),
        ("/api/v1/urgent-tickets?brand=mavena".to_string(), false),
        ("/fragments/feed".to_string(), false),
        ("/fragments/volume".to_string(), true),
        ("/api/v1/fulfillment?brand=mavena".to_string(), true),
        ("/queues/refunds?brand=mavena".to_string(), true),
        ("/api/v1/queues/refunds?brand=mavena".to_string(), true),
    ];
    for (name, role) in [
        ("ops", Role::Ops),
        ("finance", Role::Finance),
        ("support", Role::Support),
        ("viewer", Role::Viewer),
    ] {
        let session = user_session(fx.state.store.as_ref(), name, role, ts(NOW)).await;
        for (uri, has_amount) in &routes {
            let (status, body) = walk_request(&fx, &session, &Method::GET, uri).await;
            assert_eq!(status, 200, "{name} {uri}: {body}");
            let found = amounts_in(&body);
            if allows(role, Permission::ViewRevenue) {
                assert_eq!(!found.is_empty(), *has_amount, "{name} on {uri}: {body}");
            } else {
                assert!(found.is_empty(), "{name} sees money on {uri}: {found:#?}");
            }
        }
    }
    // Without the amount, the alert still says what it is about.
    let viewer = user_session(fx.state.store.as_ref(), "val", Role::Viewer, ts(NOW)).await;
    let (_, html) = walk_request(&fx, &viewer, &Method::GET, "/alerts").await;
    assert!(html.contains("Order #4137 unfulfilled for 219 h"), "{html}");
    assert!(html.contains("12 % of the usual"), "{html}");
    let (_, html) = walk_request(&fx, &viewer, &Method::GET, "/tickets?brand=mavena").await;
    assert!(html.contains("order #4137"), "{html}");
}
