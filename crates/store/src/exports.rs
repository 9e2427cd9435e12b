//! Storage for export jobs and their download links (migration 0016).
//!
//! The store does not know what an export holds: its request is JSON owned
//! by the web layer's exports. It keeps the rules that must hold whoever
//! calls it:
//!
//! - a job and its "created" audit entry commit together;
//! - a queued job is claimed by one worker only (a compare-and-set on its
//!   status), and a job left running by a stopped process is queued again
//!   ([`ExportStore::exports_requeue_running`]);
//! - only a running job can finish, and a finished one never changes again
//!   except to expire;
//! - a download link is kept as the SHA-256 of its token, never the token.

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros, text};
use crate::tokens::{audit_params, AuditEntry, AUDIT_INSERT};
use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use serde::Serialize;

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Queued,
    Running,
    Ready,
    Failed,
    /// Ready once; its file was removed at the end of its lifetime.
    Expired,
}

impl ExportStatus {
    pub const fn as_str(self) -> &'static str {
        match self {
            ExportStatus::Queued => "queued",
            ExportStatus::Running => "running",
            ExportStatus::Ready => "ready",
            ExportStatus::Failed => "failed",
            ExportStatus::Expired => "expired",
        }
    }

    pub fn parse(s: &str) -> Option<ExportStatus> {
        [
            ExportStatus::Queued,
            ExportStatus::Running,
            ExportStatus::Ready,
            ExportStatus::Failed,
            ExportStatus::Expired,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// An export job as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExportJob {
    pub id: i64,
    pub requested_by: String,
    /// What to build, as the web layer wrote it.
    pub request: serde_json::Value,
    /// `csv` or `xlsx`.
    pub format: String,
    pub status: ExportStatus,
    /// 0 to 100.
    pub progress: i64,
    pub created_at: Timestamp,
    pub started_at: Option<Timestamp>,
    pub finished_at: Option<Timestamp>,
    /// The file's name in the exports folder, once ready.
    pub file_name: Option<String>,
    pub size_bytes: Option<i64>,
    /// Why the job failed.
    pub error: Option<String>,
    /// When the file is removed (ready jobs).
    pub expires_at: Option<Timestamp>,
}

/// How a running job ended.
#[derive(Debug, Clone, PartialEq)]
pub enum ExportOutcome {
    Ready {
        file_name: String,
        size_bytes: i64,
        expires_at: Timestamp,
    },
    Failed {
        error: String,
    },
}

/// A download link of a ready export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportLink {
    pub token_sha256: String,
    pub job_id: i64,
    pub expires_at: Timestamp,
    pub created_by: String,
    pub created_at: Timestamp,
}

/// The export tables. Every [`crate::Store`] implements it.
#[async_trait]
pub trait ExportStore: Send + Sync {
    /// Queues `job` (its id, status, progress and outcome are ignored)
    /// with `audit` (subject `export:{id}` when left empty); the new id.
    async fn export_insert(&self, job: &ExportJob, audit: &AuditEntry) -> Result<i64>;

    async fn export_job(&self, id: i64) -> Result<Option<ExportJob>>;

    /// Takes the oldest queued job, marking it running from `now`; `None`
    /// when none is queued. Two workers never take the same job.
    async fn export_claim(&self, now: Timestamp) -> Result<Option<ExportJob>>;

    /// Sets a running job's progress (0–100).
    async fn export_progress(&self, id: i64, progress: i64) -> Result<()>;

    /// Ends running job `id` at `now`; `false` when it was not running.
    async fn export_finish(&self, id: i64, outcome: &ExportOutcome, now: Timestamp)
        -> Result<bool>;

    /// Queues again every job left running (by a process that stopped);
    /// how many.
    async fn exports_requeue_running(&self) -> Result<u64>;

    /// Ready jobs whose file expires at or before `now`.
    async fn exports_expiring(&self, now: Timestamp) -> Result<Vec<ExportJob>>;

    /// Marks ready job `id` expired and drops its links.
    async fn export_expire(&self, id: i64) -> Result<()>;

    async fn export_link_insert(&self, link: &ExportLink) -> Result<()>;

    /// The link whose token hashes to `token_sha256`, if any.
    async fn export_link(&self, token_sha256: &str) -> Result<Option<ExportLink>>;
}

fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

const SELECT: &str = "SELECT id, requested_by, request, format, status, progress, created_at_us, \
     started_at_us, finished_at_us, file_name, size_bytes, error, expires_at_us FROM export_jobs";

const COLS: [Col; 13] = [
    Col::Int,
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

fn job(row: &Row) -> Result<ExportJob> {
    let id = row.int("id")?;
    let key = id.to_string();
    let opt_at = |col: &str| {
        row.opt_int(col)
            .map(|us| from_micros(us, "export", &key))
            .transpose()
    };
    let status = row.text("status")?;
    Ok(ExportJob {
        id,
        requested_by: row.text("requested_by")?,
        request: serde_json::from_str(&row.text("request")?)
            .map_err(|e| corrupt("export", &key, e))?,
        format: row.text("format")?,
        status: ExportStatus::parse(&status)
            .ok_or_else(|| corrupt("export", &key, format!("status {status:?}")))?,
        progress: row.int("progress")?,
        created_at: from_micros(row.int("created_at_us")?, "export", &key)?,
        started_at: opt_at("started_at_us")?,
        finished_at: opt_at("finished_at_us")?,
        file_name: row.opt_text("file_name"),
        size_bytes: row.opt_int("size_bytes"),
        error: row.opt_text("error"),
        expires_at: opt_at("expires_at_us")?,
    })
}

#[async_trait]
impl<D: Db> ExportStore for SqlStore<D> {
    #[tracing::instrument(skip_all)]
    async fn export_insert(&self, job: &ExportJob, audit: &AuditEntry) -> Result<i64> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .fetch(
                "INSERT INTO export_jobs (requested_by, request, format, status, progress, \
                 created_at_us) VALUES ($1, $2, $3, $4, 0, $5) RETURNING id",
                &[
                    text(&job.requested_by),
                    text(&job.request.to_string()),
                    text(&job.format),
                    text(ExportStatus::Queued.as_str()),
                    int(micros(job.created_at)),
                ],
                &[Col::Int],
            )
            .await?;
        let id = rows
            .first()
            .ok_or_else(|| corrupt("export", "new", "insert returned no id"))?
            .int("id")?;
        let mut audit = audit.clone();
        if audit.subject.is_empty() {
            audit.subject = format!("export:{id}");
        }
        tx.execute(AUDIT_INSERT, &audit_params(&audit)).await?;
        tx.commit().await?;
        Ok(id)
    }

    async fn export_job(&self, id: i64) -> Result<Option<ExportJob>> {
        let rows = self
            .db
            .fetch(&format!("{SELECT} WHERE id = $1"), &[int(id)], &COLS)
            .await?;
        rows.first().map(job).transpose()
    }

    #[tracing::instrument(skip_all)]
    async fn export_claim(&self, now: Timestamp) -> Result<Option<ExportJob>> {
        loop {
            let rows = self
                .db
                .fetch(
                    &format!("{SELECT} WHERE status = 'queued' ORDER BY id LIMIT 1"),
                    &[],
                    &COLS,
                )
                .await?;
            let Some(found) = rows.first().map(job).transpose()? else {
                return Ok(None);
            };
            let taken = self
                .db
                .execute(
                    "UPDATE export_jobs SET status = 'running', started_at_us = $1 \
                     WHERE id = $2 AND status = 'queued'",
                    &[int(micros(now)), int(found.id)],
                )
                .await?;
            if taken == 1 {
                return Ok(Some(ExportJob {
                    status: ExportStatus::Running,
                    started_at: Some(now),
                    ..found
                }));
            }
            // Another worker took it between the read and the update.
        }
    }

    async fn export_progress(&self, id: i64, progress: i64) -> Result<()> {
        self.db
            .execute(
                "UPDATE export_jobs SET progress = $1 WHERE id = $2 AND status = 'running'",
                &[int(progress.clamp(0, 100)), int(id)],
            )
            .await?;
        Ok(())
    }

    #[tracing::instrument(skip_all, fields(id))]
    async fn export_finish(
        &self,
        id: i64,
        outcome: &ExportOutcome,
        now: Timestamp,
    ) -> Result<bool> {
        let changed = match outcome {
            ExportOutcome::Ready {
                file_name,
                size_bytes,
                expires_at,
            } => {
                self.db
                    .execute(
                        "UPDATE export_jobs SET status = 'ready', progress = 100, \
                         finished_at_us = $1, file_name = $2, size_bytes = $3, \
                         expires_at_us = $4 WHERE id = $5 AND status = 'running'",
                        &[
                            int(micros(now)),
                            text(file_name),
                            int(*size_bytes),
                            int(micros(*expires_at)),
                            int(id),
                        ],
                    )
                    .await?
            }
            ExportOutcome::Failed { error } => {
                self.db
                    .execute(
                        "UPDATE export_jobs SET status = 'failed', finished_at_us = $1, \
                         error = $2 WHERE id = $3 AND status = 'running'",
                        &[int(micros(now)), text(error), int(id)],
                    )
                    .await?
            }
        };
        Ok(changed == 1)
    }

    async fn exports_requeue_running(&self) -> Result<u64> {
        self.db
            .execute(
                "UPDATE export_jobs SET status = 'queued', progress = 0, started_at_us = NULL \
                 WHERE status = 'running'",
                &[],
            )
            .await
    }

    async fn exports_expiring(&self, now: Timestamp) -> Result<Vec<ExportJob>> {
        let rows = self
            .db
            .fetch(
                &format!("{SELECT} WHERE status = 'ready' AND expires_at_us <= $1 ORDER BY id"),
                &[int(micros(now))],
                &COLS,
            )
            .await?;
        rows.iter().map(job).collect()
    }

    async fn export_expire(&self, id: i64) -> Result<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "UPDATE export_jobs SET status = 'expired' WHERE id = $1 AND status = 'ready'",
            &[int(id)],
        )
        .await?;
        tx.execute("DELETE FROM export_links WHERE job_id = $1", &[int(id)])
            .await?;
        tx.commit().await
    }

    async fn export_link_insert(&self, link: &ExportLink) -> Result<()> {
        self.db
            .execute(
                "INSERT INTO export_links (token_sha256, job_id, expires_at_us, created_by, \
                 created_at_us) VALUES ($1, $2, $3, $4, $5)",
                &[
                    text(&link.token_sha256),
                    int(link.job_id),
                    int(micros(link.expires_at)),
                    text(&link.created_by),
                    int(micros(link.created_at)),
                ],
            )
            .await?;
        Ok(())
    }

    async fn export_link(&self, token_sha256: &str) -> Result<Option<ExportLink>> {
        let rows = self
            .db
            .fetch(
                "SELECT token_sha256, job_id, expires_at_us, created_by, created_at_us \
                 FROM export_links WHERE token_sha256 = $1",
                &[text(token_sha256)],
                &[Col::Text, Col::Int, Col::Int, Col::Text, Col::Int],
            )
            .await?;
        rows.first()
            .map(|row| {
                Ok(ExportLink {
                    token_sha256: row.text("token_sha256")?,
                    job_id: row.int("job_id")?,
                    expires_at: from_micros(row.int("expires_at_us")?, "export_link", "link")?,
                    created_by: row.text("created_by")?,
                    created_at: from_micros(row.int("created_at_us")?, "export_link", "link")?,
                })
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::ExportStatus;

    #[test]
    fn statuses_keep_their_stored_spelling() {
        for s in ["queued", "running", "ready", "failed", "expired"] {
            assert_eq!(ExportStatus::parse(s).map(ExportStatus::as_str), Some(s));
        }
        assert_eq!(ExportStatus::parse("done"), None);
    }
}
