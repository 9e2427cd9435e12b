//! Runs of scheduled reports (issue 16 point 3): for each subscription, the
//! one run scheduled next and the runs that happened, with how each ended.
//!
//! A run is scheduled before it is due and claimed when it is: the claim
//! moves it from `scheduled` to `running` in one statement, so when several
//! instances share a database exactly one sends it. A subscription has at
//! most one row per scheduled time (`UNIQUE`), so scheduling the same next
//! run twice is harmless. Rows hold the subscription's name, times and a
//! short outcome text (never a recipient's address or a secret).

use crate::db::{Col, Db, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros, opt_micros, text};
use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;

/// Where a run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    /// Waiting for its time.
    Scheduled,
    /// Claimed by an instance, being built and sent.
    Running,
    /// Sent on every channel.
    Sent,
    /// Nothing to report and the subscription skips empty reports.
    Skipped,
    /// Building or sending failed; the owner was told.
    Failed,
}

impl RunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RunStatus::Scheduled => "scheduled",
            RunStatus::Running => "running",
            RunStatus::Sent => "sent",
            RunStatus::Skipped => "skipped",
            RunStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<RunStatus> {
        [
            RunStatus::Scheduled,
            RunStatus::Running,
            RunStatus::Sent,
            RunStatus::Skipped,
            RunStatus::Failed,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }
}

/// One run of one subscription.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportRun {
    pub id: i64,
    /// The subscription's name (`[reports.NAME]`).
    pub subscription: String,
    /// The time the schedule named.
    pub scheduled_for: Timestamp,
    pub status: RunStatus,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// How it ended, in words ("sent to 2 channels", the failure).
    pub detail: Option<String>,
}

const COLUMNS: &str =
    "id, subscription, scheduled_for_us, status, started_at_us, finished_at_us, detail";
const COLS: [Col; 7] = [
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
];
const KIND: &str = "report_runs";

fn decode(row: &Row) -> Result<ReportRun> {
    let id = row.int("id")?;
    let key = id.to_string();
    let status = row.text("status")?;
    Ok(ReportRun {
        id,
        subscription: row.text("subscription")?,
        scheduled_for: from_micros(row.int("scheduled_for_us")?, KIND, &key)?,
        status: RunStatus::parse(&status)
            .ok_or_else(|| corrupt(KIND, &key, format!("unknown status {status:?}")))?,
        started_at: row
            .opt_int("started_at_us")
            .map(|us| from_micros(us, KIND, &key))
            .transpose()?,
        finished_at: row
            .opt_int("finished_at_us")
            .map(|us| from_micros(us, KIND, &key))
            .transpose()?,
        detail: row.opt_text("detail"),
    })
}

/// The part of a [`crate::Store`] that keeps report runs.
#[async_trait]
pub trait ReportRunStore: Send + Sync {
    /// Schedules `subscription`'s next run at `at`, unless a run at that
    /// time exists.
    async fn report_run_schedule(&self, subscription: &str, at: Timestamp) -> Result<()>;

    /// The run of `subscription` waiting for its time, if any (the earliest).
    async fn report_run_upcoming(&self, subscription: &str) -> Result<Option<ReportRun>>;

    /// Claims a scheduled run at `now`; `false` when another instance has
    /// it already.
    async fn report_run_claim(&self, id: i64, now: Timestamp) -> Result<bool>;

    /// Records how a claimed run ended.
    async fn report_run_finish(
        &self,
        id: i64,
        status: RunStatus,
        detail: &str,
        now: Timestamp,
    ) -> Result<()>;

    /// The runs of `subscription` that started, newest first.
    async fn report_runs(&self, subscription: &str, limit: u32) -> Result<Vec<ReportRun>>;
}

#[async_trait]
impl<D: Db> ReportRunStore for SqlStore<D> {
    #[tracing::instrument(skip_all, fields(subscription))]
    async fn report_run_schedule(&self, subscription: &str, at: Timestamp) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO report_runs (subscription, scheduled_for_us, status) \
                 VALUES ($1, $2, 'scheduled') \
                 ON CONFLICT (subscription, scheduled_for_us) DO NOTHING",
                &[text(subscription), Value::Int(Some(micros(at)))],
            )
            .await?;
        Ok(())
    }

    async fn report_run_upcoming(&self, subscription: &str) -> Result<Option<ReportRun>> {
        let rows = self
            .db
            .fetch(
                &format!(
                    "SELECT {COLUMNS} FROM report_runs WHERE subscription = $1 \
                     AND status = 'scheduled' ORDER BY scheduled_for_us LIMIT 1"
                ),
                &[text(subscription)],
                &COLS,
            )
            .await?;
        rows.first().map(decode).transpose()
    }

    #[tracing::instrument(skip_all, fields(id))]
    async fn report_run_claim(&self, id: i64, now: Timestamp) -> Result<bool> {
        let changed = self
            .db
            .execute(
                "UPDATE report_runs SET status = 'running', started_at_us = $2 \
                 WHERE id = $1 AND status = 'scheduled'",
                &[Value::Int(Some(id)), Value::Int(Some(micros(now)))],
            )
            .await?;
        Ok(changed == 1)
    }

    #[tracing::instrument(skip_all, fields(id, status = status.as_str()))]
    async fn report_run_finish(
        &self,
        id: i64,
        status: RunStatus,
        detail: &str,
        now: Timestamp,
    ) -> Result<()> {
        self.db
            .execute(
                "UPDATE report_runs SET status = $2, detail = $3, finished_at_us = $4 \
                 WHERE id = $1",
                &[
                    Value::Int(Some(id)),
                    text(status.as_str()),
                    text(detail),
                    opt_micros(Some(now)),
                ],
            )
            .await?;
        Ok(())
    }

    async fn report_runs(&self, subscription: &str, limit: u32) -> Result<Vec<ReportRun>> {
        let rows = self
            .db
            .fetch(
                &format!(
                    "SELECT {COLUMNS} FROM report_runs WHERE subscription = $1 \
                     AND status <> 'scheduled' ORDER BY scheduled_for_us DESC, id DESC LIMIT $2"
                ),
                &[text(subscription), Value::Int(Some(i64::from(limit)))],
                &COLS,
            )
            .await?;
        rows.iter().map(decode).collect()
    }
}
