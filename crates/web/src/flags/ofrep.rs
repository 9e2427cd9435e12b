//! The `OpenFeature` Remote Evaluation Protocol (OFREP) for storefronts:
//! `POST /ofrep/v1/evaluate/flags` (every flag for one context, with an
//! `ETag`; `If-None-Match` gets 304), `POST /ofrep/v1/evaluate/flags/{key}`
//! (one flag; 404 `FLAG_NOT_FOUND` for an unknown key) and
//! `GET /ofrep/v1/configuration` (the polling interval).
//!
//! The shapes follow the protocol's OpenAPI document (a copy is in
//! `fixtures/ofrep/openapi.yaml`): a success is `{key, value, reason,
//! variant, metadata}`, a failure `{key, errorCode, errorDetails}`, a
//! request body `{"context": {"targetingKey": …, …}}`. The sales pause
//! reads the context's `country` (ISO 3166-1 alpha-2) or `region`.
//!
//! No login: a read-only storefront key (`ofk_…`, stored hashed like the
//! ingest tokens) in `Authorization: Bearer` or `X-API-Key`, as OFREP
//! allows; without a valid one, 401. Every request draws on its address's
//! rate before its key is looked up, so guessing keys is slow (429 with
//! `Retry-After`).
//!
//! The `ETag` is a hash of the answer itself, not of a stored version: a
//! flag reaching its automatic end changes the answer (and the tag) at that
//! moment, before the background step records the end.

use crate::auth::ClientInfo;
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use opsdeck_operations::flags::{evaluate, evaluate_all, EvalContext, Evaluation, FlagKey};
use opsdeck_store::flags::KeyCheck;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// The header OFREP names for an API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// An OFREP error answer: `{errorCode?, errorDetails}` with a status.
fn error(status: StatusCode, body: Value) -> Response {
    (status, Json(body)).into_response()
}

fn general(status: StatusCode, details: &str) -> Response {
    error(status, json!({ "errorDetails": details }))
}

/// The storefront key of a request, within its address's rate; the answer
/// to send instead when refused.
async fn authorize(
    state: &AppState,
    client: &ClientInfo,
    headers: &HeaderMap,
) -> Result<(), Response> {
    let limiter = &state.auth.limiter;
    let now = state.now();
    if let Some(ip) = client.rate_key() {
        let per_minute = limiter.rates().ingest_per_minute_per_ip;
        if let Err(retry) = limiter.take(&format!("ofrep-ip:{ip}"), per_minute, now) {
            let mut response = general(
                StatusCode::TOO_MANY_REQUESTS,
                &format!("more than {per_minute} requests a minute from this address"),
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(retry.seconds()));
            return Err(response);
        }
    }
    let unauthorized = |why: &str| {
        tracing::info!(reason = why, "OFREP request refused");
        let mut response = general(
            StatusCode::UNAUTHORIZED,
            "missing or invalid storefront key: send `Authorization: Bearer ofk_…` or `X-API-Key: ofk_…`",
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        response
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        });
    let api_key = headers.get(API_KEY_HEADER).and_then(|v| v.to_str().ok());
    let Some(presented) = bearer.or(api_key).map(str::trim) else {
        return Err(unauthorized("no key"));
    };
    match state.store.verify_storefront_key(presented, now).await {
        Ok(KeyCheck::Valid(_)) => Ok(()),
        Ok(KeyCheck::Invalid) => Err(unauthorized("unknown key or wrong secret")),
        Ok(KeyCheck::Revoked) => Err(unauthorized("revoked key")),
        Err(e) => {
            tracing::error!(error = %e, "storefront key lookup failed");
            Err(general(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal server error",
            ))
        }
    }
}

/// A request OFREP answers 400: its `errorCode` and why.
struct BadRequest {
    code: &'static str,
    details: String,
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        error(
            StatusCode::BAD_REQUEST,
            json!({ "errorCode": self.code, "errorDetails": self.details }),
        )
    }
}

/// The evaluation context of a request body, or why not.
fn context(body: &[u8]) -> Result<EvalContext, BadRequest> {
    let bad = |code: &'static str, details: String| BadRequest { code, details };
    let value: Value = serde_json::from_slice(body)
        .map_err(|e| bad("PARSE_ERROR", format!("the body is not JSON: {e}")))?;
    let Some(ctx) = value.get("context") else {
        return Err(bad(
            "INVALID_CONTEXT",
            "the body has no `context` object".into(),
        ));
    };
    let Some(ctx) = ctx.as_object() else {
        return Err(bad("INVALID_CONTEXT", "`context` is not an object".into()));
    };
    let text = |name: &str| -> Result<Option<String>, BadRequest> {
        match ctx.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) if s.len() <= 256 => Ok(Some(s.clone())),
            Some(_) => Err(bad(
                "INVALID_CONTEXT",
                format!("`context.{name}` must be a string of at most 256 bytes"),
            )),
        }
    };
    Ok(EvalContext {
        targeting_key: text("targetingKey")?,
        country: text("country")?,
        region: text("region")?,
    })
}

/// One evaluation as OFREP writes it.
fn wire(evaluation: &Evaluation) -> Value {
    match evaluation {
        Evaluation::Value {
            key,
            value,
            reason,
            variant,
            metadata,
        } => json!({
            "key": key.as_str(),
            "value": value,
            "reason": reason.as_str(),
            "variant": variant,
            "metadata": metadata,
        }),
        Evaluation::InvalidContext { key, details } => json!({
            "key": key.as_str(),
            "errorCode": "INVALID_CONTEXT",
            "errorDetails": details,
        }),
    }
}

/// A strong `ETag` of `body`.
fn etag_of(body: &[u8]) -> String {
    let digest = Sha256::digest(body);
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("\"{hex}\"")
}

/// Whether `If-None-Match` names `etag` (or `*`); weak tags compare equal
/// to their strong form, as RFC 9110 has it for this header.
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == etag)
}

/// `body` as JSON with its `ETag`, or 304 when the client has it.
fn cached(headers: &HeaderMap, body: &Value) -> Response {
    let bytes = body.to_string().into_bytes();
    let etag = etag_of(&bytes);
    let tag = HeaderValue::from_str(&etag).unwrap_or_else(|_| HeaderValue::from_static("\"\""));
    if not_modified(headers, &etag) {
        return (StatusCode::NOT_MODIFIED, [(header::ETAG, tag)]).into_response();
    }
    (
        StatusCode::OK,
        [
            (header::ETAG, tag),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
        ],
        bytes,
    )
        .into_response()
}

pub(crate) async fn evaluate_bulk(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = authorize(&state, &client, &headers).await {
        return refusal;
    }
    let ctx = match context(&body) {
        Ok(ctx) => ctx,
        Err(refusal) => return refusal.into_response(),
    };
    let flags = match state.store.flags().await {
        Ok(flags) => flags,
        Err(e) => {
            tracing::error!(error = %e, "reading flags failed");
            return general(StatusCode::INTERNAL_SERVER_ERROR, "internal server error");
        }
    };
    let now = state.now();
    let evaluations: Vec<Value> = evaluate_all(&flags, &ctx, now).iter().map(wire).collect();
    let version: i64 = flags.iter().map(|f| f.version).sum();
    let mut metadata = Map::new();
    metadata.insert("flagSetId".into(), json!("opsdeck"));
    metadata.insert("changes".into(), json!(version));
    cached(
        &headers,
        &json!({ "flags": evaluations, "metadata": metadata }),
    )
}

pub(crate) async fn evaluate_one(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    Path(key): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(refusal) = authorize(&state, &client, &headers).await {
        return refusal;
    }
    let ctx = match context(&body) {
        Ok(ctx) => ctx,
        Err(refusal) => return refusal.into_response(),
    };
    let Some(flag_key) = FlagKey::known(&key) else {
        let shown = crate::audit::bounded(&key, 100);
        return error(
            StatusCode::NOT_FOUND,
            json!({ "key": shown, "errorCode": "FLAG_NOT_FOUND", "errorDetails": format!("Flag '{shown}' was not found") }),
        );
    };
    let flags = match state.store.flags().await {
        Ok(flags) => flags,
        Err(e) => {
            tracing::error!(error = %e, "reading flags failed");
            return general(StatusCode::INTERNAL_SERVER_ERROR, "internal server error");
        }
    };
    let evaluation = evaluate(
        &flag_key,
        flags.iter().find(|f| f.key == flag_key),
        &ctx,
        state.now(),
    );
    let status = match evaluation {
        Evaluation::Value { .. } => StatusCode::OK,
        Evaluation::InvalidContext { .. } => StatusCode::BAD_REQUEST,
    };
    (status, Json(wire(&evaluation))).into_response()
}

pub(crate) async fn configuration(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
) -> Response {
    if let Err(refusal) = authorize(&state, &client, &headers).await {
        return refusal;
    }
    let interval_ms = u64::from(state.flags.settings.polling_interval_seconds.max(1)) * 1000;
    cached(
        &headers,
        &json!({
            "name": "opsdeck",
            "capabilities": {
                "cacheInvalidation": { "polling": { "enabled": true, "minPollingIntervalMs": interval_ms } },
                "flagEvaluation": { "supportedTypes": ["boolean", "string"] },
                "caching": { "enabled": false },
            },
        }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_star() {
        let tag = etag_of(b"{}");
        let headers = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::IF_NONE_MATCH, HeaderValue::from_str(v).unwrap());
            h
        };
        assert!(not_modified(&headers(&tag), &tag));
        assert!(not_modified(&headers(&format!("\"x\", W/{tag}")), &tag));
        assert!(not_modified(&headers("*"), &tag));
        assert!(!not_modified(&headers("\"x\""), &tag));
        assert!(!not_modified(&HeaderMap::new(), &tag));
    }
}
