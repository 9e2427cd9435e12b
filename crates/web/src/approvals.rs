//! Approvals over HTTP (issue 14 point 3): the page where approvers decide
//! (with a comment) and where anyone who may request asks for one (the
//! kinds with their thresholds and approver roles shown), the nav's badge
//! of requests waiting for the viewer, and the JSON API — `POST /api/v1/approvals`, where a
//! custom platform asks before it acts (its ingest token's source names
//! its callback settings), and `GET /api/v1/approvals`.
//!
//! Handlers extract, call `opsdeck_operations::approvals`, and render:
//! four eyes, roles, comments, expiry and the one run are its rules.
//! Amounts serialize through `money_json`, so roles without revenue
//! permission see none. A request that names an order (a refund) shows
//! its customer's risk flags.

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
use opsdeck_metrics::customers::{customer_risk, CustomerOf};
use opsdeck_operations::approvals::{
    Action, ApprovalError, Approvals, Decider, NewRequest, Requested, Requester, Threshold,
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

tokio::task_local! {
    static BADGE: usize;
}

/// Whether the person may read request `a`: its brand is in their scope,
/// or they asked for it (a freeze is filed over every brand, and a lead
/// limited to a region still follows the sales pause they requested).
fn sees(a: &Approval, user: &CurrentUser) -> bool {
    crate::scope::sees(&a.brand) || a.requested_by == user.username
}

/// Runs `work` (a page handler) with the nav's approvals badge counted for
/// the person it renders for, when `wanted` and they may decide approvals:
/// the requests waiting for them ([`Approvals::pending_for`]). A store
/// failure leaves the badge out and is logged; the page still answers.
pub(crate) async fn badge_scope<F: std::future::Future>(
    state: &AppState,
    wanted: bool,
    user: Option<(&str, opsdeck_store::Role)>,
    work: F,
) -> F::Output {
    let count = match (wanted, user, state.approvals.as_ref()) {
        (true, Some((username, role)), Some(approvals)) => {
            match approvals.pending_for(username, role).await {
                // As the approvals page lists them: the viewer's brands.
                Ok(waiting) => waiting
                    .iter()
                    .filter(|a| crate::scope::sees(&a.brand))
                    .count(),
                Err(error) => {
                    tracing::error!(%error, "approvals badge: pending requests could not be read");
                    0
                }
            }
        }
        _ => 0,
    };
    BADGE.scope(count, work).await
}

/// The nav badge's count for the page being rendered (the template's
/// `approvals_badge()`); 0 outside [`badge_scope`].
pub(crate) fn current_badge() -> usize {
    BADGE.try_with(|n| *n).unwrap_or(0)
}

/// The pages.
pub(crate) fn router() -> Routes {
    Routes::new()
        .get("/approvals", Permission::ViewDashboard, page)
        .post("/approvals", Permission::RequestApprovals, request_form)
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

/// The kinds the dashboard's form asks for: a freeze is asked for on
/// /flags, where its change is made.
fn requestable() -> impl Iterator<Item = ApprovalKind> {
    ApprovalKind::ALL
        .iter()
        .copied()
        .filter(|k| *k != ApprovalKind::FlagChange)
}

#[derive(Debug, Deserialize)]
struct PageQuery {
    /// Set after a form request under its kind's threshold.
    under_threshold: Option<String>,
}

async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let approvals = service(&state)?;
    let pending: Vec<ApprovalView> = approvals
        .pending()
        .await
        .map_err(Error::from)?
        .into_iter()
        .filter(|a| sees(a, &user))
        .map(view)
        .collect();
    let recent: Vec<ApprovalView> = state
        .store
        .approvals(None, 50)
        .await
        .map_err(Error::from)?
        .into_iter()
        .filter(|a| a.state != ApprovalState::Pending && sees(a, &user))
        .map(view)
        .collect();
    let kinds: Vec<Value> = requestable()
        .map(|kind| {
            let rule = approvals.policy().rule(kind);
            json!({
                "kind": kind.as_str(),
                "label": kind.label(),
                "threshold": rule.threshold.describe(),
                "approver_role": rule.approver_role.as_str(),
                "takes_amount": matches!(rule.threshold, Threshold::AmountOver { .. }),
                "takes_percent": matches!(rule.threshold, Threshold::PercentOver { .. }),
            })
        })
        .collect();
    let brands: Vec<Value> = state
        .visible_brands()
        .into_iter()
        .map(|b| json!({ "id": b.id.as_str(), "name": b.name, "currency": b.currency.code() }))
        .collect();
    let html = templates::render(
        "approvals.html",
        minijinja::context! {
            pending_count => pending.len(),
            pending => pending,
            recent => recent,
            can_decide => user.can(Permission::DecideApprovals),
            can_request => user.can(Permission::RequestApprovals),
            kinds => kinds,
            brands => brands,
            under_threshold => q.under_threshold,
            csrf_token => user.csrf_token,
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
        // see that brand (`crate::scope`), unless they asked for it.
        .filter(|a| sees(a, &user))
        .ok_or(Error::NotFound)?;
    let own = approval.requested_by == user.username;
    let open = approval.state == ApprovalState::Pending && approval.expires_at > state.now();
    // The customer of the order the request names, with their risk flags.
    let order = serde_json::from_value::<Action>(approval.action.clone())
        .ok()
        .and_then(|a| a.order().map(|(s, o)| (s.to_string(), o.to_string())));
    let risk = order.as_ref().and_then(|(source, external_id)| {
        let cfg = crate::pages::panel_config(&state);
        let p = crate::pages::read(&state);
        customer_risk(
            &p,
            &cfg,
            CustomerOf::Order {
                source,
                external_id,
            },
        )
    });
    let html = templates::render(
        "approval.html",
        minijinja::context! {
            names_order => order.is_some(),
            customer => crate::pages::customer_risk::view(risk.as_ref()),
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

/// The dashboard's request form.
#[derive(Debug, Deserialize)]
struct RequestForm {
    kind: String,
    brand: String,
    #[serde(default)]
    summary: String,
    /// In the brand's currency, e.g. `650.00`; for the kinds weighed by amount.
    #[serde(default)]
    amount: String,
    /// A discount's size, e.g. `25` or `22.5`.
    #[serde(default)]
    percent: String,
}

/// `25`, `22.5` or `22.50` (per cent) as basis points.
fn percent_bp(raw: &str) -> Result<i64, Error> {
    let bad = || {
        Error::BadRequest(format!(
            "percent: {raw:?} is not a number between 0 and 100 with at most two decimals"
        ))
    };
    let (whole, frac) = raw.trim().split_once('.').unwrap_or((raw.trim(), ""));
    if whole.is_empty()
        || frac.len() > 2
        || !(whole.chars().chain(frac.chars())).all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i64 = whole.parse().map_err(|_| bad())?;
    let frac: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
    let bp = whole
        .checked_mul(100)
        .and_then(|w| w.checked_add(frac))
        .ok_or_else(bad)?;
    if bp > 10_000 {
        return Err(bad());
    }
    Ok(bp)
}

/// A request from the dashboard: the change is the requester's to make
/// once approved ([`Action::Manual`]); under its kind's threshold nothing
/// is stored and the page says so.
async fn request_form(
    State(state): State<AppState>,
    user: CurrentUser,
    form: Result<Form<RequestForm>, axum::extract::rejection::FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) =
        form.map_err(|e| Error::BadRequest(format!("request form: {}", e.body_text())))?;
    let kind = ApprovalKind::parse(&form.kind).map_err(Error::BadRequest)?;
    if kind == ApprovalKind::FlagChange {
        return Err(Error::BadRequest(
            "kind: a freeze is requested on /flags, where its change is made".into(),
        )
        .into());
    }
    // A configured brand in the person's scope (403 naming it otherwise).
    let brand = state.brand(&form.brand)?;
    let amount = match form.amount.trim() {
        "" => None,
        raw => Some(
            Money::parse(raw, brand.currency)
                .map_err(|e| Error::BadRequest(format!("amount: {e}")))?,
        ),
    };
    let percent_bp = match form.percent.trim() {
        "" => None,
        raw => Some(percent_bp(raw)?),
    };
    let request = NewRequest {
        kind,
        brand: brand.id.to_string(),
        summary: form.summary,
        amount,
        percent_bp,
        action: Action::Manual,
        target_version: None,
        subject: None,
    };
    let who = Requester {
        name: user.username.clone(),
        via: RequestedVia::Dashboard,
        ip: user.ip.map(|ip| ip.to_string()),
    };
    match service(&state)?
        .request(request, &who)
        .await
        .map_err(Error::from)?
    {
        Requested::Pending(a) => Ok(Redirect::to(&format!("/approvals/{}", a.id))),
        Requested::NotRequired => Ok(Redirect::to(&format!(
            "/approvals?under_threshold={}",
            kind.as_str()
        ))),
    }
}

async fn list_api(State(state): State<AppState>, user: CurrentUser) -> Result<Json<Value>, Error> {
    let pending: Vec<ApprovalView> = service(&state)?
        .pending()
        .await?
        .into_iter()
        .filter(|a| sees(a, &user))
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
        if kind == ApprovalKind::FlagChange {
            return Err(Error::BadRequest(
                "kind: flag_change is opsdeck's own freeze switch-on, requested on /flags;                  a platform asks for one of price_change, discount, refund, new_product, content_update"
                    .into(),
            ));
        }
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
            subject: None,
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
