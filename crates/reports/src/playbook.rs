//! The playbook's scheduled reports: daily (order summary by region,
//! revenue against target, inventory alerts, tickets), weekly (conversion
//! funnel, product performance, return rates, team activity) and monthly
//! (reconciliation, tax by country, cohorts, inventory turnover).
//!
//! Every section is shaped from a panel the dashboard already computes
//! (`opsdeck_metrics::panels::*`); none recomputes a number. Where the
//! playbook asks for data opsdeck does not hold, the section carries a
//! [`Gap`] saying what is missing and why, rather than a number made up:
//! revenue targets, payouts for reconciliation, tax lines, customer
//! cohorts, cost of goods, per-agent activity, returns per product.
//!
//! Periods, each in the brand's own zone: the daily report covers
//! yesterday, the weekly one the 7 days before today, the monthly one the
//! previous calendar month.

use crate::digest::{DigestError, DigestSources};
use crate::document::{Cell, Column, ColumnKind, Fact, Gap, Report, Section, Table};
use jiff::civil::Date;
use jiff::Timestamp;
use opsdeck_domain::{BrandId, Region};
use opsdeck_metrics::panels::funnel::funnel;
use opsdeck_metrics::panels::inventory::inventory;
use opsdeck_metrics::panels::pulse::pulse;
use opsdeck_metrics::panels::sales::brand_sales;
use opsdeck_metrics::panels::support::{queue, times};
use opsdeck_metrics::panels::Range;
use opsdeck_metrics::projection::BrandIx;
use opsdeck_metrics::Projection;

/// Which of the playbook's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cadence {
    Daily,
    Weekly,
    Monthly,
}

impl Cadence {
    /// The playbook's schedule for it, when a subscription names none.
    pub fn default_schedule(self) -> &'static str {
        match self {
            Cadence::Daily => "daily 07:00",
            Cadence::Weekly => "weekly mon 07:00",
            Cadence::Monthly => "monthly 1 07:00",
        }
    }

    /// Its sections' ids, in order.
    pub fn sections(self) -> &'static [&'static str] {
        match self {
            Cadence::Daily => &[
                "orders_by_region",
                "revenue_against_target",
                "inventory_alerts",
                "tickets",
            ],
            Cadence::Weekly => &[
                "conversion_funnel",
                "product_performance",
                "return_rates",
                "team_activity",
            ],
            Cadence::Monthly => &[
                "reconciliation",
                "tax_by_country",
                "cohorts",
                "inventory_turnover",
            ],
        }
    }

    fn title(self) -> &'static str {
        match self {
            Cadence::Daily => "Daily report",
            Cadence::Weekly => "Weekly report",
            Cadence::Monthly => "Monthly report",
        }
    }

    /// The days it covers for a brand whose today is `today`.
    fn days(self, today: Date) -> (Date, Date) {
        let yesterday = today.yesterday().unwrap_or(today);
        match self {
            Cadence::Daily => (yesterday, yesterday),
            Cadence::Weekly => (
                today
                    .checked_sub(jiff::Span::new().days(7))
                    .unwrap_or(today),
                yesterday,
            ),
            Cadence::Monthly => {
                let this_month = today.first_of_month();
                let last = this_month.yesterday().unwrap_or(this_month);
                (last.first_of_month(), last)
            }
        }
    }
}

fn column(name: &str, kind: ColumnKind) -> Column {
    Column {
        name: name.to_string(),
        kind,
    }
}

fn gap(what: &str, why: &str) -> Gap {
    Gap {
        what: what.to_string(),
        why: why.to_string(),
    }
}

fn table(columns: Vec<Column>, rows: Vec<Vec<Cell>>) -> Table {
    Table {
        title: None,
        columns,
        rows,
    }
}

fn count(n: impl TryInto<i64>) -> Cell {
    Cell::Count(n.try_into().unwrap_or(i64::MAX))
}

/// The launched brands the subscription asks for, with their index.
fn chosen(p: &Projection, brands: Option<&[BrandId]>) -> Vec<(BrandIx, String, BrandId)> {
    p.ctx
        .brands
        .iter()
        .enumerate()
        .filter(|(_, b)| b.launched && brands.is_none_or(|only| only.contains(&b.id)))
        .filter_map(|(i, b)| Some((u8::try_from(i).ok()?, b.name.clone(), b.id.clone())))
        .collect()
}

/// The playbook report of `cadence` as of `now`.
pub async fn playbook_report(
    sources: &DigestSources,
    regions: &[Region],
    cadence: Cadence,
    brands: Option<&[BrandId]>,
    time_zone: &str,
    sees_revenue: bool,
    now: Timestamp,
) -> Result<Report, DigestError> {
    // The funnel's day counts are in the store: read them before the
    // projection's lock is taken.
    let mut funnels = Vec::new();
    if cadence == Cadence::Weekly {
        let targets: Vec<(BrandId, jiff::tz::TimeZone)> = {
            let p = sources.projection.read().unwrap_or_else(|e| e.into_inner());
            chosen(&p, brands)
                .into_iter()
                .map(|(b, _, id)| (id, p.ctx.zone(b).clone()))
                .collect()
        };
        for (id, zone) in targets {
            let (first, last) = cadence.days(now.to_zoned(zone.clone()).date());
            let counts = sources
                .store
                .funnel_days(&id, &first.to_string(), &last.to_string())
                .await
                .map_err(|e| DigestError::Store(e.to_string()))?;
            funnels.push((id, funnel(first, last, &counts, None, &zone)));
        }
    }
    let p = sources.projection.read().unwrap_or_else(|e| e.into_inner());
    let picked = chosen(&p, brands);
    let range_of = |b: BrandIx| {
        let (from, to) = cadence.days(now.to_zoned(p.ctx.zone(b).clone()).date());
        Range::Custom { from, to }
    };
    let mut sections = Vec::new();
    for id in cadence.sections() {
        let mut s = Section::new(*id, title_of(id));
        match *id {
            "orders_by_region" => {
                let region_of = |brand: &BrandId| {
                    regions
                        .iter()
                        .filter(|r| r.brands.contains(brand))
                        .map(|r| r.name.clone())
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                let rows = picked
                    .iter()
                    .map(|(b, name, brand)| {
                        let sales = brand_sales(&p, *b, range_of(*b), now);
                        let region = region_of(brand);
                        vec![
                            Cell::Text(if region.is_empty() {
                                "no region".into()
                            } else {
                                region
                            }),
                            Cell::Text(name.clone()),
                            count(sales.orders),
                            Cell::Money(sales.gross_revenue),
                        ]
                    })
                    .filter(|row| !row[2].is_nothing())
                    .collect();
                s.tables.push(table(
                    vec![
                        column("Region", ColumnKind::Text),
                        column("Brand", ColumnKind::Text),
                        column("Orders", ColumnKind::Count),
                        column("Gross revenue", ColumnKind::Money),
                    ],
                    rows,
                ));
                if regions.is_empty() {
                    s.gaps.push(gap(
                        "Regions",
                        "no [regions] are configured, so brands are listed without one",
                    ));
                }
            }
            "revenue_against_target" => s.gaps.push(gap(
                "Revenue targets",
                "opsdeck has no revenue targets to compare with (none can be configured yet)",
            )),
            "inventory_alerts" => {
                let mut rows = Vec::new();
                for (b, name, _) in &picked {
                    for line in inventory(&p, &sources.panel, *b, now).alerts {
                        rows.push(vec![
                            Cell::Text(name.clone()),
                            Cell::Text(format!("{} · {}", line.product, line.variant)),
                            Cell::Text(line.sku.unwrap_or_default()),
                            Cell::Count(line.quantity),
                            line.days_until_stockout
                                .map_or(Cell::Empty, |d| Cell::Text(format!("{d:.1}"))),
                        ]);
                    }
                }
                s.facts.push(Fact {
                    label: "Variants out of stock or low".into(),
                    value: count(rows.len()),
                });
                s.tables.push(table(
                    vec![
                        column("Brand", ColumnKind::Text),
                        column("Product", ColumnKind::Text),
                        column("SKU", ColumnKind::Text),
                        column("On hand", ColumnKind::Count),
                        column("Days until stockout", ColumnKind::Text),
                    ],
                    rows,
                ));
            }
            "tickets" => {
                let rows = picked
                    .iter()
                    .map(|(b, name, _)| {
                        let q = queue(&p, *b, sources.panel.week_start, now);
                        vec![
                            Cell::Text(name.clone()),
                            Cell::Count(q.open),
                            Cell::Count(q.pending),
                            Cell::Count(q.created_today),
                            Cell::Count(q.resolved_today),
                        ]
                    })
                    .filter(|row| row[1..].iter().any(|c| !c.is_nothing()))
                    .collect();
                s.tables.push(table(
                    vec![
                        column("Brand", ColumnKind::Text),
                        column("Open", ColumnKind::Count),
                        column("Pending", ColumnKind::Count),
                        column("Created today", ColumnKind::Count),
                        column("Resolved today", ColumnKind::Count),
                    ],
                    rows,
                ));
            }
            "conversion_funnel" => {
                let rows = funnels
                    .iter()
                    .filter(|(_, f)| f.total.sessions > 0)
                    .map(|(brand, f)| {
                        let t = &f.total;
                        vec![
                            Cell::Text(brand.to_string()),
                            Cell::Count(t.sessions),
                            Cell::Count(t.added_to_cart),
                            Cell::Count(t.checkout_started),
                            Cell::Count(t.checkout_completed),
                            t.conversion
                                .map_or(Cell::Empty, |c| Cell::Percent(c * 100.0)),
                        ]
                    })
                    .collect();
                s.tables.push(table(
                    vec![
                        column("Brand", ColumnKind::Text),
                        column("Sessions", ColumnKind::Count),
                        column("Added to cart", ColumnKind::Count),
                        column("Checkout started", ColumnKind::Count),
                        column("Completed", ColumnKind::Count),
                        column("Conversion", ColumnKind::Percent),
                    ],
                    rows,
                ));
                s.gaps.push(gap(
                    "Abandoned checkouts",
                    "shown on the funnel page for Shopify brands; not in this report",
                ));
            }
            "product_performance" => {
                let mut rows = Vec::new();
                for (b, name, _) in &picked {
                    for sku in pulse(&p, &sources.panel, *b, now).top_skus_7d {
                        rows.push(vec![
                            Cell::Text(name.clone()),
                            Cell::Text(sku.sku),
                            Cell::Count(sku.units),
                            Cell::Money(sku.revenue),
                            sku.stock.map_or(Cell::Empty, Cell::Count),
                        ]);
                    }
                }
                s.tables.push(table(
                    vec![
                        column("Brand", ColumnKind::Text),
                        column("SKU", ColumnKind::Text),
                        column("Units (7 days)", ColumnKind::Count),
                        column("Revenue (7 days)", ColumnKind::Money),
                        column("Stock", ColumnKind::Count),
                    ],
                    rows,
                ));
            }
            "return_rates" => s.gaps.push(gap(
                "Return rates by product",
                "opsdeck counts returns per customer (risk flags) and per queue, not per product",
            )),
            "team_activity" => {
                let rows = picked
                    .iter()
                    .map(|(b, name, _)| {
                        let t = times(&p, *b, range_of(*b), now);
                        let hours = |h: Option<f64>| {
                            h.map_or(Cell::Empty, |h| Cell::Duration((h * 3600.0).round() as i64))
                        };
                        vec![
                            Cell::Text(name.clone()),
                            count(t.resolved_tickets),
                            hours(t.first_response_median_hours),
                            hours(t.resolution_median_hours),
                        ]
                    })
                    .filter(|row| !row[1].is_nothing())
                    .collect();
                s.tables.push(table(
                    vec![
                        column("Brand", ColumnKind::Text),
                        column("Resolved tickets", ColumnKind::Count),
                        column("Median first response", ColumnKind::Duration),
                        column("Median resolution", ColumnKind::Duration),
                    ],
                    rows,
                ));
                s.gaps.push(gap(
                    "Per-agent activity",
                    "opsdeck does not store which agent answered a ticket",
                ));
            }
            "reconciliation" => s.gaps.push(gap(
                "Reconciliation",
                "opsdeck does not sync payouts or bank settlements to reconcile orders against",
            )),
            "tax_by_country" => s.gaps.push(gap(
                "Tax by country",
                "opsdeck stores neither tax lines nor shipping countries of orders",
            )),
            "cohorts" => s.gaps.push(gap(
                "Customer cohorts",
                "opsdeck does not keep customers' first-order months to group them by",
            )),
            "inventory_turnover" => {
                let rows = picked
                    .iter()
                    .map(|(b, name, _)| {
                        let inv = inventory(&p, &sources.panel, *b, now);
                        vec![
                            Cell::Text(name.clone()),
                            count(inv.tracked_variants),
                            count(inv.out_of_stock),
                            count(inv.low),
                        ]
                    })
                    .filter(|row| !row[1].is_nothing())
                    .collect();
                s.tables.push(table(
                    vec![
                        column("Brand", ColumnKind::Text),
                        column("Tracked variants", ColumnKind::Count),
                        column("Out of stock", ColumnKind::Count),
                        column("Low", ColumnKind::Count),
                    ],
                    rows,
                ));
                s.gaps.push(gap(
                    "Turnover ratio",
                    "needs the cost of goods sold and of stock, which opsdeck does not store",
                ));
            }
            _ => {}
        }
        sections.push(s);
    }
    let first = picked.first().map(|(b, ..)| *b);
    let subtitle = match first {
        Some(b) => {
            let (from, to) = cadence.days(now.to_zoned(p.ctx.zone(b).clone()).date());
            if from == to {
                from.to_string()
            } else {
                format!("{from} to {to}")
            }
        }
        None => "no launched brand".into(),
    };
    let report = Report {
        title: cadence.title().into(),
        subtitle,
        generated_at: now,
        time_zone: time_zone.to_string(),
        sections,
    };
    Ok(if sees_revenue {
        report
    } else {
        report.without_money()
    })
}

fn title_of(id: &str) -> &'static str {
    match id {
        "orders_by_region" => "Order summary by region",
        "revenue_against_target" => "Revenue against target",
        "inventory_alerts" => "Inventory alerts",
        "tickets" => "Tickets",
        "conversion_funnel" => "Conversion funnel",
        "product_performance" => "Product performance",
        "return_rates" => "Return rates",
        "team_activity" => "Team activity",
        "reconciliation" => "Reconciliation",
        "tax_by_country" => "Tax by country",
        "cohorts" => "Cohorts",
        "inventory_turnover" => "Inventory turnover",
        _ => "Section",
    }
}

#[cfg(test)]
mod tests;
