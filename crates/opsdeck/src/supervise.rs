//! Every long-running task of a running opsdeck, owned and watched: none
//! ends unnoticed.
//!
//! [`app::start`](crate::app::start) spawns each background task through
//! one [`Supervisor`] with a name and a [`Policy`]. A task that ends before
//! the application's stop signal (it returned, failed or panicked) is
//! logged at error level with its name and then, by its policy, either
//! started again after a pause that doubles up to a cap, or ends the
//! process: [`Running::until`](crate::app::Running::until) (what `app::run`
//! waits on) returns an error naming it. Each task's state (running since
//! T after N restarts, restarting since T, stopped: reason) is on the
//! [`TaskBoard`] that `/readyz` serves.
//!
//! | task | policy | why |
//! |---|---|---|
//! | `sync:SOURCE` (one per source) | restart | cursors are in the store: a new loop resumes each resource where the last committed page left it; a panic in one shop's sync ends its task only |
//! | `webhook-inbox` | restart | events wait in the inbox (durable) and are applied by whichever loop runs next |
//! | `projection-follower` | restart | it resumes from the projection's last applied change |
//! | `alert-runner` | restart | episodes and the outbox are in the store; the leader lease is taken again |
//! | `alerts-projection-follower` | restart | as `projection-follower` (only when alerts run without the web's projection) |
//! | `telegram-acks` | restart | Telegram keeps unread button presses until the next poll |
//! | `housekeeping` | restart | its deletes are idempotent |
//! | `reports` | restart | runs are scheduled and claimed in the store: a new loop sends what is due, nothing twice |
//! | `ingest-writer`, `webhook-writer` | stop the process | the group-commit writers own their queue's receiver, so they cannot start again; without them every ingest or webhook request would wait forever. They end (expectedly) after the web server, which holds the queues |
//! | `web` | stop the process | it owns the listener: without it this process serves nothing, so it exits with the reason and the service manager (systemd, a container runtime) starts a fresh one |
//!
//! A restarted task that then runs longer than its policy's cap starts its
//! next backoff from the beginning again. A task that ends badly while the
//! application is stopping is not restarted; [`Supervisor::join`] reports
//! it.

use crate::app::Clock;
use anyhow::anyhow;
use opsdeck_web::{TaskBoard, TaskState};
use std::future::Future;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinError, JoinHandle};

/// What happens when a task ends before the application stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Start it again after `first`, doubling each time up to `max`.
    Restart { first: Duration, max: Duration },
    /// Stop the process, with an error naming the task.
    StopProcess,
}

impl Policy {
    /// The workers' policy: again after 1 s, 2 s, 4 s… at most a minute
    /// apart, so a persistent crash neither spins nor waits long once
    /// fixed (by a restored database, say).
    pub const RESTART: Policy = Policy::Restart {
        first: Duration::from_secs(1),
        max: Duration::from_secs(60),
    };
}

/// The pauses between runs of a restarted task: `first`, then twice the
/// last up to `max`; back to `first` after a run that lasted `max` or more
/// (a crash an hour after the last one is a new story, not a crash loop).
#[derive(Debug, Clone)]
struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    fn new(first: Duration, max: Duration) -> Backoff {
        Backoff {
            first,
            max,
            next: first,
        }
    }

    /// The pause before the next run, after a run that lasted `ran`.
    fn after(&mut self, ran: Duration) -> Duration {
        if ran >= self.max {
            self.next = self.first;
        }
        let pause = self.next;
        self.next = (self.next * 2).min(self.max);
        pause
    }
}

/// A task that ended where its policy is to stop the process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fatal {
    pub task: String,
    /// How it ended ("exited", "failed: …", "panicked: …").
    pub reason: String,
}

impl std::fmt::Display for Fatal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "the {} task {}", self.task, self.reason)
    }
}

/// Owns the application's background tasks: spawns them, restarts or
/// reports them by policy, and waits for them all at stop.
pub struct Supervisor {
    board: TaskBoard,
    stop: watch::Receiver<bool>,
    clock: Clock,
    fatal: mpsc::UnboundedSender<Fatal>,
    tasks: Vec<(String, JoinHandle<anyhow::Result<()>>)>,
}

impl Supervisor {
    /// A supervisor whose tasks stop when `stop` turns true. The receiver
    /// gets each task that ended under [`Policy::StopProcess`].
    pub fn new(
        stop: watch::Receiver<bool>,
        clock: Clock,
    ) -> (Supervisor, mpsc::UnboundedReceiver<Fatal>) {
        let (fatal, fatalities) = mpsc::unbounded_channel();
        let supervisor = Supervisor {
            board: TaskBoard::default(),
            stop,
            clock,
            fatal,
            tasks: Vec::new(),
        };
        (supervisor, fatalities)
    }

    /// The board every task's state is written on (for `/readyz`).
    pub fn board(&self) -> TaskBoard {
        self.board.clone()
    }

    /// The application's stop signal, for a task to end on.
    pub fn stop_signal(&self) -> watch::Receiver<bool> {
        self.stop.clone()
    }

    /// Spawns the task `name`: `start` is called for its first run and for
    /// each restart, and its future should run until the stop signal.
    pub fn spawn<F, Fut>(&mut self, name: &str, policy: Policy, start: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let watch = Watch {
            name: name.to_string(),
            policy,
            board: self.board.clone(),
            stop: self.stop.clone(),
            clock: self.clock.clone(),
            fatal: self.fatal.clone(),
        };
        self.tasks
            .push((name.to_string(), tokio::spawn(watch.run(start))));
    }

    /// Watches a task already spawned that cannot be started again (a
    /// group-commit writer: its queue's receiver lives in it), under
    /// [`Policy::StopProcess`]: ending before the stop signal stops the
    /// process. It may end after the signal, when its senders are gone.
    pub fn adopt(&mut self, name: &str, task: JoinHandle<()>) {
        let mut task = Some(task);
        self.spawn(name, Policy::StopProcess, move || {
            let task = task.take();
            async move {
                let task = task.ok_or_else(|| anyhow!("cannot be started again"))?;
                task.await.map_err(|e| anyhow!("{}", ended(e)))
            }
        });
    }

    /// Waits for every task to end (after the stop signal): the first that
    /// ended badly, by name, or `Ok`.
    pub async fn join(self) -> anyhow::Result<()> {
        let mut first_error = None;
        for (name, task) in self.tasks {
            let outcome = match task.await {
                Ok(outcome) => outcome,
                Err(e) => Err(anyhow!("the supervisor of {name} {}", ended(e))),
            };
            if let Err(e) = outcome {
                tracing::error!(task = %name, error = %format!("{e:#}"), "task ended badly");
                first_error.get_or_insert(e);
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

/// One task's supervision loop.
struct Watch {
    name: String,
    policy: Policy,
    board: TaskBoard,
    stop: watch::Receiver<bool>,
    clock: Clock,
    fatal: mpsc::UnboundedSender<Fatal>,
}

impl Watch {
    /// The stop signal was sent, or its sender (the `Running`) is gone.
    fn stopping(&self) -> bool {
        *self.stop.borrow() || self.stop.has_changed().is_err()
    }

    fn stopped(&self, reason: String) {
        let since = (self.clock)();
        self.board
            .set(&self.name, TaskState::Stopped { since, reason });
    }

    async fn run<F, Fut>(self, mut start: F) -> anyhow::Result<()>
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let mut restarts = 0u32;
        let mut backoff = match self.policy {
            Policy::Restart { first, max } => Backoff::new(first, max),
            Policy::StopProcess => Backoff::new(Duration::ZERO, Duration::ZERO),
        };
        loop {
            let since = (self.clock)();
            self.board
                .set(&self.name, TaskState::Running { since, restarts });
            let started = tokio::time::Instant::now();
            // Its own task, so a panic ends the run, not the supervision.
            let outcome = tokio::spawn(start()).await;
            let reason = match outcome {
                Ok(Ok(())) if self.stopping() => {
                    self.stopped("stopped with the application".into());
                    return Ok(());
                }
                Ok(Ok(())) => "exited".to_string(),
                Ok(Err(e)) => format!("failed: {e:#}"),
                Err(e) => ended(e),
            };
            if self.stopping() {
                self.stopped(reason.clone());
                return Err(anyhow!("the {} task {reason}", self.name));
            }
            tracing::error!(task = %self.name, %reason, restarts, "task ended unexpectedly");
            if self.policy == Policy::StopProcess {
                self.stopped(reason.clone());
                let fatal = Fatal {
                    task: self.name.clone(),
                    reason,
                };
                let error = anyhow!("{fatal}");
                // Nobody listening means the application is gone.
                let _ = self.fatal.send(fatal);
                return Err(error);
            }
            let pause = backoff.after(started.elapsed());
            let since = (self.clock)();
            self.board
                .set(&self.name, TaskState::Restarting { since, restarts });
            tracing::warn!(task = %self.name, after = ?pause, "restarting the task");
            let mut stop = self.stop.clone();
            tokio::select! {
                _ = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|s| *s) => {
                    self.stopped(format!("stopped with the application (last run {reason})"));
                    return Ok(());
                }
            }
            restarts += 1;
        }
    }
}

/// How a task that did not return ended: "panicked: MESSAGE" or
/// "was cancelled".
fn ended(e: JoinError) -> String {
    if !e.is_panic() {
        return "was cancelled".to_string();
    }
    let panic = e.into_panic();
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "with a non-text payload".to_string());
    format!("panicked: {message}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::sync::Arc;

    fn fixed_clock() -> Clock {
        let now: jiff::Timestamp = "2026-06-10T18:05:00Z".parse().unwrap();
        Arc::new(move || now)
    }

    /// Waits until `name`'s state satisfies `check` (at most 10 s).
    async fn wait_for(board: &TaskBoard, name: &str, check: impl Fn(&TaskState) -> bool) {
        for _ in 0..1_000 {
            if board.get(name).is_some_and(|s| check(&s)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        panic!("{name}: {:?}", board.get(name));
    }

    #[test]
    fn pauses_double_up_to_the_cap_and_start_over_after_a_long_run() {
        let second = Duration::from_secs(1);
        let mut backoff = Backoff::new(second, 4 * second);
        let short = Duration::from_millis(10);
        let pauses: Vec<_> = (0..5).map(|_| backoff.after(short)).collect();
        assert_eq!(pauses, [1, 2, 4, 4, 4].map(|s| s * second));
        assert_eq!(backoff.after(4 * second), second, "a long run starts over");
        assert_eq!(backoff.after(short), 2 * second);
    }

    /// A restart policy with millisecond pauses, for tests.
    const QUICK: Policy = Policy::Restart {
        first: Duration::from_millis(1),
        max: Duration::from_millis(4),
    };

    #[tokio::test]
    async fn a_panicking_task_is_restarted_and_counted() {
        let (stop, stop_rx) = watch::channel(false);
        let (mut supervisor, _fatal) = Supervisor::new(stop_rx.clone(), fixed_clock());
        let runs = Arc::new(AtomicU32::new(0));
        supervisor.spawn("flaky", QUICK, {
            let runs = runs.clone();
            let stop = stop_rx.clone();
            move || {
                let run = runs.fetch_add(1, Ordering::SeqCst) + 1;
                let mut stop = stop.clone();
                async move {
                    if run <= 4 {
                        panic!("run {run} broke");
                    }
                    let _ = stop.wait_for(|s| *s).await;
                    Ok(())
                }
            }
        });
        let board = supervisor.board();
        wait_for(&board, "flaky", |s| {
            matches!(s, TaskState::Running { restarts: 4, .. })
        })
        .await;
        assert_eq!(runs.load(Ordering::SeqCst), 5);
        stop.send(true).unwrap();
        supervisor.join().await.unwrap();
        assert!(matches!(
            board.get("flaky"),
            Some(TaskState::Stopped { reason, .. }) if reason == "stopped with the application"
        ));
    }

    #[tokio::test]
    async fn a_stop_policy_task_that_ends_is_reported_once_by_name() {
        let (stop, stop_rx) = watch::channel(false);
        let (mut supervisor, mut fatal) = Supervisor::new(stop_rx, fixed_clock());
        let runs = Arc::new(AtomicU32::new(0));
        supervisor.spawn("listener", Policy::StopProcess, {
            let runs = runs.clone();
            move || {
                runs.fetch_add(1, Ordering::SeqCst);
                async { Err(anyhow!("the socket closed")) }
            }
        });
        let reported = fatal.recv().await.unwrap();
        assert_eq!(reported.task, "listener");
        assert_eq!(
            reported.to_string(),
            "the listener task failed: the socket closed"
        );
        let board = supervisor.board();
        assert!(matches!(
            board.get("listener"),
            Some(TaskState::Stopped { reason, .. }) if reason == "failed: the socket closed"
        ));
        stop.send(true).unwrap();
        let error = supervisor.join().await.unwrap_err();
        assert!(error.to_string().contains("listener"), "{error}");
        assert_eq!(runs.load(Ordering::SeqCst), 1, "never started again");
    }

    #[tokio::test]
    async fn a_task_waiting_to_restart_stops_with_the_application() {
        let (stop, stop_rx) = watch::channel(false);
        let (mut supervisor, _fatal) = Supervisor::new(stop_rx, fixed_clock());
        supervisor.spawn("sync", Policy::RESTART, || async {
            Err(anyhow!("store unreachable"))
        });
        let board = supervisor.board();
        wait_for(&board, "sync", |s| {
            matches!(s, TaskState::Restarting { restarts: 0, .. })
        })
        .await;
        stop.send(true).unwrap();
        supervisor.join().await.unwrap();
        assert!(matches!(
            board.get("sync"),
            Some(TaskState::Stopped { reason, .. }) if reason.contains("store unreachable")
        ));
    }

    #[tokio::test]
    async fn an_adopted_task_that_panics_stops_the_process_and_one_ending_after_stop_is_fine() {
        let (stop, stop_rx) = watch::channel(false);
        let (mut supervisor, mut fatal) = Supervisor::new(stop_rx.clone(), fixed_clock());
        supervisor.adopt(
            "ingest-writer",
            tokio::spawn(async { panic!("queue broke") }),
        );
        let (done, ended) = tokio::sync::oneshot::channel::<()>();
        supervisor.adopt(
            "inbox-writer",
            tokio::spawn(async move {
                let _ = ended.await;
            }),
        );
        let reported = fatal.recv().await.unwrap();
        assert_eq!(
            reported.to_string(),
            "the ingest-writer task failed: panicked: queue broke"
        );
        stop.send(true).unwrap();
        // Its senders go after the stop, as the web's do.
        drop(done);
        let board = supervisor.board();
        let error = supervisor.join().await.unwrap_err();
        assert!(error.to_string().contains("ingest-writer"), "{error}");
        assert!(matches!(
            board.get("inbox-writer"),
            Some(TaskState::Stopped { reason, .. }) if reason == "stopped with the application"
        ));
    }

    #[tokio::test]
    async fn a_panic_while_stopping_is_reported_by_join() {
        let (stop, stop_rx) = watch::channel(false);
        let (mut supervisor, _fatal) = Supervisor::new(stop_rx.clone(), fixed_clock());
        supervisor.spawn("follower", Policy::RESTART, move || {
            let mut stop = stop_rx.clone();
            async move {
                let _ = stop.wait_for(|s| *s).await;
                panic!("lock poisoned");
            }
        });
        stop.send(true).unwrap();
        let error = supervisor.join().await.unwrap_err();
        assert_eq!(
            error.to_string(),
            "the follower task panicked: lock poisoned"
        );
    }
}
