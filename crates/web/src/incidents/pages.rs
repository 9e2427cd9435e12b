//! The incident pages and the forms they post. Each form handler parses
//! the form, calls one `IncidentService` method (which validates, stores
//! and audits) and redirects back to the incident.

use crate::auth::{CurrentUser, Permission};
use crate::error::PageError;
use crate::view::age;
use crate::{templates, AppState, Error};
use axum::extract::rejection::FormRejection;
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::Form;
use opsdeck_operations::incidents::severity::duration_in_words;
use opsdeck_operations::incidents::{
    ActionItem, ActionItemStatus, Actor, Component, ComponentStatus, Declaration, DeclaredVia,
    Incident, IncidentState, Postmortem, Severity, TimelineWhat,
};
use serde::Deserialize;
use serde_json::{json, Value};

impl CurrentUser {
    /// The person as incident changes (and their audit entries) name them.
    pub(crate) fn incident_actor(&self) -> Actor {
        Actor {
            name: self.username.clone(),
            ip: self.ip.map(|ip| ip.to_string()),
        }
    }
}

fn form<T>(what: &str, f: Result<Form<T>, FormRejection>) -> Result<T, Error> {
    f.map(|Form(t)| t)
        .map_err(|e| Error::BadRequest(format!("{what} form: {}", e.body_text())))
}

fn checked(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.is_empty() && v != "off")
}

/// Alert episode ids from a comma- or space-separated field.
pub(super) fn alert_ids(field: &str) -> Vec<String> {
    field
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

fn back(id: i64, anchor: &str) -> Redirect {
    Redirect::to(&format!("/incidents/{id}#{anchor}"))
}

fn words(d: Option<jiff::SignedDuration>) -> String {
    d.map_or_else(|| "—".to_string(), |d| duration_in_words(d, "0 s"))
}

fn secs_words(s: Option<i64>) -> String {
    words(s.map(jiff::SignedDuration::from_secs))
}

fn summary_row(state: &AppState, i: &Incident, now: jiff::Timestamp) -> Value {
    let policy = state.incidents.policies().get(i.severity);
    json!({
        "id": i.id,
        "title": i.title,
        "severity": i.severity.as_str(),
        "state": i.state.as_str(),
        "live": i.is_live(),
        "brand": i.brand,
        "declared": age(i.declared_at, now),
        "declared_at": i.declared_at.to_string(),
        "acknowledged": i.acknowledged_at.is_some(),
        "breached": i.breached(policy, now),
    })
}

pub(crate) async fn list(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Html<String>, PageError> {
    let now = state.now();
    let svc = &state.incidents;
    let incidents = svc.list(false).await.map_err(Error::from)?;
    let rows: Vec<Value> = incidents
        .iter()
        .filter(|i| super::in_scope(i))
        .map(|i| summary_row(&state, i, now))
        .collect();
    let report: Vec<Value> = svc
        .report()
        .await
        .map_err(Error::from)?
        .iter()
        .map(|r| {
            json!({
                "severity": r.severity.as_str(),
                "incidents": r.incidents,
                "breaches": r.breaches,
                "to_acknowledge": secs_words(r.mean_to_acknowledge_s),
                "to_mitigate": secs_words(r.mean_to_mitigate_s),
                "to_resolve": secs_words(r.mean_to_resolve_s),
            })
        })
        .collect();
    let policies: Vec<Value> = svc
        .policies()
        .all()
        .map(|p| {
            json!({
                "severity": p.severity.as_str(),
                "target": p.target_in_words(),
                "notify": p.notify.join(", "),
                "channels": p.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
                "incident_mode": p.incident_mode,
                "escalation": p.escalation.iter().map(|s| format!(
                    "after {}: {} via {}{}",
                    duration_in_words(s.after, "at once"),
                    s.notify.join(", "),
                    s.channels.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", "),
                    if s.repeats > 0 { format!(", {} more every {}", s.repeats, duration_in_words(s.every, "0")) } else { String::new() }
                )).collect::<Vec<_>>(),
            })
        })
        .collect();
    let scopes = scopes(&state);
    let components: Vec<Value> = svc
        .components(&scopes)
        .await
        .map_err(Error::from)?
        .iter()
        .map(|c| {
            json!({
                "component": c.component.as_str(), "label": c.component.label(),
                "scope": c.scope, "status": c.status.as_str(), "status_label": c.status.label(),
                "updated": c.updated_at.map(|t| age(t, now)), "by": c.updated_by,
            })
        })
        .collect();
    let pins = super::dashboard_pins(&state).await?;
    let html = templates::render(
        "incidents.html",
        minijinja::context! {
            incidents => rows,
            report => report,
            policies => policies,
            components => components,
            statuses => ComponentStatus::ALL.iter().map(|s| (s.as_str(), s.label())).collect::<Vec<_>>(),
            severities => Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            brands => state.visible_brands().iter().map(|b| (b.id.to_string(), b.name.clone())).collect::<Vec<_>>(),
            every_brand => crate::scope::current().is_every(),
            pins => pins,
            can_manage => user.can(Permission::ManageIncidents),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// The scopes components are shown per: each brand the person sees,
/// until regions exist.
pub(super) fn scopes(state: &AppState) -> Vec<String> {
    state
        .visible_brands()
        .iter()
        .map(|b| b.id.to_string())
        .collect()
}

fn timeline_text(what: &TimelineWhat) -> (&'static str, String) {
    match what {
        TimelineWhat::Declared { severity } => ("declared", format!("Declared {severity}")),
        TimelineWhat::Update { text, public } => (
            if *public { "public update" } else { "update" },
            text.clone(),
        ),
        TimelineWhat::State { from, to, note } => (
            "state",
            if note.is_empty() {
                format!("{from} → {to}")
            } else {
                format!("{from} → {to}: {note}")
            },
        ),
        TimelineWhat::Acknowledged => ("acknowledged", "Acknowledged".into()),
        TimelineWhat::SeverityChanged { from, to } => {
            ("severity", format!("Severity {from} → {to}"))
        }
        TimelineWhat::AlertsLinked { episodes } => {
            ("alerts", format!("Alerts linked: {}", episodes.join(", ")))
        }
        TimelineWhat::Action { text } => ("action", text.clone()),
        TimelineWhat::Notified {
            notice,
            notify,
            channels,
            unconfigured,
        } => (
            "notified",
            format!(
                "Notice {notice} to {} via {}{}",
                notify.join(", "),
                if channels.is_empty() {
                    "no channel".to_string()
                } else {
                    channels.join(", ")
                },
                if unconfigured.is_empty() {
                    String::new()
                } else {
                    format!(" ({} not configured)", unconfigured.join(", "))
                }
            ),
        ),
        TimelineWhat::Postmortem => ("postmortem", "Postmortem written".into()),
        TimelineWhat::ActionItem { text } => ("action item", text.clone()),
    }
}

pub(crate) async fn detail(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Html<String>, PageError> {
    super::visible(&state, id).await?;
    let now = state.now();
    let svc = &state.incidents;
    let i = super::visible(&state, id).await?;
    let policy = svc.policies().get(i.severity);
    let mut alerts = Vec::new();
    for episode in svc.alerts_of(id).await.map_err(Error::from)? {
        let row = state
            .store
            .alert_episode(&episode)
            .await
            .map_err(Error::from)?;
        if row.as_ref().is_some_and(|r| !crate::scope::sees(&r.brand)) {
            continue;
        }
        alerts.push(json!({
            "id": episode,
            "rule": row.as_ref().map(|r| r.rule.clone()),
            "brand": row.as_ref().map(|r| r.brand.clone()),
            "state": row.as_ref().map(|r| r.state.as_str().to_string()),
        }));
    }
    let timeline: Vec<Value> = i
        .timeline
        .iter()
        .rev()
        .map(|e| {
            let (kind, text) = timeline_text(&e.what);
            json!({ "at": e.at.to_string(), "ago": age(e.at, now), "by": e.by, "kind": kind, "text": text })
        })
        .collect();
    let reached: Vec<Value> = i
        .reached
        .iter()
        .map(|r| json!({ "state": r.state.as_str(), "at": r.at.to_string(), "by": r.by }))
        .collect();
    let times = i.times();
    let postmortem = i.postmortem.as_ref().map(|p| {
        json!({
            "summary": p.summary,
            "impact_from": p.impact_from.map(|t| t.to_string()),
            "impact_until": p.impact_until.map(|t| t.to_string()),
            "contributing_factors": p.contributing_factors,
            "what_worked": p.what_worked,
            "action_items": p.action_items.iter().enumerate().map(|(n, a)| json!({
                "index": n, "text": a.text, "owner": a.owner, "due": a.due.to_string(),
                "status": a.status.as_str(),
            })).collect::<Vec<_>>(),
        })
    });
    let html = templates::render(
        "incident.html",
        minijinja::context! {
            incident => summary_row(&state, &i, now),
            merged_into => i.merged_into,
            declared_by => i.declared_by,
            via => match &i.declared_via {
                DeclaredVia::Dashboard => "the dashboard".to_string(),
                DeclaredVia::Alerts => "alerts".to_string(),
                DeclaredVia::Api { token } => format!("the ingest API (token {token})"),
            },
            target => policy.target_in_words(),
            response_due => i.response_due(policy).to_string(),
            acknowledged_by => i.acknowledged_by,
            to_acknowledge => words(times.to_acknowledge),
            to_mitigate => words(times.to_mitigate),
            to_resolve => words(times.to_resolve),
            reached => reached,
            next => i.state.next().iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            alerts => alerts,
            timeline => timeline,
            postmortem => postmortem,
            item_statuses => ActionItemStatus::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            severities => Severity::ALL.iter().map(|s| s.as_str()).collect::<Vec<_>>(),
            can_manage => user.can(Permission::ManageIncidents),
            csrf_token => user.csrf_token,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

#[derive(Debug, Deserialize)]
pub(crate) struct DeclareForm {
    title: String,
    severity: String,
    #[serde(default)]
    brand: String,
    #[serde(default)]
    summary: String,
    public: Option<String>,
    /// Alert episode ids, comma separated (declaring from alerts).
    #[serde(default)]
    alerts: String,
}

/// The brand a form names: none (all brands) when empty, else a
/// configured one. A person who sees only some brands declares for one of
/// theirs: an incident over every brand reaches every region (its banner,
/// its notices), so it is a 403 for them.
pub(super) fn brand_of(state: &AppState, brand: &str) -> Result<Option<String>, Error> {
    let brand = brand.trim();
    if brand.is_empty() && !crate::scope::current().is_every() {
        Err(state.out_of_scope("an incident over every brand"))
    } else if brand.is_empty() {
        Ok(None)
    } else {
        Ok(Some(state.brand(brand)?.id.to_string()))
    }
}

pub(crate) async fn declare(
    State(state): State<AppState>,
    user: CurrentUser,
    f: Result<Form<DeclareForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let f = form("declare", f)?;
    let alerts = alert_ids(&f.alerts);
    super::alerts_in_scope(&state, &alerts).await?;
    let d = Declaration {
        title: f.title,
        severity: Severity::parse(f.severity.trim()).map_err(Error::BadRequest)?,
        // An alert's brand may be a scope that is not a configured brand
        // (opsdeck's own security alerts): the incident is then for all.
        brand: match brand_of(&state, &f.brand) {
            Err(Error::UnknownBrand(_)) if !alerts.is_empty() => None,
            other => other?,
        },
        via: if alerts.is_empty() {
            DeclaredVia::Dashboard
        } else {
            DeclaredVia::Alerts
        },
        alerts,
        summary: Some((f.summary, checked(&f.public))),
    };
    let i = state
        .incidents
        .declare(d, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(back(i.id, "timeline"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct TransitionForm {
    to: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    merged_into: String,
}

pub(crate) async fn transition(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    f: Result<Form<TransitionForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    super::visible(&state, id).await?;
    let f = form("transition", f)?;
    let to = IncidentState::parse(f.to.trim()).map_err(Error::BadRequest)?;
    let merged_into = match f.merged_into.trim().trim_start_matches('#') {
        "" => None,
        n => Some(n.parse::<i64>().map_err(|_| {
            Error::BadRequest(format!("merged_into: an incident number, got {n:?}"))
        })?),
    };
    state
        .incidents
        .transition(id, to, &f.note, merged_into, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(back(id, "timeline"))
}

pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect, PageError> {
    super::visible(&state, id).await?;
    state
        .incidents
        .acknowledge(id, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(back(id, "timeline"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct SeverityForm {
    severity: String,
}

pub(crate) async fn severity(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    f: Result<Form<SeverityForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    super::visible(&state, id).await?;
    let f = form("severity", f)?;
    let to = Severity::parse(f.severity.trim()).map_err(Error::BadRequest)?;
    state
        .incidents
        .change_severity(id, to, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(back(id, "timeline"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct UpdateForm {
    text: String,
    public: Option<String>,
    /// `action` for something done; an update otherwise.
    #[serde(default)]
    kind: String,
}

pub(crate) async fn update(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    f: Result<Form<UpdateForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    super::visible(&state, id).await?;
    let f = form("update", f)?;
    let action = match f.kind.as_str() {
        "" | "update" => false,
        "action" => true,
        other => {
            return Err(Error::BadRequest(format!("kind: update or action, got {other:?}")).into())
        }
    };
    state
        .incidents
        .add_update(
            id,
            &f.text,
            checked(&f.public),
            action,
            &user.incident_actor(),
        )
        .await
        .map_err(Error::from)?;
    Ok(back(id, "timeline"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct AlertsForm {
    alerts: String,
}

pub(crate) async fn link_alerts(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    f: Result<Form<AlertsForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    super::visible(&state, id).await?;
    let f = form("alerts", f)?;
    let alerts = alert_ids(&f.alerts);
    super::alerts_in_scope(&state, &alerts).await?;
    state
        .incidents
        .link_alerts(id, &alerts, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(back(id, "alerts"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct PostmortemForm {
    summary: String,
    #[serde(default)]
    impact_from: String,
    #[serde(default)]
    impact_until: String,
    #[serde(default)]
    contributing_factors: String,
    #[serde(default)]
    what_worked: String,
}

/// An RFC 3339 time (`2026-06-10T10:00:00Z`) or a form's local
/// `datetime-local` value, read as UTC; empty is none.
fn time_field(name: &str, v: &str) -> Result<Option<jiff::Timestamp>, Error> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    if let Ok(t) = v.parse::<jiff::Timestamp>() {
        return Ok(Some(t));
    }
    v.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(jiff::tz::TimeZone::UTC).ok())
        .map(|z| Some(z.timestamp()))
        .ok_or_else(|| {
            Error::BadRequest(format!(
                "{name}: a UTC time like 2026-06-10T10:00:00Z, got {v:?}"
            ))
        })
}

pub(crate) async fn postmortem(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    f: Result<Form<PostmortemForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    super::visible(&state, id).await?;
    let f = form("postmortem", f)?;
    let existing = state
        .incidents
        .get(id)
        .await
        .map_err(Error::from)?
        .postmortem
        .map(|p| p.action_items)
        .unwrap_or_default();
    let p = Postmortem {
        summary: f.summary,
        impact_from: time_field("impact_from", &f.impact_from)?,
        impact_until: time_field("impact_until", &f.impact_until)?,
        contributing_factors: f.contributing_factors.trim().to_string(),
        what_worked: f.what_worked.trim().to_string(),
        action_items: existing,
    };
    state
        .incidents
        .set_postmortem(id, p, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(back(id, "postmortem"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ActionItemForm {
    text: String,
    owner: String,
    due: String,
}

pub(crate) async fn add_action_item(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    f: Result<Form<ActionItemForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    super::visible(&state, id).await?;
    let f = form("action item", f)?;
    let due =
        f.due.trim().parse::<jiff::civil::Date>().map_err(|_| {
            Error::BadRequest(format!("due: a date like 2026-06-20, got {:?}", f.due))
        })?;
    let item = ActionItem {
        text: f.text.trim().to_string(),
        owner: f.owner.trim().to_string(),
        due,
        status: ActionItemStatus::Open,
    };
    state
        .incidents
        .add_action_item(id, item, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(back(id, "postmortem"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ItemStatusForm {
    status: String,
}

pub(crate) async fn action_item_status(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, index)): Path<(i64, usize)>,
    f: Result<Form<ItemStatusForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let f = form("action item status", f)?;
    let status = ActionItemStatus::parse(f.status.trim()).map_err(Error::BadRequest)?;
    state
        .incidents
        .set_action_item_status(id, index, status, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(back(id, "postmortem"))
}

#[derive(Debug, Deserialize)]
pub(crate) struct ComponentForm {
    component: String,
    scope: String,
    status: String,
}

pub(crate) async fn component_status(
    State(state): State<AppState>,
    user: CurrentUser,
    f: Result<Form<ComponentForm>, FormRejection>,
) -> Result<Redirect, PageError> {
    let f = form("component", f)?;
    let component = Component::parse(f.component.trim()).map_err(Error::BadRequest)?;
    let status = ComponentStatus::parse(f.status.trim()).map_err(Error::BadRequest)?;
    let scope = state.brand(f.scope.trim())?.id.to_string();
    state
        .incidents
        .set_component_status(component, &scope, status, &user.incident_actor())
        .await
        .map_err(Error::from)?;
    Ok(Redirect::to("/incidents#components"))
}
