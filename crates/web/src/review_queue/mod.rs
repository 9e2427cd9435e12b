//! Review queues over HTTP (issue 15, point 3): the items custom platforms
//! push that wait for a person (the pharmacy's prescriptions), per brand
//! and queue, against each queue's SLA.
//!
//! - `GET /queues/review[?brand=ID&region=ID]`: the page — per brand and
//!   queue the count, the oldest, at-risk and breached counts, and the
//!   items, breached first.
//! - `GET /api/v1/queues/review[?brand=ID&region=ID]`: the same as JSON.
//!
//! Both read `opsdeck_metrics::panels::review_queues::review_queues`, the
//! one home of the numbers (the operations panel, the urgent list and the
//! alert read it too), and both declare `ViewDashboard`. A person whose
//! role is limited to some brands sees only those brands' queues
//! (`params::chosen_brands`: another brand asked for is a 403). No money
//! is on them.

use crate::auth::rules::Routes;
use crate::auth::Permission;
use crate::error::PageError;
use crate::pages::{panel_config, pickers, read};
use crate::params::Params;
use crate::{templates, AppState, Error};
use axum::extract::State;
use axum::response::Html;
use axum::Json;
use opsdeck_domain::{Brand, Timestamp};
use opsdeck_metrics::panels::review_queues::{review_queues, ReviewQueue};
use serde::{Deserialize, Serialize};

pub(crate) fn router() -> Routes {
    Routes::new()
        .get("/queues/review", Permission::ViewDashboard, page)
        .get("/api/v1/queues/review", Permission::ViewDashboard, api)
}

/// `?brand=ID&region=ID`, both optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Query {
    brand: Option<String>,
    region: Option<String>,
}

/// One brand's review queues and their totals.
#[derive(Debug, Serialize)]
pub(crate) struct BrandQueues {
    brand: String,
    name: String,
    launched: bool,
    pending: usize,
    at_risk: usize,
    breached: usize,
    queues: Vec<ReviewQueue>,
}

#[derive(Debug, Serialize)]
pub(crate) struct ReviewQueuesView {
    generated_at: Timestamp,
    brands: Vec<BrandQueues>,
}

/// The queues of the brands the filter chooses within the person's scope.
fn queues_of(state: &AppState, q: &Query, now: Timestamp) -> Result<ReviewQueuesView, Error> {
    let brands: Vec<&Brand> =
        crate::params::chosen_brands(state, q.brand.as_deref(), q.region.as_deref())?
            .unwrap_or_else(|| state.brands.iter().collect());
    let cfg = panel_config(state);
    let p = read(state);
    let brands = brands
        .into_iter()
        .filter_map(|brand| {
            let b = p.ctx.brand_ix(&brand.id)?;
            let queues = if brand.launched {
                review_queues(&p, &cfg.review_slas, b, now)
            } else {
                Vec::new()
            };
            let sum = |f: fn(&ReviewQueue) -> usize| queues.iter().map(f).sum();
            Some(BrandQueues {
                brand: brand.id.to_string(),
                name: brand.name.clone(),
                launched: brand.launched,
                pending: sum(|q| q.counts.pending),
                at_risk: sum(|q| q.counts.at_risk),
                breached: sum(|q| q.counts.breached),
                queues,
            })
        })
        .collect();
    Ok(ReviewQueuesView {
        generated_at: now,
        brands,
    })
}

async fn api(
    State(state): State<AppState>,
    Params(q): Params<Query>,
) -> Result<Json<ReviewQueuesView>, Error> {
    Ok(Json(queues_of(&state, &q, state.now())?))
}

async fn page(
    State(state): State<AppState>,
    params: Result<Params<Query>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = params?;
    let view = queues_of(&state, &q, state.now())?;
    let (brands, regions) = pickers(&state, q.region.as_deref(), true)?;
    let slas: Vec<(String, String)> = state
        .panel_config
        .review_slas
        .all()
        .map(|(queue, window)| {
            (
                queue.to_string(),
                opsdeck_domain::sla::human_duration(window),
            )
        })
        .collect();
    let html = templates::render(
        "review_queue.html",
        minijinja::context! {
            view => view, slas => slas, brands => brands, regions => regions,
            brand_id => q.brand.as_deref().unwrap_or(""),
            region => q.region.as_deref().unwrap_or(""),
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}

/// Review items shown in the dashboard's urgent list at most.
const URGENT_SHOWN: usize = 8;

/// The review items of `brands` past their SLA, the most overdue first:
/// what the dashboard's "urgent tickets and alerts" tile lists beside the
/// urgent tickets, each linking to its queue.
pub(crate) fn urgent_reviews(
    p: &opsdeck_metrics::Projection,
    cfg: &opsdeck_metrics::panels::PanelConfig,
    brands: &[&Brand],
    now: Timestamp,
) -> Vec<serde_json::Value> {
    let mut rows: Vec<(i64, serde_json::Value)> = Vec::new();
    for brand in brands.iter().filter(|b| b.launched) {
        let Some(b) = p.ctx.brand_ix(&brand.id) else {
            continue;
        };
        let queues = review_queues(p, &cfg.review_slas, b, now);
        for (queue, item) in opsdeck_metrics::panels::review_queues::breached_items(&queues) {
            rows.push((
                item.time_left_seconds.unwrap_or(0),
                serde_json::json!({
                    "brand": brand.name,
                    "queue": queue,
                    "item": item.external_id,
                    "subject": item.subject,
                    "age": item.age,
                    "time_left": item.time_left,
                    "href": format!("/queues/review?brand={}#queue-{}-{}", brand.id, brand.id, queue),
                }),
            ));
        }
    }
    rows.sort_by_key(|(left, _)| *left);
    rows.into_iter()
        .take(URGENT_SHOWN)
        .map(|(_, row)| row)
        .collect()
}
