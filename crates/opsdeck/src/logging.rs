//! Where log lines go and in which format: text for a person at a
//! terminal (the default), or one JSON object per line for a log shipper
//! (`[logging] format = "json"` or `OPSDECK_LOG_FORMAT=json`, which wins).
//!
//! The format is chosen in two steps because logging starts before the
//! configuration is read (its problems are logged too): [`init`] starts
//! with the environment's choice, and [`Logging::use_config`] switches to
//! the file's once `serve` has read it. Either way the fields are those
//! the code logs; secrets never are (they are `Secret`s, whose `Debug`
//! and `Display` hide them).

use crate::config::observability::LogFormat;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{reload, EnvFilter, Layer, Registry};

/// The environment variable that picks the format (`json` or `text`).
pub const FORMAT_VAR: &str = "OPSDECK_LOG_FORMAT";

type BoxedLayer = Box<dyn Layer<Registry> + Send + Sync>;

/// The installed logger, whose format can still change.
pub struct Logging {
    handle: reload::Handle<BoxedLayer, Registry>,
    /// Set from [`FORMAT_VAR`]: the configuration file does not override it.
    from_env: Option<LogFormat>,
}

/// The format [`FORMAT_VAR`] names, if set; an unknown value is reported
/// on stderr and ignored.
fn env_format() -> Option<LogFormat> {
    let value = std::env::var(FORMAT_VAR).ok().filter(|v| !v.is_empty())?;
    let format = LogFormat::parse(&value);
    if format.is_none() {
        eprintln!("{FORMAT_VAR}={value:?} is not a log format; use \"text\" or \"json\"");
    }
    format
}

/// Installs the process' logger on stderr, filtered by `OPSDECK_LOG`
/// (default `info`, quieter for sqlx and hyper), in the format
/// [`FORMAT_VAR`] names (text without it).
pub fn init() -> Logging {
    let filter = EnvFilter::try_from_env("OPSDECK_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,hyper=warn"));
    let from_env = env_format();
    let (layer, handle) = reload::Layer::new(stderr_layer(from_env.unwrap_or_default()));
    // A second init (a test harness' logger) keeps the first.
    let _ = Registry::default().with(layer).with(filter).try_init();
    Logging { handle, from_env }
}

impl Logging {
    /// Switches to the configuration's format, unless the environment
    /// chose one.
    pub fn use_config(&self, format: LogFormat) {
        if self.from_env.is_some() {
            return;
        }
        if let Err(e) = self.handle.reload(stderr_layer(format)) {
            eprintln!("cannot switch the log format: {e}");
        }
    }
}

fn stderr_layer(format: LogFormat) -> BoxedLayer {
    let ansi = format == LogFormat::Text && std::io::IsTerminal::is_terminal(&std::io::stderr());
    layer(format, std::io::stderr, ansi)
}

/// The formatting layer writing to `writer` in `format`.
pub fn layer<W>(format: LogFormat, writer: W, ansi: bool) -> BoxedLayer
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt::layer().with_writer(writer);
    match format {
        LogFormat::Text => fmt.with_ansi(ansi).boxed(),
        // The event's fields at the top level beside level, target and
        // time; the span it happened in as `span`.
        LogFormat::Json => fmt
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .with_span_list(false)
            .boxed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_json_line_parses_and_carries_no_secret() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber =
            Registry::default().with(layer(LogFormat::Json, move || writer.clone(), false));
        let token = opsdeck_domain::Secret::new("shpat_do_not_log_me");
        let database = crate::config::DatabaseConfig {
            url: opsdeck_domain::Secret::new("postgres://opsdeck:hunter2@db/opsdeck"),
        };
        tracing::subscriber::with_default(subscriber, || {
            let span = tracing::info_span!("sync", source = "shopify-mavena");
            let _entered = span.enter();
            tracing::info!(?token, database = %database.display_url(), orders = 3, "synced a page");
        });
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{text}");
        let line: serde_json::Value = serde_json::from_str(lines[0]).expect("one JSON object");
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "synced a page");
        assert_eq!(line["orders"], 3);
        assert_eq!(line["span"]["source"], "shopify-mavena");
        assert!(line["timestamp"].is_string());
        assert!(!text.contains("shpat_do_not_log_me"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn text_is_not_json() {
        let captured = Captured::default();
        let writer = captured.clone();
        let subscriber =
            Registry::default().with(layer(LogFormat::Text, move || writer.clone(), false));
        tracing::subscriber::with_default(subscriber, || tracing::info!("plain"));
        let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
        assert!(
            text.contains("plain") && serde_json::from_str::<serde_json::Value>(&text).is_err()
        );
    }
}
