//! "Conversion below target" and "Cart abandonment high": the playbook's
//! thresholds (conversion under 2.5 %, abandonment over 70 %) over the
//! storefront funnel of each brand's last whole local day ("yesterday" in
//! the brand's zone): today so far would page every morning, when a
//! handful of sessions have no order yet.
//!
//! Each day is judged by [`opsdeck_metrics::panels::funnel`]'s verdicts,
//! the ones the funnel page shows, with the rule's numbers: a day under the
//! volume floor (by default 200 sessions, 20 checkouts started) is not
//! judged, and its observation says so. One alert per brand and rule
//! (subject `funnel`): a bad day fires, the next good or quiet one
//! resolves it.

use crate::observation::{Figure, Observation};
use crate::rules::{Condition, Rule, RuleSet};
use crate::runner::BrandWatch;
use crate::service::AlertError;
use jiff::Timestamp;
use opsdeck_metrics::panels::funnel::{
    abandonment_verdict, conversion_verdict, funnel, FunnelDay, Verdict,
};
use opsdeck_store::Store;

/// Every enabled funnel rule's observations at `now`, one per launched
/// brand, reading the store's day counts (one query per brand).
pub async fn observe_funnel(
    rules: &RuleSet,
    store: &dyn Store,
    brands: &[BrandWatch],
    now: Timestamp,
) -> Result<Vec<Observation>, AlertError> {
    let mut out = Vec::new();
    for w in brands.iter().filter(|w| w.brand.launched) {
        let brand = w.brand.id.as_str();
        let wanted: Vec<Rule> = rules
            .all()
            .iter()
            .filter_map(|r| rules.for_brand(&r.id, brand))
            .filter(|r| r.enabled && is_funnel(&r.condition))
            .collect();
        if wanted.is_empty() {
            continue;
        }
        let tz = &w.brand.time_zone;
        let today = now.to_zoned(tz.clone()).date();
        let Ok(yesterday) = today.yesterday() else {
            continue;
        };
        let key = yesterday.to_string();
        let counts = store.funnel_days(&w.brand.id, &key, &key).await?;
        let day = funnel(yesterday, yesterday, &counts, None, tz).total;
        out.extend(wanted.iter().filter_map(|r| observe(r, brand, &day)));
    }
    Ok(out)
}

fn is_funnel(c: &Condition) -> bool {
    matches!(
        c,
        Condition::ConversionLow { .. } | Condition::CartAbandonmentHigh { .. }
    )
}

fn pct(v: f64) -> String {
    format!("{:.1} %", v * 100.0)
}

/// What one funnel rule sees of one brand's day.
pub fn observe(rule: &Rule, brand: &str, day: &FunnelDay) -> Option<Observation> {
    let mut o = Observation {
        rule: rule.id.clone(),
        brand: brand.to_string(),
        subject: "funnel".to_string(),
        value: None,
        baseline: None,
        threshold: None,
        active: false,
        why: String::new(),
        why_without_money: None,
        dashboard_path: format!("/funnel?brand={brand}"),
    };
    let date = day.day;
    match &rule.condition {
        Condition::ConversionLow {
            below,
            min_sessions,
        } => {
            let floor = i64::try_from(*min_sessions).unwrap_or(i64::MAX);
            o.threshold = Some(Figure::new(*below, format!("< {}", pct(*below))));
            let verdict = conversion_verdict(day, *below, floor);
            o.active = verdict.is_breached();
            match verdict {
                Verdict::TooLittleVolume { seen, floor } => {
                    o.why = format!(
                        "{seen} storefront sessions on {date}: fewer than the {floor} needed \
                         to judge conversion."
                    );
                }
                Verdict::Breached { value } | Verdict::Fine { value } => {
                    o.value = Some(Figure::new(value, pct(value)));
                    o.why = format!(
                        "Conversion on {date} was {} ({} of {} sessions completed a checkout); \
                         the target is at least {}.",
                        pct(value),
                        day.checkout_completed,
                        day.sessions,
                        pct(*below)
                    );
                }
            }
        }
        Condition::CartAbandonmentHigh {
            above,
            min_checkouts,
        } => {
            let floor = i64::try_from(*min_checkouts).unwrap_or(i64::MAX);
            o.threshold = Some(Figure::new(*above, format!("> {}", pct(*above))));
            let verdict = abandonment_verdict(day, *above, floor);
            o.active = verdict.is_breached();
            match verdict {
                Verdict::TooLittleVolume { seen, floor } => {
                    o.why = format!(
                        "{seen} checkouts started on {date}: fewer than the {floor} needed \
                         to judge abandonment."
                    );
                }
                Verdict::Breached { value } | Verdict::Fine { value } => {
                    o.value = Some(Figure::new(value, pct(value)));
                    o.why = format!(
                        "Cart abandonment on {date} was {} ({} of {} checkouts started were \
                         completed); the limit is {}.",
                        pct(value),
                        day.checkout_completed,
                        day.checkout_started,
                        pct(*above)
                    );
                }
            }
        }
        _ => return None,
    }
    // Percentages and counts only: nothing a role without revenue may not read.
    o.why_without_money = Some(o.why.clone());
    Some(o)
}
