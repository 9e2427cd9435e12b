//! What the config modules' tests share: a secret source with no secrets,
//! and a configuration of one brand with the section under test after it.

use super::{parse_config, Config, ConfigProblem, SecretSource};
use std::path::Path;

/// No environment variables and no secret files.
pub struct NoSecrets;

impl SecretSource for NoSecrets {
    fn env(&self, _: &str) -> Option<String> {
        None
    }
    fn file(&self, _: &Path) -> std::io::Result<String> {
        Err(std::io::ErrorKind::NotFound.into())
    }
}

/// `section` parsed after one brand (Mavena, EUR, Europe/Berlin).
pub fn parse_section(section: &str) -> Result<Config, Vec<ConfigProblem>> {
    let text = format!(
        "[[brands]]\nid = \"mavena\"\nname = \"Mavena\"\ncurrency = \"EUR\"\ntime_zone = \"Europe/Berlin\"\n\n{section}"
    );
    parse_config(&text, &NoSecrets)
}
