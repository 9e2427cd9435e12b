//! Webhooks, after receipt: from the store's webhook inbox to records.
//!
//! The web receiver commits each verified delivery to the inbox before
//! answering; this module turns pending inbox events into domain upserts
//! ([`process_inbox_once`], one step, what tests drive) and runs that step
//! whenever the receiver signals new events ([`run_inbox_loop`]).
//!
//! Exactly-once in effect: a step's records and the marks that its events
//! are processed are one transaction, so a crash applies all or nothing of
//! it. Effects outside that transaction (an `app/uninstalled` note, written
//! before its event is marked) are at-least-once, and every effect is
//! idempotent anyway — whole
//! records go through the store's newer-wins upsert, a fulfillment is merged
//! into an order by the one domain rule ([`Order::merge_fulfillment`]: a copy
//! older than the stored one is ignored, the same copy again changes
//! nothing), and a refund is added only if its id is not there yet.
//!
//! Topics ([`WebhookTopic`], matched exhaustively in `apply`):
//! - `orders/*` carry the whole order → upsert.
//! - `fulfillments/create|update` and `refunds/create` carry one part and
//!   its `order_id` → merged into the stored order. When the order is not
//!   stored yet (its `orders/create` is late, or predates the first sync),
//!   the event is retried with backoff: the order arrives through its own
//!   webhook or the next sync, which already contains the part. After
//!   [`InboxSettings::max_attempts`] the event is marked failed, visibly.
//!   A refund given back in the customer's (presentment) currency is stored
//!   in the stored order's currency, at the order's rate as the refund's own
//!   two-currency amounts (refunded lines, order adjustments) give it: the
//!   stored order keeps no presentment figures. A presentment refund with
//!   none of them cannot be converted and fails at once, naming the field.
//! - `products/create|update` → upsert; `products/delete` ({id}) → the stored
//!   product gets `deleted_at` (the delivery's trigger time); a product never
//!   stored has nothing to mark and is noted so.
//! - `inventory_levels/update` → upsert.
//! - `app/uninstalled` → the source's `webhooks` sync state gets a
//!   `last_error` saying so, which `/api/v1/sources` shows.
//! - `bulk_operations/finish` → wakes the backfill of that shop waiting for
//!   that operation ([`BulkFinishes`], the sync worker's); no record. The
//!   backfill asks Shopify for the operation itself, so a forged or stale
//!   delivery costs one look, nothing more.
//! - `disputes/create|update` → the dispute as a payment event (upsert);
//!   `customers/update` → the customer's lifetime figures (upsert; a payload
//!   without `orders_count`/`total_spent` fails naming the field);
//!   `checkouts/create|update` → the abandoned checkout (upsert);
//!   `customers/data_request`, `customers/redact`, `shop/redact` (the
//!   compliance webhooks) → a privacy request filed in the store (one per
//!   Shopify request or webhook id), worked in the background by
//!   `opsdeck_operations::privacy`; a payload naming no one fails naming
//!   the field;
//!   `checkouts/delete` → noted (a checkout that is gone stays as last
//!   seen: the funnel counts it as abandoned all the same).
//! - `returns/request` → the return, requested at the delivery's trigger
//!   time (upsert; joined to the history of one already stored). A return's
//!   payloads carry no time, so each change happens at its delivery's
//!   trigger time: `returns/approve|decline|cancel|close|reopen|process`
//!   record the status they reached on the stored return (its status, the
//!   status history, `resolved_at`; a decline's reason). One not stored yet
//!   is retried (its request, or the returns sync, comes first).
//!   `returns/update` (lines added or removed) and a `returns/process`
//!   without a status are noted: opsdeck keeps no return lines. A
//!   `returns/*` topic opsdeck does not know is kept by the receiver and
//!   failed here naming it ([`WebhookTopic::keeps_unknown`]).
//!
//! A payload that does not normalize will not get better by retrying: it is
//! marked failed at once with the field and reason.
//!
//! The Gorgias helpdesk's events share the inbox (topics `gorgias/*`) and
//! are applied here too (the private `gorgias::apply`).
//!
//! Failures do not stay in the log: each failed attempt is recorded on the
//! source's `webhooks` sync state (topic, webhook id and reason as its
//! `last_error`, one more `errors`), and an event given up on counts as a
//! consecutive failure, which /sources shows and the "source stale" alert
//! counts; a later step that applies the source's webhooks again clears the
//! count (the failed events stay listed for a person).

mod gorgias;

use crate::gorgias::GorgiasConnector;
use crate::shopify::bulk_finish::BulkFinishes;
use opsdeck_domain::privacy::PrivacyVia;
use opsdeck_domain::{Applied, Order, Product, ReturnRequest, ReturnStatus, SourceId, Timestamp};
use opsdeck_sources::shopify::compliance::{compliance_request_from_json, ComplianceRequest};
use opsdeck_sources::shopify::graphql::BulkFinished;
use opsdeck_sources::shopify::normalize::{
    fulfillment_from_json, inventory_level_from_json, order_from_json, order_from_text,
    product_from_json, refund_from_json, NormalizeContext,
};
use opsdeck_sources::shopify::webhook_records::{
    abandoned_checkout_from_json, customer_from_json, dispute_from_json, return_change_from_json,
    return_request_from_json,
};
use opsdeck_sources::shopify::WebhookTopic;
use opsdeck_store::privacy::PrivacyRequest;
use opsdeck_store::{
    AnyRecord, AppliedWebhooks, Store, StoreError, StoredWebhook, SyncState, WEBHOOKS_RESOURCE,
};
use opsdeck_store::{AuditAction, AuditEntry};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Notify};

/// How the inbox worker paces itself.
#[derive(Debug, Clone)]
pub struct InboxSettings {
    /// Events taken per step.
    pub batch: u32,
    /// Failed attempts after which an event is given up on (marked failed).
    pub max_attempts: u32,
    /// The first retry waits this long, each further one twice as long
    /// (capped at ten minutes).
    pub backoff_base: Duration,
    /// How often the loop looks for retries that became due without a new
    /// delivery waking it.
    pub poll_every: Duration,
    /// During a burst, steps begin at most this often: each step is a
    /// transaction holding the database's write lock, which the receiver
    /// needs for every commit of new deliveries, so fewer, larger steps
    /// leave it more of the lock.
    pub burst_step_every: Duration,
    /// Events per second (taken by a step of more than one event, over the
    /// time since the previous step began) from which deliveries count as a
    /// burst. Below it every step follows its wake-up at once, so a trickle
    /// of deliveries (an order, its alert, the next order) is applied
    /// without waiting.
    pub burst_rate: f64,
}

impl Default for InboxSettings {
    fn default() -> Self {
        InboxSettings {
            batch: 500,
            max_attempts: 8,
            backoff_base: Duration::from_secs(2),
            poll_every: Duration::from_secs(1),
            burst_step_every: Duration::from_millis(50),
            burst_rate: 500.0,
        }
    }
}

/// The configured shops, by source, with what normalizing needs.
#[derive(Debug, Clone, Default)]
pub struct WebhookShops {
    shops: HashMap<SourceId, NormalizeContext>,
    /// The Gorgias helpdesk whose HTTP-integration events share the inbox.
    helpdesk: Option<Arc<GorgiasConnector>>,
    /// The backfills waiting for a bulk operation to finish, woken by
    /// `bulk_operations/finish` (the sync worker's map).
    bulk_finishes: Option<Arc<BulkFinishes>>,
}

impl WebhookShops {
    pub fn new(contexts: impl IntoIterator<Item = NormalizeContext>) -> Self {
        WebhookShops {
            shops: contexts
                .into_iter()
                .map(|c| (c.source.clone(), c))
                .collect(),
            helpdesk: None,
            bulk_finishes: None,
        }
    }

    /// Wakes the backfills waiting in `finishes` when their operation's
    /// `bulk_operations/finish` arrives.
    pub fn with_bulk_finishes(mut self, finishes: Arc<BulkFinishes>) -> Self {
        self.bulk_finishes = Some(finishes);
        self
    }

    /// Also applies the helpdesk's events (`gorgias/*` topics of its
    /// source), attributed by the same connector the sync uses.
    pub fn with_helpdesk(mut self, connector: Arc<GorgiasConnector>) -> Self {
        self.helpdesk = Some(connector);
        self
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InboxStep {
    /// Events taken from the inbox.
    pub taken: usize,
    pub processed: usize,
    /// Failed this time, to be retried later.
    pub retrying: usize,
    /// Given up on (payload unusable, or too many attempts).
    pub failed: usize,
}

/// Why an event could not be applied.
enum Failure {
    /// May succeed later (the order it refers to is not stored yet).
    Retry(String),
    /// Will not succeed by waiting.
    Permanent(String),
}

/// The records of the batch, in event order, and what to note per event.
struct Batch<'a> {
    store: &'a dyn Store,
    /// Backfills to wake on `bulk_operations/finish`.
    bulk_finishes: Option<&'a BulkFinishes>,
    /// Newest known copy of each order touched by the batch.
    orders: HashMap<(SourceId, String), Order>,
    products: HashMap<(SourceId, String), Product>,
    /// Newest known copy of each return touched by the batch (a request
    /// and its approval may arrive together).
    returns: HashMap<(SourceId, String), ReturnRequest>,
    records: Vec<AnyRecord>,
    /// Per record: the event it came from and a label for the note.
    owners: Vec<(i64, String)>,
}

impl Batch<'_> {
    async fn order(&mut self, source: &SourceId, id: &str) -> Result<Option<Order>, StoreError> {
        let key = (source.clone(), id.to_string());
        if let Some(o) = self.orders.get(&key) {
            return Ok(Some(o.clone()));
        }
        let stored = self.store.get_order(source, id).await?;
        if let Some(o) = &stored {
            self.orders.insert(key, o.clone());
        }
        Ok(stored)
    }

    fn push_order(&mut self, event: i64, order: Order) {
        let key = (order.source.clone(), order.external_id.clone());
        let newer = self
            .orders
            .get(&key)
            .is_none_or(|o| o.updated_at <= order.updated_at);
        if newer {
            self.orders.insert(key, order.clone());
        }
        self.owners
            .push((event, format!("order {}", order.external_id)));
        self.records.push(AnyRecord::Order(order));
    }

    /// A record of a kind no other event of the batch reads back.
    fn push(&mut self, event: i64, record: AnyRecord) -> Option<String> {
        self.owners
            .push((event, format!("{} {}", record.kind(), record.external_id())));
        self.records.push(record);
        None
    }

    async fn return_request(
        &mut self,
        source: &SourceId,
        id: &str,
    ) -> Result<Option<ReturnRequest>, StoreError> {
        let key = (source.clone(), id.to_string());
        if let Some(r) = self.returns.get(&key) {
            return Ok(Some(r.clone()));
        }
        let stored = self.store.get_return_request(source, id).await?;
        if let Some(r) = &stored {
            self.returns.insert(key, r.clone());
        }
        Ok(stored)
    }

    fn push_return(&mut self, event: i64, request: ReturnRequest) {
        let key = (request.source.clone(), request.external_id.clone());
        if self
            .returns
            .get(&key)
            .is_none_or(|r| r.updated_at <= request.updated_at)
        {
            self.returns.insert(key, request.clone());
        }
        self.owners
            .push((event, format!("return {}", request.external_id)));
        self.records.push(AnyRecord::ReturnRequest(request));
    }

    fn push_product(&mut self, event: i64, product: Product) {
        let key = (product.source.clone(), product.external_id.clone());
        if self
            .products
            .get(&key)
            .is_none_or(|p| p.updated_at <= product.updated_at)
        {
            self.products.insert(key, product.clone());
        }
        self.owners
            .push((event, format!("product {}", product.external_id)));
        self.records.push(AnyRecord::Product(product));
    }
}

/// Files a compliance webhook's privacy request (idempotent: one per
/// Shopify request id, or per webhook id) for the privacy worker of
/// `opsdeck-operations`, which does the work within 30 days. Written
/// before the event is marked processed: at-least-once, and the unique
/// key makes a second filing a no-op.
async fn file_privacy_request(
    store: &dyn Store,
    ctx: &NormalizeContext,
    hook: &StoredWebhook,
    request: ComplianceRequest,
) -> Result<String, StoreError> {
    let e = &hook.event;
    let key = match &request.platform_request_id {
        Some(id) => format!("data_request:{id}"),
        None => format!("webhook:{}", e.webhook_id),
    };
    let filed = PrivacyRequest::received(
        ctx.source.as_str(),
        &key,
        request.kind,
        PrivacyVia::ShopifyWebhook,
        Some(ctx.brand.clone()),
        request.subject,
        e.received_at,
        &format!("shopify:{}", e.shop_domain),
    );
    let audit = AuditEntry {
        at: e.received_at,
        actor: filed.requested_by.clone(),
        action: AuditAction::PrivacyRequest,
        subject: String::new(),
        payload: serde_json::json!({
            "kind": request.kind.as_str(),
            "via": "shopify_webhook",
            "topic": e.topic,
            "webhook_id": e.webhook_id,
        }),
        ip: None,
    };
    Ok(match store.privacy_request_insert(&filed, &audit).await? {
        Some(id) => format!("privacy request {id} ({}) filed", request.kind.as_str()),
        None => format!("privacy request {key} already filed"),
    })
}

/// A payload's `id`, as text, for a note.
fn id_text(raw: &Value) -> String {
    match raw.get("id") {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => opsdeck_domain::bounds::excerpt(s),
        _ => "without id".into(),
    }
}

fn parse(body: &str) -> Result<Value, Failure> {
    serde_json::from_str(body).map_err(|e| Failure::Permanent(format!("body is not JSON: {e}")))
}

fn permanent(e: impl std::fmt::Display) -> Failure {
    Failure::Permanent(e.to_string())
}

/// Applies one event to the batch. `Ok(Some(note))` when it is done without
/// a record (nothing to do, or a sync-state write).
async fn apply(
    batch: &mut Batch<'_>,
    ctx: &NormalizeContext,
    hook: &StoredWebhook,
) -> Result<Result<Option<String>, Failure>, StoreError> {
    let e = &hook.event;
    let at = e.triggered_at.unwrap_or(e.received_at);
    let topic = WebhookTopic::parse(&e.topic);
    if topic.is_some_and(WebhookTopic::carries_order) {
        // The common case, decoded straight from the text.
        if let Some(decoded) = order_from_text(ctx, &e.body) {
            return Ok(match decoded {
                Ok(order) => {
                    batch.push_order(hook.id, order);
                    Ok(None)
                }
                Err(err) => Err(permanent(err)),
            });
        }
    }
    let raw = match parse(&e.body) {
        Ok(v) => v,
        Err(f) => return Ok(Err(f)),
    };
    let Some(topic) = topic else {
        if WebhookTopic::keeps_unknown(&e.topic) {
            tracing::warn!(topic = %e.topic, "a returns topic opsdeck does not know: not applied");
            return Ok(Err(Failure::Permanent(format!(
                "topic {} is a returns topic opsdeck does not know: not applied (the returns \
                 sync reads the return whole at its next run)",
                e.topic
            ))));
        }
        return Ok(Err(Failure::Permanent(format!(
            "topic {} not handled",
            e.topic
        ))));
    };
    // Every topic has its arm: a new `WebhookTopic` does not compile until
    // it is handled here.
    use WebhookTopic as T;
    let done = match topic {
        T::OrdersCreate
        | T::OrdersUpdated
        | T::OrdersCancelled
        | T::OrdersFulfilled
        | T::OrdersPartiallyFulfilled => match order_from_json(ctx, &raw) {
            Ok(order) => {
                batch.push_order(hook.id, order);
                None
            }
            Err(err) => return Ok(Err(permanent(err))),
        },
        T::FulfillmentsCreate | T::FulfillmentsUpdate => {
            let (order_id, ful, lines) = match fulfillment_from_json(&raw) {
                Ok(f) => (f.order_id, f.fulfillment, f.shipped),
                Err(err) => return Ok(Err(permanent(err))),
            };
            let Some(mut order) = batch.order(&ctx.source, &order_id).await? else {
                return Ok(Err(Failure::Retry(format!(
                    "order {order_id} of fulfillment {} is not stored yet",
                    ful.external_id
                ))));
            };
            // The one merge (domain): equal timestamps apply, older is
            // stale, line quantities follow.
            let fulfillment_id = ful.external_id.clone();
            if order.merge_fulfillment(ful, &lines) == Applied::Stale {
                return Ok(Ok(Some(format!(
                    "fulfillment {fulfillment_id} of order {order_id}: stored copy is newer"
                ))));
            }
            batch.push_order(hook.id, order);
            None
        }
        T::RefundsCreate => {
            let Some(order_id) = raw.get("order_id").map(|v| v.to_string()) else {
                return Ok(Err(Failure::Permanent(
                    "refund: field `order_id`: missing".into(),
                )));
            };
            let order_id = order_id.trim_matches('"').to_string();
            let Some(mut order) = batch.order(&ctx.source, &order_id).await? else {
                return Ok(Err(Failure::Retry(format!(
                    "order {order_id} of the refund is not stored yet"
                ))));
            };
            let (_, refund) = match refund_from_json(order.currency, &raw) {
                Ok(parts) => parts,
                Err(err) => return Ok(Err(permanent(err))),
            };
            if order
                .refunds
                .iter()
                .any(|r| r.external_id == refund.external_id)
            {
                return Ok(Ok(Some(format!(
                    "refund {} of order {order_id}: already stored",
                    refund.external_id
                ))));
            }
            order.updated_at = order.updated_at.max(refund.created_at);
            order.refunds.push(refund);
            batch.push_order(hook.id, order);
            None
        }
        T::ProductsCreate | T::ProductsUpdate => match product_from_json(ctx, &raw) {
            Ok(product) => {
                batch.push_product(hook.id, product);
                None
            }
            Err(err) => return Ok(Err(permanent(err))),
        },
        T::ProductsDelete => {
            let id = match raw.get("id") {
                Some(Value::Number(n)) => n.to_string(),
                Some(Value::String(s)) if !s.is_empty() => s.clone(),
                _ => {
                    return Ok(Err(Failure::Permanent(
                        "product delete without `id`".into(),
                    )))
                }
            };
            let key = (ctx.source.clone(), id.clone());
            let current = match batch.products.get(&key) {
                Some(p) => Some(p.clone()),
                None => batch.store.get_product(&ctx.source, &id).await?,
            };
            match current {
                None => Some(format!("product {id} was never stored: nothing to mark")),
                Some(p) if p.deleted_at.is_some() => {
                    Some(format!("product {id} already marked deleted"))
                }
                Some(mut p) => {
                    p.deleted_at = Some(at);
                    p.updated_at = p.updated_at.max(at);
                    batch.push_product(hook.id, p);
                    None
                }
            }
        }
        T::InventoryLevelsUpdate => match inventory_level_from_json(ctx, &raw) {
            Ok(level) => {
                batch
                    .owners
                    .push((hook.id, format!("inventory level {}", level.external_id)));
                batch.records.push(AnyRecord::InventoryLevel(level));
                None
            }
            Err(err) => return Ok(Err(permanent(err))),
        },
        T::DisputesCreate | T::DisputesUpdate => match dispute_from_json(ctx, &raw) {
            Ok(d) => batch.push(hook.id, AnyRecord::PaymentEvent(d.event)),
            Err(err) => return Ok(Err(permanent(err))),
        },
        T::CustomersUpdate => match customer_from_json(ctx, &raw) {
            Ok(c) => batch.push(hook.id, AnyRecord::CustomerSummary(c)),
            Err(err) => return Ok(Err(permanent(err))),
        },
        T::CheckoutsCreate | T::CheckoutsUpdate => match abandoned_checkout_from_json(ctx, &raw) {
            Ok(c) => batch.push(hook.id, AnyRecord::AbandonedCheckout(c)),
            Err(err) => return Ok(Err(permanent(err))),
        },
        T::CustomersDataRequest | T::CustomersRedact | T::ShopRedact => {
            let request = match compliance_request_from_json(topic, &raw) {
                Some(Ok(r)) => r,
                Some(Err(err)) => return Ok(Err(permanent(err))),
                None => {
                    return Ok(Err(Failure::Permanent(format!(
                        "{topic}: not a compliance topic"
                    ))))
                }
            };
            Some(file_privacy_request(batch.store, ctx, hook, request).await?)
        }
        T::CheckoutsDelete => Some(format!(
            "checkout {} deleted at Shopify: kept as last seen",
            id_text(&raw)
        )),
        T::ReturnsRequest => match return_request_from_json(ctx, &raw, at) {
            Ok(r) => {
                // Already stored (the sync was first, or a later change
                // arrived before it): the request joins its history.
                let request = match batch
                    .return_request(&ctx.source, &r.request.external_id)
                    .await?
                {
                    Some(mut stored) => {
                        stored.record_status(r.request.status.clone(), at);
                        stored
                    }
                    None => r.request,
                };
                batch.push_return(hook.id, request);
                None
            }
            Err(err) => return Ok(Err(permanent(err))),
        },
        T::ReturnsApprove
        | T::ReturnsDecline
        | T::ReturnsCancel
        | T::ReturnsClose
        | T::ReturnsReopen
        | T::ReturnsProcess
        | T::ReturnsUpdate => {
            let change = match return_change_from_json(topic, &raw) {
                Ok(change) => change,
                Err(err) => return Ok(Err(permanent(err))),
            };
            let Some(status) = change.status else {
                return Ok(Ok(Some(format!(
                    "return {}: {topic} changes no status ({} units of its lines removed); \
                     opsdeck keeps no return lines",
                    change.return_id, change.lines_removed
                ))));
            };
            match batch.return_request(&ctx.source, &change.return_id).await? {
                None => {
                    return Ok(Err(Failure::Retry(format!(
                        "return {} is not stored yet: its request (webhook or returns sync) \
                         comes first",
                        change.return_id
                    ))))
                }
                Some(mut r) => {
                    if status == ReturnStatus::Rejected {
                        r.reason = change.decline_reason.or(r.reason);
                    }
                    r.order_id = r.order_id.or(change.order_id);
                    r.record_status(status, at);
                    batch.push_return(hook.id, r);
                    None
                }
            }
        }
        T::AppUninstalled => {
            let store = batch.store;
            let mut state = store
                .sync_state(&ctx.source, WEBHOOKS_RESOURCE)
                .await?
                .unwrap_or_else(|| SyncState::new(ctx.source.clone(), WEBHOOKS_RESOURCE));
            state.last_error = Some(format!(
                "the opsdeck app was uninstalled from {} at {at}: reinstall it, then run \
                 `opsdeck shopify webhooks register`",
                e.shop_domain
            ));
            state.last_error_at = Some(at);
            state.last_attempt_at = Some(at);
            state.consecutive_failures = state.consecutive_failures.saturating_add(1);
            store.save_sync_state(&state).await?;
            Some("app uninstalled: recorded on the source".to_string())
        }
        T::BulkOperationsFinish => {
            let finished = match BulkFinished::from_json(&raw) {
                Ok(finished) => finished,
                Err(err) => return Ok(Err(Failure::Permanent(format!("bulk finish: {err}")))),
            };
            let woke = batch
                .bulk_finishes
                .is_some_and(|f| f.finished(&ctx.source, &finished.operation));
            Some(format!(
                "bulk operation {} finished ({:?}): {}",
                finished.operation,
                finished.status,
                if woke {
                    "its backfill woken"
                } else {
                    "no backfill here waits for it"
                }
            ))
        }
    };
    Ok(Ok(done))
}

/// The longest webhook id quoted in a failure (ids are short at Shopify;
/// a hostile one is not copied whole into the health record).
const QUOTED_ID_CHARS: usize = 80;

/// What one inbox step did per source, for the sources' `webhooks` sync
/// state: failures (with the last one's text) and whether any event of the
/// source was applied.
#[derive(Default)]
struct WebhookHealth {
    /// Per source: failed attempts, events given up on, the last failure.
    failures: HashMap<SourceId, (u64, u32, String)>,
    applied: Vec<SourceId>,
}

impl WebhookHealth {
    fn failed(&mut self, hook: &StoredWebhook, error: &str, given_up: bool) {
        let id: String = hook
            .event
            .webhook_id
            .chars()
            .take(QUOTED_ID_CHARS)
            .collect();
        let text = format!(
            "{} webhook {id} {}: {error}",
            hook.event.topic,
            if given_up {
                "failed"
            } else {
                "failed (will retry)"
            }
        );
        let entry = self
            .failures
            .entry(hook.event.source.clone())
            .or_insert((0, 0, String::new()));
        entry.0 += 1;
        entry.1 += u32::from(given_up);
        entry.2 = text;
    }

    fn applied(&mut self, source: &SourceId) {
        if !self.applied.contains(source) {
            self.applied.push(source.clone());
        }
    }

    /// Saves what changed: failures added to the source's `webhooks` state;
    /// for a source whose events applied again with none given up on this
    /// step, its consecutive failures cleared (read first, written only if
    /// there is something to clear).
    async fn record(self, store: &dyn Store, now: Timestamp) -> Result<(), StoreError> {
        let load = |source: SourceId| async move {
            let state = store.sync_state(&source, WEBHOOKS_RESOURCE).await?;
            Ok::<_, StoreError>(state.unwrap_or_else(|| SyncState::new(source, WEBHOOKS_RESOURCE)))
        };
        for (source, (attempts, given_up, text)) in &self.failures {
            let mut state = load(source.clone()).await?;
            state.errors += attempts;
            state.consecutive_failures = state.consecutive_failures.saturating_add(*given_up);
            state.last_error = Some(text.clone());
            state.last_error_at = Some(now);
            state.last_attempt_at = Some(now);
            store.save_sync_state(&state).await?;
        }
        for source in self.applied {
            if self.failures.get(&source).is_some_and(|f| f.1 > 0) {
                continue;
            }
            let mut state = load(source).await?;
            if state.consecutive_failures > 0 {
                state.consecutive_failures = 0;
                state.last_success_at = Some(now);
                state.last_attempt_at = Some(now);
                store.save_sync_state(&state).await?;
            }
        }
        Ok(())
    }
}

fn backoff(settings: &InboxSettings, attempts: u32) -> Duration {
    settings
        .backoff_base
        .saturating_mul(1u32 << attempts.min(16))
        .min(Duration::from_secs(600))
}

/// Takes up to `settings.batch` due events, applies them with one upsert,
/// and marks each processed, retrying or failed. A store failure is returned
/// and leaves the events pending (they are retried by the next step).
#[tracing::instrument(skip_all)]
pub async fn process_inbox_once(
    store: &dyn Store,
    shops: &WebhookShops,
    settings: &InboxSettings,
    now: Timestamp,
) -> Result<InboxStep, StoreError> {
    let hooks = store.pending_webhooks(now, settings.batch).await?;
    let mut step = InboxStep {
        taken: hooks.len(),
        ..InboxStep::default()
    };
    if hooks.is_empty() {
        return Ok(step);
    }
    let mut batch = Batch {
        store,
        bulk_finishes: shops.bulk_finishes.as_deref(),
        orders: HashMap::new(),
        products: HashMap::new(),
        returns: HashMap::new(),
        records: Vec::new(),
        owners: Vec::new(),
    };
    let mut notes: Vec<(i64, String)> = Vec::new();
    let mut health = WebhookHealth::default();
    for hook in &hooks {
        let helpdesk = shops
            .helpdesk
            .as_ref()
            .filter(|h| *h.source() == hook.event.source);
        let failure = if let Some(helpdesk) = helpdesk {
            // Gorgias's events (see `gorgias::events`).
            match gorgias::apply(helpdesk, store, &hook.event).await? {
                Ok(records) => {
                    for (record, label) in records {
                        batch.owners.push((hook.id, label));
                        batch.records.push(record);
                    }
                    continue;
                }
                Err(reason) => Failure::Permanent(reason),
            }
        } else {
            match shops.shops.get(&hook.event.source) {
                None => Failure::Retry(format!(
                    "source {} is not configured (any more)",
                    hook.event.source
                )),
                Some(ctx) => match apply(&mut batch, ctx, hook).await? {
                    Ok(Some(note)) => {
                        notes.push((hook.id, note));
                        continue;
                    }
                    Ok(None) => continue,
                    Err(failure) => failure,
                },
            }
        };
        let (error, retry_at) = match failure {
            Failure::Retry(e) if hook.attempts + 1 < settings.max_attempts => {
                let wait = backoff(settings, hook.attempts);
                let at = now
                    .checked_add(jiff::SignedDuration::try_from(wait).unwrap_or_default())
                    .unwrap_or(now);
                (e, Some(at))
            }
            Failure::Retry(e) => (
                format!("{e} (gave up after {} attempts)", hook.attempts + 1),
                None,
            ),
            Failure::Permanent(e) => (e, None),
        };
        tracing::warn!(
            webhook = hook.id,
            topic = %hook.event.topic,
            source = %hook.event.source,
            %error,
            retry = retry_at.is_some(),
            "webhook not applied"
        );
        store.mark_webhook_failed(hook.id, &error, retry_at).await?;
        health.failed(hook, &error, retry_at.is_none());
        if retry_at.is_some() {
            step.retrying += 1;
        } else {
            step.failed += 1;
        }
    }
    step.processed = notes.len() + batch.owners.len();
    let applied: std::collections::HashSet<i64> = notes
        .iter()
        .chain(batch.owners.iter())
        .map(|(id, _)| *id)
        .collect();
    // An uninstall "applies" by recording a failure: it clears nothing.
    for hook in hooks.iter().filter(|h| {
        applied.contains(&h.id) && h.event.topic != WebhookTopic::AppUninstalled.as_str()
    }) {
        health.applied(&hook.event.source);
    }
    if batch.records.is_empty() {
        store.mark_webhooks_processed(&notes, now).await?;
    } else {
        // Records and "processed" in one commit (one fsync per step).
        let applied = AppliedWebhooks {
            owners: &batch.owners,
            notes: &notes,
            at: now,
        };
        store
            .upsert_applying_webhooks(&batch.records, &applied)
            .await?;
    }
    health.record(store, now).await?;
    tracing::debug!(
        taken = step.taken,
        processed = step.processed,
        retrying = step.retrying,
        failed = step.failed,
        "webhook inbox step"
    );
    Ok(step)
}

/// Runs [`process_inbox_once`] whenever `wake` is notified (the receiver
/// does after each commit), every `poll_every` for due retries, and straight
/// again while full batches keep coming, until `stop` turns true.
pub async fn run_inbox_loop(
    store: Arc<dyn Store>,
    shops: Arc<WebhookShops>,
    settings: InboxSettings,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    wake: Arc<Notify>,
    stop: watch::Receiver<bool>,
) {
    run_inbox_loop_notifying(store, shops, settings, clock, wake, None, stop).await
}

/// [`run_inbox_loop`], notifying `stored` after each step that applied
/// events, so whoever follows the change feed (the projection) reads them
/// at once instead of at its next poll.
pub async fn run_inbox_loop_notifying(
    store: Arc<dyn Store>,
    shops: Arc<WebhookShops>,
    settings: InboxSettings,
    clock: Arc<dyn Fn() -> Timestamp + Send + Sync>,
    wake: Arc<Notify>,
    stored: Option<Arc<Notify>>,
    mut stop: watch::Receiver<bool>,
) {
    let mut burst_from: Option<tokio::time::Instant> = None;
    let mut previous: Option<tokio::time::Instant> = None;
    loop {
        if *stop.borrow() {
            return;
        }
        if let Some(started) = burst_from.take() {
            tokio::select! {
                _ = tokio::time::sleep_until(started + settings.burst_step_every) => {}
                _ = stop.changed() => continue,
            }
        }
        let started = tokio::time::Instant::now();
        let result = process_inbox_once(store.as_ref(), &shops, &settings, clock()).await;
        let rate = |taken: usize| {
            let since = previous.map_or(Duration::MAX, |p| started.duration_since(p));
            taken as f64 / since.as_secs_f64().max(1e-3)
        };
        burst_from = match &result {
            // A full batch means a backlog: the next step follows at once.
            Ok(step)
                if step.taken > 1
                    && (step.taken as u32) < settings.batch
                    && rate(step.taken) >= settings.burst_rate =>
            {
                Some(started)
            }
            _ => None,
        };
        previous = Some(started);
        if let (Ok(step), Some(stored)) = (&result, &stored) {
            if step.processed > 0 {
                stored.notify_one();
            }
        }
        let pause = match result {
            Ok(step) if step.taken as u32 >= settings.batch => continue,
            Ok(_) => settings.poll_every,
            Err(error) => {
                tracing::error!(%error, "webhook inbox step failed; retrying");
                settings.poll_every.max(Duration::from_secs(1))
            }
        };
        tokio::select! {
            _ = wake.notified() => {}
            _ = tokio::time::sleep(pause) => {}
            _ = stop.changed() => {}
        }
    }
}

#[cfg(test)]
mod tests;
