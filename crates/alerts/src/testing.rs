//! Fake receivers: local servers that stand in for Slack, Telegram, a
//! webhook endpoint and an SMTP relay, for tests and `opsdeck demo`.
//!
//! One HTTP server answers:
//! - `POST /slack/{anything}` as a Slack incoming webhook (`ok`);
//! - `POST /telegram/bot{token}/sendMessage`, `getUpdates` (long poll,
//!   with offsets; 409 Conflict to a second concurrent poller, as Telegram
//!   does), `answerCallbackQuery` as the Bot API;
//! - `POST /hook` as a generic webhook receiver (headers kept, to check the
//!   signature).
//!
//! It records everything it receives, can answer the next requests of a
//! channel with 429 (with `Retry-After` / `retry_after`) or 500, and can
//! inject an inline-button press for `getUpdates` to deliver, from code
//! ([`FakeReceivers::press_button`]) or over HTTP
//! (`POST /press?data=ack:…&username=…`, for a person trying the demo).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::sync::Notify;

/// What the fake does with the next request of a channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429, asking to wait this many seconds.
    TooManyRequests { retry_after: u64 },
    /// 500.
    ServerError,
}

/// One request a fake received.
#[derive(Debug, Clone)]
pub struct Received {
    /// `slack`, `telegram`, `telegram_answer` or `webhook`.
    pub channel: String,
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub raw: String,
    pub body: Value,
    pub at: Instant,
}

#[derive(Default)]
struct Shared {
    received: Mutex<Vec<Received>>,
    faults: Mutex<Vec<(String, VecDeque<Fault>)>>,
    updates: Mutex<Vec<Value>>,
    next_update: Mutex<i64>,
    arrived: Notify,
    /// `getUpdates` calls under way, answered so far, and refused with 409
    /// because another was under way (Telegram allows one poller per bot).
    polls_active: Mutex<u32>,
    polls: Mutex<u32>,
    poll_conflicts: Mutex<u32>,
}

impl Shared {
    fn take_fault(&self, channel: &str) -> Option<Fault> {
        let mut faults = self.faults.lock().expect("fake lock");
        faults
            .iter_mut()
            .find(|(c, _)| c == channel)
            .and_then(|(_, q)| q.pop_front())
    }

    fn record(&self, channel: &str, path: String, headers: &HeaderMap, raw: String) {
        let body = serde_json::from_str(&raw).unwrap_or(Value::Null);
        let headers = headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        self.received.lock().expect("fake lock").push(Received {
            channel: channel.into(),
            path,
            headers,
            raw,
            body,
            at: Instant::now(),
        });
        self.arrived.notify_waiters();
    }
}

/// Read access to what a [`FakeReceivers`] recorded.
#[derive(Clone)]
pub struct ReceivedLog(Arc<Shared>);

impl ReceivedLog {
    /// Everything received so far on any channel, oldest first.
    pub fn received_all(&self) -> Vec<Received> {
        self.0.received.lock().expect("fake lock").clone()
    }
}

/// The fake Slack / Telegram / webhook server.
pub struct FakeReceivers {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeReceivers {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeReceivers {
    /// Starts on a free loopback port.
    pub async fn start() -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let app = Router::new()
            .route("/slack/{*rest}", post(slack))
            .route("/telegram/{bot}/{method}", post(telegram))
            .route("/hook", post(hook))
            .route("/press", post(press))
            .with_state(shared.clone());
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let base_url = format!("http://{}", listener.local_addr()?);
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(FakeReceivers {
            base_url,
            shared,
            server,
        })
    }

    pub fn slack_url(&self) -> String {
        format!("{}/slack/T000/B000/XXXX", self.base_url)
    }

    pub fn telegram_base_url(&self) -> String {
        format!("{}/telegram", self.base_url)
    }

    pub fn webhook_url(&self) -> String {
        format!("{}/hook", self.base_url)
    }

    /// Where `POST ?data=…&username=…` presses an inline button.
    pub fn press_url(&self) -> String {
        format!("{}/press", self.base_url)
    }

    /// Answers the next requests of `channel` (`slack`, `telegram`,
    /// `webhook`) with these faults, in order.
    pub fn fail_next(&self, channel: &str, faults: &[Fault]) {
        let mut all = self.shared.faults.lock().expect("fake lock");
        match all.iter_mut().find(|(c, _)| c == channel) {
            Some((_, q)) => q.extend(faults.iter().copied()),
            None => all.push((channel.into(), faults.iter().copied().collect())),
        }
    }

    /// A handle to what this server records, usable after it is moved
    /// (e.g. by a task that prints what arrives).
    pub fn clone_handle(&self) -> ReceivedLog {
        ReceivedLog(self.shared.clone())
    }

    /// Everything received so far on `channel`, oldest first.
    pub fn received(&self, channel: &str) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .expect("fake lock")
            .iter()
            .filter(|r| r.channel == channel)
            .cloned()
            .collect()
    }

    /// Waits until `channel` has received at least `n` requests.
    pub async fn wait_for(&self, channel: &str, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let notified = self.shared.arrived.notified();
            let got = self.received(channel);
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            let _ = tokio::time::timeout(deadline - Instant::now(), notified).await;
        }
    }

    /// `getUpdates` calls answered (200), and those refused with 409
    /// Conflict because another poll was under way.
    pub fn polls(&self) -> (u32, u32) {
        (
            *self.shared.polls.lock().expect("fake lock"),
            *self.shared.poll_conflicts.lock().expect("fake lock"),
        )
    }

    /// Queues a press of an inline button with `data`, by `username`
    /// (Telegram user 42), in the chat the last message was sent to, for
    /// the next `getUpdates`.
    pub fn press_button(&self, data: &str, username: &str) {
        let chat = self.shared.last_chat();
        self.shared.press(data, username, 42, chat);
    }

    /// Queues a press by Telegram user `user_id` in chat `chat` (e.g. a
    /// button forwarded to another chat).
    pub fn press_button_in(&self, data: &str, username: &str, user_id: i64, chat: i64) {
        self.shared.press(
            data,
            username,
            user_id,
            json!({"id": chat, "type": "group"}),
        );
    }
}

impl Shared {
    /// The `chat` of the last `sendMessage`, as a press on that message
    /// carries it: `{"id": …}` for a numeric id, `{"username": …}` for an
    /// `@channel`.
    fn last_chat(&self) -> Value {
        let received = self.received.lock().expect("fake lock");
        let sent = received
            .iter()
            .rev()
            .find(|r| r.channel == "telegram")
            .map(|r| r.body["chat_id"].clone())
            .unwrap_or(Value::Null);
        let text = match &sent {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        match (text.parse::<i64>(), text.strip_prefix('@')) {
            (Ok(id), _) => json!({"id": id, "type": "group"}),
            (_, Some(name)) => json!({"id": -1, "type": "channel", "username": name}),
            _ => json!({"id": 0, "type": "private"}),
        }
    }

    fn press(&self, data: &str, username: &str, user_id: i64, chat: Value) {
        let mut next = self.next_update.lock().expect("fake lock");
        *next += 1;
        let id = *next;
        self.updates.lock().expect("fake lock").push(json!({
            "update_id": 1000 + id,
            "callback_query": {
                "id": format!("cq{id}"),
                "from": {"id": user_id, "is_bot": false, "first_name": "Owner", "username": username},
                "message": {"message_id": id, "chat": chat},
                "data": data,
            }
        }));
        self.arrived.notify_waiters();
    }
}

#[derive(serde::Deserialize)]
struct PressQuery {
    data: String,
    username: Option<String>,
}

/// `POST /press?data=ack:…`: the button press `getUpdates` delivers next.
async fn press(State(s): State<Arc<Shared>>, Query(q): Query<PressQuery>) -> StatusCode {
    let chat = s.last_chat();
    s.press(
        &q.data,
        q.username.as_deref().unwrap_or("demo_owner"),
        42,
        chat,
    );
    StatusCode::NO_CONTENT
}

async fn slack(
    State(s): State<Arc<Shared>>,
    Path(rest): Path<String>,
    headers: HeaderMap,
    raw: String,
) -> Response {
    s.record("slack", format!("/slack/{rest}"), &headers, raw);
    match s.take_fault("slack") {
        Some(Fault::TooManyRequests { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("Retry-After", retry_after.to_string())],
            "rate_limited",
        )
            .into_response(),
        Some(Fault::ServerError) => (StatusCode::INTERNAL_SERVER_ERROR, "oops").into_response(),
        None => (StatusCode::OK, "ok").into_response(),
    }
}

async fn hook(State(s): State<Arc<Shared>>, headers: HeaderMap, raw: String) -> Response {
    s.record("webhook", "/hook".into(), &headers, raw);
    match s.take_fault("webhook") {
        Some(Fault::TooManyRequests { retry_after }) => (
            StatusCode::TOO_MANY_REQUESTS,
            [("Retry-After", retry_after.to_string())],
        )
            .into_response(),
        Some(Fault::ServerError) => StatusCode::BAD_GATEWAY.into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    }
}

async fn telegram(
    State(s): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    raw: String,
) -> Response {
    if !bot.starts_with("bot") {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"ok": false, "error_code": 404, "description": "Not Found"})),
        )
            .into_response();
    }
    let path = format!("/telegram/{bot}/{method}");
    match method.as_str() {
        "sendMessage" => {
            s.record("telegram", path, &headers, raw);
            match s.take_fault("telegram") {
                Some(Fault::TooManyRequests { retry_after }) => (
                    StatusCode::TOO_MANY_REQUESTS,
                    Json(json!({"ok": false, "error_code": 429,
                        "description": format!("Too Many Requests: retry after {retry_after}"),
                        "parameters": {"retry_after": retry_after}})),
                )
                    .into_response(),
                Some(Fault::ServerError) => (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    Json(json!({"ok": false, "error_code": 500, "description": "Internal Server Error"})),
                )
                    .into_response(),
                None => {
                    let n = s.received.lock().expect("fake lock").len();
                    Json(json!({"ok": true, "result": {"message_id": n, "date": 0, "chat": {"id": 0, "type": "private"}}})).into_response()
                }
            }
        }
        "getUpdates" => {
            {
                let mut active = s.polls_active.lock().expect("fake lock");
                if *active > 0 {
                    *s.poll_conflicts.lock().expect("fake lock") += 1;
                    return (
                        StatusCode::CONFLICT,
                        Json(json!({"ok": false, "error_code": 409,
                            "description": "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running"})),
                    )
                        .into_response();
                }
                *active += 1;
            }
            let _guard = PollGuard(&s);
            *s.polls.lock().expect("fake lock") += 1;
            let body: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
            let offset = body["offset"].as_i64().unwrap_or(0);
            // Long poll, capped at 2 s so tests and shutdown stay quick.
            let wait = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(2));
            let deadline = Instant::now() + wait;
            loop {
                let notified = s.arrived.notified();
                let ready: Vec<Value> = {
                    let mut updates = s.updates.lock().expect("fake lock");
                    updates.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
                    updates.clone()
                };
                if !ready.is_empty() || Instant::now() >= deadline {
                    return Json(json!({"ok": true, "result": ready})).into_response();
                }
                let _ = tokio::time::timeout(deadline - Instant::now(), notified).await;
            }
        }
        "answerCallbackQuery" => {
            s.record("telegram_answer", path, &headers, raw);
            Json(json!({"ok": true, "result": true})).into_response()
        }
        _ => (StatusCode::NOT_FOUND, Json(json!({"ok": false, "error_code": 404, "description": "Not Found: method not found"}))).into_response(),
    }
}

/// Ends a `getUpdates` call however its handler exits.
struct PollGuard<'a>(&'a Shared);

impl Drop for PollGuard<'_> {
    fn drop(&mut self) {
        *self.0.polls_active.lock().expect("fake lock") -= 1;
    }
}

/// How the fake SMTP relay protects its sessions.
#[derive(Clone)]
pub enum FakeSmtpTls {
    /// Plain text throughout (STARTTLS not offered).
    Plain,
    /// Offers STARTTLS with this server configuration.
    StartTls(tokio_rustls::TlsAcceptor),
    /// TLS from the first byte.
    Implicit(tokio_rustls::TlsAcceptor),
}

impl FakeSmtpTls {
    /// A TLS server configuration from a DER certificate and its PKCS#8
    /// DER key (tests keep a self-signed one for `localhost`).
    pub fn acceptor(cert_der: &[u8], key_der: &[u8]) -> tokio_rustls::TlsAcceptor {
        use tokio_rustls::rustls;
        use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_no_client_auth()
            .with_single_cert(
                vec![CertificateDer::from(cert_der.to_vec())],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_der.to_vec())),
            )
            .expect("a usable test certificate and key");
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    }
}

/// One message the fake relay accepted.
#[derive(Debug, Clone)]
pub struct SmtpMessage {
    /// The DATA section (CRLF line ends kept).
    pub data: String,
    /// Whether the session was under TLS when the message came.
    pub secured: bool,
    /// The AUTH PLAIN user, when the client authenticated.
    pub user: Option<String>,
}

trait SmtpIo: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send {}
impl<T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send> SmtpIo for T {}

/// A fake SMTP relay: accepts EHLO, STARTTLS (when so started), AUTH
/// PLAIN, MAIL, RCPT, DATA, QUIT and records each message.
pub struct FakeSmtp {
    pub port: u16,
    messages: Arc<Mutex<Vec<SmtpMessage>>>,
    /// Next MAIL FROM answers this code instead of 250 (e.g. 451, 550).
    reject_next: Arc<Mutex<VecDeque<u16>>>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for FakeSmtp {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl FakeSmtp {
    /// A plain-text relay on a loopback port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_with(FakeSmtpTls::Plain).await
    }

    pub async fn start_with(tls: FakeSmtpTls) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        let messages = Arc::new(Mutex::new(Vec::new()));
        let reject_next = Arc::new(Mutex::new(VecDeque::new()));
        let (m, r) = (messages.clone(), reject_next.clone());
        let server = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (m, r, tls) = (m.clone(), r.clone(), tls.clone());
                tokio::spawn(async move {
                    let _ = smtp_session(stream, tls, m, r).await;
                });
            }
        });
        Ok(FakeSmtp {
            port,
            messages,
            reject_next,
            server,
        })
    }

    /// The DATA sections received, oldest first (CRLF line ends kept).
    pub fn messages(&self) -> Vec<String> {
        self.received().into_iter().map(|m| m.data).collect()
    }

    /// Every message with how it came.
    pub fn received(&self) -> Vec<SmtpMessage> {
        self.messages.lock().expect("fake lock").clone()
    }

    pub fn reject_next_mail(&self, code: u16) {
        self.reject_next.lock().expect("fake lock").push_back(code);
    }

    /// A handle that reads what arrived while the relay keeps running.
    pub fn clone_handle(&self) -> SmtpLog {
        SmtpLog(self.messages.clone())
    }
}

/// What a [`FakeSmtp`] received, readable from another task.
#[derive(Clone)]
pub struct SmtpLog(Arc<Mutex<Vec<SmtpMessage>>>);

impl SmtpLog {
    pub fn received(&self) -> Vec<SmtpMessage> {
        self.0.lock().expect("fake lock").clone()
    }
}

impl SmtpMessage {
    /// The `Subject:` header, unfolded and decoded from its RFC 2047
    /// `=?utf-8?b?…?=` words (any case, mixed with plain words).
    pub fn subject(&self) -> String {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut raw = String::new();
        let mut in_subject = false;
        for line in head.split("\r\n") {
            if let Some(value) = line.strip_prefix("Subject: ") {
                raw.push_str(value);
                in_subject = true;
            } else if in_subject && line.starts_with([' ', '\t']) {
                raw.push_str(line);
            } else if in_subject {
                break;
            }
        }
        decode_header(&raw)
    }
}

/// An unfolded header value with its RFC 2047 base64 words decoded: the
/// space between two encoded words is dropped, the one around a plain word
/// kept (RFC 2047 section 6.2).
pub fn decode_header(raw: &str) -> String {
    use base64::Engine;
    let mut bytes = Vec::new();
    let mut last_encoded = None;
    for word in raw.split_whitespace() {
        let lower = word.to_ascii_lowercase();
        let decoded = (lower.starts_with("=?utf-8?b?") && word.ends_with("?=") && word.len() > 12)
            .then(|| {
                base64::engine::general_purpose::STANDARD
                    .decode(&word["=?utf-8?b?".len()..word.len() - 2])
                    .ok()
            })
            .flatten();
        let encoded = decoded.is_some();
        if last_encoded.is_some() && !(encoded && last_encoded == Some(true)) {
            bytes.push(b' ');
        }
        match decoded {
            Some(b) => bytes.extend(b),
            None => bytes.extend(word.as_bytes()),
        }
        last_encoded = Some(encoded);
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

async fn smtp_session(
    stream: tokio::net::TcpStream,
    tls: FakeSmtpTls,
    messages: Arc<Mutex<Vec<SmtpMessage>>>,
    reject: Arc<Mutex<VecDeque<u16>>>,
) -> std::io::Result<()> {
    let (mut io, mut secured, mut upgrade): (Box<dyn SmtpIo>, bool, _) = match tls {
        FakeSmtpTls::Plain => (Box::new(stream), false, None),
        FakeSmtpTls::StartTls(a) => (Box::new(stream), false, Some(a)),
        FakeSmtpTls::Implicit(a) => (Box::new(a.accept(stream).await?), true, None),
    };
    let mut user = None;
    let mut greet = true;
    'session: loop {
        let (r, mut w) = tokio::io::split(io);
        let mut lines = BufReader::new(r);
        if greet {
            w.write_all(b"220 fake.smtp ESMTP\r\n").await?;
            greet = false;
        }
        loop {
            let mut line = String::new();
            if lines.read_line(&mut line).await? == 0 {
                return Ok(());
            }
            let upper = line.to_ascii_uppercase();
            let reply: String = if upper.starts_with("EHLO") {
                if upgrade.is_some() {
                    "250-fake.smtp\r\n250-STARTTLS\r\n250 AUTH PLAIN\r\n".into()
                } else {
                    "250-fake.smtp\r\n250 AUTH PLAIN\r\n".into()
                }
            } else if upper.starts_with("STARTTLS") && upgrade.is_some() {
                w.write_all(b"220 2.0.0 ready to start TLS\r\n").await?;
                w.flush().await?;
                let acceptor = upgrade.take().expect("checked");
                let plain = lines.into_inner().unsplit(w);
                io = Box::new(acceptor.accept(plain).await?);
                secured = true;
                continue 'session;
            } else if upper.starts_with("AUTH PLAIN") {
                use base64::Engine;
                let token = line.trim_end()["AUTH PLAIN ".len()..].to_string();
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(token)
                    .unwrap_or_default();
                user = String::from_utf8_lossy(&decoded)
                    .split('\0')
                    .nth(1)
                    .map(str::to_string);
                "235 2.7.0 ok\r\n".into()
            } else if upper.starts_with("MAIL FROM") {
                match reject.lock().expect("fake lock").pop_front() {
                    Some(code) => format!("{code} not now\r\n"),
                    None => "250 ok\r\n".into(),
                }
            } else if upper.starts_with("RCPT TO") {
                "250 ok\r\n".into()
            } else if upper.starts_with("DATA") {
                w.write_all(b"354 go ahead\r\n").await?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if lines.read_line(&mut l).await? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    data.push_str(&l);
                }
                messages.lock().expect("fake lock").push(SmtpMessage {
                    data,
                    secured,
                    user: user.clone(),
                });
                "250 queued\r\n".into()
            } else if upper.starts_with("QUIT") {
                w.write_all(b"221 bye\r\n").await?;
                w.flush().await?;
                return Ok(());
            } else {
                "500 unknown command\r\n".into()
            };
            w.write_all(reply.as_bytes()).await?;
            w.flush().await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A person trying the demo presses Acknowledge with an HTTP POST; the
    /// bot's next `getUpdates` delivers it as Telegram would.
    #[tokio::test]
    async fn a_press_over_http_reaches_get_updates() {
        let fake = FakeReceivers::start().await.unwrap();
        let client = reqwest::Client::new();
        let pressed = client
            .post(fake.press_url())
            .query(&[("data", "ack:A1"), ("username", "owner")])
            .send()
            .await
            .unwrap();
        assert_eq!(pressed.status(), 204);
        let updates: Value = client
            .post(format!("{}/botT/getUpdates", fake.telegram_base_url()))
            .json(&json!({"offset": 0, "timeout": 0}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let query = &updates["result"][0]["callback_query"];
        assert_eq!(query["data"], "ack:A1", "{updates}");
        assert_eq!(query["from"]["username"], "owner");
        let no_data = client.post(fake.press_url()).send().await.unwrap();
        assert_eq!(no_data.status(), 400);
    }
}
