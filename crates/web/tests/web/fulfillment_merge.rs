//! One fulfillment merge for every path (issue 10.B9): the same fulfillment
//! events, fed through the ingest API and through the Shopify webhook inbox,
//! leave the same stored order — equal timestamps applied, older ones
//! ignored, line quantities following — because both paths call
//! `Order::merge_fulfillment`.

use crate::common::{body_text, ts, Fixture};
use axum::body::Body;
use axum::http::Request;
use opsdeck_domain::{BrandId, Currency, Order, SourceId};
use opsdeck_sources::shopify::normalize::{fulfillment_from_json, order_from_json};
use opsdeck_sources::shopify::NormalizeContext;
use opsdeck_store::{AnyRecord, AuditEntry, InboxEvent, NewApiToken, TokenKinds};
use opsdeck_sync::inbox::{process_inbox_once, InboxSettings, WebhookShops};
use serde_json::{json, Value};
use tower::ServiceExt;

const SHOPIFY: &str = "shopify-merge";
const INGEST: &str = "ingest-mavena";

/// A payload fixture of the repository, unwrapped as a webhook sends it.
fn fixture(name: &str) -> Value {
    let path = format!(
        "{}/../../fixtures/shopify/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let value: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    match value.as_object().filter(|o| o.len() == 1) {
        Some(o) => o.values().next().unwrap().clone(),
        None => value,
    }
}

fn context() -> NormalizeContext {
    NormalizeContext {
        source: SourceId::parse(SHOPIFY).unwrap(),
        brand: BrandId::parse("mavena").unwrap(),
        currency: Currency::USD,
    }
}

/// The fixture's fulfillment (which ships one of the order's three lines)
/// as of `updated_at`, with `status`.
fn fulfillment_event(status: &str, updated_at: &str) -> Value {
    let mut f = fixture("order_official_python_lib.json")["fulfillments"][0].clone();
    f["status"] = json!(status);
    f["created_at"] = json!("2026-06-02T10:00:00Z");
    f["updated_at"] = json!(updated_at);
    f
}

/// The same event as the ingest API takes it (built from the webhook's
/// normalized form, so both paths carry exactly the same fulfillment).
fn as_ingest(raw: &Value) -> Value {
    let s = fulfillment_from_json(raw).unwrap();
    let f = &s.fulfillment;
    let mut v = json!({
        "order_id": s.order_id,
        "external_id": f.external_id,
        "status": f.status.as_str(),
        "tracking_numbers": f.tracking_numbers,
        "tracking_urls": f.tracking_urls,
        "created_at": f.created_at.to_string(),
        "updated_at": f.updated_at.to_string(),
        "line_items": s.shipped.iter()
            .map(|(id, q)| json!({"line_item_id": id, "quantity": q}))
            .collect::<Vec<_>>(),
    });
    if let Some(c) = &f.tracking_company {
        v["tracking_company"] = json!(c);
    }
    if let Some(s) = &f.shipment_status {
        v["shipment_status"] = json!(s.as_str());
    }
    v
}

struct Paths {
    fx: Fixture,
    token: String,
    shops: WebhookShops,
    next: u32,
}

impl Paths {
    async fn new() -> Paths {
        let fx = Fixture::new().await;
        // The same order under both sources, unfulfilled, from the fixture.
        let mut raw = fixture("order_official_python_lib.json");
        raw["fulfillments"] = json!([]);
        raw["fulfillment_status"] = Value::Null;
        for key in ["created_at", "updated_at", "processed_at"] {
            raw[key] = json!("2026-06-01T10:00:00Z");
        }
        raw["closed_at"] = Value::Null;
        raw["cancelled_at"] = Value::Null;
        let order = order_from_json(&context(), &raw).unwrap();
        let mut ingested = order.clone();
        ingested.source = SourceId::parse(INGEST).unwrap();
        fx.state
            .store
            .upsert(&[AnyRecord::Order(order), AnyRecord::Order(ingested)], None)
            .await
            .unwrap();
        let new = NewApiToken::generate(
            "test platform",
            BrandId::parse("mavena").unwrap(),
            SourceId::parse(INGEST).unwrap(),
            TokenKinds::Only(vec!["fulfillments".into()]),
            "tester",
            ts("2026-06-10T00:00:00Z"),
        );
        let audit = AuditEntry {
            at: ts("2026-06-10T00:00:00Z"),
            actor: "tester".into(),
            action: opsdeck_store::AuditAction::ApiTokenCreate,
            subject: new.token.id.clone(),
            payload: json!({}),
            ip: None,
        };
        fx.state.store.create_api_token(&new, &audit).await.unwrap();
        Paths {
            fx,
            token: new.plaintext.expose().to_string(),
            shops: WebhookShops::new([context()]),
            next: 0,
        }
    }

    /// Feeds `raw` through both paths; returns the ingest outcome.
    async fn feed(&mut self, raw: &Value) -> Value {
        self.next += 1;
        let event = InboxEvent {
            source: SourceId::parse(SHOPIFY).unwrap(),
            shop_domain: "merge.myshopify.com".into(),
            webhook_id: format!("wh-{}", self.next),
            event_id: None,
            topic: "fulfillments/update".into(),
            api_version: Some("2025-07".into()),
            triggered_at: Some(ts("2026-06-10T17:59:00Z")),
            received_at: ts("2026-06-10T18:00:00Z"),
            body: raw.to_string(),
        };
        let store = self.fx.state.store.clone();
        store.insert_webhooks(&[event]).await.unwrap();
        let step = process_inbox_once(
            store.as_ref(),
            &self.shops,
            &InboxSettings::default(),
            ts("2026-06-10T18:00:00Z"),
        )
        .await
        .unwrap();
        assert_eq!((step.processed, step.failed, step.retrying), (1, 0, 0));
        let body = json!({ "records": [as_ingest(raw)] }).to_string();
        let request = Request::post("/api/v1/ingest/fulfillments")
            .header("content-type", "application/json")
            .header("authorization", format!("Bearer {}", self.token))
            .body(Body::from(body))
            .unwrap();
        let response = self.fx.router().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let answer: Value = serde_json::from_str(&body_text(response).await).unwrap();
        assert_eq!(status, 200, "{answer}");
        answer["results"][0]["outcome"].clone()
    }

    /// Both stored copies, the ingest one with the webhook one's source.
    async fn orders(&self) -> (Order, Order) {
        let get = |source: &str| {
            let store = self.fx.state.store.clone();
            let source = SourceId::parse(source).unwrap();
            async move {
                store
                    .get_order(&source, "450789469")
                    .await
                    .unwrap()
                    .unwrap()
            }
        };
        let webhook = get(SHOPIFY).await;
        let mut ingested = get(INGEST).await;
        ingested.source = webhook.source.clone();
        (webhook, ingested)
    }
}

fn shipped(o: &Order) -> Vec<Option<i64>> {
    o.line_items.iter().map(|l| l.fulfilled_quantity).collect()
}

#[tokio::test]
async fn the_same_fulfillment_by_webhook_and_by_ingest_gives_the_same_order() {
    let mut p = Paths::new().await;
    let (before, _) = p.orders().await;
    assert_eq!(shipped(&before), [Some(0), Some(0), Some(0)]);

    // Created: the line it ships counts its unit on both paths.
    p.feed(&fulfillment_event("success", "2026-06-02T10:00:00Z"))
        .await;
    let (webhook, ingested) = p.orders().await;
    assert_eq!(webhook, ingested);
    assert_eq!(shipped(&webhook), [Some(1), Some(0), Some(0)]);

    // Cancelled with the same timestamp: applied on both (only older is
    // stale), the unit taken back on both.
    p.feed(&fulfillment_event("cancelled", "2026-06-02T10:00:00Z"))
        .await;
    let (webhook, ingested) = p.orders().await;
    assert_eq!(webhook, ingested);
    assert_eq!(webhook.fulfillments[0].status.as_str(), "cancelled");
    assert_eq!(shipped(&webhook), [Some(0), Some(0), Some(0)]);

    // Older than the stored copy: ignored on both.
    let outcome = p
        .feed(&fulfillment_event("success", "2026-06-01T12:00:00Z"))
        .await;
    assert_eq!(outcome, "stale");
    let (webhook, ingested) = p.orders().await;
    assert_eq!(webhook, ingested);
    assert_eq!(webhook.fulfillments[0].status.as_str(), "cancelled");

    // Newer and shipping again; then the same copy delivered twice.
    p.feed(&fulfillment_event("success", "2026-06-03T10:00:00Z"))
        .await;
    p.feed(&fulfillment_event("success", "2026-06-03T10:00:00Z"))
        .await;
    let (webhook, ingested) = p.orders().await;
    assert_eq!(webhook, ingested);
    assert_eq!(
        shipped(&webhook),
        [Some(1), Some(0), Some(0)],
        "never twice"
    );
    assert_eq!(webhook.updated_at, ts("2026-06-03T10:00:00Z"));
}
