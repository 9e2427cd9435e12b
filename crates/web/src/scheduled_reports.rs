//! `GET /reports`: the scheduled reports and digests (`[reports.NAME]`),
//! each with its schedule and zone, channels, audience, the next run (in
//! the subscription's zone) and how the last run ended.
//!
//! The page reads `ReportRunner::statuses` and declares `ViewDashboard`:
//! it shows names, times and outcomes, never an amount or an address.
//! Without subscriptions it says how to add one.

use crate::auth::rules::Routes;
use crate::auth::Permission;
use crate::error::PageError;
use crate::{templates, AppState, Error};
use axum::extract::State;
use axum::response::Html;
use jiff::Timestamp;
use serde::Serialize;

pub(crate) fn router() -> Routes {
    Routes::new().get("/reports", Permission::ViewDashboard, page)
}

/// One subscription as the page shows it.
#[derive(Debug, Serialize)]
struct SubscriptionRow {
    name: String,
    report: &'static str,
    schedule: String,
    time_zone: String,
    channels: Vec<String>,
    brands: String,
    audience: String,
    skip_when_empty: bool,
    /// In the subscription's zone ("2026-03-30 07:00 CEST").
    next_run: Option<String>,
    next_run_utc: Option<Timestamp>,
    last_status: Option<&'static str>,
    last_run: Option<String>,
    last_detail: Option<String>,
}

fn local(at: Timestamp, zone: &jiff::tz::TimeZone) -> String {
    at.to_zoned(zone.clone())
        .strftime("%Y-%m-%d %H:%M %Z")
        .to_string()
}

async fn page(State(state): State<AppState>) -> Result<Html<String>, PageError> {
    let rows: Vec<SubscriptionRow> = match &state.reports {
        None => Vec::new(),
        Some(runner) => runner
            .statuses()
            .await
            .map_err(Error::from)?
            .into_iter()
            .map(|s| {
                let sub = &s.subscription;
                let zone = sub.schedule.zone();
                SubscriptionRow {
                    name: sub.name.clone(),
                    report: sub.report.as_str(),
                    schedule: sub.schedule.spelling().to_string(),
                    time_zone: sub.schedule.zone_name().to_string(),
                    channels: sub
                        .channels
                        .iter()
                        .map(|c| c.as_str().to_string())
                        .collect(),
                    brands: match &sub.brands {
                        None => "all brands".into(),
                        Some(only) => only
                            .iter()
                            .map(|b| b.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    },
                    audience: sub.audience.clone().unwrap_or_else(|| "admin".into()),
                    skip_when_empty: sub.skip_when_empty,
                    next_run: s.next_run.map(|t| local(t, zone)),
                    next_run_utc: s.next_run,
                    last_status: s.last_run.as_ref().map(|r| r.status.as_str()),
                    last_run: s.last_run.as_ref().map(|r| local(r.scheduled_for, zone)),
                    last_detail: s.last_run.and_then(|r| r.detail),
                }
            })
            .collect(),
    };
    let html = templates::render(
        "scheduled_reports.html",
        minijinja::context! { subscriptions => rows },
    )
    .map_err(Error::from)?;
    Ok(Html(html))
}
