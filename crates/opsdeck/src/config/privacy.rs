//! `[privacy]`: how long a download link of a privacy export works
//! (issue 15, point 4).
//!
//! ```toml
//! [privacy]
//! link_lifetime = "72h"   # then the link answers that it expired
//! ```
//!
//! Without the section: 72 hours.

use super::walk::Section;
use jiff::SignedDuration;
use opsdeck_operations::privacy::PrivacySettings;

/// The longest a download link may live: an export past a month is a copy
/// of someone's data nobody watches.
const MAX_LINK_LIFETIME: SignedDuration = SignedDuration::from_hours(30 * 24);

/// The parsed `[privacy]` section.
#[derive(Debug, Clone, Default)]
pub struct PrivacyConfig {
    pub settings: PrivacySettings,
}

pub(super) fn parse_privacy(root: &Section<'_, '_>) -> PrivacyConfig {
    let mut config = PrivacyConfig::default();
    let Some(s) = root.opt_table("privacy") else {
        return config;
    };
    if let Some(d) = s
        .opt_str("link_lifetime")
        .and_then(|v| super::parse::duration_up_to(&s, "link_lifetime", v, MAX_LINK_LIFETIME))
    {
        config.settings.link_lifetime = d;
    }
    s.finish();
    config
}

#[cfg(test)]
mod tests {
    use super::super::test_support::parse_section as parse;
    use jiff::SignedDuration;

    #[test]
    fn link_lifetime_is_72h_unless_configured_and_bounded() {
        let c = parse("").unwrap();
        assert_eq!(
            c.privacy.settings.link_lifetime,
            SignedDuration::from_hours(72)
        );
        let c = parse("[privacy]\nlink_lifetime = \"24h\"\n").unwrap();
        assert_eq!(
            c.privacy.settings.link_lifetime,
            SignedDuration::from_hours(24)
        );
        let problems = parse("[privacy]\nlink_lifetime = \"90d\"\n").unwrap_err();
        assert!(
            format!("{problems:?}").contains("link_lifetime"),
            "{problems:?}"
        );
    }
}
