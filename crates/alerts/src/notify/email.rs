//! Email over SMTP, with a small hand-written client.
//!
//! Why not `lettre`: it is not in this workspace's dependency tree and
//! would add its own address parser, MIME builder and TLS glue for what is,
//! here, one plain-text message per alert. This client speaks the part of
//! RFC 5321 a relay needs: EHLO, STARTTLS (RFC 3207), optional AUTH PLAIN,
//! MAIL FROM, RCPT TO, DATA (dot-stuffed, CRLF), QUIT.
//!
//! TLS is rustls through `tokio-rustls` (the versions reqwest already
//! builds), trusting the Mozilla roots of `webpki-roots` plus any
//! certificates the configuration adds for a private relay:
//! - [`SmtpSecurity::StartTls`] (port 587): plain greeting, then STARTTLS;
//!   a server that does not offer it is refused, never spoken to in clear;
//! - [`SmtpSecurity::Tls`] (port 465): TLS from the first byte;
//! - [`SmtpSecurity::None`]: plain text, to a loopback relay only (one on
//!   the same machine that forwards with TLS), so neither the message nor
//!   a password crosses a network in clear.
//!
//! 4xx replies and network failures are retried, 5xx refused.

use super::{Channel, Notifier, SendOutcome};
use async_trait::async_trait;
use base64::Engine;
use opsdeck_domain::Secret;
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::io::{ReadHalf, WriteHalf};
use tokio::net::TcpStream;
use tokio_rustls::rustls;
pub use tokio_rustls::rustls::pki_types::CertificateDer;

/// How the connection to the relay is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connect, then upgrade with STARTTLS (required).
    StartTls,
    /// TLS from the start ("SMTPS").
    Tls,
    /// No TLS: loopback relays only.
    None,
}

impl SmtpSecurity {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "starttls" => Some(SmtpSecurity::StartTls),
            "tls" => Some(SmtpSecurity::Tls),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        }
    }

    /// The usual port: 587 for STARTTLS, 465 for TLS, 25 otherwise.
    pub fn default_port(self) -> u16 {
        match self {
            SmtpSecurity::StartTls => 587,
            SmtpSecurity::Tls => 465,
            SmtpSecurity::None => 25,
        }
    }
}

/// Whether `host` names this machine (`localhost` or a loopback address).
pub fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    bare.eq_ignore_ascii_case("localhost")
        || bare
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// Certificates in a PEM text (a private relay's CA), for
/// [`SmtpConfig::extra_roots`].
pub fn certificates_from_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>, String> {
    use rustls::pki_types::pem::PemObject;
    let certs = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("not PEM certificates: {e}"))?;
    if certs.is_empty() {
        return Err("no \"BEGIN CERTIFICATE\" block found".into());
    }
    Ok(certs)
}

#[derive(Clone)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub from: String,
    pub to: Vec<String>,
    /// (user, password) for AUTH PLAIN; loopback relays only.
    pub auth: Option<(String, Secret)>,
    pub timeout: Duration,
    pub security: SmtpSecurity,
    /// Trusted besides the public roots (a private relay's CA).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

pub struct EmailNotifier {
    config: SmtpConfig,
    tls: tokio_rustls::TlsConnector,
}

impl EmailNotifier {
    pub fn new(config: SmtpConfig) -> Self {
        let mut roots = rustls::RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        for cert in &config.extra_roots {
            if let Err(e) = roots.add(cert.clone()) {
                tracing::warn!(error = %e, "SMTP: an extra root certificate was unusable");
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        EmailNotifier {
            config,
            tls: tokio_rustls::TlsConnector::from(Arc::new(tls)),
        }
    }
}

/// A plain TCP or TLS connection.
trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

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

fn refused(error: impl Into<String>) -> SmtpFailure {
    SmtpFailure {
        retry: false,
        error: error.into(),
    }
}

struct Conversation {
    reader: BufReader<ReadHalf<Box<dyn Io>>>,
    writer: WriteHalf<Box<dyn Io>>,
}

impl Conversation {
    fn new(io: Box<dyn Io>) -> Self {
        let (r, w) = tokio::io::split(io);
        Conversation {
            reader: BufReader::new(r),
            writer: w,
        }
    }

    /// The connection back, for the TLS handshake after STARTTLS. Bytes
    /// the server sent ahead of the handshake would be read as if they
    /// came over TLS (the STARTTLS injection attack): refused.
    fn into_io(self) -> Result<Box<dyn Io>, SmtpFailure> {
        if !self.reader.buffer().is_empty() {
            return Err(refused("SMTP: data after the STARTTLS reply"));
        }
        Ok(self.reader.into_inner().unsplit(self.writer))
    }

    /// Reads one (possibly multi-line) reply, checks its code class and
    /// returns its lines' texts (after the code).
    async fn expect(&mut self, ok: u16, step: &str) -> Result<Vec<String>, SmtpFailure> {
        let mut last;
        let mut texts = Vec::new();
        loop {
            let mut line = String::new();
            if self.reader.read_line(&mut line).await.map_err(net)? == 0 {
                return Err(net(format!("connection closed during {step}")));
            }
            last = line.trim_end().to_string();
            texts.push(last.get(4..).unwrap_or_default().to_string());
            // "250-..." continues, "250 ..." ends.
            if last.len() < 4 || last.as_bytes()[3] != b'-' {
                break;
            }
        }
        let code: u16 = last.get(..3).and_then(|c| c.parse().ok()).unwrap_or(0);
        if code / 100 == ok / 100 {
            Ok(texts)
        } else {
            Err(SmtpFailure {
                retry: code / 100 == 4 || code == 0,
                error: format!("SMTP {step}: {last}"),
            })
        }
    }

    async fn command(
        &mut self,
        line: &str,
        ok: u16,
        step: &str,
    ) -> Result<Vec<String>, SmtpFailure> {
        self.writer
            .write_all(format!("{line}\r\n").as_bytes())
            .await
            .map_err(net)?;
        self.writer.flush().await.map_err(net)?;
        self.expect(ok, step).await
    }
}

/// Bytes of text per RFC 2047 encoded word: 45 bytes make 60 base64
/// characters, 72 with `=?UTF-8?B?…?=`, within the 75 the RFC allows.
const ENCODED_WORD_BYTES: usize = 45;
/// SMTP refuses a line over 998 octets (RFC 5321 4.5.3.1.6); body lines are
/// wrapped well before.
const MAX_BODY_LINE: usize = 990;

/// Encodes a header value as RFC 2047 when it is not plain ASCII: one
/// encoded word per at most 45 bytes (never splitting a character), folded
/// onto continuation lines, so no word exceeds 75 characters.
fn header_value(s: &str) -> String {
    let s = s.replace(['\r', '\n'], " ");
    if s.is_ascii() {
        return s;
    }
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in s.chars() {
        if chunk.len() + c.len_utf8() > ENCODED_WORD_BYTES {
            words.push(std::mem::take(&mut chunk));
        }
        chunk.push(c);
    }
    words.push(chunk);
    words
        .iter()
        .map(|w| {
            let b64 = base64::engine::general_purpose::STANDARD.encode(w.as_bytes());
            format!("=?UTF-8?B?{b64}?=")
        })
        .collect::<Vec<_>>()
        .join("\r\n ")
}

/// `line` cut into pieces of at most [`MAX_BODY_LINE`] bytes, at a space
/// when there is one in the second half, never inside a character.
fn wrap_line(line: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut rest = line;
    while rest.len() > MAX_BODY_LINE {
        let mut cut = MAX_BODY_LINE;
        while !rest.is_char_boundary(cut) {
            cut -= 1;
        }
        if let Some(space) = rest[..cut].rfind(' ').filter(|&i| i > cut / 2) {
            cut = space + 1;
        }
        pieces.push(&rest[..cut]);
        rest = &rest[cut..];
    }
    pieces.push(rest);
    pieces
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
    let text = text.replace("\r\n", "\n");
    for line in text.split('\n').flat_map(wrap_line) {
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
    async fn tls(&self, io: Box<dyn Io>) -> Result<Box<dyn Io>, SmtpFailure> {
        let name = rustls::pki_types::ServerName::try_from(self.config.host.clone())
            .map_err(|_| refused(format!("SMTP: {:?} is not a host name", self.config.host)))?;
        let stream = self
            .tls
            .connect(name, io)
            .await
            .map_err(|e| net(format!("TLS: {e}")))?;
        Ok(Box::new(stream))
    }

    /// Connects, greets and secures the session as configured; returns it
    /// after the (last) EHLO.
    async fn open(&self) -> Result<Conversation, SmtpFailure> {
        let c = &self.config;
        if c.security == SmtpSecurity::None && !is_loopback(&c.host) {
            return Err(refused(
                "SMTP: plain text (security = \"none\") is only for a loopback relay",
            ));
        }
        let tcp = TcpStream::connect((c.host.as_str(), c.port))
            .await
            .map_err(net)?;
        let _ = tcp.set_nodelay(true);
        let mut io: Box<dyn Io> = Box::new(tcp);
        if c.security == SmtpSecurity::Tls {
            io = self.tls(io).await?;
        }
        let mut s = Conversation::new(io);
        s.expect(220, "greeting").await?;
        let offers = s.command("EHLO opsdeck", 250, "EHLO").await?;
        if c.security != SmtpSecurity::StartTls {
            return Ok(s);
        }
        if !offers.iter().any(|o| o.eq_ignore_ascii_case("STARTTLS")) {
            return Err(refused("SMTP: the server does not offer STARTTLS"));
        }
        s.command("STARTTLS", 220, "STARTTLS").await?;
        let mut s = Conversation::new(self.tls(s.into_io()?).await?);
        s.command("EHLO opsdeck", 250, "EHLO").await?;
        Ok(s)
    }

    async fn converse(&self, subject: &str, text: &str) -> Result<(), SmtpFailure> {
        let c = &self.config;
        let mut s = self.open().await?;
        if let Some((user, password)) = &c.auth {
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
        s.writer.flush().await.map_err(net)?;
        s.expect(250, "end of DATA").await?;
        let _ = s.command("QUIT", 221, "QUIT").await;
        let _ = s.writer.shutdown().await;
        Ok(())
    }
}

#[async_trait]
impl Notifier for EmailNotifier {
    fn kind(&self) -> Channel {
        Channel::Email
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

#[cfg(test)]
#[path = "email_tests.rs"]
mod tests;
