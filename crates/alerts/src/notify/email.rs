//! Email over SMTP, through `lettre`.
//!
//! `lettre` speaks the conversation (EHLO, STARTTLS, AUTH, MAIL, RCPT,
//! DATA with dot-stuffing, QUIT) and builds the message: RFC 2047 encoded
//! words for a non-ASCII subject, a transfer encoding that keeps every body
//! line within what relays accept, and multipart bodies for attachments (a
//! scheduled report's file). This module keeps opsdeck's rules around it:
//!
//! TLS is rustls with ring (the stack reqwest already builds), trusting the
//! Mozilla roots of `webpki-roots` plus any certificates the configuration
//! adds for a private relay:
//! - [`SmtpSecurity::StartTls`] (port 587): plain greeting, then STARTTLS;
//!   a server that does not offer it is refused, never spoken to in clear;
//! - [`SmtpSecurity::Tls`] (port 465): TLS from the first byte;
//! - [`SmtpSecurity::None`]: plain text, to a loopback relay only (one on
//!   the same machine that forwards with TLS), so neither the message nor
//!   a password crosses a network in clear.
//!
//! 4xx replies, network and TLS failures and timeouts are retried; 5xx
//! replies and what the client itself refuses (no STARTTLS, an address
//! that does not parse) are refused for good.

use super::{Channel, Notifier, SendOutcome};
use async_trait::async_trait;
use lettre::message::header::ContentType;
use lettre::message::{Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{Certificate, CertificateStore, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use opsdeck_domain::Secret;
use serde_json::Value;
use std::time::Duration;
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
    /// Who an alert goes to; a report names its own recipients
    /// ([`Mail::to`]).
    pub to: Vec<String>,
    /// (user, password) for AUTH PLAIN.
    pub auth: Option<(String, Secret)>,
    /// For the whole conversation, and for each reply within it.
    pub timeout: Duration,
    pub security: SmtpSecurity,
    /// Trusted besides the public roots (a private relay's CA).
    pub extra_roots: Vec<CertificateDer<'static>>,
}

/// A file sent with a message (a scheduled report's CSV or PDF).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The name the recipient sees (`daily-2026-12-07.csv`).
    pub filename: String,
    /// Its MIME type (`text/csv; charset=utf-8`).
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// One message: plain text, optionally with files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    pub to: Vec<String>,
    pub subject: String,
    pub text: String,
    pub attachments: Vec<Attachment>,
}

pub struct EmailNotifier {
    config: SmtpConfig,
}

impl EmailNotifier {
    pub fn new(config: SmtpConfig) -> Self {
        EmailNotifier { config }
    }

    /// The configured alert recipients.
    pub fn recipients(&self) -> &[String] {
        &self.config.to
    }

    /// Sends one message (with its attachments) to its own recipients.
    #[tracing::instrument(name = "email_send", skip_all, fields(attachments = mail.attachments.len()))]
    pub async fn send_mail(&self, mail: &Mail) -> SendOutcome {
        let id = format!("{}", jiff::Timestamp::now().as_microsecond());
        let message = match message(&self.config.from, mail, &id) {
            Ok(message) => message,
            Err(error) => return SendOutcome::Refused { error },
        };
        let transport = match self.transport() {
            Ok(transport) => transport,
            Err(error) => return SendOutcome::Refused { error },
        };
        match tokio::time::timeout(self.config.timeout, transport.send(message)).await {
            Ok(Ok(_)) => SendOutcome::Delivered,
            Ok(Err(e)) => outcome_for_error(&e),
            Err(_) => SendOutcome::Retry {
                after: None,
                error: "SMTP: timed out".into(),
            },
        }
    }

    /// A transport for one conversation (no pool: a report or an alert is
    /// one message now and then, and a held connection would go stale).
    fn transport(&self) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
        let c = &self.config;
        let tls = match c.security {
            SmtpSecurity::None if !is_loopback(&c.host) => {
                return Err(
                    "SMTP: plain text (security = \"none\") is only for a loopback relay".into(),
                )
            }
            SmtpSecurity::None => Tls::None,
            SmtpSecurity::StartTls => Tls::Required(self.tls_parameters()?),
            SmtpSecurity::Tls => Tls::Wrapper(self.tls_parameters()?),
        };
        let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(c.host.as_str())
            .port(c.port)
            .hello_name(ClientId::Domain("opsdeck".into()))
            .timeout(Some(c.timeout))
            .tls(tls);
        if let Some((user, password)) = &c.auth {
            builder = builder
                .credentials(Credentials::new(
                    user.clone(),
                    password.expose().to_string(),
                ))
                .authentication(vec![Mechanism::Plain, Mechanism::Login]);
        }
        Ok(builder.build())
    }

    fn tls_parameters(&self) -> Result<TlsParameters, String> {
        let mut params = TlsParameters::builder(self.config.host.clone())
            .certificate_store(CertificateStore::WebpkiRoots);
        for cert in &self.config.extra_roots {
            match Certificate::from_der(cert.to_vec()) {
                Ok(cert) => params = params.add_root_certificate(cert),
                Err(e) => {
                    tracing::warn!(error = %e, "SMTP: an extra root certificate was unusable")
                }
            }
        }
        params
            .build_rustls()
            .map_err(|e| format!("SMTP TLS settings: {e}"))
    }
}

/// How a `lettre` error ends the attempt.
fn outcome_for_error(e: &lettre::transport::smtp::Error) -> SendOutcome {
    let text = e.to_string();
    if e.is_client() && text.contains("STARTTLS") {
        return SendOutcome::Refused {
            error: "SMTP: the server does not offer STARTTLS".into(),
        };
    }
    if e.is_permanent() || e.is_client() {
        return SendOutcome::Refused {
            error: format!("SMTP: {text}"),
        };
    }
    let error = if e.is_tls() || caused_by_tls(e) {
        format!("SMTP TLS: {text}")
    } else {
        format!("SMTP: {text}")
    };
    SendOutcome::Retry { after: None, error }
}

/// Whether a connection error came from TLS (`lettre` reports a refused
/// certificate as a connection error wrapping rustls's).
fn caused_by_tls(e: &lettre::transport::smtp::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(c) = cause {
        let inner = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .map(|inner| inner as &(dyn std::error::Error + 'static));
        if c.is::<rustls::Error>() || inner.is_some_and(|i| i.is::<rustls::Error>()) {
            return true;
        }
        cause = c.source();
    }
    false
}

fn mailbox(address: &str) -> Result<Mailbox, String> {
    address
        .parse()
        .map_err(|e| format!("SMTP: {address:?} is not an email address: {e}"))
}

/// The message: sender, recipients, subject and date headers, the text,
/// and each attachment as a part of its own.
pub(crate) fn message(from: &str, mail: &Mail, id: &str) -> Result<Message, String> {
    let mut builder = Message::builder()
        .from(mailbox(from)?)
        .subject(mail.subject.replace(['\r', '\n'], " "))
        .message_id(Some(format!("<{id}@opsdeck>")))
        .date_now();
    if mail.to.is_empty() {
        return Err("SMTP: no recipient".into());
    }
    for to in &mail.to {
        builder = builder.to(mailbox(to)?);
    }
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(mail.text.replace("\r\n", "\n"));
    let built = if mail.attachments.is_empty() {
        builder.singlepart(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(text);
        for file in &mail.attachments {
            let content_type = ContentType::parse(&file.content_type).map_err(|e| {
                format!(
                    "SMTP: attachment {:?} has no valid type {:?}: {e}",
                    file.filename, file.content_type
                )
            })?;
            parts = parts.singlepart(
                lettre::message::Attachment::new(file.filename.clone())
                    .body(file.bytes.clone(), content_type),
            );
        }
        builder.multipart(parts)
    };
    built.map_err(|e| format!("SMTP: the message could not be built: {e}"))
}

#[async_trait]
impl Notifier for EmailNotifier {
    fn kind(&self) -> Channel {
        Channel::Email
    }

    async fn send(&self, payload: &Value) -> SendOutcome {
        let mail = Mail {
            to: self.config.to.clone(),
            subject: payload["subject"]
                .as_str()
                .unwrap_or("opsdeck alert")
                .to_string(),
            text: payload["text"].as_str().unwrap_or_default().to_string(),
            attachments: Vec::new(),
        };
        self.send_mail(&mail).await
    }
}

#[cfg(test)]
#[path = "email_tests.rs"]
mod tests;
