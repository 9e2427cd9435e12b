//! The four brands of the first merchant: who they are and how their shops behave.

/// How one brand's shop behaves; the generator and the lifecycle read only this.
pub(crate) struct Profile {
    pub brand_id: &'static str,
    pub name: &'static str,
    pub currency: &'static str,
    pub time_zone: &'static str,
    pub kind: &'static str,
    pub launched: bool,
    /// Orders over the history at scale 1.0.
    pub target_orders: u32,
    /// Products in the catalog (not scaled).
    pub products: usize,
    /// How many months of history exist before `now`.
    pub history_months: i64,
    /// Order rate at the end of the history relative to its start.
    pub growth: f64,
    /// Weekday multipliers, Monday first.
    pub weekly: [f64; 7],
    /// Typical hours from order to first shipment (median) and the spread factor.
    pub fulfil_median_hours: f64,
    pub fulfil_spread: f64,
    /// Share of orders nobody ships for a long time (supplier problems, missing stock).
    pub stuck_share: f64,
    /// Share of orders that ship in two parts.
    pub split_share: f64,
    /// Shopify's "automatically archive the order" setting: fulfilled orders get `closed_at`.
    pub auto_archive: bool,
    /// Share of orders from a customer seen before (non-subscription).
    pub returning_share: f64,
    /// Distinguishes the id ranges of the shops.
    pub id_salt: u64,
}

pub(crate) const PROFILES: [Profile; 4] = [
    Profile {
        brand_id: "plentum",
        name: "Plentum",
        currency: "USD",
        time_zone: "America/New_York",
        kind: "subscription",
        launched: true,
        target_orders: 1061,
        products: 3,
        history_months: 8,
        growth: 1.35,
        weekly: [1.05, 1.0, 1.0, 1.0, 0.95, 0.9, 1.1],
        fulfil_median_hours: 20.0,
        fulfil_spread: 0.7,
        stuck_share: 0.02,
        split_share: 0.03,
        auto_archive: true,
        returning_share: 0.2,
        id_salt: 1,
    },
    Profile {
        brand_id: "mavena",
        name: "Mavena",
        currency: "USD",
        time_zone: "America/Los_Angeles",
        kind: "dropship",
        launched: true,
        target_orders: 4452,
        products: 146,
        history_months: 8,
        growth: 1.8,
        weekly: [0.95, 0.95, 0.95, 1.0, 1.0, 1.1, 1.2],
        fulfil_median_hours: 80.0,
        fulfil_spread: 0.6,
        stuck_share: 0.04,
        split_share: 0.12,
        auto_archive: false,
        returning_share: 0.3,
        id_salt: 2,
    },
    Profile {
        brand_id: "pawfully",
        name: "PawFully",
        currency: "USD",
        time_zone: "America/Chicago",
        kind: "standard",
        launched: true,
        target_orders: 913,
        products: 80,
        history_months: 8,
        growth: 1.5,
        weekly: [1.0, 1.0, 1.0, 1.0, 0.95, 1.05, 1.0],
        fulfil_median_hours: 30.0,
        fulfil_spread: 0.8,
        stuck_share: 0.03,
        split_share: 0.06,
        auto_archive: true,
        returning_share: 0.4,
        id_salt: 3,
    },
    Profile {
        brand_id: "retromedy",
        name: "RetroMedy",
        currency: "USD",
        time_zone: "America/Denver",
        kind: "standard",
        launched: false,
        target_orders: 0,
        products: 5,
        history_months: 0,
        growth: 1.0,
        weekly: [1.0; 7],
        fulfil_median_hours: 24.0,
        fulfil_spread: 0.5,
        stuck_share: 0.0,
        split_share: 0.0,
        auto_archive: true,
        returning_share: 0.0,
        id_salt: 4,
    },
];
