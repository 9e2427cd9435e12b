//! "What drives satisfaction" as the WISMO and tickets pages show it:
//! CSAT per first-response and resolution bucket with the surveys behind
//! each, Spearman's correlation with its n, first-contact resolution, and
//! the insight when slow answers visibly cost satisfaction. The numbers
//! are `opsdeck_metrics::panels::satisfaction`'s; this only words them.

use super::format;
use crate::view::NO_VALUE;
use opsdeck_metrics::panels::satisfaction::{
    ByTime, Satisfaction, INSIGHT_MIN_GAP, INSIGHT_MIN_SURVEYS, MIN_CORRELATION_PAIRS,
};
use serde_json::{json, Value};

fn score(mean: Option<f64>) -> String {
    mean.map_or_else(|| NO_VALUE.to_string(), |m| format!("{m:.2}"))
}

fn by_time(t: &ByTime) -> Value {
    json!({
        "buckets": t.buckets.iter().map(|b| json!({
            "bucket": b.bucket, "surveys": b.surveys, "csat": score(b.mean),
        })).collect::<Vec<_>>(),
        "rho": t.correlation.rho.map_or_else(|| NO_VALUE.to_string(), |r| format!("{r:+.2}")),
        "n": t.correlation.n,
        "without_time": t.without_time,
        "insight": t.insight,
    })
}

/// The template's `satisfaction` value; `period` names the window in words.
pub(crate) fn view(s: &Satisfaction, period: &str) -> Value {
    json!({
        "period": period,
        "surveys": s.surveys,
        "first_response": by_time(&s.by_first_response),
        "resolution": by_time(&s.by_resolution),
        "fcr": format::percent(s.first_contact.rate),
        "fcr_closed": s.first_contact.closed,
        "fcr_first": s.first_contact.at_first_contact,
        "min_pairs": MIN_CORRELATION_PAIRS,
        "insight_surveys": INSIGHT_MIN_SURVEYS,
        "insight_gap": format!("{INSIGHT_MIN_GAP:.1}"),
    })
}
