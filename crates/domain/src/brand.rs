//! A brand: one storefront the merchant runs, with the time zone its days are
//! counted in and the thresholds its alerts and flags use.

use crate::{BrandId, Currency};
use serde::{Deserialize, Serialize};

open_enum! {
    /// How the brand sells; it changes defaults (a dropship brand tolerates
    /// slower fulfillment) and which panels matter (subscription split).
    pub enum BrandKind {
        Standard = "standard",
        Subscription = "subscription",
        Dropship = "dropship",
    }
}

/// Per-brand limits. Every number has a default by [`BrandKind`] and can be
/// overridden in configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// An unfulfilled order older than this many days is stale
    /// (3 by default, 5 for dropship brands).
    pub stale_after_days: u32,
    /// A tracked variant at or below this quantity is low stock.
    pub low_stock: i64,
    /// A tracked variant at or below this quantity is critical (4 by
    /// default: the operations playbook's "fewer than 5").
    pub critical_stock: i64,
    /// A tracked variant above this quantity is overstock, to review
    /// against demand (the playbook's "high" tier, above 50 by default).
    #[serde(default = "default_high_stock")]
    pub high_stock: i64,
    /// Promised delivery time, used for on-time rate when a shipment has no
    /// estimated delivery date.
    pub delivery_sla_days: u32,
}

/// Brands serialized before the overstock level existed read the default.
fn default_high_stock() -> i64 {
    50
}

impl Thresholds {
    pub fn defaults_for(kind: &BrandKind) -> Self {
        Thresholds {
            stale_after_days: if *kind == BrandKind::Dropship { 5 } else { 3 },
            low_stock: 10,
            critical_stock: 4,
            high_stock: default_high_stock(),
            delivery_sla_days: if *kind == BrandKind::Dropship { 14 } else { 7 },
        }
    }
}

/// A brand as configured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Brand {
    pub id: BrandId,
    /// Name shown on screen, e.g. "Mavena".
    pub name: String,
    pub kind: BrandKind,
    /// IANA time zone in which "today", "this week" and "this month" are counted.
    #[serde(with = "tz_serde")]
    pub time_zone: jiff::tz::TimeZone,
    pub currency: Currency,
    /// A brand that has not launched is shown greyed, with no numbers.
    pub launched: bool,
    pub thresholds: Thresholds,
}

impl Brand {
    /// The time zone's IANA name, e.g. `America/New_York`.
    pub fn time_zone_name(&self) -> &str {
        self.time_zone.iana_name().unwrap_or("UTC")
    }
}

mod tz_serde {
    use jiff::tz::TimeZone;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(tz: &TimeZone, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(tz.iana_name().unwrap_or("UTC"))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<TimeZone, D::Error> {
        let name = String::deserialize(d)?;
        TimeZone::get(&name).map_err(serde::de::Error::custom)
    }
}
