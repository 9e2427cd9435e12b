//! The Gorgias client against a local server answering the way Gorgias's
//! REST API does (APIS.md): HTTP Basic with the user's email and API key,
//! `{"object":"list","data":[…],"meta":{"prev_cursor","next_cursor"}}`
//! pages walked with `cursor=`, `X-Gorgias-Account-Api-Call-Limit`, and 429
//! with a `Retry-after` header (Gorgias's own spelling).

use super::script::{client, fake_gorgias, KEY};
use opsdeck_sources::gorgias::client::CallStats;
use opsdeck_sources::GorgiasError;
use std::time::{Duration, Instant};

/// base64("ops@acme.example:gorgias-api-key-42"), computed independently.
const BASIC: &str = "Basic b3BzQGFjbWUuZXhhbXBsZTpnb3JnaWFzLWFwaS1rZXktNDI=";

fn list(ids: &[u64], next: Option<&str>) -> String {
    let data: Vec<String> = ids.iter().map(|id| format!(r#"{{"id":{id}}}"#)).collect();
    let next = next.map_or("null".to_string(), |n| format!("{n:?}"));
    format!(
        r#"{{"object":"list","uri":"/api/tickets","data":[{}],"meta":{{"prev_cursor":null,"next_cursor":{next}}}}}"#,
        data.join(",")
    )
}

#[tokio::test]
async fn pages_are_walked_by_cursor_with_basic_auth() {
    let (base, script) = fake_gorgias(vec![
        (200, vec![], list(&[3, 2], Some("WzIsIDJd"))),
        (200, vec![], list(&[1], None)),
    ])
    .await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let query = [("order_by", "updated_datetime:desc".to_string())];
    let first = client
        .list("tickets", &query, None, &mut stats)
        .await
        .unwrap();
    assert_eq!(first.records.len(), 2);
    assert_eq!(first.next_cursor.as_deref(), Some("WzIsIDJd"));
    let last = client
        .list("tickets", &query, first.next_cursor.as_deref(), &mut stats)
        .await
        .unwrap();
    assert_eq!(last.records.len(), 1);
    assert_eq!(last.next_cursor, None, "a null next_cursor ends the list");
    let seen = &script.lock().unwrap().seen;
    assert_eq!(
        seen[0].0,
        "/api/tickets?order_by=updated_datetime%3Adesc&limit=2"
    );
    assert_eq!(
        seen[1].0,
        "/api/tickets?order_by=updated_datetime%3Adesc&limit=2&cursor=WzIsIDJd"
    );
    assert!(seen.iter().all(|(_, auth)| auth.as_deref() == Some(BASIC)));
}

#[tokio::test]
async fn a_429_waits_as_long_as_retry_after_says() {
    let limited = (
        429,
        vec![
            ("Retry-after", "1".to_string()),
            ("X-Gorgias-Account-Api-Call-Limit", "40/40".to_string()),
        ],
        r#"{"error":{"msg":"Too many requests"}}"#.to_string(),
    );
    let (base, script) = fake_gorgias(vec![limited, (200, vec![], list(&[1], None))]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let started = Instant::now();
    let page = client
        .list("satisfaction-surveys", &[], None, &mut stats)
        .await
        .unwrap();
    assert_eq!(page.records.len(), 1);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );
    assert_eq!((stats.rate_limit_waits, stats.errors), (1, 0));
    assert_eq!(script.lock().unwrap().seen.len(), 2);
}

#[tokio::test]
async fn a_nearly_used_window_slows_the_next_call() {
    let busy = (
        200,
        vec![("X-Gorgias-Account-Api-Call-Limit", "36/40".to_string())],
        list(&[1], None),
    );
    let calm = (
        200,
        vec![("X-Gorgias-Account-Api-Call-Limit", "2/40".to_string())],
        list(&[1], None),
    );
    let (base, _) = fake_gorgias(vec![busy, calm.clone(), calm]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    client.list("tickets", &[], None, &mut stats).await.unwrap();
    let started = Instant::now();
    client.list("tickets", &[], None, &mut stats).await.unwrap();
    // 40 calls per 20 s: past 80 % used, one call per half second.
    assert!(started.elapsed() >= Duration::from_millis(450));
    assert_eq!(stats.throttle_waits, 1);
}

#[tokio::test]
async fn a_wrong_key_is_not_retried_and_never_printed() {
    let refused = (
        401,
        vec![],
        r#"{"error":{"msg":"Unauthorized"}}"#.to_string(),
    );
    let (base, script) = fake_gorgias(vec![refused, (200, vec![], list(&[], None))]).await;
    let client = client(&base);
    let mut stats = CallStats::default();
    let err = client
        .list("account", &[], None, &mut stats)
        .await
        .unwrap_err();
    assert!(matches!(err, GorgiasError::Unauthorized { .. }), "{err:?}");
    assert!(err.needs_attention());
    assert_eq!(script.lock().unwrap().seen.len(), 1);
    assert!(!format!("{err} {err:?}").contains(KEY));
}
