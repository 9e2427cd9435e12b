//! The webhook journal: how the SQLite store keeps received webhook events
//! between "answered 200" and "applied".
//!
//! With PostgreSQL the inbox is a table. With SQLite, writing every 10 KB
//! body into the database made the receiver and the inbox worker take turns
//! on SQLite's one write lock, and wrote each body about four times (WAL
//! and checkpoint, then again when its status changed). Here instead:
//!
//! - the receiver appends each group of events to a segment file in a
//!   directory beside the database (`<db>-webhooks/`) and answers only after
//!   `fdatasync` returns: as durable as a SQLite commit, on the same disk,
//!   without touching the database or its lock;
//! - pending events are held in memory (the journal is their durable copy);
//! - the worker's step commits its records and a small row per applied
//!   event (`webhook_inbox`, without the body: the record holds what it
//!   said) in one transaction, then drops the events from memory;
//! - a segment whose events are all in the database is deleted;
//! - on start, segments are read back and every event without a row in
//!   `webhook_inbox` is pending again. A frame cut short by a crash was never
//!   answered 200 (the answer waits for the sync), so dropping it loses
//!   nothing acknowledged.
//!
//! Redeliveries are recognised against the pending events and the
//! database's rows. An event given up on is written to the database with
//! its body, for a person to look at. Retry bookkeeping (attempts, next
//! attempt) lives in memory: after a restart a retrying event starts over.
//!
//! One process owns the journal (a lock file); it is opened on first use,
//! so CLI commands that never touch the inbox do not take it.

pub(crate) mod frame;
pub(crate) mod store;

use crate::inbox::{InboxEvent, StoredWebhook, WebhookStatus};
use crate::{Result, StoreError};
use opsdeck_domain::Timestamp;
use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// A segment is closed and a new one begun beyond this size.
const SEGMENT_BYTES: u64 = 64 * 1024 * 1024;
/// Bodies held pending in memory beyond which new deliveries are refused
/// (the receiver answers 503 and Shopify delivers again later), so a worker
/// that cannot apply (a full disk, a broken database) does not make the
/// process grow without bound: ~50,000 events of 10 KB.
const BACKLOG_BYTES: u64 = 512 * 1024 * 1024;

/// The journal of one SQLite store: where it lives, opened on first use.
pub(crate) struct Journal {
    dir: PathBuf,
    segment_bytes: u64,
    backlog_bytes: u64,
    opened: tokio::sync::OnceCell<Opened>,
}

/// A pending event.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub event: InboxEvent,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    /// Stored as a pending row in the database by a version before the
    /// journal: resolving it updates that row instead of inserting one.
    pub in_db: bool,
}

/// The memory side of an opened journal.
#[derive(Default)]
pub(crate) struct State {
    pub next_id: i64,
    pub pending: BTreeMap<i64, Pending>,
    /// `(source, webhook_id)` of every pending event.
    keys: HashMap<(String, String), i64>,
    /// Body bytes of the pending events.
    bytes: u64,
    /// Segment number → highest event id in it (0 when empty).
    segments: BTreeMap<u64, i64>,
}

/// The appending side: the current segment.
struct Writer {
    file: Arc<File>,
    number: u64,
    len: u64,
    /// A write or sync failed: the next append begins a new segment, so
    /// nothing is appended after bytes of unknown state.
    broken: bool,
}

pub(crate) struct Opened {
    dir: PathBuf,
    segment_bytes: u64,
    backlog_bytes: u64,
    writer: tokio::sync::Mutex<Writer>,
    state: Mutex<State>,
    _lock: File,
}

fn journal_error(dir: &Path, what: impl std::fmt::Display) -> StoreError {
    StoreError::Journal(format!("{}: {what}", dir.display()))
}

fn segment_path(dir: &Path, number: u64) -> PathBuf {
    dir.join(format!("segment-{number:012}.log"))
}

/// Runs blocking file work off the async threads; its error names `dir`.
async fn blocking<T: Send + 'static>(
    dir: &Path,
    work: impl FnOnce() -> std::io::Result<T> + Send + 'static,
) -> Result<T> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| journal_error(dir, e))?
        .map_err(|e| journal_error(dir, e))
}

/// Creates segment `number` and makes its directory entry durable.
fn create_segment(dir: &Path, number: u64) -> std::io::Result<File> {
    let file = std::fs::OpenOptions::new()
        .create_new(true)
        .append(true)
        .open(segment_path(dir, number))?;
    File::open(dir)?.sync_all()?;
    Ok(file)
}

/// What [`Journal::read_back`] found on disk.
pub(crate) struct OnDisk {
    pub lock: File,
    /// Segment number → its valid entries.
    pub segments: BTreeMap<u64, Vec<frame::Entry>>,
}

impl Journal {
    pub(crate) fn new(dir: PathBuf) -> Self {
        Journal {
            dir,
            segment_bytes: SEGMENT_BYTES,
            backlog_bytes: BACKLOG_BYTES,
            opened: tokio::sync::OnceCell::new(),
        }
    }

    /// Segments close beyond `bytes` (tests of rotation).
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn set_segment_bytes(&mut self, bytes: u64) {
        self.segment_bytes = bytes;
    }

    /// New deliveries are refused while pending bodies exceed `bytes`.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn set_backlog_bytes(&mut self, bytes: u64) {
        self.backlog_bytes = bytes;
    }

    pub(crate) fn dir(&self) -> &Path {
        &self.dir
    }

    pub(crate) fn get(&self) -> Option<&Opened> {
        self.opened.get()
    }

    /// The opened journal, opening it with `open` the first time.
    pub(crate) async fn get_or_open<F, Fut>(&self, open: F) -> Result<&Opened>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Opened>>,
    {
        self.opened.get_or_try_init(open).await
    }

    /// Takes the lock and reads every segment up to its first bad frame
    /// (where a crash left a half-written one). Nothing is appended after
    /// such a tail: appends go to a new segment (see [`Journal::open`]).
    pub(crate) async fn read_back(&self) -> Result<OnDisk> {
        let dir = self.dir.clone();
        tokio::task::spawn_blocking(move || read_back(&dir))
            .await
            .map_err(|e| journal_error(&self.dir, e))?
    }

    /// The opened journal over what [`Journal::read_back`] found, with
    /// `pending` the events no database row resolves and `next_id` above
    /// every id in use. Segments holding nothing pending are deleted and a
    /// new segment is begun for appends.
    pub(crate) async fn open(
        &self,
        disk: OnDisk,
        pending: BTreeMap<i64, Pending>,
        next_id: i64,
    ) -> Result<Opened> {
        let mut state = State {
            next_id,
            ..State::default()
        };
        for (number, entries) in &disk.segments {
            let max = entries.iter().map(|e| e.id).max().unwrap_or(0);
            state.segments.insert(*number, max);
        }
        for (id, p) in pending {
            state.add(id, p);
        }
        let number = disk.segments.keys().next_back().map_or(1, |n| n + 1);
        let dir = self.dir.clone();
        let file = blocking(&self.dir, move || create_segment(&dir, number)).await?;
        state.segments.insert(number, 0);
        let opened = Opened {
            dir: self.dir.clone(),
            segment_bytes: self.segment_bytes,
            backlog_bytes: self.backlog_bytes,
            writer: tokio::sync::Mutex::new(Writer {
                file: Arc::new(file),
                number,
                len: 0,
                broken: false,
            }),
            state: Mutex::new(state),
            _lock: disk.lock,
        };
        opened.delete_resolved_segments(number);
        Ok(opened)
    }
}

fn read_back(dir: &Path) -> Result<OnDisk> {
    std::fs::create_dir_all(dir).map_err(|e| journal_error(dir, e))?;
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("LOCK"))
        .map_err(|e| journal_error(dir, e))?;
    lock.try_lock().map_err(|_| {
        journal_error(
            dir,
            "in use by another opsdeck process (one process owns the webhook journal)",
        )
    })?;
    let mut numbers: Vec<u64> = std::fs::read_dir(dir)
        .map_err(|e| journal_error(dir, e))?
        .filter_map(|entry| {
            let name = entry.ok()?.file_name().into_string().ok()?;
            name.strip_prefix("segment-")?
                .strip_suffix(".log")?
                .parse()
                .ok()
        })
        .collect();
    numbers.sort_unstable();
    let mut segments = BTreeMap::new();
    for number in numbers {
        let path = segment_path(dir, number);
        let bytes = std::fs::read(&path).map_err(|e| journal_error(&path, e))?;
        let read = frame::read(&bytes);
        if let Some(why) = &read.stopped {
            // Only a frame that was being written when the process died can
            // be cut, and it was never answered 200.
            tracing::warn!(
                segment = %path.display(),
                kept = read.entries.len(),
                dropped_bytes = bytes.len() - read.valid,
                reason = %why,
                "webhook journal: unreadable tail ignored"
            );
        }
        segments.insert(number, read.entries);
    }
    Ok(OnDisk { lock, segments })
}

impl State {
    fn add(&mut self, id: i64, p: Pending) {
        let key = (
            p.event.source.as_str().to_string(),
            p.event.webhook_id.clone(),
        );
        self.keys.insert(key, id);
        self.bytes += p.event.body.len() as u64;
        self.pending.insert(id, p);
    }

    /// True when `(source, webhook_id)` is pending.
    pub(crate) fn has_key(&self, source: &str, webhook_id: &str) -> bool {
        self.keys
            .contains_key(&(source.to_string(), webhook_id.to_string()))
    }
}

impl Pending {
    pub(crate) fn stored(&self, id: i64) -> StoredWebhook {
        StoredWebhook {
            id,
            event: self.event.clone(),
            status: WebhookStatus::Pending,
            attempts: self.attempts,
            last_error: self.last_error.clone(),
            result: None,
        }
    }
}

impl Opened {
    /// Runs `f` on the memory state (briefly locked).
    pub(crate) fn state<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().expect("journal state lock"))
    }

    /// Serialises appends: held from the duplicate check until the new
    /// events are in memory, so two inserts of one webhook id cannot both
    /// pass the check.
    pub(crate) async fn append_lock(&self) -> AppendGuard<'_> {
        AppendGuard {
            opened: self,
            writer: self.writer.lock().await,
        }
    }

    /// Forgets resolved events (their rows are committed) and deletes the
    /// closed segments that no longer hold a pending event.
    pub(crate) fn resolved(&self, ids: impl IntoIterator<Item = i64>) {
        let current = self.state(|s| {
            for id in ids {
                if let Some(p) = s.pending.remove(&id) {
                    s.bytes -= p.event.body.len() as u64;
                    let key = (p.event.source.as_str().to_string(), p.event.webhook_id);
                    s.keys.remove(&key);
                }
            }
            s.segments.keys().next_back().copied().unwrap_or(0)
        });
        self.delete_resolved_segments(current);
    }

    fn delete_resolved_segments(&self, current: u64) {
        let done: Vec<u64> = self.state(|s| {
            let first_pending = s.pending.keys().next().copied().unwrap_or(i64::MAX);
            let done: Vec<u64> = s
                .segments
                .iter()
                .filter(|(n, max)| **n < current && **max < first_pending)
                .map(|(n, _)| *n)
                .collect();
            for n in &done {
                s.segments.remove(n);
            }
            done
        });
        for n in done {
            let path = segment_path(&self.dir, n);
            if let Err(e) = std::fs::remove_file(&path) {
                // Harmless: read back next start, its events found resolved.
                tracing::warn!(segment = %path.display(), error = %e, "webhook journal: segment not deleted");
            }
        }
    }
}

impl Opened {
    /// An erasure's purge of the journal (`PrivacyStore::privacy_purge_copies`):
    /// closes the current segment (a new one takes the next appends) and
    /// deletes every closed segment without a pending event, so the bodies
    /// of applied events — which may name the erased person — leave the
    /// disk now rather than at the next 64 MiB rotation. Returns the
    /// segments deleted and the pending events whose body still names one
    /// of `needles` (their segment stays until they are applied).
    pub(crate) async fn purge(&self, needles: &[String]) -> Result<(u64, u64)> {
        let mut writer = self.writer.lock().await;
        let number = writer.number + 1;
        let dir = self.dir.clone();
        let file = blocking(&self.dir, move || create_segment(&dir, number)).await?;
        *writer = Writer {
            file: Arc::new(file),
            number,
            len: 0,
            broken: false,
        };
        let before = self.state(|s| {
            s.segments.insert(number, 0);
            s.segments.len()
        });
        self.delete_resolved_segments(number);
        let after = self.state(|s| s.segments.len());
        let naming = self.state(|s| {
            s.pending
                .values()
                .filter(|p| opsdeck_domain::privacy::scrub(&p.event.body, needles).is_some())
                .count()
        });
        Ok(((before - after) as u64, naming as u64))
    }
}

/// Exclusive right to append (see [`Opened::append_lock`]).
pub(crate) struct AppendGuard<'a> {
    opened: &'a Opened,
    writer: tokio::sync::MutexGuard<'a, Writer>,
}

impl AppendGuard<'_> {
    /// Gives `events` the next ids, appends them, syncs, and only then adds
    /// them to the pending events. Returns their ids.
    pub(crate) async fn append(&mut self, events: Vec<InboxEvent>) -> Result<Vec<i64>> {
        let opened = self.opened;
        let (first, held, count) = opened.state(|s| (s.next_id, s.bytes, s.pending.len()));
        if held > opened.backlog_bytes {
            return Err(journal_error(
                &opened.dir,
                format!(
                    "{count} events ({} MiB) are waiting to be applied; new deliveries are \
                     refused until the inbox worker catches up",
                    held / (1024 * 1024)
                ),
            ));
        }
        let ids: Vec<i64> = (first..).take(events.len()).collect();
        let mut bytes = Vec::with_capacity(events.iter().map(|e| e.body.len() + 256).sum());
        for (id, e) in ids.iter().zip(&events) {
            frame::encode(&mut bytes, *id, e);
        }
        let w = &mut *self.writer;
        if w.broken || w.len >= opened.segment_bytes {
            let (dir, number) = (opened.dir.clone(), w.number + 1);
            let file = blocking(&opened.dir, move || create_segment(&dir, number)).await?;
            *w = Writer {
                file: Arc::new(file),
                number,
                len: 0,
                broken: false,
            };
            opened.state(|s| s.segments.insert(number, 0));
        }
        let file = w.file.clone();
        let len = bytes.len() as u64;
        let written = blocking(&opened.dir, move || {
            (&*file).write_all(&bytes)?;
            file.sync_data()
        })
        .await;
        if let Err(e) = written {
            w.broken = true;
            return Err(e);
        }
        w.len += len;
        let number = w.number;
        opened.state(|s| {
            s.next_id = first + events.len() as i64;
            if let Some(last) = ids.last() {
                s.segments.insert(number, *last);
            }
            for (id, event) in ids.iter().zip(events) {
                s.add(
                    *id,
                    Pending {
                        next_attempt_at: event.received_at,
                        event,
                        attempts: 0,
                        last_error: None,
                        in_db: false,
                    },
                );
            }
        });
        Ok(ids)
    }
}
