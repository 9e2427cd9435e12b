//! What a person may do: the [`Permission`]s, and the built-in roles'
//! permissions ([`builtin_allows`]), the defaults the configured matrix
//! (`crate::roles::Roles`, `[roles.NAME]`) starts from. Routes declare the
//! permission they need, the web's guard asks the configured matrix, and
//! whether amounts of money are shown follows [`Permission::ViewRevenue`].
//!
//! # Built-in roles
//!
//! | permission (config name) | admin | ops | support | finance | viewer | `regional_lead` | `finance_lead` | `product_lead` | `content_lead` | reviewer |
//! |---|---|---|---|---|---|---|---|---|---|---|
//! | view the dashboard and panels, no money (`view_dashboard`) | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | view revenue: order volume, sales, sales pulse, combined dashboard API (`view_revenue`) | ✓ | ✓ | | ✓ | | ✓ | ✓ | | | |
//! | acknowledge / resolve / silence alerts (`act_on_alerts`) | ✓ | ✓ | | | | ✓ | | ✓ | | |
//! | record sales-pulse decisions (`record_decisions`) | ✓ | ✓ | | | | ✓ | | | | |
//! | declare and run incidents, set component statuses (`manage_incidents`) | ✓ | | | | | ✓ | | | | |
//! | trigger a sync refresh (`refresh_sync`) | ✓ | ✓ | ✓ | | | ✓ | | ✓ | ✓ | |
//! | manage users (`manage_users`) | ✓ | | | | | | | | | |
//! | manage API tokens and storefront keys (`manage_tokens`) | ✓ | | | | | | | | | |
//! | switch freeze flags, the sales pause and the maintenance banner (`change_flags`) | ✓ | | | | | ✓ | | | | |
//! | view the audit log (`view_audit`) | ✓ | | | | | | ✓ | | | ✓ |
//! | export the audit log (`export_audit`) | ✓ | | | | | | ✓ | | | |
//! | request approvals from the dashboard (`request_approvals`) | ✓ | | | | | ✓ | ✓ | ✓ | ✓ | |
//! | decide approvals; the request's kind also names its approver role, never one's own (`decide_approvals`) | ✓ | | | | | ✓ | ✓ | ✓ | ✓ | |
//! | read shift handovers and the morning checklist (`view_handover`) | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | write, submit and acknowledge handovers; check checklist items (`write_handover`) | ✓ | ✓ | | | | ✓ | | | | |
//! | approve or decline return and refund requests from the refunds queue (`decide_returns`) | ✓ | ✓ | ✓ | | | ✓ | ✓ | | | |
//! | any other change: settings, writes no route gives a narrower permission (`change_settings`) | ✓ | | | | | | | | | |
//!
//! The playbook's flows give its leads what they run: the regional lead
//! declares and runs incidents and switches the freezes (the playbook's
//! "high: regional lead" response and its freeze switches); every lead
//! sends changes for approval, and the leads the playbook names as
//! approvers (finance: price changes and refunds; regional: discounts;
//! product: new products; content: content updates) decide them; the
//! request's kind still names the one role that decides it. Money only
//! where the playbook's role reads money: the regional and finance leads,
//! not the product or content leads. Of the original five, incidents,
//! flags and approvals stay admin's.
//!
//! The last five are the operations playbook's (issue 14): a regional lead
//! runs a region's day like ops; the finance lead reads money and the
//! audit trail; the product and content leads work the catalog without
//! money; a reviewer reads the audit trail. Admin has every permission,
//! including any added later, so a new one is never out of everyone's reach.
//!
//! Revenue: roles without it are refused the revenue-only routes (which
//! declare `ViewRevenue`); every other route gives them its answer without
//! amounts. Ops see revenue because the sales pulse they act on is a
//! revenue signal.

use opsdeck_store::Role;

/// What a role may do. See the table in the module documentation; its
/// configuration name is the variant's in `snake_case` ([`Permission::name`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    ViewDashboard,
    ViewRevenue,
    ActOnAlerts,
    RecordDecisions,
    /// Declare incidents, move them along, write updates and postmortems,
    /// set component statuses (reading them needs only `ViewDashboard`).
    ManageIncidents,
    RefreshSync,
    ManageUsers,
    ManageTokens,
    ViewAudit,
    ExportAudit,
    /// Send a change for approval from the dashboard. Admins only until
    /// roles are configuration (issue 14 point 7).
    RequestApprovals,
    /// Approve or reject; the request's kind also names the one role that
    /// decides it. Admins only until roles are configuration.
    DecideApprovals,
    /// Switch the freeze flags, the sales pause and the maintenance banner
    /// (issue 14). Admins only until roles are configuration; the regional
    /// leads and the founder are the people meant to hold it.
    ChangeFlags,
    /// Read shift handover notes and the morning checklist: everyone who
    /// reads the dashboard (they carry no money).
    ViewHandover,
    /// Start, edit, submit and acknowledge handover notes and check the
    /// morning checklist's items: the people who run a region's shifts.
    WriteHandover,
    /// Approve or decline a return or refund request from the refunds
    /// queue: the people who answer customers (ops, support) and the
    /// playbook's regional and finance leads. A refund over the approval
    /// threshold still waits for its approver.
    DecideReturns,
    /// Every change not given a narrower permission: admins only, so a new
    /// write route is closed until someone decides who may use it.
    ChangeSettings,
}

impl Permission {
    pub const ALL: [Permission; 17] = [
        Permission::ViewDashboard,
        Permission::ViewRevenue,
        Permission::ActOnAlerts,
        Permission::RecordDecisions,
        Permission::ManageIncidents,
        Permission::RefreshSync,
        Permission::ManageUsers,
        Permission::ManageTokens,
        Permission::ViewAudit,
        Permission::ExportAudit,
        Permission::RequestApprovals,
        Permission::DecideApprovals,
        Permission::ChangeFlags,
        Permission::ViewHandover,
        Permission::WriteHandover,
        Permission::DecideReturns,
        Permission::ChangeSettings,
    ];
}

impl Permission {
    /// The name configuration uses (`view_revenue`): the variant's name in
    /// `snake_case`, derived so a variant added to the enum has its name
    /// without a second list to keep in step.
    pub fn name(self) -> String {
        let mut out = String::new();
        for (i, c) in format!("{self:?}").chars().enumerate() {
            if c.is_ascii_uppercase() {
                if i > 0 {
                    out.push('_');
                }
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
        }
        out
    }

    /// The permission configuration names `name`; the error lists them all.
    pub fn parse(name: &str) -> Result<Permission, String> {
        Permission::ALL
            .into_iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| {
                let all: Vec<String> = Permission::ALL.iter().map(|p| p.name()).collect();
                format!("unknown permission {name:?}: use one of {}", all.join(", "))
            })
    }
}

/// The built-in roles' permissions: the defaults of the configured matrix
/// (`crate::roles::Roles`, which every request asks). `false` for a role
/// that is not built in.
pub fn builtin_allows(role: Role, permission: Permission) -> bool {
    use crate::roles::builtin::*;
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::Ops => matches!(
            permission,
            ViewDashboard
                | ViewRevenue
                | ActOnAlerts
                | RecordDecisions
                | RefreshSync
                | ViewHandover
                | WriteHandover
                | DecideReturns
        ),
        Role::Support => matches!(
            permission,
            ViewDashboard | RefreshSync | ViewHandover | DecideReturns
        ),
        Role::Finance => matches!(permission, ViewDashboard | ViewRevenue | ViewHandover),
        Role::Viewer => matches!(permission, ViewDashboard | ViewHandover),
        REGIONAL_LEAD => matches!(
            permission,
            ViewDashboard
                | ViewRevenue
                | ActOnAlerts
                | RecordDecisions
                | ManageIncidents
                | RefreshSync
                | RequestApprovals
                | DecideApprovals
                | ChangeFlags
                | ViewHandover
                | WriteHandover
                | DecideReturns
        ),
        FINANCE_LEAD => matches!(
            permission,
            ViewDashboard
                | ViewRevenue
                | ViewAudit
                | ExportAudit
                | RequestApprovals
                | DecideApprovals
                | ViewHandover
                | DecideReturns
        ),
        PRODUCT_LEAD => matches!(
            permission,
            ViewDashboard
                | ActOnAlerts
                | RefreshSync
                | RequestApprovals
                | DecideApprovals
                | ViewHandover
        ),
        CONTENT_LEAD => matches!(
            permission,
            ViewDashboard | RefreshSync | RequestApprovals | DecideApprovals | ViewHandover
        ),
        REVIEWER => matches!(permission, ViewDashboard | ViewAudit | ViewHandover),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_rows_match_the_documented_table() {
        let who = |p: Permission| -> Vec<String> {
            Role::ALL
                .into_iter()
                .filter(|r| builtin_allows(*r, p))
                .map(|r| r.to_string())
                .collect()
        };
        use Permission::*;
        assert_eq!(
            who(ViewDashboard),
            ["admin", "ops", "support", "finance", "viewer"]
        );
        assert_eq!(who(ViewRevenue), ["admin", "ops", "finance"]);
        assert_eq!(who(ActOnAlerts), ["admin", "ops"]);
        assert_eq!(who(RecordDecisions), ["admin", "ops"]);
        assert_eq!(who(RefreshSync), ["admin", "ops", "support"]);
        assert_eq!(who(ViewHandover), who(ViewDashboard));
        assert_eq!(who(WriteHandover), ["admin", "ops"]);
        assert_eq!(who(DecideReturns), ["admin", "ops", "support"]);
        assert!(builtin_allows(
            crate::roles::builtin::REGIONAL_LEAD,
            WriteHandover
        ));
        assert!(!builtin_allows(
            crate::roles::builtin::REVIEWER,
            WriteHandover
        ));
        for p in [
            ManageIncidents,
            ManageUsers,
            ManageTokens,
            ViewAudit,
            ExportAudit,
            RequestApprovals,
            DecideApprovals,
            ChangeFlags,
            ChangeSettings,
        ] {
            assert_eq!(who(p), ["admin"], "{p:?}");
        }
    }

    /// The playbook roles' rows of the table, checked like the original
    /// five's: a grant added or dropped without the table fails here.
    #[test]
    fn playbook_rows_match_the_documented_table() {
        use crate::roles::builtin::*;
        let who = |p: Permission| -> Vec<String> {
            crate::roles::builtin::ALL[5..]
                .iter()
                .filter(|r| builtin_allows(**r, p))
                .map(|r| r.to_string())
                .collect()
        };
        use Permission::*;
        let all = [
            REGIONAL_LEAD,
            FINANCE_LEAD,
            PRODUCT_LEAD,
            CONTENT_LEAD,
            REVIEWER,
        ]
        .map(|r| r.to_string());
        assert_eq!(who(ViewDashboard), all);
        assert_eq!(who(ViewRevenue), ["regional_lead", "finance_lead"]);
        assert_eq!(who(ActOnAlerts), ["regional_lead", "product_lead"]);
        assert_eq!(who(RecordDecisions), ["regional_lead"]);
        assert_eq!(who(ManageIncidents), ["regional_lead"]);
        assert_eq!(who(ChangeFlags), ["regional_lead"]);
        assert_eq!(
            who(RefreshSync),
            ["regional_lead", "product_lead", "content_lead"]
        );
        let leads = [
            "regional_lead",
            "finance_lead",
            "product_lead",
            "content_lead",
        ];
        assert_eq!(who(RequestApprovals), leads);
        assert_eq!(who(DecideApprovals), leads);
        assert_eq!(who(ViewAudit), ["finance_lead", "reviewer"]);
        assert_eq!(who(ExportAudit), ["finance_lead"]);
        assert_eq!(who(DecideReturns), ["regional_lead", "finance_lead"]);
        for p in [ManageUsers, ManageTokens, ChangeSettings] {
            assert!(who(p).is_empty(), "{p:?}");
        }
    }

    #[test]
    fn permission_names_are_snake_case_and_parse_back() {
        assert_eq!(Permission::ViewRevenue.name(), "view_revenue");
        assert_eq!(Permission::ChangeSettings.name(), "change_settings");
        for p in Permission::ALL {
            assert_eq!(Permission::parse(&p.name()), Ok(p));
        }
        let err = Permission::parse("see_money").unwrap_err();
        assert!(
            err.contains("\"see_money\"") && err.contains("view_revenue"),
            "{err}"
        );
    }
}
