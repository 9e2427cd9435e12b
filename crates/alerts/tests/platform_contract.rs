//! The Slack and Telegram notifiers against a local server answering with
//! the statuses, headers and bodies the real platforms send (APIS.md; Slack's
//! incoming-webhook errors; the Bot API's `{"ok":false,…}` answers), rather
//! than against our own fake receivers.
#![expect(
    clippy::unwrap_used,
    reason = "test helpers and closures unwrap: a failed unwrap is a failed test"
)]

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Router;
use opsdeck_alerts::notify::slack::SlackNotifier;
use opsdeck_alerts::notify::telegram::{
    PollError, TelegramConfig, TelegramNotifier, TelegramUpdates,
};
use opsdeck_alerts::notify::{http_client, Notifier, SendOutcome};
use opsdeck_alerts::telegram_acks::pause_after;
use opsdeck_domain::Secret;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One scripted answer: status, headers, body.
type Answer = (u16, Vec<(&'static str, &'static str)>, String);

#[derive(Default)]
struct Script {
    answers: VecDeque<Answer>,
    /// (path, body) of each request.
    seen: Vec<(String, String)>,
}

type Shared = Arc<Mutex<Script>>;

/// What an outcome must be.
type Check = fn(&SendOutcome) -> bool;

async fn handle(State(script): State<Shared>, uri: Uri, body: Bytes) -> Response {
    let mut s = script.lock().unwrap();
    s.seen.push((
        uri.path().to_string(),
        String::from_utf8_lossy(&body).into(),
    ));
    let (status, headers, body) =
        s.answers
            .pop_front()
            .unwrap_or((500, vec![], "script exhausted".into()));
    let mut response = (StatusCode::from_u16(status).unwrap(), body).into_response();
    for (name, value) in headers {
        response.headers_mut().insert(name, value.parse().unwrap());
    }
    response
}

async fn platform(answers: Vec<Answer>) -> (String, Shared) {
    let script: Shared = Arc::new(Mutex::new(Script {
        answers: answers.into(),
        seen: vec![],
    }));
    let app = Router::new().fallback(handle).with_state(script.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (format!("http://{addr}"), script)
}

fn telegram_config(base: &str) -> TelegramConfig {
    TelegramConfig {
        base_url: base.to_string(),
        bot_token: Secret::new("123456:ABC-real-looking"),
        chat_id: "-1001234".into(),
        message_thread_id: None,
        allowed_user_ids: Vec::new(),
    }
}

fn json_answer(status: u16, body: Value) -> Answer {
    (
        status,
        vec![("content-type", "application/json")],
        body.to_string(),
    )
}

#[tokio::test]
async fn slack_webhook_answers_are_read_as_slack_means_them() {
    let cases: Vec<(Answer, Check)> = vec![
        ((200, vec![], "ok".into()), |o| *o == SendOutcome::Delivered),
        (
            (400, vec![], "invalid_blocks".into()),
            |o| matches!(o, SendOutcome::Refused { error } if error.contains("invalid_blocks")),
        ),
        ((403, vec![], "action_prohibited".into()), |o| {
            matches!(o, SendOutcome::Refused { .. })
        }),
        (
            (404, vec![], "no_service".into()),
            |o| matches!(o, SendOutcome::Refused { error } if error.contains("no_service")),
        ),
        ((410, vec![], "channel_is_archived".into()), |o| {
            matches!(o, SendOutcome::Refused { .. })
        }),
        (
            (429, vec![("retry-after", "30")], "rate_limited".into()),
            |o| matches!(o, SendOutcome::Retry { after: Some(d), .. } if *d == Duration::from_secs(30)),
        ),
        (
            (429, vec![("retry-after", "1.5")], "rate_limited".into()),
            |o| matches!(o, SendOutcome::Retry { after: Some(d), .. } if *d == Duration::from_millis(1500)),
        ),
        ((500, vec![], "rollup_error".into()), |o| {
            matches!(o, SendOutcome::Retry { after: None, .. })
        }),
    ];
    for (answer, check) in cases {
        let what = format!("{} {}", answer.0, answer.2);
        let (base, script) = platform(vec![answer]).await;
        let slack = SlackNotifier::new(
            http_client(Duration::from_secs(5)),
            Secret::new(format!("{base}/services/T000/B000/XXXX")),
        );
        let outcome = slack.send(&json!({"text": "hi", "blocks": []})).await;
        assert!(check(&outcome), "{what}: {outcome:?}");
        if let SendOutcome::Refused { error } | SendOutcome::Retry { error, .. } = &outcome {
            assert!(!error.contains("XXXX"), "the webhook URL leaked: {error}");
        }
        let seen = &script.lock().unwrap().seen;
        assert_eq!(seen[0].0, "/services/T000/B000/XXXX");
    }
}

#[tokio::test]
async fn telegram_html_it_cannot_parse_is_sent_again_as_plain_text() {
    let (base, script) = platform(vec![
        json_answer(
            400,
            json!({"ok": false, "error_code": 400,
                "description": "Bad Request: can't parse entities: Unsupported start tag \"x\" at byte offset 12"}),
        ),
        json_answer(200, json!({"ok": true, "result": {"message_id": 5}})),
    ])
    .await;
    let telegram =
        TelegramNotifier::new(http_client(Duration::from_secs(5)), telegram_config(&base));
    let payload = json!({
        "text": "<b>CRITICAL</b>\nTom &amp; Jerry &lt;XL&gt; <a href=\"http://x/?a=1&amp;b=2\">Open</a>",
        "parse_mode": "HTML",
    });
    assert_eq!(telegram.send(&payload).await, SendOutcome::Delivered);
    let seen = &script.lock().unwrap().seen;
    assert_eq!(seen.len(), 2);
    let retry: Value = serde_json::from_str(&seen[1].1).unwrap();
    assert_eq!(retry.get("parse_mode"), None);
    assert_eq!(retry["text"], "CRITICAL\nTom & Jerry <XL> Open");
    assert_eq!(retry["chat_id"], "-1001234");
}

#[tokio::test]
async fn telegram_refusals_and_waits_are_read_from_the_answer() {
    let (base, _) = platform(vec![
        json_answer(
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 7",
                "parameters": {"retry_after": 7}}),
        ),
        json_answer(
            400,
            json!({"ok": false, "error_code": 400,
                "description": "Bad Request: group chat was upgraded to a supergroup chat",
                "parameters": {"migrate_to_chat_id": -1001987654321i64}}),
        ),
        json_answer(
            403,
            json!({"ok": false, "error_code": 403, "description": "Forbidden: bot was blocked by the user"}),
        ),
        (502, vec![], "<html>Bad Gateway</html>".into()),
    ])
    .await;
    let telegram =
        TelegramNotifier::new(http_client(Duration::from_secs(5)), telegram_config(&base));
    let payload = json!({"text": "hi", "parse_mode": "HTML"});
    assert!(matches!(
        telegram.send(&payload).await,
        SendOutcome::Retry { after: Some(d), .. } if d == Duration::from_secs(7)
    ));
    match telegram.send(&payload).await {
        SendOutcome::Refused { error } => {
            assert!(error.contains("set chat_id to -1001987654321"), "{error}")
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        telegram.send(&payload).await,
        SendOutcome::Refused { error } if error.contains("blocked")
    ));
    assert!(matches!(
        telegram.send(&payload).await,
        SendOutcome::Retry { after: None, .. }
    ));
}

#[tokio::test]
async fn get_updates_conflicts_and_rate_limits_are_told_apart() {
    let (base, script) = platform(vec![
        json_answer(
            409,
            json!({"ok": false, "error_code": 409,
                "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"}),
        ),
        json_answer(
            429,
            json!({"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 12",
                "parameters": {"retry_after": 12}}),
        ),
        json_answer(
            200,
            json!({"ok": true, "result": [
                {"update_id": 900000001, "message": {"message_id": 1, "text": "hello"}},
                {"update_id": 900000002, "callback_query": {
                    "id": "4382bfdwdsb323b2d9", "data": "ack:Aabc-1",
                    "from": {"id": 7123456789i64, "is_bot": false, "first_name": "Maya", "username": "maya_ops"},
                    "chat_instance": "-123"}}
            ]}),
        ),
    ])
    .await;
    let mut updates =
        TelegramUpdates::new(http_client(Duration::from_secs(5)), telegram_config(&base));
    let conflict = updates.poll(Duration::ZERO).await.unwrap_err();
    assert!(matches!(&conflict, PollError::Refused(d) if d.starts_with("Conflict")));
    assert_eq!(pause_after(&conflict), Duration::from_secs(5));
    let limited = updates.poll(Duration::ZERO).await.unwrap_err();
    assert_eq!(limited.retry_after(), Some(Duration::from_secs(12)));
    assert_eq!(pause_after(&limited), Duration::from_secs(12));
    let presses = updates.poll(Duration::ZERO).await.unwrap();
    assert_eq!(presses.len(), 1);
    assert_eq!(presses[0].data, "ack:Aabc-1");
    assert_eq!(presses[0].by, "@maya_ops");
    assert_eq!(updates.offset, 900000003);
    let seen = &script.lock().unwrap().seen;
    assert!(seen[0].0.ends_with("/getUpdates"));
    let last: Value = serde_json::from_str(&seen[2].1).unwrap();
    assert_eq!(last["allowed_updates"], json!(["callback_query"]));
}
