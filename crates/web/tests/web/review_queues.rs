//! Issue 15 point 3 over real HTTP (the server bound on port 0): the
//! pharmacy's prescription events through `/api/v1/ingest/review-events`
//! — good, bad (nothing of the batch stored), out of order and repeated —
//! then the review queue as `/api/v1/queues/review`, the operations panel
//! and the `/queues/review` page show it, on a hand-computed set with the
//! fixture's fixed clock; and a role limited to one brand sees only its
//! brand's items.

use crate::common::{ts, Fixture, NOW};
use crate::ingest::token;
use opsdeck_accounts::roles::builtin::REGIONAL_LEAD;
use opsdeck_accounts::{builtin_allows, AuthConfig, PasswordHasher, Permission, RoleGrant, Roles};
use opsdeck_domain::{BrandId, OcrState, ReviewStatus, SourceId};
use opsdeck_store::TokenKinds;
use opsdeck_web::auth::Auth;
use opsdeck_web::testing::{user_session, TestSession};
use serde_json::{json, Value};

/// The fixture served over HTTP; the address and the stop signal.
struct Served {
    base: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Served {
    async fn start(fx: &Fixture) -> Served {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(opsdeck_web::serve(listener, fx.state.clone(), async {
            let _ = stopped.await;
        }));
        Served {
            base: format!("http://{addr}"),
            stop: Some(stop),
            server,
        }
    }

    async fn ingest(&self, token: &str, records: Vec<Value>) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/api/v1/ingest/review-events", self.base))
            .bearer_auth(token)
            .json(&json!({ "records": records }))
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.json().await.unwrap())
    }

    async fn get(&self, session: &TestSession, path: &str) -> (u16, String) {
        let response = reqwest::Client::new()
            .get(format!("{}{path}", self.base))
            .header("cookie", &session.cookie)
            .send()
            .await
            .unwrap();
        (response.status().as_u16(), response.text().await.unwrap())
    }

    async fn get_json(&self, session: &TestSession, path: &str) -> (u16, Value) {
        let (status, text) = self.get(session, path).await;
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn stop(mut self) {
        let _ = self.stop.take().map(|s| s.send(()));
        self.server.await.unwrap().unwrap();
    }
}

/// `minutes` before the fixture's clock, as the platform sends it.
fn ago(minutes: i64) -> String {
    (ts(NOW) - jiff::SignedDuration::from_mins(minutes)).to_string()
}

fn event(id: &str, name: &str, minutes_ago: i64) -> Value {
    json!({"external_id": id, "event": name, "occurred_at": ago(minutes_ago)})
}

async fn stored(fx: &Fixture, brand: &str, id: &str) -> Option<opsdeck_domain::ReviewItem> {
    fx.state
        .store
        .get_review_item(&SourceId::parse(&format!("ingest-{brand}")).unwrap(), id)
        .await
        .unwrap()
}

fn outcomes(answer: &Value) -> Vec<&str> {
    answer["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect()
}

#[tokio::test]
async fn rx_events_good_bad_out_of_order_and_twice_then_the_queue_over_http() {
    let fx = Fixture::with_projection().await;
    let served = Served::start(&fx).await;
    let rx = token(
        &fx,
        "mavena",
        TokenKinds::Only(vec!["review-events".into()]),
    )
    .await;

    // Good: three prescriptions uploaded; rx-1 read with low confidence.
    let mut up = event("rx-1", "RX_UPLOADED", 120);
    up["ocr_state"] = json!("pending");
    up["order_id"] = json!("1001");
    up["subject"] = json!("Prescription for order #1001");
    let mut ocr = event("rx-1", "RX_UPLOADED", 118);
    ocr["ocr_state"] = json!("low_confidence");
    let (status, answer) = served
        .ingest(
            &rx,
            vec![
                up.clone(),
                ocr,
                event("rx-2", "RX_UPLOADED", 50),
                event("rx-4", "RX_UPLOADED", 5),
            ],
        )
        .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        outcomes(&answer),
        ["inserted", "updated", "inserted", "inserted"]
    );
    let item = stored(&fx, "mavena", "rx-1").await.unwrap();
    assert_eq!(item.queue, "prescriptions", "the RX events' queue");
    assert_eq!(item.status, ReviewStatus::Open);
    assert_eq!(item.ocr_state, Some(OcrState::LowConfidence));
    assert_eq!(item.submitted_at.to_string(), ago(120));

    // Twice: the same upload again changes nothing.
    let (status, answer) = served.ingest(&rx, vec![up]).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(outcomes(&answer), ["unchanged"]);

    // Out of order: rx-3's approval arrives before its upload.
    let (status, _) = served
        .ingest(&rx, vec![event("rx-3", "RX_APPROVED", 20)])
        .await;
    assert_eq!(status, 200);
    let (status, answer) = served
        .ingest(&rx, vec![event("rx-3", "RX_UPLOADED", 40)])
        .await;
    assert_eq!(status, 200, "{answer}");
    let item = stored(&fx, "mavena", "rx-3").await.unwrap();
    assert_eq!(
        item.status,
        ReviewStatus::Approved,
        "the later event decides"
    );
    assert_eq!(
        item.submitted_at.to_string(),
        ago(40),
        "submitted at its upload"
    );
    assert_eq!(item.decided_at.map(|t| t.to_string()), Some(ago(20)));

    // Bad: one good record and three bad ones; every problem named with
    // its field and bound, and nothing of the batch stored.
    let mut unknown_ocr_type = event("rx-8", "RX_UPLOADED", 1);
    unknown_ocr_type["ocr_state"] = json!(3);
    let (status, answer) = served
        .ingest(
            &rx,
            vec![
                event("rx-9", "RX_UPLOADED", 1),
                event("rx-7", "RX_SHIPPED", 1),
                json!({"external_id": "rx-6", "event": "RX_UPLOADED"}),
                unknown_ocr_type,
                json!({"external_id": "x".repeat(300), "event": "RX_UPLOADED", "occurred_at": ago(1)}),
            ],
        )
        .await;
    assert_eq!(status, 422, "{answer}");
    let errors: Vec<(String, String)> = answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["field"].as_str().unwrap().to_string(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let named = |field: &str, words: &str| {
        assert!(
            errors.iter().any(|(f, r)| f == field && r.contains(words)),
            "{field} / {words}: {errors:?}"
        )
    };
    named("records[1].event", "RX_UPLOADED, RX_APPROVED, RX_REJECTED");
    named("records[2].occurred_at", "missing");
    named("records[3].ocr_state", "string");
    named("records[4].external_id", "255");
    assert_eq!(
        answer["error"],
        "4 of 5 records are invalid; nothing was stored"
    );
    assert!(
        stored(&fx, "mavena", "rx-9").await.is_none(),
        "nothing stored"
    );

    // The queue, from the one function, with the fixed clock: rx-1 waited
    // 2 h (breached, 1 h over), rx-2 50 min (at risk, 10 min left), rx-4
    // 5 min (on track); rx-3 is decided.
    fx.build_projection().await;
    let (status, view) = served
        .get_json(&fx.session, "/api/v1/queues/review?brand=mavena")
        .await;
    assert_eq!(status, 200, "{view}");
    let mavena = &view["brands"][0];
    assert_eq!(
        (
            &mavena["brand"],
            &mavena["pending"],
            &mavena["at_risk"],
            &mavena["breached"]
        ),
        (&json!("mavena"), &json!(3), &json!(1), &json!(1))
    );
    let q = &mavena["queues"][0];
    assert_eq!(q["queue"], "prescriptions");
    assert_eq!(q["sla_seconds"], 3600);
    assert_eq!(q["oldest_age_seconds"], 7200);
    let items: Vec<(&str, &str, i64)> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["external_id"].as_str().unwrap(),
                i["state"].as_str().unwrap(),
                i["time_left_seconds"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        items,
        [
            ("rx-1", "breached", -3600),
            ("rx-2", "at_risk", 600),
            ("rx-4", "on_track", 3300)
        ]
    );
    assert_eq!(q["items"][0]["ocr_state"], "low_confidence");
    assert_eq!(q["items"][0]["order_id"], "1001");

    // The operations panel: the same numbers.
    let (status, ops) = served
        .get_json(&fx.session, "/api/v1/operations?brand=mavena")
        .await;
    assert_eq!(status, 200, "{ops}");
    let panel = &ops["brands"][0];
    assert_eq!(panel["review_queue_pending"], 3);
    let mut counts = q.clone();
    counts.as_object_mut().unwrap().remove("items");
    assert_eq!(panel["review_queues"], json!([counts]));

    // The page and the dashboard's urgent list name the breach.
    let (status, html) = served.get(&fx.session, "/queues/review").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("rx-1") && html.contains("overdue by 1 h 00 min"),
        "{html}"
    );
    let (status, feed) = served.get(&fx.session, "/fragments/feed").await;
    assert_eq!(status, 200);
    assert!(
        feed.contains("Reviews past their SLA") && feed.contains("prescriptions: rx-1"),
        "{feed}"
    );
    assert!(!feed.contains("rx-2"), "at risk is not urgent: {feed}");
    served.stop().await;
}

/// The built-in roles with `regional_lead` limited to `brands`.
fn lead_of(brands: &[&str]) -> Roles {
    let mut roles = Roles::default();
    let permissions = Permission::ALL
        .into_iter()
        .filter(|p| builtin_allows(REGIONAL_LEAD, *p));
    roles
        .set(
            REGIONAL_LEAD,
            RoleGrant::of(permissions)
                .scoped(brands.iter().map(|b| BrandId::parse(b).unwrap()).collect()),
        )
        .unwrap();
    roles
}

#[tokio::test]
async fn a_role_limited_to_one_brand_sees_only_its_review_items() {
    let mut fx = Fixture::with_projection().await;
    fx.state.auth = Auth::new(AuthConfig {
        hasher: PasswordHasher::insecure_fast_for_tests(),
        roles: lead_of(&["kumo"]),
        ..AuthConfig::default()
    });
    let served = Served::start(&fx).await;
    let kinds = || TokenKinds::Only(vec!["review-events".into()]);
    let mavena = token(&fx, "mavena", kinds()).await;
    let kumo = token(&fx, "kumo", kinds()).await;
    let (status, _) = served
        .ingest(&mavena, vec![event("rx-secret-mavena", "RX_UPLOADED", 90)])
        .await;
    assert_eq!(status, 200);
    let (status, _) = served
        .ingest(&kumo, vec![event("rx-kumo", "RX_UPLOADED", 90)])
        .await;
    assert_eq!(status, 200);
    fx.build_projection().await;
    let lead = user_session(fx.state.store.as_ref(), "kei", REGIONAL_LEAD, ts(NOW)).await;

    let (status, view) = served.get_json(&lead, "/api/v1/queues/review").await;
    assert_eq!(status, 200, "{view}");
    let brands: Vec<&str> = view["brands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["brand"].as_str().unwrap())
        .collect();
    assert_eq!(brands, ["kumo"]);
    assert_eq!(view["brands"][0]["breached"], 1);
    let text = view.to_string();
    assert!(
        text.contains("rx-kumo") && !text.contains("rx-secret-mavena"),
        "{text}"
    );

    let (status, html) = served.get(&lead, "/queues/review").await;
    assert_eq!(status, 200);
    assert!(html.contains("rx-kumo") && !html.contains("rx-secret-mavena"));
    let (status, feed) = served.get(&lead, "/fragments/feed").await;
    assert_eq!(status, 200);
    assert!(
        feed.contains("rx-kumo") && !feed.contains("rx-secret-mavena"),
        "{feed}"
    );

    let (status, refused) = served
        .get(&lead, "/api/v1/queues/review?brand=mavena")
        .await;
    assert_eq!(status, 403, "{refused}");
    assert!(!refused.contains("rx-secret-mavena"));
    // The admin sees both.
    let (_, all) = served.get_json(&fx.session, "/api/v1/queues/review").await;
    let all = all.to_string();
    assert!(all.contains("rx-kumo") && all.contains("rx-secret-mavena"));
    served.stop().await;
}
