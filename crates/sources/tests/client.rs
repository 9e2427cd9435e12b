//! The client against a scripted fake Shopify on port 0: one test per rule
//! (retry, Retry-After, no retry on 401, timeout, pagination, pacing), each
//! with exact answers so the rule, not luck, is what passes.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

mod common;

use common::fake::{answer, client, fake_shop, Tail, TOKEN};
use opsdeck_sources::{CallStats, ShopifyClient, ShopifyError};
use std::time::{Duration, Instant};

const PAGE: &str = r#"{"orders":[{"id":1},{"id":2}]}"#;

#[tokio::test]
async fn retries_server_errors_and_unreadable_bodies() {
    let (base, script) = fake_shop(vec![
        answer(503, "busy"),
        answer(200, r#"{"orders":[{"id":1},{"#),
        answer(200, r#"{"unexpected":true}"#),
        answer(200, PAGE),
    ])
    .await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[("limit", "2".into())]);
    let page = client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(page.next.is_none());
    assert_eq!((stats.requests, stats.errors), (4, 3));
    let seen = &script.lock().unwrap().seen;
    assert!(seen
        .iter()
        .all(|(_, token)| token.as_deref() == Some(TOKEN)));
    assert_eq!(
        seen[0].0,
        "/shops/fake/admin/api/2025-07/orders.json?limit=2"
    );
}

#[tokio::test]
async fn gives_up_after_max_retries_naming_the_path_only() {
    let (base, script) = fake_shop(vec![answer(200, "{\"orders\": [trunc"); 10]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    let err = client
        .get_page(&url, "orders", &mut stats)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, ShopifyError::MalformedBody { path, attempts: 4, .. } if path.ends_with("/orders.json")),
        "{err:?}"
    );
    assert_eq!(script.lock().unwrap().seen.len(), 4);
    assert!(!err.to_string().contains(TOKEN));
}

#[tokio::test]
async fn honours_fractional_retry_after() {
    let mut limited = answer(429, r#"{"errors":"Exceeded 2 calls per second"}"#);
    limited.headers.push(("Retry-After", "0.4".into()));
    let (base, _) = fake_shop(vec![limited, answer(200, PAGE)]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let started = Instant::now();
    let url = client.resource_url("orders", &[]);
    client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(stats.rate_limit_waits, 1);
    assert_eq!(stats.errors, 0, "a 429 is a wait, not an error");
}

#[tokio::test]
async fn auth_failures_are_typed_and_not_retried() {
    for (status, check) in [
        (
            401,
            (|e: &ShopifyError| matches!(e, ShopifyError::Unauthorized { .. }))
                as fn(&ShopifyError) -> bool,
        ),
        (403, |e| matches!(e, ShopifyError::Forbidden { .. })),
        (404, |e| matches!(e, ShopifyError::NotFound { .. })),
        (422, |e| {
            matches!(e, ShopifyError::Rejected { status: 422, .. })
        }),
    ] {
        let (base, script) = fake_shop(vec![answer(status, "{}"), answer(200, PAGE)]).await;
        let client = client(&base);
        let mut stats = CallStats::default();
        let url = client.resource_url("orders", &[]);
        let err = client
            .get_page(&url, "orders", &mut stats)
            .await
            .unwrap_err();
        assert!(check(&err), "{status}: {err:?}");
        assert_eq!(err.status(), Some(status));
        assert_eq!(script.lock().unwrap().seen.len(), 1, "{status} retried");
        assert!(!format!("{err} {err:?}").contains(TOKEN));
    }
}

#[tokio::test]
async fn times_out_slow_answers_and_retries() {
    let mut slow = answer(200, PAGE);
    slow.delay = Duration::from_secs(3);
    let (base, script) = fake_shop(vec![slow, answer(200, PAGE)]).await;
    let mut settings = client(&base).settings().clone();
    settings.request_timeout = Duration::from_millis(300);
    let client = ShopifyClient::new(settings).unwrap();
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    let started = Instant::now();
    let page = client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!((stats.requests, stats.errors), (2, 1));
    assert_eq!(script.lock().unwrap().seen.len(), 2);
}

#[tokio::test]
async fn follows_the_next_link_exactly_and_refuses_foreign_hosts() {
    let (base, script) = fake_shop(vec![]).await;
    let next = format!(
        "{}/admin/api/2025-07/orders.json?limit=2&page_info=eyJsYXN0X2lkIjo0fQ",
        base.as_str().trim_end_matches('/')
    );
    let mut first = answer(200, PAGE);
    first
        .headers
        .push(("Link", format!("<{next}>; rel=\"next\"")));
    let mut foreign = answer(200, PAGE);
    foreign.headers.push((
        "Link",
        "<http://elsewhere.example/x.json?page_info=1>; rel=\"next\"".into(),
    ));
    script.lock().unwrap().answers = vec![first, answer(200, r#"{"orders":[]}"#), foreign];

    let client = client(&base);
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[("status", "any".into()), ("limit", "2".into())]);
    let page = client.get_page(&url, "orders", &mut stats).await.unwrap();
    let next_url = page.next.expect("a next page");
    assert_eq!(next_url.as_str(), next);
    let last = client
        .get_page(&next_url, "orders", &mut stats)
        .await
        .unwrap();
    assert!(last.records.is_empty() && last.next.is_none());
    assert_eq!(
        script.lock().unwrap().seen[1].0,
        "/shops/fake/admin/api/2025-07/orders.json?limit=2&page_info=eyJsYXN0X2lkIjo0fQ"
    );
    let err = client
        .get_page(&url, "orders", &mut stats)
        .await
        .unwrap_err();
    assert!(matches!(err, ShopifyError::BadNextLink(_)), "{err:?}");
}

#[tokio::test]
async fn slows_down_when_the_bucket_is_nearly_full() {
    let mut nearly_full = answer(200, PAGE);
    nearly_full
        .headers
        .push(("X-Shopify-Shop-Api-Call-Limit", "32/40".into()));
    let mut roomy = answer(200, PAGE);
    roomy
        .headers
        .push(("X-Shopify-Shop-Api-Call-Limit", "5/40".into()));
    let (base, _) = fake_shop(vec![nearly_full, roomy.clone(), roomy]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    client.get_page(&url, "orders", &mut stats).await.unwrap();
    let started = Instant::now();
    client.get_page(&url, "orders", &mut stats).await.unwrap();
    // 32 of 40 used (80 %), leaking 2/s: one request per half second.
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "{:?}",
        started.elapsed()
    );
    let started = Instant::now();
    client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert!(started.elapsed() < Duration::from_millis(300));
    assert_eq!(stats.throttle_waits, 1);
}

/// An upstream that sends half a page and then hangs: the attempt fails at
/// its deadline (not never), counts as a failure and is retried.
#[tokio::test]
async fn a_body_that_hangs_midway_fails_at_the_deadline_and_is_retried() {
    let mut hanging = answer(200, &PAGE[..PAGE.len() / 2]);
    hanging.tail = Tail::Stall;
    let (base, script) = fake_shop(vec![hanging.clone(), answer(200, PAGE)]).await;
    let mut settings = client(&base).settings().clone();
    settings.request_timeout = Duration::from_millis(200);
    let client = ShopifyClient::new(settings.clone()).unwrap();
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    let started = Instant::now();
    let page = client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert_eq!(page.records.len(), 2);
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!((stats.requests, stats.errors), (2, 1));

    // Hanging every time: the request gives up after max_retries (3) + 1
    // attempts, each cut at its deadline, naming the cause.
    script.lock().unwrap().answers = vec![hanging; 4];
    let mut stats = CallStats::default();
    let started = Instant::now();
    let err = client
        .get_page(&url, "orders", &mut stats)
        .await
        .unwrap_err();
    assert!(
        matches!(err, ShopifyError::Timeout { attempts: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("timed out"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert_eq!((stats.requests, stats.errors), (4, 4));
}

/// A 10 MB body streamed without `Content-Length`: reading stops at the
/// cap (not at the end), the attempt fails and is retried; a body that
/// announces its excess in `Content-Length` is refused before any read.
#[tokio::test]
async fn a_body_over_the_cap_is_refused_and_retried() {
    let mut huge = answer(200, &" ".repeat(64 * 1024));
    huge.tail = Tail::RepeatTo(10_000_000);
    let announced = answer(200, &" ".repeat(200_000));
    let (base, script) = fake_shop(vec![huge.clone(), announced, answer(200, PAGE)]).await;
    let mut settings = client(&base).settings().clone();
    settings.max_body_bytes = 100_000;
    let client = ShopifyClient::new(settings).unwrap();
    let mut stats = CallStats::default();
    let url = client.resource_url("orders", &[]);
    let page = client.get_page(&url, "orders", &mut stats).await.unwrap();
    assert_eq!(page.records.len(), 2);
    assert_eq!((stats.requests, stats.errors), (3, 2));

    script.lock().unwrap().answers = vec![huge; 4];
    let err = client
        .get_page(&url, "orders", &mut CallStats::default())
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("over the 100000 bytes cap"),
        "the cause is named: {err}"
    );
}
