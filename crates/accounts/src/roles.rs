//! Roles as configuration: the matrix every request asks ([`Roles::allows`]),
//! made of the built-in roles' defaults ([`crate::permission::builtin_allows`])
//! and the `[roles.NAME]` sections, which add roles or redefine a built-in
//! one over the same [`Permission`]s.
//!
//! A role may be scoped to some brands (the configuration names brands or
//! regions; the binary expands regions to their brands): a scoped person
//! sees only those brands wherever a brand filter applies.
//!
//! `admin` cannot be redefined: it holds every permission, including any
//! added later, so no permission is ever out of everyone's reach and
//! someone can always manage users.

use crate::permission::{builtin_allows, Permission};
use opsdeck_domain::BrandId;
use opsdeck_store::Role;
use std::collections::BTreeMap;

/// The playbook's roles (issue 14), built in beside the original five.
pub mod builtin {
    use opsdeck_store::Role;

    /// Runs a region's day: alerts, decisions, refreshes, revenue.
    pub const REGIONAL_LEAD: Role = Role::constant("regional_lead");
    /// Reads money and the audit trail.
    pub const FINANCE_LEAD: Role = Role::constant("finance_lead");
    /// Works the catalog and stock alerts, without money.
    pub const PRODUCT_LEAD: Role = Role::constant("product_lead");
    /// Works the content, without money.
    pub const CONTENT_LEAD: Role = Role::constant("content_lead");
    /// Reads the audit trail.
    pub const REVIEWER: Role = Role::constant("reviewer");

    /// Every built-in role: the original five, then the playbook's.
    pub const ALL: [Role; 10] = [
        Role::Admin,
        Role::Ops,
        Role::Support,
        Role::Finance,
        Role::Viewer,
        REGIONAL_LEAD,
        FINANCE_LEAD,
        PRODUCT_LEAD,
        CONTENT_LEAD,
        REVIEWER,
    ];
}

/// What one role may do, and over which brands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleGrant {
    /// In [`Permission::ALL`] order, without repeats.
    pub permissions: Vec<Permission>,
    /// The only brands the role sees; `None` for every brand.
    pub brands: Option<Vec<BrandId>>,
}

impl RoleGrant {
    /// A grant of `permissions` over every brand (order and repeats do not
    /// matter).
    pub fn of(permissions: impl IntoIterator<Item = Permission>) -> RoleGrant {
        let given: Vec<Permission> = permissions.into_iter().collect();
        RoleGrant {
            permissions: Permission::ALL
                .into_iter()
                .filter(|p| given.contains(p))
                .collect(),
            brands: None,
        }
    }

    /// Limits the grant to `brands`.
    pub fn scoped(mut self, brands: Vec<BrandId>) -> RoleGrant {
        self.brands = Some(brands);
        self
    }

    /// The brands the grant sees, as the one type every read asks.
    pub fn scope(&self) -> BrandScope {
        match &self.brands {
            None => BrandScope::Every,
            Some(brands) => BrandScope::Only(brands.clone()),
        }
    }
}

/// Which brands a person sees: every brand, or only some (their role's
/// `brands`, regions expanded). Every brand-filtered read intersects its
/// filter with this, so a scoped person never sees another brand's
/// alerts, orders, tickets or incidents, and asking for one by name is
/// refused, naming it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BrandScope {
    Every,
    Only(Vec<BrandId>),
}

impl BrandScope {
    /// No brand at all: what a request outside any signed-in person's
    /// scope sees, so a read that forgot to set one shows nothing rather
    /// than everything.
    pub fn nothing() -> BrandScope {
        BrandScope::Only(Vec::new())
    }

    /// Whether `brand` (an id) is seen.
    pub fn sees(&self, brand: &str) -> bool {
        match self {
            BrandScope::Every => true,
            BrandScope::Only(brands) => brands.iter().any(|b| b.as_str() == brand),
        }
    }

    /// Whether every brand is seen.
    pub fn is_every(&self) -> bool {
        matches!(self, BrandScope::Every)
    }
}

/// The role → permission matrix as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Roles {
    grants: BTreeMap<Role, RoleGrant>,
}

impl Default for Roles {
    /// The built-in roles only.
    fn default() -> Self {
        let grants = builtin::ALL
            .into_iter()
            .map(|role| {
                let permissions = Permission::ALL
                    .into_iter()
                    .filter(|p| builtin_allows(role, *p));
                (role, RoleGrant::of(permissions))
            })
            .collect();
        Roles { grants }
    }
}

impl Roles {
    /// Adds `role`, or redefines a built-in one; `admin` is refused (see
    /// the module documentation).
    pub fn set(&mut self, role: Role, grant: RoleGrant) -> Result<(), String> {
        if role == Role::Admin {
            return Err(
                "the admin role cannot be redefined: it holds every permission, \
                 so someone can always manage users; define a new role instead"
                    .into(),
            );
        }
        self.grants.insert(role, grant);
        Ok(())
    }

    /// Whether `role` has `permission`: the one lookup every route's guard,
    /// every page's nav and every "show money?" decision makes. An unknown
    /// role has nothing.
    pub fn allows(&self, role: Role, permission: Permission) -> bool {
        if role == Role::Admin {
            return true;
        }
        self.grants
            .get(&role)
            .is_some_and(|g| g.permissions.contains(&permission))
    }

    /// The brands `role` sees; nothing for a role that is not configured.
    pub fn scope(&self, role: Role) -> BrandScope {
        if role == Role::Admin {
            return BrandScope::Every;
        }
        self.grants
            .get(&role)
            .map_or_else(BrandScope::nothing, RoleGrant::scope)
    }

    /// What `role` may do, `None` when no such role is configured.
    pub fn grant(&self, role: Role) -> Option<&RoleGrant> {
        self.grants.get(&role)
    }

    /// Every role, by name.
    pub fn roles(&self) -> impl Iterator<Item = Role> + '_ {
        self.grants.keys().copied()
    }

    /// Checks that every user's role exists, so a role removed from (or
    /// misspelt in) the configuration stops start-up instead of silently
    /// locking its people out. The error names each user and role.
    pub fn check_users<'a>(
        &self,
        users: impl IntoIterator<Item = (&'a str, Role)>,
    ) -> Result<(), String> {
        let unknown: Vec<String> = users
            .into_iter()
            .filter(|(_, role)| !self.grants.contains_key(role))
            .map(|(user, role)| format!("user {user:?} has role {:?}", role.as_str()))
            .collect();
        if unknown.is_empty() {
            return Ok(());
        }
        let known: Vec<&str> = self.grants.keys().map(|r| r.as_str()).collect();
        Err(format!(
            "unknown role: {}; the configured roles are {} (add a [roles.NAME] section \
             or change the user's role)",
            unknown.join(", "),
            known.join(", ")
        ))
    }

    /// Checks a role about to be given to someone; the error lists the
    /// configured roles.
    pub fn check_role(&self, role: Role) -> Result<(), String> {
        if self.grants.contains_key(&role) {
            return Ok(());
        }
        let known: Vec<&str> = self.grants.keys().map(|r| r.as_str()).collect();
        Err(format!(
            "unknown role {:?}: use one of {}",
            role.as_str(),
            known.join(", ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::builtin::*;
    use super::*;

    #[test]
    fn the_original_five_keep_their_permissions() {
        let roles = Roles::default();
        for role in Role::ALL {
            for p in Permission::ALL {
                assert_eq!(
                    roles.allows(role, p),
                    builtin_allows(role, p),
                    "{role} {p:?}"
                );
            }
        }
        assert!(!roles.allows(Role::Viewer, Permission::ViewRevenue));
        assert!(roles.allows(Role::Finance, Permission::ViewRevenue));
    }

    #[test]
    fn the_playbook_roles_are_built_in() {
        let roles = Roles::default();
        assert!(roles.allows(REGIONAL_LEAD, Permission::ActOnAlerts));
        assert!(roles.allows(FINANCE_LEAD, Permission::ViewRevenue));
        assert!(!roles.allows(PRODUCT_LEAD, Permission::ViewRevenue));
        assert!(!roles.allows(CONTENT_LEAD, Permission::ViewRevenue));
        assert!(roles.allows(REVIEWER, Permission::ViewAudit));
        assert!(!roles.allows(REVIEWER, Permission::ManageUsers));
    }

    #[test]
    fn a_configured_role_has_exactly_its_permissions_and_admin_stays_whole() {
        let mut roles = Roles::default();
        let night = Role::parse("night_desk").unwrap();
        assert!(!roles.allows(night, Permission::ViewDashboard));
        roles
            .set(
                night,
                RoleGrant::of([Permission::ActOnAlerts, Permission::ViewDashboard]),
            )
            .unwrap();
        assert!(roles.allows(night, Permission::ActOnAlerts));
        assert!(!roles.allows(night, Permission::ViewRevenue));
        roles
            .set(
                Role::Viewer,
                RoleGrant::of([Permission::ViewDashboard, Permission::ViewRevenue]),
            )
            .unwrap();
        assert!(roles.allows(Role::Viewer, Permission::ViewRevenue));
        let err = roles.set(Role::Admin, RoleGrant::of([])).unwrap_err();
        assert!(err.contains("admin"), "{err}");
        assert!(Permission::ALL
            .iter()
            .all(|p| roles.allows(Role::Admin, *p)));
    }

    #[test]
    fn a_scoped_role_sees_its_brands_only_and_others_see_all() {
        let mut roles = Roles::default();
        let eu = Role::parse("eu_lead").unwrap();
        let mavena = BrandId::parse("mavena").unwrap();
        roles
            .set(
                eu,
                RoleGrant::of([Permission::ViewDashboard]).scoped(vec![mavena]),
            )
            .unwrap();
        let scope = roles.scope(eu);
        assert!(scope.sees("mavena") && !scope.sees("kumo") && !scope.is_every());
        assert!(roles.scope(REGIONAL_LEAD).is_every());
        assert!(roles.scope(Role::Admin).is_every());
        let ghost = Role::parse("night_desk").unwrap();
        assert!(
            !roles.scope(ghost).sees("mavena"),
            "unknown role sees nothing"
        );
    }

    #[test]
    fn an_unknown_role_on_a_user_is_named_with_the_user() {
        let roles = Roles::default();
        let ghost = Role::parse("night_desk").unwrap();
        assert!(roles
            .check_users([("anna", Role::Ops), ("lea", REVIEWER)])
            .is_ok());
        let err = roles
            .check_users([("anna", Role::Ops), ("bob", ghost)])
            .unwrap_err();
        assert!(
            err.contains("\"bob\"") && err.contains("\"night_desk\"") && !err.contains("anna"),
            "{err}"
        );
        assert!(err.contains("regional_lead"), "{err}");
    }
}
