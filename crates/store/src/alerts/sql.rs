//! [`AlertStore`] over SQLite and PostgreSQL: one SQL text per statement,
//! JSON bodies cast to JSONB on PostgreSQL and read back as text.

use super::*;
use crate::db::{Col, Db, DbTx, Dialect, Row, Value};
use crate::engine::SqlStore;
use crate::tokens::{audit_params, AUDIT_INSERT};
use crate::{Result, StoreError};
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

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

fn ts(row: &Row, col: &str, kind: &'static str) -> Result<Timestamp> {
    let v = row.int(col)?;
    Timestamp::from_microsecond(v).map_err(|e| corrupt(kind, &v.to_string(), e))
}

fn opt_ts(row: &Row, col: &str, kind: &'static str) -> Result<Option<Timestamp>> {
    row.opt_int(col)
        .map(|v| Timestamp::from_microsecond(v).map_err(|e| corrupt(kind, &v.to_string(), e)))
        .transpose()
}

fn parse_json(row: &Row, col: &str, kind: &'static str) -> Result<serde_json::Value> {
    let t = row.text(col)?;
    serde_json::from_str(&t).map_err(|e| corrupt(kind, "body", e))
}

/// `$n`, cast to JSONB on PostgreSQL.
fn jp(d: Dialect, n: usize) -> String {
    match d {
        Dialect::Sqlite => format!("${n}"),
        Dialect::Postgres => format!("${n}::jsonb"),
    }
}

/// A JSON column read back as text, under the name `name`.
fn jc(d: Dialect, col: &str, name: &str) -> String {
    match d {
        Dialect::Sqlite => format!("{col} AS {name}"),
        Dialect::Postgres => format!("{col}::text AS {name}"),
    }
}

fn episode_select(d: Dialect) -> String {
    format!(
        "SELECT id, dedup_key, rule, brand, severity, state, opened_at_us, updated_at_us, {} \
         FROM alert_episodes",
        jc(d, "body", "body")
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
        id: row.text("id")?,
        dedup_key: row.text("dedup_key")?,
        rule: row.text("rule")?,
        brand: row.text("brand")?,
        severity: Severity::parse(&row.text("severity")?),
        state: EpisodeState::parse(&row.text("state")?),
        opened_at: ts(row, "opened_at_us", "alert episode")?,
        updated_at: ts(row, "updated_at_us", "alert episode")?,
        body: parse_json(row, "body", "alert episode")?,
    })
}

fn outbox_select(d: Dialect) -> String {
    format!(
        "SELECT o.id AS id, o.channel AS channel, {}, o.status AS status, \
         o.attempts AS attempts, o.created_at_us AS created_at_us, \
         o.next_attempt_us AS next_attempt_us, o.expires_at_us AS expires_at_us, \
         o.lease_holder AS lease_holder, o.lease_until_us AS lease_until_us, \
         o.last_error AS last_error, o.delivered_at_us AS delivered_at_us \
         FROM alert_outbox o",
        jc(d, "o.payload", "payload")
    )
}

/// The columns of [`outbox_select`], without the table alias, for
/// `RETURNING`.
fn outbox_returning(d: Dialect) -> String {
    format!(
        "id, channel, {}, status, attempts, created_at_us, next_attempt_us, expires_at_us, \
         lease_holder, lease_until_us, last_error, delivered_at_us",
        jc(d, "payload", "payload")
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
        id: row.text("id")?,
        channel: Channel::parse(&row.text("channel")?),
        payload: parse_json(row, "payload", K)?,
        status: {
            let status = row.text("status")?;
            OutboxStatus::parse(&status)
                .ok_or_else(|| corrupt("outbox", &status, "unknown status"))?
        },
        attempts: u32::try_from(row.int("attempts")?).unwrap_or(u32::MAX),
        created_at: ts(row, "created_at_us", K)?,
        next_attempt_at: ts(row, "next_attempt_us", K)?,
        expires_at: ts(row, "expires_at_us", K)?,
        lease_holder: row.opt_text("lease_holder"),
        lease_until: opt_ts(row, "lease_until_us", K)?,
        last_error: row.opt_text("last_error"),
        delivered_at: opt_ts(row, "delivered_at_us", K)?,
    })
}

/// Queues notifications in the outbox inside `tx`: the one way rows reach
/// it, for an alert step and for an incident's notice alike.
pub(crate) async fn insert_notifications<T: DbTx>(
    tx: &mut T,
    d: Dialect,
    notifications: &[NewNotification],
) -> Result<()> {
    let insert_outbox = format!(
        "INSERT INTO alert_outbox (id, channel, payload, status, attempts, created_at_us, \
         next_attempt_us, expires_at_us) VALUES ($1, $2, {}, 'pending', 0, $3, $3, $4)",
        jp(d, 5)
    );
    let link = "INSERT INTO alert_outbox_episodes (episode_id, outbox_id) VALUES ($1, $2)";
    for n in notifications {
        let params = [
            text(&n.id),
            text(n.channel.as_str()),
            us(n.created_at),
            us(n.expires_at),
            json(&n.payload),
        ];
        tx.execute(&insert_outbox, &params).await?;
        for episode in &n.episode_ids {
            tx.execute(link, &[text(episode), text(&n.id)]).await?;
        }
    }
    Ok(())
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
            let params = [
                text(&e.episode_id),
                us(e.at),
                text(e.kind.as_str()),
                json(&e.body),
            ];
            tx.execute(&insert_event, &params).await?;
        }
        insert_notifications(&mut tx, d, &batch.notifications).await?;
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
            jc(self.db.dialect(), "body", "body")
        );
        let cols = [Col::Text, Col::Int, Col::Text, Col::Text];
        let rows = self.db.fetch(&sql, &[text(episode_id)], &cols).await?;
        rows.iter()
            .map(|row| {
                Ok(EventRow {
                    episode_id: row.text("episode_id")?,
                    at: ts(row, "at_us", "alert event")?,
                    kind: EventKind::parse(&row.text("kind")?),
                    body: parse_json(row, "body", "alert event")?,
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
            jc(self.db.dialect(), "body", "body")
        );
        let cols = [Col::Text, Col::Int, Col::Int, Col::Int, Col::Text];
        let params = [Value::Int(at.map(|t| t.as_microsecond()))];
        let rows = self.db.fetch(&sql, &params, &cols).await?;
        rows.iter()
            .map(|row| {
                Ok(SilenceRow {
                    id: row.text("id")?,
                    starts_at: ts(row, "starts_at_us", "alert silence")?,
                    ends_at: ts(row, "ends_at_us", "alert silence")?,
                    created_at: ts(row, "created_at_us", "alert silence")?,
                    body: parse_json(row, "body", "alert silence")?,
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
