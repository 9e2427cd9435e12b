//! The webhook inbox: platform deliveries kept durably between "received"
//! and "applied".
//!
//! A webhook is answered 200 only after its raw event is committed here, so
//! an acknowledged delivery survives a crash; a worker then turns pending
//! events into records and marks them processed, or failed with a retry
//! time. Redeliveries (same `(source, webhook_id)`) are recognised on insert
//! and stored once. Inserts take a whole batch in one transaction, so the
//! receiver can group the deliveries that arrive together into one commit
//! (one fsync) instead of paying one per webhook.

use crate::db::{Col, Db, DbTx, Row, Value};
use crate::engine::SqlStore;
use crate::journal::store::Resolution;
use crate::kinds::Stored;
use crate::schema::{self, SqlType};
use crate::Result;
use crate::UpsertOutcome;
use opsdeck_domain::{Product, RecordKind, SourceId, Timestamp};
use serde::Serialize;
use std::collections::HashMap;

/// One delivery as received: the raw body and the headers that describe it.
/// The body is kept byte for byte (it is what the signature covered).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InboxEvent {
    /// The configured source the shop belongs to, e.g. `shopify-plentum`.
    pub source: SourceId,
    pub shop_domain: String,
    /// `X-Shopify-Webhook-Id`: the same for every retry of one delivery.
    pub webhook_id: String,
    /// `X-Shopify-Event-Id`, where sent: the same for every webhook of one event.
    pub event_id: Option<String>,
    /// e.g. `orders/updated`.
    pub topic: String,
    pub api_version: Option<String>,
    /// `X-Shopify-Triggered-At`: when the platform emitted the event.
    pub triggered_at: Option<Timestamp>,
    pub received_at: Timestamp,
    pub body: String,
}

/// What inserting one event did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InsertOutcome {
    /// New; carries the inbox row id.
    Inserted { id: i64 },
    /// Already received (a redelivery): nothing written.
    Duplicate,
}

/// Where a stored event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookStatus {
    /// Waiting to be processed, or to be retried after a failure.
    Pending,
    Processed,
    /// Gave up after repeated failures; kept for a person to look at.
    Failed,
}

impl WebhookStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            WebhookStatus::Pending => "pending",
            WebhookStatus::Processed => "processed",
            WebhookStatus::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "pending" => Some(WebhookStatus::Pending),
            "processed" => Some(WebhookStatus::Processed),
            "failed" => Some(WebhookStatus::Failed),
            _ => None,
        }
    }
}

/// An event as the inbox holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredWebhook {
    pub id: i64,
    pub event: InboxEvent,
    pub status: WebhookStatus,
    /// Processing attempts that failed so far.
    pub attempts: u32,
    pub last_error: Option<String>,
    /// What processing did, e.g. `order 1001 updated`.
    pub result: Option<String>,
}

/// Webhook events whose records an upsert writes, to be marked processed
/// in that same transaction (see [`crate::Store::upsert_applying_webhooks`]):
/// one durable commit per worker step instead of two, and no window in
/// which records are stored but their events still pending.
#[derive(Debug, Clone, Copy)]
pub struct AppliedWebhooks<'a> {
    /// Per record of the upsert, in the same order: the inbox id of the
    /// event it came from and a label for the note, e.g. `order 1001`. The
    /// stored result is the label and the record's outcome.
    pub owners: &'a [(i64, String)],
    /// Events finished without a record, each with its note.
    pub notes: &'a [(i64, String)],
    pub at: Timestamp,
}

impl AppliedWebhooks<'_> {
    /// The `(id, result)` of every event, given the upsert's outcomes.
    fn results(&self, outcomes: &[UpsertOutcome]) -> Vec<(i64, String)> {
        let from_records = self
            .owners
            .iter()
            .zip(outcomes)
            .map(|((id, label), outcome)| {
                let what = match outcome {
                    UpsertOutcome::Inserted { .. } => "inserted",
                    UpsertOutcome::Updated { .. } => "updated",
                    UpsertOutcome::Unchanged => "unchanged",
                    UpsertOutcome::Stale => "stale (a newer copy is stored)",
                };
                (*id, format!("{label} {what}"))
            });
        self.notes.iter().cloned().chain(from_records).collect()
    }
}

/// The inbox at a glance, for health screens and the benchmark.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct WebhookStats {
    pub pending: u64,
    /// Pending events that already failed at least once (waiting on backoff).
    pub retrying: u64,
    pub processed: u64,
    pub failed: u64,
    /// Receipt time of the oldest pending event: how far behind the worker is.
    pub oldest_pending_received_at: Option<Timestamp>,
}

const KIND: &str = "webhook";

/// The inbox row joined to its body (kept in its own table, so that status
/// changes do not rewrite it).
/// Each aliased, as SQLite names an unaliased `i.id` as it likes.
const COLUMNS: &str = "i.id AS id, i.source AS source, i.shop_domain AS shop_domain, \
    i.webhook_id AS webhook_id, i.event_id AS event_id, i.topic AS topic, \
    i.api_version AS api_version, i.triggered_at_us AS triggered_at_us, \
    i.received_at_us AS received_at_us, COALESCE(b.body, '') AS body, i.status AS status, \
    i.attempts AS attempts, i.last_error AS last_error, i.result AS result";
/// A processed event keeps no body (its record holds what it said, and raw
/// payloads carry customer data), so the join is outer.
const FROM: &str = "webhook_inbox i LEFT JOIN webhook_inbox_bodies b ON b.id = i.id";

const COLS: [Col; 14] = [
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Int,
    Col::Text,
    Col::Text,
    Col::Int,
    Col::Text,
    Col::Text,
];

/// Rows per insert statement: 200 × 8 bound parameters (× 15 for the
/// journal's rows) stays far below SQLite's (32,766) and PostgreSQL's
/// (65,535) limits.
pub(crate) const CHUNK: usize = 200;
/// Bound parameters per event in [`SqlStore::insert_sql`].
const PARAMS_PER_ROW: usize = 8;

pub(crate) fn text(s: &str) -> Value {
    Value::Text(Some(s.to_string()))
}

pub(crate) fn int(v: i64) -> Value {
    Value::Int(Some(v))
}

/// An event's columns, in table order from `source` to `received_at_us`.
pub(crate) fn event_params(e: &InboxEvent) -> [Value; PARAMS_PER_ROW] {
    [
        text(e.source.as_str()),
        text(&e.shop_domain),
        text(&e.webhook_id),
        Value::Text(e.event_id.clone()),
        text(&e.topic),
        Value::Text(e.api_version.clone()),
        Value::Int(e.triggered_at.map(schema::micros)),
        int(schema::micros(e.received_at)),
    ]
}

fn from_row(row: &Row) -> Result<StoredWebhook> {
    let id = row.int("id")?;
    let label = id.to_string();
    let ts = |us: i64| schema::from_micros(us, KIND, &label);
    let source = row.text("source")?;
    let status = row.text("status")?;
    Ok(StoredWebhook {
        id,
        event: InboxEvent {
            source: SourceId::parse(&source).map_err(|e| schema::corrupt(KIND, &label, e))?,
            shop_domain: row.text("shop_domain")?,
            webhook_id: row.text("webhook_id")?,
            event_id: row.opt_text("event_id"),
            topic: row.text("topic")?,
            api_version: row.opt_text("api_version"),
            triggered_at: row.opt_int("triggered_at_us").map(ts).transpose()?,
            received_at: ts(row.int("received_at_us")?)?,
            body: row.text("body")?,
        },
        status: WebhookStatus::parse(&status)
            .ok_or_else(|| schema::corrupt(KIND, &label, format!("unknown status {status:?}")))?,
        attempts: u32::try_from(row.int("attempts")?)
            .map_err(|e| schema::corrupt(KIND, &label, e))?,
        last_error: row.opt_text("last_error"),
        result: row.opt_text("result"),
    })
}

/// `done` as resolutions of processed events.
fn processed(done: &[(i64, String)]) -> Vec<Resolution<'_>> {
    done.iter()
        .map(|(id, note)| Resolution {
            id: *id,
            status: WebhookStatus::Processed,
            note,
        })
        .collect()
}

impl<D: Db> SqlStore<D> {
    /// One multi-row `INSERT .. VALUES` for `rows` events, every column a
    /// bound parameter (wrapping the rows in one JSON parameter would make
    /// the database parse that document again for every column).
    fn insert_sql(rows: usize) -> String {
        let values: Vec<String> = (0..rows)
            .map(|r| {
                let p = |c: usize| format!("${}", r * PARAMS_PER_ROW + c + 1);
                format!(
                    "({}, {}, {}, {}, {}, {}, {}, {}, 'pending', 0, {})",
                    p(0),
                    p(1),
                    p(2),
                    p(3),
                    p(4),
                    p(5),
                    p(6),
                    p(7),
                    p(7)
                )
            })
            .collect();
        format!(
            "INSERT INTO webhook_inbox (source, shop_domain, webhook_id, event_id, topic, \
             api_version, triggered_at_us, received_at_us, status, attempts, \
             next_attempt_at_us) VALUES {} \
             ON CONFLICT (source, webhook_id) DO NOTHING RETURNING id, source, webhook_id",
            values.join(", ")
        )
    }

    /// The bodies of `rows` newly inserted events, as `(id, body)` pairs.
    /// The body (kilobytes of JSON) is bound as plain text.
    fn insert_bodies_sql(rows: usize) -> String {
        let values: Vec<String> = (0..rows)
            .map(|r| format!("(${}, ${})", 2 * r + 1, 2 * r + 2))
            .collect();
        format!(
            "INSERT INTO webhook_inbox_bodies (id, body) VALUES {}",
            values.join(", ")
        )
    }

    /// See [`crate::Store::insert_webhooks`].
    pub(crate) async fn inbox_insert(&self, events: &[InboxEvent]) -> Result<Vec<InsertOutcome>> {
        if let Some(journal) = &self.journal {
            let opened = self.journal_opened(journal).await?;
            return self.journal_insert(opened, events).await;
        }
        // The first occurrence of a key in the batch is the one inserted;
        // later ones are duplicates, like a redelivery after it.
        let mut first: HashMap<(&str, &str), usize> = HashMap::new();
        let mut unique = Vec::new();
        for (i, e) in events.iter().enumerate() {
            if let std::collections::hash_map::Entry::Vacant(v) =
                first.entry((e.source.as_str(), e.webhook_id.as_str()))
            {
                v.insert(i);
                unique.push(e);
            }
        }
        let mut inserted: HashMap<(String, String), i64> = HashMap::new();
        let mut tx = self.db.begin().await?;
        for chunk in unique.chunks(CHUNK) {
            let mut params = Vec::with_capacity(chunk.len() * PARAMS_PER_ROW);
            for e in chunk {
                params.extend(event_params(e));
            }
            let cols = [Col::Int, Col::Text, Col::Text];
            let sql = Self::insert_sql(chunk.len());
            let mut bodies = Vec::new();
            for row in tx.fetch(&sql, &params, &cols).await? {
                let (id, key) = (
                    row.int("id")?,
                    (row.text("source")?, row.text("webhook_id")?),
                );
                let event = &events[first[&(key.0.as_str(), key.1.as_str())]];
                bodies.extend([int(id), text(&event.body)]);
                inserted.insert(key, id);
            }
            if !bodies.is_empty() {
                let sql = Self::insert_bodies_sql(bodies.len() / 2);
                tx.execute(&sql, &bodies).await?;
            }
        }
        tx.commit().await?;
        Ok(events
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let k = (e.source.as_str(), e.webhook_id.as_str());
                let owner = first.get(&k).copied() == Some(i);
                match inserted.get(&(k.0.to_string(), k.1.to_string())) {
                    Some(id) if owner => InsertOutcome::Inserted { id: *id },
                    _ => InsertOutcome::Duplicate,
                }
            })
            .collect())
    }

    pub(crate) async fn inbox_pending(
        &self,
        due_by: Timestamp,
        limit: u32,
    ) -> Result<Vec<StoredWebhook>> {
        if let Some(journal) = &self.journal {
            let opened = self.journal_opened(journal).await?;
            return Ok(Self::journal_pending(opened, due_by, limit));
        }
        let sql = format!(
            "SELECT {COLUMNS} FROM {FROM} WHERE i.status = 'pending' \
             AND i.next_attempt_at_us <= $1 ORDER BY i.id LIMIT $2"
        );
        let params = [int(schema::micros(due_by)), int(i64::from(limit))];
        let rows = self.db.fetch(&sql, &params, &COLS).await?;
        rows.iter().map(from_row).collect()
    }

    pub(crate) async fn inbox_by_status(
        &self,
        status: WebhookStatus,
        limit: u32,
    ) -> Result<Vec<StoredWebhook>> {
        if let (Some(journal), WebhookStatus::Pending) = (&self.journal, status) {
            let opened = self.journal_opened(journal).await?;
            return Ok(Self::journal_pending(opened, Timestamp::MAX, limit));
        }
        self.inbox_rows_with_status(status, limit).await
    }

    /// The database's rows in `status` (with the journal, pending events
    /// are in memory; rows left pending by an older version are read here).
    pub(crate) async fn inbox_rows_with_status(
        &self,
        status: WebhookStatus,
        limit: u32,
    ) -> Result<Vec<StoredWebhook>> {
        let sql =
            format!("SELECT {COLUMNS} FROM {FROM} WHERE i.status = $1 ORDER BY i.id LIMIT $2");
        let params = [text(status.as_str()), int(i64::from(limit))];
        let rows = self.db.fetch(&sql, &params, &COLS).await?;
        rows.iter().map(from_row).collect()
    }

    /// The newest `limit` events given up on, newest first: what the source
    /// health view lists, without reading every failure ever kept.
    pub(crate) async fn inbox_recent_failed(&self, limit: u32) -> Result<Vec<StoredWebhook>> {
        let sql =
            format!("SELECT {COLUMNS} FROM {FROM} WHERE i.status = $1 ORDER BY i.id DESC LIMIT $2");
        let params = [text(WebhookStatus::Failed.as_str()), int(i64::from(limit))];
        let rows = self.db.fetch(&sql, &params, &COLS).await?;
        rows.iter().map(from_row).collect()
    }

    pub(crate) async fn inbox_mark_processed(
        &self,
        done: &[(i64, String)],
        at: Timestamp,
    ) -> Result<()> {
        if done.is_empty() {
            return Ok(());
        }
        let mut tx = self.db.begin().await?;
        if let Some(journal) = &self.journal {
            let opened = self.journal_opened(journal).await?;
            let resolutions = processed(done);
            self.journal_resolve_in(&mut tx, opened, &resolutions, at)
                .await?;
            tx.commit().await?;
            opened.resolved(done.iter().map(|(id, _)| *id));
            return Ok(());
        }
        self.inbox_mark_processed_in(&mut tx, done, at).await?;
        tx.commit().await
    }

    /// Marks the applied events processed inside the upsert's transaction.
    pub(crate) async fn inbox_mark_applied_in(
        &self,
        tx: &mut D::Tx,
        applied: &AppliedWebhooks<'_>,
        outcomes: &[UpsertOutcome],
    ) -> Result<()> {
        let done = applied.results(outcomes);
        if let Some(journal) = &self.journal {
            let opened = self.journal_opened(journal).await?;
            return self
                .journal_resolve_in(tx, opened, &processed(&done), applied.at)
                .await;
        }
        self.inbox_mark_processed_in(tx, &done, applied.at).await
    }

    /// After the commit that held [`Self::inbox_mark_applied_in`]: the
    /// journal forgets the applied events.
    pub(crate) fn inbox_applied_committed(&self, applied: &AppliedWebhooks<'_>) {
        if let Some(opened) = self.journal.as_ref().and_then(|j| j.get()) {
            let ids = applied
                .owners
                .iter()
                .chain(applied.notes)
                .map(|(id, _)| *id);
            opened.resolved(ids);
        }
    }

    pub(crate) async fn inbox_mark_processed_in(
        &self,
        tx: &mut D::Tx,
        done: &[(i64, String)],
        at: Timestamp,
    ) -> Result<()> {
        let d = self.db.dialect();
        let sql = format!(
            "UPDATE webhook_inbox SET status = 'processed', last_error = NULL, \
             processed_at_us = $2, result = j.result \
             FROM (SELECT {id} AS id, {result} AS result FROM {rows}) AS j \
             WHERE webhook_inbox.id = j.id",
            result = d.json_element(1, SqlType::Text),
            id = d.json_element(0, SqlType::BigInt),
            rows = d.json_rows(1),
        );
        let drop_bodies = format!(
            "DELETE FROM webhook_inbox_bodies WHERE id IN (SELECT {id} FROM {rows})",
            id = d.json_element(0, SqlType::BigInt),
            rows = d.json_rows(1),
        );
        for chunk in done.chunks(CHUNK * 2) {
            let json = serde_json::to_string(chunk).expect("pairs serialize");
            tx.execute(
                &sql,
                &[Value::Text(Some(json.clone())), int(schema::micros(at))],
            )
            .await?;
            tx.execute(&drop_bodies, &[Value::Text(Some(json))]).await?;
        }
        Ok(())
    }

    pub(crate) async fn inbox_mark_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        if let Some(journal) = &self.journal {
            let opened = self.journal_opened(journal).await?;
            return self.journal_mark_failed(opened, id, error, retry_at).await;
        }
        let (status, next) = match retry_at {
            Some(at) => (WebhookStatus::Pending, int(schema::micros(at))),
            None => (WebhookStatus::Failed, Value::Int(None)),
        };
        self.db
            .execute(
                "UPDATE webhook_inbox SET status = $2, attempts = attempts + 1, last_error = $3, \
                 next_attempt_at_us = COALESCE($4, next_attempt_at_us) WHERE id = $1",
                &[int(id), text(status.as_str()), text(error), next],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn inbox_stats(&self) -> Result<WebhookStats> {
        if let Some(journal) = &self.journal {
            let opened = self.journal_opened(journal).await?;
            return self.journal_stats(opened).await;
        }
        let rows = self
            .db
            .fetch(
                "SELECT \
                 (SELECT COUNT(*) FROM webhook_inbox WHERE status = 'pending') AS pending, \
                 (SELECT COUNT(*) FROM webhook_inbox WHERE status = 'pending' AND attempts > 0) \
                 AS retrying, \
                 (SELECT COUNT(*) FROM webhook_inbox WHERE status = 'processed') AS processed, \
                 (SELECT COUNT(*) FROM webhook_inbox WHERE status = 'failed') AS failed, \
                 (SELECT MIN(received_at_us) FROM webhook_inbox WHERE status = 'pending') \
                 AS oldest_pending",
                &[],
                &[Col::Int; 5],
            )
            .await?;
        let Some(row) = rows.first() else {
            return Ok(WebhookStats::default());
        };
        let n = |col: &str| -> Result<u64> { Ok(row.int(col)?.max(0) as u64) };
        Ok(WebhookStats {
            pending: n("pending")?,
            retrying: n("retrying")?,
            processed: n("processed")?,
            failed: n("failed")?,
            oldest_pending_received_at: row
                .opt_int("oldest_pending")
                .map(|us| schema::from_micros(us, KIND, "oldest"))
                .transpose()?,
        })
    }

    /// One stored record of kind `T` by its key, decoded (the products'
    /// lookup below, for any kind).
    pub(crate) async fn record_by_id<T: Stored>(
        &self,
        source: &SourceId,
        external_id: &str,
    ) -> Result<Option<T>> {
        let sql = format!(
            "SELECT {} AS body FROM {} WHERE source = $1 AND external_id = $2",
            self.db.dialect().body_column(),
            T::TABLE
        );
        let rows = self
            .db
            .fetch(
                &sql,
                &[text(source.as_str()), text(external_id)],
                &[Col::Text],
            )
            .await?;
        rows.first()
            .map(|row| schema::decode(T::KIND, external_id, &row.text("body")?))
            .transpose()
    }

    /// See [`crate::Store::get_product`].
    pub(crate) async fn product_by_id(
        &self,
        source: &SourceId,
        external_id: &str,
    ) -> Result<Option<Product>> {
        let sql = format!(
            "SELECT {} AS body FROM products WHERE source = $1 AND external_id = $2",
            self.db.dialect().body_column()
        );
        let rows = self
            .db
            .fetch(
                &sql,
                &[text(source.as_str()), text(external_id)],
                &[Col::Text],
            )
            .await?;
        rows.first()
            .map(|row| schema::decode(RecordKind::Product, external_id, &row.text("body")?))
            .transpose()
    }
}
