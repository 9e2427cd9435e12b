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
//! | trigger a sync refresh | ✓ | ✓ | ✓ | | |
//! | manage users | ✓ | | | | |
//! | manage API tokens and storefront keys | ✓ | | | | |
//! | switch freeze flags, the sales pause and the maintenance banner | ✓ | | | | |
//! | view and export the audit log | ✓ | | | | |
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
    RefreshSync,
    ManageUsers,
    ManageTokens,
    ViewAudit,
    ExportAudit,
    /// Switch the freeze flags, the sales pause and the maintenance banner
    /// (issue 14). Admins only until roles are configuration; the regional
    /// leads and the founder are the people meant to hold it.
    ChangeFlags,
    /// Every change not given a narrower permission: admins only, so a new
    /// write route is closed until someone decides who may use it.
    ChangeSettings,
}

impl Permission {
    pub const ALL: [Permission; 11] = [
        Permission::ViewDashboard,
        Permission::ViewRevenue,
        Permission::ActOnAlerts,
        Permission::RecordDecisions,
        Permission::RefreshSync,
        Permission::ManageUsers,
        Permission::ManageTokens,
        Permission::ViewAudit,
        Permission::ExportAudit,
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
            ManageUsers,
            ManageTokens,
            ViewAudit,
            ExportAudit,
            ChangeFlags,
            ChangeSettings,
        ] {
            assert_eq!(who(p), ["admin"], "{p:?}");
        }
    }
}
