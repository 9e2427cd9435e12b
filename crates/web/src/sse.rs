//! `GET /events`: Server-Sent Events telling open dashboards that the
//! projection changed. Each `changed` event carries the projection's change
//! sequence; `static/live.js` then re-fetches the tiles (HTML fragments) and
//! swaps them in. The stream holds no lock between checks: it reads the
//! sequence once a second, so a thousand open tabs cost a thousand integer
//! reads a second, and sends nothing while nothing changes (but a comment
//! every 15 s keeps proxies from closing the connection).

use crate::auth::rules::Routes;
use crate::auth::Permission;
use crate::AppState;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
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

async fn events(
    State(state): State<AppState>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>>> {
    let start = sequence(&state);
    // The first event says where the client starts, so it can tell a change
    // that happened while it was connecting.
    let first = Event::default().event("hello").data(start.to_string());
    let changes = stream::unfold((state, start), |(state, mut seen)| async move {
        loop {
            tokio::time::sleep(POLL).await;
            let now = sequence(&state);
            if now != seen {
                seen = now;
                let event = Event::default().event("changed").data(now.to_string());
                return Some((Ok(event), (state, seen)));
            }
        }
    });
    let stream = stream::once(async move { Ok(first) }).chain(changes);
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
