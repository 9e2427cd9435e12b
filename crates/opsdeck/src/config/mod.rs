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
//! - `notifiers`: `[notifiers.*]`: Slack, Telegram, signed webhook, email.
//! - `example`: the commented example printed by `opsdeck default-config`.

pub mod alerts;
mod currencies;
mod example;
mod model;
mod notifiers;
mod parse;
pub mod security;
mod walk;

pub use alerts::AlertsConfig;
pub use example::EXAMPLE_CONFIG;
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
