//! The refunds, returns and disputes queue (issue 15 point 1; METRICS.md
//! "Queues with deadlines"): every request or dispute waiting for the
//! merchant, each with its SLA clock ([`opsdeck_domain::sla::SlaClock`],
//! the one deadline rule), its order and a link to act in the platform,
//! breached first, then at risk, then by time left.
//!
//! What is in it:
//! - the waiting records the projection keeps ([`crate::projection::queue`]):
//!   return requests, ingest refund requests, disputes that need a
//!   response;
//! - open helpdesk tickets that ask for a refund, by the same keyword
//!   classifier where-is-my-order uses ([`crate::projection::text`]'s
//!   `REFUND` words in the subject or any message): a refund item whose
//!   clock starts when the ticket was created, linked to its order as the
//!   urgent queue links it. It leaves the queue when the ticket is closed.
//!
//! The clock: the kind's window from the item's start (24 h each by
//! default, [`SlaQueueConfig`]); a dispute is due at the sooner of its
//! window and its evidence due date.
//!
//! Money: an item's amount is a [`Money`] serialized through
//! [`crate::money_json`], so it reaches only viewers with revenue
//! permission; no amount is written into any text.
//!
//! Each item carries its customer's risk flags
//! ([`crate::customers::customer_risk`], the one rule: high value,
//! frequent returns, dispute history, each with its evidence): the
//! customer who placed the item's order, or the ticket's customer.
//!
//! Apart from the queue, [`waiting_on_bank`] lists the disputes under
//! review (evidence in, the bank deciding): no SLA of ours runs for them,
//! so they have no deadline and never breach or alert, but the person on
//! duty sees they are open.
//!
//! [`breaches`] counts the breached items per brand: the alert rule
//! `refund_queue_breach` and the daily digest of issue 16 read it.

use super::support::UNATTRIBUTED;
use super::PanelConfig;
use crate::customers::{customer_risk, CustomerOf, RiskFlag};
use crate::projection::links::linked_order;
use crate::projection::queue::{QueueKind, QueueRecord};
use crate::projection::text::REFUND;
use crate::projection::{BrandIx, Projection};
use jiff::SignedDuration;
use opsdeck_domain::sla::{human_duration, SlaClock, SlaState};
use opsdeck_domain::{Money, Timestamp};
use serde::Serialize;
use std::collections::BTreeMap;

/// The queue's windows per kind and where its items are acted on.
#[derive(Debug, Clone, PartialEq)]
pub struct SlaQueueConfig {
    pub return_window: SignedDuration,
    pub refund_window: SignedDuration,
    pub dispute_window: SignedDuration,
    /// Each Shopify source's admin address (`https://{shop}.myshopify.com/admin`),
    /// by source id: its items link to the order there (where its returns
    /// and disputes are worked), and its returns are decided through the
    /// returns mutations. A source not named here is a custom platform.
    pub shop_admin: BTreeMap<String, String>,
}

/// METRICS.md: 24 hours for refunds and returns, and for disputes (whose
/// evidence date may make them due sooner).
pub const DEFAULT_WINDOW: SignedDuration = SignedDuration::from_hours(24);

impl Default for SlaQueueConfig {
    fn default() -> Self {
        SlaQueueConfig {
            return_window: DEFAULT_WINDOW,
            refund_window: DEFAULT_WINDOW,
            dispute_window: DEFAULT_WINDOW,
            shop_admin: BTreeMap::new(),
        }
    }
}

impl SlaQueueConfig {
    pub fn window(&self, kind: QueueKind) -> SignedDuration {
        match kind {
            QueueKind::Return => self.return_window,
            QueueKind::Refund => self.refund_window,
            QueueKind::Dispute => self.dispute_window,
        }
    }

    /// The clock of an item of `kind` that started at `started_at`, due no
    /// later than `due_by` (a dispute's evidence date).
    pub fn clock(
        &self,
        kind: QueueKind,
        started_at: Timestamp,
        due_by: Option<Timestamp>,
    ) -> SlaClock {
        SlaClock::new(started_at, self.window(kind)).no_later_than(due_by)
    }
}

/// Where an item lives, which decides how it is acted on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ItemOrigin {
    /// A Shopify return or dispute: acted on in the Shopify admin, a
    /// return decided from the queue by the returns mutations.
    Shopify,
    /// A custom platform's request or dispute (ingest API): a decision is
    /// recorded in opsdeck.
    Platform,
    /// A helpdesk ticket asking for a refund: answered in the helpdesk.
    Helpdesk,
}

/// The order an item is about, as the queue shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueOrder {
    /// The order's name (`#1042`), or its id when the order is not known.
    pub name: String,
    /// The order's timeline in opsdeck.
    pub url: String,
}

/// One row of the queue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QueueItem {
    pub kind: QueueKind,
    pub origin: ItemOrigin,
    pub brand: String,
    /// The record's source, or `helpdesk` for a ticket.
    pub source: String,
    /// The return's, request's, dispute's or ticket's id in its source.
    pub external_id: String,
    /// The record's own status (`requested`, `needs_response`, `open`).
    pub status: String,
    pub reason: Option<String>,
    /// The ticket's subject, for a helpdesk item.
    pub subject: Option<String>,
    pub started_at: Timestamp,
    pub deadline: Timestamp,
    pub evidence_due_by: Option<Timestamp>,
    pub sla: SlaState,
    pub age_seconds: i64,
    /// Negative once breached (by how much it is overdue).
    pub time_left_seconds: i64,
    /// "5 h 10 min".
    pub age: String,
    /// "3 h 05 min left", or "overdue by 2 h 00 min".
    pub time_left: String,
    /// The order's external id in the item's source.
    pub order_id: Option<String>,
    pub order: Option<QueueOrder>,
    /// The customer's name or e-mail where the queue knows it (a ticket's
    /// customer; the order's customer is added by whoever reads the store).
    pub customer: Option<String>,
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub amount: Option<Money>,
    /// Where to act on it in the platform (Shopify admin, the helpdesk).
    pub act_url: Option<String>,
    /// The customer's risk flags with their evidence (amounts in it only
    /// where revenue is shown); empty when none is raised or opsdeck
    /// knows nothing of the customer.
    pub customer_risk: Vec<RiskFlag>,
    /// The record's `updated_at` as the queue read it (none for tickets).
    pub updated_at: Option<Timestamp>,
}

impl QueueItem {
    /// Whether the queue may decide it itself: a return or refund request
    /// (not a dispute, not a ticket) still requested.
    pub fn decidable(&self) -> bool {
        matches!(self.kind, QueueKind::Return | QueueKind::Refund)
            && matches!(self.origin, ItemOrigin::Shopify | ItemOrigin::Platform)
    }
}

/// The order of the queue: breached first, then at risk, then on track;
/// within each, the least time left first (the most overdue first among
/// the breached); ties by brand and id so the order is stable.
fn rank(a: &QueueItem, b: &QueueItem) -> std::cmp::Ordering {
    b.sla
        .cmp(&a.sla)
        .then(a.deadline.cmp(&b.deadline))
        .then_with(|| a.brand.cmp(&b.brand))
        .then_with(|| a.external_id.cmp(&b.external_id))
}

fn time_left_text(left: SignedDuration) -> String {
    if left.is_negative() {
        format!("overdue by {}", human_duration(left))
    } else {
        format!("{} left", human_duration(left))
    }
}

/// The queue of brands `brands` at `now`, ranked (see [`rank`]).
pub fn refunds_queue(
    p: &Projection,
    cfg: &PanelConfig,
    brands: &[BrandIx],
    now: Timestamp,
) -> Vec<QueueItem> {
    let mut out = Vec::new();
    for &b in brands {
        if usize::from(b) >= p.ctx.brands.len() {
            continue;
        }
        for r in p.ops.queue.of_brand(b) {
            out.push(record_item(p, cfg, b, r, now));
        }
        out.extend(ticket_items(p, cfg, b, now));
    }
    out.sort_by(rank);
    out
}

fn item_clock(
    cfg: &SlaQueueConfig,
    kind: QueueKind,
    started_at: Timestamp,
    due_by: Option<Timestamp>,
    now: Timestamp,
) -> (SlaClock, SlaState, SignedDuration, SignedDuration) {
    let clock = cfg.clock(kind, started_at, due_by);
    (
        clock,
        clock.state_at(now),
        clock.age_at(now),
        clock.time_left_at(now),
    )
}

/// The order a stored record is about, as the queue shows it.
fn record_order(p: &Projection, r: &QueueRecord) -> Option<QueueOrder> {
    r.order_id.as_deref().map(|id| {
        let name = p
            .orders
            .rows
            .get(&r.order_key())
            .filter(|o| o.number != 0)
            .map_or_else(|| id.to_string(), |o| format!("#{}", o.number));
        QueueOrder {
            name,
            url: format!("/orders/{}/{}", r.source.as_str(), id),
        }
    })
}

/// Where a Shopify record is acted on in the shop's admin `admin`: its
/// order's page (where a return request is approved or declined and a
/// dispute's evidence is reached), else the disputes or orders list.
fn shopify_act_url(admin: &str, r: &QueueRecord) -> String {
    let admin = admin.trim_end_matches('/');
    match &r.order_id {
        Some(order) => format!("{admin}/orders/{order}"),
        None => match r.kind {
            QueueKind::Dispute => format!("{admin}/payments/disputes"),
            _ => format!("{admin}/orders"),
        },
    }
}

fn record_item(
    p: &Projection,
    cfg: &PanelConfig,
    b: BrandIx,
    r: &QueueRecord,
    now: Timestamp,
) -> QueueItem {
    let q = &cfg.sla_queue;
    let (clock, sla, age, left) = item_clock(q, r.kind, r.started_at, r.evidence_due_by, now);
    let admin = q.shop_admin.get(r.source.as_str());
    let order = record_order(p, r);
    let act_url = admin.map(|admin| shopify_act_url(admin, r));
    let risk = r
        .order_id
        .as_deref()
        .and_then(|order| {
            customer_risk(
                p,
                cfg,
                CustomerOf::Order {
                    source: r.source.as_str(),
                    external_id: order,
                },
            )
        })
        .map(|risk| risk.flags)
        .unwrap_or_default();
    QueueItem {
        kind: r.kind,
        origin: match admin {
            Some(_) => ItemOrigin::Shopify,
            None => ItemOrigin::Platform,
        },
        brand: p.brand(b).id.as_str().to_string(),
        source: r.source.as_str().to_string(),
        external_id: r.external_id.clone(),
        status: r.status.clone(),
        reason: r.reason.clone(),
        subject: None,
        started_at: r.started_at,
        deadline: clock.deadline,
        evidence_due_by: r.evidence_due_by,
        sla,
        age_seconds: age.as_secs(),
        time_left_seconds: left.as_secs(),
        age: human_duration(age),
        time_left: time_left_text(left),
        order_id: r.order_id.clone(),
        order,
        customer: None,
        amount: r.amount,
        act_url,
        customer_risk: risk,
        updated_at: Some(r.updated_at),
    }
}

/// Open tickets of brand `b` asking for a refund.
fn ticket_items(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Vec<QueueItem> {
    if b == UNATTRIBUTED {
        return Vec::new();
    }
    let mut out = Vec::new();
    for ((_, created, key), _) in p
        .support
        .open
        .range((b, i64::MIN, 0)..=(b, i64::MAX, u64::MAX))
    {
        let Some(row) = p.support.tickets.get(key) else {
            continue;
        };
        if row.hidden || row.words().words & REFUND == 0 {
            continue;
        }
        let Some(text) = row.text.as_deref() else {
            continue;
        };
        let started_at = Timestamp::from_second(*created).unwrap_or(now);
        let (clock, sla, age, left) =
            item_clock(&cfg.sla_queue, QueueKind::Refund, started_at, None, now);
        let link = linked_order(&p.orders, b, row);
        let who = match (row.email, link) {
            (0, Some(order)) => Some(CustomerOf::OrderKey(order)),
            (0, None) => None,
            (email, _) => Some(CustomerOf::EmailKey(email)),
        };
        let risk = who
            .and_then(|c| customer_risk(p, cfg, c))
            .map(|r| r.flags)
            .unwrap_or_default();
        let order = link
            .and_then(|k| p.orders.rows.get(&k))
            .filter(|o| o.number != 0)
            .map(|o| QueueOrder {
                name: format!("#{}", o.number),
                url: format!("/orders/by-number/{}/{}", p.brand(b).id.as_str(), o.number),
            });
        out.push(QueueItem {
            kind: QueueKind::Refund,
            origin: ItemOrigin::Helpdesk,
            brand: p.brand(b).id.as_str().to_string(),
            source: "helpdesk".to_string(),
            external_id: text.external_id.to_string(),
            status: "open".to_string(),
            reason: None,
            subject: Some(text.subject.to_string()).filter(|s| !s.is_empty()),
            started_at,
            deadline: clock.deadline,
            evidence_due_by: None,
            sla,
            age_seconds: age.as_secs(),
            time_left_seconds: left.as_secs(),
            age: human_duration(age),
            time_left: time_left_text(left),
            order_id: None,
            order,
            customer: Some(text.customer.to_string()).filter(|c| !c.is_empty()),
            amount: None,
            act_url: cfg
                .helpdesk_ticket_url
                .as_ref()
                .map(|base| format!("{base}{}", text.external_id)),
            customer_risk: risk,
            updated_at: None,
        });
    }
    out
}

/// The breached items of each brand at `now`, most overdue first: what
/// the breach alert raises and what a digest counts.
pub fn breaches(p: &Projection, cfg: &PanelConfig, b: BrandIx, now: Timestamp) -> Vec<QueueItem> {
    refunds_queue(p, cfg, &[b], now)
        .into_iter()
        .filter(|i| i.sla == SlaState::Breached)
        .collect()
}

/// A dispute under review: its evidence is in and the bank decides. No
/// SLA runs for the merchant, so it has no deadline and never breaches;
/// the queue lists it apart, as waiting on the bank.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BankItem {
    pub origin: ItemOrigin,
    pub brand: String,
    pub source: String,
    pub external_id: String,
    /// `under_review`.
    pub status: String,
    pub reason: Option<String>,
    /// When the dispute was opened.
    pub started_at: Timestamp,
    pub evidence_due_by: Option<Timestamp>,
    pub age_seconds: i64,
    /// "12 d 3 h" since it was opened.
    pub age: String,
    pub order_id: Option<String>,
    pub order: Option<QueueOrder>,
    #[serde(serialize_with = "crate::money_json::serialize_option")]
    pub amount: Option<Money>,
    /// Where to follow it in the platform (Shopify admin).
    pub act_url: Option<String>,
}

/// The disputes of brands `brands` under review at the bank at `now`,
/// oldest first (ties by brand and id).
pub fn waiting_on_bank(
    p: &Projection,
    cfg: &PanelConfig,
    brands: &[BrandIx],
    now: Timestamp,
) -> Vec<BankItem> {
    let mut out = Vec::new();
    for &b in brands {
        if usize::from(b) >= p.ctx.brands.len() {
            continue;
        }
        for r in p.ops.queue.with_bank_of_brand(b) {
            let admin = cfg.sla_queue.shop_admin.get(r.source.as_str());
            let age = now.duration_since(r.started_at).max(SignedDuration::ZERO);
            out.push(BankItem {
                origin: match admin {
                    Some(_) => ItemOrigin::Shopify,
                    None => ItemOrigin::Platform,
                },
                brand: p.brand(b).id.as_str().to_string(),
                source: r.source.as_str().to_string(),
                external_id: r.external_id.clone(),
                status: r.status.clone(),
                reason: r.reason.clone(),
                started_at: r.started_at,
                evidence_due_by: r.evidence_due_by,
                age_seconds: age.as_secs(),
                age: human_duration(age),
                order_id: r.order_id.clone(),
                order: record_order(p, r),
                amount: r.amount,
                act_url: admin.map(|admin| shopify_act_url(admin, r)),
            });
        }
    }
    out.sort_by(|a, b| {
        a.started_at
            .cmp(&b.started_at)
            .then_with(|| a.brand.cmp(&b.brand))
            .then_with(|| a.external_id.cmp(&b.external_id))
    });
    out
}
