//! The morning checklist of a region: for each item of the playbook
//! (overnight orders, inventory alerts, pending approvals, incidents,
//! handover notes) its state now, a link to where it is worked, and who
//! checked it today. "Today" is the region's local day: a check is stored
//! under that day, so the list starts unchecked at the region's midnight
//! whatever the offset that day (a DST change included).
//!
//! Each state is read from its rule's home: the overnight orders from the
//! projection's sales rollup (the order volume cards' own counts), the
//! stock tiers from `panels::inventory::stock_tiers`, the approvals and
//! incidents from [`super::Handovers::live_state`].

use super::{HandoverError, HandoverState, Handovers};
use crate::incidents::Actor;
use jiff::Timestamp;
use opsdeck_domain::Region;
use opsdeck_store::handover::ChecklistCheck;
use opsdeck_store::AuditAction;
use serde::Serialize;
use serde_json::json;

/// The playbook's morning items, in the order the page lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChecklistItem {
    OvernightOrders,
    InventoryAlerts,
    PendingApprovals,
    Incidents,
    HandoverNotes,
}

impl ChecklistItem {
    pub const ALL: [ChecklistItem; 5] = [
        ChecklistItem::OvernightOrders,
        ChecklistItem::InventoryAlerts,
        ChecklistItem::PendingApprovals,
        ChecklistItem::Incidents,
        ChecklistItem::HandoverNotes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ChecklistItem::OvernightOrders => "overnight_orders",
            ChecklistItem::InventoryAlerts => "inventory_alerts",
            ChecklistItem::PendingApprovals => "pending_approvals",
            ChecklistItem::Incidents => "incidents",
            ChecklistItem::HandoverNotes => "handover_notes",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ChecklistItem::OvernightOrders => "Overnight orders",
            ChecklistItem::InventoryAlerts => "Inventory alerts",
            ChecklistItem::PendingApprovals => "Pending approvals",
            ChecklistItem::Incidents => "Incidents",
            ChecklistItem::HandoverNotes => "Handover notes",
        }
    }

    /// The item named `s`; the error lists them.
    pub fn parse(s: &str) -> Result<ChecklistItem, HandoverError> {
        ChecklistItem::ALL
            .into_iter()
            .find(|i| i.as_str() == s)
            .ok_or_else(|| {
                let all: Vec<&str> = ChecklistItem::ALL.iter().map(|i| i.as_str()).collect();
                HandoverError::UnknownItem(s.into(), all.join(", "))
            })
    }
}

/// One item as the page shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ChecklistRow {
    pub item: ChecklistItem,
    pub label: &'static str,
    /// The state in words ("12 orders since 00:00").
    pub state: String,
    /// The figure behind the state (orders, variants, requests, ...).
    pub count: i64,
    /// Something to act on (a critical stock, a pending request, ...).
    pub needs_attention: bool,
    pub link: String,
    pub checked_by: Option<String>,
    pub checked_at: Option<Timestamp>,
}

/// A region's checklist on its local day.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Checklist {
    pub region: String,
    pub region_name: String,
    pub time_zone: String,
    /// `YYYY-MM-DD` in the region's zone.
    pub local_day: String,
    /// The region's local midnight, where "overnight" starts.
    pub since: Timestamp,
    pub rows: Vec<ChecklistRow>,
}

/// The region's local day at `now`.
pub fn local_day(region: &Region, now: Timestamp) -> String {
    now.to_zoned(region.time_zone.clone()).date().to_string()
}

pub(super) async fn build(h: &Handovers, region: &Region) -> Result<Checklist, HandoverError> {
    let now = h.now();
    let zoned = now.to_zoned(region.time_zone.clone());
    let day = zoned.date().to_string();
    let since = zoned
        .start_of_day()
        .map_err(|e| HandoverError::Invalid(format!("the region's day has no start: {e}")))?
        .timestamp();
    let live = h.live_state(region).await?;
    let (orders, tiers) = {
        let p = h
            .parts
            .projection
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut orders = 0;
        let (mut critical, mut low, mut high) = (0, 0, 0);
        for brand in &region.brands {
            let Some(ix) = p.ctx.brand_ix(brand) else {
                continue;
            };
            if let Some(sales) = p.orders.sales.get(usize::from(ix)) {
                // The cards' own window rule: orders of the whole seconds before now.
                orders += sales.sum(since.as_second(), now.as_second()).orders;
            }
            let t =
                opsdeck_metrics::panels::inventory::stock_tiers(&p, &h.parts.panel_config, ix, now);
            critical += t.critical;
            low += t.low;
            high += t.high;
        }
        (orders, (critical, low, high))
    };
    let checks = h
        .parts
        .store
        .checklist_checks(region.id.as_str(), &day)
        .await?;
    let latest = h
        .parts
        .store
        .handovers(Some(region.id.as_str()), 1)
        .await?
        .into_iter()
        .next()
        .map(super::HandoverNote::from_row)
        .transpose()?;
    let rid = region.id.as_str();
    let mut rows = Vec::new();
    for item in ChecklistItem::ALL {
        let (state, count, needs_attention, link) = match item {
            ChecklistItem::OvernightOrders => (
                format!(
                    "{orders} order{} since {} local time",
                    if orders == 1 { "" } else { "s" },
                    since
                        .to_zoned(region.time_zone.clone())
                        .strftime("%H:%M %Z")
                ),
                orders,
                false,
                format!("/?region={rid}"),
            ),
            ChecklistItem::InventoryAlerts => {
                let (critical, low, high) = tiers;
                (
                    format!("{critical} critical, {low} low, {high} high (overstock to review)"),
                    (critical + low) as i64,
                    critical + low > 0,
                    "/inventory".to_string(),
                )
            }
            ChecklistItem::PendingApprovals => {
                let n = live.approvals.len();
                (
                    format!("{n} pending"),
                    n as i64,
                    n > 0,
                    "/approvals".to_string(),
                )
            }
            ChecklistItem::Incidents => {
                let n = live.incidents.len();
                let worst = live
                    .incidents
                    .first()
                    .map(|i| format!(" (newest: {} {})", i.severity, i.title))
                    .unwrap_or_default();
                (
                    format!("{n} live{worst}"),
                    n as i64,
                    n > 0,
                    "/incidents".to_string(),
                )
            }
            ChecklistItem::HandoverNotes => match &latest {
                Some(n) => (
                    format!(
                        "last note ({}): {}{}",
                        n.shift
                            .start
                            .to_zoned(region.time_zone.clone())
                            .strftime("%Y-%m-%d %H:%M"),
                        n.state,
                        n.submitted_by
                            .as_ref()
                            .map(|s| format!(" by {s}"))
                            .unwrap_or_default()
                    ),
                    1,
                    n.state != HandoverState::Acknowledged,
                    format!("/handovers/{}", n.id),
                ),
                None => (
                    "no handover note yet".to_string(),
                    0,
                    true,
                    format!("/handovers?region={rid}"),
                ),
            },
        };
        let check = checks.iter().find(|c| c.item == item.as_str());
        rows.push(ChecklistRow {
            item,
            label: item.label(),
            state,
            count,
            needs_attention,
            link,
            checked_by: check.map(|c| c.checked_by.clone()),
            checked_at: check.map(|c| c.checked_at),
        });
    }
    Ok(Checklist {
        region: rid.to_string(),
        region_name: region.name.clone(),
        time_zone: region.time_zone_name().to_string(),
        local_day: day,
        since,
        rows,
    })
}

pub(super) async fn check(
    h: &Handovers,
    region: &Region,
    item: ChecklistItem,
    actor: &Actor,
) -> Result<bool, HandoverError> {
    let now = h.now();
    let day = local_day(region, now);
    let row = ChecklistCheck {
        region: region.id.to_string(),
        local_day: day.clone(),
        item: item.as_str().into(),
        checked_by: actor.name.clone(),
        checked_at: now,
    };
    let audit = opsdeck_store::AuditEntry {
        at: now,
        actor: actor.name.clone(),
        action: AuditAction::ChecklistCheck,
        subject: format!("checklist:{}:{}", region.id, item.as_str()),
        payload: json!({ "region": region.id, "item": item.as_str(), "local_day": day }),
        ip: actor.ip.clone(),
    }
    .bounded();
    Ok(h.parts.store.checklist_check(&row, &audit).await?)
}
