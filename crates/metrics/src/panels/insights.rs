//! Automated insights: plain-language findings generated from the computed
//! panels, each with the numbers behind it and a recommendation, ranked by
//! a score (severity weight × how far the number is from normal).
//! Nothing here is canned: a finding exists only when its numbers say so.

use super::fulfillment::Fulfillment;
use super::pulse::{Pulse, PulseState};
use super::support::{Csat, TopIssues, Zone};
use super::wismo::Wismo;
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Insight {
    pub brand: String,
    pub finding: String,
    pub numbers: BTreeMap<&'static str, Number>,
    pub recommendation: String,
    pub score: f64,
}

/// One number behind a finding. An amount of money (in minor units) is
/// `null` in JSON for roles that may not see money (see
/// [`crate::money_json`]); any other number shows to everyone.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Number {
    Plain(f64),
    Minor(f64),
}

impl Number {
    pub fn value(self) -> f64 {
        match self {
            Number::Plain(v) | Number::Minor(v) => v,
        }
    }
}

impl Serialize for Number {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match *self {
            Number::Plain(v) => v.serialize(s),
            Number::Minor(v) => crate::money_json::Guarded(v).serialize(s),
        }
    }
}

/// The computed panels of one brand that insights read.
pub struct BrandNumbers<'a> {
    pub brand: &'a str,
    pub pulse: &'a Pulse,
    pub fulfillment: &'a Fulfillment,
    pub issues_7d: &'a TopIssues,
    pub csat_7d: &'a Csat,
    pub wismo_7d: &'a Wismo,
}

fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

fn advice(cluster: &str) -> &'static str {
    match cluster {
        "size" => "check the size chart and the default variant",
        "subscription" => "make skipping and cancelling self-serve in the customer portal",
        "tracking" => "send tracking links proactively and check carrier delays",
        "refund" => "review the returns policy page and refund turnaround",
        "damaged" => "check packaging and the last batches with the warehouse",
        "payment" => "check the checkout and payment provider for failures",
        "discount" => "check that advertised codes are active",
        _ => "read a sample of these tickets and add a macro",
    }
}

pub fn insights(brands: &[BrandNumbers<'_>]) -> Vec<Insight> {
    let mut out = vec![];
    for n in brands {
        let mut push =
            |finding: String, numbers: Vec<(&'static str, Number)>, rec: String, score: f64| {
                out.push(Insight {
                    brand: n.brand.to_string(),
                    finding,
                    numbers: numbers.into_iter().collect(),
                    recommendation: rec,
                    score,
                });
            };
        let issues = n.issues_7d;
        if let Some(top) = issues.untagged_clusters.iter().find(|c| c.name != "other") {
            if top.tickets >= 5 && top.share >= 0.2 {
                let detail = top
                    .top_detail
                    .as_ref()
                    .filter(|(_, k)| *k * 2 >= top.tickets);
                let finding = match detail {
                    Some((d, k)) => format!(
                        "{} of {} tickets in the last 7 days mention {d} ({k} of {})",
                        pct(*k as f64 / issues.tickets as f64),
                        n.brand,
                        issues.tickets
                    ),
                    None => format!(
                        "{} of {} tickets in the last 7 days are about {} ({} of {})",
                        pct(top.share),
                        n.brand,
                        top.name,
                        top.tickets,
                        issues.tickets
                    ),
                };
                push(
                    finding,
                    vec![
                        ("tickets", Number::Plain(issues.tickets as f64)),
                        ("group_tickets", Number::Plain(top.tickets as f64)),
                        ("share", Number::Plain(top.share)),
                    ],
                    advice(&top.name).to_string(),
                    2.0 * top.share,
                );
            }
        }
        let p = n.pulse;
        if let (Some(v), PulseState::Warning | PulseState::Critical) = (p.revenue_variance, p.state)
        {
            let dir = if v < 0.0 { "below" } else { "above" };
            let rec = if v < 0.0 {
                "check checkout, ads and stock of top sellers"
            } else {
                "make sure top sellers have stock for the spike"
            };
            push(
                format!(
                    "{} revenue so far today is {} {dir} the usual for this time of day",
                    n.brand,
                    pct(v.abs())
                ),
                vec![
                    ("variance", Number::Plain(v)),
                    (
                        "baseline_revenue_minor",
                        Number::Minor(p.baseline_revenue_minor),
                    ),
                    ("revenue_minor", Number::Minor(p.revenue_today.minor as f64)),
                    ("baseline_orders", Number::Plain(p.baseline_orders)),
                    (
                        "p_value",
                        Number::Plain(p.revenue_evidence.map_or(1.0, |e| e.p_value)),
                    ),
                ],
                rec.into(),
                3.0 * v.abs(),
            );
        }
        for s in p
            .top_skus_7d
            .iter()
            .filter(|s| s.out_of_stock || s.low_cover)
        {
            let cover = s.days_of_cover.unwrap_or(0.0);
            push(
                format!(
                    "{} top seller {} has {:.1} days of cover at {:.1} units/week",
                    n.brand, s.sku, cover, s.velocity_per_week
                ),
                vec![
                    ("days_of_cover", Number::Plain(cover)),
                    ("velocity_per_week", Number::Plain(s.velocity_per_week)),
                    ("stock", Number::Plain(s.stock.unwrap_or(0) as f64)),
                ],
                "reorder or pause ads for this SKU".into(),
                2.5 + (3.0 - cover).max(0.0) / 3.0,
            );
        }
        let f = n.fulfillment;
        if f.stale_count > 0 {
            let oldest = f.stale.first().map_or(0, |s| s.age_hours);
            push(
                format!(
                    "{} orders at {} are past the {}-day fulfillment limit; the oldest is {} old",
                    f.stale_count,
                    n.brand,
                    f.stale_after_days,
                    age_words(oldest)
                ),
                vec![
                    ("stale_orders", Number::Plain(f.stale_count as f64)),
                    ("oldest_hours", Number::Plain(oldest as f64)),
                ],
                "ship or contact these customers before they write in".into(),
                2.0 + (f.stale_count as f64).ln_1p() / 3.0,
            );
        }
        if let Some(worst) = f
            .carriers
            .iter()
            .filter(|c| c.delivered >= 10)
            .filter_map(|c| c.on_time_rate.map(|r| (c, r)))
            .min_by(|a, b| a.1.total_cmp(&b.1))
        {
            if worst.1 < 0.8 {
                push(
                    format!(
                        "{} delivered only {} of {} parcels on time in 30 days",
                        worst.0.carrier,
                        pct(worst.1),
                        n.brand
                    ),
                    vec![
                        ("on_time_rate", Number::Plain(worst.1)),
                        ("delivered", Number::Plain(worst.0.delivered as f64)),
                    ],
                    "raise it with the carrier or move volume to a faster one".into(),
                    1.5 + (0.8 - worst.1),
                );
            }
        }
        let c = n.csat_7d;
        if let (Some(m), Some(Zone::Red)) = (c.mean, c.zone) {
            push(
                format!(
                    "{} CSAT over 7 days is {:.2} from {} surveys",
                    n.brand, m, c.surveys
                ),
                vec![
                    ("csat", Number::Plain(m)),
                    ("surveys", Number::Plain(c.surveys as f64)),
                ],
                "read the low-scored conversations and follow up".into(),
                2.0 + (3.0 - m),
            );
        }
        let w = n.wismo_7d;
        if let Some(r) = w.inquiry_rate.filter(|r| *r >= 0.05 && w.inquiries >= 5) {
            push(
                format!(
                    "{} of {} orders in 7 days led to a where-is-my-order inquiry",
                    pct(r),
                    n.brand
                ),
                vec![
                    ("inquiry_rate", Number::Plain(r)),
                    ("inquiries", Number::Plain(w.inquiries as f64)),
                    ("repeat_rate", Number::Plain(w.repeat_rate.unwrap_or(0.0))),
                ],
                "send shipping updates proactively".into(),
                1.0 + r * 5.0,
            );
        }
    }
    out.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(a.brand.cmp(&b.brand))
            .then(a.finding.cmp(&b.finding))
    });
    out
}

/// An order's age as people say it: hours up to two days ("30 h"), then
/// days ("146.8 days", not "3522 h").
fn age_words(hours: i64) -> String {
    if hours < 48 {
        format!("{hours} h")
    } else {
        format!("{:.1} days", hours as f64 / 24.0)
    }
}

#[cfg(test)]
mod tests {
    use super::age_words;

    #[test]
    fn ages_past_two_days_read_in_days() {
        assert_eq!(age_words(30), "30 h");
        assert_eq!(age_words(47), "47 h");
        assert_eq!(age_words(48), "2.0 days");
        assert_eq!(age_words(3522), "146.8 days");
    }
}
