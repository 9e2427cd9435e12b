//! The smaller drill-downs a tile links to:
//! - `GET /catalog?brand=`: every product with an issue (no images, empty
//!   description, a variant priced 0), active ones first, with the counts.
//! - `GET /tickets?brand=ID|unattributed|all&page=N|all`: the ticket queue
//!   (open, pending, created and resolved today and this week, 7-day trend)
//!   and the urgent queue ranked by its score, a page at a time (or all),
//!   each ticket with its subject, customer, brand, age, flags with their
//!   evidence and a link to it in the helpdesk.
//! - `GET /orders/{source}/{external_id}`: one order's timeline — placed,
//!   paid, shipments, carrier events (exceptions marked), delivery,
//!   inquiries, refunds — with promised vs actual delivery, and the
//!   customer's risk flags.
//! - `GET /orders/by-number/{brand}/{number}`: the same timeline for an
//!   order the panels name by its number ("#1001"): every order a page
//!   lists links here ([`order_path`]).
//!
//! All read the shared projection through `opsdeck-metrics` panel
//! functions, the same numbers as the JSON API.

use super::{brand_ix, default_brand, panel_config, read};
use crate::charts::line::{line, Series};
use crate::charts::Datum;
use crate::error::PageError;
use crate::params::{NoParams, Params};
use crate::view::{age, NO_VALUE};
use crate::{templates, AppState, Error};
use axum::extract::{Path, State};
use axum::response::Html;
use opsdeck_metrics::customers::{customer_risk, CustomerOf, CustomerRisk};
use opsdeck_metrics::money_json::Guarded;
use opsdeck_metrics::panels;
use opsdeck_metrics::panels::Point;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BrandQuery {
    brand: Option<String>,
    /// A region id: the brand picker offers its brands, and the first is
    /// shown unless `brand` names one (see `params::one_brand`).
    region: Option<String>,
}

pub(crate) async fn catalog(
    State(state): State<AppState>,
    params: Result<Params<BrandQuery>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = params?;
    let brand_id = default_brand(&state, q.brand.as_deref(), q.region.as_deref())?;
    let (brands, regions) = super::pickers(&state, q.region.as_deref(), true)?;
    let c = {
        let p = read(&state);
        let b = brand_ix(&p, &state, &brand_id)?;
        panels::catalog::catalog(&p, b)
    };
    let html = templates::render(
        "catalog.html",
        minijinja::context! {
            brand => state.brand(&brand_id)?.name, brand_id => brand_id, brands => brands,
            regions => regions, region => q.region.as_deref().unwrap_or(""),
            score => c.health_score.map_or_else(|| NO_VALUE.to_string(), |s| format!("{:.0} %", s * 100.0)),
            active => c.active, unlisted => c.unlisted, draft => c.draft, archived => c.archived, other => c.other,
            missing_images => c.missing_images, missing_description => c.missing_description,
            zero_price => c.zero_price,
            issues => issue_rows(&c.issues),
            off_sale_issues => issue_rows(&c.off_sale_issues),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

fn issue_rows(issues: &[panels::catalog::ProductIssues]) -> Vec<serde_json::Value> {
    issues
        .iter()
        .map(|i| {
            json!({
                "product": i.product, "status": i.status,
                "issues": i.issues.iter().map(|w| w.replace('_', " ")).collect::<Vec<_>>().join(", "),
            })
        })
        .collect()
}

fn series(name: &str, points: &[Point], what: &str, tz: &jiff::tz::TimeZone) -> Series {
    Series {
        name: name.into(),
        points: points
            .iter()
            .map(|pt| {
                let day = pt.t.to_zoned(tz.clone()).strftime("%b %-d").to_string();
                // The chart prefixes the label ("Created · Nov 17: 11 created").
                Datum::new(&day, pt.value, format!("{:.0} {what}", pt.value))
            })
            .collect(),
    }
}

/// `?brand=ID|unattributed|all&page=N|all` for the ticket queue page.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TicketsQuery {
    brand: Option<String>,
    /// A region id, as on the other single-brand pages.
    region: Option<String>,
    page: Option<String>,
}

pub(crate) async fn tickets(
    State(state): State<AppState>,
    params: Result<Params<TicketsQuery>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = params?;
    // A brand, the unattributed tickets, or all of them (the helpdesk's totals).
    // The helpdesk-wide views hold every brand's tickets (and those no
    // rule attributed), so a person who sees some brands only gets theirs.
    let whole_helpdesk = crate::scope::current().is_every();
    let view = match q.brand.as_deref().filter(|b| !b.is_empty()) {
        Some(v @ ("unattributed" | "all")) if whole_helpdesk => v.to_string(),
        Some(v @ ("unattributed" | "all")) => {
            return Err(state
                .out_of_scope(&format!("the helpdesk-wide view {v:?}"))
                .into())
        }
        other => default_brand(&state, other, q.region.as_deref())?,
    };
    let (mut choices, regions) = super::pickers(&state, q.region.as_deref(), true)?;
    let show_all = q.page.as_deref() == Some("all");
    let page = match q.page.as_deref() {
        None | Some("all") => 1,
        Some(n) => n.parse::<usize>().ok().filter(|n| *n >= 1).ok_or_else(|| {
            Error::BadRequest(format!("page must be a number from 1, or all, not {n:?}"))
        })?,
    };
    let now = state.now();
    let cfg = panel_config(&state);
    let (queue, urgent, rest) = {
        let p = read(&state);
        let b =
            panels::support::view_ix(&p, &view).ok_or_else(|| Error::UnknownBrand(view.clone()))?;
        let urgent = panels::urgent::urgent_page(&p, &cfg, b, now, page);
        // "Show all": the pages after the first, behind it.
        let rest: Vec<_> = if show_all {
            (2..=urgent.pages)
                .flat_map(|n| panels::urgent::urgent_page(&p, &cfg, b, now, n).tickets)
                .collect()
        } else {
            vec![]
        };
        (
            panels::support::queue(&p, b, cfg.week_start, now),
            urgent,
            rest,
        )
    };
    let (name, tz) = match state.brands.iter().find(|b| b.id.as_str() == view) {
        Some(brand) => (brand.name.clone(), brand.time_zone.clone()),
        None => (
            if view == "all" {
                "All brands"
            } else {
                "Unattributed"
            }
            .to_string(),
            read(&state).ctx.account_zone.clone(),
        ),
    };
    let trend = line(
        &format!("{name}: tickets created and resolved per day, last 7 days"),
        &[
            series("Created", &queue.created_series, "created", &tz),
            series("Resolved", &queue.resolved_series, "resolved", &tz),
        ],
        |m| format!("{m:.0}"),
    );
    let brand_name = |id: &str| {
        state
            .brands
            .iter()
            .find(|b| b.id.as_str() == id)
            .map_or_else(|| "Unattributed".to_string(), |b| b.name.clone())
    };
    let urgent_rows: Vec<Value> = urgent
        .tickets
        .iter()
        .chain(rest.iter())
        .map(|t| {
            json!({
                "subject": if t.subject.is_empty() { "(no subject)" } else { t.subject.as_str() },
                "customer": if t.customer.is_empty() { NO_VALUE } else { t.customer.as_str() },
                "brand": brand_name(&t.brand),
                "opened": age(t.ticket_created_at, now), "at": t.ticket_created_at.to_string(),
                "badge": t.age_badge, "score": t.score,
                "order": t.linked_order.clone().unwrap_or_else(|| NO_VALUE.to_string()),
                "order_href": t.linked_order.as_deref().and_then(|o| order_path(&t.brand, o)),
                // Order values only where the viewer may see revenue.
                "order_value": t.order_value.map(|m| Guarded(m.display())),
                "helpdesk_url": t.helpdesk_url,
                "flags": t.flags.iter().map(|f| json!({"flag": f.flag.label(), "reason": f.reason})).collect::<Vec<_>>(),
                // The customer's risk flags: another rule than the ticket's own.
                "risk": t.customer_risk,
            })
        })
        .collect();
    if whole_helpdesk {
        choices.push(("unattributed".into(), "Unattributed".into()));
        choices.push(("all".into(), "All brands".into()));
    }
    let html = templates::render(
        "tickets.html",
        minijinja::context! {
            brand => name, brand_id => view, brands => choices,
            regions => regions, region => q.region.as_deref().unwrap_or(""),
            open => queue.open, pending => queue.pending,
            created_today => queue.created_today, resolved_today => queue.resolved_today,
            resolved_week => queue.resolved_this_week,
            trend => trend.0,
            urgent => urgent_rows, flagged => urgent.flagged, scanned => urgent.scanned,
            page => urgent.page, pages => urgent.pages, show_all => show_all,
            per_page => urgent.per_page,
            unavailable => urgent.unavailable.iter().map(|f| json!({"flag": f.flag, "reason": f.reason})).collect::<Vec<_>>(),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

pub(crate) async fn order(
    State(state): State<AppState>,
    Path((source, external_id)): Path<(String, String)>,
    params: Result<Params<NoParams>, Error>,
) -> Result<Html<String>, PageError> {
    params?;
    let now = state.now();
    let cfg = panel_config(&state);
    let (t, risk) = {
        let p = read(&state);
        let t = panels::timeline::timeline(&p, &source, &external_id, now)
            // Another brand's order is not there for a person who does
            // not see that brand.
            .filter(|t| crate::scope::sees(t.brand.as_str()))
            .ok_or(Error::NotFound)?;
        let risk = customer_risk(
            &p,
            &cfg,
            CustomerOf::Order {
                source: &source,
                external_id: &external_id,
            },
        );
        (t, risk)
    };
    Ok(Html(render_timeline(&state, &t, risk.as_ref(), now)?))
}

/// Where the timeline of the order `name` ("#1001", as panels name orders)
/// of `brand` is; `None` for a name without a number.
pub(crate) fn order_path(brand: &str, name: &str) -> Option<String> {
    let number: u32 = name.trim_start_matches('#').parse().ok()?;
    (number != 0).then(|| {
        let brand: String = form_urlencoded::byte_serialize(brand.as_bytes()).collect();
        format!("/orders/by-number/{brand}/{number}")
    })
}

pub(crate) async fn order_by_number(
    State(state): State<AppState>,
    Path((brand, number)): Path<(String, String)>,
    params: Result<Params<NoParams>, Error>,
) -> Result<Html<String>, PageError> {
    params?;
    let number: u32 = number
        .parse()
        .map_err(|_| Error::BadRequest(format!("{number:?} is not an order number")))?;
    let now = state.now();
    let cfg = panel_config(&state);
    let (t, risk) = {
        let p = read(&state);
        let b = brand_ix(&p, &state, &brand)?;
        let key = p
            .orders
            .rows
            .by_number(b, number)
            .map(|o| o.key)
            .ok_or(Error::NotFound)?;
        let t = panels::timeline::timeline_of_key(&p, key, now).ok_or(Error::NotFound)?;
        (t, customer_risk(&p, &cfg, CustomerOf::OrderKey(key)))
    };
    Ok(Html(render_timeline(&state, &t, risk.as_ref(), now)?))
}

/// The order's page, its times in its brand's time zone ("2026-06-29
/// 09:28 EDT") as every other page shows them.
fn render_timeline(
    state: &AppState,
    t: &panels::timeline::Timeline,
    risk: Option<&CustomerRisk>,
    now: jiff::Timestamp,
) -> Result<String, Error> {
    let brand = state.brands.iter().find(|b| b.id.as_str() == t.brand);
    let tz = brand.map_or(jiff::tz::TimeZone::UTC, |b| b.time_zone.clone());
    let brand_name = brand.map_or(t.brand.to_string(), |b| b.name.clone());
    let when = |x: Option<jiff::Timestamp>| {
        x.map_or_else(
            || NO_VALUE.to_string(),
            |t| {
                t.to_zoned(tz.clone())
                    .strftime("%Y-%m-%d %H:%M %Z")
                    .to_string()
            },
        )
    };
    let events: Vec<Value> = t
        .events
        .iter()
        .map(|e| {
            json!({
                "at": e.at.to_string(), "when": when(Some(e.at)), "ago": age(e.at, now),
                "kind": serde_json::to_value(e.kind).unwrap_or(Value::Null),
                "detail": e.detail, "exception": e.exception,
                "amount": e.amount.map(|m| Guarded(m.display())),
            })
        })
        .collect();
    Ok(templates::render(
        "order.html",
        minijinja::context! {
            brand => brand_name, order => t.order,
            stage => serde_json::to_value(t.stage).unwrap_or(Value::Null),
            cancelled => t.cancelled,
            placed => when(Some(t.placed_at)),
            estimated => when(t.estimated_delivery_at),
            delivered => when(t.delivered_at),
            days_late => t.days_late,
            events => events,
            customer => super::customer_risk::view(risk),
        },
    )?)
}
