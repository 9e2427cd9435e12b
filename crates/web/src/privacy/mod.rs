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
