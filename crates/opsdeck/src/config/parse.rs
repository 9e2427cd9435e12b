//! From a TOML document to [`Config`], collecting every problem.

use super::exposure::{token_url, SecretOrigin};
use super::model::*;
use super::walk::{ConfigProblem, Problems, Section};
use super::SecretSource;
use jiff::civil::Weekday;
use jiff::tz::TimeZone;
use opsdeck_domain::{Brand, BrandId, BrandKind, Currency, Secret, SourceId, Thresholds};
use opsdeck_sync::ShopifyApi;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::time::Duration;
use url::Url;

pub fn parse(text: &str, secrets: &dyn SecretSource) -> Result<Config, Vec<ConfigProblem>> {
    let problems = Problems::new(text);
    let doc = match toml_edit::ImDocument::parse(text) {
        Ok(doc) => doc,
        Err(e) => {
            problems.push(
                e.span(),
                "(file)",
                format!("not valid TOML: {}", e.message().trim()),
            );
            return Err(problems.into_vec());
        }
    };
    let root = Section::root(doc.as_table(), &problems);

    let (listen, public_url) = match root.opt_table("server") {
        Some(server) => {
            let listen = server.opt_str("listen").and_then(|s| match s.parse() {
                Ok(addr) => Some(addr),
                Err(_) => {
                    server.problem(
                        "listen",
                        format!("{s:?} is not an address like \"127.0.0.1:8080\""),
                    );
                    None
                }
            });
            let public_url = server
                .opt_str("public_url")
                .and_then(|s| http_url(&server, "public_url", s));
            server.finish();
            (listen, public_url)
        }
        None => (None, None),
    };

    let database = match root.opt_table("database") {
        Some(db) => {
            let url = secret_value(&db, secrets, "url", "the database URL");
            db.finish();
            url
        }
        None => None,
    };

    let (reporting_currency, week_start, reporting_rates) = match root.opt_table("reporting") {
        Some(reporting) => {
            let currency = reporting
                .opt_str("currency")
                .and_then(|c| currency(&reporting, "currency", c));
            let week_start = reporting
                .opt_str("week_start")
                .and_then(|w| weekday(&reporting, "week_start", w));
            let rates = reporting
                .opt_table("rates")
                .map(|r| rates(&r, currency))
                .unwrap_or_default();
            reporting.finish();
            (currency, week_start, rates)
        }
        None => (None, None, BTreeMap::new()),
    };

    let mut brands = Vec::new();
    let mut shopify = Vec::new();
    let mut seen_ids = HashSet::new();
    let brand_sections = root.array_of_tables("brands");
    if brand_sections.is_empty() && root.span_of("brands").is_none() {
        root.section_problem("brands", "at least one [[brands]] entry is required");
    }
    for section in &brand_sections {
        if let Some((brand, shop)) = parse_brand(section, secrets, &mut seen_ids) {
            if let Some(first) = shop.as_ref().and_then(|new| {
                shopify
                    .iter()
                    .find(|known: &&ShopifySourceConfig| known.shop_domain == new.shop_domain)
            }) {
                // Webhooks are matched to a brand by shop domain: a second
                // brand on the same shop would take the first's webhooks
                // and answer them with the wrong secret (401).
                if let Some(sh) = section.opt_table("shopify") {
                    sh.problem(
                        "shop_domain",
                        format!(
                            "{:?} is already the shop of brand {:?}: each brand needs its own shop",
                            first.shop_domain,
                            first.brand.as_str()
                        ),
                    );
                }
                brands.push(brand);
                continue;
            }
            brands.push(brand);
            shopify.extend(shop);
        }
    }

    let gorgias = root
        .opt_table("gorgias")
        .and_then(|g| parse_gorgias(&g, secrets, &brands));
    let alerts = super::alerts::parse_alerts(&root, secrets, &brands);
    let mut security = super::security::parse_security(&root);
    let regions = super::regions::parse_regions(&root, &brands);
    security.auth.roles = super::regions::parse_roles(&root, &brands, &regions);
    let incidents = super::incidents::parse_incidents(&root);
    let approvals = super::approvals::parse_approvals(&root, secrets, &security.auth.roles);
    let flags = super::flags::parse_flags(&root, secrets, &shopify);
    let handover = super::handover::parse_handover(&root);
    let queues = super::queues::parse_queues(&root);
    let customers = super::customers::parse_customers(&root);
    let review_queues = super::review_queues::parse_review_queues(&root);
    let privacy = super::privacy::parse_privacy(&root);
    let health_checks = super::health_checks::parse_health_checks(&root);
    let reports = super::reports::parse_reports(&root, &brands, &security.auth.roles);
    let observability = super::observability::parse_observability(&root, listen);
    root.finish();

    if !problems.is_empty() {
        return Err(problems.into_vec());
    }
    let reporting_currency = reporting_currency
        .or_else(|| brands.first().map(|b| b.currency))
        .unwrap_or(Currency::USD);
    Ok(Config {
        listen: listen.unwrap_or_else(|| DEFAULT_LISTEN.parse().expect("valid default")),
        public_url,
        database: DatabaseConfig {
            url: database.unwrap_or_else(|| Secret::new(DEFAULT_DATABASE_URL)),
        },
        week_start: week_start.unwrap_or(Weekday::Monday),
        reporting_currency,
        reporting_rates,
        brands,
        shopify,
        gorgias,
        alerts,
        security,
        regions,
        incidents,
        approvals,
        flags,
        handover,
        queues,
        customers,
        review_queues,
        privacy,
        health_checks,
        reports,
        observability,
    })
}

fn parse_brand(
    s: &Section<'_, '_>,
    secrets: &dyn SecretSource,
    seen_ids: &mut HashSet<BrandId>,
) -> Option<(Brand, Option<ShopifySourceConfig>)> {
    let id = s.req_str("id").and_then(|v| match BrandId::parse(v) {
        Ok(id) if !seen_ids.insert(id.clone()) => {
            s.problem("id", format!("brand id {v:?} is used twice"));
            None
        }
        Ok(id) => Some(id),
        Err(e) => {
            s.problem("id", e.to_string());
            None
        }
    });
    let name = s.req_str("name");
    let kind = s.opt_str("kind").and_then(|k| match BrandKind::parse(k) {
        BrandKind::Other(other) => {
            s.problem(
                "kind",
                format!("unknown brand kind {other:?}: use standard, subscription or dropship"),
            );
            None
        }
        kind => Some(kind),
    });
    let time_zone = s
        .req_str("time_zone")
        .and_then(|tz| match TimeZone::get(tz) {
            Ok(zone) => Some(zone),
            Err(_) => {
                s.problem(
                    "time_zone",
                    format!("unknown time zone {tz:?}: use an IANA name like \"America/New_York\""),
                );
                None
            }
        });
    let currency = s
        .req_str("currency")
        .and_then(|c| currency(s, "currency", c));
    let launched = s.opt_bool("launched").unwrap_or(true);
    let kind_or_default = kind.clone().unwrap_or(BrandKind::Standard);
    let thresholds = match s.opt_table("thresholds") {
        Some(t) => parse_thresholds(&t, &kind_or_default),
        None => Some(Thresholds::defaults_for(&kind_or_default)),
    };
    let shopify = s
        .opt_table("shopify")
        .map(|shop| parse_shopify(&shop, id.as_ref(), secrets));
    s.finish();

    let brand = Brand {
        id: id?,
        name: name?.to_string(),
        kind: kind_or_default,
        time_zone: time_zone?,
        currency: currency?,
        launched,
        thresholds: thresholds?,
    };
    let shopify = match shopify {
        Some(Some(config)) => Some(config),
        Some(None) => return None,
        None => None,
    };
    Some((brand, shopify))
}

fn parse_thresholds(t: &Section<'_, '_>, kind: &BrandKind) -> Option<Thresholds> {
    let d = Thresholds::defaults_for(kind);
    let stale_after_days = t.opt_u32("stale_after_days").unwrap_or(d.stale_after_days);
    let low_stock = t.opt_int("low_stock").unwrap_or(d.low_stock);
    let critical_stock = t.opt_int("critical_stock").unwrap_or(d.critical_stock);
    let high_stock = t.opt_int("high_stock").unwrap_or(d.high_stock);
    let delivery_sla_days = t
        .opt_u32("delivery_sla_days")
        .unwrap_or(d.delivery_sla_days);
    t.finish();
    if critical_stock > low_stock {
        t.problem(
            "critical_stock",
            format!("critical_stock ({critical_stock}) must not exceed low_stock ({low_stock})"),
        );
        return None;
    }
    if high_stock <= low_stock {
        t.problem(
            "high_stock",
            format!(
                "high_stock ({high_stock}) must be above low_stock ({low_stock}): \
                 stock above it is overstock, stock at or below low_stock is low"
            ),
        );
        return None;
    }
    if stale_after_days == 0 {
        t.problem("stale_after_days", "must be at least 1 day");
        return None;
    }
    Some(Thresholds {
        stale_after_days,
        low_stock,
        critical_stock,
        high_stock,
        delivery_sla_days,
    })
}

fn parse_shopify(
    s: &Section<'_, '_>,
    brand: Option<&BrandId>,
    secrets: &dyn SecretSource,
) -> Option<ShopifySourceConfig> {
    let shop_domain = s.req_str("shop_domain").and_then(|d| {
        let ok = !d.is_empty()
            && !d.contains("://")
            && !d.contains('/')
            && d.contains('.')
            && d.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-');
        if ok {
            Some(d.to_ascii_lowercase())
        } else {
            s.problem(
                "shop_domain",
                format!("{d:?} is not a shop domain like \"my-store.myshopify.com\""),
            );
            None
        }
    });
    let access_token = secret_value(
        s,
        secrets,
        "access_token",
        "the Shopify Admin API access token",
    );
    if access_token.is_none() && !has_secret_key(s, "access_token") {
        s.section_problem(
            "access_token_env",
            "is required (the name of the environment variable holding the Admin API access token)",
        );
    }
    let webhook_secret = secret_value(
        s,
        secrets,
        "webhook_secret",
        "the app's client secret that signs webhooks",
    );
    let previous_webhook_secret = secret_value(
        s,
        secrets,
        "previous_webhook_secret",
        "the webhook secret before the last rotation",
    );
    // Whether Shopify e-mails the customer a return decided from the
    // refunds queue (`notifyCustomer`; Shopify's own default is false).
    let notify_customer_on_returns = s.opt_bool("notify_customer_on_returns").unwrap_or(true);
    let api_version = s
        .opt_str("api_version")
        .unwrap_or(DEFAULT_SHOPIFY_API_VERSION)
        .to_string();
    let api = match s.opt_str("api") {
        None => ShopifyApi::default(),
        Some(setting) => ShopifyApi::parse(setting).unwrap_or_else(|| {
            s.problem(
                "api",
                format!("{setting:?} is not an Admin API: \"rest\" or \"graphql\""),
            );
            ShopifyApi::default()
        }),
    };
    let base_url = s
        .opt_str("base_url")
        .and_then(|u| token_url(s, "base_url", u, false));
    let cadence = match s.opt_table("sync") {
        Some(sync) => {
            let d = SyncCadence::default();
            let orders = sync
                .opt_str("orders_every")
                .and_then(|v| sync_every(&sync, "orders_every", v));
            let products = sync
                .opt_str("products_every")
                .and_then(|v| sync_every(&sync, "products_every", v));
            let inventory = sync
                .opt_str("inventory_every")
                .and_then(|v| sync_every(&sync, "inventory_every", v));
            sync.finish();
            SyncCadence {
                orders: orders.unwrap_or(d.orders),
                products: products.unwrap_or(d.products),
                inventory: inventory.unwrap_or(d.inventory),
            }
        }
        None => SyncCadence::default(),
    };
    s.finish();
    let brand = brand?.clone();
    let shop_domain = shop_domain?;
    let base_url = match base_url {
        Some(url) => url,
        None => Url::parse(&format!("https://{shop_domain}")).ok()?,
    };
    Some(ShopifySourceConfig {
        source: SourceId::parse(&format!("shopify-{brand}")).ok()?,
        brand,
        shop_domain,
        base_url,
        api_version,
        api,
        access_token: access_token?,
        cadence,
        webhook_secret,
        previous_webhook_secret,
        notify_customer_on_returns,
    })
}

/// One `[[gorgias.attribution]]` rule: `brand` with any of `tags`,
/// `receiving_addresses`, `integration_ids`, or `linked_order = true` (the
/// brand of the order the ticket is about; `brand` then optional).
fn parse_attribution_rule(
    s: &Section<'_, '_>,
    brands: &[Brand],
) -> Option<opsdeck_sources::AttributionRule> {
    let brand = s.opt_str("brand").and_then(|b| match BrandId::parse(b) {
        Ok(id) if brands.iter().any(|known| known.id == id) => Some(Some(id)),
        _ => {
            s.problem(
                "brand",
                format!("{b:?} is not the id of a configured brand"),
            );
            None
        }
    });
    let list = |key: &'static str| -> Vec<String> {
        s.opt_str_list(key)
            .unwrap_or_default()
            .into_iter()
            .map(|v| v.trim().to_string())
            .collect()
    };
    let tags = list("tags");
    let receiving_addresses = list("receiving_addresses");
    let integration_ids = list("integration_ids");
    let linked_order = s.opt_bool("linked_order").unwrap_or(false);
    for address in &receiving_addresses {
        if !address.contains('@') {
            s.problem(
                "receiving_addresses",
                format!("{address:?} is not an email address"),
            );
        }
    }
    let has_match =
        !tags.is_empty() || !receiving_addresses.is_empty() || !integration_ids.is_empty();
    if !has_match && !linked_order {
        s.section_problem(
            "tags",
            "a rule needs tags, receiving_addresses, integration_ids or linked_order = true",
        );
    }
    if has_match && !s.has_key("brand") {
        s.section_problem(
            "brand",
            "is required for a rule that matches tags, addresses or integrations",
        );
    }
    s.finish();
    let brand = match s.has_key("brand") {
        true => brand?,
        false => None,
    };
    Some(opsdeck_sources::AttributionRule {
        brand,
        tags,
        receiving_addresses,
        integration_ids,
        linked_order,
    })
}

fn parse_gorgias(
    s: &Section<'_, '_>,
    secrets: &dyn SecretSource,
    brands: &[Brand],
) -> Option<GorgiasConfig> {
    let subdomain = s.req_str("subdomain").and_then(|d| {
        if !d.is_empty() && d.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
            Some(d.to_string())
        } else {
            s.problem(
                "subdomain",
                format!("{d:?} is not a subdomain like \"acme\" (for acme.gorgias.com)"),
            );
            None
        }
    });
    let user = s.req_str("user");
    let api_key = secret_value(s, secrets, "api_key", "the Gorgias API key");
    let webhook_secret = secret_value(
        s,
        secrets,
        "webhook_secret",
        "the secret of the Gorgias HTTP integration",
    );
    if api_key.is_none() && !has_secret_key(s, "api_key") {
        s.section_problem(
            "api_key_env",
            "is required (the name of the environment variable holding the Gorgias API key)",
        );
    }
    let base_url = s
        .opt_str("base_url")
        .and_then(|u| token_url(s, "base_url", u, false));
    let every = s
        .opt_str("sync_every")
        .and_then(|v| sync_every(s, "sync_every", v))
        .unwrap_or(Duration::from_secs(15 * 60));
    let rules: Vec<Option<opsdeck_sources::AttributionRule>> = s
        .array_of_tables("attribution")
        .iter()
        .map(|rule| parse_attribution_rule(rule, brands))
        .collect();
    s.finish();
    let attribution = rules.into_iter().collect::<Option<Vec<_>>>()?;
    let subdomain = subdomain?;
    let base_url = match base_url {
        Some(url) => url,
        None => Url::parse(&format!("https://{subdomain}.gorgias.com")).ok()?,
    };
    Some(GorgiasConfig {
        source: SourceId::parse("gorgias").expect("valid id"),
        subdomain,
        base_url,
        user: user?.to_string(),
        api_key: api_key?,
        attribution,
        every,
        webhook_secret,
    })
}

fn has_secret_key(s: &Section<'_, '_>, base: &str) -> bool {
    s.has_key(&format!("{base}_env")) || s.has_key(&format!("{base}_file")) || s.has_key(base)
}

/// Reads a secret named by `{base}_env` (an environment variable) or
/// `{base}_file` (a file whose trimmed content is the secret). A literal
/// `{base}` is accepted only for the database URL (which is often not a
/// secret, e.g. a SQLite path); anywhere else it is refused so that tokens
/// stay out of config files.
fn secret_value(
    s: &Section<'_, '_>,
    secrets: &dyn SecretSource,
    base: &'static str,
    what: &str,
) -> Option<Secret> {
    let (env_key, file_key): (&'static str, &'static str) = match base {
        "url" => ("url_env", "url_file"),
        "access_token" => ("access_token_env", "access_token_file"),
        "api_key" => ("api_key_env", "api_key_file"),
        "webhook_secret" => ("webhook_secret_env", "webhook_secret_file"),
        "previous_webhook_secret" => (
            "previous_webhook_secret_env",
            "previous_webhook_secret_file",
        ),
        other => unreachable!("no secret key {other}"),
    };
    let literal = s.opt_str(base);
    let env_name = s.opt_str(env_key);
    let file = s.opt_str(file_key);
    let given = [literal.is_some(), env_name.is_some(), file.is_some()]
        .iter()
        .filter(|g| **g)
        .count();
    if given > 1 {
        s.problem(
            env_key,
            format!("give only one of {base}, {env_key} and {file_key}"),
        );
        return None;
    }
    if let Some(value) = literal {
        if base == "url" {
            return Some(Secret::new(value));
        }
        s.problem(
            base,
            format!("secrets do not belong in the config file: put {what} in an environment variable and name it with {env_key} (or in a file named by {file_key})"),
        );
        return None;
    }
    if let Some(name) = env_name {
        return match secrets.env(name) {
            Some(value) => {
                super::exposure::checked_secret(s, env_key, SecretOrigin::Env(name), &value)
            }
            None => {
                s.problem(
                    env_key,
                    format!("environment variable {name} is not set (it should hold {what})"),
                );
                None
            }
        };
    }
    if let Some(path) = file {
        return match secrets.secret_file(Path::new(path)) {
            Ok(value) if value.trim().is_empty() => {
                s.problem(
                    file_key,
                    format!("file {path} is empty (it should hold {what})"),
                );
                None
            }
            Ok(value) => {
                super::exposure::checked_secret(s, file_key, SecretOrigin::File(path), &value)
            }
            Err(e) => {
                s.problem(file_key, format!("cannot read {path}: {e}"));
                None
            }
        };
    }
    None
}

pub(super) fn currency(s: &Section<'_, '_>, key: &str, value: &str) -> Option<Currency> {
    match Currency::parse(value) {
        Ok(c) if !super::currencies::is_iso_4217(c.code()) => {
            s.problem(
                key,
                format!("{value:?} is not an ISO 4217 currency code like \"USD\" or \"EUR\""),
            );
            None
        }
        Ok(c) => Some(c),
        Err(e) => {
            s.problem(key, e.to_string());
            None
        }
    }
}

/// Largest rate accepted: a million reporting units per unit.
const MAX_RATE: f64 = 1e6;

/// `[reporting.rates]`: `EUR = 1.08` = one euro is worth 1.08 units of the
/// reporting currency. Kept in millionths (`1_080_000`), as the panels use
/// them; a rate finer than a millionth is refused rather than rounded to 0.
fn rates(s: &Section<'_, '_>, reporting: Option<Currency>) -> BTreeMap<Currency, i64> {
    let mut out = BTreeMap::new();
    for (code, item) in s.entries() {
        let upper = code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase());
        let Some(c) = Currency::parse(code)
            .ok()
            .filter(|c| upper && super::currencies::is_iso_4217(c.code()))
        else {
            s.problem(
                code,
                format!("{code:?} is not a currency code (three capital letters, like EUR)"),
            );
            continue;
        };
        if Some(c) == reporting {
            s.problem(code, format!("{code} is the reporting currency itself"));
            continue;
        }
        let rate = match (item.as_float(), item.as_integer()) {
            (Some(f), _) => f,
            (None, Some(i)) => i as f64,
            _ => {
                s.problem(
                    code,
                    "expected a number (units of the reporting currency per unit)",
                );
                continue;
            }
        };
        if !(rate > 0.0 && rate.is_finite()) {
            s.problem(code, format!("must be a positive number, found {rate}"));
            continue;
        }
        if rate > MAX_RATE {
            s.problem(code, format!("must be at most {MAX_RATE}, found {rate}"));
            continue;
        }
        let millionths = (rate * 1e6).round() as i64;
        if millionths < 1 {
            s.problem(
                code,
                format!("{rate} is below 0.000001, the finest rate kept"),
            );
            continue;
        }
        out.insert(c, millionths);
    }
    out
}

fn weekday(s: &Section<'_, '_>, key: &str, value: &str) -> Option<Weekday> {
    let day = match value.to_ascii_lowercase().as_str() {
        "monday" => Weekday::Monday,
        "tuesday" => Weekday::Tuesday,
        "wednesday" => Weekday::Wednesday,
        "thursday" => Weekday::Thursday,
        "friday" => Weekday::Friday,
        "saturday" => Weekday::Saturday,
        "sunday" => Weekday::Sunday,
        _ => {
            s.problem(
                key,
                format!("{value:?} is not a day of the week like \"monday\""),
            );
            return None;
        }
    };
    Some(day)
}

fn http_url(s: &Section<'_, '_>, key: &str, value: &str) -> Option<Url> {
    match Url::parse(value) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.host().is_some() => Some(url),
        _ => {
            s.problem(key, format!("{value:?} is not an http(s) URL"));
            None
        }
    }
}

/// Shortest sync cadence: "1ms" polled the platform without pause (its
/// rate limit then decided for us).
const MIN_SYNC_EVERY: Duration = Duration::from_secs(1);

/// A sync cadence: a positive duration of at least [`MIN_SYNC_EVERY`].
fn sync_every(s: &Section<'_, '_>, key: &str, value: &str) -> Option<Duration> {
    let d = duration(s, key, value)?;
    if d < MIN_SYNC_EVERY {
        s.problem(
            key,
            format!("{value:?} is too often: sync at most every second (\"15m\" is usual)"),
        );
        return None;
    }
    Some(d)
}

/// A duration above zero and at most `max`, for a window with a sensible
/// bound (a queue's SLA, an export link's lifetime): one parser and one
/// message naming the bound, for every key that has one.
pub(super) fn duration_up_to(
    s: &Section<'_, '_>,
    key: &str,
    value: &str,
    max: jiff::SignedDuration,
) -> Option<jiff::SignedDuration> {
    match value.parse::<jiff::SignedDuration>() {
        Ok(d) if d.is_positive() && d <= max => Some(d),
        Ok(_) if max < jiff::SignedDuration::from_hours(1) => {
            s.problem(
                key,
                format!("{value:?} is outside 1 second to {}s", max.as_secs()),
            );
            None
        }
        Ok(_) => {
            let hours = max.as_hours();
            s.problem(
                key,
                format!(
                    "{value:?} is outside 1 second to {hours}h ({} days)",
                    hours / 24
                ),
            );
            None
        }
        Err(_) => {
            s.problem(
                key,
                format!("{value:?} is not a positive duration like \"15m\", \"1h\" or \"30s\""),
            );
            None
        }
    }
}

pub(super) fn duration(s: &Section<'_, '_>, key: &str, value: &str) -> Option<Duration> {
    match value.parse::<jiff::SignedDuration>() {
        Ok(d) if d.is_positive() => Duration::try_from(d).ok(),
        _ => {
            s.problem(
                key,
                format!("{value:?} is not a positive duration like \"15m\", \"1h\" or \"30s\""),
            );
            None
        }
    }
}
