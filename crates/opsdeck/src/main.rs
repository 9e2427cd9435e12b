//! The `opsdeck` command line: parses arguments and calls the library.

use anyhow::Context;
use clap::{Parser, Subcommand};
use opsdeck::config::{self, ProcessEnv};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

/// opsdeck — one screen for what needs attention now across your stores
/// and helpdesk, with alerts before anyone looks.
#[derive(Parser)]
#[command(name = "opsdeck", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a full working dashboard against simulated Shopify stores, on a
    /// fresh SQLite file. Needs no configuration and no network.
    Demo {
        /// Address the dashboard listens on.
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        /// Folder for the demo's database (recreated on every start).
        #[arg(long, default_value = "opsdeck-demo")]
        data_dir: PathBuf,
        /// Seed of the simulated merchant; the same seed gives the same history.
        #[arg(long, default_value_t = 42)]
        seed: u64,
        /// Seconds between simulated-world updates and order syncs.
        #[arg(long, default_value_t = 5)]
        tick_seconds: u64,
    },
    /// Run opsdeck with a configuration file: sync the configured stores and
    /// serve the dashboard and API until Ctrl-C or SIGTERM.
    Serve {
        /// Path of the TOML configuration (see `opsdeck default-config`).
        #[arg(long, short)]
        config: PathBuf,
    },
    /// Check a configuration file and list every problem with its line and
    /// key (unknown keys, bad time zones, unset secret variables). Exits
    /// non-zero when there is any problem. Never prints secret values.
    CheckConfig {
        /// Path of the TOML configuration.
        file: PathBuf,
    },
    /// Create or upgrade the database schema, then exit. `serve` and `demo`
    /// also migrate at start.
    Migrate {
        /// Take the database URL from this configuration file.
        #[arg(long, short, conflicts_with = "database_url")]
        config: Option<PathBuf>,
        /// Database URL (sqlite:PATH or postgres://…); default sqlite:opsdeck.db.
        #[arg(long, env = "OPSDECK_DATABASE_URL", hide_env_values = true)]
        database_url: Option<String>,
    },
    /// Print a commented example configuration to standard output.
    DefaultConfig,
    /// Shopify store management through the Admin API.
    Shopify {
        #[command(subcommand)]
        command: ShopifyCommand,
    },
    /// API tokens for the ingest API: create (shown once), list, revoke.
    Token {
        #[command(subcommand)]
        command: opsdeck::tokens_cli::TokenCommand,
    },
    /// Dashboard users: add (password prompted or --password-stdin),
    /// reset-password, list, disable.
    User {
        #[command(subcommand)]
        command: opsdeck::users_cli::UserCommand,
    },
    /// Import a CSV file of orders, products or inventory levels for a
    /// brand; every invalid row is listed and nothing is written unless
    /// --skip-invalid.
    Import(opsdeck::import::ImportArgs),
}

#[derive(Subcommand)]
enum ShopifyCommand {
    /// Webhook subscriptions of every configured store.
    Webhooks {
        #[command(subcommand)]
        command: WebhooksCommand,
    },
}

#[derive(Subcommand)]
enum WebhooksCommand {
    /// Subscribe every configured store to the topics opsdeck handles
    /// (idempotent: existing subscriptions are kept, missing ones created).
    Register {
        #[arg(long, short)]
        config: PathBuf,
        /// Where Shopify should deliver; default `{public_url}/webhooks/shopify`.
        #[arg(long)]
        address: Option<String>,
    },
    /// List every configured store's webhook subscriptions.
    List {
        #[arg(long, short)]
        config: PathBuf,
    },
}

fn main() -> ExitCode {
    let logging = opsdeck::logging::init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, &logging)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn load(path: &std::path::Path) -> anyhow::Result<config::Config> {
    config::load_config(path, &ProcessEnv).map_err(|problems| {
        let list: Vec<String> = problems.iter().map(|p| format!("  {p}")).collect();
        anyhow::anyhow!(
            "{} has {} problem(s):\n{}",
            path.display(),
            problems.len(),
            list.join("\n")
        )
    })
}

async fn run(command: Command, logging: &opsdeck::logging::Logging) -> anyhow::Result<ExitCode> {
    match command {
        Command::Demo {
            listen,
            data_dir,
            seed,
            tick_seconds,
        } => {
            let options = opsdeck::demo::DemoOptions {
                listen,
                data_dir,
                seed,
                tick: Duration::from_secs(tick_seconds.max(1)),
            };
            opsdeck::demo::run(options, opsdeck::app::shutdown_signal()).await?;
        }
        Command::Serve { config } => {
            let config = load(&config)?;
            logging.use_config(config.observability.log_format);
            opsdeck::app::run(config, opsdeck::app::shutdown_signal()).await?;
        }
        Command::CheckConfig { file } => match config::load_config(&file, &ProcessEnv) {
            Ok(config) => {
                println!(
                    "{}: OK ({} brands, {} Shopify stores, Gorgias {}; database {})",
                    file.display(),
                    config.brands.len(),
                    config.shopify.len(),
                    if config.gorgias.is_some() {
                        "configured"
                    } else {
                        "not configured"
                    },
                    config.database.display_url()
                );
            }
            Err(problems) => {
                eprintln!("{}: {} problem(s)", file.display(), problems.len());
                for problem in problems {
                    eprintln!("  {problem}");
                }
                return Ok(ExitCode::FAILURE);
            }
        },
        Command::Migrate {
            config,
            database_url,
        } => {
            let url = match (config, database_url) {
                (Some(path), _) => load(&path)?.database.url.expose().to_string(),
                (None, Some(url)) => url,
                (None, None) => config::DEFAULT_DATABASE_URL.to_string(),
            };
            let store = opsdeck_store::connect(&url)
                .await
                .context("cannot open the database")?;
            store.migrate().await.context("migration failed")?;
            println!("database is up to date");
        }
        Command::DefaultConfig => print!("{}", config::EXAMPLE_CONFIG),
        Command::Shopify {
            command: ShopifyCommand::Webhooks { command },
        } => {
            use opsdeck::shopify_cli;
            let ok = match command {
                WebhooksCommand::Register { config, address } => {
                    let config = load(&config)?;
                    let address = shopify_cli::webhook_address(&config, address.as_deref())?;
                    let reports = shopify_cli::register_all(&config, &address).await?;
                    shopify_cli::print_registrations(&reports, &address)
                }
                WebhooksCommand::List { config } => {
                    shopify_cli::print_lists(&load(&config)?).await?
                }
            };
            if !ok {
                return Ok(ExitCode::FAILURE);
            }
        }
        Command::Token { command } => {
            let config = load(command.config_path())?;
            opsdeck::tokens_cli::run(command, &config).await?;
        }
        Command::User { command } => {
            let config = load(command.config_path())?;
            opsdeck::users_cli::run(command, &config).await?;
        }
        Command::Import(args) => {
            let config = load(&args.config)?;
            if !opsdeck::import::run(args, &config).await? {
                return Ok(ExitCode::FAILURE);
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}
