//! Incidents over HTTP: incident mode's banner on every page and the
//! dashboard's pin while a critical or high incident is live (and gone
//! once it is resolved), the public status JSON, refused transitions,
//! declaring from an alert (linked both ways), by the ingest API, who may
//! act, and every change in the audit log.

use crate::common::{body_text, ts, Fixture, NOW};
use crate::ingest::token;
use crate::pulse::{get_as, post_form, session};
use opsdeck_store::{AuditAction, AuditFilter, Role, TokenKinds};
use serde_json::Value;

async fn audited(fx: &Fixture, action: AuditAction) -> Vec<opsdeck_store::AuditEntry> {
    fx.state
        .store
        .search_audit(&AuditFilter {
            action: Some(action),
            limit: 100,
            ..AuditFilter::default()
        })
        .await
        .unwrap()
}

/// The banner's HTML on a page ("" without one).
fn banner(html: &str) -> &str {
    html.split_once("id=\"incident-banner\"")
        .and_then(|(_, rest)| rest.split_once("</div>"))
        .map_or("", |(b, _)| b)
}

/// Declares over the form; returns the new incident's path.
async fn declare(fx: &Fixture, title: &str, severity: &str, extra: &str) -> String {
    let s = &fx.session;
    let body = format!(
        "csrf_token={}&title={}&severity={severity}&brand=mavena{extra}",
        s.csrf_token,
        title.replace(' ', "+")
    );
    let (status, location, text) = post_form(fx.router(), s, "/incidents", &body).await;
    assert_eq!(status, 303, "{text}");
    location.split('#').next().unwrap().to_string()
}

#[tokio::test]
async fn incident_mode_shows_a_banner_on_every_page_over_http_until_resolved() {
    let fx = Fixture::new().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(opsdeck_web::serve(listener, fx.state.clone(), async {
        let _ = stopped.await;
    }));
    let base = format!("http://{addr}");
    let session = opsdeck_web::testing::login(&base, "admin", crate::common::PASSWORD)
        .await
        .unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let page = |path: &'static str| {
        let (client, base, cookie) = (client.clone(), base.clone(), session.cookie.clone());
        async move {
            let r = client
                .get(format!("{base}{path}"))
                .header("cookie", cookie)
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{path}");
            r.text().await.unwrap()
        }
    };
    let post = |path: String, form: Vec<(&'static str, String)>| {
        let (client, base, s) = (client.clone(), base.clone(), session.clone());
        async move {
            let mut form = form;
            form.push(("csrf_token", s.csrf_token.clone()));
            client
                .post(format!("{base}{path}"))
                .header("cookie", s.cookie)
                .form(&form)
                .send()
                .await
                .unwrap()
        }
    };
    for path in ["/", "/wismo", "/alerts", "/incidents"] {
        assert!(
            !page(path).await.contains("id=\"incident-banner\""),
            "{path}"
        );
    }
    // A low incident is not incident mode.
    let r = post(
        "/incidents".into(),
        vec![
            ("title", "Slow product images".into()),
            ("severity", "low".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    assert!(!page("/wismo").await.contains("id=\"incident-banner\""));
    // A high one is: every page shows it, the dashboard pins it.
    let r = post(
        "/incidents".into(),
        vec![
            ("title", "Checkout failing in the EU".into()),
            ("severity", "high".into()),
            ("brand", "mavena".into()),
            ("summary", "Some customers cannot pay".into()),
            ("public", "on".into()),
        ],
    )
    .await;
    assert_eq!(r.status(), 303);
    let location = r.headers()["location"].to_str().unwrap().to_string();
    let path = location.split('#').next().unwrap().to_string();
    for p in ["/", "/wismo", "/alerts", "/incidents", "/sources"] {
        let html = page(p).await;
        assert!(html.contains("id=\"incident-banner\""), "{p}: {html}");
        assert!(html.contains("Checkout failing in the EU"), "{p}");
        assert!(html.contains("HIGH incident"), "{p}");
        assert!(!banner(&html).contains("Slow product images"), "{p}");
    }
    assert!(page("/").await.contains("id=\"pinned-incidents\""));
    // The public status document, without a login.
    let status: Value = client
        .get(format!("{base}/status.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["status"]["indicator"], "major");
    assert_eq!(status["incidents"].as_array().unwrap().len(), 1, "{status}");
    assert_eq!(status["incidents"][0]["name"], "Checkout failing in the EU");
    assert_eq!(
        status["incidents"][0]["incident_updates"][0]["body"],
        "Some customers cannot pay"
    );
    // Resolved: the banner and the pin are gone.
    let r = post(
        format!("{path}/transition"),
        vec![("to", "resolved".into())],
    )
    .await;
    assert_eq!(r.status(), 303);
    for p in ["/", "/wismo", "/incidents"] {
        assert!(!page(p).await.contains("id=\"incident-banner\""), "{p}");
    }
    assert!(!page("/").await.contains("id=\"pinned-incidents\""));
    let status: Value = client
        .get(format!("{base}/status.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(status["incidents"][0]["status"], "resolved");
    assert_eq!(status["status"]["indicator"], "none");
    stop.send(()).unwrap();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_status_json_is_public_and_shows_no_internal_note() {
    let fx = Fixture::new().await;
    let path = declare(
        &fx,
        "Payments down",
        "critical",
        "&summary=stripe+key+rotated",
    )
    .await;
    let s = &fx.session;
    let body = format!("csrf_token={}&text=We+are+on+it&public=on", s.csrf_token);
    let (status, _, _) = post_form(fx.router(), s, &format!("{path}/updates"), &body).await;
    assert_eq!(status, 303);
    let body = format!(
        "csrf_token={}&component=payments&scope=mavena&status=major_outage",
        s.csrf_token
    );
    let (status, _, text) = post_form(fx.router(), s, "/incidents/components", &body).await;
    assert_eq!(status, 303, "{text}");
    let response = fx.get("/status.json").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["access-control-allow-origin"], "*");
    let text = body_text(response).await;
    assert!(
        !text.contains("stripe key"),
        "internal update leaked: {text}"
    );
    assert!(!text.contains("admin"), "who did what is internal: {text}");
    let json: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(json["status"]["indicator"], "critical");
    let components = json["components"].as_array().unwrap();
    assert_eq!(components.len(), 15, "5 components × 3 brands");
    let payments = components
        .iter()
        .find(|c| c["id"] == "payments:mavena")
        .unwrap();
    assert_eq!(payments["status"], "major_outage");
    assert_eq!(json["incidents"][0]["impact"], "critical");
    assert_eq!(
        json["incidents"][0]["incident_updates"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(audited(&fx, AuditAction::ComponentStatus).await.len(), 1);
}

#[tokio::test]
async fn invalid_transitions_are_refused_and_every_change_is_audited() {
    let fx = Fixture::new().await;
    let path = declare(&fx, "Carrier API down", "medium", "").await;
    let s = &fx.session;
    let step = |to: &str| format!("csrf_token={}&to={to}&note=n", s.csrf_token);
    for (to, from) in [("closed", "triage"), ("triage", "triage")] {
        let (status, _, text) =
            post_form(fx.router(), s, &format!("{path}/transition"), &step(to)).await;
        assert_eq!(status, 400, "{text}");
        assert!(
            text.contains(&format!("cannot go from {from} to {to}")),
            "{text}"
        );
    }
    for to in ["investigating", "mitigated", "resolved", "closed"] {
        let (status, _, text) =
            post_form(fx.router(), s, &format!("{path}/transition"), &step(to)).await;
        assert_eq!(status, 303, "{to}: {text}");
    }
    let (status, _, text) = post_form(
        fx.router(),
        s,
        &format!("{path}/transition"),
        &step("investigating"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("nothing (it is final)"), "{text}");
    let body = format!(
        "csrf_token={}&summary=Carrier+outage&impact_from=2026-06-10T10:00:00Z&impact_until=2026-06-10T11:00:00Z&contributing_factors=one+carrier&what_worked=manual+labels",
        s.csrf_token
    );
    let (status, _, text) = post_form(fx.router(), s, &format!("{path}/postmortem"), &body).await;
    assert_eq!(status, 303, "{text}");
    let body = format!(
        "csrf_token={}&text=Add+a+second+carrier&owner=bo&due=2026-06-30",
        s.csrf_token
    );
    let (status, _, _) = post_form(fx.router(), s, &format!("{path}/action-items"), &body).await;
    assert_eq!(status, 303);
    // The open action item is listed on the dashboard.
    let (status, html) = get_as(&fx, s, "/").await;
    assert_eq!(status, 200);
    assert!(html.contains("id=\"open-action-items\""), "{html}");
    assert!(html.contains("Add a second carrier"));
    let (status, html) = get_as(&fx, s, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("Carrier outage"), "{html}");
    let transitions = audited(&fx, AuditAction::IncidentTransition).await;
    assert_eq!(transitions.len(), 4, "refused steps write nothing");
    let id = path.trim_start_matches("/incidents/");
    assert!(transitions
        .iter()
        .all(|e| e.actor == "admin" && e.subject == format!("incident:{id}")));
    let mut to: Vec<&str> = transitions
        .iter()
        .map(|e| e.payload["to"].as_str().unwrap())
        .collect();
    to.sort();
    assert_eq!(to, ["closed", "investigating", "mitigated", "resolved"]);
    assert_eq!(transitions[0].at, ts(NOW));
    assert_eq!(audited(&fx, AuditAction::IncidentDeclare).await.len(), 1);
    assert_eq!(audited(&fx, AuditAction::IncidentPostmortem).await.len(), 1);
    assert_eq!(audited(&fx, AuditAction::IncidentActionItem).await.len(), 1);
}

#[tokio::test]
async fn a_role_without_the_permission_reads_but_cannot_act() {
    let fx = Fixture::new().await;
    let path = declare(&fx, "Support inbox down", "high", "").await;
    let viewer = session(&fx, "vera", Role::Viewer).await;
    let (status, html) = get_as(&fx, &viewer, &path).await;
    assert_eq!(status, 200);
    assert!(!html.contains("/acknowledge\""), "no buttons for a reader");
    let body = format!("csrf_token={}", viewer.csrf_token);
    let (status, _, _) =
        post_form(fx.router(), &viewer, &format!("{path}/acknowledge"), &body).await;
    assert_eq!(status, 403);
    let body = format!("csrf_token={}&title=x&severity=low", viewer.csrf_token);
    let (status, _, _) = post_form(fx.router(), &viewer, "/incidents", &body).await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn declared_from_an_alert_the_two_link_both_ways() {
    let fx = Fixture::new().await;
    crate::stored_alerts::store_it(&fx).await;
    let path = declare(&fx, "Blocked orders", "high", "&alerts=E1").await;
    let (_, html) = get_as(&fx, &fx.session, &path).await;
    assert!(html.contains("href=\"/alerts/E1\""), "{html}");
    assert!(html.contains("from alerts"), "{html}");
    let (status, html) = get_as(&fx, &fx.session, "/alerts/E1").await;
    assert_eq!(status, 200);
    assert!(html.contains(&format!("href=\"{path}\"")), "{html}");
    let (_, html) = get_as(&fx, &fx.session, "/alerts/E1").await;
    assert!(html.contains("Blocked orders"));
    // An alert that does not exist is refused, naming it.
    let s = &fx.session;
    let body = format!(
        "csrf_token={}&title=x&severity=low&alerts=NOPE",
        s.csrf_token
    );
    let (status, _, text) = post_form(fx.router(), s, "/incidents", &body).await;
    assert_eq!(status, 400);
    assert!(text.contains("no alert"), "{text}");
}

#[tokio::test]
async fn a_platform_declares_with_its_ingest_token() {
    let fx = Fixture::new().await;
    let allowed = token(&fx, "kumo", TokenKinds::Only(vec!["incidents".into()])).await;
    let orders_only = token(&fx, "kumo", TokenKinds::Only(vec!["orders".into()])).await;
    let send = |token: Option<String>, body: &'static str| {
        let router = fx.router();
        async move {
            let mut r = axum::http::Request::post("/api/v1/incidents")
                .header("content-type", "application/json");
            if let Some(t) = token {
                r = r.header("authorization", format!("Bearer {t}"));
            }
            let response =
                tower::ServiceExt::oneshot(router, r.body(axum::body::Body::from(body)).unwrap())
                    .await
                    .unwrap();
            let status = response.status().as_u16();
            (status, body_text(response).await)
        }
    };
    let good = r#"{"title": "Prescription queue stuck", "severity": "critical", "summary": "Reviews not arriving", "public": false}"#;
    assert_eq!(send(None, good).await.0, 401);
    let (status, text) = send(Some(orders_only), good).await;
    assert_eq!(status, 403, "{text}");
    assert!(text.contains("may not write incidents"), "{text}");
    let (status, text) = send(
        Some(allowed.clone()),
        r#"{"title": "x", "severity": "urgent"}"#,
    )
    .await;
    assert_eq!(status, 400);
    assert!(text.contains("unknown severity \\\"urgent\\\""), "{text}");
    let (status, text) = send(
        Some(allowed.clone()),
        r#"{"title": "x", "severity": "low", "colour": 1}"#,
    )
    .await;
    assert_eq!(status, 400, "unknown fields are refused: {text}");
    let (status, text) = send(Some(allowed), good).await;
    assert_eq!(status, 201, "{text}");
    let created: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(created["brand"], "kumo", "the token's brand");
    assert_eq!(created["state"], "triage");
    let declared = audited(&fx, AuditAction::IncidentDeclare).await;
    assert_eq!(declared.len(), 1);
    assert!(declared[0].actor.starts_with("token:"), "{:?}", declared[0]);
    assert_eq!(declared[0].payload["via"]["via"], "api");
    // The reader's list has it.
    let response = fx.get("/api/v1/incidents").await;
    let list: Value = serde_json::from_str(&body_text(response).await).unwrap();
    assert_eq!(list["incidents"][0]["title"], "Prescription queue stuck");
    assert_eq!(list["report"][0]["incidents"], 1);
}
