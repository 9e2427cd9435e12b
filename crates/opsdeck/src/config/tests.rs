use super::*;
use std::collections::HashMap;

struct FakeEnv(HashMap<&'static str, &'static str>);

impl SecretSource for FakeEnv {
    fn env(&self, name: &str) -> Option<String> {
        self.0.get(name).map(|v| v.to_string())
    }
    fn file(&self, path: &Path) -> std::io::Result<String> {
        match path.to_str() {
            Some("/run/secrets/token") => Ok("shpat_from_file\n".into()),
            _ => Err(std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "No such file or directory",
            )),
        }
    }
}

fn env() -> FakeEnv {
    FakeEnv(HashMap::from([
        ("OPSDECK_SHOPIFY_PLENTUM_TOKEN", "shpat_plentum_secret"),
        ("OPSDECK_SHOPIFY_MAVENA_TOKEN", "shpat_mavena_secret"),
        ("OPSDECK_GORGIAS_API_KEY", "gorgias_secret"),
        (
            "OPSDECK_SLACK_WEBHOOK_URL",
            "https://hooks.slack.com/services/T/B/x",
        ),
        ("OPSDECK_TELEGRAM_BOT_TOKEN", "123:tg_secret"),
        ("OPSDECK_ALERT_WEBHOOK_SECRET", "whsec-value-9"),
        ("OPSDECK_SMTP_PASSWORD", "smtp-value-7"),
    ]))
}

fn problems(text: &str) -> Vec<ConfigProblem> {
    parse_config(text, &env()).expect_err("config should be refused")
}

#[test]
fn example_config_parses() {
    let config = parse_config(EXAMPLE_CONFIG, &env()).unwrap();
    assert_eq!(config.brands.len(), 3);
    assert_eq!(config.shopify.len(), 2);
    let mavena = &config.brands[1];
    assert_eq!(mavena.kind, opsdeck_domain::BrandKind::Dropship);
    assert_eq!(mavena.thresholds.stale_after_days, 5);
    assert!(!config.brands[2].launched);
    let plentum = &config.shopify[0];
    assert_eq!(plentum.source.as_str(), "shopify-plentum");
    assert_eq!(plentum.base_url.as_str(), "https://plentum.myshopify.com/");
    assert_eq!(plentum.access_token.expose(), "shpat_plentum_secret");
    assert_eq!(plentum.cadence.orders, std::time::Duration::from_secs(900));
    assert_eq!(config.shopify[1].cadence, SyncCadence::default());
    assert_eq!(
        config.gorgias.as_ref().unwrap().base_url.as_str(),
        "https://acme.gorgias.com/"
    );
    assert_eq!(config.listen.to_string(), "127.0.0.1:8080");
}

/// The example with its commented notifier lines switched on: what a
/// merchant gets by uncommenting them must parse too.
#[test]
fn example_notifiers_parse_when_uncommented() {
    let mut in_notifiers = false;
    let text: String = EXAMPLE_CONFIG
        .lines()
        .map(|l| {
            in_notifiers = (in_notifiers && !l.is_empty()) || l.starts_with("# [notifiers.");
            match l.strip_prefix("# ") {
                Some(rest) if in_notifiers => rest,
                _ => l,
            }
        })
        .collect::<Vec<_>>()
        .join("\n");
    let config = parse_config(&text, &env()).unwrap();
    let a = &config.alerts;
    assert!(a.slack.is_some() && a.telegram.is_some());
    assert_eq!(a.webhook.as_ref().unwrap().tiers.len(), 2);
    let email = a.email.as_ref().unwrap();
    assert_eq!((email.host.as_str(), email.port), ("smtp.example.com", 587));
    assert_eq!(a.every, std::time::Duration::from_secs(5));
    assert_eq!(
        config.security.audit_retention,
        std::time::Duration::from_secs(90 * 86_400)
    );
    let debug = format!("{config:?}");
    for secret in [
        "tg_secret",
        "whsec-value-9",
        "smtp-value-7",
        "services/T/B/x",
    ] {
        let at = debug
            .find(secret)
            .map(|i| &debug[i.saturating_sub(300)..i + 20]);
        assert!(at.is_none(), "{secret} leaked in Debug output: {at:?}");
    }
}

#[test]
fn secrets_never_print() {
    let config = parse_config(EXAMPLE_CONFIG, &env()).unwrap();
    let debug = format!("{config:?}");
    for secret in [
        "shpat_plentum_secret",
        "shpat_mavena_secret",
        "gorgias_secret",
    ] {
        assert!(!debug.contains(secret), "{secret} leaked in Debug output");
    }
}

#[test]
fn reports_every_problem_with_line_and_key() {
    let text = r#"
[server]
listen = "not an address"
colour = "blue"

[[brands]]
id = "plentum"
name = "Plentum"
time_zone = "Mars/Olympus"
currency = "USD"

[brands.shopify]
shop_domain = "plentum.myshopify.com"
access_token_env = "MISSING_TOKEN_VAR"

[[brands]]
id = "Bad Id"
name = "X"
kind = "pyramid"
time_zone = "UTC"
currency = "DOLLARS"
"#;
    let found = problems(text);
    let summary: Vec<String> = found.iter().map(|p| p.to_string()).collect();
    let expect = [
        (3, "server.listen", "not an address"),
        (4, "server.colour", "unknown key"),
        (
            9,
            "brands[0].time_zone",
            "unknown time zone \"Mars/Olympus\"",
        ),
        (
            14,
            "brands[0].shopify.access_token_env",
            "environment variable MISSING_TOKEN_VAR is not set",
        ),
        (17, "brands[1].id", "\"Bad Id\""),
        (19, "brands[1].kind", "unknown brand kind \"pyramid\""),
        (21, "brands[1].currency", "DOLLARS"),
    ];
    for (line, key, text) in expect {
        assert!(
            found
                .iter()
                .any(|p| p.line == Some(line) && p.key == key && p.message.contains(text)),
            "missing problem at line {line} {key} containing {text:?}; got:\n{}",
            summary.join("\n")
        );
    }
    assert_eq!(found.len(), expect.len(), "{}", summary.join("\n"));
}

#[test]
fn refuses_literal_tokens_and_never_echoes_them() {
    let text = r#"
[[brands]]
id = "a"
name = "A"
time_zone = "UTC"
currency = "USD"
[brands.shopify]
shop_domain = "a.myshopify.com"
access_token = "shpat_literal_in_file"
"#;
    let found = problems(text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "brands[0].shopify.access_token");
    assert_eq!(found[0].line, Some(9));
    assert!(!found[0].to_string().contains("shpat_literal_in_file"));
}

#[test]
fn token_from_file_and_missing_file() {
    let base = r#"
[[brands]]
id = "a"
name = "A"
time_zone = "UTC"
currency = "USD"
[brands.shopify]
shop_domain = "a.myshopify.com"
"#;
    let ok = parse_config(
        &format!("{base}access_token_file = \"/run/secrets/token\"\n"),
        &env(),
    )
    .unwrap();
    assert_eq!(ok.shopify[0].access_token.expose(), "shpat_from_file");
    let bad = problems(&format!("{base}access_token_file = \"/nope\"\n"));
    assert!(bad[0].message.contains("cannot read /nope"), "{bad:?}");
    let none = problems(base);
    assert_eq!(none[0].key, "brands[0].shopify.access_token_env");
    assert!(none[0].message.contains("is required"));
}

#[test]
fn invalid_toml_points_at_the_line() {
    let found = problems("[server]\nlisten = \"127.0.0.1:80\n");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].line, Some(2));
    assert!(found[0].message.contains("not valid TOML"));
}

#[test]
fn type_errors_and_cross_field_rules() {
    let text = r#"
[database]
url = "sqlite:x.db"
url_env = "DATABASE_URL"

[[brands]]
id = "a"
name = "A"
time_zone = "UTC"
currency = "USD"
launched = "yes"
[brands.thresholds]
low_stock = 2
critical_stock = 5

[[brands]]
id = "a"
name = "Again"
time_zone = "UTC"
currency = "JPY"
[brands.shopify]
shop_domain = "https://a.myshopify.com/"
access_token_env = "OPSDECK_GORGIAS_API_KEY"
[brands.shopify.sync]
orders_every = "soon"
"#;
    let found = problems(text);
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&"database.url_env"), "{found:?}");
    assert!(keys.contains(&"brands[0].launched"), "{found:?}");
    assert!(
        keys.contains(&"brands[0].thresholds.critical_stock"),
        "{found:?}"
    );
    assert!(keys.contains(&"brands[1].id"), "duplicate id: {found:?}");
    assert!(keys.contains(&"brands[1].shopify.shop_domain"), "{found:?}");
    assert!(
        keys.contains(&"brands[1].shopify.sync.orders_every"),
        "{found:?}"
    );
    let launched = found
        .iter()
        .find(|p| p.key == "brands[0].launched")
        .unwrap();
    assert_eq!(launched.message, "expected true or false, found a string");
    assert_eq!(launched.line, Some(11));
}

#[test]
fn defaults_fill_what_is_left_out() {
    let config = parse_config(
        "[[brands]]\nid = \"a\"\nname = \"A\"\ntime_zone = \"Europe/Berlin\"\ncurrency = \"EUR\"\n",
        &env(),
    )
    .unwrap();
    assert_eq!(config.database.url.expose(), DEFAULT_DATABASE_URL);
    assert_eq!(config.reporting_currency.code(), "EUR");
    assert_eq!(config.week_start, jiff::civil::Weekday::Monday);
    assert!(config.brands[0].launched);
    assert!(config.shopify.is_empty());
}

#[test]
fn no_brands_is_a_problem() {
    let found = problems("[server]\nlisten = \"127.0.0.1:9000\"\n");
    assert_eq!(found[0].key, "brands");
}

#[test]
fn database_url_password_is_redacted_for_display() {
    let db = DatabaseConfig {
        url: opsdeck_domain::Secret::new("postgres://ops:hunter2@db.internal:5432/opsdeck"),
    };
    assert_eq!(
        db.display_url(),
        "postgres://ops:***@db.internal:5432/opsdeck"
    );
}

#[test]
fn gorgias_attribution_rules_parse_and_problems_name_line_and_key() {
    let config = parse_config(EXAMPLE_CONFIG, &env()).unwrap();
    let rules = &config.gorgias.as_ref().unwrap().attribution;
    assert_eq!(rules.len(), 3);
    assert_eq!(rules[0].brand.as_ref().unwrap().as_str(), "mavena");
    assert_eq!(rules[0].tags, vec!["mavena", "size-5.5"]);
    assert_eq!(rules[1].receiving_addresses, vec!["support@plentum.com"]);
    assert!(rules[2].linked_order && rules[2].brand.is_none());

    let text = EXAMPLE_CONFIG.replace(
        "[[gorgias.attribution]]\nlinked_order = true",
        "[[gorgias.attribution]]\nbrand = \"nosuch\"\ntags = [\"x\"]\n\n[[gorgias.attribution]]\nreceiving_addresses = [\"not-an-address\"]\n\n[[gorgias.attribution]]\nbrand = \"mavena\"",
    );
    let found = problems(&text);
    let line_of = |needle: &str| text.lines().position(|l| l.contains(needle)).unwrap() + 1;
    let find = |key: &str| {
        found
            .iter()
            .find(|p| p.key == key)
            .unwrap_or_else(|| panic!("no problem for {key}: {found:?}"))
    };
    let unknown = find("gorgias.attribution[2].brand");
    assert_eq!(unknown.line, Some(line_of("brand = \"nosuch\"")));
    assert!(unknown.message.contains("nosuch"));
    let address = find("gorgias.attribution[3].receiving_addresses");
    assert_eq!(address.line, Some(line_of("not-an-address")));
    find("gorgias.attribution[3].brand");
    find("gorgias.attribution[4].tags");
}

#[test]
fn gorgias_webhook_secret_comes_from_the_environment_only() {
    let config = parse_config(EXAMPLE_CONFIG, &env()).unwrap();
    assert!(config.gorgias.as_ref().unwrap().webhook_secret.is_none());
    let with = |line: &str| {
        EXAMPLE_CONFIG.replace(
            "api_key_env = \"OPSDECK_GORGIAS_API_KEY\"",
            &format!("api_key_env = \"OPSDECK_GORGIAS_API_KEY\"\n{line}"),
        )
    };
    let text = with("webhook_secret_env = \"OPSDECK_ALERT_WEBHOOK_SECRET\"");
    let config = parse_config(&text, &env()).unwrap();
    let secret = config.gorgias.unwrap().webhook_secret.unwrap();
    assert_eq!(secret.expose(), "whsec-value-9");
    let found = problems(&with("webhook_secret = \"in-the-file\""));
    let literal = found
        .iter()
        .find(|p| p.key == "gorgias.webhook_secret")
        .unwrap_or_else(|| panic!("{found:?}"));
    assert!(!literal.message.contains("in-the-file"), "{literal:?}");
}

#[test]
fn reporting_rates_parse_into_millionths() {
    let config = parse_config(EXAMPLE_CONFIG, &env()).unwrap();
    assert_eq!(
        config.reporting_rates.get(&opsdeck_domain::Currency::EUR),
        Some(&1_080_000),
        "the example's EUR = 1.08"
    );
    let text =
        "[reporting]\ncurrency = \"USD\"\n[reporting.rates]\nEUR = 1.08\nJPY = 0.0067\nGBP = 1\n\
[[brands]]\nid = \"a\"\nname = \"A\"\ntime_zone = \"UTC\"\ncurrency = \"EUR\"\n";
    let config = parse_config(text, &env()).unwrap();
    let rates: Vec<(String, i64)> = config
        .reporting_rates
        .iter()
        .map(|(c, r)| (c.code().to_string(), *r))
        .collect();
    assert_eq!(
        rates,
        vec![
            ("EUR".into(), 1_080_000),
            ("GBP".into(), 1_000_000),
            ("JPY".into(), 6_700)
        ]
    );
    // Passed to the panels: a euro total in dollars.
    let panels = crate::app::panel_config(&config);
    let eur = opsdeck_domain::Money::new(10_000, opsdeck_domain::Currency::EUR);
    assert_eq!(panels.to_reporting(eur).unwrap().minor, 10_800);
}

#[test]
fn bad_reporting_rates_name_line_and_key() {
    let text = "[reporting]\ncurrency = \"USD\"\n[reporting.rates]\neur = 1.08\nGBP = -1\nJPY = \"x\"\nUSD = 1\nCHF = 0\nSEK = 0.0000001\n\
[[brands]]\nid = \"a\"\nname = \"A\"\ntime_zone = \"UTC\"\ncurrency = \"EUR\"\n";
    let found: Vec<String> = problems(text).iter().map(|p| p.to_string()).collect();
    let has = |needle: &str| {
        assert!(
            found.iter().any(|p| p.contains(needle)),
            "{needle:?} not in {found:#?}"
        )
    };
    has("line 4: reporting.rates.eur: \"eur\" is not a currency code");
    has("line 5: reporting.rates.GBP: must be a positive number, found -1");
    has("line 6: reporting.rates.JPY: expected a number");
    has("line 7: reporting.rates.USD: USD is the reporting currency itself");
    has("line 8: reporting.rates.CHF: must be a positive number, found 0");
    has("line 9: reporting.rates.SEK: 0.0000001 is below 0.000001");
    assert_eq!(found.len(), 6, "{found:#?}");
}

/// `every = "0s"` made the alert evaluator spin and `lease = "0s"` left no
/// leader; negative rule numbers made a rule fire always or never. All were
/// accepted silently.
#[test]
fn alert_timings_and_rule_numbers_must_be_positive() {
    for (from, to, key) in [
        ("every = \"5s\"", "every = \"0s\"", "alerts.every"),
        ("lease = \"30s\"", "lease = \"0s\"", "alerts.lease"),
        ("hours = 6", "hours = -6", "alerts.rules[0].hours"),
    ] {
        assert!(EXAMPLE_CONFIG.contains(from), "{from}");
        let found = problems(&EXAMPLE_CONFIG.replacen(from, to, 1));
        assert_eq!(found.len(), 1, "{to}: {found:?}");
        assert_eq!(found[0].key, key, "{to}");
        assert!(found[0].line.is_some(), "{to}");
    }
    let config = parse_config(
        &EXAMPLE_CONFIG.replacen("hours = 6", "hours = 0.5", 1),
        &env(),
    );
    assert!(config.is_ok(), "fractional hours stay allowed");
}

/// `currency = "XYZ"` (any three letters) was accepted and shown as money
/// in a currency nobody has.
#[test]
fn currencies_must_be_iso_4217() {
    let from = "currency = \"USD\"\nlaunched = true";
    assert!(EXAMPLE_CONFIG.contains(from));
    let found = problems(&EXAMPLE_CONFIG.replacen(from, "currency = \"USX\"\nlaunched = true", 1));
    let keys: Vec<&str> = found.iter().map(|p| p.key.as_str()).collect();
    assert!(keys.contains(&"brands[0].currency"), "{found:?}");
    let brand = found
        .iter()
        .find(|p| p.key == "brands[0].currency")
        .unwrap();
    assert!(
        brand.message.contains("\"USX\" is not an ISO 4217"),
        "{}",
        brand.message
    );
    let found = problems(&EXAMPLE_CONFIG.replacen("EUR = 1.08", "EUX = 1.08", 1));
    assert_eq!(found[0].key, "reporting.rates.EUX", "{found:?}");
    // Lower case stays accepted for a brand, as before.
    let lower = EXAMPLE_CONFIG.replacen(from, "currency = \"usd\"\nlaunched = true", 1);
    assert!(parse_config(&lower, &env()).is_ok());
}

/// `orders_every = "1ms"` was accepted: the worker would poll Shopify
/// without pause.
#[test]
fn sync_cadence_has_a_floor() {
    for (from, to, key) in [
        (
            "orders_every = \"15m\"",
            "orders_every = \"1ms\"",
            "brands[0].shopify.sync.orders_every",
        ),
        (
            "sync_every = \"15m\"",
            "sync_every = \"500ms\"",
            "gorgias.sync_every",
        ),
    ] {
        assert!(EXAMPLE_CONFIG.contains(from), "{from}");
        let found = problems(&EXAMPLE_CONFIG.replacen(from, to, 1));
        assert_eq!(found.len(), 1, "{to}: {found:?}");
        assert_eq!(found[0].key, key);
        assert!(
            found[0].message.contains("too often"),
            "{}",
            found[0].message
        );
    }
    let ok = EXAMPLE_CONFIG.replacen("orders_every = \"15m\"", "orders_every = \"30s\"", 1);
    assert!(
        parse_config(&ok, &env()).is_ok(),
        "the README's 30s example stays valid"
    );
}

#[test]
fn security_limits_parse_and_the_address_lockout_key_is_refused_with_why() {
    let text = EXAMPLE_CONFIG
        .replace(
            "login_attempts_per_minute_per_ip = 20 ",
            "login_attempts_per_minute_per_ip = 7 ",
        )
        .replace(
            "sse_streams_per_session = 8 ",
            "sse_streams_per_session = 3 ",
        )
        .replace(
            "session_idle_timeout = \"30m\"",
            "session_idle_timeout = \"1m\"",
        );
    let config = parse_config(&text, &env()).unwrap();
    let auth = &config.security.auth;
    assert_eq!(auth.idle_timeout, std::time::Duration::from_secs(60));
    assert_eq!(auth.login_limits.attempts_per_minute_per_ip, 7);
    assert_eq!(auth.login_limits.max_failures, 5);
    assert_eq!(auth.rate_limits.sse_streams_per_session, 3);
    assert_eq!(auth.rate_limits.ingest_per_minute_per_token, 600);
    assert_eq!(auth.rate_limits.ingest_per_minute_per_ip, 1200);

    let old = EXAMPLE_CONFIG.replace(
        "sse_streams_per_session = 8 ",
        "login_max_failures_per_ip = 20\nsse_streams_per_session = 8 ",
    );
    let p = problems(&old);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0].key, "security.login_max_failures_per_ip");
    assert!(p[0].line.is_some());
    assert!(
        p[0].message.contains("login_attempts_per_minute_per_ip"),
        "{}",
        p[0].message
    );
    let zero = problems(&EXAMPLE_CONFIG.replace(
        "ingest_requests_per_minute_per_token = 600",
        "ingest_requests_per_minute_per_token = 0",
    ));
    assert_eq!(zero[0].key, "security.ingest_requests_per_minute_per_token");
}

#[test]
fn the_shopify_api_is_rest_unless_graphql_is_chosen() {
    let base = r#"
[[brands]]
id = "a"
name = "A"
time_zone = "UTC"
currency = "USD"
[brands.shopify]
shop_domain = "a.myshopify.com"
access_token_env = "OPSDECK_SHOPIFY_PLENTUM_TOKEN"
"#;
    let default = parse_config(base, &env()).unwrap();
    assert_eq!(default.shopify[0].api, opsdeck_sync::ShopifyApi::Graphql);
    let rest = parse_config(&format!("{base}api = \"rest\"\n"), &env()).unwrap();
    assert_eq!(rest.shopify[0].api, opsdeck_sync::ShopifyApi::Rest);
    let bad = problems(&format!("{base}api = \"soap\"\n"));
    assert_eq!(bad.len(), 1, "{bad:?}");
    assert_eq!(bad[0].key, "brands[0].shopify.api");
    assert_eq!(bad[0].line, Some(10));
}

#[test]
fn the_example_has_the_playbook_regions_and_stock_tiers() {
    let config = parse_config(EXAMPLE_CONFIG, &env()).unwrap();
    let ids: Vec<&str> = config.regions.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(ids, ["us", "eu", "uk", "uae"], "in file order");
    let us = config
        .regions
        .iter()
        .find(|r| r.id.as_str() == "us")
        .unwrap();
    let brands: Vec<&str> = us.brands.iter().map(|b| b.as_str()).collect();
    assert_eq!(brands, ["plentum", "mavena"]);
    assert_eq!(
        (us.currency.code(), us.time_zone_name()),
        ("USD", "America/New_York")
    );
    assert_eq!(us.leads, ["sam"]);
    let t = &config.brands[0].thresholds;
    assert_eq!((t.critical_stock, t.low_stock, t.high_stock), (4, 10, 50));
    // Without [roles], the built-in matrix.
    assert_eq!(
        config.security.auth.roles,
        opsdeck_accounts::Roles::default()
    );
}

/// A minimal valid config with `extra` appended.
fn with_brands(extra: &str) -> String {
    format!(
        r#"
[[brands]]
id = "a"
name = "A"
time_zone = "UTC"
currency = "USD"
[brands.thresholds]
high_stock = 80

[[brands]]
id = "b"
name = "B"
time_zone = "UTC"
currency = "EUR"
{extra}"#
    )
}

#[test]
fn roles_are_configured_over_permissions() {
    use opsdeck_accounts::Permission;
    use opsdeck_store::Role;
    let config = parse_config(
        &with_brands(
            r#"
[roles.night_desk]
permissions = ["view_dashboard", "act_on_alerts"]
[roles.viewer]
permissions = ["view_dashboard", "refresh_sync"]
"#,
        ),
        &env(),
    )
    .unwrap();
    let roles = &config.security.auth.roles;
    let night = Role::parse("night_desk").unwrap();
    assert!(roles.allows(night, Permission::ActOnAlerts));
    assert!(!roles.allows(night, Permission::ViewRevenue));
    assert!(roles.allows(Role::Viewer, Permission::RefreshSync));
    assert!(
        roles.allows(Role::Ops, Permission::ViewRevenue),
        "untouched built-in"
    );
    assert_eq!(config.brands[0].thresholds.high_stock, 80);
}

#[test]
fn a_role_scoped_to_regions_and_brands_sees_those_brands_only() {
    use opsdeck_store::Role;
    let config = parse_config(
        &with_brands(
            r#"
[[brands]]
id = "c"
name = "C"
time_zone = "UTC"
currency = "GBP"

[regions.eu]
name = "EU"
currency = "EUR"
time_zone = "Europe/Berlin"
brands = ["b"]

[roles.eu_lead]
permissions = ["view_dashboard"]
regions = ["eu"]
[roles.regional_lead]
permissions = ["view_dashboard"]
brands = ["c"]
regions = ["eu"]
"#,
        ),
        &env(),
    )
    .unwrap();
    let roles = &config.security.auth.roles;
    let scope = |r: &str| roles.scope(Role::parse(r).unwrap());
    let eu = scope("eu_lead");
    assert!(eu.sees("b") && !eu.sees("a") && !eu.sees("c"), "{eu:?}");
    let lead = scope("regional_lead");
    assert!(
        lead.sees("b") && lead.sees("c") && !lead.sees("a"),
        "{lead:?}"
    );
    assert!(scope("ops").is_every());

    let found = problems(&with_brands(
        r#"
[regions.empty]
name = "Empty"
currency = "EUR"
time_zone = "Europe/Berlin"
[roles.lost]
permissions = ["view_dashboard"]
brands = ["zz"]
regions = ["mars", "empty"]
"#,
    ));
    let messages: Vec<String> = found
        .iter()
        .filter(|p| p.key.starts_with("roles.lost"))
        .map(|p| p.message.clone())
        .collect();
    let all = messages.join(" | ");
    assert!(
        all.contains("unknown brand \"zz\"") && all.contains("the brands are a, b"),
        "{all}"
    );
    assert!(
        all.contains("unknown region \"mars\"") && all.contains("the regions are empty"),
        "{all}"
    );
    assert!(all.contains("region \"empty\" has no brands"), "{all}");
}

#[test]
fn bad_roles_regions_and_tiers_are_named_with_their_key() {
    let found = problems(&with_brands(
        r#"[brands.thresholds]
low_stock = 20
high_stock = 20

[roles.admin]
permissions = ["view_dashboard"]
[roles.Night]
permissions = ["view_dashboard"]
[roles.typo]
permissions = ["see_money"]
[roles.empty]

[regions.eu]
name = "EU"
currency = "EUR"
time_zone = "Europe/Nowhere"
brands = ["a", "zz"]
countries = ["de", "FR"]
leads = ["Lena"]
[regions.eu2]
name = "EU again"
currency = "EUR"
time_zone = "Europe/Paris"
brands = ["a"]
countries = ["FR"]
[regions.UK]
currency = "GBP"
time_zone = "Europe/London"
"#,
    ));
    let find = |key: &str| -> String {
        found
            .iter()
            .filter(|p| p.key == key)
            .map(|p| p.message.clone())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    let has = |key: &str, words: &[&str]| {
        let m = find(key);
        assert!(
            !m.is_empty() && words.iter().all(|w| m.contains(w)),
            "{key}: {m:?} in {found:#?}"
        );
    };
    has(
        "brands[1].thresholds.high_stock",
        &["high_stock (20)", "low_stock (20)"],
    );
    has("roles.admin", &["admin", "cannot be redefined"]);
    has("roles.Night", &["\"Night\"", "a-z"]);
    has("roles.typo.permissions", &["\"see_money\"", "view_revenue"]);
    has("roles.empty.permissions", &["required"]);
    has("regions.eu.time_zone", &["Europe/Nowhere"]);
    has(
        "regions.eu.brands",
        &["unknown brand \"zz\"", "the brands are a"],
    );
    has("regions.eu.countries", &["\"de\"", "ISO 3166"]);
    has("regions.eu.leads", &["Lena"]);
    has("regions.eu2.brands", &["\"a\"", "already in region", "eu"]);
    has("regions.eu2.countries", &["FR", "already in region"]);
    has("regions.UK", &["\"UK\""]);
    has("regions.UK.name", &["required"]);
}

#[test]
fn incidents_override_a_severity_and_refuse_bad_values_by_name() {
    use opsdeck_operations::incidents::Severity;
    // The example's `[incidents]` is not its last table: set the name in place.
    let base = EXAMPLE_CONFIG.replace(
        "status_page_name = \"Status\"",
        "status_page_name = \"Mavena status\"",
    );
    let text = format!(
        "{base}\n\
         [incidents.severity.high]\nresponse_target = \"10m\"\nnotify = [\"EU lead\"]\n\
         [[incidents.severity.high.escalation]]\nafter = \"5m\"\nnotify = [\"founder\"]\n\
         channels = [\"telegram\"]\nrepeats = 1\nevery = \"10m\"\n"
    );
    let config = parse_config(&text, &env()).unwrap();
    assert_eq!(config.incidents.status_page_name, "Mavena status");
    let high = config.incidents.severities.get(Severity::High);
    assert_eq!(high.response_target, jiff::SignedDuration::from_mins(10));
    assert_eq!(high.notify, ["EU lead"]);
    assert_eq!(high.escalation.len(), 1);
    assert_eq!(high.escalation[0].notify, ["founder"]);
    // Untouched keys and severities keep the playbook's.
    assert!(high.incident_mode);
    assert_eq!(
        config.incidents.severities.get(Severity::Low).notify,
        ["standard queue"]
    );

    let bad = format!(
        "{base}\n[incidents.severity.low]\nresponse_target = \"9d\"\nchannels = [\"pager\"]\n\
         [[incidents.severity.low.escalation]]\nnotify = [\"lead\"]\nchannels = [\"slack\"]\n\
         repeats = 200\nevery = \"1h\"\n"
    );
    let found: Vec<String> = problems(&bad)
        .iter()
        .map(|p| format!("{}: {}", p.key, p.message))
        .collect();
    let all = found.join("\n");
    assert!(
        all.contains("incidents.severity.low.response_target"),
        "{all}"
    );
    assert!(all.contains("unknown channel \"pager\""), "{all}");
    assert!(all.contains("repeats: at most 100, got 200"), "{all}");
}

#[test]
fn approvals_parse_with_roles_checked_by_name_and_platforms_signed() {
    let config = parse_config(EXAMPLE_CONFIG, &env()).unwrap();
    let refund = config
        .approvals
        .policy
        .rule(opsdeck_store::ApprovalKind::Refund);
    assert_eq!(
        refund.threshold,
        opsdeck_operations::approvals::Threshold::AmountOver { major_units: 500 }
    );
    assert_eq!(refund.approver_role, opsdeck_store::Role::Admin);

    let text = EXAMPLE_CONFIG.replace("refund = \"admin\"", "refund = \"finance\"")
        + "\n[[approvals.platforms]]\nsource = \"lux-ingest\"\ncallback_url_prefix = \"https://lux.example.com/cb/\"\ncallback_secret_env = \"OPSDECK_ALERT_WEBHOOK_SECRET\"\n";
    let config = parse_config(&text, &env()).unwrap();
    let rule = config
        .approvals
        .policy
        .rule(opsdeck_store::ApprovalKind::Refund);
    assert_eq!(rule.approver_role, opsdeck_store::Role::Finance);
    assert_eq!(config.approvals.platforms[0].source, "lux-ingest");

    let text = EXAMPLE_CONFIG.replace("refund = \"admin\"", "refund = \"finance_chief\"");
    let found = problems(&text);
    assert!(
        found
            .iter()
            .any(|p| p.to_string().contains("approvals.approvers.refund")
                && p.to_string().contains("unknown role \"finance_chief\"")),
        "{found:?}"
    );
}

#[test]
fn flags_section_is_parsed_and_each_problem_named_with_its_bound() {
    let with = |flags: &str| format!("{EXAMPLE_CONFIG}\n{flags}");
    let config = parse_config(
        &with(
            "[flags]\npolling_interval_seconds = 60\nrequires_approval = [\"freeze-checkout\"]\n\
             mirror_to_shopify = [\"sales-pause\"]\n[[flags.webhooks]]\nname = \"cache\"\n\
             url = \"https://cache.example.com/hook\"\nsecret_env = \"OPSDECK_ALERT_WEBHOOK_SECRET\"\n",
        ),
        &env(),
    )
    .unwrap();
    let s = &config.flags.settings;
    assert_eq!(s.polling_interval_seconds, 60);
    assert_eq!(
        s.requires_approval,
        [opsdeck_operations::flags::FlagKey::FreezeCheckout]
    );
    assert_eq!(s.mirror_brands.len(), config.shopify.len());
    assert_eq!(s.webhooks, ["cache"]);
    assert_eq!(config.flags.webhooks[0].secret.expose(), "whsec-value-9");

    let found = problems(&with(
        "[flags]\npolling_interval_seconds = 2\nrequires_approval = [\"freeze-everything\"]\n\
         [[flags.webhooks]]\nname = \"cache\"\nurl = \"https://cache.example.com/hook\"\nsecret = \"inline\"\n",
    ));
    let text: Vec<String> = found.iter().map(|p| p.to_string()).collect();
    let has = |needle: &str| {
        assert!(
            text.iter().any(|t| t.contains(needle)),
            "{needle} not in {text:#?}"
        )
    };
    has("flags.polling_interval_seconds: 2 is out of bounds: between 5 and 3600 seconds");
    has("\"freeze-everything\" is not a flag");
    has("secrets do not belong in the config file");
}
