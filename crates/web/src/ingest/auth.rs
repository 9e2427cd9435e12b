//! `Authorization: Bearer odk_…`: which token, and may it write this kind.
//! Every refusal of the token itself is the same 401 (the reason is logged,
//! not told), so a caller cannot probe which token ids exist.
//!
//! Rates: every request from one address draws on that address's bucket
//! before its token is even looked up (so guessing tokens is slowed), and
//! every request with a valid token on the token's bucket; over either is
//! 429 with `Retry-After` (`[security]` `ingest_requests_per_minute_*`).

use super::Refusal;
use crate::auth::ClientInfo;
use crate::AppState;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use opsdeck_accounts::RetryAfter;
use opsdeck_store::{ApiToken, IngestNote, TokenCheck};

fn too_many(what: &str, per_minute: u32, retry: RetryAfter) -> Response {
    tracing::info!(
        limit = what,
        per_minute,
        retry_s = retry.seconds(),
        "ingest request throttled"
    );
    let mut response = Refusal::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!(
            "more than {per_minute} ingest requests a minute {what}; \
             retry after {} s (batch up to {} records per request)",
            retry.seconds(),
            super::MAX_RECORDS
        ),
    )
    .into_response();
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry.seconds()));
    response
}

/// A source whose pushes are throttled is falling behind: say so on its
/// health (as a refused request with the reason), at most once a minute
/// per token, so the note itself cannot become a write per request.
async fn note_throttled(
    state: &AppState,
    token: &ApiToken,
    kind: &str,
    per_minute: u32,
    now: opsdeck_domain::Timestamp,
) {
    let limiter = &state.auth.limiter;
    if limiter
        .take(&format!("ingest-throttle-note:{}", token.id), 1, now)
        .is_err()
    {
        return;
    }
    tracing::warn!(token = %token.id, source = %token.source, per_minute, "ingest token over its rate");
    let note = IngestNote::Refused {
        error: format!(
            "429 more than {per_minute} requests a minute with token {}: requests are being \
             refused until the rate drops (noted once a minute)",
            token.id
        ),
    };
    if let Err(error) = state
        .store
        .note_ingest(&token.source, kind, now, &note)
        .await
    {
        tracing::warn!(%error, "could not note the throttled ingest on source health");
    }
}

/// The token of an ingest request, within its rates; the response to send
/// instead when it is refused.
pub(super) async fn authorize(
    state: &AppState,
    client: &ClientInfo,
    headers: &HeaderMap,
    kind: &str,
) -> Result<ApiToken, Response> {
    let limiter = &state.auth.limiter;
    let rates = limiter.rates();
    let now = state.now();
    if let Some(ip) = client.rate_key() {
        let per_minute = rates.ingest_per_minute_per_ip;
        limiter
            .take(&format!("ingest-ip:{ip}"), per_minute, now)
            .map_err(|retry| too_many("from this address", per_minute, retry))?;
    }
    let token = check_token(state, headers, kind)
        .await
        .map_err(IntoResponse::into_response)?;
    let per_minute = rates.ingest_per_minute_per_token;
    if let Err(retry) = limiter.take(&format!("ingest-token:{}", token.id), per_minute, now) {
        note_throttled(state, &token, kind, per_minute, now).await;
        return Err(too_many("with this token", per_minute, retry));
    }
    Ok(token)
}

async fn check_token(
    state: &AppState,
    headers: &HeaderMap,
    kind: &str,
) -> Result<ApiToken, Refusal> {
    let unauthorized = |why: &str| {
        tracing::info!(reason = why, "ingest request refused");
        Refusal::new(
            StatusCode::UNAUTHORIZED,
            "missing or invalid API token: send `Authorization: Bearer odk_…` \
             (create one with `opsdeck token create`)",
        )
    };
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(unauthorized("no Authorization header"));
    };
    let presented = value
        .to_str()
        .ok()
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .ok_or_else(|| unauthorized("not a bearer token"))?;
    let check = state
        .store
        .verify_api_token(presented, state.now())
        .await
        .map_err(|error| {
            tracing::error!(%error, "token lookup failed");
            Refusal::new(StatusCode::INTERNAL_SERVER_ERROR, "internal server error")
        })?;
    let token = match check {
        TokenCheck::Valid(token) => token,
        TokenCheck::Invalid => return Err(unauthorized("unknown token or wrong secret")),
        TokenCheck::Revoked => return Err(unauthorized("revoked token")),
    };
    if !token.kinds.allows(kind) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "token {} may not write {}; it may write: {}",
                token.id, kind, token.kinds
            ),
        ));
    }
    Ok(token)
}
