//! `GET /healthz`: liveness for a load balancer or a process supervisor.
//! It answers without touching the store (a slow database should not get
//! healthy instances killed) and names the backend so an operator can see
//! which one an instance runs on.

use crate::auth::rules::{Access, Routes};
use crate::params::{NoParams, Params};
use crate::{AppState, Error};
use axum::extract::State;
use axum::Json;
use opsdeck_domain::Timestamp;
use opsdeck_store::Backend;
use serde::Serialize;

pub(crate) fn router() -> Routes {
    Routes::new().get("/healthz", Access::Public, healthz)
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
