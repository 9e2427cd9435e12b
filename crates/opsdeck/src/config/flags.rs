//! `[flags]`: the freeze controls storefronts read (issue 14, point 2).
//!
//! ```toml
//! [flags]
//! polling_interval_seconds = 30        # what OFREP's configuration tells storefronts (5–3600)
//! requires_approval = ["freeze-checkout", "freeze-refunds"]  # switching on needs a second person
//! mirror_to_shopify = ["freeze-checkout", "sales-pause", "maintenance-banner"]  # shop metafields
//!
//! [[flags.webhooks]]                   # every change, signed (X-Opsdeck-Signature)
//! name = "storefront-cache"
//! url = "https://cache.example.com/opsdeck-flags"
//! secret_env = "OPSDECK_FLAGS_WEBHOOK_SECRET"
//! ```
//!
//! Mirrored flags are set on every configured Shopify brand's shop as
//! metafields in the `opsdeck` namespace (`freeze_checkout`, …).

use super::alerts::secret;
use super::exposure::token_url;
use super::model::ShopifySourceConfig;
use super::walk::Section;
use super::SecretSource;
use opsdeck_domain::Secret;
use opsdeck_operations::flags::{FlagKey, FlagSettings};

/// The bounds of `polling_interval_seconds`.
pub const POLLING_SECONDS: std::ops::RangeInclusive<u32> = 5..=3600;
const DEFAULT_POLLING_SECONDS: u32 = 30;

/// A configured webhook receiver of flag changes.
#[derive(Debug, Clone)]
pub struct FlagWebhook {
    pub name: String,
    pub url: String,
    pub secret: Secret,
}

/// The parsed `[flags]` section (defaults when absent).
#[derive(Debug, Clone)]
pub struct FlagsConfig {
    pub settings: FlagSettings,
    pub webhooks: Vec<FlagWebhook>,
}

impl Default for FlagsConfig {
    fn default() -> Self {
        FlagsConfig {
            settings: FlagSettings {
                polling_interval_seconds: DEFAULT_POLLING_SECONDS,
                ..FlagSettings::default()
            },
            webhooks: Vec::new(),
        }
    }
}

fn keys(s: &Section<'_, '_>, key: &'static str) -> Vec<FlagKey> {
    let mut out = Vec::new();
    for name in s.opt_str_list(key).unwrap_or_default() {
        match FlagKey::known(name) {
            Some(k) if !out.contains(&k) => out.push(k),
            Some(_) => {}
            None => s.problem(
                key,
                format!(
                    "{name:?} is not a flag: use {}",
                    FlagKey::ALL
                        .iter()
                        .map(FlagKey::as_str)
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        }
    }
    out
}

pub(super) fn parse_flags(
    root: &Section<'_, '_>,
    secrets: &dyn SecretSource,
    shopify: &[ShopifySourceConfig],
) -> FlagsConfig {
    let mut config = FlagsConfig::default();
    config.settings.mirror_brands = shopify.iter().map(|s| s.brand.clone()).collect();
    let Some(s) = root.opt_table("flags") else {
        return config;
    };
    if let Some(n) = s.opt_u32("polling_interval_seconds") {
        if POLLING_SECONDS.contains(&n) {
            config.settings.polling_interval_seconds = n;
        } else {
            s.problem(
                "polling_interval_seconds",
                format!(
                    "{n} is out of bounds: between {} and {} seconds",
                    POLLING_SECONDS.start(),
                    POLLING_SECONDS.end()
                ),
            );
        }
    }
    config.settings.requires_approval = keys(&s, "requires_approval");
    config.settings.mirrored_flags = keys(&s, "mirror_to_shopify");
    for w in s.array_of_tables("webhooks") {
        let name = w.req_str("name").filter(|n| {
            let ok = !n.is_empty()
                && n.len() <= 64
                && n.chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
            if !ok {
                w.problem("name", format!("{n:?}: 1 to 64 letters, digits, - or _"));
            }
            ok
        });
        if let Some(n) = name {
            if config.webhooks.iter().any(|x| x.name == n) {
                w.problem("name", format!("{n:?} names two webhooks"));
            }
        }
        let url = w
            .req_str("url")
            .and_then(|u| token_url(&w, "url", u, false).map(|_| u.to_string()));
        let key = secret(&w, secrets, "secret", "secret_env", "secret_file");
        if let (Some(name), Some(url), Some(secret)) = (name, url, key) {
            config.settings.webhooks.push(name.to_string());
            config.webhooks.push(FlagWebhook {
                name: name.to_string(),
                url,
                secret,
            });
        }
        w.finish();
    }
    s.finish();
    config
}
