//! `opsdeck shopify webhooks register|list` against a local server answering
//! as Shopify's Admin REST API does: `GET webhooks.json` lists 50 per page by
//! default (at most 250) with the next page in a `Link` header, and `POST
//! webhooks.json` answers 201. Registering must read every page before
//! deciding what is missing, or it subscribes a topic twice.

use opsdeck::shopify_cli::{list_shop, order_history_warning, register_shop};
use opsdeck_domain::{BrandId, Currency, Secret, SourceId};
use opsdeck_sources::shopify::WebhookTopic;
use opsdeck_sources::{ShopifyClient, ShopifySettings};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use url::Url;

/// One scripted answer: status, extra headers, body.
type Answer = (u16, Vec<(String, String)>, String);

#[derive(Default)]
struct Shop {
    answers: VecDeque<Answer>,
    /// (method, target, body) of each request.
    seen: Vec<(String, String, String)>,
}

/// A minimal HTTP/1.1 server (keep-alive included) serving `answers` in order.
async fn fake_shop(answers: Vec<Answer>) -> (Url, Arc<Mutex<Shop>>) {
    let shop = Arc::new(Mutex::new(Shop {
        answers: answers.into(),
        seen: vec![],
    }));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let state = shop.clone();
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let mut conn = BufReader::new(stream);
                loop {
                    let mut request_line = String::new();
                    if conn.read_line(&mut request_line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    let mut length = 0usize;
                    loop {
                        let mut header = String::new();
                        conn.read_line(&mut header).await.unwrap();
                        let header = header.trim_end();
                        if header.is_empty() {
                            break;
                        }
                        if let Some((name, value)) = header.split_once(':') {
                            if name.eq_ignore_ascii_case("content-length") {
                                length = value.trim().parse().unwrap();
                            }
                        }
                    }
                    let mut body = vec![0; length];
                    conn.read_exact(&mut body).await.unwrap();
                    let mut parts = request_line.split_whitespace();
                    let (method, target) = (parts.next().unwrap(), parts.next().unwrap());
                    let (status, headers, answer) = {
                        let mut s = state.lock().unwrap();
                        s.seen.push((
                            method.to_string(),
                            target.to_string(),
                            String::from_utf8_lossy(&body).into(),
                        ));
                        s.answers.pop_front().unwrap_or((500, vec![], "{}".into()))
                    };
                    let mut head = format!(
                        "HTTP/1.1 {status} X\r\nContent-Type: application/json; charset=utf-8\r\n\
                         Content-Length: {}\r\nX-Shopify-Shop-Api-Call-Limit: 1/40\r\n",
                        answer.len()
                    );
                    for (name, value) in headers {
                        head.push_str(&format!("{name}: {value}\r\n"));
                    }
                    head.push_str("\r\n");
                    let stream = conn.get_mut();
                    stream.write_all(head.as_bytes()).await.unwrap();
                    stream.write_all(answer.as_bytes()).await.unwrap();
                }
            });
        }
    });
    (Url::parse(&format!("http://{addr}")).unwrap(), shop)
}

fn client(base: &Url) -> ShopifyClient {
    let mut settings = ShopifySettings::new(
        SourceId::parse("shopify-fake").unwrap(),
        BrandId::parse("fake").unwrap(),
        Currency::USD,
        "fake.myshopify.com",
        Secret::new("shpat_cli_test"),
    )
    .unwrap();
    settings.base_url = base.clone();
    ShopifyClient::new(settings).unwrap()
}

fn hook(id: u64, topic: &str, address: &str) -> Value {
    json!({"id": id, "address": address, "topic": topic, "created_at": "2025-01-02T10:00:00-05:00",
           "updated_at": "2025-01-02T10:00:00-05:00", "format": "json", "fields": [],
           "metafield_namespaces": [], "api_version": "2025-07"})
}

#[tokio::test]
async fn register_reads_every_page_before_subscribing_what_is_missing() {
    let address = "https://ops.example.com/webhooks/shopify";
    let missing = "refunds/create";
    let (base, shop) = fake_shop(vec![]).await;
    let present: Vec<&str> = WebhookTopic::subscribable()
        .map(WebhookTopic::as_str)
        .filter(|t| *t != missing)
        .collect();
    let first: Vec<Value> = vec![hook(1, present[0], address)];
    let second: Vec<Value> = present[1..]
        .iter()
        .enumerate()
        .map(|(i, t)| hook(2 + i as u64, t, address))
        .collect();
    let next =
        format!("{base}admin/api/2025-07/webhooks.json?limit=250&page_info=eyJsYXN0X2lkIjoxfQ");
    shop.lock().unwrap().answers = VecDeque::from(vec![
        (
            200,
            vec![("Link".to_string(), format!("<{next}>; rel=\"next\""))],
            json!({"webhooks": first}).to_string(),
        ),
        (200, vec![], json!({"webhooks": second}).to_string()),
        (
            201,
            vec![],
            json!({"webhook": hook(99, missing, address)}).to_string(),
        ),
    ]);
    let report = register_shop(&client(&base), &Url::parse(address).unwrap()).await;
    assert!(report.errors.is_empty(), "{:?}", report.errors);
    assert_eq!(report.created, vec![missing.to_string()]);
    assert_eq!(
        report.already.len(),
        WebhookTopic::subscribable().count() - 1
    );
    let seen = &shop.lock().unwrap().seen;
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert_eq!(seen[0].1, "/admin/api/2025-07/webhooks.json?limit=250");
    // The next page is asked exactly as the Link gave it: page_info and limit only.
    assert_eq!(
        seen[1].1,
        "/admin/api/2025-07/webhooks.json?limit=250&page_info=eyJsYXN0X2lkIjoxfQ"
    );
    assert_eq!(seen[2].0, "POST");
    let created: Value = serde_json::from_str(&seen[2].2).unwrap();
    assert_eq!(
        created,
        json!({"webhook": {"topic": missing, "address": address, "format": "json"}})
    );
}

#[tokio::test]
async fn list_shows_subscriptions_with_ids_above_2_pow_53() {
    let (base, _) = fake_shop(vec![(
        200,
        vec![],
        json!({"webhooks": [hook(9_007_199_254_740_993, "orders/create", "https://x/")]})
            .to_string(),
    )])
    .await;
    let subs = list_shop(&client(&base)).await.unwrap();
    assert_eq!(subs.len(), 1);
    assert_eq!(subs[0].id, "9007199254740993");
    assert_eq!(subs[0].topic, "orders/create");
}

#[tokio::test]
async fn a_missing_read_all_orders_scope_is_pointed_out() {
    let scopes = |handles: &[&str]| -> Answer {
        let list: Vec<Value> = handles.iter().map(|h| json!({"handle": h})).collect();
        (200, vec![], json!({"access_scopes": list}).to_string())
    };
    let (base, shop) = fake_shop(vec![
        scopes(&["read_orders", "read_products", "read_inventory"]),
        scopes(&["read_orders", "read_all_orders", "read_products"]),
        (404, vec![], r#"{"errors":"Not Found"}"#.to_string()),
    ])
    .await;
    let client = client(&base);
    let warning = order_history_warning(&client).await.expect("a warning");
    assert!(warning.contains("read_all_orders") && warning.contains("60 days"));
    assert_eq!(order_history_warning(&client).await, None);
    assert_eq!(
        order_history_warning(&client).await,
        None,
        "unreadable: silent"
    );
    let seen = &shop.lock().unwrap().seen;
    assert_eq!(seen[0].1, "/admin/oauth/access_scopes.json");
}
