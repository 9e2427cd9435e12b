//! The ingest API: `POST /api/v1/ingest/{kind}` for platforms without a
//! connector (a pharmacy platform, a custom multi-region store) to push
//! orders, shipments, stock, helpdesk data and operational events.
//!
//! A request goes through, in order, and stops at the first step that fails:
//! 1. the bearer token (401 when missing, unknown, wrong or revoked; 403 when
//!    it may not write this kind);
//! 2. the body: at most [`MAX_BODY_BYTES`] (413), valid JSON (400 naming the
//!    line and column), `{"records": [...]}` with at most [`MAX_RECORDS`]
//!    records (413 naming the limit);
//! 3. every record is validated — all of them, every problem named as
//!    `records[i].field` with its reason (422), a record for another brand
//!    than the token's is 403 naming it;
//! 4. the whole batch is written in ONE store transaction, so it commits
//!    whole or not at all, and the answer lists what happened to each record
//!    (inserted, updated, unchanged, stale, with its change sequence value).
//!    Concurrent requests share that transaction (group commit, see
//!    `opsdeck_sync::group_commit::ingest`): one fsync for many requests.
//!
//! Records are stored under the token's source (e.g. `ingest-pharma`) and
//! keyed by their `external_id`, so re-sending a batch is harmless.
//! Order status changes and fulfillments are partial updates of an order
//! already stored under the same source (see `opsdeck_domain::operations`).
//! Funnel events (`/api/v1/ingest/funnel-events`) are counted into the
//! session-days of the storefront funnel, not stored as records: the
//! answer says how many session-days they changed.
//!
//! This module is the HTTP half only: the wire format and its validation
//! are `opsdeck_sources::ingest` (shared with the CSV import), the plan
//! against stored orders `opsdeck_sync::ingest`, the group commit
//! `opsdeck_sync::group_commit`.

pub(crate) mod auth;

use crate::api::ApiRoute;
use crate::auth::ClientInfo;
use crate::AppState;
use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Extension;
use axum::Json;
use opsdeck_domain::funnel::FunnelEvent;
use opsdeck_domain::{Brand, BrandId};
use opsdeck_sources::ingest::{reader, BatchRefusal, IngestKind, RecordContext, RecordError};
use opsdeck_store::{ApiToken, IngestNote, IngestNoteFor, UpsertOutcome};
use opsdeck_sync::ingest::funnel::FunnelError;
use opsdeck_sync::ingest::PlanError;
use serde::Serialize;
use serde_json::Value;

/// Records per request.
pub const MAX_RECORDS: usize = 1_000;
/// Bytes per request body: room for 1,000 large orders.
pub const MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// One route per kind, so each has its own request schema in the OpenAPI
/// document.
pub(crate) fn routes() -> Vec<ApiRoute> {
    IngestKind::ALL
        .iter()
        .map(|&kind| ApiRoute {
            path: kind.route(),
            method: "post",
            // The bearer token is the credential, checked by the handler.
            access: crate::auth::rules::Access::Public,
            handler: post(
                move |state: State<AppState>,
                      client: Extension<ClientInfo>,
                      headers: HeaderMap,
                      body: Body| { ingest(kind, state, client, headers, body) },
            ),
        })
        .collect()
}

/// The ingest token of a request that writes `kind` (an API kind name,
/// e.g. `incidents`), within its rates: the one token check every
/// token-authenticated write goes through. The response to send instead
/// when it is refused (401, 403 naming what the token may write, 429).
pub(crate) async fn authorize_kind(
    state: &AppState,
    client: &crate::auth::ClientInfo,
    headers: &axum::http::HeaderMap,
    kind: &str,
) -> Result<opsdeck_store::ApiToken, Response> {
    auth::authorize(state, client, headers, kind).await
}

/// A refused request: status, message, and for validation failures every
/// problem found.
#[derive(Debug)]
pub(crate) struct Refusal {
    status: StatusCode,
    message: String,
    errors: Vec<RecordError>,
}

impl Refusal {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Refusal {
            status,
            message: message.into(),
            errors: Vec::new(),
        }
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.message });
        if !self.errors.is_empty() {
            body["errors"] = serde_json::to_value(&self.errors).unwrap_or_default();
        }
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer realm=\"opsdeck ingest\""),
            );
        }
        response
    }
}

/// What happened to one record.
#[derive(Debug, Serialize)]
struct RecordResult {
    index: usize,
    /// The stored record's external id (the order's, for partial updates).
    external_id: String,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

#[derive(Debug, Serialize)]
struct BatchResult {
    kind: &'static str,
    source: String,
    inserted: usize,
    updated: usize,
    unchanged: usize,
    stale: usize,
    results: Vec<RecordResult>,
}

#[tracing::instrument(skip_all, fields(kind = kind.api_name(), source, records))]
async fn ingest(
    kind: IngestKind,
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let token = match auth::authorize(&state, &client, &headers, kind.api_name()).await {
        Ok(token) => token,
        Err(response) => {
            count_batch(kind, "refused");
            return response;
        }
    };
    tracing::Span::current().record("source", token.source.as_str());
    let result = handle(kind, &state, &token, body).await;
    count_batch(
        kind,
        match &result {
            Ok(_) => "accepted",
            Err(refusal) if refusal.status.is_client_error() => "refused",
            Err(_) => "failed",
        },
    );
    // A stored batch was counted by its commit group (opsdeck-sync).
    let note = match &result {
        Ok(_) => None,
        Err(refusal) if refusal.status.is_client_error() => Some(IngestNote::Refused {
            error: refusal.summary(),
        }),
        Err(_) => None,
    };
    if let Some(note) = note {
        if let Err(error) = state
            .store
            .note_ingest(&token.source, kind.api_name(), state.now(), &note)
            .await
        {
            tracing::warn!(%error, "could not update ingest health counters");
        }
    }
    match result {
        Ok(response) => response,
        Err(refusal) => refusal.into_response(),
    }
}

/// Counts one batch of `kind` with its outcome (`accepted`, `refused`,
/// `failed`) for `/metrics`.
fn count_batch(kind: IngestKind, outcome: &'static str) {
    metrics::counter!("opsdeck_ingest_batches_total", "kind" => kind.api_name(), "outcome" => outcome)
        .increment(1);
}

impl Refusal {
    /// The message and the first problems, for the source health page.
    fn summary(&self) -> String {
        let mut text = format!("{} {}", self.status.as_u16(), self.message);
        for e in self.errors.iter().take(3) {
            text.push_str(&format!("; {}: {}", e.field, e.reason));
        }
        if self.errors.len() > 3 {
            text.push_str(&format!("; and {} more", self.errors.len() - 3));
        }
        text
    }
}

async fn handle(
    kind: IngestKind,
    state: &AppState,
    token: &ApiToken,
    body: Body,
) -> Result<Response, Refusal> {
    let bytes = axum::body::to_bytes(body, MAX_BODY_BYTES)
        .await
        .map_err(|_| {
            Refusal::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("request body is larger than {MAX_BODY_BYTES} bytes"),
            )
        })?;
    opsdeck_domain::bounds::json_depth(&bytes, opsdeck_domain::bounds::MAX_JSON_DEPTH)
        .map_err(|e| Refusal::new(StatusCode::BAD_REQUEST, format!("body {e}")))?;
    let document: Value = serde_json::from_slice(&bytes).map_err(|e| {
        Refusal::new(
            StatusCode::BAD_REQUEST,
            // serde's message ends with "at line L column C".
            format!("body is not valid JSON: {e}"),
        )
    })?;
    let records = batch_records(&document)?;
    tracing::Span::current().record("records", records.len());
    let brand = token_brand(state, &token.brand)?;
    let cx = RecordContext {
        source: &token.source,
        brand,
    };
    let parsed = opsdeck_sources::ingest::validate(kind, records, &cx, &state.brands)
        .map_err(Refusal::from)?;
    if kind == IngestKind::FunnelEvents {
        return funnel_events(state, token, brand, parsed).await;
    }
    store_records(kind, state, token, parsed)
        .await
        .map(|batch| Json(batch).into_response())
}

/// Validated records into the store, through the plan and the group commit.
async fn store_records(
    kind: IngestKind,
    state: &AppState,
    token: &ApiToken,
    parsed: Vec<opsdeck_sources::ingest::Parsed>,
) -> Result<BatchResult, Refusal> {
    let planned = opsdeck_sync::ingest::plan(state.store.as_ref(), &token.source, parsed)
        .await
        .map_err(Refusal::from)?;
    let note = IngestNoteFor {
        source: token.source.clone(),
        kind: kind.api_name().to_string(),
        at: state.now(),
        note: IngestNote::Stored {
            records: planned.slots.len() as u64,
            newest: planned.records.iter().map(|r| r.updated_at()).max(),
        },
    };
    let outcomes = state
        .ingest
        .commit(planned.records, note)
        .await
        .map_err(|_| Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error"))?;
    drop(planned.guard);
    let mut outcomes = outcomes.into_iter();
    let results: Vec<RecordResult> = planned
        .slots
        .into_iter()
        .enumerate()
        .map(|(index, slot)| {
            let (outcome, seq) = match slot.stale {
                true => ("stale", None),
                false => match outcomes.next() {
                    Some(UpsertOutcome::Inserted { seq }) => ("inserted", Some(seq)),
                    Some(UpsertOutcome::Updated { seq }) => ("updated", Some(seq)),
                    Some(UpsertOutcome::Unchanged) => ("unchanged", None),
                    Some(UpsertOutcome::Stale) | None => ("stale", None),
                },
            };
            RecordResult {
                index,
                external_id: slot.external_id,
                outcome,
                seq,
            }
        })
        .collect();
    let count = |name: &str| results.iter().filter(|r| r.outcome == name).count();
    Ok(BatchResult {
        kind: kind.api_name(),
        source: token.source.to_string(),
        inserted: count("inserted"),
        updated: count("updated"),
        unchanged: count("unchanged"),
        stale: count("stale"),
        results,
    })
}

/// What counting a batch of funnel events did.
#[derive(Debug, Serialize)]
struct FunnelResult {
    kind: &'static str,
    source: String,
    events: usize,
    /// Session-days created or given a step they did not have yet.
    session_days_changed: u64,
    /// Session-days that already had every step these events report:
    /// repeated and duplicate events.
    session_days_unchanged: u64,
}

/// Funnel events are counted into session-days, not stored as records
/// (`opsdeck_sync::ingest::funnel`), in one transaction; the source's
/// ingest counters are noted like any stored batch.
async fn funnel_events(
    state: &AppState,
    token: &ApiToken,
    brand: &Brand,
    parsed: Vec<opsdeck_sources::ingest::Parsed>,
) -> Result<Response, Refusal> {
    let events: Vec<FunnelEvent> = parsed
        .into_iter()
        .filter_map(|p| match p {
            opsdeck_sources::ingest::Parsed::FunnelEvent(e) => Some(e),
            _ => None,
        })
        .collect();
    let now = state.now();
    let written = opsdeck_sync::ingest::funnel::count(state.store.as_ref(), &events, brand, now)
        .await
        .map_err(|error| match error {
            FunnelError::Invalid { message, errors } => Refusal {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message,
                errors,
            },
            FunnelError::Store(error) => {
                tracing::error!(%error, "counting funnel events failed");
                Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
            }
        })?;
    let note = IngestNote::Stored {
        records: events.len() as u64,
        newest: events.iter().map(|e| e.occurred_at).max(),
    };
    let kind = IngestKind::FunnelEvents.api_name();
    if let Err(error) = state
        .store
        .note_ingest(&token.source, kind, now, &note)
        .await
    {
        tracing::warn!(%error, "could not update ingest health counters");
    }
    Ok(Json(FunnelResult {
        kind,
        source: token.source.to_string(),
        events: events.len(),
        session_days_changed: written.changed,
        session_days_unchanged: written.unchanged,
    })
    .into_response())
}

fn batch_records(document: &Value) -> Result<&Vec<Value>, Refusal> {
    let bad = |m: &str| Refusal::new(StatusCode::BAD_REQUEST, m);
    let Value::Object(map) = document else {
        return Err(bad("body must be a JSON object {\"records\": [...]}"));
    };
    if let Some(key) = map.keys().find(|k| k.as_str() != "records") {
        return Err(bad(&format!(
            "unknown field {:?}; the body is {{\"records\": [...]}}",
            opsdeck_domain::bounds::excerpt(key)
        )));
    }
    let records = match map.get("records") {
        Some(Value::Array(records)) => records,
        Some(other) => {
            return Err(bad(&format!(
                "records must be an array, got {}",
                reader::type_name(other)
            )))
        }
        None => return Err(bad("records is missing; the body is {\"records\": [...]}")),
    };
    if records.len() > MAX_RECORDS {
        return Err(Refusal::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "batch has {} records; the limit is {MAX_RECORDS} per request",
                records.len()
            ),
        ));
    }
    Ok(records)
}

fn token_brand<'a>(state: &'a AppState, brand: &BrandId) -> Result<&'a Brand, Refusal> {
    state.brands.iter().find(|b| &b.id == brand).ok_or_else(|| {
        Refusal::new(
            StatusCode::FORBIDDEN,
            format!("the token's brand {brand} is not configured"),
        )
    })
}

impl From<BatchRefusal> for Refusal {
    fn from(refusal: BatchRefusal) -> Self {
        match refusal {
            BatchRefusal::ForeignBrand(message) => Refusal::new(StatusCode::FORBIDDEN, message),
            BatchRefusal::Invalid { message, errors } => Refusal {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message,
                errors,
            },
        }
    }
}

impl From<PlanError> for Refusal {
    fn from(error: PlanError) -> Self {
        match error {
            PlanError::Store(error) => {
                tracing::error!(%error, "reading an order for a partial update failed");
                Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
            }
            PlanError::NotRecords { index } => Refusal::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!(
                    "records[{index}] is a funnel event: send it to /api/v1/ingest/funnel-events"
                ),
            ),
            PlanError::MissingOrders { message, errors } => Refusal {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                message,
                errors,
            },
        }
    }
}
