//! The audit log: every change a person makes, with who, what, on what,
//! the payload (never a secret), the client address and when.
//!
//! - [`record`] / [`record_for`]: the one path web handlers write through
//!   (logins, logouts, lockouts, decisions, settings). Alert actions write
//!   their entry inside the store transaction that makes the change
//!   (`opsdeck_alerts::actions`, with the [`Actor`] from
//!   [`CurrentUser::actor`]), and token/user changes likewise in
//!   `opsdeck-store`: a change and its record commit together.
//! - [`prune`]: deletes entries past the retention (90 days by default),
//!   run periodically by the application.
//! - [`bounded`] / [`bound_payload`]: every field is cut to its bound
//!   before it is logged or stored, whatever a request sent.
//! - `page`: `GET /audit` (filter by actor, action, date; 100 a page, by
//!   cursor) and `GET /audit.csv` (admins only; every matching entry,
//!   streamed; cells go through [`crate::csv::cell`]).

mod page;

use crate::auth::CurrentUser;
use crate::{AppState, Error};
use axum::Router;
use opsdeck_alerts::actions::Actor;
use opsdeck_domain::Timestamp;
use opsdeck_store::{AuditEntry, Store};
use serde_json::Value;
use std::time::Duration;

/// Payload keys whose values are replaced before storing, whatever the
/// caller passed: a secret must never reach the audit log.
const SECRET_WORDS: &[&str] = &[
    "password",
    "secret",
    "token",
    "api_key",
    "apikey",
    "authorization",
];

/// Replaces the value of any key that names a secret with `"[redacted]"`,
/// at any depth.
pub fn scrub(payload: Value) -> Value {
    match payload {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let lower = k.to_ascii_lowercase();
                    if SECRET_WORDS.iter().any(|w| lower.contains(w)) {
                        (k, Value::String("[redacted]".into()))
                    } else {
                        (k, scrub(v))
                    }
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(scrub).collect()),
        other => other,
    }
}

/// Characters kept of the actor, action and subject of an entry (and of
/// its address): a username is at most 64, an id a few dozen.
const FIELD_CHARS: usize = 200;
/// Characters kept of each string inside a payload.
const PAYLOAD_STRING_CHARS: usize = 1_000;
/// Bytes a payload may take as JSON after its strings are cut; a larger
/// one (a huge array) is replaced by a note saying how large it was.
const PAYLOAD_BYTES: usize = 8 * 1024;

/// `value` cut to `max` characters; a cut value ends with a note of how
/// many characters were left out, so nobody mistakes it for the whole.
pub fn bounded(value: &str, max: usize) -> String {
    match value.char_indices().nth(max) {
        None => value.to_string(),
        Some((end, _)) => {
            let left = value[end..].chars().count();
            format!("{}… [{left} more characters]", &value[..end])
        }
    }
}

fn bound_strings(payload: Value) -> Value {
    match payload {
        Value::String(s) => Value::String(bounded(&s, PAYLOAD_STRING_CHARS)),
        Value::Array(items) => Value::Array(items.into_iter().map(bound_strings).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (bounded(&k, FIELD_CHARS), bound_strings(v)))
                .collect(),
        ),
        other => other,
    }
}

/// A payload as it may be stored: secrets scrubbed, every string cut to
/// [`PAYLOAD_STRING_CHARS`], and at most [`PAYLOAD_BYTES`] in all.
pub fn bound_payload(payload: Value) -> Value {
    let payload = bound_strings(scrub(payload));
    let size = payload.to_string().len();
    if size <= PAYLOAD_BYTES {
        return payload;
    }
    serde_json::json!({
        "truncated": true,
        "bytes": size,
        "preview": bounded(&payload.to_string(), PAYLOAD_STRING_CHARS),
    })
}

/// Writes one audit entry at the injected clock's now. Every field is cut
/// to its bound first (see [`bounded`], [`bound_payload`]): what a request
/// sends, an attacker chooses, and neither the log nor the database may
/// grow by more than a few kilobytes per entry.
pub async fn record(
    state: &AppState,
    actor: &str,
    ip: Option<String>,
    action: &str,
    subject: &str,
    payload: Value,
) -> Result<(), Error> {
    let entry = AuditEntry {
        at: state.now(),
        actor: bounded(actor, FIELD_CHARS),
        action: bounded(action, FIELD_CHARS),
        subject: bounded(subject, FIELD_CHARS),
        payload: bound_payload(payload),
        ip: ip.map(|ip| bounded(&ip, FIELD_CHARS)),
    };
    state.store.record_audit(&entry).await?;
    tracing::info!(actor = %entry.actor, action = %entry.action, subject = %entry.subject, "audited");
    Ok(())
}

/// [`record`] for the logged-in user of a request, with its address.
pub async fn record_for(
    state: &AppState,
    user: &CurrentUser,
    action: &str,
    subject: &str,
    payload: Value,
) -> Result<(), Error> {
    record(
        state,
        &user.username,
        user.ip.map(|ip| ip.to_string()),
        action,
        subject,
        payload,
    )
    .await
}

impl CurrentUser {
    /// The person as alert actions (and their audit entries) name them.
    pub fn actor(&self) -> Actor {
        let mut a = Actor::new(self.username.clone(), "web");
        a.ip = self.ip.map(|ip| ip.to_string());
        a
    }
}

/// Deletes audit entries older than `retention` before `now`; returns how
/// many.
pub async fn prune(
    store: &dyn Store,
    now: Timestamp,
    retention: Duration,
) -> Result<u64, opsdeck_store::StoreError> {
    let span = jiff::SignedDuration::try_from(retention).unwrap_or(jiff::SignedDuration::MAX);
    let before = now.checked_sub(span).unwrap_or(Timestamp::MIN);
    let n = store.prune_audit(before).await?;
    if n > 0 {
        tracing::info!(deleted = n, %before, "audit log pruned");
    }
    Ok(n)
}

pub(crate) fn router() -> Router<AppState> {
    page::router()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn fields_and_payloads_are_bounded() {
        assert_eq!(bounded("anna", 200), "anna");
        let long = "é".repeat(1_000_000);
        let cut = bounded(&long, 200);
        assert!(cut.starts_with(&"é".repeat(200)));
        assert!(
            cut.ends_with("… [999800 more characters]"),
            "{}",
            &cut[390..]
        );
        let p = bound_payload(json!({ "username": "x".repeat(1 << 20), "n": 1 }));
        assert!(p.to_string().len() < 1_100, "{}", p.to_string().len());
        assert_eq!(p["n"], 1);
        let many = bound_payload(json!({ "ids": vec!["0123456789"; 10_000] }));
        assert_eq!(many["truncated"], true);
        assert!(many.to_string().len() < 2 * 1024);
        assert_eq!(
            bound_payload(json!({ "password": "hunter2hunter2" })),
            json!({ "password": "[redacted]" }),
            "still scrubbed"
        );
    }

    #[test]
    fn secrets_are_scrubbed_at_any_depth() {
        let got = scrub(json!({
            "note": "call carrier",
            "password": "hunter2hunter2",
            "nested": [{ "api_token": "odk_x_y", "ok": 1 }],
            "Authorization": "Bearer z",
        }));
        assert_eq!(
            got,
            json!({
                "note": "call carrier",
                "password": "[redacted]",
                "nested": [{ "api_token": "[redacted]", "ok": 1 }],
                "Authorization": "[redacted]",
            })
        );
    }
}
