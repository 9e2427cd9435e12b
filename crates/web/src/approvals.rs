//! Approvals over HTTP (issue 14 point 3): the page where approvers decide
//! (with a comment), and the JSON API — `POST /api/v1/approvals`, where a
//! custom platform asks before it acts (its ingest token's source names
//! its callback settings), and `GET /api/v1/approvals`.
//!
//! Handlers extract, call `opsdeck_operations::approvals`, and render:
//! four eyes, roles, comments, expiry and the one run are its rules.
//! Amounts serialize through `money_json`, so roles without revenue
//! permission see none.

use crate::api::ApiRoute;
use crate::auth::rules::{Access, Routes};
use crate::auth::{ClientInfo, CurrentUser, Permission};
use crate::error::PageError;
use crate::{templates, AppState, Error};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Extension, Form, Json};
use opsdeck_domain::{Currency, Money};
use opsdeck_operations::approvals::{
    Action, ApprovalError, Approvals, Decider, NewRequest, Requested, Requester,
};
use opsdeck_store::{Approval, ApprovalKind, ApprovalState, RequestedVia};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::sync::Arc;

/// The token kind a platform's token needs to ask for approval (`all`
/// tokens may).
pub const TOKEN_KIND: &str = "approvals";

/// An approval as pages and the API show it.
#[derive(Debug, Serialize)]
struct ApprovalView {
    id: String,
    kind: ApprovalKind,
    kind_label: &'static str,
    brand: String,
    summary: String,
    /// Hidden (`null`) for roles without revenue permission.
    #[serde(serialize_with = "opsdeck_metrics::money_json::serialize_option")]
    amount: Option<Money>,
    percent: Option<String>,
    requested_by: String,
    requested_via: RequestedVia,
    requested_at: String,
    expires_at: String,
    approver_role: String,
    state: ApprovalState,
    decided_by: Option<String>,
    decided_at: Option<String>,
    decision_comment: Option<String>,
    outcome_note: Option<String>,
}

fn view(a: Approval) -> ApprovalView {
    ApprovalView {
        kind_label: a.kind.label(),
        percent: a
            .percent_bp
            .map(|bp| format!("{}.{:02} %", bp / 100, bp % 100)),
        requested_at: a.requested_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        expires_at: a.expires_at.strftime("%Y-%m-%d %H:%M UTC").to_string(),
        decided_at: a
            .decided_at
            .map(|t| t.strftime("%Y-%m-%d %H:%M UTC").to_string()),
        id: a.id,
        kind: a.kind,
        brand: a.brand,
        summary: a.summary,
        amount: a.amount,
        requested_by: a.requested_by,
        requested_via: a.requested_via,
        approver_role: a.approver_role,
        state: a.state,
        decided_by: a.decided_by,
        decision_comment: a.decision_comment,
        outcome_note: a.outcome_note,
    }
}

fn service(state: &AppState) -> Result<&Arc<Approvals>, Error> {
    state
        .approvals
        .as_ref()
        .ok_or_else(|| Error::BadRequest("approvals are not configured".into()))
}

impl From<ApprovalError> for Error {
    fn from(e: ApprovalError) -> Self {
        match e {
            ApprovalError::Invalid(m) => Error::BadRequest(m),
            ApprovalError::NotFound(_) => Error::NotFound,
            e @ (ApprovalError::OwnRequest(_) | ApprovalError::WrongRole { .. }) => {
                Error::Forbidden(e.to_string())
            }
            e @ (ApprovalError::Expired | ApprovalError::AlreadyDecided { .. }) => {
                Error::Conflict(e.to_string())
            }
            ApprovalError::Store(e) => Error::Store(e),
        }
    }
}

/// The pages.
pub(crate) fn router() -> Routes {
    Routes::new()
        .get("/approvals", Permission::ViewDashboard, page)
        .get("/approvals/{id}", Permission::ViewDashboard, one)
        .post(
            "/approvals/{id}/decision",
            Permission::DecideApprovals,
            decide_form,
        )
}

/// The API routes (in the OpenAPI document).
pub(crate) fn api_routes() -> Vec<ApiRoute> {
    vec![
        ApiRoute {
            path: "/api/v1/approvals",
            method: "post",
            // The platform's bearer token is the credential, checked here.
            access: Access::Public,
            handler: post(request_api),
        },
        ApiRoute {
            path: "/api/v1/approvals",
            method: "get",
            access: Access::Require(Permission::ViewDashboard),
            handler: get(list_api),
        },
    ]
}

async fn page(State(state): State<AppState>, user: CurrentUser) -> Result<Html<String>, PageError> {
    let approvals = service(&state)?;
    let pending: Vec<ApprovalView> = approvals
        .pending()
        .await
        .map_err(Error::from)?
        .into_iter()
        .filter(|a| crate::scope::sees(&a.brand))
        .map(view)
        .collect();
    let recent: Vec<ApprovalView> = state
        .store
        .approvals(None, 50)
        .await
        .map_err(Error::from)?
        .into_iter()
        .filter(|a| a.state != ApprovalState::Pending && crate::scope::sees(&a.brand))
        .map(view)
        .collect();
    let html = templates::render(
        "approvals.html",
        minijinja::context! {
            pending_count => pending.len(),
            pending => pending,
            recent => recent,
            can_decide => user.can(Permission::DecideApprovals),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

#[derive(Debug, Deserialize)]
struct OneQuery {
    /// `approve` or `reject`, pre-selected from a Slack button.
    decision: Option<String>,
}

async fn one(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    Query(q): Query<OneQuery>,
) -> Result<Html<String>, PageError> {
    let approval = state
        .store
        .approval(&id)
        .await
        .map_err(Error::from)?
        // Another brand's request is not there for a person who does not
        // see that brand (`crate::scope`).
        .filter(|a| crate::scope::sees(&a.brand))
        .ok_or(Error::NotFound)?;
    let own = approval.requested_by == user.username;
    let open = approval.state == ApprovalState::Pending && approval.expires_at > state.now();
    let html = templates::render(
        "approval.html",
        minijinja::context! {
            a => view(approval),
            can_decide => user.can(Permission::DecideApprovals) && open && !own,
            own => own,
            preselect => q.decision.unwrap_or_default(),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

#[derive(Debug, Deserialize)]
struct DecisionForm {
    decision: String,
    #[serde(default)]
    comment: String,
}

fn decider(user: &CurrentUser) -> Decider {
    Decider {
        username: user.username.clone(),
        role: user.role,
        via: "dashboard",
        ip: user.ip.map(|ip| ip.to_string()),
    }
}

async fn decide_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<String>,
    form: Result<Form<DecisionForm>, axum::extract::rejection::FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) =
        form.map_err(|e| Error::BadRequest(format!("decision form: {}", e.body_text())))?;
    let approve = match form.decision.as_str() {
        "approve" => true,
        "reject" => false,
        other => {
            return Err(
                Error::BadRequest(format!("decision {other:?}: use approve or reject")).into(),
            )
        }
    };
    let seen = state.store.approval(&id).await.map_err(Error::from)?;
    if seen.is_some_and(|a| !crate::scope::sees(&a.brand)) {
        return Err(Error::NotFound.into());
    }
    service(&state)?
        .decide(&id, &decider(&user), approve, &form.comment)
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to(&format!("/approvals/{id}")))
}

async fn list_api(State(state): State<AppState>) -> Result<Json<Value>, Error> {
    let pending: Vec<ApprovalView> = service(&state)?
        .pending()
        .await?
        .into_iter()
        .filter(|a| crate::scope::sees(&a.brand))
        .map(view)
        .collect();
    Ok(Json(
        json!({ "pending_count": pending.len(), "pending": pending }),
    ))
}

/// What a custom platform sends to ask before it acts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ApiRequest {
    kind: String,
    summary: String,
    amount_minor: Option<i64>,
    currency: Option<String>,
    /// A discount's size in basis points (2500 = 25 %).
    percent_bp: Option<i64>,
    /// Where opsdeck calls back on approval (under the platform's
    /// configured prefix).
    callback_url: String,
    /// Returned as it is in the callback.
    #[serde(default)]
    payload: Value,
    /// The target's version as the platform saw it, kept with the request.
    target_version: Option<String>,
}

async fn request_api(
    State(state): State<AppState>,
    Extension(client): Extension<ClientInfo>,
    headers: HeaderMap,
    body: Result<Json<ApiRequest>, axum::extract::rejection::JsonRejection>,
) -> Response {
    let token = match crate::ingest::auth::authorize(&state, &client, &headers, TOKEN_KIND).await {
        Ok(token) => token,
        Err(response) => return response,
    };
    let result = async {
        let Json(body) = body.map_err(|e| Error::BadRequest(format!("body: {}", e.body_text())))?;
        let kind = ApprovalKind::parse(&body.kind).map_err(Error::BadRequest)?;
        let amount = match (body.amount_minor, body.currency.as_deref()) {
            (Some(minor), Some(code)) => Some(Money::new(
                minor,
                Currency::parse(code).map_err(|e| Error::BadRequest(format!("currency: {e}")))?,
            )),
            (None, None) => None,
            _ => {
                return Err(Error::BadRequest(
                    "amount_minor and currency come together".into(),
                ))
            }
        };
        let request = NewRequest {
            kind,
            brand: token.brand.to_string(),
            summary: body.summary,
            amount,
            percent_bp: body.percent_bp,
            action: Action::Callback {
                platform: token.source.to_string(),
                url: body.callback_url,
                payload: body.payload,
            },
            target_version: body.target_version,
        };
        let who = Requester {
            name: format!("platform:{}", token.source),
            via: RequestedVia::Api,
            ip: client.ip_text(),
        };
        Ok::<_, Error>(service(&state)?.request(request, &who).await?)
    }
    .await;
    match result {
        Ok(Requested::NotRequired) => {
            (StatusCode::OK, Json(json!({ "status": "not_required" }))).into_response()
        }
        Ok(Requested::Pending(a)) => (
            StatusCode::CREATED,
            Json(json!({
                "status": "pending",
                "id": a.id,
                "approver_role": a.approver_role,
                "expires_at": a.expires_at,
                "idempotency_key": a.idempotency_key,
            })),
        )
            .into_response(),
        Err(e) => e.into_response(),
    }
}
