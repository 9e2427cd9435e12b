//! The Shopify client against a local server answering the way Shopify's
//! Admin REST API does (APIS.md, shopify.dev): the headers it sends on every
//! answer, a redirect away from the shop, a deprecation notice, ids above
//! 2^53 on the wire. Each test fails if the client stops doing what the
//! platform needs.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use common::fake::{answer, client, fake_shop, TOKEN};
use opsdeck_domain::{BrandId, Currency, SourceId};
use opsdeck_sources::shopify::normalize::{order_from_json, NormalizeContext};
use opsdeck_sources::{CallStats, ShopifyError};

#[tokio::test]
async fn a_redirect_to_another_host_is_not_followed_with_the_token() {
    // Where a redirect would lead: it must never see a request.
    let (elsewhere, elsewhere_seen) = fake_shop(vec![answer(200, r#"{"orders":[]}"#)]).await;
    let mut moved = answer(301, "");
    moved.headers.push((
        "Location",
        format!("{}/admin/api/2025-07/orders.json", elsewhere.as_str()),
    ));
    let (base, _) = fake_shop(vec![moved]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    let err = client
        .get_page(&url, "orders", &mut stats)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ShopifyError::Rejected { status: 301, .. }),
        "{err:?}"
    );
    let seen = &elsewhere_seen.lock().unwrap().seen;
    assert!(
        seen.iter()
            .all(|(_, token)| token.as_deref() != Some(TOKEN)),
        "the access token went to another host: {seen:?}"
    );
    assert!(seen.is_empty(), "the redirect was followed: {seen:?}");
}

#[tokio::test]
async fn a_redirect_within_the_shop_is_followed() {
    let (base, script) = fake_shop(vec![]).await;
    let mut moved = answer(302, "");
    moved.headers.push((
        "Location",
        format!("{}/admin/api/2025-07/orders.json?moved=1", base.as_str()),
    ));
    script.lock().unwrap().answers = vec![moved, answer(200, r#"{"orders":[{"id":7}]}"#)];
    let client = client(&base);
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    let page = client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert_eq!(page.records.len(), 1);
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].1.as_deref(), Some(TOKEN));
}

#[tokio::test]
async fn a_deprecation_notice_is_kept_for_the_operator() {
    let reason = "https://shopify.dev/api/usage/versioning#deprecation-practices";
    let mut deprecated = answer(200, r#"{"orders":[]}"#);
    deprecated.headers.extend([
        ("X-Shopify-API-Version", "2025-07".to_string()),
        ("X-Shopify-API-Deprecated-Reason", reason.to_string()),
        ("X-Shopify-Shop-Api-Call-Limit", "1/40".to_string()),
    ]);
    let (base, _) = fake_shop(vec![answer(200, r#"{"orders":[]}"#), deprecated]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert_eq!(client.deprecation_notice(), None);
    assert_eq!(client.answered_api_version(), None);
    client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert_eq!(client.deprecation_notice().as_deref(), Some(reason));
    assert_eq!(client.answered_api_version().as_deref(), Some("2025-07"));
}

#[tokio::test]
async fn the_version_that_answered_is_kept_when_shopify_falls_forward() {
    // An unsupported version is served as the oldest supported one.
    let mut answered = answer(200, r#"{"orders":[]}"#);
    answered
        .headers
        .push(("X-Shopify-API-Version", "2025-01".to_string()));
    let (base, _) = fake_shop(vec![answered]).await;
    let mut settings = client(&base).settings().clone();
    settings.api_version = "2023-04".into();
    let client = opsdeck_sources::ShopifyClient::new(settings).unwrap();
    let url = client.resource_url("orders", &[]);
    assert!(url.path().contains("/admin/api/2023-04/"), "{url}");
    client
        .get_page(&url, "orders", &mut CallStats::default())
        .await
        .unwrap();
    assert_eq!(client.answered_api_version().as_deref(), Some("2025-01"));
}

#[tokio::test]
async fn ids_above_2_pow_53_and_money_strings_survive_the_wire() {
    // A page as Shopify serializes it: ids are bare JSON integers, money is
    // a decimal string, times carry the shop's UTC offset.
    let body = r##"{"orders":[{"id":9007199254740993,"name":"#1001","order_number":1001,
        "created_at":"2024-05-01T10:00:00-04:00","updated_at":"2024-05-01T11:00:00-04:00",
        "currency":"USD","total_price":"10.10","financial_status":"paid",
        "fulfillment_status":null,"tags":"vip, wholesale",
        "line_items":[{"id":18446744073709551615,"variant_id":9007199254740995,
            "product_id":null,"sku":null,"title":"Custom","quantity":1,"price":"10.10"}]}]}"##;
    let mut page = answer(200, body);
    page.headers
        .push(("X-Shopify-Shop-Api-Call-Limit", "1/40".into()));
    let (base, _) = fake_shop(vec![page]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    let page = client.get_page(&url, "orders", &mut stats).await.unwrap();
    let ctx = NormalizeContext {
        source: SourceId::parse("shopify-fake").unwrap(),
        brand: BrandId::parse("fake").unwrap(),
        currency: Currency::USD,
    };
    let order = order_from_json(&ctx, &page.records[0]).unwrap();
    assert_eq!(order.external_id, "9007199254740993");
    assert_eq!(order.line_items[0].external_id, "18446744073709551615");
    assert_eq!(
        order.line_items[0].variant_id.as_deref(),
        Some("9007199254740995")
    );
    assert_eq!(order.line_items[0].product_id, None);
    assert_eq!(order.total_price.minor, 1010);
    assert_eq!(order.tags, vec!["vip", "wholesale"]);
    assert_eq!(
        order.updated_at,
        "2024-05-01T15:00:00Z".parse::<jiff::Timestamp>().unwrap()
    );
}

#[tokio::test]
async fn a_frozen_or_locked_shop_needs_the_merchant_not_a_retry() {
    for (status, body) in [
        (402, r#"{"errors":"Unavailable Shop"}"#),
        (423, r#"{"errors":"This shop is unavailable"}"#),
    ] {
        let (base, script) = fake_shop(vec![answer(status, body), answer(200, "{}")]).await;
        let client = client(&base);
        let mut stats = CallStats::default();
        let url = client.resource_url("orders", &[]);
        let err = client
            .get_page(&url, "orders", &mut stats)
            .await
            .unwrap_err();
        assert_eq!(err.status(), Some(status));
        assert!(err.needs_attention(), "{status}: {err}");
        assert_eq!(script.lock().unwrap().seen.len(), 1, "{status} retried");
    }
    let (base, _) = fake_shop(vec![answer(422, r#"{"errors":{"limit":["is invalid"]}}"#)]).await;
    let client = client(&base);
    let url = client.resource_url("orders", &[]);
    let err = client
        .get_page(&url, "orders", &mut CallStats::default())
        .await
        .unwrap_err();
    assert!(!err.needs_attention(), "a 422 is a bug of ours: {err}");
}
