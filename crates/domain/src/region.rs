//! A region of the merchant's operations (the playbook's EU, UK, US, UAE):
//! the brands and the countries it covers, its currency and time zone, and
//! the people who lead it. A region is a filter wherever a brand filter is
//! (it stands for its brands) and the unit the morning checklist and the
//! handover are written for.

use crate::{BrandId, Currency, RegionId};

/// A region as configured (`[regions.ID]`). A brand and a country belong to
/// at most one region, so a filter and a lead are never ambiguous.
#[derive(Debug, Clone, PartialEq)]
pub struct Region {
    pub id: RegionId,
    /// Name shown on screen, e.g. "European Union".
    pub name: String,
    /// The currency the region's team thinks in; totals across brands
    /// still follow the reporting currency and its rates.
    pub currency: Currency,
    /// The time zone the region's day (checklist, handover) runs in.
    pub time_zone: jiff::tz::TimeZone,
    /// The brands the region stands for as a filter.
    pub brands: Vec<BrandId>,
    /// ISO 3166-1 alpha-2 codes of the countries it sells to (`DE`, `FR`).
    pub countries: Vec<String>,
    /// Usernames of the region's leads: who its checklist and escalations
    /// go to.
    pub leads: Vec<String>,
}

impl Region {
    /// The time zone's IANA name, e.g. `Europe/Berlin`.
    pub fn time_zone_name(&self) -> &str {
        self.time_zone.iana_name().unwrap_or("UTC")
    }

    /// Whether `brand` is one of the region's.
    pub fn has_brand(&self, brand: &BrandId) -> bool {
        self.brands.contains(brand)
    }
}
