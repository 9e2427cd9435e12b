//! Storage for privacy requests (migration 0018) and what their work needs
//! of the store: finding a person's records, rewriting them with
//! tombstones, and wiping the other copies opsdeck keeps.
//!
//! The store does not decide *which* fields are personal: that is
//! `opsdeck-operations::privacy`'s rule. It keeps the rules that must hold
//! whoever calls it:
//!
//! - one request per (source, request key): a compliance webhook
//!   delivered twice is one request;
//! - an erasure's rewritten records, the wiped copies (audit entries,
//!   webhook bodies and notes, alert messages, other requests naming the
//!   person) and the request's completion commit together; the rewritten
//!   records take new change-sequence values, so the projection and every
//!   follower replace their copies too (the newer-wins rule is bypassed on
//!   purpose: an erasure keeps the record's `updated_at`);
//! - an erasure remembers whom it erased ([`Erasure::erased_keys`], the
//!   keys of `opsdeck_domain::erasure`, kept only as keyed hashes in
//!   `privacy_erased`, migration 0020), and every upsert afterwards checks
//!   its records against them ([`tombstone_erased`], called by the one
//!   upsert path that syncs, webhooks, ingest and imports all take): a
//!   record of an erased person, or of a shop after `shop/redact`, is
//!   stored with the same tombstones (`opsdeck_domain::erasure::erase_record`),
//!   so their data does not come back while the record still counts;
//! - after the commit, [`PrivacyStore::privacy_purge_copies`] removes what
//!   the database keeps outside its rows: the SQLite webhook journal's
//!   applied segments and the old page copies in the WAL (a checkpoint;
//!   the connections' `secure_delete` already zeroed the old text in the
//!   file's pages), so the person's text is gone from the disk too.

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::kinds;
use crate::schema::{self, corrupt, from_micros, micros, opt_micros, text, RecordRow, SEQ_PARAM};
use crate::tokens::{
    audit_entry, audit_params, AuditEntry, AUDIT_COLS, AUDIT_INSERT, AUDIT_SELECT,
};
use crate::{AnyRecord, Result};
use async_trait::async_trait;
use jiff::Timestamp;
use opsdeck_domain::erasure::{erase_record, is_shop_key, lookup_keys, own_needles};
use opsdeck_domain::privacy::{
    privacy_clock, scrub, DataSubject, PrivacyRequestKind, PrivacyStatus, PrivacyVia,
};
use opsdeck_domain::{BrandId, SourceId};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};

/// A privacy request as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct PrivacyRequest {
    /// Ignored on insert.
    pub id: i64,
    /// The Shopify source of a compliance webhook, the ingest token's
    /// source, or `dashboard`.
    pub source: String,
    /// Unique per source: Shopify's request id or webhook id, the ingest
    /// request's id, or a generated one for the dashboard.
    pub request_key: String,
    pub kind: PrivacyRequestKind,
    pub status: PrivacyStatus,
    pub via: PrivacyVia,
    /// The brand whose data it concerns; `None` for every brand.
    pub brand: Option<BrandId>,
    pub subject: DataSubject,
    pub received_at: Timestamp,
    /// received + 30 days ([`opsdeck_domain::privacy::privacy_clock`]).
    pub due_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub completed_at: Option<Timestamp>,
    /// Failed attempts so far.
    pub attempts: u32,
    /// Not worked before this (a retry's backoff).
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    /// What the work did, once done (counts, what was kept and why).
    pub outcome: Option<serde_json::Value>,
    pub requested_by: String,
}

impl PrivacyRequest {
    /// A request just received at `at`: status received, due by the one
    /// deadline rule ([`privacy_clock`]: 30 days), worked at once.
    #[expect(
        clippy::too_many_arguments,
        reason = "each is a column the caller must choose"
    )]
    pub fn received(
        source: &str,
        request_key: &str,
        kind: PrivacyRequestKind,
        via: PrivacyVia,
        brand: Option<BrandId>,
        subject: DataSubject,
        at: Timestamp,
        requested_by: &str,
    ) -> PrivacyRequest {
        PrivacyRequest {
            id: 0,
            source: source.to_string(),
            request_key: request_key.to_string(),
            kind,
            status: PrivacyStatus::Received,
            via,
            brand,
            subject,
            received_at: at,
            due_at: privacy_clock(at).deadline,
            started_at: None,
            completed_at: None,
            attempts: 0,
            next_attempt_at: at,
            last_error: None,
            outcome: None,
            requested_by: requested_by.to_string(),
        }
    }
}

/// The records a search looks in: of one source and/or one brand (a
/// helpdesk record not yet attributed to a brand is included with any
/// brand), and whose stored body contains at least one of `needles`
/// (without ASCII case). No needles: every record of the scope.
#[derive(Debug, Clone, Default)]
pub struct RecordScope {
    pub source: Option<SourceId>,
    pub brand: Option<BrandId>,
    pub needles: Vec<String>,
}

/// A download link of an export archive, as stored (the token's hash only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivacyLink {
    pub token_sha256: String,
    pub request_id: i64,
    pub expires_at: Timestamp,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// What an erasure writes, in one transaction.
#[derive(Debug, Clone)]
pub struct Erasure {
    /// The person's records with their personal fields replaced.
    pub records: Vec<AnyRecord>,
    /// Text wiped from every other copy (audit entries, webhook bodies and
    /// notes, alert messages, other privacy requests): the person's email,
    /// phone and name as found.
    pub needles: Vec<String>,
    /// Raw webhook bodies of this source are replaced whole (`shop/redact`:
    /// every payload of the shop goes).
    pub purge_source_bodies: Option<SourceId>,
    /// Keys of whom it erased (`opsdeck_domain::erasure::erased_keys`,
    /// `shop_key`), in clear here; the store keeps only their keyed hashes
    /// and tombstones any later record that carries one.
    pub erased_keys: Vec<String>,
    /// The request, completed, with its subject already tombstoned.
    pub request: PrivacyRequest,
    pub audit: AuditEntry,
}

/// What an erasure changed beyond its records.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct WipeReport {
    /// Rows of other tables whose text named the person, per table.
    pub wiped: Vec<(String, u64)>,
    pub raw_bodies_purged: u64,
}

/// What [`PrivacyStore::privacy_purge_copies`] did outside the rows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct PurgeReport {
    /// Applied journal segments deleted (SQLite on a file).
    pub journal_segments_deleted: u64,
    /// Events still waiting in the journal that name the person: their
    /// segment is kept until they are applied, so the request is retried.
    pub journal_pending_naming: u64,
    /// The database file was purged of old page copies (SQLite: the WAL
    /// checkpointed and truncated; `secure_delete` zeroed the rest).
    pub compacted: bool,
}

/// Erased keys of one sort (`email`, `customer`, `order`, `ticket`,
/// `shop`): how many are remembered, and how many records arrived for them
/// afterwards and were stored erased.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ErasedCount {
    pub kind: String,
    pub keys: u64,
    pub hits: u64,
}

/// The privacy tables. Every [`crate::Store`] implements it.
#[async_trait]
pub trait PrivacyStore: Send + Sync {
    /// Stores a new request (its `id` is ignored) with `audit` (subject
    /// filled in as `privacy:ID` when empty); `None`, and nothing written,
    /// when (source, request key) is already stored.
    async fn privacy_request_insert(
        &self,
        request: &PrivacyRequest,
        audit: &AuditEntry,
    ) -> Result<Option<i64>>;

    async fn privacy_request(&self, id: i64) -> Result<Option<PrivacyRequest>>;

    /// The newest `limit` requests, newest first.
    async fn privacy_requests(&self, limit: u32) -> Result<Vec<PrivacyRequest>>;

    /// Requests not completed (received, in progress, failed), oldest
    /// first: what the alert rule watches.
    async fn privacy_requests_open(&self) -> Result<Vec<PrivacyRequest>>;

    /// Received or in-progress requests whose next attempt is due by
    /// `now`, oldest first: what the worker takes.
    async fn privacy_requests_due(&self, now: Timestamp, limit: u32)
        -> Result<Vec<PrivacyRequest>>;

    /// Saves a request's progress (status, times, attempts, error,
    /// outcome, subject) with `audit`.
    async fn privacy_request_update(
        &self,
        request: &PrivacyRequest,
        audit: &[AuditEntry],
    ) -> Result<()>;

    /// The stored records in `scope`.
    async fn privacy_records(&self, scope: &RecordScope) -> Result<Vec<AnyRecord>>;

    /// Audit entries whose subject or payload contains one of `needles`
    /// (without ASCII case), oldest first: the ones naming a person.
    async fn privacy_audit_naming(&self, needles: &[String]) -> Result<Vec<AuditEntry>>;

    /// Writes an erasure (see [`Erasure`]) in one transaction.
    async fn privacy_erase(&self, erasure: &Erasure) -> Result<WipeReport>;

    /// Removes the copies kept outside the rows (see [`PurgeReport`]);
    /// `needles` find journal events still waiting that name the person.
    /// The file is compacted only with `compact` (after an erasure's
    /// commit; before it, only the journal is looked at).
    async fn privacy_purge_copies(&self, needles: &[String], compact: bool) -> Result<PurgeReport>;

    /// Stores a download link with its audit entry.
    async fn privacy_link_insert(&self, link: &PrivacyLink, audit: &AuditEntry) -> Result<()>;

    /// The link whose token hashes to `token_sha256`, if any.
    async fn privacy_link(&self, token_sha256: &str) -> Result<Option<PrivacyLink>>;

    /// Writes one audit entry (an archive's delivery).
    async fn privacy_audit(&self, audit: &AuditEntry) -> Result<()>;

    /// The erased keys per sort, with the records that arrived for them
    /// afterwards (stored erased), by sort.
    async fn privacy_erased_counts(&self) -> Result<Vec<ErasedCount>>;
}

/// The tables whose text may name a person outside the record tables,
/// each with its key and text columns: wiped by an erasure.
const WIPED: [(&str, &str, &[&str]); 5] = [
    ("audit_log", "id", &["subject", "payload"]),
    ("webhook_inbox", "id", &["last_error", "result"]),
    ("webhook_inbox_bodies", "id", &["body"]),
    ("alert_outbox", "id", &["payload", "last_error"]),
    (
        "privacy_requests",
        "id",
        &["subject", "outcome", "last_error"],
    ),
];

/// Needles per statement, so a shop's thousands of emails do not make one
/// statement of thousands of parameters.
const NEEDLES_PER_QUERY: usize = 50;

fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

fn like(needle: &str) -> Value {
    Value::Text(Some(format!("%{}%", needle.trim().to_ascii_lowercase())))
}

/// Needles to search by: trimmed, not empty, each once. A short one (an
/// id like `T1`) selects too much rather than too little: the caller
/// decides exactly, and [`scrub`] never wipes text that short.
fn usable(needles: &[String]) -> Vec<String> {
    let mut out: Vec<String> = needles
        .iter()
        .map(|n| n.trim().to_string())
        .filter(|n| !n.is_empty())
        .collect();
    out.sort();
    out.dedup();
    out
}

const SELECT: &str = "SELECT id, source, request_key, kind, status, via, brand_id, subject, \
     received_at_us, due_at_us, started_at_us, completed_at_us, attempts, next_attempt_at_us, \
     last_error, outcome, requested_by FROM privacy_requests";

const COLS: [Col; 17] = [
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
];

fn request(row: &Row) -> Result<PrivacyRequest> {
    let id = row.int("id")?;
    let key = id.to_string();
    let at = |col: &str| from_micros(row.int(col)?, "privacy_request", &key);
    let opt_at = |col: &str| {
        row.opt_int(col)
            .map(|us| from_micros(us, "privacy_request", &key))
            .transpose()
    };
    let bad = |what: &str, v: String| corrupt("privacy_request", &key, format!("{what} {v:?}"));
    let kind = row.text("kind")?;
    let status = row.text("status")?;
    let via = row.text("via")?;
    Ok(PrivacyRequest {
        id,
        source: row.text("source")?,
        request_key: row.text("request_key")?,
        kind: PrivacyRequestKind::parse(&kind).ok_or_else(|| bad("kind", kind.clone()))?,
        status: PrivacyStatus::parse(&status).ok_or_else(|| bad("status", status.clone()))?,
        via: PrivacyVia::parse(&via).ok_or_else(|| bad("via", via.clone()))?,
        brand: row
            .opt_text("brand_id")
            .map(|b| BrandId::parse(&b).map_err(|e| corrupt("privacy_request", &key, e)))
            .transpose()?,
        subject: serde_json::from_str(&row.text("subject")?)
            .map_err(|e| corrupt("privacy_request", &key, e))?,
        received_at: at("received_at_us")?,
        due_at: at("due_at_us")?,
        started_at: opt_at("started_at_us")?,
        completed_at: opt_at("completed_at_us")?,
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        next_attempt_at: at("next_attempt_at_us")?,
        last_error: row.opt_text("last_error"),
        outcome: row
            .opt_text("outcome")
            .map(|o| serde_json::from_str(&o).map_err(|e| corrupt("privacy_request", &key, e)))
            .transpose()?,
        requested_by: row.text("requested_by")?,
    })
}

fn subject_json(s: &DataSubject) -> String {
    serde_json::to_string(s).expect("a data subject is plain strings")
}

async fn update_in<T: DbTx>(tx: &mut T, r: &PrivacyRequest) -> Result<()> {
    tx.execute(
        "UPDATE privacy_requests SET status = $1, subject = $2, started_at_us = $3, \
         completed_at_us = $4, attempts = $5, next_attempt_at_us = $6, last_error = $7, \
         outcome = $8 WHERE id = $9",
        &[
            text(r.status.as_str()),
            text(&subject_json(&r.subject)),
            opt_micros(r.started_at),
            opt_micros(r.completed_at),
            int(i64::from(r.attempts)),
            int(micros(r.next_attempt_at)),
            Value::Text(r.last_error.clone()),
            Value::Text(r.outcome.as_ref().map(|o| o.to_string())),
            int(r.id),
        ],
    )
    .await?;
    Ok(())
}

impl<D: Db> SqlStore<D> {
    /// Rows of `table` whose text columns contain one of `needles`, as
    /// (key, column values), read in chunks of needles.
    async fn naming<T: DbTx>(
        tx: &mut T,
        table: &str,
        key: &str,
        cols: &[&str],
        needles: &[String],
    ) -> Result<Vec<(String, Vec<Option<String>>)>> {
        let mut found: std::collections::BTreeMap<String, Vec<Option<String>>> = Default::default();
        for chunk in needles.chunks(NEEDLES_PER_QUERY) {
            let mut conds = Vec::new();
            let mut params = Vec::new();
            for n in chunk {
                params.push(like(n));
                let p = params.len();
                for c in cols {
                    conds.push(format!("LOWER(CAST({c} AS TEXT)) LIKE ${p}"));
                }
            }
            let select: Vec<String> = cols
                .iter()
                .map(|c| format!("CAST({c} AS TEXT) AS {c}"))
                .collect();
            let mut types = vec![Col::Text];
            types.extend(cols.iter().map(|_| Col::Text));
            let sql = format!(
                "SELECT CAST({key} AS TEXT) AS k, {} FROM {table} WHERE {}",
                select.join(", "),
                conds.join(" OR ")
            );
            for row in tx.fetch(&sql, &params, &types).await? {
                let k = row.text("k")?;
                let values = cols.iter().map(|c| row.opt_text(c)).collect();
                found.insert(k, values);
            }
        }
        Ok(found.into_iter().collect())
    }
}

#[async_trait]
impl<D: Db> PrivacyStore for SqlStore<D> {
    #[tracing::instrument(skip_all, fields(kind = request.kind.as_str(), via = request.via.as_str()))]
    async fn privacy_request_insert(
        &self,
        request: &PrivacyRequest,
        audit: &AuditEntry,
    ) -> Result<Option<i64>> {
        let r = request;
        let mut tx = self.db.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO privacy_requests (source, request_key, kind, status, via, brand_id, \
                 subject, received_at_us, due_at_us, started_at_us, completed_at_us, attempts, \
                 next_attempt_at_us, last_error, outcome, requested_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (source, request_key) DO NOTHING RETURNING id",
                &[
                    text(&r.source),
                    text(&r.request_key),
                    text(r.kind.as_str()),
                    text(r.status.as_str()),
                    text(r.via.as_str()),
                    Value::Text(r.brand.as_ref().map(|b| b.as_str().to_string())),
                    text(&subject_json(&r.subject)),
                    int(micros(r.received_at)),
                    int(micros(r.due_at)),
                    opt_micros(r.started_at),
                    opt_micros(r.completed_at),
                    int(i64::from(r.attempts)),
                    int(micros(r.next_attempt_at)),
                    Value::Text(r.last_error.clone()),
                    Value::Text(r.outcome.as_ref().map(|o| o.to_string())),
                    text(&r.requested_by),
                ],
                &[Col::Int],
            )
            .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let id = first.int("id")?;
        let mut audit = audit.clone();
        if audit.subject.is_empty() {
            audit.subject = format!("privacy:{id}");
        }
        tx.execute(AUDIT_INSERT, &audit_params(&audit)).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    async fn privacy_request(&self, id: i64) -> Result<Option<PrivacyRequest>> {
        let rows = self
            .db
            .fetch(&format!("{SELECT} WHERE id = $1"), &[int(id)], &COLS)
            .await?;
        rows.first().map(request).transpose()
    }

    async fn privacy_requests(&self, limit: u32) -> Result<Vec<PrivacyRequest>> {
        let rows = self
            .db
            .fetch(
                &format!("{SELECT} ORDER BY received_at_us DESC, id DESC LIMIT $1"),
                &[int(i64::from(limit))],
                &COLS,
            )
            .await?;
        rows.iter().map(request).collect()
    }

    async fn privacy_requests_open(&self) -> Result<Vec<PrivacyRequest>> {
        let rows = self
            .db
            .fetch(
                &format!("{SELECT} WHERE status <> 'completed' ORDER BY received_at_us, id"),
                &[],
                &COLS,
            )
            .await?;
        rows.iter().map(request).collect()
    }

    async fn privacy_requests_due(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<PrivacyRequest>> {
        let rows = self
            .db
            .fetch(
                &format!(
                    "{SELECT} WHERE status IN ('received', 'in_progress') \
                     AND next_attempt_at_us <= $1 ORDER BY received_at_us, id LIMIT $2"
                ),
                &[int(micros(now)), int(i64::from(limit))],
                &COLS,
            )
            .await?;
        rows.iter().map(request).collect()
    }

    #[tracing::instrument(skip_all, fields(id = request.id, status = request.status.as_str()))]
    async fn privacy_request_update(
        &self,
        request: &PrivacyRequest,
        audit: &[AuditEntry],
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        update_in(&mut tx, request).await?;
        for entry in audit {
            tx.execute(AUDIT_INSERT, &audit_params(entry)).await?;
        }
        tx.commit().await
    }

    async fn privacy_records(&self, scope: &RecordScope) -> Result<Vec<AnyRecord>> {
        let body = self.db.dialect().body_column();
        let needles = usable(&scope.needles);
        if needles.is_empty() && !scope.needles.is_empty() {
            // Every needle was blank: nothing names them.
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for table in kinds::tables() {
            let chunks: Vec<&[String]> = if needles.is_empty() {
                vec![&[]]
            } else {
                needles.chunks(NEEDLES_PER_QUERY).collect()
            };
            let mut seen = std::collections::HashSet::new();
            for chunk in chunks {
                let mut conds = Vec::new();
                let mut params = Vec::new();
                if let Some(source) = &scope.source {
                    params.push(text(source.as_str()));
                    conds.push(format!("source = ${}", params.len()));
                }
                if let Some(brand) = &scope.brand {
                    params.push(text(brand.as_str()));
                    conds.push(format!(
                        "(brand_id = ${} OR brand_id IS NULL)",
                        params.len()
                    ));
                }
                if !chunk.is_empty() {
                    let mut any = Vec::new();
                    for n in chunk {
                        params.push(like(n));
                        any.push(format!("LOWER({body}) LIKE ${}", params.len()));
                    }
                    conds.push(format!("({})", any.join(" OR ")));
                }
                let filter = if conds.is_empty() {
                    String::new()
                } else {
                    format!(" WHERE {}", conds.join(" AND "))
                };
                let sql = format!(
                    "SELECT external_id, {body} AS body FROM {}{filter} ORDER BY source, external_id",
                    table.name
                );
                for row in self
                    .db
                    .fetch(&sql, &params, &[Col::Text, Col::Text])
                    .await?
                {
                    let id = row.text("external_id")?;
                    let record = (table.decode)(&id, &row.text("body")?)?;
                    let key = (record.source().as_str().to_string(), id);
                    if seen.insert(key) {
                        out.push(record);
                    }
                }
            }
        }
        Ok(out)
    }

    async fn privacy_audit_naming(&self, needles: &[String]) -> Result<Vec<AuditEntry>> {
        let needles = usable(needles);
        let mut out: Vec<(i64, AuditEntry)> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for chunk in needles.chunks(NEEDLES_PER_QUERY) {
            let mut conds = Vec::new();
            let mut params = Vec::new();
            for n in chunk {
                params.push(like(n));
                let p = params.len();
                conds.push(format!(
                    "LOWER(subject) LIKE ${p} OR LOWER(payload) LIKE ${p}"
                ));
            }
            let mut cols = AUDIT_COLS.to_vec();
            cols.push(Col::Int);
            let sql = format!(
                "SELECT {AUDIT_SELECT}, id FROM audit_log WHERE {} ORDER BY id",
                conds.join(" OR ")
            );
            for row in self.db.fetch(&sql, &params, &cols).await? {
                let id = row.int("id")?;
                if seen.insert(id) {
                    out.push((id, audit_entry(&row)?));
                }
            }
        }
        out.sort_by_key(|(id, _)| *id);
        Ok(out.into_iter().map(|(_, e)| e).collect())
    }

    #[tracing::instrument(skip_all, fields(id = erasure.request.id, records = erasure.records.len()))]
    async fn privacy_erase(&self, erasure: &Erasure) -> Result<WipeReport> {
        let sql = schema::Statements::for_dialect(self.db.dialect());
        let needles = usable(&erasure.needles);
        let mut tx = self.db.begin().await?;
        // The counter first, as every upsert does: sequence order stays
        // commit order for the change feed.
        let counter = tx.fetch(schema::LOCK_COUNTER, &[], &[Col::Int]).await?;
        let before = counter
            .first()
            .map(|r| r.int("value"))
            .transpose()?
            .unwrap_or(0);
        let mut seq = before;
        for record in &erasure.records {
            seq += 1;
            let mut row = RecordRow::new(record);
            row.params[SEQ_PARAM] = Value::Int(Some(seq));
            let json = serde_json::Value::Array(vec![row.to_json_array()]);
            tx.execute(
                &sql.upsert[record.kind()],
                &[Value::Text(Some(json.to_string()))],
            )
            .await?;
        }
        if seq != before {
            tx.execute(schema::SET_COUNTER, &[int(seq)]).await?;
        }
        let mut report = WipeReport::default();
        if let Some(source) = &erasure.purge_source_bodies {
            report.raw_bodies_purged = tx
                .execute(
                    "UPDATE webhook_inbox_bodies SET body = '{}' WHERE id IN \
                     (SELECT id FROM webhook_inbox WHERE source = $1)",
                    &[text(source.as_str())],
                )
                .await?;
        }
        for (table, key, cols) in WIPED {
            let rows = Self::naming(&mut tx, table, key, cols, &needles).await?;
            let mut wiped = 0;
            for (k, values) in rows {
                let mut sets = Vec::new();
                let mut params = Vec::new();
                for (c, v) in cols.iter().zip(values) {
                    if let Some(clean) = v.as_deref().and_then(|v| scrub(v, &needles)) {
                        params.push(Value::Text(Some(clean)));
                        let cast = match (self.db.dialect(), table, *c) {
                            // JSONB columns take the text back as JSON.
                            (crate::db::Dialect::Postgres, "alert_outbox", "payload") => "::jsonb",
                            _ => "",
                        };
                        sets.push(format!("{c} = ${}{cast}", params.len()));
                    }
                }
                if sets.is_empty() {
                    continue;
                }
                params.push(Value::Text(Some(k)));
                tx.execute(
                    &format!(
                        "UPDATE {table} SET {} WHERE CAST({key} AS TEXT) = ${}",
                        sets.join(", "),
                        params.len()
                    ),
                    &params,
                )
                .await?;
                wiped += 1;
            }
            if wiped > 0 {
                report.wiped.push((table.to_string(), wiped));
            }
        }
        remember_erased(&mut tx, &erasure.erased_keys, &erasure.request).await?;
        // The request last: the wipe above also cleaned its own subject,
        // which the caller has already tombstoned.
        update_in(&mut tx, &erasure.request).await?;
        tx.execute(AUDIT_INSERT, &audit_params(&erasure.audit))
            .await?;
        tx.commit().await?;
        Ok(report)
    }

    async fn privacy_purge_copies(&self, needles: &[String], compact: bool) -> Result<PurgeReport> {
        let needles = usable(needles);
        let mut report = PurgeReport::default();
        if let Some(journal) = &self.journal {
            if let Some(opened) = journal.get() {
                let (deleted, pending) = opened.purge(&needles).await?;
                report.journal_segments_deleted = deleted;
                report.journal_pending_naming = pending;
            }
        }
        if compact && self.db.dialect() == crate::db::Dialect::Sqlite {
            // Every connection runs with `secure_delete` (see `sqlite`), so
            // the erased rows' old text is already zeroed in the pages the
            // erasure rewrote; older copies of those pages live on only in
            // the WAL. Folding the WAL into the file and truncating it takes
            // them off the disk, at a cost that grows with the erasure, not
            // with the file (a `VACUUM` rewrote the whole file: 3 s at
            // 100,000 orders, see `tests/erasure_cost.rs`).
            self.db
                .fetch(
                    "PRAGMA wal_checkpoint(TRUNCATE)",
                    &[],
                    &[Col::Int, Col::Int, Col::Int],
                )
                .await?;
            report.compacted = true;
        }
        Ok(report)
    }

    async fn privacy_link_insert(&self, link: &PrivacyLink, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO privacy_links (token_sha256, request_id, expires_at_us, created_by, \
             created_at_us) VALUES ($1, $2, $3, $4, $5)",
            &[
                text(&link.token_sha256),
                int(link.request_id),
                int(micros(link.expires_at)),
                text(&link.created_by),
                int(micros(link.created_at)),
            ],
        )
        .await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await
    }

    async fn privacy_link(&self, token_sha256: &str) -> Result<Option<PrivacyLink>> {
        let rows = self
            .db
            .fetch(
                "SELECT token_sha256, request_id, expires_at_us, created_by, created_at_us \
                 FROM privacy_links WHERE token_sha256 = $1",
                &[text(token_sha256)],
                &[Col::Text, Col::Int, Col::Int, Col::Text, Col::Int],
            )
            .await?;
        rows.first()
            .map(|row| {
                let key = row.text("token_sha256")?;
                Ok(PrivacyLink {
                    request_id: row.int("request_id")?,
                    expires_at: from_micros(row.int("expires_at_us")?, "privacy_link", "link")?,
                    created_by: row.text("created_by")?,
                    created_at: from_micros(row.int("created_at_us")?, "privacy_link", "link")?,
                    token_sha256: key,
                })
            })
            .transpose()
    }

    async fn privacy_audit(&self, audit: &AuditEntry) -> Result<()> {
        self.db.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        Ok(())
    }

    async fn privacy_erased_counts(&self) -> Result<Vec<ErasedCount>> {
        let rows = self
            .db
            .fetch(
                "SELECT kind, COUNT(*) AS keys, CAST(SUM(hits) AS BIGINT) AS hits \
                 FROM privacy_erased GROUP BY kind ORDER BY kind",
                &[],
                &[Col::Text, Col::Int, Col::Int],
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ErasedCount {
                    kind: row.text("kind")?,
                    keys: u64::try_from(row.int("keys")?).unwrap_or(0),
                    hits: u64::try_from(row.int("hits")?).unwrap_or(0),
                })
            })
            .collect()
    }
}

/// Hashes per lookup statement.
const HASHES_PER_QUERY: usize = 500;

/// The installation's secret of erased keys (migration 0020) and whether
/// any key is stored at all (no need to hash a batch when none is).
async fn erased_secret<T: DbTx>(tx: &mut T) -> Result<(String, bool)> {
    let rows = tx
        .fetch(
            "SELECT secret, (SELECT COUNT(*) FROM privacy_erased) AS n FROM privacy_secret",
            &[],
            &[Col::Text, Col::Int],
        )
        .await?;
    let row = rows
        .first()
        .ok_or_else(|| corrupt("privacy_secret", "1", "migration 0020 made no secret"))?;
    Ok((row.text("secret")?, row.int("n")? > 0))
}

/// The stored form of an erased key: SHA-256 of the secret and the key,
/// in hex.
fn key_hash(secret: &str, key: &str) -> String {
    let mut h = Sha256::new();
    h.update(secret.as_bytes());
    h.update(b"\n");
    h.update(key.as_bytes());
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The sort of key (`email`, `customer`, `order`, `ticket`, `shop`).
fn key_kind(key: &str) -> &str {
    key.split(':').next().unwrap_or(key)
}

/// Stores the hashes of `keys` as erased by `request` (a key erased
/// before stays as it was).
async fn remember_erased<T: DbTx>(
    tx: &mut T,
    keys: &[String],
    request: &PrivacyRequest,
) -> Result<()> {
    if keys.is_empty() {
        return Ok(());
    }
    let (secret, _) = erased_secret(tx).await?;
    let at = request.completed_at.unwrap_or(request.received_at);
    let unique: HashSet<&String> = keys.iter().collect();
    for key in unique {
        tx.execute(
            "INSERT INTO privacy_erased (key_hash, kind, request_id, erased_at_us, hits) \
             VALUES ($1, $2, $3, $4, 0) ON CONFLICT (key_hash) DO NOTHING",
            &[
                text(&key_hash(&secret, key)),
                text(key_kind(key)),
                int(request.id),
                int(micros(at)),
            ],
        )
        .await?;
    }
    Ok(())
}

/// `records` with every record of an erased person (or of a shop after
/// `shop/redact`) replaced by its erased form, or `None` when none is:
/// what the store's one upsert path writes instead of what arrived. Each
/// hit counts on its key (`hits`) and is logged without the person (kind,
/// source and the sort of key only).
pub(crate) async fn tombstone_erased<T: DbTx>(
    tx: &mut T,
    records: &[AnyRecord],
) -> Result<Option<Vec<AnyRecord>>> {
    let (secret, any) = erased_secret(tx).await?;
    if !any || records.is_empty() {
        return Ok(None);
    }
    let per_record: Vec<Vec<(String, String)>> = records
        .iter()
        .map(|r| {
            lookup_keys(r)
                .into_iter()
                .map(|k| (key_hash(&secret, &k), k))
                .collect()
        })
        .collect();
    let all: Vec<&String> = per_record
        .iter()
        .flatten()
        .map(|(h, _)| h)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let mut erased = HashSet::new();
    for chunk in all.chunks(HASHES_PER_QUERY) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let params: Vec<Value> = chunk.iter().map(|h| text(h)).collect();
        let sql = format!(
            "SELECT key_hash FROM privacy_erased WHERE key_hash IN ({})",
            marks.join(", ")
        );
        for row in tx.fetch(&sql, &params, &[Col::Text]).await? {
            erased.insert(row.text("key_hash")?);
        }
    }
    if erased.is_empty() {
        return Ok(None);
    }
    let mut hits: HashMap<String, i64> = HashMap::new();
    let mut out = Vec::with_capacity(records.len());
    for (record, keys) in records.iter().zip(&per_record) {
        let matched: Vec<&(String, String)> =
            keys.iter().filter(|(h, _)| erased.contains(h)).collect();
        if matched.is_empty() {
            out.push(record.clone());
            continue;
        }
        for (h, key) in &matched {
            *hits.entry(h.clone()).or_default() += 1;
            let sort = key_kind(key);
            if is_shop_key(key) {
                tracing::warn!(
                    kind = record.kind().as_str(),
                    source = %record.source(),
                    "a record of a shop whose data was erased (shop/redact) arrived; stored erased"
                );
            } else {
                tracing::info!(
                    kind = record.kind().as_str(),
                    source = %record.source(),
                    key = sort,
                    "a record of an erased person arrived; stored erased"
                );
            }
        }
        out.push(erase_record(record, &own_needles(record)).unwrap_or_else(|| record.clone()));
    }
    for (h, n) in hits {
        tx.execute(
            "UPDATE privacy_erased SET hits = hits + $1 WHERE key_hash = $2",
            &[int(n), text(&h)],
        )
        .await?;
    }
    Ok(Some(out))
}
