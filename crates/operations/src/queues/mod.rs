//! The refunds, returns and disputes queue (issue 15 point 1): what the
//! person on duty works from, and the decisions they take from it.
//!
//! The items and their clocks are the metrics panel's
//! ([`opsdeck_metrics::panels::refunds_queue`], a pure function of the
//! projection, which the breach alert reads too); this module adds what
//! only the store knows and what a decision does:
//! - each item's customer (the order's), and the approval a refund waits
//!   for ("awaiting approval #N"), found by the item's key stored as the
//!   approval's subject ([`approval_subject`]);
//! - the disputes under review, apart: waiting on the bank, with no
//!   deadline ([`RefundQueue::waiting_on_bank`]);
//! - why the approve and decline buttons are disabled, when they are (a
//!   dispute or a ticket is acted on in its platform; a Shopify shop whose
//!   token lacks `write_returns`);
//! - [`RefundQueue::decide`]: a Shopify return is approved or declined by
//!   the returns mutations through the shop's GraphQL client (its cost
//!   bucket and retries), with the customer notified as the brand is
//!   configured; a custom platform's request is decided in opsdeck (the
//!   stored request takes the new status, so it leaves the queue). No
//!   outbound message tells a custom platform: it reads the decision back
//!   from the API or sees it on the dashboard (there is no decisions
//!   webhook for ingest sources yet). A refund request above the refund
//!   approval threshold is first sent for approval
//!   ([`crate::approvals`]) and decided once approved. Every decision is
//!   audited with who took it.

use crate::approvals::{Action, Approvals, NewRequest, Requested};
use crate::incidents::Actor;
use opsdeck_domain::{BrandId, ReturnStatus, SourceId, Timestamp};
use opsdeck_metrics::panels::refunds_queue::{
    refunds_queue, waiting_on_bank, BankItem, ItemOrigin, QueueItem,
};
use opsdeck_metrics::panels::PanelConfig;
use opsdeck_metrics::projection::queue::QueueKind;
use opsdeck_metrics::SharedProjection;
use opsdeck_sources::shopify::graphql::returns::{
    DeclineReason, MISSING_WRITE_RETURNS, WRITE_RETURNS,
};
use opsdeck_sources::shopify::graphql::{GraphqlClient, GraphqlError, GraphqlStats};
use opsdeck_store::{AnyRecord, ApprovalKind, ApprovalState, AuditAction, AuditEntry, Store};
use serde::Serialize;
use serde_json::json;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Where "now" comes from (a fixed clock in tests).
pub type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// A Shopify shop the queue decides returns on.
pub struct ShopReturns {
    pub graphql: Arc<GraphqlClient>,
    /// Whether Shopify e-mails the customer about the decision (the
    /// brand's `notify_customer_on_returns`).
    pub notify_customer: bool,
}

/// What a person decided.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    Approve,
    Decline {
        reason: DeclineReason,
        note: Option<String>,
    },
}

impl Decision {
    fn status(&self) -> ReturnStatus {
        match self {
            Decision::Approve => ReturnStatus::Approved,
            Decision::Decline { .. } => ReturnStatus::Rejected,
        }
    }

    fn audit_action(&self) -> AuditAction {
        match self {
            Decision::Approve => AuditAction::QueueApprove,
            Decision::Decline { .. } => AuditAction::QueueDecline,
        }
    }
}

/// How a decision ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Decided {
    /// Recorded (and, for Shopify, made there).
    Done { status: ReturnStatus },
    /// A refund over the threshold: sent for approval (or already waiting).
    AwaitingApproval { approval_id: String },
}

/// Why a decision was refused.
#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("{0} is not waiting in the refunds queue")]
    NotWaiting(String),
    #[error("{0}")]
    NotDecidable(String),
    #[error("shopify refused the decision: {0}")]
    Platform(String),
    #[error("the refund approval could not be requested: {0}")]
    Approval(String),
    #[error(transparent)]
    Store(#[from] opsdeck_store::StoreError),
}

/// One queue row as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct QueueRow {
    #[serde(flatten)]
    pub item: QueueItem,
    /// The order's customer (name, else e-mail), where the store knows it.
    pub order_customer: Option<String>,
    /// The approval a refund waits for.
    pub awaiting_approval: Option<String>,
    /// Whether approve and decline may be pressed; when not, why.
    pub decidable: bool,
    pub disabled_reason: Option<String>,
}

/// The queue: its items with what the store adds, and its decisions.
///
/// It reads the projection and the panels' configuration the caller gives
/// (the web's, which tests may replace), so it never holds a second copy.
pub struct RefundQueue {
    store: Arc<dyn Store>,
    shops: BTreeMap<String, ShopReturns>,
    approvals: Option<Arc<Approvals>>,
    clock: Clock,
    /// Each shop's answer to "does the token hold `write_returns`?",
    /// asked once (a grant changes by reinstalling the app, which restarts
    /// nothing here: the answer is asked again after a refused decision).
    write_granted: Mutex<BTreeMap<String, bool>>,
    /// Rung after a decision is stored, so the projection follower reads
    /// it at once and the item leaves the page without waiting for a poll.
    stored: Option<Arc<tokio::sync::Notify>>,
}

/// The key that ties an approval to the queue item it was requested for,
/// stored as the approval's subject ([`opsdeck_store::NewApproval::subject`])
/// and compared whole: `…/ret-1` never finds the approval of `…/ret-10`.
pub fn approval_subject(source: &str, external_id: &str) -> String {
    format!("refunds_queue:{source}/{external_id}")
}

impl RefundQueue {
    pub fn new(
        store: Arc<dyn Store>,
        shops: BTreeMap<String, ShopReturns>,
        approvals: Option<Arc<Approvals>>,
        clock: Clock,
    ) -> Self {
        RefundQueue {
            store,
            shops,
            approvals,
            clock,
            write_granted: Mutex::new(BTreeMap::new()),
            stored: None,
        }
    }

    /// The same queue, ringing `stored` after each decision it stores.
    pub fn waking(mut self, stored: Arc<tokio::sync::Notify>) -> Self {
        self.stored = Some(stored);
        self
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// The items of `brands` (ids, in the viewer's scope) of `kind` (all
    /// when `None`), ranked, with customers and approvals.
    pub async fn list(
        &self,
        projection: &SharedProjection,
        panel: &PanelConfig,
        brands: &[BrandId],
        kind: Option<QueueKind>,
        now: Timestamp,
    ) -> Result<Vec<QueueRow>, QueueError> {
        let items = {
            let p = projection.read().unwrap_or_else(|e| e.into_inner());
            let ix: Vec<_> = brands.iter().filter_map(|b| p.ctx.brand_ix(b)).collect();
            refunds_queue(&p, panel, &ix, now)
        };
        // The pending refund approvals by the item they were requested for.
        let pending: BTreeMap<String, String> = match &self.approvals {
            Some(a) => a
                .store()
                .approvals(Some(ApprovalState::Pending), 500)
                .await?
                .into_iter()
                .filter(|a| a.kind == ApprovalKind::Refund)
                .filter_map(|a| Some((a.subject?, a.id)))
                .collect(),
            None => BTreeMap::new(),
        };
        let mut rows = Vec::with_capacity(items.len());
        for item in items
            .into_iter()
            .filter(|i| kind.is_none_or(|k| i.kind == k))
        {
            let source = SourceId::parse(&item.source).ok();
            let order_customer = match (&item.order_id, source) {
                (Some(order), Some(source)) if item.origin != ItemOrigin::Helpdesk => self
                    .store
                    .get_order(&source, order)
                    .await?
                    .and_then(|o| o.customer)
                    .and_then(|c| c.name.filter(|n| !n.trim().is_empty()).or(c.email)),
                _ => None,
            };
            let awaiting_approval = pending
                .get(&approval_subject(&item.source, &item.external_id))
                .cloned();
            let disabled_reason = self.disabled_reason(&item).await;
            rows.push(QueueRow {
                decidable: disabled_reason.is_none() && awaiting_approval.is_none(),
                order_customer,
                awaiting_approval,
                disabled_reason,
                item,
            });
        }
        Ok(rows)
    }

    /// The disputes of `brands` under review at the bank, oldest first:
    /// listed apart from the queue, with no deadline
    /// ([`opsdeck_metrics::panels::refunds_queue::waiting_on_bank`]).
    pub fn waiting_on_bank(
        &self,
        projection: &SharedProjection,
        panel: &PanelConfig,
        brands: &[BrandId],
        now: Timestamp,
    ) -> Vec<BankItem> {
        let p = projection.read().unwrap_or_else(|e| e.into_inner());
        let ix: Vec<_> = brands.iter().filter_map(|b| p.ctx.brand_ix(b)).collect();
        waiting_on_bank(&p, panel, &ix, now)
    }

    /// Why the queue cannot decide `item` itself, or `None` when it can.
    async fn disabled_reason(&self, item: &QueueItem) -> Option<String> {
        match (item.kind, item.origin) {
            (QueueKind::Dispute, _) => Some(
                "a dispute is answered in its platform (submit evidence or accept it there)".into(),
            ),
            (_, ItemOrigin::Helpdesk) => Some("a ticket is answered in the helpdesk".into()),
            (_, ItemOrigin::Shopify) => match self.shops.get(&item.source) {
                None => Some(format!(
                    "no GraphQL client is configured for {}",
                    item.source
                )),
                Some(shop) => match self.write_granted(&item.source, shop).await {
                    Ok(true) => None,
                    Ok(false) => Some(MISSING_WRITE_RETURNS.to_string()),
                    Err(e) => Some(format!("the shop's access scopes could not be read: {e}")),
                },
            },
            (_, ItemOrigin::Platform) => None,
        }
    }

    async fn write_granted(&self, source: &str, shop: &ShopReturns) -> Result<bool, GraphqlError> {
        if let Some(known) = self
            .write_granted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(source)
        {
            return Ok(*known);
        }
        let granted = shop
            .graphql
            .granted_scopes(&mut GraphqlStats::default())
            .await?
            .iter()
            .any(|s| s == WRITE_RETURNS);
        self.write_granted
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(source.to_string(), granted);
        Ok(granted)
    }

    /// The brand of the waiting item `source`/`external_id`, if waiting.
    pub fn brand_of(
        &self,
        projection: &SharedProjection,
        source: &str,
        external_id: &str,
    ) -> Option<BrandId> {
        let p = projection.read().unwrap_or_else(|e| e.into_inner());
        let key = opsdeck_metrics::projection::keys::record_key(source, external_id);
        p.ops
            .queue
            .waiting
            .get(&key)
            .map(|r| p.brand(r.brand).id.clone())
    }

    /// Decides the request `source`/`external_id` as `who`.
    pub async fn decide(
        &self,
        projection: &SharedProjection,
        source: &str,
        external_id: &str,
        decision: Decision,
        who: &Actor,
    ) -> Result<Decided, QueueError> {
        let now = self.now();
        let subject = format!("{source}/{external_id}");
        let record = {
            let p = projection.read().unwrap_or_else(|e| e.into_inner());
            let key = opsdeck_metrics::projection::keys::record_key(source, external_id);
            p.ops.queue.waiting.get(&key).cloned()
        };
        let Some(record) = record else {
            return Err(QueueError::NotWaiting(subject));
        };
        if record.kind == QueueKind::Dispute {
            return Err(QueueError::NotDecidable(
                "a dispute is answered in its platform, not decided here".into(),
            ));
        }
        let brand = {
            let p = projection.read().unwrap_or_else(|e| e.into_inner());
            p.brand(record.brand).id.clone()
        };
        if record.kind == QueueKind::Refund && decision == Decision::Approve {
            if let Some(waiting) = self.refund_approval(&record, brand.as_str(), who).await? {
                return Ok(waiting);
            }
        }
        let source_id = record.source.clone();
        let mut request = self
            .store
            .get_return_request(&source_id, external_id)
            .await?
            .ok_or_else(|| QueueError::NotWaiting(subject.clone()))?;
        let mut platform = json!(null);
        if let Some(shop) = self.shops.get(source) {
            let gid = format!("gid://shopify/Return/{external_id}");
            let mut stats = GraphqlStats::default();
            let answer = match &decision {
                Decision::Approve => {
                    shop.graphql
                        .approve_return(&gid, shop.notify_customer, &mut stats)
                        .await
                }
                Decision::Decline { reason, note } => {
                    shop.graphql
                        .decline_return(
                            &gid,
                            *reason,
                            note.as_deref(),
                            shop.notify_customer,
                            &mut stats,
                        )
                        .await
                }
            };
            let decided = answer.map_err(|e| {
                // A scope granted since is seen on the next listing.
                self.write_granted
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .remove(source);
                QueueError::Platform(e.to_string())
            })?;
            platform = json!({
                "shopify_status": decided.status,
                "notify_customer": shop.notify_customer,
            });
        }
        request.record_status(decision.status(), now.max(request.updated_at));
        self.store
            .upsert(&[AnyRecord::ReturnRequest(request.clone())], None)
            .await?;
        if let Some(stored) = &self.stored {
            stored.notify_one();
        }
        let (reason, note) = match &decision {
            Decision::Approve => (None, None),
            Decision::Decline { reason, note } => (Some(reason.as_graphql()), note.clone()),
        };
        let audit = AuditEntry {
            at: now,
            actor: who.name.clone(),
            action: decision.audit_action(),
            subject: format!("{}:{subject}", record.kind.as_str()),
            payload: json!({
                "brand": brand.as_str(),
                "kind": record.kind.as_str(),
                "order_id": record.order_id,
                "status": request.status.as_str(),
                "decline_reason": reason,
                "note": note,
                "platform": platform,
            }),
            ip: who.ip.clone(),
        };
        self.store.record_audit(&audit).await?;
        Ok(Decided::Done {
            status: request.status,
        })
    }

    /// For a refund to approve: `Some` when it must wait for (or was just
    /// sent for) approval; `None` when it may go ahead (under the
    /// threshold, or its approval was granted).
    async fn refund_approval(
        &self,
        record: &opsdeck_metrics::projection::queue::QueueRecord,
        brand: &str,
        who: &Actor,
    ) -> Result<Option<Decided>, QueueError> {
        let Some(approvals) = &self.approvals else {
            return Ok(None);
        };
        let subject = approval_subject(record.source.as_str(), &record.external_id);
        let existing = approvals
            .store()
            .approvals_about(&subject)
            .await?
            .into_iter()
            .find(|a| a.kind == ApprovalKind::Refund);
        if let Some(a) = existing {
            match a.state {
                ApprovalState::Pending => {
                    return Ok(Some(Decided::AwaitingApproval { approval_id: a.id }))
                }
                ApprovalState::Approved | ApprovalState::Executing | ApprovalState::Executed => {
                    return Ok(None)
                }
                _ => {}
            }
        }
        let order = record
            .order_id
            .as_deref()
            .map(|o| format!(" (order {o})"))
            .unwrap_or_default();
        let requested = approvals
            .request_from_opsdeck(
                NewRequest {
                    kind: ApprovalKind::Refund,
                    brand: brand.to_string(),
                    summary: format!(
                        "refund request {}/{}{order}: approve the refund from the refunds queue",
                        record.source.as_str(),
                        record.external_id
                    ),
                    amount: record.amount,
                    percent_bp: None,
                    action: Action::Manual,
                    target_version: Some(record.updated_at.to_string()),
                    subject: Some(subject),
                },
                &who.name,
            )
            .await
            .map_err(|e| QueueError::Approval(e.to_string()))?;
        Ok(match requested {
            Requested::NotRequired => None,
            Requested::Pending(a) => Some(Decided::AwaitingApproval { approval_id: a.id }),
        })
    }

    /// The breached items per brand at `now`: what the daily digest
    /// (issue 16) counts (no digest exists yet; this is where it reads).
    pub fn breach_counts(
        projection: &SharedProjection,
        panel: &PanelConfig,
        now: Timestamp,
    ) -> BTreeMap<BrandId, usize> {
        let p = projection.read().unwrap_or_else(|e| e.into_inner());
        let mut out = BTreeMap::new();
        for (i, brand) in p.ctx.brands.iter().enumerate() {
            let Ok(b) = u8::try_from(i) else { continue };
            let n = opsdeck_metrics::panels::refunds_queue::breaches(&p, panel, b, now).len();
            out.insert(brand.id.clone(), n);
        }
        out
    }
}
