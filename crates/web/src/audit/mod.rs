//! The audit log: every change a person makes, with who, what, on what,
//! the payload (never a secret), the client address and when.
//!
//! - [`record`] / [`record_for`]: the one path web handlers write through
//!   (logins, logouts, lockouts, decisions, settings). Alert actions write
//!   their entry inside the store transaction that makes the change
//!   (`opsdeck_alerts::actions`, with the [`Actor`] from
//!   [`CurrentUser::actor`]), and token/user changes likewise in
//!   `opsdeck-store`: a change and its record commit together.
//! - Pruning entries past their retention is the store's
//!   (`opsdeck_store::users::prune_audit_older_than`), run hourly by the
//!   application.
//! - [`bounded`]: every field is cut to its bound before it is logged or
//!   stored, whatever a request sent (the bound lives with the store's
//!   `AuditEntry::bounded`, which every audit write goes through).
//! - `page`: `GET /audit` (filter by actor, action, date; 100 a page, by
//!   cursor) and `GET /audit.csv` (admins only; every matching entry,
//!   streamed; cells go through [`opsdeck_reports::csv::cell`]).

mod page;

use crate::auth::CurrentUser;
use crate::{AppState, Error};
use opsdeck_alerts::actions::Actor;
use opsdeck_alerts::Via;
use opsdeck_store::{AuditAction, AuditEntry};
use serde_json::Value;

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

/// `value` cut to a number of characters, with a note of what was left
/// out: the store's bound for audit fields, for anything else shown or
/// logged from a request (a typed username, a page cell).
pub use opsdeck_store::cut_text as bounded;

/// Writes one audit entry at the injected clock's now: secrets scrubbed,
/// every field cut to its bound ([`AuditEntry::bounded`], which the store
/// applies to every entry anyway) before it is logged or stored.
pub async fn record(
    state: &AppState,
    actor: &str,
    ip: Option<String>,
    action: AuditAction,
    subject: &str,
    payload: Value,
) -> Result<(), Error> {
    let entry = AuditEntry {
        at: state.now(),
        actor: actor.to_string(),
        action,
        subject: subject.to_string(),
        payload: scrub(payload),
        ip,
    }
    .bounded();
    state.store.record_audit(&entry).await?;
    tracing::info!(actor = %entry.actor, action = %entry.action, subject = %entry.subject, "audited");
    Ok(())
}

/// [`record`] for the logged-in user of a request, with its address.
pub async fn record_for(
    state: &AppState,
    user: &CurrentUser,
    action: AuditAction,
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
        let mut a = Actor::new(self.username.clone(), Via::Web);
        a.ip = self.ip.map(|ip| ip.to_string());
        a
    }
}

pub(crate) fn router() -> crate::auth::rules::Routes {
    page::router()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

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
