//! The typed configuration: what the rest of the program reads.

use jiff::civil::Weekday;
use opsdeck_domain::{Brand, Currency, Secret, SourceId};
use std::net::SocketAddr;
use std::time::Duration;
use url::Url;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";
pub const DEFAULT_DATABASE_URL: &str = "sqlite:opsdeck.db";
pub const DEFAULT_SHOPIFY_API_VERSION: &str = "2025-07";

#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    /// Where people reach the dashboard; used in links in alerts.
    pub public_url: Option<Url>,
    pub database: DatabaseConfig,
    pub week_start: Weekday,
    /// Currency for totals across brands.
    pub reporting_currency: Currency,
    /// `[reporting.rates]`: units of the reporting currency per unit of
    /// another currency, in millionths (1.08 = `1_080_000`) — the form
    /// `PanelConfig::rates` takes. A brand in a currency without a rate is
    /// left out of all-brand money totals, and the totals say so.
    pub reporting_rates: std::collections::BTreeMap<Currency, i64>,
    pub brands: Vec<Brand>,
    pub shopify: Vec<ShopifySourceConfig>,
    pub gorgias: Option<GorgiasConfig>,
    /// `[alerts]` and `[notifiers.*]`.
    pub alerts: super::alerts::AlertsConfig,
    /// `[security]`: sessions, login lockout, cookies, proxies, audit
    /// retention; and `[roles.NAME]` (in `security.auth.roles`).
    pub security: super::security::SecurityConfig,
    /// `[regions.ID]`: brands and countries grouped for the filters, the
    /// checklist and the leads.
    pub regions: Vec<opsdeck_domain::Region>,
    /// `[incidents]`: severities (people, channels, targets, escalation)
    /// and the status page's name.
    pub incidents: super::incidents::IncidentsConfig,
    /// `[approvals]`: thresholds, approver roles, expiry, platforms' callbacks.
    pub approvals: super::approvals::ApprovalsConfig,
    /// `[flags]`: freeze controls, their webhooks and mirrored shops.
    pub flags: super::flags::FlagsConfig,
    /// `[handover]`: shift starts and the acknowledgement deadline.
    pub handover: super::handover::HandoverConfig,
    /// `[queues.refunds]`: the refunds queue's windows per kind.
    pub queues: super::queues::RefundQueueConfig,
    /// `[customers]`: the customer risk flags' high-value threshold.
    pub customers: opsdeck_metrics::customers::RiskRules,
    /// `[review_queues.NAME] sla`: each review queue's deadline (the
    /// playbook's 1 h for prescriptions when absent).
    pub review_queues: opsdeck_metrics::panels::review_queues::ReviewSlas,
    /// `[privacy]`: how long an export's download link works.
    pub privacy: super::privacy::PrivacyConfig,
    /// `[health_checks.NAME]`: the system health checks, in name order.
    pub health_checks: Vec<opsdeck_domain::health::CheckSpec>,
    /// `[reports.NAME]`: scheduled reports and digests.
    pub reports: Vec<opsdeck_reports::subscription::Subscription>,
    /// `[observability]` and `[logging]`: the `/metrics` listener and the
    /// log format.
    pub observability: super::observability::ObservabilityConfig,
}

impl Config {
    /// Each source resource's configured sync cadence: what the one
    /// staleness rule (tiles, /sources, the "source stale" alert) measures
    /// against.
    pub fn cadences(&self) -> opsdeck_metrics::Cadences {
        use opsdeck_sync::{GorgiasResource, ShopifyResource};
        let mut c = opsdeck_metrics::Cadences::default();
        for shop in &self.shopify {
            for resource in ShopifyResource::ALL {
                c.set(&shop.source, resource.as_str(), shop.cadence.of(resource));
            }
        }
        if let Some(g) = &self.gorgias {
            for resource in GorgiasResource::ALL {
                c.set(&g.source, resource.as_str(), g.every);
            }
        }
        c
    }
}

/// The database URL may carry a password, so it is a [`Secret`].
#[derive(Debug, Clone)]
pub struct DatabaseConfig {
    pub url: Secret,
}

impl DatabaseConfig {
    /// The URL with any password replaced, for logs and screens.
    pub fn display_url(&self) -> String {
        redact_url_password(self.url.expose())
    }
}

/// Replaces the password of a `scheme://user:password@host` URL with `***`.
pub fn redact_url_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// How often each resource is synced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncCadence {
    pub orders: Duration,
    pub products: Duration,
    pub inventory: Duration,
}

impl SyncCadence {
    /// The cadence of `resource`: returns, disputes and abandoned
    /// checkouts follow the orders they hang on; customers change with
    /// orders too (their lifetime spend), so they follow orders as well.
    pub fn of(&self, resource: opsdeck_sync::ShopifyResource) -> Duration {
        use opsdeck_sync::ShopifyResource as R;
        match resource {
            R::Orders | R::Returns | R::Disputes | R::Customers | R::AbandonedCheckouts => {
                self.orders
            }
            R::Products => self.products,
            R::InventoryLevels => self.inventory,
        }
    }
}

impl Default for SyncCadence {
    fn default() -> Self {
        SyncCadence {
            orders: Duration::from_secs(15 * 60),
            products: Duration::from_secs(60 * 60),
            inventory: Duration::from_secs(60 * 60),
        }
    }
}

/// One brand's Shopify store.
#[derive(Debug, Clone)]
pub struct ShopifySourceConfig {
    /// `shopify-{brand id}`.
    pub source: SourceId,
    pub brand: opsdeck_domain::BrandId,
    pub shop_domain: String,
    /// `https://{shop_domain}` unless overridden (simulator, proxy).
    pub base_url: Url,
    pub api_version: String,
    /// `api`: which Admin API the sync reads by (REST unless `"graphql"`).
    pub api: opsdeck_sync::ShopifyApi,
    pub access_token: Secret,
    pub cadence: SyncCadence,
    /// The app's client secret that signs this shop's webhooks
    /// (`webhook_secret_env` / `webhook_secret_file`); without it the shop's
    /// webhooks are refused.
    pub webhook_secret: Option<Secret>,
    /// The secret before the last rotation, still accepted meanwhile.
    pub previous_webhook_secret: Option<Secret>,
    /// `notify_customer_on_returns`: whether Shopify e-mails the customer
    /// a return approved or declined from the refunds queue (true unless
    /// set).
    pub notify_customer_on_returns: bool,
}

/// The shared Gorgias helpdesk.
#[derive(Debug, Clone)]
pub struct GorgiasConfig {
    pub source: SourceId,
    pub subdomain: String,
    pub base_url: Url,
    pub user: String,
    pub api_key: Secret,
    /// `[[gorgias.attribution]]` rules, first match wins; a ticket no rule
    /// claims stays unattributed (visible, never dropped).
    pub attribution: Vec<opsdeck_sources::AttributionRule>,
    /// How often tickets, messages and surveys are synced.
    pub every: Duration,
    /// The secret the helpdesk's HTTP integration sends to
    /// `/webhooks/gorgias` (`?secret=` or `X-Opsdeck-Secret`); without it
    /// the endpoint answers 404 and only the polling sync runs.
    pub webhook_secret: Option<Secret>,
}
