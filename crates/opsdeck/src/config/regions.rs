//! `[regions.ID]` and `[roles.NAME]`: the operations playbook's regions
//! (brands and countries grouped under a currency, a time zone and leads)
//! and roles as configuration over permissions.
//!
//! ```toml
//! [regions.eu]
//! name = "European Union"
//! currency = "EUR"
//! time_zone = "Europe/Berlin"
//! brands = ["mavena"]
//! countries = ["DE", "FR", "IT"]
//! leads = ["lena"]
//!
//! [roles.night_desk]
//! permissions = ["view_dashboard", "act_on_alerts"]
//! ```
//!
//! A brand and a country belong to at most one region. A role section
//! adds a role or redefines a built-in one (not `admin`); its permissions
//! are the names in `opsdeck_accounts::permission`. That every user's role
//! and every lead exist is checked at start-up, against the stored users.

use super::walk::Section;
use jiff::tz::TimeZone;
use opsdeck_accounts::{Permission, RoleGrant, Roles};
use opsdeck_domain::{Brand, BrandId, Region, RegionId};
use opsdeck_store::{validate_username, Role};
use std::collections::BTreeMap;

pub(super) fn parse_regions(root: &Section<'_, '_>, brands: &[Brand]) -> Vec<Region> {
    let Some(s) = root.opt_table("regions") else {
        return Vec::new();
    };
    let mut regions: Vec<Region> = Vec::new();
    let mut brand_region: BTreeMap<BrandId, RegionId> = BTreeMap::new();
    let mut country_region: BTreeMap<String, RegionId> = BTreeMap::new();
    for (key, item) in s.entries() {
        let Some(r) = s.entry_table(key, item) else {
            continue;
        };
        let id = match RegionId::parse(key) {
            Ok(id) => Some(id),
            Err(e) => {
                s.problem(key, e.to_string());
                None
            }
        };
        let name = r.req_str("name");
        let currency = r
            .req_str("currency")
            .and_then(|c| super::parse::currency(&r, "currency", c));
        let time_zone = r
            .req_str("time_zone")
            .and_then(|tz| match TimeZone::get(tz) {
                Ok(zone) => Some(zone),
                Err(_) => {
                    r.problem(
                        "time_zone",
                        format!(
                            "unknown time zone {tz:?}: use an IANA name like \"Europe/Berlin\""
                        ),
                    );
                    None
                }
            });
        let mut region_brands = Vec::new();
        for b in r.opt_str_list("brands").unwrap_or_default() {
            let Some(brand) = brands.iter().find(|x| x.id.as_str() == b) else {
                let known: Vec<&str> = brands.iter().map(|x| x.id.as_str()).collect();
                r.problem(
                    "brands",
                    format!("unknown brand {b:?}: the brands are {}", known.join(", ")),
                );
                continue;
            };
            if let Some(other) = brand_region.get(&brand.id) {
                r.problem(
                    "brands",
                    format!(
                        "brand {b:?} is already in region {other:?}: a brand belongs to one region"
                    ),
                );
                continue;
            }
            if let Some(id) = &id {
                brand_region.insert(brand.id.clone(), id.clone());
            }
            region_brands.push(brand.id.clone());
        }
        let mut countries = Vec::new();
        for c in r.opt_str_list("countries").unwrap_or_default() {
            if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
                r.problem(
                    "countries",
                    format!("{c:?} is not a country code (two capital letters, ISO 3166, like DE)"),
                );
                continue;
            }
            if let Some(other) = country_region.get(c) {
                r.problem(
                    "countries",
                    format!("country {c} is already in region {other:?}: a country belongs to one region"),
                );
                continue;
            }
            if let Some(id) = &id {
                country_region.insert(c.to_string(), id.clone());
            }
            countries.push(c.to_string());
        }
        let mut leads = Vec::new();
        for l in r.opt_str_list("leads").unwrap_or_default() {
            match validate_username(l) {
                Ok(()) => leads.push(l.to_string()),
                Err(e) => r.problem("leads", e),
            }
        }
        r.finish();
        if let (Some(id), Some(name), Some(currency), Some(time_zone)) =
            (id, name, currency, time_zone)
        {
            regions.push(Region {
                id,
                name: name.to_string(),
                currency,
                time_zone,
                brands: region_brands,
                countries,
                leads,
            });
        }
    }
    regions
}

pub(super) fn parse_roles(root: &Section<'_, '_>) -> Roles {
    let mut roles = Roles::default();
    let Some(s) = root.opt_table("roles") else {
        return roles;
    };
    for (key, item) in s.entries() {
        let Some(r) = s.entry_table(key, item) else {
            continue;
        };
        let role = match Role::parse(key) {
            Ok(role) => Some(role),
            Err(e) => {
                s.problem(key, e);
                None
            }
        };
        let permissions = match r.opt_str_list("permissions") {
            Some(list) => {
                let mut out = Vec::new();
                for name in list {
                    match Permission::parse(name) {
                        Ok(p) => out.push(p),
                        Err(e) => r.problem("permissions", e),
                    }
                }
                Some(out)
            }
            None => {
                if !r.has_key("permissions") {
                    r.section_problem(
                        "permissions",
                        "is required (the permissions the role has, like [\"view_dashboard\"])",
                    );
                }
                None
            }
        };
        r.finish();
        if let (Some(role), Some(permissions)) = (role, permissions) {
            if let Err(e) = roles.set(role, RoleGrant::of(permissions)) {
                s.problem(key, e);
            }
        }
    }
    roles
}
