//! `POST /api/v1/ingest/{kind}`: every kind accepted and read back, every
//! kind of bad input refused with the documented status and NOTHING stored,
//! per-record results, and the ingest source on the health endpoint.

use crate::common::{body_text, ts, Fixture};
use axum::body::Body;
use axum::http::Request;
use opsdeck_domain::{BrandId, SourceId};
use opsdeck_store::{AnyRecord, AuditEntry, NewApiToken, RecordCounts, TokenKinds};
use serde_json::{json, Value};
use tower::ServiceExt;

fn source() -> SourceId {
    SourceId::parse("ingest-mavena").unwrap()
}

/// Stores a token for `brand` allowed `kinds` and returns its plaintext.
pub(crate) async fn token(fx: &Fixture, brand: &str, kinds: TokenKinds) -> String {
    let new = NewApiToken::generate(
        "test platform",
        BrandId::parse(brand).unwrap(),
        SourceId::parse(&format!("ingest-{brand}")).unwrap(),
        kinds,
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
    new.plaintext.expose().to_string()
}

async fn post_raw(fx: &Fixture, kind: &str, token: Option<&str>, body: String) -> (u16, Value) {
    let mut request =
        Request::post(format!("/api/v1/ingest/{kind}")).header("content-type", "application/json");
    if let Some(t) = token {
        request = request.header("authorization", format!("Bearer {t}"));
    }
    let response = fx
        .router()
        .oneshot(request.body(Body::from(body)).unwrap())
        .await
        .unwrap();
    let status = response.status().as_u16();
    let text = body_text(response).await;
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

pub(crate) async fn post(
    fx: &Fixture,
    kind: &str,
    token: &str,
    records: Vec<Value>,
) -> (u16, Value) {
    post_raw(
        fx,
        kind,
        Some(token),
        json!({ "records": records }).to_string(),
    )
    .await
}

fn money(amount: &str) -> Value {
    json!({"amount": amount, "currency": "USD"})
}

pub(crate) fn order_json(id: &str) -> Value {
    json!({
        "external_id": id,
        "name": format!("#{id}"),
        "created_at": "2026-06-10T12:00:00-04:00",
        "total_price": money("49.90"),
        "financial_status": "paid",
        "tags": ["rx"],
        "customer": {"external_id": "c-1", "email": "a@example.com"},
        "line_items": [{"external_id": "li-1", "sku": "AMOX-500", "title": "Amoxicillin",
                        "quantity": 2, "price": money("24.95")}]
    })
}

/// One valid record of every kind that is its own record.
pub(crate) fn one_of_each() -> Vec<(&'static str, Value)> {
    vec![
        ("orders", order_json("5001")),
        (
            "tracking-events",
            json!({"external_id": "te-1", "order_id": "5001",
            "tracking_number": "JD1", "carrier": "DHL", "status": "non_delivery_report",
            "location": "Leipzig", "occurred_at": "2026-06-10T15:00:00Z"}),
        ),
        (
            "products",
            json!({"external_id": "p-1", "title": "Amoxicillin 500mg",
            "created_at": "2026-06-01T00:00:00Z", "variants": [{"external_id": "v-1",
            "title": "20 caps", "sku": "AMOX-500", "price": money("24.95"),
            "inventory_tracked": true}]}),
        ),
        (
            "inventory-levels",
            json!({"inventory_item_id": "ii-1", "location_id": "wh-1",
            "available": 40, "updated_at": "2026-06-10T15:00:00Z"}),
        ),
        (
            "inventory-batches",
            json!({"external_id": "lot-1", "sku": "AMOX-500", "lot": "L2406",
            "quantity": 120, "expires_on": "2026-07-01", "updated_at": "2026-06-10T15:00:00Z"}),
        ),
        (
            "tickets",
            json!({"external_id": "t-1", "status": "open", "channel": "email",
            "subject": "Where is my order?", "created_at": "2026-06-10T15:00:00Z"}),
        ),
        (
            "ticket-messages",
            json!({"external_id": "m-1", "ticket_id": "t-1", "from_agent": false,
            "body_text": "Where is it?", "created_at": "2026-06-10T15:00:00Z"}),
        ),
        (
            "satisfaction-scores",
            json!({"external_id": "s-1", "ticket_id": "t-1", "score": 4,
            "scored_at": "2026-06-10T16:00:00Z"}),
        ),
        (
            "return-requests",
            json!({"external_id": "rr-1", "order_id": "5001", "kind": "refund",
            "status": "requested", "amount": money("24.95"), "reason": "damaged",
            "requested_at": "2026-06-10T16:00:00Z"}),
        ),
        (
            "review-items",
            json!({"external_id": "rx-1", "queue": "prescriptions",
            "status": "open", "order_id": "5001", "submitted_at": "2026-06-10T12:01:00Z"}),
        ),
        (
            "payment-events",
            json!({"external_id": "pe-1", "order_id": "5001",
            "kind": "payment_failed", "amount": money("49.90"), "reason": "card_declined",
            "occurred_at": "2026-06-10T12:02:00Z"}),
        ),
        (
            "health-checks",
            json!({"external_id": "hc-1", "dependency": "pharmacy-erp",
            "status": "failed", "latency_ms": 2300, "detail": "timeout",
            "checked_at": "2026-06-10T18:00:00Z"}),
        ),
    ]
}

#[tokio::test]
async fn every_kind_is_accepted_stored_and_read_back() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let before = fx.state.store.latest_seq().await.unwrap();
    let all = one_of_each();
    for (kind, record) in &all {
        let (status, body) = post(&fx, kind, &t, vec![record.clone()]).await;
        assert_eq!(status, 200, "{kind}: {body}");
        assert_eq!(body["inserted"], 1, "{kind}: {body}");
        assert_eq!(body["results"][0]["outcome"], "inserted");
        assert_eq!(body["source"], "ingest-mavena");
    }
    let changes = fx.state.store.changes_since(before, 100).await.unwrap();
    assert_eq!(changes.len(), all.len());
    for change in &changes {
        assert_eq!(change.record.source(), &source());
        assert_eq!(change.record.brand().map(|b| b.as_str()), Some("mavena"));
    }
    let AnyRecord::Order(order) = &changes[0].record else {
        panic!("first change is the order");
    };
    assert_eq!(order.total_price.minor, 49_90);
    assert_eq!(
        order.created_at,
        ts("2026-06-10T16:00:00Z"),
        "offset converted to UTC"
    );
    assert_eq!(
        order.updated_at, order.created_at,
        "updated_at defaults to created_at"
    );
    assert_eq!(order.line_items[0].price.minor, 24_95);

    // The two partial updates of that order.
    let (status, body) = post(
        &fx,
        "order-status-changes",
        &t,
        vec![json!({
        "order_id": "5001", "occurred_at": "2026-06-10T17:00:00Z",
        "financial_status": "refunded", "cancelled_at": "2026-06-10T17:00:00Z",
        "cancel_reason": "prescription rejected"})],
    )
    .await;
    assert_eq!(
        (status, &body["results"][0]["outcome"]),
        (200, &json!("updated")),
        "{body}"
    );
    let (status, body) = post(
        &fx,
        "fulfillments",
        &t,
        vec![json!({
        "order_id": "5001", "external_id": "f-1", "status": "success",
        "shipment_status": "in_transit", "tracking_company": "DHL",
        "tracking_numbers": ["JD1"], "created_at": "2026-06-10T17:30:00Z"})],
    )
    .await;
    assert_eq!(
        (status, &body["results"][0]["outcome"]),
        (200, &json!("updated")),
        "{body}"
    );
    let stored = fx
        .state
        .store
        .get_order(&source(), "5001")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.is_cancelled());
    assert_eq!(stored.financial_status.as_str(), "refunded");
    assert_eq!(stored.fulfillments.len(), 1);
    assert_eq!(stored.updated_at, ts("2026-06-10T17:30:00Z"));
    assert_eq!(stored.line_items.len(), 1, "the rest of the order is kept");
}

#[tokio::test]
async fn per_record_results_say_inserted_updated_unchanged_and_stale() {
    let fx = Fixture::new().await;
    let t = token(
        &fx,
        "mavena",
        TokenKinds::Only(vec!["orders".into(), "order-status-changes".into()]),
    )
    .await;
    let (_, first) = post(&fx, "orders", &t, vec![order_json("1"), order_json("2")]).await;
    let seq = first["results"][1]["seq"].as_u64().unwrap();
    assert_eq!(first["results"][0]["seq"].as_u64().unwrap() + 1, seq);

    let mut newer = order_json("2");
    newer["updated_at"] = json!("2026-06-10T18:00:00Z");
    newer["financial_status"] = json!("refunded");
    let mut older = order_json("1");
    older["updated_at"] = json!("2026-06-10T11:00:00Z");
    older["financial_status"] = json!("voided");
    let (status, body) = post(&fx, "orders", &t, vec![order_json("1"), newer, older]).await;
    assert_eq!(status, 200, "{body}");
    let outcomes: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(outcomes, ["unchanged", "updated", "stale"]);
    assert_eq!(body["results"][1]["seq"].as_u64(), Some(seq + 1));
    assert_eq!(
        (
            body["unchanged"].as_u64(),
            body["updated"].as_u64(),
            body["stale"].as_u64()
        ),
        (Some(1), Some(1), Some(1))
    );

    // A status change older than the order is stale and writes nothing.
    let (status, body) = post(&fx, "order-status-changes", &t, vec![json!({
        "order_id": "2", "occurred_at": "2026-06-10T17:00:00Z", "fulfillment_status": "fulfilled"})]).await;
    assert_eq!(status, 200);
    assert_eq!(body["results"][0]["outcome"], "stale");
    assert_eq!(fx.state.store.latest_seq().await.unwrap(), seq + 1);
}

/// Posts, expects `status`, and checks that nothing at all was stored.
async fn refused(
    fx: &Fixture,
    kind: &str,
    token: Option<&str>,
    body: String,
    status: u16,
) -> Value {
    let counts: RecordCounts = fx.state.store.record_counts().await.unwrap();
    let seq = fx.state.store.latest_seq().await.unwrap();
    let (got, answer) = post_raw(fx, kind, token, body).await;
    assert_eq!(got, status, "{kind}: {answer}");
    assert!(answer["error"].is_string(), "{answer}");
    assert_eq!(
        fx.state.store.record_counts().await.unwrap(),
        counts,
        "{answer}"
    );
    assert_eq!(fx.state.store.latest_seq().await.unwrap(), seq, "{answer}");
    answer
}

fn batch(records: Vec<Value>) -> String {
    json!({ "records": records }).to_string()
}

fn fields(answer: &Value) -> Vec<String> {
    answer["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e["field"].as_str().unwrap(),
                e["reason"].as_str().unwrap()
            )
        })
        .collect()
}

#[tokio::test]
async fn bad_records_are_listed_and_nothing_is_stored() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;

    let mut wrong_type = order_json("1");
    wrong_type["name"] = json!(5);
    wrong_type["line_items"][0]["quantity"] = json!("two");
    let a = refused(&fx, "orders", Some(&t), batch(vec![wrong_type]), 422).await;
    assert_eq!(
        fields(&a),
        [
            "records[0].name: expected a string, got a number",
            "records[0].line_items[0].quantity: expected a number, got a string",
        ]
    );

    let mut missing = order_json("1");
    missing.as_object_mut().unwrap().remove("total_price");
    let a = refused(&fx, "orders", Some(&t), batch(vec![missing]), 422).await;
    assert_eq!(fields(&a), ["records[0].total_price: missing (required)"]);

    let mut unknown_brand = order_json("1");
    unknown_brand["brand"] = json!("nosuchbrand");
    let a = refused(&fx, "orders", Some(&t), batch(vec![unknown_brand]), 422).await;
    assert_eq!(
        fields(&a),
        ["records[0].brand: unknown brand \"nosuchbrand\""]
    );

    let mut bad_money = order_json("1");
    bad_money["total_price"] = json!({"amount": "49.9.0", "currency": "USD"});
    bad_money["line_items"][0]["price"] = json!({"amount": 24.95, "currency": "usd"});
    let a = refused(&fx, "orders", Some(&t), batch(vec![bad_money]), 422).await;
    let f = fields(&a);
    assert_eq!(f.len(), 3, "{f:?}");
    assert!(
        f[0].starts_with("records[0].total_price.amount: amount \"49.9.0\" is not a decimal"),
        "{f:?}"
    );
    assert!(
        f[1].starts_with("records[0].line_items[0].price.currency: \"usd\" is not an ISO 4217"),
        "{f:?}"
    );
    assert!(
        f[2].starts_with("records[0].line_items[0].price.amount: expected a decimal string"),
        "{f:?}"
    );

    let mut wrong_currency = order_json("1");
    wrong_currency["total_price"] = json!({"amount": "49.90", "currency": "EUR"});
    let a = refused(&fx, "orders", Some(&t), batch(vec![wrong_currency]), 422).await;
    assert_eq!(
        fields(&a),
        ["records[0].total_price.currency: EUR differs from the expected USD"]
    );

    let mut typo = json!({"external_id": "hc-1", "dependency": "erp", "status": "down",
        "checked_at": "yesterday", "latencyms": 5});
    typo["brand"] = json!("mavena");
    let a = refused(&fx, "health-checks", Some(&t), batch(vec![typo]), 422).await;
    assert_eq!(fields(&a), [
        "records[0].status: \"down\" is not one of ok, failed",
        "records[0].checked_at: \"yesterday\" is not an RFC 3339 timestamp with an offset (e.g. 2026-06-01T10:00:00Z)",
        "records[0].latencyms: unknown field",
    ]);

    // One bad record among good ones: only it is listed, none is stored.
    let mut bad = order_json("3");
    bad["created_at"] = json!("2026-06-10T12:00:00");
    let a = refused(
        &fx,
        "orders",
        Some(&t),
        batch(vec![order_json("1"), order_json("2"), bad, order_json("4")]),
        422,
    )
    .await;
    assert_eq!(a["errors"].as_array().unwrap().len(), 1);
    assert_eq!(a["errors"][0]["index"], 2);
    assert_eq!(a["error"], "1 of 4 records are invalid; nothing was stored");

    // A partial update of an order that does not exist.
    let a = refused(
        &fx,
        "order-status-changes",
        Some(&t),
        batch(vec![json!({
        "order_id": "404", "occurred_at": "2026-06-10T17:00:00Z", "financial_status": "paid"})]),
        422,
    )
    .await;
    assert!(fields(&a)[0]
        .starts_with("records[0].order_id: no order \"404\" from source ingest-mavena"));
}

#[tokio::test]
async fn bad_requests_are_refused_with_the_documented_status() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::Only(vec!["orders".into()])).await;
    let good = batch(vec![order_json("1")]);

    // Authentication: none, malformed, unknown, wrong secret, revoked.
    refused(&fx, "orders", None, good.clone(), 401).await;
    refused(&fx, "orders", Some("not-a-token"), good.clone(), 401).await;
    refused(
        &fx,
        "orders",
        Some("odk_nosuchtoken_secret"),
        good.clone(),
        401,
    )
    .await;
    // The last character changed to one it is not (a token ending in "X"
    // made "replace it with X" the right secret once in ~60 runs).
    let last = if t.ends_with('X') { 'Y' } else { 'X' };
    let wrong_secret = format!("{}{last}", &t[..t.len() - 1]);
    assert_ne!(wrong_secret, t);
    let a = refused(&fx, "orders", Some(&wrong_secret), good.clone(), 401).await;
    assert!(
        !a.to_string().contains(&t[t.len() - 10..]),
        "the secret is not echoed"
    );
    let revoked = token(&fx, "mavena", TokenKinds::All).await;
    let id = revoked.split('_').nth(1).unwrap().to_string();
    let audit = AuditEntry {
        at: ts("2026-06-10T00:00:00Z"),
        actor: "t".into(),
        action: opsdeck_store::AuditAction::ApiTokenRevoke,
        subject: id.clone(),
        payload: json!({}),
        ip: None,
    };
    assert!(fx
        .state
        .store
        .revoke_api_token(&id, ts("2026-06-10T01:00:00Z"), &audit)
        .await
        .unwrap());
    refused(&fx, "orders", Some(&revoked), good.clone(), 401).await;

    // Scope: a kind the token may not write; a record of another brand.
    let a = refused(&fx, "products", Some(&t), batch(vec![]), 403).await;
    assert!(
        a["error"]
            .as_str()
            .unwrap()
            .contains("may not write products; it may write: orders"),
        "{a}"
    );
    let kumo = token(&fx, "kumo", TokenKinds::All).await;
    let mut mavena_order = order_json("1");
    mavena_order["brand"] = json!("mavena");
    let a = refused(&fx, "orders", Some(&kumo), batch(vec![mavena_order]), 403).await;
    assert_eq!(
        a["error"],
        "this token writes brand kumo only; records[0] is for brand mavena"
    );

    // Body: invalid JSON, wrong shape, too many records.
    let a = refused(
        &fx,
        "orders",
        Some(&t),
        "{\"records\": [{\"external_id\": }]}".into(),
        400,
    )
    .await;
    assert!(
        a["error"].as_str().unwrap().contains("at line 1 column 30"),
        "{a}"
    );
    refused(&fx, "orders", Some(&t), "[]".into(), 400).await;
    refused(&fx, "orders", Some(&t), "{\"records\": {}}".into(), 400).await;
    let a = refused(
        &fx,
        "orders",
        Some(&t),
        batch(vec![order_json("1"); 1001]),
        413,
    )
    .await;
    assert_eq!(
        a["error"],
        "batch has 1001 records; the limit is 1000 per request"
    );
}

#[tokio::test]
async fn a_full_batch_of_1000_commits_and_shows_on_source_health() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let records: Vec<Value> = (0..1000).map(|i| order_json(&format!("o-{i}"))).collect();
    let (status, body) = post(&fx, "orders", &t, records).await;
    assert_eq!((status, body["inserted"].as_u64()), (200, Some(1000)));
    let mut bad = order_json("x");
    bad["name"] = json!(null);
    let _ = post(&fx, "orders", &t, vec![bad]).await;

    let (status, health) = fx.get_json("/api/v1/sources").await;
    assert_eq!(status, 200);
    let ingest = health["sources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "ingest-mavena")
        .expect("ingest source listed");
    assert_eq!(ingest["platform"], "ingest");
    assert_eq!(ingest["brand"], "mavena");
    let orders = &ingest["resources"][0];
    assert_eq!(orders["resource"], "orders");
    assert_eq!(
        (orders["requests"].as_u64(), orders["errors"].as_u64()),
        (Some(2), Some(1))
    );
    assert_eq!(orders["records_synced"], 1000);
    assert_eq!(orders["consecutive_failures"], 1);
    assert!(
        orders["last_error"]
            .as_str()
            .unwrap()
            .contains("records[0].name: missing"),
        "{orders}"
    );
    assert_eq!(orders["last_success_at"], "2026-06-10T18:05:00Z");
    assert_eq!(orders["success_lag_seconds"], 0);
    assert_eq!(
        orders["watermark_lag_seconds"],
        2 * 3600 + 5 * 60,
        "now − newest updated_at (16:00Z)"
    );
}

/// Pushed records reach the dashboard and alerts without waiting for a poll:
/// the writer wakes the projection follower after the commit (and not for
/// a refused batch, which stores nothing).
#[tokio::test]
async fn a_committed_batch_wakes_the_projection_follower() {
    let mut fx = Fixture::new().await;
    let committed = std::sync::Arc::new(tokio::sync::Notify::new());
    let (ingest, _writer) = opsdeck_sync::group_commit::IngestCommits::start(
        fx.state.store.clone(),
        Some(committed.clone()),
    );
    fx.state.ingest = ingest;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let before = fx.state.store.record_counts().await.unwrap().orders;

    let mut bad = order_json("x");
    bad["name"] = json!(null);
    let (status, _) = post(&fx, "orders", &t, vec![bad]).await;
    assert_eq!(status, 422);
    let woken = tokio::time::timeout(std::time::Duration::from_millis(200), committed.notified());
    assert!(woken.await.is_err(), "a refused batch wakes nobody");

    let (status, _) = post(&fx, "orders", &t, vec![order_json("o-1")]).await;
    assert_eq!(status, 200);
    let woken = tokio::time::timeout(std::time::Duration::from_secs(5), committed.notified());
    assert!(
        woken.await.is_ok(),
        "the follower is woken after the commit"
    );
    let after = fx.state.store.record_counts().await.unwrap().orders;
    assert_eq!(after, before + 1, "woken after the order was stored");
}

/// A negative order total, price or quantity was stored as sent (and then
/// counted as negative revenue and units).
#[tokio::test]
async fn negative_amounts_and_quantities_are_refused() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let mut negative = order_json("1");
    negative["total_price"] = json!({"amount": "-5.00", "currency": "USD"});
    negative["total_tax"] = json!({"amount": "-0.01", "currency": "USD"});
    negative["line_items"][0]["quantity"] = json!(-3);
    negative["line_items"][0]["price"] = json!({"amount": "-1.00", "currency": "USD"});
    let a = refused(&fx, "orders", Some(&t), batch(vec![negative]), 422).await;
    assert_eq!(
        fields(&a),
        [
            "records[0].total_price: must not be negative, got -$5.00",
            "records[0].total_tax: must not be negative, got -$0.01",
            "records[0].line_items[0].quantity: must be 0 or more, got -3",
            "records[0].line_items[0].price: must not be negative, got -$1.00",
        ]
    );
    // Zero stays allowed (a free sample).
    let mut free = order_json("2");
    free["total_price"] = json!({"amount": "0.00", "currency": "USD"});
    let (status, body) = post(&fx, "orders", &t, vec![free]).await;
    assert_eq!(status, 200, "{body}");
}

/// Issue 11.4 / 11.5: values no merchant has are refused naming the field
/// and its bound, and nothing of the record is stored.
#[tokio::test]
async fn values_beyond_their_bounds_are_refused_naming_field_and_bound() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let mut hostile = order_json("1");
    hostile["name"] = json!("n".repeat(10 * 1024 * 1024));
    hostile["total_price"] = money("92233720368547758.07");
    hostile["subtotal_price"] = money(" 49.90");
    hostile["total_tax"] = money("+1.00");
    hostile["created_at"] = json!("0000-06-10T12:00:00Z");
    hostile["processed_at"] = json!("2100-06-10T12:00:00Z");
    hostile["closed_at"] = json!("2026-06-10T12:00:00+25:00");
    hostile["line_items"][0]["external_id"] = json!("i".repeat(300));
    let a = refused(&fx, "orders", Some(&t), batch(vec![hostile]), 422).await;
    let f = fields(&a);
    assert_eq!(
        f,
        [
            "records[0].created_at: 0000-06-10T12:00:00Z is outside the accepted years 2000-2099",
            "records[0].processed_at: 2100-06-10T12:00:00Z is outside the accepted years 2000-2099",
            "records[0].closed_at: \"2026-06-10T12:00:00+25:00\" has the offset +25:00; offsets run from -12:00 to +14:00",
            "records[0].total_price.amount: amount 92233720368547758.07 USD is beyond the limit of ±1000000000000.00 USD",
            "records[0].subtotal_price.amount: amount \" 49.90\" is not a decimal number",
            "records[0].total_tax.amount: amount \"+1.00\" is not a decimal number",
        ],
        "{f:#?}"
    );
    // Once the parse errors are gone, the text bounds show, by field.
    let mut long = order_json("2");
    long["name"] = json!("n".repeat(10 * 1024 * 1024));
    long["line_items"][0]["external_id"] = json!("i".repeat(300));
    long["tags"] = json!(vec!["t"; 5_001]);
    long["line_items"][0]["quantity"] = json!(i64::MAX);
    let a = refused(&fx, "orders", Some(&t), batch(vec![long]), 422).await;
    assert_eq!(
        fields(&a),
        [
            "records[0].name: is 10485760 bytes long; the limit is 1024 bytes",
            "records[0].tags: has 5001 items; the limit is 5000",
            "records[0].line_items[0].external_id: is 300 bytes long; the limit is 255 bytes",
            "records[0].line_items[0].quantity: 9223372036854775807 is beyond the limit of ±1000000000",
        ]
    );
    // The answer quotes no hostile value whole.
    assert!(a.to_string().len() < 2_000);
    // A 10 MB unknown key is named by an excerpt.
    let mut key = order_json("3");
    key[&"k".repeat(1_000_000)] = json!(1);
    let a = refused(&fx, "orders", Some(&t), batch(vec![key]), 422).await;
    assert!(a.to_string().len() < 2_000, "{}", a.to_string().len());
    // JSON nested 100,000 deep is refused before it is parsed.
    let deep = format!(
        "{{\"records\": [{{\"x\": {}1{}}}]}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let a = refused(&fx, "orders", Some(&t), deep, 400).await;
    assert_eq!(a["error"], "body JSON nests deeper than 64 levels");
    // The bounds themselves are accepted.
    let mut edge = order_json("4");
    edge["name"] = json!("n".repeat(1_024));
    edge["total_price"] = money("1000000000000.00");
    edge["created_at"] = json!("2000-01-01T14:00:00+14:00");
    let (status, body) = post(&fx, "orders", &t, vec![edge]).await;
    assert_eq!(status, 200, "{body}");
}

/// Issue 11.1: an order in another currency than the token's brand is
/// refused at the door with the reason, and nothing is stored.
#[tokio::test]
async fn an_order_in_a_foreign_currency_is_refused_at_the_door() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let mut eur = order_json("1");
    eur["total_price"] = json!({"amount": "49.90", "currency": "EUR"});
    let a = refused(&fx, "orders", Some(&t), batch(vec![eur]), 422).await;
    assert_eq!(
        fields(&a),
        ["records[0].total_price.currency: EUR differs from the expected USD"]
    );
}

/// Issue 11.4/11.5 (found by QA on the demo): two refund lines of
/// `i64::MAX` units were accepted and overflowed the projection's per-line
/// refund sum (a panic that stopped the dashboard following new records);
/// a fulfillment's shipped units had no bound either; and a NUL character
/// was accepted (SQLite keeps it, PostgreSQL refuses the batch). Each is
/// refused at the door naming the field and the bound, nothing stored.
#[tokio::test]
async fn refund_and_shipped_units_and_nul_are_refused_naming_field_and_bound() {
    let fx = Fixture::new().await;
    let t = token(&fx, "mavena", TokenKinds::All).await;
    let mut order = order_json("1");
    order["refunds"] = json!([{"external_id": "r-1", "created_at": "2026-06-11T12:00:00Z",
        "amount": money("1.00"),
        "line_items": [{"line_item_id": "li-1", "quantity": i64::MAX},
                       {"line_item_id": "li-1", "quantity": i64::MAX}]}]);
    let a = refused(&fx, "orders", Some(&t), batch(vec![order]), 422).await;
    assert_eq!(
        fields(&a),
        [
            "records[0].refunds[0].line_items[0].quantity: 9223372036854775807 is beyond the limit of ±1000000000",
            "records[0].refunds[0].line_items[1].quantity: 9223372036854775807 is beyond the limit of ±1000000000",
        ]
    );
    let mut nul = order_json("3");
    nul["name"] = json!("#3\u{0}");
    let a = refused(&fx, "orders", Some(&t), batch(vec![nul]), 422).await;
    assert_eq!(
        fields(&a),
        ["records[0].name: contains the NUL character (U+0000), which no platform sends and PostgreSQL cannot store"]
    );
    let (status, body) = post(&fx, "orders", &t, vec![order_json("2")]).await;
    assert_eq!(status, 200, "{body}");
    let shipment = json!({"order_id": "2", "external_id": "f-1", "status": "success",
        "created_at": "2026-06-11T12:00:00Z",
        "line_items": [{"line_item_id": "li-1", "quantity": i64::MAX}]});
    let a = refused(&fx, "fulfillments", Some(&t), batch(vec![shipment]), 422).await;
    assert_eq!(
        fields(&a),
        ["records[0].line_items[0].quantity: 9223372036854775807 is beyond the limit of ±1000000000"]
    );
}
