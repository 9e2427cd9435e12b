//! Accounts and security through the router: login (cookie flags, generic
//! refusals, throttling and its expiry on the injected clock), idle timeout,
//! logout, permissions per role on every protected route group, CSRF,
//! security headers, and the audit log page and CSV export.

use crate::common::{body_text, send_as, state, ts, Fixture, NOW, PASSWORD};
use axum::body::Body;
use axum::http::{Request, Response};
use opsdeck_store::testing::sqlite_temp;
use opsdeck_store::{AuditAction, AuditEntry, Store};
use opsdeck_web::auth::Role;
use opsdeck_web::testing::{create_user, hidden_field, session_for, user_session, TestSession};
use opsdeck_web::AppState;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use tower::ServiceExt;

/// A router whose clock tests move, over a store with one user per role
/// (named after the role, password [`PASSWORD`]).
struct Clocked {
    state: AppState,
    offset_s: Arc<AtomicI64>,
    _guard: opsdeck_store::testing::TempGuard,
}

impl Clocked {
    async fn new() -> Clocked {
        let (store, guard) = sqlite_temp().await;
        for role in Role::ALL {
            create_user(store.as_ref(), role.as_str(), role, PASSWORD).await;
        }
        let mut state = state(store);
        let offset_s = Arc::new(AtomicI64::new(0));
        let offset = offset_s.clone();
        let base = ts(NOW);
        state.clock =
            Arc::new(move || base + jiff::SignedDuration::from_secs(offset.load(Ordering::SeqCst)));
        Clocked {
            state,
            offset_s,
            _guard: guard,
        }
    }

    fn advance_minutes(&self, m: i64) {
        self.offset_s.fetch_add(m * 60, Ordering::SeqCst);
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

    /// Fetches the login form; returns (login CSRF cookie, token).
    async fn login_form(&self) -> (String, String) {
        let r = self.send(get("/login")).await;
        assert_eq!(r.status(), 200);
        let cookie = set_cookies(&r)
            .into_iter()
            .find(|c| c.starts_with("opsdeck_login_csrf="))
            .unwrap();
        let html = body_text(r).await;
        let token = hidden_field(&html, "csrf_token").unwrap();
        (cookie.split(';').next().unwrap().to_string(), token)
    }

    async fn login(&self, username: &str, password: &str) -> Response<Body> {
        let (cookie, token) = self.login_form().await;
        let form = form_urlencoded::Serializer::new(String::new())
            .append_pair("username", username)
            .append_pair("password", password)
            .append_pair("csrf_token", &token)
            .append_pair("next", "/inventory?sort=severity")
            .finish();
        self.send(
            Request::post("/login")
                .header("cookie", cookie)
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await
    }

    async fn audit_actions(&self) -> Vec<String> {
        self.store()
            .audit_log(100)
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.actor != "test")
            .map(|e| e.action.to_string())
            .collect()
    }
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).unwrap()
}

fn post_json(uri: &str, body: &str) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn set_cookies(r: &Response<Body>) -> Vec<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn login_sets_a_hardened_cookie_and_follows_next() {
    let app = Clocked::new().await;
    let r = app.login("ops", PASSWORD).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/inventory?sort=severity");
    let cookie = set_cookies(&r)
        .into_iter()
        .find(|c| c.starts_with("opsdeck_session="))
        .unwrap();
    assert!(cookie.contains("; HttpOnly"), "{cookie}");
    assert!(cookie.contains("; SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("; Path=/"), "{cookie}");
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP without a trusted proxy"
    );
    let id = cookie
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("opsdeck_session=");
    assert_eq!(id.len(), 43, "256 bits, base64url");
    assert!(
        app.store().session(id).await.unwrap().is_none(),
        "the store keys sessions by the id's hash, not the id"
    );
    let page = app
        .send(
            Request::get("/session")
                .header("cookie", format!("opsdeck_session={id}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(page.status(), 200);
    let who: serde_json::Value = serde_json::from_str(&body_text(page).await).unwrap();
    assert_eq!(who["username"], "ops");
    assert_eq!(who["role"], "ops");
    assert_eq!(app.audit_actions().await, ["login.success"]);
    let entry = &app.store().audit_log(1).await.unwrap()[0];
    assert_eq!(entry.actor, "ops");
}

#[tokio::test]
async fn cookie_is_secure_behind_a_trusted_tls_proxy() {
    let mut app = Clocked::new().await;
    let mut config = app.state.auth.config.clone();
    config.secure_cookies = opsdeck_accounts::SecureCookies::Always;
    app.state.auth = opsdeck_web::auth::Auth::new(config);
    let r = app.login("ops", PASSWORD).await;
    assert!(
        set_cookies(&r).iter().all(|c| c.ends_with("; Secure")),
        "{:?}",
        set_cookies(&r)
    );
}

#[tokio::test]
async fn refusals_are_generic_and_throttling_expires_on_the_clock() {
    let app = Clocked::new().await;
    let unknown = body_text(app.login("nobody", PASSWORD).await).await;
    let wrong = app.login("ops", "not the password").await;
    assert_eq!(wrong.status(), 401);
    let wrong = body_text(wrong).await;
    let msg = "Wrong username or password, or too many attempts";
    assert!(unknown.contains(msg) && wrong.contains(msg));
    for _ in 0..4 {
        app.login("ops", "still wrong").await;
    }
    // Five failures for `ops` from this address: its next attempt waits,
    // even with the right password, and says so in the same words.
    let throttled = app.login("ops", PASSWORD).await;
    assert_eq!(throttled.status(), 429);
    assert_eq!(throttled.headers()["retry-after"], "1");
    assert!(body_text(throttled).await.contains(msg));
    assert_eq!(app.login("admin", PASSWORD).await.status(), 303, "per user");
    app.advance_minutes(1);
    let back = app.login("ops", PASSWORD).await;
    assert_eq!(back.status(), 200, "the wait is over; the owner is told");
    assert!(body_text(back)
        .await
        .contains("Failed logins for your account"));
    let actions = app.audit_actions().await;
    assert_eq!(
        actions
            .iter()
            .filter(|a| *a == "login.under_attack")
            .count(),
        1
    );
    // Six failures (nobody once, ops five times), collapsed: nobody's 1st,
    // ops's 1st, 2nd and 4th.
    assert_eq!(actions.iter().filter(|a| *a == "login.failure").count(), 4);
    let log = app.store().audit_log(100).await.unwrap();
    let fourth = log
        .iter()
        .find(|e| e.action == AuditAction::LoginFailure && e.payload["failures"] == 4)
        .unwrap();
    assert_eq!(fourth.actor, "ops");
    assert_eq!(fourth.payload["reason"], "wrong_password");
    assert!(
        !log.iter()
            .any(|e| e.payload.to_string().contains("wrong")
                && e.payload.to_string().contains("still")),
        "typed passwords never reach the audit log"
    );
}

#[tokio::test]
async fn login_form_needs_its_csrf_cookie() {
    let app = Clocked::new().await;
    let (_, token) = app.login_form().await;
    let form = format!("username=ops&password=correct+horse+battery&csrf_token={token}");
    let r = app
        .send(
            Request::post("/login")
                .header("content-type", "application/x-www-form-urlencoded")
                .body(Body::from(form))
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn unauthenticated_pages_redirect_and_api_answers_401() {
    let app = Clocked::new().await;
    let r = app.send(get("/wismo?range=7d")).await;
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login?next=%2Fwismo%3Frange%3D7d");
    crate::common::assert_security_headers(&r);
    let r = app.send(get("/api/v1/brands")).await;
    assert_eq!(r.status(), 401);
    crate::common::assert_security_headers(&r);
    assert_eq!(body_text(r).await, r#"{"error":"login required"}"#);
    for public in [
        "/healthz",
        "/login",
        "/api/v1/openapi.json",
        "/static/app.css",
    ] {
        assert_eq!(app.send(get(public)).await.status(), 200, "{public}");
    }
    // A forged or stale cookie is no session, and is cleared.
    let r = app
        .send(
            Request::get("/")
                .header("cookie", "opsdeck_session=forged")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(r.status(), 303);
    assert!(set_cookies(&r)[0].contains("Max-Age=0"));
}

#[tokio::test]
async fn idle_and_absolute_timeouts_end_sessions() {
    let app = Clocked::new().await;
    let s = app.session(Role::Viewer).await;
    app.advance_minutes(20);
    assert_eq!(app.send_as(&s, get("/api/v1/brands")).await.status(), 200);
    app.advance_minutes(20);
    assert_eq!(
        app.send_as(&s, get("/api/v1/brands")).await.status(),
        200,
        "used 20 minutes ago: still alive"
    );
    app.advance_minutes(31);
    assert_eq!(
        app.send_as(&s, get("/api/v1/brands")).await.status(),
        401,
        "idle 31 min"
    );

    let s = app.session(Role::Viewer).await;
    for _ in 0..25 {
        app.advance_minutes(29);
        app.send_as(&s, get("/api/v1/brands")).await;
    }
    assert_eq!(
        app.send_as(&s, get("/api/v1/brands")).await.status(),
        401,
        "past the 12 h absolute lifetime though never idle"
    );
}

#[tokio::test]
async fn logout_ends_the_session_and_is_audited() {
    let app = Clocked::new().await;
    let s = app.session(Role::Support).await;
    let r = app
        .send_as(&s, Request::post("/logout").body(Body::empty()).unwrap())
        .await;
    assert_eq!(r.status(), 303);
    assert!(set_cookies(&r)[0].starts_with("opsdeck_session=; "));
    assert_eq!(
        app.send_as(&s, get("/")).await.status(),
        303,
        "to the login page"
    );
    assert_eq!(app.audit_actions().await, ["logout"]);
}

#[tokio::test]
async fn csrf_is_required_on_every_state_change() {
    let app = Clocked::new().await;
    let s = app.session(Role::Ops).await;
    for (label, csrf) in [("missing", None), ("wrong", Some("nope"))] {
        let mut req = post_json("/api/v1/alerts/E1/ack", "{}");
        if let Some(v) = csrf {
            req.headers_mut().insert("x-csrf-token", v.parse().unwrap());
        }
        req.headers_mut()
            .insert("cookie", s.cookie.parse().unwrap());
        let r = app.send(req).await;
        assert_eq!(r.status(), 403, "{label} header");
        assert!(body_text(r).await.contains("CSRF"));
    }
    // Forms: the hidden field counts, a wrong one does not.
    let form = |token: &str| {
        Request::post("/logout")
            .header("cookie", &s.cookie)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!("csrf_token={token}")))
            .unwrap()
    };
    let r = app.send(form("nope")).await;
    assert_eq!(r.status(), 403);
    crate::common::assert_security_headers(&r);
    assert_eq!(app.send(form(&s.csrf_token)).await.status(), 303);
    // Another session's token is not this session's.
    let other = app.session(Role::Ops).await;
    let mut req = post_json("/api/v1/alerts/E1/ack", "{}");
    req.headers_mut()
        .insert("cookie", other.cookie.parse().unwrap());
    req.headers_mut()
        .insert("x-csrf-token", s.csrf_token.parse().unwrap());
    assert_eq!(app.send(req).await.status(), 403);
}

/// Builds a fresh request for each role.
type MakeRequest = fn() -> Request<Body>;

#[tokio::test]
async fn permissions_per_role_on_every_route_group() {
    let app = Clocked::new().await;
    let mut sessions = Vec::new();
    for role in Role::ALL {
        sessions.push((role, app.session(role).await));
    }
    // (request, roles allowed); "allowed" means anything but 401/403.
    let cases: Vec<(MakeRequest, &[Role])> = vec![
        (|| get("/api/v1/brands"), &Role::ALL),
        (|| get("/"), &Role::ALL),
        (|| get("/api/v1/alerts"), &Role::ALL),
        (
            || get("/api/v1/order-volume"),
            &[Role::Admin, Role::Ops, Role::Finance],
        ),
        (
            || get("/api/v1/dashboard"),
            &[Role::Admin, Role::Ops, Role::Finance],
        ),
        (
            || post_json("/api/v1/alerts/E1/ack", "{}"),
            &[Role::Admin, Role::Ops],
        ),
        (
            || post_json("/api/v1/alerts/E1/resolve", "{}"),
            &[Role::Admin, Role::Ops],
        ),
        (
            || {
                post_json(
                    "/api/v1/alerts/silences",
                    r#"{"rules":["zero_orders"],"ends_at":"2026-06-10T20:00:00Z","reason":"r"}"#,
                )
            },
            &[Role::Admin, Role::Ops],
        ),
        (|| get("/audit"), &[Role::Admin]),
        (|| get("/audit.csv"), &[Role::Admin]),
        (|| post_json("/settings", "{}"), &[Role::Admin]),
    ];
    for (make, allowed) in &cases {
        for (role, s) in &sessions {
            let req = make();
            let label = format!("{} {} as {role}", req.method(), req.uri());
            let status = app.send_as(s, req).await.status().as_u16();
            if allowed.contains(role) {
                assert!(status != 401 && status != 403, "{label}: {status}");
            } else {
                assert_eq!(status, 403, "{label}");
            }
        }
    }
}

#[tokio::test]
async fn alert_actions_record_the_session_user_and_address() {
    let fx = Fixture::new().await;
    let ops = user_session(fx.state.store.as_ref(), "olga", Role::Ops, ts(NOW)).await;
    let silence =
        r#"{"rules":["zero_orders"],"ends_at":"2026-06-10T20:00:00Z","reason":"migration"}"#;
    let mut req = post_json("/api/v1/alerts/silences", silence);
    req.extensions_mut().insert(axum::extract::ConnectInfo(
        "192.0.2.44:50000".parse::<std::net::SocketAddr>().unwrap(),
    ));
    let r = send_as(fx.router(), &ops, req).await;
    assert_eq!(r.status(), 201);
    let entry = fx.state.store.audit_log(1).await.unwrap().remove(0);
    assert_eq!(entry.action, AuditAction::AlertSilence);
    assert_eq!(entry.actor, "olga");
    assert_eq!(entry.ip.as_deref(), Some("192.0.2.44"));
}

async fn seed_audit(store: &dyn Store) {
    for (at, actor, action, subject) in [
        (
            "2026-06-08T09:00:00Z",
            "anna",
            AuditAction::LoginSuccess,
            "user:anna",
        ),
        (
            "2026-06-09T10:00:00Z",
            "=cmd|' /C calc'!A0",
            AuditAction::LoginFailure,
            "user:x",
        ),
        (
            "2026-06-10T11:00:00Z",
            "anna",
            AuditAction::AlertAcknowledge,
            "alert:E1",
        ),
    ] {
        store
            .record_audit(&AuditEntry {
                at: ts(at),
                actor: actor.into(),
                action,
                subject: subject.into(),
                payload: serde_json::json!({ "note": "+1, -2" }),
                ip: Some("192.0.2.9".into()),
            })
            .await
            .unwrap();
    }
}

#[tokio::test]
async fn audit_page_filters_by_actor_action_and_date() {
    let fx = Fixture::new().await;
    seed_audit(fx.state.store.as_ref()).await;
    let r = fx.get("/audit?actor=anna").await;
    assert_eq!(r.status(), 200);
    crate::common::assert_security_headers(&r);
    let html = body_text(r).await;
    assert!(html.contains("alert.acknowledge") && html.contains("login.success"));
    assert!(!html.contains("login.failure"));
    let html = body_text(
        fx.get("/audit?action=alert.acknowledge&from=2026-06-10&to=2026-06-10")
            .await,
    )
    .await;
    assert!(html.contains("alert:E1") && !html.contains("user:anna"));
    let html = body_text(fx.get("/audit?from=2026-06-08&to=2026-06-08").await).await;
    assert!(
        html.contains("user:anna") && !html.contains("alert:E1"),
        "to is inclusive, one day"
    );
    assert_eq!(fx.get("/audit?from=yesterday").await.status(), 400);
    assert_eq!(fx.get("/audit?who=anna").await.status(), 400);
}

#[tokio::test]
async fn audit_csv_is_admin_only_and_injection_safe() {
    let fx = Fixture::new().await;
    seed_audit(fx.state.store.as_ref()).await;
    let r = fx.get("/audit.csv?action=login.failure").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "text/csv; charset=utf-8");
    assert!(r.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .contains("attachment"));
    let csv = body_text(r).await;
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "at,actor,action,subject,payload,ip");
    assert_eq!(
        lines[1],
        r#"2026-06-09T10:00:00Z,'=cmd|' /C calc'!A0,login.failure,user:x,"{""note"":""+1, '-2""}",192.0.2.9"#,
        "a `-` after another locale's separator is defused too"
    );
    assert_eq!(lines.len(), 2);
    let finance = user_session(fx.state.store.as_ref(), "fin", Role::Finance, ts(NOW)).await;
    let r = send_as(fx.router(), &finance, get("/audit.csv")).await;
    assert_eq!(r.status(), 403);
}

#[tokio::test]
async fn security_headers_on_pages_api_redirects_and_errors() {
    let fx = Fixture::new().await;
    for uri in [
        "/",
        "/api/v1/brands",
        "/no-such-page",
        "/api/v1/nope",
        "/healthz",
        "/login",
    ] {
        let r = fx.get(uri).await;
        crate::common::assert_security_headers(&r);
    }
    let r = opsdeck_web::router(fx.state.clone())
        .oneshot(get("/audit"))
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    crate::common::assert_security_headers(&r);
}

#[tokio::test]
async fn disabled_users_lose_their_sessions() {
    let app = Clocked::new().await;
    let s = app.session(Role::Finance).await;
    let audit = AuditEntry {
        at: ts(NOW),
        actor: "cli:root".into(),
        action: AuditAction::UserDisable,
        subject: "user:finance".into(),
        payload: serde_json::json!({}),
        ip: None,
    };
    assert!(app
        .store()
        .disable_user("finance", ts(NOW), &audit)
        .await
        .unwrap());
    assert_eq!(app.send_as(&s, get("/api/v1/brands")).await.status(), 401);
    assert_eq!(app.login("finance", PASSWORD).await.status(), 401);
}

/// No page offered a way to log out (only a scripted POST could); every
/// page's nav now links to a one-button form carrying the CSRF token, and
/// the login page has no nav to pages it cannot show.
#[tokio::test]
async fn every_page_links_to_a_logout_form() {
    let app = Clocked::new().await;
    let s = app.session(Role::Viewer).await;
    let r = app.send_as(&s, get("/inventory")).await;
    assert!(body_text(r).await.contains("href=\"/logout\""));
    let r = app.send_as(&s, get("/logout")).await;
    assert_eq!(r.status(), 200);
    let html = body_text(r).await;
    assert!(
        html.contains("<form method=\"post\" action=\"/logout\">"),
        "{html}"
    );
    assert!(html.contains(&s.csrf_token), "{html}");
    // Without a session the link leads to the login page, which has no nav.
    let r = app.send(get("/logout")).await;
    assert_eq!(r.status(), 303);
    let r = app.send(get("/login")).await;
    let html = body_text(r).await;
    assert!(!html.contains("href=\"/audit\""), "{html}");
    assert!(!html.contains("href=\"/logout\""), "{html}");
}
