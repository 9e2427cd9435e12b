//! Support: the ticket queue and its times, urgent tickets, "where is my
//! order" inquiries and satisfaction.

use super::{col, count, hours, live, opt_text, percent, table, text, SectionId};
use crate::document::{Cell, ColumnKind as K, Section};
use opsdeck_metrics::panels::satisfaction::Satisfaction;
use opsdeck_metrics::panels::support::{Csat, Queue, Times, TopIssues};
use opsdeck_metrics::panels::urgent::Urgent;
use opsdeck_metrics::panels::wismo::Wismo;
use opsdeck_metrics::panels::BrandPanel;

/// The support panels of one brand that the tickets section reads.
#[derive(Debug, Clone)]
pub struct Tickets {
    pub queue: Queue,
    pub times: Times,
    pub csat: Csat,
    pub top_issues: TopIssues,
}

/// A mean score (1–5) as text with two decimals: the model has no
/// decimal kind other than percent.
fn score(mean: Option<f64>) -> Cell {
    mean.map_or(Cell::Empty, |m| text(format!("{m:.2}")))
}

/// Each brand's queue, response and resolution times, CSAT and top issues.
pub fn tickets(brands: &[BrandPanel<Tickets>]) -> Section {
    let id = SectionId::Tickets;
    let mut section = Section::new(id.as_str(), id.title());
    let live = live(&mut section, brands);
    let mut queue = table(
        "Queue",
        vec![
            col("Brand", K::Text),
            col("Open", K::Count),
            col("Pending", K::Count),
            col("Created today", K::Count),
            col("Resolved today", K::Count),
            col("Resolved this week", K::Count),
        ],
    );
    let mut times = table(
        "Response times",
        vec![
            col("Brand", K::Text),
            col("First responses", K::Count),
            col("First response median", K::Duration),
            col("First response mean", K::Duration),
            col("Resolved", K::Count),
            col("Resolution median", K::Duration),
            col("Resolution mean", K::Duration),
            col("CSAT surveys", K::Count),
            col("CSAT mean", K::Text),
        ],
    );
    let mut issues = table(
        "Top issues",
        vec![
            col("Brand", K::Text),
            col("Issue", K::Text),
            col("Tickets", K::Count),
            col("Share", K::Percent),
        ],
    );
    for (brand, t) in live {
        queue.rows.push(vec![
            text(brand),
            count(t.queue.open),
            count(t.queue.pending),
            count(t.queue.created_today),
            count(t.queue.resolved_today),
            count(t.queue.resolved_this_week),
        ]);
        times.rows.push(vec![
            text(brand),
            count(t.times.first_response_tickets),
            hours(t.times.first_response_median_hours),
            hours(t.times.first_response_mean_hours),
            count(t.times.resolved_tickets),
            hours(t.times.resolution_median_hours),
            hours(t.times.resolution_mean_hours),
            count(t.csat.surveys),
            score(t.csat.mean),
        ]);
        for i in t
            .top_issues
            .by_tag
            .iter()
            .chain(&t.top_issues.untagged_clusters)
        {
            issues.rows.push(vec![
                text(brand),
                text(i.name.as_str()),
                count(i.tickets),
                Cell::Percent(i.share * 100.0),
            ]);
        }
    }
    section.tables = vec![queue, times, issues];
    section
}

/// The flagged tickets of each brand, most urgent first; the order value
/// is money.
pub fn urgent(brands: &[BrandPanel<Urgent>]) -> Section {
    let id = SectionId::Urgent;
    let mut section = Section::new(id.as_str(), id.title());
    let live = live(&mut section, brands);
    let mut t = table(
        "Urgent tickets",
        vec![
            col("Brand", K::Text),
            col("Ticket", K::Text),
            col("Subject", K::Text),
            col("Customer", K::Text),
            col("Created", K::Time),
            col("Age", K::Duration),
            col("Order", K::Text),
            col("Order value", K::Money),
            col("Flags", K::Text),
            col("Score", K::Count),
        ],
    );
    for (brand, u) in live {
        for ticket in &u.tickets {
            let flags: Vec<String> = ticket
                .flags
                .iter()
                .map(|f| format!("{}: {}", f.flag, f.reason))
                .collect();
            t.rows.push(vec![
                text(brand),
                text(ticket.ticket_id.as_str()),
                text(ticket.subject.as_str()),
                text(ticket.customer.as_str()),
                Cell::Time(ticket.ticket_created_at),
                Cell::Duration(ticket.age_hours.saturating_mul(3600)),
                opt_text(ticket.linked_order.as_deref()),
                ticket.order_value.map_or(Cell::Empty, Cell::Money),
                text(flags.join("; ")),
                count(ticket.score),
            ]);
        }
        super::left_out(
            &mut section,
            &format!("urgent tickets of {brand}"),
            u.tickets.len(),
            u.flagged,
        );
    }
    section.tables.push(t);
    section
}

/// Each brand's "where is my order" inquiries against its orders, and
/// their types.
pub fn wismo(brands: &[BrandPanel<Wismo>]) -> Section {
    let id = SectionId::Wismo;
    let mut section = Section::new(id.as_str(), id.title());
    let live = live(&mut section, brands);
    let mut rates = table(
        "Inquiries",
        vec![
            col("Brand", K::Text),
            col("Inquiries", K::Count),
            col("Orders", K::Count),
            col("Inquiry rate", K::Percent),
            col("Linked to an order", K::Count),
            col("Repeat inquiries", K::Count),
            col("Repeat rate", K::Percent),
        ],
    );
    let mut types = table(
        "Types",
        vec![
            col("Brand", K::Text),
            col("Type", K::Text),
            col("Inquiries", K::Count),
        ],
    );
    for (brand, w) in live {
        rates.rows.push(vec![
            text(brand),
            count(w.inquiries),
            count(w.orders),
            percent(w.inquiry_rate),
            count(w.linked),
            count(w.repeat_inquiries),
            percent(w.repeat_rate),
        ]);
        for (kind, n) in &w.types {
            types.rows.push(vec![text(brand), text(*kind), count(*n)]);
        }
    }
    section.tables = vec![rates, types];
    section
}

/// CSAT by first response and resolution time, and first-contact
/// resolution, of each brand.
pub fn satisfaction(brands: &[BrandPanel<Satisfaction>]) -> Section {
    let id = SectionId::Satisfaction;
    let mut section = Section::new(id.as_str(), id.title());
    let live = live(&mut section, brands);
    let mut buckets = table(
        "CSAT by time taken",
        vec![
            col("Brand", K::Text),
            col("Measured by", K::Text),
            col("Time", K::Text),
            col("Surveys", K::Count),
            col("Mean score", K::Text),
        ],
    );
    let mut first = table(
        "First-contact resolution",
        vec![
            col("Brand", K::Text),
            col("Surveys", K::Count),
            col("Closed", K::Count),
            col("At first contact", K::Count),
            col("Rate", K::Percent),
        ],
    );
    for (brand, s) in live {
        for (what, by) in [
            ("first response", &s.by_first_response),
            ("resolution", &s.by_resolution),
        ] {
            for b in &by.buckets {
                buckets.rows.push(vec![
                    text(brand),
                    text(what),
                    text(b.bucket),
                    count(b.surveys),
                    score(b.mean),
                ]);
            }
        }
        first.rows.push(vec![
            text(brand),
            count(s.surveys),
            count(s.first_contact.closed),
            count(s.first_contact.at_first_contact),
            percent(s.first_contact.rate),
        ]);
    }
    section.tables = vec![buckets, first];
    section
}
