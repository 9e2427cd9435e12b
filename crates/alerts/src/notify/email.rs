//! Email over SMTP, with a small hand-written client.
//!
//! Why not `lettre`: it is not in this workspace's dependency tree and
//! would add its own address parser, MIME builder and TLS glue for what is,
//! here, one plain-text message per alert. This client speaks the part of
//! RFC 5321 a relay needs: EHLO, optional AUTH PLAIN, MAIL FROM, RCPT TO,
//! DATA (dot-stuffed, CRLF), QUIT. It does not speak TLS: point it at a
//! local relay (postfix, msmtpd, a provider's relay on a private network)
//! that forwards with TLS; AUTH is refused over it unless the host is a
//! loopback address, so a password never crosses a network in clear.
//! 4xx replies are retried, 5xx refused.

use super::{Notifier, SendOutcome};
use async_trait::async_trait;
use base64::Engine;
use opsdeck_domain::Secret;
use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub to: Vec<String>,
    /// (user, password) for AUTH PLAIN; loopback relays only.
    pub auth: Option<(String, Secret)>,
    pub timeout: Duration,
}

pub struct EmailNotifier {
    config: SmtpConfig,
}

impl EmailNotifier {
    pub fn new(config: SmtpConfig) -> Self {
        EmailNotifier { config }
    }
}

/// A failed conversation: retryable (4xx, network) or not (5xx).
struct SmtpFailure {
    retry: bool,
    error: String,
}

fn net(e: impl std::fmt::Display) -> SmtpFailure {
    SmtpFailure {
        retry: true,
        error: format!("SMTP: {e}"),
    }
}

struct Conversation {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Conversation {
    /// Reads one (possibly multi-line) reply and checks its code class.
    async fn expect(&mut self, ok: u16, step: &str) -> Result<(), SmtpFailure> {
        let mut last;
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await.map_err(net)? == 0 {
                return Err(net(format!("connection closed during {step}")));
            }
            last = line.trim_end().to_string();
            // "250-..." continues, "250 ..." ends.
            if last.len() < 4 || last.as_bytes()[3] != b'-' {
                break;
            }
        }
        let code: u16 = last.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        if code / 100 == ok / 100 {
            Ok(())
        } else {
            Err(SmtpFailure {
                retry: code / 100 == 4 || code == 0,
                error: format!("SMTP {step}: {last}"),
            })
        }
    }

    async fn command(&mut self, line: &str, ok: u16, step: &str) -> Result<(), SmtpFailure> {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(net)?;
        self.expect(ok, step).await
    }
}

/// Encodes a header value as RFC 2047 when it is not plain ASCII.
fn header_value(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ");
    if s.is_ascii() {
        s
    } else {
        let b64 = base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
        format!("=?UTF-8?B?{b64}?=")
    }
}

/// The DATA section: headers, blank line, dot-stuffed CRLF body, final dot.
pub(crate) fn message(config: &SmtpConfig, subject: &str, text: &str, id: &str) -> String {
    let mut out = format!(
        "From: {}\r\nTo: {}\r\nSubject: {}\r\nDate: {}\r\nMessage-ID: <{id}@opsdeck>\r\n\
         MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\
         Content-Transfer-Encoding: 8bit\r\n\r\n",
        config.from,
        config.to.join(", "),
        header_value(subject),
        jiff::fmt::rfc2822::to_string(&jiff::Zoned::now().with_time_zone(jiff::tz::TimeZone::UTC))
            .unwrap_or_default(),
    );
    for line in text.replace("\r\n", "\n").split('\n') {
        if line.starts_with('.') {
            out.push('.');
        }
        out.push_str(line);
        out.push_str("\r\n");
    }
    out.push_str(".\r\n");
    out
}

impl EmailNotifier {
    async fn converse(&self, subject: &str, text: &str) -> Result<(), SmtpFailure> {
        let c = &self.config;
        let stream = TcpStream::connect((c.host.as_str(), c.port))
            .await
            .map_err(net)?;
        let (r, w) = stream.into_split();
        let mut s = Conversation {
            reader: BufReader::new(r),
            writer: w,
        };
        s.expect(220, "greeting").await?;
        s.command("EHLO opsdeck", 250, "EHLO").await?;
        if let Some((user, password)) = &c.auth {
            let loopback = matches!(c.host.as_str(), "localhost" | "127.0.0.1" | "::1");
            if !loopback {
                return Err(SmtpFailure {
                    retry: false,
                    error: "SMTP: AUTH refused without TLS to a non-loopback host".into(),
                });
            }
            let token = base64::engine::general_purpose::STANDARD
                .encode(format!("\0{user}\0{}", password.expose()));
            s.command(&format!("AUTH PLAIN {token}"), 235, "AUTH")
                .await?;
        }
        s.command(&format!("MAIL FROM:<{}>", c.from), 250, "MAIL FROM")
            .await?;
        for to in &c.to {
            s.command(&format!("RCPT TO:<{to}>"), 250, "RCPT TO")
                .await?;
        }
        s.command("DATA", 354, "DATA").await?;
        let id = format!("{}", jiff::Timestamp::now().as_microsecond());
        s.writer
            .write_all(message(c, subject, text, &id).as_bytes())
            .await
            .map_err(net)?;
        s.expect(250, "end of DATA").await?;
        let _ = s.command("QUIT", 221, "QUIT").await;
        Ok(())
    }
}

#[async_trait]
impl Notifier for EmailNotifier {
    fn kind(&self) -> &'static str {
        "email"
    }

    #[tracing::instrument(name = "email_send", skip_all)]
    async fn send(&self, payload: &Value) -> SendOutcome {
        let subject = payload["subject"].as_str().unwrap_or("opsdeck alert");
        let text = payload["text"].as_str().unwrap_or_default();
        match tokio::time::timeout(self.config.timeout, self.converse(subject, text)).await {
            Ok(Ok(())) => SendOutcome::Delivered,
            Ok(Err(f)) if f.retry => SendOutcome::Retry {
                after: None,
                error: f.error,
            },
            Ok(Err(f)) => SendOutcome::Refused { error: f.error },
            Err(_) => SendOutcome::Retry {
                after: None,
                error: "SMTP: timed out".into(),
            },
        }
    }
}
