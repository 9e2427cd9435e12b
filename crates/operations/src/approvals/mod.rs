//! Approvals (issue 14 point 3): a risky change waits for a second
//! person, then its action runs once.
//!
//! The rules, in one place:
//! - whether a change needs approval and who decides ([`policy`]);
//! - a request is checked whole before anything is stored (its action
//!   must be able to run: [`run::ActionRunner::check`]);
//! - a decision needs a comment, and four eyes: the requester cannot
//!   decide their own request; only the kind's approver role decides;
//! - expiry and "exactly one decision" are enforced by the store's
//!   compare-and-set, at the decision's own time;
//! - an approved request runs once ([`run`]), each step audited;
//! - the approvers hear of it on Slack and Telegram ([`notify`]): the
//!   notices are queued in the alert outbox with the request and sent
//!   (and retried) by the alerts' sender; Telegram's buttons come back
//!   through the alerts' Telegram loop;
//! - a custom platform is called back however its request ends:
//!   approved (it acts), rejected or expired (it does not), signed and
//!   with the same idempotency key;
//! - a freeze flag that needs a second person is requested through here
//!   too (`crate::flags::approval`).
//!
//! [`Approvals::pending`] lists what waits now, for the shift handover.

pub mod notify;
pub mod policy;
pub mod run;

pub use notify::{ApprovalButtons, ApprovalNotices};
pub use policy::{ApprovalPolicy, KindPolicy, Threshold};
pub use run::{Action, ActionRunner, CallbackBody, CallbackPlatform, Executor, Retry};

use opsdeck_domain::{Money, Timestamp};
use opsdeck_store::{
    Approval, ApprovalDecision, ApprovalKind, ApprovalState, AuditAction, AuditEntry,
    DecideOutcome, NewApproval, RequestedVia, Role, RunOutcome, Store, StoreError,
};
use rand::Rng;
use serde_json::json;
use std::sync::Arc;

/// Where "now" comes from (a fixed clock in tests).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// The longest comment and summary kept.
pub const MAX_TEXT: usize = 2000;
/// How long a claimed run may take before another process may claim it.
const RUN_LEASE: jiff::SignedDuration = jiff::SignedDuration::from_mins(5);
/// The name steps opsdeck takes by itself are audited under.
pub const SYSTEM_ACTOR: &str = "opsdeck";

/// A change asked for.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRequest {
    pub kind: ApprovalKind,
    pub brand: String,
    pub summary: String,
    pub amount: Option<Money>,
    /// A discount's size in basis points.
    pub percent_bp: Option<i64>,
    pub action: Action,
    /// The target's `updated_at` as the requester saw it.
    pub target_version: Option<String>,
    /// What the change is about, as the requester keys it (the refunds
    /// queue's item key), so it finds its request again by that key
    /// ([`opsdeck_store::NewApproval::subject`]).
    pub subject: Option<String>,
}

/// Who asks.
#[derive(Debug, Clone, PartialEq)]
pub struct Requester {
    /// A username, `platform:<source>` or `opsdeck`.
    pub name: String,
    pub via: RequestedVia,
    pub ip: Option<String>,
}

/// Who decides, as the caller authenticated them.
#[derive(Debug, Clone, PartialEq)]
pub struct Decider {
    pub username: String,
    pub role: Role,
    /// `dashboard`, `api` or `telegram`.
    pub via: &'static str,
    pub ip: Option<String>,
}

/// How a request ended up.
#[derive(Debug, Clone, PartialEq)]
pub enum Requested {
    /// Under its kind's threshold: go ahead, nothing stored.
    NotRequired,
    Pending(Box<Approval>),
}

/// Why a request or decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum ApprovalError {
    /// Bad input; the text names the field and its bound.
    #[error("{0}")]
    Invalid(String),
    #[error("no approval request {0:?}")]
    NotFound(String),
    #[error("four eyes: {0} requested this change and cannot decide it")]
    OwnRequest(String),
    #[error("only the {needed} role decides this request")]
    WrongRole { needed: String },
    #[error("this request expired before the decision")]
    Expired,
    #[error("already {state}{}", by.as_ref().map(|b| format!(" by {b}")).unwrap_or_default())]
    AlreadyDecided {
        state: ApprovalState,
        by: Option<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a decision did.
#[derive(Debug, Clone, PartialEq)]
pub struct Decided {
    pub state: ApprovalState,
    /// How the action's run ended, for an approval whose run this call made.
    pub run: Option<RunOutcome>,
}

/// The approvals service: the rules over the store.
pub struct Approvals {
    store: Arc<dyn Store>,
    policy: ApprovalPolicy,
    clock: Clock,
    runner: Arc<dyn ActionRunner>,
    notices: Option<ApprovalNotices>,
}

fn text_field(name: &str, value: &str) -> Result<String, ApprovalError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(ApprovalError::Invalid(format!("{name} is required")));
    }
    if value.chars().count() > MAX_TEXT {
        return Err(ApprovalError::Invalid(format!(
            "{name} is longer than {MAX_TEXT} characters"
        )));
    }
    Ok(value.to_string())
}

fn new_id() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let tail: String = (0..16)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect();
    format!("apr_{tail}")
}

/// Whether `username` with `role` may decide `approval`: its approver
/// role, and not its requester (four eyes). [`Approvals::decide`] refuses
/// the others, naming which rule.
pub fn may_decide(approval: &Approval, username: &str, role: Role) -> bool {
    approval.requested_by != username && approval.approver_role == role.as_str()
}

/// `new` as it reads once stored (pending, undecided): what its notices
/// are rendered from, before the one transaction that stores both.
fn as_pending(new: &NewApproval) -> Approval {
    Approval {
        id: new.id.clone(),
        kind: new.kind,
        brand: new.brand.clone(),
        summary: new.summary.clone(),
        amount: new.amount,
        percent_bp: new.percent_bp,
        action: new.action.clone(),
        target_version: new.target_version.clone(),
        requested_by: new.requested_by.clone(),
        requested_via: new.requested_via,
        requested_at: new.requested_at,
        expires_at: new.expires_at,
        approver_role: new.approver_role.clone(),
        state: ApprovalState::Pending,
        decided_by: None,
        decided_at: None,
        decision_comment: None,
        idempotency_key: new.idempotency_key.clone(),
        attempts: 0,
        finished_at: None,
        outcome_note: None,
        subject: new.subject.clone(),
    }
}

impl Approvals {
    pub fn new(
        store: Arc<dyn Store>,
        policy: ApprovalPolicy,
        runner: Arc<dyn ActionRunner>,
    ) -> Self {
        Approvals {
            store,
            policy,
            clock: Arc::new(Timestamp::now),
            runner,
            notices: None,
        }
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Notifies approvers of each new request on these channels.
    pub fn with_notices(mut self, notices: ApprovalNotices) -> Self {
        self.notices = Some(notices);
        self
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    pub fn policy(&self) -> &ApprovalPolicy {
        &self.policy
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Weighs a change against its kind's threshold and, when it needs
    /// approval, stores the request (audited) and notifies the approvers.
    pub async fn request(
        &self,
        req: NewRequest,
        who: &Requester,
    ) -> Result<Requested, ApprovalError> {
        let summary = text_field("summary", &req.summary)?;
        if req.brand.trim().is_empty() {
            return Err(ApprovalError::Invalid("brand is required".into()));
        }
        if let Some(bp) = req.percent_bp {
            if !(0..=10_000).contains(&bp) {
                return Err(ApprovalError::Invalid(format!(
                    "percent must be between 0 and 100, got {}",
                    bp as f64 / 100.0
                )));
            }
        }
        if req.amount.is_some_and(|m| m.minor < 0) {
            return Err(ApprovalError::Invalid("amount must not be negative".into()));
        }
        let Some(rule) = self
            .policy
            .requires(req.kind, req.amount, req.percent_bp)
            .map_err(|e| ApprovalError::Invalid(e.to_string()))?
        else {
            return Ok(Requested::NotRequired);
        };
        self.runner
            .check(&req.action, req.target_version.as_deref())
            .map_err(ApprovalError::Invalid)?;
        let now = self.now();
        let id = new_id();
        let new = NewApproval {
            idempotency_key: format!("opsdeck-{id}"),
            id: id.clone(),
            kind: req.kind,
            brand: req.brand.trim().to_string(),
            summary,
            amount: req.amount,
            percent_bp: req.percent_bp,
            action: serde_json::to_value(&req.action).expect("an action serializes"),
            target_version: req.target_version,
            requested_by: who.name.clone(),
            requested_via: who.via,
            requested_at: now,
            expires_at: now
                .checked_add(rule.expires_after)
                .map_err(|e| ApprovalError::Invalid(format!("expiry: {e}")))?,
            approver_role: rule.approver_role.as_str().to_string(),
            subject: req.subject,
        };
        let audit = AuditEntry {
            at: now,
            actor: who.name.clone(),
            action: AuditAction::ApprovalRequest,
            subject: format!("approval:{id}"),
            payload: json!({
                "kind": new.kind.as_str(),
                "brand": new.brand,
                "summary": new.summary,
                "amount": new.amount,
                "percent_bp": new.percent_bp,
                "via": new.requested_via.as_str(),
                "approver_role": new.approver_role,
                "expires_at": new.expires_at,
            }),
            ip: who.ip.clone(),
        };
        let notices = match &self.notices {
            Some(n) => n.notices(&as_pending(&new), now),
            None => Vec::new(),
        };
        self.store.create_approval(&new, &notices, &audit).await?;
        let approval = self
            .store
            .approval(&id)
            .await?
            .ok_or_else(|| ApprovalError::NotFound(id.clone()))?;
        Ok(Requested::Pending(Box::new(approval)))
    }

    /// The request of one of opsdeck's own actions (the refunds queue's
    /// refund): the same rules, requested by the person who pressed it.
    pub async fn request_from_opsdeck(
        &self,
        req: NewRequest,
        username: &str,
    ) -> Result<Requested, ApprovalError> {
        self.request(
            req,
            &Requester {
                name: username.to_string(),
                via: RequestedVia::Opsdeck,
                ip: None,
            },
        )
        .await
    }

    async fn refuse(&self, id: &str, who: &Decider, err: ApprovalError) -> ApprovalError {
        let audit = AuditEntry {
            at: self.now(),
            actor: who.username.clone(),
            action: AuditAction::ApprovalDecisionRefused,
            subject: format!("approval:{id}"),
            payload: json!({ "reason": err.to_string(), "via": who.via }),
            ip: who.ip.clone(),
        };
        if let Err(e) = self.store.record_audit(&audit).await {
            tracing::error!(error = %e, approval = %id, "could not audit a refused decision");
        }
        err
    }

    /// Records a decision (with its comment), refused when it is the
    /// requester's own, not the approver role's, expired, or already
    /// decided; an approval then runs the action.
    pub async fn decide(
        &self,
        id: &str,
        who: &Decider,
        approve: bool,
        comment: &str,
    ) -> Result<Decided, ApprovalError> {
        let comment = text_field("comment", comment)?;
        let approval = self
            .store
            .approval(id)
            .await?
            .ok_or_else(|| ApprovalError::NotFound(id.to_string()))?;
        if approval.requested_by == who.username {
            return Err(self
                .refuse(id, who, ApprovalError::OwnRequest(who.username.clone()))
                .await);
        }
        if approval.approver_role != who.role.as_str() {
            let needed = approval.approver_role.clone();
            return Err(self
                .refuse(id, who, ApprovalError::WrongRole { needed })
                .await);
        }
        let at = self.now();
        let decision = ApprovalDecision {
            approve,
            by: who.username.clone(),
            comment: comment.clone(),
            at,
        };
        let entry = |action, payload| AuditEntry {
            at,
            actor: who.username.clone(),
            action,
            subject: format!("approval:{id}"),
            payload,
            ip: who.ip.clone(),
        };
        let audit = entry(
            if approve {
                AuditAction::ApprovalApprove
            } else {
                AuditAction::ApprovalReject
            },
            json!({ "comment": comment, "via": who.via, "kind": approval.kind.as_str() }),
        );
        let expiry = entry(
            AuditAction::ApprovalExpire,
            json!({ "expired_at": approval.expires_at, "late_decision_via": who.via }),
        );
        match self
            .store
            .decide_approval(id, &decision, &audit, &expiry)
            .await?
        {
            DecideOutcome::Recorded(state) => {
                let run = if state == ApprovalState::Approved {
                    self.run(id).await?
                } else {
                    self.tell_closed(id).await?;
                    None
                };
                Ok(Decided { state, run })
            }
            DecideOutcome::Expired => {
                // Only the decision that found it pending expired it.
                if approval.state == ApprovalState::Pending {
                    self.tell_closed(id).await?;
                }
                Err(ApprovalError::Expired)
            }
            DecideOutcome::AlreadyDecided { state, by } => {
                Err(ApprovalError::AlreadyDecided { state, by })
            }
            DecideOutcome::NotFound => Err(ApprovalError::NotFound(id.to_string())),
        }
    }

    /// Runs an approved request's action if no other run has it: claims
    /// it, runs it, records how it ended. `None` when not claimed.
    pub async fn run(&self, id: &str) -> Result<Option<RunOutcome>, ApprovalError> {
        let now = self.now();
        let audit = |at, action, payload| AuditEntry {
            at,
            actor: SYSTEM_ACTOR.into(),
            action,
            subject: format!("approval:{id}"),
            payload,
            ip: None,
        };
        let lease_until = now.checked_add(RUN_LEASE).unwrap_or(now);
        let Some(approval) = self
            .store
            .claim_approval_run(
                id,
                now,
                lease_until,
                &audit(now, AuditAction::ApprovalRunStart, json!({})),
            )
            .await?
        else {
            return Ok(None);
        };
        let outcome = match serde_json::from_value::<Action>(approval.action.clone()) {
            Ok(action) => self.runner.run(&approval, &action).await,
            Err(e) => RunOutcome::Failed {
                reason: format!("the stored action cannot be read: {e}"),
            },
        };
        let done = self.now();
        let (action, payload) = match &outcome {
            RunOutcome::Executed { note } => (
                AuditAction::ApprovalExecuted,
                json!({ "note": note, "attempt": approval.attempts }),
            ),
            RunOutcome::Failed { reason } => {
                tracing::warn!(approval = %id, %reason, "approved action failed");
                (
                    AuditAction::ApprovalRunFailed,
                    json!({ "reason": reason, "attempt": approval.attempts }),
                )
            }
        };
        self.store
            .finish_approval_run(id, &outcome, done, &audit(done, action, payload))
            .await?;
        Ok(Some(outcome))
    }

    /// Tells the requester's platform that request `id` closed without
    /// running (rejected or expired), and audits how that went. Called
    /// once per closing: the store's compare-and-set lets one decision or
    /// one expiry close a request.
    async fn tell_closed(&self, id: &str) -> Result<(), ApprovalError> {
        let Some(approval) = self.store.approval(id).await? else {
            return Ok(());
        };
        let Ok(action) = serde_json::from_value::<Action>(approval.action.clone()) else {
            return Ok(());
        };
        let Some(outcome) = self.runner.closed(&approval, &action).await else {
            return Ok(());
        };
        let payload = match &outcome {
            RunOutcome::Executed { note } => {
                json!({ "decision": approval.state.as_str(), "delivered": true, "note": note })
            }
            RunOutcome::Failed { reason } => {
                tracing::warn!(approval = %id, %reason, "closing callback not delivered");
                json!({ "decision": approval.state.as_str(), "delivered": false, "reason": reason })
            }
        };
        self.store
            .record_audit(&AuditEntry {
                at: self.now(),
                actor: SYSTEM_ACTOR.into(),
                action: AuditAction::ApprovalClosedCallback,
                subject: format!("approval:{id}"),
                payload,
                ip: None,
            })
            .await?;
        Ok(())
    }

    /// One step of the background loop: expires what ran out of time, and
    /// runs what was approved but not run (a crash between decision and
    /// run, or a run whose lease ended). Answers how many runs it made.
    pub async fn sweep_once(&self) -> Result<usize, ApprovalError> {
        for id in self
            .store
            .expire_due_approvals(self.now(), SYSTEM_ACTOR)
            .await?
        {
            self.tell_closed(&id).await?;
        }
        let mut ran = 0;
        for state in [ApprovalState::Approved, ApprovalState::Executing] {
            for approval in self.store.approvals(Some(state), 100).await? {
                if self.run(&approval.id).await?.is_some() {
                    ran += 1;
                }
            }
        }
        Ok(ran)
    }

    /// What waits for `username` (with `role`) to decide now: pending,
    /// not expired, asked of their role, and not their own (four eyes):
    /// the nav's badge counts these.
    pub async fn pending_for(
        &self,
        username: &str,
        role: Role,
    ) -> Result<Vec<Approval>, ApprovalError> {
        Ok(self
            .pending()
            .await?
            .into_iter()
            .filter(|a| may_decide(a, username, role))
            .collect())
    }

    /// What waits for a decision now (not expired), newest first: the
    /// approvals page, its count, and the shift handover read this.
    pub async fn pending(&self) -> Result<Vec<Approval>, ApprovalError> {
        let now = self.now();
        Ok(self
            .store
            .approvals(Some(ApprovalState::Pending), 500)
            .await?
            .into_iter()
            .filter(|a| a.expires_at > now)
            .collect())
    }
}
