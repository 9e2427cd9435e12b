//! `GET /events`: Server-Sent Events telling open dashboards that the
//! projection changed. Each `changed` event carries the projection's change
//! sequence; `static/live.js` then re-fetches the tiles (HTML fragments) and
//! swaps them in. The stream holds no lock between checks: it reads the
//! sequence once a second, so a thousand open tabs cost a thousand integer
//! reads a second, and sends nothing while nothing changes (but a comment
//! every 15 s keeps proxies from closing the connection).
//!
//! A session may hold at most `sse_streams_per_session` streams open at
//! once (8 by default: tabs of one person); one more is answered 429 with
//! `Retry-After`, so one stolen or scripted session cannot hold thousands
//! of connections. A stream gives its place back when it closes.

use crate::auth::rules::Routes;
use crate::auth::{CurrentUser, Permission};
use crate::{AppState, Error};
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::time::Duration;

/// How often the stream checks the projection's sequence.
const POLL: Duration = Duration::from_secs(1);

pub(crate) fn router() -> Routes {
    Routes::new().get("/events", Permission::ViewDashboard, events)
}

fn sequence(state: &AppState) -> u64 {
    state
        .projection
        .read()
        .map(|p| p.last_seq)
        .unwrap_or_else(|e| e.into_inner().last_seq)
}

/// Seconds a refused stream is told to wait before trying again.
const RETRY_AFTER_S: u64 = 30;

async fn events(State(state): State<AppState>, user: CurrentUser) -> Response {
    let session = opsdeck_accounts::session::id_hash(&user.csrf_token);
    let Some(slot) = state.auth.limiter.open_stream(&session) else {
        let limit = state.auth.limiter.rates().sse_streams_per_session;
        tracing::info!(user = %user.username, limit, "live stream refused: too many open");
        return Error::TooManyRequests {
            message: format!(
                "this session already has {limit} live-update streams open; close a tab"
            ),
            retry_after_s: RETRY_AFTER_S,
        }
        .into_response();
    };
    stream(state, slot).into_response()
}

fn stream(
    state: AppState,
    slot: opsdeck_accounts::limiter::StreamSlot,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let start = sequence(&state);
    // The first event says where the client starts, so it can tell a change
    // that happened while it was connecting.
    let first = Event::default().event("hello").data(start.to_string());
    // The slot travels with the stream and is dropped with it.
    let changes = stream::unfold((state, start, slot), |(state, mut seen, slot)| async move {
        loop {
            tokio::time::sleep(POLL).await;
            let now = sequence(&state);
            if now != seen {
                seen = now;
                let event = Event::default().event("changed").data(now.to_string());
                return Some((Ok(event), (state, seen, slot)));
            }
        }
    });
    let stream = stream::once(async move { Ok(first) }).chain(changes);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
