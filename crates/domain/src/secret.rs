//! A secret value (API token, webhook secret, password) that cannot leak by
//! accident: `Debug` and `Display` print `[redacted]`, and it has no
//! `Serialize`, so it cannot reach JSON, logs or the database by mistake.

use std::fmt;

#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The raw value, for the one place that must send it (an HTTP header).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_prints() {
        let s = Secret::new("shpat_123");
        assert!(!format!("{s:?} {s}").contains("shpat"));
        assert_eq!(s.expose(), "shpat_123");
    }
}
