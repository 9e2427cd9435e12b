//! Issue 11's security defects through the router, each with the request
//! that showed it: redirects off the site (11.3), the admin locked out by
//! anonymous failures (11.6), the audit log flooded (11.7), sessions in use
//! ended by a short idle timeout (11.8), CSV injection through another
//! locale's separator (11.12), WISMO dates ignored silently (11.13), and
//! the abuse limits (body size, ingest rates, live streams per session).
//!
//! Requests carry a socket address (`ConnectInfo`) where the client's
//! address matters, as the real server gives them.

use crate::common::{body_text, send_as, state, ts, NOW, PASSWORD};
use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Request, Response};
use opsdeck_accounts::{AuthConfig, PasswordHasher, RateLimits};
use opsdeck_store::testing::{sqlite_temp, TempGuard};
use opsdeck_store::{AuditAction, AuditEntry, NewApiToken, Store, TokenKinds};
use opsdeck_web::auth::{Auth, Role};
use opsdeck_web::testing::{create_user, hidden_field, session_for, TestSession};
use opsdeck_web::AppState;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

/// A router whose clock tests move (in seconds), over a store with one
/// user per role, named after the role, password [`PASSWORD`].
struct App {
    state: AppState,
    offset_s: Arc<AtomicI64>,
    _guard: TempGuard,
}

impl App {
    async fn new() -> App {
        App::with(AuthConfig::default()).await
    }

    async fn with(config: AuthConfig) -> App {
        let (store, guard) = sqlite_temp().await;
        for role in Role::ALL {
            create_user(store.as_ref(), role.as_str(), role, PASSWORD).await;
        }
        let mut state = state(store);
        state.auth = Auth::new(AuthConfig {
            hasher: PasswordHasher::insecure_fast_for_tests(),
            ..config
        });
        let offset_s = Arc::new(AtomicI64::new(0));
        let offset = offset_s.clone();
        let base = ts(NOW);
        state.clock =
            Arc::new(move || base + jiff::SignedDuration::from_secs(offset.load(Ordering::SeqCst)));
        App {
            state,
            offset_s,
            _guard: guard,
        }
    }

    fn advance_s(&self, s: i64) {
        self.offset_s.fetch_add(s, Ordering::SeqCst);
    }

    fn store(&self) -> &dyn Store {
        self.state.store.as_ref()
    }

    async fn send(&self, request: Request<Body>) -> Response<Body> {
        opsdeck_web::router(self.state.clone())
            .oneshot(request)
            .await
            .unwrap()
    }

    async fn send_as(&self, session: &TestSession, request: Request<Body>) -> Response<Body> {
        send_as(opsdeck_web::router(self.state.clone()), session, request).await
    }

    async fn session(&self, role: Role) -> TestSession {
        session_for(self.store(), role.as_str(), (self.state.clock)()).await
    }

    /// Posts the login form from address `from`, as a browser would (its
    /// login CSRF cookie and field).
    async fn login_from(
        &self,
        from: &str,
        username: &str,
        password: &str,
        next: &str,
    ) -> Response<Body> {
        let form = self.send(get("/login")).await;
        let cookie = form
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().to_string())
            .find(|c| c.starts_with("opsdeck_login_csrf="))
            .unwrap();
        let token = hidden_field(&body_text(form).await, "csrf_token").unwrap();
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("username", username)
            .append_pair("password", password)
            .append_pair("csrf_token", &token)
            .append_pair("next", next)
            .finish();
        let mut request = Request::post("/login")
            .header("cookie", cookie.split(';').next().unwrap())
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        request.extensions_mut().insert(ConnectInfo(addr(from)));
        self.send(request).await
    }

    async fn audit(&self) -> Vec<AuditEntry> {
        self.store()
            .audit_log(10_000)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.actor != "test")
            .collect()
    }
}

fn addr(ip: &str) -> SocketAddr {
    SocketAddr::new(ip.parse().unwrap(), 40_000)
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn location(r: &Response<Body>) -> &str {
    r.headers()["location"].to_str().unwrap()
}

fn retry_after(r: &Response<Body>) -> u64 {
    r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

const OFF_SITE: [&str; 6] = [
    "/\t/evil.example/",
    "/\n/evil.example/",
    "/\r\n/evil.example/",
    "//evil.example/",
    "/\\evil.example/",
    " //evil.example/",
];

// ---- 11.3 -------------------------------------------------------------

#[tokio::test]
async fn login_next_never_leaves_the_site_and_never_500s() {
    let app = App::new().await;
    let page = app.send(get("/login?next=%2F%09%2Fevil.example%2F")).await;
    assert_eq!(page.status(), 200);
    let next = hidden_field(&body_text(page).await, "next").unwrap();
    assert_eq!(
        next.replace("&#x2f;", "/"),
        "/",
        "minijinja writes / as &#x2f;"
    );
    for (i, next) in OFF_SITE
        .iter()
        .chain(&["/\r\nSet-Cookie: x=1", "/a\u{0}b"])
        .enumerate()
    {
        // A fresh address each time: these are successful logins anyway.
        let r = app
            .login_from(&format!("192.0.2.{}", i + 1), "ops", PASSWORD, next)
            .await;
        assert_eq!(r.status(), 303, "{next:?}");
        assert_eq!(location(&r), "/", "{next:?}");
    }
    let r = app
        .login_from("192.0.2.99", "ops", PASSWORD, "/inventory?sort=severity")
        .await;
    assert_eq!(
        location(&r),
        "/inventory?sort=severity",
        "a same-site path is kept"
    );
}

#[tokio::test]
async fn refresh_back_never_leaves_the_site_and_never_500s() {
    let app = App::new().await;
    let ops = app.session(Role::Ops).await;
    for back in OFF_SITE
        .iter()
        .chain(&["/\r\nSet-Cookie: x=1", "https://evil.example/"])
    {
        let body = form_urlencoded::Serializer::new(String::new())
            .append_pair("back", back)
            .finish();
        let r = app
            .send_as(
                &ops,
                Request::post("/refresh")
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(Body::from(body))
                    .unwrap(),
            )
            .await;
        assert_eq!(r.status(), 303, "{back:?}");
        assert_eq!(location(&r), "/", "{back:?}");
    }
    let r = app
        .send_as(
            &ops,
            Request::post("/refresh")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from("back=%2Fsources"))
                .unwrap(),
        )
        .await;
    assert_eq!(location(&r), "/sources");
}

// ---- 11.6 -------------------------------------------------------------

#[tokio::test]
async fn anonymous_failures_slow_the_attacker_but_never_lock_the_admin_out() {
    let app = App::new().await;
    let attacker = "203.0.113.66";
    // Five wrong passwords, with every spelling that names the admin.
    for name in ["admin", "Admin", " ADMIN ", "admin", "ADMIN"] {
        let r = app
            .login_from(attacker, name, "guess guess guess", "/")
            .await;
        assert_eq!(r.status(), 401, "{name:?}");
    }
    // The attacker's next try must wait 1 s, then 2 s: refused without the
    // password being checked, even the right one.
    let r = app.login_from(attacker, "Admin", PASSWORD, "/").await;
    assert_eq!((r.status().as_u16(), retry_after(&r)), (429, 1));
    assert!(body_text(r).await.contains("Wrong username or password"));
    app.advance_s(1);
    assert_eq!(
        app.login_from(attacker, "admin", "guess", "/")
            .await
            .status(),
        401
    );
    let r = app.login_from(attacker, "admin", "guess", "/").await;
    assert_eq!(
        (r.status().as_u16(), retry_after(&r)),
        (429, 2),
        "the wait doubles"
    );

    // The real admin, from an address with no failures, is let straight in
    // and told what happened.
    let r = app
        .login_from("192.0.2.10", "admin", PASSWORD, "/alerts")
        .await;
    assert_eq!(r.status(), 200);
    assert!(r
        .headers()
        .get_all("set-cookie")
        .iter()
        .any(|c| c.to_str().unwrap().starts_with("opsdeck_session=")));
    let notice = body_text(r).await;
    assert!(notice.contains("<strong>6</strong> times"), "{notice}");
    assert!(
        notice.contains("<strong>1</strong>\n    address,")
            || notice.contains("<strong>1</strong>")
    );
    assert!(notice.contains("href=\"/alerts\""), "continue to next");

    let audit = app.audit().await;
    let under_attack: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::LoginUnderAttack)
        .collect();
    assert_eq!(under_attack.len(), 1, "reported once");
    assert_eq!(under_attack[0].actor, "admin");
    assert_eq!(under_attack[0].payload["failures"], 5);
    assert_eq!(under_attack[0].ip.as_deref(), Some(attacker));
    let success = audit
        .iter()
        .find(|e| e.action == AuditAction::LoginSuccess)
        .unwrap();
    assert_eq!(success.payload["failed_logins_before"], 6);
    // Six failures, collapsed: entries at the 1st, 2nd and 4th.
    let failures: Vec<_> = audit
        .iter()
        .filter(|e| e.action == AuditAction::LoginFailure)
        .map(|e| e.payload["failures"].as_u64().unwrap())
        .collect();
    assert_eq!(failures.len(), 3, "{failures:?}");
    assert!(
        audit.iter().all(|e| e.actor == "admin"),
        "one normalised name"
    );
}

#[tokio::test]
async fn failures_from_an_office_address_do_not_lock_out_its_colleagues() {
    let app = App::new().await;
    let office = "198.51.100.1";
    for i in 0..25 {
        // Spread over time so the address's rate limit is not what is met.
        app.advance_s(3);
        let r = app
            .login_from(office, &format!("user{i}"), "guess guess guess", "/")
            .await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    app.advance_s(3);
    let r = app.login_from(office, "ops", PASSWORD, "/").await;
    assert_eq!(
        r.status(),
        303,
        "a colleague behind the same address logs in"
    );
}

#[tokio::test]
async fn login_attempts_per_address_are_rate_limited_with_retry_after() {
    let app = App::new().await;
    for i in 0..20 {
        let r = app
            .login_from("192.0.2.7", &format!("spray{i}"), "guess guess guess", "/")
            .await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let r = app.login_from("192.0.2.7", "ops", PASSWORD, "/").await;
    assert_eq!((r.status().as_u16(), retry_after(&r)), (429, 3));
    assert_eq!(
        app.login_from("192.0.2.8", "ops", PASSWORD, "/")
            .await
            .status(),
        303,
        "another address is not affected"
    );
    app.advance_s(3);
    assert_eq!(
        app.login_from("192.0.2.7", "ops", PASSWORD, "/")
            .await
            .status(),
        303
    );
}

// ---- 11.7 -------------------------------------------------------------

#[tokio::test]
async fn a_flood_of_huge_usernames_adds_almost_nothing_to_the_audit_log() {
    let app = App::new().await;
    let megabyte = "x".repeat(1 << 20);
    for _ in 0..20 {
        let r = app.login_from("192.0.2.50", &megabyte, "pw", "/").await;
        assert_eq!(r.status(), 413, "refused before the handler");
        app.advance_s(3);
    }
    assert!(app.audit().await.is_empty());
    // Just under the login body limit: refused, audited bounded and collapsed.
    let ten_kb = "y".repeat(10 * 1024);
    for i in 0..20 {
        app.advance_s(60);
        let r = app
            .login_from(&format!("192.0.2.{}", 60 + i % 2), &ten_kb, "pw", "/")
            .await;
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let audit = app.audit().await;
    let bytes: usize = audit
        .iter()
        .map(|e| e.actor.len() + e.subject.len() + e.payload.to_string().len())
        .sum();
    assert!(
        audit.len() <= 12,
        "collapsed into counts: {} entries",
        audit.len()
    );
    assert!(bytes < 8 * 1024, "{bytes} bytes for 20 attempts");
    assert!(audit.iter().all(|e| e.actor.chars().count() < 100));
    assert!(
        !audit
            .iter()
            .any(|e| e.action == AuditAction::LoginUnderAttack),
        "garbage names are no account under attack"
    );
}

#[tokio::test]
async fn the_audit_page_is_paginated_and_its_export_streams_every_page() {
    let app = App::new().await;
    for i in 0..250 {
        let entry = AuditEntry {
            at: ts("2026-06-10T12:00:00Z") + jiff::SignedDuration::from_secs(i),
            actor: "anna".into(),
            action: AuditAction::AlertAcknowledge,
            subject: format!("alert:E{i:03}"),
            payload: serde_json::json!({}),
            ip: None,
        };
        app.store().record_audit(&entry).await.unwrap();
    }
    let admin = app.session(Role::Admin).await;
    let mut uri = "/audit?actor=anna".to_string();
    let mut pages = Vec::new();
    loop {
        let r = app.send_as(&admin, get(&uri)).await;
        assert_eq!(r.status(), 200, "{uri}");
        let html = body_text(r).await;
        pages.push(html.matches("alert:E").count());
        let Some(at) = html.find("rel=\"next\"") else {
            break;
        };
        let href_start = html[..at].rfind("href=\"").unwrap() + 6;
        let href = &html[href_start..at - 2];
        uri = href.replace("&amp;", "&");
        assert!(uri.contains("actor=anna"), "the filter is kept: {uri}");
    }
    assert_eq!(pages, [100, 100, 50]);
    let r = app.send_as(&admin, get("/audit.csv?actor=anna")).await;
    assert_eq!(r.status(), 200);
    let csv = body_text(r).await;
    assert_eq!(csv.lines().count(), 251, "header and every entry");
    assert!(csv.contains("alert:E000") && csv.contains("alert:E249"));
    assert_eq!(
        app.send_as(&admin, get("/audit?before=nonsense"))
            .await
            .status(),
        400
    );
}

// ---- 11.8 -------------------------------------------------------------

#[tokio::test]
async fn a_session_in_use_outlives_a_short_idle_timeout() {
    let app = App::with(AuthConfig {
        idle_timeout: Duration::from_secs(60),
        ..AuthConfig::default()
    })
    .await;
    let s = app.session(Role::Viewer).await;
    // Every 21 s: the old once-a-minute write of `last_seen` let the
    // session look idle for 63 s at its third use, and ended it.
    for i in 0..15 {
        app.advance_s(21);
        assert_eq!(
            app.send_as(&s, get("/api/v1/brands")).await.status(),
            200,
            "used every 21 s: alive at {} s",
            (i + 1) * 21
        );
    }
    app.advance_s(61);
    assert_eq!(
        app.send_as(&s, get("/api/v1/brands")).await.status(),
        401,
        "idle 61 s"
    );
}

// ---- 11.12 ------------------------------------------------------------

#[tokio::test]
async fn the_audit_export_defuses_formulas_after_another_locales_separator() {
    let app = App::new().await;
    let entry = AuditEntry {
        at: ts("2026-06-10T12:00:00Z"),
        actor: "-2+3".into(),
        action: AuditAction::parse("note"),
        subject: "order 1;=HYPERLINK(\"http://evil.example\")".into(),
        payload: serde_json::json!({ "note": "ok,@SUM(A1)" }),
        ip: None,
    };
    app.store().record_audit(&entry).await.unwrap();
    let admin = app.session(Role::Admin).await;
    let csv = body_text(app.send_as(&admin, get("/audit.csv?action=note")).await).await;
    let line = csv.lines().nth(1).unwrap();
    assert!(line.contains(",'-2+3,"), "{line}");
    assert!(line.contains("order 1;'=HYPERLINK"), "{line}");
    assert!(line.contains("ok,'@SUM(A1)"), "{line}");
    for piece in line.split([',', ';']) {
        let piece = piece.trim_start_matches([' ', '"']);
        assert!(
            !piece.starts_with(['=', '+', '-', '@']),
            "{piece:?} in {line}"
        );
    }
}

// ---- 11.13 ------------------------------------------------------------

#[tokio::test]
async fn wismo_page_says_what_it_did_with_dates_the_api_refuses() {
    let app = App::new().await;
    let viewer = app.session(Role::Viewer).await;
    let r = app
        .send_as(
            &viewer,
            get("/wismo?brand=mavena&range=7d&from=2026-06-01&to=2026-06-05"),
        )
        .await;
    assert_eq!(r.status(), 200);
    let html = body_text(r).await;
    assert!(html.contains("id=\"wismo-notice\""), "the page says it");
    assert!(
        html.contains("from 2026-06-01, to 2026-06-05"),
        "naming the dates"
    );
    let r = app
        .send_as(&viewer, get("/wismo?brand=mavena&range=7d&from=&to="))
        .await;
    assert!(
        !body_text(r).await.contains("wismo-notice"),
        "empty fields are no dates"
    );
    let r = app
        .send_as(
            &viewer,
            get("/api/v1/wismo?brand=mavena&range=7d&from=2026-06-01"),
        )
        .await;
    assert_eq!(r.status(), 400);
}

// ---- abuse limits -----------------------------------------------------

#[tokio::test]
async fn bodies_over_their_routes_limit_are_refused_413() {
    let app = App::new().await;
    let ops = app.session(Role::Ops).await;
    let big = format!(
        "csrf_token={}&back=/&pad={}",
        ops.csrf_token,
        "x".repeat(100 * 1024)
    );
    let r = app
        .send_as(
            &ops,
            Request::post("/refresh")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), 413);
    let r = app
        .send_as(
            &ops,
            Request::post("/api/v1/alerts/silences")
                .header("content-type", "application/json")
                .body(Body::from(format!(
                    "{{\"pad\":\"{}\"}}",
                    "x".repeat(100 * 1024)
                )))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), 413);
    assert!(body_text(r).await.contains("65536 bytes"));
}

#[tokio::test]
async fn ingest_is_rate_limited_per_token_with_retry_after() {
    let app = App::with(AuthConfig {
        rate_limits: RateLimits {
            ingest_per_minute_per_token: 2,
            ..RateLimits::default()
        },
        ..AuthConfig::default()
    })
    .await;
    let new = NewApiToken::generate(
        "test platform",
        opsdeck_domain::BrandId::parse("mavena").unwrap(),
        opsdeck_domain::SourceId::parse("ingest-mavena").unwrap(),
        TokenKinds::All,
        "tester",
        ts("2026-06-10T00:00:00Z"),
    );
    let audit = AuditEntry {
        at: ts("2026-06-10T00:00:00Z"),
        actor: "test".into(),
        action: AuditAction::ApiTokenCreate,
        subject: new.token.id.clone(),
        payload: serde_json::json!({}),
        ip: None,
    };
    app.store().create_api_token(&new, &audit).await.unwrap();
    let token = new.plaintext.expose().to_string();
    let post = || {
        let mut r = Request::post("/api/v1/ingest/orders")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {token}"))
            .body(Body::from(
                serde_json::json!({ "records": [crate::ingest::order_json("R1")] }).to_string(),
            ))
            .unwrap();
        r.extensions_mut().insert(ConnectInfo(addr("192.0.2.30")));
        r
    };
    assert_eq!(app.send(post()).await.status(), 200);
    assert_eq!(app.send(post()).await.status(), 200);
    let r = app.send(post()).await;
    assert_eq!((r.status().as_u16(), retry_after(&r)), (429, 30));
    assert!(body_text(r).await.contains("with this token"));
    assert_eq!(app.send(post()).await.status(), 429);
    // The source says it is being throttled, noted once a minute.
    let admin = app.session(Role::Admin).await;
    let health = body_text(app.send_as(&admin, get("/api/v1/sources")).await).await;
    let health: serde_json::Value = serde_json::from_str(&health).unwrap();
    let orders = health["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "ingest-mavena")
        .map(|s| s["resources"][0].clone())
        .unwrap();
    assert!(
        orders["last_error"].as_str().unwrap().starts_with("429 "),
        "{orders}"
    );
    assert_eq!(
        (orders["requests"].as_u64(), orders["errors"].as_u64()),
        (Some(3), Some(1))
    );
    app.advance_s(30);
    assert_eq!(app.send(post()).await.status(), 200);
}

#[tokio::test]
async fn live_streams_per_session_are_bounded() {
    let app = App::with(AuthConfig {
        rate_limits: RateLimits {
            sse_streams_per_session: 2,
            ..RateLimits::default()
        },
        ..AuthConfig::default()
    })
    .await;
    let viewer = app.session(Role::Viewer).await;
    let first = app.send_as(&viewer, get("/events")).await;
    let second = app.send_as(&viewer, get("/events")).await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );
    let third = app.send_as(&viewer, get("/events")).await;
    assert_eq!((third.status().as_u16(), retry_after(&third)), (429, 30));
    let other = app.session(Role::Ops).await;
    assert_eq!(
        app.send_as(&other, get("/events")).await.status(),
        200,
        "per session"
    );
    drop(first);
    assert_eq!(
        app.send_as(&viewer, get("/events")).await.status(),
        200,
        "a closed stream gives its place back"
    );
    drop(second);
}

// ---- escaping ---------------------------------------------------------

#[tokio::test]
async fn hostile_strings_are_escaped_in_the_login_form_and_the_audit_page() {
    let app = App::new().await;
    let hostile = "<img src=x onerror=alert(1)>";
    let r = app.login_from("192.0.2.40", hostile, "pw", "/").await;
    assert_eq!(r.status(), 401);
    let html = body_text(r).await;
    assert!(!html.contains("<img src=x"), "the typed name is escaped");
    assert!(html.contains("&lt;img"));
    let admin = app.session(Role::Admin).await;
    let html = body_text(app.send_as(&admin, get("/audit")).await).await;
    assert!(html.contains("login.failure"), "the attempt is listed");
    assert!(!html.contains("<img src=x") && html.contains("&lt;img"));
}

/// The alert evaluator as the application runs it over `app`'s store
/// (default rules, no alert configuration): one cycle of observe and step.
async fn evaluate_alerts(app: &App) {
    use opsdeck_alerts::hours::BusinessHours;
    use opsdeck_alerts::render::RenderConfig;
    use opsdeck_alerts::runner::{BrandWatch, ObservationSource, StoreObservations};
    use opsdeck_alerts::{AlertService, Evaluator, RuleSet};
    let store = app.state.store.clone();
    let source = StoreObservations {
        store: store.clone(),
        brands: app
            .state
            .brands
            .iter()
            .map(|b| BrandWatch {
                brand: b.clone(),
                hours: BusinessHours::always(b.time_zone.clone()),
                sources: Vec::new(),
                cadences: opsdeck_metrics::Cadences::every(Duration::from_secs(300)),
            })
            .collect(),
        rules: RuleSet::defaults(),
        projection: None,
    };
    let service = AlertService::new(
        store,
        Evaluator::new(RuleSet::defaults()),
        RenderConfig {
            dashboard_url: "http://ops".into(),
        },
        Default::default(),
        "t",
    );
    let now = (app.state.clock)();
    let observations = source.observe(now).await.unwrap();
    service.step(&observations, now).await.unwrap();
}

/// The API's alerts of rule `account_under_attack` (every state), as a
/// viewer logged in now.
async fn attack_alerts(app: &App) -> Vec<serde_json::Value> {
    let viewer = app.session(Role::Viewer).await;
    let r = app.send_as(&viewer, get("/api/v1/alerts?state=all")).await;
    assert_eq!(r.status(), 200);
    let body: serde_json::Value = serde_json::from_str(&body_text(r).await).unwrap();
    body["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["rule"] == "account_under_attack")
        .cloned()
        .collect()
}

#[tokio::test]
async fn an_attack_on_the_admin_opens_an_alert_that_resolves_after_an_hour() {
    let app = App::new().await;
    let attacker = "203.0.113.66";
    evaluate_alerts(&app).await;
    assert!(attack_alerts(&app).await.is_empty(), "no attack yet");

    // Wrong passwords for the admin, waiting out each delay, until the
    // throttle reports the attack.
    let mut tries = 0;
    while !app
        .audit()
        .await
        .iter()
        .any(|e| e.action == AuditAction::LoginUnderAttack)
    {
        tries += 1;
        assert!(tries <= 20, "no attack report after 20 tries");
        let r = app
            .login_from(attacker, "admin", "hunter2 guess", "/")
            .await;
        if r.status() == 429 {
            app.advance_s(retry_after(&r) as i64);
        }
    }

    evaluate_alerts(&app).await;
    let open = attack_alerts(&app).await;
    assert_eq!(open.len(), 1, "{open:?}");
    let alert = &open[0];
    assert_eq!(alert["state"], "firing");
    assert_eq!(alert["severity"], "warning");
    assert_eq!(alert["tier"], "slack");
    assert_eq!(alert["subject"], "account:admin");
    assert_eq!(alert["brand"], app.state.brands[0].id.as_str());
    let why = alert["why"].as_str().unwrap();
    assert!(
        why.starts_with("Account admin is under attack: 5 failed logins from 1 address "),
        "{why}"
    );
    assert!(
        !why.contains("hunter2") && !why.contains(attacker),
        "no password or address: {why}"
    );
    // /alerts lists it, grouped under its rule.
    let viewer = app.session(Role::Viewer).await;
    let page = body_text(app.send_as(&viewer, get("/alerts")).await).await;
    assert!(page.contains("Account under attack"), "{page}");
    assert!(page.contains("account:admin") || page.contains("Account admin is under attack"));

    // Within the hour it stays open; an hour after the report it resolves.
    app.advance_s(59 * 60);
    evaluate_alerts(&app).await;
    assert_eq!(attack_alerts(&app).await[0]["state"], "firing");
    app.advance_s(60);
    evaluate_alerts(&app).await;
    let done = attack_alerts(&app).await;
    assert_eq!(done.len(), 1);
    assert_eq!(done[0]["state"], "resolved", "{done:?}");
}
