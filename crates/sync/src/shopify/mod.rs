//! Keeping the store in step with a shop: one run of one resource
//! ([`sync_once`]), and the worker that repeats runs ([`run_sync_loop`](crate::run_sync_loop)).
//!
//! A run is incremental by `updated_at`: it asks for everything changed since
//! the stored watermark minus an overlap, oldest change first, and commits
//! each page's records *with* the advanced watermark in one store call. A
//! crash between pages therefore loses nothing and repeats at most one page;
//! repeated records are harmless because upserts are idempotent and an older
//! copy never overwrites a newer one.
//!
//! Before its pages, a run checks what Shopify would otherwise hide
//! silently (`preflight`): the token's scopes, and for orders the shop's own
//! currency and time zone. A record that cannot be normalized (a foreign
//! currency, a bad field) is refused and counted page by page in the sync
//! state; the run goes on.

mod api_versions;
pub mod bulk;
pub mod bulk_finish;
pub mod graphql_plan;
mod graphql_sync;
mod preflight;

use crate::checkpoints::{Checkpoints, NeedsAttention};

use opsdeck_domain::{Product, SourceId, Timestamp};
use opsdeck_sources::shopify::graphql::{GraphqlClient, GraphqlError, GraphqlStats};
use opsdeck_sources::shopify::normalize::{self, NormalizeContext, NormalizeError};
use opsdeck_sources::shopify::{CallStats, ShopifyClient, ShopifyError};
use opsdeck_store::{AnyRecord, Store, StoreError, UpsertReport};
use serde_json::Value;
use std::collections::BTreeSet;
use tokio::sync::Notify;
use url::Url;

/// Inventory item ids per inventory-levels request (Shopify's maximum is 50).
const INVENTORY_IDS_PER_REQUEST: usize = 50;

/// What a sync fetches from a shop. Also the `resource` name of its
/// [`SyncState`](opsdeck_store::SyncState), so the source-health panel
/// shows one row per value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ShopifyResource {
    Orders,
    Products,
    /// Stock per location of the tracked variants already in the store, so
    /// it runs after [`ShopifyResource::Products`].
    InventoryLevels,
}

impl ShopifyResource {
    pub const ALL: [ShopifyResource; 3] = [
        ShopifyResource::Orders,
        ShopifyResource::Products,
        ShopifyResource::InventoryLevels,
    ];

    /// The name used in the store, in logs and in the resource's URL.
    pub fn as_str(&self) -> &'static str {
        match self {
            ShopifyResource::Orders => "orders",
            ShopifyResource::Products => "products",
            ShopifyResource::InventoryLevels => "inventory_levels",
        }
    }
}

/// Which Admin API a shop's runs read by (its home is the domain, so the
/// store can key what each API answered by it).
pub use opsdeck_domain::ShopifyApi;

/// Why a run stopped. Its text is stored as the sync's `last_error` and is
/// free of secrets by construction.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Shopify(#[from] ShopifyError),
    #[error(transparent)]
    Graphql(#[from] GraphqlError),
    /// A bulk backfill or reconciliation ([`graphql_plan`]) stopped.
    #[error(transparent)]
    Bulk(#[from] bulk::BulkError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
    /// The run stored what it could see, but something hides the rest (a
    /// missing scope, a shop in another currency): the text says what, and
    /// what to do.
    #[error("incomplete: {0}")]
    Incomplete(String),
}

impl NeedsAttention for SyncError {
    /// A missing scope or a shop in another currency stays until someone
    /// grants the scope or fixes the configuration, and so does what the
    /// client itself knows needs a person (a rejected token, a denied
    /// permission, a frozen shop: [`ShopifyError::needs_attention`]); a
    /// transport or store failure may pass on its own.
    fn needs_attention(&self) -> bool {
        match self {
            SyncError::Incomplete(_) => true,
            SyncError::Shopify(e) => e.needs_attention(),
            SyncError::Graphql(e) => e.needs_attention(),
            SyncError::Bulk(e) => e.needs_attention(),
            SyncError::Store(_) => false,
        }
    }
}

/// What one run did, for logs, tests and the refresh button's answer.
#[derive(Debug, Clone, PartialEq)]
pub struct SyncRun {
    pub source: SourceId,
    pub resource: ShopifyResource,
    /// The first request's `updated_at_min`; `None` for a full backfill
    /// (and always for inventory levels, which are read whole).
    pub since: Option<Timestamp>,
    pub pages: u32,
    /// Every HTTP call of the run, REST and GraphQL.
    pub calls: CallStats,
    /// What the run's GraphQL calls cost (all zero for a REST run).
    pub graphql: GraphqlStats,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Older than the stored copy (a webhook got there first): ignored.
    pub stale: u64,
    /// Records that could not be normalized; skipped, not half-stored.
    pub rejected: Vec<NormalizeError>,
    /// The watermark after the run.
    pub watermark: Option<Timestamp>,
    /// False when the pages did not come in ascending `updated_at` order; the
    /// watermark then only moved at the end of the run.
    pub ascending: bool,
    /// Scopes the resource needs that the token lacks (or, for
    /// `read_all_orders`, that its absence was detected).
    pub missing_scopes: Vec<String>,
    /// The shop's currency (`shop.json`) when it is not the brand's.
    pub shop_currency: Option<String>,
    /// The shop's time zone (`shop.json`) when it is not the brand's.
    pub shop_time_zone: Option<String>,
}

impl SyncRun {
    fn new(source: SourceId, resource: ShopifyResource) -> Self {
        SyncRun {
            source,
            resource,
            since: None,
            pages: 0,
            calls: CallStats::default(),
            graphql: GraphqlStats::default(),
            inserted: 0,
            updated: 0,
            unchanged: 0,
            stale: 0,
            rejected: Vec::new(),
            watermark: None,
            ascending: true,
            missing_scopes: Vec::new(),
            shop_currency: None,
            shop_time_zone: None,
        }
    }

    /// Records received and stored (whatever the outcome per record).
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

/// A run in progress: its clients, its checkpoints and what it did so far.
struct Progress<'a> {
    client: &'a ShopifyClient,
    /// Set when the run reads by GraphQL (the REST client still answers
    /// the shop check).
    graphql: Option<&'a GraphqlClient>,
    ctx: NormalizeContext,
    book: Checkpoints<'a>,
    run: SyncRun,
}

impl Progress<'_> {
    /// Every HTTP call so far: REST's and GraphQL's.
    fn calls(&self) -> CallStats {
        let (rest, graphql) = (self.run.calls, self.run.graphql.http);
        CallStats {
            requests: rest.requests + graphql.requests,
            errors: rest.errors + graphql.errors,
            rate_limit_waits: rest.rate_limit_waits + graphql.rate_limit_waits,
            throttle_waits: rest.throttle_waits + graphql.throttle_waits,
        }
    }

    /// Commits one page's records with `watermark` in one store call.
    async fn commit(
        &mut self,
        records: &[AnyRecord],
        watermark: Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let calls = self.calls();
        let report = self
            .book
            .commit(records, &calls, |checkpoint| {
                checkpoint.watermark = watermark
            })
            .await?;
        self.run.tally(&report);
        Ok(())
    }

    /// The `updated_at` a run asks changes from: the watermark minus the
    /// overlap (`None` on the first run, a full backfill).
    fn since(&mut self) -> Option<Timestamp> {
        let overlap = jiff::SignedDuration::try_from(self.client.settings().overlap)
            .unwrap_or(jiff::SignedDuration::ZERO);
        let since = self
            .book
            .state
            .watermark
            .map(|w| w.checked_sub(overlap).unwrap_or(Timestamp::MIN));
        self.run.since = since;
        since
    }

    /// Commits one page of a listing asked oldest change first, with the
    /// watermark it proves: the page's newest change while the pages
    /// really come oldest first (then everything before it is stored),
    /// else the old watermark until the run ends ([`Progress::close_ascending`]).
    async fn commit_ascending(
        &mut self,
        records: &[AnyRecord],
        seen_max: &mut Option<Timestamp>,
    ) -> Result<(), StoreError> {
        let times: Vec<Timestamp> = records.iter().map(AnyRecord::updated_at).collect();
        let ordered = times.windows(2).all(|w| w[0] <= w[1])
            && match (*seen_max, times.first()) {
                (Some(prev), Some(first)) => *first >= prev,
                _ => true,
            };
        if self.run.ascending && !ordered {
            tracing::warn!(
                "pages not in ascending updated_at order; watermark held to the end of the run"
            );
            self.run.ascending = false;
        }
        let page_max = times.iter().max().copied();
        *seen_max = (*seen_max).max(page_max);
        let watermark = if self.run.ascending {
            self.book.state.watermark.max(page_max)
        } else {
            self.book.state.watermark
        };
        self.commit(records, watermark).await
    }

    /// After the last page: only a complete run proves everything up to
    /// the newest change seen is stored (whatever the order was).
    fn close_ascending(&mut self, seen_max: Option<Timestamp>) {
        self.book.state.watermark = self.book.state.watermark.max(seen_max);
    }

    /// Keeps a record that could not be normalized in the run, logged.
    fn reject(&mut self, e: NormalizeError) {
        tracing::warn!(error = %e, "record rejected");
        self.run.rejected.push(e);
        self.book.refuse(1);
    }

    /// Fetches one page and normalizes it; rejected records are logged and
    /// kept in the run, the rest returned.
    async fn fetch(
        &mut self,
        url: &Url,
        resource: ShopifyResource,
    ) -> Result<(Vec<AnyRecord>, Option<Url>), ShopifyError> {
        let page = self
            .client
            .get_page(url, resource.as_str(), &mut self.run.calls)
            .await?;
        self.run.pages += 1;
        let mut records = Vec::with_capacity(page.records.len());
        for raw in &page.records {
            match normalize_record(&self.ctx, resource, raw) {
                Ok(record) => records.push(record),
                Err(e) => self.reject(e),
            }
        }
        Ok((records, page.next))
    }
}

fn normalize_record(
    ctx: &NormalizeContext,
    resource: ShopifyResource,
    raw: &Value,
) -> Result<AnyRecord, NormalizeError> {
    Ok(match resource {
        ShopifyResource::Orders => AnyRecord::Order(normalize::order_from_json(ctx, raw)?),
        ShopifyResource::Products => AnyRecord::Product(normalize::product_from_json(ctx, raw)?),
        ShopifyResource::InventoryLevels => {
            AnyRecord::InventoryLevel(normalize::inventory_level_from_json(ctx, raw)?)
        }
    })
}

/// One run of one resource, from the stored watermark to now. Records the
/// outcome in the resource's [`SyncState`](opsdeck_store::SyncState)
/// whether it succeeds or fails.
/// Cancel-safe: dropping the future mid-run (shutdown, an aborted task)
/// leaves the store at the last committed page.
pub async fn sync_once(
    client: &ShopifyClient,
    store: &dyn Store,
    resource: ShopifyResource,
    now: Timestamp,
) -> Result<SyncRun, SyncError> {
    sync_once_notifying(client, store, resource, now, None).await
}

/// [`sync_once`], waking `committed` after each page it commits, so whoever
/// follows the change feed (the projection) reads the page at once instead
/// of at its next poll.
#[tracing::instrument(
    name = "shopify_sync",
    skip_all,
    fields(source = %client.source(), resource = resource.as_str())
)]
pub async fn sync_once_notifying(
    client: &ShopifyClient,
    store: &dyn Store,
    resource: ShopifyResource,
    now: Timestamp,
    committed: Option<&Notify>,
) -> Result<SyncRun, SyncError> {
    run(client, None, store, resource, now, committed).await
}

/// [`sync_once`] reading by the GraphQL Admin API (`graphql`, a client of
/// the same shop as `client`): the same preflight, checkpoints and page
/// commits, with the token's scopes asked of GraphQL.
pub async fn sync_once_graphql(
    client: &ShopifyClient,
    graphql: &GraphqlClient,
    store: &dyn Store,
    resource: ShopifyResource,
    now: Timestamp,
) -> Result<SyncRun, SyncError> {
    sync_once_graphql_notifying(client, graphql, store, resource, now, None).await
}

/// [`sync_once_graphql`], waking `committed` after each page it commits.
#[tracing::instrument(
    name = "shopify_graphql_sync",
    skip_all,
    fields(source = %client.source(), resource = resource.as_str())
)]
pub async fn sync_once_graphql_notifying(
    client: &ShopifyClient,
    graphql: &GraphqlClient,
    store: &dyn Store,
    resource: ShopifyResource,
    now: Timestamp,
    committed: Option<&Notify>,
) -> Result<SyncRun, SyncError> {
    run(client, Some(graphql), store, resource, now, committed).await
}

/// One run, by GraphQL when `graphql` is set, else by REST.
async fn run(
    client: &ShopifyClient,
    graphql: Option<&GraphqlClient>,
    store: &dyn Store,
    resource: ShopifyResource,
    now: Timestamp,
    committed: Option<&Notify>,
) -> Result<SyncRun, SyncError> {
    let settings = client.settings();
    let source = settings.source.clone();
    let book = Checkpoints::open(store, &source, resource.as_str(), now, committed).await?;
    let mut progress = Progress {
        client,
        graphql,
        ctx: NormalizeContext {
            source: source.clone(),
            brand: settings.brand.clone(),
            currency: settings.currency,
        },
        book,
        run: SyncRun::new(source, resource),
    };
    let outcome = match preflight::check(&mut progress, resource, now).await {
        Err(e) => Err(e),
        Ok(problems) => {
            let pages = match (graphql, resource) {
                (Some(graphql), _) => graphql_sync::pages(&mut progress, graphql, resource).await,
                (None, ShopifyResource::Orders | ShopifyResource::Products) => {
                    sync_by_updated_at(&mut progress, resource).await
                }
                (None, ShopifyResource::InventoryLevels) => {
                    sync_inventory_levels(&mut progress).await
                }
            };
            // What could be seen is stored; the run still says what it missed.
            pages.and_then(|()| match problems.is_empty() {
                true => Ok(()),
                false => Err(SyncError::Incomplete(problems.join("; "))),
            })
        }
    };
    // What the answers said about the API version, whatever the outcome.
    let noted = api_versions::record(&mut progress, now).await;
    if let Err(error) = &noted {
        tracing::warn!(%error, "the api version note was not saved");
    }
    let outcome = outcome.and(noted.map_err(SyncError::from));
    let calls = progress.calls();
    let Progress { book, mut run, .. } = progress;
    run.calls = calls;
    match book.finish(&run.calls, outcome, &run.rejected, now).await {
        Ok(state) => {
            tracing::info!(
                pages = run.pages,
                requests = run.calls.requests,
                inserted = run.inserted,
                updated = run.updated,
                rejected = run.rejected.len(),
                "sync done"
            );
            Ok(SyncRun {
                watermark: state.watermark,
                ..run
            })
        }
        Err(error) => {
            tracing::warn!(%error, pages = run.pages, "sync failed");
            Err(error)
        }
    }
}

/// Orders and products: pages of records changed since the watermark,
/// oldest first, each committed with the watermark it proves.
async fn sync_by_updated_at(
    p: &mut Progress<'_>,
    resource: ShopifyResource,
) -> Result<(), SyncError> {
    let settings = p.client.settings();
    let since = p.since();

    let mut query: Vec<(&str, String)> = Vec::new();
    if resource == ShopifyResource::Orders {
        // The listing defaults to open orders only.
        query.push(("status", "any".into()));
    }
    if let Some(since) = since {
        query.push(("updated_at_min", since.to_string()));
    }
    query.push(("order", "updated_at asc".into()));
    query.push(("limit", settings.page_size.to_string()));
    let mut url = p.client.resource_url(resource.as_str(), &query);

    let mut seen_max: Option<Timestamp> = None;
    loop {
        let (records, next) = p.fetch(&url, resource).await?;
        p.commit_ascending(&records, &mut seen_max).await?;
        match next {
            Some(n) => url = n,
            None => break,
        }
    }
    p.close_ascending(seen_max);
    Ok(())
}

/// Stock of every tracked variant the store knows, read whole each run
/// (a few requests per shop), 50 inventory items per request.
async fn sync_inventory_levels(p: &mut Progress<'_>) -> Result<(), SyncError> {
    let products = p.book.store.list_products(p.client.source()).await?;
    let item_ids = tracked_inventory_items(&products);
    let page_size = p.client.settings().page_size.to_string();
    let mut seen_max: Option<Timestamp> = None;
    for chunk in item_ids.chunks(INVENTORY_IDS_PER_REQUEST) {
        let ids = chunk.join(",");
        let query = [("inventory_item_ids", ids), ("limit", page_size.clone())];
        let mut url = p.client.resource_url("inventory_levels", &query);
        loop {
            let (records, next) = p.fetch(&url, ShopifyResource::InventoryLevels).await?;
            seen_max = seen_max.max(records.iter().map(AnyRecord::updated_at).max());
            let watermark = p.book.state.watermark;
            p.commit(&records, watermark).await?;
            match next {
                Some(n) => url = n,
                None => break,
            }
        }
    }
    p.book.state.watermark = p.book.state.watermark.max(seen_max);
    Ok(())
}

/// Inventory item ids of tracked variants of live products, sorted and
/// without duplicates (so requests are stable between runs).
fn tracked_inventory_items(products: &[Product]) -> Vec<String> {
    products
        .iter()
        .filter(|p| p.deleted_at.is_none())
        .flat_map(|p| &p.variants)
        .filter(|v| v.inventory_tracked)
        .filter_map(|v| v.inventory_item_id.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect()
}
