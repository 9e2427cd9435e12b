//! Orders: order volume, the fulfillment pipeline with its stuck orders,
//! and the conversion funnel.

use super::{col, count, hours, live, percent, table, text, wire_name};
use crate::document::{Cell, Chart, ChartKind, ChartSeries, ColumnKind as K, Gap, Section};
use opsdeck_metrics::panels::fulfillment::Fulfillment;
use opsdeck_metrics::panels::funnel::Funnel;
use opsdeck_metrics::panels::BrandPanel;
use opsdeck_metrics::BrandVolume;

use super::SectionId;

/// The order volume cards of each brand (`brand id`, its cards): one row
/// per brand and period. Orders in a currency without a rate are a gap.
pub fn order_volume(brands: &[(String, BrandVolume)]) -> Section {
    let id = SectionId::OrderVolume;
    let mut section = Section::new(id.as_str(), id.title());
    let mut t = table(
        "Orders and revenue to date",
        vec![
            col("Brand", K::Text),
            col("Period", K::Text),
            col("Orders", K::Count),
            col("Prior orders", K::Count),
            col("Orders change", K::Percent),
            col("Gross revenue", K::Money),
            col("Prior gross revenue", K::Money),
            col("AOV", K::Money),
        ],
    );
    for (brand, volume) in brands {
        if !volume.is_launched() {
            section.gaps.push(Gap {
                what: format!("Brand {brand}"),
                why: "not launched yet: no numbers".to_string(),
            });
        }
        for p in volume.periods() {
            t.rows.push(vec![
                text(brand.as_str()),
                text(p.period.label()),
                count(p.orders),
                count(p.prior_orders),
                percent(p.orders_delta),
                Cell::Money(p.gross_revenue),
                Cell::Money(p.prior_gross_revenue),
                p.aov.map_or(Cell::Empty, Cell::Money),
            ]);
            for l in &p.left_out {
                section.gaps.push(Gap {
                    what: format!(
                        "{} {} orders of {brand} ({})",
                        l.orders,
                        l.currency,
                        p.period.label()
                    ),
                    why: format!("no exchange rate to {}", l.brand_currency),
                });
            }
        }
    }
    section.tables.push(t);
    section
}

/// Stages, unfulfilled ages, stuck orders and carriers of each brand, with
/// the pipeline as a bar chart.
pub fn fulfillment(brands: &[BrandPanel<Fulfillment>]) -> Section {
    let id = SectionId::Fulfillment;
    let mut section = Section::new(id.as_str(), id.title());
    let live = live(&mut section, brands);
    let mut summary = table(
        "Pipeline",
        vec![
            col("Brand", K::Text),
            col("Stage", K::Text),
            col("Orders", K::Count),
        ],
    );
    let mut totals = table(
        "Shipping",
        vec![
            col("Brand", K::Text),
            col("Recurring orders", K::Count),
            col("Recurring revenue", K::Money),
            col("One-time orders", K::Count),
            col("One-time revenue", K::Money),
            col("Mean time to ship", K::Duration),
            col("On time", K::Percent),
            col("Exceptions", K::Percent),
        ],
    );
    let mut stuck = table(
        "Stuck orders",
        vec![
            col("Brand", K::Text),
            col("Order", K::Text),
            col("Created", K::Time),
            col("Age", K::Duration),
            col("Partly shipped", K::Text),
        ],
    );
    let mut carriers = table(
        "Carriers",
        vec![
            col("Brand", K::Text),
            col("Carrier", K::Text),
            col("Shipments", K::Count),
            col("Delivered", K::Count),
            col("Mean delivery", K::Duration),
            col("On time", K::Percent),
            col("Exceptions", K::Percent),
        ],
    );
    let mut labels = Vec::new();
    let mut series: Vec<ChartSeries> = Vec::new();
    for (brand, f) in &live {
        let mut values = Vec::new();
        for s in &f.stages {
            summary.rows.push(vec![
                text(*brand),
                text(wire_name(&s.stage)),
                count(s.orders),
            ]);
            if series.is_empty() {
                labels.push(wire_name(&s.stage));
            }
            values.push(Some(s.orders as f64));
        }
        series.push(ChartSeries {
            name: brand.to_string(),
            values,
        });
        totals.rows.push(vec![
            text(*brand),
            count(f.recurring_orders),
            Cell::Money(f.recurring_revenue),
            count(f.one_time_orders),
            Cell::Money(f.one_time_revenue),
            hours(f.mean_time_to_ship_hours),
            percent(f.on_time_rate),
            percent(f.exception_rate),
        ]);
        for o in &f.stale {
            stuck.rows.push(vec![
                text(*brand),
                text(o.order.as_str()),
                Cell::Time(o.created_at),
                Cell::Duration(o.age_hours.saturating_mul(3600)),
                text(if o.partial { "yes" } else { "no" }),
            ]);
        }
        super::left_out(
            &mut section,
            &format!("stuck orders of {brand}"),
            f.stale.len(),
            f.stale_count,
        );
        for c in &f.carriers {
            carriers.rows.push(vec![
                text(*brand),
                text(c.carrier.as_str()),
                count(c.shipments),
                count(c.delivered),
                hours(c.mean_delivery_hours),
                percent(c.on_time_rate),
                percent(c.exception_rate),
            ]);
        }
    }
    section.tables = vec![summary, totals, stuck, carriers];
    if !series.is_empty() {
        section.charts.push(Chart {
            title: "Orders by stage".to_string(),
            kind: ChartKind::Bars,
            unit: K::Count,
            currency: None,
            labels,
            series,
        });
    }
    section
}

/// The funnel of each brand (`brand id`, its funnel), day by day, with
/// conversion as a line chart.
pub fn funnel(brands: &[(String, Funnel)]) -> Section {
    let id = SectionId::Funnel;
    let mut section = Section::new(id.as_str(), id.title());
    let mut t = table(
        "Funnel by day",
        vec![
            col("Brand", K::Text),
            col("Day", K::Date),
            col("Sessions", K::Count),
            col("Added to cart", K::Count),
            col("Checkout started", K::Count),
            col("Checkout completed", K::Count),
            col("Conversion", K::Percent),
            col("Abandonment", K::Percent),
            col("Abandoned checkouts", K::Count),
            col("Recovered checkouts", K::Count),
        ],
    );
    let mut labels = Vec::new();
    let mut series = Vec::new();
    for (brand, f) in brands {
        let mut values = Vec::new();
        for d in &f.days {
            t.rows.push(vec![
                text(brand.as_str()),
                Cell::Date(d.day),
                count(d.sessions),
                count(d.added_to_cart),
                count(d.checkout_started),
                count(d.checkout_completed),
                percent(d.conversion),
                percent(d.abandonment),
                d.abandoned_checkouts.map_or(Cell::Empty, count),
                d.recovered_checkouts.map_or(Cell::Empty, count),
            ]);
            if series.is_empty() {
                labels.push(d.day.to_string());
            }
            values.push(d.conversion.map(|r| r * 100.0));
        }
        series.push(ChartSeries {
            name: brand.clone(),
            values,
        });
    }
    section.tables.push(t);
    if !series.is_empty() {
        section.charts.push(Chart {
            title: "Conversion".to_string(),
            kind: ChartKind::Line,
            unit: K::Percent,
            currency: None,
            labels,
            series,
        });
    }
    section
}
