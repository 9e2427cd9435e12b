//! The SQLite store's inbox operations over its [`Journal`]: what the
//! database keeps (a row per resolved event) and how the two are read back
//! together on start.

use super::{Journal, Opened, Pending};
use crate::db::{Col, Db, DbTx, Value};
use crate::engine::SqlStore;
use crate::inbox::{
    int, text, InboxEvent, InsertOutcome, StoredWebhook, WebhookStats, WebhookStatus, CHUNK,
};
use crate::schema::{self, SqlType};
use crate::Result;
use opsdeck_domain::Timestamp;
use std::collections::{BTreeMap, HashMap, HashSet};

/// How an event leaves the journal.
pub(crate) struct Resolution<'a> {
    pub id: i64,
    pub status: WebhookStatus,
    /// The note of a processed event, or the error of a failed one.
    pub note: &'a str,
}

impl<D: Db> SqlStore<D> {
    /// The journal, opened (and read back against the database) on first use.
    pub(crate) async fn journal_opened<'a>(&'a self, journal: &'a Journal) -> Result<&'a Opened> {
        journal
            .get_or_open(|| async {
                let disk = journal.read_back().await?;
                let entries: Vec<&super::frame::Entry> = disk.segments.values().flatten().collect();
                let (lo, hi) = entries
                    .iter()
                    .fold((i64::MAX, 0), |(lo, hi), e| (lo.min(e.id), hi.max(e.id)));
                let resolved: HashSet<i64> = if entries.is_empty() {
                    HashSet::new()
                } else {
                    let rows = self
                        .db
                        .fetch(
                            "SELECT id FROM webhook_inbox WHERE id >= $1 AND id <= $2",
                            &[int(lo), int(hi)],
                            &[Col::Int],
                        )
                        .await?;
                    rows.iter().map(|r| r.int("id")).collect::<Result<_>>()?
                };
                let max_row = self
                    .db
                    .fetch(
                        "SELECT COALESCE(MAX(id), 0) AS max_id FROM webhook_inbox",
                        &[],
                        &[Col::Int],
                    )
                    .await?
                    .first()
                    .map(|r| r.int("max_id"))
                    .transpose()?
                    .unwrap_or(0);
                let mut pending = BTreeMap::new();
                // Rows a version before the journal left pending.
                for w in self
                    .inbox_rows_with_status(WebhookStatus::Pending, u32::MAX)
                    .await?
                {
                    pending.insert(
                        w.id,
                        Pending {
                            next_attempt_at: w.event.received_at,
                            event: w.event,
                            attempts: w.attempts,
                            last_error: w.last_error,
                            in_db: true,
                        },
                    );
                }
                for e in entries.iter().filter(|e| !resolved.contains(&e.id)) {
                    pending.insert(
                        e.id,
                        Pending {
                            next_attempt_at: e.event.received_at,
                            event: e.event.clone(),
                            attempts: 0,
                            last_error: None,
                            in_db: false,
                        },
                    );
                }
                let next_id = max_row.max(hi) + 1;
                if !pending.is_empty() {
                    tracing::info!(
                        pending = pending.len(),
                        dir = %journal.dir().display(),
                        "webhook journal: events received before the restart are pending again"
                    );
                }
                journal.open(disk, pending, next_id).await
            })
            .await
    }

    /// See [`crate::Store::insert_webhooks`]: duplicates are found among the
    /// pending events first, then among the database's rows (an event leaves
    /// memory only after its row is committed, so checking in this order
    /// cannot miss one in between).
    pub(crate) async fn journal_insert(
        &self,
        opened: &Opened,
        events: &[InboxEvent],
    ) -> Result<Vec<InsertOutcome>> {
        let mut guard = opened.append_lock().await;
        let mut outcomes = vec![InsertOutcome::Duplicate; events.len()];
        let mut seen = HashSet::new();
        let candidates: Vec<usize> = opened.state(|s| {
            (0..events.len())
                .filter(|&i| {
                    let e = &events[i];
                    seen.insert((e.source.as_str(), e.webhook_id.as_str()))
                        && !s.has_key(e.source.as_str(), &e.webhook_id)
                })
                .collect()
        });
        let stored = self.stored_webhook_keys(events, &candidates).await?;
        let new: Vec<usize> = candidates
            .into_iter()
            .filter(|&i| {
                let e = &events[i];
                !stored.contains(&(e.source.as_str().to_string(), e.webhook_id.clone()))
            })
            .collect();
        if new.is_empty() {
            return Ok(outcomes);
        }
        let ids = guard
            .append(new.iter().map(|&i| events[i].clone()).collect())
            .await?;
        for (i, id) in new.into_iter().zip(ids) {
            outcomes[i] = InsertOutcome::Inserted { id };
        }
        Ok(outcomes)
    }

    /// The `(source, webhook_id)` of `events[which]` that have a row.
    async fn stored_webhook_keys(
        &self,
        events: &[InboxEvent],
        which: &[usize],
    ) -> Result<HashSet<(String, String)>> {
        let mut by_source: HashMap<&str, Vec<&str>> = HashMap::new();
        for &i in which {
            let e = &events[i];
            by_source
                .entry(e.source.as_str())
                .or_default()
                .push(&e.webhook_id);
        }
        let mut found = HashSet::new();
        for (source, ids) in by_source {
            for chunk in ids.chunks(500) {
                let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                let sql = format!(
                    "SELECT webhook_id FROM webhook_inbox WHERE source = $1 AND webhook_id IN ({})",
                    marks.join(", ")
                );
                let mut params = vec![text(source)];
                params.extend(chunk.iter().map(|id| text(id)));
                for row in self.db.fetch(&sql, &params, &[Col::Text]).await? {
                    found.insert((source.to_string(), row.text("webhook_id")?));
                }
            }
        }
        Ok(found)
    }

    /// Pending events due by `due_by`, oldest first.
    pub(crate) fn journal_pending(
        opened: &Opened,
        due_by: Timestamp,
        limit: u32,
    ) -> Vec<StoredWebhook> {
        opened.state(|s| {
            s.pending
                .iter()
                .filter(|(_, p)| p.next_attempt_at <= due_by)
                .take(limit as usize)
                .map(|(id, p)| p.stored(*id))
                .collect()
        })
    }

    /// Writes the rows of resolved events inside `tx`; the caller commits,
    /// then calls [`Opened::resolved`]. A processed event's row has no body;
    /// a failed one keeps it. Events already stored as pending rows (from
    /// before the journal) get their row updated instead.
    pub(crate) async fn journal_resolve_in(
        &self,
        tx: &mut D::Tx,
        opened: &Opened,
        done: &[Resolution<'_>],
        at: Timestamp,
    ) -> Result<()> {
        // Read under the lock without copying bodies: a step resolves
        // hundreds of 10 KB events, and only a failed one keeps its body.
        let mut fresh: Vec<serde_json::Value> = Vec::new();
        let mut failed_bodies: Vec<Value> = Vec::new();
        let mut legacy: Vec<(&Resolution, u32)> = Vec::new();
        opened.state(|s| {
            for r in done {
                let Some(p) = s.pending.get(&r.id) else {
                    continue;
                };
                if p.in_db {
                    legacy.push((r, p.attempts));
                    continue;
                }
                let e = &p.event;
                let processed = r.status == WebhookStatus::Processed;
                if !processed {
                    failed_bodies.extend([int(r.id), text(&e.body)]);
                }
                fresh.push(serde_json::json!([
                    r.id,
                    e.source.as_str(),
                    e.shop_domain,
                    e.webhook_id,
                    e.event_id,
                    e.topic,
                    e.api_version,
                    e.triggered_at.map(schema::micros),
                    schema::micros(e.received_at),
                    r.status.as_str(),
                    p.attempts + u32::from(!processed),
                    schema::micros(p.next_attempt_at),
                    (!processed).then_some(r.note),
                    processed.then_some(r.note),
                    processed.then(|| schema::micros(at)),
                ]));
            }
        });
        // One JSON parameter per chunk: binding thousands of separate
        // parameters costs SQLite quadratic time (each bind looks its
        // parameter name up in a list; it was ~15 % of the server's CPU in
        // the webhook benchmark).
        for chunk in fresh.chunks(CHUNK) {
            let json = serde_json::Value::Array(chunk.to_vec()).to_string();
            tx.execute(&self.insert_rows_sql(), &[Value::Text(Some(json))])
                .await?;
        }
        for chunk in failed_bodies.chunks(2 * CHUNK) {
            let marks: Vec<String> = (0..chunk.len() / 2)
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "INSERT INTO webhook_inbox_bodies (id, body) VALUES {} ON CONFLICT DO NOTHING",
                marks.join(", ")
            );
            tx.execute(&sql, chunk).await?;
        }
        for (r, attempts) in legacy {
            if r.status == WebhookStatus::Processed {
                self.inbox_mark_processed_in(tx, &[(r.id, r.note.to_string())], at)
                    .await?;
            } else {
                tx.execute(
                    "UPDATE webhook_inbox SET status = 'failed', attempts = $2, last_error = $3 \
                     WHERE id = $1",
                    &[int(r.id), int(i64::from(attempts + 1)), text(r.note)],
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Records a failed attempt: a retry stays in memory; giving up writes
    /// the event (with its body) to the database.
    pub(crate) async fn journal_mark_failed(
        &self,
        opened: &Opened,
        id: i64,
        error: &str,
        retry_at: Option<Timestamp>,
    ) -> Result<()> {
        if let Some(at) = retry_at {
            opened.state(|s| {
                if let Some(p) = s.pending.get_mut(&id) {
                    p.attempts += 1;
                    p.last_error = Some(error.to_string());
                    p.next_attempt_at = at;
                }
            });
            return Ok(());
        }
        if !opened.state(|s| s.pending.contains_key(&id)) {
            return Ok(());
        }
        let gave_up = [Resolution {
            id,
            status: WebhookStatus::Failed,
            note: error,
        }];
        // `at` only dates processed rows; a failed one has none.
        let mut tx = self.db.begin().await?;
        self.journal_resolve_in(&mut tx, opened, &gave_up, Timestamp::UNIX_EPOCH)
            .await?;
        tx.commit().await?;
        opened.resolved([id]);
        Ok(())
    }

    /// Pending and retrying from memory; processed and failed from the rows.
    pub(crate) async fn journal_stats(&self, opened: &Opened) -> Result<WebhookStats> {
        let (pending, retrying, oldest) = opened.state(|s| {
            let retrying = s.pending.values().filter(|p| p.attempts > 0).count();
            let oldest = s.pending.values().map(|p| p.event.received_at).min();
            (s.pending.len(), retrying, oldest)
        });
        let rows = self
            .db
            .fetch(
                "SELECT \
                 (SELECT COUNT(*) FROM webhook_inbox WHERE status = 'processed') AS processed, \
                 (SELECT COUNT(*) FROM webhook_inbox WHERE status = 'failed') AS failed",
                &[],
                &[Col::Int; 2],
            )
            .await?;
        let n = |col: &str| -> Result<u64> {
            Ok(rows
                .first()
                .map(|r| r.int(col))
                .transpose()?
                .unwrap_or(0)
                .max(0) as u64)
        };
        Ok(WebhookStats {
            pending: pending as u64,
            retrying: retrying as u64,
            processed: n("processed")?,
            failed: n("failed")?,
            oldest_pending_received_at: oldest,
        })
    }
}

/// The types of a resolved event's row, in column order.
const ROW_TYPES: [SqlType; 15] = [
    SqlType::BigInt,
    SqlType::Text,
    SqlType::Text,
    SqlType::Text,
    SqlType::Text,
    SqlType::Text,
    SqlType::Text,
    SqlType::BigInt,
    SqlType::BigInt,
    SqlType::Text,
    SqlType::BigInt,
    SqlType::BigInt,
    SqlType::Text,
    SqlType::Text,
    SqlType::BigInt,
];

impl<D: Db> SqlStore<D> {
    /// Inserts the rows of the JSON array parameter `$1` (see
    /// [`ROW_TYPES`]). `WHERE true` keeps SQLite from reading `ON CONFLICT`
    /// as a join constraint.
    fn insert_rows_sql(&self) -> String {
        let d = self.db.dialect();
        let columns: Vec<String> = ROW_TYPES
            .iter()
            .enumerate()
            .map(|(i, ty)| d.json_element(i, *ty))
            .collect();
        format!(
            "INSERT INTO webhook_inbox (id, source, shop_domain, webhook_id, event_id, topic, \
             api_version, triggered_at_us, received_at_us, status, attempts, next_attempt_at_us, \
             last_error, result, processed_at_us) SELECT {} FROM {} WHERE true \
             ON CONFLICT DO NOTHING",
            columns.join(", "),
            d.json_rows(1)
        )
    }
}
