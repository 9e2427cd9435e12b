//! Approval requests (issue 14 point 3): a risky change waiting for a
//! second person, then the one run of its action.
//!
//! Every step is a compare-and-set on the row's `state`, written in one
//! transaction with its audit entry, so the rules that must hold under
//! concurrency hold in the database and not only in a page:
//!
//! - a decision moves a `pending` request only while `expires_at` is
//!   still ahead of the decision's time: a late decision finds the request
//!   expired (and marks it so), whatever the page showed; of two decisions
//!   at once (a double click, a retried Telegram press), exactly one wins;
//! - a run claims an `approved` request (or an `executing` one whose lease
//!   ran out, after a crash) before it acts, and only the claimant records
//!   how it ended.
//!
//! The rules of who may request and decide, and what an action does, are
//! `opsdeck-operations`'; this module keeps their results.

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::schema::{corrupt, from_micros, micros};
use crate::tokens::{audit_params, AuditEntry, AUDIT_INSERT};
use crate::Result;
use async_trait::async_trait;
use opsdeck_domain::{Currency, Money, Timestamp};
use serde::Serialize;
use tracing::instrument;

macro_rules! closed_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum $name { $($(#[$vmeta])* $variant,)+ }

        impl $name {
            pub const ALL: &[$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)+ }
            }

            /// Parses a stored or submitted value; the error names the valid ones.
            pub fn parse(s: &str) -> std::result::Result<Self, String> {
                Self::ALL.iter().copied().find(|v| v.as_str() == s).ok_or_else(|| {
                    let valid: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                    format!("unknown {} {s:?}: use one of {}", stringify!($name), valid.join(", "))
                })
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_enum! {
    /// The kinds of change the playbook sends for approval.
    ApprovalKind {
        PriceChange = "price_change",
        Discount = "discount",
        Refund = "refund",
        NewProduct = "new_product",
        ContentUpdate = "content_update",
        /// Switching on a freeze flag whose settings ask for a second
        /// person (`[flags] requires_approval`). Its own kind, not the
        /// playbook's price or content kinds: a checkout or refund freeze
        /// is neither, and its approver is configured on its own.
        FlagChange = "flag_change",
    }
}

impl ApprovalKind {
    /// The words on the page and in notifications.
    pub fn label(self) -> &'static str {
        match self {
            ApprovalKind::PriceChange => "Price change",
            ApprovalKind::Discount => "Discount",
            ApprovalKind::Refund => "Refund",
            ApprovalKind::NewProduct => "New product",
            ApprovalKind::ContentUpdate => "Content update",
            ApprovalKind::FlagChange => "Freeze switch-on",
        }
    }
}

closed_enum! {
    /// Where a request stands. `Pending` → `Approved` | `Rejected` |
    /// `Expired`; `Approved` → `Executing` → `Executed` | `Failed`.
    ApprovalState {
        Pending = "pending",
        Approved = "approved",
        Rejected = "rejected",
        Expired = "expired",
        Executing = "executing",
        Executed = "executed",
        /// The action was refused (its target changed) or gave up.
        Failed = "failed",
    }
}

closed_enum! {
    /// Where a request came from.
    RequestedVia {
        /// A custom platform asking before it acts (`POST /api/v1/approvals`).
        Api = "api",
        Dashboard = "dashboard",
        /// One of opsdeck's own actions (a refund from the refunds queue).
        Opsdeck = "opsdeck",
    }
}

/// A request to store, as `opsdeck-operations` built it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewApproval {
    pub id: String,
    pub kind: ApprovalKind,
    pub brand: String,
    /// What is asked, in the requester's words ("Price of SKU-1 to 59.00").
    pub summary: String,
    /// The amount at stake (a refund, a new price), when there is one.
    pub amount: Option<Money>,
    /// A discount's size, in basis points (2500 = 25 %).
    pub percent_bp: Option<i64>,
    /// The action to run on approval, as `opsdeck-operations` serializes it.
    pub action: serde_json::Value,
    /// The target's version (its `updated_at`) when the request was made:
    /// a target changed since is refused at execution.
    pub target_version: Option<String>,
    pub requested_by: String,
    pub requested_via: RequestedVia,
    pub requested_at: Timestamp,
    pub expires_at: Timestamp,
    /// The role that may decide (a role name, checked at config load).
    pub approver_role: String,
    /// Sent with every run of the action, so it runs once at the receiver.
    pub idempotency_key: String,
    /// What the request is about, as its requester keys it
    /// (`refunds_queue:{source}/{external_id}`), so the requester finds it
    /// again by a key and never by reading the summary; `None` when it is
    /// about nothing opsdeck tracks.
    pub subject: Option<String>,
}

/// A stored request.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Approval {
    pub id: String,
    pub kind: ApprovalKind,
    pub brand: String,
    pub summary: String,
    pub amount: Option<Money>,
    pub percent_bp: Option<i64>,
    pub action: serde_json::Value,
    pub target_version: Option<String>,
    pub requested_by: String,
    pub requested_via: RequestedVia,
    pub requested_at: Timestamp,
    pub expires_at: Timestamp,
    pub approver_role: String,
    pub state: ApprovalState,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub decision_comment: Option<String>,
    pub idempotency_key: String,
    /// How many times a run was claimed.
    pub attempts: i64,
    pub finished_at: Option<Timestamp>,
    /// How the run ended, or why it was refused.
    pub outcome_note: Option<String>,
    /// What it is about ([`NewApproval::subject`]).
    pub subject: Option<String>,
}

/// A decision to record.
#[derive(Debug, Clone, PartialEq)]
pub struct ApprovalDecision {
    /// `true` approves, `false` rejects.
    pub approve: bool,
    pub by: String,
    pub comment: String,
    pub at: Timestamp,
}

/// How recording a decision ended.
#[derive(Debug, Clone, PartialEq)]
pub enum DecideOutcome {
    /// This decision moved the request; its audit entry is written.
    Recorded(ApprovalState),
    /// The request had expired by the decision's time; it is now marked
    /// expired (with its own audit entry) and the decision is not kept.
    Expired,
    /// Someone decided first (or it has run): nothing written.
    AlreadyDecided {
        state: ApprovalState,
        by: Option<String>,
    },
    NotFound,
}

/// How a run ended, to record.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    Executed { note: String },
    Failed { reason: String },
}

const COLUMNS: &str = "id, kind, brand, summary, amount_minor, currency, percent_bp, action, \
    target_version, requested_by, requested_via, requested_at_us, expires_at_us, approver_role, \
    state, decided_by, decided_at_us, decision_comment, idempotency_key, attempts, \
    finished_at_us, outcome_note, subject";

const COLS: [Col; 23] = [
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
];

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

fn opt_text(s: Option<&str>) -> Value {
    Value::Text(s.map(str::to_string))
}

fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

fn approval_from_row(row: &Row) -> Result<Approval> {
    const KIND: &str = "approval";
    let id = row.text("id")?;
    let bad = |e: String| corrupt(KIND, &id, e);
    let opt_ts = |col: &str| {
        row.opt_int(col)
            .map(|us| from_micros(us, KIND, &id))
            .transpose()
    };
    let amount = match (row.opt_int("amount_minor"), row.opt_text("currency")) {
        (Some(minor), Some(code)) => Some(Money::new(
            minor,
            Currency::parse(&code).map_err(|e| bad(e.to_string()))?,
        )),
        _ => None,
    };
    Ok(Approval {
        kind: ApprovalKind::parse(&row.text("kind")?).map_err(bad)?,
        brand: row.text("brand")?,
        summary: row.text("summary")?,
        amount,
        percent_bp: row.opt_int("percent_bp"),
        action: serde_json::from_str(&row.text("action")?).map_err(|e| bad(e.to_string()))?,
        target_version: row.opt_text("target_version"),
        requested_by: row.text("requested_by")?,
        requested_via: RequestedVia::parse(&row.text("requested_via")?).map_err(bad)?,
        requested_at: from_micros(row.int("requested_at_us")?, KIND, &id)?,
        expires_at: from_micros(row.int("expires_at_us")?, KIND, &id)?,
        approver_role: row.text("approver_role")?,
        state: ApprovalState::parse(&row.text("state")?).map_err(bad)?,
        decided_by: row.opt_text("decided_by"),
        decided_at: opt_ts("decided_at_us")?,
        decision_comment: row.opt_text("decision_comment"),
        idempotency_key: row.text("idempotency_key")?,
        attempts: row.int("attempts")?,
        finished_at: opt_ts("finished_at_us")?,
        outcome_note: row.opt_text("outcome_note"),
        subject: row.opt_text("subject"),
        id,
    })
}

async fn one_in<T: DbTx>(tx: &mut T, id: &str) -> Result<Option<Approval>> {
    let rows = tx
        .fetch(
            &format!("SELECT {COLUMNS} FROM approvals WHERE id = $1"),
            &[text(id)],
            &COLS,
        )
        .await?;
    rows.first().map(approval_from_row).transpose()
}

impl<D: Db> SqlStore<D> {
    async fn approval_create(
        &self,
        new: &NewApproval,
        notices: &[crate::alerts::NewNotification],
        audit: &AuditEntry,
    ) -> Result<()> {
        let mut tx = self.db.begin().await?;
        tx.execute(
            "INSERT INTO approvals (id, kind, brand, summary, amount_minor, currency, percent_bp, \
             action, target_version, requested_by, requested_via, requested_at_us, expires_at_us, \
             approver_role, state, idempotency_key, subject) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            &[
                text(&new.id),
                text(new.kind.as_str()),
                text(&new.brand),
                text(&new.summary),
                Value::Int(new.amount.map(|m| m.minor)),
                opt_text(new.amount.as_ref().map(|m| m.currency.code())),
                Value::Int(new.percent_bp),
                text(&new.action.to_string()),
                opt_text(new.target_version.as_deref()),
                text(&new.requested_by),
                text(new.requested_via.as_str()),
                int(micros(new.requested_at)),
                int(micros(new.expires_at)),
                text(&new.approver_role),
                text(ApprovalState::Pending.as_str()),
                text(&new.idempotency_key),
                opt_text(new.subject.as_deref()),
            ],
        )
        .await?;
        crate::alerts::insert_notifications(&mut tx, self.db.dialect(), notices).await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await
    }

    async fn approval_decide(
        &self,
        id: &str,
        decision: &ApprovalDecision,
        audit: &AuditEntry,
        expiry_audit: &AuditEntry,
    ) -> Result<DecideOutcome> {
        let to = if decision.approve {
            ApprovalState::Approved
        } else {
            ApprovalState::Rejected
        };
        let at = micros(decision.at);
        let mut tx = self.db.begin().await?;
        let moved = tx
            .execute(
                "UPDATE approvals SET state = $1, decided_by = $2, decided_at_us = $3, \
                 decision_comment = $4 \
                 WHERE id = $5 AND state = 'pending' AND expires_at_us > $3",
                &[
                    text(to.as_str()),
                    text(&decision.by),
                    int(at),
                    text(&decision.comment),
                    text(id),
                ],
            )
            .await?;
        if moved == 1 {
            tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
            tx.commit().await?;
            return Ok(DecideOutcome::Recorded(to));
        }
        let expired = tx
            .execute(
                "UPDATE approvals SET state = 'expired', finished_at_us = $1 \
                 WHERE id = $2 AND state = 'pending' AND expires_at_us <= $1",
                &[int(at), text(id)],
            )
            .await?;
        if expired == 1 {
            tx.execute(AUDIT_INSERT, &audit_params(expiry_audit))
                .await?;
            tx.commit().await?;
            return Ok(DecideOutcome::Expired);
        }
        let Some(current) = one_in(&mut tx, id).await? else {
            return Ok(DecideOutcome::NotFound);
        };
        Ok(match current.state {
            ApprovalState::Expired => DecideOutcome::Expired,
            state => DecideOutcome::AlreadyDecided {
                state,
                by: current.decided_by,
            },
        })
    }

    async fn approval_expire_due(&self, now: Timestamp, actor: &str) -> Result<Vec<String>> {
        let mut tx = self.db.begin().await?;
        let rows = tx
            .fetch(
                "UPDATE approvals SET state = 'expired', finished_at_us = $1 \
                 WHERE state = 'pending' AND expires_at_us <= $1 RETURNING id",
                &[int(micros(now))],
                &[Col::Text],
            )
            .await?;
        let ids: Vec<String> = rows.iter().map(|r| r.text("id")).collect::<Result<_>>()?;
        for id in &ids {
            let audit = AuditEntry {
                at: now,
                actor: actor.to_string(),
                action: crate::AuditAction::ApprovalExpire,
                subject: format!("approval:{id}"),
                payload: serde_json::json!({}),
                ip: None,
            };
            tx.execute(AUDIT_INSERT, &audit_params(&audit)).await?;
        }
        tx.commit().await?;
        Ok(ids)
    }

    async fn approval_claim(
        &self,
        id: &str,
        now: Timestamp,
        lease_until: Timestamp,
        audit: &AuditEntry,
    ) -> Result<Option<Approval>> {
        let mut tx = self.db.begin().await?;
        let claimed = tx
            .execute(
                "UPDATE approvals SET state = 'executing', attempts = attempts + 1, \
                 lease_until_us = $1 \
                 WHERE id = $2 AND (state = 'approved' \
                   OR (state = 'executing' AND lease_until_us <= $3))",
                &[int(micros(lease_until)), text(id), int(micros(now))],
            )
            .await?;
        if claimed != 1 {
            return Ok(None);
        }
        let approval = one_in(&mut tx, id).await?;
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(approval)
    }

    async fn approval_finish(
        &self,
        id: &str,
        outcome: &RunOutcome,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        let (state, note) = match outcome {
            RunOutcome::Executed { note } => (ApprovalState::Executed, note),
            RunOutcome::Failed { reason } => (ApprovalState::Failed, reason),
        };
        let mut tx = self.db.begin().await?;
        let moved = tx
            .execute(
                "UPDATE approvals SET state = $1, finished_at_us = $2, outcome_note = $3, \
                 lease_until_us = NULL WHERE id = $4 AND state = 'executing'",
                &[text(state.as_str()), int(micros(at)), text(note), text(id)],
            )
            .await?;
        if moved != 1 {
            return Ok(false);
        }
        tx.execute(AUDIT_INSERT, &audit_params(audit)).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn approval_list(
        &self,
        state: Option<ApprovalState>,
        limit: u32,
    ) -> Result<Vec<Approval>> {
        let mut params = Vec::new();
        let filter = match state {
            Some(s) => {
                params.push(text(s.as_str()));
                "WHERE state = $1"
            }
            None => "",
        };
        params.push(int(i64::from(limit)));
        let sql = format!(
            "SELECT {COLUMNS} FROM approvals {filter} \
             ORDER BY requested_at_us DESC, id DESC LIMIT ${}",
            params.len()
        );
        let rows = self.db.fetch(&sql, &params, &COLS).await?;
        rows.iter().map(approval_from_row).collect()
    }

    async fn approval_list_about(&self, subject: &str) -> Result<Vec<Approval>> {
        let rows = self
            .db
            .fetch(
                &format!(
                    "SELECT {COLUMNS} FROM approvals WHERE subject = $1 \
                     ORDER BY requested_at_us DESC, id DESC"
                ),
                &[text(subject)],
                &COLS,
            )
            .await?;
        rows.iter().map(approval_from_row).collect()
    }

    async fn approval_get(&self, id: &str) -> Result<Option<Approval>> {
        let rows = self
            .db
            .fetch(
                &format!("SELECT {COLUMNS} FROM approvals WHERE id = $1"),
                &[text(id)],
                &COLS,
            )
            .await?;
        rows.first().map(approval_from_row).transpose()
    }

    async fn approval_pending_count(&self, now: Timestamp) -> Result<u64> {
        let rows = self
            .db
            .fetch(
                "SELECT COUNT(*) AS n FROM approvals WHERE state = 'pending' AND expires_at_us > $1",
                &[int(micros(now))],
                &[Col::Int],
            )
            .await?;
        let n = rows.first().map(|r| r.int("n")).transpose()?.unwrap_or(0);
        Ok(u64::try_from(n).unwrap_or(0))
    }
}

/// Approval requests: the part of a [`crate::Store`] `opsdeck-operations`
/// keeps them in. A supertrait of `Store`, so every store has it.
#[async_trait]
pub trait ApprovalStore: Send + Sync {
    /// Stores a new pending request, the approvers' notices (queued in
    /// the alert outbox, whose sender delivers and retries them) and its
    /// audit entry, in one transaction: a request is never stored without
    /// its notices, nor a notice sent for a request that was not.
    async fn create_approval(
        &self,
        new: &NewApproval,
        notices: &[crate::alerts::NewNotification],
        audit: &AuditEntry,
    ) -> Result<()>;

    /// Records `decision` if the request is still pending and not expired
    /// at `decision.at` (compare-and-set), with `audit`; marks it expired
    /// (with `expiry_audit`) when the decision came too late.
    async fn decide_approval(
        &self,
        id: &str,
        decision: &ApprovalDecision,
        audit: &AuditEntry,
        expiry_audit: &AuditEntry,
    ) -> Result<DecideOutcome>;

    /// Marks every pending request whose time ran out by `now` expired
    /// (one audit entry each, by `actor`); answers their ids.
    async fn expire_due_approvals(&self, now: Timestamp, actor: &str) -> Result<Vec<String>>;

    /// Claims the run of an approved request (or of one whose previous run's
    /// lease ended by `now`) until `lease_until`, with `audit`; `None` when
    /// another run has it, it has run, or it is not approved.
    async fn claim_approval_run(
        &self,
        id: &str,
        now: Timestamp,
        lease_until: Timestamp,
        audit: &AuditEntry,
    ) -> Result<Option<Approval>>;

    /// Records how the claimed run ended, with `audit`; `false` (nothing
    /// written) when the request is not executing.
    async fn finish_approval_run(
        &self,
        id: &str,
        outcome: &RunOutcome,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool>;

    async fn approval(&self, id: &str) -> Result<Option<Approval>>;

    /// Requests newest first, in one state or all, at most `limit`.
    async fn approvals(&self, state: Option<ApprovalState>, limit: u32) -> Result<Vec<Approval>>;

    /// Pending requests not yet expired at `now` (the nav's count).
    async fn pending_approval_count(&self, now: Timestamp) -> Result<u64>;

    /// Every request about `subject` ([`NewApproval::subject`]), in any
    /// state, newest first: how a requester finds the approval its item
    /// waits for.
    async fn approvals_about(&self, subject: &str) -> Result<Vec<Approval>>;
}

#[async_trait]
impl<D: Db> ApprovalStore for SqlStore<D> {
    #[instrument(skip_all, fields(backend = ?self.db.backend(), approval = %new.id, kind = new.kind.as_str()))]
    async fn create_approval(
        &self,
        new: &NewApproval,
        notices: &[crate::alerts::NewNotification],
        audit: &AuditEntry,
    ) -> Result<()> {
        self.approval_create(new, notices, audit).await
    }

    #[instrument(skip_all, fields(backend = ?self.db.backend(), approval = %id, approve = decision.approve))]
    async fn decide_approval(
        &self,
        id: &str,
        decision: &ApprovalDecision,
        audit: &AuditEntry,
        expiry_audit: &AuditEntry,
    ) -> Result<DecideOutcome> {
        self.approval_decide(id, decision, audit, expiry_audit)
            .await
    }

    async fn expire_due_approvals(&self, now: Timestamp, actor: &str) -> Result<Vec<String>> {
        self.approval_expire_due(now, actor).await
    }

    #[instrument(skip_all, fields(backend = ?self.db.backend(), approval = %id))]
    async fn claim_approval_run(
        &self,
        id: &str,
        now: Timestamp,
        lease_until: Timestamp,
        audit: &AuditEntry,
    ) -> Result<Option<Approval>> {
        self.approval_claim(id, now, lease_until, audit).await
    }

    #[instrument(skip_all, fields(backend = ?self.db.backend(), approval = %id))]
    async fn finish_approval_run(
        &self,
        id: &str,
        outcome: &RunOutcome,
        at: Timestamp,
        audit: &AuditEntry,
    ) -> Result<bool> {
        self.approval_finish(id, outcome, at, audit).await
    }

    async fn approval(&self, id: &str) -> Result<Option<Approval>> {
        self.approval_get(id).await
    }

    async fn approvals(&self, state: Option<ApprovalState>, limit: u32) -> Result<Vec<Approval>> {
        self.approval_list(state, limit).await
    }

    async fn pending_approval_count(&self, now: Timestamp) -> Result<u64> {
        self.approval_pending_count(now).await
    }

    async fn approvals_about(&self, subject: &str) -> Result<Vec<Approval>> {
        self.approval_list_about(subject).await
    }
}
