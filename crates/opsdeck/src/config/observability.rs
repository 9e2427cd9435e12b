//! `[observability]` and `[logging]`: how opsdeck reports on itself.
//!
//! ```toml
//! [observability]
//! metrics_listen = "127.0.0.1:9464"   # Prometheus /metrics; off unless set
//!
//! [logging]
//! format = "json"                     # or "text" (the default)
//! ```
//!
//! `/metrics` has a listener of its own, never the public port: it must
//! differ from `[server] listen`. `OPSDECK_LOG_FORMAT` (`json` or `text`)
//! overrides `[logging] format`.

use super::walk::Section;
use std::net::SocketAddr;

/// How log lines are written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LogFormat {
    /// One human-readable line per event (the default).
    #[default]
    Text,
    /// One JSON object per line, for a log shipper.
    Json,
}

impl LogFormat {
    /// `"json"` or `"text"`, as the file and `OPSDECK_LOG_FORMAT` spell it.
    pub fn parse(value: &str) -> Option<LogFormat> {
        match value {
            "json" => Some(LogFormat::Json),
            "text" => Some(LogFormat::Text),
            _ => None,
        }
    }
}

/// The parsed `[observability]` and `[logging]` sections.
#[derive(Debug, Clone, Default)]
pub struct ObservabilityConfig {
    /// Where Prometheus scrapes `/metrics`; `None` (the default) serves
    /// no metrics and installs no recorder.
    pub metrics_listen: Option<SocketAddr>,
    /// `[logging] format`.
    pub log_format: LogFormat,
}

pub(super) fn parse_observability(
    root: &Section<'_, '_>,
    listen: Option<SocketAddr>,
) -> ObservabilityConfig {
    let mut config = ObservabilityConfig::default();
    if let Some(s) = root.opt_table("observability") {
        if let Some(value) = s.opt_str("metrics_listen") {
            match value.parse::<SocketAddr>() {
                Ok(addr) if Some(addr) == listen && addr.port() != 0 => s.problem(
                    "metrics_listen",
                    format!(
                        "{value:?} is the public listen address; /metrics needs a listener of its own"
                    ),
                ),
                Ok(addr) => config.metrics_listen = Some(addr),
                Err(_) => s.problem(
                    "metrics_listen",
                    format!("{value:?} is not an address like \"127.0.0.1:9464\""),
                ),
            }
        }
        s.finish();
    }
    if let Some(s) = root.opt_table("logging") {
        if let Some(value) = s.opt_str("format") {
            match LogFormat::parse(value) {
                Some(format) => config.log_format = format,
                None => s.problem(
                    "format",
                    format!("{value:?} is not a log format; use \"text\" or \"json\""),
                ),
            }
        }
        s.finish();
    }
    config
}

#[cfg(test)]
mod tests {
    use super::super::{parse_config, SecretSource};
    use super::LogFormat;
    use std::path::Path;

    struct NoSecrets;

    impl SecretSource for NoSecrets {
        fn env(&self, _: &str) -> Option<String> {
            None
        }
        fn file(&self, _: &Path) -> std::io::Result<String> {
            Err(std::io::ErrorKind::NotFound.into())
        }
    }

    fn parse(section: &str) -> Result<super::super::Config, Vec<super::super::ConfigProblem>> {
        let text = format!(
            "[[brands]]\nid = \"mavena\"\nname = \"Mavena\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Berlin\"\n\n{section}"
        );
        parse_config(&text, &NoSecrets)
    }

    #[test]
    fn metrics_are_off_and_logs_text_unless_configured() {
        let c = parse("").unwrap();
        assert_eq!(c.observability.metrics_listen, None);
        assert_eq!(c.observability.log_format, LogFormat::Text);
        let c = parse(
            "[observability]\nmetrics_listen = \"127.0.0.1:9464\"\n[logging]\nformat = \"json\"\n",
        )
        .unwrap();
        assert_eq!(
            c.observability.metrics_listen,
            Some("127.0.0.1:9464".parse().unwrap())
        );
        assert_eq!(c.observability.log_format, LogFormat::Json);
    }

    #[test]
    fn metrics_never_share_the_public_port_and_bad_values_are_named() {
        let problems = parse(
            "[server]\nlisten = \"0.0.0.0:8080\"\n[observability]\nmetrics_listen = \"0.0.0.0:8080\"\n",
        )
        .unwrap_err();
        let text = format!("{problems:?}");
        assert!(
            text.contains("metrics_listen") && text.contains("public"),
            "{text}"
        );
        let problems = parse(
            "[observability]\nmetrics_listen = \"everywhere\"\n[logging]\nformat = \"xml\"\n",
        )
        .unwrap_err();
        let text = format!("{problems:?}");
        assert!(
            text.contains("everywhere") && text.contains("\\\"xml\\\""),
            "{text}"
        );
    }
}
