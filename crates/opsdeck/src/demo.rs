//! `opsdeck demo`: the simulated merchant and opsdeck in one process.
//!
//! The simulator serves four fake Shopify stores over real HTTP on a
//! loopback port; opsdeck syncs them through the same connector code it uses
//! against real Shopify, into a fresh SQLite file, and serves the dashboard.
//! The simulated world keeps moving (orders arrive, ship, get delivered).

use crate::app::{self, Clock};
use crate::config::{Config, DatabaseConfig, GorgiasConfig, ShopifySourceConfig, SyncCadence};
use anyhow::Context;
use jiff::civil::Weekday;
use jiff::Timestamp;
use opsdeck_domain::{Brand, BrandId, BrandKind, Currency, Secret, SourceId, Thresholds};
use opsdeck_simulator::{ShopInfo, SimConfig, Simulator};
use opsdeck_sources::AttributionRule;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio::net::TcpListener;
use url::Url;

pub struct DemoOptions {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub seed: u64,
    /// How often the simulated world advances and the connector syncs orders.
    pub tick: Duration,
}

/// The configuration the demo runs with: one brand and one Shopify source
/// per simulated shop, pointed at the simulator.
pub fn demo_config(
    shops: &[ShopInfo],
    simulator_addr: SocketAddr,
    listen: SocketAddr,
    database_url: String,
    tick: Duration,
) -> anyhow::Result<Config> {
    let mut brands = Vec::new();
    let mut shopify = Vec::new();
    for shop in shops {
        let id = BrandId::parse(&shop.brand_id)?;
        let kind = BrandKind::parse(&shop.kind);
        brands.push(Brand {
            id: id.clone(),
            name: shop.name.clone(),
            thresholds: Thresholds::defaults_for(&kind),
            kind,
            time_zone: jiff::tz::TimeZone::get(&shop.time_zone)?,
            currency: Currency::parse(&shop.currency)?,
            launched: shop.launched,
        });
        shopify.push(ShopifySourceConfig {
            source: SourceId::parse(&format!("shopify-{id}"))?,
            brand: id,
            shop_domain: shop.shop_domain.clone(),
            base_url: Url::parse(&Simulator::shop_base_url(simulator_addr, &shop.slug))?,
            api_version: crate::config::DEFAULT_SHOPIFY_API_VERSION.to_string(),
            api: opsdeck_sync::ShopifyApi::default(),
            access_token: Secret::new(shop.access_token.clone()),
            cadence: SyncCadence {
                orders: tick,
                products: tick * 6,
                inventory: tick * 6,
            },
            webhook_secret: None,
            previous_webhook_secret: None,
            notify_customer_on_returns: true,
        });
    }
    Ok(Config {
        listen,
        public_url: None,
        database: DatabaseConfig {
            url: Secret::new(database_url),
        },
        week_start: Weekday::Monday,
        reporting_currency: Currency::USD,
        reporting_rates: Default::default(),
        brands,
        shopify,
        gorgias: None,
        alerts: Default::default(),
        security: Default::default(),
        regions: Vec::new(),
        incidents: Default::default(),
        approvals: Default::default(),
        flags: Default::default(),
        handover: Default::default(),
        queues: Default::default(),
        customers: Default::default(),
        review_queues: Default::default(),
        privacy: Default::default(),
        health_checks: Vec::new(),
        reports: Vec::new(),
        observability: Default::default(),
    })
}

/// The simulated helpdesk: one rule per brand (its address and its
/// top-issue tag), then the linked-order rule; tickets from strangers to the
/// group inbox stay unattributed.
pub fn demo_gorgias(
    simulator: &Simulator,
    simulator_addr: SocketAddr,
    tick: Duration,
) -> anyhow::Result<GorgiasConfig> {
    let mut attribution: Vec<AttributionRule> = simulator
        .gorgias_brand_desks()
        .into_iter()
        .map(|(brand, address, tag)| {
            Ok(AttributionRule {
                brand: Some(BrandId::parse(&brand)?),
                tags: tag.into_iter().collect(),
                receiving_addresses: vec![address],
                ..AttributionRule::default()
            })
        })
        .collect::<anyhow::Result<_>>()?;
    attribution.push(AttributionRule {
        linked_order: true,
        ..AttributionRule::default()
    });
    let (user, api_key) = simulator.gorgias_credentials();
    Ok(GorgiasConfig {
        source: SourceId::parse("gorgias")?,
        subdomain: "acme-brands".into(),
        base_url: Url::parse(&Simulator::gorgias_base_url(simulator_addr))?,
        user,
        api_key: Secret::new(api_key),
        attribution,
        every: tick * 2,
        webhook_secret: None,
    })
}

/// Creates the demo's admin, ops and viewer users with random passwords;
/// returns (username, role, password) for printing.
pub async fn demo_users(
    store: &dyn opsdeck_store::Store,
) -> anyhow::Result<Vec<(String, opsdeck_store::Role, String)>> {
    use opsdeck_store::Role;
    use rand::Rng;
    const CHARS: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let hasher = opsdeck_accounts::PasswordHasher::default();
    let mut created = Vec::new();
    for (username, role) in [
        ("admin", Role::Admin),
        ("ops", Role::Ops),
        ("viewer", Role::Viewer),
    ] {
        let mut rng = rand::thread_rng();
        let password: String = (0..16)
            .map(|_| CHARS[rng.gen_range(0..CHARS.len())] as char)
            .collect();
        crate::users_cli::add(
            store,
            &hasher,
            username,
            role,
            &password,
            "demo",
            Timestamp::now(),
        )
        .await?;
        created.push((username.to_string(), role, password));
    }
    Ok(created)
}

/// The demo's simulated merchant. The shops run without their rate limit;
/// the helpdesk keeps Gorgias's (40 calls per 20 s), as a merchant's
/// Gorgias would: the connector reads tickets, messages and surveys as
/// account-wide lists, about 290 calls for the demo's 6,500 tickets, so the
/// first sync takes a couple of minutes at that limit. (A demo without
/// it once hid a connector that asked for each ticket's messages
/// separately: an hour of calls.)
pub fn demo_simulator(seed: u64, now: Timestamp) -> Simulator {
    let simulator = Simulator::new(SimConfig {
        seed,
        now,
        scale: 1.0,
    });
    simulator.set_rate_limit(false);
    simulator
}

/// Shell lines exporting the simulator's fake credentials under the
/// environment variable names `opsdeck default-config` uses, so a
/// configuration of one's own can be tried against the demo's stores.
pub fn simulator_credentials(simulator: &Simulator) -> Vec<String> {
    let mut lines: Vec<String> = simulator
        .shops()
        .iter()
        .map(|shop| {
            format!(
                "export OPSDECK_SHOPIFY_{}_TOKEN={}",
                shop.slug.to_ascii_uppercase().replace('-', "_"),
                shop.access_token
            )
        })
        .collect();
    let (user, api_key) = simulator.gorgias_credentials();
    lines.push(format!(
        "export OPSDECK_GORGIAS_API_KEY={api_key}   # [gorgias] user = \"{user}\""
    ));
    lines
}

/// Runs the demo until `shutdown` completes.
pub async fn run(options: DemoOptions, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    std::fs::create_dir_all(&options.data_dir)
        .with_context(|| format!("cannot create {}", options.data_dir.display()))?;
    let db_path = options.data_dir.join("demo.db");
    for suffix in ["", "-wal", "-shm"] {
        let path = PathBuf::from(format!("{}{suffix}", db_path.display()));
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove old {}", path.display()))?;
        }
    }

    let simulator = demo_simulator(options.seed, Timestamp::now());
    let sim_listener = TcpListener::bind("127.0.0.1:0")
        .await
        .context("cannot bind the simulator to a loopback port")?;
    let sim_addr = sim_listener.local_addr()?;
    let (sim_stop, mut sim_stop_rx) = tokio::sync::watch::channel(false);
    let sim_server = {
        let simulator = simulator.clone();
        tokio::spawn(async move {
            simulator
                .serve(sim_listener, async move {
                    let _ = sim_stop_rx.wait_for(|s| *s).await;
                })
                .await
        })
    };
    let ticker = {
        let simulator = simulator.clone();
        let tick = options.tick;
        tokio::spawn(async move {
            let mut interval = tokio::time::interval(tick);
            loop {
                interval.tick().await;
                simulator.advance_to(Timestamp::now());
            }
        })
    };

    let mut config = demo_config(
        &simulator.shops(),
        sim_addr,
        options.listen,
        format!("sqlite:{}", db_path.display()),
        options.tick,
    )?;
    let mut gorgias = demo_gorgias(&simulator, sim_addr, options.tick)?;
    // Near-real-time support: the helpdesk's HTTP integration POSTs its
    // events to /webhooks/gorgias with this secret.
    let gorgias_secret = {
        use rand::Rng;
        let bits: u128 = rand::thread_rng().gen();
        format!("{bits:032x}")
    };
    gorgias.webhook_secret = Some(Secret::new(gorgias_secret.clone()));
    config.gorgias = Some(gorgias);
    // Near-real-time: the simulator signs webhooks with each shop's secret.
    for (source, shop) in config.shopify.iter_mut().zip(simulator.shops()) {
        source.webhook_secret = simulator.webhook_secret(&shop.slug).map(Secret::new);
    }
    let listener = TcpListener::bind(options.listen).await.with_context(|| {
        format!(
            "cannot listen on {} (is another opsdeck running? pick another address with --listen)",
            options.listen
        )
    })?;
    // Alerts go to fake Slack, Telegram and SMTP receivers, printed as they arrive.
    let receivers = crate::alerts_app::demo_receivers(&mut config).await?;
    let clock: Clock = app::system_clock();
    let running = app::start(&config, listener, clock).await?;
    let accounts = demo_users(running.store.as_ref()).await?;
    // Subscribe through the same code path as `opsdeck shopify webhooks register`.
    let address = url::Url::parse(&format!("http://{}/webhooks/shopify", running.addr))?;
    let registrations = crate::shopify_cli::register_all(&config, &address).await?;
    simulator.set_gorgias_http_integration(
        &format!("http://{}/webhooks/gorgias", running.addr),
        &gorgias_secret,
    );
    for r in &registrations {
        for error in &r.errors {
            tracing::warn!(%error, "demo webhook registration");
        }
    }

    println!();
    println!("  opsdeck demo is running");
    println!("  dashboard:  http://{}/", running.addr);
    println!("  JSON API:   http://{}/api/v1/order-volume", running.addr);
    println!("  simulated Shopify stores at http://{sim_addr}/shops/{{plentum,mavena,pawfully,retromedy}}");
    println!("  simulated Gorgias helpdesk at http://{sim_addr}/gorgias/api/tickets");
    println!("  to point `opsdeck serve` at the simulator (base_url as above; fake credentials):");
    for line in simulator_credentials(&simulator) {
        println!("    {line}");
    }
    println!("  database:   {}", db_path.display());
    println!("  alerts:     http://{}/api/v1/alerts (messages to the fake Slack, Telegram and email relay are printed below)", running.addr);
    println!("  log in with (created for this demo, shown only now):");
    for (username, role, password) in &accounts {
        println!("    {role:<7} username {username:<7} password {password}");
    }
    println!("  press Ctrl-C to stop");
    println!();

    // Until Ctrl-C, or until a task whose policy is to stop the process
    // (the web server) ends: then the error names it.
    let outcome = running
        .until(async {
            shutdown.await;
            println!("stopping…");
        })
        .await;
    ticker.abort();
    receivers.printer.abort();
    let _ = sim_stop.send(true);
    let _ = sim_server.await;
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The printed lines carry every shop's token under the variable the
    /// example configuration names, and the helpdesk's key.
    #[test]
    fn simulator_credentials_match_the_example_configuration() {
        let simulator = demo_simulator(7, Timestamp::now());
        let lines = simulator_credentials(&simulator);
        let example = crate::config::EXAMPLE_CONFIG;
        for shop in simulator.shops() {
            let var = format!("OPSDECK_SHOPIFY_{}_TOKEN", shop.slug.to_ascii_uppercase());
            assert!(
                lines.contains(&format!("export {var}={}", shop.access_token)),
                "{var}: {lines:?}"
            );
        }
        assert!(example.contains("\"OPSDECK_SHOPIFY_PLENTUM_TOKEN\""));
        let (user, key) = simulator.gorgias_credentials();
        let gorgias = lines.last().unwrap();
        assert!(gorgias.starts_with(&format!("export OPSDECK_GORGIAS_API_KEY={key} ")));
        assert!(gorgias.contains(&user));
        assert!(example.contains("\"OPSDECK_GORGIAS_API_KEY\""));
    }

    /// The demo's helpdesk keeps Gorgias's call limit: 40 calls at once,
    /// the 41st refused with 429 and a `Retry-after`.
    #[tokio::test]
    async fn demo_helpdesk_keeps_gorgias_call_limit() {
        let simulator = demo_simulator(7, Timestamp::now());
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = {
            let simulator = simulator.clone();
            tokio::spawn(async move { simulator.serve(listener, std::future::pending()).await })
        };
        let (user, key) = simulator.gorgias_credentials();
        let url = format!("{}/api/account", Simulator::gorgias_base_url(addr));
        let client = reqwest::Client::new();
        let mut refused = None;
        // 80 calls: refused by the 41st, unless 20 s pass meanwhile.
        for call in 0..80 {
            let response = client
                .get(&url)
                .basic_auth(&user, Some(&key))
                .send()
                .await
                .unwrap();
            if response.status() == 429 {
                refused = Some((call, response.headers()["retry-after"].clone()));
                break;
            }
            let limit = response.headers()["x-gorgias-account-api-call-limit"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(limit.ends_with("/40"), "{limit}");
        }
        let (call, retry_after) = refused.expect("a burst of calls is refused");
        assert!(call >= 40, "refused at call {call}: 40 pass at once");
        assert_eq!(retry_after, "1");
        server.abort();
    }
}
