//! `[notifiers.*]`: where alert messages go.
//!
//! ```toml
//! [notifiers.slack]
//! webhook_url_env = "OPSDECK_SLACK_WEBHOOK_URL"
//! [notifiers.telegram]
//! bot_token_env = "OPSDECK_TELEGRAM_BOT_TOKEN"
//! chat_id = "-1001234567890"
//! message_thread_id = 7            # optional: a forum topic
//! allowed_user_ids = [123456789]   # optional: only these users' presses count
//! [notifiers.webhook]
//! url = "https://ops.example.com/hooks/opsdeck"
//! secret_env = "OPSDECK_ALERT_WEBHOOK_SECRET"   # HMAC-SHA256 signing key
//! tiers = ["telegram", "telegram_and_slack"]      # optional; default: every tier
//! [notifiers.email]
//! host = "smtp.example.com"
//! security = "starttls"            # starttls (587) | tls (465) | none (loopback relay only)
//! port = 587                       # optional; the security's usual port
//! from = "opsdeck@example.com"
//! to = ["owner@example.com", "ops@example.com"]
//! username = "opsdeck"             # optional; then password_env or password_file
//! password_env = "OPSDECK_SMTP_PASSWORD"
//! ca_file = "/etc/opsdeck/relay-ca.pem"         # optional: a private relay's CA
//! timeout = "30s"
//! tiers = ["telegram_and_slack"]   # optional; default: every tier
//! ```
//!
//! Slack and Telegram are the tiers themselves (see `Tier`); the webhook and
//! email channels are added to the tiers their `tiers` key lists.

use super::alerts::{duration, secret, AlertsConfig};
use super::exposure::token_url;
use super::walk::Section;
use super::SecretSource;
use opsdeck_alerts::notify::email::{
    certificates_from_pem, is_loopback, CertificateDer, SmtpSecurity,
};
use opsdeck_alerts::Tier;
use opsdeck_domain::Secret;
use std::time::Duration;

const ALL_TIERS: [Tier; 3] = [Tier::Slack, Tier::Telegram, Tier::TelegramAndSlack];

#[derive(Debug, Clone)]
pub struct SlackConfig {
    pub webhook_url: Secret,
}

#[derive(Debug, Clone)]
pub struct TelegramConfig {
    pub base_url: String,
    pub bot_token: Secret,
    pub chat_id: String,
    pub message_thread_id: Option<i64>,
    /// When not empty, only these Telegram users' button presses count
    /// (besides coming from `chat_id`).
    pub allowed_user_ids: Vec<i64>,
}

#[derive(Debug, Clone)]
pub struct WebhookConfig {
    pub url: String,
    pub secret: Secret,
    /// The tiers whose messages are also posted here.
    pub tiers: Vec<Tier>,
}

/// An SMTP relay and the addresses alerts are mailed to.
#[derive(Clone)]
pub struct EmailConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub from: String,
    pub to: Vec<String>,
    /// (user, password) for AUTH PLAIN.
    pub auth: Option<(String, Secret)>,
    /// Trusted besides the public roots.
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub timeout: Duration,
    /// The tiers whose messages are also mailed.
    pub tiers: Vec<Tier>,
}

impl std::fmt::Debug for EmailConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmailConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("from", &self.from)
            .field("to", &self.to)
            .field("auth", &self.auth)
            .field("extra_roots", &self.extra_roots.len())
            .field("timeout", &self.timeout)
            .field("tiers", &self.tiers)
            .finish()
    }
}

/// Telegram user ids: positive integers (a wrong entry is reported, the
/// list is never silently shortened).
fn user_ids(s: &Section<'_, '_>, key: &'static str) -> Vec<i64> {
    let ids = s.opt_int_list(key).unwrap_or_default();
    if let Some(bad) = ids.iter().find(|i| **i <= 0) {
        s.problem(
            key,
            format!("{bad} is not a Telegram user id (a positive integer)"),
        );
    }
    ids
}

pub(super) fn parse_notifiers(
    root: &Section<'_, '_>,
    secrets: &dyn SecretSource,
    cfg: &mut AlertsConfig,
) {
    let Some(n) = root.opt_table("notifiers") else {
        return;
    };
    if let Some(s) = n.opt_table("slack") {
        cfg.slack = secret(
            &s,
            secrets,
            "webhook_url",
            "webhook_url_env",
            "webhook_url_file",
        )
        .filter(|url| {
            let key = if s.has_key("webhook_url_file") {
                "webhook_url_file"
            } else {
                "webhook_url_env"
            };
            token_url(&s, key, url.expose(), true).is_some()
        })
        .map(|webhook_url| SlackConfig { webhook_url });
        s.finish();
    }
    if let Some(s) = n.opt_table("telegram") {
        let token = secret(&s, secrets, "bot_token", "bot_token_env", "bot_token_file");
        let chat = s.req_str("chat_id");
        let thread = s.opt_int("message_thread_id");
        let allowed_user_ids = user_ids(&s, "allowed_user_ids");
        let base = match s.opt_str("base_url") {
            Some(url) => token_url(&s, "base_url", url, false).map(|_| url),
            None => Some("https://api.telegram.org"),
        };
        if let (Some(bot_token), Some(chat), Some(base)) = (token, chat, base) {
            cfg.telegram = Some(TelegramConfig {
                base_url: base.to_string(),
                bot_token,
                chat_id: chat.to_string(),
                message_thread_id: thread,
                allowed_user_ids,
            });
        }
        s.finish();
    }
    if let Some(s) = n.opt_table("webhook") {
        let url = s
            .req_str("url")
            .filter(|u| token_url(&s, "url", u, false).is_some());
        let key = secret(&s, secrets, "secret", "secret_env", "secret_file");
        let tiers = tiers(&s);
        if let (Some(url), Some(secret), Some(tiers)) = (url, key, tiers) {
            cfg.webhook = Some(WebhookConfig {
                url: url.to_string(),
                secret,
                tiers,
            });
        }
        s.finish();
    }
    if let Some(s) = n.opt_table("email") {
        cfg.email = email(&s, secrets);
        s.finish();
    }
    n.finish();
}

/// The `tiers` list; every tier when absent, `None` after a problem.
fn tiers(s: &Section<'_, '_>) -> Option<Vec<Tier>> {
    let Some(names) = s.opt_str_list("tiers") else {
        return Some(ALL_TIERS.to_vec());
    };
    let mut out = Vec::new();
    for name in names {
        match Tier::parse(name) {
            Some(t) if !out.contains(&t) => out.push(t),
            Some(_) => {}
            None => {
                s.problem(
                    "tiers",
                    format!("{name:?} is not a tier: use slack, telegram or telegram_and_slack"),
                );
                return None;
            }
        }
    }
    if out.is_empty() {
        s.problem(
            "tiers",
            "lists no tier: remove the section to send nothing here",
        );
        return None;
    }
    Some(out)
}

/// A plausible mailbox: `local@domain`, no spaces or angle brackets (which
/// would break the SMTP envelope line).
fn is_address(a: &str) -> bool {
    match a.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !a.contains(|c: char| c.is_whitespace() || c.is_control() || "<>,;".contains(c))
        }
        None => false,
    }
}

fn email(s: &Section<'_, '_>, secrets: &dyn SecretSource) -> Option<EmailConfig> {
    let host = s.req_str("host");
    let security = match s.opt_str("security") {
        None => Some(SmtpSecurity::StartTls),
        Some(v) => SmtpSecurity::parse(v).or_else(|| {
            s.problem(
                "security",
                format!("{v:?} is not a security: use starttls, tls or none"),
            );
            None
        }),
    };
    if let (Some(host), Some(SmtpSecurity::None)) = (host, security) {
        if !is_loopback(host) {
            s.problem(
                "security",
                format!("\"none\" sends in clear text, so only to a relay on this machine (localhost), not {host:?}: use starttls or tls"),
            );
        }
    }
    let port = match s.opt_int("port") {
        None => security.map(SmtpSecurity::default_port),
        Some(p) => u16::try_from(p).ok().filter(|p| *p > 0).or_else(|| {
            s.problem("port", format!("{p} is not a TCP port (1–65535)"));
            None
        }),
    };
    let from = s.req_str("from").filter(|f| {
        let ok = is_address(f);
        if !ok {
            s.problem("from", format!("{f:?} is not an email address"));
        }
        ok
    });
    let to = match s.opt_str_list("to") {
        None => {
            s.section_problem("to", "is required: the addresses alerts are mailed to");
            None
        }
        Some(list) if list.is_empty() => {
            s.problem("to", "lists no address");
            None
        }
        Some(list) => match list.iter().find(|a| !is_address(a)) {
            Some(bad) => {
                s.problem("to", format!("{bad:?} is not an email address"));
                None
            }
            None => Some(list.iter().map(|a| a.to_string()).collect::<Vec<_>>()),
        },
    };
    let auth = match s.opt_str("username") {
        None => {
            for key in ["password", "password_env", "password_file"] {
                if s.has_key(key) {
                    s.problem(key, "needs username");
                }
            }
            Some(None)
        }
        Some(user) => secret(s, secrets, "password", "password_env", "password_file")
            .map(|p| Some((user.to_string(), p))),
    };
    let extra_roots = match s.opt_str("ca_file") {
        None => Some(Vec::new()),
        Some(path) => match secrets.file(std::path::Path::new(path)) {
            Ok(pem) => certificates_from_pem(&pem)
                .map_err(|e| s.problem("ca_file", format!("{path}: {e}")))
                .ok(),
            Err(e) => {
                s.problem("ca_file", format!("cannot read {path}: {e}"));
                None
            }
        },
    };
    let timeout = duration(s, "timeout")
        .map(|d| Duration::from_secs(d.as_secs().max(1) as u64))
        .unwrap_or(Duration::from_secs(30));
    let tiers = tiers(s);
    Some(EmailConfig {
        host: host?.to_string(),
        port: port?,
        security: security?,
        from: from?.to_string(),
        to: to?,
        auth: auth?,
        extra_roots: extra_roots?,
        timeout,
        tiers: tiers?,
    })
}

#[cfg(test)]
mod tests {
    use super::super::{parse_config, Config, ConfigProblem, SecretSource};
    use super::*;
    use std::path::Path;

    struct Env;

    impl SecretSource for Env {
        fn env(&self, name: &str) -> Option<String> {
            (name == "SMTP_PASSWORD").then(|| "smtp-secret-pw".to_string())
        }
        fn file(&self, path: &Path) -> std::io::Result<String> {
            match path.to_str() {
                Some("/etc/relay.pem") => Ok(relay_pem()),
                Some("/etc/not.pem") => Ok("hello".into()),
                _ => Err(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    "no such file",
                )),
            }
        }
    }

    /// The alerts crate's self-signed test certificate, as PEM.
    fn relay_pem() -> String {
        use base64::Engine;
        let der = include_bytes!("../../../alerts/tests/fixtures/smtp-localhost-cert.der");
        let b64 = base64::engine::general_purpose::STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap())
            .collect();
        format!(
            "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
            lines.join("\n")
        )
    }

    fn parse(notifiers: &str) -> Result<Config, Vec<ConfigProblem>> {
        let brands = "[[brands]]\nid = \"mavena\"\nname = \"Mavena\"\nkind = \"standard\"\n\
                      time_zone = \"America/New_York\"\ncurrency = \"USD\"\n";
        parse_config(&format!("{brands}{notifiers}"), &Env)
    }

    #[test]
    fn email_with_every_key() {
        let c = parse(
            r#"
[notifiers.email]
host = "smtp.example.com"
security = "tls"
from = "opsdeck@example.com"
to = ["owner@example.com", "ops@example.com"]
username = "opsdeck"
password_env = "SMTP_PASSWORD"
ca_file = "/etc/relay.pem"
timeout = "10s"
tiers = ["telegram", "telegram_and_slack"]
"#,
        )
        .unwrap();
        let e = c.alerts.email.as_ref().unwrap();
        assert_eq!((e.host.as_str(), e.port), ("smtp.example.com", 465));
        assert_eq!(e.security, SmtpSecurity::Tls);
        assert_eq!(e.to, ["owner@example.com", "ops@example.com"]);
        let (user, password) = e.auth.as_ref().unwrap();
        assert_eq!(
            (user.as_str(), password.expose()),
            ("opsdeck", "smtp-secret-pw")
        );
        assert_eq!(e.extra_roots.len(), 1);
        assert_eq!(e.timeout, Duration::from_secs(10));
        assert_eq!(e.tiers, [Tier::Telegram, Tier::TelegramAndSlack]);
        assert!(!format!("{c:?}").contains("smtp-secret-pw"));
    }

    #[test]
    fn email_defaults_starttls_587_every_tier_no_auth() {
        let c = parse(
            "[notifiers.email]\nhost = \"smtp.example.com\"\nfrom = \"a@example.com\"\n\
             to = [\"b@example.com\"]\n",
        )
        .unwrap();
        let e = c.alerts.email.unwrap();
        assert_eq!((e.security, e.port), (SmtpSecurity::StartTls, 587));
        assert!(e.auth.is_none());
        assert_eq!(e.tiers, ALL_TIERS);
        assert_eq!(e.timeout, Duration::from_secs(30));
    }

    #[test]
    fn every_email_problem_is_named() {
        let problems = parse(
            r#"
[notifiers.email]
host = "smtp.example.com"
security = "none"
port = 70000
from = "not an address"
to = ["ok@example.com", "broken"]
password = "hunter2"
ca_file = "/etc/not.pem"
tiers = ["pager"]
[notifiers.webhook]
url = "https://example.com/hook"
secret_env = "NOPE"
tiers = []
"#,
        )
        .unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        let has = |needle: &str| {
            assert!(
                shown.iter().any(|p| p.contains(needle)),
                "{needle} not in {shown:#?}"
            )
        };
        has("line 10: notifiers.email.security: \"none\" sends in clear text, so only to a relay on this machine");
        has("line 11: notifiers.email.port: 70000 is not a TCP port");
        has("line 12: notifiers.email.from: \"not an address\" is not an email address");
        has("line 13: notifiers.email.to: \"broken\" is not an email address");
        has("line 14: notifiers.email.password: needs username");
        has("line 15: notifiers.email.ca_file: /etc/not.pem: no \"BEGIN CERTIFICATE\" block found");
        has("line 16: notifiers.email.tiers: \"pager\" is not a tier");
        has("notifiers.webhook.secret_env: environment variable NOPE is not set");
        has("notifiers.webhook.tiers: lists no tier");
        assert!(shown.iter().all(|p| !p.contains("hunter2")), "{shown:#?}");
    }

    #[test]
    fn email_needs_its_addresses_and_a_password_for_a_username() {
        let problems = parse(
            "[notifiers.email]\nhost = \"127.0.0.1\"\nsecurity = \"none\"\n\
             from = \"a@example.com\"\nusername = \"u\"\n",
        )
        .unwrap_err();
        let shown: Vec<String> = problems.iter().map(|p| p.to_string()).collect();
        assert!(
            shown
                .iter()
                .any(|p| p.contains("notifiers.email.to") && p.contains("is required")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|p| p.contains("notifiers.email.password_env") && p.contains("is required")),
            "{shown:#?}"
        );
        assert!(
            !shown.iter().any(|p| p.contains("security")),
            "loopback may be plain: {shown:#?}"
        );
    }
}
