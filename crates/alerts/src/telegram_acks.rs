//! Acknowledging from Telegram: the long-polling loop that turns an
//! "Acknowledge" button press into the same acknowledgement the API makes.
//!
//! Only the process holding the alert lease polls: Telegram allows one
//! `getUpdates` caller per bot and answers any other with 409 Conflict, so
//! [`run`] waits on the runner's [`crate::runner::Runner::leading`] flag
//! before each poll. Acknowledging is a store action, so whichever process
//! polls, the ack is the same.
//!
//! A press counts only from the configured chat (and, when
//! `allowed_user_ids` is set, from a listed user): a button forwarded to
//! another chat would otherwise let anyone acknowledge. A refused press is
//! answered as refused and audited, like an accepted one.

use crate::actions::{self, AckOutcome, Actor};
use crate::evaluate::Via;
use crate::notify::telegram::{ButtonPress, TelegramConfig, TelegramUpdates};
use crate::service::{AlertError, AlertService};
use opsdeck_store::AuditAction;
use serde_json::json;
use std::time::Duration;

/// Who pressed, as the audit log keeps it: the name shown, and the
/// Telegram user and chat ids (a name can be changed, an id cannot).
fn presser(press: &ButtonPress) -> Actor {
    Actor::new(press.by.clone(), Via::Telegram).with_context(json!({
        "telegram_user_id": press.user_id,
        "telegram_chat_id": press.chat.as_ref().map(|c| c.id),
    }))
}

/// Handles one press: `ack:<episode id>` acknowledges when `config`
/// accepts the press (its chat, its users); the answer shown in Telegram
/// says what happened. Accepted and refused presses are both audited.
pub async fn handle_press(
    service: &AlertService,
    config: &TelegramConfig,
    press: &ButtonPress,
) -> String {
    let Some(episode) = press.data.strip_prefix("ack:") else {
        return "Unknown button".into();
    };
    let now = service.now();
    let who = presser(press);
    if let Some(refusal) = config.refuses(press) {
        tracing::warn!(
            user_id = ?press.user_id,
            chat_id = ?press.chat.as_ref().map(|c| c.id),
            %episode,
            "Telegram button press refused: {refusal}"
        );
        if let Err(e) = actions::refused(
            service.store().as_ref(),
            AuditAction::AlertAcknowledgeRefused,
            episode,
            &who,
            refusal,
            now,
        )
        .await
        {
            tracing::error!(error = %e, "could not audit a refused Telegram press");
        }
        return refusal.into();
    }
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

/// One poll: fetch presses (waiting up to `wait`), handle each (an
/// Acknowledge here, another button by its
/// [`crate::notify::telegram::PressHandler`]), answer it.
/// Returns how many presses were handled.
pub async fn poll_once(
    service: &AlertService,
    updates: &mut TelegramUpdates,
    wait: Duration,
) -> Result<usize, crate::notify::telegram::PollError> {
    let presses = updates.poll(wait).await?;
    for press in &presses {
        let answer = match updates.handler_for(press) {
            Some(handler) => handler.handle(press, updates.config().refuses(press)).await,
            None => handle_press(service, updates.config(), press).await,
        };
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
