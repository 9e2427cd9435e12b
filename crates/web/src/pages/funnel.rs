//! `GET /funnel?brand=&region=&range=today|7d|30d|90d|custom&from=&to=`:
//! the storefront funnel of one brand per local day — sessions, add to
//! cart, checkouts started and completed, conversion and cart abandonment
//! against the playbook's thresholds (with their volume floors) — and,
//! for a brand with a Shopify source, the abandoned checkouts Shopify
//! reports. Each column says what it is based on: the storefront's events
//! or Shopify's checkouts.
//!
//! The handler reads the store's day counts and calls
//! `opsdeck_metrics::panels::funnel`, the same function and verdicts the
//! alert rules use.

use crate::charts::bar::funnel as funnel_chart;
use crate::charts::Datum;
use crate::error::PageError;
use crate::params::{parse_range, Params, PresetDates};
use crate::view::{count, NO_VALUE};
use crate::{templates, AppState, Error};
use axum::extract::State;
use axum::response::Html;
use opsdeck_metrics::panels::funnel::{
    abandonment_verdict, conversion_verdict, funnel, FunnelDay, Verdict, MIN_CHECKOUTS,
    MIN_SESSIONS, PLAYBOOK_ABANDONMENT_ABOVE, PLAYBOOK_CONVERSION_BELOW,
};
use opsdeck_metrics::panels::Window;
use opsdeck_metrics::projection::day_date;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Query {
    brand: Option<String>,
    /// A region id: the brand picker offers its brands (see
    /// `params::one_brand`).
    region: Option<String>,
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

/// A share with one decimal: the playbook's 2.5 % needs it.
fn pct(r: Option<f64>) -> String {
    r.map_or_else(|| NO_VALUE.to_string(), |r| format!("{:.1} %", r * 100.0))
}

/// A verdict as a badge class and its words.
fn badge(v: Verdict, unit: &str) -> Value {
    match v {
        Verdict::TooLittleVolume { seen, floor } => json!({
            "class": "muted",
            "text": format!("not judged: {seen} of the {floor} {unit} needed"),
        }),
        Verdict::Breached { .. } => json!({"class": "critical", "text": "outside the playbook"}),
        Verdict::Fine { .. } => json!({"class": "ok", "text": "within the playbook"}),
    }
}

fn row(d: &FunnelDay) -> Value {
    json!({
        "day": d.day.to_string(),
        "sessions": count(d.sessions.max(0).unsigned_abs()),
        "cart": count(d.added_to_cart.max(0).unsigned_abs()),
        "started": count(d.checkout_started.max(0).unsigned_abs()),
        "completed": count(d.checkout_completed.max(0).unsigned_abs()),
        "conversion": pct(d.conversion),
        "conversion_badge": badge(conversion_verdict(d, PLAYBOOK_CONVERSION_BELOW, MIN_SESSIONS), "sessions"),
        "abandonment": pct(d.abandonment),
        "abandonment_badge": badge(abandonment_verdict(d, PLAYBOOK_ABANDONMENT_ABOVE, MIN_CHECKOUTS), "checkouts"),
        "abandoned": d.abandoned_checkouts,
        "recovered": d.recovered_checkouts,
    })
}

pub(crate) async fn page(
    State(state): State<AppState>,
    params: Result<Params<Query>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = params?;
    let choice = parse_range(
        q.range.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        "30d",
        PresetDates::IgnoreAndSay,
    )?;
    let custom = matches!(choice.range, opsdeck_metrics::panels::Range::Custom { .. });
    let brand_id = super::default_brand(&state, q.brand.as_deref(), q.region.as_deref())?;
    let (brands, regions) = super::pickers(&state, q.region.as_deref(), true)?;
    let brand = state.brand(&brand_id)?.clone();
    let now = state.now();
    let w = Window::resolve(choice.range, &brand, now);
    let (first, last) = (day_date(w.first_day), day_date(w.last_day));
    let counts = state
        .store
        .funnel_days(&brand.id, &first.to_string(), &last.to_string())
        .await
        .map_err(Error::from)?;
    let shopify = state
        .sources
        .iter()
        .any(|s| s.platform == "shopify" && s.brand.as_ref() == Some(&brand.id));
    let abandoned = match shopify {
        true => Some(
            state
                .store
                .abandoned_checkouts_created(&brand.id, w.start, w.end)
                .await
                .map_err(Error::from)?,
        ),
        false => None,
    };
    let f = funnel(first, last, &counts, abandoned.as_deref(), &brand.time_zone);
    let t = &f.total;
    let stages = [
        ("Sessions", t.sessions),
        ("Added to cart", t.added_to_cart),
        ("Checkout started", t.checkout_started),
        ("Checkout completed", t.checkout_completed),
    ];
    let data: Vec<Datum> = stages
        .iter()
        .map(|(label, n)| {
            let share = opsdeck_metrics::panels::ratio(*n, t.sessions);
            Datum::new(
                *label,
                *n as f64,
                format!("{} ({})", count(n.max(&0).unsigned_abs()), pct(share)),
            )
        })
        .collect();
    let chart = funnel_chart(
        &format!("{}: storefront funnel, {first} – {last}", brand.name),
        &data,
        &[false; 4],
    );
    let html = templates::render(
        "funnel.html",
        minijinja::context! {
            brand => brand.name, brand_id => brand_id, brands => brands,
            regions => regions, region => q.region.as_deref().unwrap_or(""),
            range => choice.range_name, notice => choice.notice,
            from => q.from.as_deref().filter(|_| custom).unwrap_or(""),
            to => q.to.as_deref().filter(|_| custom).unwrap_or(""),
            period => format!("{first} – {last}"),
            chart => chart.0,
            total => row(t),
            days => f.days.iter().rev().map(row).collect::<Vec<_>>(),
            shopify => shopify,
            has_events => t.sessions > 0,
            conversion_target => pct(Some(PLAYBOOK_CONVERSION_BELOW)),
            abandonment_limit => pct(Some(PLAYBOOK_ABANDONMENT_ABOVE)),
            min_sessions => MIN_SESSIONS, min_checkouts => MIN_CHECKOUTS,
        },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}
