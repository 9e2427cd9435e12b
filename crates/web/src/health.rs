//! `GET /healthz`: liveness for a load balancer or a process supervisor.
//! It answers without touching the store (a slow database should not get
//! healthy instances killed) and names the backend so an operator can see
//! which one an instance runs on.
//!
//! `GET /readyz`: readiness. 200 when every task on the [`TaskBoard`] the
//! binary's supervisor keeps (sync, webhook inbox, projection follower,
//! alert runner, web server…) is running, the store answers a cheap query
//! within its timeout, and the projection has caught up with the change
//! feed (`crate::observe::readiness`); else 503 naming what is not ready.
//! A task that was restarted and runs again is ready, with its restart
//! count shown. The web only reads the board; it never depends on the
//! binary.

use crate::auth::rules::{Access, Routes};
use crate::params::{NoParams, Params};
use crate::{AppState, Error};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use opsdeck_domain::Timestamp;
use opsdeck_store::Backend;
use serde::Serialize;
use std::sync::{Arc, RwLock};

pub(crate) fn router() -> Routes {
    Routes::new()
        .get("/healthz", Access::Public, healthz)
        .get("/readyz", Access::Public, readyz)
}

/// What a supervised task is doing now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum TaskState {
    /// Running since `since`, after `restarts` restarts.
    Running { since: Timestamp, restarts: u32 },
    /// Ended unexpectedly at `since` and waits to be started again; it has
    /// been restarted `restarts` times before.
    Restarting { since: Timestamp, restarts: u32 },
    /// Will not run again in this process: stopped with the application,
    /// or ended where its policy is to stop the process.
    Stopped { since: Timestamp, reason: String },
}

impl TaskState {
    pub fn is_running(&self) -> bool {
        matches!(self, TaskState::Running { .. })
    }
}

/// The state of every supervised task, by name, in the order they were
/// first reported. The supervisor writes it; `/readyz` reads it. Cheap to
/// clone (one shared board). Empty until a supervisor reports, which
/// `/readyz` counts as ready (a web without background tasks).
#[derive(Debug, Clone, Default)]
pub struct TaskBoard(Arc<RwLock<Vec<(String, TaskState)>>>);

impl TaskBoard {
    /// Records `state` for the task `name`.
    pub fn set(&self, name: &str, state: TaskState) {
        // A poisoned board still holds the last states written; keep going.
        let mut tasks = self.0.write().unwrap_or_else(|e| e.into_inner());
        match tasks.iter_mut().find(|(n, _)| n == name) {
            Some((_, s)) => *s = state,
            None => tasks.push((name.to_string(), state)),
        }
    }

    /// Every task's current state.
    pub fn tasks(&self) -> Vec<(String, TaskState)> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The state of the task `name`, if it was ever reported.
    pub fn get(&self, name: &str) -> Option<TaskState> {
        self.tasks()
            .into_iter()
            .find_map(|(n, s)| (n == name).then_some(s))
    }
}

#[derive(Serialize)]
struct Health {
    /// Always "ok": answering at all is the signal.
    status: &'static str,
    /// "sqlite" or "postgres".
    store: &'static str,
    started_at: Timestamp,
    uptime_seconds: i64,
}

async fn healthz(
    State(state): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> Result<Json<Health>, Error> {
    let now = state.now();
    Ok(Json(Health {
        status: "ok",
        store: match state.store.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        },
        started_at: state.started_at,
        uptime_seconds: now.duration_since(state.started_at).as_secs().max(0),
    }))
}

#[derive(Serialize)]
struct Readiness {
    /// "ready" or "not ready".
    status: &'static str,
    /// The tasks that are not running, by name (empty when ready).
    not_running: Vec<String>,
    /// Whether the store answered in time (its error stays in the log).
    store_reachable: bool,
    /// Changes of the feed the projection has not applied yet; `None`
    /// when the store did not answer.
    projection_lag: Option<u64>,
    /// Whether the projection is within `CAUGHT_UP_WITHIN` changes of
    /// the feed.
    projection_caught_up: bool,
    tasks: Vec<TaskReport>,
}

#[derive(Serialize)]
struct TaskReport {
    name: String,
    #[serde(flatten)]
    state: TaskState,
}

/// What `/readyz` says of a stopped task's reason. The route is public (a
/// load balancer calls it without a session), and the reason is an error
/// or panic text that may name internals; it stays in the log and on the
/// signed-in /sources page.
const REASON_NOT_PUBLIC: &str = "see the log or /sources";

impl TaskReport {
    fn public(name: String, state: TaskState) -> Self {
        let state = match state {
            TaskState::Stopped { since, .. } => TaskState::Stopped {
                since,
                reason: REASON_NOT_PUBLIC.to_string(),
            },
            other => other,
        };
        TaskReport { name, state }
    }
}

async fn readyz(
    State(state): State<AppState>,
    Params(NoParams {}): Params<NoParams>,
) -> (StatusCode, Json<Readiness>) {
    let tasks = state.tasks.tasks();
    let not_running: Vec<String> = tasks
        .iter()
        .filter(|(_, s)| !s.is_running())
        .map(|(n, _)| n.clone())
        .collect();
    let lag = crate::observe::readiness::projection_lag(state.store.as_ref(), &state.projection)
        .await
        .ok();
    let caught_up = lag.is_some_and(|lag| lag <= crate::observe::readiness::CAUGHT_UP_WITHIN);
    let (status, word) = if not_running.is_empty() && caught_up {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "not ready")
    };
    let tasks = tasks
        .into_iter()
        .map(|(name, state)| TaskReport::public(name, state))
        .collect();
    (
        status,
        Json(Readiness {
            status: word,
            not_running,
            store_reachable: lag.is_some(),
            projection_lag: lag,
            projection_caught_up: caught_up,
            tasks,
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readyz_names_a_stopped_task_but_not_its_panic_text() {
        let since = Timestamp::UNIX_EPOCH;
        let stopped = TaskState::Stopped {
            since,
            reason: "panicked at /srv/opsdeck/src/sync.rs: token shpat_123".into(),
        };
        let json = serde_json::to_value(TaskReport::public("sync:acme".into(), stopped)).unwrap();
        assert_eq!(json["name"], "sync:acme");
        assert_eq!(json["state"], "stopped");
        assert_eq!(json["reason"], REASON_NOT_PUBLIC);
        let running = TaskState::Running { since, restarts: 2 };
        let json = serde_json::to_value(TaskReport::public("web".into(), running)).unwrap();
        assert_eq!(json["restarts"], 2);
    }
}
