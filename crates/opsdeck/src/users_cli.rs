//! `opsdeck user add|reset-password|list|disable`: dashboard accounts.
//!
//! The password is read from a prompt (no echo, asked twice) or, for
//! scripts, the first line of standard input with `--password-stdin`;
//! never from an argument, where it would land in shell history and the
//! process list. Only its argon2id hash is stored. Every change writes an
//! audit entry naming the OS user (or `--actor`), in the same transaction.

use crate::tokens_cli::actor;
use anyhow::{bail, Context};
use opsdeck_accounts::password::check_new_password;
use opsdeck_accounts::PasswordHasher;
use opsdeck_domain::Timestamp;
use opsdeck_store::{validate_username, AuditAction, AuditEntry, NewUser, Role, Store, User};
use std::io::BufRead;

/// `opsdeck user …`.
#[derive(Debug, clap::Subcommand)]
pub enum UserCommand {
    /// Create a dashboard user with a role (admin, ops, support, finance,
    /// viewer); the password is prompted for, or read from stdin.
    Add {
        #[arg(long)]
        username: String,
        #[arg(long)]
        role: String,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Who is creating it, for the audit log; default the OS user.
        #[arg(long)]
        actor: Option<String>,
        #[arg(long, short, default_value = "opsdeck.toml")]
        config: std::path::PathBuf,
    },
    /// Set a new password (ends the user's sessions).
    ResetPassword {
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long, short, default_value = "opsdeck.toml")]
        config: std::path::PathBuf,
    },
    /// List users and their roles (never password hashes).
    List {
        #[arg(long, short, default_value = "opsdeck.toml")]
        config: std::path::PathBuf,
    },
    /// Disable a user: it can no longer log in and its sessions end.
    Disable {
        #[arg(long)]
        username: String,
        #[arg(long)]
        actor: Option<String>,
        #[arg(long, short, default_value = "opsdeck.toml")]
        config: std::path::PathBuf,
    },
}

impl UserCommand {
    pub fn config_path(&self) -> &std::path::Path {
        match self {
            UserCommand::Add { config, .. }
            | UserCommand::ResetPassword { config, .. }
            | UserCommand::List { config }
            | UserCommand::Disable { config, .. } => config,
        }
    }
}

fn audit(
    actor: &str,
    action: AuditAction,
    username: &str,
    payload: serde_json::Value,
    at: Timestamp,
) -> AuditEntry {
    AuditEntry {
        at,
        actor: format!("cli:{actor}"),
        action,
        subject: format!("user:{username}"),
        payload,
        ip: None,
    }
}

/// Creates a user with an already checked password.
pub async fn add(
    store: &dyn Store,
    hasher: &PasswordHasher,
    username: &str,
    role: Role,
    password: &str,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    validate_username(username).map_err(anyhow::Error::msg)?;
    check_new_password(password).map_err(anyhow::Error::msg)?;
    let hash = hasher
        .hash(password)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    let new = NewUser {
        username: username.into(),
        role,
        password_hash: hash,
        at: now,
    };
    let entry = audit(
        actor,
        AuditAction::UserCreate,
        username,
        serde_json::json!({ "role": role.as_str() }),
        now,
    );
    if !store.create_user(&new, &entry).await? {
        bail!("user {username:?} already exists; use `opsdeck user reset-password` to change its password");
    }
    Ok(())
}

/// Replaces a user's password and ends its sessions.
pub async fn reset_password(
    store: &dyn Store,
    hasher: &PasswordHasher,
    username: &str,
    password: &str,
    actor: &str,
    now: Timestamp,
) -> anyhow::Result<()> {
    check_new_password(password).map_err(anyhow::Error::msg)?;
    let hash = hasher
        .hash(password)
        .map_err(|e| anyhow::anyhow!("cannot hash the password: {e}"))?;
    let entry = audit(
        actor,
        AuditAction::UserPasswordReset,
        username,
        serde_json::json!({}),
        now,
    );
    if !store
        .set_user_password(username, &hash, now, &entry)
        .await?
    {
        bail!("no user {username:?}; `opsdeck user list` shows the users");
    }
    Ok(())
}

/// A table of users for `opsdeck user list`.
pub fn format_list(users: &[User]) -> String {
    if users.is_empty() {
        return "no users yet: create one with `opsdeck user add --username NAME --role admin`\n"
            .into();
    }
    let mut out = format!(
        "{:<24} {:<8} {:<22} {}\n",
        "USERNAME", "ROLE", "CREATED", "STATUS"
    );
    for u in users {
        let status = match u.disabled_at {
            Some(at) => format!("disabled {}", at.strftime("%Y-%m-%d %H:%M UTC")),
            None => "active".into(),
        };
        out.push_str(&format!(
            "{:<24} {:<8} {:<22} {}\n",
            u.username,
            u.role.as_str(),
            u.created_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
            status
        ));
    }
    out
}

/// The new password: the first line of stdin, or typed twice at a prompt.
fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    let first = rpassword::prompt_password("New password: ")
        .context("cannot read the password (no terminal? use --password-stdin)")?;
    let second = rpassword::prompt_password("Repeat it: ").context("cannot read the password")?;
    if first != second {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(first)
}

/// Runs a user command against the configured store.
pub async fn run(command: UserCommand, config: &crate::config::Config) -> anyhow::Result<()> {
    let now = Timestamp::now();
    let hasher = PasswordHasher::default();
    match command {
        UserCommand::Add {
            username,
            role,
            password_stdin,
            actor: who,
            ..
        } => {
            let role = Role::parse(&role).map_err(anyhow::Error::msg)?;
            config
                .security
                .auth
                .roles
                .check_role(role)
                .map_err(anyhow::Error::msg)?;
            validate_username(&username).map_err(anyhow::Error::msg)?;
            let password = read_password(password_stdin)?;
            let store = crate::app::open_store(config).await?;
            add(
                store.as_ref(),
                &hasher,
                &username,
                role,
                &password,
                &actor(who.as_deref()),
                now,
            )
            .await?;
            println!("user {username} created with role {role}");
        }
        UserCommand::ResetPassword {
            username,
            password_stdin,
            actor: who,
            ..
        } => {
            let password = read_password(password_stdin)?;
            let store = crate::app::open_store(config).await?;
            reset_password(
                store.as_ref(),
                &hasher,
                &username,
                &password,
                &actor(who.as_deref()),
                now,
            )
            .await?;
            println!("password of {username} changed; its sessions were ended");
        }
        UserCommand::List { .. } => {
            let store = crate::app::open_store(config).await?;
            print!("{}", format_list(&store.list_users().await?));
        }
        UserCommand::Disable {
            username,
            actor: who,
            ..
        } => {
            let store = crate::app::open_store(config).await?;
            let entry = audit(
                &actor(who.as_deref()),
                AuditAction::UserDisable,
                &username,
                serde_json::json!({}),
                now,
            );
            if !store.disable_user(&username, now, &entry).await? {
                bail!("no enabled user {username:?}; `opsdeck user list` shows the users");
            }
            println!("user {username} disabled; its sessions were ended");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn add_reset_disable_and_refusals() {
        let (store, _guard) = opsdeck_store::testing::sqlite_temp().await;
        let h = PasswordHasher::insecure_fast_for_tests();
        let now = Timestamp::UNIX_EPOCH;
        add(
            store.as_ref(),
            &h,
            "anna",
            Role::Ops,
            "correct horse battery",
            "root",
            now,
        )
        .await
        .unwrap();
        let err = add(
            store.as_ref(),
            &h,
            "anna",
            Role::Ops,
            "correct horse battery",
            "root",
            now,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("already exists"), "{err}");
        let err = add(store.as_ref(), &h, "bob", Role::Ops, "short", "root", now)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("at least 12"), "{err}");
        let err = add(
            store.as_ref(),
            &h,
            "Bob",
            Role::Ops,
            "correct horse battery",
            "root",
            now,
        )
        .await
        .unwrap_err();
        assert!(err.to_string().contains("lowercase"), "{err}");
        reset_password(
            store.as_ref(),
            &h,
            "anna",
            "another long secret",
            "root",
            now,
        )
        .await
        .unwrap();
        let (_, hash) = store.user_credentials("anna").await.unwrap().unwrap();
        assert!(h.verify("another long secret", &hash));
        assert!(reset_password(
            store.as_ref(),
            &h,
            "ghost",
            "another long secret",
            "root",
            now
        )
        .await
        .is_err());
        let list = format_list(&store.list_users().await.unwrap());
        assert!(
            list.contains("anna") && list.contains("ops") && list.contains("active"),
            "{list}"
        );
        let log = store.audit_log(10).await.unwrap();
        let actions: Vec<_> = log.iter().map(|e| e.action.as_str()).collect();
        assert_eq!(actions, ["user.password_reset", "user.create"]);
        assert_eq!(log[0].actor, "cli:root");
        assert!(
            !log.iter().any(|e| e.payload.to_string().contains("secret")),
            "no password in the log"
        );
    }
}
