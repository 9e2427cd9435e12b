//! The webhook inbox's writer: deliveries (Shopify's, Gorgias's events)
//! committed to the store's inbox in groups before each is answered.
//!
//! Deliveries arriving together share one commit: handlers hand their event
//! to a single writer task that inserts everything queued since its last
//! commit in one transaction. Each handler still answers only after the
//! commit holding its event returns, so an answered delivery is durable.

use opsdeck_store::{InboxEvent, InsertOutcome, Store};
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot, Notify};
use tokio::task::JoinHandle;

/// Events one commit takes at most.
const MAX_GROUP: usize = 1024;
/// Deliveries waiting for the writer before handlers wait for room.
const QUEUE: usize = 8192;

type Reply = oneshot::Sender<Result<InsertOutcome, String>>;

/// Why a delivery was not stored (the sender should deliver it again).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InboxCommitError {
    /// The writer task is not running (it stopped or was never started).
    #[error("webhook inbox is not running")]
    NotRunning,
    /// The commit holding it failed (logged by the writer).
    #[error("webhook inbox commit failed: {0}")]
    Failed(String),
}

/// The queue to the inbox writer [`InboxCommits::start`] spawned. Cheap to
/// clone; the writer ends when the last clone is dropped.
#[derive(Clone, Debug)]
pub struct InboxCommits {
    queue: mpsc::Sender<(InboxEvent, Reply)>,
}

impl InboxCommits {
    /// Spawns the writer (on the current Tokio runtime), committing to
    /// `store`; `notify` is signalled after each commit that stored
    /// something new (it wakes the inbox worker). Returns the queue and the
    /// writer's task, for its owner to watch.
    pub fn start(store: Arc<dyn Store>, notify: Arc<Notify>) -> (InboxCommits, JoinHandle<()>) {
        let (queue, rx) = mpsc::channel(QUEUE);
        let writer = tokio::spawn(write_groups(store, rx, notify));
        (InboxCommits { queue }, writer)
    }

    /// Commits `event` in the next group; `Ok` once it is durable (new or a
    /// redelivery of a stored webhook id).
    pub async fn commit(&self, event: InboxEvent) -> Result<InsertOutcome, InboxCommitError> {
        let (reply, outcome) = oneshot::channel();
        if self.queue.send((event, reply)).await.is_err() {
            return Err(InboxCommitError::NotRunning);
        }
        match outcome.await {
            Ok(Ok(outcome)) => Ok(outcome),
            Ok(Err(error)) => Err(InboxCommitError::Failed(error)),
            Err(_) => Err(InboxCommitError::Failed("the writer stopped".into())),
        }
    }
}

/// How long the writer holds a group open for more events while deliveries
/// keep coming (see [`write_groups`]).
const LINGER: std::time::Duration = std::time::Duration::from_micros(1500);
/// A commit that started within this long after the previous one ended
/// counts as "deliveries keep coming".
const BUSY_GAP: std::time::Duration = std::time::Duration::from_millis(20);
/// Recent groups whose largest size the writer waits for.
const RECENT_GROUPS: usize = 8;

/// The group-commit writer: takes whatever is queued, commits it in one
/// transaction, answers each waiting handler.
///
/// Under a steady stream the senders that were just answered come back a
/// millisecond or so later; committing at once would split the senders
/// into two cohorts that take turns, each paying a whole fsync for half the
/// events. So while deliveries keep coming (the previous commit ended less
/// than [`BUSY_GAP`] ago) a group is held open for up to [`LINGER`] until it
/// is as large as the largest of the last few groups. A delivery after a
/// quiet spell is committed at once.
async fn write_groups(
    store: Arc<dyn Store>,
    mut rx: mpsc::Receiver<(InboxEvent, Reply)>,
    notify: Arc<Notify>,
) {
    let mut group = Vec::with_capacity(MAX_GROUP);
    let mut recent = [0usize; RECENT_GROUPS];
    let mut commits = 0usize;
    let mut last_end: Option<tokio::time::Instant> = None;
    while rx.recv_many(&mut group, MAX_GROUP).await > 0 {
        let target = recent.iter().copied().max().unwrap_or(0).min(MAX_GROUP);
        let now = tokio::time::Instant::now();
        if last_end.is_some_and(|end| now.duration_since(end) < BUSY_GAP) {
            let deadline = now + LINGER;
            while group.len() < target {
                let more = MAX_GROUP - group.len();
                match tokio::time::timeout_at(deadline, rx.recv_many(&mut group, more)).await {
                    Ok(n) if n > 0 => {}
                    _ => break,
                }
            }
        }
        recent[commits % RECENT_GROUPS] = group.len();
        commits += 1;
        let (events, replies): (Vec<InboxEvent>, Vec<Reply>) = group.drain(..).unzip();
        let result = store.insert_webhooks(&events).await;
        last_end = Some(tokio::time::Instant::now());
        match result {
            Ok(outcomes) => {
                if outcomes
                    .iter()
                    .any(|o| matches!(o, InsertOutcome::Inserted { .. }))
                {
                    notify.notify_one();
                }
                for (reply, outcome) in replies.into_iter().zip(outcomes) {
                    let _ = reply.send(Ok(outcome));
                }
            }
            Err(e) => {
                tracing::error!(error = %e, events = events.len(), "webhook inbox commit failed");
                for reply in replies {
                    let _ = reply.send(Err(e.to_string()));
                }
            }
        }
    }
}
