//! One builder per exportable panel or page: each turns the values the
//! panel already computed (`opsdeck_metrics::panels::*`, never
//! recomputed) into a [`Section`] of typed tables, a [`Chart`] where the
//! page draws one, and a [`Gap`] for every record the panel left out.
//!
//! The builders are pure: the caller computes the panel for the chosen
//! brands, range and `now` (as the panel's JSON API does) and passes its
//! answer, so an export reads the same numbers as the API.
//!
//! [`SectionId`] names what an export or a subscription may ask for.
//!
//! [`Chart`]: crate::Chart
//! [`Gap`]: crate::Gap

pub mod audit;
pub mod orders;
pub mod queues;
pub mod stock;
pub mod support;

use crate::document::{Cell, Column, ColumnKind, Section, Table};
use opsdeck_domain::Timestamp;
use opsdeck_metrics::panels::BrandPanel;
use serde::Serialize;

/// Every section an export may ask for, by its stable id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SectionId {
    OrderVolume,
    Fulfillment,
    Inventory,
    Catalog,
    Tickets,
    Urgent,
    Wismo,
    RefundsQueue,
    ReviewQueues,
    Funnel,
    Satisfaction,
    AuditLog,
}

impl SectionId {
    pub const ALL: [SectionId; 12] = [
        SectionId::OrderVolume,
        SectionId::Fulfillment,
        SectionId::Inventory,
        SectionId::Catalog,
        SectionId::Tickets,
        SectionId::Urgent,
        SectionId::Wismo,
        SectionId::RefundsQueue,
        SectionId::ReviewQueues,
        SectionId::Funnel,
        SectionId::Satisfaction,
        SectionId::AuditLog,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            SectionId::OrderVolume => "order_volume",
            SectionId::Fulfillment => "fulfillment",
            SectionId::Inventory => "inventory",
            SectionId::Catalog => "catalog",
            SectionId::Tickets => "tickets",
            SectionId::Urgent => "urgent",
            SectionId::Wismo => "wismo",
            SectionId::RefundsQueue => "refunds_queue",
            SectionId::ReviewQueues => "review_queues",
            SectionId::Funnel => "funnel",
            SectionId::Satisfaction => "satisfaction",
            SectionId::AuditLog => "audit_log",
        }
    }

    pub const fn title(self) -> &'static str {
        match self {
            SectionId::OrderVolume => "Order volume",
            SectionId::Fulfillment => "Fulfillment pipeline",
            SectionId::Inventory => "Inventory alerts",
            SectionId::Catalog => "Catalog health",
            SectionId::Tickets => "Tickets",
            SectionId::Urgent => "Urgent tickets",
            SectionId::Wismo => "Where is my order",
            SectionId::RefundsQueue => "Refunds queue",
            SectionId::ReviewQueues => "Review queues",
            SectionId::Funnel => "Conversion funnel",
            SectionId::Satisfaction => "Satisfaction",
            SectionId::AuditLog => "Audit log",
        }
    }

    /// The id `s` names; `None` for an unknown one.
    pub fn parse(s: &str) -> Option<SectionId> {
        SectionId::ALL.into_iter().find(|id| id.as_str() == s)
    }
}

impl std::fmt::Display for SectionId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A column of `name` holding `kind`.
pub(crate) fn col(name: &str, kind: ColumnKind) -> Column {
    Column {
        name: name.to_string(),
        kind,
    }
}

/// A table of `columns` and no rows yet.
pub(crate) fn table(title: &str, columns: Vec<Column>) -> Table {
    Table {
        title: Some(title.to_string()),
        columns,
        rows: Vec::new(),
    }
}

pub(crate) fn text(s: impl Into<String>) -> Cell {
    Cell::Text(s.into())
}

pub(crate) fn count(n: impl TryInto<i64>) -> Cell {
    Cell::Count(n.try_into().unwrap_or(i64::MAX))
}

/// A ratio (`0.25`) as a percent cell (`25`); empty without one.
pub(crate) fn percent(ratio: Option<f64>) -> Cell {
    ratio.map_or(Cell::Empty, |r| Cell::Percent(r * 100.0))
}

/// Hours as a duration cell in whole seconds; empty without one.
pub(crate) fn hours(h: Option<f64>) -> Cell {
    h.map_or(Cell::Empty, |h| Cell::Duration((h * 3600.0).round() as i64))
}

pub(crate) fn time(t: Option<Timestamp>) -> Cell {
    t.map_or(Cell::Empty, Cell::Time)
}

pub(crate) fn opt_text(s: Option<&str>) -> Cell {
    s.map_or(Cell::Empty, text)
}

/// A serializable unit enum's wire name (`in_transit`): the same word the
/// JSON API shows.
pub(crate) fn wire_name<T: Serialize>(value: &T) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

/// The live brands of a panel's answer, with the brand id; brands that
/// have not launched have no numbers and are named in a gap.
pub(crate) fn live<'a, T>(
    section: &mut Section,
    brands: &'a [BrandPanel<T>],
) -> Vec<(&'a str, &'a T)> {
    let mut out = Vec::new();
    for b in brands {
        match b {
            BrandPanel::Live { brand, panel } => out.push((brand.as_str(), panel)),
            BrandPanel::NotLaunched { brand } => section.gaps.push(crate::Gap {
                what: format!("Brand {brand}"),
                why: "not launched yet: no numbers".to_string(),
            }),
        }
    }
    out
}

/// "`shown` of `total` listed" as a gap when the panel left records out.
pub(crate) fn left_out(section: &mut Section, what: &str, shown: usize, total: usize) {
    if total > shown {
        section.gaps.push(crate::Gap {
            what: format!("{} {what}", total - shown),
            why: format!("the panel lists {shown} of {total}"),
        });
    }
}
