//! Backfill by bulk operation: a shop's whole history in one query that
//! Shopify runs on its side, read back as a JSONL file. Orders (with line
//! items, fulfillments and refunds), products (with variants) and tracked
//! inventory levels, customers (lifetime order count and spend): [`BulkResource`].
//!
//! A backfill starts a bulk query (waiting, not failing, while the shop
//! already runs as many as it may, whoever started them), waits until it
//! finishes (woken by the `bulk_operations/finish` webhook where the shop's
//! deliveries reach this process, with a long safety poll beside it; by
//! polling every few seconds otherwise: [`super::bulk_finish`]), then
//! streams the file — never held whole — putting each
//! order back together with its line items, and commits the orders a page
//! at a time through the same checkpoint path as every other sync (one page
//! = one store call). Each commit also saves, in the resource's
//! [`SyncState::cursor`](opsdeck_store::SyncState::cursor), the operation's
//! id, the last line the page covers, the objects counted so far and the
//! newest change among them ([`BulkCursor`]): a restart resumes the same
//! file after that line, or waits for the same operation if it was still
//! running, or starts again when its link expired. Replayed lines are
//! harmless anyway (newer-wins upserts).
//!
//! Bulk operations refuse a connection inside a list field and nest
//! connections two levels deep at most (the root's counted), and an
//! order's fulfillments and refunds are lists: the file has them without
//! their lines. [`normalize::order_from_bulk`] gives those back exactly
//! from the line items' quantities where they can be, and names the lists
//! that cannot (two refunds, a refunded line that had shipped). Units
//! shipped per line come then from a second bulk operation, of
//! fulfillment orders with their lines ([`fulfillment_orders_bulk_query`]),
//! started beside the orders one where the token may read them, and
//! streamed alongside the orders' file ([`DetailJoin`], counted in
//! [`BulkRun::detail_joined`]). What neither file gives is read again by
//! the paged follow-up queries before its page commits, and counted in
//! [`BulkRun::followed_up`].
//!
//! The watermark moves only at the end of a completed file whose objects
//! (roots and children, as the file counts them) add up to the operation's
//! `objectCount`; then every change up to the newest one seen, but no later
//! than the operation's `createdAt`, is stored (records are read while the
//! operation runs, so a change made meanwhile may be missing from the file
//! while a later one is in it: the incremental run fetches them again).
//! A FAILED operation's `partialDataUrl` is stored too (but for its last
//! order, which may have lost lines), but the watermark stays and the run
//! ends as incomplete, so the sync state says so and the
//! next run starts a new operation. So does a CANCELED one.
//!
//! The REST [`sync_once`](super::sync_once) stays the incremental path;
//! a backfill shares its resource's sync state (`orders`, `products`; the
//! REST run ignores the cursor, and a bulk cursor is marked so no other
//! run's cursor is read as one). Not yet: resuming a file by HTTP range
//! instead of re-reading it up to the saved line.

use crate::checkpoints::{Checkpoints, NeedsAttention};

use super::bulk_finish::FinishWebhook;
use super::graphql_sync::{order_list, OrderList};
use super::{preflight, ShopifyResource};
use opsdeck_domain::Timestamp;
use opsdeck_sources::shopify::graphql::documents;
use opsdeck_sources::shopify::graphql::normalize::{BulkGaps, BulkOrder};
use opsdeck_sources::shopify::graphql::wire::legacy_id;
use opsdeck_sources::shopify::graphql::{
    normalize, BulkGroups, BulkItem, BulkOperation, BulkStatus, GraphqlClient, GraphqlError,
    GraphqlStats, HttpChunks,
};
use opsdeck_sources::shopify::{NormalizeContext, NormalizeError, ShopifyError};
use opsdeck_store::{AnyRecord, Store, StoreError, UpsertReport};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::time::Duration;
use tokio::sync::Notify;
use url::Url;

/// How a backfill paces itself.
#[derive(Debug, Clone)]
pub struct BulkSettings {
    /// Between two looks at a running operation, when no finish webhook
    /// reaches this process.
    pub poll_interval: Duration,
    /// Set when the shop's `bulk_operations/finish` deliveries reach this
    /// process: the backfill waits for one, looking only every
    /// [`FinishWebhook::safety_poll`].
    pub finish_webhook: Option<FinishWebhook>,
    /// Root objects (orders) committed per store call.
    pub page_size: usize,
    /// New operations a run may start after an expired link before it
    /// gives up.
    pub max_restarts: u32,
}

impl Default for BulkSettings {
    fn default() -> Self {
        BulkSettings {
            poll_interval: Duration::from_secs(2),
            finish_webhook: None,
            page_size: 250,
            max_restarts: 3,
        }
    }
}

/// Why a backfill stopped.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    #[error(transparent)]
    Graphql(#[from] GraphqlError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// What could be read is stored, but not everything: the text says
    /// what is missing; the watermark did not move.
    #[error("incomplete: {0}")]
    Incomplete(String),
    /// The file was read whole, but the shop hides part of its data from
    /// this app (a missing access scope): what was seen is stored and a
    /// person must grant what is missing. The text names it.
    #[error("incomplete: {0}")]
    Hidden(String),
}

impl NeedsAttention for BulkError {
    fn needs_attention(&self) -> bool {
        match self {
            BulkError::Graphql(e) => e.needs_attention(),
            BulkError::Store(_) | BulkError::Incomplete(_) => false,
            BulkError::Hidden(_) => true,
        }
    }
}

/// Where a backfill stands in its operation's file, saved with each page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BulkCursor {
    /// `gid://shopify/BulkOperation/…`
    pub operation: String,
    /// The last line of the file committed (0: none yet).
    pub line: u64,
    /// Objects (lines) of the file counted up to `line`.
    pub objects: u64,
    /// The newest `updated_at` among the records committed so far.
    pub newest: Option<Timestamp>,
    /// The bulk operation of fulfillment orders started beside an orders
    /// one ([`fulfillment_orders_bulk_query`]), whose file gives the units
    /// shipped per line the orders' file cannot carry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Marks a bulk cursor in the shared `cursor` column, so a cursor another
/// kind of run left there is never read as one.
const CURSOR_PREFIX: &str = "bulk:";

impl BulkCursor {
    fn new(operation: &str) -> Self {
        BulkCursor {
            operation: operation.to_string(),
            line: 0,
            objects: 0,
            newest: None,
            detail: None,
        }
    }

    pub fn parse(stored: &str) -> Option<Self> {
        serde_json::from_str(stored.strip_prefix(CURSOR_PREFIX)?).ok()
    }

    pub fn encode(&self) -> String {
        let json = serde_json::to_string(self).expect("a cursor serializes");
        format!("{CURSOR_PREFIX}{json}")
    }
}

/// What one backfill run did.
#[derive(Debug, Clone, Default)]
pub struct BulkRun {
    /// The operation whose file was read last.
    pub operation: Option<String>,
    /// Operations this run started (0 when it resumed one), not counting
    /// the fulfillment orders' one beside it ([`BulkRun::detail_operation`]).
    pub operations_started: u32,
    /// Times the shop refused a new operation because its maximum was
    /// already running.
    pub waited_for_others: u32,
    /// Looks at a running operation.
    pub polls: u32,
    /// Waits ended by the `bulk_operations/finish` webhook.
    pub woken_by_webhook: u32,
    /// Lines skipped because an earlier run had committed them.
    pub resumed_after_line: u64,
    pub pages: u32,
    /// Objects (lines) of the file counted, roots and children.
    pub objects: u64,
    /// The operation's `objectCount`.
    pub object_count: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub stale: u64,
    pub rejected: Vec<NormalizeError>,
    /// The file was a failed operation's partial data.
    pub partial: bool,
    pub stats: GraphqlStats,
    /// The most bytes of the file held at once.
    pub peak_buffered: usize,
    /// Orders whose fulfillments or refunds the file could not give whole
    /// and that were read again by paged queries
    /// ([`normalize::order_from_bulk`] says which).
    pub followed_up: u64,
    /// The queries those follow-ups took.
    pub follow_up_queries: u64,
    /// The bulk operation of fulfillment orders read beside the orders'
    /// file, if one ran.
    pub detail_operation: Option<String>,
    /// Orders whose units shipped per line came from that operation's
    /// file instead of follow-up queries.
    pub detail_joined: u64,
    /// The points those queries actually cost (Shopify's figures): the
    /// file costs none, so at a plan's restore rate these are what a
    /// backfill's follow-ups take.
    pub follow_up_points: f64,
    /// Time spent reading the file and storing its records (the rest of
    /// a run waits for Shopify): what the backfill's own speed is.
    pub reading: Duration,
    /// Of `reading`, the time spent committing pages to the store…
    pub writing: Duration,
    /// …and the time the commits waited for the reader task to hand the
    /// next page over (reading the file, parsing and normalizing it, and
    /// joining the fulfillment orders' file, a page or two ahead).
    pub waiting_for_pages: Duration,
    pub watermark: Option<Timestamp>,
}

impl BulkRun {
    /// Orders stored (whatever the outcome per record).
    pub fn records(&self) -> u64 {
        self.inserted + self.updated + self.unchanged + self.stale
    }

    fn tally(&mut self, report: &UpsertReport) {
        self.inserted += report.inserted() as u64;
        self.updated += report.updated() as u64;
        self.unchanged += report.unchanged() as u64;
        self.stale += report.stale() as u64;
    }
}

/// The bulk query for orders: [`documents::order_bulk_selection`] (with
/// `fulfillment_order_ids`, each order's fulfillment orders' ids), every
/// line item a child line; fulfillments and refunds inline without their
/// lines (bulk operations refuse a connection inside a list field), which
/// [`normalize::order_from_bulk`] gives back or has followed up.
pub fn orders_bulk_query(fulfillment_order_ids: bool) -> String {
    format!(
        "{{ orders {{ edges {{ node {{ {} }} }} }} }}",
        documents::order_bulk_selection(fulfillment_order_ids)
    )
}

/// The bulk query of every fulfillment order with its lines
/// ([`documents::fulfillment_orders_bulk_selection`]; closed ones too:
/// most of a store's history is closed): two levels of connections, which
/// the orders' query cannot reach. Its file is joined to the orders' by
/// the fulfillment order ids each order names ([`DetailJoin`]).
pub fn fulfillment_orders_bulk_query() -> String {
    format!(
        "{{ fulfillmentOrders(includeClosed: true) {{ edges {{ node {{ {} }} }} }} }}",
        documents::fulfillment_orders_bulk_selection()
    )
}

/// The bulk query for products: the paged listing's selection (what
/// [`normalize::product_from_graphql`] reads), every variant a child line.
pub fn products_bulk_query() -> String {
    let selection = documents::products(None)
        .query
        .document
        .split_once("nodes { ")
        .and_then(|(_, rest)| rest.rsplit_once(" } pageInfo"))
        .map(|(selection, _)| selection.replacen("variants(first: 100)", "variants", 1))
        .expect("the products listing selects its nodes");
    format!("{{ products {{ edges {{ node {{ {selection} }} }} }} }}")
}

/// The bulk query for inventory levels: every inventory item, whether it
/// is tracked, and its levels' `available` quantity per location (what
/// [`normalize::inventory_level_from_graphql`] reads), each level a child
/// line.
pub fn inventory_bulk_query() -> String {
    "{ inventoryItems { edges { node { id tracked inventoryLevels { nodes { id updatedAt \
     quantities(names: [\"available\"]) { name quantity } item { id } location { id } } } } } } }"
        .to_string()
}

/// The bulk query for customers: the paged listing's selection (what
/// [`normalize::customer_from_graphql`] reads); a customer has no child
/// lines.
pub fn customers_bulk_query() -> String {
    let selection = documents::customers(None)
        .query
        .document
        .split_once("nodes { ")
        .and_then(|(_, rest)| rest.rsplit_once(" } pageInfo"))
        .map(|(selection, _)| selection.to_string())
        .expect("the customers listing selects its nodes");
    format!("{{ customers {{ edges {{ node {{ {selection} }} }} }} }}")
}

/// What one root object of a bulk file gives.
enum Normalized {
    Records(Vec<AnyRecord>),
    /// An order the file could not give whole: these lists must be read
    /// again first.
    FollowUp(BulkGaps),
}

/// What a bulk backfill reads: its query, where its child lines go, and
/// how a root object becomes a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BulkResource {
    /// Orders with line items, fulfillments and refunds.
    Orders,
    /// Products with their variants.
    Products,
    /// Stock per location of tracked inventory items (the REST run's set:
    /// untracked items' levels are not kept).
    InventoryLevels,
    /// Customers' lifetime order count and spend (GraphQL only).
    Customers,
}

impl BulkResource {
    /// The sync state it shares with the REST run of the same resource.
    pub fn resource(self) -> ShopifyResource {
        match self {
            BulkResource::Orders => ShopifyResource::Orders,
            BulkResource::Products => ShopifyResource::Products,
            BulkResource::InventoryLevels => ShopifyResource::InventoryLevels,
            BulkResource::Customers => ShopifyResource::Customers,
        }
    }

    pub fn query(self) -> String {
        match self {
            BulkResource::Orders => orders_bulk_query(true),
            BulkResource::Products => products_bulk_query(),
            BulkResource::InventoryLevels => inventory_bulk_query(),
            BulkResource::Customers => customers_bulk_query(),
        }
    }

    /// Where a child line goes in its parent, by the child's type.
    fn child_field(self, kind: &str) -> Option<&'static str> {
        match (self, kind) {
            (BulkResource::Orders, "LineItem") => Some("lineItems"),
            // Ids only: their lines come from their own file.
            (BulkResource::Orders, "FulfillmentOrder") => Some("fulfillmentOrders"),
            (BulkResource::Products, "ProductVariant") => Some("variants"),
            (BulkResource::InventoryLevels, "InventoryLevel") => Some("inventoryLevels"),
            _ => None,
        }
    }

    /// The records one root object (with its children) gives: one order or
    /// product; an inventory item's levels, none when it is not tracked.
    /// `followed`: an order's lists already read again whole.
    fn normalize(
        self,
        ctx: &NormalizeContext,
        raw: &Value,
        followed: BulkGaps,
    ) -> Result<Normalized, NormalizeError> {
        Ok(Normalized::Records(match self {
            BulkResource::Orders => match normalize::order_from_bulk(ctx, raw, followed)? {
                BulkOrder::Whole(order) => vec![AnyRecord::Order(*order)],
                BulkOrder::FollowUp(gaps) => return Ok(Normalized::FollowUp(gaps)),
            },
            BulkResource::Products => vec![AnyRecord::Product(normalize::product_from_graphql(
                ctx, raw,
            )?)],
            BulkResource::Customers => vec![AnyRecord::CustomerSummary(
                normalize::customer_from_graphql(ctx, raw)?,
            )],
            BulkResource::InventoryLevels => {
                if raw["tracked"] != Value::Bool(true) {
                    return Ok(Normalized::Records(Vec::new()));
                }
                let levels = raw["inventoryLevels"]
                    .as_array()
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                levels
                    .iter()
                    .map(|level| {
                        normalize::inventory_level_from_graphql(ctx, level, None)
                            .map(AnyRecord::InventoryLevel)
                    })
                    .collect::<Result<_, _>>()?
            }
        }))
    }
}

/// A backfill in progress.
struct Backfill<'a> {
    kind: BulkResource,
    client: &'a GraphqlClient,
    settings: &'a BulkSettings,
    ctx: NormalizeContext,
    book: Checkpoints<'a>,
    run: BulkRun,
}

/// Backfills every order of the shop (with line items, fulfillments and
/// refunds) by bulk operation: [`backfill`] of [`BulkResource::Orders`].
pub async fn backfill_orders(
    client: &GraphqlClient,
    store: &dyn Store,
    settings: &BulkSettings,
    now: Timestamp,
    committed: Option<&Notify>,
) -> Result<BulkRun, BulkError> {
    backfill(
        client,
        store,
        BulkResource::Orders,
        settings,
        now,
        committed,
    )
    .await
}

/// Backfills every record of `kind` by bulk operation, resuming the
/// operation a previous run left in the sync state. Records the outcome in
/// the resource's sync state whether it succeeds or fails; wakes
/// `committed` after each page. Cancel-safe: dropping the future leaves the
/// store at the last committed page, and the next run resumes after it.
#[tracing::instrument(
    name = "shopify_bulk_backfill",
    skip_all,
    fields(source = %client.shop().source, resource = kind.resource().as_str())
)]
pub async fn backfill(
    client: &GraphqlClient,
    store: &dyn Store,
    kind: BulkResource,
    settings: &BulkSettings,
    now: Timestamp,
    committed: Option<&Notify>,
) -> Result<BulkRun, BulkError> {
    backfill_reporting(client, store, kind, settings, now, committed, Vec::new()).await
}

/// [`backfill`], ending as [`BulkError::Hidden`] with `hidden` (what the
/// pre-run checks found the shop hides, e.g. a missing scope) when it is
/// not empty, so the sync state keeps saying so after a whole file.
pub async fn backfill_reporting(
    client: &GraphqlClient,
    store: &dyn Store,
    kind: BulkResource,
    settings: &BulkSettings,
    now: Timestamp,
    committed: Option<&Notify>,
    hidden: Vec<String>,
) -> Result<BulkRun, BulkError> {
    let shop = client.shop();
    let book = Checkpoints::open(
        store,
        &shop.source,
        kind.resource().as_str(),
        now,
        committed,
    )
    .await?;
    let mut backfill = Backfill {
        kind,
        client,
        settings,
        ctx: NormalizeContext {
            source: shop.source.clone(),
            brand: shop.brand.clone(),
            currency: shop.currency,
        },
        book,
        run: BulkRun::default(),
    };
    let outcome = backfill
        .drive()
        .await
        .and_then(|()| match hidden.is_empty() {
            true => Ok(()),
            false => Err(BulkError::Hidden(hidden.join("; "))),
        });
    let Backfill { book, mut run, .. } = backfill;
    match book
        .finish(&run.stats.http, outcome, &run.rejected, now)
        .await
    {
        Ok(state) => {
            tracing::info!(
                operation = run.operation,
                objects = run.objects,
                pages = run.pages,
                inserted = run.inserted,
                "bulk backfill done"
            );
            run.watermark = state.watermark;
            Ok(run)
        }
        Err(error) => {
            tracing::warn!(%error, pages = run.pages, "bulk backfill stopped");
            Err(error)
        }
    }
}

/// Cancels the backfill operation the sync state names, if any, and forgets
/// it, so the next backfill starts afresh. Returns the operation as Shopify
/// answered (usually CANCELING).
pub async fn cancel_backfill(
    client: &GraphqlClient,
    store: &dyn Store,
    kind: BulkResource,
) -> Result<Option<BulkOperation>, BulkError> {
    let source = &client.shop().source;
    let resource = kind.resource().as_str();
    let Some(mut state) = store.sync_state(source, resource).await? else {
        return Ok(None);
    };
    let Some(cursor) = state.cursor.as_deref().and_then(BulkCursor::parse) else {
        return Ok(None);
    };
    let mut stats = GraphqlStats::default();
    let answer = client
        .cancel_bulk_operation(&cursor.operation, &mut stats)
        .await?;
    if let Some(detail) = &cursor.detail {
        // Only an aid to the orders' file: a failure to cancel it is told,
        // not the cancellation's.
        if let Err(error) = client.cancel_bulk_operation(detail, &mut stats).await {
            tracing::warn!(%error, operation = detail, "fulfillment orders' operation not canceled");
        }
    }
    state.cursor = None;
    store.save_sync_state(&state).await?;
    Ok(answer)
}

impl Backfill<'_> {
    async fn drive(&mut self) -> Result<(), BulkError> {
        let mut restarts = 0;
        loop {
            let saved = self.cursor();
            let operation = match &saved {
                Some(cursor) => {
                    self.run.polls += 1;
                    self.client
                        .bulk_operation(&cursor.operation, &mut self.run.stats)
                        .await?
                }
                None => Some(self.start().await?),
            };
            let Some(operation) = operation else {
                tracing::warn!("the saved bulk operation is unknown to shopify; starting again");
                self.save_cursor(None).await?;
                continue;
            };
            self.run.operation = Some(operation.id.clone());
            let operation = self.wait(operation).await?;
            self.run.object_count = operation.object_count;
            // The saved cursor (this run's start saved one too), so the
            // detail operation it names stays in every page's cursor.
            let from = self
                .cursor()
                .filter(|c| c.operation == operation.id)
                .unwrap_or_else(|| BulkCursor::new(&operation.id));
            let (url, partial) = match (&operation.status, &operation.url) {
                (BulkStatus::Completed, Some(url)) => (Some(url.clone()), false),
                // Completed with nothing to write: no file.
                (BulkStatus::Completed, None) => (None, false),
                (BulkStatus::Failed, _) => (operation.partial_data_url.clone(), true),
                (BulkStatus::Canceled, _) => {
                    self.save_cursor(None).await?;
                    return Err(BulkError::Incomplete(format!(
                        "bulk operation {} was canceled; the next run starts a new one",
                        operation.id
                    )));
                }
                _ => {
                    // Expired (or another finished state with no file).
                    restarts += 1;
                    self.restart(&operation, restarts).await?;
                    continue;
                }
            };
            self.run.partial = partial;
            let read = match url {
                Some(url) => {
                    let detail = self.detail_url(from.detail.as_deref()).await;
                    self.read(&url, from, detail).await
                }
                None => Ok(from),
            };
            let reached = match read {
                Ok(reached) => reached,
                Err(BulkError::Graphql(GraphqlError::Http(
                    ShopifyError::Forbidden { .. } | ShopifyError::NotFound { .. },
                ))) => {
                    // The signed link expired between the poll and the download.
                    restarts += 1;
                    self.restart(&operation, restarts).await?;
                    continue;
                }
                Err(e) => return Err(e),
            };
            return self.conclude(&operation, reached).await;
        }
    }

    /// The bulk cursor in the sync state, if the last run left one.
    fn cursor(&self) -> Option<BulkCursor> {
        self.book
            .state
            .cursor
            .as_deref()
            .and_then(BulkCursor::parse)
    }

    /// Saves `cursor` (and the calls so far) without records.
    async fn save_cursor(&mut self, cursor: Option<BulkCursor>) -> Result<(), StoreError> {
        let encoded = cursor.map(|c| c.encode());
        self.book
            .commit(&[], &self.run.stats.http, |state| state.cursor = encoded)
            .await?;
        Ok(())
    }

    async fn restart(&mut self, operation: &BulkOperation, restarts: u32) -> Result<(), BulkError> {
        tracing::warn!(
            operation = operation.id,
            "bulk result expired; starting again"
        );
        self.save_cursor(None).await?;
        if restarts > self.settings.max_restarts {
            return Err(BulkError::Incomplete(format!(
                "bulk results expired {restarts} times in a row (last {})",
                operation.id
            )));
        }
        Ok(())
    }

    /// Starts the orders query, waiting while the shop already runs as
    /// many bulk queries as it may (those of other processes included), and
    /// saves the new operation's id before anything else.
    async fn start(&mut self) -> Result<BulkOperation, BulkError> {
        let with_detail =
            self.kind == BulkResource::Orders && self.reads_fulfillment_orders().await;
        let query = match self.kind {
            BulkResource::Orders => orders_bulk_query(with_detail),
            other => other.query(),
        };
        loop {
            match self
                .client
                .run_bulk_query(&query, &mut self.run.stats)
                .await
            {
                Ok(operation) => {
                    self.run.operations_started += 1;
                    let mut cursor = BulkCursor::new(&operation.id);
                    self.save_cursor(Some(cursor.clone())).await?;
                    if with_detail {
                        cursor.detail = self.start_detail().await;
                        if cursor.detail.is_some() {
                            self.save_cursor(Some(cursor)).await?;
                        }
                    }
                    return Ok(operation);
                }
                Err(e) if e.is_bulk_limit() => {
                    self.run.waited_for_others += 1;
                    tracing::info!(error = %e, "the shop's bulk operations are all taken; waiting");
                    let current = self
                        .client
                        .current_bulk_operation(&mut self.run.stats)
                        .await?;
                    match current {
                        Some(other) if !other.status.is_finished() => {
                            self.wait(other).await?;
                        }
                        _ => tokio::time::sleep(self.settings.poll_interval).await,
                    }
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    /// Whether the token may read fulfillment orders (any of the three
    /// scopes): without, asking for them would fail the whole orders
    /// operation, so the orders' file goes without and its gaps are
    /// followed up as before.
    async fn reads_fulfillment_orders(&mut self) -> bool {
        match self.client.granted_scopes(&mut self.run.stats).await {
            Ok(scopes) => preflight::reads_fulfillment_orders(&scopes),
            Err(error) => {
                tracing::warn!(%error, "access scopes not read; orders without fulfillment orders");
                false
            }
        }
    }

    /// Starts the bulk query of fulfillment orders beside the orders one.
    /// Best effort: when the shop's bulk slots are all taken (by other
    /// processes too) or it is refused, the orders' gaps are followed up
    /// by paged queries instead, as they were before it existed.
    async fn start_detail(&mut self) -> Option<String> {
        let query = fulfillment_orders_bulk_query();
        match self
            .client
            .run_bulk_query(&query, &mut self.run.stats)
            .await
        {
            Ok(operation) => Some(operation.id),
            Err(error) => {
                tracing::warn!(%error, "no bulk operation of fulfillment orders; gaps are followed up");
                None
            }
        }
    }

    /// The file link of the fulfillment orders' operation `id`, once it
    /// has finished; `None` (logged) when it has none (failed, canceled,
    /// expired, unknown) or cannot be asked: the orders' gaps are then
    /// followed up by paged queries.
    async fn detail_url(&mut self, id: Option<&str>) -> Option<Url> {
        let id = id?;
        self.run.detail_operation = Some(id.to_string());
        match self.finished_detail(id).await {
            Ok(url) => url,
            Err(error) => {
                tracing::warn!(%error, operation = id, "fulfillment orders' operation not read; gaps are followed up");
                None
            }
        }
    }

    async fn finished_detail(&mut self, id: &str) -> Result<Option<Url>, BulkError> {
        self.run.polls += 1;
        let Some(operation) = self.client.bulk_operation(id, &mut self.run.stats).await? else {
            return Ok(None);
        };
        let operation = self.wait(operation).await?;
        match (&operation.status, &operation.url) {
            (BulkStatus::Completed, Some(url)) => Ok(Some(url.clone())),
            (status, _) => {
                tracing::warn!(
                    operation = id,
                    ?status,
                    "fulfillment orders' file not usable"
                );
                Ok(None)
            }
        }
    }

    /// Waits until `operation` finishes: woken by its
    /// `bulk_operations/finish` webhook where one reaches this process
    /// (looking only every safety interval in case a delivery is lost),
    /// else polling it every [`BulkSettings::poll_interval`]. Either way
    /// the operation's state is what Shopify answers when asked.
    async fn wait(&mut self, mut operation: BulkOperation) -> Result<BulkOperation, BulkError> {
        let source = &self.client.shop().source;
        let (interval, waiting) = match &self.settings.finish_webhook {
            Some(hook) if !operation.status.is_finished() => (
                hook.safety_poll,
                Some(hook.finishes.wait_for(source, &operation.id)),
            ),
            _ => (self.settings.poll_interval, None),
        };
        while !operation.status.is_finished() {
            match &waiting {
                Some(waiting) => tokio::select! {
                    () = waiting.finished() => self.run.woken_by_webhook += 1,
                    () = tokio::time::sleep(interval) => {}
                },
                None => tokio::time::sleep(interval).await,
            }
            self.run.polls += 1;
            operation = self
                .client
                .bulk_operation(&operation.id, &mut self.run.stats)
                .await?
                .ok_or_else(|| {
                    BulkError::Incomplete(format!(
                        "bulk operation {} vanished while it ran",
                        operation.id
                    ))
                })?;
        }
        Ok(operation)
    }

    /// Streams the file at `url` from after `from.line`, committing a page
    /// of orders at a time with the cursor it reached; returns the cursor
    /// at the end of the file.
    ///
    /// Reading and normalizing run in a task of their own ([`read_pages`])
    /// a page or two ahead of the commits: parsing the next page and
    /// writing the last one then use two cores instead of taking turns on
    /// one. The pages in between are the only memory that adds, bounded
    /// by [`PAGES_AHEAD`].
    async fn read(
        &mut self,
        url: &Url,
        from: BulkCursor,
        detail: Option<Url>,
    ) -> Result<BulkCursor, BulkError> {
        let began = std::time::Instant::now();
        let groups = self.client.open_bulk_file(url).await?;
        // The orders' file first, then the one read beside it.
        let detail = match detail {
            Some(url) => match self.client.open_bulk_file(&url).await {
                Ok(groups) => Some(DetailJoin::new(groups)),
                Err(error) => {
                    tracing::warn!(%error, "fulfillment orders' file not opened; gaps are followed up");
                    None
                }
            },
            None => None,
        };
        self.run.resumed_after_line = from.line;
        let (pages, mut ready) = tokio::sync::mpsc::channel(PAGES_AHEAD);
        let reader = PageReader {
            kind: self.kind,
            ctx: self.ctx.clone(),
            page_size: self.settings.page_size,
            partial: self.run.partial,
            from,
            detail,
        };
        // Dropping this future (a cancelled backfill) or leaving on an
        // error stops the reader too.
        let _reader = AbortOnDrop(tokio::spawn(reader.read_pages(groups, pages)));
        let reached = loop {
            let asked = std::time::Instant::now();
            let next = ready.recv().await;
            self.run.waiting_for_pages += asked.elapsed();
            match next {
                Some(Ok(FilePiece::Page(mut page))) => {
                    self.run.detail_joined += page.joined;
                    for e in std::mem::take(&mut page.rejected) {
                        self.reject(e);
                    }
                    for (raw, gaps) in std::mem::take(&mut page.follow_ups) {
                        match self.follow_up(raw, gaps).await? {
                            Ok(records) => {
                                for record in records {
                                    page.reached.newest =
                                        page.reached.newest.max(Some(record.updated_at()));
                                    page.records.push(record);
                                }
                            }
                            Err(e) => {
                                tracing::warn!(error = %e, "record rejected");
                                self.reject(e);
                            }
                        }
                    }
                    let writing = std::time::Instant::now();
                    self.commit_page(&page.records, &page.reached).await?;
                    self.run.writing += writing.elapsed();
                }
                Some(Ok(FilePiece::End {
                    reached,
                    peak_buffered,
                })) => {
                    self.run.peak_buffered = self.run.peak_buffered.max(peak_buffered);
                    break reached;
                }
                Some(Err(e)) => return Err(e),
                None => {
                    return Err(BulkError::Incomplete(
                        "the bulk file's reader stopped before the end of the file".into(),
                    ))
                }
            }
        };
        self.run.reading += began.elapsed();
        Ok(reached)
    }

    /// The records of an order the file could not give whole (`gaps`
    /// says which lists), reading those lists again by paged queries. The
    /// reader task has no client, so it hands such orders over raw and
    /// they are settled here, before their page commits: the page's cursor
    /// never passes an order whose records are not in it.
    async fn follow_up(
        &mut self,
        mut raw: Value,
        gaps: BulkGaps,
    ) -> Result<Result<Vec<AnyRecord>, NormalizeError>, BulkError> {
        let Some(gid) = raw.get("id").and_then(Value::as_str).map(str::to_string) else {
            // Normalization refuses an order without an id first.
            return Ok(Ok(Vec::new()));
        };
        self.run.followed_up += 1;
        for (gap, list) in [
            (gaps.fulfillments, OrderList::Fulfillments),
            (gaps.refunds, OrderList::Refunds),
        ] {
            if gap {
                let (requests, points) =
                    (self.run.stats.http.requests, self.run.stats.points_spent);
                raw[list.field()] =
                    order_list(self.client, &mut self.run.stats, &gid, list).await?;
                self.run.follow_up_queries += self.run.stats.http.requests - requests;
                self.run.follow_up_points += self.run.stats.points_spent - points;
            }
        }
        Ok(match self.kind.normalize(&self.ctx, &raw, gaps) {
            Ok(Normalized::Records(records)) => Ok(records),
            Err(e) => Err(e),
            // The followed-up lists carry their lines: the rule never asks
            // twice; should it, the order is refused, not guessed.
            Ok(Normalized::FollowUp(still)) => Err(NormalizeError {
                kind: "order",
                id: opsdeck_domain::bounds::excerpt(legacy_id(&gid)),
                field: if still.fulfillments {
                    "fulfillments"
                } else {
                    "refunds"
                }
                .into(),
                reason: "still incomplete after its follow-up queries".into(),
            }),
        })
    }

    /// Counts a record the reader refused (and logged).
    fn reject(&mut self, e: NormalizeError) {
        self.run.rejected.push(e);
        self.book.refuse(1);
    }

    async fn commit_page(
        &mut self,
        records: &[AnyRecord],
        reached: &BulkCursor,
    ) -> Result<(), StoreError> {
        let cursor = Some(reached.encode());
        let report = self
            .book
            .commit(records, &self.run.stats.http, |state| state.cursor = cursor)
            .await?;
        self.run.tally(&report);
        self.run.pages += 1;
        self.run.objects = reached.objects;
        Ok(())
    }

    /// After the file: the watermark moves to the newest change seen only
    /// when the file was whole (completed, every object counted); the
    /// cursor is cleared either way, so the next run starts afresh.
    async fn conclude(
        &mut self,
        operation: &BulkOperation,
        reached: BulkCursor,
    ) -> Result<(), BulkError> {
        self.run.objects = reached.objects;
        let whole = !self.run.partial && reached.objects == operation.object_count;
        // The file is read over the operation's run: a record changed
        // while it ran may be in its old version while a later one shows
        // a newer time. Only what changed before the operation started is
        // surely in it, so the watermark goes no further than that.
        let newest = match operation.created_at {
            Some(started) => reached.newest.map(|newest| newest.min(started)),
            None => reached.newest,
        };
        self.book
            .commit(&[], &self.run.stats.http, |state| {
                state.cursor = None;
                if whole {
                    state.watermark = state.watermark.max(newest);
                }
            })
            .await?;
        if whole {
            return Ok(());
        }
        Err(BulkError::Incomplete(if self.run.partial {
            format!(
                "bulk operation {} failed ({}) after {} objects: the {} before its last \
                 order are stored, the watermark is held, and the next run starts a new \
                 operation",
                operation.id,
                operation.error_code.as_deref().unwrap_or("no error code"),
                operation.object_count,
                reached.objects
            )
        } else {
            format!(
                "bulk operation {} reports {} objects but its file held {}: the watermark is held",
                operation.id, operation.object_count, reached.objects
            )
        }))
    }
}

/// Pages read ahead of the one being committed.
const PAGES_AHEAD: usize = 2;

/// What the reader of a bulk file hands to the backfill.
enum FilePiece {
    /// The next page to commit.
    Page(Page),
    /// The file is read: where it ended, and the most bytes of it held.
    End {
        reached: BulkCursor,
        peak_buffered: usize,
    },
}

/// A page of a bulk file, normalized.
struct Page {
    records: Vec<AnyRecord>,
    /// Root objects of the page that could not be normalized.
    rejected: Vec<NormalizeError>,
    /// Orders the file could not give whole, raw, with the lists to read
    /// again: the backfill follows them up before committing the page.
    follow_ups: Vec<(Value, BulkGaps)>,
    /// Orders of the page whose units shipped came from the fulfillment
    /// orders' file.
    joined: u64,
    /// Where the file stands after the page.
    reached: BulkCursor,
}

/// Aborts a spawned task when dropped.
struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Reads a bulk file into pages of records (the part of a backfill that
/// needs neither the store nor the API, so it can run in a task of its own).
struct PageReader {
    kind: BulkResource,
    ctx: NormalizeContext,
    page_size: usize,
    /// The file is a failed operation's partial data.
    partial: bool,
    /// Where an earlier run stopped: lines up to `from.line` are skipped.
    from: BulkCursor,
    /// The fulfillment orders' file, read alongside.
    detail: Option<DetailJoin>,
}

impl PageReader {
    /// Sends the file's pages to `pages`, then its end; stops at the first
    /// error (sent too) or when nobody listens any more.
    async fn read_pages(
        mut self,
        mut groups: BulkGroups<HttpChunks>,
        pages: tokio::sync::mpsc::Sender<Result<FilePiece, BulkError>>,
    ) {
        let outcome = self.read_into(&mut groups, &pages).await;
        let piece = outcome.map(|reached| FilePiece::End {
            reached,
            peak_buffered: groups.reader().peak_buffered(),
        });
        // Nobody listening: the backfill stopped; nothing to tell.
        let _ = pages.send(piece).await;
    }

    async fn read_into(
        &mut self,
        groups: &mut BulkGroups<HttpChunks>,
        pages: &tokio::sync::mpsc::Sender<Result<FilePiece, BulkError>>,
    ) -> Result<BulkCursor, BulkError> {
        let from = self.from.clone();
        let mut page = self.new_page(from.clone());
        let mut roots_in_page = 0;
        // One order in hand: it is whole once another follows it. The last
        // order of a partial file may have lost its last lines, and a copy
        // short of lines must not replace a whole stored one (same
        // `updated_at`, other content wins), so it is left out.
        let mut pending: Option<BulkItem> = None;
        loop {
            let next = groups.next_item().await?;
            let ended = next.is_none();
            let Some(item) = std::mem::replace(&mut pending, next) else {
                if ended {
                    break;
                }
                continue;
            };
            if ended && self.partial {
                tracing::warn!(
                    objects = item.object_count(),
                    "the last order of a partial file is left out: it may lack lines"
                );
                break;
            }
            let last_line = match &item {
                BulkItem::Root { root, children } => {
                    children.last().map_or(root.line, |child| child.line)
                }
                BulkItem::LateChild(line) => line.line,
            };
            if last_line <= from.line {
                continue;
            }
            if let BulkItem::LateChild(line) = &item {
                // Files keep each object's children after it; one that does
                // not cannot be put back without re-reading its parent.
                return Err(BulkError::Incomplete(format!(
                    "bulk file line {}: a child of {} after its parent's group",
                    line.line,
                    line.parent_id.as_deref().unwrap_or("?")
                )));
            }
            let kind = self.kind;
            let objects = item.object_count();
            match item.into_nested(|child| kind.child_field(child)) {
                Some(Ok(raw)) => match kind.normalize(&self.ctx, &raw, BulkGaps::default()) {
                    Ok(Normalized::FollowUp(gaps)) => self.join_detail(raw, gaps, &mut page).await,
                    Ok(Normalized::Records(records)) => {
                        for record in records {
                            page.reached.newest =
                                page.reached.newest.max(Some(record.updated_at()));
                            page.records.push(record);
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "record rejected");
                        page.rejected.push(e);
                    }
                },
                Some(Err(reason)) => {
                    return Err(BulkError::Graphql(GraphqlError::Jsonl {
                        line: last_line,
                        reason,
                    }))
                }
                None => {}
            }
            page.reached.objects += objects;
            page.reached.line = last_line;
            roots_in_page += 1;
            if roots_in_page >= self.page_size {
                let next = self.new_page(page.reached.clone());
                let full = std::mem::replace(&mut page, next);
                if pages.send(Ok(FilePiece::Page(full))).await.is_err() {
                    return Err(BulkError::Incomplete("the backfill stopped".into()));
                }
                roots_in_page = 0;
            }
        }
        let reached = page.reached.clone();
        if roots_in_page > 0 && pages.send(Ok(FilePiece::Page(page))).await.is_err() {
            return Err(BulkError::Incomplete("the backfill stopped".into()));
        }
        Ok(reached)
    }

    /// An order the file could not give whole: its fulfillment orders'
    /// lines joined in from their own file where it lacks units shipped
    /// and that file has them, else (or for what stays missing) handed
    /// over to be followed up. A failure of that file is not the
    /// backfill's: it is logged and the rest of the run follows up.
    async fn join_detail(&mut self, mut raw: Value, gaps: BulkGaps, page: &mut Page) {
        let joined = match self.detail.as_mut().filter(|_| gaps.fulfillments) {
            None => false,
            Some(detail) => match detail.join(&mut raw).await {
                Ok(joined) => joined,
                Err(error) => {
                    tracing::warn!(%error, "fulfillment orders' file stopped; gaps are followed up");
                    self.detail = None;
                    false
                }
            },
        };
        if !joined {
            page.follow_ups.push((raw, gaps));
            return;
        }
        match self.kind.normalize(&self.ctx, &raw, BulkGaps::default()) {
            Ok(Normalized::Records(records)) => {
                page.joined += 1;
                for record in records {
                    page.reached.newest = page.reached.newest.max(Some(record.updated_at()));
                    page.records.push(record);
                }
            }
            Ok(Normalized::FollowUp(still)) => {
                page.joined += u64::from(!still.fulfillments);
                page.follow_ups.push((raw, still));
            }
            Err(e) => {
                tracing::warn!(error = %e, "record rejected");
                page.rejected.push(e);
            }
        }
    }

    fn new_page(&self, reached: BulkCursor) -> Page {
        Page {
            records: Vec::with_capacity(self.page_size),
            rejected: Vec::new(),
            follow_ups: Vec::new(),
            joined: 0,
            reached,
        }
    }
}

/// Fulfillment orders read ahead of the order that names them, at most.
/// Both files list by id and a fulfillment order is made with its order,
/// so the stream and the orders keep step and this stays nearly empty; one
/// made later (a split, a move) for an older order is met late, and its
/// order is followed up instead of waiting for it.
const DETAIL_AHEAD: usize = 1_000;

/// The fulfillment orders' file, streamed beside the orders' one: each
/// order that needs its units shipped per line names its fulfillment
/// orders, which are looked up in read order. Memory is the few read
/// ahead ([`DETAIL_AHEAD`]), never the file.
struct DetailJoin {
    groups: BulkGroups<HttpChunks>,
    /// Read but not asked for yet: id → (its order's number, the object
    /// with its lines).
    ahead: std::collections::HashMap<String, (u64, Value)>,
    ended: bool,
}

impl DetailJoin {
    fn new(groups: BulkGroups<HttpChunks>) -> Self {
        DetailJoin {
            groups,
            ahead: std::collections::HashMap::new(),
            ended: false,
        }
    }

    /// Replaces `order`'s `fulfillmentOrders` (ids only) with those of
    /// the file, lines included. `false` (and `order` left as it was)
    /// when the order names none, or one of them is not found.
    async fn join(&mut self, order: &mut Value) -> Result<bool, GraphqlError> {
        let Some(number) = order_number(order.get("id")) else {
            return Ok(false);
        };
        let ids: Vec<String> = order
            .get("fulfillmentOrders")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
            .iter()
            .filter_map(|fo| fo.get("id").and_then(Value::as_str).map(str::to_string))
            .collect();
        if ids.is_empty() {
            return Ok(false);
        }
        // Orders come by id: those of earlier ones are never asked again.
        self.ahead.retain(|_, (of, _)| *of >= number);
        let mut found = Vec::with_capacity(ids.len());
        for id in &ids {
            match self.find(id, number).await? {
                Some(fo) => found.push(fo),
                None => return Ok(false),
            }
        }
        order["fulfillmentOrders"] = Value::Array(found);
        Ok(true)
    }

    /// Fulfillment order `id` of order `number`: from those read ahead,
    /// else reading on, keeping those of later orders while there is room.
    async fn find(&mut self, id: &str, number: u64) -> Result<Option<Value>, GraphqlError> {
        if let Some((_, fo)) = self.ahead.remove(id) {
            return Ok(Some(fo));
        }
        while !self.ended && self.ahead.len() < DETAIL_AHEAD {
            let Some(item) = self.groups.next_item().await? else {
                self.ended = true;
                break;
            };
            let fo = match item
                .into_nested(|kind| (kind == "FulfillmentOrderLineItem").then_some("lineItems"))
            {
                Some(Ok(fo)) => fo,
                // A line out of its group, or an object that is not one:
                // whichever order needed it is followed up.
                Some(Err(reason)) => {
                    tracing::warn!(reason, "fulfillment orders' file line skipped");
                    continue;
                }
                None => continue,
            };
            if fo.get("id").and_then(Value::as_str) == Some(id) {
                return Ok(Some(fo));
            }
            let Some(of) = order_number(fo.get("orderId")) else {
                continue;
            };
            if of >= number {
                let key = fo
                    .get("id")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                self.ahead.insert(key, (of, fo));
            }
        }
        Ok(None)
    }
}

/// The number in an order's global id (`gid://shopify/Order/123` → 123).
fn order_number(gid: Option<&Value>) -> Option<u64> {
    legacy_id(gid?.as_str()?).parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_orders_bulk_query_nests_no_connection_in_a_list() {
        let query = orders_bulk_query(true);
        assert!(query.contains("lineItems { nodes {"), "{query}");
        assert!(
            query.contains("fulfillmentOrders(displayable: true) { nodes { id } }"),
            "{query}"
        );
        assert!(!orders_bulk_query(false).contains("fulfillmentOrders"));
        assert!(query.contains("refundableQuantity"), "{query}");
        assert!(query.contains("fulfillments { id status"), "{query}");
        assert!(
            query.contains("refunds { id createdAt note totalRefundedSet"),
            "{query}"
        );
        for nested in [
            "fulfillmentLineItems",
            "refundLineItems",
            "transactions",
            "(first:",
        ] {
            assert!(!query.contains(nested), "{nested} in {query}");
        }
        assert_eq!(query.matches('{').count(), query.matches('}').count());
    }

    /// Every variant: the match stops compiling when one is added and not
    /// listed, so no bulk query escapes the check below.
    fn every_resource() -> Vec<BulkResource> {
        let all = [
            BulkResource::Orders,
            BulkResource::Products,
            BulkResource::InventoryLevels,
            BulkResource::Customers,
        ];
        for kind in all {
            match kind {
                BulkResource::Orders
                | BulkResource::Products
                | BulkResource::InventoryLevels
                | BulkResource::Customers => {}
            }
        }
        all.to_vec()
    }

    #[test]
    fn every_bulk_query_sent_is_one_shopify_accepts() {
        let queries = every_resource()
            .into_iter()
            .map(BulkResource::query)
            .chain([orders_bulk_query(false), fulfillment_orders_bulk_query()]);
        for query in queries {
            if let Err(refusal) = opsdeck_simulator::check_bulk_query(&query) {
                panic!("{refusal}\n{query}");
            }
        }
    }

    #[test]
    fn the_products_bulk_query_gives_every_variant() {
        let query = products_bulk_query();
        assert!(
            query.starts_with("{ products { edges { node { id title"),
            "{query}"
        );
        assert!(query.contains("variants { nodes { id"), "{query}");
        assert!(!query.contains("first"), "{query}");
        assert_eq!(query.matches('{').count(), query.matches('}').count());
    }

    #[test]
    fn cursors_round_trip_and_foreign_cursors_are_not_read() {
        let cursor = BulkCursor {
            operation: "gid://shopify/BulkOperation/7".into(),
            line: 12,
            objects: 12,
            newest: Some("2026-05-04T14:00:00Z".parse().unwrap()),
            detail: Some("gid://shopify/BulkOperation/8".into()),
        };
        assert_eq!(BulkCursor::parse(&cursor.encode()), Some(cursor));
        assert_eq!(BulkCursor::parse("eyJwYWdlIjoyfQ"), None);
    }
}
