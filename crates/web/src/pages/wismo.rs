//! `GET /wismo?brand=&region=&range=7d|30d|90d|custom&from=&to=`: where-is-my-order
//! analytics for one brand against the previous period of the same length:
//! inquiries vs orders per day, inquiry types, carriers, peak hours and the
//! insights.

use super::{brand_ix, format, panel_config, read};
use crate::charts::line::{line, Series};
use crate::charts::{donut::donut, heatmap::heatmap, Datum};
use crate::error::PageError;
use crate::params::{parse_range, Params, PresetDates};
use crate::view::count;
use crate::{templates, AppState, Error};
use axum::extract::State;
use axum::response::Html;
use opsdeck_metrics::panels::{self, Range, Window};
use opsdeck_metrics::projection::day_date;
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Query {
    brand: Option<String>,
    /// A region id: the brand picker offers its brands, and the first is
    /// shown unless `brand` names one (see `params::one_brand`).
    region: Option<String>,
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
}

const WEEKDAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

pub(crate) async fn page(
    State(state): State<AppState>,
    params: Result<Params<Query>, Error>,
) -> Result<Html<String>, PageError> {
    let Params(q) = params?;
    // The form sends its date fields even when a preset is picked: the
    // page shows the preset and says which dates it did not use (the API
    // refuses them); one reading of the parameters for both.
    let choice = parse_range(
        q.range.as_deref(),
        q.from.as_deref(),
        q.to.as_deref(),
        "30d",
        PresetDates::IgnoreAndSay,
    )?;
    if choice.range == Range::Today {
        return Err(Error::BadRequest("range must be 7d, 30d, 90d or custom".into()).into());
    }
    let (range, range_name, notice) = (choice.range, choice.range_name, choice.notice);
    let custom = matches!(range, Range::Custom { .. });
    let from = q.from.as_deref().filter(|_| custom);
    let to = q.to.as_deref().filter(|_| custom);
    let brand_id = super::default_brand(&state, q.brand.as_deref(), q.region.as_deref())?;
    let (brands, regions) = super::pickers(&state, q.region.as_deref(), true)?;
    let now = state.now();
    let cfg = panel_config(&state);
    let ctx = {
        let p = read(&state);
        let b = brand_ix(&p, &state, &brand_id)?;
        let brand = p.brand(b).clone();
        let w = Window::resolve(range, &brand, now);
        let cur = panels::wismo::wismo(&p, b, range, now);
        let n = w.last_day - w.first_day + 1;
        let prior_range = Range::Custom {
            from: day_date(w.first_day - n),
            to: day_date(w.first_day - 1),
        };
        let prior = panels::wismo::wismo(&p, b, prior_range, now);
        let mut inquiries = Vec::new();
        let mut orders = Vec::new();
        for d in w.days() {
            let date = day_date(d);
            let one = Range::Custom {
                from: date,
                to: date,
            };
            let day = panels::wismo::wismo(&p, b, one, now);
            let label = date.strftime("%b %-d").to_string();
            inquiries.push(Datum::new(
                &label,
                day.inquiries as f64,
                format!("{} inquiries", day.inquiries),
            ));
            orders.push(Datum::new(
                &label,
                day.orders as f64,
                format!("{} orders", day.orders),
            ));
        }
        let trend = line(
            &format!("{}: WISMO inquiries vs orders per day", brand.name),
            &[
                Series {
                    name: "Inquiries".into(),
                    points: inquiries,
                },
                Series {
                    name: "Orders".into(),
                    points: orders,
                },
            ],
            |m| format!("{m:.0}"),
        );
        let types: Vec<Datum> = cur
            .types
            .iter()
            .map(|(k, v)| Datum::new(*k, *v as f64, count((*v).max(0) as u64)))
            .collect();
        let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
        let days: Vec<String> = WEEKDAYS.iter().map(|d| d.to_string()).collect();
        let heat = heatmap(
            &format!("{}: inquiries by weekday and hour", brand.name),
            &days,
            &hours,
            &cur.heatmap,
        );
        let f = panels::fulfillment::fulfillment(&p, b, now);
        let carriers: Vec<_> = f
            .carriers
            .iter()
            .map(|c| {
                serde_json::json!({
                    "carrier": c.carrier, "shipments": c.shipments, "delivered": c.delivered,
                    "delivery": format::hours(c.mean_delivery_hours),
                    "on_time": format::percent(c.on_time_rate),
                    "exceptions": format::percent(c.exception_rate),
                })
            })
            .collect();
        let insights: Vec<_> = panels::brand_insights(&p, &cfg, Some(&[b]), now)
            .into_iter()
            .map(|i| serde_json::json!({"finding": i.finding, "recommendation": i.recommendation}))
            .collect();
        let drivers = panels::satisfaction::satisfaction(&p, b, range, now);
        let delta = |c: i64, pr: i64| format::change(panels::ratio(c - pr, pr));
        minijinja::context! {
            brand => brand.name, brand_id => brand_id,
            brands => brands, regions => regions, region => q.region.as_deref().unwrap_or(""),
            range => range_name, from => from.unwrap_or(""), to => to.unwrap_or(""), notice,
            period => format!("{} – {}", day_date(w.first_day), day_date(w.last_day)),
            inquiries => count(cur.inquiries.max(0) as u64), inquiries_delta => delta(cur.inquiries, prior.inquiries),
            prior_inquiries => count(prior.inquiries.max(0) as u64),
            rate => format::percent(cur.inquiry_rate), prior_rate => format::percent(prior.inquiry_rate),
            repeat => format::percent(cur.repeat_rate), prior_repeat => format::percent(prior.repeat_rate),
            linked => cur.linked,
            peak => cur.peak.as_ref().map(|(d, h)| format!("{d} {h:02}:00")),
            trend => trend.0, types => donut(&format!("{}: inquiry types", brand.name), &types).0,
            heatmap => heat.0, carriers => carriers, insights => insights,
            satisfaction => super::satisfaction::view(&drivers, "this period"),
        }
    };
    Ok(Html(
        templates::render("wismo.html", ctx).map_err(Error::from)?,
    ))
}
