//! Keeping the store in step with the helpdesk: one run of one resource.
//!
//! # Tickets (and their messages)
//! `/api/tickets` has no date filter, so a run reads it newest change first
//! (`order_by=updated_datetime:desc`) and stops at the first page that
//! reaches tickets older than the watermark minus the overlap (or at the
//! end of the list). For every ticket changed since then it reads the
//! ticket's messages (`/api/messages?ticket_id=`), decides the brand, and
//! commits the page's tickets and messages together with the checkpoint in
//! one store call.
//!
//! Because the listing is newest first, the watermark cannot follow the
//! pages: after page one, everything *newer* than the watermark is not yet
//! stored. So the watermark moves only when the run reaches the old
//! watermark (or the end of the list), and then to the newest change the run
//! saw on its first page (`top`). Between pages the checkpoint keeps the old
//! watermark and stores `{next cursor, top}` in [`SyncState::cursor`]. A
//! crash mid-run resumes at that cursor, with the same floor, and finishes
//! the walk down to the old watermark: nothing older is skipped. Tickets
//! that change while a run walks down jump to the head of the listing, above
//! the cursor; they carry an `updated_datetime` later than `top`, so the
//! next run, which starts from the head again with `top` as its watermark,
//! reads them. If a stored cursor is refused (expired), the run restarts from
//! the head with the same floor: more requests, no loss.
//!
//! # Satisfaction surveys
//! `/api/satisfaction-surveys` offers neither a date filter nor an order, so
//! each run reads the whole list (pages of 100; a few dozen requests for a
//! merchant-sized helpdesk) and relies on idempotent upserts: unchanged
//! surveys are reported unchanged, a newly scored one updates. The cursor is
//! checkpointed with each page, so a crash resumes mid-list; the watermark is
//! the newest survey time seen, for the source-health lag. Surveys take their
//! ticket's brand from the tickets already stored, so tickets sync first.

use super::attribution::{Attributor, OrderIndex};
use super::client::{CallStats, GorgiasClient, GorgiasError};
use super::normalize::{self, GorgiasRecordError, MessageRouting};
use crate::sync::Checkpoints;
use opsdeck_domain::{BrandId, SourceId, Ticket, TicketMessage, Timestamp};
use opsdeck_store::{AnyRecord, Store, StoreError, SyncState, UpsertReport};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::Notify;

/// What a Gorgias sync fetches; also the `resource` of its [`SyncState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GorgiasResource {
    /// Tickets with their messages.
    Tickets,
    /// Needs the tickets' brands, so runs after [`GorgiasResource::Tickets`].
    SatisfactionSurveys,
}

impl GorgiasResource {
    pub const ALL: [GorgiasResource; 2] = [
        GorgiasResource::Tickets,
        GorgiasResource::SatisfactionSurveys,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            GorgiasResource::Tickets => "tickets",
            GorgiasResource::SatisfactionSurveys => "satisfaction_surveys",
        }
    }
}

/// Why a run stopped; its text becomes the sync's `last_error`, secret-free.
#[derive(Debug, thiserror::Error)]
pub enum GorgiasSyncError {
    #[error(transparent)]
    Gorgias(#[from] GorgiasError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// The helpdesk connector: the client, the attribution rules, the Shopify
/// sources whose orders the linked-order rule consults, and the brand of
/// every ticket seen (for surveys). Share it behind an `Arc`.
#[derive(Debug)]
pub struct GorgiasConnector {
    client: Arc<GorgiasClient>,
    attributor: Mutex<Attributor>,
    order_sources: Vec<SourceId>,
    /// Ticket id to brand, loaded from the store on first need and kept up
    /// to date by the ticket runs.
    ticket_brands: Mutex<Option<HashMap<String, Option<BrandId>>>>,
}

impl GorgiasConnector {
    pub fn new(
        client: Arc<GorgiasClient>,
        rules: Vec<super::AttributionRule>,
        order_sources: Vec<SourceId>,
    ) -> Self {
        GorgiasConnector {
            client,
            attributor: Mutex::new(Attributor::new(rules, OrderIndex::default())),
            order_sources,
            ticket_brands: Mutex::new(None),
        }
    }

    pub fn client(&self) -> &GorgiasClient {
        &self.client
    }

    pub fn source(&self) -> &SourceId {
        self.client.source()
    }

    fn attributor(&self) -> Attributor {
        self.attributor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    async fn refresh_orders(&self, store: &dyn Store) -> Result<(), StoreError> {
        if !self.attributor().needs_orders() {
            return Ok(());
        }
        let mut orders = Vec::new();
        for source in &self.order_sources {
            orders.extend(store.list_orders(source).await?);
        }
        let index = OrderIndex::from_orders(&orders);
        self.attributor
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .set_orders(index);
        Ok(())
    }

    /// Reads the stored tickets' brands once (the change feed holds every
    /// record as it is now).
    async fn ensure_ticket_brands(&self, store: &dyn Store) -> Result<(), StoreError> {
        if self.lock_brands().is_some() {
            return Ok(());
        }
        let mut brands = HashMap::new();
        let mut after = 0;
        loop {
            let changes = store.changes_since(after, 1000).await?;
            let Some(last) = changes.last() else { break };
            after = last.seq;
            for change in changes {
                if let AnyRecord::Ticket(t) = change.record {
                    if &t.source == self.source() {
                        brands.insert(t.external_id, t.brand);
                    }
                }
            }
        }
        *self.lock_brands() = Some(brands);
        Ok(())
    }

    fn lock_brands(&self) -> std::sync::MutexGuard<'_, Option<HashMap<String, Option<BrandId>>>> {
        self.ticket_brands.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GorgiasRun {
    pub resource: Option<GorgiasResource>,
    /// Records older than this ended the walk; `None` for a full backfill.
    pub since: Option<Timestamp>,
    /// List pages read (tickets or surveys; message pages counted apart).
    pub pages: u32,
    pub message_pages: u32,
    pub calls: CallStats,
    pub tickets: u64,
    pub messages: u64,
    pub surveys: u64,
    /// Tickets no rule claimed (stored with `brand: None`).
    pub unattributed: u64,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub stale: u64,
    pub rejected: Vec<GorgiasRecordError>,
    /// The run continued a previous run's walk from its checkpoint.
    pub resumed: bool,
    pub watermark: Option<Timestamp>,
}

impl GorgiasRun {
    fn tally(&mut self, report: &UpsertReport) {
        self.inserted += report.inserted() as u64;
        self.updated += report.updated() as u64;
        self.unchanged += report.unchanged() as u64;
        self.stale += report.stale() as u64;
    }
}

/// A walk in progress, stored as JSON in [`SyncState::cursor`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Walk {
    next: String,
    /// Newest change seen by the walk (tickets only).
    #[serde(default)]
    top: Option<Timestamp>,
}

/// A run in progress: its checkpoints and what it did so far.
struct Progress<'a> {
    book: Checkpoints<'a>,
    run: GorgiasRun,
}

impl Progress<'_> {
    /// Commits records with the checkpoint (`watermark`, and the `walk` to
    /// resume, if any) in one store call.
    async fn commit(
        &mut self,
        records: &[AnyRecord],
        watermark: Option<Timestamp>,
        walk: Option<&Walk>,
    ) -> Result<(), StoreError> {
        let cursor = walk.and_then(|w| serde_json::to_string(w).ok());
        let report = self
            .book
            .commit(records, &self.run.calls, |checkpoint| {
                checkpoint.watermark = watermark;
                checkpoint.cursor = cursor;
            })
            .await?;
        self.run.tally(&report);
        Ok(())
    }
}

/// One run of one resource. Records the outcome in the resource's
/// [`SyncState`] whether it succeeds or fails; cancel-safe (dropping it
/// mid-run leaves the store at the last committed page).
pub async fn sync_gorgias(
    connector: &GorgiasConnector,
    store: &dyn Store,
    resource: GorgiasResource,
    now: Timestamp,
) -> Result<GorgiasRun, GorgiasSyncError> {
    sync_gorgias_notifying(connector, store, resource, now, None).await
}

/// [`sync_gorgias`], waking `committed` after each page it commits, so
/// whoever follows the change feed (the projection) reads the page at once
/// instead of at its next poll.
#[tracing::instrument(
    name = "gorgias_sync",
    skip_all,
    fields(source = %connector.source(), resource = resource.as_str())
)]
pub async fn sync_gorgias_notifying(
    connector: &GorgiasConnector,
    store: &dyn Store,
    resource: GorgiasResource,
    now: Timestamp,
    committed: Option<&Notify>,
) -> Result<GorgiasRun, GorgiasSyncError> {
    let source = connector.source().clone();
    let mut p = Progress {
        book: Checkpoints::open(store, &source, resource.as_str(), now, committed).await?,
        run: GorgiasRun {
            resource: Some(resource),
            ..GorgiasRun::default()
        },
    };
    let outcome = match resource {
        GorgiasResource::Tickets => sync_tickets(connector, &mut p).await,
        GorgiasResource::SatisfactionSurveys => sync_surveys(connector, &mut p).await,
    };
    let Progress { book, run } = p;
    match book.finish(&run.calls, outcome, &run.rejected, now).await {
        Ok(state) => {
            tracing::info!(
                pages = run.pages,
                requests = run.calls.requests,
                tickets = run.tickets,
                messages = run.messages,
                surveys = run.surveys,
                unattributed = run.unattributed,
                rejected = run.rejected.len(),
                "gorgias sync done"
            );
            Ok(GorgiasRun {
                watermark: state.watermark,
                ..run
            })
        }
        Err(error) => {
            tracing::warn!(%error, pages = run.pages, "gorgias sync failed");
            Err(error)
        }
    }
}

fn stored_walk(state: &SyncState) -> Option<Walk> {
    state
        .cursor
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
}

async fn sync_tickets(c: &GorgiasConnector, p: &mut Progress<'_>) -> Result<(), GorgiasSyncError> {
    c.refresh_orders(p.book.store).await?;
    c.ensure_ticket_brands(p.book.store).await?;
    let attributor = c.attributor();
    let settings = c.client.settings();
    let overlap =
        jiff::SignedDuration::try_from(settings.overlap).unwrap_or(jiff::SignedDuration::ZERO);
    let floor = p
        .book
        .state
        .watermark
        .map(|w| w.checked_sub(overlap).unwrap_or(Timestamp::MIN));
    p.run.since = floor;
    let query = [("order_by", "updated_datetime:desc".to_string())];

    let mut walk = stored_walk(&p.book.state);
    p.run.resumed = walk.is_some();
    let mut top = walk.as_ref().and_then(|w| w.top);
    // Stopping at the floor is only safe while the listing really comes
    // newest change first; once a ticket is newer than the one before it,
    // the order was not honoured and the walk goes on to the end.
    let mut sorted = true;
    let mut previous: Option<Timestamp> = None;
    loop {
        let cursor = walk.as_ref().map(|w| w.next.clone());
        let page = match c
            .client
            .list("tickets", &query, cursor.as_deref(), &mut p.run.calls)
            .await
        {
            Ok(page) => page,
            // An expired cursor of a resumed walk: start again from the head.
            Err(GorgiasError::Rejected { status: 400, .. }) if cursor.is_some() => {
                tracing::warn!("stored cursor refused; restarting the walk from the newest ticket");
                walk = None;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        p.run.pages += 1;
        let mut below_floor = false;
        let mut records = Vec::new();
        let mut brands = Vec::new();
        for raw in &page.records {
            let ticket = match normalize::ticket_from_json(c.source(), raw) {
                Ok(t) => t,
                Err(e) => {
                    tracing::warn!(error = %e, "record rejected");
                    p.run.rejected.push(e);
                    continue;
                }
            };
            top = top.max(Some(ticket.updated_at));
            if sorted && previous.is_some_and(|before| ticket.updated_at > before) {
                tracing::warn!(
                    "tickets not listed newest change first; reading the whole list this run"
                );
                sorted = false;
            }
            previous = Some(ticket.updated_at);
            if floor.is_some_and(|f| ticket.updated_at < f) {
                below_floor = true;
                continue;
            }
            let messages = ticket_messages(c, p, &ticket.external_id).await?;
            let brand = attributor.brand_of(&ticket, &messages);
            if brand.is_none() {
                p.run.unattributed += 1;
            }
            brands.push((ticket.external_id.clone(), brand.clone()));
            p.run.tickets += 1;
            p.run.messages += messages.len() as u64;
            records.push(AnyRecord::Ticket(Ticket {
                brand: brand.clone(),
                ..ticket
            }));
            records.extend(messages.into_iter().map(|(m, _)| {
                AnyRecord::TicketMessage(TicketMessage {
                    brand: brand.clone(),
                    ..m
                })
            }));
        }
        let reached_floor = page.next_cursor.is_none() || (sorted && below_floor);
        if reached_floor {
            let watermark = p.book.state.watermark.max(top);
            p.commit(&records, watermark, None).await?;
        } else {
            let next = Walk {
                next: page.next_cursor.clone().unwrap_or_default(),
                top,
            };
            let watermark = p.book.state.watermark;
            p.commit(&records, watermark, Some(&next)).await?;
            walk = Some(next);
        }
        if let Some(book) = c.lock_brands().as_mut() {
            book.extend(brands);
        }
        if reached_floor {
            return Ok(());
        }
    }
}

/// Every message of one ticket, each with where it was sent.
async fn ticket_messages(
    c: &GorgiasConnector,
    p: &mut Progress<'_>,
    ticket_id: &str,
) -> Result<Vec<(TicketMessage, MessageRouting)>, GorgiasError> {
    let query = [("ticket_id", ticket_id.to_string())];
    let mut cursor: Option<String> = None;
    let mut messages = Vec::new();
    loop {
        let page = c
            .client
            .list("messages", &query, cursor.as_deref(), &mut p.run.calls)
            .await?;
        p.run.message_pages += 1;
        for raw in &page.records {
            match normalize::message_from_json(c.source(), raw) {
                Ok(m) => messages.push(m),
                Err(e) => {
                    tracing::warn!(error = %e, "record rejected");
                    p.run.rejected.push(e);
                }
            }
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(messages),
        }
    }
}

async fn sync_surveys(c: &GorgiasConnector, p: &mut Progress<'_>) -> Result<(), GorgiasSyncError> {
    c.ensure_ticket_brands(p.book.store).await?;
    let mut walk = stored_walk(&p.book.state);
    p.run.resumed = walk.is_some();
    let mut newest = p.book.state.watermark;
    loop {
        let cursor = walk.as_ref().map(|w| w.next.clone());
        let page = match c
            .client
            .list(
                "satisfaction-surveys",
                &[],
                cursor.as_deref(),
                &mut p.run.calls,
            )
            .await
        {
            Ok(page) => page,
            Err(GorgiasError::Rejected { status: 400, .. }) if cursor.is_some() => {
                walk = None;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        p.run.pages += 1;
        let mut records = Vec::with_capacity(page.records.len());
        {
            let book = c.lock_brands();
            for raw in &page.records {
                match normalize::survey_from_json(c.source(), raw) {
                    Ok(mut survey) => {
                        survey.brand = book
                            .as_ref()
                            .and_then(|b| b.get(&survey.ticket_id).cloned())
                            .flatten();
                        newest = newest.max(Some(survey.updated_at));
                        p.run.surveys += 1;
                        records.push(AnyRecord::SatisfactionSurvey(survey));
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "record rejected");
                        p.run.rejected.push(e);
                    }
                }
            }
        }
        let next = page.next_cursor.map(|next| Walk { next, top: None });
        let watermark = if next.is_none() {
            newest
        } else {
            p.book.state.watermark
        };
        p.commit(&records, watermark, next.as_ref()).await?;
        match next {
            Some(n) => walk = Some(n),
            None => return Ok(()),
        }
    }
}
