//! `/approvals` and `/api/v1/approvals`: a platform asks with its ingest
//! token, the request shows on the page (amounts only to roles with
//! revenue permission), an approver decides with a comment through the
//! form, the platform's callback runs once, and a second decision is 409.

use crate::common::{body_text, ts, Fixture, NOW};
use crate::ingest::token;
use crate::pulse::{get_as, post_form};
use axum::body::Body;
use axum::http::Request;
use axum::routing::post;
use axum::Router;
use opsdeck_alerts::notify::http_client;
use opsdeck_domain::Secret;
use opsdeck_operations::approvals::{ApprovalPolicy, Approvals, CallbackPlatform, Executor, Retry};
use opsdeck_store::{ApprovalState, Role, TokenKinds};
use opsdeck_web::testing::user_session;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tower::ServiceExt;

async fn receiver() -> (Arc<AtomicUsize>, String) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    let app = Router::new().route(
        "/cb",
        post(move || {
            let counter = counter.clone();
            async move {
                counter.fetch_add(1, Ordering::SeqCst);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (hits, format!("http://{addr}"))
}

async fn ask(fx: &Fixture, token: &str, body: Value) -> (u16, Value) {
    let request = Request::post("/api/v1/approvals")
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap();
    let response = fx.router().oneshot(request).await.unwrap();
    let status = response.status().as_u16();
    (
        status,
        serde_json::from_str(&body_text(response).await).unwrap(),
    )
}

#[tokio::test]
async fn a_platform_asks_an_approver_decides_on_the_page_and_the_callback_runs_once() {
    let mut fx = Fixture::new().await;
    let (hits, base) = receiver().await;
    let executor = Executor::new(
        http_client(Duration::from_secs(5)),
        Retry {
            attempts: 2,
            first_wait: Duration::ZERO,
        },
    )
    .with_platform(
        "ingest-mavena",
        CallbackPlatform {
            secret: Secret::new("s3cret"),
            url_prefix: format!("{base}/"),
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
    let only_ingest = token(&fx, "mavena", TokenKinds::Only(vec!["orders".into()])).await;
    let (status, _) = ask(&fx, &only_ingest, json!({})).await;
    assert_eq!(status, 403, "a token not allowed `approvals`");
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let refund = |minor: i64| {
        json!({
            "kind": "refund", "summary": "Refund order 1042", "amount_minor": minor,
            "currency": "USD", "callback_url": format!("{base}/cb"), "payload": {"order": "1042"}
        })
    };
    assert_eq!(
        ask(&fx, &t, refund(500_00)).await,
        (200, json!({"status": "not_required"}))
    );
    let (status, body) = ask(
        &fx,
        &t,
        json!({"kind": "refund", "summary": "x", "callback_url": format!("{base}/cb")}),
    )
    .await;
    assert_eq!(status, 400);
    assert!(
        body["error"].as_str().unwrap().contains("`amount`"),
        "{body}"
    );
    let mut freeze = refund(900_00);
    freeze["kind"] = json!("flag_change");
    let (status, body) = ask(&fx, &t, freeze).await;
    assert_eq!(status, 400, "a platform cannot ask for a freeze: {body}");
    let (status, body) = ask(&fx, &t, refund(900_00)).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().unwrap().to_string();

    // A viewer sees the request without its amount and cannot decide.
    let viewer = user_session(fx.state.store.as_ref(), "vera", Role::Viewer, ts(NOW)).await;
    let (status, html) = get_as(&fx, &viewer, "/approvals").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("Refund order 1042") && !html.contains("900.00"),
        "{html}"
    );
    assert!(html.contains(r#"<span id="approvals-pending-count">1</span>"#));
    let (status, _, _) = post_form(
        fx.router(),
        &viewer,
        &format!("/approvals/{id}/decision"),
        &format!(
            "csrf_token={}&decision=approve&comment=ok",
            viewer.csrf_token
        ),
    )
    .await;
    assert_eq!(status, 403);
    let (_, html) = get_as(&fx, &fx.session, "/approvals").await;
    assert!(html.contains("$900.00"), "an admin sees the amount: {html}");

    // The admin approves with a comment: the callback runs once.
    let (status, _, body) = post_form(
        fx.router(),
        &fx.session,
        &format!("/approvals/{id}/decision"),
        &format!(
            "csrf_token={}&decision=approve&comment=",
            fx.session.csrf_token
        ),
    )
    .await;
    assert_eq!(status, 400, "a decision needs a comment: {body}");
    let form = format!(
        "csrf_token={}&decision=approve&comment=checked+the+order",
        fx.session.csrf_token
    );
    let (status, location, _) = post_form(
        fx.router(),
        &fx.session,
        &format!("/approvals/{id}/decision"),
        &form,
    )
    .await;
    assert_eq!(
        (status, location.as_str()),
        (303, format!("/approvals/{id}").as_str())
    );
    let (status, _, _) = post_form(
        fx.router(),
        &fx.session,
        &format!("/approvals/{id}/decision"),
        &form,
    )
    .await;
    assert_eq!(status, 409, "a second decision (a double click) is refused");
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    let a = fx.state.store.approval(&id).await.unwrap().unwrap();
    assert_eq!(a.state, ApprovalState::Executed);
    assert_eq!(a.decision_comment.as_deref(), Some("checked the order"));
    let (status, json) = fx.get_json("/api/v1/approvals").await;
    assert_eq!((status, json["pending_count"].as_u64()), (200, Some(0)));
}

/// The dashboard's form: every kind with its threshold and approver role;
/// a request over its threshold waits (and is the requester's to carry
/// out once approved), one under it is told to go ahead with nothing
/// stored; the nav's badge counts what the viewer may decide — not their
/// own request, not a viewer's.
#[tokio::test]
async fn the_request_form_shows_thresholds_and_the_badge_counts_what_the_viewer_may_decide() {
    let mut fx = Fixture::new().await;
    let executor = Executor::new(
        http_client(Duration::from_secs(5)),
        Retry {
            attempts: 1,
            first_wait: Duration::ZERO,
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
    let (_, html) = get_as(&fx, &fx.session, "/approvals").await;
    for shown in [
        "<td>Refund</td><td>over 500 in the brand&#x27;s currency</td><td>admin</td>",
        "<td>Discount</td><td>over 20 %</td><td>admin</td>",
        "<td>Price change</td><td>every change</td><td>admin</td>",
        r#"<option value="refund">"#,
    ] {
        assert!(html.contains(shown), "{shown} missing: {html}");
    }
    assert!(
        !html.contains(r#"<option value="flag_change">"#),
        "a freeze is asked for on /flags"
    );
    assert!(!html.contains("approvals-badge"), "nothing waits yet");

    let bob = user_session(fx.state.store.as_ref(), "bob", Role::Admin, ts(NOW)).await;
    let ask = |body: &str| {
        let (router, bob, body) = (fx.router(), bob.clone(), body.to_string());
        async move {
            post_form(
                router,
                &bob,
                "/approvals",
                &format!("csrf_token={}&{body}", bob.csrf_token),
            )
            .await
        }
    };
    let (status, location, _) =
        ask("kind=refund&brand=mavena&summary=Refund+order+1042&amount=100.00").await;
    assert_eq!(
        (status, location.as_str()),
        (303, "/approvals?under_threshold=refund")
    );
    assert!(fx.state.store.approvals(None, 10).await.unwrap().is_empty());
    let (status, _, body) = ask("kind=discount&brand=mavena&summary=x&percent=25.555").await;
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("at most two decimals"), "{body}");
    let (status, _, body) = ask("kind=flag_change&brand=mavena&summary=x").await;
    assert_eq!(status, 400, "{body}");
    let (status, location, _) =
        ask("kind=refund&brand=mavena&summary=Refund+order+1042&amount=650.00").await;
    assert_eq!(status, 303);
    let id = location.strip_prefix("/approvals/").unwrap().to_string();
    let a = fx.state.store.approval(&id).await.unwrap().unwrap();
    assert_eq!(
        (a.requested_by.as_str(), a.amount.unwrap().minor),
        ("bob", 650_00)
    );

    let badge = r#"id="approvals-badge" aria-label="1 waiting for your decision">1</span>"#;
    let (_, html) = get_as(&fx, &fx.session, "/").await;
    assert!(
        html.contains(badge),
        "the admin may decide bob's request: {html}"
    );
    let (_, html) = get_as(&fx, &bob, "/").await;
    assert!(!html.contains("approvals-badge"), "not bob's own");
    let viewer = user_session(fx.state.store.as_ref(), "vera", Role::Viewer, ts(NOW)).await;
    let (_, html) = get_as(&fx, &viewer, "/approvals").await;
    assert!(
        !html.contains("approvals-badge"),
        "a viewer decides nothing"
    );

    let (status, _, _) = post_form(
        fx.router(),
        &fx.session,
        &format!("/approvals/{id}/decision"),
        &format!(
            "csrf_token={}&decision=approve&comment=receipt+checked",
            fx.session.csrf_token
        ),
    )
    .await;
    assert_eq!(status, 303);
    let a = fx.state.store.approval(&id).await.unwrap().unwrap();
    assert_eq!(a.state, ApprovalState::Executed);
    assert_eq!(
        a.outcome_note.as_deref(),
        Some("approved: bob makes the change")
    );
    let (_, html) = get_as(&fx, &fx.session, "/").await;
    assert!(!html.contains("approvals-badge"), "decided: nothing waits");
}
