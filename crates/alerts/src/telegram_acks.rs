//! Acknowledging from Telegram: the long-polling loop that turns an
//! "Acknowledge" button press into the same acknowledgement the API makes.
//!
//! Only the process holding the alert lease polls: Telegram allows one
//! `getUpdates` caller per bot and answers any other with 409 Conflict, so
//! [`run`] waits on the runner's [`crate::runner::Runner::leading`] flag
//! before each poll. Acknowledging is a store action, so whichever process
//! polls, the ack is the same.

use crate::actions::AckOutcome;
use crate::notify::telegram::{ButtonPress, TelegramUpdates};
use crate::service::{AlertError, AlertService};
use std::time::Duration;

/// Handles one press: `ack:<episode id>` acknowledges; the answer shown
/// in Telegram says what happened.
pub async fn handle_press(service: &AlertService, press: &ButtonPress) -> String {
    let Some(episode) = press.data.strip_prefix("ack:") else {
        return "Unknown button".into();
    };
    let now = service.now();
    let who = crate::actions::Actor::new(press.by.clone(), "telegram");
    match service.acknowledge(episode, &who, now).await {
        Ok(AckOutcome::Acknowledged) => "Acknowledged".into(),
        Ok(AckOutcome::AlreadyAcknowledged { by }) => format!("Already acknowledged by {by}"),
        Err(AlertError::NotOpen { state, .. }) => format!("This alert is already {state}"),
        Err(AlertError::NoSuchEpisode(_)) => "Unknown alert".into(),
        Err(e) => {
            tracing::error!(error = %e, "acknowledgement from Telegram failed");
            "Could not acknowledge; try again".into()
        }
    }
}

/// One poll: fetch presses (waiting up to `wait`), handle each, answer it.
/// Returns how many presses were handled.
pub async fn poll_once(
    service: &AlertService,
    updates: &mut TelegramUpdates,
    wait: Duration,
) -> Result<usize, crate::notify::telegram::PollError> {
    let presses = updates.poll(wait).await?;
    for press in &presses {
        let answer = handle_press(service, press).await;
        if let Err(e) = updates.answer(&press.callback_query_id, &answer).await {
            tracing::warn!(error = %e, "answerCallbackQuery failed");
        }
    }
    Ok(presses.len())
}

/// How long to wait after a failed poll: what Telegram asked for in a 429
/// (`retry_after`), else 5 s.
pub fn pause_after(e: &crate::notify::telegram::PollError) -> Duration {
    e.retry_after().unwrap_or(Duration::from_secs(5))
}

/// Polls while `leading` is true, until `stop` resolves; waits after a
/// failed poll as [`pause_after`] says. A poll under way when leadership is lost finishes (at most
/// `wait`); the next one waits for the lease to come back.
pub async fn run(
    service: &AlertService,
    mut updates: TelegramUpdates,
    wait: Duration,
    mut leading: tokio::sync::watch::Receiver<bool>,
    stop: impl std::future::Future<Output = ()>,
) {
    tokio::pin!(stop);
    loop {
        tokio::select! {
            _ = &mut stop => return,
            changed = leading.wait_for(|l| *l) => {
                if changed.is_err() {
                    // The runner is gone: nobody will say we lead again.
                    return;
                }
            }
        }
        tokio::select! {
            _ = &mut stop => return,
            result = poll_once(service, &mut updates, wait) => {
                if let Err(e) = result {
                    let pause = pause_after(&e);
                    tracing::warn!(error = %e, pause_s = pause.as_secs(), "Telegram poll failed; retrying");
                    tokio::select! {
                        _ = &mut stop => return,
                        _ = tokio::time::sleep(pause) => {}
                    }
                }
            }
        }
    }
}
