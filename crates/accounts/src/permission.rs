//! What each role may do: the [`Permission`]s and the role → permission
//! matrix ([`allows`]). Routes declare the permission they need, the web's
//! guard asks [`allows`], and whether amounts of money are shown follows
//! [`Permission::ViewRevenue`].
//!
//! # Permission matrix
//!
//! | permission | admin | ops | support | finance | viewer |
//! |---|---|---|---|---|---|
//! | view the dashboard and panels (no money) | ✓ | ✓ | ✓ | ✓ | ✓ |
//! | view revenue (order volume, sales, sales pulse, combined dashboard API) | ✓ | ✓ | | ✓ | |
//! | acknowledge / resolve / silence alerts | ✓ | ✓ | | | |
//! | record sales-pulse decisions | ✓ | ✓ | | | |
//! | declare and run incidents, set component statuses | ✓ | | | | |
//! | trigger a sync refresh | ✓ | ✓ | ✓ | | |
//! | manage users | ✓ | | | | |
//! | manage API tokens and storefront keys | ✓ | | | | |
//! | switch freeze flags, the sales pause and the maintenance banner | ✓ | | | | |
//! | view and export the audit log | ✓ | | | | |
//! | request approvals from the dashboard | ✓ | | | | |
//! | decide approvals (also: the request's approver role, never one's own) | ✓ | | | | |
//! | any other change (settings; writes no route gives a narrower permission) | ✓ | | | | |
//!
//! Revenue: roles without it are refused the revenue-only routes (which
//! declare `ViewRevenue`); every other route gives them its answer without
//! amounts. Ops see revenue because the sales pulse they act on is a
//! revenue signal.

use opsdeck_store::Role;

/// What a role may do. See the matrix in the module documentation.
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
    /// Every change not given a narrower permission: admins only, so a new
    /// write route is closed until someone decides who may use it.
    ChangeSettings,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
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
        Permission::ChangeSettings,
    ];
}

/// The permission matrix, as code: whether `role` has `permission`.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Permission::*;
    match role {
        Role::Admin => true,
        Role::Ops => matches!(
            permission,
            ViewDashboard | ViewRevenue | ActOnAlerts | RecordDecisions | RefreshSync
        ),
        Role::Support => matches!(permission, ViewDashboard | RefreshSync),
        Role::Finance => matches!(permission, ViewDashboard | ViewRevenue),
        Role::Viewer => matches!(permission, ViewDashboard),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_rows_match_the_documented_table() {
        let who = |p: Permission| -> Vec<&str> {
            Role::ALL
                .into_iter()
                .filter(|r| allows(*r, p))
                .map(Role::as_str)
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
}
