//! Incidents over HTTP (issue 14 point 1). The rules are
//! `opsdeck_operations::incidents`'; this module extracts, calls and renders.
//!
//! - `pages`: `GET /incidents` (list, declare form, figures per severity,
//!   open postmortem action items, component statuses), `GET
//!   /incidents/{id}` (timeline, linked alerts, lifecycle buttons,
//!   postmortem), and the forms they post.
//! - `api`: `GET /api/v1/incidents`, `POST /api/v1/incidents` (a platform
//!   declares one with its ingest token, kind `incidents`), and the public
//!   `GET /status.json`.
//! - Incident mode: [`banner_scope`] runs a page's handler with the live
//!   incidents of incident-mode severities loaded, so `base.html` shows
//!   the banner on every page (`incident_banner()`) and the dashboard pins
//!   them ([`dashboard_pins`]).

mod api;
mod pages;

use crate::auth::rules::Routes;
use crate::auth::Permission;
use crate::{AppState, Error};
use opsdeck_operations::incidents::{Incident, IncidentError};
use serde::Serialize;
use std::future::Future;

pub(crate) fn router() -> Routes {
    use Permission::*;
    Routes::new()
        .get("/incidents", ViewDashboard, pages::list)
        .post("/incidents", ManageIncidents, pages::declare)
        .get("/incidents/{id}", ViewDashboard, pages::detail)
        .post(
            "/incidents/{id}/transition",
            ManageIncidents,
            pages::transition,
        )
        .post(
            "/incidents/{id}/acknowledge",
            ManageIncidents,
            pages::acknowledge,
        )
        .post("/incidents/{id}/severity", ManageIncidents, pages::severity)
        .post("/incidents/{id}/updates", ManageIncidents, pages::update)
        .post(
            "/incidents/{id}/alerts",
            ManageIncidents,
            pages::link_alerts,
        )
        .post(
            "/incidents/{id}/postmortem",
            ManageIncidents,
            pages::postmortem,
        )
        .post(
            "/incidents/{id}/action-items",
            ManageIncidents,
            pages::add_action_item,
        )
        .post(
            "/incidents/{id}/action-items/{index}",
            ManageIncidents,
            pages::action_item_status,
        )
        .post(
            "/incidents/components",
            ManageIncidents,
            pages::component_status,
        )
        .get("/api/v1/incidents", ViewDashboard, api::list)
        // A platform's ingest token, checked in the handler.
        .post(
            "/api/v1/incidents",
            crate::auth::rules::Access::Public,
            api::declare,
        )
        // Public: a storefront or status widget reads it without a login.
        .get(
            "/status.json",
            crate::auth::rules::Access::Public,
            api::status,
        )
}

/// Unknown incident 404, a refused step 400 with its reason, a
/// concurrent change 409, the store's failure 500.
impl From<IncidentError> for Error {
    fn from(e: IncidentError) -> Self {
        match e {
            IncidentError::Store(e) => Error::Store(e),
            IncidentError::Corrupt(id, reason) => {
                Error::Store(opsdeck_store::StoreError::Corrupt {
                    kind: "incident",
                    external_id: id.to_string(),
                    reason,
                })
            }
            IncidentError::NotFound(_) => Error::NotFound,
            e @ IncidentError::Conflict(_) => Error::Conflict(e.to_string()),
            e @ (IncidentError::Transition { .. } | IncidentError::Invalid(_)) => {
                Error::BadRequest(e.to_string())
            }
        }
    }
}

/// Whether the person sees incident `i`: one over every brand (no
/// brand), or one of a brand they see (`crate::scope`). The one rule for
/// the list, the pages, the API, the banner and the dashboard's pins.
pub(crate) fn in_scope(i: &Incident) -> bool {
    i.brand.as_deref().is_none_or(crate::scope::sees)
}

/// Incident `id` if the person sees it; another brand's is a 404, as an
/// unknown one.
pub(crate) async fn visible(state: &AppState, id: i64) -> Result<Incident, Error> {
    let i = state.incidents.get(id).await?;
    if in_scope(&i) {
        Ok(i)
    } else {
        Err(Error::NotFound)
    }
}

/// For a person who does not see every brand: every alert named (to
/// declare from or to link) must be of a brand they see (404 otherwise,
/// as an unknown episode). Others' ids are checked by the service.
pub(crate) async fn alerts_in_scope(state: &AppState, ids: &[String]) -> Result<(), Error> {
    if crate::scope::current().is_every() {
        return Ok(());
    }
    for id in ids {
        crate::pages::alerts::episode_in_scope(state, id).await?;
    }
    Ok(())
}

/// One live incident as the banner and the dashboard show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Live {
    pub id: i64,
    pub title: String,
    pub severity: &'static str,
    pub state: &'static str,
    pub brand: Option<String>,
    pub acknowledged: bool,
}

impl Live {
    fn of(i: &Incident) -> Live {
        Live {
            id: i.id,
            title: i.title.clone(),
            severity: i.severity.as_str(),
            state: i.state.as_str(),
            brand: i.brand.clone(),
            acknowledged: i.acknowledged_at.is_some(),
        }
    }
}

tokio::task_local! {
    static BANNER: Vec<Live>;
}

/// Whether a request renders a whole page (and so the banner): a `GET`
/// outside the API, the tile fragments and the event stream.
pub(crate) fn shows_banner(method: &axum::http::Method, path: &str) -> bool {
    (method == axum::http::Method::GET || method == axum::http::Method::HEAD)
        && !path.starts_with("/api/")
        && !path.starts_with("/fragments/")
        && path != "/events"
}

/// Runs `work` (a page handler) with the incident-mode incidents loaded
/// for the banner when `wanted`. A store failure leaves the banner out
/// and is logged: the page still answers.
pub(crate) async fn banner_scope<F: Future>(state: &AppState, wanted: bool, work: F) -> F::Output {
    let live = if wanted {
        match state.incidents.incident_mode().await {
            // The guard runs this inside the person's scope.
            Ok(list) => list.iter().filter(|i| in_scope(i)).map(Live::of).collect(),
            Err(error) => {
                tracing::error!(%error, "incident banner: live incidents could not be read");
                Vec::new()
            }
        }
    } else {
        Vec::new()
    };
    BANNER.scope(live, work).await
}

/// The banner's incidents for the page being rendered (the template's
/// `incident_banner()`); none outside [`banner_scope`].
pub(crate) fn current_banner() -> Vec<Live> {
    BANNER.try_with(Clone::clone).unwrap_or_default()
}

/// What the dashboard pins: the incident-mode incidents (as the banner)
/// and the postmortem action items still open.
pub(crate) async fn dashboard_pins(state: &AppState) -> Result<minijinja::Value, Error> {
    let mut items = Vec::new();
    for o in state.incidents.open_action_items().await? {
        if crate::scope::current().is_every() || visible(state, o.incident_id).await.is_ok() {
            items.push(o);
        }
    }
    Ok(minijinja::Value::from_serialize(serde_json::json!({
        "live": current_banner(),
        "action_items": items.iter().map(|o| serde_json::json!({
            "incident_id": o.incident_id,
            "incident_title": o.incident_title,
            "text": o.item.text,
            "owner": o.item.owner,
            "due": o.item.due.to_string(),
            "status": o.item.status.as_str(),
        })).collect::<Vec<_>>(),
    })))
}

/// The incidents an alert is linked to, as its page lists them.
pub(crate) async fn of_alert(state: &AppState, episode_id: &str) -> Result<Vec<Live>, Error> {
    Ok(state
        .incidents
        .incidents_of_alert(episode_id)
        .await?
        .iter()
        .filter(|i| in_scope(i))
        .map(Live::of)
        .collect())
}
