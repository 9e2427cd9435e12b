//! `/api/v1/privacy/requests`: the list for a person's session, and the
//! filing of a request by a custom platform's ingest token.

use super::service;
use crate::auth::{ClientInfo, CurrentUser};
use crate::{AppState, Error};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use opsdeck_domain::privacy::{DataSubject, PrivacyRequestKind, PrivacyVia};
use opsdeck_operations::incidents::Actor;
use opsdeck_operations::privacy::{NewPrivacyRequest, RequestView, INGEST_KIND};
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) async fn list(
    State(state): State<AppState>,
    _user: CurrentUser,
) -> Result<Json<Value>, Error> {
    let svc = service(&state)?;
    let now = state.now();
    let requests: Vec<RequestView> = svc
        .list(500)
        .await?
        .iter()
        .map(|r| RequestView::of(r, now))
        .collect();
    Ok(Json(json!({ "requests": requests })))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct FileBody {
    /// The platform's id of the request: filing it again is a no-op.
    request_id: String,
    /// `export` or `erasure`.
    kind: String,
    #[serde(default)]
    customer_id: Option<String>,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    phone: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    order_ids: Vec<String>,
}

/// `POST /api/v1/privacy/requests`: 202 with the request's id (200 when
/// the same `request_id` was filed before); 400 naming the field;
/// 401/403/429 as every ingest request.
pub(crate) async fn file(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Json<FileBody>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let token = match crate::ingest::authorize_kind(&state, &client, &headers, INGEST_KIND).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let result = async {
        let svc = service(&state)?;
        let Json(b) = body.map_err(|e| Error::BadRequest(format!("body: {}", e.body_text())))?;
        let kind = match b.kind.as_str() {
            "export" => PrivacyRequestKind::Export,
            "erasure" => PrivacyRequestKind::Erasure,
            other => {
                return Err(Error::BadRequest(format!(
                    "kind: {other:?} is not a privacy request kind: use export or erasure"
                )))
            }
        };
        let id = b.request_id.trim();
        if id.is_empty() || id.chars().count() > 200 {
            return Err(Error::BadRequest(
                "request_id: required, at most 200 characters".into(),
            ));
        }
        let actor = Actor {
            name: format!("token:{}", token.id),
            ip: client.ip.map(|ip| ip.to_string()),
        };
        let new = NewPrivacyRequest {
            kind,
            via: PrivacyVia::Ingest,
            brand: token.brand.clone(),
            subject: DataSubject {
                customer_id: b.customer_id,
                email: b.email,
                phone: b.phone,
                name: b.name,
                order_ids: b.order_ids,
            },
            source: token.source.to_string(),
            request_key: Some(format!("ingest:{id}")),
        };
        let filed = svc.file(new, &actor, state.now()).await?;
        Ok::<_, Error>(filed)
    }
    .await;
    match result {
        Ok(filed) if filed.duplicate => {
            (StatusCode::OK, Json(json!({"duplicate": true}))).into_response()
        }
        Ok(filed) => (
            StatusCode::ACCEPTED,
            Json(json!({"id": filed.id, "duplicate": false})),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
