//! A freeze that needs a second person: switching on a flag named in
//! `[flags] requires_approval` is requested, not refused, and applied
//! once when someone else approves it.
//!
//! - [`request_switch_on`] checks the change as [`change_flag`] would
//!   (so nothing of a change that could never be made is stored) and
//!   files it as an [`ApprovalKind::FlagChange`] request whose action is
//!   [`Action::SwitchFlagOn`], with the flag's version at that moment as
//!   the request's target version. The approvals' rules then hold as for
//!   any request: four eyes, the kind's approver role, a comment, expiry.
//! - [`FlagApprovals::apply`] is that action's run: the change goes
//!   through [`change_flag`] with [`Authority::Approved`] (audited with
//!   the approval and the approver), and the deliverer is woken. The run
//!   happens once: the approvals store lets one decision win and one run
//!   claim it; a flag changed since the request is refused (the approver
//!   approved the state they saw); and a run repeated after a crash that
//!   cut it short finds its own change already in the flag's audit trail
//!   and does not make it again.

use super::{change_flag, Actor, Authority, FlagChange, FlagError, FlagSettings};
use crate::approvals::{Action, ApprovalError, Approvals, Clock, NewRequest, Requested, Requester};
use opsdeck_store::{Approval, ApprovalKind, RequestedVia, RunOutcome, Store};
use std::sync::Arc;
use tokio::sync::Notify;

/// What a freeze request names as its brand: a flag covers every brand.
pub const ALL_BRANDS: &str = "all brands";
/// Audit entries of a flag searched for a run's own earlier change.
const TRAIL_SEARCHED: u32 = 50;

/// The action stored with a request for `change` (made at `now`): an
/// automatic end is kept as a duration, counted from when the change is
/// applied, so a freeze approved an hour later still runs as long as asked.
fn action_of(change: &FlagChange, now: opsdeck_domain::Timestamp) -> Action {
    Action::SwitchFlagOn {
        key: change.key.as_str().to_string(),
        targets: change.targets.clone(),
        text: change.text.clone(),
        reason: change.reason.clone(),
        runs_for_minutes: change.ends_at.map(|end| {
            let us = end.as_microsecond() - now.as_microsecond();
            // Rounded up: a requested end is never cut short.
            (us + 59_999_999) / 60_000_000
        }),
    }
}

/// The change an [`Action::SwitchFlagOn`] makes when applied at `now`.
fn change_of(action: &Action, now: opsdeck_domain::Timestamp) -> Result<FlagChange, FlagError> {
    let Action::SwitchFlagOn {
        key,
        targets,
        text,
        reason,
        runs_for_minutes,
    } = action
    else {
        return Err(FlagError::Invalid("not a flag switch-on".into()));
    };
    let ends_at = match runs_for_minutes {
        None => None,
        Some(m) => Some(
            now.checked_add(jiff::SignedDuration::from_mins(*m))
                .map_err(|e| FlagError::Invalid(format!("runs_for_minutes: {e}")))?,
        ),
    };
    Ok(FlagChange {
        key: super::parse_key(key)?,
        on: true,
        targets: targets.clone(),
        text: text.clone(),
        reason: reason.clone(),
        ends_at,
    })
}

/// Checks a stored switch-on as it would be applied now (for
/// [`crate::approvals::ActionRunner::check`]).
pub fn check_action(action: &Action, now: opsdeck_domain::Timestamp) -> Result<(), String> {
    change_of(action, now)
        .and_then(|c| c.validate(now))
        .map(|_| ())
        .map_err(|e| e.to_string())
}

fn invalid(e: FlagError) -> ApprovalError {
    match e {
        FlagError::Store(e) => ApprovalError::Store(e),
        e => ApprovalError::Invalid(e.to_string()),
    }
}

/// Files the switch-on `change` by `by` for a second person's approval
/// (see the module documentation). `change` must switch a flag on.
pub async fn request_switch_on(
    approvals: &Approvals,
    change: &FlagChange,
    by: &Actor,
    via: RequestedVia,
) -> Result<Approval, ApprovalError> {
    let now = approvals.now();
    let change = change.validate(now).map_err(invalid)?;
    if !change.on {
        return Err(ApprovalError::Invalid(
            "only switching a flag on waits for approval; switch it off directly".into(),
        ));
    }
    let version = approvals
        .store()
        .flags()
        .await?
        .into_iter()
        .find(|f| f.key == change.key)
        .map_or(0, |f| f.version);
    let mut summary = format!("Switch on {}: {}", change.key.label(), change.reason);
    if !change.targets.is_empty() {
        summary.push_str(&format!(" (in {})", change.targets.join(", ")));
    }
    if let Some(end) = change.ends_at {
        let minutes = (end.as_microsecond() - now.as_microsecond()).div_euclid(60_000_000);
        summary.push_str(&format!(" · ends {minutes} min after approval"));
    }
    let request = NewRequest {
        kind: ApprovalKind::FlagChange,
        brand: ALL_BRANDS.into(),
        summary,
        amount: None,
        percent_bp: None,
        action: action_of(&change, now),
        target_version: Some(version.to_string()),
        subject: None,
    };
    let who = Requester {
        name: by.name.clone(),
        via,
        ip: by.ip.clone(),
    };
    match approvals.request(request, &who).await? {
        Requested::Pending(a) => Ok(*a),
        Requested::NotRequired => Err(ApprovalError::Invalid(
            "the approval policy lets this switch-on through without approval; \
             remove the flag from [flags] requires_approval instead"
                .into(),
        )),
    }
}

/// Applies approved switch-ons: the flag service's store, settings, the
/// bell of its deliverer, and the clock changes are stamped with.
#[derive(Clone)]
pub struct FlagApprovals {
    pub store: Arc<dyn Store>,
    pub settings: Arc<FlagSettings>,
    pub changed: Arc<Notify>,
    pub clock: Clock,
}

impl FlagApprovals {
    /// Whether this approval's change is already in the flag's trail (a
    /// run cut short after the write).
    async fn already_applied(
        &self,
        approval: &Approval,
        key: &super::FlagKey,
    ) -> Result<bool, FlagError> {
        Ok(self
            .store
            .flag_audit(key, TRAIL_SEARCHED)
            .await?
            .iter()
            .any(|e| e.payload.get("approval").and_then(|v| v.as_str()) == Some(&approval.id)))
    }

    async fn changed_since(&self, approval: &Approval, key: &super::FlagKey) -> RunOutcome {
        match self.already_applied(approval, key).await {
            Ok(true) => RunOutcome::Executed {
                note: format!("{key} was already switched on by this approval"),
            },
            Ok(false) => RunOutcome::Failed {
                reason: format!(
                    "{key} changed since the request (it saw version {}): request again against its current state",
                    approval.target_version.as_deref().unwrap_or("none")
                ),
            },
            Err(e) => RunOutcome::Failed {
                reason: e.to_string(),
            },
        }
    }

    /// Runs the approved switch-on `action` of `approval` once.
    pub async fn apply(&self, approval: &Approval, action: &Action) -> RunOutcome {
        let now = (self.clock)();
        let change = match change_of(action, now) {
            Ok(c) => c,
            Err(e) => {
                return RunOutcome::Failed {
                    reason: e.to_string(),
                }
            }
        };
        let seen: Option<i64> = approval
            .target_version
            .as_deref()
            .and_then(|v| v.parse().ok());
        let current = match self.store.flags().await {
            Ok(flags) => flags
                .into_iter()
                .find(|f| f.key == change.key)
                .map_or(0, |f| f.version),
            Err(e) => {
                return RunOutcome::Failed {
                    reason: e.to_string(),
                }
            }
        };
        if seen != Some(current) {
            return self.changed_since(approval, &change.key).await;
        }
        let requester = Actor {
            name: approval.requested_by.clone(),
            ip: None,
        };
        let authority = Authority::Approved {
            approval: approval.id.clone(),
            approver: approval.decided_by.clone().unwrap_or_default(),
        };
        match change_flag(
            self.store.as_ref(),
            &self.settings,
            &change,
            &requester,
            &authority,
            now,
        )
        .await
        {
            Ok(flag) => {
                self.changed.notify_one();
                tracing::info!(flag = %flag.key, version = flag.version, approval = %approval.id, "approved flag change applied");
                RunOutcome::Executed {
                    note: format!("{} switched on (version {})", flag.key, flag.version),
                }
            }
            Err(FlagError::Conflict(key)) => self.changed_since(approval, &key).await,
            Err(e) => RunOutcome::Failed {
                reason: e.to_string(),
            },
        }
    }
}
