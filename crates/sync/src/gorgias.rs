//! Keeping the store in step with the helpdesk: one run of one resource.
//!
//! Every list is read newest first and only as far down as the resource's
//! watermark (minus an overlap): tickets by `updated_datetime:desc`,
//! messages and satisfaction surveys account-wide by
//! `created_datetime:desc` (one request per page of 100, never one per
//! ticket). A first sync thus costs the pages of the three lists and
//! nothing more; an incremental run costs the pages of what changed. Each
//! page is committed with its checkpoint in one store call.
//!
//! # The walk down to the watermark
//! Because a listing is newest first, the watermark cannot follow the
//! pages: after page one, everything *newer* than the watermark is not yet
//! stored. So the watermark moves only when the run reaches the old
//! watermark (or the end of the list), and then to the newest time the run
//! saw (`top`). Between pages the checkpoint keeps the old watermark and
//! stores `{next cursor, top}` in [`SyncState::cursor`]. A crash mid-run
//! resumes at that cursor, with the same floor, and finishes the walk down
//! to the old watermark: nothing older is skipped. Records that change
//! while a run walks down jump to the head of the listing, above the
//! cursor; they carry a time later than `top`, so the next run, which
//! starts from the head again with `top` as its watermark, reads them. If a
//! stored cursor is refused (expired), the run restarts from the head with
//! the same floor: more requests, no loss. If a listing turns out not to be
//! in the order asked for, the run reads it to the end.
//!
//! # Tickets, then messages
//! A ticket changed since the last run is read again whole. A message added
//! to an old ticket is read by the messages walk (it is new) and moves its
//! ticket's `updated_datetime`, so the ticket is read again too. Messages
//! take their ticket's brand as known when they are read.
//!
//! Attribution rules that look at messages (receiving address,
//! integration, quoted order names) see a ticket's messages only after the
//! ticket: the connector keeps each ticket's [`TicketClues`] as messages
//! arrive, and the tickets no rule could claim yet. When a message brings
//! a clue for such a ticket, the messages run stores the ticket again with
//! its brand, in the same commit as the message. A ticket keeps the brand
//! it was given when later clues are missing (after a restart the clues of
//! messages read before it are not in memory).
//!
//! # Satisfaction surveys
//! A survey is created when it is sent and answered later, and the list is
//! ordered by creation only: each run reads down to the newest survey it
//! saw minus [`GorgiasSettings::survey_lookback`](opsdeck_sources::GorgiasSettings::survey_lookback) (7 days by default), so
//! answers given within that time after sending are seen; the idempotent
//! upsert reports the unchanged ones unchanged. Surveys take their ticket's
//! brand, so tickets sync first.

use crate::checkpoints::{Checkpoints, NeedsAttention};
use opsdeck_domain::{BrandId, SourceId, Ticket, TicketMessage, Timestamp};
use opsdeck_sources::gorgias::attribution::{Attributor, OrderIndex, TicketClues};
use opsdeck_sources::gorgias::client::{CallStats, GorgiasClient, GorgiasError};
use opsdeck_sources::gorgias::normalize::{self, GorgiasRecordError};
use opsdeck_sources::gorgias::{AttributionRule, GorgiasEvent};
use opsdeck_store::{AnyRecord, Store, StoreError, SyncState, UpsertReport};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// What a Gorgias sync fetches; also the `resource` of its [`SyncState`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum GorgiasResource {
    Tickets,
    /// Account-wide; runs after [`GorgiasResource::Tickets`] so messages
    /// take their ticket's brand.
    Messages,
    /// Needs the tickets' brands, so runs after them.
    SatisfactionSurveys,
}

impl GorgiasResource {
    /// In the order a round runs them.
    pub const ALL: [GorgiasResource; 3] = [
        GorgiasResource::Tickets,
        GorgiasResource::Messages,
        GorgiasResource::SatisfactionSurveys,
    ];

    pub fn as_str(&self) -> &'static str {
        match self {
            GorgiasResource::Tickets => "tickets",
            GorgiasResource::Messages => "messages",
            GorgiasResource::SatisfactionSurveys => "satisfaction_surveys",
        }
    }

    /// The API path of its list.
    fn path(&self) -> &'static str {
        match self {
            GorgiasResource::Tickets => "tickets",
            GorgiasResource::Messages => "messages",
            GorgiasResource::SatisfactionSurveys => "satisfaction-surveys",
        }
    }

    /// The order its list is read in: newest first by the time that moves
    /// when something to read appears.
    fn order_by(&self) -> &'static str {
        match self {
            GorgiasResource::Tickets => "updated_datetime:desc",
            _ => "created_datetime:desc",
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

impl NeedsAttention for GorgiasSyncError {
    /// The client's own rule ([`GorgiasError::needs_attention`]): a rejected
    /// API key or a denied permission stays until someone acts.
    fn needs_attention(&self) -> bool {
        match self {
            GorgiasSyncError::Gorgias(e) => e.needs_attention(),
            GorgiasSyncError::Store(_) => false,
        }
    }
}

/// What the connector remembers of the helpdesk between runs.
#[derive(Debug, Default)]
struct Memory {
    /// Ticket id to brand, as stored.
    brands: HashMap<String, Option<BrandId>>,
    /// What each ticket's customer messages told so far.
    clues: HashMap<String, TicketClues>,
    /// Stored tickets no rule claimed, kept while a message may still give
    /// them a brand (only when a rule reads messages).
    unclaimed: HashMap<String, Ticket>,
}

/// The helpdesk connector: the client, the attribution rules, the Shopify
/// sources whose orders the linked-order rule consults, and what it knows
/// of the stored tickets. Share it behind an `Arc`.
#[derive(Debug)]
pub struct GorgiasConnector {
    client: Arc<GorgiasClient>,
    attributor: Mutex<Attributor>,
    order_sources: Vec<SourceId>,
    /// Loaded from the store on first need, kept up to date by the runs.
    memory: Mutex<Option<Memory>>,
}

impl GorgiasConnector {
    pub fn new(
        client: Arc<GorgiasClient>,
        rules: Vec<AttributionRule>,
        order_sources: Vec<SourceId>,
    ) -> Self {
        GorgiasConnector {
            client,
            attributor: Mutex::new(Attributor::new(rules, OrderIndex::default())),
            order_sources,
            memory: Mutex::new(None),
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

    /// Reads the stored tickets once (the change feed holds every record
    /// as it is now): their brands, and the unclaimed ones.
    async fn ensure_memory(&self, store: &dyn Store) -> Result<(), StoreError> {
        if self.lock_memory().is_some() {
            return Ok(());
        }
        let keep_unclaimed = self.attributor().needs_messages();
        let mut memory = Memory::default();
        let mut after = 0;
        loop {
            let changes = store.changes_since(after, 1000).await?;
            let Some(last) = changes.last() else { break };
            after = last.seq;
            for change in changes {
                if let AnyRecord::Ticket(t) = change.record {
                    if &t.source == self.source() {
                        if t.brand.is_none() && keep_unclaimed {
                            memory.unclaimed.insert(t.external_id.clone(), t.clone());
                        }
                        memory.brands.insert(t.external_id, t.brand);
                    }
                }
            }
        }
        *self.lock_memory() = Some(memory);
        Ok(())
    }

    fn lock_memory(&self) -> std::sync::MutexGuard<'_, Option<Memory>> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The records of one HTTP-integration event, attributed as a sync run
    /// would: the ticket with its brand, the message with its ticket's (and
    /// the ticket again when the message is what claims it). The error is
    /// the record's mapping problem; the receiver checked the event, so it
    /// is rare.
    pub async fn event_records(
        &self,
        store: &dyn Store,
        event: &GorgiasEvent,
    ) -> Result<Result<Vec<AnyRecord>, GorgiasRecordError>, StoreError> {
        if event.ticket.is_some() {
            self.refresh_orders_once(store).await?;
        }
        self.ensure_memory(store).await?;
        let mut run = GorgiasRun::default();
        let mut reader = Reader {
            c: self,
            resource: GorgiasResource::Tickets,
            floor: None,
            attributor: self.attributor(),
            unbranded: HashMap::new(),
        };
        let mut records = Vec::new();
        if let Some(ticket) = &event.ticket {
            let page = reader.tickets(std::slice::from_ref(ticket), &mut run);
            records.extend(page.records);
            reader.committed(page.brands);
        }
        if let Some(message) = &event.message {
            let page = reader.messages(std::slice::from_ref(message), &mut run);
            records.extend(page.records);
        }
        Ok(match run.rejected.into_iter().next() {
            Some(error) => Err(error),
            None => Ok(records),
        })
    }

    /// Loads the order index for the linked-order rule unless a sync run
    /// already did.
    async fn refresh_orders_once(&self, store: &dyn Store) -> Result<(), StoreError> {
        if self.attributor().needs_orders() && self.attributor().has_no_orders() {
            self.refresh_orders(store).await?;
        }
        Ok(())
    }

    /// Runs `f` on the memory (loaded by [`Self::ensure_memory`]).
    fn with_memory<T>(&self, f: impl FnOnce(&mut Memory) -> T) -> T {
        let mut guard = self.lock_memory();
        f(guard.get_or_insert_with(Memory::default))
    }
}

/// What one run did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GorgiasRun {
    pub resource: Option<GorgiasResource>,
    /// Records older than this ended the walk; `None` for a full read.
    pub since: Option<Timestamp>,
    /// List pages read.
    pub pages: u32,
    pub calls: CallStats,
    pub tickets: u64,
    pub messages: u64,
    pub surveys: u64,
    /// Tickets no rule claimed (stored with `brand: None`).
    pub unattributed: u64,
    /// Tickets a message read by this run gave a brand (stored again).
    pub reattributed: u64,
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

    fn reject(&mut self, error: GorgiasRecordError) {
        tracing::warn!(error = %error, "record rejected");
        self.rejected.push(error);
    }
}

/// A walk in progress, stored as JSON in [`SyncState::cursor`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
struct Walk {
    next: String,
    /// Newest time seen by the walk.
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
    let outcome = run_resource(connector, &mut p, resource).await;
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
                reattributed = run.reattributed,
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

async fn run_resource(
    c: &GorgiasConnector,
    p: &mut Progress<'_>,
    resource: GorgiasResource,
) -> Result<(), GorgiasSyncError> {
    if resource == GorgiasResource::Tickets {
        c.refresh_orders(p.book.store).await?;
    }
    c.ensure_memory(p.book.store).await?;
    let settings = c.client.settings();
    let below = match resource {
        GorgiasResource::SatisfactionSurveys => settings.overlap.max(settings.survey_lookback),
        _ => settings.overlap,
    };
    let floor = p.book.state.watermark.map(|w| back(w, below));
    p.run.since = floor;
    let mut reader = Reader {
        c,
        resource,
        floor,
        attributor: c.attributor(),
        unbranded: HashMap::new(),
    };
    walk(c, p, resource, floor, &mut reader).await
}

/// `at` minus `span`, at the earliest representable time.
fn back(at: Timestamp, span: Duration) -> Timestamp {
    let span = jiff::SignedDuration::try_from(span).unwrap_or(jiff::SignedDuration::MAX);
    at.checked_sub(span).unwrap_or(Timestamp::MIN)
}

fn stored_walk(state: &SyncState) -> Option<Walk> {
    state
        .cursor
        .as_deref()
        .and_then(|c| serde_json::from_str(c).ok())
}

/// Reads `resource` newest first from the stored walk (or the head) down
/// to `floor`, committing each page as `reader` turns it into records.
async fn walk(
    c: &GorgiasConnector,
    p: &mut Progress<'_>,
    resource: GorgiasResource,
    floor: Option<Timestamp>,
    reader: &mut Reader<'_>,
) -> Result<(), GorgiasSyncError> {
    let query = [("order_by", resource.order_by().to_string())];
    let mut walk = stored_walk(&p.book.state);
    p.run.resumed = walk.is_some();
    let mut top = walk.as_ref().and_then(|w| w.top);
    // Stopping at the floor is only safe while the listing really comes
    // newest first; once a record is newer than the one before it, the
    // order was not honoured and the walk goes on to the end.
    let mut sorted = true;
    let mut previous: Option<Timestamp> = None;
    loop {
        let cursor = walk.as_ref().map(|w| w.next.clone());
        let page = match c
            .client
            .list(resource.path(), &query, cursor.as_deref(), &mut p.run.calls)
            .await
        {
            Ok(page) => page,
            // An expired cursor of a resumed walk: start again from the head.
            Err(GorgiasError::Rejected { status: 400, .. }) if cursor.is_some() => {
                tracing::warn!("stored cursor refused; restarting the walk from the head");
                walk = None;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        p.run.pages += 1;
        let read = reader.read(&page.records, &mut p.run);
        let mut below_floor = false;
        for at in read.times {
            top = top.max(Some(at));
            if sorted && previous.is_some_and(|before| at > before) {
                tracing::warn!(
                    resource = resource.as_str(),
                    "list not in the order asked for; reading all of it this run"
                );
                sorted = false;
            }
            previous = Some(at);
            below_floor |= floor.is_some_and(|f| at < f);
        }
        let reached_floor = page.next_cursor.is_none() || (sorted && below_floor);
        if reached_floor {
            let watermark = p.book.state.watermark.max(top);
            p.commit(&read.records, watermark, None).await?;
        } else {
            let next = Walk {
                next: page.next_cursor.clone().unwrap_or_default(),
                top,
            };
            let watermark = p.book.state.watermark;
            p.commit(&read.records, watermark, Some(&next)).await?;
            walk = Some(next);
        }
        reader.committed(read.brands);
        if reached_floor {
            return Ok(());
        }
    }
}

/// What a page gave: the records to commit, the time the list is ordered
/// by of every record it could read, and the tickets' brands to remember
/// once committed.
#[derive(Default)]
struct PageRead {
    records: Vec<AnyRecord>,
    times: Vec<Timestamp>,
    brands: Vec<(String, Option<BrandId>)>,
}

/// Turns one page of a list into records.
struct Reader<'a> {
    c: &'a GorgiasConnector,
    resource: GorgiasResource,
    floor: Option<Timestamp>,
    attributor: Attributor,
    /// Messages this run stored without a brand because their ticket was
    /// unclaimed: stored again if a later (older) message claims it.
    unbranded: HashMap<String, Vec<TicketMessage>>,
}

impl Reader<'_> {
    fn read(&mut self, raw: &[Value], run: &mut GorgiasRun) -> PageRead {
        match self.resource {
            GorgiasResource::Tickets => self.tickets(raw, run),
            GorgiasResource::Messages => self.messages(raw, run),
            GorgiasResource::SatisfactionSurveys => self.surveys(raw, run),
        }
    }

    fn above_floor(&self, at: Timestamp) -> bool {
        self.floor.is_none_or(|f| at >= f)
    }

    /// Tickets changed since the floor, each with the brand the rules give
    /// it from what is known of its messages (or the brand it has).
    fn tickets(&mut self, raw: &[Value], run: &mut GorgiasRun) -> PageRead {
        let source = self.c.source();
        let mut page = PageRead::default();
        let keep_unclaimed = self.attributor.needs_messages();
        self.c.with_memory(|memory| {
            for value in raw {
                let ticket = match normalize::ticket_from_json(source, value) {
                    Ok(t) => t,
                    Err(e) => {
                        run.reject(e);
                        continue;
                    }
                };
                page.times.push(ticket.updated_at);
                if !self.above_floor(ticket.updated_at) {
                    continue;
                }
                let id = ticket.external_id.clone();
                let clues = memory.clues.get(&id).cloned().unwrap_or_default();
                let brand = self
                    .attributor
                    .brand_of(&ticket, &clues)
                    .or_else(|| memory.brands.get(&id).cloned().flatten());
                let ticket = Ticket { brand, ..ticket };
                if ticket.brand.is_none() {
                    run.unattributed += 1;
                    if keep_unclaimed {
                        memory.unclaimed.insert(id.clone(), ticket.clone());
                    }
                } else {
                    memory.unclaimed.remove(&id);
                }
                run.tickets += 1;
                page.brands.push((id, ticket.brand.clone()));
                page.records.push(AnyRecord::Ticket(ticket));
            }
        });
        page
    }

    /// Messages created since the floor, with their ticket's brand; an
    /// unclaimed ticket a message gives a brand is stored again with it.
    fn messages(&mut self, raw: &[Value], run: &mut GorgiasRun) -> PageRead {
        let source = self.c.source();
        let mut page = PageRead::default();
        let mut messages: Vec<TicketMessage> = Vec::with_capacity(raw.len());
        self.c.with_memory(|memory| {
            for value in raw {
                let (message, routing) = match normalize::message_from_json(source, value) {
                    Ok(m) => m,
                    Err(e) => {
                        run.reject(e);
                        continue;
                    }
                };
                page.times.push(message.created_at);
                if !self.above_floor(message.created_at) {
                    continue;
                }
                let ticket_id = message.ticket_id.clone();
                let new_clue = memory
                    .clues
                    .entry(ticket_id.clone())
                    .or_default()
                    .add(&message, &routing);
                if new_clue {
                    if let Some(ticket) = memory.unclaimed.get(&ticket_id) {
                        let clues = &memory.clues[&ticket_id];
                        if let Some(brand) = self.attributor.brand_of(ticket, clues) {
                            let ticket = Ticket {
                                brand: Some(brand.clone()),
                                ..ticket.clone()
                            };
                            memory.unclaimed.remove(&ticket_id);
                            memory.brands.insert(ticket_id.clone(), Some(brand.clone()));
                            run.reattributed += 1;
                            page.records.push(AnyRecord::Ticket(ticket));
                            // Newer messages of the ticket, read before this one.
                            let earlier = self.unbranded.remove(&ticket_id).unwrap_or_default();
                            page.records.extend(earlier.into_iter().map(|m| {
                                AnyRecord::TicketMessage(TicketMessage {
                                    brand: Some(brand.clone()),
                                    ..m
                                })
                            }));
                        }
                    }
                }
                run.messages += 1;
                messages.push(message);
            }
            for message in messages {
                let brand = memory.brands.get(&message.ticket_id).cloned().flatten();
                if brand.is_none() && memory.unclaimed.contains_key(&message.ticket_id) {
                    self.unbranded
                        .entry(message.ticket_id.clone())
                        .or_default()
                        .push(message.clone());
                }
                page.records
                    .push(AnyRecord::TicketMessage(TicketMessage { brand, ..message }));
            }
        });
        page
    }

    /// Surveys created since the floor, with their ticket's brand.
    fn surveys(&mut self, raw: &[Value], run: &mut GorgiasRun) -> PageRead {
        let source = self.c.source();
        let mut page = PageRead::default();
        self.c.with_memory(|memory| {
            for value in raw {
                let survey = match normalize::survey_from_json(source, value) {
                    Ok(s) => s,
                    Err(e) => {
                        run.reject(e);
                        continue;
                    }
                };
                let created = normalize::listed_created_at(value).unwrap_or(survey.updated_at);
                page.times.push(created);
                if !self.above_floor(created) {
                    continue;
                }
                let brand = memory.brands.get(&survey.ticket_id).cloned().flatten();
                run.surveys += 1;
                page.records.push(AnyRecord::SatisfactionSurvey(
                    opsdeck_domain::SatisfactionSurvey { brand, ..survey },
                ));
            }
        });
        page
    }

    /// After a page's commit: its tickets' brands are the stored ones.
    fn committed(&mut self, brands: Vec<(String, Option<BrandId>)>) {
        if brands.is_empty() {
            return;
        }
        self.c.with_memory(|memory| memory.brands.extend(brands));
    }
}
