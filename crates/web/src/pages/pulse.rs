//! `GET /pulse?brand=`: the sales pulse of one brand — the operator job
//! aid's modal as a page. Today so far against the 7-day baseline at the
//! same local time (value, variance, warning/critical state), cumulative
//! orders by hour of the day (today vs baseline), top SKUs with their stock
//! cover, open fulfillment blockers oldest first, and the decision form.
//!
//! `POST /pulse/{brand}/decision`: "Log follow-up" or "Escalate to ops"
//! with notes. The pulse is recomputed on the server at that moment (the
//! figures stored are the ones the store's data gave, not what a form
//! claimed), stored with the session's user and written to the audit log
//! in the same transaction; then post/redirect/get back to the page.

use super::{brand_ix, default_brand, format, panel_config, read};
use crate::auth::{CurrentUser, Permission};
use crate::charts::line::{line, Series};
use crate::charts::Datum;
use crate::error::PageError;
use crate::params::Params;
use crate::view::age;
use crate::{audit, templates, AppState, Error};
use axum::extract::{Path, State};
use axum::response::{Html, Redirect};
use axum::Form;
use opsdeck_domain::{Money, Timestamp};
use opsdeck_metrics::panels::pulse::{pulse, Pulse, PulseState, TopSku};
use opsdeck_metrics::panels::pulse_hours::orders_by_hour;
use opsdeck_metrics::projection::BrandIx;
use opsdeck_metrics::Projection;
use opsdeck_store::{AuditEntry, DecisionKind, NewDecision};
use serde::Deserialize;
use serde_json::{json, Value};

/// The longest note accepted; longer is a 400 saying so.
const NOTES_MAX: usize = 2000;
/// Recent decisions shown under the form.
const RECENT: u32 = 20;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Query {
    brand: Option<String>,
    /// A region id: the brand picker offers its brands, and the first is
    /// shown unless `brand` names one (see `params::one_brand`).
    region: Option<String>,
}

fn state_word(s: PulseState) -> &'static str {
    match s {
        PulseState::Normal => "normal",
        PulseState::Warning => "warning",
        PulseState::Critical => "critical",
        PulseState::TooEarly => "too early to tell",
        PulseState::NoBaseline => "no baseline",
    }
}

/// The "orders by time of day" chart's two series: today (the hours
/// begun) and the 7-day baseline, labelled by the local hour they end at.
fn by_hour(p: &Projection, b: BrandIx, now: Timestamp) -> (Vec<Datum>, Vec<Datum>) {
    let mut today = Vec::new();
    let mut baseline = Vec::new();
    for h in orders_by_hour(p, b, now) {
        let label = format!("{:02}:00", h.hour % 24);
        let base = h.baseline;
        baseline.push(Datum::new(
            &label,
            base,
            format!("{base:.1} orders (baseline)"),
        ));
        if let Some(n) = h.today {
            today.push(Datum::new(&label, n as f64, format!("{n} orders today")));
        }
    }
    (today, baseline)
}

fn sku_row(s: &TopSku) -> Value {
    json!({
        "sku": s.sku, "units": s.units, "revenue": s.revenue.display(),
        "stock": s.stock.map_or_else(|| "—".to_string(), |q| q.to_string()),
        "velocity": format!("{:.1}", s.velocity_per_week),
        "cover": format::days(s.days_of_cover),
        "flag": if s.out_of_stock { "out of stock" } else if s.low_cover { "low cover" } else { "" },
    })
}

/// The pulse figures an operator decides on, as stored with a decision.
fn snapshot(pl: &Pulse) -> Value {
    json!({
        "orders_today": pl.orders_today,
        "revenue_today": pl.revenue_today.display(),
        "revenue_today_minor": pl.revenue_today.minor,
        "baseline_orders": pl.baseline_orders,
        "baseline_revenue_minor": pl.baseline_revenue_minor,
        "revenue_variance": pl.revenue_variance,
        "orders_variance": pl.orders_variance,
        "state": state_word(pl.state),
        "blocker_count": pl.blocker_count,
        "blocker_value_minor": pl.blocker_value.minor,
        "high_value_blocker_count": pl.high_value_blocker_count,
        "high_value_blocker_value_minor": pl.high_value_blocker_value.minor,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    params: Result<Params<Query>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = params?;
    let brand_id = default_brand(&state, q.brand.as_deref(), q.region.as_deref())?;
    let (brands, regions) = super::pickers(&state, q.region.as_deref(), true)?;
    let now = state.now();
    let cfg = panel_config(&state);
    let (pl, (today, baseline), brand) = {
        let p = read(&state);
        let b = brand_ix(&p, &state, &brand_id)?;
        (
            pulse(&p, &cfg, b, now),
            by_hour(&p, b, now),
            p.brand(b).clone(),
        )
    };
    let chart = line(
        &format!(
            "{}: orders by time of day, today vs 7-day baseline",
            brand.name
        ),
        &[
            Series {
                name: "Today".into(),
                points: today,
            },
            Series {
                name: "Baseline".into(),
                points: baseline,
            },
        ],
        |m| format!("{m:.0}"),
    );
    let baseline_revenue = Money::new(pl.baseline_revenue_minor.round() as i64, brand.currency);
    let blockers: Vec<Value> = pl
        .blockers
        .iter()
        .map(|x| {
            json!({
                "order": x.order, "href": super::drill::order_path(&brand_id, &x.order),
                "age": age(x.created_at, now), "age_hours": x.age_hours,
                "value": x.value.display(), "high_value": x.high_value, "partial": x.partial,
            })
        })
        .collect();
    let decisions: Vec<Value> = state
        .store
        .decisions(Some(&brand_id), RECENT)
        .await
        .map_err(Error::from)?
        .iter()
        .map(|d| {
            json!({
                "who": d.username, "kind": d.kind.label(), "notes": d.notes,
                "when": age(d.at, now), "at": d.at.to_string(),
                "state": d.pulse.get("state").and_then(Value::as_str).unwrap_or(""),
                "variance": format::change(d.pulse.get("revenue_variance").and_then(Value::as_f64)),
            })
        })
        .collect();
    let html = templates::render(
        "pulse.html",
        minijinja::context! {
            brand => brand.name, brand_id => brand_id,
            brands => brands, regions => regions, region => q.region.as_deref().unwrap_or(""),
            state => state_word(pl.state),
            orders_today => pl.orders_today,
            revenue_today => pl.revenue_today.display(),
            baseline_orders => format!("{:.1}", pl.baseline_orders),
            baseline_revenue => baseline_revenue.display(),
            revenue_variance => format::change(pl.revenue_variance),
            orders_variance => format::change(pl.orders_variance),
            order_spike => pl.order_spike,
            p_value => pl.revenue_evidence.map(|e| format!("{:.3}", e.p_value)),
            significance => opsdeck_metrics::variance::SIGNIFICANCE,
            min_baseline_orders => opsdeck_metrics::variance::MIN_BASELINE_ORDERS,
            chart => chart.0,
            top_today => pl.top_skus_today.iter().map(sku_row).collect::<Vec<_>>(),
            top_7d => pl.top_skus_7d.iter().map(sku_row).collect::<Vec<_>>(),
            blockers => blockers, blocker_count => pl.blocker_count,
            blocker_total => pl.blocker_value.display(),
            high_value_count => pl.high_value_blocker_count,
            high_value_total => pl.high_value_blocker_value.display(),
            blocker_value => pl.high_value_threshold.display(),
            blockers_listed => pl.blockers.len(),
            foreign_blockers => pl.foreign_currency_blockers,
            beyond_range => pl.value_beyond_range,
            can_decide => user.can(Permission::RecordDecisions),
            csrf_token => user.csrf_token,
            decisions => decisions,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// The decision form's fields (the CSRF token was checked by the guard).
#[derive(Debug, Deserialize)]
pub(crate) struct DecisionForm {
    kind: String,
    #[serde(default)]
    notes: String,
}

pub(crate) async fn decide(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(brand_id): Path<String>,
    form: Result<Form<DecisionForm>, axum::extract::rejection::FormRejection>,
) -> Result<Redirect, PageError> {
    let Form(form) =
        form.map_err(|e| Error::BadRequest(format!("decision form: {}", e.body_text())))?;
    let kind = DecisionKind::parse(&form.kind).map_err(Error::BadRequest)?;
    let notes = form.notes.trim().to_string();
    if notes.chars().count() > NOTES_MAX {
        return Err(Error::BadRequest(format!(
            "notes are {} characters long; at most {NOTES_MAX} are kept",
            notes.chars().count()
        ))
        .into());
    }
    let brand_id = state.brand(&brand_id)?.id.to_string();
    let now = state.now();
    let cfg = panel_config(&state);
    let figures = {
        let p = read(&state);
        let b = brand_ix(&p, &state, &brand_id)?;
        snapshot(&pulse(&p, &cfg, b, now))
    };
    let decision = NewDecision {
        at: now,
        username: user.username.clone(),
        brand: brand_id.clone(),
        kind,
        notes: notes.clone(),
        pulse: figures.clone(),
    };
    let entry = AuditEntry {
        at: now,
        actor: user.username.clone(),
        action: opsdeck_store::AuditAction::PulseDecision,
        subject: format!("brand:{brand_id}"),
        payload: audit::scrub(json!({ "kind": kind.as_str(), "notes": notes, "pulse": figures })),
        ip: user.ip.map(|ip| ip.to_string()),
    };
    state
        .store
        .record_decision(&decision, &entry)
        .await
        .map_err(Error::from)?;
    tracing::info!(user = %user.username, brand = %brand_id, kind = kind.as_str(), "pulse decision recorded");
    let brand_q: String = form_urlencoded::byte_serialize(brand_id.as_bytes()).collect();
    Ok(Redirect::to(&format!("/pulse?brand={brand_q}#decisions")))
}
