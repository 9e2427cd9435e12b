//! The [`Store`] rules, written once over the [`Db`] seam: the upsert
//! algorithm, the change feed and the report queries.

use crate::db::{Col, Db, DbTx, Dialect, Value};
use crate::inbox::{
    AppliedWebhooks, InboxEvent, InsertOutcome, StoredWebhook, WebhookStats, WebhookStatus,
};
use crate::kinds::{self, PerKind, Stored};
use crate::model::{AnyRecord, Change, OrderFact, RecordCounts, SyncState, UpsertOutcome};
use crate::schema::{self, RecordRow, Statements, SEQ_PARAM};
use crate::tokens::{ApiToken, AuditEntry, IngestNote, IngestNoteFor, NewApiToken, TokenCheck};
use crate::{Backend, Result, Store, UpsertReport};
use async_trait::async_trait;
use opsdeck_domain::{
    BrandId, Currency, InventoryLevel, Money, Order, Product, RecordKind, ReturnRequest,
    ReviewItem, SourceId, Timestamp,
};
use std::collections::HashMap;
use tracing::instrument;

/// Serializes the creation of record tables among instances sharing one
/// PostgreSQL database (the key is arbitrary, fixed, and opsdeck's own).
const RECORD_TABLES_LOCK: &str = "SELECT pg_advisory_xact_lock(7013441205)";

/// A store on any backend that implements [`Db`].
pub(crate) struct SqlStore<D: Db> {
    pub(crate) db: D,
    /// Where webhook events wait (SQLite on a file); `None`: the
    /// `webhook_inbox` table (PostgreSQL, SQLite in memory).
    pub(crate) journal: Option<crate::journal::Journal>,
}

impl<D: Db> SqlStore<D> {
    fn sql(&self) -> &'static Statements {
        Statements::for_dialect(self.db.dialect())
    }

    async fn list<T: Stored>(&self, source: &SourceId) -> Result<Vec<T>> {
        let rows = self
            .db
            .fetch(
                &self.sql().list[T::KIND],
                &[text(source.as_str())],
                &[Col::Text, Col::Text],
            )
            .await?;
        rows.iter()
            .map(|row| schema::decode(T::KIND, &row.text("external_id")?, &row.text("body")?))
            .collect()
    }
}

fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

/// What to do with one incoming record, given the current copy.
enum Decision {
    Insert,
    Update,
    Unchanged,
    Stale,
}

/// The current copy of a key while a batch is applied: as read from the
/// database, or as written by an earlier record of the same batch.
enum Current<'a> {
    Stored {
        updated_at_us: i64,
        body: &'a str,
    },
    Batch(&'a AnyRecord),
    /// A record of the batch the merge rule changed ([`merged`]).
    Merged(Box<AnyRecord>),
}

/// `incoming` with what only the current copy knows kept in it (the merge
/// rule: [`Order::keep_what_only_the_stored_copy_knows`]), or `None` when
/// there is nothing to keep: no current copy, a kind without one-face
/// fields, or an incoming record older than the copy (stale, never
/// written). The stored body is decoded only for an order that may lack
/// something.
fn merged(current: Option<&Current>, incoming: &AnyRecord) -> Option<AnyRecord> {
    let AnyRecord::Order(order) = incoming else {
        return None;
    };
    if !order.may_lack_what_the_stored_copy_knows() {
        return None;
    }
    let decoded;
    let known = match current? {
        Current::Batch(record) => *record,
        Current::Merged(record) => record.as_ref(),
        Current::Stored {
            updated_at_us,
            body,
        } => {
            if schema::micros(order.updated_at) < *updated_at_us {
                return None;
            }
            decoded = (kinds::table(incoming.kind()).decode)(incoming.external_id(), body).ok()?;
            &decoded
        }
    };
    let AnyRecord::Order(known) = known else {
        return None;
    };
    if known.updated_at > order.updated_at {
        return None;
    }
    let mut order = order.clone();
    order
        .keep_what_only_the_stored_copy_knows(known)
        .then_some(AnyRecord::Order(order))
}

/// Rows read or written per statement: keeps each JSON parameter (and
/// PostgreSQL's unpacking of it) to a bounded size.
const CHUNK: usize = 500;

/// Compares an incoming record with the current copy of the same key.
/// Newer wins, older is stale. Equal microseconds (what the column holds)
/// fall back to the stored body: its full-precision `updated_at` breaks the
/// tie, and equal time with equal content means nothing to write. Content is
/// compared as domain values, never as JSON text, because JSONB reorders keys.
fn decide(current: Option<&Current>, incoming: &AnyRecord) -> Decision {
    let decoded;
    let current = match current {
        None => return Decision::Insert,
        Some(Current::Batch(record)) => *record,
        Some(Current::Merged(record)) => record.as_ref(),
        Some(Current::Stored {
            updated_at_us,
            body,
        }) => {
            let incoming_us = schema::micros(incoming.updated_at());
            if incoming_us != *updated_at_us {
                return if incoming_us > *updated_at_us {
                    Decision::Update
                } else {
                    Decision::Stale
                };
            }
            let table = kinds::table(incoming.kind());
            match (table.decode)(incoming.external_id(), body) {
                Ok(record) => {
                    decoded = record;
                    &decoded
                }
                Err(error) => {
                    // Same time but the stored copy is unreadable: replace it
                    // with the good one rather than wedge every future sync.
                    tracing::warn!(%error, "replacing undecodable stored record");
                    return Decision::Update;
                }
            }
        }
    };
    match current.updated_at().cmp(&incoming.updated_at()) {
        std::cmp::Ordering::Less => Decision::Update,
        std::cmp::Ordering::Greater => Decision::Stale,
        std::cmp::Ordering::Equal if current == incoming => Decision::Unchanged,
        std::cmp::Ordering::Equal => Decision::Update,
    }
}

type Key<'a> = (RecordKind, &'a str, &'a str);

fn key(record: &AnyRecord) -> Key<'_> {
    (
        record.kind(),
        record.source().as_str(),
        record.external_id(),
    )
}

/// Reads the stored copy of every key of the batch: one query per table
/// (per [`CHUNK`] keys), not one per record.
async fn load_stored<T: DbTx>(
    tx: &mut T,
    sql: &Statements,
    records: &[AnyRecord],
) -> Result<HashMap<(RecordKind, String, String), (i64, String)>> {
    let mut current = HashMap::new();
    for kind in RecordKind::ALL {
        let keys: Vec<[&str; 2]> = records
            .iter()
            .filter(|r| r.kind() == kind)
            .map(|r| [r.source().as_str(), r.external_id()])
            .collect();
        for chunk in keys.chunks(CHUNK) {
            let json = serde_json::to_string(chunk).expect("string pairs serialize");
            let cols = [Col::Text, Col::Text, Col::Int, Col::Text];
            for row in tx
                .fetch(&sql.stored[kind], &[Value::Text(Some(json))], &cols)
                .await?
            {
                let stored = (row.int("updated_at_us")?, row.text("body")?);
                let key = (kind, row.text("source")?, row.text("external_id")?);
                current.insert(key, stored);
            }
        }
    }
    Ok(current)
}

impl<D: Db> SqlStore<D> {
    /// Upserts `records`, saves `checkpoint`, counts `notes` and marks the
    /// `webhooks` applied in one transaction (see [`Store::upsert`]).
    async fn upsert_in_one(
        &self,
        records: &[AnyRecord],
        checkpoint: Option<&SyncState>,
        notes: &[IngestNoteFor],
        webhooks: Option<&AppliedWebhooks<'_>>,
    ) -> Result<UpsertReport> {
        let sql = self.sql();

        let mut tx = self.db.begin().await?;
        // Lock the counter before anything else: concurrent batches queue
        // here, so sequence values are handed out in commit order and a
        // change-feed reader never sees seq N+1 before N is committed.
        let counter = tx.fetch(schema::LOCK_COUNTER, &[], &[Col::Int]).await?;
        let before = counter
            .first()
            .map(|r| r.int("value"))
            .transpose()?
            .unwrap_or(0);
        let mut seq = before;

        // A record of an erased person (or of a shop after `shop/redact`)
        // is written erased, whichever path brought it.
        let erased = crate::privacy::tombstone_erased(&mut tx, records).await?;
        let records: &[AnyRecord] = erased.as_deref().unwrap_or(records);

        // Decide every record in input order against the current copy, which
        // an earlier record of the batch may have replaced: duplicates in a
        // batch behave as if upserted one after another.
        let mut rows: Vec<RecordRow> = records.iter().map(RecordRow::new).collect();
        let stored = load_stored(&mut tx, sql, records).await?;
        let mut current: HashMap<Key<'_>, Current<'_>> = stored
            .iter()
            .map(|((kind, source, id), (updated_at_us, body))| {
                let copy = Current::Stored {
                    updated_at_us: *updated_at_us,
                    body,
                };
                ((*kind, source.as_str(), id.as_str()), copy)
            })
            .collect();
        // Per kind, the last write of each key (its final state and seq).
        let mut writes: PerKind<HashMap<Key<'_>, usize>> = PerKind::new(|_| HashMap::new());
        let mut outcomes = Vec::with_capacity(records.len());
        for (i, record) in records.iter().enumerate() {
            let k = key(record);
            // The merge rule first, so a record that only lacks what the
            // current copy knows compares as unchanged.
            let merged = merged(current.get(&k), record);
            let decision = decide(current.get(&k), merged.as_ref().unwrap_or(record));
            let outcome = match decision {
                Decision::Unchanged => UpsertOutcome::Unchanged,
                Decision::Stale => UpsertOutcome::Stale,
                decision @ (Decision::Insert | Decision::Update) => {
                    seq += 1;
                    let written = match merged {
                        Some(record) => {
                            rows[i] = RecordRow::new(&record);
                            Current::Merged(Box::new(record))
                        }
                        None => Current::Batch(record),
                    };
                    rows[i].params[SEQ_PARAM] = Value::Int(Some(seq));
                    current.insert(k, written);
                    writes[record.kind()].insert(k, i);
                    let seq = seq as u64;
                    if matches!(decision, Decision::Insert) {
                        UpsertOutcome::Inserted { seq }
                    } else {
                        UpsertOutcome::Updated { seq }
                    }
                }
            };
            outcomes.push(outcome);
        }
        for (kind, written) in writes.iter() {
            let mut indexes: Vec<usize> = written.values().copied().collect();
            indexes.sort_unstable();
            for chunk in indexes.chunks(CHUNK) {
                let json: serde_json::Value =
                    chunk.iter().map(|&i| rows[i].to_json_array()).collect();
                tx.execute(&sql.upsert[kind], &[Value::Text(Some(json.to_string()))])
                    .await?;
            }
        }
        if seq != before {
            tx.execute(schema::SET_COUNTER, &[Value::Int(Some(seq))])
                .await?;
        }
        if let Some(state) = checkpoint {
            tx.execute(&schema::SAVE_SYNC_STATE, &schema::sync_state_params(state))
                .await?;
        }
        crate::tokens::note_ingest_in(&mut tx, notes).await?;
        if let Some(applied) = webhooks {
            self.inbox_mark_applied_in(&mut tx, applied, &outcomes)
                .await?;
        }
        tx.commit().await?;
        if let Some(applied) = webhooks {
            self.inbox_applied_committed(applied);
            // A late webhook carried an erased person: its raw body, now
            // applied, leaves the journal's disk now rather than at the
            // next rotation (as an erasure's own purge does).
            if erased.is_some() {
                if let Some(opened) = self.journal.as_ref().and_then(|j| j.get()) {
                    opened.purge(&[]).await?;
                }
            }
        }
        let report = UpsertReport { outcomes };
        tracing::debug!(
            inserted = report.inserted(),
            updated = report.updated(),
            unchanged = report.unchanged(),
            stale = report.stale(),
            "upserted"
        );
        Ok(report)
    }
}

#[async_trait]
impl<D: Db> Store for SqlStore<D> {
    fn backend(&self) -> Backend {
        self.db.backend()
    }

    async fn migrate(&self) -> Result<()> {
        self.db.migrate().await?;
        // Then each record kind's table from its descriptor, where no
        // migration made it (`CREATE .. IF NOT EXISTS`).
        let dialect = self.db.dialect();
        let statements =
            kinds::tables().flat_map(|table| schema::create_table_sql(table, table.name, dialect));
        match dialect {
            // One writer at a time already (and a busy timeout to wait for
            // it): each statement on its own.
            Dialect::Sqlite => {
                for sql in statements {
                    self.db.execute(&sql, &[]).await?;
                }
                Ok(())
            }
            // Instances starting together on one database take turns, in
            // one transaction holding an advisory lock (the sqlx migrator
            // takes its own): two concurrent `CREATE TABLE IF NOT EXISTS`
            // of the same new table can otherwise fail on the catalog's
            // unique index.
            Dialect::Postgres => {
                let mut tx = self.db.begin().await?;
                tx.execute(RECORD_TABLES_LOCK, &[]).await?;
                for sql in statements {
                    tx.execute(&sql, &[]).await?;
                }
                tx.commit().await
            }
        }
    }

    #[instrument(skip_all, fields(backend = ?self.db.backend(), records = records.len(), checkpoint = checkpoint.is_some()))]
    async fn upsert(
        &self,
        records: &[AnyRecord],
        checkpoint: Option<&SyncState>,
    ) -> Result<UpsertReport> {
        self.upsert_in_one(records, checkpoint, &[], None).await
    }

    async fn upsert_noting_ingest(
        &self,
        records: &[AnyRecord],
        notes: &[IngestNoteFor],
    ) -> Result<UpsertReport> {
        self.upsert_in_one(records, None, notes, None).await
    }

    async fn upsert_applying_webhooks(
        &self,
        records: &[AnyRecord],
        applied: &AppliedWebhooks<'_>,
    ) -> Result<UpsertReport> {
        self.upsert_in_one(records, None, &[], Some(applied)).await
    }

    #[instrument(skip(self), fields(backend = ?self.db.backend()))]
    async fn changes_since(&self, after: u64, limit: u32) -> Result<Vec<Change>> {
        let after = Value::Int(Some(i64::try_from(after).unwrap_or(i64::MAX)));
        let limit = Value::Int(Some(i64::from(limit)));
        let rows = self
            .db
            .fetch(
                &self.sql().changes,
                &[after, limit],
                &[Col::Text, Col::Text, Col::Int, Col::Text],
            )
            .await?;
        rows.iter()
            .map(|row| {
                let kind = row.text("kind")?;
                let kind =
                    RecordKind::parse(&kind).expect("the changes query only selects known kinds");
                let decode = kinds::table(kind).decode;
                Ok(Change {
                    seq: row.int("seq")? as u64,
                    record: decode(&row.text("external_id")?, &row.text("body")?)?,
                })
            })
            .collect()
    }

    async fn latest_seq(&self) -> Result<u64> {
        let rows = self.db.fetch(schema::LATEST_SEQ, &[], &[Col::Int]).await?;
        Ok(rows
            .first()
            .map(|r| r.int("value"))
            .transpose()?
            .unwrap_or(0) as u64)
    }

    #[instrument(skip(self), fields(backend = ?self.db.backend(), %source))]
    async fn get_order(&self, source: &SourceId, external_id: &str) -> Result<Option<Order>> {
        let rows = self
            .db
            .fetch(
                &self.sql().get_order,
                &[text(source.as_str()), text(external_id)],
                &[Col::Text],
            )
            .await?;
        rows.first()
            .map(|row| schema::decode(RecordKind::Order, external_id, &row.text("body")?))
            .transpose()
    }

    async fn list_orders(&self, source: &SourceId) -> Result<Vec<Order>> {
        self.list(source).await
    }

    async fn list_products(&self, source: &SourceId) -> Result<Vec<Product>> {
        self.list(source).await
    }

    async fn list_inventory_levels(&self, source: &SourceId) -> Result<Vec<InventoryLevel>> {
        self.list(source).await
    }

    #[instrument(skip(self), fields(backend = ?self.db.backend(), %brand))]
    async fn order_facts(
        &self,
        brand: &BrandId,
        from: Timestamp,
        to: Timestamp,
    ) -> Result<Vec<OrderFact>> {
        let rows = self
            .db
            .fetch(
                schema::ORDER_FACTS,
                &[
                    text(brand.as_str()),
                    Value::Int(Some(schema::micros(from))),
                    Value::Int(Some(schema::micros(to))),
                ],
                &[Col::Text, Col::Int, Col::Int, Col::Text, Col::Int],
            )
            .await?;
        rows.iter()
            .map(|row| {
                const KIND: &str = RecordKind::Order.as_str();
                let id = row.text("external_id")?;
                let currency = Currency::parse(&row.text("currency")?)
                    .map_err(|e| schema::corrupt(KIND, &id, e))?;
                Ok(OrderFact {
                    created_at: schema::from_micros(row.int("created_at_us")?, KIND, &id)?,
                    total_price: Money::new(row.int("total_minor")?, currency),
                    cancelled: row.opt_int("cancelled_at_us").is_some(),
                })
            })
            .collect()
    }

    async fn record_counts(&self) -> Result<RecordCounts> {
        let rows = self
            .db
            .fetch(&schema::RECORD_COUNTS, &[], &[Col::Int; RecordKind::COUNT])
            .await?;
        let mut counts = RecordCounts::default();
        if let Some(row) = rows.first() {
            for kind in RecordKind::ALL {
                *counts.of_kind_mut(kind) = row.int(kinds::table(kind).name)? as u64;
            }
        }
        Ok(counts)
    }

    async fn sync_state(&self, source: &SourceId, resource: &str) -> Result<Option<SyncState>> {
        let rows = self
            .db
            .fetch(
                &schema::GET_SYNC_STATE,
                &[text(source.as_str()), text(resource)],
                &schema::SYNC_COLS,
            )
            .await?;
        rows.first().map(schema::sync_state_from_row).transpose()
    }

    #[instrument(skip_all, fields(backend = ?self.db.backend(), source = %state.source, resource = %state.resource))]
    async fn save_sync_state(&self, state: &SyncState) -> Result<()> {
        self.db
            .execute(&schema::SAVE_SYNC_STATE, &schema::sync_state_params(state))
            .await?;
        Ok(())
    }

    async fn all_sync_states(&self) -> Result<Vec<SyncState>> {
        let rows = self
            .db
            .fetch(&schema::ALL_SYNC_STATES, &[], &schema::SYNC_COLS)
            .await?;
        rows.iter().map(schema::sync_state_from_row).collect()
    }

    // The webhook inbox lives in `crate::inbox`.

    async fn get_product(&self, source: &SourceId, external_id: &str) -> Result<Option<Product>> {
        self.product_by_id(source, external_id).await
    }

    async fn get_return_request(
        &self,
        source: &SourceId,
        external_id: &str,
    ) -> Result<Option<ReturnRequest>> {
        self.record_by_id(source, external_id).await
    }

    async fn get_review_item(
        &self,
        source: &SourceId,
        external_id: &str,
    ) -> Result<Option<ReviewItem>> {
        self.record_by_id(source, external_id).await
    }

    #[instrument(skip_all, fields(backend = ?self.db.backend(), events = events.len()))]
    async fn insert_webhooks(&self, events: &[InboxEvent]) -> Result<Vec<InsertOutcome>> {
        self.inbox_insert(events).await
    }

    async fn pending_webhooks(&self, due_by: Timestamp, limit: u32) -> Result<Vec<StoredWebhook>> {
        self.inbox_pending(due_by, limit).await
    }

    async fn webhooks_with_status(
        &self,
        status: WebhookStatus,
        limit: u32,
    ) -> Result<Vec<StoredWebhook>> {
        self.inbox_by_status(status, limit).await
    }

    async fn recent_failed_webhooks(&self, limit: u32) -> Result<Vec<StoredWebhook>> {
        self.inbox_recent_failed(limit).await
    }

    async fn mark_webhooks_processed(&self, done: &[(i64, String)], at: Timestamp) -> Result<()> {
        self.inbox_mark_processed(done, at).await
    }

    async fn mark_webhook_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        self.inbox_mark_failed(id, error, retry_at).await
    }

    async fn webhook_stats(&self) -> Result<WebhookStats> {
        self.inbox_stats().await
    }

    // API tokens, the audit log and ingest health live in `crate::tokens`.

    #[instrument(skip_all, fields(backend = ?self.db.backend(), token = %token.token.id))]
    async fn create_api_token(&self, token: &NewApiToken, audit: &AuditEntry) -> Result<()> {
        self.token_create(token, audit).await
    }

    async fn list_api_tokens(&self) -> Result<Vec<ApiToken>> {
        self.token_list().await
    }

    async fn verify_api_token(&self, presented: &str, now: Timestamp) -> Result<TokenCheck> {
        self.token_verify(presented, now).await
    }

    #[instrument(skip(self, audit), fields(backend = ?self.db.backend()))]
    async fn revoke_api_token(&self, id: &str, at: Timestamp, audit: &AuditEntry) -> Result<bool> {
        self.token_revoke(id, at, audit).await
    }

    async fn audit_log(&self, limit: u32) -> Result<Vec<AuditEntry>> {
        self.audit_entries(limit).await
    }

    async fn note_ingest(
        &self,
        source: &SourceId,
        kind: &str,
        at: Timestamp,
        note: &IngestNote,
    ) -> Result<()> {
        self.ingest_note(source, kind, at, note).await
    }
}
