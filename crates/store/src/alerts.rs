//! Storage for alerts: episodes and their history, the durable notification
//! outbox, silences and the evaluator's leader lease (migration 0004).
//!
//! The store does not know what an alert rule *is*: episode, event, silence
//! and payload bodies are JSON owned by the `opsdeck-alerts` crate (which
//! reads an episode's body as its `Alert` type). An episode's severity and
//! state are columns, typed here ([`Severity`], [`EpisodeState`]) because
//! the store's own rules read the state. The store keeps the rules that
//! must hold whoever calls it:
//!
//! - one evaluation step (episode changes, their events, the notifications
//!   they cause) commits whole or not at all ([`AlertStore::alert_commit`]),
//!   so a notification exists in the outbox before anything tries to send it;
//! - at most one unresolved episode per dedup key (a unique partial index);
//! - a notification is handed to one sender at a time: claiming writes the
//!   sender's name and a lease, and only a row whose lease has passed can be
//!   claimed again ([`AlertStore::outbox_claim`]); a sender can only finish a
//!   row it still holds ([`AlertStore::outbox_finish`]);
//! - a lease row names the one process that evaluates and sends
//!   ([`AlertStore::alert_lease`]); it is taken over once it expires.

use crate::db::{Col, Db, DbTx, Dialect, Row, Value};
use crate::engine::SqlStore;
use crate::tokens::{audit_params, AUDIT_INSERT};
use crate::{AuditEntry, Result, StoreError};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

opsdeck_domain::open_enum! {
    /// How bad an alert is; orders the urgent-attention list, critical
    /// first. A severity written by a newer version is kept as `Other` and
    /// ranks below warning ([`Ord`]).
    pub enum Severity {
        Warning = "warning",
        Critical = "critical",
    }
}

impl Severity {
    /// A severity this version knows, for configuration, which must refuse
    /// any other word; `None` for anything else.
    pub fn known(s: &str) -> Option<Severity> {
        match Severity::parse(s) {
            Severity::Other(_) => None,
            known => Some(known),
        }
    }

    fn rank(&self) -> u8 {
        match self {
            Severity::Other(_) => 0,
            Severity::Warning => 1,
            Severity::Critical => 2,
        }
    }
}

impl Ord for Severity {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.rank()
            .cmp(&other.rank())
            .then_with(|| self.as_str().cmp(other.as_str()))
    }
}

impl PartialOrd for Severity {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

opsdeck_domain::open_enum! {
    /// Where a stored episode is in its life. The store's rules read it:
    /// at most one unresolved episode per dedup key, and an acknowledgement
    /// is never turned back to firing. A state written by a newer version
    /// is kept as `Other` and counts as open (not resolved).
    pub enum EpisodeState {
        Firing = "firing",
        Acknowledged = "acknowledged",
        Resolved = "resolved",
    }
}

impl EpisodeState {
    /// Not resolved: what `EpisodeFilter::open_only` lists.
    pub fn is_open(&self) -> bool {
        *self != EpisodeState::Resolved
    }
}

/// One alert episode as stored. `body` carries everything else (value,
/// baseline, threshold, why, escalation tier, ...): the `opsdeck-alerts`
/// crate's `Alert`, which its `Episode` reads it as.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpisodeRow {
    pub id: String,
    /// `rule|brand|subject`: at most one unresolved episode per key.
    pub dedup_key: String,
    pub rule: String,
    pub brand: String,
    pub severity: Severity,
    pub state: EpisodeState,
    pub opened_at: Timestamp,
    pub updated_at: Timestamp,
    pub body: serde_json::Value,
}

/// One entry of an episode's history (state change, notification, ack...).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EventRow {
    pub episode_id: String,
    pub at: Timestamp,
    pub kind: String,
    pub body: serde_json::Value,
}

/// Where a notification is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutboxStatus {
    /// Not delivered yet: waiting for its next attempt (or being sent).
    Pending,
    Delivered,
    /// Gave up: its deadline passed, or the receiver refused it for good.
    Expired,
}

impl OutboxStatus {
    fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Pending => "pending",
            OutboxStatus::Delivered => "delivered",
            OutboxStatus::Expired => "expired",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        match s {
            "pending" => Ok(OutboxStatus::Pending),
            "delivered" => Ok(OutboxStatus::Delivered),
            "expired" => Ok(OutboxStatus::Expired),
            other => Err(corrupt("outbox", other, "unknown status")),
        }
    }
}

/// A notification to commit: what to send, on which configured channel,
/// for which episodes, until when to keep trying.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NewNotification {
    pub id: String,
    pub channel: String,
    pub payload: serde_json::Value,
    pub episode_ids: Vec<String>,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

/// A notification with its delivery status.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OutboxRow {
    pub id: String,
    pub channel: String,
    pub payload: serde_json::Value,
    pub status: OutboxStatus,
    /// Send attempts started so far (a claim counts as one).
    pub attempts: u32,
    pub created_at: Timestamp,
    pub next_attempt_at: Timestamp,
    pub expires_at: Timestamp,
    pub lease_holder: Option<String>,
    pub lease_until: Option<Timestamp>,
    pub last_error: Option<String>,
    pub delivered_at: Option<Timestamp>,
}

/// How one send attempt ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DeliveryResult {
    Delivered,
    /// Try again at `at` (the receiver's `Retry-After`, or backoff).
    Retry {
        at: Timestamp,
        error: String,
    },
    /// Stop trying; the row stays visible with the reason.
    Expired {
        error: String,
    },
}

/// A silence or a declared incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SilenceRow {
    pub id: String,
    pub starts_at: Timestamp,
    pub ends_at: Timestamp,
    pub created_at: Timestamp,
    pub body: serde_json::Value,
}

/// Everything one evaluation step (or one acknowledgement) writes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertBatch {
    /// Inserted, or replaced by id.
    pub episodes: Vec<EpisodeRow>,
    pub events: Vec<EventRow>,
    pub notifications: Vec<NewNotification>,
    /// Inserted, or replaced by id (ending a silence early is a replace).
    pub silences: Vec<SilenceRow>,
    /// What people did (ack, resolve, silence), into the shared audit log
    /// in the same transaction.
    pub audit: Vec<AuditEntry>,
}

impl AlertBatch {
    pub fn is_empty(&self) -> bool {
        self.episodes.is_empty()
            && self.events.is_empty()
            && self.notifications.is_empty()
            && self.silences.is_empty()
            && self.audit.is_empty()
    }
}

/// Which episodes to list, newest change first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EpisodeFilter {
    /// Only episodes that are not resolved.
    pub open_only: bool,
    pub brand: Option<String>,
    pub limit: u32,
}

/// The alert tables. Every [`crate::Store`] implements it.
///
/// An episode write never reopens a resolved episode nor turns an
/// acknowledged one back to firing: an acknowledgement made by a person
/// (through any process) wins over an evaluator that has not seen it yet.
#[async_trait]
pub trait AlertStore: Send + Sync {
    /// Writes a batch in one transaction.
    async fn alert_commit(&self, batch: &AlertBatch) -> Result<()>;

    async fn alert_episodes(&self, filter: &EpisodeFilter) -> Result<Vec<EpisodeRow>>;

    async fn alert_episode(&self, id: &str) -> Result<Option<EpisodeRow>>;

    /// The history of an episode, oldest first.
    async fn alert_events(&self, episode_id: &str) -> Result<Vec<EventRow>>;

    /// Claims up to `limit` pending notifications due at `now` whose lease
    /// (if any) has passed, for `holder` until `now + lease`, counting an
    /// attempt for each. Two concurrent claimers never get the same row.
    async fn outbox_claim(
        &self,
        holder: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<OutboxRow>>;

    /// Records how an attempt ended. Returns false (and changes nothing)
    /// when `holder` no longer holds the row: its lease passed and another
    /// sender claimed it.
    async fn outbox_finish(
        &self,
        id: &str,
        holder: &str,
        result: &DeliveryResult,
        now: Timestamp,
    ) -> Result<bool>;

    /// Notifications, newest first: those of one episode, or all.
    async fn outbox_list(&self, episode_id: Option<&str>, limit: u32) -> Result<Vec<OutboxRow>>;

    /// Silences whose window contains `at`, or every silence when `None`.
    async fn alert_silences(&self, at: Option<Timestamp>) -> Result<Vec<SilenceRow>>;

    /// Takes or renews the lease `name` for `holder` until `now + ttl`.
    /// True when `holder` holds it afterwards: it was free, expired, or
    /// already `holder`'s.
    async fn alert_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<bool>;

    /// Gives the lease up at once (clean shutdown), if `holder` holds it.
    async fn alert_lease_release(&self, name: &str, holder: &str) -> Result<()>;
}

fn corrupt(kind: &'static str, id: &str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        kind,
        external_id: id.to_string(),
        reason: reason.to_string(),
    }
}

fn us(ts: Timestamp) -> Value {
    Value::Int(Some(ts.as_microsecond()))
}

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

fn json(v: &serde_json::Value) -> Value {
    Value::Text(Some(v.to_string()))
}

fn ts(row: &Row, i: usize, kind: &'static str) -> Result<Timestamp> {
    let v = row.int(i)?;
    Timestamp::from_microsecond(v).map_err(|e| corrupt(kind, &v.to_string(), e))
}

fn opt_ts(row: &Row, i: usize, kind: &'static str) -> Result<Option<Timestamp>> {
    row.opt_int(i)
        .map(|v| Timestamp::from_microsecond(v).map_err(|e| corrupt(kind, &v.to_string(), e)))
        .transpose()
}

fn parse_json(row: &Row, i: usize, kind: &'static str) -> Result<serde_json::Value> {
    let t = row.text(i)?;
    serde_json::from_str(&t).map_err(|e| corrupt(kind, "body", e))
}

/// `$n`, cast to JSONB on PostgreSQL.
fn jp(d: Dialect, n: usize) -> String {
    match d {
        Dialect::Sqlite => format!("${n}"),
        Dialect::Postgres => format!("${n}::jsonb"),
    }
}

/// A JSON column read back as text.
fn jc(d: Dialect, col: &str) -> String {
    match d {
        Dialect::Sqlite => col.to_string(),
        Dialect::Postgres => format!("{col}::text"),
    }
}

fn episode_select(d: Dialect) -> String {
    format!(
        "SELECT id, dedup_key, rule, brand, severity, state, opened_at_us, updated_at_us, {} \
         FROM alert_episodes",
        jc(d, "body")
    )
}

const EPISODE_COLS: [Col; 9] = [
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
];

fn episode(row: &Row) -> Result<EpisodeRow> {
    Ok(EpisodeRow {
        id: row.text(0)?,
        dedup_key: row.text(1)?,
        rule: row.text(2)?,
        brand: row.text(3)?,
        severity: Severity::parse(&row.text(4)?),
        state: EpisodeState::parse(&row.text(5)?),
        opened_at: ts(row, 6, "alert episode")?,
        updated_at: ts(row, 7, "alert episode")?,
        body: parse_json(row, 8, "alert episode")?,
    })
}

fn outbox_select(d: Dialect) -> String {
    format!(
        "SELECT o.id, o.channel, {}, o.status, o.attempts, o.created_at_us, o.next_attempt_us, \
         o.expires_at_us, o.lease_holder, o.lease_until_us, o.last_error, o.delivered_at_us \
         FROM alert_outbox o",
        jc(d, "o.payload")
    )
}

/// The columns of [`outbox_select`], without the table alias, for
/// `RETURNING`.
fn outbox_returning(d: Dialect) -> String {
    format!(
        "id, channel, {}, status, attempts, created_at_us, next_attempt_us, expires_at_us, \
         lease_holder, lease_until_us, last_error, delivered_at_us",
        jc(d, "payload")
    )
}

const OUTBOX_COLS: [Col; 12] = [
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
];

fn outbox(row: &Row) -> Result<OutboxRow> {
    const K: &str = "alert notification";
    Ok(OutboxRow {
        id: row.text(0)?,
        channel: row.text(1)?,
        payload: parse_json(row, 2, K)?,
        status: OutboxStatus::parse(&row.text(3)?)?,
        attempts: u32::try_from(row.int(4)?).unwrap_or(u32::MAX),
        created_at: ts(row, 5, K)?,
        next_attempt_at: ts(row, 6, K)?,
        expires_at: ts(row, 7, K)?,
        lease_holder: row.opt_text(8),
        lease_until: opt_ts(row, 9, K)?,
        last_error: row.opt_text(10),
        delivered_at: opt_ts(row, 11, K)?,
    })
}

#[async_trait]
impl<D: Db> AlertStore for SqlStore<D> {
    #[tracing::instrument(skip_all, fields(episodes = batch.episodes.len(), notifications = batch.notifications.len()))]
    async fn alert_commit(&self, batch: &AlertBatch) -> Result<()> {
        if batch.is_empty() {
            return Ok(());
        }
        let d = self.db.dialect();
        let mut tx = self.db.begin().await?;
        let upsert_episode = format!(
            "INSERT INTO alert_episodes (id, dedup_key, rule, brand, severity, state, \
             opened_at_us, updated_at_us, body) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, {}) \
             ON CONFLICT (id) DO UPDATE SET state = excluded.state, \
             updated_at_us = excluded.updated_at_us, severity = excluded.severity, \
             body = excluded.body \
             WHERE alert_episodes.state <> 'resolved' \
             AND NOT (alert_episodes.state = 'acknowledged' AND excluded.state = 'firing')",
            jp(d, 9)
        );
        for e in &batch.episodes {
            let params = [
                text(&e.id),
                text(&e.dedup_key),
                text(&e.rule),
                text(&e.brand),
                text(e.severity.as_str()),
                text(e.state.as_str()),
                us(e.opened_at),
                us(e.updated_at),
                json(&e.body),
            ];
            tx.execute(&upsert_episode, &params).await?;
        }
        let insert_event = format!(
            "INSERT INTO alert_events (episode_id, at_us, kind, body) VALUES ($1, $2, $3, {})",
            jp(d, 4)
        );
        for e in &batch.events {
            let params = [text(&e.episode_id), us(e.at), text(&e.kind), json(&e.body)];
            tx.execute(&insert_event, &params).await?;
        }
        let insert_outbox = format!(
            "INSERT INTO alert_outbox (id, channel, payload, status, attempts, created_at_us, \
             next_attempt_us, expires_at_us) VALUES ($1, $2, {}, 'pending', 0, $3, $3, $4)",
            jp(d, 5)
        );
        let link = "INSERT INTO alert_outbox_episodes (episode_id, outbox_id) VALUES ($1, $2)";
        for n in &batch.notifications {
            let params = [
                text(&n.id),
                text(&n.channel),
                us(n.created_at),
                us(n.expires_at),
                json(&n.payload),
            ];
            tx.execute(&insert_outbox, &params).await?;
            for episode in &n.episode_ids {
                tx.execute(link, &[text(episode), text(&n.id)]).await?;
            }
        }
        let upsert_silence = format!(
            "INSERT INTO alert_silences (id, starts_at_us, ends_at_us, created_at_us, body) \
             VALUES ($1, $2, $3, $4, {}) ON CONFLICT (id) DO UPDATE SET \
             starts_at_us = excluded.starts_at_us, ends_at_us = excluded.ends_at_us, \
             body = excluded.body",
            jp(d, 5)
        );
        for s in &batch.silences {
            let params = [
                text(&s.id),
                us(s.starts_at),
                us(s.ends_at),
                us(s.created_at),
                json(&s.body),
            ];
            tx.execute(&upsert_silence, &params).await?;
        }
        for a in &batch.audit {
            tx.execute(AUDIT_INSERT, &audit_params(a)).await?;
        }
        tx.commit().await
    }

    async fn alert_episodes(&self, filter: &EpisodeFilter) -> Result<Vec<EpisodeRow>> {
        let d = self.db.dialect();
        let sql = format!(
            "{} WHERE ($1 = 0 OR state <> 'resolved') AND ($2 IS NULL OR brand = $2) \
             ORDER BY updated_at_us DESC, id DESC LIMIT $3",
            episode_select(d)
        );
        let params = [
            Value::Int(Some(i64::from(filter.open_only))),
            Value::Text(filter.brand.clone()),
            Value::Int(Some(i64::from(filter.limit))),
        ];
        let rows = self.db.fetch(&sql, &params, &EPISODE_COLS).await?;
        rows.iter().map(episode).collect()
    }

    async fn alert_episode(&self, id: &str) -> Result<Option<EpisodeRow>> {
        let sql = format!("{} WHERE id = $1", episode_select(self.db.dialect()));
        let rows = self.db.fetch(&sql, &[text(id)], &EPISODE_COLS).await?;
        rows.first().map(episode).transpose()
    }

    async fn alert_events(&self, episode_id: &str) -> Result<Vec<EventRow>> {
        let sql = format!(
            "SELECT episode_id, at_us, kind, {} FROM alert_events WHERE episode_id = $1 \
             ORDER BY id",
            jc(self.db.dialect(), "body")
        );
        let cols = [Col::Text, Col::Int, Col::Text, Col::Text];
        let rows = self.db.fetch(&sql, &[text(episode_id)], &cols).await?;
        rows.iter()
            .map(|row| {
                Ok(EventRow {
                    episode_id: row.text(0)?,
                    at: ts(row, 1, "alert event")?,
                    kind: row.text(2)?,
                    body: parse_json(row, 3, "alert event")?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(holder, limit))]
    async fn outbox_claim(
        &self,
        holder: &str,
        now: Timestamp,
        lease: SignedDuration,
        limit: u32,
    ) -> Result<Vec<OutboxRow>> {
        let d = self.db.dialect();
        // The outer WHERE repeats the claimable test: under PostgreSQL's
        // READ COMMITTED a row another claimer updated meanwhile is
        // re-checked against its new version and skipped; SQLite runs one
        // writer at a time.
        let claimable = "status = 'pending' AND next_attempt_us <= $3 \
                         AND (lease_until_us IS NULL OR lease_until_us <= $3)";
        let skip_locked = match d {
            Dialect::Postgres => " FOR UPDATE SKIP LOCKED",
            Dialect::Sqlite => "",
        };
        let sql = format!(
            "WITH due AS (SELECT id FROM alert_outbox WHERE {claimable} \
             ORDER BY next_attempt_us, id LIMIT $4{skip_locked}) \
             UPDATE alert_outbox SET lease_holder = $1, lease_until_us = $2, \
             attempts = attempts + 1 WHERE id IN (SELECT id FROM due) AND {claimable} \
             RETURNING {}",
            outbox_returning(d)
        );
        let until = now.saturating_add(lease).unwrap_or(now);
        let params = [
            text(holder),
            us(until),
            us(now),
            Value::Int(Some(i64::from(limit))),
        ];
        let rows = self.db.fetch(&sql, &params, &OUTBOX_COLS).await?;
        let mut claimed: Vec<OutboxRow> = rows.iter().map(outbox).collect::<Result<_>>()?;
        claimed.sort_by(|a, b| (a.next_attempt_at, &a.id).cmp(&(b.next_attempt_at, &b.id)));
        Ok(claimed)
    }

    async fn outbox_finish(
        &self,
        id: &str,
        holder: &str,
        result: &DeliveryResult,
        now: Timestamp,
    ) -> Result<bool> {
        let (status, next, error, delivered) = match result {
            DeliveryResult::Delivered => (OutboxStatus::Delivered, None, None, Some(now)),
            DeliveryResult::Retry { at, error } => {
                (OutboxStatus::Pending, Some(*at), Some(error.clone()), None)
            }
            DeliveryResult::Expired { error } => {
                (OutboxStatus::Expired, None, Some(error.clone()), None)
            }
        };
        let sql = "UPDATE alert_outbox SET status = $3, \
                   next_attempt_us = COALESCE($4, next_attempt_us), \
                   last_error = COALESCE($5, last_error), delivered_at_us = $6, \
                   lease_holder = NULL, lease_until_us = NULL \
                   WHERE id = $1 AND lease_holder = $2 AND status = 'pending'";
        let params = [
            text(id),
            text(holder),
            text(status.as_str()),
            Value::Int(next.map(|t| t.as_microsecond())),
            Value::Text(error),
            Value::Int(delivered.map(|t| t.as_microsecond())),
        ];
        Ok(self.db.execute(sql, &params).await? == 1)
    }

    async fn outbox_list(&self, episode_id: Option<&str>, limit: u32) -> Result<Vec<OutboxRow>> {
        let d = self.db.dialect();
        let sql = format!(
            "{} WHERE $1 IS NULL OR o.id IN (SELECT outbox_id FROM alert_outbox_episodes \
             WHERE episode_id = $1) ORDER BY o.created_at_us DESC, o.id DESC LIMIT $2",
            outbox_select(d)
        );
        let params = [
            Value::Text(episode_id.map(str::to_string)),
            Value::Int(Some(i64::from(limit))),
        ];
        let rows = self.db.fetch(&sql, &params, &OUTBOX_COLS).await?;
        rows.iter().map(outbox).collect()
    }

    async fn alert_silences(&self, at: Option<Timestamp>) -> Result<Vec<SilenceRow>> {
        let sql = format!(
            "SELECT id, starts_at_us, ends_at_us, created_at_us, {} FROM alert_silences \
             WHERE $1 IS NULL OR (starts_at_us <= $1 AND ends_at_us > $1) \
             ORDER BY starts_at_us, id",
            jc(self.db.dialect(), "body")
        );
        let cols = [Col::Text, Col::Int, Col::Int, Col::Int, Col::Text];
        let params = [Value::Int(at.map(|t| t.as_microsecond()))];
        let rows = self.db.fetch(&sql, &params, &cols).await?;
        rows.iter()
            .map(|row| {
                Ok(SilenceRow {
                    id: row.text(0)?,
                    starts_at: ts(row, 1, "alert silence")?,
                    ends_at: ts(row, 2, "alert silence")?,
                    created_at: ts(row, 3, "alert silence")?,
                    body: parse_json(row, 4, "alert silence")?,
                })
            })
            .collect()
    }

    async fn alert_lease(
        &self,
        name: &str,
        holder: &str,
        now: Timestamp,
        ttl: SignedDuration,
    ) -> Result<bool> {
        // One statement: insert, or take over when expired or already ours.
        // Concurrent callers serialize on the row; the loser's WHERE fails.
        let sql = "INSERT INTO alert_leases (name, holder, expires_at_us) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                   expires_at_us = excluded.expires_at_us \
                   WHERE alert_leases.holder = excluded.holder \
                   OR alert_leases.expires_at_us <= $4";
        let until = now.saturating_add(ttl).unwrap_or(now);
        let params = [text(name), text(holder), us(until), us(now)];
        Ok(self.db.execute(sql, &params).await? == 1)
    }

    async fn alert_lease_release(&self, name: &str, holder: &str) -> Result<()> {
        let sql = "DELETE FROM alert_leases WHERE name = $1 AND holder = $2";
        self.db.execute(sql, &[text(name), text(holder)]).await?;
        Ok(())
    }
}
