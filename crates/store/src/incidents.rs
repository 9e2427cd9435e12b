//! Storage for incidents (migration 0012): the incidents, the alerts linked
//! to them, the notices sent for them and the status of each component.
//!
//! Like the alert tables, the store does not know what an incident *is*:
//! its body is JSON owned by `opsdeck-operations` (which reads it as its
//! `Incident`). The store keeps the rules that must hold whoever calls it:
//!
//! - a change and its audit entries commit together
//!   ([`IncidentStore::incident_insert`], [`IncidentStore::incident_update`]);
//! - an update names the version it read and is refused (`false`, nothing
//!   written) when another writer changed the incident since, so two people
//!   acting at once never overwrite each other;
//! - a notice (the declaration's, an escalation step's repeat) is queued at
//!   most once per key, in the same transaction as its outbox rows
//!   ([`IncidentStore::incident_notify`]): the alert outbox's senders then
//!   deliver it like any alert notification.

use crate::alerts::NewNotification;
use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros};
use crate::tokens::{audit_params, AuditEntry, AUDIT_INSERT};
use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;

/// An incident as stored: the columns the store filters on, and the body.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentRow {
    pub id: i64,
    /// The severity's name (`critical`, `high`, ...).
    pub severity: String,
    /// The lifecycle state's name (`triage`, `investigating`, ...).
    pub state: String,
    pub declared_at: Timestamp,
    pub updated_at: Timestamp,
    /// Taken by each update; an update naming an older one is refused.
    pub version: i64,
    pub body: serde_json::Value,
}

/// Which incidents to list, newest declared first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncidentFilter {
    /// Only incidents in one of these states; all when empty.
    pub states: Vec<String>,
    pub limit: u32,
}

/// The status of one component in one scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ComponentRow {
    /// `checkout`, `payments`, ...
    pub component: String,
    /// A brand id until regions exist.
    pub scope: String,
    /// `operational`, `degraded`, ...
    pub status: String,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

/// A notice already queued for an incident.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SentNotice {
    pub key: String,
    pub at: Timestamp,
}

/// The incident tables. Every [`crate::Store`] implements it.
#[async_trait]
pub trait IncidentStore: Send + Sync {
    /// Stores a new incident (its `id` and `version` are ignored) with the
    /// alerts it was declared from and its audit entry; returns its id.
    async fn incident_insert(
        &self,
        incident: &IncidentRow,
        alerts: &[String],
        audit: &AuditEntry,
    ) -> Result<i64>;

    /// Replaces the incident whose id and version are `incident`'s, taking
    /// the next version, links `new_alerts`, and writes `audit`. `false`
    /// (nothing written) when the stored version differs.
    async fn incident_update(
        &self,
        incident: &IncidentRow,
        new_alerts: &[String],
        audit: &[AuditEntry],
    ) -> Result<bool>;

    async fn incident(&self, id: i64) -> Result<Option<IncidentRow>>;

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<IncidentRow>>;

    /// The alert episodes linked to an incident, in the order linked.
    async fn incident_alerts(&self, id: i64) -> Result<Vec<String>>;

    /// The incidents an alert episode is linked to, oldest first.
    async fn incidents_of_alert(&self, episode_id: &str) -> Result<Vec<i64>>;

    /// Queues `notifications` in the alert outbox and records `key` as sent
    /// for the incident, with `audit`, in one transaction. `false`, and
    /// nothing written, when `key` was already sent.
    async fn incident_notify(
        &self,
        id: i64,
        key: &str,
        at: Timestamp,
        notifications: &[NewNotification],
        audit: &AuditEntry,
    ) -> Result<bool>;

    /// The notices sent for an incident, oldest first.
    async fn incident_notices(&self, id: i64) -> Result<Vec<SentNotice>>;

    /// Sets one component's status in one scope, with its audit entry.
    async fn set_component_status(&self, row: &ComponentRow, audit: &AuditEntry) -> Result<()>;

    /// Every component status set so far.
    async fn component_statuses(&self) -> Result<Vec<ComponentRow>>;
}

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

const INCIDENT_COLS: [Col; 7] = [
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Int,
    Col::Text,
];

fn incident_select(d: crate::db::Dialect) -> String {
    format!(
        "SELECT id, severity, state, declared_at_us, updated_at_us, version, {} FROM incidents",
        d.body_column()
    )
}

fn incident(row: &Row) -> Result<IncidentRow> {
    let id = row.int("id")?;
    let key = id.to_string();
    Ok(IncidentRow {
        id,
        severity: row.text("severity")?,
        state: row.text("state")?,
        declared_at: from_micros(row.int("declared_at_us")?, "incident", &key)?,
        updated_at: from_micros(row.int("updated_at_us")?, "incident", &key)?,
        version: row.int("version")?,
        body: serde_json::from_str(&row.text("body")?).map_err(|e| corrupt("incident", &key, e))?,
    })
}

async fn link_alerts<T: DbTx>(tx: &mut T, id: i64, alerts: &[String], at: Timestamp) -> Result<()> {
    for episode in alerts {
        tx.execute(
            "INSERT INTO incident_alerts (incident_id, episode_id, linked_at_us) \
             VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            &[int(id), text(episode), int(micros(at))],
        )
        .await?;
    }
    Ok(())
}

#[async_trait]
impl<D: Db> IncidentStore for SqlStore<D> {
    #[tracing::instrument(skip_all, fields(severity = %incident.severity))]
    async fn incident_insert(
        &self,
        incident: &IncidentRow,
        alerts: &[String],
        audit: &AuditEntry,
    ) -> Result<i64> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO incidents (severity, state, declared_at_us, updated_at_us, version, body) \
                 VALUES ($1, $2, $3, $4, 1, $5) RETURNING id",
                &[
                    text(&incident.severity),
                    text(&incident.state),
                    int(micros(incident.declared_at)),
                    int(micros(incident.updated_at)),
                    text(&incident.body.to_string()),
                ],
                &[Col::Int],
            )
            .await?;
        let id = rows
            .first()
            .ok_or_else(|| corrupt("incident", "new", "INSERT returned no id"))?
            .int("id")?;
        link_alerts(&mut tx, id, alerts, incident.declared_at).await?;
        let mut audit = audit.clone();
        if audit.subject.is_empty() {
            audit.subject = format!("incident:{id}");
        }
        tx.execute(AUDIT_INSERT, &audit_params(&audit)).await?;
        tx.commit().await?;
        Ok(id)
    }

    #[tracing::instrument(skip_all, fields(id = incident.id, state = %incident.state))]
    async fn incident_update(
        &self,
        incident: &IncidentRow,
        new_alerts: &[String],
        audit: &[AuditEntry],
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let changed = tx
            .execute(
                "UPDATE incidents SET severity = $1, state = $2, updated_at_us = $3, \
                 version = version + 1, body = $4 WHERE id = $5 AND version = $6",
                &[
                    text(&incident.severity),
                    text(&incident.state),
                    int(micros(incident.updated_at)),
                    text(&incident.body.to_string()),
                    int(incident.id),
                    int(incident.version),
                ],
            )
            .await?;
        if changed == 0 {
            return Ok(false);
        }
        link_alerts(&mut tx, incident.id, new_alerts, incident.updated_at).await?;
        for a in audit {
            tx.execute(AUDIT_INSERT, &audit_params(a)).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn incident(&self, id: i64) -> Result<Option<IncidentRow>> {
        let sql = format!("{} WHERE id = $1", incident_select(self.db.dialect()));
        let rows = self.db.fetch(&sql, &[int(id)], &INCIDENT_COLS).await?;
        rows.first().map(incident).transpose()
    }

    async fn incidents(&self, filter: &IncidentFilter) -> Result<Vec<IncidentRow>> {
        let mut params: Vec<Value> = filter.states.iter().map(|s| text(s)).collect();
        let filter_sql = if params.is_empty() {
            String::new()
        } else {
            let marks: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
            format!(" WHERE state IN ({})", marks.join(", "))
        };
        params.push(int(i64::from(filter.limit)));
        let sql = format!(
            "{}{filter_sql} ORDER BY declared_at_us DESC, id DESC LIMIT ${}",
            incident_select(self.db.dialect()),
            params.len()
        );
        let rows = self.db.fetch(&sql, &params, &INCIDENT_COLS).await?;
        rows.iter().map(incident).collect()
    }

    async fn incident_alerts(&self, id: i64) -> Result<Vec<String>> {
        let rows = self
            .db
            .fetch(
                "SELECT episode_id FROM incident_alerts WHERE incident_id = $1 \
                 ORDER BY linked_at_us, episode_id",
                &[int(id)],
                &[Col::Text],
            )
            .await?;
        rows.iter().map(|r| r.text("episode_id")).collect()
    }

    async fn incidents_of_alert(&self, episode_id: &str) -> Result<Vec<i64>> {
        let rows = self
            .db
            .fetch(
                "SELECT incident_id FROM incident_alerts WHERE episode_id = $1 \
                 ORDER BY incident_id",
                &[text(episode_id)],
                &[Col::Int],
            )
            .await?;
        rows.iter().map(|r| r.int("incident_id")).collect()
    }

    #[tracing::instrument(skip_all, fields(id = id, key = key))]
    async fn incident_notify(
        &self,
        id: i64,
        key: &str,
        at: Timestamp,
        notifications: &[NewNotification],
        audit: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.db.begin().await?;
        let inserted = tx
            .execute(
                "INSERT INTO incident_notices (incident_id, notice_key, at_us) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
                &[int(id), text(key), int(micros(at))],
            )
            .await?;
        if inserted == 0 {
            return Ok(false);
        }
        crate::alerts::insert_notifications(&mut tx, self.db.dialect(), notifications).await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn incident_notices(&self, id: i64) -> Result<Vec<SentNotice>> {
        let rows = self
            .db
            .fetch(
                "SELECT notice_key, at_us FROM incident_notices WHERE incident_id = $1 \
                 ORDER BY at_us, notice_key",
                &[int(id)],
                &[Col::Text, Col::Int],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let key = r.text("notice_key")?;
                Ok(SentNotice {
                    at: from_micros(r.int("at_us")?, "incident notice", &key)?,
                    key,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(component = %row.component, scope = %row.scope, status = %row.status))]
    async fn set_component_status(&self, row: &ComponentRow, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO incident_components (component, scope, status, updated_at_us, updated_by) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (component, scope) DO UPDATE SET \
             status = excluded.status, updated_at_us = excluded.updated_at_us, \
             updated_by = excluded.updated_by",
            &[
                text(&row.component),
                text(&row.scope),
                text(&row.status),
                int(micros(row.updated_at)),
                text(&row.updated_by),
            ],
        )
        .await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await
    }

    async fn component_statuses(&self) -> Result<Vec<ComponentRow>> {
        let rows = self
            .db
            .fetch(
                "SELECT component, scope, status, updated_at_us, updated_by \
                 FROM incident_components ORDER BY scope, component",
                &[],
                &[Col::Text, Col::Text, Col::Text, Col::Int, Col::Text],
            )
            .await?;
        rows.iter()
            .map(|r| {
                let component = r.text("component")?;
                Ok(ComponentRow {
                    updated_at: from_micros(r.int("updated_at_us")?, "component", &component)?,
                    component,
                    scope: r.text("scope")?,
                    status: r.text("status")?,
                    updated_by: r.text("updated_by")?,
                })
            })
            .collect()
    }
}
