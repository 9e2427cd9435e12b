//! Issue 14 points 5 and 7: a role scoped to some brands sees those
//! brands only, everywhere, and the region filter narrows every route that
//! takes a brand filter.
//!
//! The attack: an EU regional lead (the built-in `regional_lead` scoped to
//! the `eu` region, Mavena) walks every GET route the router declares
//! (enumerated from the router, as `money_roles` does), with every path
//! parameter taken from their own brand and from Kumo's, and with
//! `?brand=kumo` and `?region=apac` added, while Kumo has an order, a
//! ticket, alerts, a silence, a live high incident (incident mode), an
//! approval request and audit entries, each naming Kumo. No answer may
//! name Kumo or RetroMedy (the `apac` region), except the 403 that refuses
//! the brand asked for by name.

use crate::common::{body_text, concrete_uris, order, send_as, ts, walk_request, Fixture, NOW};
use crate::ingest::token;
use crate::pulse::post_form;
use axum::body::Body;
use axum::http::{Method, Request};
use jiff::tz::TimeZone;
use jiff::SignedDuration;
use opsdeck_accounts::roles::builtin::{FINANCE_LEAD, REGIONAL_LEAD};
use opsdeck_accounts::{builtin_allows, AuthConfig, PasswordHasher, Permission, RoleGrant, Roles};
use opsdeck_alerts::render::RenderConfig;
use opsdeck_alerts::{rules, AlertService, Evaluator, Observation, RuleSet};
use opsdeck_domain::support::Party;
use opsdeck_domain::Secret;
use opsdeck_domain::{
    BrandId, Channel, Currency, Money, Region, RegionId, SourceId, Ticket, TicketStatus,
};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_operations::approvals::{ApprovalPolicy, Approvals, CallbackPlatform, Executor, Retry};
use opsdeck_store::{AnyRecord, Role, TokenKinds};
use opsdeck_web::auth::Auth;
use opsdeck_web::testing::{declared_routes, user_session, Access, TestSession};
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

fn region(id: &str, brands: &[&str]) -> Region {
    Region {
        id: RegionId::parse(id).unwrap(),
        name: id.to_uppercase(),
        currency: Currency::USD,
        time_zone: TimeZone::UTC,
        brands: brands.iter().map(|b| BrandId::parse(b).unwrap()).collect(),
        countries: vec![],
        leads: vec![],
    }
}

/// The built-in roles, with `regional_lead` and `finance_lead` (who
/// reads the audit log and its export) scoped to `brands` (as
/// `[roles.regional_lead] regions = ["eu"]` makes it).
pub(crate) fn scoped_lead(brands: &[&str]) -> Roles {
    let mut roles = Roles::default();
    for role in [REGIONAL_LEAD, FINANCE_LEAD] {
        let permissions = Permission::ALL
            .into_iter()
            .filter(|p| builtin_allows(role, *p));
        roles
            .set(
                role,
                RoleGrant::of(permissions)
                    .scoped(brands.iter().map(|b| BrandId::parse(b).unwrap()).collect()),
            )
            .unwrap();
    }
    roles
}

fn observation(rule: &str, brand: &str, subject: &str, why: &str) -> Observation {
    Observation {
        rule: rule.into(),
        brand: brand.into(),
        subject: subject.into(),
        value: None,
        baseline: None,
        threshold: None,
        active: true,
        why: why.into(),
        why_without_money: None,
        dashboard_path: "/".into(),
    }
}

/// Opens alert episodes: (Mavena's, Kumo's, Kumo's), by id.
pub(crate) async fn fire_alerts(fx: &Fixture) -> Vec<(String, String)> {
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
    let now: jiff::Timestamp = NOW.parse().unwrap();
    let step = service
        .step(
            &[
                observation(
                    "unfulfilled_stale",
                    "mavena",
                    "order:#1001",
                    "Mavena order #1001 has waited 9 days.",
                ),
                observation(
                    "unfulfilled_stale",
                    "kumo",
                    "order:#2001",
                    "Kumo order #2001 has waited 9 days.",
                ),
                observation(
                    "source_stale",
                    "kumo",
                    "source:shopify-kumo",
                    "Kumo's shop has not synced for 6 h.",
                ),
            ],
            now - SignedDuration::from_mins(1),
        )
        .await
        .unwrap();
    step.changed
        .iter()
        .filter_map(|a| Some((a.brand.clone(), a.episode_id.clone()?)))
        .collect()
}

fn kumo_ticket() -> AnyRecord {
    AnyRecord::Ticket(Ticket {
        source: SourceId::parse("gorgias").unwrap(),
        external_id: "t2001".into(),
        brand: Some(BrandId::parse("kumo").unwrap()),
        status: TicketStatus::Open,
        channel: Channel::Email,
        subject: Some("Kumo order #2001 never arrived".into()),
        excerpt: None,
        priority: None,
        spam: false,
        tags: vec![],
        customer: Some(Party {
            external_id: None,
            email: Some("kenji@example.jp".into()),
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

struct Scene {
    fx: Fixture,
    lead: TestSession,
    /// The EU's finance lead, who reads the audit log.
    finance: TestSession,
    /// (brand, episode id) of every open alert.
    episodes: Vec<(String, String)>,
    /// Kumo's incident and approval.
    kumo_incident: String,
    kumo_approval: String,
}

/// Regions `eu` (Mavena) and `apac` (Kumo, RetroMedy); the EU lead; and
/// Kumo's data everywhere an attacker might look.
async fn scene() -> Scene {
    let mut fx = Fixture::new().await;
    fx.state.panel_config = Arc::new(PanelConfig {
        regions: vec![
            Region {
                countries: vec!["DE".into(), "FR".into()],
                ..region("eu", &["mavena"])
            },
            Region {
                countries: vec!["JP".into()],
                ..region("apac", &["kumo", "retromedy"])
            },
        ],
        ..PanelConfig::default()
    });
    fx.state.auth = Auth::new(AuthConfig {
        hasher: PasswordHasher::insecure_fast_for_tests(),
        roles: scoped_lead(&["mavena"]),
        ..AuthConfig::default()
    });
    let executor = Executor::new(
        opsdeck_alerts::notify::http_client(Duration::from_secs(5)),
        Retry {
            attempts: 1,
            first_wait: Duration::ZERO,
        },
    )
    .with_platform(
        "ingest-kumo",
        CallbackPlatform {
            secret: Secret::new("s3cret"),
            url_prefix: "http://127.0.0.1:9/".into(),
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
    let mut big = order(
        "shopify-kumo",
        "kumo",
        "2718",
        "2026-06-10T16:30:00Z",
        Money::new(271_828, Currency::JPY),
    );
    big.number = Some(2718);
    fx.state
        .store
        .upsert(&[AnyRecord::Order(big), kumo_ticket()], None)
        .await
        .unwrap();
    fx.build_projection().await;
    let episodes = fire_alerts(&fx).await;
    assert_eq!(episodes.len(), 3, "{episodes:?}");

    let admin = fx.session.clone();
    // A live high incident on Kumo: incident mode, banner on every page.
    let body = format!(
        "csrf_token={}&title=Kumo+checkout+down&severity=high&brand=kumo",
        admin.csrf_token
    );
    let (status, location, text) = post_form(fx.router(), &admin, "/incidents", &body).await;
    assert_eq!(status, 303, "{text}");
    let kumo_incident = location
        .split('#')
        .next()
        .unwrap()
        .trim_start_matches("/incidents/")
        .to_string();
    // A silence on Kumo (audited with its brand).
    let silence = Request::post("/api/v1/alerts/silences")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"brands": ["kumo"], "ends_at": "2026-06-11T18:00:00Z", "reason": "Kumo maintenance"})
                .to_string(),
        ))
        .unwrap();
    let response = send_as(fx.router(), &admin, silence).await;
    assert_eq!(response.status(), 201, "{}", body_text(response).await);
    // Kumo's platform asks for a refund's approval.
    let t = token(&fx, "kumo", TokenKinds::All).await;
    let ask = Request::post("/api/v1/approvals")
        .header("authorization", format!("Bearer {t}"))
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"kind": "refund", "summary": "Refund Kumo order 2718", "amount_minor": 90_000,
                   "currency": "JPY", "callback_url": "http://127.0.0.1:9/cb"})
            .to_string(),
        ))
        .unwrap();
    let response = tower::ServiceExt::oneshot(fx.router(), ask).await.unwrap();
    let status = response.status();
    let answer: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(status, 201, "{answer}");
    let kumo_approval = answer["id"].as_str().unwrap().to_string();

    let lead = user_session(fx.state.store.as_ref(), "lena", REGIONAL_LEAD, ts(NOW)).await;
    let finance = user_session(fx.state.store.as_ref(), "fiona", FINANCE_LEAD, ts(NOW)).await;
    Scene {
        fx,
        lead,
        finance,
        episodes,
        kumo_incident,
        kumo_approval,
    }
}

/// Every value a path parameter takes: the lead's own brand's, then Kumo's.
fn expand(path: &str, s: &Scene) -> Vec<String> {
    let episode = |brand: &str| {
        s.episodes
            .iter()
            .find(|(b, _)| b == brand)
            .map(|(_, id)| id.clone())
            .unwrap()
    };
    let id_for = |brand: &str| {
        if path.starts_with("/incidents") {
            if brand == "kumo" {
                s.kumo_incident.clone()
            } else {
                "999".into()
            }
        } else if path.starts_with("/approvals") {
            if brand == "kumo" {
                s.kumo_approval.clone()
            } else {
                "A-none".into()
            }
        } else {
            episode(brand)
        }
    };
    let sets = [
        ("shopify-mavena", "1001", "mavena", "1001", id_for("mavena")),
        ("shopify-kumo", "2718", "kumo", "2718", id_for("kumo")),
    ];
    let sets: Vec<BTreeMap<&str, String>> = sets
        .into_iter()
        .map(|(source, external_id, brand, number, id)| {
            BTreeMap::from([
                ("{source}", source.to_string()),
                ("{external_id}", external_id.to_string()),
                ("{brand}", brand.to_string()),
                ("{number}", number.to_string()),
                ("{id}", id),
                ("{index}", "0".to_string()),
                ("{key}", "freeze-checkout".to_string()),
                ("{token}", "0".repeat(64)),
            ])
        })
        .collect();
    concrete_uris(path, &sets)
}

/// `GET uri` as `session`.
async fn get(fx: &Fixture, session: &TestSession, uri: &str) -> (u16, String) {
    walk_request(fx, session, &Method::GET, uri).await
}

/// The words of the brands outside the EU lead's scope, found in `body`.
fn out_of_scope_words(body: &str) -> Vec<String> {
    let lower = body.to_lowercase();
    ["kumo", "retromedy"]
        .into_iter()
        .filter_map(|w| {
            let at = lower.find(w)?;
            let from = lower[..at]
                .char_indices()
                .rev()
                .nth(60)
                .map_or(0, |(i, _)| i);
            let to = lower[at..]
                .char_indices()
                .nth(60)
                .map_or(lower.len(), |(i, _)| at + i);
            Some(body[from..to].to_string())
        })
        .collect()
}

#[tokio::test]
async fn an_eu_scoped_lead_sees_no_other_region_brand_on_any_get_route() {
    let s = scene().await;
    let fx = &s.fx;
    // The admin sees Kumo's data where the lead must not (the test's
    // canaries are there to be found).
    for uri in [
        "/alerts",
        "/incidents",
        "/approvals",
        "/tickets?brand=kumo",
        "/audit",
        "/audit.csv",
    ] {
        let (status, body) = get(fx, &fx.session, uri).await;
        assert_eq!(status, 200, "{uri}");
        assert!(!out_of_scope_words(&body).is_empty(), "admin {uri}: {body}");
    }
    let routes: Vec<_> = declared_routes()
        .into_iter()
        .filter(|r| r.method == Method::GET && r.path != "/logout")
        .collect();
    assert!(routes.len() > 35, "{} GET routes enumerated", routes.len());
    let mut requests = 0;
    let mut ok = 0;
    for (route, who) in routes.iter().flat_map(|r| [(r, &s.lead), (r, &s.finance)]) {
        // The public routes answer anyone the same, anonymous callers
        // included (the status page, the OpenAPI document, health).
        if route.access == Access::Public {
            continue;
        }
        for base in expand(route.path, &s) {
            let sep = if base.contains('?') { '&' } else { '?' };
            for uri in [
                base.clone(),
                format!("{base}{sep}brand=kumo"),
                format!("{base}{sep}region=apac"),
            ] {
                let (status, body) = get(fx, who, &uri).await;
                requests += 1;
                let what = format!("GET {uri} → {status}");
                assert_ne!(status, 500, "{what}: {body}");
                if status == 200 {
                    ok += 1;
                }
                let asked_for_kumo = uri.contains("kumo");
                if asked_for_kumo && status == 200 {
                    let found = out_of_scope_words(&body);
                    assert!(found.is_empty(), "{what} answers about Kumo: {found:#?}");
                }
                if asked_for_kumo && matches!(status, 403 | 404) {
                    // Refused: the 403 may name the brand asked for, and
                    // nothing else.
                    assert!(!body.to_lowercase().contains("retromedy"), "{what}: {body}");
                    continue;
                }
                let found = out_of_scope_words(&body);
                assert!(
                    found.is_empty(),
                    "{what} names another region's brand: {found:#?}"
                );
            }
        }
    }
    // The finance lead read the audit log and its export: the filter ran.
    for uri in ["/audit", "/audit.csv"] {
        assert_eq!(get(fx, &s.finance, uri).await.0, 200, "{uri}");
    }
    eprintln!(
        "role_scope: {} GET routes, {requests} requests, {ok} answered 200",
        routes.len()
    );
    assert!(
        ok > 40,
        "{ok} answers read; the lead must see their own pages"
    );
}

#[tokio::test]
async fn the_lead_sees_their_brand_and_is_refused_another_by_name() {
    let s = scene().await;
    let fx = &s.fx;
    let lead = &s.lead;
    let json = |body: &str| -> serde_json::Value { serde_json::from_str(body).unwrap() };

    let (status, body) = get(fx, lead, "/session").await;
    assert_eq!(status, 200);
    assert_eq!(json(&body)["brands"], json!(["mavena"]));
    let (_, body) = get(fx, lead, "/api/v1/brands").await;
    let ids: Vec<String> = json(&body)["brands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, ["mavena"]);

    // Their alerts, not Kumo's; the region picker offers their region only.
    let (status, html) = get(fx, lead, "/alerts").await;
    assert_eq!(status, 200);
    assert!(html.contains("Mavena order #1001"), "{html}");
    assert!(html.contains("<option value=\"eu\">EU</option>"), "{html}");
    assert!(!html.contains("value=\"apac\""), "{html}");
    let (_, body) = get(fx, lead, "/api/v1/alerts").await;
    let brands: Vec<String> = json(&body)["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["brand"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(brands, ["mavena"], "{body}");

    // A brand outside the scope by name: 403 naming it and theirs.
    for uri in [
        "/api/v1/alerts?brand=kumo",
        "/api/v1/dashboard?brand=kumo",
        "/wismo?brand=kumo",
        "/funnel?brand=kumo",
        "/orders/by-number/kumo/2718",
        "/alerts?brand=kumo",
    ] {
        let (status, body) = get(fx, lead, uri).await;
        assert_eq!(status, 403, "{uri}: {body}");
        assert!(
            body.contains("kumo") && body.contains("outside the brands your role sees: mavena"),
            "{uri}: {body}"
        );
    }
    // A region with none of their brands: 403 naming it.
    let (status, body) = get(fx, lead, "/api/v1/alerts?region=apac").await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("apac"), "{body}");
    // The helpdesk-wide views hold other brands' tickets.
    for uri in ["/tickets?brand=all", "/api/v1/tickets?brand=unattributed"] {
        assert_eq!(get(fx, lead, uri).await.0, 403, "{uri}");
    }
    // Another brand's alert, order, incident or approval by id is not there.
    let kumo_alert = &s.episodes.iter().find(|(b, _)| b == "kumo").unwrap().1;
    for uri in [
        format!("/alerts/{kumo_alert}"),
        format!("/api/v1/alerts/{kumo_alert}"),
        "/orders/shopify-kumo/2718".to_string(),
        "/api/v1/orders/shopify-kumo/2718/timeline".to_string(),
        format!("/incidents/{}", s.kumo_incident),
        format!("/approvals/{}", s.kumo_approval),
    ] {
        assert_eq!(get(fx, lead, &uri).await.0, 404, "{uri}");
    }
    // Nor may they act on it: acknowledge, or silence every brand.
    let ack = Request::post(format!("/api/v1/alerts/{kumo_alert}/ack"))
        .header("content-type", "application/json")
        .body(Body::from("{}"))
        .unwrap();
    assert_eq!(send_as(fx.router(), lead, ack).await.status(), 404);
    let silence = Request::post("/api/v1/alerts/silences")
        .header("content-type", "application/json")
        .body(Body::from(
            json!({"ends_at": "2026-06-11T18:00:00Z", "reason": "quiet night"}).to_string(),
        ))
        .unwrap();
    let response = send_as(fx.router(), lead, silence).await;
    assert_eq!(response.status(), 201);
    let made: serde_json::Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(
        made["matchers"]["brands"],
        json!(["mavena"]),
        "a scoped lead's silence covers their brands only: {made}"
    );
    // An incident: for their brand, not over every brand (it would reach
    // every region), nor for Kumo.
    for (brand, expected) in [("mavena", 303), ("", 403), ("kumo", 403)] {
        let body = format!(
            "csrf_token={}&title=Checkout+slow&severity=medium&brand={brand}",
            lead.csrf_token
        );
        let (status, _, text) = post_form(fx.router(), lead, "/incidents", &body).await;
        assert_eq!(status, expected, "brand {brand:?}: {text}");
    }
    // The admin still sees every brand: nothing changed for them.
    let (status, body) = fx.get_json("/api/v1/alerts").await;
    assert_eq!(status, 200);
    assert_eq!(body["alerts"].as_array().unwrap().len(), 3, "{body}");
}

/// A user of a role that is not built in and not scoped, for contrast:
/// every brand (the default is no limit).
#[tokio::test]
async fn an_unscoped_role_sees_every_brand() {
    let s = scene().await;
    let ops = user_session(s.fx.state.store.as_ref(), "otto", Role::Ops, ts(NOW)).await;
    let (status, body) = get(&s.fx, &ops, "/api/v1/alerts").await;
    assert_eq!(status, 200);
    assert!(
        body.contains("\"kumo\"") && body.contains("\"mavena\""),
        "{body}"
    );
    let (_, session) = get(&s.fx, &ops, "/session").await;
    assert!(!session.contains("\"brands\""), "{session}");
}

async fn change_flag(
    s: &Scene,
    who: &TestSession,
    key: &str,
    body: serde_json::Value,
) -> (u16, String) {
    let request = Request::post(format!("/api/v1/flags/{key}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = send_as(s.fx.router(), who, request).await;
    let status = response.status().as_u16();
    (status, body_text(response).await)
}

/// The flags reach every brand (one sales pause holds every place), so a
/// scoped lead may pause sales in their own region's places only, and
/// touch nothing that reaches another region.
#[tokio::test]
async fn a_scoped_lead_pauses_sales_in_their_region_only() {
    let s = scene().await;
    let lead = &s.lead;
    let (status, body) = change_flag(
        &s,
        lead,
        "freeze-checkout",
        json!({"on": true, "reason": "psp outage"}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("freeze-checkout"), "{body}");
    let (status, body) = change_flag(
        &s,
        lead,
        "sales-pause",
        json!({"on": true, "reason": "customs", "targets": ["DE", "JP"]}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("JP") && body.contains("mavena"), "{body}");
    let (status, body) = change_flag(
        &s,
        lead,
        "sales-pause",
        json!({"on": true, "reason": "customs", "targets": ["de", "eu"]}),
    )
    .await;
    assert_eq!(status, 200, "their own region's places: {body}");
    // The admin adds Japan: the one pause now reaches Kumo's region, so
    // the lead may no longer change (or end) it.
    let (status, body) = change_flag(
        &s,
        &s.fx.session,
        "sales-pause",
        json!({"on": true, "reason": "customs", "targets": ["DE", "JP"]}),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = change_flag(
        &s,
        lead,
        "sales-pause",
        json!({"on": false, "reason": "cleared"}),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("JP"), "{body}");
}

/// A freeze is filed over every brand ("all brands"), which no limited
/// person sees; the lead who asked for it still follows their own request,
/// and another limited person does not see it.
#[tokio::test]
async fn a_limited_lead_follows_their_own_request_filed_over_every_brand() {
    let s = scene().await;
    let at = ts(NOW);
    let new = opsdeck_store::NewApproval {
        id: "A-freeze-1".into(),
        kind: opsdeck_store::ApprovalKind::FlagChange,
        brand: opsdeck_operations::flags::approval::ALL_BRANDS.into(),
        summary: "Switch on the sales pause in DE".into(),
        amount: None,
        percent_bp: None,
        action: serde_json::json!({}),
        target_version: None,
        subject: None,
        requested_by: "lena".into(),
        requested_via: opsdeck_store::RequestedVia::Dashboard,
        requested_at: at,
        expires_at: at.checked_add(SignedDuration::from_hours(24)).unwrap(),
        approver_role: "admin".into(),
        idempotency_key: "freeze-1".into(),
    };
    let audit = opsdeck_store::AuditEntry {
        at,
        actor: "lena".into(),
        action: opsdeck_store::AuditAction::ApprovalRequest,
        subject: "approval:A-freeze-1".into(),
        payload: serde_json::json!({}),
        ip: None,
    };
    s.fx.state
        .store
        .create_approval(&new, &[], &audit)
        .await
        .unwrap();
    for uri in ["/approvals", "/api/v1/approvals", "/approvals/A-freeze-1"] {
        let (status, body) = get(&s.fx, &s.lead, uri).await;
        assert_eq!(status, 200, "{uri}: {body}");
        assert!(
            body.contains("sales pause in DE"),
            "the lead's own request on {uri}: {body}"
        );
        let (status, body) = get(&s.fx, &s.finance, uri).await;
        assert!(
            !body.contains("sales pause in DE"),
            "another limited person does not see it on {uri} ({status}): {body}"
        );
    }
}
