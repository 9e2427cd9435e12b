//! opsdeck's configuration file (TOML): brands with their sources and
//! thresholds, the database, the listen address.
//!
//! Read in layers: built-in defaults, then the file, then the environment for
//! secrets (a config names the *variable* or *file* holding a token, never
//! the token itself). Every problem is collected with its line and key, so
//! `opsdeck check-config` reports all of them at once.
//!
//! # Layout
//! - `walk`: the TOML reader that collects problems.
//! - `model`: the typed configuration the rest of the program uses.
//! - `parse`: from a parsed document to the model, section by section.
//! - `alerts`: `[alerts]` rules, overrides and business hours.
//! - `flags`: `[flags]`: polling interval, flags needing approval, flags
//!   mirrored to Shopify shops, webhook receivers of flag changes.
//! - `customers`: `[customers]`: the customer risk flags' high-value threshold.
//! - `handover`: `[handover]`: shift starts and the acknowledgement deadline.
//! - `review_queues`: `[review_queues.NAME] sla`: each review queue's deadline.
//! - `privacy`: `[privacy]`: how long an export's download link works.
//! - `health_checks`: `[health_checks.NAME]`: the system health checks
//!   (HTTP, heartbeat, threshold, success ratio).
//! - `reports`: `[reports.NAME]`: scheduled reports and digests.
//! - `observability`: `[observability] metrics_listen` (Prometheus
//!   `/metrics` on a listener of its own) and `[logging] format`.
//! - `notifiers`: `[notifiers.*]`: Slack, Telegram, signed webhook, email.
//! - `regions`: `[regions.ID]` and `[roles.NAME]`.
//! - `exposure`: what would break or leak a secret (multi-line or
//!   world-readable secret files, tokens over plain http), refused here so
//!   `check-config` and `serve` refuse the same set.
//! - `example`: the commented example printed by `opsdeck default-config`.

pub mod alerts;
pub mod approvals;
mod currencies;
pub mod customers;
mod example;
mod exposure;
pub mod flags;
pub mod handover;
mod health_checks;
pub mod incidents;
mod model;
mod notifiers;
pub mod observability;
mod parse;
pub mod privacy;
pub mod queues;
mod regions;
mod reports;
mod review_queues;
pub mod security;
#[cfg(test)]
mod test_support;
mod walk;

pub use alerts::AlertsConfig;
pub use example::EXAMPLE_CONFIG;
pub use incidents::IncidentsConfig;
pub use model::{
    Config, DatabaseConfig, GorgiasConfig, ShopifySourceConfig, SyncCadence, DEFAULT_DATABASE_URL,
    DEFAULT_LISTEN, DEFAULT_SHOPIFY_API_VERSION,
};
pub use security::SecurityConfig;
pub use walk::ConfigProblem;

use std::path::Path;

/// Where secrets are looked up. Production uses the process environment;
/// tests pass a map so they never touch global state.
pub trait SecretSource {
    fn env(&self, name: &str) -> Option<String>;
    fn file(&self, path: &Path) -> std::io::Result<String>;
    /// A file that holds a secret: [`SecretSource::file`], refused where
    /// the file is not private (see [`ProcessEnv`]).
    fn secret_file(&self, path: &Path) -> std::io::Result<String> {
        self.file(path)
    }
}

/// The real process environment and file system.
pub struct ProcessEnv;

impl SecretSource for ProcessEnv {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.is_empty())
    }

    fn file(&self, path: &Path) -> std::io::Result<String> {
        std::fs::read_to_string(path)
    }

    /// Refuses a file every user of the machine may read: what it holds
    /// is no secret (and naming `/etc/passwd` is a mistake to catch).
    fn secret_file(&self, path: &Path) -> std::io::Result<String> {
        if let Some(mode) = exposure::world_readable(path)? {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "every user of this machine may read it (mode {mode:o}): \
                     a secret file must be private (chmod 600)"
                ),
            ));
        }
        self.file(path)
    }
}

/// Parses configuration text; `Err` holds every problem found, in file order.
pub fn parse_config(text: &str, secrets: &dyn SecretSource) -> Result<Config, Vec<ConfigProblem>> {
    parse::parse(text, secrets)
}

/// Reads and parses a configuration file.
pub fn load_config(path: &Path, secrets: &dyn SecretSource) -> Result<Config, Vec<ConfigProblem>> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        vec![ConfigProblem {
            line: None,
            key: path.display().to_string(),
            message: format!("cannot read the file: {e}"),
        }]
    })?;
    parse_config(&text, secrets)
}

#[cfg(test)]
mod tests;
