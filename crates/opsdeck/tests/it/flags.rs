//! Freeze flags end to end over real HTTP: the OFREP endpoints as the
//! protocol documents them (bulk, single flag, `ETag`/304, 404 for an
//! unknown flag, 401 without the key; request bodies are the examples of
//! the protocol's OpenAPI document, `fixtures/ofrep/openapi.yaml`), a
//! change seen by a polling storefront (new `ETag`, new value), by a webhook
//! receiver (signature verified) and by the simulated shop's metafield,
//! the approval gate, the audit trail, and a failing mirror on /sources.

use crate::helpers;
use jiff::Timestamp;
use opsdeck::config::flags::FlagWebhook;
use opsdeck::demo::demo_config;
use opsdeck_domain::Secret;
use opsdeck_operations::flags::FlagKey;
use opsdeck_simulator::{SimConfig, Simulator};
use opsdeck_store::{AuditAction, Role};
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

const SECRET: &str = "flag-hook-secret";

/// A webhook receiver on a loopback port: every POST's signature headers
/// and body go to the channel.
async fn receiver() -> (String, mpsc::UnboundedReceiver<(String, String, Vec<u8>)>) {
    let (tx, rx) = mpsc::unbounded_channel();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let tx = tx.clone();
                async move {
                    let h = |n: &str| {
                        headers
                            .get(n)
                            .and_then(|v| v.to_str().ok())
                            .unwrap_or_default()
                            .to_string()
                    };
                    let _ = tx.send((
                        h("x-opsdeck-timestamp"),
                        h("x-opsdeck-signature"),
                        body.to_vec(),
                    ));
                    "ok"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/hook"), rx)
}

async fn app(
    name: &str,
    now: Timestamp,
    hook_url: Option<String>,
    broken_shop: bool,
) -> (opsdeck::app::Running, Simulator, String) {
    let simulator = Simulator::new(SimConfig {
        seed: 11,
        now,
        scale: 0.02,
    });
    simulator.set_rate_limit(false);
    let sim_addr = helpers::serve_simulator(&simulator).await;
    let dir = helpers::temp_dir(name);
    let mut config = demo_config(
        &simulator.shops(),
        sim_addr,
        "127.0.0.1:0".parse().unwrap(),
        format!("sqlite:{}", dir.join("flags.db").display()),
        Duration::from_secs(1),
    )
    .unwrap();
    if broken_shop {
        config.shopify[0].base_url = format!("http://{sim_addr}/shops/closed-shop")
            .parse()
            .unwrap();
    }
    // As `[flags]` parsing does: every Shopify brand's shop is mirrored to.
    config.flags.settings.mirror_brands = config.shopify.iter().map(|s| s.brand.clone()).collect();
    config.flags.settings.requires_approval = vec![FlagKey::FreezeRefunds];
    config.flags.settings.mirrored_flags = vec![FlagKey::FreezeCheckout, FlagKey::SalesPause];
    if let Some(url) = hook_url {
        config.flags.settings.webhooks = vec!["cache".into()];
        config.flags.webhooks = vec![FlagWebhook {
            name: "cache".into(),
            url,
            secret: Secret::new(SECRET),
        }];
    }
    let first_shop = config.shopify[0].brand.to_string();
    let running = helpers::start(&config, Arc::new(move || now)).await;
    (running, simulator, first_shop)
}

struct Admin {
    base: String,
    cookie: String,
    csrf: String,
    http: reqwest::Client,
}

impl Admin {
    async fn of(running: &opsdeck::app::Running) -> Admin {
        Admin::named(running, "founder").await
    }

    async fn named(running: &opsdeck::app::Running, name: &str) -> Admin {
        let session = helpers::log_in(running, name, Role::Admin).await;
        Admin {
            base: helpers::base(running),
            cookie: session.cookie,
            csrf: session.csrf_token,
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// A form post, as the page's form sends it.
    async fn form(&self, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .form(fields)
            .send()
            .await
            .unwrap()
    }

    async fn get_text(&self, path: &str) -> String {
        self.http
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }
}

/// The bulk request of the protocol's example, with a country.
fn bulk_example() -> Value {
    json!({ "context": { "targetingKey": "user-456", "email": "user@example.com", "plan": "free", "country": "CA" } })
}

fn flag<'a>(bulk: &'a Value, key: &str) -> &'a Value {
    bulk["flags"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["key"] == key)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ofrep_conformance_and_a_change_seen_by_poller_webhook_and_shop() {
    let now: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    let (hook_url, mut hooks) = receiver().await;
    let (running, simulator, shop) = app("flags-ofrep", now, Some(hook_url), false).await;
    let admin = Admin::of(&running).await;
    let base = admin.base.clone();
    let http = reqwest::Client::new();

    // A storefront key, shown once.
    let created = admin
        .post(
            "/api/v1/storefront-keys",
            json!({ "name": "eu storefront" }),
        )
        .await;
    assert_eq!(created.status(), StatusCode::CREATED);
    let key = created.json::<Value>().await.unwrap()["key"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(key.starts_with("ofk_"));

    let bulk_url = format!("{base}/ofrep/v1/evaluate/flags");
    // 401 without a key, with a wrong one, and with an ingest-shaped one.
    for auth in [None, Some("Bearer ofk_nope_nope"), Some("Bearer odk_a_b")] {
        let mut req = http.post(&bulk_url).json(&bulk_example());
        if let Some(a) = auth {
            req = req.header("authorization", a);
        }
        let r = req.send().await.unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED, "{auth:?}");
    }

    // Bulk: every flag, each {key, value, reason, variant, metadata}, with an ETag.
    let r = http
        .post(&bulk_url)
        .bearer_auth(&key)
        .json(&bulk_example())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let bulk: Value = r.json().await.unwrap();
    assert_eq!(bulk["flags"].as_array().unwrap().len(), FlagKey::ALL.len());
    for f in bulk["flags"].as_array().unwrap() {
        for field in ["key", "value", "reason", "variant", "metadata"] {
            assert!(f.get(field).is_some(), "{field} missing in {f}");
        }
        assert!(
            ["STATIC", "TARGETING_MATCH", "SPLIT", "DISABLED", "UNKNOWN"]
                .contains(&f["reason"].as_str().unwrap())
        );
    }
    assert_eq!(flag(&bulk, "freeze-checkout")["value"], false);
    assert_eq!(flag(&bulk, "freeze-checkout")["reason"], "DISABLED");
    assert_eq!(flag(&bulk, "maintenance-banner")["value"], "");

    // The same answer again: 304 with no body.
    let r = http
        .post(&bulk_url)
        .header("x-api-key", &key)
        .header("if-none-match", &etag)
        .json(&bulk_example())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(r.headers()["etag"].to_str().unwrap(), etag);
    assert!(r.bytes().await.unwrap().is_empty());

    // Single flag, the protocol's example request; an unknown key is 404.
    let single = json!({ "context": { "targetingKey": "user-123", "email": "user@example.com", "custom-plan": "premium", "country": "CA" } });
    let r = http
        .post(format!("{bulk_url}/freeze-checkout"))
        .bearer_auth(&key)
        .json(&single)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let one: Value = r.json().await.unwrap();
    assert_eq!(
        (
            one["key"].clone(),
            one["value"].clone(),
            one["reason"].clone(),
            one["variant"].clone()
        ),
        (
            json!("freeze-checkout"),
            json!(false),
            json!("DISABLED"),
            json!("off")
        )
    );
    let r = http
        .post(format!("{bulk_url}/non-existent-flag"))
        .bearer_auth(&key)
        .json(&single)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let nf: Value = r.json().await.unwrap();
    assert_eq!(nf["key"], "non-existent-flag");
    assert_eq!(nf["errorCode"], "FLAG_NOT_FOUND");
    let r = http
        .post(format!("{bulk_url}/freeze-checkout"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "single flag without a key"
    );
    let r = http
        .post(&bulk_url)
        .bearer_auth(&key)
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    assert_eq!(r.json::<Value>().await.unwrap()["errorCode"], "PARSE_ERROR");

    // Configuration: the polling interval.
    let r = http
        .get(format!("{base}/ofrep/v1/configuration"))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let conf: Value = r.json().await.unwrap();
    assert_eq!(
        conf["capabilities"]["cacheInvalidation"]["polling"]["minPollingIntervalMs"],
        30_000
    );

    // The change.
    let r = admin
        .post("/api/v1/flags/freeze-checkout", json!({ "on": true, "reason": "payment provider outage", "ends_at": "2026-12-07T12:00:00Z" }))
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);

    // A polling storefront: new ETag, new value.
    let r = http
        .post(&bulk_url)
        .bearer_auth(&key)
        .header("if-none-match", &etag)
        .json(&bulk_example())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_ne!(r.headers()["etag"].to_str().unwrap(), etag);
    let bulk: Value = r.json().await.unwrap();
    assert_eq!(flag(&bulk, "freeze-checkout")["value"], true);
    assert_eq!(flag(&bulk, "freeze-checkout")["reason"], "STATIC");
    assert_eq!(
        flag(&bulk, "freeze-checkout")["metadata"]["endsAt"],
        "2026-12-07T12:00:00Z"
    );

    // The webhook receiver: signed, the change in the body.
    let (ts, signature, body) = tokio::time::timeout(Duration::from_secs(10), hooks.recv())
        .await
        .expect("the webhook arrives within seconds")
        .unwrap();
    let expected = opsdeck_alerts::notify::webhook::signature(SECRET, ts.parse().unwrap(), &body);
    assert_eq!(signature, expected, "signature verifies");
    assert_ne!(
        opsdeck_alerts::notify::webhook::signature("wrong", ts.parse().unwrap(), &body),
        signature
    );
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["type"], "flag.changed");
    assert_eq!(event["flag"]["key"], "freeze-checkout");
    assert_eq!(event["flag"]["on"], true);
    assert_eq!(event["flag"]["set_by"], "founder");

    // The shop metafield, over HTTP through the GraphQL client.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let set = simulator.shop_metafields(&shop);
        if set.iter().any(|m| m["key"] == "freeze_checkout") {
            assert_eq!(
                set[0],
                json!({ "namespace": "opsdeck", "key": "freeze_checkout", "type": "boolean", "value": "true" })
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the shop never got the metafield"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Audit: who, what, when.
    let trail = running
        .store
        .flag_audit(&FlagKey::FreezeCheckout, 10)
        .await
        .unwrap();
    assert_eq!(trail[0].action, AuditAction::FlagSet);
    assert_eq!(trail[0].actor, "founder");
    assert_eq!(trail[0].at, now);
    assert!(trail[0].ip.is_some());

    // The page shows it on, with who and why.
    let page = admin.get_text("/flags").await;
    assert!(
        page.contains("payment provider outage") && page.contains("founder"),
        "{page}"
    );

    // A flag that needs a second person: switching it on is requested.
    let r = admin
        .post(
            "/api/v1/flags/freeze-refunds",
            json!({ "on": true, "reason": "chargeback wave" }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let asked: Value = r.json().await.unwrap();
    assert_eq!(asked["status"], "pending_approval");
    let id = asked["approval"].as_str().unwrap().to_string();
    let refunds = |http: reqwest::Client| {
        let (url, key) = (format!("{bulk_url}/freeze-refunds"), key.clone());
        async move {
            let r = http
                .post(url)
                .bearer_auth(&key)
                .json(&json!({ "context": {} }))
                .send()
                .await
                .unwrap();
            r.json::<Value>().await.unwrap()["value"].clone()
        }
    };
    assert_eq!(refunds(http.clone()).await, false, "not live while pending");
    // Four eyes: the requester's own approval is refused.
    let r = admin
        .form(
            &format!("/approvals/{id}/decision"),
            &[("decision", "approve"), ("comment", "mine")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(refunds(http.clone()).await, false);
    let deputy = Admin::named(&running, "deputy").await;
    let r = deputy
        .form(
            &format!("/approvals/{id}/decision"),
            &[
                ("decision", "approve"),
                ("comment", "chargeback report checked"),
            ],
        )
        .await;
    assert!(r.status().is_success(), "{:?}", r.text().await);
    assert_eq!(refunds(http.clone()).await, true, "live once approved");
    // A second click finds it decided and changes nothing.
    let r = deputy
        .form(
            &format!("/approvals/{id}/decision"),
            &[("decision", "approve"), ("comment", "again")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    let (_, _, body) = tokio::time::timeout(Duration::from_secs(10), hooks.recv())
        .await
        .expect("the approved change's webhook arrives")
        .unwrap();
    let event: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(event["flag"]["key"], "freeze-refunds");
    assert_eq!(event["flag"]["set_by"], "founder");
    let trail = running
        .store
        .flag_audit(&FlagKey::FreezeRefunds, 10)
        .await
        .unwrap();
    assert_eq!(trail.len(), 1, "applied once: {trail:?}");
    assert_eq!(trail[0].action, AuditAction::FlagSet);
    assert_eq!(trail[0].payload["approval"], id.as_str());
    assert_eq!(trail[0].payload["approved_by"], "deputy");
    running.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_mirror_shows_on_sources() {
    let now: Timestamp = "2026-12-07T10:00:00Z".parse().unwrap();
    let (running, _simulator, shop) = app("flags-mirror-fail", now, None, true).await;
    let broken_target = format!("shopify:{shop}");
    let admin = Admin::of(&running).await;
    let r = admin
        .post(
            "/api/v1/flags/sales-pause",
            json!({ "on": true, "reason": "customs hold", "targets": ["AE"] }),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK, "{:?}", r.text().await);
    let deadline = Instant::now() + Duration::from_secs(20);
    // The targets are delivered to independently: wait until the broken
    // shop has failed AND another target has been delivered, rather than
    // stopping at the first failure (the others may still be in flight).
    let health = loop {
        let health = running.store.flag_target_health().await.unwrap();
        let failed = health.iter().any(|h| h.last_error.is_some());
        let delivered = health
            .iter()
            .any(|h| h.target.to_string() != broken_target && h.last_delivered_at.is_some());
        if failed && delivered {
            break health;
        }
        assert!(
            Instant::now() < deadline,
            "no mirroring attempt failed, or no other target was delivered: {health:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let broken = health.iter().find(|h| h.last_error.is_some()).unwrap();
    assert_eq!(broken.target.to_string(), broken_target, "{health:?}");
    assert!(
        health
            .iter()
            .any(|h| h.target.to_string() != broken_target && h.last_delivered_at.is_some()),
        "the other shops got it: {health:?}"
    );
    let page = admin.get_text("/sources").await;
    assert!(
        page.contains("Flag mirroring")
            && page.contains(&broken_target)
            && page.contains("data-failing=\"true\""),
        "{page}"
    );
    assert!(page.contains("404"), "the reason is shown: {page}");
    running.stop().await.unwrap();
}

/// Two instances on one store (two processes sharing PostgreSQL): only the
/// holder of the flag-delivery lease delivers, so each change reaches a
/// receiver once; when the holder stops renewing, the other takes over.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_store_deliver_each_change_once() {
    use opsdeck::flags_app::{run, step_if_leading, FlagReceivers, Lease};
    use opsdeck_operations::flags::{change_flag, Actor, Authority, FlagChange, FlagSettings};
    for db in opsdeck_store::testing::each_backend().await {
        let (hook_url, mut hooks) = receiver().await;
        let settings = Arc::new(FlagSettings {
            webhooks: vec!["cache".into()],
            polling_interval_seconds: 30,
            ..FlagSettings::default()
        });
        let receivers =
            FlagReceivers::default().with_webhook("cache", &hook_url, Secret::new(SECRET));
        let lease = |holder: &str| Lease {
            holder: holder.into(),
            ttl: jiff::SignedDuration::from_secs(30),
        };
        let (a, b) = (lease("instance-a"), lease("instance-b"));
        let store = db.store.clone();
        let change = |on: bool, at: Timestamp| {
            let (store, settings) = (store.clone(), settings.clone());
            async move {
                let c = FlagChange {
                    key: FlagKey::FreezeContent,
                    on,
                    targets: Vec::new(),
                    text: None,
                    reason: "catalogue migration".into(),
                    ends_at: None,
                };
                let who = Actor {
                    name: "founder".into(),
                    ip: None,
                };
                change_flag(store.as_ref(), &settings, &c, &who, &Authority::Direct, at)
                    .await
                    .unwrap()
            }
        };
        let t = |s: &str| s.parse::<Timestamp>().unwrap();

        // Fixed times: a leads, b stands by, b takes over once a's lease ran out.
        change(true, t("2026-01-05T10:00:00Z")).await;
        let s = db.store.as_ref();
        let led = step_if_leading(s, &settings, &receivers, &a, t("2026-01-05T10:00:00Z"))
            .await
            .unwrap();
        assert_eq!(led.map(|r| r.delivered), Some(1), "{}", db.label);
        change(false, t("2026-01-05T10:00:01Z")).await;
        let followed = step_if_leading(s, &settings, &receivers, &b, t("2026-01-05T10:00:02Z"))
            .await
            .unwrap();
        assert_eq!(
            followed, None,
            "{}: b does not deliver while a leads",
            db.label
        );
        assert_eq!(
            s.pending_flag_deliveries(10).await.unwrap().len(),
            1,
            "left for the leader"
        );
        let late = step_if_leading(s, &settings, &receivers, &b, t("2026-01-05T10:00:31Z"))
            .await
            .unwrap();
        assert_eq!(
            late.map(|r| r.delivered),
            Some(1),
            "{}: b took over",
            db.label
        );
        let again = step_if_leading(s, &settings, &receivers, &a, t("2026-01-05T10:00:32Z"))
            .await
            .unwrap();
        assert_eq!(again, None, "{}: a follows now", db.label);
        let mut versions = Vec::new();
        while let Ok((_, _, body)) = hooks.try_recv() {
            let event: Value = serde_json::from_slice(&body).unwrap();
            versions.push(event["flag"]["version"].as_i64().unwrap());
        }
        assert_eq!(versions, [1, 2], "{}", db.label);
        s.alert_lease_release(opsdeck::flags_app::LEASE_NAME, "instance-b")
            .await
            .unwrap();

        // Both instances' loops at once, on the real clock: each change
        // rings both (as if each instance had made some of them).
        let (stop_tx, stop) = tokio::sync::watch::channel(false);
        let bells = [
            Arc::new(tokio::sync::Notify::new()),
            Arc::new(tokio::sync::Notify::new()),
        ];
        let clock: opsdeck::app::Clock = Arc::new(Timestamp::now);
        let loops: Vec<_> = [a, b]
            .into_iter()
            .zip(bells.iter().cloned())
            .map(|(lease, bell)| {
                tokio::spawn(run(
                    db.store.clone(),
                    settings.clone(),
                    receivers.clone(),
                    lease,
                    clock.clone(),
                    bell,
                    stop.clone(),
                ))
            })
            .collect();
        for i in 0..6 {
            change(i % 2 == 0, Timestamp::now()).await;
            for bell in &bells {
                bell.notify_one();
            }
        }
        let mut seen = Vec::new();
        while seen.len() < 6 {
            let (_, _, body) = tokio::time::timeout(Duration::from_secs(20), hooks.recv())
                .await
                .expect("every change is delivered")
                .unwrap();
            let event: Value = serde_json::from_slice(&body).unwrap();
            seen.push(event["flag"]["version"].as_i64().unwrap());
        }
        stop_tx.send(true).unwrap();
        for l in loops {
            l.await.unwrap();
        }
        // Both loops have finished every step they began: anything sent
        // twice is in the channel now.
        while let Ok((_, _, body)) = hooks.try_recv() {
            let event: Value = serde_json::from_slice(&body).unwrap();
            seen.push(event["flag"]["version"].as_i64().unwrap());
        }
        assert_eq!(
            seen,
            [3, 4, 5, 6, 7, 8],
            "{}: each change once, in order",
            db.label
        );
    }
}
