//! The ingest API's writer.
//!
//! A durable commit costs an fsync (milliseconds) whatever it holds, so a
//! client sending one record per request would be limited to a few hundred
//! requests a second if each request had its own transaction. Requests that
//! passed validation (and planning) hand their records to one writer task
//! instead; it commits everything queued since its last commit in ONE
//! `Store::upsert`, splits the per-record outcomes back to each request, and
//! counts the group's requests in the health rows in that same transaction,
//! so an answered request is always counted.
//!
//! Each request stays all-or-nothing: its records are in exactly one
//! transaction. Only requests that were already validated are joined, so a
//! bad request never reaches a group. If a group's commit fails anyway (a
//! database error), every request of it is retried in a transaction of its
//! own, so one request the database refuses cannot fail the others.
//! Requests are joined in arrival order, and the store applies records of
//! one batch as if one after another, so the outcome is the one separate
//! commits in that order would give.

use opsdeck_store::{AnyRecord, IngestNoteFor, Store, UpsertOutcome};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

/// Records one commit takes at most (more wait for the next commit).
const MAX_GROUP_RECORDS: usize = 10_000;
/// Requests waiting for the writer before handlers wait for room.
const QUEUE: usize = 4096;

type Outcome = Result<Vec<UpsertOutcome>, String>;

struct Job {
    records: Vec<AnyRecord>,
    note: IngestNoteFor,
    reply: oneshot::Sender<Outcome>,
}

/// The ingest API's commit queue, to the writer task [`IngestCommits::start`]
/// spawned. Cheap to clone; the writer ends when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct IngestCommits {
    queue: mpsc::Sender<Job>,
}

impl IngestCommits {
    /// Spawns the writer (on the current Tokio runtime), committing to
    /// `store` and waking `committed` after each committed group (the
    /// projection follower, so pushed data reaches the dashboard and alerts
    /// without waiting for a poll). Returns the queue to hand to the web
    /// and the writer's task, for its owner to watch.
    pub fn start(
        store: Arc<dyn Store>,
        committed: Option<Arc<Notify>>,
    ) -> (IngestCommits, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(write_groups(store, rx, committed));
        (IngestCommits { queue }, writer)
    }

    /// Commits `records` (with the request's health note) in the next
    /// group and returns their outcomes in input order. `Err` is a store
    /// failure, already logged; nothing of the request was stored.
    pub async fn commit(&self, records: Vec<AnyRecord>, note: IngestNoteFor) -> Outcome {
        let queue = &self.queue;
        let (reply, answer) = oneshot::channel();
        let job = Job {
            records,
            note,
            reply,
        };
        if queue.send(job).await.is_err() {
            return Err("the ingest writer is not running".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the ingest writer stopped".into()))
    }
}

async fn write_groups(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<Job>,
    committed: Option<Arc<Notify>>,
) {
    while let Some(first) = rx.recv().await {
        let mut total = first.records.len();
        let mut group = vec![first];
        while total < MAX_GROUP_RECORDS {
            match rx.try_recv() {
                Ok(job) => {
                    total += job.records.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        if commit_group(store.as_ref(), group, total).await {
            if let Some(n) = &committed {
                n.notify_one();
            }
        }
    }
}

/// Commits one group; true when anything of it was stored.
#[tracing::instrument(skip_all, fields(requests = group.len(), records = total))]
async fn commit_group(store: &dyn Store, group: Vec<Job>, total: usize) -> bool {
    let mut all = Vec::with_capacity(total);
    for job in &group {
        all.extend(job.records.iter().cloned());
    }
    let notes: Vec<IngestNoteFor> = group.iter().map(|job| job.note.clone()).collect();
    match store.upsert_noting_ingest(&all, &notes).await {
        Ok(report) => {
            let mut outcomes = report.outcomes.into_iter();
            for job in group {
                let mine: Vec<UpsertOutcome> = outcomes.by_ref().take(job.records.len()).collect();
                let _ = job.reply.send(Ok(mine));
            }
            true
        }
        Err(error) if group.len() > 1 => {
            tracing::warn!(%error, "ingest group commit failed; committing its requests one by one");
            let mut stored_any = false;
            for job in group {
                let outcome = store
                    .upsert_noting_ingest(&job.records, std::slice::from_ref(&job.note))
                    .await;
                match &outcome {
                    Ok(_) => stored_any = true,
                    Err(error) => tracing::error!(%error, "ingest batch could not be stored"),
                }
                let _ = job
                    .reply
                    .send(outcome.map(|r| r.outcomes).map_err(|e| e.to_string()));
            }
            stored_any
        }
        Err(error) => {
            tracing::error!(%error, "ingest batch could not be stored");
            for job in group {
                let _ = job.reply.send(Err(error.to_string()));
            }
            false
        }
    }
}
