//! Dashboard accounts, their server-side sessions, and the audit log's
//! queries (append, search, prune).
//!
//! The store keeps facts, not policy: it never sees a password (only the
//! argon2id PHC string the web computed) nor a session id (only its
//! SHA-256), and it does not decide when a session has expired — the web
//! does, from its configured idle and absolute limits and the timestamps
//! read back here. Every change to a user writes its audit entry in the
//! same transaction, like the API token changes in [`crate::tokens`].

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros};
use crate::tokens::{
    audit_entry, audit_params, AuditEntry, AUDIT_COLS, AUDIT_INSERT, AUDIT_SELECT,
};
use crate::{AuditAction, Result};
use async_trait::async_trait;
use opsdeck_domain::Timestamp;
use serde::Serialize;
use tracing::instrument;

/// The name of the role a person has. What a role may do is configuration
/// (`[roles.NAME]`, over the permissions of `opsdeck-accounts`, with the
/// built-in roles as defaults); the store keeps the name only, so a role
/// added to the configuration needs no migration.
///
/// A name is 1–[`Role::MAX_LEN`] characters of `a-z 0-9 _`, starting with
/// a letter, held inline so a `Role` is `Copy` like the closed enum it
/// replaced (roles are passed around as freely as permissions).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Role {
    len: u8,
    bytes: [u8; Role::MAX_LEN],
}

#[expect(
    non_upper_case_globals,
    reason = "the built-in roles read as the enum variants they were (Role::Admin), \
              so every caller and test written against the enum still reads right"
)]
impl Role {
    /// The longest role name.
    pub const MAX_LEN: usize = 32;

    /// Everything, including what no narrower permission covers.
    pub const Admin: Role = Role::constant("admin");
    pub const Ops: Role = Role::constant("ops");
    pub const Support: Role = Role::constant("support");
    pub const Finance: Role = Role::constant("finance");
    pub const Viewer: Role = Role::constant("viewer");

    /// The five roles that existed before roles became configuration;
    /// their permissions are unchanged defaults.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::Ops,
        Role::Support,
        Role::Finance,
        Role::Viewer,
    ];

    /// A role named in code (the built-in roles), usable in patterns; a
    /// name [`Role::parse`] would refuse fails the build.
    pub const fn constant(name: &'static str) -> Role {
        let src = name.as_bytes();
        assert!(
            !src.is_empty() && src.len() <= Role::MAX_LEN && src[0].is_ascii_lowercase(),
            "a role name is 1 to 32 characters and starts with a-z"
        );
        let mut bytes = [0u8; Role::MAX_LEN];
        let mut i = 0;
        while i < src.len() {
            let b = src[i];
            assert!(
                b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_',
                "a role name holds only a-z, 0-9 and _"
            );
            bytes[i] = b;
            i += 1;
        }
        Role {
            len: src.len() as u8,
            bytes,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only `parse` and `builtin` build a Role, from ASCII names.
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }

    /// Parses a role name (its form only: whether the role exists is the
    /// configuration's to say). The error names the rule.
    pub fn parse(s: &str) -> std::result::Result<Role, String> {
        let ok = !s.is_empty()
            && s.len() <= Role::MAX_LEN
            && s.starts_with(|c: char| c.is_ascii_lowercase())
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !ok {
            return Err(format!(
                "{s:?} is not a role name: 1 to {} characters of a-z, 0-9 and _, \
                 starting with a letter (the built-in roles are admin, ops, support, \
                 finance, viewer)",
                Role::MAX_LEN
            ));
        }
        let mut bytes = [0u8; Role::MAX_LEN];
        bytes[..s.len()].copy_from_slice(s.as_bytes());
        Ok(Role {
            len: s.len() as u8,
            bytes,
        })
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Role({})", self.as_str())
    }
}

impl Serialize for Role {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// A typed username as accounts are keyed: surrounding whitespace dropped
/// and lowercased, so ` ADMIN ` and `Admin` are `admin` wherever a name is
/// looked up or counted (login, its throttle, the audit log). Names are
/// stored only in this form ([`validate_username`] refuses any other).
pub fn normalize_username(typed: &str) -> String {
    typed.trim().to_lowercase()
}

/// Checks a username: 1–64 characters of `a-z 0-9 . _ @ -`, starting with a
/// letter or digit. Lowercase only, so `Ops` and `ops` cannot be two people.
pub fn validate_username(name: &str) -> std::result::Result<(), String> {
    let ok_char = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit() || "._@-".contains(c);
    if name.is_empty() || name.len() > 64 {
        return Err("username must be 1 to 64 characters".into());
    }
    if !name.chars().all(ok_char) || !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "username {name:?} may hold only lowercase letters, digits and . _ @ - \
             and must start with a letter or digit"
        ));
    }
    Ok(())
}

/// A dashboard account, without its password hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct User {
    pub username: String,
    pub role: Role,
    pub created_at: Timestamp,
    pub password_changed_at: Timestamp,
    /// Set once disabled: the account can no longer log in.
    pub disabled_at: Option<Timestamp>,
}

/// A user to create; `password_hash` is an argon2id PHC string.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub role: Role,
    pub password_hash: String,
    pub at: Timestamp,
}

/// A session to store. `id_sha256` is the hex SHA-256 of the random id the
/// cookie carries; the id itself is never stored.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id_sha256: String,
    pub username: String,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub ip: Option<String>,
}

/// A stored session with its user as it is now (role changes and disabling
/// take effect on the next request).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionRecord {
    pub user: User,
    pub csrf_token: String,
    pub created_at: Timestamp,
    pub last_seen_at: Timestamp,
    pub ip: Option<String>,
}

/// Which audit entries to read: every filter is optional; `[from, to)`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: Option<String>,
    pub action: Option<AuditAction>,
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// At most this many, newest first.
    pub limit: u32,
    /// Only entries older than this one (the next page of a listing).
    pub before: Option<AuditCursor>,
}

/// One account's recent attack reports ([`AuditAction::LoginUnderAttack`]
/// entries, whose payload holds the `failures` and `addresses` counts),
/// with the figures of the newest: what the "account under attack" alert
/// says. Holds counts only, never a password or address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginAttack {
    pub username: String,
    /// When the newest report was written.
    pub last_at: Timestamp,
    /// How many reports were written since the query's start.
    pub reports: u32,
    /// Failed logins for the account in the newest report's window.
    pub failures: u64,
    /// Distinct addresses they came from.
    pub addresses: u64,
}

/// Where one audit entry sits in the log's newest-first order: a page
/// ends at one, and the next page starts after it. Keyset, not an offset,
/// so entries written while someone pages do not shift the pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuditCursor {
    at_us: i64,
    id: i64,
}

impl std::fmt::Display for AuditCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.at_us, self.id)
    }
}

impl std::str::FromStr for AuditCursor {
    type Err = String;

    /// The form [`Display`](std::fmt::Display) writes: `AT_US.ID`.
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let bad = || format!("{s:?} is not an audit page cursor (like 1781114700000000.42)");
        let (at, id) = s.split_once('.').ok_or_else(bad)?;
        Ok(AuditCursor {
            at_us: at.parse().map_err(|_| bad())?,
            id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// One page of the audit log: the entries, and where the next page starts
/// when there are more.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditPage {
    pub entries: Vec<AuditEntry>,
    pub next: Option<AuditCursor>,
}

/// The columns a [`User`] is read from (by name, by [`user_from_row`]),
/// of the table aliased `u`; [`USER_COLS`] are their types in this order.
const USER_COLUMNS: &str = "u.username AS username, u.role AS role, \
    u.created_at_us AS created_at_us, u.password_changed_at_us AS password_changed_at_us, \
    u.disabled_at_us AS disabled_at_us";
const USER_COLS: [Col; 5] = [Col::Text, Col::Text, Col::Int, Col::Int, Col::Int];
fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

/// A user from a row that holds [`USER_COLUMNS`].
fn user_from_row(row: &Row) -> Result<User> {
    const KIND: &str = "user";
    let username = row.text("username")?;
    let ts = |col: &str| from_micros(row.int(col)?, KIND, &username);
    Ok(User {
        role: Role::parse(&row.text("role")?).map_err(|e| corrupt(KIND, &username, e))?,
        created_at: ts("created_at_us")?,
        password_changed_at: ts("password_changed_at_us")?,
        disabled_at: row
            .opt_int("disabled_at_us")
            .map(|us| from_micros(us, KIND, &username))
            .transpose()?,
        username,
    })
}

impl<D: Db> SqlStore<D> {
    pub(crate) async fn user_create(&self, new: &NewUser, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let inserted = tx
            .execute(
                "INSERT INTO users (username, role, password_hash, created_at_us, \
                 password_changed_at_us, disabled_at_us) VALUES ($1, $2, $3, $4, $4, NULL) \
                 ON CONFLICT (username) DO NOTHING",
                &[
                    text(&new.username),
                    text(new.role.as_str()),
                    text(&new.password_hash),
                    int(micros(new.at)),
                ],
            )
            .await?;
        if inserted == 0 {
            return Ok(false);
        }
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn user_credentials_of(
        &self,
        username: &str,
    ) -> Result<Option<(User, String)>> {
        let mut cols = USER_COLS.to_vec();
        cols.push(Col::Text);
        let rows = self
            .db
            .fetch(
                &format!(
                    "SELECT {USER_COLUMNS}, u.password_hash AS password_hash FROM users u \
                     WHERE u.username = $1"
                ),
                &[text(username)],
                &cols,
            )
            .await?;
        rows.first()
            .map(|row| Ok((user_from_row(row)?, row.text("password_hash")?)))
            .transpose()
    }

    pub(crate) async fn user_list(&self) -> Result<Vec<User>> {
        let rows = self
            .db
            .fetch(
                &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY u.username"),
                &[],
                &USER_COLS,
            )
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    /// Runs `update` on one user and, if it changed a row, deletes the
    /// user's sessions and writes `audit`, all in one transaction.
    async fn user_change(
        &self,
        update: &str,
        params: &[Value],
        username: &str,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        if tx.execute(update, params).await? == 0 {
            return Ok(false);
        }
        tx.execute(
            "DELETE FROM sessions WHERE username = $1",
            &[text(username)],
        )
        .await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn user_set_password(
        &self,
        username: &str,
        password_hash: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        self.user_change(
            "UPDATE users SET password_hash = $2, password_changed_at_us = $3 WHERE username = $1",
            &[text(username), text(password_hash), int(micros(at))],
            username,
            audit,
        )
        .await
    }

    pub(crate) async fn user_disable(
        &self,
        username: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        self.user_change(
            "UPDATE users SET disabled_at_us = $2 WHERE username = $1 AND disabled_at_us IS NULL",
            &[text(username), int(micros(at))],
            username,
            audit,
        )
        .await
    }

    pub(crate) async fn session_create(&self, new: &NewSession) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO sessions (id_sha256, username, csrf_token, created_at_us, \
                 last_seen_at_us, ip) VALUES ($1, $2, $3, $4, $4, $5)",
                &[
                    text(&new.id_sha256),
                    text(&new.username),
                    text(&new.csrf_token),
                    int(micros(new.created_at)),
                    Value::Text(new.ip.clone()),
                ],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn session_get(&self, id_sha256: &str) -> Result<Option<SessionRecord>> {
        let mut cols = USER_COLS.to_vec();
        cols.extend([Col::Text, Col::Int, Col::Int, Col::Text]);
        let rows = self
            .db
            .fetch(
                &format!(
                    "SELECT {USER_COLUMNS}, s.csrf_token AS csrf_token, \
                     s.created_at_us AS session_created_at_us, \
                     s.last_seen_at_us AS last_seen_at_us, s.ip AS ip \
                     FROM sessions s JOIN users u ON u.username = s.username \
                     WHERE s.id_sha256 = $1"
                ),
                &[text(id_sha256)],
                &cols,
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let user = user_from_row(row)?;
        let ts = |col: &str| from_micros(row.int(col)?, "session", &user.username);
        Ok(Some(SessionRecord {
            csrf_token: row.text("csrf_token")?,
            created_at: ts("session_created_at_us")?,
            last_seen_at: ts("last_seen_at_us")?,
            ip: row.opt_text("ip"),
            user,
        }))
    }

    pub(crate) async fn session_touch(&self, id_sha256: &str, at: Timestamp) -> Result<()> {
        self.db
            .execute(
                "UPDATE sessions SET last_seen_at_us = $2 WHERE id_sha256 = $1 \
                 AND last_seen_at_us < $2",
                &[text(id_sha256), int(micros(at))],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn session_delete(&self, id_sha256: &str) -> Result<bool> {
        let n = self
            .db
            .execute(
                "DELETE FROM sessions WHERE id_sha256 = $1",
                &[text(id_sha256)],
            )
            .await?;
        Ok(n > 0)
    }

    pub(crate) async fn sessions_prune(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64> {
        self.db
            .execute(
                "DELETE FROM sessions WHERE last_seen_at_us < $1 OR created_at_us < $2",
                &[int(micros(idle_before)), int(micros(created_before))],
            )
            .await
    }

    pub(crate) async fn audit_append(&self, entry: &AuditEntry) -> Result<()> {
        self.db.execute(AUDIT_INSERT, &audit_params(entry)).await?;
        Ok(())
    }

    pub(crate) async fn audit_search(&self, filter: &AuditFilter) -> Result<AuditPage> {
        let mut clauses = Vec::new();
        let mut params = Vec::new();
        let mut add = |clause: &str, value: Value| {
            params.push(value);
            clauses.push(clause.replace('?', &format!("${}", params.len())));
        };
        if let Some(actor) = &filter.actor {
            add("actor = ?", text(actor));
        }
        if let Some(action) = &filter.action {
            add("action = ?", text(action.as_str()));
        }
        if let Some(from) = filter.from {
            add("at_us >= ?", int(micros(from)));
        }
        if let Some(to) = filter.to {
            add("at_us < ?", int(micros(to)));
        }
        if let Some(c) = filter.before {
            params.push(int(c.at_us));
            params.push(int(c.id));
            let (a, i) = (params.len() - 1, params.len());
            clauses.push(format!("(at_us < ${a} OR (at_us = ${a} AND id < ${i}))"));
        }
        let filter_sql = if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        };
        // One more than asked, to know whether a next page exists.
        params.push(int(i64::from(filter.limit) + 1));
        let sql = format!(
            "SELECT {AUDIT_SELECT}, id FROM audit_log {filter_sql} \
             ORDER BY at_us DESC, id DESC LIMIT ${}",
            params.len()
        );
        let mut cols = AUDIT_COLS.to_vec();
        cols.push(Col::Int);
        let rows = self.db.fetch(&sql, &params, &cols).await?;
        let mut entries = Vec::with_capacity(rows.len());
        let mut cursors = Vec::with_capacity(rows.len());
        for row in &rows {
            cursors.push(AuditCursor {
                at_us: row.int("at_us")?,
                id: row.int("id")?,
            });
            entries.push(audit_entry(row)?);
        }
        let limit = filter.limit as usize;
        let next = if entries.len() > limit {
            entries.truncate(limit);
            limit.checked_sub(1).map(|last| cursors[last])
        } else {
            None
        };
        Ok(AuditPage { entries, next })
    }

    pub(crate) async fn login_attacks(&self, since: Timestamp) -> Result<Vec<LoginAttack>> {
        let rows = self
            .db
            .fetch(
                "SELECT at_us, actor, payload FROM audit_log WHERE action = $1 AND at_us >= $2 \
                 ORDER BY at_us DESC, id DESC",
                &[
                    text(AuditAction::LoginUnderAttack.as_str()),
                    int(micros(since)),
                ],
                &[Col::Int, Col::Text, Col::Text],
            )
            .await?;
        let mut out: Vec<LoginAttack> = Vec::new();
        for row in &rows {
            let username = row.text("actor")?;
            if let Some(seen) = out.iter_mut().find(|a| a.username == username) {
                seen.reports += 1;
                continue;
            }
            let subject = format!("user:{username}");
            let payload: serde_json::Value = serde_json::from_str(&row.text("payload")?)
                .map_err(|e| corrupt("audit_log", &subject, e))?;
            let count = |field: &str| {
                payload[field].as_u64().ok_or_else(|| {
                    corrupt(
                        "audit_log",
                        &subject,
                        format!(
                            "{} payload has no count {field:?}",
                            AuditAction::LoginUnderAttack
                        ),
                    )
                })
            };
            out.push(LoginAttack {
                last_at: from_micros(row.int("at_us")?, "audit_log", &subject)?,
                reports: 1,
                failures: count("failures")?,
                addresses: count("addresses")?,
                username,
            });
        }
        Ok(out)
    }

    pub(crate) async fn audit_prune(&self, before: Timestamp) -> Result<u64> {
        self.db
            .execute(
                "DELETE FROM audit_log WHERE at_us < $1",
                &[int(micros(before))],
            )
            .await
    }
}

/// Accounts, sessions and the audit log: the part of a [`crate::Store`]
/// the dashboard's login and audit pages use. A supertrait of `Store`, so
/// every store has it and callers hold one `Arc<dyn Store>`.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Creates a user and writes `audit`, in one transaction. `false` (and
    /// nothing written) when the username is taken.
    async fn create_user(&self, user: &NewUser, audit: &AuditEntry) -> Result<bool>;

    /// The user and its password hash (PHC string), for checking a login.
    async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>>;

    /// Every user, by username.
    async fn list_users(&self) -> Result<Vec<User>>;

    /// Replaces the password hash, ends every session of the user and writes
    /// `audit`, in one transaction. `false` when no such user exists.
    async fn set_user_password(
        &self,
        username: &str,
        password_hash: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Disables the user, ends its sessions and writes `audit`, in one
    /// transaction. `false` when no such enabled user exists.
    async fn disable_user(&self, username: &str, at: Timestamp, audit: &AuditEntry)
        -> Result<bool>;

    async fn create_session(&self, session: &NewSession) -> Result<()>;

    /// The session with this id hash and its user as it is now.
    async fn session(&self, id_sha256: &str) -> Result<Option<SessionRecord>>;

    /// Moves `last_seen_at` forward to `at` (never back).
    async fn touch_session(&self, id_sha256: &str, at: Timestamp) -> Result<()>;

    /// Ends a session (logout). `false` when it did not exist.
    async fn delete_session(&self, id_sha256: &str) -> Result<bool>;

    /// Deletes sessions last seen before `idle_before` or created before
    /// `created_before`; returns how many.
    async fn prune_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64>;

    /// Appends one entry to the audit log.
    async fn record_audit(&self, entry: &AuditEntry) -> Result<()>;

    /// Audit entries matching `filter`, newest first.
    async fn search_audit(&self, filter: &AuditFilter) -> Result<Vec<AuditEntry>> {
        Ok(self.search_audit_page(filter).await?.entries)
    }

    /// One page of the entries matching `filter` (at most `limit`, after
    /// `before`), newest first, and the cursor of the next page if any.
    async fn search_audit_page(&self, filter: &AuditFilter) -> Result<AuditPage>;

    /// Deletes audit entries older than `before`; returns how many.
    async fn prune_audit(&self, before: Timestamp) -> Result<u64>;

    /// The accounts with a [`AuditAction::LoginUnderAttack`] report at or after
    /// `since`, the most recently attacked first.
    async fn login_attacks_since(&self, since: Timestamp) -> Result<Vec<LoginAttack>>;
}

#[async_trait]
impl<D: Db> UserStore for SqlStore<D> {
    #[instrument(skip_all, fields(backend = ?self.db.backend(), user = %user.username))]
    async fn create_user(&self, user: &NewUser, audit: &AuditEntry) -> Result<bool> {
        self.user_create(user, audit).await
    }

    async fn user_credentials(&self, username: &str) -> Result<Option<(User, String)>> {
        self.user_credentials_of(username).await
    }

    async fn list_users(&self) -> Result<Vec<User>> {
        self.user_list().await
    }

    #[instrument(skip(self, password_hash, audit), fields(backend = ?self.db.backend()))]
    async fn set_user_password(
        &self,
        username: &str,
        password_hash: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        self.user_set_password(username, password_hash, at, audit)
            .await
    }

    #[instrument(skip(self, audit), fields(backend = ?self.db.backend()))]
    async fn disable_user(
        &self,
        username: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        self.user_disable(username, at, audit).await
    }

    async fn create_session(&self, session: &NewSession) -> Result<()> {
        self.session_create(session).await
    }

    async fn session(&self, id_sha256: &str) -> Result<Option<SessionRecord>> {
        self.session_get(id_sha256).await
    }

    async fn touch_session(&self, id_sha256: &str, at: Timestamp) -> Result<()> {
        self.session_touch(id_sha256, at).await
    }

    async fn delete_session(&self, id_sha256: &str) -> Result<bool> {
        self.session_delete(id_sha256).await
    }

    async fn prune_sessions(
        &self,
        idle_before: Timestamp,
        created_before: Timestamp,
    ) -> Result<u64> {
        self.sessions_prune(idle_before, created_before).await
    }

    async fn record_audit(&self, entry: &AuditEntry) -> Result<()> {
        self.audit_append(entry).await
    }

    async fn search_audit_page(&self, filter: &AuditFilter) -> Result<AuditPage> {
        self.audit_search(filter).await
    }

    #[instrument(skip(self), fields(backend = ?self.db.backend()))]
    async fn prune_audit(&self, before: Timestamp) -> Result<u64> {
        self.audit_prune(before).await
    }

    async fn login_attacks_since(&self, since: Timestamp) -> Result<Vec<LoginAttack>> {
        self.login_attacks(since).await
    }
}

/// Deletes the audit entries older than `retention` before `now` (the
/// audit log's retention, `[security] audit_retention_days`); returns how
/// many. A retention rule over stored rows, so it lives with them: the
/// audit log is written by the web, the alerts and the command line alike.
pub async fn prune_audit_older_than(
    store: &dyn crate::Store,
    now: Timestamp,
    retention: std::time::Duration,
) -> Result<u64> {
    let span = jiff::SignedDuration::try_from(retention).unwrap_or(jiff::SignedDuration::MAX);
    let before = now.checked_sub(span).unwrap_or(Timestamp::MIN);
    let n = store.prune_audit(before).await?;
    if n > 0 {
        tracing::info!(deleted = n, %before, "audit log pruned");
    }
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typed_usernames_normalise_to_the_stored_form() {
        for typed in ["admin", "Admin", " ADMIN ", "\tadmin\n"] {
            assert_eq!(normalize_username(typed), "admin", "{typed:?}");
        }
        assert!(validate_username(&normalize_username(" Ops.Team ")).is_ok());
    }

    #[test]
    fn roles_round_trip_and_unknown_names_the_valid_ones() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Ok(r));
        }
        assert_eq!(
            Role::parse("regional_lead").unwrap().as_str(),
            "regional_lead"
        );
        for bad in ["", "Root", "1st", "a-b", "a b", &"a".repeat(33)] {
            let err = Role::parse(bad).unwrap_err();
            assert!(
                err.contains(&format!("{bad:?}")) && err.contains("a-z"),
                "{err}"
            );
        }
    }

    #[test]
    fn usernames_are_lowercase_and_bounded() {
        assert!(validate_username("ops@example.com").is_ok());
        assert!(validate_username("anna.k-2").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("Anna").is_err());
        assert!(validate_username(".hidden").is_err());
        assert!(validate_username("a b").is_err());
        assert!(validate_username(&"a".repeat(65)).is_err());
    }
}
