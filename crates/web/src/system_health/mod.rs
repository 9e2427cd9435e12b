//! System health over HTTP (issue 16, point 4): the configured checks
//! (`[health_checks.NAME]`, run by `opsdeck_operations::health`) and the
//! `HealthCheck` records custom platforms push, on one page.
//!
//! - `GET /system`: each check with its state, since when, its last
//!   result, the last results as a sparkline and its last state changes;
//!   below, the latest pushed `HealthCheck` of each dependency per brand
//!   (what the operations panel counts as failing dependencies); and a
//!   marked place for opsdeck's own request latency.
//! - `GET /api/v1/system/health-checks`: the same checks as JSON.
//! - `POST /api/v1/ingest/heartbeats` `{"check": NAME}` and
//!   `POST /api/v1/ingest/health-values` `{"check": NAME, "value": N}`:
//!   a worker's heartbeat and a pushed number, with an ingest token that
//!   may write `health-checks`; a value out of its bound, a check of
//!   another kind or an unknown check is a 400 naming what was wrong,
//!   and nothing is stored.
//!
//! The pages declare `ViewDashboard`; no money is on them. The states are
//! `opsdeck_operations::health`'s; this module only reads and renders.

use crate::auth::rules::{Access, Routes};
use crate::auth::{ClientInfo, Permission};
use crate::charts::{sparkline::sparkline, Datum};
use crate::error::PageError;
use crate::pages::read;
use crate::{templates, AppState, Error};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::{Extension, Json};
use opsdeck_domain::health::Grade;
use opsdeck_domain::Timestamp;
use opsdeck_operations::health::{CheckView, HealthChecks, HealthError, Push};
use opsdeck_sources::ingest::IngestKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::sync::Arc;

pub(crate) fn router() -> Routes {
    Routes::new()
        .get("/system", Permission::ViewDashboard, page)
        .get(
            "/api/v1/system/health-checks",
            Permission::ViewDashboard,
            api,
        )
        // A platform's ingest token, checked in the handler.
        .post("/api/v1/ingest/heartbeats", Access::Public, heartbeat)
        .post("/api/v1/ingest/health-values", Access::Public, value)
}

/// The latest pushed check of one dependency of one brand.
#[derive(Debug, Serialize)]
pub(crate) struct PushedCheck {
    brand: String,
    dependency: String,
    failed: bool,
    checked_at: Timestamp,
}

#[derive(Debug, Serialize)]
pub(crate) struct SystemHealthView {
    generated_at: Timestamp,
    checks: Vec<CheckView>,
    pushed: Vec<PushedCheck>,
}

fn checks_of(state: &AppState) -> Option<&Arc<HealthChecks>> {
    state.health_checks.as_ref()
}

async fn view(state: &AppState) -> Result<SystemHealthView, Error> {
    let now = state.now();
    let checks = match checks_of(state) {
        Some(h) => h.overview(now).await?,
        None => Vec::new(),
    };
    let brands = state.visible_brands();
    let p = read(state);
    let mut pushed = Vec::new();
    for brand in brands {
        let Some(b) = p.ctx.brand_ix(&brand.id) else {
            continue;
        };
        for row in p.ops.latest_checks(b) {
            pushed.push(PushedCheck {
                brand: brand.id.to_string(),
                dependency: p.syms.text(row.dependency).to_string(),
                failed: row.failed,
                checked_at: Timestamp::from_second(row.checked).unwrap_or(Timestamp::UNIX_EPOCH),
            });
        }
    }
    pushed.sort_by(|a, b| (!a.failed, &a.dependency).cmp(&(!b.failed, &b.dependency)));
    Ok(SystemHealthView {
        generated_at: now,
        checks,
        pushed,
    })
}

async fn api(State(state): State<AppState>) -> Result<Json<SystemHealthView>, Error> {
    Ok(Json(view(&state).await?))
}

async fn page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let view = view(&state).await?;
    let sparks: Vec<String> = view
        .checks
        .iter()
        .map(|c| {
            let points: Vec<Datum> = c
                .recent
                .iter()
                .map(|r| {
                    let value = match r.grade {
                        Grade::Good => 2.0,
                        Grade::Degraded => 1.0,
                        Grade::Failed => 0.0,
                    };
                    Datum::new(r.at.to_string(), value, r.text.clone())
                })
                .collect();
            sparkline(
                &format!("{}: last {} results", c.name, points.len()),
                &points,
                0,
            )
            .0
        })
        .collect();
    let html = templates::render(
        "system_health.html",
        minijinja::context! {
            view => view, sparks => sparks,
            configured => state.health_checks.is_some(),
            latency => state.latency.snapshot(),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct HeartbeatBody {
    check: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ValueBody {
    check: String,
    value: f64,
}

/// `POST /api/v1/ingest/heartbeats`: 202 when recorded.
async fn heartbeat(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Json<HeartbeatBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let pushed = body.map(|Json(b)| (b.check, Push::Heartbeat));
    push(state, client, headers, pushed).await
}

/// `POST /api/v1/ingest/health-values`: 202 when recorded.
async fn value(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Json<ValueBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let pushed = body.map(|Json(b)| (b.check, Push::Value(b.value)));
    push(state, client, headers, pushed).await
}

async fn push(
    state: AppState,
    client: ClientInfo,
    headers: HeaderMap,
    pushed: Result<(String, Push), axum::extract::rejection::JsonRejection>,
) -> Response {
    let kind = IngestKind::HealthChecks.api_name();
    if let Err(response) = crate::ingest::authorize_kind(&state, &client, &headers, kind).await {
        return response;
    }
    let result = async {
        let (check, push) =
            pushed.map_err(|e| Error::BadRequest(format!("body: {}", e.body_text())))?;
        let checks = checks_of(&state)
            .ok_or_else(|| Error::BadRequest("no health checks are configured".into()))?;
        checks.push(&check, push, state.now()).await?;
        Ok::<_, Error>(check)
    }
    .await;
    match result {
        Ok(check) => (StatusCode::ACCEPTED, Json(json!({ "check": check }))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// An unknown check or a push that does not fit is 400 (naming it), the
/// store's failure 500.
impl From<HealthError> for Error {
    fn from(e: HealthError) -> Self {
        match e {
            HealthError::Store(e) => Error::Store(e),
            e @ (HealthError::UnknownCheck(_) | HealthError::Invalid(_)) => {
                Error::BadRequest(e.to_string())
            }
        }
    }
}
