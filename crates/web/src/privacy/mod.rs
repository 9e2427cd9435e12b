//! Privacy requests over HTTP (issue 15 point 4). The rules are
//! `opsdeck_operations::privacy`'s (filing, the 30-day deadline, the
//! work, links and their expiry); this module extracts, calls, renders.
//!
//! - `GET /privacy`: every request with its status, due date and time
//!   left; a form to file one (export or erasure of a person); on a
//!   completed export, a button that creates a download link.
//! - `POST /privacy`, `POST /privacy/{id}/link`: those forms.
//! - `GET /privacy/download/{token}`: the archive (zip), while the link
//!   lasts; each download is written to the audit log (who, when).
//! - `GET /api/v1/privacy/requests`: the list as JSON (a session).
//! - `POST /api/v1/privacy/requests`: a custom platform files a request
//!   with its ingest token (kind `privacy_requests`), for its token's
//!   brand and under its source; its `request_id` makes a retry harmless.
//!
//! Everything here needs `ChangeSettings` (admins only): the pages name
//! people and the archive holds their orders, amounts included.
//!
//! A download link's token is a credential in the path: no log line shows
//! it. The request span and the guard's log lines write the path through
//! [`loggable`], which replaces the token (also where it sits
//! percent-encoded in the login page's `next`).

mod api;
mod pages;

use crate::auth::rules::Routes;
use crate::auth::{CurrentUser, Permission};
use crate::{AppState, Error};
use opsdeck_operations::incidents::Actor;
use opsdeck_operations::privacy::{Privacy, PrivacyError};
use std::sync::Arc;

pub(crate) fn router() -> Routes {
    use Permission::*;
    Routes::new()
        .get("/privacy", ChangeSettings, pages::list)
        .post("/privacy", ChangeSettings, pages::file)
        .post("/privacy/{id}/link", ChangeSettings, pages::link)
        .get("/privacy/download/{token}", ChangeSettings, pages::download)
        .get("/api/v1/privacy/requests", ChangeSettings, api::list)
        // A platform's ingest token, checked in the handler.
        .post(
            "/api/v1/privacy/requests",
            crate::auth::rules::Access::Public,
            api::file,
        )
}

/// Where a download link's token starts in a path, as written and as the
/// login redirect's `next` percent-encodes it.
const TOKEN_AFTER: [&str; 2] = ["/privacy/download/", "%2fprivacy%2fdownload%2f"];

/// What replaces a token in a logged path.
const REDACTED: &str = "[redacted]";

/// `uri` (a path, with or without its query) as a log line may show it: a
/// download link's token replaced by `[redacted]`.
pub(crate) fn loggable(uri: &str) -> std::borrow::Cow<'_, str> {
    let lower = uri.to_ascii_lowercase();
    if !TOKEN_AFTER.iter().any(|m| lower.contains(m)) {
        return std::borrow::Cow::Borrowed(uri);
    }
    let mut out = String::with_capacity(uri.len());
    let mut at = 0;
    while at < uri.len() {
        // ASCII lowercasing keeps byte offsets: `lower` indexes `uri`.
        let next = TOKEN_AFTER
            .iter()
            .filter_map(|m| lower[at..].find(m).map(|i| (at + i, m.len())))
            .min();
        let Some((start, len)) = next else {
            out.push_str(&uri[at..]);
            break;
        };
        let token_from = start + len;
        let token_len = uri[token_from..]
            .bytes()
            .take_while(u8::is_ascii_alphanumeric)
            .count();
        out.push_str(&uri[at..token_from]);
        if token_len > 0 {
            out.push_str(REDACTED);
        }
        at = token_from + token_len;
    }
    std::borrow::Cow::Owned(out)
}

fn service(state: &AppState) -> Result<&Arc<Privacy>, Error> {
    state
        .privacy
        .as_ref()
        .ok_or_else(|| Error::BadRequest("privacy requests are not configured".into()))
}

fn actor(user: &CurrentUser) -> Actor {
    Actor {
        name: user.username.clone(),
        ip: user.ip.map(|ip| ip.to_string()),
    }
}

/// Bad input 400, an unknown request or link 404, an archive not ready
/// or a link expired 409, the store's failure 500.
impl From<PrivacyError> for Error {
    fn from(e: PrivacyError) -> Self {
        match e {
            PrivacyError::Store(e) => Error::Store(e),
            PrivacyError::NotFound(_) | PrivacyError::UnknownLink => Error::NotFound,
            PrivacyError::Invalid(m) => Error::BadRequest(m),
            e @ (PrivacyError::NotExport(_)
            | PrivacyError::NotReady { .. }
            | PrivacyError::LinkExpired(_)) => Error::Conflict(e.to_string()),
            e @ PrivacyError::Archive(_) => {
                tracing::error!(error = %e, "privacy archive");
                Error::Conflict(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::loggable;

    #[test]
    fn a_download_token_never_reaches_a_log_line() {
        assert_eq!(
            loggable("/privacy/download/0a1bFF99?x=1"),
            "/privacy/download/[redacted]?x=1"
        );
        assert_eq!(
            loggable("/login?next=%2Fprivacy%2Fdownload%2F0a1b99"),
            "/login?next=%2Fprivacy%2Fdownload%2F[redacted]"
        );
        assert_eq!(loggable("/privacy"), "/privacy");
        assert_eq!(loggable("/privacy/download/"), "/privacy/download/");
    }
}
