//! Storage of system health checks (migration 0019): each check's results,
//! its current state and the history of its state changes.
//!
//! The store does not judge a check: `opsdeck_domain::health::evaluate`
//! does. It keeps the rules that must hold whoever calls it:
//!
//! - a state is recorded by [`HealthCheckStore::health_state_record`]: the
//!   same state again only refreshes its reason and evaluation time (its
//!   `since` stays), a new state writes the state and its change row in
//!   one transaction, so the history never misses a change the page shows;
//! - results and changes are pruned by age
//!   ([`HealthCheckStore::health_prune`]); the current states are kept.

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros, text};
use crate::Result;
use async_trait::async_trait;
use jiff::Timestamp;
use opsdeck_domain::health::{CheckResult, Evaluation, HealthState, Outcome};
use serde::Serialize;

/// A check's state as stored: since when it holds, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoredHealthState {
    pub check: String,
    pub state: HealthState,
    pub since: Timestamp,
    pub reason: String,
    pub evaluated_at: Timestamp,
}

/// One change of a check's state.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthStateChange {
    pub check: String,
    /// `None` for the first state a check was given.
    pub from: Option<HealthState>,
    pub to: HealthState,
    pub at: Timestamp,
    pub reason: String,
}

/// What pruning removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct HealthPruned {
    pub results: u64,
    pub changes: u64,
}

/// The health checks' tables. Every [`crate::Store`] implements it.
#[async_trait]
pub trait HealthCheckStore: Send + Sync {
    /// Adds one result of `check`.
    async fn health_result_add(&self, check: &str, result: &CheckResult) -> Result<()>;

    /// The results of `check` taken at or after `since`, newest first, at
    /// most `limit`.
    async fn health_results_recent(
        &self,
        check: &str,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<CheckResult>>;

    /// Records `evaluation` as the state of `check` at `now`: the change
    /// (also written to the history) when the state differs from the
    /// stored one or none was stored; `None` when it is the same state.
    async fn health_state_record(
        &self,
        check: &str,
        evaluation: &Evaluation,
        now: Timestamp,
    ) -> Result<Option<HealthStateChange>>;

    /// Every check's stored state, by check name.
    async fn health_states(&self) -> Result<Vec<StoredHealthState>>;

    /// The last `limit` state changes of `check`, newest first.
    async fn health_changes(&self, check: &str, limit: u32) -> Result<Vec<HealthStateChange>>;

    /// Removes results and state changes older than `before`.
    async fn health_prune(&self, before: Timestamp) -> Result<HealthPruned>;
}

const KIND: &str = "health_check";

fn state_of(row: &Row, col: &str, check: &str) -> Result<HealthState> {
    let v = row.text(col)?;
    HealthState::parse(&v).ok_or_else(|| corrupt(KIND, check, format!("unknown state {v:?}")))
}

fn stored_state(row: &Row) -> Result<StoredHealthState> {
    let check = row.text("check_name")?;
    Ok(StoredHealthState {
        state: state_of(row, "state", &check)?,
        since: from_micros(row.int("since_us")?, KIND, &check)?,
        reason: row.text("reason")?,
        evaluated_at: from_micros(row.int("evaluated_at_us")?, KIND, &check)?,
        check,
    })
}

const STATE_SELECT: &str =
    "SELECT check_name, state, since_us, reason, evaluated_at_us FROM health_check_states";
const STATE_COLS: &[Col] = &[Col::Text, Col::Text, Col::Int, Col::Text, Col::Int];

#[async_trait]
impl<D: Db> HealthCheckStore for SqlStore<D> {
    #[tracing::instrument(skip_all, fields(check))]
    async fn health_result_add(&self, check: &str, result: &CheckResult) -> Result<()> {
        let outcome =
            serde_json::to_string(&result.outcome).map_err(|e| corrupt(KIND, check, e))?;
        self.db
            .execute(
                "INSERT INTO health_check_results (check_name, at_us, outcome) VALUES ($1, $2, $3)",
                &[
                    text(check),
                    Value::Int(Some(micros(result.at))),
                    text(&outcome),
                ],
            )
            .await?;
        Ok(())
    }

    async fn health_results_recent(
        &self,
        check: &str,
        since: Timestamp,
        limit: u32,
    ) -> Result<Vec<CheckResult>> {
        let rows = self
            .db
            .fetch(
                "SELECT at_us, outcome FROM health_check_results \
                 WHERE check_name = $1 AND at_us >= $2 ORDER BY at_us DESC, id DESC LIMIT $3",
                &[
                    text(check),
                    Value::Int(Some(micros(since))),
                    Value::Int(Some(i64::from(limit))),
                ],
                &[Col::Int, Col::Text],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let outcome: Outcome = serde_json::from_str(&row.text("outcome")?)
                    .map_err(|e| corrupt(KIND, check, e))?;
                Ok(CheckResult {
                    at: from_micros(row.int("at_us")?, KIND, check)?,
                    outcome,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all, fields(check, state = evaluation.state.as_str()))]
    async fn health_state_record(
        &self,
        check: &str,
        evaluation: &Evaluation,
        now: Timestamp,
    ) -> Result<Option<HealthStateChange>> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .fetch(
                &format!("{STATE_SELECT} WHERE check_name = $1"),
                &[text(check)],
                STATE_COLS,
            )
            .await?;
        let before = rows.first().map(stored_state).transpose()?;
        let to = evaluation.state;
        let change = match &before {
            Some(b) if b.state == to => {
                tx.execute(
                    "UPDATE health_check_states SET reason = $2, evaluated_at_us = $3 \
                     WHERE check_name = $1",
                    &[
                        text(check),
                        text(&evaluation.reason),
                        Value::Int(Some(micros(now))),
                    ],
                )
                .await?;
                None
            }
            _ => {
                tx.execute(
                    "INSERT INTO health_check_states \
                     (check_name, state, since_us, reason, evaluated_at_us) \
                     VALUES ($1, $2, $3, $4, $3) \
                     ON CONFLICT (check_name) DO UPDATE SET state = excluded.state, \
                     since_us = excluded.since_us, reason = excluded.reason, \
                     evaluated_at_us = excluded.evaluated_at_us",
                    &[
                        text(check),
                        text(to.as_str()),
                        Value::Int(Some(micros(now))),
                        text(&evaluation.reason),
                    ],
                )
                .await?;
                let from = before.map(|b| b.state);
                tx.execute(
                    "INSERT INTO health_check_changes \
                     (check_name, from_state, to_state, at_us, reason) VALUES ($1, $2, $3, $4, $5)",
                    &[
                        text(check),
                        Value::Text(from.map(|s| s.as_str().to_string())),
                        text(to.as_str()),
                        Value::Int(Some(micros(now))),
                        text(&evaluation.reason),
                    ],
                )
                .await?;
                Some(HealthStateChange {
                    check: check.to_string(),
                    from,
                    to,
                    at: now,
                    reason: evaluation.reason.clone(),
                })
            }
        };
        tx.commit().await?;
        Ok(change)
    }

    async fn health_states(&self) -> Result<Vec<StoredHealthState>> {
        let rows = self
            .db
            .fetch(
                &format!("{STATE_SELECT} ORDER BY check_name"),
                &[],
                STATE_COLS,
            )
            .await?;
        rows.iter().map(stored_state).collect()
    }

    async fn health_changes(&self, check: &str, limit: u32) -> Result<Vec<HealthStateChange>> {
        let rows = self
            .db
            .fetch(
                "SELECT from_state, to_state, at_us, reason FROM health_check_changes \
                 WHERE check_name = $1 ORDER BY at_us DESC, id DESC LIMIT $2",
                &[text(check), Value::Int(Some(i64::from(limit)))],
                &[Col::Text, Col::Text, Col::Int, Col::Text],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let from = match row.opt_text("from_state") {
                    Some(v) => Some(
                        HealthState::parse(&v)
                            .ok_or_else(|| corrupt(KIND, check, format!("unknown state {v:?}")))?,
                    ),
                    None => None,
                };
                Ok(HealthStateChange {
                    check: check.to_string(),
                    from,
                    to: state_of(row, "to_state", check)?,
                    at: from_micros(row.int("at_us")?, KIND, check)?,
                    reason: row.text("reason")?,
                })
            })
            .collect()
    }

    #[tracing::instrument(skip_all)]
    async fn health_prune(&self, before: Timestamp) -> Result<HealthPruned> {
        let mut tx = self.db.begin().await?;
        let cut = Value::Int(Some(micros(before)));
        let results = tx
            .execute(
                "DELETE FROM health_check_results WHERE at_us < $1",
                std::slice::from_ref(&cut),
            )
            .await?;
        let changes = tx
            .execute("DELETE FROM health_check_changes WHERE at_us < $1", &[cut])
            .await?;
        tx.commit().await?;
        Ok(HealthPruned { results, changes })
    }
}
