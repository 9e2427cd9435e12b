//! `Authorization: Bearer odk_…`: which token, and may it write this kind.
//! Every refusal of the token itself is the same 401 (the reason is logged,
//! not told), so a caller cannot probe which token ids exist.

use super::{IngestKind, Refusal};
use crate::AppState;
use axum::http::{header, HeaderMap, StatusCode};
use opsdeck_store::{ApiToken, TokenCheck};

pub(super) async fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    kind: IngestKind,
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
    if !token.kinds.allows(kind.api_name()) {
        return Err(Refusal::new(
            StatusCode::FORBIDDEN,
            format!(
                "token {} may not write {}; it may write: {}",
                token.id,
                kind.api_name(),
                token.kinds
            ),
        ));
    }
    Ok(token)
}
