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
//!
//! [roles.eu_lead]
//! permissions = ["view_dashboard", "act_on_alerts"]
//! regions = ["eu"]          # and/or brands = ["mavena"]
//! ```
//!
//! A brand and a country belong to at most one region. A role section
//! adds a role or redefines a built-in one (not `admin`); its permissions
//! are the names in `opsdeck_accounts::permission`. `brands` and
//! `regions` limit the role to those brands (a region stands for its
//! brands, expanded here so the web knows brands only); without either
//! the role sees every brand. That every user's role
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

pub(super) fn parse_roles(root: &Section<'_, '_>, brands: &[Brand], regions: &[Region]) -> Roles {
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
        let scope = role_scope(&r, brands, regions);
        r.finish();
        if let (Some(role), Some(permissions)) = (role, permissions) {
            let grant = match scope {
                Some(only) => RoleGrant::of(permissions).scoped(only),
                None => RoleGrant::of(permissions),
            };
            if let Err(e) = roles.set(role, grant) {
                s.problem(key, e);
            }
        }
    }
    roles
}

/// The brands a role section limits the role to (`brands`, and the
/// brands of its `regions`), in configuration order; `None` when it names
/// neither (every brand). An unknown brand or region is a problem naming
/// it and the known ones; a region without brands would make the role see
/// nothing, so it is refused too.
fn role_scope(r: &Section<'_, '_>, brands: &[Brand], regions: &[Region]) -> Option<Vec<BrandId>> {
    let named_brands = r.opt_str_list("brands");
    let named_regions = r.opt_str_list("regions");
    if named_brands.is_none() && named_regions.is_none() {
        return None;
    }
    let mut chosen: Vec<BrandId> = Vec::new();
    for b in named_brands.unwrap_or_default() {
        match brands.iter().find(|x| x.id.as_str() == b) {
            Some(brand) => chosen.push(brand.id.clone()),
            None => {
                let known: Vec<&str> = brands.iter().map(|x| x.id.as_str()).collect();
                r.problem(
                    "brands",
                    format!("unknown brand {b:?}: the brands are {}", known.join(", ")),
                );
            }
        }
    }
    for name in named_regions.unwrap_or_default() {
        match regions.iter().find(|x| x.id.as_str() == name) {
            Some(region) if region.brands.is_empty() => r.problem(
                "regions",
                format!("region {name:?} has no brands, so the role would see nothing"),
            ),
            Some(region) => chosen.extend(region.brands.iter().cloned()),
            None => {
                let known: Vec<&str> = regions.iter().map(|x| x.id.as_str()).collect();
                r.problem(
                    "regions",
                    if known.is_empty() {
                        format!("unknown region {name:?}: no [regions.ID] are configured")
                    } else {
                        format!(
                            "unknown region {name:?}: the regions are {}",
                            known.join(", ")
                        )
                    },
                );
            }
        }
    }
    // Configuration order, without repeats.
    Some(
        brands
            .iter()
            .filter(|b| chosen.contains(&b.id))
            .map(|b| b.id.clone())
            .collect(),
    )
}
