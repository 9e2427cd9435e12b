//! The refunds queue's decisions against the Shopify simulator over real
//! HTTP, on each store backend: a REQUESTED return approved from the queue
//! becomes OPEN at Shopify (and sends `returns/approve`), is stored
//! approved and audited with who did it; another declined becomes
//! DECLINED; a second decision of the same return is refused by Shopify
//! (`INVALID_STATE`); a token without `write_returns` disables the buttons
//! with the reason and is refused (`ACCESS_DENIED`); a refund request over
//! the approval threshold waits for an approval ("awaiting approval #N").
#![expect(clippy::unwrap_used, reason = "a failed unwrap is a failed test")]

use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use opsdeck_domain::{BrandId, Currency, Money, ReturnStatus, Secret, SourceId, Timestamp};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::{Projection, SharedProjection, SubscriptionRules};
use opsdeck_operations::approvals::{ApprovalPolicy, Approvals, Executor, Retry};
use opsdeck_operations::incidents::Actor;
use opsdeck_operations::queues::{Decided, Decision, QueueError, RefundQueue, ShopReturns};
use opsdeck_simulator::{SimConfig, Simulator, ALL_SCOPES};
use opsdeck_sources::shopify::graphql::normalize::return_from_graphql;
use opsdeck_sources::shopify::graphql::returns::{DeclineReason, MISSING_WRITE_RETURNS};
use opsdeck_sources::shopify::graphql::{
    CostBucket, GraphqlClient, GraphqlError, GraphqlStats, GRAPHQL_API_VERSION,
};
use opsdeck_sources::shopify::normalize::NormalizeContext;
use opsdeck_sources::ShopifySettings;
use opsdeck_store::testing::each_backend;
use opsdeck_store::{AnyRecord, AuditFilter, Store};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

const NOW: &str = "2026-06-10T18:05:00Z";

fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

struct Shop {
    sim: Simulator,
    /// The shop with the most returns waiting at the clock.
    slug: String,
    source: SourceId,
    base: String,
    token: String,
    brand: opsdeck_domain::Brand,
    currency: Currency,
}

async fn simulator() -> Shop {
    let sim = Simulator::new(SimConfig {
        seed: 11,
        now: ts(NOW),
        scale: 0.2,
    });
    // Move the clock (deterministically) until some shop has two returns
    // waiting for a decision.
    let waiting = |sim: &Simulator| {
        sim.shops()
            .into_iter()
            .map(|s| requested_returns(sim, &s.slug).len())
            .max()
            .unwrap_or(0)
    };
    for step in 0..40 {
        if waiting(&sim) >= 2 {
            eprintln!("two returns wait after {step} steps of 6 h");
            break;
        }
        let later = sim
            .now()
            .checked_add(jiff::SignedDuration::from_hours(6))
            .unwrap();
        sim.advance_to(later);
    }
    sim.set_rate_limit(false);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let serving = sim.clone();
    tokio::spawn(async move { serving.serve(listener, std::future::pending()).await });
    let info = sim
        .shops()
        .into_iter()
        .max_by_key(|s| requested_returns(&sim, &s.slug).len())
        .unwrap();
    let currency = Currency::parse(&info.currency.to_string()).unwrap();
    let brand = opsdeck_domain::Brand {
        id: BrandId::parse(&info.brand_id.to_string()).unwrap(),
        name: "Mavena".into(),
        kind: opsdeck_domain::BrandKind::Standard,
        time_zone: jiff::tz::TimeZone::get(&info.time_zone.to_string()).unwrap(),
        currency,
        launched: true,
        thresholds: opsdeck_domain::Thresholds::defaults_for(&opsdeck_domain::BrandKind::Standard),
    };
    Shop {
        base: Simulator::shop_base_url(addr, &info.slug).to_string(),
        source: SourceId::parse(&format!("shopify-{}", info.brand_id)).unwrap(),
        slug: info.slug.clone(),
        token: info.access_token.to_string(),
        sim,
        brand,
        currency,
    }
}

/// A node as a query reads it: the simulator's whole nodes keep a nested
/// connection's nodes under `__nodes`.
fn as_queried(node: Value) -> Value {
    match node {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let k = if k == "__nodes" {
                        "nodes".to_string()
                    } else {
                        k
                    };
                    (k, as_queried(v))
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(as_queried).collect()),
        other => other,
    }
}

/// The REQUESTED returns of shop `slug` at the simulator's clock, as
/// GraphQL nodes.
fn requested_returns(sim: &Simulator, slug: &str) -> Vec<Value> {
    sim.graphql_nodes(slug, "orders")
        .into_iter()
        .flat_map(|o| {
            o.pointer("/returns/__nodes")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default()
        })
        .filter(|r| r["status"] == "REQUESTED")
        .collect()
}

impl Shop {
    fn graphql(&self) -> Arc<GraphqlClient> {
        let mut settings = ShopifySettings::new(
            self.source.clone(),
            self.brand.id.clone(),
            self.currency,
            "unused.myshopify.com",
            Secret::new(self.token.clone()),
        )
        .unwrap();
        settings.base_url = url::Url::parse(&self.base).unwrap();
        settings.request_timeout = Duration::from_secs(5);
        Arc::new(
            GraphqlClient::new(settings, GRAPHQL_API_VERSION, Arc::new(CostBucket::new())).unwrap(),
        )
    }

    fn requested_returns(&self) -> Vec<Value> {
        requested_returns(&self.sim, &self.slug)
    }

    fn return_status(&self, gid: &str) -> String {
        self.sim
            .graphql_nodes(&self.slug, "orders")
            .into_iter()
            .flat_map(|o| {
                o.pointer("/returns/__nodes")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default()
            })
            .find(|r| r["id"] == gid)
            .map(|r| r["status"].as_str().unwrap().to_string())
            .unwrap()
    }

    /// Subscribes `address` to `topic` through the REST Admin API.
    async fn subscribe(&self, topic: &str, address: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/admin/api/2026-01/webhooks.json", self.base))
            .header("X-Shopify-Access-Token", &self.token)
            .json(&serde_json::json!({"webhook": {"topic": topic, "address": address, "format": "json"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201);
    }
}

/// A webhook receiver: the (topic, body) of each delivery.
async fn receiver() -> (String, Arc<Mutex<Vec<(String, Value)>>>) {
    let got: Arc<Mutex<Vec<(String, Value)>>> = Arc::default();
    let app = Router::new().route(
        "/hooks",
        post({
            let got = got.clone();
            move |headers: HeaderMap, body: String| {
                let got = got.clone();
                async move {
                    let topic = headers["x-shopify-topic"].to_str().unwrap().to_string();
                    got.lock()
                        .unwrap()
                        .push((topic, serde_json::from_str(&body).unwrap()));
                    "ok"
                }
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}/hooks"), got)
}

async fn projection_of(store: &Arc<dyn Store>, brand: &opsdeck_domain::Brand) -> SharedProjection {
    Arc::new(RwLock::new(
        Projection::build(
            store.as_ref(),
            vec![brand.clone()],
            SubscriptionRules::default(),
        )
        .await
        .unwrap(),
    ))
}

fn panel(shop: &Shop) -> PanelConfig {
    let mut cfg = PanelConfig::default();
    cfg.sla_queue.shop_admin.insert(
        shop.source.to_string(),
        format!("https://{}.myshopify.com/admin", shop.slug),
    );
    cfg
}

fn queue(store: &Arc<dyn Store>, shop: &Shop, approvals: Option<Arc<Approvals>>) -> RefundQueue {
    let mut shops = BTreeMap::new();
    shops.insert(
        shop.source.to_string(),
        ShopReturns {
            graphql: shop.graphql(),
            notify_customer: true,
        },
    );
    let now = shop.sim.now();
    RefundQueue::new(store.clone(), shops, approvals, Arc::new(move || now))
}

/// Stores the simulator's REQUESTED returns as the sync would.
async fn store_returns(store: &Arc<dyn Store>, shop: &Shop) -> Vec<String> {
    let ctx = NormalizeContext {
        source: shop.source.clone(),
        brand: shop.brand.id.clone(),
        currency: shop.currency,
    };
    let nodes = shop.requested_returns();
    assert!(
        nodes.len() >= 2,
        "the data set has two returns waiting: {}",
        nodes.len()
    );
    let records: Vec<AnyRecord> = nodes
        .into_iter()
        .map(|n| {
            AnyRecord::ReturnRequest(return_from_graphql(&ctx, &as_queried(n)).unwrap().request)
        })
        .collect();
    store.upsert(&records, None).await.unwrap();
    records
        .iter()
        .map(|r| match r {
            AnyRecord::ReturnRequest(r) => r.external_id.clone(),
            _ => unreachable!(),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_approved_and_another_declined_at_shopify_from_the_queue() {
    for backend in each_backend().await {
        let store = backend.store.clone();
        let shop = simulator().await;
        let (hooks, deliveries) = receiver().await;
        shop.subscribe("returns/approve", &hooks).await;
        shop.subscribe("returns/decline", &hooks).await;
        let ids = store_returns(&store, &shop).await;
        let projection = projection_of(&store, &shop.brand).await;
        let q = queue(&store, &shop, None);
        let rows = q
            .list(
                &projection,
                &panel(&shop),
                std::slice::from_ref(&shop.brand.id),
                None,
                shop.sim.now(),
            )
            .await
            .unwrap();
        let first = rows.iter().find(|r| r.item.external_id == ids[0]).unwrap();
        assert!(
            first.decidable,
            "{}: {:?}",
            backend.label, first.disabled_reason
        );
        assert_eq!(
            first
                .item
                .act_url
                .as_deref()
                .map(|u| u.starts_with(&format!(
                    "https://{}.myshopify.com/admin/orders/",
                    shop.slug
                ))),
            Some(true)
        );

        let who = Actor {
            name: "sam".into(),
            ip: Some("10.0.0.7".into()),
        };
        let decided = q
            .decide(
                &projection,
                shop.source.as_str(),
                &ids[0],
                Decision::Approve,
                &who,
            )
            .await
            .unwrap();
        assert_eq!(
            decided,
            Decided::Done {
                status: ReturnStatus::Approved
            }
        );
        let gid = |id: &str| format!("gid://shopify/Return/{id}");
        assert_eq!(
            shop.return_status(&gid(&ids[0])),
            "OPEN",
            "{}",
            backend.label
        );
        let stored = store
            .get_return_request(&shop.source, &ids[0])
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, ReturnStatus::Approved);

        let decided = q
            .decide(
                &projection,
                shop.source.as_str(),
                &ids[1],
                Decision::Decline {
                    reason: DeclineReason::FinalSale,
                    note: Some("Final sale items cannot be returned".into()),
                },
                &who,
            )
            .await
            .unwrap();
        assert_eq!(
            decided,
            Decided::Done {
                status: ReturnStatus::Rejected
            }
        );
        assert_eq!(shop.return_status(&gid(&ids[1])), "DECLINED");

        // Both decisions audited with who took them.
        let audit = store
            .search_audit(&AuditFilter {
                limit: 20,
                ..AuditFilter::default()
            })
            .await
            .unwrap();
        let approve = audit
            .iter()
            .find(|e| e.action.as_str() == "queue.approve")
            .unwrap();
        assert_eq!(approve.actor, "sam");
        assert_eq!(approve.ip.as_deref(), Some("10.0.0.7"));
        assert_eq!(
            approve.subject,
            format!("return:{}/{}", shop.source, ids[0])
        );
        assert_eq!(approve.payload["platform"]["shopify_status"], "OPEN");
        assert!(audit
            .iter()
            .any(|e| e.action.as_str() == "queue.decline"
                && e.payload["decline_reason"] == "FINAL_SALE"));

        // The webhooks Shopify sends afterwards.
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while deliveries.lock().unwrap().len() < 2 && std::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let got = deliveries.lock().unwrap().clone();
        assert!(
            got.iter()
                .any(|(t, b)| t == "returns/approve" && b["id"] == ids[0].parse::<u64>().unwrap()),
            "{got:?}"
        );
        assert!(
            got.iter()
                .any(|(t, b)| t == "returns/decline" && b["status"] == "declined"),
            "{got:?}"
        );

        // A second decision of a decided return: Shopify refuses it.
        let err = shop
            .graphql()
            .approve_return(&gid(&ids[0]), false, &mut GraphqlStats::default())
            .await
            .unwrap_err();
        match err {
            GraphqlError::UserErrors { errors, .. } => {
                assert_eq!(
                    errors[0].code.as_deref(),
                    Some("INVALID_STATE"),
                    "{errors:?}"
                )
            }
            other => panic!("expected userErrors, got {other}"),
        }
        // And the queue no longer holds it once the change feed is read.
        let projection = projection_of(&store, &shop.brand).await;
        let err = q
            .decide(
                &projection,
                shop.source.as_str(),
                &ids[0],
                Decision::Approve,
                &who,
            )
            .await
            .unwrap_err();
        assert!(matches!(err, QueueError::NotWaiting(_)), "{err}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_write_returns_the_buttons_say_why_and_shopify_refuses() {
    let backend = opsdeck_store::testing::sqlite_store().await;
    let store = backend.store.clone();
    let shop = simulator().await;
    let ids = store_returns(&store, &shop).await;
    let without: Vec<&str> = ALL_SCOPES
        .into_iter()
        .filter(|s| *s != "write_returns")
        .collect();
    shop.sim
        .set_access_scopes(&shop.slug, Some(&without), &["write_returns"]);
    let projection = projection_of(&store, &shop.brand).await;
    let q = queue(&store, &shop, None);
    let rows = q
        .list(
            &projection,
            &panel(&shop),
            std::slice::from_ref(&shop.brand.id),
            None,
            shop.sim.now(),
        )
        .await
        .unwrap();
    let row = rows.iter().find(|r| r.item.external_id == ids[0]).unwrap();
    assert!(!row.decidable);
    assert_eq!(row.disabled_reason.as_deref(), Some(MISSING_WRITE_RETURNS));
    let who = Actor::new("sam");
    let err = q
        .decide(
            &projection,
            shop.source.as_str(),
            &ids[0],
            Decision::Approve,
            &who,
        )
        .await
        .unwrap_err();
    assert!(err.to_string().contains("write_returns"), "{err}");
    let gid = format!("gid://shopify/Return/{}", ids[0]);
    assert_eq!(shop.return_status(&gid), "REQUESTED", "nothing changed");
}

fn lux_brand() -> opsdeck_domain::Brand {
    opsdeck_domain::Brand {
        id: BrandId::parse("lux").unwrap(),
        name: "Lux".into(),
        kind: opsdeck_domain::BrandKind::Standard,
        time_zone: jiff::tz::TimeZone::UTC,
        currency: Currency::EUR,
        launched: true,
        thresholds: opsdeck_domain::Thresholds::defaults_for(&opsdeck_domain::BrandKind::Standard),
    }
}

/// A custom platform's refund request `x` of `minor` cents, waiting.
fn refund_request(brand: &opsdeck_domain::Brand, x: &str, minor: i64) -> AnyRecord {
    AnyRecord::ReturnRequest(opsdeck_domain::ReturnRequest {
        source: SourceId::parse("lux-platform").unwrap(),
        external_id: x.into(),
        brand: brand.id.clone(),
        order_id: Some("L-1".into()),
        kind: opsdeck_domain::ReturnKind::Refund,
        status: ReturnStatus::Requested,
        amount: Some(Money::new(minor, Currency::EUR)),
        reason: None,
        requested_at: ts("2026-06-10T10:00:00Z"),
        resolved_at: None,
        updated_at: ts("2026-06-10T10:00:00Z"),
        status_history: Vec::new(),
    })
}

/// The playbook's approvals (a refund over €500 needs the finance lead).
fn playbook_approvals(store: &Arc<dyn Store>, now: Timestamp) -> Arc<Approvals> {
    let executor = Executor::new(
        opsdeck_alerts::notify::http_client(Duration::from_secs(5)),
        Retry {
            attempts: 1,
            first_wait: Duration::from_millis(10),
        },
    );
    Arc::new(
        Approvals::new(
            store.clone(),
            ApprovalPolicy::playbook(),
            Arc::new(executor),
        )
        .with_clock(Arc::new(move || now)),
    )
}

/// Two refunds whose keys share a prefix (`ret-1`, `ret-10`): the approval
/// requested for one is the other's neither on the list nor when the other
/// is approved (the queue once matched a summary prefix, and `ret-1`'s
/// found `ret-10`'s approval).
#[tokio::test]
async fn an_approval_belongs_to_its_own_item_not_one_with_a_similar_key() {
    for backend in each_backend().await {
        let store = backend.store.clone();
        let brand = lux_brand();
        store
            .upsert(
                &[
                    refund_request(&brand, "ret-1", 90_000),
                    refund_request(&brand, "ret-10", 80_000),
                ],
                None,
            )
            .await
            .unwrap();
        let projection = projection_of(&store, &brand).await;
        let now = ts(NOW);
        let approvals = playbook_approvals(&store, now);
        let q = RefundQueue::new(
            store.clone(),
            BTreeMap::new(),
            Some(approvals.clone()),
            Arc::new(move || now),
        );
        let who = Actor::new("sam");
        let Decided::AwaitingApproval { approval_id: ten } = q
            .decide(
                &projection,
                "lux-platform",
                "ret-10",
                Decision::Approve,
                &who,
            )
            .await
            .unwrap()
        else {
            panic!("{}: ret-10 is over the threshold", backend.label);
        };
        let rows = q
            .list(
                &projection,
                &PanelConfig::default(),
                std::slice::from_ref(&brand.id),
                None,
                now,
            )
            .await
            .unwrap();
        let row = |x: &str| rows.iter().find(|r| r.item.external_id == x).unwrap();
        assert_eq!(
            row("ret-10").awaiting_approval.as_deref(),
            Some(ten.as_str())
        );
        assert_eq!(
            row("ret-1").awaiting_approval,
            None,
            "{}: ret-1 has no approval of its own",
            backend.label
        );
        assert!(row("ret-1").decidable);
        // Approving ret-1 asks for its own approval, not ret-10's.
        let Decided::AwaitingApproval { approval_id: one } = q
            .decide(
                &projection,
                "lux-platform",
                "ret-1",
                Decision::Approve,
                &who,
            )
            .await
            .unwrap()
        else {
            panic!("{}: ret-1 is over the threshold", backend.label);
        };
        assert_ne!(one, ten);
        let stored = approvals.store().approval(&one).await.unwrap().unwrap();
        assert_eq!(
            stored.subject.as_deref(),
            Some(opsdeck_operations::queues::approval_subject("lux-platform", "ret-1").as_str())
        );
        assert_eq!(approvals.pending().await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn a_refund_over_the_threshold_waits_for_an_approval() {
    for backend in each_backend().await {
        let store = backend.store.clone();
        let brand = lux_brand();
        let request = |x: &str, minor: i64| refund_request(&brand, x, minor);
        // The playbook: a refund over €500 needs the finance lead.
        store
            .upsert(&[request("big", 90_000), request("small", 4_000)], None)
            .await
            .unwrap();
        let projection = projection_of(&store, &brand).await;
        let now = ts(NOW);
        let approvals = playbook_approvals(&store, now);
        let q = RefundQueue::new(
            store.clone(),
            BTreeMap::new(),
            Some(approvals.clone()),
            Arc::new(move || now),
        );
        let who = Actor::new("sam");
        let waiting = q
            .decide(&projection, "lux-platform", "big", Decision::Approve, &who)
            .await
            .unwrap();
        let Decided::AwaitingApproval { approval_id } = waiting else {
            panic!("{}: expected an approval, got {waiting:?}", backend.label);
        };
        // Pressed again: the same approval, not a second one.
        let again = q
            .decide(&projection, "lux-platform", "big", Decision::Approve, &who)
            .await
            .unwrap();
        assert_eq!(
            again,
            Decided::AwaitingApproval {
                approval_id: approval_id.clone()
            }
        );
        assert_eq!(approvals.pending().await.unwrap().len(), 1);
        let rows = q
            .list(
                &projection,
                &PanelConfig::default(),
                std::slice::from_ref(&brand.id),
                None,
                now,
            )
            .await
            .unwrap();
        let big = rows.iter().find(|r| r.item.external_id == "big").unwrap();
        assert_eq!(big.awaiting_approval.as_deref(), Some(approval_id.as_str()));
        assert!(!big.decidable);
        let stored = store
            .get_return_request(&SourceId::parse("lux-platform").unwrap(), "big")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.status, ReturnStatus::Requested, "not decided yet");
        // The approver (not the requester) approves: the next press
        // decides the refund.
        approvals
            .decide(
                &approval_id,
                &opsdeck_operations::approvals::Decider {
                    username: "fin".into(),
                    role: opsdeck_store::Role::Admin,
                    via: "dashboard",
                    ip: None,
                },
                true,
                "customer has the receipt",
            )
            .await
            .unwrap();
        let done = q
            .decide(&projection, "lux-platform", "big", Decision::Approve, &who)
            .await
            .unwrap();
        assert_eq!(
            done,
            Decided::Done {
                status: ReturnStatus::Approved
            },
            "{}",
            backend.label
        );
        // Under the threshold: decided at once.
        let small = q
            .decide(
                &projection,
                "lux-platform",
                "small",
                Decision::Approve,
                &who,
            )
            .await
            .unwrap();
        assert_eq!(
            small,
            Decided::Done {
                status: ReturnStatus::Approved
            }
        );
    }
}
