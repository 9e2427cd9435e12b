//! Storage for shift handovers and the morning checklist (migration 0015).
//!
//! Like incidents, the store does not know what a handover note *says*:
//! its body is JSON owned by `opsdeck-operations::handover`. The store
//! keeps the rules that must hold whoever calls it:
//!
//! - one note per region and shift (a unique key): two people starting the
//!   same shift's note at once get one note;
//! - a change and its audit entries commit together, and an update names
//!   the version it read and is refused (`false`, nothing written) when
//!   another writer changed the note since;
//! - the "not acknowledged in time" notice is queued at most once per note,
//!   in the same transaction as its alert-outbox rows and its audit entry
//!   ([`HandoverStore::handover_notify`]), so however many processes see it
//!   due the lead is told once;
//! - a checklist item is checked once per region and local day (its key),
//!   with its audit entry; a new local day starts unchecked.

use crate::alerts::NewNotification;
use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros, opt_micros, text};
use crate::tokens::{audit_params, AuditEntry, AUDIT_INSERT};
use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;

/// A handover note as stored: the columns the store filters and locks on,
/// and the body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HandoverRow {
    pub id: i64,
    /// The region's id.
    pub region: String,
    /// The shift the note hands over (its start and end, UTC).
    pub shift_start: Timestamp,
    pub shift_end: Timestamp,
    /// `draft`, `submitted` or `acknowledged`.
    pub state: String,
    pub created_by: String,
    pub created_at: Timestamp,
    pub submitted_by: Option<String>,
    pub submitted_at: Option<Timestamp>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<Timestamp>,
    /// When the region's leads were told it was not acknowledged in time.
    pub notified_at: Option<Timestamp>,
    /// Taken by each update; an update naming an older one is refused.
    pub version: i64,
    pub body: serde_json::Value,
}

/// One checked item of a region's morning checklist.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChecklistCheck {
    pub region: String,
    /// The region's local day, `YYYY-MM-DD`.
    pub local_day: String,
    pub item: String,
    pub checked_by: String,
    pub checked_at: Timestamp,
}

/// The handover and checklist tables. Every [`crate::Store`] implements it.
#[async_trait]
pub trait HandoverStore: Send + Sync {
    /// Stores a new note (its `id` and `version` are ignored) with its audit
    /// entry; `None`, and nothing written, when the region's shift already
    /// has one.
    async fn handover_insert(&self, row: &HandoverRow, audit: &AuditEntry) -> Result<Option<i64>>;

    /// Replaces the note whose id and version are `row`'s, taking the next
    /// version, and writes `audit`. `false` (nothing written) when the
    /// stored version differs.
    async fn handover_update(&self, row: &HandoverRow, audit: &[AuditEntry]) -> Result<bool>;

    async fn handover(&self, id: i64) -> Result<Option<HandoverRow>>;

    /// The note of one region's shift, if one was started.
    async fn handover_of_shift(
        &self,
        region: &str,
        shift_start: Timestamp,
    ) -> Result<Option<HandoverRow>>;

    /// Notes newest shift first, of one region or of all, at most `limit`.
    async fn handovers(&self, region: Option<&str>, limit: u32) -> Result<Vec<HandoverRow>>;

    /// Submitted notes not acknowledged and not yet notified about,
    /// submitted at or before `submitted_by`: the ones whose deadline may
    /// have passed.
    async fn handovers_unacknowledged(&self, submitted_by: Timestamp) -> Result<Vec<HandoverRow>>;

    /// Marks note `id` notified at `at`, queues `notifications` in the alert
    /// outbox and writes `audit`, in one transaction. `false`, and nothing
    /// written, when the note was already notified about or is no longer
    /// waiting for its acknowledgement.
    async fn handover_notify(
        &self,
        id: i64,
        at: Timestamp,
        notifications: &[NewNotification],
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// Records a checklist item as checked, with `audit`. `false`, and
    /// nothing written, when it is already checked that local day.
    async fn checklist_check(&self, check: &ChecklistCheck, audit: &AuditEntry) -> Result<bool>;

    /// The items checked in `region` on `local_day`.
    async fn checklist_checks(&self, region: &str, local_day: &str) -> Result<Vec<ChecklistCheck>>;
}

fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

fn opt_text(s: &Option<String>) -> Value {
    Value::Text(s.clone())
}

const SELECT: &str = "SELECT id, region, shift_start_us, shift_end_us, state, created_by, \
     created_at_us, submitted_by, submitted_at_us, acknowledged_by, acknowledged_at_us, \
     notified_at_us, version, body FROM handovers";

const COLS: [Col; 14] = [
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Text,
];

fn handover(row: &Row) -> Result<HandoverRow> {
    let id = row.int("id")?;
    let key = id.to_string();
    let at = |col: &str| from_micros(row.int(col)?, "handover", &key);
    let opt_at = |col: &str| {
        row.opt_int(col)
            .map(|us| from_micros(us, "handover", &key))
            .transpose()
    };
    Ok(HandoverRow {
        id,
        region: row.text("region")?,
        shift_start: at("shift_start_us")?,
        shift_end: at("shift_end_us")?,
        state: row.text("state")?,
        created_by: row.text("created_by")?,
        created_at: at("created_at_us")?,
        submitted_by: row.opt_text("submitted_by"),
        submitted_at: opt_at("submitted_at_us")?,
        acknowledged_by: row.opt_text("acknowledged_by"),
        acknowledged_at: opt_at("acknowledged_at_us")?,
        notified_at: opt_at("notified_at_us")?,
        version: row.int("version")?,
        body: serde_json::from_str(&row.text("body")?).map_err(|e| corrupt("handover", &key, e))?,
    })
}

fn check(row: &Row) -> Result<ChecklistCheck> {
    let item = row.text("item")?;
    Ok(ChecklistCheck {
        region: row.text("region")?,
        local_day: row.text("local_day")?,
        checked_by: row.text("checked_by")?,
        checked_at: from_micros(row.int("checked_at_us")?, "checklist check", &item)?,
        item,
    })
}

#[async_trait]
impl<D: Db> HandoverStore for SqlStore<D> {
    #[tracing::instrument(skip_all, fields(region = %row.region))]
    async fn handover_insert(&self, row: &HandoverRow, audit: &AuditEntry) -> Result<Option<i64>> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO handovers (region, shift_start_us, shift_end_us, state, created_by, \
                 created_at_us, submitted_by, submitted_at_us, acknowledged_by, \
                 acknowledged_at_us, notified_at_us, version, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 1, $12) \
                 ON CONFLICT (region, shift_start_us) DO NOTHING RETURNING id",
                &[
                    text(&row.region),
                    int(micros(row.shift_start)),
                    int(micros(row.shift_end)),
                    text(&row.state),
                    text(&row.created_by),
                    int(micros(row.created_at)),
                    opt_text(&row.submitted_by),
                    opt_micros(row.submitted_at),
                    opt_text(&row.acknowledged_by),
                    opt_micros(row.acknowledged_at),
                    opt_micros(row.notified_at),
                    text(&row.body.to_string()),
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
            audit.subject = format!("handover:{id}");
        }
        tx.execute(AUDIT_INSERT, &audit_params(&audit)).await?;
        tx.commit().await?;
        Ok(Some(id))
    }

    #[tracing::instrument(skip_all, fields(id = row.id, state = %row.state))]
    async fn handover_update(&self, row: &HandoverRow, audit: &[AuditEntry]) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                "UPDATE handovers SET state = $1, submitted_by = $2, submitted_at_us = $3, \
                 acknowledged_by = $4, acknowledged_at_us = $5, body = $6, version = version + 1 \
                 WHERE id = $7 AND version = $8",
                &[
                    text(&row.state),
                    opt_text(&row.submitted_by),
                    opt_micros(row.submitted_at),
                    opt_text(&row.acknowledged_by),
                    opt_micros(row.acknowledged_at),
                    text(&row.body.to_string()),
                    int(row.id),
                    int(row.version),
                ],
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        for entry in audit {
            tx.execute(AUDIT_INSERT, &audit_params(entry)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn handover(&self, id: i64) -> Result<Option<HandoverRow>> {
        let rows = self
            .db
            .fetch(&format!("{SELECT} WHERE id = $1"), &[int(id)], &COLS)
            .await?;
        rows.first().map(handover).transpose()
    }

    async fn handover_of_shift(
        &self,
        region: &str,
        shift_start: Timestamp,
    ) -> Result<Option<HandoverRow>> {
        let rows = self
            .db
            .fetch(
                &format!("{SELECT} WHERE region = $1 AND shift_start_us = $2"),
                &[text(region), int(micros(shift_start))],
                &COLS,
            )
            .await?;
        rows.first().map(handover).transpose()
    }

    async fn handovers(&self, region: Option<&str>, limit: u32) -> Result<Vec<HandoverRow>> {
        let rows = match region {
            Some(r) => {
                self.db
                    .fetch(
                        &format!(
                        "{SELECT} WHERE region = $1 ORDER BY shift_start_us DESC, id DESC LIMIT $2"
                    ),
                        &[text(r), int(i64::from(limit))],
                        &COLS,
                    )
                    .await?
            }
            None => {
                self.db
                    .fetch(
                        &format!("{SELECT} ORDER BY shift_start_us DESC, id DESC LIMIT $1"),
                        &[int(i64::from(limit))],
                        &COLS,
                    )
                    .await?
            }
        };
        rows.iter().map(handover).collect()
    }

    async fn handovers_unacknowledged(&self, submitted_by: Timestamp) -> Result<Vec<HandoverRow>> {
        let rows = self
            .db
            .fetch(
                &format!(
                    "{SELECT} WHERE state = 'submitted' AND notified_at_us IS NULL \
                     AND submitted_at_us <= $1 ORDER BY submitted_at_us, id"
                ),
                &[int(micros(submitted_by))],
                &COLS,
            )
            .await?;
        rows.iter().map(handover).collect()
    }

    #[tracing::instrument(skip_all, fields(id = id))]
    async fn handover_notify(
        &self,
        id: i64,
        at: Timestamp,
        notifications: &[NewNotification],
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let marked = tx
            .execute(
                "UPDATE handovers SET notified_at_us = $1 \
                 WHERE id = $2 AND notified_at_us IS NULL AND state = 'submitted'",
                &[int(micros(at)), int(id)],
            )
            .await?;
        if marked == 0 {
            return Ok(false);
        }
        crate::alerts::insert_notifications(&mut tx, self.db.dialect(), notifications).await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    #[tracing::instrument(skip_all, fields(region = %c.region, item = %c.item))]
    async fn checklist_check(&self, c: &ChecklistCheck, audit: &AuditEntry) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let inserted = tx
            .execute(
                "INSERT INTO checklist_checks (region, local_day, item, checked_by, checked_at_us) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                &[
                    text(&c.region),
                    text(&c.local_day),
                    text(&c.item),
                    text(&c.checked_by),
                    int(micros(c.checked_at)),
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

    async fn checklist_checks(&self, region: &str, local_day: &str) -> Result<Vec<ChecklistCheck>> {
        let rows = self
            .db
            .fetch(
                "SELECT region, local_day, item, checked_by, checked_at_us FROM checklist_checks \
                 WHERE region = $1 AND local_day = $2 ORDER BY checked_at_us, item",
                &[text(region), text(local_day)],
                &[Col::Text, Col::Text, Col::Text, Col::Text, Col::Int],
            )
            .await?;
        rows.iter().map(check).collect()
    }
}
