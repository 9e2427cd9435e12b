//! The daily digest: what needs a person this morning, per brand.
//!
//! It reads the numbers the dashboard already has and computes none of its
//! own:
//! - open incidents (`IncidentService::list`, live ones only);
//! - the refunds, returns and disputes past their 24 h SLA
//!   (`RefundQueue::breach_counts`);
//! - review-queue items past their queue's SLA
//!   (`panels::review_queues::review_queues`);
//! - privacy requests due within `PRIVACY_ALERT_DAYS_BEFORE` days or
//!   overdue (the same horizon as the privacy alert);
//! - yesterday's orders and gross revenue (`panels::sales::brand_sales`
//!   over the brand's local yesterday).
//!
//! Gathering ([`DigestSources::gather`]) and shaping ([`daily_digest`]) are
//! apart, so the shape is tested on hand-made facts and the gathering on a
//! real store.
//!
//! **Money and audience.** A subscription names the role it is written
//! for; a role without `ViewRevenue` gets [`Report::without_money`] (the
//! one place amounts are removed), so a recipient never reads revenue a
//! login with that role could not see. [`daily_digest`] takes that answer
//! as `sees_revenue`.
//!
//! **Empty.** Brands with nothing to report get no row, so a quiet day
//! gives an empty report and "skip when empty" ([`Report::is_empty`])
//! skips it.

use crate::document::{Cell, Column, ColumnKind, Fact, Report, Section, Table};
use jiff::civil::Date;
use jiff::{SignedDuration, Timestamp};
use opsdeck_domain::privacy::PRIVACY_ALERT_DAYS_BEFORE;
use opsdeck_domain::{BrandId, Money};
use opsdeck_metrics::panels::review_queues::{review_queues, ReviewSlas};
use opsdeck_metrics::panels::{sales::brand_sales, PanelConfig, Range};
use opsdeck_metrics::SharedProjection;
use opsdeck_operations::incidents::{Incident, IncidentService};
use opsdeck_operations::queues::RefundQueue;
use opsdeck_store::Store;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The digest's sections, by id (what a subscription's `sections` names).
pub const SECTIONS: [&str; 3] = ["open_incidents", "sla_breaches", "orders_yesterday"];

/// One brand's lines in the digest.
#[derive(Debug, Clone, PartialEq)]
pub struct BrandAttention {
    pub brand: BrandId,
    pub name: String,
    pub orders_yesterday: i64,
    pub revenue_yesterday: Money,
    /// Refunds, returns and disputes past their SLA.
    pub refund_breaches: usize,
    /// Review-queue items past their queue's SLA.
    pub review_breaches: usize,
    /// Privacy requests due within the alert horizon, or overdue.
    pub privacy_due: usize,
}

/// Everything the digest reads, as of one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct DigestFacts {
    pub as_of: Timestamp,
    /// Live incidents, newest first.
    pub incidents: Vec<Incident>,
    pub brands: Vec<BrandAttention>,
    /// Privacy requests that concern every brand (a `shop/redact` of a
    /// shared account), due within the horizon.
    pub privacy_due_all_brands: usize,
}

/// Where the digest's numbers live.
#[derive(Clone)]
pub struct DigestSources {
    pub projection: SharedProjection,
    pub panel: PanelConfig,
    pub review_slas: ReviewSlas,
    pub store: Arc<dyn Store>,
    pub incidents: Arc<IncidentService>,
    /// `[regions]`: the playbook's order summary groups brands by them.
    pub regions: Vec<opsdeck_domain::Region>,
}

/// Reading a source failed (the run is recorded as failed and retried at
/// its next time).
#[derive(Debug, thiserror::Error)]
pub enum DigestError {
    #[error("incidents: {0}")]
    Incidents(String),
    #[error("store: {0}")]
    Store(String),
}

impl DigestSources {
    pub async fn gather(&self, now: Timestamp) -> Result<DigestFacts, DigestError> {
        let incidents = self
            .incidents
            .list(true)
            .await
            .map_err(|e| DigestError::Incidents(e.to_string()))?;
        let horizon = now + SignedDuration::from_hours(24 * PRIVACY_ALERT_DAYS_BEFORE);
        let mut privacy: BTreeMap<Option<BrandId>, usize> = BTreeMap::new();
        for request in self
            .store
            .privacy_requests_open()
            .await
            .map_err(|e| DigestError::Store(e.to_string()))?
        {
            if request.due_at <= horizon {
                *privacy.entry(request.brand).or_default() += 1;
            }
        }
        let refund_breaches = RefundQueue::breach_counts(&self.projection, &self.panel, now);
        let p = self.projection.read().unwrap_or_else(|e| e.into_inner());
        let mut brands = Vec::new();
        for (i, brand) in p.ctx.brands.iter().enumerate() {
            let Ok(b) = u8::try_from(i) else { continue };
            let yesterday = yesterday_in(now, &brand.time_zone);
            let sales = brand_sales(
                &p,
                b,
                Range::Custom {
                    from: yesterday,
                    to: yesterday,
                },
                now,
            );
            let review_breaches = review_queues(&p, &self.review_slas, b, now)
                .iter()
                .map(|q| q.counts.breached)
                .sum();
            brands.push(BrandAttention {
                brand: brand.id.clone(),
                name: brand.name.clone(),
                orders_yesterday: sales.orders,
                revenue_yesterday: sales.gross_revenue,
                refund_breaches: refund_breaches.get(&brand.id).copied().unwrap_or(0),
                review_breaches,
                privacy_due: privacy.get(&Some(brand.id.clone())).copied().unwrap_or(0),
            });
        }
        Ok(DigestFacts {
            as_of: now,
            incidents,
            brands,
            privacy_due_all_brands: privacy.get(&None).copied().unwrap_or(0),
        })
    }
}

/// The day before `now`'s day in `zone`.
fn yesterday_in(now: Timestamp, zone: &jiff::tz::TimeZone) -> Date {
    let today = now.to_zoned(zone.clone()).date();
    today.yesterday().unwrap_or(today)
}

fn column(name: &str, kind: ColumnKind) -> Column {
    Column {
        name: name.to_string(),
        kind,
    }
}

fn count(n: usize) -> Cell {
    Cell::Count(i64::try_from(n).unwrap_or(i64::MAX))
}

/// The digest for a subscription: `brands` limits it (`None`: every brand;
/// incidents of no brand are always in), shown in `time_zone`, amounts
/// only when `sees_revenue`.
pub fn daily_digest(
    facts: &DigestFacts,
    brands: Option<&[BrandId]>,
    time_zone: &str,
    sees_revenue: bool,
) -> Report {
    let wanted = |id: &BrandId| brands.is_none_or(|only| only.contains(id));
    let incidents: Vec<&Incident> = facts
        .incidents
        .iter()
        .filter(|i| {
            i.brand
                .as_deref()
                .is_none_or(|b| brands.is_none_or(|only| only.iter().any(|o| o.as_str() == b)))
        })
        .collect();
    let mut open = Section::new("open_incidents", "Open incidents");
    open.facts.push(Fact {
        label: "Open incidents".into(),
        value: count(incidents.len()),
    });
    open.tables.push(Table {
        title: None,
        columns: vec![
            column("Incident", ColumnKind::Text),
            column("Severity", ColumnKind::Text),
            column("State", ColumnKind::Text),
            column("Brand", ColumnKind::Text),
            column("Declared", ColumnKind::Time),
        ],
        rows: incidents
            .iter()
            .map(|i| {
                vec![
                    Cell::Text(i.title.clone()),
                    Cell::Text(i.severity.as_str().to_string()),
                    Cell::Text(i.state.as_str().to_string()),
                    Cell::Text(i.brand.clone().unwrap_or_else(|| "all brands".into())),
                    Cell::Time(i.declared_at),
                ]
            })
            .collect(),
    });

    let chosen: Vec<&BrandAttention> = facts.brands.iter().filter(|b| wanted(&b.brand)).collect();
    let mut sla = Section::new("sla_breaches", "SLA breaches");
    let total = |f: fn(&BrandAttention) -> usize| chosen.iter().map(|b| f(b)).sum::<usize>();
    let privacy_all = if brands.is_none() {
        facts.privacy_due_all_brands
    } else {
        0
    };
    sla.facts = vec![
        Fact {
            label: "Refunds, returns and disputes past 24 h".into(),
            value: count(total(|b| b.refund_breaches)),
        },
        Fact {
            label: "Review items past their SLA".into(),
            value: count(total(|b| b.review_breaches)),
        },
        Fact {
            label: format!("Privacy requests due within {PRIVACY_ALERT_DAYS_BEFORE} days"),
            value: count(total(|b| b.privacy_due) + privacy_all),
        },
    ];
    let mut rows: Vec<Vec<Cell>> = chosen
        .iter()
        .filter(|b| b.refund_breaches + b.review_breaches + b.privacy_due > 0)
        .map(|b| {
            vec![
                Cell::Text(b.name.clone()),
                count(b.refund_breaches),
                count(b.review_breaches),
                count(b.privacy_due),
            ]
        })
        .collect();
    if privacy_all > 0 {
        rows.push(vec![
            Cell::Text("All brands".into()),
            count(0),
            count(0),
            count(privacy_all),
        ]);
    }
    sla.tables.push(Table {
        title: None,
        columns: vec![
            column("Brand", ColumnKind::Text),
            column("Refunds queue breached", ColumnKind::Count),
            column("Review queue breached", ColumnKind::Count),
            column("Privacy requests due", ColumnKind::Count),
        ],
        rows,
    });

    let mut orders = Section::new("orders_yesterday", "Orders yesterday");
    orders.tables.push(Table {
        title: None,
        columns: vec![
            column("Brand", ColumnKind::Text),
            column("Orders", ColumnKind::Count),
            column("Gross revenue", ColumnKind::Money),
        ],
        rows: chosen
            .iter()
            .filter(|b| b.orders_yesterday > 0)
            .map(|b| {
                vec![
                    Cell::Text(b.name.clone()),
                    Cell::Count(b.orders_yesterday),
                    Cell::Money(b.revenue_yesterday),
                ]
            })
            .collect(),
    });

    let report = Report {
        title: "Daily digest".into(),
        subtitle: match brands {
            None => "All brands".into(),
            Some(only) => only
                .iter()
                .map(|b| b.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        },
        generated_at: facts.as_of,
        time_zone: time_zone.to_string(),
        sections: vec![open, sla, orders],
    };
    if sees_revenue {
        report
    } else {
        report.without_money()
    }
}

/// The digest as a short message text (Slack, Telegram, the email's body):
/// each section's facts and rows, amounts as the report holds them.
pub fn summary_text(report: &Report) -> String {
    let zone = jiff::tz::TimeZone::get(&report.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let mut out = format!("{} · {}\n", report.title, report.subtitle);
    for section in &report.sections {
        if section.is_empty() {
            continue;
        }
        out.push_str(&format!("\n{}\n", section.title));
        for fact in section.facts.iter().filter(|f| !f.value.is_nothing()) {
            out.push_str(&format!(
                "- {}: {}\n",
                fact.label,
                crate::csv::value(&fact.value, &zone)
            ));
        }
        for table in &section.tables {
            for row in &table.rows {
                let cells: Vec<String> = table
                    .columns
                    .iter()
                    .zip(row)
                    .filter(|(_, c)| !c.is_nothing())
                    .map(|(col, c)| match col.kind {
                        ColumnKind::Text => crate::csv::value(c, &zone),
                        _ => format!("{} {}", col.name, crate::csv::value(c, &zone)),
                    })
                    .collect();
                out.push_str(&format!("  · {}\n", cells.join(", ")));
            }
        }
        for gap in &section.gaps {
            out.push_str(&format!("  ({}: {})\n", gap.what, gap.why));
        }
    }
    out
}

#[cfg(test)]
mod tests;
