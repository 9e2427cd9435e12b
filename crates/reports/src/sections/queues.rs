//! Queues with deadlines: the refunds queue (returns, refunds, disputes)
//! and the review queues.

use super::{col, count, live, opt_text, table, text, time, wire_name, SectionId};
use crate::document::{Cell, ColumnKind as K, Section};
use opsdeck_metrics::panels::refunds_queue::QueueItem;
use opsdeck_metrics::panels::review_queues::ReviewQueue;
use opsdeck_metrics::panels::BrandPanel;

/// The refunds queue as the panel ranks it; the amount is money.
pub fn refunds_queue(items: &[QueueItem]) -> Section {
    let id = SectionId::RefundsQueue;
    let mut section = Section::new(id.as_str(), id.title());
    let mut t = table(
        "Queue",
        vec![
            col("Brand", K::Text),
            col("Kind", K::Text),
            col("Source", K::Text),
            col("Id", K::Text),
            col("Status", K::Text),
            col("Reason", K::Text),
            col("Order", K::Text),
            col("Started", K::Time),
            col("Deadline", K::Time),
            col("SLA", K::Text),
            col("Age", K::Duration),
            col("Time left", K::Duration),
            col("Amount", K::Money),
        ],
    );
    for i in items {
        t.rows.push(vec![
            text(i.brand.as_str()),
            text(wire_name(&i.kind)),
            text(i.source.as_str()),
            text(i.external_id.as_str()),
            text(i.status.as_str()),
            opt_text(i.reason.as_deref()),
            opt_text(i.order.as_ref().map(|o| o.name.as_str())),
            Cell::Time(i.started_at),
            Cell::Time(i.deadline),
            text(i.sla.as_str()),
            Cell::Duration(i.age_seconds),
            Cell::Duration(i.time_left_seconds),
            i.amount.map_or(Cell::Empty, Cell::Money),
        ]);
    }
    section.tables.push(t);
    section
}

/// Each brand's review queues (counts against their SLA) and waiting items.
pub fn review_queues(brands: &[BrandPanel<Vec<ReviewQueue>>]) -> Section {
    let id = SectionId::ReviewQueues;
    let mut section = Section::new(id.as_str(), id.title());
    let live = live(&mut section, brands);
    let mut counts = table(
        "Queues",
        vec![
            col("Brand", K::Text),
            col("Queue", K::Text),
            col("SLA", K::Duration),
            col("Pending", K::Count),
            col("At risk", K::Count),
            col("Breached", K::Count),
            col("Oldest submitted", K::Time),
            col("Oldest age", K::Duration),
        ],
    );
    let mut items = table(
        "Waiting items",
        vec![
            col("Brand", K::Text),
            col("Queue", K::Text),
            col("Id", K::Text),
            col("Subject", K::Text),
            col("Order", K::Text),
            col("Submitted", K::Time),
            col("Age", K::Duration),
            col("Deadline", K::Time),
            col("Time left", K::Duration),
            col("SLA", K::Text),
        ],
    );
    for (brand, queues) in live {
        for q in queues {
            let c = &q.counts;
            counts.rows.push(vec![
                text(brand),
                text(c.queue.as_str()),
                c.sla_seconds.map_or(Cell::Empty, Cell::Duration),
                count(c.pending),
                count(c.at_risk),
                count(c.breached),
                time(c.oldest_submitted_at),
                c.oldest_age_seconds.map_or(Cell::Empty, Cell::Duration),
            ]);
            for i in &q.items {
                items.rows.push(vec![
                    text(brand),
                    text(c.queue.as_str()),
                    text(i.external_id.as_str()),
                    opt_text(i.subject.as_deref()),
                    opt_text(i.order_id.as_deref()),
                    Cell::Time(i.submitted_at),
                    Cell::Duration(i.age_seconds),
                    time(i.deadline),
                    i.time_left_seconds.map_or(Cell::Empty, Cell::Duration),
                    opt_text(i.state.as_ref().map(|s| s.as_str())),
                ]);
            }
            super::left_out(
                &mut section,
                &format!("{} items of {brand}", c.queue),
                q.items.len(),
                c.pending,
            );
        }
    }
    section.tables = vec![counts, items];
    section
}
