//! Sales-pulse decisions: an operator looking at a brand's pulse records
//! "Log follow-up" or "Escalate to ops" with notes. The store keeps who,
//! which brand, the kind, the notes, the pulse figures at that moment (as
//! the web computed them) and when — and writes the decision's audit entry
//! in the same transaction, so a decision is never stored unaudited nor
//! audited unstored.

use crate::db::{Col, Db, DbTx, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros};
use crate::tokens::{audit_params, AuditEntry, AUDIT_INSERT};
use crate::Result;
use async_trait::async_trait;
use opsdeck_domain::Timestamp;
use serde::Serialize;
use tracing::instrument;

/// What the operator decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// "Log follow-up": noted, someone looks again later.
    FollowUp,
    /// "Escalate to ops": hand it to operations now.
    Escalate,
}

impl DecisionKind {
    pub const ALL: [DecisionKind; 2] = [DecisionKind::FollowUp, DecisionKind::Escalate];

    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::FollowUp => "follow_up",
            DecisionKind::Escalate => "escalate",
        }
    }

    /// The words on the button and in lists.
    pub fn label(self) -> &'static str {
        match self {
            DecisionKind::FollowUp => "Log follow-up",
            DecisionKind::Escalate => "Escalate to ops",
        }
    }

    /// Parses a stored or submitted kind; the error names the valid ones.
    pub fn parse(s: &str) -> std::result::Result<DecisionKind, String> {
        DecisionKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown decision {s:?}: use follow_up or escalate"))
    }
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewDecision {
    pub at: Timestamp,
    /// The logged-in user who decided.
    pub username: String,
    pub brand: String,
    pub kind: DecisionKind,
    pub notes: String,
    /// The pulse figures the operator saw (today, baseline, variance,
    /// state, blockers), as JSON.
    pub pulse: serde_json::Value,
}

/// A recorded decision, read back.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub id: i64,
    pub at: Timestamp,
    pub username: String,
    pub brand: String,
    pub kind: DecisionKind,
    pub notes: String,
    pub pulse: serde_json::Value,
}

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

impl<D: Db> SqlStore<D> {
    async fn decision_record(&self, d: &NewDecision, audit: &AuditEntry) -> Result<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO decisions (at_us, username, brand, kind, notes, pulse) \
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[
                int(micros(d.at)),
                text(&d.username),
                text(&d.brand),
                text(d.kind.as_str()),
                text(&d.notes),
                text(&d.pulse.to_string()),
            ],
        )
        .await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await
    }

    async fn decision_list(&self, brand: Option<&str>, limit: u32) -> Result<Vec<Decision>> {
        let mut params = Vec::new();
        let filter = match brand {
            Some(b) => {
                params.push(text(b));
                "WHERE brand = $1"
            }
            None => "",
        };
        params.push(int(i64::from(limit)));
        let sql = format!(
            "SELECT id, at_us, username, brand, kind, notes, pulse FROM decisions {filter} \
             ORDER BY at_us DESC, id DESC LIMIT ${}",
            params.len()
        );
        let cols = [
            Col::Int,
            Col::Int,
            Col::Text,
            Col::Text,
            Col::Text,
            Col::Text,
            Col::Text,
        ];
        let rows = self.db.fetch(&sql, &params, &cols).await?;
        rows.iter()
            .map(|row| {
                let id = row.int("id")?;
                let key = id.to_string();
                Ok(Decision {
                    id,
                    at: from_micros(row.int("at_us")?, "decisions", &key)?,
                    username: row.text("username")?,
                    brand: row.text("brand")?,
                    kind: DecisionKind::parse(&row.text("kind")?)
                        .map_err(|e| corrupt("decisions", &key, e))?,
                    notes: row.text("notes")?,
                    pulse: serde_json::from_str(&row.text("pulse")?)
                        .map_err(|e| corrupt("decisions", &key, e))?,
                })
            })
            .collect()
    }
}

/// Sales-pulse decisions: the part of a [`crate::Store`] the pulse page
/// uses. A supertrait of `Store`, so every store has it.
#[async_trait]
pub trait DecisionStore: Send + Sync {
    /// Stores `decision` and appends `audit`, in one transaction.
    async fn record_decision(&self, decision: &NewDecision, audit: &AuditEntry) -> Result<()>;

    /// Decisions newest first, of one brand or of all, at most `limit`.
    async fn decisions(&self, brand: Option<&str>, limit: u32) -> Result<Vec<Decision>>;
}

#[async_trait]
impl<D: Db> DecisionStore for SqlStore<D> {
    #[instrument(skip_all, fields(backend = ?self.db.backend(), brand = %decision.brand, kind = decision.kind.as_str()))]
    async fn record_decision(&self, decision: &NewDecision, audit: &AuditEntry) -> Result<()> {
        self.decision_record(decision, audit).await
    }

    async fn decisions(&self, brand: Option<&str>, limit: u32) -> Result<Vec<Decision>> {
        self.decision_list(brand, limit).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_and_unknown_names_the_valid_ones() {
        for k in DecisionKind::ALL {
            assert_eq!(DecisionKind::parse(k.as_str()), Ok(k));
        }
        let err = DecisionKind::parse("ignore").unwrap_err();
        assert!(
            err.contains("\"ignore\"") && err.contains("escalate"),
            "{err}"
        );
    }
}
