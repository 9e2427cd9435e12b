//! "Privacy request due": a privacy request (an export or erasure, issue
//! 15) still open within `days` of its deadline (7 by default, METRICS.md),
//! or past it, or failed. One alert per request, subject `privacy:ID`,
//! on the request's brand (the first configured brand for a request of
//! every brand). It names the request's kind and time left, never the
//! person. A completed request is no longer observed, and its alert
//! resolves.

use crate::observation::{Figure, Observation};
use crate::rules::{Condition, RuleSet};
use crate::service::AlertError;
use jiff::{SignedDuration, Timestamp};
use opsdeck_domain::privacy::{privacy_clock, PrivacyStatus};
use opsdeck_domain::sla::human_duration;
use opsdeck_store::privacy::PrivacyRequest;
use opsdeck_store::Store;

/// Every enabled "privacy request due" rule's observations at `now`.
pub async fn observe_privacy(
    rules: &RuleSet,
    store: &dyn Store,
    first_brand: Option<&str>,
    now: Timestamp,
) -> Result<Vec<Observation>, AlertError> {
    let Some(first_brand) = first_brand else {
        return Ok(Vec::new());
    };
    let watched: Vec<_> = rules
        .all()
        .iter()
        .filter(|r| matches!(r.condition, Condition::PrivacyRequestDue { .. }))
        .map(|r| r.id.clone())
        .collect();
    if watched.is_empty() {
        return Ok(Vec::new());
    }
    let open = store.privacy_requests_open().await?;
    let mut out = Vec::new();
    for request in &open {
        let brand = request.brand.as_ref().map_or(first_brand, |b| b.as_str());
        for id in &watched {
            let Some(rule) = rules.for_brand(id, brand).filter(|r| r.enabled) else {
                continue;
            };
            let Condition::PrivacyRequestDue { days } = rule.condition else {
                continue;
            };
            out.extend(observe(&rule.id, brand, request, days, now));
        }
    }
    Ok(out)
}

/// The observation of one open request: active from `days` before its
/// deadline, when overdue, or when it failed.
pub fn observe(
    rule: &str,
    brand: &str,
    request: &PrivacyRequest,
    days: f64,
    now: Timestamp,
) -> Option<Observation> {
    if !request.status.is_open() {
        return None;
    }
    let clock = privacy_clock(request.received_at);
    let before = SignedDuration::try_from_secs_f64(days * 86_400.0).ok()?;
    let left = clock.time_left_at(now);
    let failed = request.status == PrivacyStatus::Failed;
    let active = failed || left <= before;
    let what = request.kind.label();
    let why = if failed {
        format!(
            "{what} request {} failed and is due in {}: retry it on /privacy.",
            request.id,
            human_duration(left)
        )
    } else if left.is_negative() {
        format!(
            "{what} request {} is overdue by {} (due 30 days after receipt).",
            request.id,
            human_duration(left)
        )
    } else {
        format!(
            "{what} request {} is due in {} (30 days after receipt) and not done yet.",
            request.id,
            human_duration(left)
        )
    };
    Some(Observation {
        rule: rule.to_string(),
        brand: brand.to_string(),
        subject: format!("privacy:{}", request.id),
        value: Some(Figure::count(left.as_secs_f64() / 86_400.0, "days left")),
        baseline: None,
        threshold: Some(Figure::count(days, "days")),
        active,
        why_without_money: Some(why.clone()),
        why,
        dashboard_path: "/privacy".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use opsdeck_domain::privacy::{DataSubject, PrivacyRequestKind, PrivacyVia};

    fn request(received: &str, status: PrivacyStatus) -> PrivacyRequest {
        let mut r = PrivacyRequest::received(
            "shopify-mavena",
            "k",
            PrivacyRequestKind::Erasure,
            PrivacyVia::ShopifyWebhook,
            None,
            DataSubject {
                email: Some("ana@example.com".into()),
                ..DataSubject::default()
            },
            received.parse().unwrap(),
            "shopify",
        );
        r.id = 7;
        r.status = status;
        r
    }

    #[test]
    fn fires_seven_days_before_the_deadline_and_when_overdue_never_naming_the_person() {
        let r = request("2026-03-01T00:00:00Z", PrivacyStatus::InProgress);
        let at = |t: &str| observe("privacy_request_due", "mavena", &r, 7.0, t.parse().unwrap());
        // Due 2026-03-31T00:00Z; alerted from 2026-03-24T00:00Z.
        assert!(!at("2026-03-23T23:59:00Z").unwrap().active);
        let due = at("2026-03-24T00:00:00Z").unwrap();
        assert!(due.active);
        assert_eq!(due.subject, "privacy:7");
        assert!(!due.why.contains("ana@"), "{}", due.why);
        let late = at("2026-04-02T00:00:00Z").unwrap();
        assert!(late.active && late.why.contains("overdue"), "{}", late.why);
        let done = request("2026-03-01T00:00:00Z", PrivacyStatus::Completed);
        assert!(observe(
            "r",
            "mavena",
            &done,
            7.0,
            "2026-04-02T00:00:00Z".parse().unwrap()
        )
        .is_none());
        let failed = request("2026-03-01T00:00:00Z", PrivacyStatus::Failed);
        assert!(
            observe(
                "r",
                "mavena",
                &failed,
                7.0,
                "2026-03-02T00:00:00Z".parse().unwrap()
            )
            .unwrap()
            .active
        );
    }
}
