//! API tokens for the ingest API, the audit log of person-made changes, and
//! the health counters of push sources.
//!
//! A token looks like `odk_<id>_<secret>`. Only the SHA-256 of the secret
//! is stored; checking a presented token looks the row up by its id and
//! compares hashes in constant time (`subtle`), so neither the database nor
//! the timing of a refusal tells an attacker anything about the secret.
//! The whole token is shown once, by `opsdeck token create`, and never again.
//!
//! Creating or revoking a token writes its audit entry in the same
//! transaction: the change and its record commit together or not at all.

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros};
use crate::{AuditAction, Result};
use opsdeck_domain::{BrandId, Secret, SourceId, Timestamp};
use rand::Rng;
use serde::Serialize;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The prefix every opsdeck API token starts with, so a leaked token is
/// recognisable (secret scanners, logs).
pub const TOKEN_PREFIX: &str = "odk_";
const ID_LEN: usize = 12;
const SECRET_LEN: usize = 40;
/// `last_used_at` is refreshed at most this often, so a busy client does
/// not turn every ingest request into a second write.
const TOUCH_EVERY_US: i64 = 60 * 1_000_000;

/// Which ingest kinds a token may write.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum TokenKinds {
    /// Every kind, including kinds added in later versions.
    #[serde(serialize_with = "all_kinds")]
    All,
    /// Only these API kind names (e.g. `orders`, `tracking-events`).
    Only(Vec<String>),
}

fn all_kinds<S: serde::Serializer>(s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str("all")
}

impl TokenKinds {
    pub fn allows(&self, kind: &str) -> bool {
        match self {
            TokenKinds::All => true,
            TokenKinds::Only(kinds) => kinds.iter().any(|k| k == kind),
        }
    }

    fn to_column(&self) -> String {
        match self {
            TokenKinds::All => "*".to_string(),
            TokenKinds::Only(kinds) => kinds.join(","),
        }
    }

    fn from_column(s: &str) -> Self {
        if s == "*" {
            TokenKinds::All
        } else {
            TokenKinds::Only(
                s.split(',')
                    .filter(|k| !k.is_empty())
                    .map(String::from)
                    .collect(),
            )
        }
    }
}

impl std::fmt::Display for TokenKinds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenKinds::All => f.write_str("all"),
            TokenKinds::Only(kinds) => f.write_str(&kinds.join(",")),
        }
    }
}

/// A stored API token, without its secret (the store never has it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ApiToken {
    /// The public part of the token, e.g. `k3x9q2m7a1b4`.
    pub id: String,
    /// What the person called it, e.g. "pharmacy platform".
    pub name: String,
    /// The one brand the token writes records for.
    pub brand: BrandId,
    /// The source its records are stored under, e.g. `ingest-pharma`:
    /// records are idempotent by (source, external id) across tokens.
    pub source: SourceId,
    pub kinds: TokenKinds,
    pub created_at: Timestamp,
    pub created_by: String,
    pub last_used_at: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
}

/// A freshly generated token: the row to store, and the full token to show
/// once.
#[derive(Debug)]
pub struct NewApiToken {
    pub token: ApiToken,
    /// `odk_<id>_<secret>`; never stored, logged or shown again.
    pub plaintext: Secret,
    secret_sha256: String,
}

impl NewApiToken {
    /// A new random token (id and secret from the OS-seeded thread RNG).
    pub fn generate(
        name: &str,
        brand: BrandId,
        source: SourceId,
        kinds: TokenKinds,
        created_by: &str,
        now: Timestamp,
    ) -> Self {
        let (id, secret) = random_id_and_secret();
        NewApiToken {
            plaintext: Secret::new(format!("{TOKEN_PREFIX}{id}_{secret}")),
            secret_sha256: sha256_hex(&secret),
            token: ApiToken {
                id,
                name: name.to_string(),
                brand,
                source,
                kinds,
                created_at: now,
                created_by: created_by.to_string(),
                last_used_at: None,
                revoked_at: None,
            },
        }
    }
}

/// A new random (id, secret) pair from the OS-seeded thread RNG: the parts
/// of every token opsdeck hands out (ingest tokens, storefront keys).
pub(crate) fn random_id_and_secret() -> (String, String) {
    const ID_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";
    const SECRET_CHARS: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::thread_rng();
    let mut pick = |chars: &[u8], n: usize| -> String {
        (0..n)
            .map(|_| chars[rng.gen_range(0..chars.len())] as char)
            .collect()
    };
    (pick(ID_CHARS, ID_LEN), pick(SECRET_CHARS, SECRET_LEN))
}

/// Whether `presented` is the secret whose SHA-256 is `stored_hash`,
/// compared in constant time.
pub(crate) fn secret_matches(presented: &str, stored_hash: &str) -> bool {
    bool::from(
        sha256_hex(presented)
            .as_bytes()
            .ct_eq(stored_hash.as_bytes()),
    )
}

pub(crate) fn sha256_hex(secret: &str) -> String {
    Sha256::digest(secret.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Splits `odk_<id>_<secret>`; `None` when the text is not shaped like one.
fn split_token(presented: &str) -> Option<(&str, &str)> {
    split_token_with(TOKEN_PREFIX, presented)
}

/// Splits `<prefix><id>_<secret>`; `None` when the text is not shaped like one.
pub(crate) fn split_token_with<'a>(prefix: &str, presented: &'a str) -> Option<(&'a str, &'a str)> {
    let rest = presented.strip_prefix(prefix)?;
    let (id, secret) = rest.split_once('_')?;
    (!id.is_empty() && !secret.is_empty()).then_some((id, secret))
}

/// What checking a presented token found. Every refusal is the same 401 to
/// the caller; the variants exist so the reason can be logged.
#[derive(Debug, Clone, PartialEq, Eq)]
#[expect(
    clippy::large_enum_variant,
    reason = "one per request, returned by value: boxing would not save anything"
)]
pub enum TokenCheck {
    Valid(ApiToken),
    /// Not shaped like a token, unknown id, or wrong secret.
    Invalid,
    Revoked,
}

/// One person-made change, as the audit log keeps it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// Who: a dashboard user, or the OS user (or `--actor`) of a CLI command.
    pub actor: String,
    /// What, e.g. [`AuditAction::ApiTokenCreate`].
    pub action: AuditAction,
    /// On what, e.g. `api_token:k3x9q2m7a1b4`.
    pub subject: String,
    /// Details; must never hold a secret.
    pub payload: serde_json::Value,
    /// Where from, for changes made over HTTP.
    pub ip: Option<String>,
}

/// The columns an audit entry is read from (by name, by [`audit_entry`]);
/// a query may select more after them, and [`AUDIT_COLS`] are their types
/// in this order.
pub(crate) const AUDIT_SELECT: &str = "at_us, actor, action, subject, payload, ip";
pub(crate) const AUDIT_COLS: [Col; 6] = [
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
];

/// One audit entry from a row that holds [`AUDIT_SELECT`]: the one
/// decoder for the log's list and its pages.
pub(crate) fn audit_entry(row: &Row) -> Result<AuditEntry> {
    let subject = row.text("subject")?;
    Ok(AuditEntry {
        at: from_micros(row.int("at_us")?, "audit_log", &subject)?,
        actor: row.text("actor")?,
        action: AuditAction::parse(&row.text("action")?),
        payload: serde_json::from_str(&row.text("payload")?)
            .map_err(|e| corrupt("audit_log", &subject, e))?,
        ip: row.opt_text("ip"),
        subject,
    })
}

/// Characters kept of an audit entry's actor, action, subject and address
/// (a username is at most 64 characters, an id a few dozen).
pub const AUDIT_FIELD_CHARS: usize = 200;
/// Characters kept of each string inside an audit payload.
pub const AUDIT_PAYLOAD_STRING_CHARS: usize = 1_000;
/// Bytes an audit payload may take as JSON after its strings are cut; a
/// larger one (a huge array) is replaced by a note of how large it was.
pub const AUDIT_PAYLOAD_BYTES: usize = 8 * 1024;

/// `value` cut to `max` characters; a cut value ends with a note of how
/// many characters were left out, so nobody mistakes it for the whole.
pub fn cut_text(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        None => value.to_string(),
        Some((end, _)) => {
            let left = value[end..].chars().count();
            format!("{}… [{left} more characters]", &value[..end])
        }
    }
}

fn cut_strings(payload: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match payload {
        J::String(s) => J::String(cut_text(&s, AUDIT_PAYLOAD_STRING_CHARS)),
        J::Array(items) => J::Array(items.into_iter().map(cut_strings).collect()),
        J::Object(map) => J::Object(
            map.into_iter()
                .map(|(k, v)| (cut_text(&k, AUDIT_FIELD_CHARS), cut_strings(v)))
                .collect(),
        ),
        other => other,
    }
}

impl AuditEntry {
    /// This entry with every field cut to its bound: what a request sends,
    /// an attacker chooses, and no entry may grow the log by more than a
    /// few kilobytes. Every write to the audit log goes through this
    /// ([`audit_params`]), whoever made the entry.
    pub fn bounded(&self) -> AuditEntry {
        let payload = cut_strings(self.payload.clone());
        let size = payload.to_string().len();
        let payload = if size <= AUDIT_PAYLOAD_BYTES {
            payload
        } else {
            serde_json::json!({
                "truncated": true,
                "bytes": size,
                "preview": cut_text(&payload.to_string(), AUDIT_PAYLOAD_STRING_CHARS),
            })
        };
        AuditEntry {
            at: self.at,
            actor: cut_text(&self.actor, AUDIT_FIELD_CHARS),
            action: match &self.action {
                AuditAction::Other(other) => AuditAction::Other(cut_text(other, AUDIT_FIELD_CHARS)),
                known => known.clone(),
            },
            subject: cut_text(&self.subject, AUDIT_FIELD_CHARS),
            payload,
            ip: self.ip.as_deref().map(|ip| cut_text(ip, AUDIT_FIELD_CHARS)),
        }
    }
}

/// What an ingest request did to its source's health counters.
#[derive(Debug, Clone, PartialEq)]
pub enum IngestNote {
    /// A batch was stored: how many records, and the newest `updated_at`
    /// among them (the source's watermark moves up to it).
    Stored {
        records: u64,
        newest: Option<Timestamp>,
    },
    /// A batch was refused (invalid records, kind not allowed); the message
    /// is the reason given to the caller, which holds no secret.
    Refused { error: String },
}

const TOKEN_COLUMNS: &str = "id, name, brand_id, source, kinds, created_at_us, created_by, \
    last_used_at_us, revoked_at_us, secret_sha256";
const TOKEN_COLS: [Col; 10] = [
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
];
/// Appends one [`AuditEntry`]; its parameters are [`audit_params`]. Every
/// change a person makes writes it in the same transaction as the change.
pub(crate) const AUDIT_INSERT: &str =
    "INSERT INTO audit_log (at_us, actor, action, subject, payload, ip) \
    VALUES ($1, $2, $3, $4, $5, $6)";

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

fn token_from_row(row: &Row) -> Result<(ApiToken, String)> {
    const KIND: &str = "api_token";
    let id = row.text("id")?;
    let ts = |col: &str| from_micros(row.int(col)?, KIND, &id);
    let opt_ts = |col: &str| {
        row.opt_int(col)
            .map(|us| from_micros(us, KIND, &id))
            .transpose()
    };
    let token = ApiToken {
        name: row.text("name")?,
        brand: BrandId::parse(&row.text("brand_id")?).map_err(|e| corrupt(KIND, &id, e))?,
        source: SourceId::parse(&row.text("source")?).map_err(|e| corrupt(KIND, &id, e))?,
        kinds: TokenKinds::from_column(&row.text("kinds")?),
        created_at: ts("created_at_us")?,
        created_by: row.text("created_by")?,
        last_used_at: opt_ts("last_used_at_us")?,
        revoked_at: opt_ts("revoked_at_us")?,
        id: id.clone(),
    };
    Ok((token, row.text("secret_sha256")?))
}

/// The parameters of [`AUDIT_INSERT`] for `entry`, bounded
/// ([`AuditEntry::bounded`]).
pub(crate) fn audit_params(entry: &AuditEntry) -> Vec<Value> {
    let entry = &entry.bounded();
    vec![
        Value::Int(Some(micros(entry.at))),
        text(&entry.actor),
        text(entry.action.as_str()),
        text(&entry.subject),
        text(&entry.payload.to_string()),
        Value::Text(entry.ip.clone()),
    ]
}

impl<D: Db> SqlStore<D> {
    pub(crate) async fn token_create(&self, new: &NewApiToken, audit: &AuditEntry) -> Result<()> {
        let t = &new.token;
        let mut tx = self.db.begin().await?;
        tx.execute(
            &format!(
                "INSERT INTO api_tokens ({TOKEN_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"
            ),
            &[
                text(&t.id),
                text(&t.name),
                text(t.brand.as_str()),
                text(t.source.as_str()),
                text(&t.kinds.to_column()),
                Value::Int(Some(micros(t.created_at))),
                text(&t.created_by),
                Value::Int(t.last_used_at.map(micros)),
                Value::Int(t.revoked_at.map(micros)),
                text(&new.secret_sha256),
            ],
        )
        .await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await
    }

    pub(crate) async fn token_list(&self) -> Result<Vec<ApiToken>> {
        let rows = self
            .db
            .fetch(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens ORDER BY created_at_us, id"),
                &[],
                &TOKEN_COLS,
            )
            .await?;
        rows.iter()
            .map(|r| token_from_row(r).map(|(t, _)| t))
            .collect()
    }

    pub(crate) async fn token_verify(&self, presented: &str, now: Timestamp) -> Result<TokenCheck> {
        let Some((id, secret)) = split_token(presented) else {
            return Ok(TokenCheck::Invalid);
        };
        let rows = self
            .db
            .fetch(
                &format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"),
                &[text(id)],
                &TOKEN_COLS,
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(TokenCheck::Invalid);
        };
        let (mut token, stored_hash) = token_from_row(row)?;
        if !secret_matches(secret, &stored_hash) {
            return Ok(TokenCheck::Invalid);
        }
        if token.revoked_at.is_some() {
            return Ok(TokenCheck::Revoked);
        }
        self.touch_last_used("api_tokens", &token.id, &mut token.last_used_at, now)
            .await?;
        Ok(TokenCheck::Valid(token))
    }

    /// Records that the secret `id` of `table` (an API token, a storefront
    /// key) was used at `now`, at most every [`TOUCH_EVERY_US`]: the one
    /// rule every presented secret follows.
    pub(crate) async fn touch_last_used(
        &self,
        table: &'static str,
        id: &str,
        last_used: &mut Option<Timestamp>,
        now: Timestamp,
    ) -> Result<()> {
        let now_us = micros(now);
        if last_used.is_some_and(|at| now_us - micros(at) < TOUCH_EVERY_US) {
            return Ok(());
        }
        self.db
            .execute(
                &format!("UPDATE {table} SET last_used_at_us = $2 WHERE id = $1"),
                &[text(id), Value::Int(Some(now_us))],
            )
            .await?;
        *last_used = Some(now);
        Ok(())
    }

    pub(crate) async fn token_revoke(
        &self,
        id: &str,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                "UPDATE api_tokens SET revoked_at_us = $2 WHERE id = $1 AND revoked_at_us IS NULL",
                &[text(id), Value::Int(Some(micros(at)))],
            )
            .await?;
        if changed == 0 {
            return Ok(false); // dropping the transaction rolls back
        }
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    pub(crate) async fn audit_entries(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        let rows = self
            .db
            .fetch(
                &format!("SELECT {AUDIT_SELECT} FROM audit_log ORDER BY id DESC LIMIT $1"),
                &[Value::Int(Some(i64::from(limit)))],
                &AUDIT_COLS,
            )
            .await?;
        rows.iter().map(audit_entry).collect()
    }

    /// Counts one ingest request in the (source, kind) health row with
    /// relative updates, so concurrent requests never lose a count.
    pub(crate) async fn ingest_note(
        &self,
        source: &SourceId,
        resource: &str,
        at: Timestamp,
        note: &IngestNote,
    ) -> Result<()> {
        let (sql, params) = ingest_note_sql(source, resource, at, note);
        self.db.execute(sql, &params).await?;
        Ok(())
    }
}

/// Counts `notes` in their health rows inside `tx`.
pub(crate) async fn note_ingest_in<T: DbTx>(tx: &mut T, notes: &[IngestNoteFor]) -> Result<()> {
    for n in notes {
        let (sql, params) = ingest_note_sql(&n.source, &n.kind, n.at, &n.note);
        tx.execute(sql, &params).await?;
    }
    Ok(())
}

/// One [`IngestNote`] with the (source, kind) health row it counts in.
#[derive(Debug, Clone, PartialEq)]
pub struct IngestNoteFor {
    pub source: SourceId,
    pub kind: String,
    pub at: Timestamp,
    pub note: IngestNote,
}

fn ingest_note_sql(
    source: &SourceId,
    resource: &str,
    at: Timestamp,
    note: &IngestNote,
) -> (&'static str, Vec<Value>) {
    {
        let at = Value::Int(Some(micros(at)));
        match note {
            IngestNote::Stored { records, newest } => (
                "INSERT INTO sync_state (source, resource, watermark_us, last_attempt_at_us, \
                 last_success_at_us, consecutive_failures, requests, errors, rate_limit_waits, \
                 records_synced) VALUES ($1, $2, $3, $4, $4, 0, 1, 0, 0, $5) \
                 ON CONFLICT (source, resource) DO UPDATE SET \
                 watermark_us = CASE WHEN sync_state.watermark_us IS NULL \
                   OR excluded.watermark_us > sync_state.watermark_us \
                   THEN excluded.watermark_us ELSE sync_state.watermark_us END, \
                 last_attempt_at_us = excluded.last_attempt_at_us, \
                 last_success_at_us = excluded.last_success_at_us, \
                 consecutive_failures = 0, requests = sync_state.requests + 1, \
                 records_synced = sync_state.records_synced + excluded.records_synced",
                vec![
                    text(source.as_str()),
                    text(resource),
                    Value::Int(newest.map(micros)),
                    at,
                    Value::Int(Some(i64::try_from(*records).unwrap_or(i64::MAX))),
                ],
            ),
            IngestNote::Refused { error } => (
                "INSERT INTO sync_state (source, resource, last_attempt_at_us, last_error, \
                 last_error_at_us, consecutive_failures, requests, errors, rate_limit_waits, \
                 records_synced) VALUES ($1, $2, $3, $4, $3, 1, 1, 1, 0, 0) \
                 ON CONFLICT (source, resource) DO UPDATE SET \
                 last_attempt_at_us = excluded.last_attempt_at_us, \
                 last_error = excluded.last_error, last_error_at_us = excluded.last_error_at_us, \
                 consecutive_failures = sync_state.consecutive_failures + 1, \
                 requests = sync_state.requests + 1, errors = sync_state.errors + 1",
                vec![text(source.as_str()), text(resource), at, text(error)],
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audit_entries_are_bounded_field_by_field() {
        assert_eq!(cut_text("anna", 200), "anna");
        let cut = cut_text(&"é".repeat(1_000_000), 200);
        assert!(cut.starts_with(&"é".repeat(200)));
        assert!(cut.ends_with("… [999800 more characters]"));
        let entry = AuditEntry {
            at: Timestamp::UNIX_EPOCH,
            actor: "x".repeat(1 << 20),
            action: AuditAction::LoginFailure,
            subject: "s".repeat(5_000),
            payload: serde_json::json!({ "username": "x".repeat(1 << 20), "n": 1 }),
            ip: Some("192.0.2.1".into()),
        };
        let b = entry.bounded();
        assert!(b.actor.len() < 250 && b.subject.len() < 250);
        assert!(b.payload.to_string().len() < 1_100);
        assert_eq!(
            (b.payload["n"].clone(), b.action.as_str()),
            (serde_json::json!(1), "login.failure")
        );
        let many = AuditEntry {
            payload: serde_json::json!({ "ids": vec!["0123456789"; 10_000] }),
            ..entry
        }
        .bounded();
        assert_eq!(many.payload["truncated"], true);
        assert!(many.payload.to_string().len() < 2 * 1024);
    }

    #[test]
    fn generated_tokens_split_back_and_hash_the_secret_only() {
        let new = NewApiToken::generate(
            "pharmacy",
            BrandId::parse("pharma").unwrap(),
            SourceId::parse("ingest-pharma").unwrap(),
            TokenKinds::All,
            "ops",
            Timestamp::UNIX_EPOCH,
        );
        let plain = new.plaintext.expose();
        let (id, secret) = split_token(plain).unwrap();
        assert_eq!(id, new.token.id);
        assert_eq!(secret.len(), SECRET_LEN);
        assert_eq!(new.secret_sha256, sha256_hex(secret));
        assert!(!new.secret_sha256.contains(secret));
        assert!(
            !format!("{new:?}").contains(secret),
            "Debug hides the secret"
        );
        assert_eq!(split_token("odk__x"), None);
        assert_eq!(split_token("bearer"), None);
    }

    #[test]
    fn kinds_column_round_trips() {
        let only = TokenKinds::Only(vec!["orders".into(), "tracking-events".into()]);
        assert_eq!(TokenKinds::from_column(&only.to_column()), only);
        assert_eq!(TokenKinds::from_column("*"), TokenKinds::All);
        assert!(only.allows("orders") && !only.allows("products"));
        assert!(TokenKinds::All.allows("health-checks"));
    }
}
