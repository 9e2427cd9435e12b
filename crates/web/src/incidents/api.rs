//! Incidents as JSON: the list for a logged-in reader, the declaration by
//! a platform with its ingest token, and the public status document.

use crate::auth::ClientInfo;
use crate::{AppState, Error};
use axum::extract::{Extension, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use opsdeck_operations::incidents::{
    Actor, Declaration, DeclaredVia, Incident, Severity, INGEST_KIND,
};
use serde::Deserialize;
use serde_json::json;

fn incident_json(state: &AppState, i: &Incident, now: jiff::Timestamp) -> serde_json::Value {
    let policy = state.incidents.policies().get(i.severity);
    let times = i.times();
    json!({
        "id": i.id,
        "title": i.title,
        "severity": i.severity,
        "state": i.state,
        "brand": i.brand,
        "declared_at": i.declared_at,
        "declared_by": i.declared_by,
        "acknowledged_at": i.acknowledged_at,
        "reached": i.reached,
        "merged_into": i.merged_into,
        "response_due": i.response_due(policy),
        "breached": i.breached(policy, now),
        "time_to_acknowledge_s": times.to_acknowledge.map(|d| d.as_secs()),
        "time_to_mitigate_s": times.to_mitigate.map(|d| d.as_secs()),
        "time_to_resolve_s": times.to_resolve.map(|d| d.as_secs()),
        "url": format!("/incidents/{}", i.id),
    })
}

/// `GET /api/v1/incidents`: recent incidents, newest first, and the
/// figures per severity.
pub(crate) async fn list(State(state): State<AppState>) -> Result<Json<serde_json::Value>, Error> {
    let now = state.now();
    let incidents = state.incidents.list(false).await?;
    let report = state.incidents.report().await?;
    Ok(Json(json!({
        "incidents": incidents.iter().filter(|i| super::in_scope(i)).map(|i| incident_json(&state, i, now)).collect::<Vec<_>>(),
        "report": report,
    })))
}

/// The body of `POST /api/v1/incidents`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeclareBody {
    title: String,
    severity: String,
    /// A first update: what the platform sees.
    #[serde(default)]
    summary: Option<String>,
    /// Whether `summary` is shown on the public status page.
    #[serde(default)]
    public: bool,
}

/// `POST /api/v1/incidents`: a platform declares an incident for its
/// token's brand. 201 with the incident; 400 naming the field and its
/// bound; 401/403/429 as every ingest request.
pub(crate) async fn declare(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Json<DeclareBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let token = match crate::ingest::authorize_kind(&state, &client, &headers, INGEST_KIND).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let result = async {
        let Json(body) = body.map_err(|e| Error::BadRequest(format!("body: {}", e.body_text())))?;
        let severity = Severity::parse(body.severity.trim()).map_err(Error::BadRequest)?;
        if let Some(s) = &body.summary {
            if s.chars().count() > 5000 {
                return Err(Error::BadRequest("summary: at most 5000 characters".into()));
            }
        }
        let actor = Actor {
            name: format!("token:{}", token.id),
            ip: client.ip.map(|ip| ip.to_string()),
        };
        let d = Declaration {
            title: body.title,
            severity,
            brand: Some(token.brand.to_string()),
            alerts: Vec::new(),
            via: DeclaredVia::Api {
                token: token.id.clone(),
            },
            summary: body.summary.map(|s| (s, body.public)),
        };
        let incident = state.incidents.declare(d, &actor).await?;
        Ok::<_, Error>(incident)
    }
    .await;
    match result {
        Ok(i) => (
            StatusCode::CREATED,
            Json(incident_json(&state, &i, state.now())),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}

/// `GET /status.json`: the public status document (no login).
pub(crate) async fn status(State(state): State<AppState>) -> Result<Response, Error> {
    let scopes = super::pages::scopes(&state);
    let page = state
        .incidents
        .status_page(
            &state.incidents.status_name,
            state.incidents.dashboard_url(),
            &scopes,
        )
        .await?;
    let mut response = Json(page).into_response();
    // Status widgets on other origins read it; it holds nothing private.
    response.headers_mut().insert(
        axum::http::header::ACCESS_CONTROL_ALLOW_ORIGIN,
        axum::http::HeaderValue::from_static("*"),
    );
    response.headers_mut().insert(
        axum::http::header::CACHE_CONTROL,
        axum::http::HeaderValue::from_static("public, max-age=30"),
    );
    Ok(response)
}
