//! `opsdeck token create|list|revoke`: API tokens for the ingest API.
//!
//! A token is shown once, at creation, on standard output (and nowhere
//! else: the store keeps only its hash). Creating and revoking are changes a
//! person makes, so each writes an audit entry naming who (the OS user, or
//! `--actor`) in the same transaction as the change.

use anyhow::{bail, Context};
use opsdeck_domain::{Brand, SourceId, Timestamp};
use opsdeck_operations::incidents::INGEST_KIND as INCIDENTS;
use opsdeck_operations::privacy::INGEST_KIND as PRIVACY;
use opsdeck_sources::ingest::IngestKind;
use opsdeck_store::{ApiToken, AuditAction, AuditEntry, NewApiToken, Store, TokenKinds};

/// Who is making the change: `--actor`, else the OS user.
pub fn actor(explicit: Option<&str>) -> String {
    explicit
        .map(str::to_string)
        .or_else(|| std::env::var("USER").ok())
        .or_else(|| std::env::var("USERNAME").ok())
        .filter(|a| !a.trim().is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

/// `orders,tracking-events` or `all`; every name must be an ingest kind,
/// `incidents` (declaring incidents by `POST /api/v1/incidents`) or
/// `privacy_requests` (filing them by `POST /api/v1/privacy/requests`).
pub fn parse_kinds(text: &str) -> anyhow::Result<TokenKinds> {
    if text.trim() == "all" {
        return Ok(TokenKinds::All);
    }
    let mut kinds = Vec::new();
    let mut unknown = Vec::new();
    for name in text.split(',').map(str::trim).filter(|k| !k.is_empty()) {
        let known = IngestKind::parse(name)
            .map(IngestKind::api_name)
            .or((name == INCIDENTS).then_some(INCIDENTS))
            .or((name == PRIVACY).then_some(PRIVACY));
        match known {
            Some(kind) if !kinds.contains(&kind.to_string()) => kinds.push(kind.to_string()),
            Some(_) => {}
            None => unknown.push(name.to_string()),
        }
    }
    if !unknown.is_empty() {
        let known: Vec<&str> = IngestKind::ALL
            .iter()
            .map(|k| k.api_name())
            .chain([INCIDENTS, PRIVACY])
            .collect();
        bail!(
            "unknown kind(s) {}; use `all` or some of: {}",
            unknown.join(", "),
            known.join(", ")
        );
    }
    if kinds.is_empty() {
        bail!("--kinds is empty; use `all` or a comma-separated list of kinds");
    }
    Ok(TokenKinds::Only(kinds))
}

/// The source a brand's ingest records are stored under.
pub fn default_source(brand: &Brand) -> anyhow::Result<SourceId> {
    SourceId::parse(&format!("ingest-{}", brand.id)).context("brand id too long for a source id")
}

/// Creates a token; returns it (the caller prints the plaintext once).
pub async fn create(
    store: &dyn Store,
    brand: &Brand,
    name: &str,
    kinds: TokenKinds,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<NewApiToken> {
    if name.trim().is_empty() {
        bail!("--name must not be empty");
    }
    let new = NewApiToken::generate(
        name,
        brand.id.clone(),
        default_source(brand)?,
        kinds,
        actor,
        now,
    );
    let t = &new.token;
    let audit = AuditEntry {
        at: now,
        actor: actor.to_string(),
        action: AuditAction::ApiTokenCreate,
        subject: format!("api_token:{}", t.id),
        payload: serde_json::json!({
            "id": t.id, "name": t.name, "brand": t.brand, "source": t.source, "kinds": t.kinds,
        }),
        ip: None,
    };
    store
        .create_api_token(&new, &audit)
        .await
        .context("cannot store the token")?;
    Ok(new)
}

/// Revokes a token by id; an error when there is no unrevoked token with it.
pub async fn revoke(
    store: &dyn Store,
    id: &str,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    let audit = AuditEntry {
        at: now,
        actor: actor.to_string(),
        action: AuditAction::ApiTokenRevoke,
        subject: format!("api_token:{id}"),
        payload: serde_json::json!({ "id": id }),
        ip: None,
    };
    if !store.revoke_api_token(id, now, &audit).await? {
        bail!("no active token with id {id:?} (see `opsdeck token list`)");
    }
    Ok(())
}

/// The `token list` table. Never holds a secret: the store has none.
pub fn format_list(tokens: &[ApiToken]) -> String {
    let mut out = String::from("ID            BRAND       SOURCE              KINDS  CREATED               BY        LAST USED             REVOKED               NAME\n");
    let ts = |t: Option<Timestamp>| {
        t.map_or("-".to_string(), |t| {
            t.strftime("%Y-%m-%d %H:%M:%SZ").to_string()
        })
    };
    for t in tokens {
        out.push_str(&format!(
            "{:<13} {:<11} {:<19} {:<6} {:<21} {:<9} {:<21} {:<21} {}\n",
            t.id,
            t.brand.as_str(),
            t.source.as_str(),
            match &t.kinds {
                TokenKinds::All => "all".to_string(),
                TokenKinds::Only(k) => k.len().to_string(),
            },
            ts(Some(t.created_at)),
            t.created_by,
            ts(t.last_used_at),
            ts(t.revoked_at),
            t.name
        ));
        if let TokenKinds::Only(kinds) = &t.kinds {
            out.push_str(&format!("              kinds: {}\n", kinds.join(",")));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_checked() {
        assert_eq!(parse_kinds("all").unwrap(), TokenKinds::All);
        assert_eq!(
            parse_kinds("orders, tracking-events,orders").unwrap(),
            TokenKinds::Only(vec!["orders".into(), "tracking-events".into()])
        );
        let e = parse_kinds("orders,parcels").unwrap_err().to_string();
        assert!(e.contains("unknown kind(s) parcels"), "{e}");
        assert!(parse_kinds(" , ").is_err());
    }

    #[tokio::test]
    async fn create_list_revoke_with_audit_and_no_secret_in_the_list() {
        let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
        let brand = crate::import::tests::brand();
        let now: Timestamp = "2026-06-10T10:00:00Z".parse().unwrap();
        let new = create(
            store.as_ref(),
            &brand,
            "pharmacy",
            TokenKinds::All,
            "ana",
            now,
        )
        .await
        .unwrap();
        let plain = new.plaintext.expose().to_string();
        let listed = format_list(&store.list_api_tokens().await.unwrap());
        assert!(listed.contains(&new.token.id) && listed.contains("ingest-pharma"));
        assert!(!listed.contains(plain.rsplit('_').next().unwrap()));
        revoke(store.as_ref(), &new.token.id, "bo", now)
            .await
            .unwrap();
        assert!(revoke(store.as_ref(), &new.token.id, "bo", now)
            .await
            .is_err());
        let log = store.audit_log(10).await.unwrap();
        assert_eq!(log.len(), 2);
        assert_eq!(
            (log[0].action.as_str(), log[0].actor.as_str()),
            ("api_token.revoke", "bo")
        );
        assert_eq!(log[1].payload["kinds"], "all");
        assert!(!log[1]
            .payload
            .to_string()
            .contains(plain.rsplit('_').next().unwrap()));
    }
}

/// `opsdeck token …`.
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create an API token for the ingest API and print it ONCE on standard
    /// output (only its hash is stored).
    Create {
        /// The brand the token writes records for.
        #[arg(long)]
        brand: String,
        /// What the token is for, e.g. "pharmacy platform".
        #[arg(long)]
        name: String,
        /// Comma-separated ingest kinds (orders,tracking-events,…) or `all`.
        #[arg(long)]
        kinds: String,
        /// Who is creating it, for the audit log; default the OS user.
        #[arg(long)]
        actor: Option<String>,
        #[arg(long, short, default_value = "opsdeck.toml")]
        config: std::path::PathBuf,
    },
    /// List tokens (never their secrets).
    List {
        #[arg(long, short, default_value = "opsdeck.toml")]
        config: std::path::PathBuf,
    },
    /// Revoke a token by id; requests with it are refused from then on.
    Revoke {
        id: String,
        /// Who is revoking it, for the audit log; default the OS user.
        #[arg(long)]
        actor: Option<String>,
        #[arg(long, short, default_value = "opsdeck.toml")]
        config: std::path::PathBuf,
    },
}

impl TokenCommand {
    pub fn config_path(&self) -> &std::path::Path {
        match self {
            TokenCommand::Create { config, .. }
            | TokenCommand::List { config }
            | TokenCommand::Revoke { config, .. } => config,
        }
    }
}

/// Runs a token command against the configured store.
pub async fn run(command: TokenCommand, config: &crate::config::Config) -> anyhow::Result<()> {
    let store = crate::app::open_store(config).await?;
    let now = Timestamp::now();
    match command {
        TokenCommand::Create {
            brand,
            name,
            kinds,
            actor: who,
            ..
        } => {
            let brand = config
                .brands
                .iter()
                .find(|b| b.id.as_str() == brand)
                .with_context(|| {
                    format!(
                        "unknown brand {brand:?}; configured brands: {}",
                        config
                            .brands
                            .iter()
                            .map(|b| b.id.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    )
                })?;
            let kinds = parse_kinds(&kinds)?;
            let new = create(
                store.as_ref(),
                brand,
                &name,
                kinds,
                &actor(who.as_deref()),
                now,
            )
            .await?;
            eprintln!(
                "Created token {} ({:?}) for brand {}, stored as source {}, kinds: {}.\n\
                 This is the only time it is shown; keep it in your platform's secret settings:",
                new.token.id, new.token.name, new.token.brand, new.token.source, new.token.kinds
            );
            println!("{}", new.plaintext.expose());
        }
        TokenCommand::List { .. } => print!("{}", format_list(&store.list_api_tokens().await?)),
        TokenCommand::Revoke { id, actor: who, .. } => {
            revoke(store.as_ref(), &id, &actor(who.as_deref()), now).await?;
            println!("token {id} revoked");
        }
    }
    Ok(())
}
