//! The Gorgias client against a local server answering the way Gorgias's
//! REST API does (APIS.md): HTTP Basic with the user's email and API key,
//! `{"object":"list","data":[…],"meta":{"prev_cursor","next_cursor"}}`
//! pages walked with `cursor=`, `X-Gorgias-Account-Api-Call-Limit`, and 429
//! with a `Retry-after` header (Gorgias's own spelling).

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Response, Uri};
use axum::Router;
use opsdeck_domain::{Secret, SourceId};
use opsdeck_sources::gorgias::client::CallStats;
use opsdeck_sources::{GorgiasClient, GorgiasError, GorgiasSettings};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use url::Url;

const USER: &str = "ops@acme.example";
const KEY: &str = "gorgias-api-key-42";
/// base64("ops@acme.example:gorgias-api-key-42"), computed independently.
const BASIC: &str = "Basic b3BzQGFjbWUuZXhhbXBsZTpnb3JnaWFzLWFwaS1rZXktNDI=";

/// One scripted answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, String)>, String);

#[derive(Default)]
struct Script {
    answers: Vec<Answer>,
    /// (path and query, Authorization header) of each request.
    seen: Vec<(String, Option<String>)>,
}

type Shared = Arc<Mutex<Script>>;

async fn handle(State(script): State<Shared>, uri: Uri, headers: HeaderMap) -> Response<Body> {
    let mut s = script.lock().unwrap();
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    s.seen.push((uri.to_string(), auth));
    let (status, headers, body) = if s.answers.is_empty() {
        (500, vec![], "script exhausted".to_string())
    } else {
        s.answers.remove(0)
    };
    let mut response = Response::builder()
        .status(status)
        .header("Content-Type", "application/json");
    for (name, value) in headers {
        response = response.header(name, value);
    }
    response.body(Body::from(body)).unwrap()
}

async fn fake_gorgias(answers: Vec<Answer>) -> (Url, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers,
        seen: vec![],
    }));
    let app = Router::new().fallback(handle).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (Url::parse(&format!("http://{addr}")).unwrap(), script)
}

fn client(base: &Url) -> GorgiasClient {
    let mut s = GorgiasSettings::new(
        SourceId::parse("gorgias").unwrap(),
        "acme",
        USER,
        Secret::new(KEY),
    )
    .unwrap();
    s.base_url = base.clone();
    s.page_size = 2;
    s.backoff_base = Duration::from_millis(10);
    GorgiasClient::new(s).unwrap()
}

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

fn ticket(id: u64, updated: &str) -> String {
    format!(
        r#"{{"id":{id},"status":"open","channel":"email","via":"email","created_datetime":"2026-05-04T09:00:00.000000","updated_datetime":"{updated}","tags":[]}}"#
    )
}

fn page(records: &[String], next: Option<&str>) -> Answer {
    let next = next.map_or("null".to_string(), |n| format!("{n:?}"));
    let body = format!(
        r#"{{"object":"list","data":[{}],"meta":{{"prev_cursor":null,"next_cursor":{next}}}}}"#,
        records.join(",")
    );
    (200, vec![], body)
}

#[tokio::test]
async fn a_listing_not_newest_first_is_read_to_the_end() {
    use opsdeck_sources::{sync_gorgias, GorgiasConnector, GorgiasResource};
    use opsdeck_store::AnyRecord;

    // Tickets only: messages are a list of their own, read by their run.
    let (base, script) = fake_gorgias(vec![
        // Backfill: one ticket changed at 10:00 becomes the watermark.
        page(&[ticket(1, "2026-05-04T10:00:00.000000")], None),
        // Next run (floor 09:55): the server ignored order_by. Page one
        // holds a ticket below the floor between two newer ones...
        page(
            &[
                ticket(2, "2026-05-04T12:00:00.000000+00:00"),
                ticket(9, "2026-05-04T08:00:00.000000"),
                ticket(3, "2026-05-04T11:00:00.000000"),
            ],
            Some("c2"),
        ),
        // ... and page two one more changed ticket, which must not be lost.
        page(&[ticket(4, "2026-05-04T11:30:00.000000")], None),
    ])
    .await;
    let backend = opsdeck_store::testing::sqlite_store().await;
    let store = backend.store.clone();
    let connector = GorgiasConnector::new(Arc::new(client(&base)), vec![], vec![]);
    let at = |t: &str| t.parse::<jiff::Timestamp>().unwrap();
    sync_gorgias(
        &connector,
        store.as_ref(),
        GorgiasResource::Tickets,
        at("2026-05-04T10:30:00Z"),
    )
    .await
    .unwrap();
    let run = sync_gorgias(
        &connector,
        store.as_ref(),
        GorgiasResource::Tickets,
        at("2026-05-04T13:00:00Z"),
    )
    .await
    .unwrap();
    assert_eq!(run.pages, 2, "{run:?}");
    assert_eq!(run.watermark, Some(at("2026-05-04T12:00:00Z")));
    let mut ids: Vec<String> = store
        .changes_since(0, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter_map(|c| match c.record {
            AnyRecord::Ticket(t) => Some(t.external_id),
            _ => None,
        })
        .collect();
    ids.sort();
    ids.dedup();
    assert_eq!(ids, ["1", "2", "3", "4"]);
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(seen[2].0.contains("cursor=c2"), "{seen:?}");
}
