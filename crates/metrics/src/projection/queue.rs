//! The requests waiting in the refunds, returns and disputes queue (issue
//! 15 point 1), kept whole: they are few (a few percent of orders, for a
//! day or two each), and the queue shows each one with its order, amount
//! and reason, so a compact row would only move the lookups elsewhere.
//!
//! What waits:
//! - a return or exchange request in `requested` (Shopify's REQUESTED, or
//!   a custom platform's through the ingest API): a return item;
//! - a refund request in `requested` (ingest `kind: refund`): a refund
//!   item (the other refund item, a helpdesk ticket asking for one, is
//!   read from the open tickets by the panel, not kept here);
//! - a dispute that awaits the merchant's response
//!   ([`PaymentEvent::awaits_dispute_response`]): a dispute item, with its
//!   evidence due date.
//!
//! Beside them, apart: disputes under review (`under_review`: the evidence
//! is in and the bank decides). Nothing is left for the merchant to do, so
//! no SLA runs and none breaches; the queue shows them as waiting on the
//! bank so the person on duty knows they exist.
//!
//! Like every part of the projection, a record's entry is replaced whole:
//! an approved return or an answered dispute leaves the queue with the
//! change that says so.

use super::keys::record_key;
use super::BrandIx;
use opsdeck_domain::dispute::DisputeStatus;
use opsdeck_domain::{
    Money, PaymentEvent, ReturnKind, ReturnRequest, ReturnStatus, SourceId, Timestamp,
};
use serde::Serialize;
use std::collections::HashMap;

/// The three kinds of queue item; each has its own window
/// (`panels::refunds_queue::SlaQueueConfig`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum QueueKind {
    /// A return or exchange request waiting for a decision.
    Return,
    /// A refund asked for (an ingest request, or a helpdesk ticket).
    Refund,
    /// A dispute or chargeback waiting for the merchant's response.
    Dispute,
}

impl QueueKind {
    pub const ALL: [QueueKind; 3] = [QueueKind::Return, QueueKind::Refund, QueueKind::Dispute];

    pub fn as_str(self) -> &'static str {
        match self {
            QueueKind::Return => "return",
            QueueKind::Refund => "refund",
            QueueKind::Dispute => "dispute",
        }
    }

    /// The kind a filter names (`return`, `refund`, `dispute`).
    pub fn parse(s: &str) -> Option<QueueKind> {
        QueueKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The kind in words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            QueueKind::Return => "return request",
            QueueKind::Refund => "refund request",
            QueueKind::Dispute => "dispute",
        }
    }
}

/// One waiting return or refund request, or dispute, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct QueueRecord {
    pub kind: QueueKind,
    pub brand: BrandIx,
    pub source: SourceId,
    pub external_id: String,
    /// The order's external id in the same source.
    pub order_id: Option<String>,
    pub amount: Option<Money>,
    /// When the clock started: requested, or the dispute initiated.
    pub started_at: Timestamp,
    /// A dispute's evidence due date (its deadline when sooner than the
    /// window).
    pub evidence_due_by: Option<Timestamp>,
    pub reason: Option<String>,
    /// The record's own status (`requested`, `needs_response`, …).
    pub status: String,
    /// The record's `updated_at`, which a decision compares against.
    pub updated_at: Timestamp,
}

impl QueueRecord {
    /// The record key of the order it is about (0 for none).
    pub fn order_key(&self) -> u64 {
        self.order_id
            .as_deref()
            .map_or(0, |id| record_key(self.source.as_str(), id))
    }
}

/// The waiting records by record key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueueRecords {
    pub waiting: HashMap<u64, QueueRecord>,
    /// Disputes under review (evidence submitted, the bank deciding), by
    /// record key: shown apart from `waiting`, with no deadline.
    pub with_bank: HashMap<u64, QueueRecord>,
}

impl QueueRecords {
    pub(super) fn apply_return(&mut self, r: &ReturnRequest, b: BrandIx) {
        let key = record_key(r.source.as_str(), &r.external_id);
        self.waiting.remove(&key);
        if r.status != ReturnStatus::Requested {
            return;
        }
        let kind = match r.kind {
            ReturnKind::Refund => QueueKind::Refund,
            _ => QueueKind::Return,
        };
        self.waiting.insert(
            key,
            QueueRecord {
                kind,
                brand: b,
                source: r.source.clone(),
                external_id: r.external_id.clone(),
                order_id: r.order_id.clone(),
                amount: r.amount,
                started_at: r.requested_at,
                evidence_due_by: None,
                reason: r.reason.clone(),
                status: r.status.as_str().to_string(),
                updated_at: r.updated_at,
            },
        );
    }

    pub(super) fn apply_payment(&mut self, e: &PaymentEvent, b: BrandIx) {
        let key = record_key(e.source.as_str(), &e.external_id);
        self.waiting.remove(&key);
        self.with_bank.remove(&key);
        let under_review = e
            .dispute
            .as_ref()
            .is_some_and(|d| d.status == DisputeStatus::UnderReview);
        if !e.awaits_dispute_response() && !under_review {
            return;
        }
        let into = if under_review {
            &mut self.with_bank
        } else {
            &mut self.waiting
        };
        into.insert(
            key,
            QueueRecord {
                kind: QueueKind::Dispute,
                brand: b,
                source: e.source.clone(),
                external_id: e.external_id.clone(),
                order_id: e.order_id.clone(),
                amount: e.amount,
                started_at: e.occurred_at,
                evidence_due_by: e.dispute.as_ref().and_then(|d| d.evidence_due_by),
                reason: e.reason.clone(),
                status: e
                    .dispute
                    .as_ref()
                    .map_or(e.kind.as_str(), |d| d.status.as_str())
                    .to_string(),
                updated_at: e.updated_at,
            },
        );
    }

    /// The waiting records of brand `b`, in no particular order.
    pub fn of_brand(&self, b: BrandIx) -> impl Iterator<Item = &QueueRecord> + '_ {
        self.waiting.values().filter(move |r| r.brand == b)
    }

    /// The disputes of brand `b` under review at the bank, in no
    /// particular order.
    pub fn with_bank_of_brand(&self, b: BrandIx) -> impl Iterator<Item = &QueueRecord> + '_ {
        self.with_bank.values().filter(move |r| r.brand == b)
    }
}
