//! The refunds, returns and disputes queue over HTTP (issue 15 point 1).
//! The rows and decisions are `opsdeck_operations::queues`'; this module
//! extracts, calls and renders.
//!
//! - `GET /queues/refunds` (the page) and `GET /api/v1/queues/refunds`
//!   (JSON): `?brand=&region=&kind=return|refund|dispute`, breached
//!   first, then at risk, then by time left; only the brands the viewer's
//!   scope holds. Disputes under review follow apart, as waiting on the
//!   bank (`waiting_on_bank`: no deadline, never breached), unless the
//!   kind filter names returns or refunds. Reading needs `ViewDashboard`; amounts reach only roles
//!   with `ViewRevenue` (they serialize through `money_json`), and the
//!   page's amount column and total go with them.
//! - `POST /queues/refunds/{source}/{id}/approve|decline` (forms, back to
//!   the page) and `POST /api/v1/queues/refunds/{source}/{id}/approve|decline`
//!   (JSON): need `DecideReturns`; an item of a brand outside the scope is
//!   not found.

use crate::auth::rules::Routes;
use crate::auth::{CurrentUser, Permission};
use crate::error::PageError;
use crate::params::{chosen_brands, Params};
use crate::{templates, AppState, Error};
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::{Form, Json};
use opsdeck_domain::BrandId;
use opsdeck_metrics::panels::refunds_queue::BankItem;
use opsdeck_metrics::projection::queue::QueueKind;
use opsdeck_operations::incidents::Actor;
use opsdeck_operations::queues::{Decided, Decision, QueueError, QueueRow, RefundQueue};
use opsdeck_sources::shopify::graphql::returns::DeclineReason;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

pub(crate) fn router() -> Routes {
    use Permission::*;
    Routes::new()
        .get("/queues/refunds", ViewDashboard, page)
        .post(
            "/queues/refunds/{source}/{id}/approve",
            DecideReturns,
            approve_form,
        )
        .post(
            "/queues/refunds/{source}/{id}/decline",
            DecideReturns,
            decline_form,
        )
        .get("/api/v1/queues/refunds", ViewDashboard, api_list)
        .post(
            "/api/v1/queues/refunds/{source}/{id}/approve",
            DecideReturns,
            api_approve,
        )
        .post(
            "/api/v1/queues/refunds/{source}/{id}/decline",
            DecideReturns,
            api_decline,
        )
}

fn service(state: &AppState) -> Result<&Arc<RefundQueue>, Error> {
    state
        .refunds_queue
        .as_ref()
        .ok_or_else(|| Error::BadRequest("the refunds queue is not configured".into()))
}

/// A refused decision: not waiting 404, not decidable or refused by the
/// platform 409, bad approval input 400, the store's failure 500.
impl From<QueueError> for Error {
    fn from(e: QueueError) -> Self {
        match e {
            QueueError::Store(e) => Error::Store(e),
            QueueError::NotWaiting(_) => Error::NotFound,
            e @ (QueueError::NotDecidable(_) | QueueError::Platform(_)) => {
                Error::Conflict(e.to_string())
            }
            e @ QueueError::Approval(_) => Error::BadRequest(e.to_string()),
        }
    }
}

/// `?brand=ID&region=ID&kind=return|refund|dispute`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct QueueQuery {
    brand: Option<String>,
    region: Option<String>,
    kind: Option<String>,
}

fn kind_of(kind: Option<&str>) -> Result<Option<QueueKind>, Error> {
    match kind.filter(|k| !k.is_empty()) {
        None => Ok(None),
        Some(k) => QueueKind::parse(k).map(Some).ok_or_else(|| {
            Error::BadRequest(format!("kind must be return, refund or dispute, not {k:?}"))
        }),
    }
}

/// The brands asked for, within the viewer's scope.
fn brands_of(state: &AppState, q: &QueueQuery) -> Result<Vec<BrandId>, Error> {
    Ok(
        match chosen_brands(state, q.brand.as_deref(), q.region.as_deref())? {
            Some(brands) => brands.into_iter().map(|b| b.id.clone()).collect(),
            None => state
                .visible_brands()
                .into_iter()
                .map(|b| b.id.clone())
                .collect(),
        },
    )
}

/// The queue as the JSON API answers it.
#[derive(Debug, Serialize)]
pub(crate) struct QueueResponse {
    generated_at: jiff::Timestamp,
    breached: usize,
    at_risk: usize,
    items: Vec<QueueRow>,
    /// Disputes under review (evidence in, the bank deciding): no SLA of
    /// ours runs, so they are listed apart and never counted as breached.
    /// Empty when the kind filter names returns or refunds.
    waiting_on_bank: Vec<BankItem>,
}

async fn rows(state: &AppState, q: &QueueQuery) -> Result<QueueResponse, Error> {
    let svc = service(state)?;
    let kind = kind_of(q.kind.as_deref())?;
    let brands = brands_of(state, q)?;
    let now = state.now();
    let items = svc
        .list(&state.projection, &state.panel_config, &brands, kind, now)
        .await?;
    let count = |s: opsdeck_domain::sla::SlaState| items.iter().filter(|r| r.item.sla == s).count();
    let waiting_on_bank = match kind {
        None | Some(QueueKind::Dispute) => {
            svc.waiting_on_bank(&state.projection, &state.panel_config, &brands, now)
        }
        Some(_) => Vec::new(),
    };
    Ok(QueueResponse {
        generated_at: now,
        breached: count(opsdeck_domain::sla::SlaState::Breached),
        at_risk: count(opsdeck_domain::sla::SlaState::AtRisk),
        items,
        waiting_on_bank,
    })
}

pub(crate) async fn api_list(
    State(state): State<AppState>,
    Params(q): Params<QueueQuery>,
) -> Result<Json<QueueResponse>, Error> {
    Ok(Json(rows(&state, &q).await?))
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    Params(q): Params<QueueQuery>,
) -> Result<Html<String>, PageError> {
    let queue = rows(&state, &q).await?;
    // The total of the amounts shown, per currency; empty (and so not
    // rendered) for roles without revenue, whose amounts serialize as null.
    let mut totals: std::collections::BTreeMap<String, opsdeck_domain::Money> =
        std::collections::BTreeMap::new();
    for r in &queue.items {
        if let Some(m) = r.item.amount {
            let e = totals
                .entry(m.currency.code().to_string())
                .or_insert(opsdeck_domain::Money::zero(m.currency));
            e.minor += m.minor;
        }
    }
    let totals: Vec<opsdeck_metrics::money_json::Guarded<String>> = totals
        .values()
        .map(|m| opsdeck_metrics::money_json::Guarded(m.display()))
        .collect();
    let brands: Vec<serde_json::Value> = state
        .visible_brands()
        .into_iter()
        .map(|b| serde_json::json!({ "id": b.id.as_str(), "name": b.name }))
        .collect();
    let regions: Vec<(String, String)> = state
        .visible_regions()
        .into_iter()
        .map(|r| (r.id.as_str().to_string(), r.name.clone()))
        .collect();
    let html = templates::render(
        "queue_refunds.html",
        minijinja::context! {
            regions => regions,
            q => queue,
            totals => totals,
            show_money => opsdeck_metrics::money_json::shown(),
            brands => brands,
            brand => q.brand,
            region => q.region,
            kind => q.kind,
            reasons => DeclineReason::ALL.iter().map(|r| r.as_graphql()).collect::<Vec<_>>(),
            can_decide => user.can(Permission::DecideReturns),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

fn actor(user: &CurrentUser) -> Actor {
    Actor {
        name: user.username.clone(),
        ip: user.ip.map(|ip| ip.to_string()),
    }
}

/// The item's brand must be one the viewer sees: another brand's item is
/// not found, as another brand's alert is.
async fn in_scope(state: &AppState, source: &str, id: &str) -> Result<(), Error> {
    let svc = service(state)?;
    match svc.brand_of(&state.projection, source, id) {
        Some(brand) if crate::scope::sees(brand.as_str()) => Ok(()),
        _ => Err(Error::NotFound),
    }
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeclineForm {
    reason: String,
    #[serde(default)]
    note: Option<String>,
}

fn decline_decision(f: DeclineForm) -> Result<Decision, Error> {
    let reason = DeclineReason::parse(&f.reason).ok_or_else(|| {
        Error::BadRequest(format!(
            "reason must be one of RETURN_PERIOD_ENDED, FINAL_SALE, OTHER, not {:?}",
            f.reason
        ))
    })?;
    Ok(Decision::Decline {
        reason,
        note: f.note.filter(|n| !n.trim().is_empty()),
    })
}

async fn decide(
    state: &AppState,
    user: &CurrentUser,
    source: &str,
    id: &str,
    decision: Decision,
) -> Result<Decided, Error> {
    in_scope(state, source, id).await?;
    Ok(service(state)?
        .decide(&state.projection, source, id, decision, &actor(user))
        .await?)
}

fn back_to_queue(decided: &Decided) -> Redirect {
    match decided {
        Decided::Done { .. } => Redirect::to("/queues/refunds"),
        Decided::AwaitingApproval { approval_id } => {
            Redirect::to(&format!("/approvals/{approval_id}"))
        }
    }
}

pub(crate) async fn approve_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((source, id)): Path<(String, String)>,
) -> Result<Redirect, PageError> {
    let decided = decide(&state, &user, &source, &id, Decision::Approve).await?;
    Ok(back_to_queue(&decided))
}

pub(crate) async fn decline_form(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((source, id)): Path<(String, String)>,
    f: Result<Form<DeclineForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let f = f
        .map(|Form(f)| f)
        .map_err(|e| Error::BadRequest(format!("decline form: {}", e.body_text())))?;
    let decided = decide(&state, &user, &source, &id, decline_decision(f)?).await?;
    Ok(back_to_queue(&decided))
}

/// What a decision answers over the API.
#[derive(Debug, Serialize)]
pub(crate) struct DecisionResponse {
    /// `approved`, `rejected`, or `awaiting_approval`.
    outcome: String,
    approval_id: Option<String>,
}

fn response(decided: Decided) -> Json<DecisionResponse> {
    Json(match decided {
        Decided::Done { status } => DecisionResponse {
            outcome: status.as_str().to_string(),
            approval_id: None,
        },
        Decided::AwaitingApproval { approval_id } => DecisionResponse {
            outcome: "awaiting_approval".into(),
            approval_id: Some(approval_id),
        },
    })
}

pub(crate) async fn api_approve(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((source, id)): Path<(String, String)>,
) -> Result<Json<DecisionResponse>, Error> {
    Ok(response(
        decide(&state, &user, &source, &id, Decision::Approve).await?,
    ))
}

pub(crate) async fn api_decline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((source, id)): Path<(String, String)>,
    Json(f): Json<DeclineForm>,
) -> Result<Json<DecisionResponse>, Error> {
    Ok(response(
        decide(&state, &user, &source, &id, decline_decision(f)?).await?,
    ))
}
