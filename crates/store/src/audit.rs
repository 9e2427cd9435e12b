//! What an audit entry records a person did: [`AuditAction`], one variant
//! per action opsdeck writes, each with the spelling the log has always
//! stored (so old entries, the `/audit` filter and the CSV read the same).

opsdeck_domain::open_enum! {
    /// The action of an audit entry. An action this version does not write
    /// (an entry of an older or newer version) is kept as `Other`, so the
    /// log still lists and filters it.
    pub enum AuditAction {
        /// A person acknowledged an alert episode (API, page or Telegram).
        AlertAcknowledge = "alert.acknowledge",
        /// An acknowledgement was refused before it reached the episode (a
        /// Telegram press from a chat or user not allowed to act).
        AlertAcknowledgeRefused = "alert.acknowledge.refused",
        /// Every firing member of a group (a rule on a brand) acknowledged at once.
        AlertAcknowledgeGroup = "alert.acknowledge_group",
        AlertResolve = "alert.resolve",
        AlertSilence = "alert.silence",
        /// A silence ended early (or cancelled before it started).
        AlertSilenceEnd = "alert.silence_end",
        /// A declared incident, which mutes its brand's alerts.
        IncidentMute = "incident.mute",
        IncidentEnd = "incident.end",
        LoginSuccess = "login.success",
        LoginFailure = "login.failure",
        /// The login throttle's report that an account is under attack (the
        /// `account_under_attack` alert reads these).
        LoginUnderAttack = "login.under_attack",
        Logout = "logout",
        UserCreate = "user.create",
        UserPasswordReset = "user.password_reset",
        UserDisable = "user.disable",
        ApiTokenCreate = "api_token.create",
        ApiTokenRevoke = "api_token.revoke",
        /// The refresh button: every source syncs now.
        SyncRefresh = "sync.refresh",
        /// A decision recorded on the pulse page.
        PulseDecision = "pulse.decision",
        /// An incident declared (dashboard, from alerts, or the ingest API).
        IncidentDeclare = "incident.declare",
        /// An incident moved along its lifecycle (triage → investigating ...).
        IncidentTransition = "incident.transition",
        IncidentAcknowledge = "incident.acknowledge",
        IncidentSeverity = "incident.severity",
        /// A written update, or an action, on an incident's timeline.
        IncidentUpdate = "incident.update",
        IncidentLinkAlerts = "incident.link_alerts",
        IncidentPostmortem = "incident.postmortem",
        /// A postmortem action item added or its status changed.
        IncidentActionItem = "incident.action_item",
        /// A notice of an incident queued (declared, or an escalation step).
        IncidentNotify = "incident.notify",
        /// A component's status set (the public status page shows it).
        ComponentStatus = "component.status",
        /// A change sent for approval (API, dashboard or opsdeck itself).
        ApprovalRequest = "approval.request",
        ApprovalApprove = "approval.approve",
        ApprovalReject = "approval.reject",
        /// A decision refused before it reached the request (four-eyes,
        /// wrong role, no comment, a Telegram press from elsewhere).
        ApprovalDecisionRefused = "approval.decision_refused",
        /// A request whose time ran out before anyone decided.
        ApprovalExpire = "approval.expire",
        /// A run of an approved request's action began (once per attempt).
        ApprovalRunStart = "approval.run_start",
        ApprovalExecuted = "approval.executed",
        /// The action was refused (its target changed) or gave up.
        ApprovalRunFailed = "approval.run_failed",
        /// A custom platform told that its request was rejected or
        /// expired (the payload says how the callback ended).
        ApprovalClosedCallback = "approval.closed_callback",
        /// A flag switched on or changed (freeze, sales pause, banner).
        FlagSet = "flag.set",
        /// A flag switched off by a person.
        FlagClear = "flag.clear",
        /// A flag's automatic end, recorded by the background step.
        FlagExpire = "flag.expire",
        /// A flag change refused before it was made (it needs approval).
        FlagRefused = "flag.refused",
        StorefrontKeyCreate = "storefront_key.create",
        StorefrontKeyRevoke = "storefront_key.revoke",
        /// A shift handover note started, pre-filled from live state.
        HandoverStart = "handover.start",
        /// A draft note's sections edited by its author.
        HandoverEdit = "handover.edit",
        HandoverSubmit = "handover.submit",
        /// The incoming person acknowledged the note.
        HandoverAcknowledge = "handover.acknowledge",
        /// The region's leads told a note was not acknowledged in time.
        HandoverNotify = "handover.notify",
        /// A morning checklist item checked (who and when).
        ChecklistCheck = "checklist.check",
        /// A return or refund request approved from the refunds queue.
        QueueApprove = "queue.approve",
        /// A return or refund request declined from the refunds queue.
        QueueDecline = "queue.decline",
        /// A privacy request received (compliance webhook, dashboard, ingest).
        PrivacyRequest = "privacy.request",
        /// A privacy request worked to its end (export ready, data erased).
        PrivacyComplete = "privacy.complete",
        /// A privacy request's attempt failed (the error says why).
        PrivacyFail = "privacy.fail",
        /// A download link of an export archive created.
        PrivacyLink = "privacy.link",
        /// An export archive downloaded (who and when: its delivery).
        PrivacyDownload = "privacy.download",
        /// An export job queued (its sections, range, scope and format).
        ExportCreate = "export.create",
        /// An export file downloaded through its link (who and when).
        ExportDownload = "export.download",
    }
}

#[cfg(test)]
mod tests {
    use super::AuditAction;

    #[test]
    fn actions_keep_their_stored_spelling_and_unknown_ones_survive() {
        for (action, stored) in [
            (AuditAction::AlertAcknowledge, "alert.acknowledge"),
            (
                AuditAction::AlertAcknowledgeGroup,
                "alert.acknowledge_group",
            ),
            (AuditAction::LoginSuccess, "login.success"),
            (AuditAction::Logout, "logout"),
        ] {
            assert_eq!(action.as_str(), stored);
            assert_eq!(AuditAction::parse(stored), action);
        }
        assert_eq!(
            AuditAction::parse("settings.change"),
            AuditAction::Other("settings.change".into())
        );
        assert_eq!(
            AuditAction::parse("settings.change").as_str(),
            "settings.change"
        );
    }
}
