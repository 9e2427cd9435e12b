//! Email over SMTP with TLS against the fake relay: STARTTLS upgrades the
//! session before AUTH and the message, implicit TLS speaks TLS from the
//! first byte, a relay that does not offer STARTTLS is refused rather than
//! spoken to in clear, an untrusted certificate is never accepted, and
//! plain text goes to loopback only. The relay's certificate is a
//! self-signed one for `localhost` kept in `tests/fixtures/`.

use opsdeck_alerts::notify::email::{CertificateDer, EmailNotifier, SmtpConfig, SmtpSecurity};
use opsdeck_alerts::notify::{Notifier, SendOutcome};
use opsdeck_alerts::testing::{FakeSmtp, FakeSmtpTls};
use opsdeck_domain::Secret;
use serde_json::json;
use std::time::Duration;

const CERT: &[u8] = include_bytes!("fixtures/smtp-localhost-cert.der");
const KEY: &[u8] = include_bytes!("fixtures/smtp-localhost-key.der");

fn config(port: u16, security: SmtpSecurity, trust_test_cert: bool) -> SmtpConfig {
    SmtpConfig {
        host: "localhost".into(),
        port,
        from: "alerts@example.com".into(),
        to: vec!["owner@example.com".into(), "ops@example.com".into()],
        auth: Some(("alerts".into(), Secret::new("pw"))),
        timeout: Duration::from_secs(5),
        security,
        extra_roots: if trust_test_cert {
            vec![CertificateDer::from(CERT.to_vec())]
        } else {
            vec![]
        },
    }
}

fn payload() -> serde_json::Value {
    json!({"subject": "CRITICAL · mavena: Zero orders", "text": "No order since 09:00."})
}

#[tokio::test]
async fn starttls_upgrades_before_auth_and_the_message() {
    let smtp = FakeSmtp::start_with(FakeSmtpTls::StartTls(FakeSmtpTls::acceptor(CERT, KEY)))
        .await
        .unwrap();
    let notifier = EmailNotifier::new(config(smtp.port, SmtpSecurity::StartTls, true));
    assert_eq!(notifier.send(&payload()).await, SendOutcome::Delivered);
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].secured, "the message came over TLS");
    assert_eq!(got[0].user.as_deref(), Some("alerts"));
    assert!(got[0]
        .data
        .contains("To: owner@example.com, ops@example.com\r\n"));
    assert!(got[0].data.contains("\r\n\r\nNo order since 09:00.\r\n"));
}

#[tokio::test]
async fn implicit_tls_from_the_first_byte() {
    let smtp = FakeSmtp::start_with(FakeSmtpTls::Implicit(FakeSmtpTls::acceptor(CERT, KEY)))
        .await
        .unwrap();
    let notifier = EmailNotifier::new(config(smtp.port, SmtpSecurity::Tls, true));
    assert_eq!(notifier.send(&payload()).await, SendOutcome::Delivered);
    let got = smtp.received();
    assert_eq!(got.len(), 1);
    assert!(got[0].secured);
}

#[tokio::test]
async fn an_untrusted_certificate_is_not_accepted() {
    let smtp = FakeSmtp::start_with(FakeSmtpTls::StartTls(FakeSmtpTls::acceptor(CERT, KEY)))
        .await
        .unwrap();
    let notifier = EmailNotifier::new(config(smtp.port, SmtpSecurity::StartTls, false));
    match notifier.send(&payload()).await {
        SendOutcome::Retry { error, .. } => assert!(error.contains("TLS"), "{error}"),
        other => panic!("expected a TLS failure, got {other:?}"),
    }
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn a_relay_without_starttls_is_refused_not_spoken_to_in_clear() {
    let smtp = FakeSmtp::start().await.unwrap();
    let notifier = EmailNotifier::new(config(smtp.port, SmtpSecurity::StartTls, true));
    assert_eq!(
        notifier.send(&payload()).await,
        SendOutcome::Refused {
            error: "SMTP: the server does not offer STARTTLS".into()
        }
    );
    assert!(smtp.received().is_empty());
}

#[tokio::test]
async fn plain_text_only_to_loopback() {
    let smtp = FakeSmtp::start().await.unwrap();
    let mut c = config(smtp.port, SmtpSecurity::None, false);
    let notifier = EmailNotifier::new(c.clone());
    assert_eq!(notifier.send(&payload()).await, SendOutcome::Delivered);
    let got = smtp.received();
    assert!(!got[0].secured);
    c.host = "mail.example.com".into();
    let remote = EmailNotifier::new(c);
    assert!(matches!(
        remote.send(&payload()).await,
        SendOutcome::Refused { error } if error.contains("only for a loopback relay")
    ));
}
