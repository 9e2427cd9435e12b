//! The helpdesk's HTTP integration: when [`crate::Simulator::advance_to`]
//! moves the clock, every ticket created or changed and every message
//! created meanwhile becomes an event POSTed to the configured URL, the way
//! a Gorgias HTTP integration does for the triggers `ticket-created`,
//! `ticket-updated` and `ticket-message-created`, with the secret in the
//! `X-Opsdeck-Secret` header the merchant would add. The body is the
//! template README documents: `{"event", "ticket", "message"}` with the
//! API's objects. A non-2xx answer is retried a few times, then given up.

use super::plan::Helpdesk;
use super::wire;
use crate::Simulator;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;

const MAX_ATTEMPTS: u32 = 4;
const FIRST_RETRY: Duration = Duration::from_millis(50);

/// Where events go, and those waiting to be sent.
#[derive(Default)]
pub(crate) struct Integration {
    pub url: Option<String>,
    pub secret: String,
    pub outbox: VecDeque<Value>,
    pub wake: Arc<Notify>,
    pub in_flight: u32,
    pub delivered: u64,
    pub abandoned: u64,
}

/// The events of what happened in `(before, now]`, oldest first.
pub(crate) fn events(desk: &Helpdesk, before: i64, now: i64) -> Vec<(i64, Value)> {
    let mut events = Vec::new();
    for ticket in desk.tickets.iter().filter(|t| t.visible(now)) {
        let state = ticket.state(now);
        if state.updated_at <= before {
            continue;
        }
        let rendered = wire::ticket_json(ticket, now);
        let created = ticket.created_at > before;
        if created {
            events.push((
                ticket.created_at,
                json!({"event": "ticket-created", "ticket": rendered}),
            ));
        }
        let mut messaged = false;
        for m in ticket
            .messages
            .iter()
            .filter(|m| m.at > before && m.at <= now)
        {
            messaged = true;
            events.push((
                m.at,
                json!({
                    "event": "ticket-message-created",
                    "ticket": rendered,
                    "message": wire::message_json(ticket, m),
                }),
            ));
        }
        if !created && !messaged {
            events.push((
                state.updated_at,
                json!({"event": "ticket-updated", "ticket": rendered}),
            ));
        }
    }
    events.sort_by_key(|(at, _)| *at);
    events
}

/// Starts the sender on the caller's runtime.
pub(crate) fn start_sender(simulator: &Simulator) {
    tokio::spawn(send_loop(simulator.clone()));
}

async fn send_loop(simulator: Simulator) {
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("http client");
    let wake = simulator.lock().helpdesk.integration.wake.clone();
    loop {
        let next = {
            let mut world = simulator.lock();
            let integration = &mut world.helpdesk.integration;
            let next = integration.outbox.pop_front();
            if next.is_some() {
                integration.in_flight += 1;
            }
            next.map(|body| (body, integration.url.clone(), integration.secret.clone()))
        };
        let Some((body, Some(url), secret)) = next else {
            wake.notified().await;
            continue;
        };
        let mut ok = false;
        for attempt in 0..MAX_ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(FIRST_RETRY * (1 << (attempt - 1))).await;
            }
            let sent = http
                .post(&url)
                .header("Content-Type", "application/json")
                .header("X-Opsdeck-Secret", &secret)
                .body(body.to_string())
                .send()
                .await;
            if matches!(&sent, Ok(r) if r.status().is_success()) {
                ok = true;
                break;
            }
        }
        let mut world = simulator.lock();
        let integration = &mut world.helpdesk.integration;
        integration.in_flight -= 1;
        if ok {
            integration.delivered += 1;
        } else {
            integration.abandoned += 1;
            tracing::warn!(%url, "simulator gave up a Gorgias event");
        }
    }
}

impl Simulator {
    /// Sets up the helpdesk's HTTP integration: from now on every advance
    /// of the clock POSTs its ticket and message events to `url` with
    /// `secret` in `X-Opsdeck-Secret`. Call it on a Tokio runtime.
    pub fn set_gorgias_http_integration(&self, url: &str, secret: &str) {
        let start = {
            let mut world = self.lock();
            let integration = &mut world.helpdesk.integration;
            let first = integration.url.is_none();
            integration.url = Some(url.to_string());
            integration.secret = secret.to_string();
            first
        };
        if start {
            start_sender(self);
        }
    }

    /// Events delivered (2xx) and given up so far.
    pub fn gorgias_event_stats(&self) -> (u64, u64) {
        let world = self.lock();
        let i = &world.helpdesk.integration;
        (i.delivered, i.abandoned)
    }

    /// Waits until every queued event was delivered or given up; false if
    /// that takes longer than `timeout`.
    pub async fn wait_for_gorgias_events(&self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            {
                let world = self.lock();
                let i = &world.helpdesk.integration;
                if i.outbox.is_empty() && i.in_flight == 0 {
                    return true;
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}
