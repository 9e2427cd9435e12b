//! Approvals end to end on each backend: four eyes, expiry at decision
//! time with a fixed clock, a double click and a retried Telegram press
//! running the action once, a signed callback verified by a real HTTP
//! receiver, a Shopify target changed in between refused, and the
//! notifications' buttons.
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Json, Router};
use hmac::{Hmac, Mac};
use opsdeck_alerts::notify::slack::SlackNotifier;
use opsdeck_alerts::notify::telegram::{TelegramConfig, TelegramNotifier, TelegramUpdates};
use opsdeck_alerts::notify::{http_client, Channel, Notifiers};
use opsdeck_alerts::payloads::{SlackBlock, SlackMessage, TelegramMessage};
use opsdeck_alerts::testing::{FakeReceivers, Fault};
use opsdeck_domain::{BrandId, Currency, Money, Secret, SourceId, Timestamp};
use opsdeck_operations::approvals::*;
use opsdeck_sources::shopify::graphql::{CostBucket, GraphqlClient, GRAPHQL_API_VERSION};
use opsdeck_sources::ShopifySettings;
use opsdeck_store::testing::{each_backend, sqlite_store};
use opsdeck_store::{ApprovalKind, ApprovalState, NewUser, RequestedVia, Role, RunOutcome, Store};
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SECRET: &str = "platform-secret";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

/// A clock the test moves by hand.
#[derive(Clone)]
struct FixedClock(Arc<Mutex<Timestamp>>);

impl FixedClock {
    fn at(s: &str) -> Self {
        FixedClock(Arc::new(Mutex::new(ts(s))))
    }
    fn set(&self, s: &str) {
        *self.0.lock().unwrap() = ts(s);
    }
    fn clock(&self) -> Clock {
        let inner = self.0.clone();
        Arc::new(move || *inner.lock().unwrap())
    }
}

/// A custom platform's callback endpoint: records each request, checks
/// its signature, answers the queued statuses (then 200).
#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<(HeaderMap, String, bool)>>>,
    answers: Arc<Mutex<VecDeque<u16>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let signed = headers
        .get("x-opsdeck-signature")
        .and_then(|v| v.to_str().ok())
        == Some(format!("sha256={expected}").as_str());
    r.got.lock().unwrap().push((headers, body, signed));
    let status = r.answers.lock().unwrap().pop_front().unwrap_or(200);
    StatusCode::from_u16(status).unwrap()
}

async fn serve(router: Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    format!("http://{addr}")
}

async fn start_receiver() -> (Receiver, String) {
    let r = Receiver::default();
    let url = serve(
        Router::new()
            .route("/cb", post(receive))
            .with_state(r.clone()),
    )
    .await;
    (r, url)
}

fn executor(base: &str) -> Executor {
    Executor::new(
        http_client(Duration::from_secs(5)),
        Retry {
            attempts: 3,
            first_wait: Duration::ZERO,
        },
    )
    .with_platform(
        "lux-ingest",
        CallbackPlatform {
            secret: Secret::new(SECRET),
            url_prefix: format!("{base}/"),
        },
    )
}

fn refund(base: &str, minor: i64) -> NewRequest {
    NewRequest {
        kind: ApprovalKind::Refund,
        brand: "lux".into(),
        summary: "Refund order 1042 (damaged bag)".into(),
        amount: Some(Money::new(minor, Currency::parse("EUR").unwrap())),
        percent_bp: None,
        action: Action::Callback {
            platform: "lux-ingest".into(),
            url: format!("{base}/cb"),
            payload: json!({"order": "1042"}),
        },
        target_version: None,
        subject: None,
    }
}

fn platform() -> Requester {
    Requester {
        name: "platform:lux-ingest".into(),
        via: RequestedVia::Api,
        ip: None,
    }
}

fn admin(name: &str) -> Decider {
    Decider {
        username: name.into(),
        role: Role::Admin,
        via: "dashboard",
        ip: Some("192.0.2.1".into()),
    }
}

async fn pending(approvals: &Approvals, req: NewRequest, who: &Requester) -> String {
    match approvals.request(req, who).await.unwrap() {
        Requested::Pending(a) => a.id,
        Requested::NotRequired => panic!("expected a pending request"),
    }
}

async fn audit_actions(store: &Arc<dyn Store>, id: &str) -> Vec<String> {
    let mut actions: Vec<String> = store
        .audit_log(200)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.subject == format!("approval:{id}"))
        .map(|e| format!("{} {}", e.action.as_str(), e.actor))
        .collect();
    actions.reverse();
    actions
}

#[tokio::test]
async fn under_the_threshold_needs_no_approval_and_stores_nothing() {
    let db = sqlite_store().await;
    let (_r, base) = start_receiver().await;
    let approvals = Approvals::new(
        db.store.clone(),
        ApprovalPolicy::playbook(),
        Arc::new(executor(&base)),
    );
    assert_eq!(
        approvals
            .request(refund(&base, 50_000), &platform())
            .await
            .unwrap(),
        Requested::NotRequired
    );
    assert!(db.store.approvals(None, 10).await.unwrap().is_empty());
    let mut outside = refund(&base, 90_000);
    outside.action = Action::Callback {
        platform: "lux-ingest".into(),
        url: "http://169.254.169.254/latest".into(),
        payload: json!({}),
    };
    let err = approvals.request(outside, &platform()).await.unwrap_err();
    assert!(
        err.to_string().contains("callback_url must start with"),
        "{err}"
    );
    assert!(db.store.approvals(None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn four_eyes_role_and_comment_are_enforced_and_refusals_audited() {
    for db in each_backend().await {
        let (r, base) = start_receiver().await;
        let approvals = Approvals::new(
            db.store.clone(),
            ApprovalPolicy::playbook(),
            Arc::new(executor(&base)),
        );
        let mine = Requester {
            name: "anna".into(),
            via: RequestedVia::Dashboard,
            ip: None,
        };
        let id = pending(&approvals, refund(&base, 90_000), &mine).await;
        let err = approvals
            .decide(&id, &admin("anna"), true, "looks fine")
            .await
            .unwrap_err();
        assert!(
            matches!(err, ApprovalError::OwnRequest(_)),
            "{}: {err}",
            db.label
        );
        let ops = Decider {
            role: Role::Ops,
            ..admin("olga")
        };
        let err = approvals.decide(&id, &ops, true, "ok").await.unwrap_err();
        assert_eq!(err.to_string(), "only the admin role decides this request");
        let err = approvals
            .decide(&id, &admin("bob"), true, "   ")
            .await
            .unwrap_err();
        assert_eq!(err.to_string(), "comment is required");
        let a = db.store.approval(&id).await.unwrap().unwrap();
        assert_eq!(a.state, ApprovalState::Pending, "{}", db.label);
        assert!(r.got.lock().unwrap().is_empty());
        let decided = approvals
            .decide(&id, &admin("bob"), false, "customer already refunded")
            .await
            .unwrap();
        assert_eq!(
            (decided.state, decided.run),
            (ApprovalState::Rejected, None)
        );
        // The platform is told, signed, with the approval's key, and acts
        // on nothing.
        let got = r.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{}: one closing callback", db.label);
        let (headers, body, signed) = &got[0];
        assert!(signed, "the rejection callback is signed as the approval's");
        let a = db.store.approval(&id).await.unwrap().unwrap();
        assert_eq!(headers["idempotency-key"], a.idempotency_key.as_str());
        let body: CallbackBody = serde_json::from_str(body).unwrap();
        assert_eq!(body.decision, "rejected");
        assert_eq!(body.comment.as_deref(), Some("customer already refunded"));
        assert_eq!(body.idempotency_key, a.idempotency_key);
        assert_eq!(
            audit_actions(&db.store, &id).await,
            [
                "approval.request anna",
                "approval.decision_refused anna",
                "approval.decision_refused olga",
                "approval.reject bob",
                "approval.closed_callback opsdeck"
            ],
            "{}",
            db.label
        );
        // A retried decision finds it decided and tells nobody again.
        assert!(approvals
            .decide(&id, &admin("bob"), false, "again")
            .await
            .is_err());
        assert_eq!(approvals.sweep_once().await.unwrap(), 0);
        assert_eq!(r.got.lock().unwrap().len(), 1, "{}", db.label);
    }
}

#[tokio::test]
async fn expiry_is_enforced_when_the_decision_is_recorded() {
    for db in each_backend().await {
        let (r, base) = start_receiver().await;
        let clock = FixedClock::at("2026-06-10T10:00:00Z");
        let approvals = Approvals::new(
            db.store.clone(),
            ApprovalPolicy::playbook(),
            Arc::new(executor(&base)),
        )
        .with_clock(clock.clock());
        let id = pending(&approvals, refund(&base, 90_000), &platform()).await;
        let a = db.store.approval(&id).await.unwrap().unwrap();
        assert_eq!(a.expires_at, ts("2026-06-11T10:00:00Z"), "24 h by default");
        clock.set("2026-06-11T09:59:59Z");
        assert_eq!(approvals.pending().await.unwrap().len(), 1);
        clock.set("2026-06-11T10:00:00Z");
        assert!(
            approvals.pending().await.unwrap().is_empty(),
            "{}",
            db.label
        );
        let err = approvals
            .decide(&id, &admin("bob"), true, "go")
            .await
            .unwrap_err();
        assert!(matches!(err, ApprovalError::Expired), "{}: {err}", db.label);
        assert_eq!(
            db.store.approval(&id).await.unwrap().unwrap().state,
            ApprovalState::Expired
        );
        // It never runs; the platform hears it expired, once.
        let got = r.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{}: one closing callback", db.label);
        let (headers, body, signed) = &got[0];
        assert!(signed);
        let a = db.store.approval(&id).await.unwrap().unwrap();
        assert_eq!(headers["idempotency-key"], a.idempotency_key.as_str());
        let body: CallbackBody = serde_json::from_str(body).unwrap();
        assert_eq!(body.decision, "expired");
        assert!(approvals
            .decide(&id, &admin("bob"), true, "go")
            .await
            .is_err());
        assert_eq!(approvals.sweep_once().await.unwrap(), 0);
        assert_eq!(r.got.lock().unwrap().len(), 1, "{}", db.label);

        // Expired by the sweep rather than a late decision: told the same way.
        clock.set("2026-06-12T10:00:00Z");
        let swept = pending(&approvals, refund(&base, 90_000), &platform()).await;
        clock.set("2026-06-13T10:00:00Z");
        assert_eq!(approvals.sweep_once().await.unwrap(), 0);
        assert_eq!(approvals.sweep_once().await.unwrap(), 0);
        let got = r.got.lock().unwrap().clone();
        assert_eq!(got.len(), 2, "{}", db.label);
        let body: CallbackBody = serde_json::from_str(&got[1].1).unwrap();
        assert_eq!(
            (body.approval_id.as_str(), body.decision.as_str()),
            (swept.as_str(), "expired")
        );
        assert!(audit_actions(&db.store, &swept)
            .await
            .contains(&"approval.closed_callback opsdeck".to_string()));
    }
}

#[tokio::test]
async fn a_double_click_runs_the_signed_callback_once() {
    for db in each_backend().await {
        let (r, base) = start_receiver().await;
        let approvals = Arc::new(Approvals::new(
            db.store.clone(),
            ApprovalPolicy::playbook(),
            Arc::new(executor(&base)),
        ));
        let id = pending(&approvals, refund(&base, 90_000), &platform()).await;
        let clicks: Vec<_> = ["bob", "bob", "carol", "bob"]
            .into_iter()
            .map(|who| {
                let approvals = approvals.clone();
                let id = id.clone();
                tokio::spawn(
                    async move { approvals.decide(&id, &admin(who), true, "refund ok").await },
                )
            })
            .collect();
        let mut won = 0;
        for click in clicks {
            match click.await.unwrap() {
                Ok(d) => {
                    won += 1;
                    assert_eq!(d.state, ApprovalState::Approved);
                    assert!(
                        matches!(d.run, Some(RunOutcome::Executed { .. })),
                        "{:?}",
                        d.run
                    );
                }
                Err(e) => assert!(matches!(e, ApprovalError::AlreadyDecided { .. }), "{e}"),
            }
        }
        assert_eq!(won, 1, "{}", db.label);
        let got = r.got.lock().unwrap().clone();
        assert_eq!(got.len(), 1, "{}: one callback", db.label);
        let (headers, body, signed) = &got[0];
        assert!(signed, "the receiver verified the HMAC-SHA256 signature");
        let a = db.store.approval(&id).await.unwrap().unwrap();
        assert_eq!(a.state, ApprovalState::Executed);
        assert_eq!(headers["idempotency-key"], a.idempotency_key.as_str());
        let body: CallbackBody = serde_json::from_str(body).unwrap();
        assert_eq!(body.payload, json!({"order": "1042"}));
        assert_eq!(body.idempotency_key, a.idempotency_key);
        assert_eq!(body.comment.as_deref(), Some("refund ok"));
        // Running again (a sweep, a retry) does nothing.
        assert_eq!(approvals.run(&id).await.unwrap(), None);
        assert_eq!(approvals.sweep_once().await.unwrap(), 0);
        assert_eq!(r.got.lock().unwrap().len(), 1);
    }
}

#[tokio::test]
async fn a_callback_is_retried_on_5xx_with_the_same_key_and_fails_on_4xx() {
    let db = sqlite_store().await;
    let (r, base) = start_receiver().await;
    let approvals = Approvals::new(
        db.store.clone(),
        ApprovalPolicy::playbook(),
        Arc::new(executor(&base)),
    );
    r.answers.lock().unwrap().extend([503, 500]);
    let id = pending(&approvals, refund(&base, 90_000), &platform()).await;
    let d = approvals
        .decide(&id, &admin("bob"), true, "ok")
        .await
        .unwrap();
    assert!(
        matches!(d.run, Some(RunOutcome::Executed { .. })),
        "{:?}",
        d.run
    );
    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3);
    let keys: Vec<_> = got
        .iter()
        .map(|(h, _, _)| h["idempotency-key"].clone())
        .collect();
    assert!(keys.iter().all(|k| *k == keys[0]), "one key on every retry");

    r.answers.lock().unwrap().extend([422]);
    let id = pending(&approvals, refund(&base, 90_000), &platform()).await;
    let d = approvals
        .decide(&id, &admin("bob"), true, "ok")
        .await
        .unwrap();
    assert_eq!(
        d.run,
        Some(RunOutcome::Failed {
            reason: "callback answered HTTP 422".into()
        })
    );
    assert_eq!(
        db.store.approval(&id).await.unwrap().unwrap().state,
        ApprovalState::Failed
    );
    assert_eq!(r.got.lock().unwrap().len(), 4, "a 4xx is not retried");
    assert!(audit_actions(&db.store, &id)
        .await
        .contains(&"approval.run_failed opsdeck".to_string()));
}

fn telegram_config(fake: &FakeReceivers) -> TelegramConfig {
    TelegramConfig {
        base_url: fake.telegram_base_url(),
        bot_token: Secret::new("123456:TEST-token"),
        chat_id: "-1001234".into(),
        message_thread_id: None,
        allowed_user_ids: Vec::new(),
    }
}

fn alert_service(store: Arc<dyn Store>) -> opsdeck_alerts::AlertService {
    opsdeck_alerts::AlertService::new(
        store,
        opsdeck_alerts::Evaluator::new(opsdeck_alerts::RuleSet::defaults()),
        opsdeck_alerts::render::RenderConfig {
            dashboard_url: "http://ops.example.com".into(),
        },
        Default::default(),
        "t",
    )
}

#[tokio::test]
async fn slack_and_telegram_carry_the_buttons_and_a_retried_press_runs_once() {
    for db in each_backend().await {
        let fake = FakeReceivers::start().await.unwrap();
        let (r, base) = start_receiver().await;
        let client = http_client(Duration::from_secs(10));
        let notifiers = Notifiers::new()
            .with(
                Channel::Slack,
                Arc::new(SlackNotifier::new(
                    client.clone(),
                    Secret::new(fake.slack_url()),
                )),
            )
            .with(
                Channel::Telegram,
                Arc::new(TelegramNotifier::new(
                    client.clone(),
                    telegram_config(&fake),
                )),
            );
        let approvals = Arc::new(
            Approvals::new(
                db.store.clone(),
                ApprovalPolicy::playbook(),
                Arc::new(executor(&base)),
            )
            .with_notices(ApprovalNotices::of(&notifiers, "http://ops.example.com")),
        );
        // Slack is down for the first attempt: the notice waits in the
        // outbox and the alerts' sender tries again after its backoff.
        fake.fail_next("slack", &[Fault::ServerError]);
        let id = pending(&approvals, refund(&base, 90_000), &platform()).await;
        assert!(
            fake.received("slack").is_empty() && fake.received("telegram").is_empty(),
            "queued with the request, not sent by it"
        );
        let sender = opsdeck_alerts::outbox::Sender::new(db.store.clone(), notifiers, "s");
        let now = Timestamp::now();
        let first = sender.deliver_once(now).await.unwrap();
        assert_eq!(
            (first.delivered, first.retrying),
            (1, 1),
            "{}: Telegram delivered, Slack to retry",
            db.label
        );
        assert!(fake.received("slack").len() == 1, "the failed attempt");
        let later = now
            .checked_add(jiff::SignedDuration::from_secs(600))
            .unwrap();
        let second = sender.deliver_once(later).await.unwrap();
        assert_eq!((second.delivered, second.retrying), (1, 0), "{}", db.label);
        assert_eq!(
            sender.deliver_once(later).await.unwrap().delivered,
            0,
            "once"
        );
        assert_eq!(fake.received("telegram").len(), 1);
        let slack_got = fake.received("slack");
        assert_eq!(slack_got.len(), 2);
        assert_eq!(
            slack_got[0].raw, slack_got[1].raw,
            "the same notice retried"
        );

        let slack: SlackMessage =
            serde_json::from_value(fake.received("slack")[1].body.clone()).unwrap();
        let buttons: Vec<(String, String)> = slack
            .blocks
            .iter()
            .flat_map(|b| match b {
                SlackBlock::Actions { elements } => elements
                    .iter()
                    .map(|e| (e.text.text().to_string(), e.url.clone()))
                    .collect(),
                _ => Vec::new(),
            })
            .collect();
        assert_eq!(
            buttons,
            [
                (
                    "Approve".to_string(),
                    format!("http://ops.example.com/approvals/{id}?decision=approve")
                ),
                (
                    "Reject".to_string(),
                    format!("http://ops.example.com/approvals/{id}?decision=reject")
                ),
            ]
        );
        let raw_slack = fake.received("slack")[1].raw.clone();
        assert!(
            !raw_slack.contains("900"),
            "no amount in a channel message: {raw_slack}"
        );
        let telegram: TelegramMessage =
            serde_json::from_value(fake.received("telegram")[0].body.clone()).unwrap();
        let data: Vec<_> = telegram
            .buttons()
            .map(|b| (b.text.clone(), b.callback_data.clone()))
            .collect();
        let approve = format!("apv:{id}:a");
        assert_eq!(
            data,
            [
                ("Approve".to_string(), approve.clone()),
                ("Reject".to_string(), format!("apv:{id}:r"))
            ]
        );

        // The approver's Telegram account (user 42) is linked to "bob".
        db.store
            .create_user(
                &NewUser {
                    username: "bob".into(),
                    role: Role::Admin,
                    password_hash: "unused".into(),
                    at: ts("2026-06-01T00:00:00Z"),
                },
                &opsdeck_store::AuditEntry {
                    at: ts("2026-06-01T00:00:00Z"),
                    actor: "test".into(),
                    action: opsdeck_store::AuditAction::UserCreate,
                    subject: "user:bob".into(),
                    payload: json!({}),
                    ip: None,
                },
            )
            .await
            .unwrap();
        let buttons = ApprovalButtons {
            approvals: approvals.clone(),
            linked_users: HashMap::from([(42, "bob".to_string())]),
        };
        let mut updates = TelegramUpdates::new(client.clone(), telegram_config(&fake))
            .with_handler(Arc::new(buttons));
        let alerts = alert_service(db.store.clone());
        // Telegram redelivers the press (a retried callback): both arrive.
        fake.press_button(&approve, "bob_tg");
        fake.press_button(&approve, "bob_tg");
        let n =
            opsdeck_alerts::telegram_acks::poll_once(&alerts, &mut updates, Duration::from_secs(1))
                .await
                .unwrap();
        assert_eq!(n, 2);
        let answers: Vec<Value> = fake
            .received("telegram_answer")
            .into_iter()
            .map(|a| a.body["text"].clone())
            .collect();
        assert_eq!(answers[0], "Approved and done", "{}", db.label);
        assert_eq!(answers[1], "Refused: already executed by bob");
        assert_eq!(
            r.got.lock().unwrap().len(),
            1,
            "{}: the action ran once",
            db.label
        );
        let a = db.store.approval(&id).await.unwrap().unwrap();
        assert_eq!(a.decided_by.as_deref(), Some("bob"));
        assert_eq!(
            a.decision_comment.as_deref(),
            Some("Approved with the Telegram button by @bob_tg")
        );

        // A press from another chat is refused and audited, and decides nothing.
        let other = pending(&approvals, refund(&base, 90_000), &platform()).await;
        fake.press_button_in(&format!("apv:{other}:a"), "mallory", 42, -999);
        opsdeck_alerts::telegram_acks::poll_once(&alerts, &mut updates, Duration::from_secs(1))
            .await
            .unwrap();
        assert_eq!(
            db.store.approval(&other).await.unwrap().unwrap().state,
            ApprovalState::Pending
        );
        assert_eq!(
            audit_actions(&db.store, &other).await,
            [
                "approval.request platform:lux-ingest",
                "approval.decision_refused @mallory"
            ]
        );
    }
}

/// A Shopify GraphQL endpoint: the variant's `updatedAt` is what the test
/// sets; mutations are recorded.
#[derive(Clone, Default)]
struct FakeShop {
    updated_at: Arc<Mutex<String>>,
    mutations: Arc<Mutex<Vec<Value>>>,
}

async fn graphql(State(shop): State<FakeShop>, Json(body): Json<Value>) -> Json<Value> {
    if body["operationName"] == "ApprovalTarget" {
        let updated_at = shop.updated_at.lock().unwrap().clone();
        return Json(json!({"data": {"node": {
            "id": body["variables"]["id"], "updatedAt": updated_at
        }}}));
    }
    shop.mutations.lock().unwrap().push(body);
    Json(json!({"data": {"productVariantsBulkUpdate": {
        "productVariants": [{"id": "gid://shopify/ProductVariant/7", "price": "59.00"}],
        "userErrors": []
    }}}))
}

#[tokio::test]
async fn a_shopify_target_changed_since_the_request_is_refused() {
    for db in each_backend().await {
        let shop = FakeShop::default();
        *shop.updated_at.lock().unwrap() = "2026-06-10T09:00:00Z".into();
        let base = serve(
            Router::new()
                .route("/admin/api/{version}/graphql.json", post(graphql))
                .with_state(shop.clone()),
        )
        .await;
        let mut settings = ShopifySettings::new(
            SourceId::parse("shopify-lux").unwrap(),
            BrandId::parse("lux").unwrap(),
            Currency::parse("EUR").unwrap(),
            "lux.myshopify.com",
            Secret::new("shpat_test"),
        )
        .unwrap();
        settings.base_url = url::Url::parse(&base).unwrap();
        let client =
            GraphqlClient::new(settings, GRAPHQL_API_VERSION, Arc::new(CostBucket::new())).unwrap();
        let runner = executor("http://unused").with_shop("shopify-lux", Arc::new(client));
        let approvals = Approvals::new(
            db.store.clone(),
            ApprovalPolicy::playbook(),
            Arc::new(runner),
        );
        let eur = Currency::parse("EUR").unwrap();
        let price = |target: &str| NewRequest {
            kind: ApprovalKind::PriceChange,
            brand: "lux".into(),
            summary: "Tote bag to 59.00".into(),
            amount: Some(Money::new(5900, eur)),
            percent_bp: None,
            action: Action::ShopifyVariantPrice {
                shop: "shopify-lux".into(),
                product_id: "gid://shopify/Product/1".into(),
                variant_id: "gid://shopify/ProductVariant/7".into(),
                price: Money::new(5900, eur),
            },
            target_version: Some(target.into()),
            subject: None,
        };
        let stale = pending(&approvals, price("2026-06-10T09:00:00Z"), &platform()).await;
        // Someone edits the variant in Shopify before the decision.
        *shop.updated_at.lock().unwrap() = "2026-06-10T09:30:00Z".into();
        let d = approvals
            .decide(&stale, &admin("bob"), true, "ok")
            .await
            .unwrap();
        let Some(RunOutcome::Failed { reason }) = d.run else {
            panic!("{}: expected a refusal, got {:?}", db.label, d.run)
        };
        assert!(reason.contains("changed since the request"), "{reason}");
        assert!(
            shop.mutations.lock().unwrap().is_empty(),
            "no mutation on a changed target"
        );
        assert_eq!(
            db.store.approval(&stale).await.unwrap().unwrap().state,
            ApprovalState::Failed
        );

        let fresh = pending(&approvals, price("2026-06-10T09:30:00Z"), &platform()).await;
        let d = approvals
            .decide(&fresh, &admin("bob"), true, "ok")
            .await
            .unwrap();
        assert!(
            matches!(d.run, Some(RunOutcome::Executed { .. })),
            "{:?}",
            d.run
        );
        let sent = shop.mutations.lock().unwrap().clone();
        assert_eq!(sent.len(), 1);
        assert!(sent[0]["query"]
            .as_str()
            .unwrap()
            .contains("@idempotent(key: $key)"));
        let a = db.store.approval(&fresh).await.unwrap().unwrap();
        assert_eq!(sent[0]["variables"]["key"], a.idempotency_key.as_str());
        assert_eq!(
            sent[0]["variables"]["variants"],
            json!([{"id": "gid://shopify/ProductVariant/7", "price": "59.00"}])
        );
    }
}
