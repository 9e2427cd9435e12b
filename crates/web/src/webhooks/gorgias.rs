//! `POST /webhooks/gorgias`: the helpdesk's HTTP-integration events
//! (ticket created, ticket updated, message created), received durably.
//!
//! Gorgias signs nothing: the merchant sets up the integration with a
//! secret, in the URL (`?secret=`) or in a header they add
//! (`X-Opsdeck-Secret`). The order of checks:
//! 1. the body is read whole (at most [`MAX_BODY`]; larger is 413);
//! 2. the secret must equal the configured one, compared in constant time
//!    ([`secret_matches`], the connector's), before anything looks at the
//!    body; otherwise 401, nothing stored, and
//!    the log says why, never a secret or the body;
//! 3. the event must parse and its records map to the domain
//!    ([`opsdeck_sources::gorgias::events`]); otherwise 400 with the reason
//!    (naming the field), nothing stored;
//! 4. the raw event is committed to the webhook inbox under the topic
//!    `gorgias/{event}`, and only then answered 200; a repeat of the same
//!    body is stored once. If the store fails, 503 (Gorgias retries).
//!
//! The inbox worker applies it with the sync's own attribution, so a new
//! ticket shows on the dashboard within a second or so; the polling sync
//! still runs, as reconciliation.

use super::{answer, header, MAX_BODY};
use crate::auth::rules::{Access, Routes};
use crate::AppState;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Query, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use axum::routing::post;
use opsdeck_domain::{Secret, SourceId};
use opsdeck_sources::gorgias::events::{parse_event, secret_matches};
use opsdeck_sources::gorgias::normalize::parse_time;
use opsdeck_store::InboxEvent;
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// The header a merchant may put the secret in instead of the URL.
pub const SECRET_HEADER: &str = "x-opsdeck-secret";

/// The helpdesk whose events are accepted. Debug never prints the secret.
#[derive(Clone)]
pub struct GorgiasIntake {
    /// Stamped on the stored events, e.g. `gorgias`.
    pub source: SourceId,
    /// What the integration sends in `?secret=` or `X-Opsdeck-Secret`.
    pub secret: Secret,
}

impl std::fmt::Debug for GorgiasIntake {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GorgiasIntake")
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// The URL's query: the secret and the event kind, either optional.
#[derive(Deserialize)]
struct Params {
    secret: Option<String>,
    event: Option<String>,
}

/// Public: the shared secret is the credential, checked by the handler.
pub(super) fn router() -> Routes {
    Routes::new().route(
        "/webhooks/gorgias",
        Method::POST,
        Access::Public,
        post(receive).layer(DefaultBodyLimit::max(MAX_BODY)),
    )
}

fn refused(why: &str) -> Response {
    super::count_delivery("gorgias", "refused");
    tracing::warn!(reason = why, "gorgias event refused");
    answer(StatusCode::UNAUTHORIZED, "error", "secret not valid")
}

#[tracing::instrument(skip_all, fields(event))]
async fn receive(
    State(state): State<AppState>,
    Query(params): Query<Params>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some((receiver, intake)) = state
        .webhooks
        .as_ref()
        .and_then(|r| r.gorgias.as_ref().map(|g| (r, g)))
    else {
        return answer(
            StatusCode::NOT_FOUND,
            "error",
            "Gorgias events are not configured ([gorgias] webhook_secret_env)",
        );
    };
    let given = header(&headers, SECRET_HEADER).or(params.secret.as_deref());
    let Some(given) = given else {
        return refused("no secret in ?secret= or X-Opsdeck-Secret");
    };
    if !secret_matches(&intake.secret, given) {
        return refused("secret does not match");
    }

    // Authentic from here on: now the body may be looked at.
    let Ok(text) = std::str::from_utf8(&body) else {
        return bad_request("body is not UTF-8 JSON".into());
    };
    let event = match parse_event(&intake.source, text, params.event.as_deref()) {
        Ok(event) => event,
        Err(reason) => return bad_request(reason),
    };
    tracing::Span::current().record("event", event.kind.as_str());
    // The same body twice is the same event: stored once.
    let digest = Sha256::digest(text.as_bytes());
    let webhook_id: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    let changed_at = event
        .message
        .as_ref()
        .and_then(|m| m.get("created_datetime"))
        .or_else(|| {
            event
                .ticket
                .as_ref()
                .and_then(|t| t.get("updated_datetime"))
        })
        .and_then(|t| t.as_str())
        .and_then(parse_time);
    let stored = InboxEvent {
        source: intake.source.clone(),
        shop_domain: String::new(),
        webhook_id,
        event_id: None,
        topic: event.kind.topic(),
        api_version: None,
        triggered_at: changed_at,
        received_at: state.now(),
        body: text.to_string(),
    };
    receiver.journal(stored, "event", "gorgias").await
}

fn bad_request(reason: String) -> Response {
    super::count_delivery("gorgias", "refused");
    tracing::warn!(%reason, "gorgias event rejected");
    answer(StatusCode::BAD_REQUEST, "error", &reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_hides_the_secret() {
        let secret = Secret::new("s3cret-value");
        let intake = GorgiasIntake {
            source: SourceId::parse("gorgias").unwrap(),
            secret,
        };
        assert!(!format!("{intake:?}").contains("s3cret"));
    }
}
